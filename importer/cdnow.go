package importer

import (
	"bufio"
	"fmt"

	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// The CDNOW data set (Fader, Hardie & Lee 2005): purchases of compact discs
// by a cohort of customers who first bought in the first quarter of 1997,
// one purchase per line, whitespace separated. CDNOW_master has customer
// id, date (YYYYMMDD), number of CDs and dollar value (with a header line
// in some copies); CDNOW_sample has the master id, a sample id, then the
// same three. As touchbase reads it, each line is an order of its customer
// (user_id = the master id as written, "00004"), placed at midnight UTC
// of its date, with revenue = the dollar value and one item, product "cd",
// quantity = the number of CDs. Its order id is "cdnow-<customer>-<date>-
// <n>", n counting the customer's purchases that day, so that a re-import
// finds the same orders.
type cdnowSource struct {
	kind  touchbase.ImportKind
	r     lineReader
	line  int
	skips int64
	day   map[string]int // "customer date" -> purchases so far
	seen  map[string]bool
}

var cdnowColumns = map[string]string{"userId": "customer id", "timestamp": "date", "properties.revenue": "dollar value"}

func newCDNOWSource(kind touchbase.ImportKind, r *bufio.Reader, lim *limitReader) (*cdnowSource, error) {
	if kind != touchbase.ImportOrders && kind != touchbase.ImportCustomers {
		return nil, touchbase.Errorf(touchbase.EINVALID, "the cdnow format holds orders (and, from them, customers), not %s", kind)
	}
	return &cdnowSource{kind: kind, r: lineReader{r: r, lim: lim}, day: map[string]int{}, seen: map[string]bool{}}, nil
}

func (s *cdnowSource) lines() int     { return s.line }
func (s *cdnowSource) skipped() int64 { return s.skips }

func (s *cdnowSource) next() (record, error) {
	for {
		text, err := s.r.next()
		if err != nil {
			return record{}, err
		}
		s.line++
		f := strings.Fields(string(text))
		if len(f) == 0 {
			continue
		}
		for i, field := range f {
			if len(field) > MaxFieldBytes {
				return record{}, fieldError(s.line, cdnowField(len(f), i), len(field))
			}
		}
		if s.line == 1 && len(f) > 0 && !isDigits(f[0]) {
			s.skips++ // the master file's header
			continue
		}
		rec, ok, err := s.row(f)
		if err != nil || ok {
			return rec, err
		}
	}
}

func (s *cdnowSource) row(f []string) (record, bool, error) {
	bad := func(col, format string, args ...any) (record, bool, error) {
		return record{}, false, &touchbase.LineError{Line: s.line, Column: col, Message: fmt.Sprintf(format, args...)}
	}
	switch len(f) {
	case 4: // master: id date cds dollars
	case 5: // sample: master id, sample id, date, cds, dollars
		f = append(f[:1], f[2:]...)
	default:
		return bad("", "has %d fields; want 4 (customer id, date, CDs, dollars) or 5 (with the sample id)", len(f))
	}
	cust, date := f[0], f[1]
	at, err := time.ParseInLocation("20060102", date, time.UTC)
	if err != nil {
		return bad("date", "%q is not a date written YYYYMMDD", date)
	}
	cds, err := strconv.Atoi(f[2])
	if err != nil || cds < 0 {
		return bad("number of CDs", "%q is not a whole number", f[2])
	}
	dollars, err := strconv.ParseFloat(f[3], 64)
	if err != nil || dollars < 0 || !touchbase.NumberInRange(dollars) {
		return bad("dollar value", "%q is not an amount from 0 to %d", f[3], touchbase.MaxNumber)
	}
	ts := appendString(nil, at.Format(time.RFC3339))
	in := &object{}
	if s.kind == touchbase.ImportCustomers {
		if s.seen[cust] {
			s.skips++
			return record{}, false, nil
		}
		s.seen[cust] = true
		in.setString("type", "identify")
		in.setString("userId", cust)
		in.set([]string{"timestamp"}, ts)
		return record{line: s.line, body: in.json(), columns: cdnowColumns}, true, nil
	}
	key := cust + " " + date
	s.day[key]++
	item := &object{}
	item.setString("product_id", "cd")
	item.setString("name", "CD")
	item.set([]string{"quantity"}, strconv.AppendInt(nil, int64(cds), 10))
	if cds > 0 {
		item.set([]string{"price"}, appendNumber(nil, dollars/float64(cds)))
	}
	props := &object{}
	props.setString("order_id", fmt.Sprintf("cdnow-%s-%s-%d", cust, date, s.day[key]))
	props.set([]string{"revenue"}, appendNumber(nil, dollars))
	props.setString("currency", "USD")
	props.set([]string{"products"}, append(append([]byte{'['}, item.json()...), ']'))
	in.setString("type", "track")
	in.setString("event", "Order Completed")
	in.setString("userId", cust)
	in.set([]string{"timestamp"}, ts)
	in.set([]string{"properties"}, props.json())
	return record{line: s.line, body: in.json(), columns: cdnowColumns}, true, nil
}

// cdnowField names field i of a line of n fields, as errors do.
func cdnowField(n, i int) string {
	names := []string{"customer id", "date", "number of CDs", "dollar value"}
	if n == 5 {
		names = []string{"customer id", "sample id", "date", "number of CDs", "dollar value"}
	}
	if n == len(names) {
		return names[i]
	}
	return fmt.Sprintf("field %d", i+1)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
