package engine

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/touchbase/touchbase/segment"
)

// Back-fill reads millions of events whose properties are small flat JSON
// objects ({"category":"Books","price":12.5}), of which the series read a
// key or two. Decoding each into a map with encoding/json was a fifth of
// the back-fill; decodeKeys reads such an object in one pass and keeps
// only the keys asked for. Anything else (nested values, escapes,
// numbers out of range, invalid JSON) goes to encoding/json, so the result
// is always decodeProps's, restricted to the keys.

// decodeKeys returns the properties raw holds under keys (top-level
// names), as decodeProps would decode them. The result may be into, a
// map reused from one event to the next (nil: a new one), cleared first.
func decodeKeys(raw []byte, keys []string, into map[string]any) map[string]any {
	if m, ok := scanFlat(raw, keys, into); ok {
		return m
	}
	return decodeProps(raw)
}

// scanFlat decodes raw when it is a JSON object whose values are strings
// without escapes, numbers, booleans or null; ok is false for anything
// else, valid or not. The result is m (cleared) unless m is nil.
func scanFlat(raw []byte, keys []string, m map[string]any) (map[string]any, bool) {
	clear(m)
	s := raw
	p := skipSpace(s, 0)
	if p >= len(s) || s[p] != '{' {
		return nil, false
	}
	p = skipSpace(s, p+1)
	if p < len(s) && s[p] == '}' {
		p = skipSpace(s, p+1)
		if m == nil {
			m = map[string]any{}
		}
		return m, p == len(s)
	}
	for {
		k, q, ok := plainString(s, p)
		if !ok {
			return nil, false
		}
		at := wantedAt(keys, k)
		want := at >= 0
		p = skipSpace(s, q)
		if p >= len(s) || s[p] != ':' {
			return nil, false
		}
		p = skipSpace(s, p+1)
		if p >= len(s) {
			return nil, false
		}
		var v any
		switch c := s[p]; {
		case c == '"':
			str, q, ok := plainString(s, p)
			if !ok {
				return nil, false
			}
			if want {
				v = string(str)
			}
			p = q
		case c == '-' || (c >= '0' && c <= '9'):
			q := numberEnd(s, p)
			if q < 0 {
				return nil, false
			}
			f, err := strconv.ParseFloat(string(s[p:q]), 64)
			if err != nil {
				return nil, false // encoding/json fails the whole object
			}
			v, p = f, q
		case c == 't' && hasWord(s, p, "true"):
			v, p = true, p+4
		case c == 'f' && hasWord(s, p, "false"):
			v, p = false, p+5
		case c == 'n' && hasWord(s, p, "null"):
			v, p = nil, p+4
		default:
			return nil, false // objects, arrays, or not JSON
		}
		if want {
			if m == nil {
				m = make(map[string]any, len(keys))
			}
			m[keys[at]] = v // a repeated key: the last wins, as in encoding/json
		}
		p = skipSpace(s, p)
		if p >= len(s) {
			return nil, false
		}
		switch s[p] {
		case ',':
			p = skipSpace(s, p+1)
		case '}':
			if skipSpace(s, p+1) != len(s) {
				return nil, false
			}
			if m == nil {
				m = map[string]any{}
			}
			return m, true
		default:
			return nil, false
		}
	}
}

// flatKeys reports whether raw is a JSON object whose values are strings
// without escapes, numbers, booleans or null (what scanFlat reads), calling
// key with each of its keys; n is how many it has.
func flatKeys(raw []byte, key func(k []byte)) (n int, ok bool) {
	s := raw
	p := skipSpace(s, 0)
	if p >= len(s) || s[p] != '{' {
		return 0, false
	}
	p = skipSpace(s, p+1)
	if p < len(s) && s[p] == '}' {
		return 0, skipSpace(s, p+1) == len(s)
	}
	for {
		k, q, ok := plainString(s, p)
		if !ok {
			return 0, false
		}
		p = skipSpace(s, q)
		if p >= len(s) || s[p] != ':' {
			return 0, false
		}
		p = skipSpace(s, p+1)
		if p >= len(s) {
			return 0, false
		}
		switch c := s[p]; {
		case c == '"':
			_, q, ok := plainString(s, p)
			if !ok {
				return 0, false
			}
			p = q
		case c == '-' || (c >= '0' && c <= '9'):
			q := numberEnd(s, p)
			if q < 0 {
				return 0, false
			}
			if _, err := strconv.ParseFloat(string(s[p:q]), 64); err != nil {
				return 0, false // out of range: encoding/json fails the object
			}
			p = q
		case c == 't' && hasWord(s, p, "true"):
			p += 4
		case c == 'f' && hasWord(s, p, "false"):
			p += 5
		case c == 'n' && hasWord(s, p, "null"):
			p += 4
		default:
			return 0, false
		}
		key(k)
		n++
		p = skipSpace(s, p)
		if p >= len(s) {
			return 0, false
		}
		switch s[p] {
		case ',':
			p = skipSpace(s, p+1)
		case '}':
			return n, skipSpace(s, p+1) == len(s)
		default:
			return 0, false
		}
	}
}

func wanted(keys []string, k string) bool {
	for _, w := range keys {
		if w == k {
			return true
		}
	}
	return false
}

// wantedAt returns where k is in keys, -1 when it is not.
func wantedAt(keys []string, k []byte) int {
	for at, w := range keys {
		if w == string(k) {
			return at
		}
	}
	return -1
}

func skipSpace(s []byte, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r') {
		p++
	}
	return p
}

func hasWord(s []byte, p int, w string) bool {
	return len(s)-p >= len(w) && string(s[p:p+len(w)]) == w
}

// plainString reads the JSON string at p when it has no escapes and is
// valid UTF-8 (so that it is its bytes), returning its bytes and the
// position after its closing quote.
func plainString(s []byte, p int) ([]byte, int, bool) {
	if p >= len(s) || s[p] != '"' {
		return nil, 0, false
	}
	for q := p + 1; q < len(s); q++ {
		switch c := s[q]; {
		case c == '"':
			b := s[p+1 : q]
			if !utf8.Valid(b) {
				return nil, 0, false // encoding/json replaces invalid bytes
			}
			return b, q + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// numberEnd returns the end of the JSON number at p, -1 when the text is
// not one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(s []byte, p int) int {
	digits := func(p int) int {
		q := p
		for q < len(s) && s[q] >= '0' && s[q] <= '9' {
			q++
		}
		return q
	}
	if p < len(s) && s[p] == '-' {
		p++
	}
	switch {
	case p < len(s) && s[p] == '0':
		p++
	case p < len(s) && s[p] >= '1' && s[p] <= '9':
		p = digits(p)
	default:
		return -1
	}
	if p < len(s) && s[p] == '.' {
		q := digits(p + 1)
		if q == p+1 {
			return -1
		}
		p = q
	}
	if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
		p++
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		q := digits(p)
		if q == p {
			return -1
		}
		p = q
	}
	return p
}

// propKeys returns the top-level properties the series read, in their
// where and as their property, without repeats.
func propKeys(ss []*series) []string {
	keys := []string{}
	add := func(path string) {
		k, _, _ := strings.Cut(path, ".")
		if !wanted(keys, k) {
			keys = append(keys, k)
		}
	}
	var walk func(n *segment.Node)
	walk = func(n *segment.Node) {
		if n == nil {
			return
		}
		for _, o := range []*segment.Operand{n.Left, n.Right} {
			if o != nil && o.Field != "" {
				add(o.Field)
			}
		}
		for _, a := range n.Args {
			walk(a)
		}
	}
	for _, s := range ss {
		if s.key.prop != "" {
			add(s.key.prop)
		}
		walk(s.whereNode)
	}
	return keys
}
