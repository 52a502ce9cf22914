package segment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // an identifier or a keyword
	tName             // a `backquoted name`
	tString           // "a JSON string"
	tNumber           // a JSON number, maybe negative
	tTime             // 2026-01-01 or an RFC 3339 time
	tDuration         // 7d
	tLParen
	tRParen
	tComma
	tDot
	tOp // = != < <= > >=
)

// token is one lexeme. text is as written; str, num and val hold the
// decoded value of names, strings, numbers and times.
type token struct {
	kind tokKind
	text string
	str  string
	num  float64
	val  Value
	pos  Pos
	end  int // byte offset just after the token
}

// keywords are reserved: a field whose first name is one of them (in any
// case) must be backquoted, so that the parser never has to guess.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "segment": true,
	"between": true, "contains": true, "starts": true, "with": true,
	"is": true, "set": true, "within": true, "next": true, "ago": true,
	"where": true, "true": true, "false": true,
}

// isKeyword reports whether s is a keyword, in any case.
func isKeyword(s string) bool { return keywords[strings.ToLower(s)] }

// isIdent reports whether s is an identifier: [A-Za-z_][A-Za-z0-9_]*.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || i > 0 && isDigit(c)) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// lexer turns text into tokens on demand, so that the first error the
// parser meets is the first in the text.
type lexer struct {
	src  string
	off  int
	line int
	col  int // in characters
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Line: l.line, Col: l.col, Offset: l.off} }

// fail stops the parse with an error; Parse recovers it.
func (l *lexer) fail(pos Pos, format string, args ...any) {
	panic(errorf(pos, format, args...))
}

// advance moves past one character.
func (l *lexer) advance() {
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += size
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
}

func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// skipSpace skips white space and # comments.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		switch c := l.src[l.off]; c {
		case ' ', '\t', '\n', '\r':
			l.advance()
		case '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
		default:
			return
		}
	}
}

// next returns the next token.
func (l *lexer) next() token {
	l.skipSpace()
	start := l.pos()
	tok := token{pos: start}
	if l.off >= len(l.src) {
		tok.end = l.off
		return tok
	}
	c := l.src[l.off]
	switch {
	case isLetter(c):
		for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off])) {
			l.advance()
		}
		tok.kind = tIdent
	case c == '`':
		tok.kind = tName
		tok.str = l.name()
	case c == '"':
		tok.kind = tString
		tok.str = l.string()
	case c == '-' || isDigit(c):
		l.number(&tok)
	case c == '(':
		l.advance()
		tok.kind = tLParen
	case c == ')':
		l.advance()
		tok.kind = tRParen
	case c == ',':
		l.advance()
		tok.kind = tComma
	case c == '.':
		l.advance()
		tok.kind = tDot
	case c == '=' || c == '<' || c == '>' || c == '!':
		l.operator(start)
		tok.kind = tOp
	default:
		l.unexpected(start)
	}
	tok.text = l.src[start.Offset:l.off]
	tok.end = l.off
	return tok
}

// operator lexes = != < <= > >=, and explains the spellings of other
// languages people reach for.
func (l *lexer) operator(start Pos) {
	two := l.src[l.off:min(l.off+2, len(l.src))]
	switch two {
	case "!=", "<=", ">=":
		l.advance()
		l.advance()
		return
	case "==":
		panic(&Error{Pos: start, Msg: `"==" is not an operator`, Suggestion: "="})
	case "<>":
		panic(&Error{Pos: start, Msg: `"<>" is not an operator`, Suggestion: "!="})
	}
	if two[0] == '!' {
		panic(&Error{Pos: start, Msg: `"!" is not an operator: write "!=" for "not equal", or "not" before a condition`})
	}
	l.advance()
}

// unexpected fails on a character that starts no token.
func (l *lexer) unexpected(start Pos) {
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	switch {
	case strings.HasPrefix(l.src[l.off:], "&&"):
		panic(&Error{Pos: start, Msg: `"&&" is not an operator`, Suggestion: "and"})
	case strings.HasPrefix(l.src[l.off:], "||"):
		panic(&Error{Pos: start, Msg: `"||" is not an operator`, Suggestion: "or"})
	case r == '\'':
		l.fail(start, `strings are written in double quotes ("like this"), not single quotes`)
	case r > utf8.RuneSelf && r != utf8.RuneError:
		// Probably a name with accents: say how to write it.
		end := l.off
		for end < len(l.src) && !strings.ContainsRune(" \t\r\n()=!<>,.#\"`", rune(l.src[end])) {
			_, size := utf8.DecodeRuneInString(l.src[end:])
			end += size
		}
		l.fail(start, "unexpected character %q: a name with characters other than letters, digits and _ is written in backquotes, such as `%s`", r, l.src[l.off:end])
	}
	l.fail(start, "unexpected character %q", r)
}

// name lexes a `backquoted name`, in which two backquotes stand for one.
func (l *lexer) name() string {
	start := l.pos()
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.fail(start, "unterminated name: add a closing ` (a ` inside a name is written ``)")
		}
		c := l.src[l.off]
		if c == '`' {
			if l.peekByte(1) != '`' {
				l.advance()
				break
			}
			l.advance()
		} else if c == '.' {
			l.fail(l.pos(), "a name cannot contain a dot: dots separate the names of a path, as in traits.address.city")
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		b.WriteRune(r)
		l.advance()
	}
	if b.Len() == 0 {
		l.fail(start, "empty name ``: a name needs at least one character")
	}
	return b.String()
}

// string lexes a JSON string.
func (l *lexer) string() string {
	start := l.pos()
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' || l.src[l.off] == '\r' {
			l.fail(start, `unterminated string: add a closing " (a line break inside a string is written \n)`)
		}
		r, size := utf8.DecodeRuneInString(l.src[l.off:])
		switch {
		case r == '"':
			l.advance()
			return b.String()
		case r == '\\':
			b.WriteRune(l.escape())
		case r < 0x20:
			l.fail(l.pos(), `a control character cannot appear in a string: write it as \u%04x`, r)
		default:
			b.WriteString(l.src[l.off : l.off+size])
			l.advance()
		}
	}
}

// escape lexes one escape in a string, a surrogate pair as one.
func (l *lexer) escape() rune {
	at := l.pos()
	l.advance()
	c := l.peekByte(0)
	simple := map[byte]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
	if r, ok := simple[c]; ok {
		l.advance()
		return r
	}
	if c != 'u' {
		shown := "\\"
		if c != 0 {
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			shown += string(r)
		}
		l.fail(at, `invalid escape %s in a string: the escapes are \", \\, \/, \b, \f, \n, \r, \t and \uXXXX`, shown)
	}
	r := l.hex4(at)
	if utf16.IsSurrogate(r) {
		if r < 0xdc00 && l.peekByte(0) == '\\' && l.peekByte(1) == 'u' {
			second := l.pos()
			l.advance()
			if r2 := l.hex4(second); 0xdc00 <= r2 && r2 < 0xe000 {
				return utf16.DecodeRune(r, r2)
			}
		}
		l.fail(at, `\u%04x is half of a UTF-16 surrogate pair: write the character itself, or both halves`, r)
	}
	return r
}

// hex4 lexes the XXXX of \uXXXX, l being at the u.
func (l *lexer) hex4(at Pos) rune {
	l.advance()
	if l.off+4 > len(l.src) {
		l.fail(at, `invalid escape in a string: \u takes four hex digits, such as \u00e9`)
	}
	n, err := strconv.ParseUint(l.src[l.off:l.off+4], 16, 32)
	if err != nil {
		l.fail(at, `invalid escape in a string: \u takes four hex digits, such as \u00e9`)
	}
	for range 4 {
		l.advance()
	}
	return rune(n)
}

// number lexes a JSON number, a duration (7d) or a time (2026-01-01...),
// which all start with digits.
func (l *lexer) number(tok *token) {
	start := l.pos()
	s := l.src[l.off:]
	if len(s) >= 5 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-' {
		l.time(tok)
		return
	}
	if s[0] == '-' {
		l.advance()
		if !isDigit(l.peekByte(0)) {
			l.fail(start, `"-" must be followed by a number, such as -5`)
		}
	}
	intStart := l.off
	for isDigit(l.peekByte(0)) {
		l.advance()
	}
	plainInt := s[0] != '-'
	leadingZero := l.src[intStart] == '0' && l.off-intStart > 1
	if l.peekByte(0) == '.' {
		plainInt = false
		l.advance()
		if !isDigit(l.peekByte(0)) {
			l.fail(start, "%s is not a number: a decimal point must be followed by digits", l.src[start.Offset:l.off])
		}
		for isDigit(l.peekByte(0)) {
			l.advance()
		}
	}
	if c := l.peekByte(0); c == 'e' || c == 'E' {
		c1, c2 := l.peekByte(1), l.peekByte(2)
		if isDigit(c1) || (c1 == '+' || c1 == '-') && isDigit(c2) {
			plainInt = false
			l.advance()
			if !isDigit(c1) {
				l.advance()
			}
			for isDigit(l.peekByte(0)) {
				l.advance()
			}
		}
	}
	if isLetter(l.peekByte(0)) || isDigit(l.peekByte(0)) {
		for isLetter(l.peekByte(0)) || isDigit(l.peekByte(0)) {
			l.advance()
		}
		l.duration(tok, start, plainInt)
		return
	}
	text := l.src[start.Offset:l.off]
	if leadingZero {
		l.fail(start, "%s is not a number: a number cannot start with 0 followed by more digits", text)
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(n, 0) {
		l.fail(start, "%s is not a number: it is too large", text)
	}
	tok.kind = tNumber
	tok.num = n
}

// duration checks the duration l has just read.
func (l *lexer) duration(tok *token, start Pos, plainInt bool) {
	text := l.src[start.Offset:l.off]
	if !plainInt {
		l.fail(start, "%s is not a duration: a duration is a whole number and a unit, h, d or w, such as 7d", text)
	}
	d, err := ParseDuration(text)
	if err != nil {
		i := strings.IndexFunc(text, func(r rune) bool { return r < '0' || r > '9' })
		switch digits, unit := text[:i], text[i:]; {
		case unit != "h" && unit != "d" && unit != "w":
			l.fail(start, "%s is not a duration: the unit must be h (hours), d (days) or w (weeks), such as %sd", text, digits)
		case strings.Trim(digits, "0") == "":
			l.fail(start, "%s is not a duration: the number must be at least 1", text)
		case digits[0] == '0':
			l.fail(start, "%s is not a duration: write the number without leading zeros", text)
		default:
			l.fail(start, "%s is not a duration: it must be at most 100 years", text)
		}
	}
	tok.kind = tDuration
	tok.str = string(d)
}

// isTimeChar reports whether c may appear in a time literal. A time is
// read as the longest run of these, then checked, so that a typo anywhere
// in it is reported as a bad time.
func isTimeChar(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == ':' || c == '.' || c == '+' || c == '-'
}

// time lexes a date or an RFC 3339 time.
func (l *lexer) time(tok *token) {
	start := l.pos()
	for l.off < len(l.src) && isTimeChar(l.src[l.off]) {
		l.advance()
	}
	text := l.src[start.Offset:l.off]
	v, err := Time(text)
	if err != nil {
		l.fail(start, "%s", timeError(text))
	}
	tok.kind = tTime
	tok.val = v
}

// timeError explains why text is not a time literal.
func timeError(text string) string {
	if !strings.ContainsAny(text, "Tt:") {
		return fmt.Sprintf("%s is not a valid date: write a date as 2026-01-01 (year, month, day), or a time as 2026-01-01T09:30:00Z", text)
	}
	return fmt.Sprintf("%s is not a valid time: write a date as 2026-01-01, or a time in RFC 3339, such as 2026-01-01T09:30:00Z or 2026-01-01T09:30:00+01:00", text)
}

// isTimeText reports whether s is a time literal as the lexer reads one:
// trees from JSON may hold texts that time.Parse accepts but that could
// not be written back unquoted.
func isTimeText(s string) bool {
	if len(s) < 10 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) || s[4] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTimeChar(s[i]) {
			return false
		}
	}
	_, err := ParseTime(s)
	return err == nil
}
