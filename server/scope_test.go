package server_test

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
)

// metric returns the value of the sample named exactly series (name and
// labels) on /metrics, 0 when absent.
func (e *env) metric(series string) float64 {
	e.t.Helper()
	r := e.do("GET", "/metrics", nil, nil)
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				e.t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	return 0
}

func (e *env) order(id string) touchbase.Order {
	e.t.Helper()
	var o touchbase.Order
	e.mustAPI(e.owner, "GET", "/orders/"+id, nil, http.StatusOK).decode(e.t, &o)
	return o
}

func (e *env) product(id string) touchbase.Product {
	e.t.Helper()
	var p touchbase.Product
	e.mustAPI(e.owner, "GET", "/products/"+id, nil, http.StatusOK).decode(e.t, &p)
	return p
}

func (e *env) customerID(userID string) int64 {
	e.t.Helper()
	var found page[touchbase.Customer]
	e.mustAPI(e.owner, "GET", "/customers?user_id="+userID, nil, http.StatusOK).decode(e.t, &found)
	if len(found.Items) != 1 {
		e.t.Fatalf("customer %s: %d found", userID, len(found.Items))
	}
	return found.Items[0].ID
}

// TestWriteKeyScope: through /v1, the public write key (the one in the
// store's pages) cannot rewrite a product the server key defined, nor
// refund, cancel or take over another customer's order; its events are
// stored all the same and the refusals are counted on /metrics. The server
// key can do all of it, and is refused from a browser.
func TestWriteKeyScope(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		server := e.key(e.ws.ID, touchbase.KeyServer, "")
		if !strings.HasPrefix(server, "tbs_") || !strings.HasPrefix(e.write, "tbw_") {
			t.Fatalf("secrets %.4s / %.4s: a server key must be told from a public one by its prefix", server, e.write)
		}
		e.mustSend("batch", server, map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "victim", "event": "Product Viewed", "properties": map[string]any{
				"product_id": "mug", "name": "Mug", "price": 12, "url": "https://shop.example/mug"}},
			map[string]any{"type": "track", "userId": "victim", "event": "Order Completed", "properties": map[string]any{
				"order_id": "o1", "revenue": 100, "products": []any{map[string]any{"product_id": "mug", "price": 12}}}},
		}})
		res := e.mustSend("batch", e.write, map[string]any{"batch": []any{
			map[string]any{"type": "track", "anonymousId": "a1", "event": "Product Viewed", "properties": map[string]any{
				"product_id": "mug", "name": "FREE MUG", "price": 0.01, "url": "https://evil.example/phish"}},
			map[string]any{"type": "track", "userId": "attacker", "event": "Order Refunded", "properties": map[string]any{"order_id": "o1"}},
			map[string]any{"type": "track", "userId": "attacker", "event": "Order Cancelled", "properties": map[string]any{"order_id": "o1"}},
			map[string]any{"type": "track", "userId": "attacker", "event": "Order Completed", "properties": map[string]any{"order_id": "o1", "revenue": 1}},
		}})
		if res.Accepted != 4 {
			t.Fatalf("accepted %d: %+v", res.Accepted, res)
		}
		if p := e.product("mug"); p.Name != "Mug" || p.Price != 12 || p.URL != "https://shop.example/mug" {
			t.Fatalf("the public key rewrote the product: %+v", p)
		}
		victim := e.customerID("victim")
		if o := e.order("o1"); o.CustomerID != victim || o.Status != touchbase.OrderCompleted || o.Revenue != 100 || o.Refunded != 0 {
			t.Fatalf("the public key changed another customer's order: %+v (victim %d)", o, victim)
		}
		var c touchbase.Customer
		e.mustAPI(e.owner, "GET", "/customers/"+strconv.FormatInt(e.customerID("attacker"), 10), nil, http.StatusOK).decode(t, &c)
		if c.Features.Orders != 0 || c.Features.Events != 3 {
			t.Fatalf("the sender's profile: %+v; want its 3 events and no order", c.Features)
		}
		if st := e.stats(e.owner); st.Events != 6 || st.Orders != 1 {
			t.Fatalf("stats %+v: want all 6 events kept, 1 order", st)
		}
		if n := e.metric(`touchbase_refused_changes_total{change="order"}`); n != 3 {
			t.Errorf("refused order changes on /metrics: %v, want 3", n)
		}
		if n := e.metric(`touchbase_refused_changes_total{change="product"}`); n != 1 {
			t.Errorf("refused product changes on /metrics: %v, want 1", n)
		}

		// The server key: a refund the support desk makes, a correction.
		e.mustSend("batch", server, map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "support", "event": "Order Refunded", "properties": map[string]any{"order_id": "o1", "total": 40}},
			map[string]any{"type": "track", "userId": "victim", "event": "Product Viewed", "properties": map[string]any{"product_id": "mug", "price": 15}},
		}})
		if o := e.order("o1"); o.Refunded != 40 || o.Status != touchbase.OrderPartiallyRefunded {
			t.Fatalf("the server key's refund: %+v", o)
		}
		if p := e.product("mug"); p.Price != 15 {
			t.Fatalf("the server key's price change: %+v", p)
		}

		// From a browser, a server key is an exposed secret.
		h := http.Header{"Content-Type": {"application/json"}, "Origin": {"https://shop.example"}}
		r := e.do("POST", "/v1/track", h, `{"writeKey":"`+server+`","userId":"u","event":"X"}`)
		if r.status != http.StatusForbidden || !strings.Contains(r.errorBody(t).Message, "server key") {
			t.Fatalf("a server key from a browser: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/v1/track", h, `{"writeKey":"`+e.write+`","userId":"u","event":"X"}`); r.status != http.StatusOK {
			t.Fatalf("the public key from a browser: %d %s", r.status, r.body)
		}
	})
}

// TestServerKeysAPI: owners and admins create server keys through the API;
// their secrets ingest.
func TestServerKeysAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var k struct {
			touchbase.Key
			Secret string `json:"secret"`
		}
		e.mustAPI(e.owner, "POST", "/keys", map[string]any{"kind": "server", "name": "backend"}, http.StatusCreated).decode(t, &k)
		if k.Kind != touchbase.KeyServer || !strings.HasPrefix(k.Secret, "tbs_") || k.Role != "" {
			t.Fatalf("created %+v", k)
		}
		if r := e.api(e.owner, "POST", "/keys", map[string]any{"kind": "server", "role": "admin"}); r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Fatalf("a server key with a role: %d %s", r.status, r.body)
		}
		e.mustSend("track", k.Secret, map[string]any{"userId": "u1", "event": "Signed Up"})
		if r := e.api(k.Secret, "GET", "/customers", nil); r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
			t.Fatalf("a server key read the admin API: %d", r.status)
		}
	})
}
