// Package jsonscan is the small validating JSON reader that ingestion parses
// Segment calls with. Ingestion parses every event of every request, and
// encoding/json's reflection and state machine cost several microseconds
// per event; this reader walks the bytes once, keeps raw values as
// sub-slices (properties and context are stored as sent) and decodes only
// the few strings and objects ingestion needs. It accepts exactly what
// encoding/json accepts (the differential fuzz test in scanner_test.go
// holds it to that), except that it does not check UTF-8: its callers
// (package inbound) check each event's bytes with utf8.Valid instead.
//
// A Scanner validates and skips values, leaving its caller to say which
// members it keeps (inbound reads an event's fields as spans of the body);
// walk.go reads what a Scanner has validated already: an object's members
// (ObjectIter), an array's elements (ArrayIter), strings (Unquote) and Go
// values (Decode).
package jsonscan

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
)

// MaxDepth is encoding/json's nesting limit.
const MaxDepth = 10000

// SyntaxError is a JSON syntax error at byte offset Off (0-based).
type SyntaxError struct {
	Msg string
	Off int
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Off+1) }

// Scanner reads JSON from Data starting at Pos.
type Scanner struct {
	Data []byte
	Pos  int
	// Big is set when a number that may be beyond ±touchbase.MaxNumber
	// (one with an exponent or more than 15 integer digits) was skipped:
	// the event's numbers are then looked at one by one (OutOfRange). It
	// costs a digit count; e-commerce events rarely set it.
	Big bool
	// Mend rewrites, in Data, the string escapes that no database can
	// store (see mendEscape) as they are validated.
	Mend bool
}

// SkipSpace skips white space.
func (s *Scanner) SkipSpace() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// Peek returns the byte at Pos, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.Pos < len(s.Data) {
		return s.Data[s.Pos]
	}
	return 0
}

// Unexpected returns the syntax error for the byte at Pos (or the end of
// the input) in context: "invalid character 'x' after object key".
func (s *Scanner) Unexpected(context string) error {
	if s.Pos >= len(s.Data) {
		// Reported at the last byte: "at byte N" of an N-byte input.
		return &SyntaxError{Msg: "unexpected end of JSON input", Off: max(len(s.Data)-1, 0)}
	}
	return &SyntaxError{Msg: "invalid character " + quoteChar(s.Data[s.Pos]) + " " + context, Off: s.Pos}
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

// Value skips one value (after white space) and returns its raw bytes.
func (s *Scanner) Value() ([]byte, error) {
	s.SkipSpace()
	start := s.Pos
	if err := s.Skip(0); err != nil {
		return nil, err
	}
	return s.Data[start:s.Pos], nil
}

// Skip validates and skips the value at Pos (no leading white space), at
// nesting depth depth.
func (s *Scanner) Skip(depth int) error {
	if s.Pos >= len(s.Data) {
		return s.Unexpected("")
	}
	switch c := s.Data[s.Pos]; c {
	case '{':
		return s.skipObject(depth + 1)
	case '[':
		return s.skipArray(depth + 1)
	case '"':
		_, err := s.SkipString()
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
		return s.Unexpected("looking for beginning of value")
	}
}

func (s *Scanner) skipObject(depth int) error {
	if depth > MaxDepth {
		return &SyntaxError{Msg: "exceeded max depth", Off: s.Pos}
	}
	s.Pos++ // {
	s.SkipSpace()
	if s.Peek() == '}' {
		s.Pos++
		return nil
	}
	for {
		if s.Peek() != '"' {
			return s.Unexpected("looking for beginning of object key string")
		}
		if _, err := s.SkipString(); err != nil {
			return err
		}
		s.SkipSpace()
		if s.Peek() != ':' {
			return s.Unexpected("after object key")
		}
		s.Pos++
		s.SkipSpace()
		if err := s.Skip(depth); err != nil {
			return err
		}
		s.SkipSpace()
		switch s.Peek() {
		case ',':
			s.Pos++
			s.SkipSpace()
		case '}':
			s.Pos++
			return nil
		default:
			return s.Unexpected("after object key:value pair")
		}
	}
}

func (s *Scanner) skipArray(depth int) error {
	if depth > MaxDepth {
		return &SyntaxError{Msg: "exceeded max depth", Off: s.Pos}
	}
	s.Pos++ // [
	s.SkipSpace()
	if s.Peek() == ']' {
		s.Pos++
		return nil
	}
	for {
		if err := s.Skip(depth); err != nil {
			return err
		}
		s.SkipSpace()
		switch s.Peek() {
		case ',':
			s.Pos++
			s.SkipSpace()
		case ']':
			s.Pos++
			return nil
		default:
			return s.Unexpected("after array element")
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

// SkipString validates and skips the string at Pos and reports whether it
// holds escapes.
func (s *Scanner) SkipString() (escaped bool, err error) {
	i := s.Pos + 1
	data := s.Data
	for {
		i = nextSpecial(data, i)
		if i >= len(data) {
			s.Pos = len(data)
			return escaped, s.Unexpected("")
		}
		switch c := data[i]; {
		case c == '"':
			s.Pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				s.Pos = len(data)
				return escaped, s.Unexpected("")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(data) {
						s.Pos = len(data)
						return escaped, s.Unexpected("")
					}
					if !isHex(data[j]) {
						s.Pos = j
						return escaped, s.Unexpected("in \\u hexadecimal character escape")
					}
				}
				if s.Mend {
					i += mendEscape(data, i)
				} else {
					i += 6
				}
			default:
				s.Pos = i + 1
				return escaped, s.Unexpected("in string escape code")
			}
		default: // control character
			s.Pos = i
			return escaped, s.Unexpected("in string literal")
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

func (s *Scanner) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.Pos >= len(s.Data) {
			return s.Unexpected("")
		}
		if s.Data[s.Pos] != lit[i] {
			return s.Unexpected("in literal " + lit + " (expecting " + quoteChar(lit[i]) + ")")
		}
		s.Pos++
	}
	return nil
}

// number validates and skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) number() error {
	d := s.Data
	if s.Peek() == '-' {
		s.Pos++
	}
	switch c := s.Peek(); {
	case c == '0':
		s.Pos++
	case c >= '1' && c <= '9':
		start := s.Pos
		for s.Pos < len(d) && d[s.Pos] >= '0' && d[s.Pos] <= '9' {
			s.Pos++
		}
		if s.Pos-start > 15 { // MaxNumber has 16 digits
			s.Big = true
		}
	default:
		return s.Unexpected("in numeric literal")
	}
	if s.Peek() == '.' {
		s.Pos++
		if c := s.Peek(); c < '0' || c > '9' {
			return s.Unexpected("after decimal point in numeric literal")
		}
		for s.Pos < len(d) && d[s.Pos] >= '0' && d[s.Pos] <= '9' {
			s.Pos++
		}
	}
	if c := s.Peek(); c == 'e' || c == 'E' {
		s.Big = true
		s.Pos++
		if c := s.Peek(); c == '+' || c == '-' {
			s.Pos++
		}
		if c := s.Peek(); c < '0' || c > '9' {
			return s.Unexpected("in exponent of numeric literal")
		}
		for s.Pos < len(d) && d[s.Pos] >= '0' && d[s.Pos] <= '9' {
			s.Pos++
		}
	}
	return nil
}

// End checks that only white space follows the top-level value.
func (s *Scanner) End() error {
	s.SkipSpace()
	if s.Pos < len(s.Data) {
		return s.Unexpected("after top-level value")
	}
	return nil
}
