package server_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

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
