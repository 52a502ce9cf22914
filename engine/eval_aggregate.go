package engine

import (
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase/segment"
)

// An aggregate compared with a literal (count(...) >= 2, sum(...) > 500,
// last(...) > 30d ago) is the commonest test of all. Computed as a column
// first, it costs every customer of the universe two binary searches and a
// slot, and the comparison a second pass. Fused, it visits only the
// customers who have points in the series (most customers have none of
// most events), and settles everyone else at once with the aggregate's
// value over no events: 0 for count, distinct and sum; not set, so false,
// for the others.

// aggLiteral returns the aggregate, the literal and the operator of a
// comparison between an aggregate and a literal or an instant (the
// aggregate on the left, flipping the operator if need be); ok is false
// for any other test.
func (e *evaluation) aggLiteral(n *segment.Node) (a *segment.Aggregate, lit scalar, op segment.Op, ok bool, err error) {
	l, r, op := n.Left, n.Right, n.Op
	switch op {
	case segment.OpEq, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe:
	default:
		return nil, scalar{}, op, false, nil
	}
	if l == nil || r == nil {
		return nil, scalar{}, op, false, nil
	}
	if l.Agg == nil {
		l, r, op = r, l, flip(op)
	}
	if l.Agg == nil || oneOf(l) != nil || (r.Value == nil && r.Ago == "") {
		return nil, scalar{}, op, false, nil
	}
	o, err := e.operand(r, nil)
	if err != nil {
		return nil, scalar{}, op, false, err
	}
	return l.Agg, o.lit, op, true, nil
}

// aggTest returns the customers of u whose aggregate a at as-of lies in r.
func (ix *Index) aggTest(a *segment.Aggregate, asOf int64, r numRange, u *roaring.Bitmap, n int) (*roaring.Bitmap, error) {
	s, from, err := ix.aggSeries(a, asOf)
	if err != nil {
		return nil, err
	}
	if r.k != aggKind(a.Func) {
		return roaring.New(), nil // a test between two types is false
	}
	none := false // whether the value over no events passes
	switch a.Func {
	case segment.AggCount, segment.AggDistinct, segment.AggSum:
		none = r.holds(0)
	}
	cand := u
	if !s.hasAll(u) {
		cand = roaring.And(u, s.has)
	}
	ag := aggregator{s: s, f: a.Func, from: from, asOf: asOf}
	b := newBits(cand, n)
	test := func(i uint32) {
		if x, ok := ag.value(i); ok && r.holds(x) {
			b.add(i)
		}
	}
	if cand.GetCardinality() <= smallUniverse {
		cand.Iterate(func(i uint32) bool {
			test(i)
			return true
		})
	} else {
		it := cand.ManyIterator()
		buf := batch(cand)
		for m := it.NextMany(buf); m > 0; m = it.NextMany(buf) {
			for _, i := range buf[:m] {
				test(i)
			}
		}
	}
	out := b.bitmap()
	if none && cand != u {
		out.Or(roaring.AndNot(u, cand))
	}
	return out, nil
}

// hasAll says whether every customer of u has points: a universe of one
// customer (an event's) is tested without a bitmap operation.
func (s *series) hasAll(u *roaring.Bitmap) bool {
	if u.GetCardinality() != 1 {
		return false
	}
	return s.has.Contains(u.Minimum())
}

// aggregator computes one aggregate over the window [from, asOf] of a
// series, customer by customer.
type aggregator struct {
	s       *series
	f       segment.AggFunc
	from    int64 // math.MinInt64: all time
	asOf    int64
	scratch []float64
}

// value returns customer i's aggregate as a number (a time for first and
// last, in milliseconds), ok false when it is not set. It is
// series.column's computation for one customer.
func (ag *aggregator) value(i uint32) (float64, bool) {
	ts, val := ag.s.points(i)
	hi := len(ts)
	if hi > 0 && ts[hi-1] > ag.asOf {
		hi = firstAfter(ts, ag.asOf)
	}
	lo := 0
	if ag.from != math.MinInt64 && hi > 0 && ts[0] < ag.from { // from-1 would wrap
		lo = firstAfter(ts[:hi], ag.from-1)
	}
	cnt := hi - lo
	switch ag.f {
	case segment.AggCount:
		return float64(cnt), true
	case segment.AggSum, segment.AggAvg:
		sum := 0.0
		for _, v := range val[lo:hi] {
			sum += v
		}
		if ag.f == segment.AggAvg {
			if cnt == 0 {
				return 0, false
			}
			sum /= float64(cnt)
		}
		return sum, true
	case segment.AggMin, segment.AggMax:
		if cnt == 0 {
			return 0, false
		}
		m := val[lo]
		for _, v := range val[lo+1 : hi] {
			if (ag.f == segment.AggMin && v < m) || (ag.f == segment.AggMax && v > m) {
				m = v
			}
		}
		return m, true
	case segment.AggDistinct:
		if cnt == 0 {
			return 0, true
		}
		ag.scratch = append(ag.scratch[:0], val[lo:hi]...)
		slices.Sort(ag.scratch)
		d := 1
		for k := 1; k < len(ag.scratch); k++ {
			if ag.scratch[k] != ag.scratch[k-1] {
				d++
			}
		}
		return float64(d), true
	case segment.AggFirst, segment.AggLast:
		if cnt == 0 {
			return 0, false
		}
		t := ts[lo]
		if ag.f == segment.AggLast {
			t = ts[hi-1]
		}
		return float64(t), true
	}
	return 0, false
}
