package segment

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a problem with a segment's text or tree, meant for the person
// who wrote it: the console shows it under the editor while they type.
type Error struct {
	// Pos is where the problem is in the text; zero for trees that were
	// not parsed (JSON from the API), which have Path instead.
	Pos Pos
	// Path locates the node in a JSON tree, such as "args[1].left.agg";
	// empty for the root and for errors in the text.
	Path string
	// Msg says what is wrong and, where it helps, what was expected.
	Msg string
	// Suggestion is a name or keyword that was probably meant, or "".
	Suggestion string
	// Warning marks a problem that does not stop the segment from being
	// saved (an unknown trait or event: traits are open).
	Warning bool
}

// Error reads "line 1, column 12: msg: did you mean "x"?", the position
// left out for trees that were not parsed.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Pos.Line > 0:
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	case e.Path != "":
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Suggestion != "" {
		fmt.Fprintf(&b, ": did you mean %s?", quote(e.Suggestion))
	}
	return b.String()
}

// errorf returns an *Error at pos.
func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// quote writes s for a message: as a JSON string, shortened when long so
// one bad token cannot flood the console.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return quoteString(s)
}
