package importer

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/touchbase/touchbase"
)

// A target is where a CSV column's values go in the inbound (Segment call)
// a row becomes: a top-level field (user_id, email, timestamp, event...),
// an order or order-line field (orders only), or a dot path under traits,
// properties or context. Values are coerced to the target's type.
type target struct {
	field string   // a known field, or "" for a path
	root  string   // traits, properties, context or item (an order line's product)
	path  []string // below root
	typ   valueType
}

// valueType is how a cell's text becomes a JSON value.
type valueType uint8

const (
	typeAuto   valueType = iota // true/false, a plain number, else a string
	typeString                  // always a string
	typeNumber                  // a number; anything else is an error
	typeInt                     // a whole number
	typeBool                    // true/false, yes/no, 1/0
	typeTime                    // a date or time, written as RFC 3339
)

var typeNames = map[string]valueType{
	"auto": typeAuto, "string": typeString, "text": typeString, "number": typeNumber, "float": typeNumber,
	"int": typeInt, "integer": typeInt, "bool": typeBool, "boolean": typeBool, "time": typeTime, "date": typeTime,
}

// Known fields, by kind. Their spellings are matched after normalising
// (lower case, camelCase and spaces become snake_case).
var (
	personFields = map[string]valueType{
		"user_id": typeString, "anonymous_id": typeString, "email": typeString, "phone": typeString,
		"timestamp": typeTime, "message_id": typeString,
	}
	eventFields = map[string]valueType{"event": typeString, "type": typeString}
	orderFields = map[string]valueType{
		"order_id": typeString, "status": typeString, "currency": typeString, "coupon": typeString,
		"total": typeNumber, "revenue": typeNumber, "subtotal": typeNumber, "shipping": typeNumber,
		"tax": typeNumber, "discount": typeNumber,
	}
	itemFields = map[string]valueType{
		"product_id": typeString, "sku": typeString, "name": typeString, "category": typeString,
		"brand": typeString, "variant": typeString, "price": typeNumber, "quantity": typeNumber,
		"url": typeString, "image_url": typeString,
	}
	productFields = map[string]valueType{
		"product_id": typeString, "sku": typeString, "name": typeString, "category": typeString,
		"brand": typeString, "variant": typeString, "price": typeNumber, "currency": typeString,
		"url": typeString, "image_url": typeString,
	}
)

// aliases are other common spellings of known fields.
var aliases = map[string]string{
	"userid": "user_id", "customer_id": "user_id", "customerid": "user_id", "anonymousid": "anonymous_id",
	"e_mail": "email", "email_address": "email", "phone_number": "phone", "mobile": "phone",
	"messageid": "message_id", "time": "timestamp", "date": "timestamp", "created": "timestamp",
	"event_name": "event", "orderid": "order_id", "order_number": "order_id", "productid": "product_id",
	"product_name": "name", "title": "name", "qty": "quantity", "unit_price": "price", "imageurl": "image_url",
}

// fieldsOf returns the known fields of kind.
func fieldsOf(kind touchbase.ImportKind) map[string]valueType {
	out := map[string]valueType{}
	add := func(m map[string]valueType) {
		for k, v := range m {
			out[k] = v
		}
	}
	switch kind {
	case touchbase.ImportProducts:
		add(productFields)
		return out
	case touchbase.ImportEvents:
		add(eventFields)
	case touchbase.ImportOrders:
		add(orderFields)
		add(itemFields)
	}
	add(personFields)
	return out
}

// defaultRoot is where unmapped columns go for kind.
func defaultRoot(kind touchbase.ImportKind) string {
	switch kind {
	case touchbase.ImportCustomers:
		return "traits"
	case touchbase.ImportOrders:
		return "item"
	case touchbase.ImportProducts:
		return ""
	}
	return "properties"
}

// parseTarget reads a mapping's right-hand side: a field or dot path with
// an optional ":type".
func parseTarget(kind touchbase.ImportKind, spec string) (target, error) {
	spec = strings.TrimSpace(spec)
	var t target
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		name := strings.ToLower(strings.TrimSpace(spec[i+1:]))
		typ, ok := typeNames[name]
		if !ok {
			return t, fmt.Errorf("unknown type %q (use string, number, int, bool, time or auto)", spec[i+1:])
		}
		t.typ = typ
		spec = strings.TrimSpace(spec[:i])
	}
	if spec == "" {
		return t, fmt.Errorf("empty target")
	}
	parts := strings.Split(spec, ".")
	for _, p := range parts {
		if p == "" {
			return t, fmt.Errorf("target %q has an empty path element", spec)
		}
	}
	switch parts[0] {
	case "traits", "properties", "context", "item":
		if len(parts) < 2 {
			return t, fmt.Errorf("target %q needs a name after %q", spec, parts[0]+".")
		}
		if parts[0] == "item" && kind != touchbase.ImportOrders {
			return t, fmt.Errorf("target %q: item.* is for orders only", spec)
		}
		if kind == touchbase.ImportProducts {
			return t, fmt.Errorf("target %q: products take only product fields (%s)", spec, names(productFields))
		}
		t.root, t.path = parts[0], parts[1:]
		return t, nil
	}
	if len(parts) > 1 {
		return t, fmt.Errorf("target %q: a path starts with one of traits. properties. context. item. (then a name)", spec)
	}
	known := fieldsOf(kind)
	f := normalize(spec)
	if a, ok := aliases[f]; ok {
		if _, ok := known[a]; ok {
			f = a
		}
	}
	typ, ok := known[f]
	if !ok {
		return t, fmt.Errorf("unknown field %q for %s (known: %s; or a path such as traits.%s)", spec, kind, names(known), f)
	}
	t.field = f
	if t.typ == typeAuto {
		t.typ = typ
	}
	return t, nil
}

// guessTarget maps a header that no --map entry names: a known field by its
// name or an alias, else a path under the kind's default root. The second
// result is false for a column that is left out (products' unknown ones).
func guessTarget(kind touchbase.ImportKind, header string) (target, bool) {
	f := normalize(header)
	if f == "" {
		return target{}, false
	}
	known := fieldsOf(kind)
	if a, ok := aliases[f]; ok {
		if _, ok := known[a]; ok {
			f = a
		}
	}
	if typ, ok := known[f]; ok {
		return target{field: f, typ: typ}, true
	}
	root := defaultRoot(kind)
	if root == "" {
		return target{}, false
	}
	return target{root: root, path: []string{f}}, true
}

// normalize turns a header or field name into snake_case: "Customer ID",
// "customerId" and "customer-id" all become "customer_id".
func normalize(s string) string {
	var b strings.Builder
	prevLower := false
	pendingSep := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case unicode.IsUpper(r):
			if prevLower {
				pendingSep = true
			}
			r = unicode.ToLower(r)
			prevLower = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			prevLower = true
		default:
			pendingSep = b.Len() > 0
			prevLower = false
			continue
		}
		if pendingSep && b.Len() > 0 {
			b.WriteByte('_')
		}
		pendingSep = false
		b.WriteRune(r)
	}
	return b.String()
}

// parseMap reads --map: "Column=target,Other Column=traits.x:int". A
// column name may contain anything but '=' and ','.
func parseMap(kind touchbase.ImportKind, spec string) (map[string]target, error) {
	out := map[string]target{}
	if strings.TrimSpace(spec) == "" {
		return out, nil
	}
	for _, entry := range strings.Split(spec, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		col, to, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, touchbase.Errorf(touchbase.EINVALID, "map entry %q: want COLUMN=TARGET", entry)
		}
		col = strings.TrimSpace(col)
		if col == "" {
			return nil, touchbase.Errorf(touchbase.EINVALID, "map entry %q: empty column name", entry)
		}
		if strings.TrimSpace(to) == "-" {
			out[col] = target{root: "-"} // skip the column
			continue
		}
		t, err := parseTarget(kind, to)
		if err != nil {
			return nil, touchbase.Errorf(touchbase.EINVALID, "map entry %q: %v", entry, err)
		}
		out[col] = t
	}
	return out, nil
}

func names(m map[string]valueType) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}
