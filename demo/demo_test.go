package demo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/touchbase/touchbase/demo"
	"github.com/touchbase/touchbase/inbound"
)

func TestDeterminism(t *testing.T) {
	t.Parallel()
	base := demo.Config{Customers: 300, Seed: 3, End: testEnd}
	a, sa := generate(t, base)
	b, sb := generate(t, base)
	if !bytes.Equal(a, b) {
		t.Fatal("the same config generated different bytes")
	}
	if sa != sb {
		t.Fatalf("the same config gave different summaries:\n%+v\n%+v", sa, sb)
	}
	cases := []struct {
		name string
		cfg  demo.Config
	}{
		{"another seed", demo.Config{Customers: 300, Seed: 4, End: testEnd}},
		{"another end", demo.Config{Customers: 300, Seed: 3, End: testEnd.AddDate(0, 0, 1)}},
		{"a shorter history", demo.Config{Customers: 300, Seed: 3, End: testEnd, Days: 365}},
	}
	for _, c := range cases {
		if other, _ := generate(t, c.cfg); bytes.Equal(a, other) {
			t.Errorf("%s generated the same bytes", c.name)
		}
	}
	// A prefix of the customers is the same store's prefix: each customer
	// depends only on the seed and their index.
	fewer, _ := generate(t, demo.Config{Customers: 100, Seed: 3, End: testEnd})
	if !bytes.HasPrefix(a, fewer) {
		t.Error("100 customers are not the first 100 of 300")
	}
}

// batches cuts NDJSON into /v1/batch bodies within Segment's limits and
// calls fn with each body and its number of events.
func batches(t testing.TB, raw []byte, fn func(body []byte, n int)) {
	t.Helper()
	const maxEvents = 500
	body := []byte(`{"batch":[`)
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		fn(append(body, "]}"...), n)
		body, n = body[:len(`{"batch":[`)], 0
	}
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			t.Fatal("the output does not end with a newline")
		}
		line := raw[:i]
		raw = raw[i+1:]
		if len(body)+len(line)+3 > inbound.MaxBatchBytes || n == maxEvents {
			flush()
		}
		if n > 0 {
			body = append(body, ',')
		}
		body = append(body, line...)
		n++
	}
	flush()
}

// TestSegmentMessages sends every line through the ingestion parser, as
// the HTTP API does, and requires that none is rejected and that the
// parser reads them as the generator meant.
func TestSegmentMessages(t *testing.T) {
	h := smallHistory(t)
	var total, orders, products int
	batches(t, h.raw, func(body []byte, n int) {
		req, err := inbound.Parse("batch", body, testEnd)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		for _, r := range req.Rejected {
			t.Errorf("event %d rejected: %s: %s", r.Index, r.Field, r.Message)
		}
		if len(req.Inbounds) != n {
			t.Fatalf("Parse kept %d of %d events", len(req.Inbounds), n)
		}
		for i := range req.Inbounds {
			m := &req.Inbounds[i]
			want := h.msgs[total+i]
			if m.MessageID != want.MessageID || !m.Timestamp.Equal(want.Timestamp) {
				t.Fatalf("event %d: parsed as %s at %v, want %s at %v", total+i, m.MessageID, m.Timestamp, want.MessageID, want.Timestamp)
			}
			if m.Order != nil {
				orders++
			}
			products += len(m.Products)
		}
		total += n
	})
	if total != len(h.msgs) || total != h.sum.Events {
		t.Errorf("parsed %d events, read %d lines, Summary.Events is %d", total, len(h.msgs), h.sum.Events)
	}
	if orders == 0 || products == 0 {
		t.Errorf("the parser found %d order events and %d products: the e-commerce events are not recognised", orders, products)
	}
}

// TestSummary recomputes the summary from the messages.
func TestSummary(t *testing.T) {
	h := smallHistory(t)
	var want demo.Summary
	revenue := map[string]float64{} // by order id
	var net float64
	users := map[string]bool{}
	products := map[string]bool{}
	for _, m := range h.msgs {
		want.Events++
		if m.UserID != "" {
			users[m.UserID] = true
		}
		if m.Properties.ProductID != "" {
			products[m.Properties.ProductID] = true
		}
		for _, p := range m.Properties.Products {
			products[p.ProductID] = true
		}
		if want.First.IsZero() || m.Timestamp.Before(want.First) {
			want.First = m.Timestamp
		}
		if m.Timestamp.After(want.Last) {
			want.Last = m.Timestamp
		}
		id := m.Properties.OrderID
		switch m.Event {
		case "Order Completed":
			want.Orders++
			revenue[id] = m.Properties.Revenue
			net += m.Properties.Revenue
		case "Order Cancelled":
			want.Orders--
			want.Cancelled++
			net -= revenue[id]
		case "Order Refunded":
			want.Refunds++
			if m.Properties.Total != 0 {
				net -= m.Properties.Total
			} else {
				net -= revenue[id]
			}
		}
	}
	want.Customers = h.persons
	want.Identified = len(users)
	want.Anonymous = h.persons - len(users)
	want.Products = len(products)
	want.Revenue = h.sum.Revenue
	if math.Abs(net-h.sum.Revenue) > 0.005 {
		t.Errorf("net revenue from the messages is %.2f, Summary.Revenue %.2f", net, h.sum.Revenue)
	}
	if !want.First.Equal(h.sum.First) || !want.Last.Equal(h.sum.Last) {
		t.Errorf("messages span %v to %v, Summary %v to %v", want.First, want.Last, h.sum.First, h.sum.Last)
	}
	want.First, want.Last = h.sum.First, h.sum.Last
	if want != h.sum {
		t.Errorf("from the messages: %+v\nSummary:           %+v", want, h.sum)
	}
	if h.sum.Customers != smallStore.Customers {
		t.Errorf("Summary.Customers is %d, want %d", h.sum.Customers, smallStore.Customers)
	}
	if !h.sum.Last.Before(testEnd) || h.sum.First.Before(testEnd.AddDate(0, 0, -731)) {
		t.Errorf("history from %v to %v, want within the 730 days before %v", h.sum.First, h.sum.Last, testEnd)
	}
}

// TestChronological checks that each person's messages come in time order
// and together, one customer after another.
func TestChronological(t *testing.T) {
	h := smallHistory(t)
	last := map[int]time.Time{}
	done := map[int]bool{}
	prev := -1
	for i, m := range h.msgs {
		if m.person != prev {
			if done[m.person] {
				t.Fatalf("line %d: person %d's messages are not together", i+1, m.person)
			}
			done[prev] = true
			prev = m.person
		}
		if m.Timestamp.Before(last[m.person]) {
			t.Fatalf("line %d: %v is before the person's previous message at %v", i+1, m.Timestamp, last[m.person])
		}
		last[m.person] = m.Timestamp
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	products := demo.Catalogue(demo.Config{Seed: 7})
	if n := len(products); n < 200 || n > 500 {
		t.Errorf("%d products, want a few hundred", n)
	}
	ids, skus, names := map[string]bool{}, map[string]bool{}, map[string]bool{}
	categories := map[string]int{}
	for _, p := range products {
		if ids[p.ProductID] || skus[p.SKU] || names[p.Name] {
			t.Errorf("product %+v repeats an id, sku or name", p)
		}
		ids[p.ProductID], skus[p.SKU], names[p.Name] = true, true, true
		categories[p.Category]++
		if p.Price < 4.99 || p.Price > 349 || p.Brand == "" || p.Currency != "USD" {
			t.Errorf("product %+v: want a price of 4.99 to 349 USD and a brand", p)
		}
	}
	if n := len(categories); n < 8 || n > 12 {
		t.Errorf("%d categories, want 8 to 12", n)
	}
	// The messages name the catalogue's products as it describes them.
	h := smallHistory(t)
	byID := map[string]string{}
	for _, p := range demo.Catalogue(smallStore) {
		byID[p.ProductID] = p.Name
	}
	for _, m := range h.msgs {
		if id := m.Properties.ProductID; id != "" && byID[id] != m.Properties.Name {
			t.Fatalf("%s names %s %q, the catalogue %q", m.Event, id, m.Properties.Name, byID[id])
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := demo.Generate(ctx, demo.Config{Customers: 5000, End: testEnd}, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v, want context.Canceled", err)
	}
}

// BenchmarkGenerate generates the default store (20,000 customers).
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	var sum demo.Summary
	for b.Loop() {
		var err error
		sum, err = demo.Generate(context.Background(), demo.Config{End: testEnd}, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sum.Events), "events")
}
