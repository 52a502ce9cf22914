package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/touchbase/touchbase/segment"
)

// needs is what evaluating a tree reads that the index may not hold yet.
type needs struct {
	traits []string
	aggs   []*segment.Aggregate
	time   bool // the tree depends on the as-of instant (DependsOnTime)
	events map[string]bool
	// profile says the tree reads features or traits; fields are the
	// features and traits it reads, as written.
	profile bool
	fields  []string
}

// collect walks n and the segments it names (through refs, refusing
// cycles), noting the traits and aggregates it reads.
func (ix *Index) collect(n *segment.Node, refs func(string) (*segment.Node, error), stack []string, nd *needs) error {
	if n == nil {
		return fmt.Errorf("missing condition")
	}
	if n.Op == segment.OpInSegment {
		if _, ok := ix.lists[n.Segment]; ok {
			return nil // a static segment: SetList re-evaluates who names it
		}
		sub, err := expandRef(refs, stack, n.Segment)
		if err != nil {
			return err
		}
		return ix.collect(sub, refs, append(stack, n.Segment), nd)
	}
	for _, a := range n.Args {
		if err := ix.collect(a, refs, stack, nd); err != nil {
			return err
		}
	}
	if n.Op == segment.OpWithinNext {
		nd.traits = append(nd.traits, "timezone")
		nd.fields = append(nd.fields, "traits.timezone")
		nd.time, nd.profile = true, true
	}
	for _, o := range []*segment.Operand{n.Left, n.Right} {
		switch {
		case o == nil:
		case o.Field != "":
			nd.profile = true
			nd.fields = append(nd.fields, o.Field)
			if k := ix.traitKey(o.Field); k != "" {
				nd.traits = append(nd.traits, k)
			}
		case o.Agg != nil:
			nd.aggs = append(nd.aggs, o.Agg)
			nd.time = true // see DependsOnTime
			if nd.events == nil {
				nd.events = map[string]bool{}
			}
			nd.events[o.Agg.Event] = true
		case o.Ago != "":
			nd.time = true
		}
	}
	return nil
}

// ensureTraits builds the trait columns n reads that the index lacks.
func (ix *Index) ensureTraits(n *segment.Node, refs func(string) (*segment.Node, error)) error {
	var nd needs
	ix.mu.RLock()
	err := ix.collect(n, refs, nil, &nd)
	missing := false
	for _, k := range nd.traits {
		if _, ok := ix.traitCols[k]; !ok {
			missing = true
		}
	}
	ix.mu.RUnlock()
	if err != nil || !missing {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.buildTraits(nd.traits)
	return nil
}

// Prepare readies the index to evaluate n: it back-fills, from the source
// given to Load, each event aggregate that n (or a segment it names) uses
// and the index does not keep yet, and builds the trait columns. From then
// on ApplyEvent keeps those aggregates up to date.
func (ix *Index) Prepare(ctx context.Context, n *segment.Node, refs func(name string) (*segment.Node, error)) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.prepare(ctx, n, refs)
}

// PrepareAll is Prepare for many trees at once: the aggregates they add are
// back-filled in one scan of the events, where Prepare scans once per tree
// that adds any (at start, with every segment new, that is a scan of the
// events table per segment). A tree that cannot be prepared is left out,
// its error joined to the result; the others are prepared all the same.
func (ix *Index) PrepareAll(ctx context.Context, ns []*segment.Node, refs func(name string) (*segment.Node, error)) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var errs []error
	var fresh []*series
	seen := map[seriesKey]bool{}
	for _, n := range ns {
		s, err := ix.freshSeries(n, refs, seen)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fresh = append(fresh, s...)
	}
	if err := ix.addSeries(ctx, fresh); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (ix *Index) prepare(ctx context.Context, n *segment.Node, refs func(name string) (*segment.Node, error)) error {
	fresh, err := ix.freshSeries(n, refs, map[seriesKey]bool{})
	if err != nil {
		return err
	}
	return ix.addSeries(ctx, fresh)
}

// freshSeries builds the trait columns n reads and returns the series of
// its aggregates that neither the index nor seen has yet (adding them to
// seen), not back-filled.
func (ix *Index) freshSeries(n *segment.Node, refs func(name string) (*segment.Node, error), seen map[seriesKey]bool) ([]*series, error) {
	var nd needs
	if err := ix.collect(n, refs, nil, &nd); err != nil {
		return nil, err
	}
	var fresh []*series
	for _, a := range nd.aggs {
		k, err := keyOf(a)
		if err != nil {
			return nil, err
		}
		if _, ok := ix.series[k]; ok || seen[k] {
			continue
		}
		s, err := newSeries(k, a, len(ix.ids))
		if err != nil {
			return nil, err
		}
		seen[k] = true
		fresh = append(fresh, s)
	}
	ix.buildTraits(nd.traits)
	return fresh, nil
}

// addSeries back-fills fresh series and starts keeping them.
func (ix *Index) addSeries(ctx context.Context, fresh []*series) error {
	if err := ix.backfill(ctx, fresh); err != nil {
		return err
	}
	for _, s := range fresh {
		ix.series[s.key] = s
		ix.byEvent[s.key.event] = append(ix.byEvent[s.key.event], s)
		ix.propKeys[s.key.event] = propKeys(ix.byEvent[s.key.event])
	}
	return nil
}
