package engine

import (
	"math"
	"testing"

	"github.com/touchbase/touchbase/segment"
)

// TestSumValue: a feature's fingerprint is the same from the profile's
// value (sumValue, every event) as from the column's (sum, for a changed
// feature's old value). Were they to differ, every changed profile would
// write all its columns: right, but slow, so no other test would tell.
func TestSumValue(t *testing.T) {
	ix := NewIndex(segment.NewRegistry())
	values := []segment.Value{
		{Type: segment.TypeString, Str: "a@example.com"}, {Type: segment.TypeString},
		{Type: segment.TypeNumber, Num: 12.5}, {Type: segment.TypeNumber, Num: math.Copysign(0, -1)}, {Type: segment.TypeNumber, Num: math.NaN()},
		{Type: segment.TypeBool, Bool: true}, {Type: segment.TypeBool},
		{Type: segment.TypeTime, Time: 1_700_000_000_000}, {Type: segment.TypeTime},
	}
	seen := map[uint64]bool{}
	for f := range 3 {
		for _, v := range values {
			c := newColumn(1)
			c.set(0, literal(v))
			if got, want := ix.sumValue(f, v, true), ix.sum(f, c.get(0)); got != want {
				t.Errorf("feature %d, %+v: %x from the profile, %x from the column", f, v, got, want)
			}
			seen[ix.sumValue(f, v, true)] = true
		}
		c := newColumn(1)
		if got, want := ix.sumValue(f, segment.Value{}, false), ix.sum(f, c.get(0)); got != want {
			t.Errorf("feature %d unset: %x from the profile, %x from the column", f, got, want)
		}
		seen[ix.sumValue(f, segment.Value{}, false)] = true
	}
	if len(seen) != 3*(len(values)+1) {
		t.Errorf("%d distinct fingerprints of %d values", len(seen), 3*(len(values)+1))
	}
}
