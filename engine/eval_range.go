package engine

import (
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase/segment"
)

// Fast paths: the generic scan builds a scalar and calls the reference
// test for every customer, which costs tens of nanoseconds. The tests most
// segments are made of, a number or a time against literals, are ranges:
// their loop compares in place.

// numRange is lo <(=) x <(=) hi over values of one kind (kNumber, or kTime
// with times as float64, exact below 2^53 ms).
type numRange struct {
	k              kind
	lo, hi         float64
	loOpen, hiOpen bool
}

// rangeOf returns the range a comparison with lit (lo = hi = lit) or a
// between lo and hi is, when both are numbers or both times.
func rangeOf(op segment.Op, lo, hi scalar) (numRange, bool) {
	if lo.k != hi.k || (lo.k != kNumber && lo.k != kTime) {
		return numRange{}, false
	}
	r := numRange{k: lo.k, lo: math.Inf(-1), hi: math.Inf(1)}
	a, b := lo.n, hi.n
	if lo.k == kTime {
		a, b = float64(lo.t), float64(hi.t)
	}
	switch op {
	case segment.OpEq:
		r.lo, r.hi = a, a
	case segment.OpLt:
		r.hi, r.hiOpen = a, true
	case segment.OpLe:
		r.hi = a
	case segment.OpGt:
		r.lo, r.loOpen = a, true
	case segment.OpGe:
		r.lo = a
	case segment.OpBetween:
		r.lo, r.hi = a, b
	default:
		return numRange{}, false
	}
	return r, true
}

func (r *numRange) holds(x float64) bool {
	if x < r.lo || x > r.hi {
		return false
	}
	return !(r.loOpen && x == r.lo) && !(r.hiOpen && x == r.hi)
}

// scanRange is scan for a range test; test is the same test for the
// values of other kinds (trait strings compared as times).
func scanRange(u *roaring.Bitmap, n int, c *column, r numRange, test func(scalar) bool) *roaring.Bitmap {
	kinds, vals := c.kinds, c.vals
	b := newBits(u, n)
	var strs *roaring.Bitmap
	if u.GetCardinality() <= smallUniverse {
		forEach(u, func(i uint32, k int) {
			switch p := c.at(i, k); kinds[p] {
			case r.k:
				x := math.Float64frombits(vals[p])
				if r.k == kTime {
					x = float64(int64(vals[p]))
				}
				if r.holds(x) {
					b.add(i)
				}
			case kString:
				if r.k == kTime {
					if strs == nil {
						strs = roaring.New()
					}
					strs.Add(i)
				}
			}
		})
		return finishRange(b, strs, n, c, test)
	}
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
			switch kinds[p] {
			case r.k:
				x := math.Float64frombits(vals[p])
				if r.k == kTime {
					x = float64(int64(vals[p]))
				}
				if r.holds(x) {
					b.add(i)
				}
			case kString:
				if r.k == kTime {
					if strs == nil {
						strs = roaring.New()
					}
					strs.Add(i)
				}
			}
		}
	}
	return finishRange(b, strs, n, c, test)
}

// finishRange adds to b's customers those of strs (trait strings compared
// as times) that pass test.
func finishRange(b *bits, strs *roaring.Bitmap, n int, c *column, test func(scalar) bool) *roaring.Bitmap {
	out := b.bitmap()
	if strs != nil { // strings are in trait columns, never ranked ones
		out.Or(scan(strs, n, c, test))
	}
	return out
}
