package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testFeed: each stream of the change feed reads after a cursor in commit
// order (a run that started first and finished last comes last), Head
// says where each stands, one workspace's feed shows nothing of
// another's, and Changed closes at the next commit.
func testFeed(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	a := Workspace(t, s, "a")
	b := Workspace(t, s, "b")
	ann := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "ann"})
	bob := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: b.ID, UserID: "bob"})

	head, err := s.Head(ctx, a.ID)
	must(t, err)
	if head != (touchbase.FeedPosition{}) {
		t.Fatalf("head of an empty feed = %+v", head)
	}

	// Events.
	e1 := InsertEvent(t, s, &touchbase.Event{WorkspaceID: a.ID, CustomerID: ann, Event: "One"})
	InsertEvent(t, s, &touchbase.Event{WorkspaceID: b.ID, CustomerID: bob, Event: "Other"})
	e2 := InsertEvent(t, s, &touchbase.Event{WorkspaceID: a.ID, CustomerID: ann, Event: "Two"})
	evs, err := s.EventsAfter(ctx, a.ID, e1, 10)
	must(t, err)
	if len(evs) != 1 || evs[0].ID != e2 {
		t.Errorf("events after %d = %+v, want only %d", e1, evs, e2)
	}

	// Membership changes, the notification with them.
	seg := &touchbase.Segment{WorkspaceID: a.ID, Name: "all", Kind: touchbase.SegmentDynamic, Definition: []byte(`{"op":"and"}`)}
	must(t, s.CreateSegment(ctx, seg, nil))
	changed := s.Changed()
	select {
	case <-changed:
		t.Fatal("Changed closed before any commit")
	default:
	}
	must(t, s.RecordMembershipChanges(ctx, a.ID, []touchbase.MembershipChange{{SegmentID: seg.ID, CustomerID: ann, Entered: true, At: Epoch}}))
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed not closed by a commit")
	}
	must(t, s.RecordMembershipChanges(ctx, a.ID, []touchbase.MembershipChange{{SegmentID: seg.ID, CustomerID: ann, Entered: false, At: Epoch.Add(time.Hour)}}))
	mcs, err := s.MembershipChangesAfter(ctx, a.ID, 0, 10)
	must(t, err)
	if len(mcs) != 2 || !mcs[0].Entered || mcs[1].Entered || mcs[0].ID >= mcs[1].ID || mcs[1].CustomerID != ann || !mcs[1].At.Equal(Epoch.Add(time.Hour)) {
		t.Fatalf("membership changes = %+v", mcs)
	}
	if more, _ := s.MembershipChangesAfter(ctx, a.ID, mcs[1].ID, 10); len(more) != 0 {
		t.Errorf("changes after the last = %+v", more)
	}
	if other, _ := s.MembershipChangesAfter(ctx, b.ID, 0, 10); len(other) != 0 {
		t.Errorf("workspace b reads a's changes: %+v", other)
	}

	// Runs in the order they finish, not start; a run under way is not
	// on the feed.
	first := &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: touchbase.AnalysisRFM}
	second := &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: touchbase.AnalysisCLV}
	running := &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: touchbase.AnalysisBasket}
	must(t, s.CreateAnalysisRun(ctx, first))
	must(t, s.CreateAnalysisRun(ctx, second))
	must(t, s.CreateAnalysisRun(ctx, running))
	must(t, s.FinishAnalysisRun(ctx, second))
	im := &touchbase.Import{WorkspaceID: a.ID, Kind: touchbase.ImportCustomers, Status: touchbase.ImportQueued}
	must(t, s.CreateImport(ctx, im))
	must(t, s.FinishAnalysisRun(ctx, first))
	runs, err := s.AnalysisRunsAfter(ctx, a.ID, 0, 10)
	must(t, err)
	if len(runs) != 2 || runs[0].ID != second.ID || runs[1].ID != first.ID || runs[0].Seq >= runs[1].Seq || runs[1].FinishedAt == nil {
		t.Fatalf("runs after 0 = %+v, want %d then %d", runs, second.ID, first.ID)
	}
	if after, _ := s.AnalysisRunsAfter(ctx, a.ID, runs[0].Seq, 10); len(after) != 1 || after[0].ID != first.ID {
		t.Errorf("runs after the first finished = %+v", after)
	}

	// Imports: on the feed once done or failed, once.
	if ims, _ := s.ImportsAfter(ctx, a.ID, 0, 10); len(ims) != 0 {
		t.Errorf("a queued import is on the feed: %+v", ims)
	}
	done := Epoch.Add(time.Minute)
	im.Status, im.FinishedAt = touchbase.ImportDone, &done
	must(t, s.UpdateImport(ctx, im))
	must(t, s.UpdateImport(ctx, im)) // saved again: still one entry
	ims, err := s.ImportsAfter(ctx, a.ID, 0, 10)
	must(t, err)
	if len(ims) != 1 || ims[0].ID != im.ID || ims[0].Seq <= runs[1].Seq || ims[0].Status != touchbase.ImportDone {
		t.Fatalf("imports after 0 = %+v", ims)
	}

	// Recording the changes put them on the customer's timeline too.
	timeline, err := s.EventsAfter(ctx, a.ID, e2, 10)
	must(t, err)
	if len(timeline) != 2 || timeline[0].Event != touchbase.EventSegmentEntered || timeline[1].Event != touchbase.EventSegmentExited {
		t.Fatalf("events after %d = %+v, want the timeline's entered and exited", e2, timeline)
	}
	head, err = s.Head(ctx, a.ID)
	must(t, err)
	want := touchbase.FeedPosition{Events: timeline[1].ID, MembershipChanges: mcs[1].ID, AnalysisRuns: runs[1].Seq, Imports: ims[0].Seq}
	if head != want {
		t.Errorf("head = %+v, want %+v", head, want)
	}
	if hb, _ := s.Head(ctx, b.ID); hb.AnalysisRuns != 0 || hb.Imports != 0 || hb.MembershipChanges != 0 {
		t.Errorf("workspace b's head = %+v, want no runs, imports or changes", hb)
	}
}
