package engine

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// ViewStore is what a View reads; *store.Store is one. A View only
// reads it.
type ViewStore interface {
	Source
	follower
	ListSegments(ctx context.Context, workspaceID int64) ([]*touchbase.Segment, error)
	SegmentMembers(ctx context.Context, workspaceID, segmentID int64) ([]int64, error)
}

// ViewConfig tunes a View.
type ViewConfig struct {
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// View answers questions about one workspace's segments the way a
// command that answers once and exits needs them answered: it reads
// what the question needs and nothing else, and records nothing. An
// Engine loads every customer and takes up every stored segment (with
// its aggregates back-filled) so as to keep memberships fresh, and
// records the changes it finds; a count of "orders >= 2" needs none of
// that. A View is not safe for concurrent use.
type View struct {
	st  ViewStore
	reg *segment.Registry
	ws  int64
	cfg ViewConfig

	ix   *Index
	segs map[string]*touchbase.Segment // by name; nil until listed
}

// NewView returns a View of workspace ws of st. It reads nothing until
// asked.
func NewView(st ViewStore, reg *segment.Registry, ws int64, cfg ViewConfig) *View {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &View{st: st, reg: reg, ws: ws, cfg: cfg}
}

// Load reads what answering for n needs, caught up with the store: the
// customers and their profiles. It reports no error for the segments n
// names that do not exist (Prepare does), so that the Vocabulary can be
// read to say what was meant.
func (v *View) Load(ctx context.Context, n *segment.Node) error {
	if len(segment.Refs(n)) > 0 {
		if err := v.listSegments(ctx); err != nil {
			return err
		}
	}
	if v.ix != nil {
		return nil
	}
	start := time.Now()
	ix := NewIndex(v.reg)
	if err := ix.Load(ctx, v.st, v.ws); err != nil {
		return err
	}
	v.ix = ix
	v.cfg.Logger.Info("segments: workspace loaded", "workspace", v.ws, "customers", ix.Len(), "took", time.Since(start))
	return nil
}

// Prepare readies the view to answer for n: Load, then the lists n names
// (through the segments it names too) read, and the aggregates and trait
// columns it uses built. Members and Explain call it.
func (v *View) Prepare(ctx context.Context, n *segment.Node) error {
	if err := v.Load(ctx, n); err != nil {
		return err
	}
	if err := v.setLists(ctx, n); err != nil {
		return err
	}
	if err := v.ix.Prepare(ctx, n, v.refs); err != nil {
		return invalid(err)
	}
	return nil
}

// Members returns the ids of n's members as of asOf (now when zero),
// ascending.
func (v *View) Members(ctx context.Context, n *segment.Node, asOf time.Time) ([]int64, error) {
	if err := v.Prepare(ctx, n); err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = v.cfg.Now()
	}
	bm, err := v.ix.Evaluate(n, asOf, v.refs)
	if err != nil {
		return nil, invalid(err)
	}
	return v.ix.Members(bm), nil
}

// Explain says, node by node, why customer customerID is or is not a
// member of n as of asOf (now when zero). ENOTFOUND for a customer the
// workspace does not have.
func (v *View) Explain(ctx context.Context, n *segment.Node, customerID int64, asOf time.Time) (*Explanation, error) {
	if err := v.Prepare(ctx, n); err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = v.cfg.Now()
	}
	return v.ix.Explain(n, customerID, asOf, v.refs)
}

// Vocabulary returns the trait names of the workspace's customers and the
// names of its segments, for "did you mean", as loaded (see Load). Event
// names are not read (the store has them only by a scan of every event):
// Events is nil, which segment.Suggest takes for "not known".
func (v *View) Vocabulary(ctx context.Context) (segment.Vocabulary, error) {
	if err := v.Load(ctx, &segment.Node{Op: segment.OpAnd}); err != nil {
		return segment.Vocabulary{}, err
	}
	if err := v.listSegments(ctx); err != nil {
		return segment.Vocabulary{}, err
	}
	voc := v.ix.vocabulary()
	voc.Events = nil
	voc.Segments = []string{}
	for name := range v.segs {
		voc.Segments = append(voc.Segments, name)
	}
	slices.Sort(voc.Segments)
	return voc, nil
}

// listSegments reads the workspace's segments, once.
func (v *View) listSegments(ctx context.Context) error {
	if v.segs != nil {
		return nil
	}
	all, err := v.st.ListSegments(ctx, v.ws)
	if err != nil {
		return err
	}
	v.segs = make(map[string]*touchbase.Segment, len(all))
	for _, seg := range all {
		v.segs[seg.Name] = seg
	}
	return nil
}

// refs resolves "in segment" among the stored segments, as the engine's
// spaces do.
func (v *View) refs(name string) (*segment.Node, error) {
	seg, ok := v.segs[name]
	if !ok {
		return nil, touchbase.Errorf(touchbase.EINVALID, "there is no segment %q", name)
	}
	if seg.Kind == touchbase.SegmentStatic {
		return &segment.Node{Op: segment.OpInSegment, Segment: name}, nil // a list: the index knows it
	}
	return Definition(seg)
}

// setLists gives the index the members of the lists n names, directly or
// through the segments it names, that it does not hold yet.
func (v *View) setLists(ctx context.Context, n *segment.Node) error {
	seen := map[string]bool{}
	var walk func(n *segment.Node) error
	walk = func(n *segment.Node) error {
		for _, name := range segment.Refs(n) {
			if seen[name] {
				continue
			}
			seen[name] = true
			seg, ok := v.segs[name]
			if !ok {
				continue // evaluation reports it
			}
			if seg.Kind == touchbase.SegmentStatic {
				if v.ix.hasList(name) {
					continue
				}
				ids, err := v.st.SegmentMembers(ctx, v.ws, seg.ID)
				if err != nil {
					return err
				}
				v.ix.SetList(name, ids)
				continue
			}
			def, err := Definition(seg)
			if err != nil {
				return err
			}
			if err := walk(def); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(n)
}

// hasList reports whether the index holds list name.
func (ix *Index) hasList(name string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	_, ok := ix.lists[name]
	return ok
}
