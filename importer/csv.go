package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// csvSource reads a CSV file with a header row, mapping each column onto a
// target.
type csvSource struct {
	kind    touchbase.ImportKind
	r       *csv.Reader
	lim     *limitReader
	err     error // what stopped the reading, once the open orders are out
	header  []string
	targets []target // by column; root "-" skips the column
	times   timeParser
	line    int // the last line read
	orders  *orderGrouper
	columns map[string]string // inbound field -> column, for errors
}

func newCSVSource(kind touchbase.ImportKind, mapSpec string, br *bufio.Reader, lim *limitReader, loc *time.Location) (*csvSource, error) {
	mapping, err := parseMap(kind, mapSpec)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(br)
	r.Comma = sniffDelimiter(br)
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, touchbase.Errorf(touchbase.EINVALID, "the file is empty: a CSV import needs a header row")
	}
	if isLimit(err) {
		return nil, err
	}
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "header: %v", err)
	}
	lim.lineAt(r.InputOffset())
	if err := checkHeader(header); err != nil {
		return nil, err
	}
	header = append([]string(nil), header...)
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	r.FieldsPerRecord = len(header)

	s := &csvSource{kind: kind, r: r, lim: lim, header: header, times: timeParser{loc: loc}, line: 1, columns: map[string]string{}}
	used := map[string]bool{}
	have := map[string]bool{}
	for _, h := range header {
		key, t, ok := lookupMapping(mapping, h)
		if ok {
			used[key] = true
		} else if t, ok = guessTarget(kind, h); !ok {
			t = target{root: "-"}
		}
		s.targets = append(s.targets, t)
		if t.field != "" {
			if have[t.field] {
				return nil, touchbase.Errorf(touchbase.EINVALID, "two columns map to %s; map one of them elsewhere with --map \"%s=...\"", t.field, h)
			}
			have[t.field] = true
			s.columns[messageField(t.field)] = h
		} else if t.root != "-" {
			s.columns[t.root+"."+strings.Join(t.path, ".")] = h
		}
	}
	for col := range mapping {
		if !used[col] {
			return nil, touchbase.Errorf(touchbase.EINVALID, "--map names column %q, which the header does not have (columns: %s)", col, strings.Join(header, ", "))
		}
	}
	if err := requireColumns(kind, have); err != nil {
		return nil, err
	}
	if kind == touchbase.ImportOrders {
		s.orders = newOrderGrouper()
	}
	return s, nil
}

// checkHeader refuses a column name over MaxFieldBytes: names are quoted
// in every error about their column.
func checkHeader(header []string) error {
	for i, h := range header {
		if len(h) > MaxFieldBytes {
			return touchbase.Errorf(touchbase.EINVALID, "header: column %d %s", i+1, fieldError(1, "", len(h)).Message)
		}
	}
	return nil
}

// requireColumns says which column a kind cannot do without.
func requireColumns(kind touchbase.ImportKind, have map[string]bool) error {
	person := have["user_id"] || have["anonymous_id"] || have["email"] || have["phone"]
	switch kind {
	case touchbase.ImportCustomers:
		if !person {
			return touchbase.Errorf(touchbase.EINVALID, "customers need a user_id, email, phone or anonymous_id column; map one with --map \"Your Column=user_id\"")
		}
	case touchbase.ImportEvents:
		if !person {
			return touchbase.Errorf(touchbase.EINVALID, "events need a user_id, email, phone or anonymous_id column; map one with --map \"Your Column=user_id\"")
		}
		if !have["event"] && !have["type"] {
			return touchbase.Errorf(touchbase.EINVALID, "events need an event column (the event's name); map one with --map \"Your Column=event\"")
		}
	case touchbase.ImportOrders:
		if !have["order_id"] {
			return touchbase.Errorf(touchbase.EINVALID, "orders need an order_id column; map one with --map \"Your Column=order_id\"")
		}
	case touchbase.ImportProducts:
		if !have["product_id"] && !have["sku"] {
			return touchbase.Errorf(touchbase.EINVALID, "products need a product_id or sku column; map one with --map \"Your Column=product_id\"")
		}
	}
	return nil
}

// lookupMapping finds a header's --map entry, by exact name or else
// without regard to case, and the entry's key.
func lookupMapping(m map[string]target, header string) (string, target, bool) {
	if t, ok := m[header]; ok {
		return header, t, true
	}
	for k, t := range m {
		if strings.EqualFold(k, strings.TrimSpace(header)) {
			return k, t, true
		}
	}
	return "", target{}, false
}

// messageField is the name inbound gives a known field in its errors.
func messageField(f string) string {
	switch f {
	case "user_id":
		return "userId"
	case "anonymous_id":
		return "anonymousId"
	case "message_id":
		return "messageId"
	case "email", "phone":
		return "traits." + f
	case "event", "type", "timestamp":
		return f
	}
	return "properties." + f
}

// sniffDelimiter picks comma, semicolon or tab, whichever the header line
// has most of.
func sniffDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, n := ',', bytes.Count(head, []byte{','})
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(head, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

func (s *csvSource) lines() int     { return s.line }
func (s *csvSource) skipped() int64 { return 0 }

func (s *csvSource) next() (record, error) {
	if s.orders != nil {
		if rec, ok := s.orders.pop(); ok {
			return rec, nil
		}
	}
	for {
		if s.err != nil {
			return s.stopped()
		}
		row, err := s.r.Read()
		s.lim.lineAt(s.r.InputOffset())
		if err == io.EOF {
			s.err = io.EOF
			continue
		}
		line, err := readRow(s.r, row, err, &s.line)
		if _, bad := err.(*touchbase.LineError); err != nil && !bad {
			s.err = err // a limit or a read error: the end of the file
			continue
		}
		if err != nil {
			return record{}, err
		}
		if s.orders != nil {
			ol, err := s.orderLine(line, row)
			if err != nil {
				return record{}, err
			}
			if err := s.orders.add(ol); err != nil {
				return record{}, err
			}
			if rec, ok := s.orders.pop(); ok {
				return rec, nil
			}
			continue
		}
		if s.kind == touchbase.ImportProducts {
			return s.product(line, row)
		}
		return s.inbound(line, row)
	}
}

// stopped hands out the orders still open when the reading stopped (the
// lines before the end are imported, even when an error ends the file),
// then the end: io.EOF or the error.
func (s *csvSource) stopped() (record, error) {
	if s.orders != nil {
		if rec, ok := s.orders.flush(); ok {
			return rec, nil
		}
	}
	return record{}, s.err
}

// readRow checks what a csv.Reader's Read returned: a malformed row is a
// *touchbase.LineError at the line it starts on. It returns the row's first
// line and moves *last to its last one.
func readRow(r *csv.Reader, row []string, err error, last *int) (int, error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		*last = max(*last, pe.Line)
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fmt.Sprintf("has %d fields; the header has %d", len(row), r.FieldsPerRecord)
		}
		return 0, &touchbase.LineError{Line: pe.StartLine, Message: msg}
	}
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	line, _ := r.FieldPos(0)
	*last, _ = r.FieldPos(len(row) - 1)
	return line, nil
}

// cells walks a row's mapped cells, coerced, calling fn for each non-empty
// one; a cell that does not coerce is the row's error.
func (s *csvSource) cells(line int, row []string, fn func(t target, raw []byte, cell string)) error {
	for i, cell := range row {
		t := s.targets[i]
		if t.root == "-" {
			continue
		}
		if len(cell) > MaxFieldBytes {
			return fieldError(line, s.header[i], len(cell))
		}
		if strings.IndexByte(cell, 0) >= 0 {
			// As /v1 does with \u0000 (no database stores NUL alike);
			// products go to the store without inbound's parsing.
			cell = strings.ReplaceAll(cell, "\x00", "\uFFFD")
		}
		raw, ok, err := coerce(cell, t.typ, &s.times)
		if err != nil {
			return &touchbase.LineError{Line: line, Column: s.header[i], Message: err.Error()}
		}
		if ok {
			fn(t, raw, strings.TrimSpace(cell))
		}
	}
	return nil
}

// inbound makes a customers or events row into an inbound (a Segment call).
func (s *csvSource) inbound(line int, row []string) (record, error) {
	in, traits, props, ctx := &object{}, &object{}, &object{}, &object{}
	typ := "identify"
	if s.kind == touchbase.ImportEvents {
		typ = "track"
	}
	err := s.cells(line, row, func(t target, raw []byte, cell string) {
		switch t.field {
		case "":
			switch t.root {
			case "traits":
				traits.set(t.path, raw)
			case "properties":
				props.set(t.path, raw)
			case "context":
				ctx.set(t.path, raw)
			}
		case "type":
			typ = strings.ToLower(cell)
		case "user_id":
			in.set([]string{"userId"}, raw)
		case "anonymous_id":
			in.set([]string{"anonymousId"}, raw)
		case "message_id":
			in.set([]string{"messageId"}, raw)
		case "email", "phone":
			traits.set([]string{t.field}, raw)
		default: // event, timestamp
			in.set([]string{t.field}, raw)
		}
	})
	if err != nil {
		return record{}, err
	}
	in.setString("type", typ)
	if typ == "identify" || typ == "group" {
		for i, k := range props.keys { // a person has traits, not properties
			traits.set([]string{k}, props.vals[i].json())
		}
		if !traits.empty() {
			in.set([]string{"traits"}, traits.json())
		}
	} else {
		if !props.empty() {
			in.set([]string{"properties"}, props.json())
		}
		if !traits.empty() {
			ctx.set([]string{"traits"}, traits.json())
		}
	}
	if !ctx.empty() {
		in.set([]string{"context"}, ctx.json())
	}
	return record{line: line, body: in.json(), columns: s.columns}, nil
}

// product makes a products row into a catalogue product.
func (s *csvSource) product(line int, row []string) (record, error) {
	p := &touchbase.Product{}
	err := s.cells(line, row, func(t target, raw []byte, cell string) {
		switch t.field {
		case "product_id":
			p.ProductID = cell
		case "sku":
			p.SKU = cell
		case "name":
			p.Name = cell
		case "category":
			p.Category = cell
		case "brand":
			p.Brand = cell
		case "variant":
			p.Variant = cell
		case "price":
			p.Price, _ = parseNumber(cell)
		case "currency":
			p.Currency = strings.ToUpper(cell)
		case "url":
			p.URL = cell
		case "image_url":
			p.ImageURL = cell
		}
	})
	if err != nil {
		return record{}, err
	}
	if p.ProductID == "" {
		p.ProductID = p.SKU
	}
	if p.ProductID == "" {
		return record{}, &touchbase.LineError{Line: line, Column: s.columns["properties.product_id"], Message: "product_id (or sku) is empty"}
	}
	return record{line: line, product: p}, nil
}

// orderLine reads an orders row.
func (s *csvSource) orderLine(line int, row []string) (*orderLine, error) {
	ol := &orderLine{line: line, item: &object{}}
	err := s.cells(line, row, func(t target, raw []byte, cell string) {
		switch {
		case t.root != "":
			switch t.root {
			case "item":
				ol.item.set(t.path, raw)
			case "traits":
				ol.traits().set(t.path, raw)
			case "properties":
				ol.props().set(t.path, raw)
			case "context":
				ol.context().set(t.path, raw)
			}
		case t.field == "order_id":
			ol.orderID = cell
		case t.field == "status":
			ol.status = strings.ToLower(cell)
		case t.field == "user_id":
			ol.userID = cell
		case t.field == "anonymous_id":
			ol.anonymousID = cell
		case t.field == "email" || t.field == "phone":
			ol.traits().set([]string{t.field}, raw)
		case t.field == "timestamp":
			ol.timestamp = raw
		case t.field == "message_id":
			ol.messageID = cell
		default:
			if _, ok := itemFields[t.field]; ok {
				ol.item.set([]string{t.field}, raw)
			} else {
				ol.props().set([]string{t.field}, raw) // order-level: total, currency...
			}
		}
	})
	if err != nil {
		return nil, err
	}
	ol.columns = s.columns // an empty order_id makes the line an order of its own (orderGrouper.add)
	return ol, nil
}
