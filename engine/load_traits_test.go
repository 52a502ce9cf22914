package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
)

// rawSource hands out traits as the given JSON texts, as a store does.
type rawSource struct{ traits []string }

func (r *rawSource) LastEventID(context.Context, int64) (int64, error) { return 0, nil }

func (r *rawSource) ScanCustomers(_ context.Context, _ int64, fn func(*touchbase.Customer, []byte) error) error {
	for i, t := range r.traits {
		if err := fn(&touchbase.Customer{ID: int64(i + 1)}, []byte(t)); err != nil {
			return err
		}
	}
	return nil
}

func (r *rawSource) ScanEvents(context.Context, int64, []string, int64, int64, func(touchbase.EventRow) error) error {
	return nil
}

// TestLoadRawTraits checks that traits loaded as the store's JSON, kept as
// they are when flat, evaluate as the same traits decoded and applied.
func TestLoadRawTraits(t *testing.T) {
	texts := []string{
		`{"a":1,"b":"x","c":true}`,
		` { "b" : "x" , "a" : 1.50 , "c" : null } `,
		`{}`,
		`null`,
		``,
		`{"n":{"x":1},"a":2}`,
		`{"s":"\u00e9t\u00e9","a":1e2}`,
		`{"d":1,"d":2,"a":-0}`,
		`{"a":[1,2],"b":"y"}`,
		`{"b":"<&>","a":0.000001}`,
	}
	raw := load(t, &rawSource{texts})
	applied := engine.NewIndex(segment.NewRegistry())
	if err := applied.Load(context.Background(), &rawSource{}, 1); err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		var m map[string]any
		if text != "" {
			if err := json.Unmarshal([]byte(text), &m); err != nil {
				t.Fatalf("%s: %v", text, err)
			}
		}
		applied.ApplyCustomer(&touchbase.Customer{ID: int64(i + 1), Traits: m})
	}
	for _, tree := range []string{
		`{"op": "=", "left": {"field": "a"}, "right": {"value": 1}}`,
		`{"op": ">", "left": {"field": "a"}, "right": {"value": 0}}`,
		`{"op": "is set", "left": {"field": "a"}}`,
		`{"op": "is set", "left": {"field": "c"}}`,
		`{"op": "=", "left": {"field": "b"}, "right": {"value": "x"}}`,
		`{"op": "starts with", "left": {"field": "b"}, "right": {"value": "<"}}`,
		`{"op": "=", "left": {"field": "n.x"}, "right": {"value": 1}}`,
		`{"op": "=", "left": {"field": "s"}, "right": {"value": "été"}}`,
		`{"op": "=", "left": {"field": "d"}, "right": {"value": 2}}`,
		`{"op": "contains", "left": {"field": "a"}, "right": {"value": 2}}`,
	} {
		n := node(t, tree)
		want, err := members(t, applied, n, asOf, nil)
		if err != nil {
			t.Fatalf("%s: %v", tree, err)
		}
		got, err := members(t, raw, n, asOf, nil)
		if err != nil {
			t.Fatalf("%s: %v", tree, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: loaded raw %v, applied %v", tree, got, want)
		}
	}
	if got, want := raw.Len(), len(texts); got != want {
		t.Errorf("Len %d, want %d", got, want)
	}

	bad := engine.NewIndex(segment.NewRegistry())
	if err := bad.Load(context.Background(), &rawSource{[]string{`{"a":1`}}, 1); err == nil {
		t.Error("invalid traits JSON loaded without an error")
	}
}
