package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// analyzer keeps PostgreSQL's statistics of the ingestion tables in step
// with their growth while they are young. The planner plans with the
// statistics it has: on tables it believes tiny (never analysed, or
// analysed at a few rows) it chose plans that read a workspace's every
// customer per identity lookup, and ingestion fell from ~5,000 to ~1,200
// events/s until autovacuum analysed the tables, up to a minute or more
// later (ingestbench --pg, 2026-11-22). So the store analyses them itself each time
// the rows it has written since start grow fourfold, from 1,000 on; past
// the last step (4 million) autovacuum's own thresholds serve. SQLite
// needs none of this: its planner takes the indexes it is given.
type analyzer struct {
	run     func(ctx context.Context) error
	written atomic.Int64
	next    atomic.Int64 // rows written at which to analyse next; 0: done
	mu      sync.Mutex   // one ANALYZE at a time
	wg      sync.WaitGroup
	last    atomic.Int64 // rows written at the last ANALYZE, for tests
}

const (
	analyzeFirst = 1000
	analyzeLast  = 4 << 20
)

func newAnalyzer(run func(ctx context.Context) error) *analyzer {
	a := &analyzer{run: run}
	a.next.Store(analyzeFirst)
	return a
}

// wrote counts n rows written, and starts an ANALYZE in the background
// when a step is crossed. It never blocks the writer.
func (a *analyzer) wrote(n int) {
	if a == nil {
		return
	}
	total := a.written.Add(int64(n))
	next := a.next.Load()
	if next == 0 || total < next {
		return
	}
	// The next step above what is written now (a bulk load may jump
	// several).
	step := next
	for step != 0 && step <= total {
		if step *= 4; step > analyzeLast {
			step = 0
		}
	}
	if !a.next.CompareAndSwap(next, step) {
		return // another commit crossed it
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.mu.Lock()
		defer a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if a.run(ctx) == nil {
			a.last.Store(total)
		}
	}()
}

// close waits for a running ANALYZE.
func (a *analyzer) close() {
	if a != nil {
		a.wg.Wait()
	}
}
