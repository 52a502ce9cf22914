package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/storetest"
)

// Reads never write: an engine's Members and Explain over a store whose
// recorded members are out of date record nothing; the engine's own
// Sync (the loop's work) records the difference.
func TestReadsRecordNothing(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			s := be.Open(t)
			ws := storetest.Workspace(t, s, "shop").ID
			de := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: "de", Traits: map[string]any{"country": "DE"}})
			n, err := segment.Parse(`country = "DE"`)
			if err != nil {
				t.Fatal(err)
			}
			seg := &touchbase.Segment{WorkspaceID: ws, Name: "germans", Kind: touchbase.SegmentDynamic}
			if err := engine.New(s, segment.NewRegistry(), engine.Config{}).Save(ctx, seg, n); err != nil {
				t.Fatal(err)
			}
			changes := func() int64 {
				return storetest.QueryInt(t, s, "SELECT count(*) FROM membership_changes WHERE workspace_id = ?", ws)
			}
			if changes() != 1 {
				t.Fatalf("%d changes after the save, want 1", changes())
			}
			// A customer the store has no membership for yet, through an
			// event, as ingestion would leave them.
			fr := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: "fr", Traits: map[string]any{"country": "DE"}})
			storetest.InsertEvent(t, s, &touchbase.Event{WorkspaceID: ws, CustomerID: fr, Event: "Signed Up"})

			for _, cfg := range []engine.Config{{ReadOnly: true}, {}} {
				eng := engine.New(s, segment.NewRegistry(), cfg)
				ids, err := eng.Members(ctx, ws, n, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids, []int64{de, fr}) {
					t.Fatalf("members = %v, want %d and %d", ids, de, fr)
				}
				if _, err := eng.Explain(ctx, ws, n, fr, time.Time{}); err != nil {
					t.Fatal(err)
				}
				if _, err := eng.Vocabulary(ctx, ws); err != nil {
					t.Fatal(err)
				}
				if got := changes(); got != 1 {
					t.Fatalf("read-only %v: reads recorded %d changes, want none", cfg.ReadOnly, got-1)
				}
				if err := eng.Sync(ctx, ws); err != nil {
					t.Fatal(err)
				}
				want := int64(2)
				if cfg.ReadOnly {
					want = 1
				}
				if got := changes(); got != want {
					t.Fatalf("read-only %v: %d changes after Sync, want %d", cfg.ReadOnly, got, want)
				}
			}
		})
	}
}

// The loop follows the change feed: a scoring run another process
// finished reaches the segments on its scores without anyone telling the
// engine, even a run that started before one taken up already.
func TestLoopFollowsScoringRuns(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			s := be.Open(t)
			ws := storetest.Workspace(t, s, "shop").ID
			ann := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: "ann"})
			reg := segment.NewRegistry()
			if err := analytics.RegisterFeatures(reg); err != nil {
				t.Fatal(err)
			}
			eng := engine.New(s, reg, engine.Config{Every: time.Hour})
			n, err := segment.Parse(`cluster = 2`)
			if err != nil {
				t.Fatal(err)
			}
			seg := &touchbase.Segment{WorkspaceID: ws, Name: "two", Kind: touchbase.SegmentDynamic}
			if err := eng.Save(ctx, seg, n); err != nil {
				t.Fatal(err)
			}
			if err := eng.Open(ctx, []int64{ws}); err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			early := &touchbase.AnalysisRun{WorkspaceID: ws, Kind: touchbase.AnalysisClusters}
			late := &touchbase.AnalysisRun{WorkspaceID: ws, Kind: touchbase.AnalysisRFM}
			for _, run := range []*touchbase.AnalysisRun{early, late} {
				if err := s.CreateAnalysisRun(ctx, run); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.FinishAnalysisRun(ctx, late); err != nil {
				t.Fatal(err)
			}
			members := func(want []int64) {
				t.Helper()
				var got []int64
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					if got, err = s.SegmentMembers(ctx, ws, seg.ID); err != nil {
						t.Fatal(err)
					}
					if slices.Equal(got, want) {
						return
					}
				}
				t.Fatalf("members %v, want %v", got, want)
			}
			members(nil)
			if err := s.SaveClusterScores(ctx, ws, early.ID, []touchbase.ClusterScore{{CustomerID: ann, Cluster: 2}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishAnalysisRun(ctx, early); err != nil {
				t.Fatal(err)
			}
			members([]int64{ann})
		})
	}
}
