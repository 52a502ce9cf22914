package engine

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase/segment"
)

// An event re-evaluates its customer in every tracked segment: a universe
// of one. Bitmaps for each node would cost most of that work in
// allocations (and garbage collection the tail of the latency), so one
// customer is evaluated to a boolean, with the same tests on the same
// values. The result, and the errors, are node's for the universe {i}.

// one returns whether n holds for customer i. live false stands for an
// empty universe (what node is given after an "and" has failed): nothing
// holds then, but the errors node would report are still reported.
func (e *evaluation) one(n *segment.Node, i uint32, live bool) (bool, error) {
	if n == nil {
		return false, fmt.Errorf("missing condition")
	}
	switch n.Op {
	case segment.OpAnd:
		if len(n.Args) < 2 {
			return false, fmt.Errorf("and needs two or more conditions")
		}
		for _, a := range n.Args {
			v, err := e.one(a, i, live)
			if err != nil {
				return false, err
			}
			live = v
		}
		return live, nil
	case segment.OpOr:
		if len(n.Args) < 2 {
			return false, fmt.Errorf("or needs two or more conditions")
		}
		for _, a := range n.Args {
			if !live {
				break // node stops once no customer is left to test
			}
			v, err := e.one(a, i, true)
			if err != nil {
				return false, err
			}
			if v {
				return true, nil
			}
		}
		return false, nil
	case segment.OpNot:
		if len(n.Args) != 1 {
			return false, fmt.Errorf("not needs one condition")
		}
		v, err := e.one(n.Args[0], i, live)
		return live && !v, err
	case segment.OpInSegment:
		if list, ok := e.ix.lists[n.Segment]; ok {
			return live && list.Contains(i), nil
		}
		sub, err := e.expand(n.Segment)
		if err != nil {
			return false, err
		}
		e.stack = append(e.stack, n.Segment)
		v, err := e.one(sub, i, live)
		e.stack = e.stack[:len(e.stack)-1]
		return v, err
	}
	v, err := e.leafOne(n, i)
	return live && v, err
}

// leafOne is leaf for customer i alone.
func (e *evaluation) leafOne(n *segment.Node, i uint32) (bool, error) {
	if a, lit, op, ok, err := e.aggLiteral(n); err != nil {
		return false, err
	} else if ok {
		if r, ok := rangeOf(op, lit, lit); ok {
			s, from, err := e.ix.aggSeries(a, e.asOf)
			if err != nil {
				return false, err
			}
			if r.k != aggKind(a.Func) {
				return false, nil
			}
			ag := aggregator{s: s, f: a.Func, from: from, asOf: e.asOf}
			x, ok := ag.value(i)
			return ok && r.holds(x), nil
		}
	}
	left, err := e.scalarOf(n.Left, i)
	if err != nil {
		return false, err
	}
	switch op := n.Op; op {
	case segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe:
		right, err := e.scalarOf(n.Right, i)
		if err != nil {
			return false, err
		}
		// compare(op, a, b) is compare(flip(op), b, a): no need to put a
		// column on the left as leaf does.
		return compare(op, left, right), nil
	case segment.OpIn, segment.OpNotIn, segment.OpBetween:
		var buf [8]scalar
		lits, err := appendLiterals(buf[:0], n)
		if err != nil {
			return false, err
		}
		switch op {
		case segment.OpIn:
			return inList(left, lits), nil
		case segment.OpNotIn:
			return notInList(left, lits), nil
		}
		return between(left, lits[0], lits[1]), nil
	case segment.OpContains, segment.OpStartsWith:
		if n.Right == nil || n.Right.Value == nil {
			return false, fmt.Errorf("%s needs a literal", op)
		}
		lit := literal(*n.Right.Value)
		if op == segment.OpContains {
			return contains(left, lit), nil
		}
		return startsWith(left, lit), nil
	case segment.OpIsSet, segment.OpIsNotSet:
		want := op == segment.OpIsSet
		if n.Left.Value != nil || n.Left.Ago != "" {
			return want, nil // a literal is a constant: leaf's constant(u, want)
		}
		return (left.k != kUnset) == want, nil
	case segment.OpWithinNext:
		var u *roaring.Bitmap // a field's column is by dense index: no universe
		if n.Left.Agg != nil {
			u = roaring.BitmapOf(i) // an aggregate's is ranked by its universe
		}
		o, err := e.operand(n.Left, u)
		if err != nil {
			return false, err
		}
		w, err := e.withinNextTest(n, o, nil)
		if err != nil {
			return false, err
		}
		return w.test(i, 0), nil
	}
	return false, fmt.Errorf("unknown operation %q", n.Op)
}

// scalarOf returns customer i's value of an operand.
func (e *evaluation) scalarOf(o *segment.Operand, i uint32) (scalar, error) {
	if err := oneOf(o); err != nil {
		return scalar{}, err
	}
	if o.Agg == nil {
		v, err := e.operand(o, nil)
		if err != nil || v.col == nil {
			return v.lit, err
		}
		return v.col.get(int(i)), nil
	}
	s, from, err := e.ix.aggSeries(o.Agg, e.asOf)
	if err != nil {
		return scalar{}, err
	}
	ag := aggregator{s: s, f: o.Agg.Func, from: from, asOf: e.asOf}
	x, ok := ag.value(i)
	switch {
	case !ok:
		return scalar{}, nil
	case aggKind(o.Agg.Func) == kTime:
		return scalar{k: kTime, t: int64(x)}, nil
	}
	return scalar{k: kNumber, n: x}, nil
}

// aggKind is the kind of an aggregate's values: times for first and last,
// numbers for the others.
func aggKind(f segment.AggFunc) kind {
	if f == segment.AggFirst || f == segment.AggLast {
		return kTime
	}
	return kNumber
}
