package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/segment/segmenttest"
	"github.com/touchbase/touchbase/storetest"
)

// TestOracle is the differential test that tells us the engine is right:
// on a generated store whose values sit on every edge docs/segments.md
// names, thousands of random trees must select exactly the same customers
// in the engine and in the SQL the same trees compile to, on SQLite and on
// PostgreSQL. A failure is shrunk to the smallest tree that still fails.
func TestOracle(t *testing.T) {
	trees := 3000
	if testing.Short() {
		trees = 300
	}
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := be.Open(t)
			r := rand.New(rand.NewPCG(20261122, 4))
			d := seedOracle(t, s, r, 120)
			reg := segment.NewRegistry()
			if err := analytics.RegisterFeatures(reg); err != nil {
				t.Fatal(err)
			}
			ix := engine.NewIndex(reg)
			// Evaluations of the whole store run in parts, on all cores,
			// as they do at a million customers.
			ix.SetSplitMin(16)
			ix.SetBackfillMin(8)
			if err := ix.Load(ctx, s, d.ws); err != nil {
				t.Fatal(err)
			}
			named := map[string]*segment.Node{}
			for name, def := range map[string]string{
				"buyers":  `{"op":">=","left":{"field":"orders"},"right":{"value":1}}`,
				"germans": `{"op":"in","left":{"field":"country"},"values":["DE","de"]}`,
				"recent":  `{"op":">","left":{"agg":{"func":"last","event":"Product Viewed"}},"right":{"ago":"30d"}}`,
			} {
				n := new(segment.Node)
				if err := json.Unmarshal([]byte(def), n); err != nil {
					t.Fatal(err)
				}
				named[name] = n
			}
			// A list: every third customer.
			list := &touchbase.Segment{WorkspaceID: d.ws, Name: "vips", Kind: touchbase.SegmentStatic}
			if err := s.CreateSegment(ctx, list, nil); err != nil {
				t.Fatal(err)
			}
			var listed []int64
			for i, id := range storetest.QueryInts(t, s, "SELECT id FROM customers WHERE workspace_id = ? ORDER BY id", d.ws) {
				if i%3 == 0 {
					listed = append(listed, id)
				}
			}
			if _, err := s.AddStaticMembers(ctx, d.ws, list.ID, listed); err != nil {
				t.Fatal(err)
			}
			ix.SetList("vips", listed)
			lists := func(name string) (int64, bool) { return list.ID, name == "vips" }
			refs := func(name string) (*segment.Node, error) {
				if n, ok := named[name]; ok {
					return n, nil
				}
				return nil, fmt.Errorf("no segment %q", name)
			}
			dialect := segment.SQLite
			if be.Name == "postgres" {
				dialect = segment.Postgres
			}
			zones := storetest.QueryStrings(t, s, "SELECT DISTINCT "+map[segment.Dialect]string{
				segment.SQLite:   "json_extract(traits, '$.timezone') FROM customers WHERE json_type(traits, '$.timezone') = 'text'",
				segment.Postgres: "traits->>'timezone' FROM customers WHERE jsonb_typeof(traits->'timezone') = 'string'",
			}[dialect])
			opts := segmenttest.Options{
				Depth:      3,
				Fields:     oracleFields,
				Events:     oracleEvents,
				Properties: oracleProperties,
				Segments:   []string{"buyers", "germans", "recent", "vips"},
				Values:     d.values,
				Now:        oracleAsOf,
			}
			// Two instants: events after the earlier one exist in the
			// store but not for its evaluations.
			asOfs := []time.Time{oracleAsOf, oracleAsOf.Add(-37*time.Hour - 123*time.Millisecond)}

			// mismatch returns a description of how engine and SQL
			// disagree on n, or "".
			mismatch := func(n *segment.Node, asOf time.Time) string {
				var got []int64
				err := ix.Prepare(ctx, n, refs)
				if err == nil {
					var bm = ix.Members
					b, e := ix.Evaluate(n, asOf, refs)
					err = e
					if e == nil {
						got = bm(b)
						// Each customer alone, as an event evaluates them.
						each, e := ix.EvaluateEach(n, asOf, refs)
						if e != nil {
							return fmt.Sprintf("evaluated customer by customer: %v", e)
						}
						if !slices.Equal(each, got) {
							return fmt.Sprintf("evaluated customer by customer, %d members; all at once %d\nonly alone: %v\nonly at once: %v", len(each), len(got), minus(each, got), minus(got, each))
						}
					}
				}
				q, args, cerr := segment.CompileSQL(n, segment.SQLOptions{
					Dialect: dialect, Registry: reg, WorkspaceID: d.ws, AsOf: asOf, TimeZones: zones, Segment: refs, List: lists,
				})
				if (err == nil) != (cerr == nil) {
					return fmt.Sprintf("engine error %v, SQL error %v", err, cerr)
				}
				if err != nil {
					return "" // both refuse the tree
				}
				rows, err := s.DB().QueryContext(ctx, q, args...)
				if err != nil {
					return fmt.Sprintf("SQL failed: %v\n%s", err, q)
				}
				var want []int64
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return err.Error()
					}
					want = append(want, id)
				}
				rows.Close()
				if got == nil {
					got = []int64{}
				}
				if want == nil {
					want = []int64{}
				}
				if !slices.Equal(got, want) {
					return fmt.Sprintf("engine %d members, SQL %d\nonly engine: %v\nonly SQL: %v", len(got), len(want), minus(got, want), minus(want, got))
				}
				return ""
			}
			nonEmpty, all := 0, 0
			for i := range trees {
				n := segmenttest.RandomNode(r, opts)
				asOf := asOfs[i%len(asOfs)]
				if msg := mismatch(n, asOf); msg != "" {
					small := segmenttest.Minimize(n, func(m *segment.Node) bool { return mismatch(m, asOf) != "" })
					js, _ := json.Marshal(small)
					t.Fatalf("tree %d at %s: engine and SQL disagree on\n  %s\n  %s\n%s\n(the original: %s)",
						i, asOf.Format(time.RFC3339Nano), segment.Format(small), js, mismatch(small, asOf), segment.Format(n))
				}
				if b, err := ix.Evaluate(n, asOf, refs); err == nil {
					switch c := engine.Count(b); {
					case c == 0:
					case int(c) == ix.Len():
						all++
					default:
						nonEmpty++
					}
				}
			}
			// A test where every tree selects nobody (or everybody) would
			// prove little: demand that most select some but not all.
			if nonEmpty < trees/3 {
				t.Errorf("only %d of %d trees selected some but not all customers (%d all): the generator needs better literals", nonEmpty, trees, all)
			}
			t.Logf("%d trees agree; %d selected some but not all customers, %d everyone", trees, nonEmpty, all)
		})
	}
}

// minus returns the elements of a (ascending) not in b (ascending).
func minus(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

var (
	oracleFields = []segmenttest.FieldSpec{
		{Name: "orders", Type: segment.TypeNumber}, {Name: "revenue", Type: segment.TypeNumber},
		{Name: "aov", Type: segment.TypeNumber}, {Name: "refunds", Type: segment.TypeNumber},
		{Name: "refund_total", Type: segment.TypeNumber}, {Name: "events", Type: segment.TypeNumber},
		{Name: "first_order_at", Type: segment.TypeTime}, {Name: "last_order_at", Type: segment.TypeTime},
		{Name: "first_seen_at", Type: segment.TypeTime}, {Name: "last_seen_at", Type: segment.TypeTime},
		{Name: "created_at", Type: segment.TypeTime}, {Name: "user_id", Type: segment.TypeString},
		{Name: "email", Type: segment.TypeString},
		{Name: "rfm.segment", Type: segment.TypeString}, {Name: "rfm.score", Type: segment.TypeString},
		{Name: "rfm.r", Type: segment.TypeNumber}, {Name: "rfm.recency", Type: segment.TypeNumber},
		{Name: "rfm.monetary", Type: segment.TypeNumber}, {Name: "cluster", Type: segment.TypeNumber},
		{Name: "p_alive", Type: segment.TypeNumber}, {Name: "expected_purchases", Type: segment.TypeNumber},
		{Name: "predicted_clv", Type: segment.TypeNumber}, {Name: "churn_risk", Type: segment.TypeString},
		{Name: "next_order_at", Type: segment.TypeTime},
		{Name: "country"}, {Name: "age"}, {Name: "traits.plan"}, {Name: "vip"}, {Name: "score"},
		{Name: "tags"}, {Name: "address.city"}, {Name: "address.zip"}, {Name: "name"}, {Name: "birthday"},
		{Name: "signup_at"}, {Name: "timezone"}, {Name: "missing"},
	}
	oracleProperties = []segmenttest.FieldSpec{
		{Name: "revenue"}, {Name: "category"}, {Name: "quantity"}, {Name: "product.brand"}, {Name: "product.price"}, {Name: "nothing"},
	}
)
