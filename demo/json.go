package demo

import (
	"strconv"
	"time"
)

// line builds one NDJSON message by appending to a reused buffer: the
// generator writes a few hundred thousand messages, and encoding/json over
// maps would spend most of the run allocating them. Fields are appended in
// a fixed order, so the output is byte-for-byte reproducible.
type line struct {
	b    []byte
	open []bool // per nesting level: true until its first member
}

func (l *line) reset() {
	l.b = l.b[:0]
	l.open = l.open[:0]
}

// comma separates a member from the previous one at the current level.
func (l *line) comma() {
	n := len(l.open) - 1
	if n < 0 {
		return
	}
	if l.open[n] {
		l.open[n] = false
		return
	}
	l.b = append(l.b, ',')
}

func (l *line) key(k string) {
	l.comma()
	l.b = appendString(l.b, k)
	l.b = append(l.b, ':')
}

// beginObject starts an object: the value of key k, or an array element
// (or the message itself) when k is "".
func (l *line) beginObject(k string) {
	if k != "" {
		l.key(k)
	} else {
		l.comma()
	}
	l.b = append(l.b, '{')
	l.open = append(l.open, true)
}

func (l *line) endObject() {
	l.b = append(l.b, '}')
	l.open = l.open[:len(l.open)-1]
}

func (l *line) beginArray(k string) {
	l.key(k)
	l.b = append(l.b, '[')
	l.open = append(l.open, true)
}

func (l *line) endArray() {
	l.b = append(l.b, ']')
	l.open = l.open[:len(l.open)-1]
}

func (l *line) str(k, v string) {
	l.key(k)
	l.b = appendString(l.b, v)
}

// strIf writes k only when v is not empty.
func (l *line) strIf(k, v string) {
	if v != "" {
		l.str(k, v)
	}
}

func (l *line) int(k string, v int) {
	l.key(k)
	l.b = strconv.AppendInt(l.b, int64(v), 10)
}

// money writes an amount held in cents as a number with two decimals.
func (l *line) money(k string, cents int64) {
	l.key(k)
	l.b = appendCents(l.b, cents)
}

// time writes t as RFC 3339 in UTC with milliseconds, as Segment's
// libraries send it.
func (l *line) time(k string, t time.Time) {
	l.key(k)
	l.b = append(l.b, '"')
	l.b = t.UTC().AppendFormat(l.b, "2006-01-02T15:04:05.000Z")
	l.b = append(l.b, '"')
}

func appendCents(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendString appends s as a JSON string. The generator's strings are its
// own (names, paths, ids), so only the characters JSON requires are
// escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigit = "0123456789abcdef"
