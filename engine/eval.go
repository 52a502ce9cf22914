package engine

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase/segment"
)

// Evaluate returns the customers for whom n holds at the as-of instant,
// as a bitmap of dense indexes (Members turns it into ids, Count counts
// it). refs returns the tree of a segment that n names with "in segment";
// it may be nil when n names none. Trait columns n needs are built on the
// way; aggregates must have been back-filled by Prepare.
func (ix *Index) Evaluate(n *segment.Node, asOf time.Time, refs func(name string) (*segment.Node, error)) (*roaring.Bitmap, error) {
	if err := ix.ensureTraits(n, refs); err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.evaluate(n, asOf, refs, ix.live)
}

// evaluate is Evaluate for the customers of u, under the lock. A large
// universe is cut in parts evaluated on all cores: every test is a
// customer's own (not is a complement within the universe), so the
// members of u are the union of each part's.
func (ix *Index) evaluate(n *segment.Node, asOf time.Time, refs func(string) (*segment.Node, error), u *roaring.Bitmap) (*roaring.Bitmap, error) {
	if u.GetCardinality() == 1 { // an event's customer: see one
		i := u.Minimum()
		e := &evaluation{ix: ix, asOf: asOf.UnixMilli(), asOfTime: asOf, refs: refs}
		v, err := e.one(n, i, true)
		if err != nil || !v {
			return roaring.New(), err
		}
		return roaring.BitmapOf(i), nil
	}
	parts := splitUniverse(u, ix.splitMin, runtime.GOMAXPROCS(0))
	if len(parts) == 1 {
		e := &evaluation{ix: ix, asOf: asOf.UnixMilli(), asOfTime: asOf, refs: refs}
		return e.node(n, u)
	}
	rs := make([]*roaring.Bitmap, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for k, p := range parts {
		wg.Go(func() {
			e := &evaluation{ix: ix, asOf: asOf.UnixMilli(), asOfTime: asOf, refs: refs}
			rs[k], errs[k] = e.node(n, p)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return roaring.FastOr(rs...), nil
}

// defaultSplitMin is the universe size from which an evaluation is cut in
// parts: below it, starting goroutines costs more than it saves.
const defaultSplitMin = 1 << 16

// splitUniverse cuts u into up to n parts of consecutive dense indexes
// and about equal sizes, each at least least customers (u itself when it
// is too small to cut).
func splitUniverse(u *roaring.Bitmap, least, n int) []*roaring.Bitmap {
	card := u.GetCardinality()
	if least <= 0 || n < 2 || card < uint64(2*least) {
		return []*roaring.Bitmap{u}
	}
	n = int(min(uint64(n), card/uint64(least)))
	parts := make([]*roaring.Bitmap, 0, n)
	lo := uint64(0)
	for k := 1; k <= n; k++ {
		hi := uint64(u.Maximum()) + 1
		if k < n {
			x, err := u.Select(uint32(card * uint64(k) / uint64(n)))
			if err != nil {
				return []*roaring.Bitmap{u}
			}
			hi = uint64(x)
		}
		r := roaring.New()
		r.AddRange(lo, hi)
		r.And(u)
		parts = append(parts, r)
		lo = hi
	}
	return parts
}

// evaluation is one Evaluate call.
type evaluation struct {
	ix       *Index
	asOf     int64
	asOfTime time.Time
	refs     func(string) (*segment.Node, error)
	stack    []string // the segments being expanded, for cycles
}

// node returns the customers of u for whom n holds. Every result is a
// subset of u, so "not" is a complement within u: two-valued logic over
// the customers considered.
func (e *evaluation) node(n *segment.Node, u *roaring.Bitmap) (*roaring.Bitmap, error) {
	if n == nil {
		return nil, fmt.Errorf("missing condition")
	}
	switch n.Op {
	case segment.OpAnd:
		if len(n.Args) < 2 {
			return nil, fmt.Errorf("and needs two or more conditions")
		}
		r := u
		// Each argument is evaluated only where the ones before it held.
		for _, a := range n.Args {
			var err error
			if r, err = e.node(a, r); err != nil {
				return nil, err
			}
		}
		return r, nil
	case segment.OpOr:
		if len(n.Args) < 2 {
			return nil, fmt.Errorf("or needs two or more conditions")
		}
		out, rest := roaring.New(), u.Clone()
		for _, a := range n.Args {
			if rest.IsEmpty() {
				break
			}
			r, err := e.node(a, rest)
			if err != nil {
				return nil, err
			}
			out.Or(r)
			rest.AndNot(r)
		}
		return out, nil
	case segment.OpNot:
		if len(n.Args) != 1 {
			return nil, fmt.Errorf("not needs one condition")
		}
		r, err := e.node(n.Args[0], u)
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(u, r), nil
	case segment.OpInSegment:
		if list, ok := e.ix.lists[n.Segment]; ok {
			return roaring.And(list, u), nil
		}
		sub, err := e.expand(n.Segment)
		if err != nil {
			return nil, err
		}
		e.stack = append(e.stack, n.Segment)
		r, err := e.node(sub, u)
		e.stack = e.stack[:len(e.stack)-1]
		return r, err
	}
	return e.leaf(n, u)
}

// expand returns the tree of segment name, or an error for a cycle.
func (e *evaluation) expand(name string) (*segment.Node, error) {
	return expandRef(e.refs, e.stack, name)
}

func expandRef(refs func(string) (*segment.Node, error), stack []string, name string) (*segment.Node, error) {
	if slices.Contains(stack, name) {
		return nil, fmt.Errorf("segment %q refers to itself (through %v)", name, stack)
	}
	if refs == nil {
		return nil, fmt.Errorf("segment %q: no segments to refer to", name)
	}
	sub, err := refs(name)
	if err != nil {
		return nil, fmt.Errorf("in segment %q: %w", name, err)
	}
	return sub, nil
}

// operand is an operand evaluated for the customers: a column, or one
// value for all (a literal, an instant).
type operand struct {
	col *column
	lit scalar
}

func (e *evaluation) operand(o *segment.Operand, u *roaring.Bitmap) (operand, error) {
	if err := oneOf(o); err != nil {
		return operand{}, err
	}
	switch {
	case o.Value != nil:
		return operand{lit: literal(*o.Value)}, nil
	case o.Ago != "":
		d, err := o.Ago.Std()
		if err != nil {
			return operand{}, err
		}
		return operand{lit: scalar{k: kTime, t: e.asOf - d.Milliseconds()}}, nil
	case o.Agg != nil:
		c, err := e.ix.aggColumn(o.Agg, e.asOf, u)
		return operand{col: c}, err
	}
	c, err := e.ix.fieldColumn(o.Field)
	return operand{col: c}, err
}

// oneOf checks that an operand has exactly one of its forms.
func oneOf(o *segment.Operand) error {
	if o == nil {
		return fmt.Errorf("missing operand")
	}
	set := 0
	for _, ok := range [...]bool{o.Field != "", o.Agg != nil, o.Value != nil, o.Ago != ""} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("an operand has exactly one of field, agg, value, ago")
	}
	return nil
}

// fieldColumn returns the column of a feature or a trait.
func (ix *Index) fieldColumn(field string) (*column, error) {
	key := ix.traitKey(field)
	if key == "" {
		c, ok := ix.byFeature[field]
		if !ok {
			return nil, fmt.Errorf("feature %q was registered after the index was loaded", field)
		}
		return c, nil
	}
	c, ok := ix.traitCols[key]
	if !ok {
		return nil, fmt.Errorf("trait %q has no column", key) // ensureTraits builds them
	}
	return c, nil
}

// aggColumn computes an aggregate at as-of for the customers of u.
func (ix *Index) aggColumn(a *segment.Aggregate, asOf int64, u *roaring.Bitmap) (*column, error) {
	s, from, err := ix.aggSeries(a, asOf)
	if err != nil {
		return nil, err
	}
	return s.column(a.Func, from, asOf, u), nil
}

// aggSeries returns the series of aggregate a and the start of its window
// at as-of (math.MinInt64 for all time).
func (ix *Index) aggSeries(a *segment.Aggregate, asOf int64) (*series, int64, error) {
	k, err := ix.keys.of(a)
	if err != nil {
		return nil, 0, err
	}
	s, ok := ix.series[k]
	if !ok {
		return nil, 0, fmt.Errorf("%s(%q) is not prepared: call Prepare first", a.Func, a.Event)
	}
	from := int64(math.MinInt64)
	if a.Within != "" {
		d, err := a.Within.Std()
		if err != nil {
			return nil, 0, err
		}
		from = asOf - d.Milliseconds()
	}
	return s, from, nil
}

// leaf evaluates a test.
func (e *evaluation) leaf(n *segment.Node, u *roaring.Bitmap) (*roaring.Bitmap, error) {
	if a, lit, op, ok, err := e.aggLiteral(n); err != nil {
		return nil, err
	} else if ok {
		if r, ok := rangeOf(op, lit, lit); ok {
			return e.ix.aggTest(a, e.asOf, r, u, len(e.ix.ids))
		}
	}
	left, err := e.operand(n.Left, u)
	if err != nil {
		return nil, err
	}
	var test func(scalar) bool
	switch op := n.Op; op {
	case segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe:
		right, err := e.operand(n.Right, u)
		if err != nil {
			return nil, err
		}
		if left.col == nil && right.col != nil {
			left, right, op = right, left, flip(op)
		}
		if right.col != nil {
			l, r := left.col, right.col
			return rows(u, len(e.ix.ids), func(i uint32, k int) bool { return compare(op, l.get(l.at(i, k)), r.get(r.at(i, k))) }), nil
		}
		lit := right.lit
		if r, ok := rangeOf(op, lit, lit); ok && left.col != nil {
			return scanRange(u, len(e.ix.ids), left.col, r, func(s scalar) bool { return compare(op, s, lit) }), nil
		}
		test = func(s scalar) bool { return compare(op, s, lit) }
	case segment.OpIn, segment.OpNotIn, segment.OpBetween:
		lits, err := literals(n)
		if err != nil {
			return nil, err
		}
		switch op {
		case segment.OpIn:
			test = func(s scalar) bool { return inList(s, lits) }
		case segment.OpNotIn:
			test = func(s scalar) bool { return notInList(s, lits) }
		default:
			test = func(s scalar) bool { return between(s, lits[0], lits[1]) }
			if r, ok := rangeOf(op, lits[0], lits[1]); ok && left.col != nil {
				return scanRange(u, len(e.ix.ids), left.col, r, test), nil
			}
		}
	case segment.OpContains, segment.OpStartsWith:
		if n.Right == nil || n.Right.Value == nil {
			return nil, fmt.Errorf("%s needs a literal", op)
		}
		lit := literal(*n.Right.Value)
		if op == segment.OpContains {
			test = func(s scalar) bool { return contains(s, lit) }
		} else {
			test = func(s scalar) bool { return startsWith(s, lit) }
		}
	case segment.OpIsSet, segment.OpIsNotSet:
		want := op == segment.OpIsSet
		if left.col == nil {
			return constant(u, want), nil
		}
		c := left.col
		return rows(u, len(e.ix.ids), func(i uint32, k int) bool { return (c.kinds[c.at(i, k)] != kUnset) == want }), nil
	case segment.OpWithinNext:
		return e.withinNext(n, left, u)
	default:
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	if left.col == nil {
		return constant(u, test(left.lit)), nil
	}
	return scan(u, len(e.ix.ids), left.col, test), nil
}

// constant is all of u or none of it.
func constant(u *roaring.Bitmap, all bool) *roaring.Bitmap {
	if all {
		return u.Clone()
	}
	return roaring.New()
}

// scan returns the customers of u whose value in c passes test. A value
// that is not set passes no test. A string's or a boolean's result is
// computed once per distinct value, unless u has fewer customers than the
// column has strings (an event's evaluation: one customer).
func scan(u *roaring.Bitmap, n int, c *column, test func(scalar) bool) *roaring.Bitmap {
	var memo []uint8 // by dictionary id: 0 not yet tested, 1 passes, 2 fails
	if c.dict != nil && memoWorthIt(u, len(c.dict.strs)) {
		memo = make([]uint8, len(c.dict.strs))
	}
	if u.GetCardinality() <= smallUniverse {
		return rows(u, n, func(i uint32, k int) bool {
			return scanOne(c, c.at(i, k), memo, nil, test)
		})
	}
	// The loop is written out, rather than rows with a closure, as it
	// runs for a million customers.
	var bools [2]uint8
	b := newBits(u, n)
	it := u.ManyIterator()
	buf := batch(u)
	k := 0
	for m := it.NextMany(buf); m > 0; m = it.NextMany(buf) {
		for _, i := range buf[:m] {
			p := int(i)
			if c.ranked {
				p = k
			}
			k++
			if c.kinds[p] != kUnset && scanOne(c, p, memo, &bools, test) {
				b.add(i)
			}
		}
	}
	return b.bitmap()
}

// scanOne tests the value at p, through memo for strings and bools for
// booleans when they are not nil.
func scanOne(c *column, p int, memo []uint8, bools *[2]uint8, test func(scalar) bool) bool {
	switch c.kinds[p] {
	case kUnset:
		return false
	case kString:
		id := c.vals[p]
		if memo == nil {
			return test(scalar{k: kString, s: c.dict.strs[id]})
		}
		if memo[id] == 0 {
			memo[id] = 2
			if test(scalar{k: kString, s: c.dict.strs[id]}) {
				memo[id] = 1
			}
		}
		return memo[id] == 1
	case kBool:
		v := c.vals[p] & 1
		if bools == nil {
			return test(scalar{k: kBool, b: v == 1})
		}
		if bools[v] == 0 {
			bools[v] = 2
			if test(scalar{k: kBool, b: v == 1}) {
				bools[v] = 1
			}
		}
		return bools[v] == 1
	}
	return test(c.get(p))
}

// smallUniverse is the size up to which a universe is walked without a
// ManyIterator, whose set-up allocates: an event's evaluations walk one
// customer, many times each.
const smallUniverse = 64

// batch returns a buffer for walking u with a ManyIterator. The buffer
// escapes to the heap (NextMany is an interface method), so it is sized to
// u: an event's evaluations walk one customer, many times each.
func batch(u *roaring.Bitmap) []uint32 {
	return make([]uint32, min(u.GetCardinality(), 512))
}

// memoWorthIt says whether a result per distinct value (of m) is worth
// its table when testing the customers of u.
func memoWorthIt(u *roaring.Bitmap, m int) bool {
	return u.GetCardinality() >= uint64(m/4)
}

// rows returns the customers of u for whom f holds; f has each customer's
// dense index i and rank k in u.
func rows(u *roaring.Bitmap, n int, f func(i uint32, k int) bool) *roaring.Bitmap {
	b := newBits(u, n)
	forEach(u, func(i uint32, k int) {
		if f(i, k) {
			b.add(i)
		}
	})
	return b.bitmap()
}

// forEach calls fn with each member of u, in ascending order, and its
// rank (0 for the first).
func forEach(u *roaring.Bitmap, fn func(i uint32, k int)) {
	k := 0
	if u.GetCardinality() <= smallUniverse {
		u.Iterate(func(i uint32) bool {
			fn(i, k)
			k++
			return true
		})
		return
	}
	it := u.ManyIterator()
	buf := batch(u)
	for m := it.NextMany(buf); m > 0; m = it.NextMany(buf) {
		for _, i := range buf[:m] {
			fn(i, k)
			k++
		}
	}
}

// bits collects a result: in dense words when it may be large (turned
// into a bitmap without a lookup per member), else in a list.
type bits struct {
	words []uint64
	list  []uint32
}

func newBits(u *roaring.Bitmap, n int) *bits {
	if u.GetCardinality() > uint64(n/64) {
		return &bits{words: make([]uint64, (n+63)/64)}
	}
	return &bits{}
}

func (b *bits) add(i uint32) {
	if b.words != nil {
		b.words[i/64] |= 1 << (i % 64)
		return
	}
	b.list = append(b.list, i)
}

func (b *bits) bitmap() *roaring.Bitmap {
	if b.words != nil {
		return roaring.FromDense(b.words, false)
	}
	bm := roaring.New()
	bm.AddMany(b.list)
	return bm
}
