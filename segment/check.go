package segment

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Check reports the first problem with a tree, such as one the API
// received as JSON, as an *Error: an unknown op, fields an op does not
// take or lacks (see the table in docs/segments.md), an invalid literal,
// duration, name or aggregate, an aggregate or "ago" inside a where, or a
// type mismatch between things whose types are known.
//
// Types are known for literals, "ago" (a time), aggregates (count,
// distinct, sum, avg, min and max are numbers; first and last are times)
// and the features in reg. Every other field is a trait or a property,
// whose type varies from customer to customer, so anything goes with it.
// With a nil reg no field is a feature: Check then checks the structure
// and the types that hold whatever the workspace's features are, which is
// what Parse does.
//
// Check also rejects an and directly inside an and (and an or in an or):
// Parse flattens those, so such a tree would not survive Format and
// Parse, and keeping one form of each tree keeps stored trees comparable.
func Check(n *Node, reg *Registry) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	c := checker{reg: reg}
	c.node(n, "", false, 0, precOr)
	return nil
}

type checker struct {
	reg *Registry
	// level is the nesting level of the test being checked, for the
	// where of its aggregates (see nest).
	level int
}

// nest fails when the text of n, as Format writes it, would be read at a
// nesting level beyond maxDepth. The level is the parser's: one for each
// "not", parenthesis and where around a test. Check counts it on the tree
// so that the bound holds for trees from JSON as for text, and every tree
// Check accepts formats to text that Parse reads back.
func (c *checker) nest(n *Node, path string, level int) {
	if level > maxDepth {
		c.fail(n, path, "the condition nests more than %d deep", maxDepth)
	}
}

func (c *checker) fail(n *Node, path, format string, args ...any) {
	e := errorf(Pos{}, format, args...)
	if n != nil {
		e.Pos = n.Pos
	}
	e.Path = path
	panic(e)
}

// sub extends a JSON path by one step.
func sub(path, step string) string {
	if path == "" || strings.HasPrefix(step, "[") {
		return path + step
	}
	return path + "." + step
}

// ops are the ops a node may have, for suggestions.
var ops = []string{"and", "or", "not", "=", "!=", "<", "<=", ">", ">=", "in", "not in", "between",
	"contains", "starts with", "is set", "is not set", "within next", "in segment"}

// node checks n; where is set inside an aggregate's where. Format writes
// n in the context of precedence prec, where the levels around it add up
// to depth (see nest).
func (c *checker) node(n *Node, path string, where bool, depth, prec int) {
	if n == nil {
		c.fail(nil, path, "a condition is missing")
	}
	switch n.Op {
	case OpAnd, OpOr:
		inner := precOr
		if n.Op == OpAnd {
			inner = precAnd
		}
		if prec > inner { // written in parentheses
			depth++
			c.nest(n, path, depth)
		}
		c.fields(n, path, "args")
		if len(n.Args) < 2 {
			c.fail(n, path, "%q takes two or more conditions in args, not %d", n.Op, len(n.Args))
		}
		for i, a := range n.Args {
			p := sub(path, fmt.Sprintf("args[%d]", i))
			if a != nil && a.Op == n.Op {
				c.fail(a, p, "an %q directly inside an %q: put its conditions in the outer one", n.Op, n.Op)
			}
			c.node(a, p, where, depth, inner)
		}
		return
	case OpNot:
		c.nest(n, path, depth+1)
		c.fields(n, path, "args")
		if len(n.Args) != 1 {
			c.fail(n, path, `"not" takes one condition in args, not %d`, len(n.Args))
		}
		switch a := n.Args[0]; {
		case a != nil && (a.Op == OpNot || a.Op == OpInSegment || a.Op == OpAnd || a.Op == OpOr):
			c.node(a, sub(path, "args[0]"), where, depth+1, precNot)
		default: // not (test): one level more for the parentheses
			c.node(a, sub(path, "args[0]"), where, depth+2, precOr)
		}
		return
	}
	// A test, read at the next level.
	c.nest(n, path, depth+1)
	c.level = depth + 1
	switch n.Op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		c.fields(n, path, "left", "right")
		l := c.operand(n, n.Left, sub(path, "left"), where)
		r := c.operand(n, n.Right, sub(path, "right"), where)
		if n.Op != OpEq && n.Op != OpNe && (l == TypeBool || r == TypeBool) {
			c.fail(n, path, `booleans take only =, !=, in and not in, not %q`, n.Op)
		}
		c.compatible(n, path, l, r, n.Left, n.Right)
	case OpIn, OpNotIn, OpBetween:
		c.fields(n, path, "left", "values")
		l := c.operand(n, n.Left, sub(path, "left"), where)
		for i, v := range n.Values {
			c.value(n, v, sub(path, fmt.Sprintf("values[%d]", i)))
		}
		if n.Op != OpBetween {
			if len(n.Values) == 0 {
				c.fail(n, path, "%q takes one or more values", n.Op)
			}
			for _, v := range n.Values {
				c.compatible(n, path, l, v.Type, n.Left, &Operand{Value: &v})
			}
			return
		}
		if len(n.Values) != 2 {
			c.fail(n, path, `"between" takes two values, the lowest and the highest, not %d`, len(n.Values))
		}
		lo, hi := n.Values[0], n.Values[1]
		if l == TypeBool || lo.Type == TypeBool || hi.Type == TypeBool {
			c.fail(n, path, `booleans take only =, !=, in and not in, not "between"`)
		}
		if lo.Type != hi.Type {
			c.fail(n, path, `the two values of "between" must have the same type, not %s and %s`, article(lo.Type), article(hi.Type))
		}
		c.compatible(n, path, l, lo.Type, n.Left, &Operand{Value: &lo})
	case OpContains, OpStartsWith:
		c.fields(n, path, "left", "right")
		l := c.operand(n, n.Left, sub(path, "left"), where)
		r := c.operand(n, n.Right, sub(path, "right"), where)
		if n.Right.Value == nil {
			c.fail(n, path, "%q takes a value on its right, not %s", n.Op, operandText(n.Right))
		}
		if n.Op == OpStartsWith && r != TypeString {
			c.fail(n, path, `"starts with" takes a string, not %s`, operandText(n.Right))
		}
		if what := map[Op]string{OpContains: "a string or a list", OpStartsWith: "a string"}[n.Op]; l != TypeAny && l != TypeString {
			c.fail(n, path, "%q tests %s: %s is %s", n.Op, what, operandText(n.Left), article(l))
		}
		c.compatible(n, path, l, r, n.Left, n.Right)
	case OpIsSet, OpIsNotSet:
		c.fields(n, path, "left")
		c.operand(n, n.Left, sub(path, "left"), where)
	case OpWithinNext:
		c.fields(n, path, "left", "within")
		if where {
			c.fail(n, path, `"within next" cannot be used inside "where", which tests the properties of one event`)
		}
		c.operand(n, n.Left, sub(path, "left"), where)
		if n.Left.Field == "" {
			c.fail(n, path, `"within next" tests a date trait, such as birthday within next 7d, not %s`, operandText(n.Left))
		}
		if f, ok := c.feature(n.Left.Field); ok {
			c.fail(n, path, `"within next" tests a date trait, such as birthday within next 7d: %s is %s feature`, f.Name, article(f.Type))
		}
		if msg := withinNextProblem(n.Within); msg != "" {
			c.fail(n, sub(path, "within"), "%s", msg)
		}
	case OpInSegment:
		c.fields(n, path, "segment")
		if where {
			c.fail(n, path, `"in segment" cannot be used inside "where", which tests the properties of one event`)
		}
		if n.Segment == "" || !utf8.ValidString(n.Segment) {
			c.fail(n, path, "a segment's name must be a non-empty UTF-8 string")
		}
	default:
		e := errorf(n.Pos, "unknown op %q: the ops are %s", n.Op, strings.Join(ops, ", "))
		e.Path = path
		e.Suggestion = closest(string(n.Op), ops)
		panic(e)
	}
}

// fields checks that n has only the fields its op takes: anything else
// would be dropped by Format, or mean the tree was built by mistake.
func (c *checker) fields(n *Node, path string, allowed ...string) {
	has := map[string]bool{
		"args":    n.Args != nil,
		"left":    n.Left != nil,
		"right":   n.Right != nil,
		"values":  n.Values != nil,
		"within":  n.Within != "",
		"segment": n.Segment != "" || n.Op == OpInSegment,
	}
	for _, a := range allowed {
		delete(has, a)
	}
	for _, f := range []string{"args", "left", "right", "values", "within", "segment"} {
		if has[f] {
			c.fail(n, path, "%q takes %s, not %s", n.Op, andList(allowed), f)
		}
	}
	for _, a := range allowed {
		missing := a == "left" && n.Left == nil || a == "right" && n.Right == nil || a == "within" && n.Within == ""
		if missing {
			c.fail(n, path, "%q takes %s: %s is missing", n.Op, andList(allowed), a)
		}
	}
}

func andList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// feature returns the registered feature called name.
func (c *checker) feature(name string) (*Feature, bool) {
	if c.reg == nil {
		return nil, false
	}
	return c.reg.Lookup(name)
}

// operand checks o and returns its static type (TypeAny when it varies).
func (c *checker) operand(n *Node, o *Operand, path string, where bool) Type {
	var set []string
	if o.Field != "" {
		set = append(set, "field")
	}
	if o.Agg != nil {
		set = append(set, "agg")
	}
	if o.Value != nil {
		set = append(set, "value")
	}
	if o.Ago != "" {
		set = append(set, "ago")
	}
	switch len(set) {
	case 0:
		c.fail(n, path, "an operand needs one of field, agg, value and ago")
	case 1:
	default:
		c.fail(n, path, "an operand has exactly one of field, agg, value and ago, not %s", strings.Join(set, " and "))
	}
	switch {
	case o.Field != "":
		if msg := pathProblem(o.Field); msg != "" {
			c.fail(n, path, "field %s: %s", quote(o.Field), msg)
		}
		if f, ok := c.feature(o.Field); ok && !where {
			return f.Type
		}
		return TypeAny
	case o.Agg != nil:
		if where {
			c.fail(n, path, `an aggregate cannot be used inside "where", which tests the properties of one event`)
		}
		return c.aggregate(n, o.Agg, sub(path, "agg"))
	case o.Value != nil:
		c.value(n, *o.Value, sub(path, "value"))
		return o.Value.Type
	}
	if where {
		c.fail(n, path, `"%s ago" cannot be used inside "where", which tests the properties of one event`, o.Ago)
	}
	if _, err := o.Ago.Std(); err != nil {
		c.fail(n, sub(path, "ago"), "%s", err)
	}
	return TypeTime
}

// pathProblem says what is wrong with a field or property path, or "".
func pathProblem(path string) string {
	if !utf8.ValidString(path) {
		return "not valid UTF-8"
	}
	if strings.ContainsRune(path, 0) {
		return `the NUL character (\u0000)`
	}
	for _, name := range strings.Split(path, ".") {
		if name == "" {
			return "an empty name (dots separate names: a.b.c)"
		}
	}
	return ""
}

func (c *checker) aggregate(n *Node, a *Aggregate, path string) Type {
	if !a.Func.valid() {
		e := errorf(n.Pos, "unknown aggregate function %q: the functions are %s", a.Func, strings.Join(funcs, ", "))
		e.Path, e.Suggestion = sub(path, "func"), closest(string(a.Func), funcs)
		panic(e)
	}
	if a.Event == "" || !utf8.ValidString(a.Event) || strings.ContainsRune(a.Event, 0) {
		c.fail(n, sub(path, "event"), "an aggregate's event must be a non-empty UTF-8 string without NUL characters")
	}
	switch {
	case a.Func.NeedsProperty() && a.Property == "":
		c.fail(n, path, "%s takes a property of the event, as in %s(%s.revenue)", a.Func, a.Func, quote(a.Event))
	case !a.Func.NeedsProperty() && a.Property != "":
		c.fail(n, path, "%s takes no property", a.Func)
	}
	if a.Property != "" {
		if msg := pathProblem(a.Property); msg != "" {
			c.fail(n, sub(path, "property"), "property %s: %s", quote(a.Property), msg)
		}
	}
	if a.Within != "" {
		if _, err := a.Within.Std(); err != nil {
			c.fail(n, sub(path, "within"), "%s", err)
		}
	}
	if a.Where != nil {
		level := c.level
		c.node(a.Where, sub(path, "where"), true, level, precOr)
		c.level = level
	}
	if a.Func == AggFirst || a.Func == AggLast {
		return TypeTime
	}
	return TypeNumber
}

// value checks a literal. Fields its type does not use must be zero, or
// the tree would not come back the same from JSON or text.
func (c *checker) value(n *Node, v Value, path string) {
	zero := Value{Type: v.Type}
	switch v.Type {
	case TypeString:
		zero.Str = v.Str
		if !utf8.ValidString(v.Str) {
			c.fail(n, path, "a string must be valid UTF-8")
		} else if strings.ContainsRune(v.Str, 0) {
			// No stored text holds one (PostgreSQL's text and jsonb
			// cannot), and the SQL compiler could not bind it.
			c.fail(n, path, `a string may not contain the NUL character (\u0000)`)
		}
	case TypeNumber:
		zero.Num = v.Num
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			c.fail(n, path, "number %v is not finite", v.Num)
		}
	case TypeBool:
		zero.Bool = v.Bool
	case TypeTime:
		zero.Str, zero.Time = v.Str, v.Time
		if v.Str == "" {
			c.fail(n, path, "a time needs its text as written, such as 2026-01-01")
		}
		if !isTimeText(v.Str) {
			c.fail(n, path, "%s", timeError(v.Str))
		}
		if t, _ := ParseTime(v.Str); t != v.Time {
			c.fail(n, path, "time %s is %d in Unix milliseconds, not %d", quote(v.Str), t, v.Time)
		}
	default:
		c.fail(n, path, "a value must be a string, a number, a boolean or a time")
	}
	if v != zero {
		c.fail(n, path, "a %s value has fields set that a %s does not use", v.Type, v.Type)
	}
}

// compatible fails unless l and r can be equal: a test between values of
// different types is always false, which is never what was meant.
func (c *checker) compatible(n *Node, path string, l, r Type, lo, ro *Operand) {
	if l == TypeAny || r == TypeAny || l == r {
		return
	}
	c.fail(n, path, "%s is %s and %s is %s: a test between different types never holds", operandText(lo), article(l), operandText(ro), article(r))
}

// article names a type with its article: "a number".
func article(t Type) string {
	switch t {
	case TypeAny:
		return "a value of any type"
	case TypeTime:
		return "a time"
	}
	return "a " + t.String()
}

// operandText is o as written, shortened, for messages.
func operandText(o *Operand) string {
	var b strings.Builder
	writeOperand(&b, o)
	s := b.String()
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return s
}
