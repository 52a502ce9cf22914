package recommend_test

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/recommend"
)

// retailPath is the UCI Online Retail data set, from this package's folder
// (the project's shared/data sits beside the repository root).
const retailPath = "../../../shared/data/online-retail.csv.gz"

// notProducts are the stock codes of Online Retail that are not products:
// postage (POST, DOT, C2 "carriage"), fees and adjustments (BANK CHARGES,
// AMAZONFEE, CRUK commission, B "adjust bad debt", D discount, M manual),
// samples (S) and PADS (a 0.001 filler line). Gift vouchers (gift_0001_*)
// are skipped by prefix. Codes are upper-cased first, because the data
// spell some codes both ways ("85123a", "85123A").
var notProducts = map[string]bool{
	"POST": true, "DOT": true, "C2": true, "BANK CHARGES": true, "AMAZONFEE": true,
	"CRUK": true, "B": true, "D": true, "M": true, "S": true, "PADS": true,
}

// retail is Online Retail split by time: purchases from 2010-12-01 to
// 2011-09-30 train, those from 2011-10-01 to 2011-12-09 test.
type retail struct {
	train []recommend.Purchase
	test  []recommend.Purchase
	rows  int // data rows read
	// country is each customer's country, the first one given: the
	// segment of the cold-start evaluation.
	country map[int64]string
}

var splitAt = time.Date(2011, 10, 1, 0, 0, 0, 0, time.UTC)

// loadRetail reads Online Retail, skipping guest lines (no CustomerID),
// cancellations (InvoiceNo starting with C), lines whose quantity or unit
// price is not positive, and the stock codes of notProducts and gift
// vouchers; it skips the test when the file is absent.
func loadRetail(tb testing.TB) retail {
	tb.Helper()
	f, err := os.Open(retailPath)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("skipping: %s is absent (the project's shared/data folder)", retailPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	r := csv.NewReader(z)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		tb.Fatal(err)
	}
	d := retail{country: make(map[int64]string)}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		d.rows++
		p, ok, err := parseRetail(rec)
		if err != nil {
			tb.Fatalf("row %d: %v", d.rows+1, err)
		}
		if !ok {
			continue
		}
		if d.country[p.Customer] == "" {
			d.country[p.Customer] = rec[7]
		}
		if p.Time.Before(splitAt) {
			d.train = append(d.train, p)
		} else {
			d.test = append(d.test, p)
		}
	}
	return d
}

// parseRetail turns one CSV record (InvoiceNo, StockCode, Description,
// Quantity, InvoiceDate, UnitPrice, CustomerID, Country) into a purchase,
// or false for a line loadRetail skips.
func parseRetail(rec []string) (recommend.Purchase, bool, error) {
	invoice, code, qtyS, dateS, priceS, custS := rec[0], strings.ToUpper(rec[1]), rec[3], rec[4], rec[5], rec[6]
	if custS == "" || strings.HasPrefix(invoice, "C") || notProducts[code] || strings.HasPrefix(code, "GIFT_0001") {
		return recommend.Purchase{}, false, nil
	}
	qty, err := strconv.ParseFloat(qtyS, 64)
	if err != nil {
		return recommend.Purchase{}, false, fmt.Errorf("quantity: %w", err)
	}
	price, err := strconv.ParseFloat(priceS, 64)
	if err != nil {
		return recommend.Purchase{}, false, fmt.Errorf("unit price: %w", err)
	}
	if qty <= 0 || price <= 0 {
		return recommend.Purchase{}, false, nil
	}
	cust, err := strconv.ParseFloat(custS, 64)
	if err != nil {
		return recommend.Purchase{}, false, fmt.Errorf("customer id: %w", err)
	}
	t, err := time.Parse("2006-01-02 15:04:05", dateS)
	if err != nil {
		return recommend.Purchase{}, false, fmt.Errorf("invoice date: %w", err)
	}
	return recommend.Purchase{Customer: int64(cust), Product: code, Time: t, Quantity: qty}, true, nil
}

// holdout is what the evaluation compares recommendations with.
type holdout struct {
	customers []int64                   // bought in both periods, sorted
	trained   map[int64]map[string]bool // products bought in training
	tested    map[int64]map[string]bool // products bought in the test period
}

func newHoldout(d retail) holdout {
	h := holdout{trained: bought(d.train), tested: bought(d.test)}
	for c := range h.tested {
		if h.trained[c] != nil {
			h.customers = append(h.customers, c)
		}
	}
	slices.Sort(h.customers)
	return h
}

func bought(ps []recommend.Purchase) map[int64]map[string]bool {
	out := make(map[int64]map[string]bool)
	for _, p := range ps {
		if out[p.Customer] == nil {
			out[p.Customer] = make(map[string]bool)
		}
		out[p.Customer][p.Product] = true
	}
	return out
}

// target says which test purchases count as hits.
type target uint8

const (
	allProducts target = iota // anything bought in the test period
	newProducts               // only products not bought in training
)

func (t target) String() string {
	if t == newProducts {
		return "new products"
	}
	return "all products"
}

// metrics are averages over the holdout's customers.
type metrics struct {
	customers int // evaluated
	targeted  int // of which with at least one counted test purchase
	hitRate   float64
	precision float64
	recall    float64 // over the targeted customers
}

// score evaluates recommendation lists of 10 (fewer count as misses for
// the missing places) against the holdout.
func (h holdout) score(tg target, recommend func(customer int64) []string) metrics {
	var m metrics
	for _, c := range h.customers {
		want := 0
		for p := range h.tested[c] {
			if tg == allProducts || !h.trained[c][p] {
				want++
			}
		}
		hits := 0
		for _, p := range recommend(c) {
			if h.tested[c][p] && (tg == allProducts || !h.trained[c][p]) {
				hits++
			}
		}
		m.customers++
		if hits > 0 {
			m.hitRate++
		}
		m.precision += float64(hits) / 10
		if want > 0 {
			m.targeted++
			m.recall += float64(hits) / float64(want)
		}
	}
	m.hitRate /= float64(m.customers)
	m.precision /= float64(m.customers)
	m.recall /= float64(max(m.targeted, 1))
	return m
}

// modelRecs recommends with the model under evaluation.
func modelRecs(m *recommend.Model, opts recommend.Options) func(int64) []string {
	return func(c int64) []string {
		var out []string
		for _, r := range m.ForCustomer(c, 10, opts) {
			out = append(out, r.Product)
		}
		return out
	}
}

// popularRecs is the baseline: the training period's products with the
// most distinct customers, with the same exclusion rule as the model it is
// compared with.
func popularRecs(m *recommend.Model, h holdout, repeats recommend.Repeats) func(int64) []string {
	all := m.Popular(m.Stats().Products, recommend.PopularOptions{})
	return func(c int64) []string {
		var out []string
		for _, s := range all {
			if len(out) == 10 {
				break
			}
			if h.trained[c][s.Product] && !repeatAllowed(m, s.Product, repeats) {
				continue
			}
			out = append(out, s.Product)
		}
		return out
	}
}

func repeatAllowed(m *recommend.Model, product string, repeats recommend.Repeats) bool {
	switch repeats {
	case recommend.IncludeRepeats:
		return true
	case recommend.IncludeFrequentRepeats:
		r, _ := m.RepeatRate(product)
		return r >= recommend.DefaultMinRepeatRate
	}
	return false
}

// buyAgainRecs is a reference point for the variant with repeats: the
// customer's own products, most ordered first, then popular ones.
func buyAgainRecs(d retail, m *recommend.Model) func(int64) []string {
	orders := make(map[int64]map[string]map[time.Time]bool)
	for _, p := range d.train {
		if orders[p.Customer] == nil {
			orders[p.Customer] = make(map[string]map[time.Time]bool)
		}
		if orders[p.Customer][p.Product] == nil {
			orders[p.Customer][p.Product] = make(map[time.Time]bool)
		}
		orders[p.Customer][p.Product][p.Time] = true
	}
	pop := m.Popular(10, recommend.PopularOptions{})
	return func(c int64) []string {
		own := make([]string, 0, len(orders[c]))
		for p := range orders[c] {
			own = append(own, p)
		}
		slices.SortFunc(own, func(a, b string) int {
			if d := len(orders[c][b]) - len(orders[c][a]); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		for _, s := range pop {
			if orders[c][s.Product] == nil {
				own = append(own, s.Product)
			}
		}
		return own[:min(10, len(own))]
	}
}

// evalRow is one line of the evaluation table.
type evalRow struct {
	name    string
	repeats recommend.Repeats
	target  target
	recs    func(int64) []string
}

// TestOnlineRetailEvaluation is the offline evaluation of docs/analytics.md:
// train on 2010-12-01 to 2011-09-30, recommend 10 products to every customer
// who bought in both periods, and count a hit when one of them is bought
// from 2011-10-01 to 2011-12-09. It demands that the model beat the
// popularity baseline under the same rules, in each variant:
//
//   - bought products excluded, every test purchase counted;
//   - bought products excluded, only test purchases of products new to the
//     customer counted: hit rate and precision equal the first variant's,
//     since an excluded product cannot be a hit, but recall differs;
//   - bought products may be recommended again, every purchase counted;
//   - only products with a repeat rate of 0.3 or more may be, the same.
func TestOnlineRetailEvaluation(t *testing.T) {
	d := loadRetail(t)
	h := newHoldout(d)
	start := time.Now()
	m, err := recommend.Train(d.train, recommend.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := m.Stats()
	t.Logf("%d rows read, %d training and %d test purchases kept; trained on %d customers, %d products, %d orders in %v (%d neighbours kept)",
		d.rows, len(d.train), len(d.test), st.Customers, st.Products, st.Orders, time.Since(start).Round(time.Millisecond), st.Neighbours)

	rows := []evalRow{
		{"popularity", recommend.ExcludeBought, allProducts, popularRecs(m, h, recommend.ExcludeBought)},
		{"item-to-item", recommend.ExcludeBought, allProducts, modelRecs(m, recommend.Options{})},
		{"popularity", recommend.ExcludeBought, newProducts, popularRecs(m, h, recommend.ExcludeBought)},
		{"item-to-item", recommend.ExcludeBought, newProducts, modelRecs(m, recommend.Options{})},
		{"popularity", recommend.IncludeRepeats, allProducts, popularRecs(m, h, recommend.IncludeRepeats)},
		{"item-to-item", recommend.IncludeRepeats, allProducts, modelRecs(m, recommend.Options{Repeats: recommend.IncludeRepeats})},
		{"popularity", recommend.IncludeFrequentRepeats, allProducts, popularRecs(m, h, recommend.IncludeFrequentRepeats)},
		{"item-to-item", recommend.IncludeFrequentRepeats, allProducts, modelRecs(m, recommend.Options{Repeats: recommend.IncludeFrequentRepeats})},
		{"buy again (own most ordered)", recommend.IncludeRepeats, allProducts, buyAgainRecs(d, m)},
	}
	got := make([]metrics, len(rows))
	var b strings.Builder
	fmt.Fprintf(&b, "\n| recommender | bought products | test purchases counted | customers (with one counted) | hit rate@10 | precision@10 | recall@10 |\n|---|---|---|---|---|---|---|\n")
	for k, r := range rows {
		got[k] = h.score(r.target, r.recs)
		fmt.Fprintf(&b, "| %s | %s | %s | %d (%d) | %.3f | %.3f | %.3f |\n", r.name, repeatsName(r.repeats), r.target,
			got[k].customers, got[k].targeted, got[k].hitRate, got[k].precision, got[k].recall)
	}
	t.Log(b.String())

	// Each model row follows the popularity row with the same rules.
	for k := 1; k < 8; k += 2 {
		if got[k].hitRate <= got[k-1].hitRate {
			t.Errorf("%s (%s, %s): hit rate@10 %.3f, not above popularity's %.3f",
				rows[k].name, repeatsName(rows[k].repeats), rows[k].target, got[k].hitRate, got[k-1].hitRate)
		}
	}

	// Where the default lists come from.
	reasons := make(map[recommend.Reason]int)
	for _, c := range h.customers {
		for _, r := range m.ForCustomer(c, 10, recommend.Options{}) {
			reasons[r.Reason]++
		}
	}
	t.Logf("default lists: %d co-occurrence, %d popular fill-ins", reasons[recommend.BoughtWith], reasons[recommend.Popular])

	t.Run("cold start", func(t *testing.T) { coldStart(t, d, h, m) })
}

func repeatsName(r recommend.Repeats) string {
	switch r {
	case recommend.IncludeRepeats:
		return "may repeat"
	case recommend.IncludeFrequentRepeats:
		return "may repeat if repeat rate >= 0.3"
	}
	return "excluded"
}
