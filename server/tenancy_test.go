package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
)

// openAPIOps returns "METHOD /path" of every operation in the served
// OpenAPI document.
func openAPIOps(t *testing.T, e *env) []string {
	t.Helper()
	r := e.do("GET", "/api/v1/openapi.json", nil, nil)
	if r.status != 200 {
		t.Fatalf("GET /api/v1/openapi.json: status %d", r.status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	r.decode(t, &doc)
	var ops []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete":
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// TestTenancy proves, for every operation the OpenAPI document lists, that
// workspace B's most powerful token can neither see nor change workspace A's
// data, and that A's write key reads nothing.
func TestTenancy(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// Workspace A is e's; B has its own keys and overlapping user ids.
		seed(t, e, e.write, "a-")
		aCustomer := customerID(t, e, e.owner, "a-u1")
		var aEvents page[touchbase.Event]
		e.mustAPI(e.owner, "GET", "/events?limit=1", nil, 200).decode(t, &aEvents)
		var aInv, aPending server.CreatedInvitation
		e.mustAPI(e.owner, "POST", "/invitations", obj{"email": "a-admin@example.com", "role": "admin"}, 201).decode(t, &aInv)
		aUser, err := e.store.AcceptInvitationAsNewUser(context.Background(), tokenOf(t, aInv.Link), "A Admin", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		e.mustAPI(e.owner, "POST", "/invitations", obj{"email": "a-pending@example.com", "role": "analyst"}, 201).decode(t, &aPending)
		var aKeys page[touchbase.Key]
		e.mustAPI(e.owner, "GET", "/keys", nil, 200).decode(t, &aKeys)
		e.mustAPI(e.owner, "PATCH", "/workspace", obj{"name": "a-shop"}, 200)
		var aSegment touchbase.Segment
		e.mustAPI(e.owner, "POST", "/segments", obj{"name": "a-vip", "text": `orders >= 1 or user_id = "a-u1"`}, 201).decode(t, &aSegment)
		var aBasket, aRFM touchbase.AnalysisRun
		e.mustAPI(e.owner, "POST", "/analyses/basket?wait=true", obj{"min_support": 0.01, "min_confidence": 0.01}, 200).decode(t, &aBasket)
		e.mustAPI(e.owner, "POST", "/analyses/rfm?wait=true", obj{}, 200).decode(t, &aRFM)
		if !strings.Contains(string(aBasket.Result), "a-p1") {
			t.Fatalf("A's basket analysis does not name a-p1, so the test cannot tell whether B sees it: %s", aBasket.Result)
		}
		var aImport touchbase.Import
		e.mustAPI(e.owner, "POST", "/imports?kind=customers&file_name=a-import.ndjson", obj{"type": "identify", "userId": "a-imported"}, 202).decode(t, &aImport)

		// The import runs in the background: let it finish before the
		// snapshot of A.
		for deadline := time.Now().Add(10 * time.Second); aImport.Status != touchbase.ImportDone; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("A's import is still %s", aImport.Status)
			}
			e.mustAPI(e.owner, "GET", "/imports/"+itoa(aImport.ID), nil, 200).decode(t, &aImport)
		}
		b := e.workspace("b-shop")
		bWrite := e.key(b.ID, touchbase.KeyWrite, "")
		bOwner := e.key(b.ID, touchbase.KeyAdmin, touchbase.RoleOwner)
		seed(t, e, bWrite, "b-")
		e.mustSend("identify", bWrite, obj{"userId": "a-u1", "traits": obj{"note": "same user id, other workspace"}})

		before := snapshot(t, e, e.owner)

		// A's identifiers, for the path parameters.
		params := map[string]string{
			"/api/v1/customers/{id}":                itoa(aCustomer),
			"/api/v1/customers/{id}/events":         itoa(aCustomer),
			"/api/v1/customers/{id}/export":         itoa(aCustomer),
			"/api/v1/events/{id}":                   itoa(aEvents.Items[0].ID),
			"/api/v1/keys/{id}":                     itoa(aKeys.Items[0].ID),
			"/api/v1/users/{id}":                    itoa(aUser.ID),
			"/api/v1/invitations/{id}":              itoa(aPending.ID),
			"/api/v1/orders/{order_id}":             "a-o1",
			"/api/v1/products/{product_id}":         "a-p1",
			"/api/v1/imports/{id}":                  itoa(aImport.ID),
			"/api/v1/customers/{id}/segments":       itoa(aCustomer),
			"/api/v1/segments/{id}":                 itoa(aSegment.ID),
			"/api/v1/segments/{id}/members":         itoa(aSegment.ID),
			"/api/v1/segments/{id}/members/remove":  itoa(aSegment.ID),
			"/api/v1/segments/{id}/export":          itoa(aSegment.ID),
			"/api/v1/segments/{id}/sizes":           itoa(aSegment.ID),
			"/api/v1/segments/{id}/overlap/{other}": itoa(aSegment.ID),
			// The customer too is A's: either id is unknown to B.
			"/api/v1/segments/{id}/explain/{customer_id}":   itoa(aSegment.ID),
			"/api/v1/analyses/{kind}":                       "basket",
			"/api/v1/analyses/runs/{id}":                    itoa(aBasket.ID),
			"/api/v1/customers/{id}/recommendations":        itoa(aCustomer),
			"/api/v1/products/{product_id}/similar":         "a-p1",
			"/api/v1/products/{product_id}/bought-together": "a-p1",
		}
		// Path parameters that name no data of A's: B gets its own.
		ownedByNone := map[string]bool{"/api/v1/analyses/{kind}": true}
		// Query strings for the operations that need one.
		queries := map[string]string{
			"POST /api/v1/imports":         "?kind=customers&file_name=b-import.ndjson",
			"POST /api/v1/analyses/{kind}": "?wait=true",
		}
		// Bodies for the operations that take one.
		bodies := map[string]any{
			"PATCH /api/v1/customers/{id}":              obj{"traits": obj{"hacked": true}},
			"PATCH /api/v1/users/{id}":                  obj{"role": "analyst"},
			"PATCH /api/v1/workspace":                   obj{"name": "b-renamed", "settings": obj{"rate_limit": 1}},
			"POST /api/v1/workspaces":                   obj{"name": "c-shop"},
			"POST /api/v1/keys":                         obj{"kind": "admin", "role": "owner", "name": "b-key"},
			"POST /api/v1/invitations":                  obj{"email": "b-user@example.com", "role": "owner"},
			"POST /api/v1/imports":                      obj{"type": "identify", "userId": "b-imported"},
			"POST /api/v1/segments":                     obj{"name": "b-seg", "text": "orders >= 1"},
			"POST /api/v1/segments/preview":             obj{"text": "orders >= 0"},
			"PATCH /api/v1/segments/{id}":               obj{"name": "hacked", "text": "orders >= 0"},
			"POST /api/v1/segments/{id}/members":        obj{"customer_ids": []int64{aCustomer}},
			"POST /api/v1/segments/{id}/members/remove": obj{"customer_ids": []int64{aCustomer}},
			"POST /api/v1/analyses/{kind}":              obj{"min_support": 0.01, "min_confidence": 0.01},
		}
		// What of A's may never show up in B's answers.
		aMarkers := []string{"a-evt-", "a-alice", "a-bob", "a-o1", "a-p1", "a-p2", "a-anon", "a-shop", "a-admin@example.com", "a-pending", "a-import", "a-vip"}
		param := regexp.MustCompile(`\{[a-z_]+\}`)

		ops := openAPIOps(t, e)
		if len(ops) < 20 {
			t.Fatalf("the OpenAPI document lists only %d operations: %v", len(ops), ops)
		}
		for _, op := range ops {
			method, path, _ := strings.Cut(op, " ")
			concrete := path
			if param.MatchString(path) {
				v, ok := params[path]
				if !ok {
					t.Errorf("%s: a new endpoint with a path parameter: give the tenancy test one of workspace A's ids for it", op)
					continue
				}
				concrete = param.ReplaceAllString(path, v)
			}
			var body any
			if method != "GET" && method != "DELETE" {
				var ok bool
				if body, ok = bodies[op]; !ok {
					t.Errorf("%s: a new endpoint that takes a body: give the tenancy test one", op)
					continue
				}
			}
			rel := strings.TrimPrefix(concrete, "/api/v1") + queries[op]

			// B's owner token.
			r := e.api(bOwner, method, rel, body)
			switch {
			case concrete != path && !ownedByNone[path]:
				// Every path parameter names A's data: it does not exist for B.
				if r.status != http.StatusNotFound {
					t.Errorf("B's token: %s %s: status %d, want 404: %s", method, concrete, r.status, r.body)
				} else if r.errorBody(t).Code != touchbase.ENOTFOUND {
					t.Errorf("B's token: %s %s: %s", method, concrete, r.body)
				}
			case r.status == http.StatusNotFound && ownedByNone[path]:
				// B's own: it may have none yet (B's analyses run later).
			case r.status >= 300:
				t.Errorf("B's token: %s %s: status %d: %s", method, concrete, r.status, r.body)
			}
			// A 404 may echo the id it was asked for; nothing else of A's.
			shown := string(r.body)
			if r.status >= 400 && concrete != path && !ownedByNone[path] {
				shown = strings.ReplaceAll(shown, params[path], "")
			}
			for _, m := range aMarkers {
				if strings.Contains(shown, m) {
					t.Errorf("B's token: %s %s shows A's %q: %s", method, concrete, m, r.body)
				}
			}

			// A's write key and no token at all read and change nothing.
			for name, tok := range map[string]string{"A's write key": e.write, "no token": ""} {
				r := e.api(tok, method, rel, body)
				if r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
					t.Errorf("%s: %s %s: status %d, want 401 or 403: %s", name, method, concrete, r.status, r.body)
				}
				r.errorBody(t)
			}
		}

		// A is exactly as it was.
		after := snapshot(t, e, e.owner)
		for k, v := range before {
			if after[k] != v {
				t.Errorf("A's %s changed:\nbefore %s\nafter  %s", k, v, after[k])
			}
		}
		// And B's own writes landed in B.
		var bws touchbase.Workspace
		e.mustAPI(bOwner, "GET", "/workspace", nil, 200).decode(t, &bws)
		if bws.ID != b.ID || bws.Name != "b-renamed" {
			t.Errorf("B's workspace %+v, want b-renamed", bws)
		}
	})
}

// snapshot returns what a token's workspace holds, as JSON per resource.
func snapshot(t *testing.T, e *env, token string) map[string]string {
	t.Helper()
	s := map[string]string{}
	for _, path := range []string{"/stats", "/workspace", "/workspaces", "/customers?limit=1000", "/events?limit=1000",
		"/orders?limit=1000", "/products?limit=1000", "/keys", "/users", "/invitations", "/segments"} {
		s[path] = string(e.mustAPI(token, "GET", path, nil, 200).body)
	}
	var cs page[touchbase.Customer]
	e.mustAPI(token, "GET", "/customers?limit=1000", nil, 200).decode(t, &cs)
	for _, c := range cs.Items {
		p := "/customers/" + itoa(c.ID)
		s[p] = string(e.mustAPI(token, "GET", p, nil, 200).body)
	}
	return s
}

// TestOpenAPI checks that the document is served as OpenAPI 3.1, lists
// exactly the admin API's routes, and describes errors in the one shape.
func TestOpenAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/api/v1/openapi.json", nil, nil)
		if r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		var doc struct {
			OpenAPI    string `json:"openapi"`
			Components struct {
				Schemas         map[string]json.RawMessage `json:"schemas"`
				SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
			} `json:"components"`
		}
		r.decode(t, &doc)
		if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
			t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
		}
		if _, ok := doc.Components.SecuritySchemes["bearer"]; !ok {
			t.Errorf("no bearer security scheme")
		}
		if _, ok := doc.Components.Schemas["ErrorResponse"]; !ok {
			t.Errorf("errors are not documented as ErrorResponse; schemas: %v", keys(doc.Components.Schemas))
		}
		want := []string{
			"DELETE /api/v1/customers/{id}", "DELETE /api/v1/keys/{id}", "DELETE /api/v1/users/{id}",
			"GET /api/v1/customers", "GET /api/v1/customers/{id}", "GET /api/v1/customers/{id}/events",
			"GET /api/v1/customers/{id}/export", "GET /api/v1/events", "GET /api/v1/events/{id}",
			"GET /api/v1/imports", "GET /api/v1/imports/{id}", "GET /api/v1/keys", "GET /api/v1/orders", "GET /api/v1/orders/{order_id}", "GET /api/v1/products",
			"GET /api/v1/products/{product_id}", "GET /api/v1/stats", "GET /api/v1/users", "GET /api/v1/workspace",
			"GET /api/v1/workspaces", "PATCH /api/v1/customers/{id}", "PATCH /api/v1/users/{id}",
			"PATCH /api/v1/workspace", "POST /api/v1/imports", "POST /api/v1/keys", "POST /api/v1/workspaces",
			"DELETE /api/v1/invitations/{id}", "GET /api/v1/invitations", "POST /api/v1/invitations",
			"DELETE /api/v1/segments/{id}", "GET /api/v1/customers/{id}/segments", "GET /api/v1/segments", "GET /api/v1/segments/{id}",
			"GET /api/v1/segments/{id}/explain/{customer_id}", "GET /api/v1/segments/{id}/export", "GET /api/v1/segments/{id}/members",
			"GET /api/v1/segments/{id}/overlap/{other}", "GET /api/v1/segments/{id}/sizes", "PATCH /api/v1/segments/{id}",
			"POST /api/v1/segments", "POST /api/v1/segments/preview", "POST /api/v1/segments/{id}/members",
			"POST /api/v1/segments/{id}/members/remove",
			"GET /api/v1/analyses/runs", "GET /api/v1/analyses/runs/{id}", "GET /api/v1/analyses/{kind}", "POST /api/v1/analyses/{kind}",
			"GET /api/v1/customers/{id}/recommendations", "GET /api/v1/products/{product_id}/similar",
			"GET /api/v1/products/{product_id}/bought-together",
		}
		sort.Strings(want)
		got := openAPIOps(t, e)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
