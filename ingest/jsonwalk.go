package ingest

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

// Walks over JSON that the scanner (json.go) has validated already:
// members of objects, elements of arrays, string decoding, and decoding to
// Go values.

// member is one key:value pair of an object, as raw bytes.
type member struct {
	key     []byte // between the quotes, possibly escaped
	escaped bool   // key holds escapes
	value   []byte // the raw value
	whole   []byte // from the key's opening quote to the value's end
}

// name returns the decoded key.
func (m *member) name() string {
	if !m.escaped {
		return string(m.key)
	}
	return unescape(m.key)
}

// is reports whether the decoded key equals k, without allocating for
// keys that hold no escapes.
func (m *member) is(k string) bool {
	if !m.escaped {
		return string(m.key) == k
	}
	return unescape(m.key) == k
}

// objectIter walks the members of an object whose raw bytes were already
// validated.
type objectIter struct {
	s     scanner
	first bool
}

// newObjectIter returns an iterator over obj, which must be a valid JSON
// object (typically a sub-slice the scanner validated).
func newObjectIter(obj []byte) objectIter {
	it := objectIter{s: scanner{data: obj}, first: true}
	it.s.ws()
	it.s.pos++ // {
	return it
}

// next returns the next member, or false at the end. Since obj is valid,
// errors cannot happen; a malformed obj ends the walk early.
func (it *objectIter) next(m *member) bool {
	s := &it.s
	s.ws()
	if !it.first {
		if s.peek() != ',' {
			return false
		}
		s.pos++
		s.ws()
	}
	it.first = false
	if s.peek() != '"' {
		return false
	}
	start := s.pos
	end, esc := skipValidString(s.data, s.pos)
	m.key, m.escaped = s.data[start+1:end-1], esc
	s.pos = end
	s.ws()
	if s.peek() != ':' {
		return false
	}
	s.pos++
	s.ws()
	vs := s.pos
	if vs >= len(s.data) {
		return false
	}
	s.pos = skipValid(s.data, vs)
	m.value = s.data[vs:s.pos]
	m.whole = s.data[start:s.pos]
	return true
}

// skipValid returns the end of the value at d[i], which the scanner has
// validated already: a walk that only tracks strings and nesting, several
// times faster than validating again.
func skipValid(d []byte, i int) int {
	switch d[i] {
	case '"':
		end, _ := skipValidString(d, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i, _ = skipValidString(d, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(d) {
		switch d[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipValidString returns the end of the valid string at d[i] (its opening
// quote) and whether it holds escapes.
func skipValidString(d []byte, i int) (end int, escaped bool) {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i++
	for {
		for i+8 <= len(d) {
			w := binary.LittleEndian.Uint64(d[i:])
			q, b := w^(lo*'"'), w^(lo*'\\')
			if m := ((q-lo)&^q | (b-lo)&^b) & hi; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(d) && d[i] != '"' && d[i] != '\\' {
			i++
		}
		if i >= len(d) {
			return len(d), escaped
		}
		if d[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2
	}
}

// arrayIter walks the elements of a validated array.
type arrayIter struct {
	s     scanner
	first bool
}

func newArrayIter(arr []byte) arrayIter {
	it := arrayIter{s: scanner{data: arr}, first: true}
	it.s.ws()
	it.s.pos++ // [
	return it
}

func (it *arrayIter) next() ([]byte, bool) {
	s := &it.s
	s.ws()
	if s.peek() == ']' || s.pos >= len(s.data) {
		return nil, false
	}
	if !it.first {
		if s.peek() != ',' {
			return nil, false
		}
		s.pos++
	}
	it.first = false
	s.ws()
	vs := s.pos
	if vs >= len(s.data) {
		return nil, false
	}
	s.pos = skipValid(s.data, vs)
	return s.data[vs:s.pos], true
}

// unquote returns the string a raw JSON string literal (with its quotes)
// stands for.
func unquote(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			return unescape(body)
		}
	}
	return string(body)
}

// unescape decodes the body of a valid JSON string that holds escapes.
// Lone surrogates become U+FFFD, as with encoding/json.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(b[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(b[i+2:])); r2 != utf8.RuneError {
						i += 6
						out = utf8.AppendRune(out, r2)
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		i += 2
	}
	return string(out)
}

func hex4(b []byte) rune {
	if len(b) < 4 {
		return utf8.RuneError
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return utf8.RuneError
		}
		r = r<<4 | rune(c)
	}
	return r
}

// decode returns the Go value of a raw JSON value, as encoding/json
// decodes into an any: map[string]any, []any, string, float64, bool or nil
// (for duplicate keys the last wins). A number out of float64's range is
// an error, as with encoding/json.
func decode(raw []byte) (any, error) {
	s := scanner{data: raw}
	v, err := s.decode(0)
	if err != nil {
		return nil, err
	}
	return v, s.end()
}

func (s *scanner) decode(depth int) (any, error) {
	s.ws()
	switch c := s.peek(); c {
	case '{':
		if depth >= maxDepth {
			return nil, &syntaxError{msg: "exceeded max depth", off: s.pos}
		}
		s.pos++
		m := make(map[string]any)
		s.ws()
		if s.peek() == '}' {
			s.pos++
			return m, nil
		}
		for {
			s.ws()
			if s.peek() != '"' {
				return nil, s.errorf("looking for beginning of object key string")
			}
			start := s.pos
			if _, err := s.str(); err != nil {
				return nil, err
			}
			key := unquote(s.data[start:s.pos])
			s.ws()
			if s.peek() != ':' {
				return nil, s.errorf("after object key")
			}
			s.pos++
			v, err := s.decode(depth + 1)
			if err != nil {
				return nil, err
			}
			m[key] = v
			s.ws()
			switch s.peek() {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return m, nil
			default:
				return nil, s.errorf("after object key:value pair")
			}
		}
	case '[':
		if depth >= maxDepth {
			return nil, &syntaxError{msg: "exceeded max depth", off: s.pos}
		}
		s.pos++
		a := []any{}
		s.ws()
		if s.peek() == ']' {
			s.pos++
			return a, nil
		}
		for {
			v, err := s.decode(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			s.ws()
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return a, nil
			default:
				return nil, s.errorf("after array element")
			}
		}
	case '"':
		start := s.pos
		if _, err := s.str(); err != nil {
			return nil, err
		}
		return unquote(s.data[start:s.pos]), nil
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return nil, s.literal("null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			return nil, s.errorf("looking for beginning of value")
		}
		start := s.pos
		if err := s.number(); err != nil {
			return nil, err
		}
		return parseNumber(s.data[start:s.pos])
	}
}

// parseNumber converts a valid JSON number literal to a float64.
func parseNumber(b []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s is out of range", b)
	}
	return f, nil
}

// outOfRange returns the first number in raw, a valid JSON value, that is
// beyond ±touchbase.MaxNumber (beyond float64's range too: encoding/json
// refuses to decode those), or nil.
func outOfRange(raw []byte) []byte {
	s := scanner{data: raw}
	for s.pos < len(raw) {
		switch c := raw[s.pos]; {
		case c == '"':
			if _, err := s.str(); err != nil {
				return nil
			}
		case c == '-' || (c >= '0' && c <= '9'):
			start := s.pos
			if s.number() != nil {
				return nil
			}
			if s.big {
				s.big = false
				if !numberInRange(raw[start:s.pos]) {
					return raw[start:s.pos]
				}
			}
		default:
			s.pos++
		}
	}
	return nil
}

// numberPath returns the JSON path (path, extended) and the literal of the
// first number in raw, a valid JSON value, beyond ±touchbase.MaxNumber, or
// "", nil. Paths stop growing below a depth of 32, which keeps the walk linear
// in practice.
func numberPath(raw []byte, path string, depth int) (string, []byte) {
	if len(raw) == 0 {
		return "", nil
	}
	switch c := raw[0]; {
	case (c == '{' || c == '[') && depth >= 32:
		if n := outOfRange(raw); n != nil {
			return path, n
		}
	case c == '{':
		it := newObjectIter(raw)
		var m member
		for it.next(&m) {
			if p, n := numberPath(m.value, path+"."+m.name(), depth+1); n != nil {
				return p, n
			}
		}
	case c == '[':
		it := newArrayIter(raw)
		for i := 0; ; i++ {
			v, ok := it.next()
			if !ok {
				break
			}
			if p, n := numberPath(v, path+"["+strconv.Itoa(i)+"]", depth+1); n != nil {
				return p, n
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if !numberInRange(raw) {
			return path, raw
		}
	}
	return "", nil
}

// numberInRange reports whether b, a valid JSON number, is within
// ±touchbase.MaxNumber.
func numberInRange(b []byte) bool {
	f, err := strconv.ParseFloat(string(b), 64)
	return err == nil && touchbase.NumberInRange(f)
}

// isNumber reports whether s is exactly one JSON number literal.
func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	s := scanner{data: b}
	return s.number() == nil && s.pos == len(b)
}
