package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testSegments covers segments: names unique per workspace, kinds and
// definitions checked, membership changes applied once each with their
// history, timeline events and sizes, static lists, and what merges,
// erasure and deletion leave behind.
func testSegments(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	a := Workspace(t, s, "a")
	b := Workspace(t, s, "b")
	def := json.RawMessage(`{"op":">=","left":{"field":"orders"},"right":{"value":2}}`)

	vip := &touchbase.Segment{WorkspaceID: a.ID, Name: "vip", Kind: touchbase.SegmentDynamic, Definition: def, Text: "orders >= 2"}
	must(t, s.CreateSegment(ctx, vip, nil))
	list := &touchbase.Segment{WorkspaceID: a.ID, Name: "press", Kind: touchbase.SegmentStatic}
	must(t, s.CreateSegment(ctx, list, nil))
	// The same name in another workspace is another segment.
	must(t, s.CreateSegment(ctx, &touchbase.Segment{WorkspaceID: b.ID, Name: "vip", Kind: touchbase.SegmentDynamic, Definition: def}, nil))

	t.Run("create errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			seg  touchbase.Segment
			code string
		}{
			{"taken", touchbase.Segment{Name: "vip", Kind: touchbase.SegmentDynamic, Definition: def}, touchbase.ECONFLICT},
			{"empty name", touchbase.Segment{Name: "", Kind: touchbase.SegmentStatic}, touchbase.EINVALID},
			{"spaces", touchbase.Segment{Name: " x", Kind: touchbase.SegmentStatic}, touchbase.EINVALID},
			{"kind", touchbase.Segment{Name: "x", Kind: "smart"}, touchbase.EINVALID},
			{"dynamic without definition", touchbase.Segment{Name: "x", Kind: touchbase.SegmentDynamic}, touchbase.EINVALID},
			{"static with definition", touchbase.Segment{Name: "x", Kind: touchbase.SegmentStatic, Definition: def}, touchbase.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				seg := tc.seg
				seg.WorkspaceID = a.ID
				wantCode(t, s.CreateSegment(ctx, &seg, nil), tc.code)
			})
		}
	})

	t.Run("find and list", func(t *testing.T) {
		got, err := s.FindSegmentByName(ctx, a.ID, "vip")
		must(t, err)
		if got.ID != vip.ID || got.Text != "orders >= 2" || string(got.Definition) != string(def) || got.Kind != touchbase.SegmentDynamic {
			t.Errorf("FindSegmentByName = %+v", got)
		}
		_, err = s.FindSegment(ctx, b.ID, vip.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		all, err := s.ListSegments(ctx, a.ID)
		must(t, err)
		if len(all) != 2 || all[0].Name != "press" || all[1].Name != "vip" {
			t.Errorf("ListSegments = %v", all)
		}
	})

	c1 := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "u1"})
	c2 := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "u2"})
	c3 := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "u3"})
	at := Epoch.Add(time.Hour)

	t.Run("changes", func(t *testing.T) {
		enter := func(id int64, in bool) touchbase.MembershipChange {
			return touchbase.MembershipChange{SegmentID: vip.ID, CustomerID: id, Entered: in, At: at}
		}
		must(t, s.RecordMembershipChanges(ctx, a.ID, []touchbase.MembershipChange{enter(c1, true), enter(c2, true), enter(c3, false), enter(c1+1000, true)}))
		// Entering again changes nothing; c2 leaves.
		must(t, s.RecordMembershipChanges(ctx, a.ID, []touchbase.MembershipChange{enter(c1, true), enter(c2, false)}))
		members, err := s.SegmentMembers(ctx, a.ID, vip.ID)
		must(t, err)
		if !slices.Equal(members, []int64{c1}) {
			t.Errorf("members %v, want [%d]", members, c1)
		}
		seg, err := s.FindSegment(ctx, a.ID, vip.ID)
		must(t, err)
		if seg.Size != 1 {
			t.Errorf("size %d, want 1", seg.Size)
		}
		hist, err := s.MembershipChanges(ctx, a.ID, c2, 10)
		must(t, err)
		if len(hist) != 2 || hist[0].Entered || !hist[1].Entered || !hist[0].At.Equal(at) {
			t.Errorf("c2's history %+v, want entered then exited", hist)
		}
		names := QueryStrings(t, s, "SELECT event FROM events WHERE workspace_id = ? AND customer_id = ? ORDER BY id", a.ID, c2)
		if !slices.Equal(names, []string{touchbase.EventSegmentEntered, touchbase.EventSegmentExited}) {
			t.Errorf("c2's timeline %v", names)
		}
		sizes, err := s.SegmentSizes(ctx, a.ID, vip.ID, time.Time{})
		must(t, err)
		if len(sizes) != 1 || sizes[0].Size != 1 {
			t.Errorf("sizes %+v, want one minute's size 1", sizes)
		}
	})

	t.Run("static", func(t *testing.T) {
		n, err := s.AddStaticMembers(ctx, a.ID, list.ID, []int64{c1, c2, c2})
		must(t, err)
		if n != 2 {
			t.Errorf("added %d, want 2", n)
		}
		n, err = s.RemoveStaticMembers(ctx, a.ID, list.ID, []int64{c2, c3})
		must(t, err)
		if n != 1 {
			t.Errorf("removed %d, want 1", n)
		}
		_, err = s.AddStaticMembers(ctx, a.ID, vip.ID, []int64{c3})
		wantCode(t, err, touchbase.EINVALID)
		_, err = s.AddStaticMembers(ctx, b.ID, list.ID, []int64{c3})
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	t.Run("erase", func(t *testing.T) {
		must(t, s.EraseCustomer(ctx, a.ID, c1))
		for _, id := range []int64{vip.ID, list.ID} {
			seg, err := s.FindSegment(ctx, a.ID, id)
			must(t, err)
			members, err := s.SegmentMembers(ctx, a.ID, id)
			must(t, err)
			if len(members) != 0 || seg.Size != 0 {
				t.Errorf("segment %q after erasing its member: members %v, size %d", seg.Name, members, seg.Size)
			}
		}
		if n := QueryInt(t, s, "SELECT count(*) FROM membership_changes WHERE workspace_id = ? AND customer_id = ?", a.ID, c1); n != 0 {
			t.Errorf("%d membership changes of an erased customer remain", n)
		}
	})

	t.Run("delete", func(t *testing.T) {
		must(t, s.DeleteSegment(ctx, a.ID, vip.ID, nil))
		wantCode(t, s.DeleteSegment(ctx, a.ID, vip.ID, nil), touchbase.ENOTFOUND)
		if n := QueryInt(t, s, "SELECT count(*) FROM membership_changes WHERE workspace_id = ? AND segment_id = ?", a.ID, vip.ID); n != 0 {
			t.Errorf("%d changes of a deleted segment remain", n)
		}
	})
}
