package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/storetest"
)

// TestLoadFromStore back-fills an index from each real database and checks
// it reads what the store holds: features, traits of every JSON type, and
// only the workspace's events, in order.
func TestLoadFromStore(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			ctx := context.Background()
			ws := storetest.Workspace(t, s, "shop").ID
			other := storetest.Workspace(t, s, "other").ID
			c1 := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, Email: "a@x.com",
				Features: touchbase.Features{Orders: 2, Revenue: 300, LastOrderAt: ago(5 * day)},
				Traits:   map[string]any{"plan": "gold", "age": 41, "tags": []any{"x"}, "vip": true}})
			c2 := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws,
				Traits: map[string]any{"plan": nil, "age": "41"}})
			c3 := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: other, Traits: map[string]any{"plan": "gold"}})
			for _, e := range []*touchbase.Event{
				{CustomerID: c1, Event: "Order Completed", Timestamp: asOf.Add(-2 * day), Properties: json.RawMessage(`{"revenue": 120}`)},
				{CustomerID: c1, Event: "Order Completed", Timestamp: asOf.Add(-9 * day), Properties: json.RawMessage(`{"revenue": 180}`)},
				{CustomerID: c2, Event: "Order Completed", Timestamp: asOf.Add(-1 * day)},
				{CustomerID: c2, Event: "Page Viewed", Timestamp: asOf.Add(-1 * day)},
			} {
				e.WorkspaceID = ws
				storetest.InsertEvent(t, s, e)
			}
			storetest.InsertEvent(t, s, &touchbase.Event{WorkspaceID: other, CustomerID: c3, Event: "Order Completed", Timestamp: asOf.Add(-day)})

			var got []touchbase.EventRow
			if err := s.ScanEvents(ctx, ws, []string{"Order Completed"}, 0, math.MaxInt64, func(e touchbase.EventRow) error {
				e.Properties = slices.Clone(e.Properties) // valid until the callback returns
				got = append(got, e)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// In id order, the order of insertion.
			if len(got) != 3 || got[0].CustomerID != c1 || got[0].Timestamp != asOf.Add(-2*day).UnixMilli() ||
				got[1].Timestamp != asOf.Add(-9*day).UnixMilli() || got[2].CustomerID != c2 || got[2].Properties != nil ||
				got[0].ID >= got[1].ID || got[1].ID >= got[2].ID || got[0].Event != "Order Completed" {
				t.Errorf("ScanEvents: %+v", got)
			}
			// The latest event of each workspace, 0 for none.
			lastWS, err1 := s.LastEventID(ctx, ws)
			lastOther, err2 := s.LastEventID(ctx, other)
			none, err3 := s.LastEventID(ctx, storetest.Workspace(t, s, "empty").ID)
			if err := errors.Join(err1, err2, err3); err != nil || lastWS <= got[2].ID || lastOther <= lastWS || none != 0 {
				t.Errorf("LastEventID: %d, %d, %d (%v); the last order of ws is %d", lastWS, lastOther, none, err, got[2].ID)
			}
			var revenue map[string]float64
			if err := json.Unmarshal(got[1].Properties, &revenue); err != nil || revenue["revenue"] != 180 {
				t.Errorf("properties %s: %v", got[1].Properties, err)
			}

			ix := engine.NewIndex(segment.NewRegistry())
			if err := ix.Load(ctx, s, ws); err != nil {
				t.Fatal(err)
			}
			if ix.Len() != 2 {
				t.Errorf("Len %d, want 2", ix.Len())
			}
			for tree, want := range map[string][]int64{
				`{"op": "=", "left": {"field": "plan"}, "right": {"value": "gold"}}`:                                    {c1},
				`{"op": "is not set", "left": {"field": "plan"}}`:                                                       {c2},
				`{"op": ">", "left": {"field": "age"}, "right": {"value": 40}}`:                                         {c1},
				`{"op": "contains", "left": {"field": "tags"}, "right": {"value": "x"}}`:                                {c1},
				`{"op": "=", "left": {"field": "vip"}, "right": {"value": true}}`:                                       {c1},
				`{"op": "=", "left": {"field": "aov"}, "right": {"value": 150}}`:                                        {c1},
				`{"op": "=", "left": {"field": "email"}, "right": {"value": "a@x.com"}}`:                                {c1},
				`{"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "4d"}}`:                               {c1},
				`{"op": "=", "left": ` + ocCount + `, "right": {"value": 2}}`:                                           {c1},
				`{"op": "=", "left": ` + ocCount + `, "right": {"value": 1}}`:                                           {c2},
				`{"op": "=", "left": {"agg": {"func": "sum", ` + ocRev + `, "within": "7d"}}, "right": {"value": 120}}`: {c1},
			} {
				got, err := members(t, ix, node(t, tree), asOf, nil)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("%s: %v, %v, want %v", tree, got, err, want)
				}
			}
		})
	}
}
