package importer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

// object builds a JSON object whose members are set by path, keeping the
// order members were first set in (so the same row always makes the same
// bytes, and so the same derived messageId).
type object struct {
	keys []string
	vals []value
}

type value struct {
	raw []byte
	obj *object
}

// set puts raw (a JSON value) at path, replacing what was there.
func (o *object) set(path []string, raw []byte) {
	for i, k := range o.keys {
		if k != path[0] {
			continue
		}
		if len(path) == 1 {
			o.vals[i] = value{raw: raw}
			return
		}
		if o.vals[i].obj == nil {
			o.vals[i] = value{obj: &object{}}
		}
		o.vals[i].obj.set(path[1:], raw)
		return
	}
	if o.keys == nil {
		// Room for what a row's objects mostly hold, allocated once.
		o.keys, o.vals = make([]string, 0, 8), make([]value, 0, 8)
	}
	o.keys = append(o.keys, path[0])
	if len(path) == 1 {
		o.vals = append(o.vals, value{raw: raw})
		return
	}
	child := &object{}
	child.set(path[1:], raw)
	o.vals = append(o.vals, value{obj: child})
}

// json is the value's JSON.
func (v value) json() []byte {
	if v.obj != nil {
		return v.obj.json()
	}
	return v.raw
}

// setString sets a string member.
func (o *object) setString(key, s string) {
	o.set([]string{key}, appendString(nil, s))
}

func (o *object) empty() bool { return o == nil || len(o.keys) == 0 }

// json is the object's JSON, in a buffer sized once.
func (o *object) json() []byte { return o.appendTo(make([]byte, 0, o.size())) }

// size is about the length of the object's JSON: its members, with room
// for quotes, colons, commas and a few escapes.
func (o *object) size() int {
	n := 2
	for i, k := range o.keys {
		n += len(k) + 4
		if v := o.vals[i]; v.obj != nil {
			n += v.obj.size()
		} else {
			n += len(v.raw)
		}
	}
	return n + n/16
}

// appendTo appends the object's JSON.
func (o *object) appendTo(dst []byte) []byte {
	dst = append(dst, '{')
	for i, k := range o.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		if v := o.vals[i]; v.obj != nil {
			dst = v.obj.appendTo(dst)
		} else {
			dst = append(dst, v.raw...)
		}
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendNumber appends a finite float as JSON.
func appendNumber(dst []byte, f float64) []byte {
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// coerce turns a cell into the JSON value of type typ; ok is false for an
// empty cell (the member is left out).
func coerce(cell string, typ valueType, times *timeParser) (raw []byte, ok bool, err error) {
	cell = strings.TrimSpace(cell)
	if cell == "" {
		return nil, false, nil
	}
	switch typ {
	case typeString:
		return appendString(nil, cell), true, nil
	case typeNumber, typeInt:
		f, err := parseNumber(cell)
		if err != nil {
			return nil, false, err
		}
		if typ == typeInt && f != math.Trunc(f) {
			return nil, false, fmt.Errorf("%q is not a whole number", cell)
		}
		return appendNumber(nil, f), true, nil
	case typeBool:
		switch strings.ToLower(cell) {
		case "true", "yes", "y", "1", "t":
			return []byte("true"), true, nil
		case "false", "no", "n", "0", "f":
			return []byte("false"), true, nil
		}
		return nil, false, fmt.Errorf("%q is not true or false", cell)
	case typeTime:
		t, err := times.parse(cell)
		if err != nil {
			return nil, false, err
		}
		return appendString(nil, t.UTC().Format("2006-01-02T15:04:05.000Z")), true, nil
	}
	// auto: booleans and numbers written plainly; the rest stays text (so
	// a zip code "02134" or an id "1e3" keeps its spelling).
	switch cell {
	case "true", "TRUE", "True":
		return []byte("true"), true, nil
	case "false", "FALSE", "False":
		return []byte("false"), true, nil
	}
	if plainNumber(cell) {
		if f, err := strconv.ParseFloat(cell, 64); err == nil && !math.IsInf(f, 0) {
			return []byte(cell), true, nil
		}
	}
	return appendString(nil, cell), true, nil
}

// parseNumber reads a number as spreadsheets write them: "1234.5",
// "1,234.50", "$12", "12 €", "-3", within ±touchbase.MaxNumber.
func parseNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimLeft(t, "$£€¥")
	t = strings.TrimRight(t, " $£€¥")
	t = strings.ReplaceAll(t, ",", "")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if !touchbase.NumberInRange(f) {
		return 0, fmt.Errorf("%q is out of range: %s", s, touchbase.NumberRange)
	}
	return f, nil
}

// plainNumber reports whether s is a number written the way JSON writes
// it, without leading zeros: -12, 0.5, 3.25.
func plainNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i == len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else {
		if s[i] < '1' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s) && len(s) <= 17
}

// timeLayouts are the ways files write times, tried in order. Times
// without a zone are in the import's time zone.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04",
	"2006-01-02",
	"20060102",
	"2006/01/02 15:04:05",
	"2006/01/02",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
	"02.01.2006 15:04:05",
	"02.01.2006",
	time.RFC1123Z,
	time.RFC1123,
}

// timeParser reads times in one of timeLayouts (in loc when they have no
// zone), or Unix seconds or milliseconds. It tries the layout that read
// the last time first: a file writes its times one way, and each layout
// that fails costs an error value (Online Retail's is the eleventh). No
// time reads under two layouts, so the order tried changes no result.
type timeParser struct {
	loc  *time.Location
	last int // index in timeLayouts
}

func (p *timeParser) parse(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(timeLayouts[p.last], s, p.loc); err == nil {
		return t, nil
	}
	for i, layout := range timeLayouts {
		if i == p.last {
			continue
		}
		if t, err := time.ParseInLocation(layout, s, p.loc); err == nil {
			p.last = i
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		switch {
		case n < 1e11: // seconds (until the year 5138)
			return time.Unix(n, 0), nil
		case n < 1e14:
			return time.UnixMilli(n), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date or time (use ISO 8601 such as 2024-03-01 or 2024-03-01T12:30:00Z)", s)
}
