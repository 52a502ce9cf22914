package engine

import (
	"math"
	"strings"

	"github.com/touchbase/touchbase/segment"
)

// kind is the type of one customer's value in a column, or of one event
// property. Traits and properties are JSON, so their kind varies customer
// by customer; a feature's kind is its type or kUnset.
type kind uint8

const (
	kUnset  kind = iota // missing, JSON null, or a feature without a value
	kString             // val: an id in the column's dictionary
	kNumber             // val: math.Float64bits
	kBool               // val: 0 or 1
	kTime               // val: Unix milliseconds (features and aggregates only)
	kObject             // set, but equal to nothing
	kArray              // set; contains looks at its elements (column.arrays)
)

// scalar is one value outside a column: a literal, an event property, or a
// column's value when two operands are compared row by row. It is the
// reference form of the semantics; the column loops only precompute it.
type scalar struct {
	k   kind
	s   string
	n   float64
	b   bool
	t   int64
	arr []any // kArray: the decoded JSON elements
}

// bits returns a number, a boolean or a time as the 8 bytes a column
// holds for it; 0 for the other kinds.
func (s scalar) bits() uint64 {
	switch s.k {
	case kNumber:
		return math.Float64bits(s.n)
	case kBool:
		if s.b {
			return 1
		}
	case kTime:
		return uint64(s.t)
	}
	return 0
}

// literal returns v as a scalar.
func literal(v segment.Value) scalar {
	switch v.Type {
	case segment.TypeString:
		return scalar{k: kString, s: v.Str}
	case segment.TypeNumber:
		return scalar{k: kNumber, n: v.Num}
	case segment.TypeBool:
		return scalar{k: kBool, b: v.Bool}
	case segment.TypeTime:
		return scalar{k: kTime, t: v.Time}
	}
	return scalar{}
}

// fromJSON returns a decoded JSON value (encoding/json's types) as a scalar.
func fromJSON(v any) scalar {
	switch x := v.(type) {
	case string:
		return scalar{k: kString, s: x}
	case float64:
		return scalar{k: kNumber, n: x}
	case bool:
		return scalar{k: kBool, b: x}
	case map[string]any:
		return scalar{k: kObject}
	case []any:
		return scalar{k: kArray, arr: x}
	}
	return scalar{} // nil: JSON null
}

// lookup follows a dot path (already split) through decoded JSON objects;
// nil when any step is missing or not an object.
func lookup(obj map[string]any, path []string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = m[p]; !ok {
			return nil
		}
	}
	return v
}

// comparable reports whether a and b have the same type for a test,
// converting a string to a time when the other side is a time (a string
// that is not a time in the forms ingestion writes is not set for that
// test, so not comparable). It returns the two values as compared.
func comparable(a, b scalar) (scalar, scalar, bool) {
	if a.k == kString && b.k == kTime {
		t, ok := parseTime(a.s)
		if !ok {
			return a, b, false
		}
		a = scalar{k: kTime, t: t}
	} else if a.k == kTime && b.k == kString {
		t, ok := parseTime(b.s)
		if !ok {
			return a, b, false
		}
		b = scalar{k: kTime, t: t}
	}
	if a.k != b.k {
		return a, b, false
	}
	switch a.k {
	case kString, kNumber, kBool, kTime:
		return a, b, true
	}
	return a, b, false // unset, objects and arrays equal nothing
}

// compare applies a comparison operator. It is false unless both values
// are set and of the same type; booleans take only = and !=.
func compare(op segment.Op, a, b scalar) bool {
	a, b, ok := comparable(a, b)
	if !ok {
		return false
	}
	var c int
	switch a.k {
	case kString:
		c = strings.Compare(a.s, b.s) // bytes, as UTF-8
	case kNumber:
		c = cmpOrdered(a.n, b.n)
	case kTime:
		c = cmpOrdered(a.t, b.t)
	case kBool:
		if op != segment.OpEq && op != segment.OpNe {
			return false
		}
		if a.b != b.b {
			c = 1
		}
	}
	return holds(op, c)
}

func cmpOrdered[T float64 | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// holds says whether op holds for a three-way comparison result c.
func holds(op segment.Op, c int) bool {
	switch op {
	case segment.OpEq:
		return c == 0
	case segment.OpNe:
		return c != 0
	case segment.OpLt:
		return c < 0
	case segment.OpLe:
		return c <= 0
	case segment.OpGt:
		return c > 0
	case segment.OpGe:
		return c >= 0
	}
	return false
}

// flip returns the operator that holds for (b, a) when op holds for (a, b).
func flip(op segment.Op) segment.Op {
	switch op {
	case segment.OpLt:
		return segment.OpGt
	case segment.OpLe:
		return segment.OpGe
	case segment.OpGt:
		return segment.OpLt
	case segment.OpGe:
		return segment.OpLe
	}
	return op
}

// inList is "a in (lits)": a equals one of them, each compared in its type.
func inList(a scalar, lits []scalar) bool {
	for _, l := range lits {
		if compare(segment.OpEq, a, l) {
			return true
		}
	}
	return false
}

// notInList is "a not in (lits)": some literal has a's type (a test holds
// only between values of the same type) and none equals a.
func notInList(a scalar, lits []scalar) bool {
	typed := false
	for _, l := range lits {
		x, y, ok := comparable(a, l)
		if !ok {
			continue
		}
		typed = true
		if compare(segment.OpEq, x, y) {
			return false
		}
	}
	return typed
}

// contains is a substring test on a string, or on an array whether an
// element equals the literal.
func contains(a, lit scalar) bool {
	switch a.k {
	case kString:
		return lit.k == kString && strings.Contains(a.s, lit.s)
	case kArray:
		for _, e := range a.arr {
			if compare(segment.OpEq, fromJSON(e), lit) {
				return true
			}
		}
	}
	return false
}

// startsWith is a prefix test between strings.
func startsWith(a, lit scalar) bool {
	return a.k == kString && lit.k == kString && strings.HasPrefix(a.s, lit.s)
}

// numberKey is a number as a distinct value: 1 and 1.0 are one value, and
// so are 0 and -0.
func numberKey(n float64) uint64 {
	if n == 0 {
		n = 0
	}
	return math.Float64bits(n)
}
