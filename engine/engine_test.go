package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
)

// fakeSource is a Source over slices: the population of a test.
type fakeSource struct {
	customers []*touchbase.Customer
	events    []touchbase.EventRow // in (customer, timestamp) order
}

var _ engine.Source = (*fakeSource)(nil)

// LastEventID is the largest event id; events of the fake may have none
// (0), which every back-fill takes.
func (f *fakeSource) LastEventID(context.Context, int64) (int64, error) {
	var last int64
	for _, e := range f.events {
		last = max(last, e.ID)
	}
	return last, nil
}

func (f *fakeSource) ScanCustomers(_ context.Context, _ int64, fn func(*touchbase.Customer, []byte) error) error {
	for _, c := range f.customers {
		var traits []byte
		if c.Traits != nil {
			var err error
			if traits, err = json.Marshal(c.Traits); err != nil {
				return err
			}
		}
		if err := fn(c, traits); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSource) ScanEvents(_ context.Context, _ int64, names []string, after, upTo int64, fn func(touchbase.EventRow) error) error {
	for _, e := range f.events {
		if slices.Contains(names, e.Event) && e.ID > after && e.ID <= upTo {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// asOf is the instant the population's cases are evaluated at.
var asOf = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *time.Time {
	t := asOf.Add(-d)
	return &t
}

const day = 24 * time.Hour

func ev(id int64, name string, at time.Time, props string) touchbase.EventRow {
	e := touchbase.EventRow{CustomerID: id, Event: name, Timestamp: at.UnixMilli()}
	if props != "" {
		e.Properties = json.RawMessage(props)
	}
	return e
}

// population is five customers whose traits vary in type, and their events.
func population() *fakeSource {
	return &fakeSource{
		customers: []*touchbase.Customer{
			{ID: 1, UserID: "u1", Email: "a@x.com", Features: touchbase.Features{Orders: 3, Revenue: 600, LastOrderAt: ago(10 * day)},
				Traits: map[string]any{"country": "DE", "age": 30, "plan": "gold", "birthday": "1990-03-12", "timezone": "Europe/Berlin",
					"tags": []any{"a", "b", 1}, "vip": true, "signup": "2026-01-15T10:00:00Z", "address": map[string]any{"city": "Berlin"}}},
			{ID: 2, Email: "b@y.com", Features: touchbase.Features{Orders: 1, Revenue: 50, LastOrderAt: ago(200 * day)},
				Traits: map[string]any{"country": "FR", "age": "30", "plan": "silver", "birthday": "1992-02-29", "tags": "ab", "vip": false,
					"signup": "2026-02-01"}},
			{ID: 3, Email: "c@z.com",
				Traits: map[string]any{"age": 17, "birthday": "2000-03-10", "timezone": "Pacific/Kiritimati", "signup": "2026-02-01T10:00:00+01:00"}},
			{ID: 4,
				Traits: map[string]any{"country": nil, "age": 45.5, "plan": 5, "timezone": "Mars/Base", "birthday": "not a date", "vip": "true",
					"signup": "2026-02-30"}},
			{ID: 5,
				Traits: map[string]any{"country": "de", "plan": "bronze", "birthday": "2001-03-13", "signup": "2026-01-01T00:00:00.123456789Z"}},
		},
		events: []touchbase.EventRow{
			ev(1, "Order Completed", asOf.Add(-40*day), `{"revenue": 200}`),
			ev(1, "Product Viewed", asOf.Add(-5*day), `{"category": "Books", "price": 10.0}`),
			ev(1, "Product Viewed", asOf.Add(-4*day), `{"category": "Gadgets", "price": "10"}`),
			ev(1, "Product Viewed", asOf.Add(-3*day), `{"category": "Gadgets", "price": 10}`),
			ev(1, "Checkout Started", asOf.Add(-2*day), ``),
			ev(1, "Order Completed", asOf.Add(-1*day), `{"revenue": 100, "category": "Gadgets"}`),
			ev(1, "Order Completed", asOf.Add(1*day), `{"revenue": 1000}`),
			ev(2, "Order Completed", asOf.Add(-100*day), `{"revenue": "50"}`),
			ev(2, "Checkout Started", asOf.Add(-time.Hour), `{}`),
			ev(3, "Product Viewed", asOf.Add(-10*day), `{"category": 1}`),
		},
	}
}

func node(t testing.TB, js string) *segment.Node {
	t.Helper()
	var n segment.Node
	if err := json.Unmarshal([]byte(js), &n); err != nil {
		t.Fatalf("tree %s: %v", js, err)
	}
	return &n
}

func load(t testing.TB, src engine.Source) *engine.Index {
	t.Helper()
	ix := engine.NewIndex(segment.NewRegistry())
	if err := ix.Load(context.Background(), src, 1); err != nil {
		t.Fatalf("load: %v", err)
	}
	return ix
}

// members prepares and evaluates a tree and returns its members' ids.
func members(t testing.TB, ix *engine.Index, n *segment.Node, at time.Time, refs func(string) (*segment.Node, error)) ([]int64, error) {
	t.Helper()
	if err := ix.Prepare(context.Background(), n, refs); err != nil {
		return nil, err
	}
	bm, err := ix.Evaluate(n, at, refs)
	if err != nil {
		return nil, err
	}
	ids := ix.Members(bm)
	if uint64(len(ids)) != engine.Count(bm) {
		t.Errorf("Count %d, %d members", engine.Count(bm), len(ids))
	}
	return ids, nil
}

const (
	ocCount = `{"agg": {"func": "count", "event": "Order Completed"}}`
	ocRev   = `"event": "Order Completed", "property": "revenue"`
	lastOC  = `{"agg": {"func": "last", "event": "Order Completed"}}`
	lastCS  = `{"agg": {"func": "last", "event": "Checkout Started"}}`
)

func TestEvaluate(t *testing.T) {
	ix := load(t, population())
	cases := []struct {
		name string
		tree string
		at   time.Time // zero: asOf
		want []int64
	}{
		// Strings, and values that are not set.
		{"eq string", `{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`, time.Time{}, []int64{1}},
		{"ne string: unset is false", `{"op": "!=", "left": {"field": "country"}, "right": {"value": "DE"}}`, time.Time{}, []int64{2, 5}},
		{"not eq: unset is true", `{"op": "not", "args": [{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}]}`, time.Time{}, []int64{2, 3, 4, 5}},
		{"traits. prefix", `{"op": "=", "left": {"field": "traits.country"}, "right": {"value": "DE"}}`, time.Time{}, []int64{1}},
		{"string order by bytes", `{"op": "<", "left": {"field": "country"}, "right": {"value": "FR"}}`, time.Time{}, []int64{1}},
		{"starts with", `{"op": "starts with", "left": {"field": "email"}, "right": {"value": "a@"}}`, time.Time{}, []int64{1}},
		{"contains substring or element", `{"op": "contains", "left": {"field": "tags"}, "right": {"value": "a"}}`, time.Time{}, []int64{1, 2}},
		{"contains number element", `{"op": "contains", "left": {"field": "tags"}, "right": {"value": 1}}`, time.Time{}, []int64{1}},
		{"feature string not set when empty", `{"op": "is set", "left": {"field": "email"}}`, time.Time{}, []int64{1, 2, 3}},
		{"user_id", `{"op": "=", "left": {"field": "user_id"}, "right": {"value": "u1"}}`, time.Time{}, []int64{1}},
		{"null and missing are not set", `{"op": "is not set", "left": {"field": "country"}}`, time.Time{}, []int64{3, 4}},
		{"object is set", `{"op": "is set", "left": {"field": "address"}}`, time.Time{}, []int64{1}},
		{"object equals nothing", `{"op": "!=", "left": {"field": "address"}, "right": {"value": "x"}}`, time.Time{}, nil},
		{"dot path", `{"op": "=", "left": {"field": "traits.address.city"}, "right": {"value": "Berlin"}}`, time.Time{}, []int64{1}},
		{"dot path bare", `{"op": "=", "left": {"field": "address.city"}, "right": {"value": "Berlin"}}`, time.Time{}, []int64{1}},

		// Numbers: a string "30" is not a number.
		{"gt number", `{"op": ">", "left": {"field": "age"}, "right": {"value": 18}}`, time.Time{}, []int64{1, 4}},
		{"eq string 30", `{"op": "=", "left": {"field": "age"}, "right": {"value": "30"}}`, time.Time{}, []int64{2}},
		{"ne across types is false", `{"op": "!=", "left": {"field": "age"}, "right": {"value": 30}}`, time.Time{}, []int64{3, 4}},
		{"literal on the left", `{"op": "<", "left": {"value": 18}, "right": {"field": "age"}}`, time.Time{}, []int64{1, 4}},
		{"between inclusive", `{"op": "between", "left": {"field": "age"}, "values": [17, 30]}`, time.Time{}, []int64{1, 3}},
		{"feature number", `{"op": "and", "args": [{"op": ">=", "left": {"field": "orders"}, "right": {"value": 1}}, {"op": ">", "left": {"field": "revenue"}, "right": {"value": 100}}]}`, time.Time{}, []int64{1}},
		{"or", `{"op": "or", "args": [{"op": "=", "left": {"field": "orders"}, "right": {"value": 0}}, {"op": "=", "left": {"field": "country"}, "right": {"value": "FR"}}]}`, time.Time{}, []int64{2, 3, 4, 5}},
		{"aov", `{"op": "=", "left": {"field": "aov"}, "right": {"value": 200}}`, time.Time{}, []int64{1}},

		// in and not in: a value whose type no literal has is in neither.
		{"in mixed", `{"op": "in", "left": {"field": "plan"}, "values": ["gold", 5]}`, time.Time{}, []int64{1, 4}},
		{"not in strings", `{"op": "not in", "left": {"field": "plan"}, "values": ["gold", "silver"]}`, time.Time{}, []int64{5}},
		{"not in mixed", `{"op": "not in", "left": {"field": "plan"}, "values": ["gold", 4]}`, time.Time{}, []int64{2, 4, 5}},

		// Booleans.
		{"bare field is = true", `{"op": "=", "left": {"field": "vip"}, "right": {"value": true}}`, time.Time{}, []int64{1}},
		{"ne bool", `{"op": "!=", "left": {"field": "vip"}, "right": {"value": true}}`, time.Time{}, []int64{2}},
		{"bool has no order", `{"op": ">", "left": {"field": "vip"}, "right": {"value": false}}`, time.Time{}, nil},

		// Times.
		{"trait as time", `{"op": ">", "left": {"field": "signup"}, "right": {"value": {"time": "2026-01-01"}}}`, time.Time{}, []int64{1, 2, 5}},
		{"trait time truncated to ms", `{"op": "=", "left": {"field": "signup"}, "right": {"value": {"time": "2026-01-01T00:00:00.123Z"}}}`, time.Time{}, []int64{5}},
		{"trait as string", `{"op": "=", "left": {"field": "signup"}, "right": {"value": "2026-02-01"}}`, time.Time{}, []int64{2}},
		{"ago strict", `{"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "10d"}}`, time.Time{}, []int64{2}},
		{"ago inclusive", `{"op": "<=", "left": {"field": "last_order_at"}, "right": {"ago": "10d"}}`, time.Time{}, []int64{1, 2}},
		{"ago no orders", `{"op": "not", "args": [{"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "180d"}}]}`, time.Time{}, []int64{1, 3, 4, 5}},
		{"time vs number is false", `{"op": ">", "left": {"field": "last_order_at"}, "right": {"value": 0}}`, time.Time{}, nil},
		{"field vs field", `{"op": ">", "left": {"field": "last_order_at"}, "right": {"field": "signup"}}`, time.Time{}, []int64{1}},

		// Aggregates.
		{"count all time, future excluded", `{"op": ">=", "left": ` + ocCount + `, "right": {"value": 2}}`, time.Time{}, []int64{1}},
		{"count later as-of", `{"op": ">=", "left": ` + ocCount + `, "right": {"value": 3}}`, asOf.Add(2 * day), []int64{1}},
		{"count zero", `{"op": "=", "left": ` + ocCount + `, "right": {"value": 0}}`, time.Time{}, []int64{3, 4, 5}},
		{"count window edge included", `{"op": "=", "left": {"agg": {"func": "count", "event": "Order Completed", "within": "1d"}}, "right": {"value": 1}}`, time.Time{}, []int64{1}},
		{"count window", `{"op": "=", "left": {"agg": {"func": "count", "event": "Order Completed", "within": "23h"}}, "right": {"value": 0}}`, time.Time{}, []int64{1, 2, 3, 4, 5}},
		{"sum numbers only", `{"op": ">", "left": {"agg": {"func": "sum", ` + ocRev + `}}, "right": {"value": 250}}`, time.Time{}, []int64{1}},
		{"sum zero over nothing", `{"op": "=", "left": {"agg": {"func": "sum", ` + ocRev + `}}, "right": {"value": 0}}`, time.Time{}, []int64{2, 3, 4, 5}},
		{"avg", `{"op": "=", "left": {"agg": {"func": "avg", ` + ocRev + `}}, "right": {"value": 150}}`, time.Time{}, []int64{1}},
		{"avg not set", `{"op": "is not set", "left": {"agg": {"func": "avg", ` + ocRev + `}}}`, time.Time{}, []int64{2, 3, 4, 5}},
		{"min", `{"op": "=", "left": {"agg": {"func": "min", ` + ocRev + `}}, "right": {"value": 100}}`, time.Time{}, []int64{1}},
		{"max", `{"op": "=", "left": {"agg": {"func": "max", ` + ocRev + `}}, "right": {"value": 200}}`, time.Time{}, []int64{1}},
		{"max window", `{"op": "=", "left": {"agg": {"func": "max", ` + ocRev + `, "within": "30d"}}, "right": {"value": 100}}`, time.Time{}, []int64{1}},
		{"distinct 1 = 1.0, not \"10\"", `{"op": "=", "left": {"agg": {"func": "distinct", "event": "Product Viewed", "property": "price"}}, "right": {"value": 2}}`, time.Time{}, []int64{1}},
		{"where", `{"op": ">=", "left": {"agg": {"func": "count", "event": "Product Viewed", "within": "30d", "where": {"op": "=", "left": {"field": "category"}, "right": {"value": "Gadgets"}}}}, "right": {"value": 2}}`, time.Time{}, []int64{1}},
		{"where not", `{"op": "=", "left": {"agg": {"func": "count", "event": "Product Viewed", "where": {"op": "not", "args": [{"op": "=", "left": {"field": "category"}, "right": {"value": "Gadgets"}}]}}}, "right": {"value": 1}}`, time.Time{}, []int64{1, 3}},
		{"last vs last", `{"op": ">", "left": ` + lastOC + `, "right": ` + lastCS + `}`, time.Time{}, []int64{1}},
		{"not last vs last", `{"op": "not", "args": [{"op": ">", "left": ` + lastOC + `, "right": ` + lastCS + `}]}`, time.Time{}, []int64{2, 3, 4, 5}},
		{"first vs ago", `{"op": "<", "left": {"agg": {"func": "first", "event": "Order Completed"}}, "right": {"ago": "30d"}}`, time.Time{}, []int64{1, 2}},
		{"last vs ago", `{"op": ">", "left": ` + lastCS + `, "right": {"ago": "1d"}}`, time.Time{}, []int64{2}},

		// within next: the as-of date in the customer's zone.
		{"within next", `{"op": "within next", "left": {"field": "birthday"}, "within": "3d"}`, time.Time{}, []int64{1}},
		{"within next 1d", `{"op": "within next", "left": {"field": "birthday"}, "within": "1d"}`, time.Time{}, nil},
		{"within next other zone", `{"op": "within next", "left": {"field": "birthday"}, "within": "1d"}`, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), []int64{3}},
		{"29 february on 28", `{"op": "within next", "left": {"field": "birthday"}, "within": "2d"}`, time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC), []int64{2}},
		{"29 february leap year", `{"op": "within next", "left": {"field": "birthday"}, "within": "1d"}`, time.Date(2028, 2, 28, 12, 0, 0, 0, time.UTC), nil},
		{"within next a week", `{"op": "within next", "left": {"field": "birthday"}, "within": "1w"}`, time.Time{}, []int64{1, 5}},

		// Segments.
		{"in segment", `{"op": "in segment", "segment": "de"}`, time.Time{}, []int64{1}},
		{"not in segment", `{"op": "not", "args": [{"op": "in segment", "segment": "de"}]}`, time.Time{}, []int64{2, 3, 4, 5}},
	}
	refs := func(name string) (*segment.Node, error) {
		if name == "de" {
			return node(t, `{"op": "=", "left": {"field": "country"}, "right": {"value": "DE"}}`), nil
		}
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "no segment %q", name)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			if at.IsZero() {
				at = asOf
			}
			got, err := members(t, ix, node(t, c.tree), at, refs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("members %v, want %v", got, c.want)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	ix := load(t, population())
	refs := func(name string) (*segment.Node, error) {
		switch name {
		case "a":
			return node(t, `{"op": "in segment", "segment": "b"}`), nil
		case "b":
			return node(t, `{"op": "and", "args": [{"op": "in segment", "segment": "a"}, {"op": "is set", "left": {"field": "x"}}]}`), nil
		}
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "no segment %q", name)
	}
	for name, tree := range map[string]string{
		"cycle":        `{"op": "in segment", "segment": "a"}`,
		"unknown ref":  `{"op": "in segment", "segment": "zzz"}`,
		"unprepared":   `{"op": ">", "left": {"agg": {"func": "count", "event": "X"}}, "right": {"value": 1}}`,
		"unknown op":   `{"op": "like", "left": {"field": "x"}}`,
		"one arg":      `{"op": "and", "args": [{"op": "is set", "left": {"field": "x"}}]}`,
		"where ago":    `{"op": "is set", "left": {"agg": {"func": "count", "event": "X", "where": {"op": ">", "left": {"field": "t"}, "right": {"ago": "1d"}}}}}`,
		"two operands": `{"op": "is set", "left": {"field": "x", "ago": "1d"}}`,
		// Past time.Duration's 292 years: never a wrapped window.
		"ago overflows":    `{"op": "<", "left": {"field": "t"}, "right": {"ago": "106752d"}}`,
		"window overflows": `{"op": ">", "left": {"agg": {"func": "count", "event": "W", "within": "106752d"}}, "right": {"value": 1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			n := node(t, tree)
			if name != "unprepared" {
				if _, err := members(t, ix, n, asOf, refs); err == nil {
					t.Errorf("no error")
				}
				return
			}
			if _, err := ix.Evaluate(n, asOf, refs); err == nil {
				t.Errorf("no error")
			}
		})
	}
}
