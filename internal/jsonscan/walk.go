package jsonscan

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

// Walks over JSON that a Scanner (scanner.go) has validated already:
// members of objects, elements of arrays, string decoding, and decoding to
// Go values.

// Member is one key:value pair of an object, as raw bytes.
type Member struct {
	Key     []byte // between the quotes, possibly escaped
	Escaped bool   // key holds escapes
	Value   []byte // the raw value
	Whole   []byte // from the key's opening quote to the value's end
}

// Name returns the decoded key.
func (m *Member) Name() string {
	if !m.Escaped {
		return string(m.Key)
	}
	return Unescape(m.Key)
}

// Is reports whether the decoded key equals k, without allocating for
// keys that hold no escapes.
func (m *Member) Is(k string) bool {
	if !m.Escaped {
		return string(m.Key) == k
	}
	return Unescape(m.Key) == k
}

// ObjectIter walks the members of an object whose raw bytes were already
// validated.
type ObjectIter struct {
	s     Scanner
	first bool
}

// NewObjectIter returns an iterator over obj, which must be a valid JSON
// object (typically a sub-slice a Scanner validated).
func NewObjectIter(obj []byte) ObjectIter {
	it := ObjectIter{s: Scanner{Data: obj}, first: true}
	it.s.SkipSpace()
	it.s.Pos++ // {
	return it
}

// Next sets m to the next member, or returns false at the end. Since the
// object is valid, errors cannot happen; a malformed one ends the walk
// early.
func (it *ObjectIter) Next(m *Member) bool {
	s := &it.s
	s.SkipSpace()
	if !it.first {
		if s.Peek() != ',' {
			return false
		}
		s.Pos++
		s.SkipSpace()
	}
	it.first = false
	if s.Peek() != '"' {
		return false
	}
	start := s.Pos
	end, esc := skipValidString(s.Data, s.Pos)
	m.Key, m.Escaped = s.Data[start+1:end-1], esc
	s.Pos = end
	s.SkipSpace()
	if s.Peek() != ':' {
		return false
	}
	s.Pos++
	s.SkipSpace()
	vs := s.Pos
	if vs >= len(s.Data) {
		return false
	}
	s.Pos = skipValid(s.Data, vs)
	m.Value = s.Data[vs:s.Pos]
	m.Whole = s.Data[start:s.Pos]
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

// ArrayIter walks the elements of a validated array.
type ArrayIter struct {
	s     Scanner
	first bool
}

// NewArrayIter returns an iterator over arr, which must be a valid JSON
// array.
func NewArrayIter(arr []byte) ArrayIter {
	it := ArrayIter{s: Scanner{Data: arr}, first: true}
	it.s.SkipSpace()
	it.s.Pos++ // [
	return it
}

// Next returns the next element's raw bytes, or false at the end.
func (it *ArrayIter) Next() ([]byte, bool) {
	s := &it.s
	s.SkipSpace()
	if s.Peek() == ']' || s.Pos >= len(s.Data) {
		return nil, false
	}
	if !it.first {
		if s.Peek() != ',' {
			return nil, false
		}
		s.Pos++
	}
	it.first = false
	s.SkipSpace()
	vs := s.Pos
	if vs >= len(s.Data) {
		return nil, false
	}
	s.Pos = skipValid(s.Data, vs)
	return s.Data[vs:s.Pos], true
}

// Unquote returns the string a raw JSON string literal (with its quotes)
// stands for.
func Unquote(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			return Unescape(body)
		}
	}
	return string(body)
}

// Unescape decodes the body of a valid JSON string that holds escapes.
// Lone surrogates become U+FFFD, as with encoding/json.
func Unescape(b []byte) string {
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

// Decode returns the Go value of a raw JSON value, as encoding/json
// decodes into an any: map[string]any, []any, string, float64, bool or nil
// (for duplicate keys the last wins). A number out of float64's range is
// an error, as with encoding/json.
func Decode(raw []byte) (any, error) {
	s := Scanner{Data: raw}
	v, err := s.decode(0)
	if err != nil {
		return nil, err
	}
	return v, s.End()
}

func (s *Scanner) decode(depth int) (any, error) {
	s.SkipSpace()
	switch c := s.Peek(); c {
	case '{':
		if depth >= MaxDepth {
			return nil, &SyntaxError{Msg: "exceeded max depth", Off: s.Pos}
		}
		s.Pos++
		m := make(map[string]any)
		s.SkipSpace()
		if s.Peek() == '}' {
			s.Pos++
			return m, nil
		}
		for {
			s.SkipSpace()
			if s.Peek() != '"' {
				return nil, s.Unexpected("looking for beginning of object key string")
			}
			start := s.Pos
			if _, err := s.SkipString(); err != nil {
				return nil, err
			}
			key := Unquote(s.Data[start:s.Pos])
			s.SkipSpace()
			if s.Peek() != ':' {
				return nil, s.Unexpected("after object key")
			}
			s.Pos++
			v, err := s.decode(depth + 1)
			if err != nil {
				return nil, err
			}
			m[key] = v
			s.SkipSpace()
			switch s.Peek() {
			case ',':
				s.Pos++
			case '}':
				s.Pos++
				return m, nil
			default:
				return nil, s.Unexpected("after object key:value pair")
			}
		}
	case '[':
		if depth >= MaxDepth {
			return nil, &SyntaxError{Msg: "exceeded max depth", Off: s.Pos}
		}
		s.Pos++
		a := []any{}
		s.SkipSpace()
		if s.Peek() == ']' {
			s.Pos++
			return a, nil
		}
		for {
			v, err := s.decode(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			s.SkipSpace()
			switch s.Peek() {
			case ',':
				s.Pos++
			case ']':
				s.Pos++
				return a, nil
			default:
				return nil, s.Unexpected("after array element")
			}
		}
	case '"':
		start := s.Pos
		if _, err := s.SkipString(); err != nil {
			return nil, err
		}
		return Unquote(s.Data[start:s.Pos]), nil
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return nil, s.literal("null")
	default:
		if c != '-' && (c < '0' || c > '9') {
			return nil, s.Unexpected("looking for beginning of value")
		}
		start := s.Pos
		if err := s.number(); err != nil {
			return nil, err
		}
		return parseNumber(s.Data[start:s.Pos])
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

// OutOfRange returns the first number in raw, a valid JSON value, that is
// beyond ±touchbase.MaxNumber (beyond float64's range too: encoding/json
// refuses to decode those), or nil.
func OutOfRange(raw []byte) []byte {
	s := Scanner{Data: raw}
	for s.Pos < len(raw) {
		switch c := raw[s.Pos]; {
		case c == '"':
			if _, err := s.SkipString(); err != nil {
				return nil
			}
		case c == '-' || (c >= '0' && c <= '9'):
			start := s.Pos
			if s.number() != nil {
				return nil
			}
			if s.Big {
				s.Big = false
				if !numberInRange(raw[start:s.Pos]) {
					return raw[start:s.Pos]
				}
			}
		default:
			s.Pos++
		}
	}
	return nil
}

// NumberPath returns the JSON path (path, extended) and the literal of the
// first number in raw, a valid JSON value, beyond ±touchbase.MaxNumber, or
// "", nil. Paths stop growing below a depth of 32, which keeps the walk linear
// in practice.
func NumberPath(raw []byte, path string, depth int) (string, []byte) {
	if len(raw) == 0 {
		return "", nil
	}
	switch c := raw[0]; {
	case (c == '{' || c == '[') && depth >= 32:
		if n := OutOfRange(raw); n != nil {
			return path, n
		}
	case c == '{':
		it := NewObjectIter(raw)
		var m Member
		for it.Next(&m) {
			if p, n := NumberPath(m.Value, path+"."+m.Name(), depth+1); n != nil {
				return p, n
			}
		}
	case c == '[':
		it := NewArrayIter(raw)
		for i := 0; ; i++ {
			v, ok := it.Next()
			if !ok {
				break
			}
			if p, n := NumberPath(v, path+"["+strconv.Itoa(i)+"]", depth+1); n != nil {
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

// IsNumber reports whether b is exactly one JSON number literal.
func IsNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	s := Scanner{Data: b}
	return s.number() == nil && s.Pos == len(b)
}
