package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Type is the type of a value.
type Type uint8

// Value types. TypeAny is a trait's or a property's: its type is the JSON
// value's, customer by customer.
const (
	TypeAny Type = iota
	TypeString
	TypeNumber
	TypeBool
	TypeTime
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeNumber:
		return "number"
	case TypeBool:
		return "boolean"
	case TypeTime:
		return "time"
	}
	return "any"
}

// Value is a literal: a string, a number, a boolean or an absolute time.
//
// In JSON a string, number or boolean is itself and a time is
// {"time": "2026-01-01"} (its text as written: a date, meaning midnight
// UTC, or an RFC 3339 instant).
type Value struct {
	Type Type
	Str  string  // TypeString; TypeTime: the text as written
	Num  float64 // TypeNumber (finite)
	Bool bool    // TypeBool
	Time int64   // TypeTime: Unix milliseconds UTC
}

// String returns a string Value.
func String(s string) Value { return Value{Type: TypeString, Str: s} }

// Number returns a number Value.
func Number(n float64) Value { return Value{Type: TypeNumber, Num: n} }

// Bool returns a boolean Value.
func Bool(b bool) Value { return Value{Type: TypeBool, Bool: b} }

// Time returns a time Value from its text, a date ("2026-01-01", midnight
// UTC) or an RFC 3339 instant.
func Time(text string) (Value, error) {
	t, err := ParseTime(text)
	if err != nil {
		return Value{}, err
	}
	return Value{Type: TypeTime, Str: text, Time: t}, nil
}

// ParseTime parses a time literal: "YYYY-MM-DD" (midnight UTC) or RFC 3339
// with any offset, and returns Unix milliseconds (fractions below a
// millisecond are dropped).
func ParseTime(s string) (int64, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UnixMilli(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("time %q: want a date (2026-01-01) or an RFC 3339 time (2026-01-01T09:30:00Z)", s)
	}
	return t.UnixMilli(), nil
}

// MarshalJSON writes the value as documented on Value.
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Type {
	case TypeString:
		return json.Marshal(v.Str)
	case TypeNumber:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return nil, fmt.Errorf("number %v is not finite", v.Num)
		}
		return strconv.AppendFloat(nil, v.Num, 'g', -1, 64), nil
	case TypeBool:
		return json.Marshal(v.Bool)
	case TypeTime:
		return json.Marshal(struct {
			Time string `json:"time"`
		}{v.Str})
	}
	return nil, fmt.Errorf("value of type %s cannot be written", v.Type)
}

// UnmarshalJSON reads the value as documented on Value.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("empty value")
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = String(s)
	case 't', 'f':
		var x bool
		if err := json.Unmarshal(b, &x); err != nil {
			return err
		}
		*v = Bool(x)
	case '{':
		var t struct {
			Time *string `json:"time"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil || t.Time == nil {
			return fmt.Errorf(`a value object must be {"time": "2026-01-01"}`)
		}
		tv, err := Time(*t.Time)
		if err != nil {
			return err
		}
		*v = tv
	case 'n':
		return fmt.Errorf("null is not a value; use \"is not set\"")
	case '[':
		return fmt.Errorf("a list is not a value; use \"in\" with several values")
	default:
		n, err := strconv.ParseFloat(string(b), 64)
		if err != nil || math.IsInf(n, 0) {
			return fmt.Errorf("value %s is not a string, number, boolean or time", b)
		}
		*v = Number(n)
	}
	return nil
}
