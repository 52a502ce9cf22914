package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase/segment"
)

// SetSplitMin sets the universe size from which evaluations are cut in
// parts run on all cores, so that small test stores exercise the parts.
func (ix *Index) SetSplitMin(n int) { ix.splitMin = n }

// SetFoldMin sets the fewest customers a series' tail holds before it is
// folded, so that small test stores fold (in the background) too.
func (ix *Index) SetFoldMin(n int) { ix.foldMin = n }

// SetSigMask sets what the index keeps of each byte of a profile's
// fingerprints: one bit, and half of the changes look like none to it.
func (ix *Index) SetSigMask(m byte) { ix.sigMask = m }

// ProfileColumns returns every feature and trait column the index holds,
// by name, as each customer's value printed, in dense index order.
func (ix *Index) ProfileColumns() map[string][]string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := map[string][]string{}
	add := func(name string, c *column) {
		for i := range ix.ids {
			out[name] = append(out[name], fmt.Sprintf("%d: %+v", ix.ids[i], c.get(i)))
		}
	}
	for name, c := range ix.byFeature {
		add(name, c)
	}
	for path, c := range ix.traitCols {
		add("traits."+path, c)
	}
	return out
}

// WaitFolds waits for the folds under way, and returns how many ended.
func (ix *Index) WaitFolds() int {
	ix.folds.Wait()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.folded
}

// SetBackfillMin sets the fewest event ids a back-fill range spans, so
// that small test stores are back-filled in several ranges at once.
func (ix *Index) SetBackfillMin(n int64) { ix.backfillMin = n }

// EvaluateEach evaluates n for each customer alone, as the real-time path
// does for an event's customer, and returns the ids of those for whom it
// holds, ascending.
func (ix *Index) EvaluateEach(n *segment.Node, asOf time.Time, refs func(string) (*segment.Node, error)) ([]int64, error) {
	if err := ix.ensureTraits(n, refs); err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []int64
	for _, i := range ix.live.ToArray() {
		r, err := ix.evaluate(n, asOf, refs, roaring.BitmapOf(i))
		if err != nil {
			return nil, err
		}
		if r.Contains(i) {
			out = append(out, ix.ids[i])
		}
	}
	slices.Sort(out)
	return out, nil
}
