package ingest

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
)

// This file is a small validating JSON reader. Ingestion parses every event
// of every request, and encoding/json's reflection and state machine cost
// several microseconds per event; this reader walks the bytes once, keeps
// raw values as sub-slices (properties and context are stored as sent) and
// decodes only the few strings and objects ingestion needs. It accepts
// exactly what encoding/json accepts (the differential fuzz test in
// json_test.go holds it to that), except that it does not check UTF-8:
// Parse checks each event's bytes with utf8.Valid instead.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// syntaxError is a JSON syntax error at byte offset off (0-based).
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off+1) }

// scanner reads JSON from data starting at pos.
type scanner struct {
	data []byte
	pos  int
	// big is set when a number that may be beyond ±touchbase.MaxNumber
	// (one with an exponent or more than 15 integer digits) was skipped:
	// the event's numbers are then looked at one by one (outOfRange). It
	// costs a digit count; e-commerce events rarely set it.
	big bool
	// mend rewrites, in data, the string escapes that no database can
	// store (see mendEscape) as they are validated.
	mend bool
}

// ws skips white space.
func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the byte at pos, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *scanner) errorf(context string) error {
	if s.pos >= len(s.data) {
		// Reported at the last byte: "at byte N" of an N-byte input.
		return &syntaxError{msg: "unexpected end of JSON input", off: max(len(s.data)-1, 0)}
	}
	return &syntaxError{msg: "invalid character " + quoteChar(s.data[s.pos]) + " " + context, off: s.pos}
}

func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c >= 0x80:
		return fmt.Sprintf("byte 0x%02x", c)
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

// value skips one value (after white space) and returns its raw bytes.
func (s *scanner) value() ([]byte, error) {
	s.ws()
	start := s.pos
	if err := s.skip(0); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

// skip validates and skips the value at pos (no leading white space).
func (s *scanner) skip(depth int) error {
	if s.pos >= len(s.data) {
		return s.errorf("")
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return s.skipObject(depth + 1)
	case '[':
		return s.skipArray(depth + 1)
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return s.number()
		}
		return s.errorf("looking for beginning of value")
	}
}

func (s *scanner) skipObject(depth int) error {
	if depth > maxDepth {
		return &syntaxError{msg: "exceeded max depth", off: s.pos}
	}
	s.pos++ // {
	s.ws()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.errorf("looking for beginning of object key string")
		}
		if _, err := s.str(); err != nil {
			return err
		}
		s.ws()
		if s.peek() != ':' {
			return s.errorf("after object key")
		}
		s.pos++
		s.ws()
		if err := s.skip(depth); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
			s.ws()
		case '}':
			s.pos++
			return nil
		default:
			return s.errorf("after object key:value pair")
		}
	}
}

func (s *scanner) skipArray(depth int) error {
	if depth > maxDepth {
		return &syntaxError{msg: "exceeded max depth", off: s.pos}
	}
	s.pos++ // [
	s.ws()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.skip(depth); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
			s.ws()
		case ']':
			s.pos++
			return nil
		default:
			return s.errorf("after array element")
		}
	}
}

// strSpecial marks the bytes the string loop must look at.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str validates and skips the string at pos and reports whether it holds
// escapes.
func (s *scanner) str() (escaped bool, err error) {
	i := s.pos + 1
	data := s.data
	for {
		i = nextSpecial(data, i)
		if i >= len(data) {
			s.pos = len(data)
			return escaped, s.errorf("")
		}
		switch c := data[i]; {
		case c == '"':
			s.pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				s.pos = len(data)
				return escaped, s.errorf("")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(data) {
						s.pos = len(data)
						return escaped, s.errorf("")
					}
					if !isHex(data[j]) {
						s.pos = j
						return escaped, s.errorf("in \\u hexadecimal character escape")
					}
				}
				if s.mend {
					i += mendEscape(data, i)
				} else {
					i += 6
				}
			default:
				s.pos = i + 1
				return escaped, s.errorf("in string escape code")
			}
		default: // control character
			s.pos = i
			return escaped, s.errorf("in string literal")
		}
	}
}

// mendEscape looks at the valid \uXXXX escape at data[i] and returns its
// length: 6, or 12 for a surrogate pair. \u0000 and a lone surrogate
// become \ufffd (U+FFFD, the replacement character), in place: the same
// six bytes. PostgreSQL's jsonb refuses both and its text cannot hold NUL
// while SQLite stores them, so one batch would answer 200 on one database
// and 500 on the other; the Segment spec takes any JSON string, so the
// event is kept with the character replaced, on both. (encoding/json
// decodes a lone surrogate as U+FFFD already: only NUL changes meaning.)
// Only strings holding a \u escape get here, so ingestion pays nothing for
// the rest.
func mendEscape(data []byte, i int) int {
	r := hex4(data[i+2:])
	switch {
	case r == 0:
	case r >= 0xd800 && r < 0xdc00: // a high surrogate: is a low one next?
		if j := i + 6; j+6 <= len(data) && data[j] == '\\' && data[j+1] == 'u' &&
			isHex(data[j+2]) && isHex(data[j+3]) && isHex(data[j+4]) && isHex(data[j+5]) {
			if lo := hex4(data[j+2:]); lo >= 0xdc00 && lo < 0xe000 {
				return 12
			}
		}
	case r >= 0xdc00 && r < 0xe000: // a low surrogate alone
	default:
		return 6
	}
	copy(data[i+2:i+6], "fffd")
	return 6
}

// nextSpecial returns the index of the first quote, backslash or control
// character in data at or after i, or len(data). It looks at eight bytes
// at a time: in the SWAR masks below, the lowest set bit marks exactly the
// first byte that matches (borrows only run upwards from a match).
func nextSpecial(data []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(data) {
		w := binary.LittleEndian.Uint64(data[i:])
		q := w ^ (lo * '"')
		b := w ^ (lo * '\\')
		if m := ((q-lo)&^q | (b-lo)&^b | (w-lo*0x20)&^w) & hi; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(data) && !strSpecial[data[i]] {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.data) {
			return s.errorf("")
		}
		if s.data[s.pos] != lit[i] {
			return s.errorf("in literal " + lit + " (expecting " + quoteChar(lit[i]) + ")")
		}
		s.pos++
	}
	return nil
}

// number validates and skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d := s.data
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		start := s.pos
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
		if s.pos-start > 15 { // MaxNumber has 16 digits
			s.big = true
		}
	default:
		return s.errorf("in numeric literal")
	}
	if s.peek() == '.' {
		s.pos++
		if c := s.peek(); c < '0' || c > '9' {
			return s.errorf("after decimal point in numeric literal")
		}
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.big = true
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if c := s.peek(); c < '0' || c > '9' {
			return s.errorf("in exponent of numeric literal")
		}
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	}
	return nil
}

// end checks that only white space follows the top-level value.
func (s *scanner) end() error {
	s.ws()
	if s.pos < len(s.data) {
		return s.errorf("after top-level value")
	}
	return nil
}
