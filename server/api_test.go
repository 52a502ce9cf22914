package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
)

// seed sends a small store's worth of events with write key: three known
// customers (prefix+"u1".."u3"), an anonymous visitor, one order with two
// products. Identifiers carry prefix so that two workspaces' data can be
// told apart.
func seed(t *testing.T, e *env, write, prefix string) {
	t.Helper()
	id := func(s string) string { return prefix + s }
	var batch []any
	add := func(m obj) { m["messageId"] = id(fmt.Sprintf("evt-%d", len(batch))); batch = append(batch, m) }
	add(obj{"type": "identify", "userId": id("u1"), "traits": obj{"email": id("alice@example.com"), "first_name": "Alice", "plan": "gold"}})
	add(obj{"type": "identify", "userId": id("u2"), "traits": obj{"email": id("bob@example.com"), "first_name": "Bob", "plan": "free"}})
	add(obj{"type": "identify", "userId": id("u3"), "traits": obj{"phone": "+49 30 1234567", "first_name": "Carol"}})
	add(obj{"type": "page", "anonymousId": id("anon"), "name": "Home"})
	for i := 0; i < 5; i++ {
		add(obj{"type": "track", "userId": id("u1"), "event": "Product Viewed", "properties": obj{"product_id": id("p1"), "name": "Lamp", "price": 10}})
	}
	add(obj{"type": "track", "userId": id("u1"), "event": "Order Completed", "properties": obj{
		"order_id": id("o1"), "revenue": 25, "total": 30, "currency": "EUR",
		"products": []any{
			obj{"product_id": id("p1"), "name": "Lamp", "price": 10, "quantity": 2, "category": "Home"},
			obj{"product_id": id("p2"), "name": "Bulb", "price": 5, "quantity": 1, "category": "Parts"},
		},
	}})
	res := e.mustSend("batch", write, obj{"batch": batch})
	if res.Accepted != len(batch) || len(res.Rejected) > 0 {
		t.Fatalf("seed: %+v, want %d accepted", res, len(batch))
	}
}

// customerID returns the id of the customer with this user id.
func customerID(t *testing.T, e *env, token, userID string) int64 {
	t.Helper()
	var p page[touchbase.Customer]
	e.mustAPI(token, "GET", "/customers?user_id="+url.QueryEscape(userID), nil, 200).decode(t, &p)
	if len(p.Items) != 1 {
		t.Fatalf("customers with user_id %s: %d, want 1", userID, len(p.Items))
	}
	return p.Items[0].ID
}

func TestAPICustomers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		seed(t, e, e.write, "")
		tok := e.owner

		st := e.stats(tok)
		if st.Customers < 4 || st.Events < 10 || st.Orders != 1 || st.Revenue != 25 || st.Products != 2 {
			t.Errorf("stats %+v, want >= 4 customers, >= 10 events, 1 order, revenue 25, 2 products", st)
		}

		list := func(query string) []touchbase.Customer {
			t.Helper()
			var p page[touchbase.Customer]
			e.mustAPI(tok, "GET", "/customers?"+query, nil, 200).decode(t, &p)
			return p.Items
		}
		u1 := customerID(t, e, tok, "u1")
		for _, q := range []string{"user_id=u1", "email=ALICE@example.com", "q=alic", "trait=plan&trait_value=gold", "min_orders=1"} {
			items := list(q)
			if len(items) != 1 || items[0].ID != u1 {
				t.Errorf("customers?%s: %d items, want only u1", q, len(items))
			}
		}
		c := list("user_id=u1")[0]
		if c.Email != "alice@example.com" || c.Traits["first_name"] != "Alice" || c.Features.Orders != 1 || c.Features.Revenue != 25 {
			t.Errorf("u1 = %+v", c)
		}
		if items := list("phone=" + url.QueryEscape("+49 30 1234567")); len(items) != 1 || items[0].UserID != "u3" {
			t.Errorf("customers by phone: %+v", items)
		}
		if items := list("anonymous_id=anon"); len(items) != 1 {
			t.Errorf("customers by anonymous id: %+v", items)
		}
		if items := list("user_id=nobody"); len(items) != 0 {
			t.Errorf("customers?user_id=nobody: %d items", len(items))
		}

		// Keyset paging visits every customer once.
		seen := map[int64]bool{}
		cursor := ""
		for i := 0; ; i++ {
			var p page[touchbase.Customer]
			e.mustAPI(tok, "GET", "/customers?limit=1&sort=id&cursor="+url.QueryEscape(cursor), nil, 200).decode(t, &p)
			if len(p.Items) > 1 {
				t.Fatalf("limit=1 gave %d items", len(p.Items))
			}
			for _, c := range p.Items {
				if seen[c.ID] {
					t.Fatalf("customer %d on two pages", c.ID)
				}
				seen[c.ID] = true
			}
			if p.Next == nil {
				break
			}
			if i > 20 {
				t.Fatal("paging does not end")
			}
			cursor = *p.Next
		}
		if int64(len(seen)) != st.Customers {
			t.Errorf("paging saw %d customers, stats say %d", len(seen), st.Customers)
		}

		// Bad input names the parameter.
		for q, field := range map[string]string{
			"limit=0": "query.limit", "limit=abc": "query.limit", "limit=5000": "query.limit",
			"sort=bogus": "query.sort", "min_orders=-1": "query.min_orders", "seen_since=yesterday": "query.seen_since",
		} {
			r := e.api(tok, "GET", "/customers?"+q, nil)
			if r.status != 400 {
				t.Errorf("customers?%s: status %d, want 400: %s", q, r.status, r.body)
				continue
			}
			if eb := r.errorBody(t); eb.Code != touchbase.EINVALID || !hasField(eb.Fields, field) {
				t.Errorf("customers?%s: %s, want invalid naming %s", q, r.body, field)
			}
		}
		if r := e.api(tok, "GET", "/customers?cursor=garbage", nil); r.status != 400 {
			t.Errorf("bad cursor: status %d, want 400: %s", r.status, r.body)
		} else {
			r.errorBody(t)
		}

		// The 360 document.
		var prof struct {
			touchbase.Customer
			Orders     []touchbase.Order `json:"orders"`
			Events     []touchbase.Event `json:"events"`
			EventsNext *string           `json:"events_next"`
		}
		e.mustAPI(tok, "GET", "/customers/"+itoa(u1), nil, 200).decode(t, &prof)
		kinds := map[touchbase.IdentityKind]string{}
		for _, id := range prof.Identities {
			kinds[id.Kind] = id.Value
		}
		if kinds[touchbase.IdentityUserID] != "u1" || kinds[touchbase.IdentityEmail] != "alice@example.com" {
			t.Errorf("identities %+v", prof.Identities)
		}
		if len(prof.Orders) != 1 || prof.Orders[0].OrderID != "o1" || len(prof.Orders[0].Items) != 2 {
			t.Errorf("profile orders %+v", prof.Orders)
		}
		if len(prof.Events) < 7 {
			t.Errorf("profile has %d events, want >= 7", len(prof.Events))
		}
		for _, path := range []string{"/customers/999999999", "/customers/999999999/events", "/customers/999999999/export"} {
			r := e.api(tok, "GET", path, nil)
			if r.status != 404 || r.errorBody(t).Code != touchbase.ENOTFOUND {
				t.Errorf("GET %s: status %d, want 404: %s", path, r.status, r.body)
			}
		}
		if r := e.api(tok, "GET", "/customers/abc", nil); r.status != 400 {
			t.Errorf("GET /customers/abc: status %d, want 400", r.status)
		} else if !hasField(r.errorBody(t).Fields, "path.id") {
			t.Errorf("GET /customers/abc does not name path.id: %s", r.body)
		}

		// The timeline pages newest first and filters.
		var all []touchbase.Event
		cursor = ""
		for i := 0; i < 20; i++ {
			var p page[touchbase.Event]
			e.mustAPI(tok, "GET", fmt.Sprintf("/customers/%d/events?limit=3&cursor=%s", u1, url.QueryEscape(cursor)), nil, 200).decode(t, &p)
			all = append(all, p.Items...)
			if p.Next == nil {
				break
			}
			cursor = *p.Next
		}
		if len(all) != 7 {
			t.Errorf("timeline of u1 has %d events, want 7", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].Timestamp.After(all[i-1].Timestamp) {
				t.Errorf("timeline not newest first at %d", i)
			}
		}
		var orders page[touchbase.Event]
		e.mustAPI(tok, "GET", fmt.Sprintf("/customers/%d/events?type=track&event=%s", u1, url.QueryEscape("Order Completed")), nil, 200).decode(t, &orders)
		if len(orders.Items) != 1 || orders.Items[0].Event != "Order Completed" {
			t.Errorf("timeline filtered on Order Completed: %+v", orders.Items)
		}

		// Patch traits: merge, null removes.
		var patched touchbase.Customer
		e.mustAPI(tok, "PATCH", "/customers/"+itoa(u1), obj{"traits": obj{"plan": "platinum", "first_name": nil, "vip": true}}, 200).decode(t, &patched)
		if patched.Traits["plan"] != "platinum" || patched.Traits["vip"] != true || patched.Traits["first_name"] != nil {
			t.Errorf("patched traits %v", patched.Traits)
		}
		if _, ok := patched.Traits["first_name"]; ok {
			t.Errorf("first_name not removed: %v", patched.Traits)
		}
		for name, body := range map[string]any{
			"traits not an object": obj{"traits": "gold"},
			"no traits":            obj{},
			"unknown field":        obj{"traits": obj{}, "email": "x@example.com"},
			"not JSON":             "{traits",
		} {
			r := e.api(tok, "PATCH", "/customers/"+itoa(u1), body)
			if r.status != 400 {
				t.Errorf("PATCH with %s: status %d, want 400: %s", name, r.status, r.body)
				continue
			}
			r.errorBody(t)
		}
		if r := e.api(tok, "PATCH", "/customers/999999999", obj{"traits": obj{"a": 1}}); r.status != 404 {
			t.Errorf("PATCH unknown customer: status %d", r.status)
		}

		// Export, then erase.
		r := e.mustAPI(tok, "GET", "/customers/"+itoa(u1)+"/export", nil, 200)
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("export Content-Disposition %q", cd)
		}
		var x touchbase.CustomerExport
		r.decode(t, &x)
		if x.Customer == nil || x.Customer.ID != u1 || len(x.Events) != 7 || len(x.Orders) != 1 {
			t.Errorf("export: customer %v, %d events, %d orders", x.Customer, len(x.Events), len(x.Orders))
		}
		e.mustAPI(tok, "DELETE", "/customers/"+itoa(u1), nil, 204)
		if r := e.api(tok, "GET", "/customers/"+itoa(u1), nil); r.status != 404 && r.status != 410 {
			t.Errorf("erased customer: status %d, want 404 or 410", r.status)
		}
		if r := e.api(tok, "DELETE", "/customers/"+itoa(u1), nil); r.status != 404 && r.status != 410 {
			t.Errorf("erase twice: status %d", r.status)
		}
		// A late event from the erased customer is accepted but does not
		// bring them back.
		e.mustSend("track", e.write, obj{"userId": "u1", "event": "Late"})
		if items := list("user_id=u1"); len(items) != 0 {
			t.Errorf("erased customer recreated by a late event: %+v", items)
		}
	})
}

func TestAPIEventsOrdersProducts(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		seed(t, e, e.write, "")
		tok := e.owner

		var evs page[touchbase.Event]
		e.mustAPI(tok, "GET", "/events?type=identify", nil, 200).decode(t, &evs)
		if len(evs.Items) != 3 {
			t.Errorf("identify events: %d, want 3", len(evs.Items))
		}
		for _, ev := range evs.Items {
			if ev.Type != touchbase.EventIdentify {
				t.Errorf("type filter let %s through", ev.Type)
			}
		}
		var one touchbase.Event
		e.mustAPI(tok, "GET", "/events/"+itoa(evs.Items[0].ID), nil, 200).decode(t, &one)
		if one.MessageID != evs.Items[0].MessageID {
			t.Errorf("event %d: message id %q, want %q", one.ID, one.MessageID, evs.Items[0].MessageID)
		}
		e.mustAPI(tok, "GET", "/events?event="+url.QueryEscape("Product Viewed")+"&limit=2", nil, 200).decode(t, &evs)
		if len(evs.Items) != 2 || evs.Next == nil {
			t.Errorf("Product Viewed limit 2: %d items, next %v", len(evs.Items), evs.Next)
		}
		since := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		e.mustAPI(tok, "GET", "/events?since="+since, nil, 200).decode(t, &evs)
		if len(evs.Items) != 0 {
			t.Errorf("events since an hour from now: %d", len(evs.Items))
		}
		if r := e.api(tok, "GET", "/events?type=bogus", nil); r.status != 400 {
			t.Errorf("bad type: status %d", r.status)
		}
		if r := e.api(tok, "GET", "/events/999999999", nil); r.status != 404 {
			t.Errorf("unknown event: status %d", r.status)
		}

		var orders page[touchbase.Order]
		e.mustAPI(tok, "GET", "/orders", nil, 200).decode(t, &orders)
		if len(orders.Items) != 1 || orders.Items[0].OrderID != "o1" || len(orders.Items[0].Items) != 2 {
			t.Fatalf("orders %+v", orders.Items)
		}
		e.mustAPI(tok, "GET", "/orders?status=cancelled", nil, 200).decode(t, &orders)
		if len(orders.Items) != 0 {
			t.Errorf("cancelled orders: %d", len(orders.Items))
		}
		var o touchbase.Order
		e.mustAPI(tok, "GET", "/orders/o1", nil, 200).decode(t, &o)
		if o.Revenue != 25 || o.Total != 30 || o.Currency != "EUR" || o.Status != touchbase.OrderCompleted {
			t.Errorf("order o1 %+v", o)
		}
		if r := e.api(tok, "GET", "/orders/nope", nil); r.status != 404 || r.errorBody(t).Code != touchbase.ENOTFOUND {
			t.Errorf("unknown order: status %d", r.status)
		}

		var products page[touchbase.Product]
		e.mustAPI(tok, "GET", "/products", nil, 200).decode(t, &products)
		if len(products.Items) != 2 {
			t.Errorf("products: %d, want 2", len(products.Items))
		}
		e.mustAPI(tok, "GET", "/products?category=Parts", nil, 200).decode(t, &products)
		if len(products.Items) != 1 || products.Items[0].ProductID != "p2" {
			t.Errorf("products in Parts: %+v", products.Items)
		}
		var p touchbase.Product
		e.mustAPI(tok, "GET", "/products/p1", nil, 200).decode(t, &p)
		if p.Name != "Lamp" {
			t.Errorf("product p1 %+v", p)
		}
		if r := e.api(tok, "GET", "/products/nope", nil); r.status != 404 {
			t.Errorf("unknown product: status %d", r.status)
		}
	})
}

func TestAPIWorkspacesKeysUsers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok := e.owner
		var ws touchbase.Workspace
		e.mustAPI(tok, "GET", "/workspace", nil, 200).decode(t, &ws)
		if ws.ID != e.ws.ID || ws.Name != "shop" {
			t.Errorf("workspace %+v", ws)
		}
		e.mustAPI(tok, "PATCH", "/workspace", obj{"name": "Shop One", "settings": obj{"currency": "eur", "timezone": "Europe/Berlin"}}, 200).decode(t, &ws)
		if ws.Name != "Shop One" || ws.Settings.Currency != "EUR" || ws.Settings.Timezone != "Europe/Berlin" {
			t.Errorf("patched workspace %+v", ws)
		}
		e.mustAPI(tok, "PATCH", "/workspace", obj{"settings": obj{"rate_limit": 100}}, 200).decode(t, &ws)
		if ws.Settings.Currency != "EUR" || ws.Settings.RateLimit != 100 {
			t.Errorf("a settings patch must keep the other settings: %+v", ws.Settings)
		}
		for field, body := range map[string]obj{
			"settings.timezone":           {"settings": obj{"timezone": "Mars/Olympus"}},
			"settings.currency":           {"settings": obj{"currency": "euro"}},
			"settings.allowed_origins[0]": {"settings": obj{"allowed_origins": []string{"ftp://x.example"}}},
			"settings.rate_limit":         {"settings": obj{"rate_limit": -1}},
			"name":                        {"name": ""},
		} {
			r := e.api(tok, "PATCH", "/workspace", body)
			if r.status != 400 {
				t.Errorf("PATCH /workspace %v: status %d, want 400: %s", body, r.status, r.body)
				continue
			}
			if eb := r.errorBody(t); !hasField(eb.Fields, field) {
				t.Errorf("PATCH /workspace %v: %s does not name %s", body, r.body, field)
			}
		}

		var wss page[touchbase.Workspace]
		e.mustAPI(tok, "GET", "/workspaces", nil, 200).decode(t, &wss)
		if len(wss.Items) != 1 || wss.Items[0].ID != e.ws.ID {
			t.Errorf("workspaces %+v, want only the token's", wss.Items)
		}
		var created struct {
			Workspace touchbase.Workspace `json:"workspace"`
			Token     struct {
				touchbase.Key
				Secret string `json:"secret"`
			} `json:"token"`
		}
		e.mustAPI(tok, "POST", "/workspaces", obj{"name": "Second"}, 201).decode(t, &created)
		if created.Workspace.Name != "Second" || created.Token.Secret == "" || created.Token.Role != touchbase.RoleOwner ||
			created.Token.WorkspaceID != created.Workspace.ID {
			t.Fatalf("created %+v", created)
		}
		var second touchbase.Workspace
		e.mustAPI(created.Token.Secret, "GET", "/workspace", nil, 200).decode(t, &second)
		if second.ID != created.Workspace.ID {
			t.Errorf("new token sees workspace %d, want %d", second.ID, created.Workspace.ID)
		}
		e.mustAPI(tok, "GET", "/workspaces", nil, 200).decode(t, &wss)
		if len(wss.Items) != 1 || wss.Items[0].ID != e.ws.ID {
			t.Errorf("after creating one, the old token lists %+v", wss.Items)
		}
		// Names are labels: a taken one is no conflict (it would tell
		// which names other tenants use).
		e.mustAPI(tok, "POST", "/workspaces", obj{"name": "Second"}, 201)

		// Keys.
		type createdKey struct {
			touchbase.Key
			Secret string `json:"secret"`
		}
		var k createdKey
		e.mustAPI(tok, "POST", "/keys", obj{"kind": "admin", "role": "analyst", "name": "reporting"}, 201).decode(t, &k)
		if k.Secret == "" || k.Kind != touchbase.KeyAdmin || k.Role != touchbase.RoleAnalyst || k.Name != "reporting" {
			t.Errorf("created key %+v", k)
		}
		e.mustAPI(k.Secret, "GET", "/stats", nil, 200)
		var keys page[map[string]any]
		r := e.mustAPI(tok, "GET", "/keys", nil, 200)
		r.decode(t, &keys)
		if len(keys.Items) != 3 || strings.Contains(string(r.body), k.Secret) || strings.Contains(string(r.body), "secret") {
			t.Errorf("keys list has %d keys or shows a secret: %s", len(keys.Items), r.body)
		}
		for name, body := range map[string]obj{
			"write key with a role": {"kind": "write", "role": "admin"},
			"admin token, no role":  {"kind": "admin"},
			"bad kind":              {"kind": "root"},
			"bad role":              {"kind": "admin", "role": "god"},
			"unknown field":         {"kind": "write", "scope": "all"},
		} {
			if r := e.api(tok, "POST", "/keys", body); r.status != 400 {
				t.Errorf("POST /keys %s: status %d, want 400: %s", name, r.status, r.body)
			} else {
				r.errorBody(t)
			}
		}
		e.mustAPI(tok, "DELETE", "/keys/"+itoa(k.ID), nil, 204)
		if r := e.api(k.Secret, "GET", "/stats", nil); r.status != 401 {
			t.Errorf("revoked token: status %d, want 401 at once", r.status)
		}
		if r := e.api(tok, "DELETE", "/keys/999999999", nil); r.status != 404 {
			t.Errorf("revoke unknown key: status %d", r.status)
		}

		// Users join through invitations.
		var inv server.CreatedInvitation
		e.mustAPI(tok, "POST", "/invitations", obj{"email": "Mia@Example.com", "role": "marketer"}, 201).decode(t, &inv)
		if inv.Email != "mia@example.com" || inv.Role != touchbase.RoleMarketer || inv.WorkspaceID != e.ws.ID ||
			!strings.HasPrefix(inv.Link, e.url+"/ui/invitation?token=tbi_") {
			t.Errorf("created invitation %+v", inv)
		}
		for name, body := range map[string]obj{
			"bad email": {"email": "mia", "role": "analyst"},
			"bad role":  {"email": "x@example.com", "role": "boss"},
		} {
			if r := e.api(tok, "POST", "/invitations", body); r.status != 400 {
				t.Errorf("POST /invitations %s: status %d, want 400: %s", name, r.status, r.body)
			}
		}
		m, err := e.store.AcceptInvitationAsNewUser(context.Background(), tokenOf(t, inv.Link), "Mia", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if r := e.api(tok, "POST", "/invitations", obj{"email": "mia@example.com", "role": "analyst"}); r.status != 409 {
			t.Errorf("inviting a member: status %d: %s", r.status, r.body)
		}
		var members page[touchbase.Member]
		e.mustAPI(tok, "GET", "/users", nil, 200).decode(t, &members)
		if len(members.Items) != 1 || members.Items[0].ID != m.ID {
			t.Errorf("members %+v", members.Items)
		}
		e.mustAPI(tok, "PATCH", "/users/"+itoa(m.ID), obj{"role": "analyst"}, 200).decode(t, &m)
		if m.Role != touchbase.RoleAnalyst {
			t.Errorf("role after patch: %s", m.Role)
		}
		if r := e.api(tok, "PATCH", "/users/"+itoa(m.ID), obj{"role": "boss"}); r.status != 400 {
			t.Errorf("bad role: status %d", r.status)
		}
		e.mustAPI(tok, "DELETE", "/users/"+itoa(m.ID), nil, 204)
		if r := e.api(tok, "DELETE", "/users/"+itoa(m.ID), nil); r.status != 404 {
			t.Errorf("remove twice: status %d", r.status)
		}
		if r := e.api(tok, "PATCH", "/users/999999999", obj{"role": "analyst"}); r.status != 404 {
			t.Errorf("patch unknown user: status %d", r.status)
		}
	})
}

func TestAPIAuthAndErrors(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		cases := []struct {
			name, method, path, token string
			header                    http.Header
			status                    int
			code                      string
		}{
			{name: "no token", method: "GET", path: "/api/v1/customers", status: 401, code: touchbase.EUNAUTHORIZED},
			{name: "wrong token", method: "GET", path: "/api/v1/customers", token: "nope", status: 401, code: touchbase.EUNAUTHORIZED},
			{name: "basic auth", method: "GET", path: "/api/v1/customers", header: basic(e.owner), status: 401, code: touchbase.EUNAUTHORIZED},
			{name: "write key", method: "GET", path: "/api/v1/customers", token: e.write, status: 403, code: touchbase.EFORBIDDEN},
			{name: "unknown path", method: "GET", path: "/api/v1/nope", token: e.owner, status: 404, code: touchbase.ENOTFOUND},
			{name: "unknown path, no token", method: "GET", path: "/api/v1/no-such-thing/1", status: 404, code: touchbase.ENOTFOUND},
			{name: "wrong method", method: "POST", path: "/api/v1/stats", token: e.owner, status: 405, code: touchbase.EINVALID},
			{name: "unknown top path", method: "GET", path: "/nope", status: 404, code: touchbase.ENOTFOUND},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := c.header
				if h == nil {
					h = http.Header{}
				}
				if c.token != "" {
					h.Set("Authorization", "Bearer "+c.token)
				}
				r := e.do(c.method, c.path, h, nil)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
				}
				if eb := r.errorBody(t); eb.Code != c.code {
					t.Errorf("code %q, want %q", eb.Code, c.code)
				}
				if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: Bearer")
				}
			})
		}
	})
}

func TestAPIRoles(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		seed(t, e, e.write, "")
		tokens := map[touchbase.Role]string{touchbase.RoleOwner: e.owner}
		for _, r := range []touchbase.Role{touchbase.RoleAdmin, touchbase.RoleMarketer, touchbase.RoleAnalyst} {
			tokens[r] = e.key(e.ws.ID, touchbase.KeyAdmin, r)
		}
		u2 := customerID(t, e, e.owner, "u2")
		ownerKeyID := int64(0)
		var keys page[touchbase.Key]
		e.mustAPI(e.owner, "GET", "/keys", nil, 200).decode(t, &keys)
		for _, k := range keys.Items {
			if k.Role == touchbase.RoleOwner {
				ownerKeyID = k.ID
			}
		}
		cust := "/customers/" + itoa(u2)
		cases := []struct {
			role   touchbase.Role
			method string
			path   string
			body   any
			status int
		}{
			{touchbase.RoleAnalyst, "GET", "/customers", nil, 200},
			{touchbase.RoleAnalyst, "GET", cust, nil, 200},
			{touchbase.RoleAnalyst, "GET", "/stats", nil, 200},
			{touchbase.RoleAnalyst, "GET", "/workspace", nil, 200},
			{touchbase.RoleAnalyst, "PATCH", cust, obj{"traits": obj{"analyst_was_here": true}}, 403},
			{touchbase.RoleAnalyst, "DELETE", cust, nil, 403},
			{touchbase.RoleAnalyst, "GET", cust + "/export", nil, 403},
			{touchbase.RoleAnalyst, "GET", "/keys", nil, 403},
			{touchbase.RoleAnalyst, "POST", "/keys", obj{"kind": "write"}, 403},
			{touchbase.RoleAnalyst, "GET", "/users", nil, 403},
			{touchbase.RoleAnalyst, "PATCH", "/workspace", obj{"name": "x"}, 403},
			{touchbase.RoleAnalyst, "POST", "/workspaces", obj{"name": "x"}, 403},

			{touchbase.RoleMarketer, "PATCH", cust, obj{"traits": obj{"by": "marketer"}}, 200},
			{touchbase.RoleMarketer, "DELETE", cust, nil, 403},
			{touchbase.RoleMarketer, "GET", cust + "/export", nil, 403},
			{touchbase.RoleMarketer, "GET", "/keys", nil, 403},
			{touchbase.RoleMarketer, "POST", "/keys", obj{"kind": "write"}, 403},
			{touchbase.RoleMarketer, "POST", "/invitations", obj{"email": "m@example.com", "role": "analyst"}, 403},
			{touchbase.RoleMarketer, "GET", "/invitations", nil, 403},
			{touchbase.RoleMarketer, "PATCH", "/workspace", obj{"name": "x"}, 403},

			{touchbase.RoleAdmin, "GET", cust + "/export", nil, 200},
			{touchbase.RoleAdmin, "GET", "/keys", nil, 200},
			{touchbase.RoleAdmin, "POST", "/keys", obj{"kind": "admin", "role": "analyst"}, 201},
			{touchbase.RoleAdmin, "POST", "/keys", obj{"kind": "admin", "role": "owner"}, 403},
			{touchbase.RoleAdmin, "DELETE", "/keys/" + itoa(ownerKeyID), nil, 403},
			{touchbase.RoleAdmin, "POST", "/invitations", obj{"email": "o@example.com", "role": "owner"}, 403},
			{touchbase.RoleAdmin, "POST", "/invitations", obj{"email": "a@example.com", "role": "admin"}, 201},
			{touchbase.RoleAdmin, "PATCH", "/workspace", obj{"settings": obj{"currency": "USD"}}, 200},
			{touchbase.RoleAdmin, "POST", "/workspaces", obj{"name": "by admin"}, 403},

			{touchbase.RoleOwner, "POST", "/keys", obj{"kind": "admin", "role": "owner"}, 201},
			{touchbase.RoleOwner, "POST", "/invitations", obj{"email": "o@example.com", "role": "owner"}, 201},
			{touchbase.RoleOwner, "POST", "/workspaces", obj{"name": "by owner"}, 201},
		}
		for _, c := range cases {
			r := e.api(tokens[c.role], c.method, c.path, c.body)
			if r.status != c.status {
				t.Errorf("%s %s %s: status %d, want %d: %s", c.role, c.method, c.path, r.status, c.status, r.body)
				continue
			}
			if c.status == 403 && r.errorBody(t).Code != touchbase.EFORBIDDEN {
				t.Errorf("%s %s %s: %s", c.role, c.method, c.path, r.body)
			}
		}
		// The analyst's refused patch changed nothing; the marketer's did.
		var c touchbase.Customer
		e.mustAPI(e.owner, "GET", cust, nil, 200).decode(t, &c)
		if c.Traits["by"] != "marketer" || c.Traits["analyst_was_here"] != nil {
			t.Errorf("traits after the role checks: %v", c.Traits)
		}
		e.mustAPI(tokens[touchbase.RoleAnalyst], "DELETE", cust, nil, 403)
		e.mustAPI(e.owner, "DELETE", cust, nil, 204)
	})
}
