package engine

import (
	"encoding/json"
	"math"
	"testing"
)

// TestAppendTraits checks appendTraits against encoding/json byte for
// byte, and that it declines what it does not encode.
func TestAppendTraits(t *testing.T) {
	for _, m := range []map[string]any{
		{},
		{"a": 1.0, "b": "x", "c": true, "d": nil, "e": false},
		{"z": 0.1, "y": math.Copysign(0, -1), "x": 1e21, "w": 1e-7, "v": 123456789.125, "u": 1e20, "t": 1e-6, "s": -2.5e-10, "r": math.MaxFloat64, "q": math.SmallestNonzeroFloat64},
		{"country": "DE", "timezone": "Europe/Berlin", "birthday": "1990-03-04", "email_subscribed": true},
		{"B": "1", "a": "2", "_": "3", "A b": "~"},
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, _, ok := appendTraits(nil, m, nil)
		if !ok || string(got) != string(want) {
			t.Errorf("%v: got %s (%v), want %s", m, got, ok, want)
		}
	}
	for _, m := range []map[string]any{
		{"a": "<b>"}, {"a": "é"}, {"é": 1.0}, {"a": "\n"}, {"a": `"`}, {"a": 1}, {"a": map[string]any{}},
		{"a": []any{1.0}}, {"a": math.NaN()}, {"a": math.Inf(1)}, {"a\\": 1.0},
	} {
		if got, _, ok := appendTraits(nil, m, nil); ok {
			t.Errorf("%v: encoded as %s, want declined", m, got)
		}
	}
}
