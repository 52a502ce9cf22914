package segment_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/segment"
)

// TestCheckJSON checks trees as the API receives them: errors name the
// place in the tree, since there is no text.
func TestCheckJSON(t *testing.T) {
	tests := []struct {
		name, tree string
		reg        bool   // check with the built-in features
		want       string // "" for no error
	}{
		{"valid", `{"op": ">=", "left": {"agg": {"func": "count", "event": "Order Completed", "within": "90d"}}, "right": {"value": 2}}`, true, ""},
		{"unknown op", `{"op": "like", "left": {"field": "x"}, "right": {"value": "a"}}`, false,
			`unknown op "like": the ops are and, or, not, =, !=, <, <=, >, >=, in, not in, between, contains, starts with, is set, is not set, within next, in segment`},
		{"misspelt op", `{"op": "start with", "left": {"field": "x"}, "right": {"value": "a"}}`, false,
			`unknown op "start with": the ops are and, or, not, =, !=, <, <=, >, >=, in, not in, between, contains, starts with, is set, is not set, within next, in segment: did you mean "starts with"?`},
		{"extra field", `{"op": "=", "left": {"field": "x"}, "right": {"value": 1}, "values": [1]}`, false, `"=" takes left and right, not values`},
		{"missing right", `{"op": "=", "left": {"field": "x"}}`, false, `"=" takes left and right: right is missing`},
		{"one arg", `{"op": "and", "args": [{"op": "is set", "left": {"field": "x"}}]}`, false, `"and" takes two or more conditions in args, not 1`},
		{"not with two", `{"op": "not", "args": [{"op": "is set", "left": {"field": "x"}}, {"op": "is set", "left": {"field": "y"}}]}`, false, `"not" takes one condition in args, not 2`},
		{"and in and", `{"op": "and", "args": [{"op": "is set", "left": {"field": "x"}},
			{"op": "and", "args": [{"op": "is set", "left": {"field": "y"}}, {"op": "is set", "left": {"field": "z"}}]}]}`, false,
			`args[1]: an "and" directly inside an "and": put its conditions in the outer one`},
		{"missing condition", `{"op": "or", "args": [{"op": "is set", "left": {"field": "x"}}, null]}`, false, `args[1]: a condition is missing`},
		{"two kinds of operand", `{"op": "is set", "left": {"field": "x", "value": 1}}`, false, `left: an operand has exactly one of field, agg, value and ago, not field and value`},
		{"empty operand", `{"op": "is set", "left": {}}`, false, `left: an operand needs one of field, agg, value and ago`},
		{"empty name in path", `{"op": "is set", "left": {"field": "a..b"}}`, false, `left: field "a..b": an empty name (dots separate names: a.b.c)`},
		{"bad ago", `{"op": "<", "left": {"field": "x"}, "right": {"ago": "0d"}}`, false, `right.ago: duration "0d": want a positive whole number without leading zeros`},
		{"unknown function", `{"op": ">", "left": {"agg": {"func": "cnt", "event": "x"}}, "right": {"value": 1}}`, false,
			`left.agg.func: unknown aggregate function "cnt": the functions are count, sum, avg, min, max, distinct, first, last`},
		{"missing property", `{"op": ">", "left": {"agg": {"func": "avg", "event": "x"}}, "right": {"value": 1}}`, false,
			`left.agg: avg takes a property of the event, as in avg("x".revenue)`},
		{"empty event", `{"op": ">", "left": {"agg": {"func": "count", "event": ""}}, "right": {"value": 1}}`, false,
			`left.agg.event: an aggregate's event must be a non-empty UTF-8 string without NUL characters`},
		{"bad window", `{"op": ">", "left": {"agg": {"func": "count", "event": "x", "within": "90"}}, "right": {"value": 1}}`, false,
			`left.agg.within: duration "90": unit "0" is not h, d or w`},
		{"aggregate in where", `{"op": ">", "left": {"agg": {"func": "count", "event": "x", "where":
			{"op": ">", "left": {"agg": {"func": "count", "event": "y"}}, "right": {"value": 1}}}}, "right": {"value": 1}}`, false,
			`left.agg.where.left: an aggregate cannot be used inside "where", which tests the properties of one event`},
		{"segment in where", `{"op": ">", "left": {"agg": {"func": "count", "event": "x", "where":
			{"op": "not", "args": [{"op": "in segment", "segment": "a"}]}}}, "right": {"value": 1}}`, false,
			`left.agg.where.args[0]: "in segment" cannot be used inside "where", which tests the properties of one event`},
		{"contains a field", `{"op": "contains", "left": {"field": "x"}, "right": {"field": "y"}}`, false, `"contains" takes a value on its right, not y`},
		{"starts with a number", `{"op": "starts with", "left": {"field": "x"}, "right": {"value": 1}}`, false, `"starts with" takes a string, not 1`},
		{"between one value", `{"op": "between", "left": {"field": "x"}, "values": [1]}`, false, `"between" takes two values, the lowest and the highest, not 1`},
		{"empty in", `{"op": "in", "left": {"field": "x"}, "values": []}`, false, `"in" takes one or more values`},
		{"within next hours", `{"op": "within next", "left": {"field": "birthday"}, "within": "24h"}`, false, `within: "within next" takes whole days, such as 7d or 2w, not 24h`},
		{"within next of an aggregate", `{"op": "within next", "left": {"agg": {"func": "last", "event": "x"}}, "within": "7d"}`, false,
			`"within next" tests a date trait, such as birthday within next 7d, not last("x")`},
		{"within next of a feature", `{"op": "within next", "left": {"field": "last_order_at"}, "within": "7d"}`, true,
			`"within next" tests a date trait, such as birthday within next 7d: last_order_at is a time feature`},
		{"within next of a trait named like a feature, no registry", `{"op": "within next", "left": {"field": "last_order_at"}, "within": "7d"}`, false, ""},
		{"number feature and string", `{"op": ">", "left": {"field": "orders"}, "right": {"value": "x"}}`, true,
			`orders is a number and "x" is a string: a test between different types never holds`},
		{"no registry: orders is a trait", `{"op": ">", "left": {"field": "orders"}, "right": {"value": "x"}}`, false, ""},
		{"number feature and time", `{"op": "<", "left": {"field": "orders"}, "right": {"value": {"time": "2026-01-01"}}}`, true,
			`orders is a number and 2026-01-01 is a time: a test between different types never holds`},
		{"time feature and ago", `{"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "180d"}}`, true, ""},
		{"string feature in numbers", `{"op": "in", "left": {"field": "email"}, "values": ["a@b.c", 3]}`, true,
			`email is a string and 3 is a number: a test between different types never holds`},
		{"contains on a number feature", `{"op": "contains", "left": {"field": "orders"}, "right": {"value": 1}}`, true,
			`"contains" tests a string or a list: orders is a number`},
		{"contains on a trait", `{"op": "contains", "left": {"field": "tags"}, "right": {"value": 1}}`, true, ""},
		{"starts with on a time feature", `{"op": "starts with", "left": {"field": "created_at"}, "right": {"value": "2026"}}`, true,
			`"starts with" tests a string: created_at is a time`},
		{"boolean between", `{"op": "between", "left": {"field": "x"}, "values": [false, true]}`, false, `booleans take only =, !=, in and not in, not "between"`},
		{"boolean order", `{"op": ">=", "left": {"field": "x"}, "right": {"value": true}}`, false, `booleans take only =, !=, in and not in, not ">="`},
		{"aggregates of different types", `{"op": "=", "left": {"agg": {"func": "first", "event": "x"}}, "right": {"agg": {"func": "sum", "event": "x", "property": "p"}}}`, false,
			`first("x") is a time and sum("x".p) is a number: a test between different types never holds`},
		{"property is any type in where", `{"op": ">", "left": {"agg": {"func": "count", "event": "x", "where":
			{"op": "contains", "left": {"field": "orders"}, "right": {"value": "a"}}}}, "right": {"value": 1}}`, true, ""},
		{"window past time.Duration", `{"op": ">", "left": {"agg": {"func": "count", "event": "x", "within": "106752d"}}, "right": {"value": 1}}`, false,
			`left.agg.within: duration "106752d": want a whole number from 1 up to 100 years`},
		{"ago past time.Duration", `{"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "106752d"}}`, false,
			`right.ago: duration "106752d": want a whole number from 1 up to 100 years`},
		{"time text that would not lex", `{"op": "<", "left": {"field": "x"}, "right": {"value": {"time": "2026-01-01T09:30:00,5Z"}}}`, false,
			`right.value: 2026-01-01T09:30:00,5Z is not a valid time: write a date as 2026-01-01, or a time in RFC 3339, such as 2026-01-01T09:30:00Z or 2026-01-01T09:30:00+01:00`},
	}
	reg := segment.NewRegistry()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n segment.Node
			if err := json.Unmarshal([]byte(tt.tree), &n); err != nil {
				// A value JSON itself refuses is not Check's to see.
				t.Fatalf("bad tree: %v", err)
			}
			r := (*segment.Registry)(nil)
			if tt.reg {
				r = reg
			}
			err := segment.Check(&n, r)
			switch {
			case err == nil && tt.want != "":
				t.Errorf("Check = nil, want %s", tt.want)
			case err != nil && err.Error() != tt.want:
				t.Errorf("Check:\n got %v\nwant %s", err, tt.want)
			}
			var e *segment.Error
			if err != nil && !errors.As(err, &e) {
				t.Errorf("Check: %T, want *segment.Error", err)
			}
		})
	}
}

// TestCheckValues covers trees that only Go code can build.
func TestCheckValues(t *testing.T) {
	cmp := func(v segment.Value) *segment.Node {
		return &segment.Node{Op: segment.OpEq, Left: &segment.Operand{Field: "x"}, Right: &segment.Operand{Value: &v}}
	}
	tests := []struct {
		name string
		n    *segment.Node
		want string
	}{
		{"nil", nil, "a condition is missing"},
		{"NaN", cmp(segment.Number(math.NaN())), "right.value: number NaN is not finite"},
		{"infinity", cmp(segment.Number(math.Inf(-1))), "right.value: number -Inf is not finite"},
		{"time without text", cmp(segment.Value{Type: segment.TypeTime, Time: 1}), "right.value: a time needs its text as written, such as 2026-01-01"},
		{"time text and instant disagree", cmp(segment.Value{Type: segment.TypeTime, Str: "2026-01-01", Time: 1}),
			`right.value: time "2026-01-01" is 1767225600000 in Unix milliseconds, not 1`},
		{"string with a number", cmp(segment.Value{Type: segment.TypeString, Str: "a", Num: 1}), "right.value: a string value has fields set that a string does not use"},
		{"invalid UTF-8", cmp(segment.String("\xff")), "right.value: a string must be valid UTF-8"},
		{"no type", cmp(segment.Value{}), "right.value: a value must be a string, a number, a boolean or a time"},
		{"field not UTF-8", &segment.Node{Op: segment.OpIsSet, Left: &segment.Operand{Field: "\xff"}}, `left: field "\ufffd": not valid UTF-8`},
		{"parsed position", &segment.Node{Op: "?", Pos: segment.Pos{Line: 2, Col: 3, Offset: 9}},
			"line 2, column 3: unknown op \"?\": the ops are and, or, not, =, !=, <, <=, >, >=, in, not in, between, contains, starts with, is set, is not set, within next, in segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := segment.Check(tt.n, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Check:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestRefs(t *testing.T) {
	n, err := segment.Parse(`in segment "b" and (in segment "a" or not in segment "b") and x = 1`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := segment.Refs(n), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Refs = %q, want %q", got, want)
	}
	if got := segment.Refs(&segment.Node{Op: segment.OpIsSet, Left: &segment.Operand{Field: "x"}}); got != nil {
		t.Errorf("Refs of no reference = %q, want nil", got)
	}
}

func TestCheckCycles(t *testing.T) {
	stored := map[string]string{
		"b":    `in segment "c" or x = 1`,
		"c":    `in segment "a"`,
		"d":    `x = 2`,
		"e":    `in segment "d" and in segment "d"`,
		"f":    `in segment "missing"`,
		"loop": `in segment "loop2"`, "loop2": `in segment "loop"`,
	}
	lookup := func(name string) (*segment.Node, bool) {
		text, ok := stored[name]
		if !ok {
			return nil, false
		}
		n, err := segment.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		return n, true
	}
	tests := []struct {
		name, segment, text, want string
	}{
		{"no references", "a", `x = 1`, ""},
		{"acyclic", "a", `in segment "d" and in segment "e"`, ""},
		{"itself", "a", `x = 1 or in segment "a"`, `line 1, column 10: segment "a" refers to itself`},
		{"through others", "a", `in segment "d" or in segment "b"`, `line 1, column 19: segment "a" refers to itself through "b" -> "c" -> "a"`},
		{"unknown", "a", `in segment "zzz"`, `line 1, column 1: segment "a" refers to unknown segment "zzz"`},
		{"unknown through another", "a", `in segment "f"`, `line 1, column 1: segment "a" refers to unknown segment "missing" through "f" -> "missing"`},
		{"a cycle elsewhere", "a", `in segment "loop"`, `line 1, column 1: segment "a" refers to a cycle: "a" -> "loop" -> "loop2" -> "loop"`},
		{"renamed into a cycle", "c", `in segment "b"`, `line 1, column 1: segment "c" refers to itself through "b" -> "c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := segment.Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			err = segment.CheckCycles(tt.segment, n, lookup)
			switch {
			case err == nil && tt.want != "":
				t.Errorf("CheckCycles = nil, want %s", tt.want)
			case err != nil && err.Error() != tt.want:
				t.Errorf("CheckCycles:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestCheckNesting holds JSON trees to the nesting bound of the text: a
// tree Check accepts formats to text that parses back, and a tree one
// level deeper is rejected, naming where in the tree, whatever shape the
// nesting takes.
func TestCheckNesting(t *testing.T) {
	leaf := `{"op": "=", "left": {"field": "x"}, "right": {"value": 1}}`
	leaf2 := `{"op": "is set", "left": {"field": "y"}}`
	shapes := map[string]func(inner string, i int) string{
		// not (x = 1): each not and its parentheses.
		"not": func(inner string, i int) string { return `{"op": "not", "args": [` + inner + `]}` },
		// a or (b and (c or ...)): each and inside an or is parenthesised.
		"and/or": func(inner string, i int) string {
			op := "and"
			if i%2 == 1 {
				op = "or"
			}
			return `{"op": "` + op + `", "args": [` + leaf2 + `, ` + inner + `]}`
		},
		// count("e" where count... cannot nest, but where can hold not.
		"where": func(inner string, i int) string {
			if i == 0 {
				return `{"op": ">", "left": {"agg": {"func": "count", "event": "e", "where": ` + inner + `}}, "right": {"value": 0}}`
			}
			return `{"op": "not", "args": [` + inner + `]}`
		},
	}
	for name, wrap := range shapes {
		t.Run(name, func(t *testing.T) {
			accepted, rejected := 0, 0
			for levels := 90; levels <= 210; levels++ {
				tree := leaf
				for i := levels - 1; i >= 0; i-- {
					tree = wrap(tree, i)
				}
				var n segment.Node
				if err := json.Unmarshal([]byte(tree), &n); err != nil {
					t.Fatal(err)
				}
				checkErr := segment.Check(&n, nil)
				_, parseErr := segment.Parse(segment.Format(&n))
				if (checkErr == nil) != (parseErr == nil) {
					t.Fatalf("%d levels: Check = %v, but Parse(Format) = %v", levels, checkErr, parseErr)
				}
				if checkErr == nil {
					accepted++
					continue
				}
				rejected++
				var e *segment.Error
				if !errors.As(checkErr, &e) || e.Path == "" || !strings.HasSuffix(e.Msg, "the condition nests more than 100 deep") {
					t.Fatalf("%d levels: Check = %v, want the nesting bound at a path", levels, checkErr)
				}
			}
			if accepted == 0 || rejected == 0 {
				t.Fatalf("accepted %d and rejected %d trees: the bound was not reached", accepted, rejected)
			}
		})
	}

	// A hostile tree is refused at the bound, not walked to its end.
	deep := leaf
	for range 2000 {
		deep = `{"op": "not", "args": [` + deep + `]}`
	}
	var n segment.Node
	if err := json.Unmarshal([]byte(deep), &n); err != nil {
		t.Fatal(err)
	}
	err := segment.Check(&n, nil)
	if want := strings.Repeat("args[0].", 99) + "args[0]: the condition nests more than 100 deep"; err == nil || err.Error() != want {
		t.Errorf("Check of 2000 nots = %v, want %s", err, want)
	}
}
