// Package idrange reads a table in ranges of its integer ids on every
// core: the store's scans for analyses and the engine's back-fill, where
// one reader keeps one core busy stepping through rows and the rest idle.
package idrange

import (
	"context"
	"math"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Range is the ids in (After, UpTo].
type Range struct{ After, UpTo int64 }

// Split cuts the ids lo to hi into four ranges per core, for the cores to
// share out evenly however the ids are spread, but none narrower than
// least ids; one range on one core. The first range is open below (it
// takes ids under lo too); the last ends at hi.
func Split(lo, hi, least int64) []Range {
	span := max(hi-lo+1, 1)
	n := int64(1)
	if workers := runtime.GOMAXPROCS(0); workers > 1 {
		n = max(1, min(int64(4*workers), span/max(least, 1)))
	}
	rs := make([]Range, n)
	for r := range rs {
		rs[r] = Range{After: lo - 1 + span*int64(r)/n, UpTo: lo - 1 + span*int64(r+1)/n}
	}
	rs[0].After = math.MinInt64
	rs[n-1].UpTo = hi
	return rs
}

// Each calls fn for each of n ranges, once, on as many goroutines as there
// are cores (and ranges). The first error cancels ctx for the other
// calls, and is returned.
func Each(ctx context.Context, n int, fn func(ctx context.Context, r int) error) error {
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range min(n, runtime.GOMAXPROCS(0)) {
		g.Go(func() error {
			for r := int(next.Add(1) - 1); r < n; r = int(next.Add(1) - 1) {
				if err := fn(gctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}
