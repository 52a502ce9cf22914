package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
)

func basic(key string) http.Header {
	req, _ := http.NewRequest("POST", "/", nil)
	req.SetBasicAuth(key, "")
	return http.Header{"Authorization": {req.Header.Get("Authorization")}, "Content-Type": {"application/json"}}
}

func with(h http.Header, kv ...string) http.Header {
	h = h.Clone()
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestIngestScenarios(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.key(e.ws.ID, touchbase.KeyAdmin, touchbase.RoleAdmin)
		rk, revoked, err := e.store.CreateKey(ctx, e.ws.ID, touchbase.KeyWrite, "", "old site")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.RevokeKey(ctx, e.ws.ID, rk.ID); err != nil {
			t.Fatal(err)
		}

		track := func(id string) obj {
			return obj{"type": "track", "messageId": id, "userId": "u1", "event": "Viewed", "properties": obj{"n": 1}}
		}
		batch := func(events ...any) []byte { return mustJSON(t, obj{"batch": events}) }
		bigProps := strings.Repeat("x", 33<<10)
		var bigBatch []any
		for i := 0; len(bigBatch)*1100 < 520<<10; i++ {
			bigBatch = append(bigBatch, obj{"type": "track", "messageId": fmt.Sprintf("big-%d", i), "userId": "u1",
				"event": "Big", "properties": obj{"pad": strings.Repeat("y", 1000)}})
		}
		partial := batch(
			track("partial-0"),
			obj{"type": "track", "messageId": "partial-1", "userId": "u2"},
			track("partial-2"),
			"not an object",
		)
		fullBatch := batch(track("batch-0"), track("batch-1"), track("batch-2"))

		cases := []struct {
			name     string
			method   string // POST when empty
			endpoint string
			header   http.Header
			body     []byte
			status   int
			code     string
			field    string // a field the error names
			accepted int
			rejected []int // indexes reported in a 200
			stored   []string
			refused  []string // messageIds that must not be stored
		}{
			{name: "identify with basic auth", endpoint: "identify", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "identify-1", "userId": "u1", "traits": obj{"email": "Ada@Example.com", "name": "Ada"}}),
				status: 200, accepted: 1, stored: []string{"identify-1"}},
			{name: "track with writeKey in body", endpoint: "track", header: http.Header{"Content-Type": {"application/json"}},
				body:   mustJSON(t, obj{"writeKey": e.write, "messageId": "track-1", "userId": "u1", "event": "Signed Up", "properties": obj{"plan": "pro"}}),
				status: 200, accepted: 1, stored: []string{"track-1"}},
			{name: "page", endpoint: "page", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "page-1", "anonymousId": "a1", "name": "Home", "properties": obj{"url": "https://shop.example/"}}),
				status: 200, accepted: 1, stored: []string{"page-1"}},
			{name: "screen", endpoint: "screen", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "screen-1", "userId": "u1", "name": "Cart"}),
				status: 200, accepted: 1, stored: []string{"screen-1"}},
			{name: "group", endpoint: "group", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "group-1", "userId": "u1", "groupId": "g1", "traits": obj{"name": "ACME"}}),
				status: 200, accepted: 1, stored: []string{"group-1"}},
			{name: "alias", endpoint: "alias", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "alias-1", "userId": "u1", "previousId": "a1"}),
				status: 200, accepted: 1, stored: []string{"alias-1"}},
			{name: "batch", endpoint: "batch", header: basic(e.write), body: fullBatch,
				status: 200, accepted: 3, stored: []string{"batch-0", "batch-1", "batch-2"}},
			{name: "import is batch", endpoint: "import", header: basic(e.write),
				body:   batch(track("import-0"), track("import-1")),
				status: 200, accepted: 2, stored: []string{"import-0", "import-1"}},
			{name: "analytics.js short form /v1/t", endpoint: "t", header: http.Header{"Content-Type": {"text/plain"}},
				body:   mustJSON(t, obj{"writeKey": e.write, "messageId": "short-t", "anonymousId": "a1", "event": "Clicked"}),
				status: 200, accepted: 1, stored: []string{"short-t"}},
			{name: "gzip batch", endpoint: "batch", header: with(basic(e.write), "Content-Encoding", "gzip"),
				body:   gzipped(t, batch(track("gzip-0"), track("gzip-1"))),
				status: 200, accepted: 2, stored: []string{"gzip-0", "gzip-1"}},
			{name: "charset and extra headers (RudderStack)", endpoint: "batch",
				header: with(basic(e.write), "Content-Type", "application/json; charset=utf-8", "AnonymousId", "a9", "User-Agent", "RudderGo/1.0", "X-Extra", "1"),
				body:   batch(track("rudder-0")), status: 200, accepted: 1, stored: []string{"rudder-0"}},
			{name: "text/plain with writeKey (tracker)", endpoint: "batch", header: http.Header{"Content-Type": {"text/plain;charset=UTF-8"}},
				body:   mustJSON(t, obj{"writeKey": e.write, "batch": []any{track("tracker-0")}}),
				status: 200, accepted: 1, stored: []string{"tracker-0"}},
			{name: "no content type", endpoint: "track", header: http.Header{"Authorization": basic(e.write)["Authorization"]},
				body: mustJSON(t, track("noct-1")), status: 200, accepted: 1, stored: []string{"noct-1"}},

			{name: "partial batch keeps the valid events", endpoint: "batch", header: basic(e.write), body: partial,
				status: 200, accepted: 2, rejected: []int{1, 3}, stored: []string{"partial-0", "partial-2"}, refused: []string{"partial-1"}},
			{name: "resent partial batch stores nothing twice", endpoint: "batch", header: basic(e.write), body: partial,
				status: 200, accepted: 2, rejected: []int{1, 3}},
			{name: "resent batch stores nothing twice", endpoint: "batch", header: basic(e.write), body: fullBatch,
				status: 200, accepted: 3},
			{name: "resent gzip batch", endpoint: "import", header: with(basic(e.write), "Content-Encoding", "gzip"),
				body:   gzipped(t, batch(track("gzip-0"), track("gzip-1"))),
				status: 200, accepted: 2},

			{name: "bad gzip", endpoint: "batch", header: with(basic(e.write), "Content-Encoding", "gzip"),
				body: batch(track("badgzip-0")), status: 400, code: touchbase.EINVALID, refused: []string{"badgzip-0"}},
			{name: "truncated gzip", endpoint: "batch", header: with(basic(e.write), "Content-Encoding", "gzip"),
				body:   gzipped(t, batch(track("truncgzip-0")))[:30],
				status: 400, code: touchbase.EINVALID, refused: []string{"truncgzip-0"}},
			{name: "malformed JSON", endpoint: "track", header: basic(e.write),
				body: []byte(`{"messageId": "malformed-1", "userId": "u1", "event": "X",`), status: 400, code: touchbase.EINVALID,
				refused: []string{"malformed-1"}},
			{name: "malformed batch", endpoint: "batch", header: basic(e.write),
				body: []byte(`{"batch": [{"messageId": "malformed-2", "type": "track", "userId": "u1", "event": "X"}`), status: 400, code: touchbase.EINVALID,
				refused: []string{"malformed-2"}},
			{name: "wrong type", endpoint: "track", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "wrongtype-1", "userId": "u1", "event": 42}),
				status: 400, code: touchbase.EINVALID, field: "event", refused: []string{"wrongtype-1"}},
			{name: "properties not an object", endpoint: "track", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "wrongtype-2", "userId": "u1", "event": "X", "properties": "x"}),
				status: 400, code: touchbase.EINVALID, field: "properties", refused: []string{"wrongtype-2"}},
			{name: "invalid UTF-8", endpoint: "track", header: basic(e.write),
				body:   []byte("{\"messageId\": \"utf8-1\", \"userId\": \"u1\", \"event\": \"caf\xe9\"}"),
				status: 400, code: touchbase.EINVALID, refused: []string{"utf8-1"}},
			{name: "missing userId and anonymousId", endpoint: "track", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "noid-1", "event": "X"}),
				status: 400, code: touchbase.EINVALID, field: "userId", refused: []string{"noid-1"}},
			{name: "unknown type", endpoint: "batch", header: basic(e.write),
				body:   batch(obj{"type": "purchase", "messageId": "unknown-1", "userId": "u1"}),
				status: 400, code: touchbase.EINVALID, field: "type", refused: []string{"unknown-1"}},
			{name: "empty batch", endpoint: "batch", header: basic(e.write), body: batch(),
				status: 400, code: touchbase.EINVALID, field: "batch"},
			{name: "oversized event", endpoint: "track", header: basic(e.write),
				body:   mustJSON(t, obj{"messageId": "big-event", "userId": "u1", "event": "X", "properties": obj{"pad": bigProps}}),
				status: 413, code: touchbase.ETOOLARGE, refused: []string{"big-event"}},
			{name: "oversized batch", endpoint: "batch", header: basic(e.write), body: batch(bigBatch...),
				status: 413, code: touchbase.ETOOLARGE, refused: []string{"big-0"}},
			{name: "oversized gzip batch", endpoint: "batch", header: with(basic(e.write), "Content-Encoding", "gzip"),
				body: gzipped(t, batch(bigBatch...)), status: 413, code: touchbase.ETOOLARGE, refused: []string{"big-1"}},
			{name: "oversized event in a batch", endpoint: "batch", header: basic(e.write),
				body:   batch(track("withbig-0"), obj{"type": "track", "messageId": "withbig-1", "userId": "u1", "event": "X", "properties": obj{"pad": bigProps}}),
				status: 200, accepted: 1, rejected: []int{1}, stored: []string{"withbig-0"}, refused: []string{"withbig-1"}},
			{name: "wrong key", endpoint: "track", header: basic("not-a-key"),
				body: mustJSON(t, track("wrongkey-1")), status: 401, code: touchbase.EUNAUTHORIZED, refused: []string{"wrongkey-1"}},
			{name: "wrong key in body", endpoint: "batch", header: http.Header{"Content-Type": {"application/json"}},
				body:   mustJSON(t, obj{"writeKey": "nope", "batch": []any{track("wrongkey-2")}}),
				status: 401, code: touchbase.EUNAUTHORIZED, refused: []string{"wrongkey-2"}},
			{name: "revoked key", endpoint: "track", header: basic(revoked),
				body: mustJSON(t, track("revoked-1")), status: 401, code: touchbase.EUNAUTHORIZED, refused: []string{"revoked-1"}},
			{name: "no key", endpoint: "track", header: http.Header{"Content-Type": {"application/json"}},
				body: mustJSON(t, track("nokey-1")), status: 401, code: touchbase.EUNAUTHORIZED, refused: []string{"nokey-1"}},
			{name: "admin token", endpoint: "track", header: basic(admin),
				body: mustJSON(t, track("admin-1")), status: 403, code: touchbase.EFORBIDDEN, refused: []string{"admin-1"}},
			{name: "admin token in body", endpoint: "batch", header: http.Header{"Content-Type": {"application/json"}},
				body:   mustJSON(t, obj{"writeKey": admin, "batch": []any{track("admin-2")}}),
				status: 403, code: touchbase.EFORBIDDEN, refused: []string{"admin-2"}},
			{name: "xml", endpoint: "track", header: with(basic(e.write), "Content-Type", "application/xml"),
				body: mustJSON(t, track("xml-1")), status: 415, code: touchbase.EUNSUPPORTED, refused: []string{"xml-1"}},
			{name: "brotli", endpoint: "track", header: with(basic(e.write), "Content-Encoding", "br"),
				body: mustJSON(t, track("br-1")), status: 415, code: touchbase.EUNSUPPORTED, refused: []string{"br-1"}},
			{name: "GET is not allowed", method: "GET", endpoint: "track", header: basic(e.write),
				status: 405, code: touchbase.EINVALID},
			{name: "unknown endpoint", endpoint: "purchase", header: basic(e.write),
				body: mustJSON(t, track("unknown-ep")), status: 404, code: touchbase.ENOTFOUND, refused: []string{"unknown-ep"}},
		}

		var stored, refused []string
		for _, c := range cases {
			stored = append(stored, c.stored...)
			refused = append(refused, c.refused...)
			t.Run(c.name, func(t *testing.T) {
				method := c.method
				if method == "" {
					method = "POST"
				}
				var body any
				if c.body != nil {
					body = c.body
				}
				r := e.do(method, "/v1/"+c.endpoint, c.header, body)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
				}
				if c.status != 200 {
					eb := r.errorBody(t)
					if eb.Code != c.code {
						t.Errorf("code %q, want %q: %s", eb.Code, c.code, r.body)
					}
					if c.field != "" && !hasField(eb.Fields, c.field) {
						t.Errorf("error does not name field %q: %s", c.field, r.body)
					}
					return
				}
				var res ingestResult
				r.decode(t, &res)
				if !res.Success || res.Accepted != c.accepted {
					t.Errorf("got %s, want accepted %d", r.body, c.accepted)
				}
				var idx []int
				for _, f := range res.Rejected {
					idx = append(idx, f.Index)
					if f.Message == "" {
						t.Errorf("rejected event %d has no message: %s", f.Index, r.body)
					}
				}
				if fmt.Sprint(idx) != fmt.Sprint(c.rejected) && !(len(idx) == 0 && len(c.rejected) == 0) {
					t.Errorf("rejected indexes %v, want %v: %s", idx, c.rejected, r.body)
				}
			})
		}

		// The store holds each accepted event exactly once and nothing that
		// was refused, read back through the admin API.
		counts := eventCounts(t, e, e.owner)
		for _, id := range stored {
			if counts[id] != 1 {
				t.Errorf("event %s stored %d times, want once", id, counts[id])
			}
		}
		for _, id := range refused {
			if counts[id] != 0 {
				t.Errorf("refused event %s was stored", id)
			}
		}
	})
}

func hasField(fs []touchbase.FieldError, field string) bool {
	for _, f := range fs {
		if f.Field == field || strings.HasSuffix(f.Field, "."+field) {
			return true
		}
	}
	return false
}

// eventCounts returns how many stored events carry each messageId, paging
// through /api/v1/events.
func eventCounts(t *testing.T, e *env, token string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("more than 100 pages of events")
		}
		var p page[touchbase.Event]
		e.mustAPI(token, "GET", "/events?limit=200&cursor="+cursor, nil, 200).decode(t, &p)
		for _, ev := range p.Items {
			counts[ev.MessageID]++
		}
		if p.Next == nil {
			return counts
		}
		cursor = *p.Next
	}
}

func TestIngestRateLimit(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// 5 events/s sustained, a burst of 15.
		e.mustAPI(e.owner, "PATCH", "/workspace", obj{"settings": obj{"rate_limit": 5}}, 200)
		events := func(prefix string, n int) obj {
			var b []any
			for i := 0; i < n; i++ {
				b = append(b, obj{"type": "track", "messageId": prefix + strconv.Itoa(i), "userId": "u1", "event": "X"})
			}
			return obj{"batch": b}
		}
		e.mustSend("batch", e.write, events("first-", 10))
		r := e.send("batch", e.write, events("second-", 10))
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429: %s", r.status, r.body)
		}
		if eb := r.errorBody(t); eb.Code != touchbase.ERATELIMIT {
			t.Errorf("code %q, want %q", eb.Code, touchbase.ERATELIMIT)
		}
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 3 {
			t.Errorf("Retry-After %q, want 1 to 3 seconds", r.header.Get("Retry-After"))
		}
		counts := eventCounts(t, e, e.owner)
		if counts["first-0"] != 1 || counts["second-0"] != 0 {
			t.Errorf("after the 429: first stored %d times, second %d times; want 1 and 0", counts["first-0"], counts["second-0"])
		}
		// Another workspace's key has its own bucket.
		other := e.workspace("other")
		e.mustSend("batch", e.key(other.ID, touchbase.KeyWrite, ""), events("third-", 10))
	})
}

func TestIngestCORS(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pre := e.do("OPTIONS", "/v1/batch", http.Header{
			"Origin":                         {"https://shop.example"},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"authorization,content-type,content-encoding,anonymousid"},
		}, nil)
		if pre.status != http.StatusNoContent {
			t.Fatalf("preflight status %d: %s", pre.status, pre.body)
		}
		if got := pre.header.Get("Access-Control-Allow-Origin"); got != "https://shop.example" {
			t.Errorf("preflight Access-Control-Allow-Origin %q", got)
		}
		allow := strings.ToLower(pre.header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "content-encoding", "anonymousid"} {
			if !strings.Contains(allow, h) {
				t.Errorf("preflight does not allow header %s: %q", h, allow)
			}
		}
		if !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight does not allow POST: %q", pre.header.Get("Access-Control-Allow-Methods"))
		}

		ev := func(id string) []byte {
			return mustJSON(t, obj{"writeKey": e.write, "batch": []any{obj{"type": "page", "messageId": id, "anonymousId": "a1"}}})
		}
		textPlain := func(origin string) http.Header {
			return http.Header{"Content-Type": {"text/plain"}, "Origin": {origin}}
		}
		// Any origin while the workspace allows any.
		r := e.do("POST", "/v1/batch", textPlain("https://anything.example"), ev("cors-1"))
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://anything.example" {
			t.Fatalf("status %d, Access-Control-Allow-Origin %q: %s", r.status, r.header.Get("Access-Control-Allow-Origin"), r.body)
		}

		e.mustAPI(e.owner, "PATCH", "/workspace", obj{"settings": obj{"allowed_origins": []string{"https://Shop.example/"}}}, 200)
		r = e.do("POST", "/v1/batch", textPlain("https://shop.example"), ev("cors-2"))
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Fatalf("allowed origin: status %d, Access-Control-Allow-Origin %q: %s", r.status, r.header.Get("Access-Control-Allow-Origin"), r.body)
		}
		r = e.do("POST", "/v1/batch", textPlain("https://evil.example"), ev("cors-3"))
		if r.status != http.StatusForbidden {
			t.Fatalf("other origin: status %d, want 403: %s", r.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("refused origin got Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
		}
		// Server-side SDKs send no Origin and are not affected.
		e.mustSend("batch", e.write, obj{"batch": []any{obj{"type": "page", "messageId": "cors-4", "anonymousId": "a1"}}})

		counts := eventCounts(t, e, e.owner)
		for id, want := range map[string]int{"cors-1": 1, "cors-2": 1, "cors-3": 0, "cors-4": 1} {
			if counts[id] != want {
				t.Errorf("event %s stored %d times, want %d", id, counts[id], want)
			}
		}
	})
}

func TestIngestRevokeThroughAPIDropsCachedKey(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var created struct {
			ID     int64  `json:"id"`
			Secret string `json:"secret"`
		}
		e.mustAPI(e.owner, "POST", "/keys", obj{"kind": "write", "name": "app"}, 201).decode(t, &created)
		e.mustSend("track", created.Secret, obj{"userId": "u1", "event": "Before"}) // now cached
		e.mustAPI(e.owner, "DELETE", fmt.Sprintf("/keys/%d", created.ID), nil, 204)
		r := e.send("track", created.Secret, obj{"userId": "u1", "event": "After"})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("revoked key: status %d, want 401 at once: %s", r.status, r.body)
		}
	})
}
