package segment

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// SQLOptions is what CompileSQL needs besides the condition.
type SQLOptions struct {
	Dialect Dialect
	// Registry resolves feature names; nil means the built-in features.
	Registry    *Registry
	WorkspaceID int64
	// AsOf is the evaluation instant (required): events after it do not
	// exist, and windows and "ago" count back from it.
	AsOf time.Time
	// TimeZones are the distinct values of the timezone trait in the
	// workspace. "within next" needs as-of's local date in each customer's
	// zone, and the databases' zone data may differ from Go's (SQLite has
	// none), so the compiler computes the dates in Go, one per zone listed;
	// a customer whose zone is not listed gets the UTC date.
	TimeZones []string
	// Segment returns the definition of a segment that the condition names
	// with "in segment"; definitions are inlined. Nil makes any "in
	// segment" an error.
	Segment func(name string) (*Node, error)
	// List returns the id of a static segment (a list) that the condition
	// names, whose members are the rows of segment_members; consulted
	// before Segment. Nil means no lists.
	List func(name string) (id int64, ok bool)
}

// CompileSQL compiles the condition n to a query returning the ids of the
// workspace's customers it holds for, in order:
//
//	SELECT c.id FROM customers c WHERE c.workspace_id = ? AND (...) ORDER BY c.id
//
// with ? placeholders for SQLite and $1, $2, ... for PostgreSQL. Every
// value taken from the tree (literals, names, paths, event names, windows)
// is a bound argument; only the registry's feature SQL is spliced into the
// text. It is the oracle the in-memory engine is tested against, so it
// implements docs/segments.md literally rather than fast. Errors are
// touchbase.EINVALID for a malformed tree.
func CompileSQL(n *Node, o SQLOptions) (query string, args []any, err error) {
	return compileSelect("c.id", " ORDER BY c.id", n, o)
}

// CompileCount is CompileSQL returning only the number of members.
func CompileCount(n *Node, o SQLOptions) (query string, args []any, err error) {
	return compileSelect("count(*)", "", n, o)
}

func compileSelect(what, tail string, n *Node, o SQLOptions) (string, []any, error) {
	if o.AsOf.IsZero() {
		return "", nil, fmt.Errorf("compile segment: no as-of instant")
	}
	c := &compiler{o: o, asOf: o.AsOf.UnixMilli()}
	if c.o.Registry == nil {
		c.o.Registry = NewRegistry()
	}
	cond, err := c.cond(n, inCustomer)
	if err != nil {
		return "", nil, err
	}
	q := "SELECT " + what + " FROM customers c WHERE c.workspace_id = " + c.int(o.WorkspaceID) + " AND (" + cond + ")" + tail
	q, args := c.finish(q)
	return q, args, nil
}

// scope says what a field names: a customer's feature or trait, or, inside
// an aggregate's where, an event's property.
type scope uint8

const (
	inCustomer scope = iota
	inEvent
)

// compiler builds one query. Fragments carry their arguments as markers
// (see param) so that a fragment can be written twice, or composed in any
// order, before finish numbers the placeholders.
type compiler struct {
	o        SQLOptions
	asOf     int64    // Unix ms
	params   []any    // by marker number
	inlining []string // the segments being inlined, for cycles
}

// marker brackets a parameter's number in the text until finish. NUL never
// occurs in SQL we write, and user text never reaches the text at all.
const marker = "\x00"

// param adds v and returns its marker.
func (c *compiler) param(v any) string {
	c.params = append(c.params, v)
	return marker + strconv.Itoa(len(c.params)-1) + marker
}

// text, num, int and boolean return a parameter as an expression of that
// SQL type. PostgreSQL needs the casts to know the parameter's type where
// the context does not tell it (both sides of "$1 = $2").
func (c *compiler) text(s string) string { return c.cast(c.param(s), "text") }
func (c *compiler) num(f float64) string { return c.cast(c.param(f), "float8") }
func (c *compiler) int(i int64) string   { return c.cast(c.param(i), "bigint") }

func (c *compiler) boolean(b bool) string {
	if c.o.Dialect == Postgres {
		return c.cast(c.param(b), "boolean")
	}
	// SQLite has no boolean type: comparisons yield 0 and 1.
	n := int64(0)
	if b {
		n = 1
	}
	return c.param(n)
}

func (c *compiler) cast(p, typ string) string {
	if c.o.Dialect == Postgres {
		return "(" + p + "::" + typ + ")"
	}
	return p
}

// finish replaces the markers in q with placeholders and returns the
// arguments in placeholder order: SQLite's ? are positional, so a
// parameter written twice is bound twice; PostgreSQL reuses $n.
func (c *compiler) finish(q string) (string, []any) {
	var b strings.Builder
	var args []any
	pg := map[int]int{} // marker number to $n
	parts := strings.Split(q, marker)
	// parts alternate: text, marker number, text, ...
	for i, part := range parts {
		if i%2 == 0 {
			b.WriteString(part)
			continue
		}
		k, _ := strconv.Atoi(part)
		if c.o.Dialect != Postgres {
			b.WriteByte('?')
			args = append(args, c.params[k])
			continue
		}
		n, ok := pg[k]
		if !ok {
			args = append(args, c.params[k])
			n = len(args)
			pg[k] = n
		}
		b.WriteString("$" + strconv.Itoa(n))
	}
	return b.String(), args
}

func invalid(format string, args ...any) error {
	return touchbase.Errorf(touchbase.EINVALID, format, args...)
}

// sqlFalse is a condition that never holds, for tests between values
// whose types can never match (a test holds only between values of the
// same type).
const sqlFalse = "FALSE"

// cond compiles a condition to a SQL boolean that is never NULL: every
// test is true or false (docs/segments.md), so NOT and the connectives can
// be SQL's own. Each leaf ends in nn, which turns SQL's unknown into false.
func (c *compiler) cond(n *Node, sc scope) (string, error) {
	if n == nil {
		return "", invalid("missing condition")
	}
	switch n.Op {
	case OpAnd, OpOr:
		if len(n.Args) == 0 {
			return "", invalid("%q needs conditions", n.Op)
		}
		parts := make([]string, len(n.Args))
		for i, a := range n.Args {
			s, err := c.cond(a, sc)
			if err != nil {
				return "", err
			}
			parts[i] = "(" + s + ")"
		}
		return strings.Join(parts, " "+strings.ToUpper(string(n.Op))+" "), nil
	case OpNot:
		if len(n.Args) != 1 {
			return "", invalid("not takes one condition")
		}
		s, err := c.cond(n.Args[0], sc)
		if err != nil {
			return "", err
		}
		return "NOT (" + s + ")", nil
	case OpInSegment:
		return c.inSegment(n, sc)
	}
	left, err := c.operand(n.Left, sc, n.Op)
	if err != nil {
		return "", err
	}
	switch n.Op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		right, err := c.operand(n.Right, sc, n.Op)
		if err != nil {
			return "", err
		}
		return c.compare(n.Op, left, right), nil
	case OpIn, OpNotIn:
		if len(n.Values) == 0 {
			return "", invalid("%q needs values", n.Op)
		}
		return c.in(n.Op == OpNotIn, left, n.Values), nil
	case OpBetween:
		if len(n.Values) != 2 {
			return "", invalid("between needs two values")
		}
		return c.between(left, n.Values[0], n.Values[1]), nil
	case OpContains, OpStartsWith:
		if n.Right == nil || n.Right.Value == nil {
			return "", invalid("%q needs a literal on the right", n.Op)
		}
		if n.Op == OpContains {
			return c.contains(left, *n.Right.Value), nil
		}
		if n.Right.Value.Type != TypeString {
			return "", invalid("starts with needs a string")
		}
		return c.startsWith(left, n.Right.Value.Str), nil
	case OpIsSet:
		return c.isSet(left), nil
	case OpIsNotSet:
		return "NOT (" + c.isSet(left) + ")", nil
	case OpWithinNext:
		return c.withinNext(left, n.Within)
	}
	return "", invalid("unknown operation %q", n.Op)
}

// nn makes a SQL boolean that may be NULL (a value not set) false.
func nn(s string) string { return "COALESCE(" + s + ", FALSE)" }

func (c *compiler) inSegment(n *Node, sc scope) (string, error) {
	if sc != inCustomer {
		return "", invalid("in segment %q: not allowed in an aggregate's where", n.Segment)
	}
	if c.o.List != nil {
		if id, ok := c.o.List(n.Segment); ok {
			return "EXISTS (SELECT 1 FROM segment_members m WHERE m.workspace_id = c.workspace_id AND m.segment_id = " +
				c.int(id) + " AND m.customer_id = c.id)", nil
		}
	}
	if c.o.Segment == nil {
		return "", invalid("in segment %q: segments cannot be referred to here", n.Segment)
	}
	if slices.Contains(c.inlining, n.Segment) {
		return "", invalid("segment %q refers to itself (through %s)", n.Segment, strings.Join(c.inlining, ", "))
	}
	def, err := c.o.Segment(n.Segment)
	if err != nil {
		return "", fmt.Errorf("in segment %q: %w", n.Segment, err)
	}
	c.inlining = append(c.inlining, n.Segment)
	s, err := c.cond(def, inCustomer)
	c.inlining = c.inlining[:len(c.inlining)-1]
	if err != nil {
		return "", err
	}
	return "(" + s + ")", nil
}

// sqlOps are the SQL spellings of the comparison operators.
var sqlOps = map[Op]string{OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

// compare compiles a op b. It holds only when both are set and of the
// same type; two traits (or properties) may be of any matching JSON type,
// never a time, as neither side is one. Booleans only take = and !=.
func (c *compiler) compare(op Op, a, b value) string {
	var parts []string
	for _, t := range commonTypes(a, b) {
		if t == TypeBool && op != OpEq && op != OpNe {
			continue
		}
		x, _ := c.typed(a, t)
		y, _ := c.typed(b, t)
		parts = append(parts, nn(c.collate(x, t)+" "+sqlOps[op]+" "+y))
	}
	return or(parts)
}

// commonTypes are the types a and b may both have.
func commonTypes(a, b value) []Type {
	switch {
	case a.typ != TypeAny && b.typ != TypeAny:
		if a.typ != b.typ {
			return nil
		}
		return []Type{a.typ}
	case a.typ != TypeAny:
		return []Type{a.typ}
	case b.typ != TypeAny:
		return []Type{b.typ}
	}
	return []Type{TypeString, TypeNumber, TypeBool}
}

func or(parts []string) string {
	if len(parts) == 0 {
		return sqlFalse
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// collate makes PostgreSQL compare strings by their bytes, as Go does,
// whatever the database's collation.
func (c *compiler) collate(x string, t Type) string {
	if t == TypeString && c.o.Dialect == Postgres {
		return x + ` COLLATE "C"`
	}
	return x
}

// in compiles "x in (L)" and "x not in (L)". "in" holds when x equals one
// of the literals of its own type. "not in" is its negation only among
// values it can be compared with: it holds when x is set, some literal has
// x's type, and x equals none of them. So, like !=, it is false when x is
// not set or of a type none of the literals has (x = true, L = ("a", 1)).
func (c *compiler) in(not bool, x value, vals []Value) string {
	var types []Type
	byType := map[Type][]string{}
	for _, v := range vals {
		if _, ok := byType[v.Type]; !ok {
			types = append(types, v.Type)
		}
		byType[v.Type] = append(byType[v.Type], c.literal(v))
	}
	var eq, comparable []string
	for _, t := range types {
		xt, ok := c.typed(x, t)
		if !ok {
			continue
		}
		eq = append(eq, nn(c.collate(xt, t)+" IN ("+strings.Join(byType[t], ", ")+")"))
		comparable = append(comparable, xt+" IS NOT NULL")
	}
	if !not {
		return or(eq)
	}
	if len(comparable) == 0 {
		return sqlFalse
	}
	return "(" + or(comparable) + " AND NOT " + or(eq) + ")"
}

// between compiles "x between lo and hi": lo <= x and x <= hi, so false
// unless lo, hi and x have one type, which is not boolean.
func (c *compiler) between(x value, lo, hi Value) string {
	if lo.Type != hi.Type || lo.Type == TypeBool {
		return sqlFalse
	}
	xt, ok := c.typed(x, lo.Type)
	if !ok {
		return sqlFalse
	}
	return nn(c.collate(xt, lo.Type) + " BETWEEN " + c.literal(lo) + " AND " + c.literal(hi))
}

// contains compiles "x contains lit": a substring test when x is a
// string and lit one, or, when x is a JSON array, whether an element
// equals lit (by compare's rules: same type, a string element compared as
// a time when lit is one).
func (c *compiler) contains(x value, lit Value) string {
	var parts []string
	if lit.Type == TypeString {
		if xs, ok := c.typed(x, TypeString); ok {
			fn := "instr"
			if c.o.Dialect == Postgres {
				fn = "strpos"
			}
			parts = append(parts, nn(fn+"("+xs+", "+c.text(lit.Str)+") > 0"))
		}
	}
	if x.typ == TypeAny {
		elem, from := c.elements(x.json)
		eq := c.compare(OpEq, value{typ: TypeAny, json: elem}, c.literalValue(lit))
		parts = append(parts, "CASE WHEN "+c.isJSON(x.json, "array")+" THEN EXISTS (SELECT 1 FROM "+from+" WHERE "+eq+") ELSE FALSE END")
	}
	return or(parts)
}

// startsWith compiles "x starts with s", a prefix test on strings (not
// LIKE, which is case-insensitive in SQLite and has wildcards).
func (c *compiler) startsWith(x value, s string) string {
	xs, ok := c.typed(x, TypeString)
	if !ok {
		return sqlFalse
	}
	if c.o.Dialect == Postgres {
		return nn("starts_with(" + xs + ", " + c.text(s) + ")")
	}
	return nn("instr(" + xs + ", " + c.text(s) + ") = 1")
}

// isSet compiles "x is set": not missing and not JSON null. Objects and
// arrays are set.
func (c *compiler) isSet(x value) string {
	if x.typ == TypeAny {
		return nn(x.json.kind + " <> 'null'")
	}
	return "(" + x.sql + ") IS NOT NULL"
}
