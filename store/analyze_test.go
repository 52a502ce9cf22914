package store

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestAnalyzer: an ANALYZE each time the rows written since start grow
// fourfold from 1,000, none after the last step, never two at once.
func TestAnalyzer(t *testing.T) {
	var runs atomic.Int64
	a := newAnalyzer(func(context.Context) error { runs.Add(1); return nil })
	write := func(n int) {
		a.wrote(n)
		a.wg.Wait()
	}
	write(999)
	if runs.Load() != 0 {
		t.Fatalf("analysed at 999 rows")
	}
	write(1)
	if runs.Load() != 1 || a.last.Load() != 1000 {
		t.Fatalf("at 1,000 rows: %d runs, last at %d", runs.Load(), a.last.Load())
	}
	write(2000) // 3,000: under 4,000
	if runs.Load() != 1 {
		t.Fatalf("analysed again at 3,000 rows")
	}
	write(1000) // 4,000
	if runs.Load() != 2 {
		t.Fatalf("not analysed at 4,000 rows")
	}
	write(analyzeLast * 2) // past every step: once more, then never
	write(analyzeLast * 8)
	if runs.Load() != 3 {
		t.Fatalf("%d runs past the last step, want 3", runs.Load())
	}
	var none *analyzer // SQLite's
	none.wrote(5000)
	none.close()
}
