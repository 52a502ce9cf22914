package segment_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// asOf is late on 27 February 2025 in UTC, already 28 February in Tokyo
// and Kiritimati, so "within next" sees different dates by zone.
var asOf = time.Date(2025, 2, 27, 23, 30, 0, 0, time.UTC)

// ago is asOf minus d days (and h hours).
func ago(days, hours int) time.Time {
	return asOf.Add(-time.Duration(days)*24*time.Hour - time.Duration(hours)*time.Hour)
}

func ptr(t time.Time) *time.Time { return &t }

// person is one customer of the test population: its traits as raw JSON
// (to say exactly which JSON types they hold) and its events.
type person struct {
	user     string
	email    string
	traits   string
	features touchbase.Features
	events   []event
}

type event struct {
	name  string
	at    time.Time
	props string // raw JSON, "" for NULL
}

// population covers every JSON type, values not set, bad times and dates,
// time zones, paths that need quoting, and events before and after as-of.
var population = []person{
	{user: "alice", email: "alice@example.com",
		traits: `{"country": "DE", "plan": "gold", "age": 30, "vip": true, "tags": ["a", "b", 1, true],
			"address": {"city": "Berlin"}, "birthday": "1990-02-28", "signup": "2024-06-01T10:00:00Z",
			"timezone": "Asia/Tokyo", "score": 1.5, "seen": "2025-02-20"}`,
		features: touchbase.Features{Orders: 3, Revenue: 300, LastOrderAt: ptr(ago(1, 0)), FirstOrderAt: ptr(ago(400, 0))},
		events: []event{
			{"Order Completed", ago(1, 0), `{"revenue": 100, "coupon": "X"}`},
			{"Order Completed", ago(10, 0), `{"revenue": 50}`},
			{"Order Completed", ago(5, 0), `{"revenue": "75"}`},
			{"Order Completed", asOf.Add(time.Hour), `{"revenue": 1000}`}, // after as-of: does not exist
			{"Product Viewed", ago(2, 0), `{"category": "Gadgets", "product": {"brand": "Acme"}}`},
			{"Product Viewed", ago(3, 0), `{"category": "Gadgets"}`},
			{"Product Viewed", ago(40, 0), `{"category": "Gadgets"}`},
			{"Product Viewed", ago(4, 0), `{"category": "gadgets"}`},
		}},
	{user: "bob", email: "bob@example.org",
		traits: `{"country": "FR", "plan": "silver", "age": "30", "vip": false, "tags": [],
			"birthday": "2000-02-29", "signup": "2024-06-01T10:00:00.123456789Z", "timezone": "America/Los_Angeles",
			"score": 1, "seen": "2025-02-27T23:29:59.999Z"}`,
		features: touchbase.Features{Orders: 1, Revenue: 10.5, LastOrderAt: ptr(ago(200, 0)), FirstOrderAt: ptr(ago(200, 0))},
		events: []event{
			{"Order Completed", ago(100, 0), `{"revenue": 1, "sku": 1}`},
			{"Order Completed", ago(100, 0), `{"revenue": 1.0, "sku": 1.0}`},
			{"Order Completed", ago(100, 0), `{"revenue": 2, "sku": "1"}`},
			{"Order Completed", ago(100, 0), `{"sku": true}`},
			{"Order Completed", ago(100, 0), `{"sku": [1]}`},
			{"Order Completed", ago(100, 0), ``},
			{"Checkout Started", ago(0, 2), `{}`},
		}},
	{user: "carol",
		traits: `{"country": null, "age": 17.5, "vip": "true", "tags": "a,b", "birthday": "1985-02-27T00:00:00Z",
			"signup": "2024-02-30", "timezone": "Nowhere/Land", "plan": "Gold", "score": "1.5", "seen": "2025-02-27T23:30:00.0001Z"}`,
		events: []event{
			{"Home", ago(1, 0), `{"path": "/"}`},
			{"Checkout Started", ago(0, 1), `{}`},
			{"Order Completed", ago(0, 3), `{"revenue": 5}`},
		}},
	{user: "dave", traits: `{}`},
	{user: "erin",
		traits: `{"country": "de", "age": 40, "plan": ["gold"], "address": "Berlin", "birthday": "2001-02-29",
			"signup": "2024-06-01", "weird key": "x", "it's": "q", "a\"b": "dq", "n": {"x": 1}, "items": [5],
			"timezone": "Pacific/Kiritimati", "seen": "2025-02-27 10:00:00"}`,
		features: touchbase.Features{Orders: 2}},
	{user: "frank", email: "frank@example.com",
		traits: `{"country": "DE", "age": 100, "signup": "2024-06-01T10:00:00.1Z", "birthday": "1999-03-01",
			"tags": [1.0, {"a": 1}, ["a"], "2024-06-01"], "timezone": "UTC", "plan": "", "vip": null,
			"seen": "2025-02-27T24:00:00Z"}`,
		features: touchbase.Features{Orders: 5, Revenue: 1000, LastOrderAt: ptr(ago(30, 0)), FirstOrderAt: ptr(ago(30, 0))}},
}

// zones are the workspace's distinct timezone traits.
var zones = []string{"Asia/Tokyo", "America/Los_Angeles", "Nowhere/Land", "Pacific/Kiritimati", "UTC"}

// segments are the definitions "in segment" may name.
var segments = map[string]string{
	"german":  `{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`,
	"buyers":  `{"op": "and", "args": [{"op": "in segment", "segment": "german"}, {"op": ">", "left": {"field": "orders"}, "right": {"value": 0}}]}`,
	"loop-a":  `{"op": "in segment", "segment": "loop-b"}`,
	"loop-b":  `{"op": "or", "args": [{"op": "is set", "left": {"field": "age"}}, {"op": "in segment", "segment": "loop-a"}]}`,
	"missing": ``,
}

// fixture is the seeded population in one backend.
type fixture struct {
	s       *store.Store
	dialect segment.Dialect
	ws      int64
	users   map[int64]string // customer id to user
}

func seed(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	f := &fixture{s: s, users: map[int64]string{}}
	if s.Dialect() == "postgres" {
		f.dialect = segment.Postgres
	}
	f.ws = storetest.Workspace(t, s, "shop").ID
	for _, p := range population {
		c := &touchbase.Customer{WorkspaceID: f.ws, UserID: p.user, Email: p.email, Features: p.features}
		id := storetest.InsertCustomer(t, s, c)
		storetest.Exec(t, s, "UPDATE customers SET traits = ? WHERE id = ?", p.traits, id)
		f.users[id] = p.user
		for _, e := range p.events {
			storetest.InsertEvent(t, s, &touchbase.Event{WorkspaceID: f.ws, CustomerID: id, Event: e.name,
				Timestamp: e.at, Properties: json.RawMessage(e.props)})
		}
	}
	// A German in another workspace, with events, whom no query may see.
	other := storetest.Workspace(t, s, "other").ID
	id := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: other, UserID: "zed", Features: touchbase.Features{Orders: 9}})
	storetest.Exec(t, s, "UPDATE customers SET traits = ? WHERE id = ?", `{"country": "DE", "age": 30}`, id)
	storetest.InsertEvent(t, s, &touchbase.Event{WorkspaceID: other, CustomerID: id, Event: "Order Completed", Timestamp: ago(1, 0)})
	return f
}

func (f *fixture) options() segment.SQLOptions {
	return segment.SQLOptions{
		Dialect: f.dialect, Registry: segment.NewRegistry(), WorkspaceID: f.ws, AsOf: asOf, TimeZones: zones,
		Segment: func(name string) (*segment.Node, error) {
			def, ok := segments[name]
			if !ok {
				return nil, touchbase.Errorf(touchbase.ENOTFOUND, "no segment %q", name)
			}
			return parseNode(def)
		},
	}
}

func parseNode(s string) (*segment.Node, error) {
	var n segment.Node
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// members compiles cond and runs it, returning the members' users in
// customer id order.
func (f *fixture) members(t *testing.T, cond string) []string {
	t.Helper()
	n, err := parseNode(cond)
	if err != nil {
		t.Fatalf("condition %s: %v", cond, err)
	}
	return f.membersOf(t, n)
}

func (f *fixture) membersOf(t *testing.T, n *segment.Node) []string {
	t.Helper()
	q, args, err := segment.CompileSQL(n, f.options())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	rows, err := f.s.DB().QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("query: %v\n%s", err, q)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		u, ok := f.users[id]
		if !ok {
			t.Fatalf("customer %d is not in the workspace", id)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query: %v\n%s", err, q)
	}
	return out
}

func TestCompileSQL(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := seed(t, b.Open(t))
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					got := f.members(t, tc.cond)
					want := strings.Fields(tc.want)
					slices.SortFunc(want, func(a, b string) int { return order(a) - order(b) })
					if !slices.Equal(got, want) {
						t.Errorf("%s\n got %v\nwant %v", tc.cond, got, want)
					}
					// not(x) holds exactly where x does not.
					neg := f.members(t, `{"op": "not", "args": [`+tc.cond+`]}`)
					if len(neg)+len(got) != len(population) || slices.ContainsFunc(neg, func(u string) bool { return slices.Contains(got, u) }) {
						t.Errorf("not: got %v, the complement of %v", neg, got)
					}
				})
			}
		})
	}
}

// order is a user's position in the population, which is customer id order.
func order(user string) int {
	return slices.IndexFunc(population, func(p person) bool { return p.user == user })
}

// TestCompileSQLInjection checks that names, paths and literals reach the
// database only as arguments.
func TestCompileSQLInjection(t *testing.T) {
	evil := `x'; DROP TABLE customers; --"`
	cond := `{"op": "or", "args": [
		{"op": "=", "left": {"field": "traits.` + jsonEscape(evil) + `.b"}, "right": {"value": "` + jsonEscape(evil) + `"}},
		{"op": ">", "left": {"agg": {"func": "sum", "event": "` + jsonEscape(evil) + `", "property": "` + jsonEscape(evil) + `",
			"where": {"op": "contains", "left": {"field": "` + jsonEscape(evil) + `"}, "right": {"value": "` + jsonEscape(evil) + `"}}}},
			"right": {"value": 1}},
		{"op": "starts with", "left": {"field": "` + jsonEscape(evil) + `"}, "right": {"value": "` + jsonEscape(evil) + `"}},
		{"op": "within next", "left": {"field": "` + jsonEscape(evil) + `"}, "within": "7d"}]}`
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := seed(t, b.Open(t))
			n, err := parseNode(cond)
			if err != nil {
				t.Fatal(err)
			}
			o := f.options()
			o.TimeZones = append(o.TimeZones, evil)
			q, _, err := segment.CompileSQL(n, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"DROP", "x'", evil} {
				if strings.Contains(q, s) {
					t.Errorf("%q is in the SQL text:\n%s", s, q)
				}
			}
			if got := f.members(t, cond); len(got) != 0 {
				t.Errorf("got %v, want no one", got)
			}
			if n := storetest.QueryInt(t, f.s, "SELECT count(*) FROM customers"); n != int64(len(population)+1) {
				t.Errorf("%d customers after the query, want %d", n, len(population)+1)
			}
		})
	}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestCompileCount checks that the count is the members'.
func TestCompileCount(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := seed(t, b.Open(t))
			n, _ := parseNode(`{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`)
			q, args, err := segment.CompileCount(n, f.options())
			if err != nil {
				t.Fatal(err)
			}
			var got int
			if err := f.s.DB().QueryRowContext(context.Background(), q, args...).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != 2 {
				t.Errorf("count = %d, want 2", got)
			}
		})
	}
}

func TestCompileSQLErrors(t *testing.T) {
	for name, cond := range map[string]string{
		"cycle":              `{"op": "in segment", "segment": "loop-a"}`,
		"unknown segment":    `{"op": "in segment", "segment": "nope"}`,
		"bad definition":     `{"op": "in segment", "segment": "missing"}`,
		"two operand fields": `{"op": "=", "left": {"field": "a", "value": 1}, "right": {"value": 1}}`,
		"no operand":         `{"op": "is set"}`,
		"unknown op":         `{"op": "~", "left": {"field": "a"}, "right": {"value": 1}}`,
		"agg in where": `{"op": ">", "left": {"agg": {"func": "count", "event": "E", "where": {"op": ">",
			"left": {"agg": {"func": "count", "event": "F"}}, "right": {"value": 1}}}}, "right": {"value": 1}}`,
		"segment in where": `{"op": ">", "left": {"agg": {"func": "count", "event": "E",
			"where": {"op": "in segment", "segment": "german"}}}, "right": {"value": 1}}`,
		"sum without property": `{"op": ">", "left": {"agg": {"func": "sum", "event": "E"}}, "right": {"value": 1}}`,
		"count with property":  `{"op": ">", "left": {"agg": {"func": "count", "event": "E", "property": "p"}}, "right": {"value": 1}}`,
		"within next hours":    `{"op": "within next", "left": {"field": "birthday"}, "within": "36h"}`,
		"starts with number":   `{"op": "starts with", "left": {"field": "a"}, "right": {"value": 1}}`,
		"between one value":    `{"op": "between", "left": {"field": "a"}, "values": [1]}`,
		"empty path element":   `{"op": "is set", "left": {"field": "a..b"}}`,
		// Past time.Duration's 292 years: never a wrapped window.
		"ago overflows":    `{"op": "<", "left": {"field": "t"}, "right": {"ago": "106752d"}}`,
		"window overflows": `{"op": ">", "left": {"agg": {"func": "count", "event": "E", "within": "106752d"}}, "right": {"value": 1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			n, err := parseNode(cond)
			if err != nil {
				t.Fatal(err)
			}
			f := &fixture{}
			if _, _, err := segment.CompileSQL(n, f.options()); err == nil {
				t.Errorf("%s compiled", cond)
			}
		})
	}
	n, _ := parseNode(`{"op": "is set", "left": {"field": "a"}}`)
	if _, _, err := segment.CompileSQL(n, segment.SQLOptions{}); err == nil {
		t.Error("compiled without an as-of instant")
	}
}
