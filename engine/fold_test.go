package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// foldNow folds s's tail into its bulk here and now.
func foldNow(s *series) {
	s.off, s.ts, s.val = fold(s.off, s.ts, s.val, s.tail, s.key.mode != modeEvents)
	s.tail = map[uint32]*points{}
}

// bigSeries is a series of n customers with about per points each, in
// the bulk (by back-fill's build), values kept, and an empty tail.
func bigSeries(n, per int, seed uint64) *series {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &series{key: seriesKey{mode: modeNumbers}}
	var es []entry
	for i := range n {
		k := r.IntN(2*per + 1)
		ts := int64(r.IntN(1000))
		for range k {
			ts += int64(1 + r.IntN(1000))
			es = append(es, entry{uint32(i), ts, float64(r.IntN(100))})
		}
	}
	s.build([][]entry{es}, n)
	return s
}

// TestFold: a fold keeps every customer's points and values.
func TestFold(t *testing.T) {
	for _, c := range []struct{ n, per, tail int }{{1, 3, 1}, {100, 3, 40}, {5000, 4, 2000}, {5000, 0, 7}} {
		s := bigSeries(c.n, c.per, 7)
		r := rand.New(rand.NewPCG(9, 9))
		// The tail, with removed customers among it.
		for _, i := range r.Perm(c.n)[:c.tail] {
			if r.IntN(5) == 0 {
				s.clear(uint32(i))
			} else {
				s.insert(uint32(i), int64(r.IntN(200000)), float64(i))
			}
		}
		type pts struct {
			ts  []int64
			val []float64
		}
		want := make([]pts, c.n)
		for i := range c.n {
			ts, val := s.points(uint32(i))
			want[i] = pts{slices.Clone(ts), slices.Clone(val)}
		}
		foldNow(s)
		if len(s.tail) != 0 {
			t.Fatalf("%+v: %d customers left in the tail", c, len(s.tail))
		}
		for i := range c.n {
			ts, val := s.points(uint32(i))
			if !slices.Equal(ts, want[i].ts) || !slices.Equal(val, want[i].val) {
				t.Fatalf("%+v: customer %d has %v %v after the fold, %v %v before", c, i, ts, val, want[i].ts, want[i].val)
			}
		}
	}
}

// BenchmarkFold is a fold of a series of a million customers, 20 points
// each, a sixteenth of them in the tail: the work done in the background
// (it was a pause under the write lock before folds moved there).
func BenchmarkFold(b *testing.B) {
	const n = 1 << 20
	base := bigSeries(n, 20, 3)
	tail := rand.New(rand.NewPCG(4, 4)).Perm(n)[:n/16]
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := &series{key: base.key, off: base.off, ts: base.ts, val: base.val, has: base.has, tail: map[uint32]*points{}}
		for _, i := range tail {
			ts, val := s.points(uint32(i))
			s.tail[uint32(i)] = &points{ts: append(slices.Clone(ts), 1<<40), val: append(slices.Clone(val), 1)}
		}
		b.StartTimer()
		foldNow(s)
	}
}
