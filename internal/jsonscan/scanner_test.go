package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonSeeds are inputs for the scanner tests: valid, invalid and awkward.
var jsonSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`,
	` { "a" : [ 1 , 2 , { "b" : null } ] } `,
	`{"a":"\u00e9\ud83d\ude00\n\t\"\\\/"}`,
	`{"a":"\ud800"}`, `{"a":"\ud800\u0041"}`, `{"a":"\udc00\ud800"}`,
	`{"a":1,"a":2}`,
	`{"a":1e400}`, `[1e400]`, `1e400`,
	`{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`,
	`01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`, `nul`, `True`,
	`"abc`, `"a\x"`, `"a\u12"`, `"a\u12g4"`, "\"a\x01b\"", "\"tab\tinside\"",
	`{"a":1} {"b":2}`, `{"a":1}x`, ` `, ``,
	`{"a":[[[[[[[[[[]]]]]]]]]]}`,
	"{\"\xff\":\"\xfe\"}",
	`[1, "two", {"three": [3.0, -3e3]}, true, false, null]`,
}

func TestScannerMatchesEncodingJSON(t *testing.T) {
	for _, in := range jsonSeeds {
		checkScanner(t, []byte(in))
	}
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	checkScanner(t, []byte(deep))
	checkScanner(t, []byte("["+deep+"]"))
}

func FuzzScanner(f *testing.F) {
	for _, in := range jsonSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkScanner(t, in)
	})
}

// checkScanner holds the scanner to encoding/json: it accepts exactly the
// documents encoding/json accepts, and decode returns what json.Unmarshal
// returns (for valid UTF-8; inbound.Parse rejects the rest before decoding).
func checkScanner(t *testing.T, in []byte) {
	t.Helper()
	s := Scanner{Data: in}
	_, err := s.Value()
	if err == nil {
		err = s.End()
	}
	if got, want := err == nil, json.Valid(in); got != want {
		t.Fatalf("%q: scanner valid = %v (%v), encoding/json valid = %v", in, got, err, want)
	}
	if err != nil {
		se, ok := err.(*SyntaxError)
		if !ok || se.Off < 0 || se.Off > len(in) {
			t.Fatalf("%q: error %v has a bad offset", in, err)
		}
		return
	}
	if !utf8.Valid(in) {
		return
	}
	var want any
	werr := json.Unmarshal(in, &want)
	got, gerr := Decode(in)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: decode error %v, encoding/json error %v", in, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decode = %#v, encoding/json = %#v", in, got, want)
	}
}

// TestMendMatchesEncodingJSON holds the mending scanner to encoding/json:
// what it accepts is the same, and a mended document decodes to what
// encoding/json decodes with U+0000 replaced by U+FFFD (encoding/json
// replaces lone surrogates already).
func TestMendMatchesEncodingJSON(t *testing.T) {
	for _, in := range append(jsonSeeds, mendSeeds...) {
		checkMend(t, []byte(in))
	}
}

// mendSeeds are strings mendEscape rewrites, or must leave alone.
var mendSeeds = []string{
	`"\u0000"`, `{"\u0000k":"v\u0000"}`, `"a\\u0000"`, `"\\\u0000"`, `["\u0000","\u00001"]`,
	`"\ud800"`, `"\udc00"`, `"\ud83d\ude00"`, `"\ud83d\u0000"`, `"\ud83d\ud83d\ude00"`, `"\udbff\udfff"`,
	`"\ud800\u"`, `"\ud800\uzzzz"`, `"\uD800\uDC00\uDC00"`, `"\u0000\ud800"`, `"x\u00"`,
}

func FuzzMend(f *testing.F) {
	for _, in := range append(jsonSeeds, mendSeeds...) {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkMend(t, in) })
}

func checkMend(t *testing.T, in []byte) {
	t.Helper()
	mended := append([]byte(nil), in...)
	s := Scanner{Data: mended, Mend: true}
	_, err := s.Value()
	if err == nil {
		err = s.End()
	}
	if got, want := err == nil, json.Valid(in); got != want {
		t.Fatalf("%q: mending scanner valid = %v (%v), encoding/json valid = %v", in, got, err, want)
	}
	if len(mended) != len(in) {
		t.Fatalf("%q: mended to %q, another length", in, mended)
	}
	if err != nil || !utf8.Valid(in) {
		return
	}
	if bytes.Contains(mended, []byte(`\u0000`)) && !bytes.Contains(mended, []byte(`\\u0000`)) {
		t.Fatalf("%q: mended %q still holds \\u0000", in, mended)
	}
	var want any
	if json.Unmarshal(in, &want) != nil {
		return
	}
	got, gerr := Decode(mended)
	if gerr != nil {
		t.Fatalf("%q: decode(%q): %v", in, mended, gerr)
	}
	if want = withoutNUL(want); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decode(%q) = %#v, want %#v", in, mended, got, want)
	}
}

// withoutNUL replaces U+0000 with U+FFFD in the strings and keys of v.
func withoutNUL(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case []any:
		for i := range x {
			x[i] = withoutNUL(x[i])
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[strings.ReplaceAll(k, "\x00", "\uFFFD")] = withoutNUL(e)
		}
		return m
	}
	return v
}

func TestUnquote(t *testing.T) {
	for _, in := range []string{`""`, `"plain"`, `"a\"b"`, `"\u00e9t\u00e9"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\\u0041"`, `"\/\b\f\n\r\t"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if got := Unquote([]byte(in)); got != want {
			t.Errorf("Unquote(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestSyntaxErrorOffsets(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":x}`, "invalid character 'x' looking for beginning of value at byte 6"},
		{`{"a" 1}`, "invalid character '1' after object key at byte 6"},
		{`{"a":1 "b":2}`, "invalid character '\"' after object key:value pair at byte 8"},
		{`[1 2]`, "invalid character '2' after array element at byte 4"},
		{`{"a":tru}`, "invalid character '}' in literal true (expecting 'e') at byte 9"},
		{`{"a":"x`, "unexpected end of JSON input at byte 7"},
		{"{\"a\":\"\x01\"}", "invalid character '\\x01' in string literal at byte 7"},
		{`{"a":01}`, "invalid character '1' after object key:value pair at byte 7"},
	} {
		s := Scanner{Data: []byte(tc.in)}
		_, err := s.Value()
		if err == nil {
			err = s.End()
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

// FuzzIterators holds the fast walks over validated JSON to the validating
// scanner: the members and elements they find are the ones it finds.
func FuzzIterators(f *testing.F) {
	for _, in := range jsonSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := Scanner{Data: in}
		s.SkipSpace()
		start := s.Pos
		if _, err := s.Value(); err != nil || s.End() != nil {
			return
		}
		raw := in[start:]
		raw = raw[:len(raw)-(len(raw)-len(trimRight(raw)))]
		switch raw[0] {
		case '{':
			var want map[string]json.RawMessage
			var keys []string
			it := NewObjectIter(raw)
			var m Member
			got := map[string]json.RawMessage{}
			for it.Next(&m) {
				got[m.Name()] = json.RawMessage(m.Value)
				keys = append(keys, m.Name())
				if !json.Valid(m.Value) || !json.Valid(append(append([]byte("{"), m.Whole...), '}')) {
					t.Fatalf("%q: member %q = %q (whole %q) is not JSON", in, m.Key, m.Value, m.Whole)
				}
			}
			if err := json.Unmarshal(raw, &want); err == nil && utf8.Valid(raw) {
				if len(got) != len(want) {
					t.Fatalf("%q: members %v, want %d", in, keys, len(want))
				}
				for k, v := range want {
					if string(got[k]) != string(v) {
						t.Fatalf("%q: member %q = %q, want %q", in, k, got[k], v)
					}
				}
			}
		case '[':
			var want []json.RawMessage
			var got []json.RawMessage
			it := NewArrayIter(raw)
			for {
				v, ok := it.Next()
				if !ok {
					break
				}
				got = append(got, v)
			}
			if err := json.Unmarshal(raw, &want); err == nil {
				if len(got) != len(want) {
					t.Fatalf("%q: %d elements, want %d", in, len(got), len(want))
				}
				for i := range want {
					if string(got[i]) != string(want[i]) {
						t.Fatalf("%q: element %d = %q, want %q", in, i, got[i], want[i])
					}
				}
			}
		}
	})
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && strings.ContainsRune(" \t\r\n", rune(b[len(b)-1])) {
		b = b[:len(b)-1]
	}
	return b
}

// FuzzNextSpecial holds the eight-bytes-at-a-time search to a byte loop.
func FuzzNextSpecial(f *testing.F) {
	f.Add([]byte(`abcdefgh"ijk`), 0)
	f.Add([]byte("\xff\xfe\x1f\x80\\\"aaaaaaaaaaaaaaa"), 1)
	f.Add([]byte(`aaaaaaaaaaaaaaaaaaaaaaaaa`), 3)
	f.Fuzz(func(t *testing.T, data []byte, i int) {
		if i < 0 || i > len(data) {
			return
		}
		want := i
		for want < len(data) && !strSpecial[data[want]] {
			want++
		}
		if got := nextSpecial(data, i); got != want {
			t.Fatalf("nextSpecial(%q, %d) = %d, want %d", data, i, got, want)
		}
		wantQ := i
		for wantQ < len(data) && data[wantQ] != '"' && data[wantQ] != '\\' {
			wantQ++
		}
		// skipValidString starts at a quote: put one before i's byte.
		buf := append([]byte{'"'}, data[i:]...)
		if end, _ := skipValidString(buf, 0); wantQ < len(data) && data[wantQ] == '"' && end != wantQ-i+2 {
			t.Fatalf("skipValidString(%q) = %d, want %d", buf, end, wantQ-i+2)
		}
	})
}
