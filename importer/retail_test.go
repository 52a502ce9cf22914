package importer_test

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// retailFigures are what the Online Retail file should become, worked out
// from the raw file by the rules of importer/retail.go's comment, without
// the importer's code.
type retailFigures struct {
	orders, items, guestOrders int64
	customers                  map[string]bool // sale or cancellation customers
	saleCustomers              map[string]bool
	products                   map[string]bool
	revenueMilli               int64 // sum of qty*price of sale lines, in thousandths
	refundMilli                int64 // sum of |qty|*price of C lines, in thousandths
	countries                  map[string]map[string]bool
}

// readRetail reads online-retail.csv.gz with encoding/csv.
func readRetail(t *testing.T) retailFigures {
	t.Helper()
	zr, err := gzip.NewReader(openData(t, "online-retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(zr)
	if _, err := r.Read(); err != nil { // header
		t.Fatal(err)
	}
	f := retailFigures{customers: map[string]bool{}, saleCustomers: map[string]bool{}, products: map[string]bool{}, countries: map[string]map[string]bool{}}
	orders := map[string]bool{}
	withCustomer := map[string]bool{}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		invoice, stock, country := row[0], row[1], row[7]
		qty, err := strconv.Atoi(row[3])
		if err != nil {
			t.Fatalf("quantity %q: %v", row[3], err)
		}
		price := milli(t, row[5])
		cust := strings.TrimSuffix(row[6], ".0")
		if strings.HasPrefix(invoice, "C") {
			if qty < 0 {
				f.refundMilli += int64(-qty) * price
				if cust != "" {
					f.customers[cust] = true
				}
			}
			continue
		}
		if qty <= 0 || price < 0 {
			continue // a stock adjustment
		}
		orders[invoice] = true
		f.items++
		f.products[stock] = true
		f.revenueMilli += int64(qty) * price
		if cust != "" {
			withCustomer[invoice] = true
			f.customers[cust] = true
			f.saleCustomers[cust] = true
			if f.countries[cust] == nil {
				f.countries[cust] = map[string]bool{}
			}
			f.countries[cust][country] = true
		}
	}
	f.orders = int64(len(orders))
	f.guestOrders = f.orders - int64(len(withCustomer))
	return f
}

// milli reads a price such as "2.55" in thousandths, exactly.
func milli(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	if len(frac) > 3 {
		t.Fatalf("price %q has more than 3 decimals", s)
	}
	frac += strings.Repeat("0", 3-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	fr, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("price %q is not a decimal", s)
	}
	if neg {
		return -(w*1000 + fr)
	}
	return w*1000 + fr
}

// TestOnlineRetail imports the whole UCI Online Retail file once per
// backend and checks the store against figures read from the raw file.
func TestOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 541,909 lines: skipped with -short")
	}
	dataDir(t)
	want := readRetail(t)
	data, err := io.ReadAll(openData(t, "online-retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		im, err := runImport(context.Background(), s, ws, touchbase.ImportOrders, "online-retail.csv.gz",
			touchbase.ImportOptions{Format: "online-retail"}, data)
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if im.Errors != 0 || im.Lines != 541910 {
			t.Errorf("import read %d lines with %d errors (%+v); want 541,910 lines (with the header) and none", im.Lines, im.Errors, im.LineErrors)
		}
		got := countTables(t, s, ws)
		t.Logf("online retail: %+v", got)
		if got.Orders != want.orders {
			t.Errorf("%d orders, want %d", got.Orders, want.orders)
		}
		if got.Items != want.items {
			t.Errorf("%d order items, want %d", got.Items, want.items)
		}
		if n := count(t, s, "SELECT count(*) FROM orders WHERE workspace_id = ? AND customer_id IS NULL", ws); n != want.guestOrders {
			t.Errorf("%d guest orders, want %d", n, want.guestOrders)
		}
		if got.Customers != int64(len(want.customers)) {
			t.Errorf("%d customers, want %d (%d with a sale)", got.Customers, len(want.customers), len(want.saleCustomers))
		}
		if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ? AND orders > 0", ws); n != int64(len(want.saleCustomers)) {
			t.Errorf("%d customers with orders, want %d", n, len(want.saleCustomers))
		}
		if got.Products != int64(len(want.products)) {
			t.Errorf("%d products, want %d", got.Products, len(want.products))
		}
		if g, w := cents(got.Revenue), (want.revenueMilli+5)/10; g != w {
			t.Errorf("gross revenue %.2f, want %.2f", float64(g)/100, float64(w)/100)
		}
		refunded := got.Refunded + unknownOrderRefunds(t, s, ws)
		if g, w := cents(refunded), (want.refundMilli+5)/10; g != w {
			t.Errorf("refunds %.2f (orders %.2f), want %.2f, the total of the C lines", float64(g)/100, got.Refunded, float64(w)/100)
		}
		checkCountries(t, s, ws, want.countries)
	})
}

// unknownOrderRefunds sums the refund events whose order the store does
// not have: their products' price times quantity.
func unknownOrderRefunds(t *testing.T, s *store.Store, ws int64) float64 {
	t.Helper()
	known := map[string]bool{}
	for _, id := range storetest.QueryStrings(t, s, "SELECT order_id FROM orders WHERE workspace_id = ?", ws) {
		known[id] = true
	}
	var sum float64
	for _, raw := range storetest.QueryStrings(t, s, "SELECT properties FROM events WHERE workspace_id = ? AND event = 'Order Refunded'", ws) {
		var p struct {
			OrderID  string `json:"order_id"`
			Products []struct {
				Price    float64 `json:"price"`
				Quantity float64 `json:"quantity"`
			} `json:"products"`
		}
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatalf("refund properties %s: %v", raw, err)
		}
		if known[p.OrderID] {
			continue
		}
		for _, it := range p.Products {
			sum += it.Price * it.Quantity
		}
	}
	return sum
}

// checkCountries compares the country trait of every 50th customer (of
// those with one country) with the file's.
func checkCountries(t *testing.T, s *store.Store, ws int64, countries map[string]map[string]bool) {
	t.Helper()
	var ids []string
	for id, cs := range countries {
		if len(cs) == 1 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	checked := 0
	for i := 0; i < len(ids); i += 50 {
		var want string
		for c := range countries[ids[i]] {
			want = c
		}
		traits := jsonColumn(t, s, "SELECT traits FROM customers WHERE workspace_id = ? AND user_id = ?", ws, ids[i])
		if traits["country"] != want {
			t.Errorf("customer %s: country trait %v, want %q", ids[i], traits["country"], want)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("checked only %d customers' countries", checked)
	}
}
