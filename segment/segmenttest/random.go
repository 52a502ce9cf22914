// Package segmenttest generates random segment trees for property tests
// and shrinks failing ones: the differential test of the engine against
// the SQL compiler draws trees over the vocabulary of its test data, and
// the parser's tests draw trees over awkward names and literals.
package segmenttest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/touchbase/touchbase/segment"
)

// FieldSpec is a name with its type.
type FieldSpec struct {
	Name string
	// Type is, for a customer field, its static type: a feature's type,
	// or TypeAny for a trait (whose values may be of any type). Only a
	// TypeAny field is tested with "within next", so that trees stay valid
	// under segment.Check with the registry. For a property, Type only
	// says which literals to compare it with (Check has properties as
	// TypeAny); TypeAny takes the types of its Values.
	Type segment.Type
}

// Options is the vocabulary and the shape of the trees RandomNode draws.
// Empty lists are filled with names chosen to be awkward to write (they
// need backquotes, hold quotes, unicode or keywords).
type Options struct {
	// Depth is how deep and, or and not nest; 0 means 3.
	Depth int
	// Fields are the customer fields: features and traits.
	Fields []FieldSpec
	// Events are the event names aggregates take.
	Events []string
	// Properties are the event properties aggregates and where take.
	Properties []FieldSpec
	// Segments are the names in segment takes. When Fields is empty too,
	// awkward names are used; otherwise none means no in segment, for
	// tests whose evaluator knows no other segments.
	Segments []string
	// Values are candidate literals per field or property name: most
	// literals compared with that name are drawn from them or next to
	// them, so that tests hold for some customers and not others.
	Values map[string][]segment.Value
	// Now is the instant time literals are drawn around; zero means
	// 2026-01-01T00:00:00Z.
	Now time.Time
}

var (
	defaultFields = []FieldSpec{
		{"country", segment.TypeAny}, {"age", segment.TypeAny}, {"traits.plan", segment.TypeAny},
		{"address.city", segment.TypeAny}, {"first name", segment.TypeAny}, {"and", segment.TypeAny},
		{"set", segment.TypeAny}, {"count", segment.TypeAny}, {"a`b", segment.TypeAny},
		{"ünïcode", segment.TypeAny}, {"x.in.Where", segment.TypeAny}, {"_9", segment.TypeAny},
		{"orders", segment.TypeNumber}, {"last_order_at", segment.TypeTime}, {"email", segment.TypeString},
		{"vip", segment.TypeBool},
	}
	defaultEvents     = []string{"Order Completed", "Product Viewed", `say "hi"`, `back\slash`, "ünï 🎉", "tab\there"}
	defaultProperties = []FieldSpec{
		{"revenue", segment.TypeNumber}, {"category", segment.TypeString}, {"line total", segment.TypeAny},
		{"product.brand", segment.TypeString}, {"where", segment.TypeAny}, {"gift", segment.TypeBool},
	}
	defaultSegments = []string{"vip", "unsubscribed", `quote " in name`, "ünï"}
	awkwardStrings  = []string{"", "a", "DE", `say "hi"`, `back\slash`, "new\nline", "tab\t", "ünïcødé",
		"emoji 🎉", "`backquote`", "line\u2028sep", "# not a comment", "and", "1e21",
		"2026-01-01", "nbsp\u00a0", "\x7f"}
	awkwardNumbers = []float64{0, 3, -5, -0.5, 1e21, 1.5, 1e-7, 123456789, -1e-300, 0.1}
)

// RandomNode returns a random tree that segment.Check accepts with a nil
// registry, and with a registry whose features are o's typed Fields.
// Every op, operand kind, aggregate function and literal type occurs.
func RandomNode(r *rand.Rand, o Options) *segment.Node {
	g := &gen{r: r, o: o}
	if g.o.Depth == 0 {
		g.o.Depth = 3
	}
	if len(g.o.Fields) == 0 {
		g.o.Fields = defaultFields
	}
	if len(g.o.Events) == 0 {
		g.o.Events = defaultEvents
	}
	if len(g.o.Properties) == 0 {
		g.o.Properties = defaultProperties
	}
	if o.Fields == nil && o.Segments == nil {
		g.o.Segments = defaultSegments
	}
	if g.o.Now.IsZero() {
		g.o.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return g.cond(g.o.Depth, false)
}

type gen struct {
	r *rand.Rand
	o Options
}

func (g *gen) pick(n int) int { return g.r.IntN(n) }

// cond draws a condition nesting at most depth and/or/not.
func (g *gen) cond(depth int, where bool) *segment.Node {
	if depth > 0 && g.pick(2) == 0 {
		switch g.pick(3) {
		case 0:
			return &segment.Node{Op: segment.OpNot, Args: []*segment.Node{g.cond(depth-1, where)}}
		default:
			op := segment.OpAnd
			if g.pick(2) == 0 {
				op = segment.OpOr
			}
			n := &segment.Node{Op: op}
			for range 2 + g.pick(2) {
				n.Args = appendFlat(n.Args, op, g.cond(depth-1, where))
			}
			return n
		}
	}
	return g.test(depth, where)
}

// appendFlat appends c, or its args when it has op: the canonical tree
// has no and directly inside an and.
func appendFlat(args []*segment.Node, op segment.Op, c *segment.Node) []*segment.Node {
	if c.Op == op {
		return append(args, c.Args...)
	}
	return append(args, c)
}

var cmpOps = []segment.Op{segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe}

// test draws a test that is not and, or or not.
func (g *gen) test(depth int, where bool) *segment.Node {
	for {
		switch g.pick(12) {
		case 0, 1, 2, 3:
			op := cmpOps[g.pick(len(cmpOps))]
			ordered := op != segment.OpEq && op != segment.OpNe
			left, lt, hint := g.operand(depth, where, segment.TypeAny, ordered)
			right, _, _ := g.operandNear(depth, where, lt, ordered, hint)
			if g.pick(4) == 0 {
				left, right = right, left
			}
			return &segment.Node{Op: op, Left: left, Right: right}
		case 4:
			left, lt, hint := g.operand(depth, where, segment.TypeAny, false)
			op := segment.OpIn
			if g.pick(2) == 0 {
				op = segment.OpNotIn
			}
			n := &segment.Node{Op: op, Left: left}
			for range 1 + g.pick(3) {
				n.Values = append(n.Values, g.literal(lt, hint, false))
			}
			return n
		case 5:
			left, lt, hint := g.operand(depth, where, segment.TypeAny, true)
			t := lt
			if t == segment.TypeAny {
				t = g.hintType(hint, true)
			}
			lo, hi := g.literal(t, hint, true), g.literal(t, hint, true)
			if less(hi, lo) && g.pick(5) != 0 {
				lo, hi = hi, lo
			}
			return &segment.Node{Op: segment.OpBetween, Left: left, Values: []segment.Value{lo, hi}}
		case 6:
			left, lt, hint := g.stringy(where)
			t := segment.TypeString
			if lt == segment.TypeAny && g.pick(4) == 0 {
				t = segment.TypeAny
			}
			v := g.literal(t, hint, false)
			return &segment.Node{Op: segment.OpContains, Left: left, Right: &segment.Operand{Value: &v}}
		case 7:
			left, _, hint := g.stringy(where)
			v := g.literal(segment.TypeString, hint, false)
			if g.pick(2) == 0 {
				r := []rune(v.Str)
				v = segment.String(string(r[:g.pick(len(r)+1)]))
			}
			return &segment.Node{Op: segment.OpStartsWith, Left: left, Right: &segment.Operand{Value: &v}}
		case 8, 9:
			left, _, _ := g.operand(depth, where, segment.TypeAny, false)
			op := segment.OpIsSet
			if g.pick(2) == 0 {
				op = segment.OpIsNotSet
			}
			return &segment.Node{Op: op, Left: left}
		case 10:
			var traits []FieldSpec
			for _, f := range g.o.Fields {
				if f.Type == segment.TypeAny {
					traits = append(traits, f)
				}
			}
			if where || len(traits) == 0 {
				continue
			}
			days := 1 + g.pick(366)
			d := fmt.Sprintf("%dd", days)
			if days%7 == 0 && g.pick(2) == 0 {
				d = fmt.Sprintf("%dw", days/7)
			}
			f := traits[g.pick(len(traits))].Name
			return &segment.Node{Op: segment.OpWithinNext, Left: &segment.Operand{Field: f}, Within: segment.Duration(d)}
		case 11:
			if where || len(g.o.Segments) == 0 {
				continue
			}
			return &segment.Node{Op: segment.OpInSegment, Segment: g.o.Segments[g.pick(len(g.o.Segments))]}
		}
	}
}

// stringy draws the left side of contains or starts with: a trait, a
// string feature or property, or a string.
func (g *gen) stringy(where bool) (*segment.Operand, segment.Type, string) {
	for _, f := range g.shuffled(g.names(where)) {
		if f.Type == segment.TypeAny || f.Type == segment.TypeString || where {
			return &segment.Operand{Field: f.Name}, f.Type, f.Name
		}
	}
	v := g.literal(segment.TypeString, "", false)
	return &segment.Operand{Value: &v}, segment.TypeString, ""
}

// names are the fields, or inside a where the properties. A property is
// TypeAny to Check whatever its spec says.
func (g *gen) names(where bool) []FieldSpec {
	if !where {
		return g.o.Fields
	}
	props := make([]FieldSpec, len(g.o.Properties))
	for i, p := range g.o.Properties {
		props[i] = FieldSpec{p.Name, segment.TypeAny}
	}
	return props
}

func (g *gen) shuffled(fs []FieldSpec) []FieldSpec {
	fs = append([]FieldSpec(nil), fs...)
	g.r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	return fs
}

// operand draws the left side of a test: mostly a field or an aggregate,
// whose static type is compatible with want (any type for TypeAny) and,
// when noBool, not boolean. It returns its type and the name its
// literals should be drawn near ("" for none).
func (g *gen) operand(depth int, where bool, want segment.Type, noBool bool) (*segment.Operand, segment.Type, string) {
	return g.draw(depth, where, want, noBool, "", [4]int{5, 3, 1, 1})
}

// operandNear draws the right side of a comparison: mostly a literal,
// near the candidate values of hint.
func (g *gen) operandNear(depth int, where bool, want segment.Type, noBool bool, hint string) (*segment.Operand, segment.Type, string) {
	return g.draw(depth, where, want, noBool, hint, [4]int{2, 1, 1, 6})
}

// draw draws an operand, its kind by weights: field, aggregate, ago, value.
func (g *gen) draw(depth int, where bool, want segment.Type, noBool bool, hint string, weights [4]int) (*segment.Operand, segment.Type, string) {
	ok := func(t segment.Type) bool {
		return (want == segment.TypeAny || t == segment.TypeAny || t == want) && !(noBool && t == segment.TypeBool)
	}
	for {
		k, kind := g.pick(weights[0]+weights[1]+weights[2]+weights[3]), 0
		for k >= weights[kind] {
			k -= weights[kind]
			kind++
		}
		switch kind {
		case 0:
			for _, f := range g.shuffled(g.names(where)) {
				if ok(f.Type) {
					return &segment.Operand{Field: f.Name}, f.Type, f.Name
				}
			}
		case 1:
			if where {
				continue
			}
			a := g.aggregate(depth)
			t := segment.TypeNumber
			if a.Func == segment.AggFirst || a.Func == segment.AggLast {
				t = segment.TypeTime
			}
			if ok(t) {
				return &segment.Operand{Agg: a}, t, a.Property
			}
		case 2:
			if !where && ok(segment.TypeTime) {
				return &segment.Operand{Ago: g.duration()}, segment.TypeTime, ""
			}
		default:
			t := want
			if t == segment.TypeAny {
				t = g.hintType(hint, noBool)
			}
			v := g.literal(t, hint, noBool)
			return &segment.Operand{Value: &v}, v.Type, hint
		}
	}
}

var aggFuncs = []segment.AggFunc{segment.AggCount, segment.AggSum, segment.AggAvg, segment.AggMin,
	segment.AggMax, segment.AggDistinct, segment.AggFirst, segment.AggLast}

func (g *gen) aggregate(depth int) *segment.Aggregate {
	a := &segment.Aggregate{
		Func:  aggFuncs[g.pick(len(aggFuncs))],
		Event: g.o.Events[g.pick(len(g.o.Events))],
	}
	if a.Func.NeedsProperty() {
		a.Property = g.o.Properties[g.pick(len(g.o.Properties))].Name
	}
	if g.pick(3) == 0 {
		a.Where = g.cond(min(depth, 1), true)
	}
	if g.pick(2) == 0 {
		a.Within = g.duration()
	}
	return a
}

// duration draws a window or an age from 1h to 400d.
func (g *gen) duration() segment.Duration {
	switch g.pick(3) {
	case 0:
		return segment.Duration(fmt.Sprintf("%dh", 1+g.pick(400*24)))
	case 1:
		return segment.Duration(fmt.Sprintf("%dw", 1+g.pick(57)))
	}
	return segment.Duration(fmt.Sprintf("%dd", 1+g.pick(400)))
}

// hintType is the type of a literal to compare with hint: the spec's, or
// that of one of its candidate values, or any.
func (g *gen) hintType(hint string, noBool bool) segment.Type {
	for _, f := range append(append([]FieldSpec(nil), g.o.Fields...), g.o.Properties...) {
		if f.Name == hint && f.Type != segment.TypeAny && !(noBool && f.Type == segment.TypeBool) && g.pick(8) != 0 {
			return f.Type
		}
	}
	if vs := g.o.Values[hint]; len(vs) > 0 && g.pick(16) != 0 {
		if t := vs[g.pick(len(vs))].Type; !(noBool && t == segment.TypeBool) {
			return t
		}
	}
	types := []segment.Type{segment.TypeString, segment.TypeNumber, segment.TypeTime, segment.TypeBool}
	if noBool {
		types = types[:3]
	}
	return types[g.pick(len(types))]
}

// literal draws a value of type t (any type for TypeAny), usually one of
// hint's candidate values or next to one.
func (g *gen) literal(t segment.Type, hint string, noBool bool) segment.Value {
	if t == segment.TypeAny {
		t = g.hintType(hint, noBool)
	}
	var near []segment.Value
	for _, v := range g.o.Values[hint] {
		if v.Type == t {
			near = append(near, v)
		} else if v.Type == segment.TypeString && t == segment.TypeTime {
			// A trait holding dates as strings is compared with times.
			if tv, err := segment.Time(v.Str); err == nil {
				near = append(near, tv)
			}
		}
	}
	if len(near) > 0 && g.pick(8) != 0 {
		return g.nudge(near[g.pick(len(near))])
	}
	switch t {
	case segment.TypeString:
		return segment.String(awkwardStrings[g.pick(len(awkwardStrings))])
	case segment.TypeNumber:
		if g.pick(2) == 0 {
			return segment.Number(float64(g.pick(200) - 50))
		}
		return segment.Number(awkwardNumbers[g.pick(len(awkwardNumbers))])
	case segment.TypeBool:
		return segment.Bool(g.pick(2) == 0)
	}
	return g.time(g.o.Now.Add(time.Duration(g.r.Int64N(int64(800*24*time.Hour))) - 400*24*time.Hour))
}

// nudge returns v or a value next to it, to probe the edges of tests.
func (g *gen) nudge(v segment.Value) segment.Value {
	switch k := g.pick(8); {
	case k < 5:
		return v
	case v.Type == segment.TypeNumber:
		return segment.Number(v.Num + []float64{-1, 1, 0.5}[k-5])
	case v.Type == segment.TypeTime:
		t := time.UnixMilli(v.Time).UTC()
		return g.time(t.Add([]time.Duration{-time.Millisecond, time.Millisecond, 24 * time.Hour}[k-5]))
	case v.Type == segment.TypeString && v.Str != "":
		r := []rune(v.Str)
		i := g.pick(len(r))
		return segment.String(string(r[i:min(len(r), i+1+g.pick(len(r)))]))
	}
	return v
}

// time writes t as a date, or in RFC 3339 with or without milliseconds
// and in UTC or another offset.
func (g *gen) time(t time.Time) segment.Value {
	var text string
	switch g.pick(4) {
	case 0:
		text = t.UTC().Format(time.DateOnly)
	case 1:
		text = t.UTC().Format(time.RFC3339)
	case 2:
		text = t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	default:
		zone := time.FixedZone("", []int{3600, -5*3600 - 1800, 14 * 3600}[g.pick(3)])
		text = t.In(zone).Format("2006-01-02T15:04:05.999999999Z07:00")
	}
	v, err := segment.Time(text)
	if err != nil {
		panic(fmt.Sprintf("segmenttest: a time RandomNode wrote does not parse: %v", err))
	}
	return v
}

// less orders two values of the same type.
func less(a, b segment.Value) bool {
	switch a.Type {
	case segment.TypeNumber:
		return a.Num < b.Num
	case segment.TypeTime:
		return a.Time < b.Time
	}
	return strings.Compare(a.Str, b.Str) < 0
}
