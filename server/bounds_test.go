package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestIngestNUL sends U+0000 in a property value, a property key, a trait
// and an event name next to good events: the batch is answered 200 with
// every event kept, U+FFFD in place of each NUL, and SQLite and PostgreSQL
// store the same.
func TestIngestNUL(t *testing.T) {
	stored := map[string]any{}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		body := `{"batch":[
			{"type":"track","messageId":"good-1","userId":"u1","event":"Viewed","properties":{"n":1}},
			{"type":"track","messageId":"nul-value","userId":"u1","event":"Viewed","properties":{"note":"a\u0000b"}},
			{"type":"track","messageId":"nul-key","userId":"u1","event":"Viewed","properties":{"k\u0000":1}},
			{"type":"identify","messageId":"nul-trait","userId":"u1","traits":{"name":"A\u0000da"},"context":{"page":{"title":"\u0000"}}},
			{"type":"track","messageId":"nul-name","userId":"u1","event":"Sig\u0000ned Up"},
			{"type":"track","messageId":"good-2","userId":"u2","event":"Viewed"}
		]}`
		res := e.mustSend("batch", e.write, body)
		if res.Accepted != 6 || len(res.Rejected) != 0 {
			t.Fatalf("accepted %d, rejected %v", res.Accepted, res.Rejected)
		}
		var events page[touchbase.Event]
		e.mustAPI(e.owner, "GET", "/events?limit=100", nil, 200).decode(t, &events)
		var customers page[touchbase.Customer]
		e.mustAPI(e.owner, "GET", "/customers?limit=100", nil, 200).decode(t, &customers)
		got := map[string]any{}
		for _, ev := range events.Items {
			var props, ctx any
			if len(ev.Properties) > 0 {
				if err := json.Unmarshal(ev.Properties, &props); err != nil {
					t.Fatal(err)
				}
			}
			if len(ev.Context) > 0 {
				if err := json.Unmarshal(ev.Context, &ctx); err != nil {
					t.Fatal(err)
				}
			}
			if strings.ContainsRune(ev.Event, 0) || strings.Contains(string(ev.Properties)+string(ev.Context), `\u0000`) {
				t.Errorf("event %s holds NUL: %q %s %s", ev.MessageID, ev.Event, ev.Properties, ev.Context)
			}
			got[ev.MessageID] = []any{ev.Type, ev.Event, ev.UserID, props, ctx}
		}
		for _, c := range customers.Items {
			got["customer "+c.UserID] = c.Traits
		}
		if len(events.Items) != 6 {
			t.Fatalf("%d events stored, want 6", len(events.Items))
		}
		want := map[string]any{
			"nul-value": []any{"track", "Viewed", "u1", map[string]any{"note": "a\uFFFDb"}, nil},
			"nul-key":   []any{"track", "Viewed", "u1", map[string]any{"k\uFFFD": 1.0}, nil},
			"nul-name":  []any{"track", "Sig\uFFFDned Up", "u1", nil, nil},
		}
		for id, w := range want {
			if g := got[id]; !reflect.DeepEqual(toJSON(t, g), toJSON(t, w)) {
				t.Errorf("%s stored as %v, want %v", id, g, w)
			}
		}
		if tr, _ := got["customer u1"].(map[string]any); tr["name"] != "A\uFFFDda" {
			t.Errorf("traits of u1 = %v", got["customer u1"])
		}
		stored[s.Dialect()] = got
	})
	if a, b := stored["sqlite"], stored["postgres"]; a != nil && b != nil && toJSON(t, a) != toJSON(t, b) {
		t.Errorf("SQLite and PostgreSQL stored differently:\n%s\n%s", toJSON(t, a), toJSON(t, b))
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// orderHistory is a store's history drawn from the models the analyses
// fit (BG/NBD and Gamma-Gamma with the parameters published for CDNOW), so
// that every analysis, lifetime value included, finds what it looks for:
// 400 customers who joined over twelve weeks, followed for 78.
func orderHistory(t *testing.T, e *env) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 5))
	week := 7 * 24 * time.Hour
	end := time.Now().UTC().Add(-24 * time.Hour)
	start := end.Add(-90 * week)
	var batch []any
	for c := range 400 {
		lambda := gamma(r, 0.243) / 4.414 // purchases a week
		p := gamma(r, 0.793)
		p /= p + gamma(r, 2.426) // drop-out after each purchase
		nu := gamma(r, 3.74) / 15.44
		at := start.Add(time.Duration(r.Float64() * 12 * float64(week)))
		for o := 0; at.Before(end); o++ {
			id := fmt.Sprintf("h%d-%d", c, o)
			spend := math.Round(gamma(r, 6.25)/nu*100) / 100
			batch = append(batch, obj{"type": "track", "userId": fmt.Sprintf("c%d", c), "event": "Order Completed",
				"messageId": id, "timestamp": at.Format(time.RFC3339),
				"properties": obj{"order_id": id, "revenue": spend,
					"products": []any{obj{"product_id": fmt.Sprintf("p%d", (c+o)%4), "price": spend / 2, "quantity": 1},
						obj{"product_id": fmt.Sprintf("p%d", (c+o)%4+4), "price": spend / 2, "quantity": 1}}}})
			gap := r.ExpFloat64() / lambda // weeks
			if r.Float64() < p || !(gap < 100) {
				break
			}
			at = at.Add(time.Duration(gap * float64(week)))
		}
	}
	for len(batch) > 0 {
		n := min(len(batch), 500)
		if res := e.mustSend("batch", e.write, obj{"batch": batch[:n]}); len(res.Rejected) != 0 {
			t.Fatalf("history rejected: %v", res.Rejected)
		}
		batch = batch[n:]
	}
}

// gamma draws from Gamma(shape, 1) (Marsaglia and Tsang; shapes below one
// boosted by U^(1/shape)).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := r.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// workspaceWorks reads everything that sums money and fails unless all of
// it answers: the stats, the orders, the customers by revenue, the
// dashboard's report and every analysis.
func workspaceWorks(t *testing.T, e *env) {
	t.Helper()
	if st := e.stats(e.owner); st.Orders == 0 || math.IsInf(st.Revenue, 0) || math.IsNaN(st.Revenue) {
		t.Errorf("stats %+v", st)
	}
	e.mustAPI(e.owner, "GET", "/orders", nil, 200)
	e.mustAPI(e.owner, "GET", "/customers?sort=revenue", nil, 200)
	rep, err := e.store.Report(context.Background(), e.ws.ID, touchbase.ReportFilter{
		Since: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Interval: touchbase.IntervalMonth})
	if err != nil {
		t.Errorf("report: %v", err)
	} else if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report: %v", err)
	}
	for _, kind := range []string{"rfm", "clusters", "clv", "basket"} {
		e.mustAPI(e.owner, "POST", "/analyses/"+kind+"?wait=true", obj{"min_support": 0.01, "min_confidence": 0.01}, 200)
	}
}

// TestHugeNumbers sends the amounts whose sums overflowed float64: each is
// refused with the field and the bound, and the workspace keeps working.
func TestHugeNumbers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		orderHistory(t, e)
		before := e.stats(e.owner)
		for _, c := range []struct {
			name, field string
			props       obj
		}{
			{"revenue", "properties.revenue", obj{"order_id": "big-1", "revenue": 1e308}},
			{"price × quantity", "properties.products[0].price", obj{"order_id": "big-2", "products": []any{obj{"product_id": "p1", "price": 1e308, "quantity": 1e308}}}},
			{"product of bounded numbers", "properties.products[0]", obj{"order_id": "big-3", "products": []any{obj{"product_id": "p1", "price": 1e15, "quantity": 1e15}}}},
			{"revenue as a string", "properties.revenue", obj{"order_id": "big-4", "revenue": "1e308"}},
		} {
			for range 2 { // two of them summed to +Inf
				r := e.send("track", e.write, obj{"userId": "whale", "event": "Order Completed", "properties": c.props})
				if r.status != 400 {
					t.Fatalf("%s: status %d: %s", c.name, r.status, r.body)
				}
				eb := r.errorBody(t)
				if len(eb.Fields) != 1 || eb.Fields[0].Field != c.field || !strings.Contains(eb.Message, "9007199254740991") {
					t.Errorf("%s: error %+v, want the field %s and the bound", c.name, eb, c.field)
				}
			}
		}
		// In a batch the others are kept.
		res := e.mustSend("batch", e.write, obj{"batch": []any{
			obj{"type": "track", "userId": "whale", "event": "Order Completed", "properties": obj{"order_id": "big-5", "revenue": 1e308}},
			obj{"type": "identify", "userId": "whale", "traits": obj{"lifetime_value": 1e300}},
			obj{"type": "track", "userId": "whale", "event": "Order Completed", "properties": obj{"order_id": "ok-1", "revenue": 120}},
			// The bound itself is a number like any other.
			obj{"type": "track", "userId": "whale", "event": "Points Earned", "properties": obj{"points": 9007199254740991}},
		}})
		if res.Accepted != 2 || len(res.Rejected) != 2 || res.Rejected[1].Field != "traits.lifetime_value" {
			t.Fatalf("batch: %+v", res)
		}
		if st := e.stats(e.owner); st.Orders != before.Orders+1 || st.Revenue != before.Revenue+120 {
			t.Errorf("stats %+v, before %+v: only ok-1 adds", st, before)
		}
		workspaceWorks(t, e)
	})
}

// TestPoisonedWorkspaceRecovers stores what ingestion accepted before the
// bound (amounts of 1e308, sums of +Inf): the reads fail, cleanly, and
// migration 9 repairs the workspace.
func TestPoisonedWorkspaceRecovers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		orderHistory(t, e)
		e.stats(e.owner) // the history is in the store
		s, ws := e.store, e.ws.ID
		// The customer with the most orders loses two of them.
		whale := storetest.QueryStrings(t, s, "SELECT user_id FROM customers WHERE workspace_id = ? ORDER BY orders DESC, id LIMIT 1", ws)[0]
		poisoned := storetest.QueryStrings(t, s, "SELECT o.order_id FROM orders o JOIN customers c ON c.workspace_id = o.workspace_id AND c.id = o.customer_id WHERE o.workspace_id = ? AND c.user_id = ? ORDER BY o.order_id LIMIT 2", ws, whale)
		rest := float64(storetest.QueryInt(t, s, "SELECT CAST(round(coalesce(sum(o.revenue), 0) * 100) AS INTEGER) FROM orders o JOIN customers c ON c.workspace_id = o.workspace_id AND c.id = o.customer_id WHERE o.workspace_id = ? AND c.user_id = ? AND o.order_id NOT IN (?, ?)", ws, whale, poisoned[0], poisoned[1])) / 100
		// What two orders of 1e308 left: PostgreSQL refused the sum (its
		// customer kept the first order's), SQLite stored +Inf.
		inf := "9e999"
		if s.Dialect() == "postgres" {
			inf = "1e308"
		}
		storetest.Exec(t, s, "UPDATE orders SET revenue = 1e308, total = -1e308 WHERE workspace_id = ? AND order_id IN (?, ?)", ws, poisoned[0], poisoned[1])
		storetest.Exec(t, s, "UPDATE customers SET revenue = "+inf+" WHERE workspace_id = ? AND user_id = ?", ws, whale)
		storetest.Exec(t, s, "UPDATE order_items SET price = 1e308, quantity = 1e308 WHERE workspace_id = ? AND order_id = (SELECT id FROM orders WHERE workspace_id = ? AND order_id = 'h7-0')", ws, ws)
		storetest.Exec(t, s, "UPDATE order_items SET price = 1e10, quantity = 1e10 WHERE workspace_id = ? AND order_id = (SELECT id FROM orders WHERE workspace_id = ? AND order_id = 'h8-0')", ws, ws)
		storetest.Exec(t, s, "UPDATE products SET price = 1e308 WHERE workspace_id = ? AND product_id = 'p1'", ws)

		// Broken, but never a broken 200: an error in the one shape.
		r := e.api(e.owner, "GET", "/stats", nil)
		if r.status != 500 {
			t.Fatalf("stats of a poisoned workspace: %d %s", r.status, r.body)
		}
		r.errorBody(t)

		storetest.Remigrate(t, s, 9)
		workspaceWorks(t, e)
		var list page[touchbase.Customer]
		e.mustAPI(e.owner, "GET", "/customers?sort=revenue&limit=100", nil, 200).decode(t, &list)
		for _, c := range list.Items {
			if c.UserID == whale && math.Abs(c.Features.Revenue-rest) > 0.005 {
				t.Errorf("%s's revenue %v after the repair, want its other orders' %v", whale, c.Features.Revenue, rest)
			}
		}
		if n := storetest.QueryInt(t, s, "SELECT count(*) FROM order_items WHERE workspace_id = ? AND NOT (abs(price * quantity) <= 9007199254740991)", ws); n != 0 {
			t.Errorf("%d order lines still beyond the bound", n)
		}
		if n := storetest.QueryInt(t, s, "SELECT count(*) FROM products WHERE workspace_id = ? AND price > 1e300", ws); n != 0 {
			t.Errorf("%d products still beyond the bound", n)
		}
	})
}

// TestTimestampsAtTheEpoch: an event at 1970-01-01T00:00:00Z is a time
// like any other (its customer is seen then, its order placed then), and
// times outside the range are refused naming the field.
func TestTimestampsAtTheEpoch(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		epoch := "1970-01-01T00:00:00Z"
		e.mustSend("batch", e.write, obj{"batch": []any{
			obj{"type": "identify", "userId": "old", "timestamp": epoch, "traits": obj{"birthday": "1950-03-04"}},
			obj{"type": "track", "userId": "old", "event": "Order Completed", "timestamp": epoch, "properties": obj{"order_id": "epoch-1", "revenue": 5}},
		}})
		for _, c := range []struct{ ts, field string }{
			{"1969-12-31T23:59:59Z", "timestamp"}, {"9999-12-31T00:00:00Z", "timestamp"}, {"0001-02-03T00:00:00Z", "timestamp"},
		} {
			r := e.send("track", e.write, obj{"userId": "old", "event": "X", "timestamp": c.ts})
			if r.status != 400 {
				t.Fatalf("%s: status %d: %s", c.ts, r.status, r.body)
			}
			if eb := r.errorBody(t); len(eb.Fields) != 1 || eb.Fields[0].Field != c.field || !strings.Contains(eb.Message, "out of range: event times must be from 1970-01-01T00:00:00Z") {
				t.Errorf("%s: error %+v", c.ts, eb)
			}
		}
		var list page[touchbase.Customer]
		e.mustAPI(e.owner, "GET", "/customers?sort=last_seen", nil, 200).decode(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("customers %+v", list.Items)
		}
		c := list.Items[0]
		f := c.Features
		if f.FirstSeenAt == nil || f.LastSeenAt == nil || f.FirstSeenAt.Unix() != 0 || f.LastSeenAt.Unix() != 0 || c.Traits["birthday"] != "1950-03-04" {
			t.Errorf("first seen %v, last seen %v, traits %v: want the epoch", f.FirstSeenAt, f.LastSeenAt, c.Traits)
		}
		var o touchbase.Order
		e.mustAPI(e.owner, "GET", "/orders/epoch-1", nil, 200).decode(t, &o)
		if o.PlacedAt.Unix() != 0 {
			t.Errorf("order placed at %v, want the epoch", o.PlacedAt)
		}
		// Seen again later, and the epoch stays the first time.
		e.mustSend("track", e.write, obj{"userId": "old", "event": "X", "timestamp": "2024-01-01T00:00:00Z"})
		e.mustAPI(e.owner, "GET", "/customers?sort=last_seen", nil, 200).decode(t, &list)
		if f := list.Items[0].Features; f.FirstSeenAt == nil || f.FirstSeenAt.Unix() != 0 || f.LastSeenAt == nil || f.LastSeenAt.Year() != 2024 {
			t.Errorf("first seen %v, last seen %v", f.FirstSeenAt, f.LastSeenAt)
		}
	})
}
