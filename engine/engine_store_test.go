package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// clock is a settable clock for the engine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestEngineOnStore drives the engine over a real store fed by real
// ingestion: memberships are recorded when a segment is created, follow
// events and merges, follow the clock, and a restarted engine records
// nothing that did not change.
func TestEngineOnStore(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := be.Open(t)
			ws := storetest.Workspace(t, s, "shop").ID
			clk := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
			s.Now = clk.now
			seq := 0
			send := func(ins ...touchbase.Inbound) {
				t.Helper()
				for i := range ins {
					seq++
					m := &ins[i]
					m.WorkspaceID, m.MessageID = ws, fmt.Sprintf("m%d", seq)
					if m.Type == "" {
						m.Type = touchbase.EventTrack
					}
					if m.Timestamp.IsZero() {
						m.Timestamp = clk.now()
					}
					m.ReceivedAt = m.Timestamp
				}
				if _, err := s.Ingest(ctx, ins); err != nil {
					t.Fatal(err)
				}
			}
			order := func(user string, revenue float64) touchbase.Inbound {
				return touchbase.Inbound{UserID: user, Event: "Order Completed",
					Properties: json.RawMessage(fmt.Sprintf(`{"order_id": "o%d-%s", "revenue": %g}`, seq, user, revenue))}
			}
			send(
				touchbase.Inbound{Type: touchbase.EventIdentify, UserID: "ann", Traits: map[string]any{"country": "DE"}},
				touchbase.Inbound{Type: touchbase.EventIdentify, UserID: "bob", Traits: map[string]any{"country": "FR"}},
				order("ann", 30),
			)
			newEngine := func() *engine.Engine {
				return engine.New(s, segment.NewRegistry(), engine.Config{Now: clk.now})
			}
			eng := newEngine()
			create := func(name, text string) *touchbase.Segment {
				t.Helper()
				n, err := segment.Parse(text)
				if err != nil {
					t.Fatal(err)
				}
				def, _ := json.Marshal(n)
				seg := &touchbase.Segment{WorkspaceID: ws, Name: name, Kind: touchbase.SegmentDynamic, Definition: def, Text: segment.Format(n)}
				if err := s.CreateSegment(ctx, seg, nil); err != nil {
					t.Fatal(err)
				}
				if err := eng.Refresh(ctx, ws); err != nil {
					t.Fatal(err)
				}
				return seg
			}
			id := func(user string) int64 {
				t.Helper()
				cs, _, err := s.ListCustomers(ctx, ws, touchbase.CustomerFilter{UserID: user})
				if err != nil || len(cs) != 1 {
					t.Fatalf("customer %q: %v %v", user, cs, err)
				}
				return cs[0].ID
			}
			members := func(seg *touchbase.Segment, want ...string) {
				t.Helper()
				got, err := s.SegmentMembers(ctx, ws, seg.ID)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, u := range want {
					ids = append(ids, id(u))
				}
				slices.Sort(ids)
				if !slices.Equal(got, ids) {
					t.Errorf("segment %q: stored members %v, want %v (%v)", seg.Name, got, ids, want)
				}
			}
			changes := func() int64 {
				return storetest.QueryInt(t, s, "SELECT count(*) FROM membership_changes WHERE workspace_id = ?", ws)
			}

			buyers := create("buyers", `count("Order Completed") >= 1`)
			germans := create("germans", `country = "DE"`)
			recent := create("recent buyers", `count("Order Completed", within 1h) >= 1 and in segment "buyers"`)
			members(buyers, "ann")
			members(germans, "ann")
			members(recent, "ann")
			entered := storetest.QueryInt(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND event = ?", ws, touchbase.EventSegmentEntered)
			if entered != 3 {
				t.Errorf("%d Segment Entered events on timelines, want 3", entered)
			}

			// Events: bob buys and moves to Germany; ann moves away.
			send(order("bob", 12),
				touchbase.Inbound{Type: touchbase.EventIdentify, UserID: "bob", Traits: map[string]any{"country": "DE"}},
				touchbase.Inbound{Type: touchbase.EventIdentify, UserID: "ann", Traits: map[string]any{"country": "AT"}})
			if err := eng.Sync(ctx, ws); err != nil {
				t.Fatal(err)
			}
			members(buyers, "ann", "bob")
			members(germans, "bob")
			members(recent, "ann", "bob")

			// cid has a profile; a visitor buys anonymously, then logs in
			// as cid: the two profiles merge, and cid's keeps the order in
			// its aggregates.
			send(touchbase.Inbound{Type: touchbase.EventIdentify, UserID: "cid"})
			if err := eng.Sync(ctx, ws); err != nil {
				t.Fatal(err)
			}
			send(touchbase.Inbound{AnonymousID: "anon-1", Event: "Order Completed", Properties: json.RawMessage(`{"order_id": "x1", "revenue": 5}`)})
			if err := eng.Sync(ctx, ws); err != nil {
				t.Fatal(err)
			}
			send(touchbase.Inbound{Type: touchbase.EventIdentify, UserID: "cid", AnonymousID: "anon-1"})
			if err := eng.Sync(ctx, ws); err != nil {
				t.Fatal(err)
			}
			members(buyers, "ann", "bob", "cid")
			if n := storetest.QueryInt(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND event = ?", ws, touchbase.EventCustomersMerged); n != 1 {
				t.Fatalf("%d merges, want 1: the test must exercise a merge", n)
			}

			// The clock alone: two hours on, nobody bought within the hour.
			clk.set(clk.now().Add(2 * time.Hour))
			if err := eng.Sync(ctx, ws); err != nil {
				t.Fatal(err)
			}
			members(recent)

			// A segment saved by another process is taken up at the tick.
			n := mustParse(t, `count("Order Completed") >= 1 and country = "DE"`)
			def, _ := json.Marshal(n)
			elsewhere := &touchbase.Segment{WorkspaceID: ws, Name: "german buyers", Kind: touchbase.SegmentDynamic, Definition: def, Text: segment.Format(n)}
			if err := s.CreateSegment(ctx, elsewhere, nil); err != nil {
				t.Fatal(err)
			}
			if err := eng.Sync(ctx, ws); err != nil {
				t.Fatal(err)
			}
			members(elsewhere, "bob")

			// A restart records nothing: nothing changed.
			before := changes()
			eng2 := newEngine()
			if err := eng2.Refresh(ctx, ws); err != nil {
				t.Fatal(err)
			}
			if after := changes(); after != before {
				t.Errorf("a restarted engine recorded %d changes of nothing", after-before)
			}
			got, err := eng2.Members(ctx, ws, mustParse(t, `in segment "buyers" and not in segment "germans"`), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if want := []int64{id("ann"), id("cid")}; !slices.Equal(got, sorted(want)) {
				t.Errorf("buyers not in germans: %v, want %v", got, sorted(want))
			}

			// The vocabulary of a restarted engine has the stored events'
			// names and the profiles' traits.
			v, err := eng2.Vocabulary(ctx, ws)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(v.Events, "Order Completed") || !slices.Contains(v.Traits, "country") || !slices.Contains(v.Segments, "buyers") {
				t.Errorf("vocabulary %+v", v)
			}

			// Explain, from the same evaluator.
			x, err := eng2.Explain(ctx, ws, mustParse(t, `country = "DE" and count("Order Completed") >= 1`), id("bob"), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if !x.Holds || len(x.Children) != 2 || x.Children[0].Values[0].Value != "DE" || x.Children[1].Values[0].Value != 1.0 {
				t.Errorf("explanation:\n%s", x)
			}
			_, err = eng2.Explain(ctx, ws, mustParse(t, `orders > 1`), 999999, time.Time{})
			if touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
				t.Errorf("explain an unknown customer: %v, want ENOTFOUND", err)
			}
		})
	}
}

func mustParse(t *testing.T, text string) *segment.Node {
	t.Helper()
	n, err := segment.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sorted(ids []int64) []int64 {
	slices.Sort(ids)
	return ids
}

var _ engine.Store = (*store.Store)(nil)
