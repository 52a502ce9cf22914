package idrange

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
)

// TestSplit: the ranges follow one another without gap or overlap, cover
// lo to hi (and everything below lo), and are as many as the cores and
// least allow.
func TestSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, tc := range []struct {
		lo, hi, least int64
		want          int
	}{
		{1, 1_000_000, 1 << 16, 15},
		{1, 10_000_000, 1 << 16, 16},
		{500, 900, 8, 16},
		{1, 10, 8, 1},
		{7, 3, 8, 1}, // no ids
		{-5, 1 << 40, 1, 16},
	} {
		rs := Split(tc.lo, tc.hi, tc.least)
		if len(rs) != tc.want {
			t.Errorf("Split(%d, %d, %d): %d ranges, want %d", tc.lo, tc.hi, tc.least, len(rs), tc.want)
		}
		if rs[0].After != math.MinInt64 || rs[len(rs)-1].UpTo != tc.hi {
			t.Errorf("Split(%d, %d, %d) = %v: not from -inf to hi", tc.lo, tc.hi, tc.least, rs)
		}
		for r := range rs {
			after := max(rs[r].After, tc.lo-1)
			if len(rs) > 1 && rs[r].UpTo-after < tc.least {
				t.Errorf("Split(%d, %d, %d): range %d %v narrower than least", tc.lo, tc.hi, tc.least, r, rs[r])
			}
			if r > 0 && (rs[r].After != rs[r-1].UpTo || rs[r].UpTo <= rs[r].After) {
				t.Errorf("Split(%d, %d, %d): range %d %v after %v", tc.lo, tc.hi, tc.least, r, rs[r], rs[r-1])
			}
		}
	}
	runtime.GOMAXPROCS(1)
	if rs := Split(1, 1<<30, 1); len(rs) != 1 {
		t.Errorf("one core: %d ranges, want 1", len(rs))
	}
}

// TestEach: every range once, and the first error stops the rest.
func TestEach(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	err := Each(context.Background(), 37, func(ctx context.Context, r int) error {
		mu.Lock()
		seen[r]++
		mu.Unlock()
		return nil
	})
	if err != nil || len(seen) != 37 {
		t.Fatalf("Each: %v, %d ranges", err, len(seen))
	}
	for r, n := range seen {
		if n != 1 {
			t.Errorf("range %d: %d calls", r, n)
		}
	}
	boom := errors.New("boom")
	err = Each(context.Background(), 1000, func(ctx context.Context, r int) error {
		if r == 3 {
			return boom
		}
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Each: %v, want boom", err)
	}
}
