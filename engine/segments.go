package engine

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Segments are saved and deleted through the engine, so that the API, the
// console and the CLI check definitions the same way and the engine takes
// every change up at once.

// Save stores seg, created when its ID is 0 and updated otherwise, with
// the definition n (nil for a list), after checking that n names only
// segments that exist and none that leads back to seg; then the engine
// takes the workspace's segments up again, recording the members.
// A segment others name keeps its name. EINVALID, ECONFLICT (a name
// taken, or in use), ENOTFOUND.
func (e *Engine) Save(ctx context.Context, seg *touchbase.Segment, n *segment.Node) error {
	if n != nil {
		var err error
		if seg.Definition, err = json.Marshal(n); err != nil {
			return err
		}
		seg.Text = segment.Format(n)
	}
	// The checks run in the store's transaction, against the segments as
	// they stand when it writes: checked beforehand, two saves at once
	// could each pass and together store a cycle.
	check := func(all []*touchbase.Segment) error {
		if seg.ID != 0 {
			i := slices.IndexFunc(all, func(s *touchbase.Segment) bool { return s.ID == seg.ID })
			if i < 0 {
				return touchbase.Errorf(touchbase.ENOTFOUND, "segment %d not found", seg.ID)
			}
			if old := all[i]; old.Name != seg.Name {
				if other, err := UsedBy(all, old.Name); err != nil {
					return err
				} else if other != nil {
					return touchbase.Errorf(touchbase.ECONFLICT, "segment %q is used by segment %q under its name: change that one first", old.Name, other.Name)
				}
			}
		}
		if n == nil {
			return nil
		}
		return CheckReferences(all, seg.Name, n)
	}
	var err error
	if seg.ID == 0 {
		err = e.st.CreateSegment(ctx, seg, check)
	} else {
		err = e.st.UpdateSegment(ctx, seg, check)
	}
	if err != nil {
		return err
	}
	return e.Refresh(ctx, seg.WorkspaceID)
}

// Delete deletes segment id with its members and history, unless another
// segment names it (ECONFLICT); ENOTFOUND. It returns the deleted segment.
func (e *Engine) Delete(ctx context.Context, ws, id int64) (*touchbase.Segment, error) {
	var seg *touchbase.Segment
	err := e.st.DeleteSegment(ctx, ws, id, func(all []*touchbase.Segment) error {
		i := slices.IndexFunc(all, func(s *touchbase.Segment) bool { return s.ID == id })
		if i < 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "segment %d not found", id)
		}
		seg = all[i]
		if other, err := UsedBy(all, seg.Name); err != nil {
			return err
		} else if other != nil {
			return touchbase.Errorf(touchbase.ECONFLICT, "segment %q is used by segment %q: change that one first", seg.Name, other.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return seg, e.Refresh(ctx, ws)
}

// CheckReferences refuses a definition for segment name that names a
// segment all does not hold, or refers back to name, directly or through
// others. all is the workspace's segments.
func CheckReferences(all []*touchbase.Segment, name string, n *segment.Node) error {
	if len(segment.Refs(n)) == 0 {
		return nil
	}
	defs := map[string]*segment.Node{}
	for _, seg := range all {
		d := &segment.Node{Op: segment.OpAnd} // a list: it names nothing
		if seg.Kind == touchbase.SegmentDynamic {
			var err error
			if d, err = Definition(seg); err != nil {
				return err
			}
		}
		defs[seg.Name] = d
	}
	defs[name] = n
	err := segment.CheckCycles(name, n, func(ref string) (*segment.Node, bool) {
		d, ok := defs[ref]
		return d, ok
	})
	if err != nil {
		return touchbase.Errorf(touchbase.EINVALID, "%s", err)
	}
	return nil
}

// UsedBy returns the first of all's segments whose definition names
// segment name, or nil: a segment in use may not be deleted.
func UsedBy(all []*touchbase.Segment, name string) (*touchbase.Segment, error) {
	for _, seg := range all {
		if seg.Kind != touchbase.SegmentDynamic || seg.Name == name {
			continue
		}
		n, err := Definition(seg)
		if err != nil {
			return nil, err
		}
		if slices.Contains(segment.Refs(n), name) {
			return seg, nil
		}
	}
	return nil, nil
}
