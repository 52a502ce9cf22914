package importer

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// The UCI Online Retail data set (Chen, Sain & Guo 2012): every line of a
// UK gift shop's invoices from 2010-12-01 to 2011-12-09, with the columns
// InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
// CustomerID, Country. As touchbase reads it:
//
//   - an invoice is an order (order_id = InvoiceNo, placed at its
//     InvoiceDate, in GBP); each line with a positive quantity is an item
//     and a product (product_id = StockCode, name = Description);
//   - CustomerID ("17850.0") is the customer's user_id ("17850"); lines
//     without one are guest orders, attached to nobody;
//   - Country becomes the customer's country trait;
//   - an invoice whose number starts with C is a cancellation: each of its
//     lines refunds that quantity of the stock code from the customer's
//     latest earlier invoices holding it (Order Refunded on those orders,
//     so revenue is net of it); what matches no earlier purchase (it was
//     bought before the file begins) is recorded as a refund of the
//     cancellation's own number: an event, since touchbase never saw the
//     order;
//   - other lines without a positive quantity, or with a negative price,
//     are stock adjustments (damaged, lost, bad debt), not sales: they are
//     counted as skipped.
var retailHeader = []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}

// retailSource reads the Online Retail file as orders (or customers).
type retailSource struct {
	kind    touchbase.ImportKind
	r       *csv.Reader
	lim     *limitReader
	err     error // what stopped the reading, once the open orders are out
	times   timeParser
	line    int
	skips   int64
	orders  *orderGrouper
	bought  map[string]map[string][]*purchase // customer -> stock code -> purchases, oldest first
	seen    map[string]bool                   // customers emitted (customers kind)
	columns map[string]string
}

// purchase is what is left to refund of one sale line.
type purchase struct {
	invoice string
	qty     int
}

func newRetailSource(kind touchbase.ImportKind, br *bufio.Reader, lim *limitReader, loc *time.Location) (*retailSource, error) {
	if kind != touchbase.ImportOrders && kind != touchbase.ImportCustomers {
		return nil, touchbase.Errorf(touchbase.EINVALID, "the online-retail format holds orders (and, from them, customers), not %s", kind)
	}
	r := csv.NewReader(br)
	r.ReuseRecord = true
	header, err := r.Read()
	if isLimit(err) {
		return nil, err
	}
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "online-retail header: %v", err)
	}
	lim.lineAt(r.InputOffset())
	if err := checkHeader(header); err != nil {
		return nil, err
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	if len(header) != len(retailHeader) {
		return nil, touchbase.Errorf(touchbase.EINVALID, "online-retail header has %d columns (%s); want %s", len(header), strings.Join(header, ","), strings.Join(retailHeader, ","))
	}
	for i, h := range header {
		if !strings.EqualFold(strings.TrimSpace(h), retailHeader[i]) {
			return nil, touchbase.Errorf(touchbase.EINVALID, "online-retail column %d is %q; want %s", i+1, h, retailHeader[i])
		}
	}
	r.FieldsPerRecord = len(retailHeader)
	return &retailSource{
		kind: kind, r: r, lim: lim, times: timeParser{loc: loc}, line: 1, orders: newOrderGrouper(),
		bought: map[string]map[string][]*purchase{}, seen: map[string]bool{},
		columns: map[string]string{
			"userId": "CustomerID", "timestamp": "InvoiceDate", "properties.order_id": "InvoiceNo",
			"traits.country": "Country", "context.traits.country": "Country",
			"properties.price": "UnitPrice", "properties.quantity": "Quantity",
		},
	}, nil
}

func (s *retailSource) lines() int     { return s.line }
func (s *retailSource) skipped() int64 { return s.skips }

func (s *retailSource) next() (record, error) {
	if rec, ok := s.orders.pop(); ok {
		return rec, nil
	}
	for {
		if s.err != nil {
			// The orders still open (the lines before the end are
			// imported, even when an error ends the file), then the end.
			if rec, ok := s.orders.flush(); ok {
				return rec, nil
			}
			return record{}, s.err
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
		rec, ok, err := s.row(line, row)
		if err != nil || ok {
			return rec, err
		}
	}
}

// row handles one line; ok is true when it produced a record.
func (s *retailSource) row(line int, row []string) (record, bool, error) {
	for i, cell := range row {
		if len(cell) > MaxFieldBytes {
			return record{}, false, fieldError(line, retailHeader[i], len(cell))
		}
	}
	invoice, stock, desc := strings.TrimSpace(row[0]), strings.TrimSpace(row[1]), strings.TrimSpace(row[2])
	bad := func(col, format string, args ...any) (record, bool, error) {
		return record{}, false, &touchbase.LineError{Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
	}
	if invoice == "" {
		return bad("InvoiceNo", "is empty")
	}
	qty, err := strconv.Atoi(strings.TrimSpace(row[3]))
	if err != nil {
		return bad("Quantity", "%q is not a whole number", row[3])
	}
	at, err := s.times.parse(row[4])
	if err != nil {
		return bad("InvoiceDate", "%v", err)
	}
	price, err := strconv.ParseFloat(strings.TrimSpace(row[5]), 64)
	if err != nil || !touchbase.NumberInRange(price) {
		return bad("UnitPrice", "%q is not a number: %s", row[5], touchbase.NumberRange)
	}
	cust := strings.TrimSuffix(strings.TrimSpace(row[6]), ".0")
	country := strings.TrimSpace(row[7])

	if s.kind == touchbase.ImportCustomers {
		if cust == "" || s.seen[cust] {
			s.skips++
			return record{}, false, nil
		}
		s.seen[cust] = true
		in := &object{}
		in.setString("type", "identify")
		in.setString("userId", cust)
		in.set([]string{"timestamp"}, appendString(nil, at.UTC().Format(time.RFC3339)))
		if country != "" {
			traits := &object{}
			traits.setString("country", country)
			in.set([]string{"traits"}, traits.json())
		}
		return record{line: line, body: in.json(), columns: s.columns}, true, nil
	}

	ts := appendString(nil, at.UTC().Format(time.RFC3339))
	newLine := func(orderID string, qty int) *orderLine {
		item := &object{}
		item.setString("product_id", stock)
		if desc != "" {
			item.setString("name", desc)
		}
		item.set([]string{"price"}, appendNumber(nil, price))
		item.set([]string{"quantity"}, strconv.AppendInt(nil, int64(qty), 10))
		ol := &orderLine{line: line, orderID: orderID, userID: cust, timestamp: ts, item: item, columns: s.columns}
		ol.props().setString("currency", "GBP")
		if country != "" && cust != "" {
			ol.traits().setString("country", country)
		}
		return ol
	}

	if !strings.HasPrefix(invoice, "C") {
		if qty <= 0 || price < 0 {
			s.skips++ // a stock adjustment, not a sale
			return record{}, false, nil
		}
		if cust != "" {
			byStock := s.bought[cust]
			if byStock == nil {
				byStock = map[string][]*purchase{}
				s.bought[cust] = byStock
			}
			byStock[stock] = append(byStock[stock], &purchase{invoice: invoice, qty: qty})
		}
		if err := s.orders.add(newLine(invoice, qty)); err != nil {
			return record{}, false, err
		}
		rec, ok := s.orders.pop()
		return rec, ok, nil
	}

	// A cancellation: refund from the latest earlier purchases.
	left := -qty
	if left <= 0 {
		s.skips++
		return record{}, false, nil
	}
	if cust != "" {
		ps := s.bought[cust][stock]
		for i := len(ps) - 1; i >= 0 && left > 0; i-- {
			p := ps[i]
			if p.qty == 0 {
				continue
			}
			n := min(p.qty, left)
			p.qty -= n
			left -= n
			ol := newLine(invoice+">"+p.invoice, n)
			ol.status, ol.refundOf = "refunded", p.invoice
			if err := s.orders.add(ol); err != nil {
				return record{}, false, err
			}
		}
	}
	if left > 0 {
		ol := newLine(invoice+">", left)
		ol.status, ol.refundOf = "refunded", invoice
		if err := s.orders.add(ol); err != nil {
			return record{}, false, err
		}
	}
	rec, ok := s.orders.pop()
	return rec, ok, nil
}
