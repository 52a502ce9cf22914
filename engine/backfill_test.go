package engine

import (
	"math"
	"testing"
)

// TestIDRanges checks that back-fill's ranges cover (-inf, upTo] once, in
// order, none narrower than asked (but the last), one per worker alone.
func TestIDRanges(t *testing.T) {
	for _, c := range []struct {
		upTo    int64
		workers int
		least   int64
		n       int
	}{
		{0, 2, 1, 1},
		{100, 1, 1, 1},
		{100, 2, 1, 8},
		{100, 2, 40, 2},
		{100, 2, 1000, 1},
		{21_139_776, 2, defaultBackfillMin, 8},
		{21_139_776, 4, defaultBackfillMin, 16},
	} {
		rs := idRanges(c.upTo, c.workers, c.least)
		if len(rs) != c.n {
			t.Errorf("idRanges(%d, %d, %d): %d ranges, want %d: %v", c.upTo, c.workers, c.least, len(rs), c.n, rs)
			continue
		}
		after := int64(math.MinInt64)
		for k, r := range rs {
			if r.after != after || r.upTo <= r.after || (k < len(rs)-1 && r.upTo-max(r.after, 0) < c.least) {
				t.Errorf("idRanges(%d, %d, %d): range %d is %v", c.upTo, c.workers, c.least, k, r)
			}
			after = r.upTo
		}
		if after != c.upTo {
			t.Errorf("idRanges(%d, %d, %d) ends at %d", c.upTo, c.workers, c.least, after)
		}
	}
}
