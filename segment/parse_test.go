package segment_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/segment"
)

// docExamples returns the examples under "The text form" in the language
// reference, so that the reference cannot drift from the parser.
func docExamples(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../docs/segments.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var examples []string
	in := false
	for s := bufio.NewScanner(f); s.Scan(); {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "## The text form"):
			in = true
		case in && strings.HasPrefix(line, "Grammar"):
			return examples
		case strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "":
			if in || strings.Contains(line, "last_order_at < 180d ago") {
				examples = append(examples, strings.TrimSpace(line))
			}
		}
	}
	t.Fatal("docs/segments.md: no Grammar after The text form")
	return nil
}

// TestParseDocExamples checks that every example in the reference parses
// and is already in canonical form.
func TestParseDocExamples(t *testing.T) {
	examples := docExamples(t)
	if len(examples) < 12 {
		t.Fatalf("found %d examples in docs/segments.md, want 12 or more", len(examples))
	}
	for _, text := range examples {
		n, err := segment.Parse(text)
		if err != nil {
			t.Errorf("Parse(%s): %v", text, err)
			continue
		}
		if got := segment.Format(n); got != text {
			t.Errorf("Format(Parse(%s)) = %s, want the example itself", text, got)
		}
	}
}

func TestParseTree(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"doc example", `count("Order Completed", within 90d) >= 2`,
			`{"op": ">=", "left": {"agg": {"func": "count", "event": "Order Completed", "within": "90d"}}, "right": {"value": 2}}`},
		{"where", `count("Product Viewed" where category = "Gadgets", within 30d) >= 3`,
			`{"op": ">=", "left": {"agg": {"func": "count", "event": "Product Viewed", "within": "30d",
			  "where": {"op": "=", "left": {"field": "category"}, "right": {"value": "Gadgets"}}}}, "right": {"value": 3}}`},
		{"property", `sum("Order Completed".revenue, within 365d) > 1000`,
			`{"op": ">", "left": {"agg": {"func": "sum", "event": "Order Completed", "property": "revenue", "within": "365d"}}, "right": {"value": 1000}}`},
		{"ago", `orders >= 2 and last_order_at < 180d ago`,
			`{"op": "and", "args": [
			  {"op": ">=", "left": {"field": "orders"}, "right": {"value": 2}},
			  {"op": "<", "left": {"field": "last_order_at"}, "right": {"ago": "180d"}}]}`},
		{"in and between", `traits.plan in ("gold", "platinum") and age between 25 and 34`,
			`{"op": "and", "args": [
			  {"op": "in", "left": {"field": "traits.plan"}, "values": ["gold", "platinum"]},
			  {"op": "between", "left": {"field": "age"}, "values": [25, 34]}]}`},
		{"not and last", `last("Checkout Started") > 1h ago and not (last("Order Completed") > last("Checkout Started"))`,
			`{"op": "and", "args": [
			  {"op": ">", "left": {"agg": {"func": "last", "event": "Checkout Started"}}, "right": {"ago": "1h"}},
			  {"op": "not", "args": [{"op": ">", "left": {"agg": {"func": "last", "event": "Order Completed"}},
			                                     "right": {"agg": {"func": "last", "event": "Checkout Started"}}}]}]}`},
		{"within next", `birthday within next 7d`, `{"op": "within next", "left": {"field": "birthday"}, "within": "7d"}`},
		{"segments", `in segment "vip" and not in segment "unsubscribed"`,
			`{"op": "and", "args": [{"op": "in segment", "segment": "vip"},
			  {"op": "not", "args": [{"op": "in segment", "segment": "unsubscribed"}]}]}`},
		{"bare field", `vip`, `{"op": "=", "left": {"field": "vip"}, "right": {"value": true}}`},
		{"precedence", `a or b and not c`,
			`{"op": "or", "args": [{"op": "=", "left": {"field": "a"}, "right": {"value": true}},
			  {"op": "and", "args": [{"op": "=", "left": {"field": "b"}, "right": {"value": true}},
			    {"op": "not", "args": [{"op": "=", "left": {"field": "c"}, "right": {"value": true}}]}]}]}`},
		{"flattened", `(a = 1 and b = 2) and (c = 3 and d = 4)`,
			`{"op": "and", "args": [{"op": "=", "left": {"field": "a"}, "right": {"value": 1}},
			  {"op": "=", "left": {"field": "b"}, "right": {"value": 2}},
			  {"op": "=", "left": {"field": "c"}, "right": {"value": 3}},
			  {"op": "=", "left": {"field": "d"}, "right": {"value": 4}}]}`},
		{"literals", "x not in (\"a\\\"\\u00e9\\ud83c\\udf89\", -5, 1.5e3, true, 2026-01-01, 2026-01-01T09:30:00+01:00)",
			`{"op": "not in", "left": {"field": "x"}, "values": ["a\"é🎉", -5, 1500, true, {"time": "2026-01-01"}, {"time": "2026-01-01T09:30:00+01:00"}]}`},
		{"names", "`first name`.`a``b`.and = \"x\"",
			`{"op": "=", "left": {"field": "first name.a` + "`" + `b.and"}, "right": {"value": "x"}}`},
		{"contains and starts with", `tags contains 3 or email starts with "ann"`,
			`{"op": "or", "args": [{"op": "contains", "left": {"field": "tags"}, "right": {"value": 3}},
			  {"op": "starts with", "left": {"field": "email"}, "right": {"value": "ann"}}]}`},
		{"is set", `email is set and phone is not set`,
			`{"op": "and", "args": [{"op": "is set", "left": {"field": "email"}}, {"op": "is not set", "left": {"field": "phone"}}]}`},
		{"distinct property path", "distinct(\"Order Completed\".product.`brand name`) > 2",
			`{"op": ">", "left": {"agg": {"func": "distinct", "event": "Order Completed", "property": "product.brand name"}}, "right": {"value": 2}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := segment.Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var want segment.Node
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if !reflect.DeepEqual(zeroPos(got), &want) {
				t.Errorf("Parse(%s)\n got %s\nwant %s", tt.text, mustJSON(t, got), mustJSON(t, &want))
			}
		})
	}
}

// TestParseForms checks that the other ways of writing a condition parse
// to the tree of its canonical form.
func TestParseForms(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"keywords in any case", `X IS NOT SET AND Y Between 1 And 2 Or In Segment "v"`, `X is not set and Y between 1 and 2 or in segment "v"`},
		{"comments and spaces", "orders >= 2 # at least two\n  and\trevenue>500 # and spent", `orders >= 2 and revenue > 500`},
		{"not without parentheses", `not country = "DE"`, `not (country = "DE")`},
		{"double not", `not not vip`, `not not (vip = true)`},
		{"needless parentheses", `((a = 1)) and (b = 2 or c = 3)`, `a = 1 and (b = 2 or c = 3)`},
		{"or flattened", `a = 1 or (b = 2 or c = 3)`, `a = 1 or b = 2 or c = 3`},
		{"not of an and", `not (a and b)`, `not (a = true and b = true)`},
		{"keyword after a dot", "traits.set = 1 and `in` = 2", "traits.set = 1 and `in` = 2"},
		{"needless backquotes", "`plan` = \"a\"", `plan = "a"`},
		{"escapes", `x = "\/\u0041\t"`, `x = "/A\t"`},
		{"numbers", `x in (1E3, 0.50, -0, 1e-7)`, `x in (1000, 0.5, -0, 1e-07)`},
		{"upper-case function", `COUNT("x") > 1`, `count("x") > 1`},
		{"spaces in paths", `sum( "x" . revenue , within 7d ) > 1`, `sum("x".revenue, within 7d) > 1`},
		{"week window", `birthday within next 2w`, `birthday within next 2w`},
		{"literal on the left", `2 <= orders`, `2 <= orders`},
		{"unprintable characters escaped", "x = \"\u00a0\u2028\"", `x = "\u00a0\u2028"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := segment.Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := segment.Format(n); got != tt.want {
				t.Errorf("Format(Parse(%q)) = %s, want %s", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"empty", "  # nothing", `line 1, column 12: empty condition: write a condition, such as orders >= 2`},
		{"not an operator", `orders foo`, `line 1, column 8: expected a comparison operator (=, !=, <, <=, >, >=, in, between, contains, starts with, is set, within next) after "orders", found "foo"`},
		{"misspelt operator", `x betwen 1 and 2`, `line 1, column 3: expected a comparison operator (=, !=, <, <=, >, >=, in, between, contains, starts with, is set, within next) after "x", found "betwen": did you mean "between"?`},
		{"aggregate alone", `count("x")`, `line 1, column 11: expected a comparison operator (=, !=, <, <=, >, >=, in, between, contains, starts with, is set, within next) after "count(\"x\")", found the end of the text`},
		{"missing operand", `orders >`, `line 1, column 9: expected a field, a value, an aggregate or a time ago after ">", found the end of the text`},
		{"dangling and", `x = 1 and`, `line 1, column 10: expected a condition after "and", found the end of the text`},
		{"keyword as field", `and = 1`, "line 1, column 1: expected a condition, found \"and\" (a field named like a keyword is written in backquotes: `and`)"},
		{"missing and", `a = 1 b = 2`, `line 1, column 7: expected "and", "or" or the end of the condition after "1", found "b"`},
		{"misspelt and", `a = 1 adn b = 2`, `line 1, column 7: expected "and", "or" or the end of the condition after "1", found "adn": did you mean "and"?`},
		{"missing )", `(a = 1 and (b = 2)`, `line 1, column 19: expected ")" to close the "(" at line 1, column 1, found the end of the text`},
		{"extra )", `a = 1)`, `line 1, column 6: unexpected ")": there is no "(" for it to close`},
		{"second line", "a = 1 and\n  b = \"x\" and\n\tc ==  2", `line 3, column 4: "==" is not an operator: did you mean "="?`},
		{"unterminated string", "a = 1 and\n  b = \"abc\n", `line 2, column 7: unterminated string: add a closing " (a line break inside a string is written \n)`},
		{"bad escape", `x = "bad \q"`, `line 1, column 10: invalid escape \q in a string: the escapes are \", \\, \/, \b, \f, \n, \r, \t and \uXXXX`},
		{"short \\u", `x = "\u12"`, `line 1, column 6: invalid escape in a string: \u takes four hex digits, such as \u00e9`},
		{"half a surrogate", `x = "\ud83d"`, `line 1, column 6: \ud83d is half of a UTF-16 surrogate pair: write the character itself, or both halves`},
		{"raw tab in string", "x = \"a\tb\"", `line 1, column 7: a control character cannot appear in a string: write it as \u0009`},
		{"columns count characters", `"é" = "ü" and x = 'a'`, `line 1, column 19: strings are written in double quotes ("like this"), not single quotes`},
		{"leading zero", `x = 01`, `line 1, column 5: 01 is not a number: a number cannot start with 0 followed by more digits`},
		{"bare decimal point", `x = 1.`, `line 1, column 5: 1. is not a number: a decimal point must be followed by digits`},
		{"huge number", `x = 1e999`, `line 1, column 5: 1e999 is not a number: it is too large`},
		{"lone minus", `x = - 5`, `line 1, column 5: "-" must be followed by a number, such as -5`},
		{"bad date", `x = 2026-02-30`, `line 1, column 5: 2026-02-30 is not a valid date: write a date as 2026-01-01 (year, month, day), or a time as 2026-01-01T09:30:00Z`},
		{"bad time", `x < 2026-01-01T25:00:00Z`, `line 1, column 5: 2026-01-01T25:00:00Z is not a valid time: write a date as 2026-01-01, or a time in RFC 3339, such as 2026-01-01T09:30:00Z or 2026-01-01T09:30:00+01:00`},
		{"zero duration", `x < 0d ago`, `line 1, column 5: 0d is not a duration: the number must be at least 1`},
		{"bad unit", `x < 5x ago`, `line 1, column 5: 5x is not a duration: the unit must be h (hours), d (days) or w (weeks), such as 5d`},
		{"fractional duration", `x < 1.5d ago`, `line 1, column 5: 1.5d is not a duration: a duration is a whole number and a unit, h, d or w, such as 7d`},
		{"duration without ago", `x < 7d`, `line 1, column 7: expected "ago" after 7d, found the end of the text: a duration stands for a time as in last_order_at < 7d ago`},
		{"within next hours", `x within next 12h`, `line 1, column 15: "within next" takes whole days, such as 7d or 2w, not 12h`},
		{"within next too long", `x within next 53w`, `line 1, column 15: "within next" takes at most 366d (a year), not 53w (371 days)`},
		{"within next of an aggregate", `count("x") within next 7d`, `line 1, column 1: "within next" tests a date trait, such as birthday within next 7d`},
		{"empty in", `x in ()`, `line 1, column 7: "in" needs at least one value between its parentheses`},
		{"missing comma", `x in ("a" "b")`, `line 1, column 11: expected "," or ")" to close the "(" at line 1, column 6, found the string "b"`},
		{"field in list", `x in (y)`, `line 1, column 7: expected a value (a string, a number, true, false or a date) after "(" or ",", found "y"`},
		{"between or", `x between 1 or 2`, `line 1, column 13: expected "and" between the two values of "between", as in age between 25 and 34, found "or"`},
		{"contains a field", `x contains y`, `line 1, column 12: expected a value (a string, a number, true, false or a date) after "contains", found "y"`},
		{"starts with a number", `x starts with 1`, `line 1, column 15: "starts with" takes a string, such as email starts with "ann", found "1"`},
		{"is what", `x is nothing`, `line 1, column 6: expected "set" after "is", as in email is set or email is not set, found "nothing"`},
		{"in segment unquoted", `in segment vip`, `line 1, column 12: expected the segment's name as a string after "in segment", such as in segment "vip", found "vip"`},
		{"unquoted event", `count(Order) > 1`, `line 1, column 7: expected the event's name as a string after "count(", such as count("Order Completed"), found "Order"`},
		{"count with property", `count("x".revenue) > 1`, `line 1, column 1: count takes no property: write count("x")`},
		{"sum without property", `sum("Order Completed") > 1`, `line 1, column 1: sum takes a property of the event, as in sum("Order Completed".revenue)`},
		{"within without comma", `count("x" within 7d) > 1`, `line 1, column 11: expected ".", "where", ", within" or ")" in the "count(" at line 1, column 1, found "within"`},
		{"unknown function", `cout("x") > 1`, `line 1, column 1: unknown aggregate function "cout": the functions are count, sum, avg, min, max, distinct, first and last: did you mean "count"?`},
		{"aggregate in where", `count("x" where count("y") > 1) > 1`, `line 1, column 17: an aggregate cannot be used inside "where", which tests the properties of one event`},
		{"ago in where", `count("x" where y > 7d ago) > 1`, `line 1, column 21: "7d ago" cannot be used inside "where", which tests the properties of one event`},
		{"segment in where", `count("x" where in segment "a") > 1`, `line 1, column 17: "in segment" cannot be used inside "where", which tests the properties of one event`},
		{"within next in where", `count("x" where y within next 7d) > 1`, `line 1, column 19: "within next" cannot be used inside "where", which tests the properties of one event`},
		{"&&", `a && b`, `line 1, column 3: "&&" is not an operator: did you mean "and"?`},
		{"unicode name", `ünï = 1`, "line 1, column 1: unexpected character 'ü': a name with characters other than letters, digits and _ is written in backquotes, such as `ünï`"},
		{"dot in a backquoted name", "`a.b` = 1", `line 1, column 3: a name cannot contain a dot: dots separate the names of a path, as in traits.address.city`},
		{"empty backquoted name", "`` = 1", "line 1, column 1: empty name ``: a name needs at least one character"},
		{"invalid UTF-8", "x = \"a\xff\"", `line 1, column 7: the text is not valid UTF-8`},
		{"boolean ordered", `x = true and y < true`, `line 1, column 14: booleans take only =, !=, in and not in, not "<"`},
		{"between types", `x between 1 and "z"`, `line 1, column 1: the two values of "between" must have the same type, not a number and a string`},
		{"aggregate type", `last("x") > 3`, `line 1, column 1: last("x") is a time and 3 is a number: a test between different types never holds`},
		{"too deep", strings.Repeat("(", 101) + "x", `line 1, column 101: the condition nests more than 100 deep`},
		// 106752 days is past time.Duration's 292 years: the bound must
		// not overflow into accepting it.
		{"window past time.Duration", `count("x", within 106752d) > 1`, `line 1, column 19: 106752d is not a duration: it must be at most 100 years`},
		{"ago past time.Duration", `last_order_at < 106752d ago`, `line 1, column 17: 106752d is not a duration: it must be at most 100 years`},
		{"hours past time.Duration", `x < 2562048h ago`, `line 1, column 5: 2562048h is not a duration: it must be at most 100 years`},
		{"weeks past time.Duration", `x < 15251w ago`, `line 1, column 5: 15251w is not a duration: it must be at most 100 years`},
		{"just past 100 years", `x < 36601d ago`, `line 1, column 5: 36601d is not a duration: it must be at most 100 years`},
		// "not x = 1" is written "not (x = 1)", one level deeper: the
		// tree, not the text as typed, is what must stay within the bound.
		{"too deep once formatted", strings.Repeat("not ", 99) + "x = 1", `line 1, column 397: the condition nests more than 100 deep`},
		{"contains on a number", `count("x") contains 1`, `line 1, column 1: "contains" tests a string or a list: count("x") is a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := segment.Parse(tt.text)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.text, segment.Format(n))
			}
			var e *segment.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): %T, want *segment.Error", tt.text, err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q):\n got %s\nwant %s", tt.text, err, tt.want)
			}
			// The offset must agree with the line and column.
			before := tt.text[:e.Pos.Offset]
			line := strings.Count(before, "\n") + 1
			col := len([]rune(before[strings.LastIndexByte(before, '\n')+1:])) + 1
			if e.Pos.Line != line || e.Pos.Col != col {
				t.Errorf("Pos %+v: offset %d is line %d, column %d", e.Pos, e.Pos.Offset, line, col)
			}
		})
	}
}
