package segment_test

import "encoding/json"

// The cases of TestCompileSQL: a condition as a JSON tree, and the users
// (of population) it holds for. Each is also checked negated.

func fld(name string) string { return `{"field": ` + quote(name) + `}` }
func lit(v string) string    { return `{"value": ` + v + `}` }
func agoOf(d string) string  { return `{"ago": "` + d + `"}` }
func tm(s string) string     { return `{"value": {"time": "` + s + `"}}` }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func test(left, op, right string) string {
	return `{"op": "` + op + `", "left": ` + left + `, "right": ` + right + `}`
}

func list(left, op, values string) string {
	return `{"op": "` + op + `", "left": ` + left + `, "values": [` + values + `]}`
}

func unary(left, op string) string { return `{"op": "` + op + `", "left": ` + left + `}` }

func within(left, d string) string {
	return `{"op": "within next", "left": ` + left + `, "within": "` + d + `"}`
}

func and(a, b string) string { return `{"op": "and", "args": [` + a + `, ` + b + `]}` }

// agg is an aggregate operand; prop, where and win may be empty.
func agg(fn, event, prop, where, win string) string {
	s := `{"agg": {"func": "` + fn + `", "event": ` + quote(event)
	if prop != "" {
		s += `, "property": ` + quote(prop)
	}
	if where != "" {
		s += `, "where": ` + where
	}
	if win != "" {
		s += `, "within": "` + win + `"`
	}
	return s + `}}`
}

var cases = []struct{ name, cond, want string }{
	// Strings, and values not set: a test on an unset value is false.
	{"eq string", test(fld("country"), "=", lit(`"DE"`)), "alice frank"},
	{"eq is case-sensitive", test(fld("country"), "=", lit(`"de"`)), "erin"},
	{"ne skips unset and null", test(fld("country"), "!=", lit(`"DE"`)), "bob erin"},
	{"ne skips arrays", test(fld("plan"), "!=", lit(`"gold"`)), "bob carol frank"},
	{"lt by bytes", test(fld("plan"), "<", lit(`"gold"`)), "carol frank"},
	{"traits prefix", test(fld("traits.country"), "=", lit(`"DE"`)), "alice frank"},
	{"path", test(fld("address.city"), "=", lit(`"Berlin"`)), "alice"},
	{"object equals nothing", test(fld("address"), "=", lit(`"Berlin"`)), "erin"},
	{"object not ne", test(fld("n"), "!=", lit(`1`)), ""},
	{"path into object", test(fld("n.x"), "=", lit(`1`)), "erin"},
	{"no array index", test(fld("items.0"), "=", lit(`5`)), ""},
	{"key with space", test(fld("weird key"), "=", lit(`"x"`)), "erin"},
	{"key with quote", test(fld("it's"), "=", lit(`"q"`)), "erin"},
	{"key with double quote", test(fld(`a"b`), "=", lit(`"dq"`)), "erin"},
	{"is set", unary(fld("address"), "is set"), "alice erin"},
	{"is not set: null and missing", unary(fld("country"), "is not set"), "carol dave"},
	{"empty string trait is set", unary(fld("plan"), "is set"), "alice bob carol erin frank"},

	// Numbers, and type mismatches.
	{"gt number", test(fld("age"), ">", lit(`18`)), "alice erin frank"},
	{"number eq", test(fld("age"), "=", lit(`30`)), "alice"},
	{"string is not a number", test(fld("age"), "=", lit(`"30"`)), "bob"},
	{"ne other type false", test(fld("age"), "!=", lit(`30`)), "carol erin frank"},
	{"ge fraction", test(fld("age"), ">=", lit(`17.5`)), "alice carol erin frank"},
	{"lt", test(fld("age"), "<", lit(`30`)), "carol"},
	{"between inclusive", list(fld("age"), "between", `17.5, 30`), "alice carol"},
	{"between mixed types", list(fld("age"), "between", `30, "40"`), ""},
	{"between strings", list(fld("country"), "between", `"A", "Z"`), "alice bob frank"},
	{"number in", list(fld("score"), "in", `1, 1.5`), "alice bob"},

	// in and not in, with mixed lists.
	{"in", list(fld("plan"), "in", `"gold", "platinum"`), "alice"},
	{"not in", list(fld("plan"), "not in", `"gold", "platinum"`), "bob carol frank"},
	{"in mixed", list(fld("age"), "in", `30, "30"`), "alice bob"},
	{"not in mixed", list(fld("age"), "not in", `30, "30"`), "carol erin frank"},
	{"not in other type false", list(fld("vip"), "not in", `"a", 1`), "carol"},
	{"in times", list(fld("signup"), "in", `{"time": "2024-06-01"}, "2024-06-01T10:00:00Z"`), "alice erin"},

	// Booleans take = != in and not in only.
	{"bool eq", test(fld("vip"), "=", lit(`true`)), "alice"},
	{"bool ne", test(fld("vip"), "!=", lit(`true`)), "bob"},
	{"bool lt false", test(fld("vip"), "<", lit(`true`)), ""},
	{"bool in", list(fld("vip"), "in", `true, false`), "alice bob"},
	{"bool between false", list(fld("vip"), "between", `false, true`), ""},
	{"bool is set", unary(fld("vip"), "is set"), "alice bob carol"},

	// contains and starts with.
	{"contains: array or substring", test(fld("tags"), "contains", lit(`"a"`)), "alice carol"},
	{"contains number in array", test(fld("tags"), "contains", lit(`1`)), "alice frank"},
	{"contains bool", test(fld("tags"), "contains", lit(`true`)), "alice"},
	{"contains time element", test(fld("tags"), "contains", tm("2024-06-01")), "frank"},
	{"contains feature", test(fld("email"), "contains", lit(`"example.com"`)), "alice frank"},
	{"contains number on string", test(fld("country"), "contains", lit(`1`)), ""},
	{"starts with", test(fld("email"), "starts with", lit(`"bob"`)), "bob"},
	{"starts with is case-sensitive", test(fld("country"), "starts with", lit(`"D"`)), "alice frank"},
	{"starts with empty", test(fld("plan"), "starts with", lit(`""`)), "alice bob carol frank"},
	{"starts with no wildcards", test(fld("email"), "starts with", lit(`"_l%"`)), ""},

	// Trait times: exact forms, truncated to the millisecond.
	{"time gt", test(fld("signup"), ">", tm("2024-06-01T09:00:00Z")), "alice bob frank"},
	{"time ms truncated", test(fld("signup"), "=", tm("2024-06-01T10:00:00.123Z")), "bob"},
	{"time one fraction digit", test(fld("signup"), "=", tm("2024-06-01T10:00:00.100Z")), "frank"},
	{"date is midnight", test(fld("signup"), "<", tm("2024-06-01T00:00:01Z")), "erin"},
	{"time vs ago", test(fld("seen"), ">=", agoOf("1d")), "bob carol"},
	{"time exact", test(fld("seen"), "=", tm("2025-02-27T23:30:00Z")), "carol"},
	{"old time", test(fld("seen"), "<", agoOf("1h")), "alice"},
	{"time string as string", test(fld("signup"), "=", lit(`"2024-06-01"`)), "erin"},
	{"time with offset literal", test(fld("signup"), "=", tm("2024-06-01T12:00:00+02:00")), "alice"},
	{"bad times not set", test(fld("seen"), "<", tm("9999-01-01")), "alice bob carol"},

	// Features.
	{"feature and ago", and(test(fld("orders"), ">=", lit(`2`)), test(fld("last_order_at"), "<", agoOf("20d"))), "frank"},
	{"time feature", test(fld("last_order_at"), ">", agoOf("180d")), "alice frank"},
	{"ago on the left, strict", test(agoOf("30d"), "<", fld("last_order_at")), "alice"},
	{"unset time feature", unary(fld("last_order_at"), "is not set"), "carol dave erin"},
	{"revenue", test(fld("revenue"), ">", lit(`500`)), "frank"},
	{"aov", test(fld("aov"), "=", lit(`100`)), "alice"},
	{"aov zero", test(fld("aov"), "=", lit(`0`)), "carol dave erin"},
	{"email", test(fld("email"), "=", lit(`"bob@example.org"`)), "bob"},
	{"email is set", unary(fld("email"), "is set"), "alice bob frank"},
	{"user_id", test(fld("user_id"), "=", lit(`"dave"`)), "dave"},
	{"feature type mismatch", test(fld("orders"), "=", lit(`"3"`)), ""},
	{"literals", test(lit(`1`), "=", lit(`1`)), "alice bob carol dave erin frank"},
	{"literals of two types", test(lit(`"1"`), "=", lit(`1`)), ""},

	// Two traits: equal only in the same JSON type.
	{"trait vs trait", test(fld("score"), "<", fld("age")), "alice"},
	{"trait eq itself", test(fld("vip"), "=", fld("vip")), "alice bob carol"},
	{"object eq itself", test(fld("address"), "=", fld("address")), "erin"},

	// Aggregates, as of asOf.
	{"count excludes future", test(agg("count", "Order Completed", "", "", ""), ">=", lit(`2`)), "alice bob"},
	{"count window", test(agg("count", "Order Completed", "", "", "7d"), "=", lit(`2`)), "alice"},
	{"count zero", test(agg("count", "Order Completed", "", "", ""), "=", lit(`0`)), "dave erin frank"},
	{"count where", test(agg("count", "Product Viewed", "", test(fld("category"), "=", lit(`"Gadgets"`)), "30d"), ">=", lit(`2`)), "alice"},
	{"count where path", test(agg("count", "Product Viewed", "", test(fld("product.brand"), "=", lit(`"Acme"`)), ""), "=", lit(`1`)), "alice"},
	{"count where number", test(agg("count", "Order Completed", "", test(fld("revenue"), ">", lit(`60`)), ""), "=", lit(`1`)), "alice"},
	{"count where not set", test(agg("count", "Order Completed", "", unary(fld("coupon"), "is not set"), ""), ">=", lit(`1`)), "alice bob carol"},
	{"count where contains", test(agg("count", "Order Completed", "", test(fld("sku"), "contains", lit(`1`)), ""), "=", lit(`1`)), "bob"},
	{"page name", test(agg("count", "Home", "", "", ""), "=", lit(`1`)), "carol"},
	{"sum skips non-numbers", test(agg("sum", "Order Completed", "revenue", "", ""), "=", lit(`150`)), "alice"},
	{"sum of nothing is 0", test(agg("sum", "Order Completed", "revenue", "", ""), "=", lit(`0`)), "dave erin frank"},
	{"sum window", test(agg("sum", "Order Completed", "revenue", "", "7d"), "=", lit(`100`)), "alice"},
	{"avg", test(agg("avg", "Order Completed", "revenue", "", ""), "=", lit(`75`)), "alice"},
	{"avg of nothing not set", unary(agg("avg", "Order Completed", "revenue", "", ""), "is not set"), "dave erin frank"},
	{"min", test(agg("min", "Order Completed", "revenue", "", ""), "=", lit(`1`)), "bob"},
	{"max", test(agg("max", "Order Completed", "revenue", "", ""), "=", lit(`100`)), "alice"},
	{"distinct: 1 is 1.0, not \"1\"", test(agg("distinct", "Order Completed", "sku", "", ""), "=", lit(`3`)), "bob"},
	{"distinct numbers", test(agg("distinct", "Order Completed", "revenue", "", ""), "=", lit(`2`)), "bob"},
	{"distinct mixed", test(agg("distinct", "Order Completed", "revenue", "", ""), "=", lit(`3`)), "alice"},
	{"distinct of nothing", test(agg("distinct", "Nothing", "x", "", ""), "=", lit(`0`)), "alice bob carol dave erin frank"},
	{"last strictly after ago", test(agg("last", "Checkout Started", "", "", ""), ">", agoOf("1h")), ""},
	{"last at ago", test(agg("last", "Checkout Started", "", "", ""), ">=", agoOf("1h")), "carol"},
	{"aggregate vs aggregate", test(agg("last", "Checkout Started", "", "", ""), ">", agg("last", "Order Completed", "", "", "")), "bob carol"},
	{"first", test(agg("first", "Order Completed", "", "", ""), ">", agoOf("30d")), "alice carol"},
	{"first not set", unary(agg("first", "Order Completed", "", "", ""), "is not set"), "dave erin frank"},
	{"aggregate vs feature", test(agg("count", "Order Completed", "", "", ""), "=", fld("orders")), "alice dave"},
	{"last vs time feature", test(fld("last_order_at"), "=", agg("last", "Order Completed", "", "", "")), "alice"},
	{"number vs time", test(agg("sum", "Order Completed", "revenue", "", ""), ">", fld("last_order_at")), ""},

	// within next: as-of's date is 02-28 in Tokyo (alice) and Kiritimati
	// (erin), 02-27 elsewhere; 2025 is not a leap year.
	{"within next 1d", within(fld("birthday"), "1d"), "alice carol"},
	{"within next 2d: 29 Feb", within(fld("birthday"), "2d"), "bob alice carol"},
	{"within next 3d", within(fld("birthday"), "3d"), "alice bob carol frank"},
	{"within next a year", within(fld("birthday"), "52w"), "alice bob carol frank"},
	{"within next time", within(agg("first", "Order Completed", "", "", ""), "1d"), "carol"},
	{"within next number", within(fld("age"), "366d"), ""},

	// Segments, inlined.
	{"in segment", `{"op": "in segment", "segment": "german"}`, "alice frank"},
	{"nested segments", `{"op": "in segment", "segment": "buyers"}`, "alice frank"},
}
