package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
)

// synthSource generates a population as it is scanned, so that a million
// customers cost the benchmark no memory outside the index.
type synthSource struct {
	customers     int
	eventsPerCust int // on average
	seed          uint64
}

var (
	countries  = []string{"DE", "FR", "US", "GB", "ES", "IT", "NL", "PL"}
	plans      = []string{"free", "silver", "gold", "platinum"}
	categories = []string{"Gadgets", "Books", "Garden", "Toys", "Music"}
	eventNames = []string{"Order Completed", "Product Viewed", "Checkout Started"}
)

// ScanCustomers passes the traits both ways: as JSON, as a store does,
// and in c.Traits, which BenchmarkChanges applies again.
func (s *synthSource) ScanCustomers(_ context.Context, _ int64, fn func(*touchbase.Customer, []byte) error) error {
	r := rand.New(rand.NewPCG(s.seed, 1))
	for id := int64(1); id <= int64(s.customers); id++ {
		orders := r.IntN(6)
		c := &touchbase.Customer{ID: id, Email: fmt.Sprintf("c%d@example.com", id), CreatedAt: asOf.Add(-time.Duration(r.IntN(700)) * day),
			Features: touchbase.Features{Orders: orders, Revenue: float64(orders) * r.Float64() * 300},
			Traits: map[string]any{
				"country":  countries[r.IntN(len(countries))],
				"plan":     plans[r.IntN(len(plans))],
				"age":      float64(18 + r.IntN(60)),
				"birthday": fmt.Sprintf("%04d-%02d-%02d", 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28)),
			}}
		if orders > 0 {
			t := asOf.Add(-time.Duration(r.IntN(400)) * day)
			c.Features.LastOrderAt = &t
		}
		traits, err := json.Marshal(c.Traits)
		if err != nil {
			return err
		}
		if err := fn(c, traits); err != nil {
			return err
		}
	}
	return nil
}

func (s *synthSource) LastEventID(context.Context, int64) (int64, error) { return 0, nil }

func (s *synthSource) ScanEvents(_ context.Context, _ int64, names []string, _, _ int64, fn func(touchbase.EventRow) error) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	r := rand.New(rand.NewPCG(s.seed, 2))
	for id := int64(1); id <= int64(s.customers); id++ {
		k := r.IntN(2*s.eventsPerCust + 1)
		ts := asOf.Add(-400 * day).UnixMilli()
		for range k {
			ts += r.Int64N(int64(2 * 400 * day / time.Millisecond / time.Duration(max(k, 1))))
			name := eventNames[r.IntN(len(eventNames))]
			props := fmt.Sprintf(`{"revenue": %d, "category": %q}`, r.IntN(500), categories[r.IntN(len(categories))])
			if !want[name] {
				continue
			}
			if err := fn(touchbase.EventRow{CustomerID: id, Event: name, Timestamp: ts, Properties: []byte(props)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// suite is ten segments of the kinds docs/segments.md shows.
var suite = []struct{ name, tree string }{
	{"eq", `{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`},
	{"in", `{"op": "in", "left": {"field": "traits.plan"}, "values": ["gold", "platinum"]}`},
	{"between", `{"op": "between", "left": {"field": "age"}, "values": [25, 34]}`},
	{"features", `{"op": "and", "args": [{"op": ">=", "left": {"field": "orders"}, "right": {"value": 2}}, {"op": ">", "left": {"field": "revenue"}, "right": {"value": 500}}, {"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "180d"}}]}`},
	{"count", `{"op": ">=", "left": {"agg": {"func": "count", "event": "Order Completed", "within": "90d"}}, "right": {"value": 2}}`},
	{"count where", `{"op": ">=", "left": {"agg": {"func": "count", "event": "Product Viewed", "within": "30d", "where": {"op": "=", "left": {"field": "category"}, "right": {"value": "Gadgets"}}}}, "right": {"value": 1}}`},
	{"sum", `{"op": ">", "left": {"agg": {"func": "sum", "event": "Order Completed", "property": "revenue", "within": "365d"}}, "right": {"value": 1000}}`},
	{"last vs last", `{"op": "and", "args": [{"op": ">", "left": {"agg": {"func": "last", "event": "Checkout Started"}}, "right": {"ago": "30d"}}, {"op": "not", "args": [{"op": ">", "left": {"agg": {"func": "last", "event": "Order Completed"}}, "right": {"agg": {"func": "last", "event": "Checkout Started"}}}]}]}`},
	{"within next", `{"op": "within next", "left": {"field": "birthday"}, "within": "7d"}`},
	{"or not", `{"op": "or", "args": [{"op": "not", "args": [{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}]}, {"op": "starts with", "left": {"field": "email"}, "right": {"value": "c1"}}]}`},
}

var (
	benchOnce sync.Once
	benchIx   *engine.Index
	benchHeap uint64
)

// benchIndex loads a million customers, about four million events, and
// prepares the suite (once per test binary).
func benchIndex(b *testing.B) *engine.Index {
	benchOnce.Do(func() {
		ix := engine.NewIndex(segment.NewRegistry())
		ctx := context.Background()
		start := time.Now()
		if err := ix.Load(ctx, &synthSource{customers: 1_000_000, eventsPerCust: 4, seed: 7}, 1); err != nil {
			b.Fatal(err)
		}
		for _, s := range suite {
			n := node(b, s.tree)
			if err := ix.Prepare(ctx, n, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := ix.Evaluate(n, asOf, nil); err != nil { // builds the trait columns
				b.Fatal(err)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		benchIx, benchHeap = ix, ms.HeapAlloc
		b.Logf("loaded %d customers and prepared %d segments in %v; heap %d MB", ix.Len(), len(suite), time.Since(start).Round(time.Millisecond), ms.HeapAlloc>>20)
	})
	return benchIx
}

func BenchmarkEvaluate(b *testing.B) {
	ix := benchIndex(b)
	for _, s := range suite {
		b.Run(s.name, func(b *testing.B) {
			n := node(b, s.tree)
			b.ReportAllocs()
			var count uint64
			for b.Loop() {
				bm, err := ix.Evaluate(n, asOf, nil)
				if err != nil {
					b.Fatal(err)
				}
				count = engine.Count(bm)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(ix.Len()), "ns/customer")
			b.ReportMetric(float64(count), "members")
			b.ReportMetric(float64(benchHeap>>20), "MB-heap")
		})
	}
}

// BenchmarkChanges is the real-time path: one event (and its customer's
// profile) applied, then Changes for every tracked segment of the suite,
// on an index of 200,000 customers. Its cost must not grow with the
// workspace: only the event's customer is evaluated.
func BenchmarkChanges(b *testing.B) {
	ctx := context.Background()
	src := &synthSource{customers: 200_000, eventsPerCust: 4, seed: 11}
	ix := engine.NewIndex(segment.NewRegistry())
	if err := ix.Load(ctx, src, 1); err != nil {
		b.Fatal(err)
	}
	for _, s := range suite {
		if err := ix.Register(ctx, s.name, node(b, s.tree), asOf); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ix.Changes(asOf, true); err != nil {
		b.Fatal(err)
	}
	var custs []*touchbase.Customer
	_ = src.ScanCustomers(ctx, 1, func(c *touchbase.Customer, _ []byte) error {
		if len(custs) < 1000 {
			custs = append(custs, c)
		}
		return nil
	})
	r := rand.New(rand.NewPCG(1, 2))
	id := int64(1 << 40)
	b.ReportAllocs()
	for b.Loop() {
		c := custs[r.IntN(len(custs))]
		id++
		ix.ApplyCustomer(c)
		ix.ApplyEvent(touchbase.EventRow{ID: id, CustomerID: c.ID, Event: eventNames[r.IntN(len(eventNames))],
			Timestamp: asOf.Add(-time.Minute).UnixMilli(), Properties: []byte(`{"revenue": 12, "category": "Gadgets"}`)})
		if _, err := ix.Changes(asOf, false); err != nil {
			b.Fatal(err)
		}
	}
}
