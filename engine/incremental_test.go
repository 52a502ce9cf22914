package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
)

func TestChanges(t *testing.T) {
	ctx := context.Background()
	ix := load(t, population())
	segs := []struct{ name, tree string }{
		{"buyers", `{"op": ">=", "left": ` + ocCount + `, "right": {"value": 1}}`},
		{"de", `{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`},
		{"big", `{"op": ">", "left": {"agg": {"func": "sum", ` + ocRev + `}}, "right": {"value": 1000}}`},
		{"de buyers", `{"op": "and", "args": [{"op": "in segment", "segment": "de"}, {"op": "in segment", "segment": "buyers"}]}`},
	}
	for _, s := range segs {
		if err := ix.Register(ctx, s.name, node(t, s.tree), asOf); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string][]int64{"buyers": {1, 2}, "de": {1}, "big": nil, "de buyers": {1}} {
		got, err := ix.TrackedMembers(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: members %v, %v, want %v", name, got, err, want)
		}
	}

	steps := []struct {
		name  string
		apply func()
		at    time.Time
		want  []engine.Change
	}{
		{"nothing new", func() {}, asOf, nil},
		{"an event enters", func() {
			ix.ApplyEvent(ev(3, "Order Completed", asOf.Add(-time.Hour), `{"revenue": 5}`))
		}, asOf, []engine.Change{{Segment: "buyers", CustomerID: 3, Entered: true}}},
		{"reported once", func() {}, asOf, nil},
		{"an event of another name", func() { ix.ApplyEvent(ev(4, "Signed Up", asOf, ``)) }, asOf, nil},
		{"profiles change", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 5, Traits: map[string]any{"country": "DE"}})
			ix.ApplyCustomer(&touchbase.Customer{ID: 1, Traits: map[string]any{"country": "AT"}})
		}, asOf, []engine.Change{
			{Segment: "de", CustomerID: 1}, {Segment: "de", CustomerID: 5, Entered: true},
			{Segment: "de buyers", CustomerID: 1},
		}},
		{"a new customer", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 9, Traits: map[string]any{"country": "DE"}})
			ix.ApplyEvent(ev(9, "Order Completed", asOf.Add(-time.Minute), `{"revenue": 2000}`))
		}, asOf, []engine.Change{
			{Segment: "buyers", CustomerID: 9, Entered: true}, {Segment: "de", CustomerID: 9, Entered: true},
			{Segment: "big", CustomerID: 9, Entered: true}, {Segment: "de buyers", CustomerID: 9, Entered: true},
		}},
		{"a customer removed", func() { ix.RemoveCustomer(2) }, asOf, []engine.Change{{Segment: "buyers", CustomerID: 2}}},
		// Customer 1's order dated a day ahead counts once as-of passes it.
		{"time passes", func() {}, asOf.Add(2 * day), []engine.Change{{Segment: "big", CustomerID: 1, Entered: true}}},
		{"time passes, nothing new", func() {}, asOf.Add(3 * day), nil},
		{"an event before Load's customer", func() {
			ix.ApplyEvent(ev(10, "Order Completed", asOf, `{}`))
		}, asOf.Add(3 * day), nil},
		{"its profile arrives", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 10})
		}, asOf.Add(3 * day), []engine.Change{{Segment: "buyers", CustomerID: 10, Entered: true}}},
	}
	for _, s := range steps {
		s.apply()
		got, err := ix.Changes(s.at, true)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: changes %v, want %v", s.name, got, s.want)
		}
	}
}

func TestRegisterCycle(t *testing.T) {
	ix := load(t, population())
	if err := ix.Register(context.Background(), "a", node(t, `{"op": "in segment", "segment": "a"}`), asOf); err == nil {
		t.Error("a segment naming itself was registered")
	}
}

func TestDependsOnTime(t *testing.T) {
	for tree, want := range map[string]bool{
		`{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`:                                         false,
		`{"op": "<", "left": {"field": "last_order_at"}, "right": {"value": {"time": "2026-01-01"}}}`:                 false,
		`{"op": "not", "args": [{"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "1d"}}]}`:            true,
		`{"op": "within next", "left": {"field": "birthday"}, "within": "7d"}`:                                        true,
		`{"op": ">", "left": {"agg": {"func": "count", "event": "X", "within": "1h"}}, "right": {"value": 0}}`:        true,
		`{"op": ">", "left": {"agg": {"func": "count", "event": "X"}}, "right": {"value": 0}}`:                        true,
		`{"op": "or", "args": [{"op": "is set", "left": {"field": "a"}}, {"op": "in segment", "segment": "timely"}]}`: false,
	} {
		if got := engine.DependsOnTime(node(t, tree)); got != want {
			t.Errorf("DependsOnTime(%s) = %v", tree, got)
		}
	}
}

// TestChangesBetweenTicks: without the clock, Changes evaluates only the
// customers whose profile or events changed, time-dependent segments
// included; what time alone changes waits for the clock.
func TestChangesBetweenTicks(t *testing.T) {
	ctx := context.Background()
	ix := load(t, population())
	if err := ix.Register(ctx, "big", node(t, `{"op": ">", "left": {"agg": {"func": "sum", `+ocRev+`}}, "right": {"value": 1000}}`), asOf); err != nil {
		t.Fatal(err)
	}
	if err := ix.Register(ctx, "recent", node(t, `{"op": ">=", "left": {"agg": {"func": "count", "event": "Order Completed", "within": "1h"}}, "right": {"value": 1}}`), asOf); err != nil {
		t.Fatal(err)
	}
	ix.ApplyEvent(ev(9, "Order Completed", asOf.Add(-time.Minute), `{"revenue": 2000}`))
	ix.ApplyCustomer(&touchbase.Customer{ID: 9})
	got, err := ix.Changes(asOf, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Change{{Segment: "big", CustomerID: 9, Entered: true}, {Segment: "recent", CustomerID: 9, Entered: true}}
	if !slices.Equal(got, want) {
		t.Errorf("an event between ticks: %v, want %v", got, want)
	}
	// Two hours on, nothing happened to anyone: only the clock tells.
	later := asOf.Add(2 * time.Hour)
	if got, err := ix.Changes(later, false); err != nil || len(got) != 0 {
		t.Errorf("between ticks with nothing new: %v, %v", got, err)
	}
	got, err = ix.Changes(later, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []engine.Change{{Segment: "recent", CustomerID: 9}}; !slices.Equal(got, want) {
		t.Errorf("the tick: %v, want %v", got, want)
	}
}

// TestPrepareAll back-fills several trees' aggregates in one scan: each
// evaluates as after its own Prepare, and a tree that cannot be prepared
// is reported without keeping the others from being prepared.
func TestPrepareAll(t *testing.T) {
	ctx := context.Background()
	src := &synthSource{customers: 500, eventsPerCust: 6, seed: 3}
	trees := []string{suite[4].tree, suite[5].tree, suite[6].tree, suite[7].tree}
	broken := `{"op": ">", "left": {"agg": {"func": "median", "event": "Order Completed"}}, "right": {"value": 1}}`
	all := engine.NewIndex(segment.NewRegistry())
	one := engine.NewIndex(segment.NewRegistry())
	for _, ix := range []*engine.Index{all, one} {
		if err := ix.Load(ctx, src, 1); err != nil {
			t.Fatal(err)
		}
	}
	var ns []*segment.Node
	for _, tree := range append(trees, broken) {
		ns = append(ns, node(t, tree))
	}
	if err := all.PrepareAll(ctx, ns, nil); err == nil {
		t.Error("PrepareAll with a broken tree: no error")
	}
	for _, tree := range trees {
		n := node(t, tree)
		if err := one.Prepare(ctx, n, nil); err != nil {
			t.Fatal(err)
		}
		got, err := members(t, all, n, asOf, nil)
		if err != nil {
			t.Fatalf("%s: %v", tree, err)
		}
		want, err := members(t, one, n, asOf, nil)
		if err != nil || !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: %d members after PrepareAll, %d after Prepare (%v)", tree, len(got), len(want), err)
		}
	}
}

// TestChangesReadColumns: a new profile re-evaluates the segments that
// read a feature or trait whose value changed, and a customer who comes
// is looked at by every segment, those reading only events included.
func TestChangesReadColumns(t *testing.T) {
	ctx := context.Background()
	ix := load(t, population())
	for _, s := range []struct{ name, tree string }{
		{"no orders", `{"op": "=", "left": ` + ocCount + `, "right": {"value": 0}}`},
		{"de", `{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`},
		{"regulars", `{"op": ">=", "left": {"field": "orders"}, "right": {"value": 3}}`},
	} {
		if err := ix.Register(ctx, s.name, node(t, s.tree), asOf); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ix.Changes(asOf, false); err != nil || len(got) != 0 {
		t.Fatalf("after Register: %v, %v", got, err)
	}
	steps := []struct {
		name  string
		apply func()
		want  []engine.Change
	}{
		{"a customer comes, with no events", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 20})
		}, []engine.Change{{Segment: "no orders", CustomerID: 20, Entered: true}}},
		{"the same profile again", func() { ix.ApplyCustomer(&touchbase.Customer{ID: 20}) }, nil},
		{"a feature read changes", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 20, Features: touchbase.Features{Orders: 3}})
		}, []engine.Change{{Segment: "regulars", CustomerID: 20, Entered: true}}},
		{"a feature not read changes", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 20, Features: touchbase.Features{Orders: 3, Events: 7}})
		}, nil},
		{"a trait read changes", func() {
			ix.ApplyCustomer(&touchbase.Customer{ID: 20, Features: touchbase.Features{Orders: 3, Events: 7}, Traits: map[string]any{"country": "DE"}})
		}, []engine.Change{{Segment: "de", CustomerID: 20, Entered: true}}},
		{"the customer goes", func() { ix.RemoveCustomer(20) }, []engine.Change{
			{Segment: "no orders", CustomerID: 20}, {Segment: "de", CustomerID: 20}, {Segment: "regulars", CustomerID: 20}}},
	}
	for _, s := range steps {
		s.apply()
		got, err := ix.Changes(asOf, false)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: changes %v, want %v", s.name, got, s.want)
		}
	}
}

// TestFoldsUnderEvents applies events to an index whose series fold their
// tails often, in the background, while evaluations read it from another
// goroutine, and checks it against an index given the same events that
// never folds: every segment has the same members, and each tracked one
// what a full evaluation says.
func TestFoldsUnderEvents(t *testing.T) {
	ctx := context.Background()
	src := &synthSource{customers: 3000, eventsPerCust: 6, seed: 5}
	folding, plain := load(t, src), load(t, src)
	folding.SetFoldMin(16) // a fold every ~190 customers with new points
	plain.SetFoldMin(1 << 30)
	var nodes []*segment.Node
	for _, s := range suite {
		n := node(t, s.tree)
		nodes = append(nodes, n)
		for _, ix := range []*engine.Index{folding, plain} {
			if err := ix.Register(ctx, s.name, n, asOf); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // evaluations while folds come and go
		defer readers.Done()
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := folding.Evaluate(nodes[k%len(nodes)], asOf, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	r := rand.New(rand.NewPCG(8, 8))
	for k := range 6000 {
		ev := touchbase.EventRow{ID: int64(k + 1), CustomerID: 1 + r.Int64N(int64(src.customers)), Event: eventNames[r.IntN(len(eventNames))],
			Timestamp:  asOf.Add(-time.Duration(r.IntN(400*24)) * time.Hour).UnixMilli(),
			Properties: []byte(fmt.Sprintf(`{"revenue": %d, "category": %q}`, r.IntN(500), categories[r.IntN(len(categories))]))}
		if k%97 == 0 { // a customer the store removed
			folding.RemoveCustomer(ev.CustomerID)
			plain.RemoveCustomer(ev.CustomerID)
		}
		folding.ApplyEvent(ev)
		plain.ApplyEvent(ev)
		if k%50 == 0 {
			for _, ix := range []*engine.Index{folding, plain} {
				if _, err := ix.Changes(asOf, false); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	close(stop)
	readers.Wait()
	if n := folding.WaitFolds(); n < 10 {
		t.Errorf("%d folds: the test must fold many times", n)
	}
	for _, ix := range []*engine.Index{folding, plain} {
		if _, err := ix.Changes(asOf, true); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes {
		got, err := members(t, folding, n, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := members(t, plain, n, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		tracked, err := folding.TrackedMembers(suite[i].name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) || !slices.Equal(tracked, want) {
			t.Errorf("%s: %d members with folds (%d tracked), %d without", suite[i].name, len(got), len(tracked), len(want))
		}
	}
}

// TestProfileUpdates applies random profile changes (to one feature of
// each type, to traits, or to nothing) and checks every feature's column
// and the members of segments on each against an index that loaded the
// final profiles: a change the fingerprints of the stable features
// missed would show. With one bit kept of each feature's fingerprint
// byte, half the changes look like none to the bytes, and only the whole
// fingerprint catches them.
func TestProfileUpdates(t *testing.T) {
	t.Run("byte", func(t *testing.T) { testProfileUpdates(t, 0xff) })
	t.Run("bit", func(t *testing.T) { testProfileUpdates(t, 0x01) })
}

func testProfileUpdates(t *testing.T, sigMask byte) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 200
	day0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	profiles := make([]*touchbase.Customer, n)
	for i := range profiles {
		profiles[i] = &touchbase.Customer{ID: int64(i + 1), Email: fmt.Sprintf("c%d@x.org", i), CreatedAt: day0,
			Traits: map[string]any{"country": "DE"}}
	}
	src := &fakeSource{customers: profiles}
	live := load(t, src)
	live.SetSigMask(sigMask)
	fields := []string{"orders", "revenue", "aov", "refunds", "refund_total", "events", "first_order_at", "last_order_at",
		"first_seen_at", "last_seen_at", "created_at", "user_id", "email", "phone", "country"}
	var nodes []*segment.Node
	for _, f := range fields {
		nodes = append(nodes, node(t, `{"op": "is set", "left": {"field": "`+f+`"}}`))
	}
	for _, js := range []string{
		`{"op": ">=", "left": {"field": "orders"}, "right": {"value": 2}}`,
		`{"op": ">", "left": {"field": "revenue"}, "right": {"value": 50}}`,
		`{"op": ">", "left": {"field": "last_order_at"}, "right": {"value": {"time": "2025-01-15"}}}`,
		`{"op": "<", "left": {"field": "created_at"}, "right": {"value": {"time": "2025-01-03"}}}`,
		`{"op": "starts with", "left": {"field": "email"}, "right": {"value": "new"}}`,
		`{"op": "=", "left": {"field": "user_id"}, "right": {"value": "u7"}}`,
		`{"op": "=", "left": {"field": "country"}, "right": {"value": "FR"}}`,
		`{"op": ">", "left": {"field": "events"}, "right": {"value": 3}}`,
	} {
		nodes = append(nodes, node(t, js))
	}
	for _, nd := range nodes { // trait columns built before the changes
		if _, err := members(t, live, nd, asOf, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 3000 {
		c := *profiles[r.IntN(n)]
		c.Traits = map[string]any{}
		for k, v := range profiles[c.ID-1].Traits {
			c.Traits[k] = v
		}
		f := &c.Features
		at := day0.Add(time.Duration(r.IntN(60*24)) * time.Hour)
		switch r.IntN(9) {
		case 0:
			f.Orders++
			f.Revenue += float64(r.IntN(40))
			f.LastOrderAt = &at
			if f.FirstOrderAt == nil {
				f.FirstOrderAt = &at
			}
		case 1:
			f.Refunds++
			f.RefundTotal += 1.5
		case 2:
			c.Email = fmt.Sprintf("new%d@x.org", r.IntN(1000))
		case 3:
			c.UserID = fmt.Sprintf("u%d", r.IntN(10))
		case 4:
			c.Phone = []string{"", "+4915112345"}[r.IntN(2)]
		case 5:
			c.CreatedAt = day0.Add(time.Duration(r.IntN(5*24)) * time.Hour)
		case 6:
			c.Traits["country"] = []string{"DE", "FR"}[r.IntN(2)]
		case 7:
			f.FirstSeenAt = &at
		}
		// Every event moves these.
		f.Events++
		f.LastSeenAt = &at
		profiles[c.ID-1] = &c
		live.ApplyCustomer(&c)
	}
	fresh := load(t, &fakeSource{customers: profiles})
	for k, nd := range nodes {
		got, err := members(t, live, nd, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := members(t, fresh, nd, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("segment %d (%s): %d members after the updates, %d loaded afresh", k, segment.Format(nd), len(got), len(want))
		}
	}
	// The segments built the same trait columns in both.
	got, want := live.ProfileColumns(), fresh.ProfileColumns()
	if len(got) != len(want) {
		t.Errorf("%d columns after the updates, %d loaded afresh", len(got), len(want))
	}
	for name, vals := range want {
		for i, v := range vals {
			if i >= len(got[name]) || got[name][i] != v {
				t.Errorf("column %s after the updates differs from the one loaded afresh at %s", name, v)
				break
			}
		}
	}
}
