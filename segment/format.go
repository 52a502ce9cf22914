package segment

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Format writes n as canonical text: keywords in lower case, one space
// around operators, strings JSON-quoted, names backquoted only when they
// must be, parentheses only where precedence needs them. The negation of
// a test is written "not (x = 1)", which reads less ambiguously than
// "not x = 1" (Parse takes both). A bare field is written "x = true".
//
// For every tree t that Check accepts, Parse(Format(t)) equals t but for
// Pos. Format writes something for any tree, but what it writes for a
// tree Check rejects may not parse.
func Format(n *Node) string {
	var b strings.Builder
	writeNode(&b, n, precOr)
	return b.String()
}

// Precedences, from the loosest: the context a node is written in.
const (
	precOr = iota
	precAnd
	precNot
)

func writeNode(b *strings.Builder, n *Node, prec int) {
	if n == nil {
		b.WriteString("?")
		return
	}
	switch n.Op {
	case OpOr, OpAnd:
		sep, inner := " or ", precOr
		if n.Op == OpAnd {
			sep, inner = " and ", precAnd
		}
		paren := prec > inner
		if paren {
			b.WriteByte('(')
		}
		for i, a := range n.Args {
			if i > 0 {
				b.WriteString(sep)
			}
			writeNode(b, a, inner)
		}
		if paren {
			b.WriteByte(')')
		}
		return
	case OpNot:
		b.WriteString("not ")
		var arg *Node
		if len(n.Args) > 0 {
			arg = n.Args[0]
		}
		if arg != nil && (arg.Op == OpNot || arg.Op == OpInSegment || arg.Op == OpAnd || arg.Op == OpOr) {
			writeNode(b, arg, precNot)
			return
		}
		b.WriteByte('(')
		writeNode(b, arg, precOr)
		b.WriteByte(')')
		return
	case OpInSegment:
		b.WriteString("in segment ")
		b.WriteString(quoteString(n.Segment))
		return
	}
	writeOperand(b, n.Left)
	switch n.Op {
	case OpIn, OpNotIn:
		b.WriteString(" " + string(n.Op) + " (")
		for i, v := range n.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, v)
		}
		b.WriteByte(')')
	case OpBetween:
		b.WriteString(" between ")
		for i, v := range n.Values {
			if i > 0 {
				b.WriteString(" and ")
			}
			writeValue(b, v)
		}
	case OpIsSet, OpIsNotSet:
		b.WriteString(" " + string(n.Op))
	case OpWithinNext:
		b.WriteString(" within next " + string(n.Within))
	default: // comparisons, contains, starts with, and ops Check rejects
		b.WriteString(" " + string(n.Op) + " ")
		writeOperand(b, n.Right)
	}
}

func writeOperand(b *strings.Builder, o *Operand) {
	switch {
	case o == nil:
		b.WriteString("?")
	case o.Field != "":
		writePath(b, o.Field)
	case o.Agg != nil:
		writeAggregate(b, o.Agg)
	case o.Value != nil:
		writeValue(b, *o.Value)
	case o.Ago != "":
		b.WriteString(string(o.Ago) + " ago")
	default:
		b.WriteString("?")
	}
}

func writeAggregate(b *strings.Builder, a *Aggregate) {
	b.WriteString(string(a.Func))
	b.WriteByte('(')
	b.WriteString(quoteString(a.Event))
	if a.Property != "" {
		b.WriteByte('.')
		writePath(b, a.Property)
	}
	if a.Where != nil {
		b.WriteString(" where ")
		writeNode(b, a.Where, precOr)
	}
	if a.Within != "" {
		b.WriteString(", within " + string(a.Within))
	}
	b.WriteByte(')')
}

// writePath writes a dot path, backquoting the names that are not
// identifiers, and a first name that is a keyword (after a dot a keyword
// cannot be mistaken: rfm.segment).
func writePath(b *strings.Builder, path string) {
	for i, name := range strings.Split(path, ".") {
		if i > 0 {
			b.WriteByte('.')
		}
		writeName(b, name, i == 0)
	}
}

func writeName(b *strings.Builder, name string, first bool) {
	if isIdent(name) && !(first && isKeyword(name)) {
		b.WriteString(name)
		return
	}
	b.WriteByte('`')
	b.WriteString(strings.ReplaceAll(name, "`", "``"))
	b.WriteByte('`')
}

func writeValue(b *strings.Builder, v Value) {
	switch v.Type {
	case TypeString:
		b.WriteString(quoteString(v.Str))
	case TypeNumber:
		// 'g' writes JSON number syntax (1e+21, -0.5), which the lexer reads.
		b.WriteString(strconv.FormatFloat(v.Num, 'g', -1, 64))
	case TypeBool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case TypeTime:
		b.WriteString(v.Str)
	default:
		b.WriteString("?")
	}
}

// quoteString writes s as a JSON string. Characters that do not print
// (controls, odd spaces) are escaped so that what the console shows is
// what the string holds.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if unicode.IsPrint(r) && r != utf8.RuneError {
				b.WriteRune(r)
			} else if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				writeU(&b, r1)
				writeU(&b, r2)
			} else {
				writeU(&b, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[r>>shift&0xf])
	}
}
