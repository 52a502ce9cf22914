package engine

import (
	"reflect"
	"testing"
)

var propsCases = []string{
	`{"category":"Books","price":12.5}`, ` { "a" : 1 , "b" : "x" } `, `{}`, ` {} `, `{"a":1,"a":2}`,
	`{"a":-0}`, `{"a":1e400}`, `{"a":1e-400}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":1E+2}`,
	`{"a":true,"b":false,"c":null}`, `{"a":tru}`, `{"a":nul}`, `{"a":"x\"y"}`, `{"a":"\u00e9"}`, `{"a\n":1}`,
	"{\"a\":\"\xff\"}", "{\"\xff\":1}", "{\"a\":\"\x01\"}", `{"a":{"b":1}}`, `{"a":[1,2]}`, `{"b":{"c":1},"a":2}`,
	`{"a":1,}`, `{"a":1`, `{"a" 1}`, `{a:1}`, `[1]`, `null`, `1`, `"a"`, ``, ` `, `{"a":1}x`, `{"a":1} `,
	`{"a":1}{}`, `{"a":"é"}`, `{"é":"b"}`, `{"a":123456789012345678901234567890}`, `{"a":0.1,"b":-2.5e-3}`,
}

// TestDecodeKeys: decodeKeys is decodeProps restricted to the keys, on
// every edge of JSON the fast path might take differently.
func TestDecodeKeys(t *testing.T) {
	for _, raw := range propsCases {
		checkDecodeKeys(t, raw)
	}
}

func checkDecodeKeys(t *testing.T, raw string) {
	t.Helper()
	keys := []string{"a", "b", "é", "missing", "a\n"}
	full := decodeProps([]byte(raw))
	// A map reused from an earlier event, holding its properties.
	got := decodeKeys([]byte(raw), keys, map[string]any{"a": "stale", "missing": true})
	for _, k := range keys {
		w, wok := full[k]
		g, gok := got[k]
		if wok != gok || !reflect.DeepEqual(w, g) {
			t.Errorf("%q key %q: got %#v (%v), encoding/json %#v (%v)", raw, k, g, gok, w, wok)
		}
	}
	for k, g := range got { // more keys only when encoding/json decoded it all
		if w, ok := full[k]; !ok || !reflect.DeepEqual(w, g) {
			t.Errorf("%q: key %q: got %#v, encoding/json %#v (%v)", raw, k, g, w, ok)
		}
	}
}

func FuzzDecodeKeys(f *testing.F) {
	for _, raw := range propsCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkDecodeKeys(t, raw) })
}

func BenchmarkDecodeProps(b *testing.B) {
	raw := []byte(`{"order_id":"o123456-7","revenue":42.25}`)
	keys := []string{"revenue"}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeProps(raw)
		}
	})
	b.Run("keys", func(b *testing.B) {
		b.ReportAllocs()
		m := map[string]any{}
		for b.Loop() {
			decodeKeys(raw, keys, m)
		}
	})
}
