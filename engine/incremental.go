package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Change is a customer entering or leaving a segment tracked by Register.
type Change struct {
	Segment    string
	CustomerID int64
	Entered    bool // false: left
}

// tracked is a segment whose membership the index keeps.
type tracked struct {
	name    string
	node    *segment.Node
	needs   needs
	members *roaring.Bitmap
	stale   bool // re-evaluate everyone at the next Changes
}

// tracker holds the tracked segments and what changed since Changes last
// ran: which customers (dirty), which feature and trait columns (changed),
// which events, and whether a customer came or went (universe), which
// every segment may see.
type tracker struct {
	segs     []*tracked
	byName   map[string]*tracked
	dirty    []uint32  // dense indexes, in any order, repeats allowed
	changed  []*column // each with its changed flag set
	universe bool
	events   map[string]bool
}

func (t *tracker) init() {
	t.byName = map[string]*tracked{}
	t.dirty = nil
	t.events = map[string]bool{}
}

// touchProfile notes customer i's new profile; setCustomer has marked
// the columns that changed.
func (t *tracker) touchProfile(i uint32) { t.touch(i) }

// touchUniverse notes that customer i came or went (or took another's
// events): every tracked segment looks at them again.
func (t *tracker) touchUniverse(i uint32) {
	t.touch(i)
	t.universe = true
}

// touch notes that customer i changed. A slice, not a bitmap: an event's
// customer costs no allocation (a bitmap cleared by Changes takes a new
// container for the next), and Changes sorts it out.
func (t *tracker) touch(i uint32) {
	if n := len(t.dirty); n > 0 && t.dirty[n-1] == i {
		return
	}
	if len(t.dirty) == cap(t.dirty) && len(t.dirty) >= 1<<16 {
		// Many events and no Changes (a back-fill of events): fold the
		// repeats before growing.
		slices.Sort(t.dirty)
		t.dirty = slices.Compact(t.dirty)
	}
	t.dirty = append(t.dirty, i)
}

// markChanged notes that a customer's value in c changed.
func (t *tracker) markChanged(c *column) {
	if !c.changed {
		c.changed = true
		t.changed = append(t.changed, c)
	}
}

// readsChanged reports whether s reads a feature or trait whose column
// changed since Changes last ran.
func (ix *Index) readsChanged(s *tracked) bool {
	if len(ix.track.changed) == 0 {
		return false
	}
	for _, f := range s.needs.fields {
		if c, err := ix.fieldColumn(f); err == nil && c.changed {
			return true
		}
	}
	return false
}

func (t *tracker) touchEvent(i uint32, name string) {
	t.touch(i)
	t.events[name] = true
}

// dirtyAll makes the next Changes re-evaluate every tracked segment for
// everyone (after Load).
func (t *tracker) dirtyAll() {
	for _, s := range t.segs {
		s.stale = true
	}
}

// refs resolves "in segment" among the tracked segments.
func (t *tracker) refs(name string) (*segment.Node, error) {
	s, ok := t.byName[name]
	if !ok {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "segment %q is not tracked", name)
	}
	return s.node, nil
}

// Register tracks segment name, defined by n: it prepares n (back-filling
// its aggregates, see Prepare) and evaluates it at asOf; Changes then
// reports who enters and leaves it. "in segment" in n refers to other
// tracked segments. Registering a name again replaces its definition, and
// the next Changes reports the difference.
func (ix *Index) Register(ctx context.Context, name string, n *segment.Node, asOf time.Time) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t := &ix.track
	refs := func(ref string) (*segment.Node, error) {
		if ref == name {
			return n, nil // so that a self-reference is reported as a cycle
		}
		return t.refs(ref)
	}
	if err := ix.prepare(ctx, n, refs); err != nil {
		return fmt.Errorf("segment %q: %w", name, err)
	}
	var nd needs
	if err := ix.collect(n, refs, []string{name}, &nd); err != nil {
		return fmt.Errorf("segment %q: %w", name, err)
	}
	if s, ok := t.byName[name]; ok {
		s.node, s.needs = n, nd
		// Segments that name this one change with it.
		for _, o := range t.segs {
			o.stale = true
		}
		return nil
	}
	members, err := ix.evaluate(n, asOf, refs, ix.live)
	if err != nil {
		return fmt.Errorf("segment %q: %w", name, err)
	}
	s := &tracked{name: name, node: n, needs: nd, members: members}
	t.segs = append(t.segs, s)
	t.byName[name] = s
	return nil
}

// Unregister stops tracking segment name; segments naming it are
// re-evaluated at the next Changes (and fail to, until they are changed
// too).
func (ix *Index) Unregister(name string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t := &ix.track
	if _, ok := t.byName[name]; !ok {
		return
	}
	delete(t.byName, name)
	t.segs = slices.DeleteFunc(t.segs, func(s *tracked) bool { return s.name == name })
	t.dirtyAll()
}

// TrackedMembers returns the ids of a tracked segment's members as of the last
// Changes (or Register), ascending.
func (ix *Index) TrackedMembers(name string) ([]int64, error) {
	ix.mu.RLock()
	s, ok := ix.track.byName[name]
	var bm *roaring.Bitmap
	if ok {
		bm = s.members.Clone()
	}
	ix.mu.RUnlock()
	if !ok {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "segment %q is not tracked", name)
	}
	return ix.Members(bm), nil
}

// Changes re-evaluates the tracked segments at asOf and returns who
// entered and who left each since the last call, by segment in
// registration order and then by customer id. Each segment is
// re-evaluated for the customers whose profile or events (of the names it
// reads) changed since; with clock, a segment that depends on time
// (DependsOnTime, or through a segment it names) is re-evaluated for
// everyone, since time alone moves its members. So an event costs its
// customer's evaluations, and the clock's work happens once per tick.
func (ix *Index) Changes(asOf time.Time, clock bool) ([]Change, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t := &ix.track
	var out []Change
	// Every dirty customer has a dense index (add gives it before any
	// touch), so dirty needs no bounds.
	slices.Sort(t.dirty)
	t.dirty = slices.Compact(t.dirty)
	dirty := t.dirty
	var dirtyBM, dirtyLive *roaring.Bitmap // dirty, and those with a profile, once
	for _, s := range t.segs {
		var u *roaring.Bitmap
		switch {
		case s.stale || (clock && s.needs.time):
			u = ix.live
		case len(dirty) == 0:
			continue
		case t.universe, s.needs.profile && ix.readsChanged(s), s.readsEvents(t.events):
			if len(dirty) <= smallUniverse {
				var err error
				if out, err = ix.changesEach(s, dirty, asOf, out); err != nil {
					return nil, fmt.Errorf("segment %q: %w", s.name, err)
				}
				s.stale = false
				continue
			}
			if dirtyLive == nil {
				dirtyBM = roaring.BitmapOf(dirty...)
				dirtyLive = roaring.And(dirtyBM, ix.live)
			}
			u = dirtyLive
		default:
			continue
		}
		r, err := ix.evaluate(s.node, asOf, t.refs, u)
		if err != nil {
			return nil, fmt.Errorf("segment %q: %w", s.name, err)
		}
		var old *roaring.Bitmap
		if u == ix.live {
			old = s.members
			s.members = r
		} else {
			// The dirty customers who left the universe leave the segment.
			old = roaring.And(s.members, dirtyBM)
			s.members.AndNot(dirtyBM)
			s.members.Or(r)
		}
		var cs []Change
		forEach(roaring.AndNot(r, old), func(i uint32, _ int) {
			cs = append(cs, Change{Segment: s.name, CustomerID: ix.ids[i], Entered: true})
		})
		forEach(roaring.AndNot(old, r), func(i uint32, _ int) {
			cs = append(cs, Change{Segment: s.name, CustomerID: ix.ids[i]})
		})
		slices.SortFunc(cs, func(a, b Change) int { return cmp.Compare(a.CustomerID, b.CustomerID) })
		out = append(out, cs...)
		s.stale = false
	}
	t.dirty = t.dirty[:0]
	for _, c := range t.changed {
		c.changed = false
	}
	t.changed, t.universe = t.changed[:0], false
	clear(t.events)
	return out, nil
}

// changesEach is Changes for segment s when few customers are dirty (an
// event's): each is evaluated alone, without a bitmap per node, and the
// entries and exits are appended to out. Nothing changes on an error.
func (ix *Index) changesEach(s *tracked, dirty []uint32, asOf time.Time, out []Change) ([]Change, error) {
	e := &ix.oneEval // Changes holds the write lock
	if e.refs == nil {
		e.refs = ix.track.refs // a method value: allocated once
	}
	e.ix, e.asOf, e.asOfTime, e.stack = ix, asOf.UnixMilli(), asOf, e.stack[:0]
	var in [smallUniverse]bool
	for k, i := range dirty {
		// A customer without a profile (removed) leaves; evaluating them
		// as an empty universe still reports the errors evaluate would.
		var err error
		if in[k], err = e.one(s.node, i, ix.live.Contains(i)); err != nil {
			return out, err
		}
	}
	start := len(out)
	for k, i := range dirty {
		if was := s.members.Contains(i); in[k] != was {
			if in[k] {
				s.members.Add(i)
			} else {
				s.members.Remove(i)
			}
			out = append(out, Change{Segment: s.name, CustomerID: ix.ids[i], Entered: in[k]})
		}
	}
	slices.SortFunc(out[start:], func(a, b Change) int { return cmp.Compare(a.CustomerID, b.CustomerID) })
	return out, nil
}

// readsEvents reports whether s aggregates events of one of the names.
func (s *tracked) readsEvents(names map[string]bool) bool {
	for name := range s.needs.events {
		if names[name] {
			return true
		}
	}
	return false
}

// DependsOnTime reports whether n's members can change with the as-of
// instant alone, without any profile or event changing: it compares with
// an instant ("180d ago"), tests "within next", or uses an aggregate.
// Every aggregate does, windowed or not: events after as-of do not count,
// so an event timestamped ahead of the clock enters it later by itself.
// Segments n names are not followed.
func DependsOnTime(n *segment.Node) bool {
	if n == nil {
		return false
	}
	if n.Op == segment.OpWithinNext {
		return true
	}
	for _, o := range []*segment.Operand{n.Left, n.Right} {
		if o != nil && (o.Agg != nil || o.Ago != "") {
			return true
		}
	}
	for _, a := range n.Args {
		if DependsOnTime(a) {
			return true
		}
	}
	return false
}
