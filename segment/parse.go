package segment

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parse reads a segment's text (the grammar is in docs/segments.md) and
// returns its tree, checked by Check with no registry: its structure and
// the types that do not depend on features. Errors are *Error, with the
// position of the first problem in the text.
func Parse(text string) (n *Node, err error) {
	if !utf8.ValidString(text) {
		i := 0
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		l := newLexer(text)
		for l.off < i {
			l.advance()
		}
		return nil, errorf(l.pos(), "the text is not valid UTF-8")
	}
	p := &parser{lex: newLexer(text), src: text}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			n, err = nil, e
		}
	}()
	p.next()
	if p.tok.kind == tEOF {
		p.fail(p.tok.pos, "empty condition: write a condition, such as orders >= 2")
	}
	n = p.or(false)
	switch {
	case p.tok.kind == tRParen:
		p.fail(p.tok.pos, `unexpected ")": there is no "(" for it to close`)
	case p.tok.kind != tEOF:
		p.failSuggest(p.tok, []string{"and", "or"}, `expected "and", "or" or the end of the condition after %s, found %s`, quote(p.prev.text), describe(p.tok))
	}
	if err := Check(n, nil); err != nil {
		return nil, err
	}
	return n, nil
}

// parser is a recursive-descent parser; errors panic with an *Error that
// Parse recovers, which keeps every rule free of error plumbing.
type parser struct {
	lex   *lexer
	src   string
	tok   token   // the current token
	ahead []token // tokens lexed past tok by peek
	prev  token   // the token before tok
	depth int     // of unary, to bound nesting
}

// maxDepth is how deep parentheses, not and where may nest: far more than
// a person writes.
const maxDepth = 100

func (p *parser) next() {
	p.prev = p.tok
	if len(p.ahead) > 0 {
		p.tok, p.ahead = p.ahead[0], p.ahead[1:]
		return
	}
	p.tok = p.lex.next()
}

func (p *parser) peek() token {
	if len(p.ahead) == 0 {
		p.ahead = append(p.ahead, p.lex.next())
	}
	return p.ahead[0]
}

// is reports whether the current token is the keyword kw.
func (p *parser) is(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(errorf(pos, format, args...))
}

// failSuggest fails at tok, suggesting the closest of words to it.
func (p *parser) failSuggest(tok token, words []string, format string, args ...any) {
	e := errorf(tok.pos, format, args...)
	if tok.kind == tIdent {
		e.Suggestion = closest(tok.text, words)
	}
	panic(e)
}

// textFrom quotes the source from start to the end of the last token.
func (p *parser) textFrom(start Pos) string {
	return quote(p.src[start.Offset:p.prev.end])
}

// describe names a token for "found ..." in messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "the end of the text"
	case tString:
		return "the string " + quote(t.str)
	}
	return quote(t.text)
}

// or parses: and { "or" and }, flattened.
func (p *parser) or(where bool) *Node {
	start := p.tok.pos
	first := p.and(where)
	if !p.is("or") {
		return first
	}
	args := appendFlat(nil, OpOr, first)
	for p.is("or") {
		p.next()
		args = appendFlat(args, OpOr, p.and(where))
	}
	return &Node{Op: OpOr, Args: args, Pos: start}
}

// and parses: unary { "and" unary }, flattened.
func (p *parser) and(where bool) *Node {
	start := p.tok.pos
	first := p.unary(where)
	if !p.is("and") {
		return first
	}
	args := appendFlat(nil, OpAnd, first)
	for p.is("and") {
		p.next()
		args = appendFlat(args, OpAnd, p.unary(where))
	}
	return &Node{Op: OpAnd, Args: args, Pos: start}
}

// appendFlat appends n to args, or n's own args when it has the same op,
// so that (a and b) and c is one node: the tree has a single form and
// Format never needs parentheses between equal operators.
func appendFlat(args []*Node, op Op, n *Node) []*Node {
	if n.Op == op {
		return append(args, n.Args...)
	}
	return append(args, n)
}

// unary parses: "not" unary | "(" condition ")" | "in" "segment" STRING | test.
func (p *parser) unary(where bool) *Node {
	t := p.tok
	// Bound the recursion, so that a hostile text cannot exhaust the stack.
	if p.depth++; p.depth > maxDepth {
		p.fail(t.pos, "the condition nests more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	switch {
	case p.is("not"):
		p.next()
		return &Node{Op: OpNot, Args: []*Node{p.unary(where)}, Pos: t.pos}
	case t.kind == tLParen:
		p.next()
		n := p.or(where)
		if p.tok.kind != tRParen {
			p.failSuggest(p.tok, []string{"and", "or"}, `expected ")" to close the "(" at %s, found %s`, t.pos, describe(p.tok))
		}
		p.next()
		return n
	case p.is("in"):
		if where {
			p.fail(t.pos, `"in segment" cannot be used inside "where", which tests the properties of one event`)
		}
		p.next()
		if !p.is("segment") {
			p.fail(p.tok.pos, "expected \"segment\" after \"in\", as in: in segment \"vip\" (a field called in is written `in`), found %s", describe(p.tok))
		}
		p.next()
		if p.tok.kind != tString {
			p.fail(p.tok.pos, `expected the segment's name as a string after "in segment", such as in segment "vip", found %s`, describe(p.tok))
		}
		name := p.tok
		p.next()
		if name.str == "" {
			p.fail(name.pos, "a segment's name cannot be empty")
		}
		return &Node{Op: OpInSegment, Segment: name.str, Pos: t.pos}
	}
	return p.test(where)
}

// cmpWords are the words that may follow an operand, for suggestions.
var cmpWords = []string{"in", "not", "between", "contains", "starts", "is", "within", "and", "or"}

const cmpOps = "a comparison operator (=, !=, <, <=, >, >=, in, between, contains, starts with, is set, within next)"

// test parses a comparison, or a bare field (field = true).
func (p *parser) test(where bool) *Node {
	start := p.tok.pos
	left := p.operand(where, "")
	n := &Node{Left: left, Pos: start}
	t := p.tok
	switch {
	case t.kind == tOp:
		p.next()
		n.Op = Op(t.text)
		n.Right = p.operand(where, quote(t.text))
	case p.is("not"):
		p.next()
		if !p.is("in") {
			p.fail(p.tok.pos, `expected "in" after "not", as in plan not in ("gold", "platinum"), found %s`, describe(p.tok))
		}
		p.next()
		n.Op = OpNotIn
		n.Values = p.list(`"not in"`)
	case p.is("in"):
		p.next()
		n.Op = OpIn
		n.Values = p.list(`"in"`)
	case p.is("between"):
		p.next()
		n.Op = OpBetween
		lo := p.literal(`"between"`)
		if !p.is("and") {
			p.fail(p.tok.pos, `expected "and" between the two values of "between", as in age between 25 and 34, found %s`, describe(p.tok))
		}
		p.next()
		n.Values = []Value{lo, p.literal(`"and"`)}
	case p.is("contains"):
		p.next()
		n.Op = OpContains
		v := p.literal(`"contains"`)
		n.Right = &Operand{Value: &v}
	case p.is("starts"):
		p.next()
		if !p.is("with") {
			p.fail(p.tok.pos, `expected "with" after "starts", as in email starts with "ann", found %s`, describe(p.tok))
		}
		p.next()
		if p.tok.kind != tString {
			p.fail(p.tok.pos, `"starts with" takes a string, such as email starts with "ann", found %s`, describe(p.tok))
		}
		v := String(p.tok.str)
		p.next()
		n.Op = OpStartsWith
		n.Right = &Operand{Value: &v}
	case p.is("is"):
		p.next()
		n.Op = OpIsSet
		if p.is("not") {
			p.next()
			n.Op = OpIsNotSet
		}
		if !p.is("set") {
			p.fail(p.tok.pos, `expected "set" after %s, as in email is set or email is not set, found %s`, p.textFrom(t.pos), describe(p.tok))
		}
		p.next()
	case p.is("within"):
		p.withinNext(n, where)
	case left.Field != "" && (t.kind == tEOF || t.kind == tRParen || t.kind == tComma || p.is("and") || p.is("or")):
		// A bare field: x means x = true.
		n.Op = OpEq
		v := Bool(true)
		n.Right = &Operand{Value: &v}
	default:
		p.failSuggest(t, cmpWords, "expected %s after %s, found %s", cmpOps, p.textFrom(start), describe(t))
	}
	return n
}

// withinNext parses "within next DURATION" after the operand in n.
func (p *parser) withinNext(n *Node, where bool) {
	t := p.tok
	p.next()
	if !p.is("next") {
		p.fail(p.tok.pos, `expected "next" after "within", as in birthday within next 7d (the window of an aggregate goes inside its parentheses: count("Order Completed", within 30d)), found %s`, describe(p.tok))
	}
	p.next()
	switch {
	case where:
		p.fail(t.pos, `"within next" cannot be used inside "where", which tests the properties of one event`)
	case n.Left.Field == "":
		p.fail(n.Pos, `"within next" tests a date trait, such as birthday within next 7d`)
	case p.tok.kind != tDuration:
		p.fail(p.tok.pos, `expected a number of days after "within next", such as 7d, found %s`, describe(p.tok))
	}
	if msg := withinNextProblem(Duration(p.tok.str)); msg != "" {
		p.fail(p.tok.pos, "%s", msg)
	}
	n.Op = OpWithinNext
	n.Within = Duration(p.tok.str)
	p.next()
}

// withinNextProblem says what is wrong with d as the days of "within
// next", or returns "". Birthdays repeat yearly, so more than a year of
// days would mean nothing more.
func withinNextProblem(d Duration) string {
	std, err := d.Std()
	if err != nil {
		return err.Error()
	}
	if u := d[len(d)-1]; u != 'd' && u != 'w' {
		return fmt.Sprintf(`"within next" takes whole days, such as 7d or 2w, not %s`, d)
	}
	if days := std.Hours() / 24; days > 366 {
		return fmt.Sprintf(`"within next" takes at most 366d (a year), not %s (%.0f days)`, d, days)
	}
	return ""
}

// list parses ( literal { , literal } ) after in or not in.
func (p *parser) list(after string) []Value {
	if p.tok.kind != tLParen {
		p.fail(p.tok.pos, `expected "(" after %s, as in plan %s ("gold", "platinum"), found %s`, after, strings.Trim(after, `"`), describe(p.tok))
	}
	open := p.tok.pos
	p.next()
	if p.tok.kind == tRParen {
		p.fail(p.tok.pos, `%s needs at least one value between its parentheses`, after)
	}
	var vs []Value
	for {
		vs = append(vs, p.literal(`"(" or ","`))
		switch p.tok.kind {
		case tComma:
			p.next()
			continue
		case tRParen:
			p.next()
			return vs
		}
		p.fail(p.tok.pos, `expected "," or ")" to close the "(" at %s, found %s`, open, describe(p.tok))
	}
}

// literal parses a string, number, boolean or time.
func (p *parser) literal(after string) Value {
	t := p.tok
	var v Value
	switch {
	case t.kind == tString:
		v = String(t.str)
	case t.kind == tNumber:
		v = Number(t.num)
	case t.kind == tTime:
		v = t.val
	case p.is("true"), p.is("false"):
		v = Bool(strings.EqualFold(t.text, "true"))
	default:
		p.fail(t.pos, "expected a value (a string, a number, true, false or a date) after %s, found %s", after, describe(t))
	}
	p.next()
	return v
}

// operand parses a field, an aggregate, a literal or DURATION ago.
func (p *parser) operand(where bool, after string) *Operand {
	t := p.tok
	switch t.kind {
	case tString, tNumber, tTime:
		v := p.literal(after)
		return &Operand{Value: &v}
	case tName:
		return &Operand{Field: p.path(true)}
	case tDuration:
		p.next()
		if !p.is("ago") {
			p.fail(p.tok.pos, `expected "ago" after %s, found %s: a duration stands for a time as in last_order_at < %s ago`, t.text, describe(p.tok), t.text)
		}
		if where {
			p.fail(t.pos, `"%s ago" cannot be used inside "where", which tests the properties of one event`, t.text)
		}
		p.next()
		return &Operand{Ago: Duration(t.str)}
	case tIdent:
		switch {
		case p.is("true"), p.is("false"):
			v := p.literal(after)
			return &Operand{Value: &v}
		case isKeyword(t.text) && after == "" && p.peek().kind == tOp:
			p.fail(t.pos, "expected a condition, found %s (a field named like a keyword is written in backquotes: `%s`)", describe(t), t.text)
		case isKeyword(t.text):
			p.failOperand(t, after)
		case p.peek().kind == tLParen:
			return &Operand{Agg: p.aggregate(where)}
		}
		return &Operand{Field: p.path(true)}
	}
	p.failOperand(t, after)
	return nil
}

// failOperand fails at t, where an operand was expected after the token
// after ("" at the start of a test).
func (p *parser) failOperand(t token, after string) {
	switch {
	case after != "":
		p.fail(t.pos, "expected a field, a value, an aggregate or a time ago after %s, found %s", after, describe(t))
	case p.prev.end > 0:
		p.fail(t.pos, "expected a condition after %s, found %s", quote(p.prev.text), describe(t))
	}
	p.fail(t.pos, "expected a condition, found %s", describe(t))
}

// path parses name { "." name }. A first name may not be a keyword; names
// after a dot may, since nothing else can follow a dot.
func (p *parser) path(first bool) string {
	var names []string
	for {
		t := p.tok
		switch {
		case t.kind == tName:
		case t.kind == tIdent && !(first && isKeyword(t.text)):
		default:
			p.fail(t.pos, "expected a name after \".\", found %s (a name with characters other than letters, digits and _ is written in backquotes: `first name`)", describe(t))
		}
		names = append(names, t.str)
		if t.kind == tIdent {
			names[len(names)-1] = t.text
		}
		p.next()
		if p.tok.kind != tDot {
			return strings.Join(names, ".")
		}
		p.next()
		first = false
	}
}

// funcs are the aggregate functions, for messages and suggestions.
var funcs = []string{"count", "sum", "avg", "min", "max", "distinct", "first", "last"}

// aggregate parses FUNC "(" STRING [ "." path ] [ "where" condition ] [ "," "within" DURATION ] ")".
func (p *parser) aggregate(where bool) *Aggregate {
	t := p.tok
	fn := AggFunc(strings.ToLower(t.text))
	if !fn.valid() {
		e := errorf(t.pos, "unknown aggregate function %s: the functions are count, sum, avg, min, max, distinct, first and last", quote(t.text))
		e.Suggestion = closest(t.text, funcs)
		panic(e)
	}
	if where {
		p.fail(t.pos, `an aggregate cannot be used inside "where", which tests the properties of one event`)
	}
	p.next() // the function
	p.next() // (
	if p.tok.kind != tString {
		p.fail(p.tok.pos, `expected the event's name as a string after "%s(", such as %s("Order Completed"), found %s`, fn, fn, describe(p.tok))
	}
	if p.tok.str == "" {
		p.fail(p.tok.pos, "an event's name cannot be empty")
	}
	agg := &Aggregate{Func: fn, Event: p.tok.str}
	p.next()
	expected := []string{`"."`, `"where"`, `", within"`, `")"`}
	if p.tok.kind == tDot {
		p.next()
		agg.Property = p.path(false)
		expected = expected[1:]
	}
	switch {
	case fn.NeedsProperty() && agg.Property == "":
		p.fail(t.pos, "%s takes a property of the event, as in %s(%s.revenue)", fn, fn, quote(agg.Event))
	case !fn.NeedsProperty() && agg.Property != "":
		p.fail(t.pos, "%s takes no property: write %s(%s)", fn, fn, quote(agg.Event))
	}
	if p.is("where") {
		p.next()
		agg.Where = p.or(true)
		expected = []string{`"and"`, `"or"`, `", within"`, `")"`}
	}
	if p.tok.kind == tComma {
		p.next()
		if !p.is("within") {
			p.fail(p.tok.pos, `expected "within" after ",", as in %s(%s, within 30d), found %s`, fn, quote(agg.Event), describe(p.tok))
		}
		p.next()
		if p.tok.kind != tDuration {
			p.fail(p.tok.pos, `expected a duration after "within", such as 30d, found %s`, describe(p.tok))
		}
		agg.Within = Duration(p.tok.str)
		p.next()
		expected = []string{`")"`}
	}
	if p.tok.kind != tRParen {
		p.failSuggest(p.tok, []string{"where", "and", "or"}, `expected %s in the "%s(" at %s, found %s`, orList(expected), fn, t.pos, describe(p.tok))
	}
	p.next()
	return agg
}

// valid reports whether f is one of the aggregate functions.
func (f AggFunc) valid() bool {
	for _, g := range funcs {
		if string(f) == g {
			return true
		}
	}
	return false
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
