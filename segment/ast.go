// Package segment is the segment language: the canonical JSON syntax tree
// (what the API stores and returns), the text form people type, the
// registry of customer features a segment may name, and the compiler of a
// tree to SQL, the oracle the in-memory engine is tested against.
//
// docs/segments.md is the language reference; the semantics it pins down
// (as-of instant, windows, values that are not set) are the contract that
// the engine and the SQL compiler must both meet exactly.
package segment

import (
	"fmt"
	"strconv"
	"time"
)

// Op is what a Node tests.
type Op string

// Node operations.
const (
	OpAnd Op = "and" // Args: two or more
	OpOr  Op = "or"  // Args: two or more
	OpNot Op = "not" // Args: exactly one

	OpEq Op = "="  // Left, Right
	OpNe Op = "!=" // Left, Right
	OpLt Op = "<"  // Left, Right
	OpLe Op = "<=" // Left, Right
	OpGt Op = ">"  // Left, Right
	OpGe Op = ">=" // Left, Right

	OpIn         Op = "in"          // Left, Values: one or more
	OpNotIn      Op = "not in"      // Left, Values: one or more
	OpBetween    Op = "between"     // Left, Values: exactly two (low, high), inclusive
	OpContains   Op = "contains"    // Left, Right (a literal)
	OpStartsWith Op = "starts with" // Left, Right (a literal string)
	OpIsSet      Op = "is set"      // Left
	OpIsNotSet   Op = "is not set"  // Left
	OpWithinNext Op = "within next" // Left (a date), Within: whole days
	OpInSegment  Op = "in segment"  // Segment
)

// Node is one condition of a segment definition. Which fields are set
// depends on Op (see the constants); the others are zero. This is the
// canonical form: Parse produces it, Format prints it, the API stores it
// as JSON.
type Node struct {
	Op      Op       `json:"op"`
	Args    []*Node  `json:"args,omitempty"`
	Left    *Operand `json:"left,omitempty"`
	Right   *Operand `json:"right,omitempty"`
	Values  []Value  `json:"values,omitempty"`
	Within  Duration `json:"within,omitempty"`
	Segment string   `json:"segment,omitempty"`
	Pos     Pos      `json:"-"` // where the condition starts in the text; zero for trees not parsed
}

// Operand is one side of a comparison: exactly one of its fields is set.
type Operand struct {
	// Field names a customer feature ("orders", "rfm.segment"), or a trait:
	// "traits.plan", or a bare name that is not a registered feature
	// ("country"). Inside an aggregate's Where, it names an event property
	// ("category", "product.brand"). Dots separate the levels of a path.
	Field string `json:"field,omitempty"`
	// Agg is an event aggregate.
	Agg *Aggregate `json:"agg,omitempty"`
	// Value is a literal.
	Value *Value `json:"value,omitempty"`
	// Ago is the instant that long before the as-of instant ("180d ago").
	Ago Duration `json:"ago,omitempty"`
}

// AggFunc is an event aggregate function.
type AggFunc string

// Aggregate functions. Count and Distinct are numbers and never unset;
// Sum is a number, 0 over no events; Avg, Min and Max are numbers, not set
// over no values; First and Last are the times of the first and last
// matching event, not set over no events.
const (
	AggCount    AggFunc = "count"
	AggSum      AggFunc = "sum"
	AggAvg      AggFunc = "avg"
	AggMin      AggFunc = "min"
	AggMax      AggFunc = "max"
	AggDistinct AggFunc = "distinct"
	AggFirst    AggFunc = "first"
	AggLast     AggFunc = "last"
)

// NeedsProperty reports whether f aggregates a property's values (sum,
// avg, min, max, distinct) rather than events (count, first, last).
func (f AggFunc) NeedsProperty() bool {
	switch f {
	case AggSum, AggAvg, AggMin, AggMax, AggDistinct:
		return true
	}
	return false
}

// Aggregate is an aggregate over one customer's events named Event whose
// timestamp is at or before the as-of instant, within the window when one
// is given, and that satisfy Where.
type Aggregate struct {
	Func  AggFunc `json:"func"`
	Event string  `json:"event"`
	// Property is the dot path of the property aggregated; set exactly
	// when Func.NeedsProperty().
	Property string `json:"property,omitempty"`
	// Where filters the events by their properties; its Fields name
	// properties and its right-hand sides are literals.
	Where *Node `json:"where,omitempty"`
	// Within is the window, as-of minus Within to as-of, both ends
	// included; zero means all time.
	Within Duration `json:"within,omitempty"`
}

// Pos is a position in a segment's text, for errors: line and column
// (in characters) from 1, and the byte offset from 0.
type Pos struct {
	Line, Col, Offset int
}

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Duration is a length of time as written: a positive whole number and a
// unit, h (hours), d (days of 24 hours) or w (weeks of 7 days): "1h",
// "90d", "2w". The zero Duration is "" (no window).
type Duration string

// ParseDuration checks s and returns it as a Duration.
func ParseDuration(s string) (Duration, error) {
	d := Duration(s)
	if _, err := d.Std(); err != nil {
		return "", err
	}
	return d, nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() (time.Duration, error) {
	s := string(d)
	if len(s) < 2 {
		return 0, fmt.Errorf("duration %q: want a whole number and a unit (h, d or w), such as 90d", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("duration %q: unit %q is not h, d or w", s, s[len(s)-1:])
	}
	digits := s[:len(s)-1]
	if digits[0] == '0' || digits[0] == '+' || digits[0] == '-' {
		return 0, fmt.Errorf("duration %q: want a positive whole number without leading zeros", s)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	// The bound is compared in units, never as n*unit: a time.Duration
	// holds 292 years, and 106752d multiplied out wraps to a negative
	// duration that any bound would accept.
	if err != nil || n <= 0 || n > int64(MaxDuration/unit) {
		return 0, fmt.Errorf("duration %q: want a whole number from 1 up to 100 years", s)
	}
	return time.Duration(n) * unit, nil
}

// MaxDuration bounds every Duration (windows, "ago", "within next" and the
// analyses' periods): 100 years of 366 days, 36600d, 5228w or 878400h, more
// window than any store has history, and far from time.Duration's 292
// years, so that as-of minus a window never overflows.
const MaxDuration = 100 * 366 * 24 * time.Hour

// Millis returns d in milliseconds; d must be valid (0 for "").
func (d Duration) Millis() int64 {
	std, err := d.Std()
	if err != nil {
		return 0
	}
	return std.Milliseconds()
}
