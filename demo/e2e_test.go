package demo_test

import (
	"context"
	"math"
	"testing"

	"github.com/touchbase/touchbase/demo"
	"github.com/touchbase/touchbase/inbound"
	"github.com/touchbase/touchbase/storetest"
)

// TestLoadIntoStore loads a small demo store the way `touchbase demo`
// does, through inbound.Parse and store.Ingest on a real SQLite store, and
// checks that the store's totals agree with the Summary: one profile per
// person once anonymous browsing is merged into the account, every order,
// and the revenue to the cent.
func TestLoadIntoStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw, sum := generate(t, demo.Config{Customers: 500, Seed: 11, End: testEnd})
	s := storetest.OpenSQLite(t)
	ws := storetest.Workspace(t, s, "demo")

	stored, duplicates := 0, 0
	batches(t, raw, func(body []byte, n int) {
		req, err := inbound.Parse("batch", body, testEnd)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if len(req.Rejected) > 0 {
			t.Fatalf("rejected: %+v", req.Rejected)
		}
		for i := range req.Inbounds {
			req.Inbounds[i].WorkspaceID = ws.ID
		}
		res, err := s.Ingest(ctx, req.Inbounds)
		if err != nil {
			t.Fatalf("Ingest: %v", err)
		}
		stored += res.Stored
		duplicates += res.Duplicates + res.Erased
	})
	if stored != sum.Events || duplicates != 0 {
		t.Errorf("stored %d events and dropped %d, want all %d stored", stored, duplicates, sum.Events)
	}

	st, err := s.Stats(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary %+v\nstats %+v", sum, *st)
	if st.Customers != int64(sum.Customers) {
		t.Errorf("the store has %d customers, the demo %d people", st.Customers, sum.Customers)
	}
	if st.Orders != int64(sum.Orders) {
		t.Errorf("the store has %d orders, the demo %d", st.Orders, sum.Orders)
	}
	if math.Abs(st.Revenue-sum.Revenue) >= 0.005 {
		t.Errorf("the store's revenue is %.4f, the demo's %.2f", st.Revenue, sum.Revenue)
	}
	if st.Products != int64(sum.Products) {
		t.Errorf("the store has %d products, the demo named %d", st.Products, sum.Products)
	}
	// Merges add a "Customers Merged" event each, so the store has at
	// least the demo's events.
	if st.Events < int64(sum.Events) {
		t.Errorf("the store has %d events, fewer than the demo's %d", st.Events, sum.Events)
	}
	if sum.Orders == 0 || sum.Refunds == 0 {
		t.Errorf("500 customers made %d orders and %d refunds: the check proves little", sum.Orders, sum.Refunds)
	}
}
