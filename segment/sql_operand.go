package segment

import (
	"bytes"
	"encoding/json"
	"strings"
)

// value is a compiled operand: a typed SQL expression, or a JSON value
// whose type is only known row by row (a trait or an event property).
type value struct {
	typ  Type       // TypeAny: a JSON value, in json
	sql  string     // other types: the value, NULL when not set
	json *jsonValue // TypeAny
}

// jsonValue is a JSON value in the database: SQL expressions for its type
// and for its content read as each scalar type. The content expressions
// are only meaningful (and in PostgreSQL only safe to evaluate) when kind
// says the value has that type; typed guards them.
type jsonValue struct {
	kind    string // the type's name (SQLite json_type, PostgreSQL jsonb_typeof), NULL when missing
	str     string // a string's text
	num     string // a number as a float64 (SQLite REAL, PostgreSQL float8)
	boolean string // a boolean
	each    string // a FROM item over an array's elements, aliased j
}

// operand compiles one side of a test.
func (c *compiler) operand(o *Operand, sc scope, op Op) (value, error) {
	if o == nil {
		return value{}, invalid("%q: missing operand", op)
	}
	n := 0
	for _, set := range []bool{o.Field != "", o.Agg != nil, o.Value != nil, o.Ago != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return value{}, invalid("%q: an operand has exactly one of field, agg, value and ago", op)
	}
	switch {
	case o.Value != nil:
		if o.Value.Type == TypeAny {
			return value{}, invalid("%q: a value without a type", op)
		}
		return c.literalValue(*o.Value), nil
	case o.Ago != "":
		d, err := o.Ago.Std()
		if err != nil {
			return value{}, invalid("%s", err)
		}
		return value{typ: TypeTime, sql: c.int(c.asOf - d.Milliseconds())}, nil
	case o.Agg != nil:
		if sc != inCustomer {
			return value{}, invalid("%q: an aggregate inside an aggregate's where", op)
		}
		return c.aggregate(o.Agg)
	}
	return c.field(o.Field, sc)
}

// field compiles a name: a feature, else a trait; inside an aggregate's
// where, a property.
func (c *compiler) field(name string, sc scope) (value, error) {
	doc := "e.properties"
	if sc == inCustomer {
		if f, ok := c.o.Registry.Lookup(name); ok {
			s := "(" + f.SQL(c.o.Dialect) + ")"
			if f.Type == TypeString {
				// A string feature is not set when empty (user_id,
				// email, phone; see Feature.Get), whatever the column
				// holds.
				s = "NULLIF(" + s + ", '')"
			}
			return value{typ: f.Type, sql: s}, nil
		}
		doc = "c.traits"
		name = strings.TrimPrefix(name, "traits.")
	}
	path := strings.Split(name, ".")
	for _, k := range path {
		if k == "" {
			return value{}, invalid("field %q: an empty name in the path", name)
		}
	}
	return value{typ: TypeAny, json: c.jsonPath(doc, path)}, nil
}

// jsonPath is the value at path (object keys) in the JSON column doc.
// The keys are parameters in both dialects. SQLite takes a path text, in
// which every key is a quoted JSON string so that any character is
// literal; PostgreSQL follows the keys with ->, which, unlike #>, never
// indexes arrays (the language's paths only name object members).
func (c *compiler) jsonPath(doc string, path []string) *jsonValue {
	if c.o.Dialect == Postgres {
		node := doc
		for _, k := range path {
			node += " -> " + c.text(k)
		}
		node = "(" + node + ")"
		return &jsonValue{
			kind:    "jsonb_typeof" + node,
			str:     "(" + node + " #>> '{}')",
			num:     "CAST(" + node + " #>> '{}' AS float8)",
			boolean: "(" + node + " = 'true'::jsonb)",
			each:    "jsonb_array_elements" + node + " AS j(v)",
		}
	}
	var b strings.Builder
	b.WriteString("$")
	for _, k := range path {
		b.WriteString(".")
		b.WriteString(jsonString(k))
	}
	p := c.text(b.String())
	return &jsonValue{
		kind:    "json_type(" + doc + ", " + p + ")",
		str:     "json_extract(" + doc + ", " + p + ")",
		num:     "CAST(json_extract(" + doc + ", " + p + ") AS REAL)",
		boolean: "(json_type(" + doc + ", " + p + ") = 'true')",
		each:    "json_each(" + doc + ", " + p + ") AS j",
	}
}

// jsonString quotes s as a JSON string, as SQLite's path syntax takes a
// quoted key (escapes included).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// elements returns an element of the array j, and the FROM item that
// ranges over them.
func (c *compiler) elements(j *jsonValue) (*jsonValue, string) {
	if c.o.Dialect == Postgres {
		return &jsonValue{
			kind:    "jsonb_typeof(j.v)",
			str:     "(j.v #>> '{}')",
			num:     "CAST(j.v #>> '{}' AS float8)",
			boolean: "(j.v = 'true'::jsonb)",
		}, j.each
	}
	return &jsonValue{
		kind:    "j.type",
		str:     "j.value",
		num:     "CAST(j.value AS REAL)",
		boolean: "(j.type = 'true')",
	}, j.each
}

// isJSON tests that j is of the JSON type kind: "string", "number",
// "boolean", "array" or "null" (NULL when j is missing).
func (c *compiler) isJSON(j *jsonValue, kind string) string {
	if c.o.Dialect == Postgres {
		return j.kind + " = '" + kind + "'"
	}
	switch kind {
	case "string":
		return j.kind + " = 'text'"
	case "number":
		return j.kind + " IN ('integer', 'real')"
	case "boolean":
		return j.kind + " IN ('true', 'false')"
	}
	return j.kind + " = '" + kind + "'"
}

// typed returns v as a SQL value of type t, NULL when v is not set or not
// of type t, and false when v can never be of type t. A JSON string is a
// time when it is one of the forms ingestion writes (see traitTime).
func (c *compiler) typed(v value, t Type) (string, bool) {
	if v.typ != TypeAny {
		return "(" + v.sql + ")", v.typ == t
	}
	j := v.json
	switch t {
	case TypeString:
		return "(CASE WHEN " + c.isJSON(j, "string") + " THEN " + j.str + " END)", true
	case TypeNumber:
		return "(CASE WHEN " + c.isJSON(j, "number") + " THEN " + j.num + " END)", true
	case TypeBool:
		return "(CASE WHEN " + c.isJSON(j, "boolean") + " THEN " + j.boolean + " END)", true
	case TypeTime:
		s, _ := c.typed(v, TypeString)
		return c.traitTime(s), true
	}
	return "", false
}

// literal returns v as a parameter: times as Unix ms.
func (c *compiler) literal(v Value) string {
	switch v.Type {
	case TypeString:
		return c.text(v.Str)
	case TypeNumber:
		return c.num(v.Num)
	case TypeBool:
		return c.boolean(v.Bool)
	case TypeTime:
		return c.int(v.Time)
	}
	return "NULL"
}

func (c *compiler) literalValue(v Value) value {
	return value{typ: v.Type, sql: c.literal(v)}
}

// aggregate compiles an aggregate to a correlated subquery over the
// customer's events named a.Event at or before as-of, in the window, that
// satisfy a.Where. Property values of another type than the function
// takes are skipped.
func (c *compiler) aggregate(a *Aggregate) (value, error) {
	if a.Func.NeedsProperty() != (a.Property != "") {
		if a.Property == "" {
			return value{}, invalid("%s(%q) needs a property", a.Func, a.Event)
		}
		return value{}, invalid("%s(%q) takes no property", a.Func, a.Event)
	}
	where := []string{
		"e.workspace_id = c.workspace_id", "e.customer_id = c.id",
		"e.event = " + c.text(a.Event), "e.timestamp <= " + c.int(c.asOf),
	}
	if a.Within != "" {
		d, err := a.Within.Std()
		if err != nil {
			return value{}, invalid("%s(%q): %s", a.Func, a.Event, err)
		}
		where = append(where, "e.timestamp >= "+c.int(c.asOf-d.Milliseconds()))
	}
	if a.Where != nil {
		s, err := c.cond(a.Where, inEvent)
		if err != nil {
			return value{}, err
		}
		where = append(where, "("+s+")")
	}
	var prop value
	if a.Property != "" {
		var err error
		if prop, err = c.field(a.Property, inEvent); err != nil {
			return value{}, err
		}
	}
	num := func() string { s, _ := c.typed(prop, TypeNumber); return s }
	typ := TypeNumber
	var sel string
	switch a.Func {
	case AggCount:
		sel = "count(*)"
	case AggSum:
		sel = "COALESCE(sum(" + num() + "), 0)"
	case AggAvg:
		// sum/count rather than avg(): PostgreSQL's avg(float8) uses
		// another algorithm than its sum, and the engine divides the sum.
		n := num()
		sel = "sum(" + n + ") / count(" + n + ")"
	case AggMin:
		sel = "min(" + num() + ")"
	case AggMax:
		sel = "max(" + num() + ")"
	case AggDistinct:
		// One count per type, so a string and a number are never equal,
		// and numbers are compared as float64, so 1 and 1.0 are.
		s, _ := c.typed(prop, TypeString)
		b, _ := c.typed(prop, TypeBool)
		sel = "count(DISTINCT " + c.collate(s, TypeString) + ") + count(DISTINCT " + num() + ") + count(DISTINCT " + b + ")"
	case AggFirst:
		typ, sel = TypeTime, "min(e.timestamp)"
	case AggLast:
		typ, sel = TypeTime, "max(e.timestamp)"
	default:
		return value{}, invalid("unknown aggregate %q", a.Func)
	}
	return value{typ: typ, sql: "(SELECT " + sel + " FROM events e WHERE " + strings.Join(where, " AND ") + ")"}, nil
}
