package segmenttest

import (
	"slices"

	"github.com/touchbase/touchbase/segment"
)

// Shrink returns trees one step smaller or simpler than n, the largest
// steps first: n replaced by one of its conditions, an and or or without
// one of its conditions, an aggregate without its where or its window or
// turned into a count, an in list without a value, a literal made
// simpler ("" or one character, 0 or 1, a date without its time). Each
// step keeps the types, so the candidates of a valid tree are valid.
// The candidates are new trees; n is not changed.
func Shrink(n *segment.Node) []*segment.Node {
	var out []*segment.Node
	shrinkNode(n, func(c *segment.Node) { out = append(out, c) })
	return out
}

// Minimize shrinks n greedily while fails holds, and returns the smallest
// failing tree it finds: a counterexample a person can read.
func Minimize(n *segment.Node, fails func(*segment.Node) bool) *segment.Node {
	// Every step shrinks the tree or a literal, so this ends; the bound
	// only guards against a Shrink that stops doing so.
	for range 100000 {
		var next *segment.Node
		for _, c := range Shrink(n) {
			if fails(c) {
				next = c
				break
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func shrinkNode(n *segment.Node, emit func(*segment.Node)) {
	if n == nil {
		return
	}
	switch n.Op {
	case segment.OpAnd, segment.OpOr:
		for _, a := range n.Args {
			emit(cloneNode(a))
		}
		if len(n.Args) > 2 {
			for i := range n.Args {
				m := cloneNode(n)
				m.Args = slices.Delete(m.Args, i, i+1)
				emit(m)
			}
		}
		for i, a := range n.Args {
			shrinkNode(a, func(c *segment.Node) {
				m := cloneNode(n)
				// Keep the tree flat when c has the parent's op.
				if c.Op == n.Op {
					m.Args = slices.Concat(m.Args[:i], c.Args, m.Args[i+1:])
				} else {
					m.Args[i] = c
				}
				emit(m)
			})
		}
		return
	case segment.OpNot:
		emit(cloneNode(n.Args[0]))
		shrinkNode(n.Args[0], func(c *segment.Node) {
			emit(&segment.Node{Op: segment.OpNot, Args: []*segment.Node{c}})
		})
		return
	}
	shrinkOperand(n.Left, func(o *segment.Operand) {
		m := cloneNode(n)
		m.Left = o
		emit(m)
	})
	shrinkOperand(n.Right, func(o *segment.Operand) {
		m := cloneNode(n)
		m.Right = o
		emit(m)
	})
	if (n.Op == segment.OpIn || n.Op == segment.OpNotIn) && len(n.Values) > 1 {
		for i := range n.Values {
			m := cloneNode(n)
			m.Values = slices.Delete(m.Values, i, i+1)
			emit(m)
		}
	}
	for i, v := range n.Values {
		for _, s := range simpler(v) {
			m := cloneNode(n)
			m.Values[i] = s
			emit(m)
		}
	}
	if n.Op == segment.OpWithinNext && n.Within != "1d" {
		m := cloneNode(n)
		m.Within = "1d"
		emit(m)
	}
}

func shrinkOperand(o *segment.Operand, emit func(*segment.Operand)) {
	switch {
	case o == nil:
	case o.Agg != nil:
		a := o.Agg
		with := func(f func(*segment.Aggregate)) {
			m := cloneOperand(o)
			f(m.Agg)
			emit(m)
		}
		if a.Where != nil {
			with(func(m *segment.Aggregate) { m.Where = nil })
			shrinkNode(a.Where, func(c *segment.Node) {
				with(func(m *segment.Aggregate) { m.Where = c })
			})
		}
		if a.Within != "" {
			with(func(m *segment.Aggregate) { m.Within = "" })
		}
		if a.Func.NeedsProperty() {
			// Every function with a property is a number, as count is.
			with(func(m *segment.Aggregate) { m.Func, m.Property = segment.AggCount, "" })
		}
	case o.Value != nil:
		for _, s := range simpler(*o.Value) {
			emit(&segment.Operand{Value: &s})
		}
	case o.Ago != "" && o.Ago != "1d":
		emit(&segment.Operand{Ago: "1d"})
	}
}

// simpler returns values of v's type that are simpler than v, in an order
// that is well founded: "" before one character before more, 0 before 1
// before other whole numbers before fractions, dates before times.
func simpler(v segment.Value) []segment.Value {
	var out []segment.Value
	switch v.Type {
	case segment.TypeString:
		r := []rune(v.Str)
		if len(r) > 0 {
			out = append(out, segment.String(""))
		}
		if len(r) > 1 {
			out = append(out, segment.String(string(r[:1])))
		}
	case segment.TypeNumber:
		if v.Num != 0 {
			out = append(out, segment.Number(0))
		}
		if v.Num != 0 && v.Num != 1 {
			out = append(out, segment.Number(1))
		}
		if t := float64(int64(v.Num)); t != v.Num && t != 0 && t != 1 && v.Num > -1e18 && v.Num < 1e18 {
			out = append(out, segment.Number(t))
		}
	case segment.TypeTime:
		if len(v.Str) > len("2006-01-02") {
			if d, err := segment.Time(v.Str[:len("2006-01-02")]); err == nil {
				out = append(out, d)
			}
		}
	}
	return out
}

func cloneNode(n *segment.Node) *segment.Node {
	if n == nil {
		return nil
	}
	m := *n
	if n.Args != nil {
		m.Args = make([]*segment.Node, len(n.Args))
		for i, a := range n.Args {
			m.Args[i] = cloneNode(a)
		}
	}
	m.Left = cloneOperand(n.Left)
	m.Right = cloneOperand(n.Right)
	m.Values = slices.Clone(n.Values)
	return &m
}

func cloneOperand(o *segment.Operand) *segment.Operand {
	if o == nil {
		return nil
	}
	m := *o
	if o.Value != nil {
		v := *o.Value
		m.Value = &v
	}
	if o.Agg != nil {
		a := *o.Agg
		a.Where = cloneNode(o.Agg.Where)
		m.Agg = &a
	}
	return &m
}
