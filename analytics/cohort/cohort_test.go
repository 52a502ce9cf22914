package cohort_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/cohort"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// handBuilt: customer 1 orders twice in November 2024, skips December
// and orders again in January 2025, across the year boundary; customer 2
// once in November; customer 3 in December and February; customer 4 in
// February; customer 5 in the first hours of December and of January
// UTC, which are still November and December in New York. No customer's
// first order falls in January 2025.
var handBuilt = []cohort.Order{
	{Customer: 1, Time: at("2024-11-05T10:00:00Z"), Amount: 10},
	{Customer: 3, Time: at("2024-12-15T12:00:00Z"), Amount: 100},
	{Customer: 1, Time: at("2024-11-20T10:00:00Z"), Amount: 5},
	{Customer: 2, Time: at("2024-11-30T23:30:00Z"), Amount: 7},
	{Customer: 1, Time: at("2025-01-10T10:00:00Z"), Amount: 20},
	{Customer: 3, Time: at("2025-02-01T00:00:00Z"), Amount: 50},
	{Customer: 4, Time: at("2025-02-28T23:59:59Z"), Amount: 1},
	{Customer: 5, Time: at("2024-12-01T03:00:00Z"), Amount: 3},
	{Customer: 5, Time: at("2025-01-01T02:00:00Z"), Amount: 4},
}

type row struct {
	month     string
	size      int
	active    []int
	revenue   []float64
	cumPerCus []float64
}

func rows(t *testing.T, tab *cohort.Table) []row {
	t.Helper()
	var out []row
	for _, c := range tab.Cohorts {
		out = append(out, row{c.Month.Format("2006-01 MST"), c.Size, c.Active, c.Revenue, c.CumulativeRevenuePerCustomer})
		for m := range c.Active {
			if want := float64(c.Active[m]) / float64(c.Size); c.Retention[m] != want {
				t.Errorf("%v: retention[%d] = %v, want %v", c.Month, m, c.Retention[m], want)
			}
		}
		if c.Active[0] != c.Size {
			t.Errorf("%v: %d active in month 0 of %d customers", c.Month, c.Active[0], c.Size)
		}
	}
	return out
}

func TestBuild(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	tests := []struct {
		name     string
		opts     cohort.Options
		want     []row
		orders   int
		customer int
	}{
		{"UTC", cohort.Options{}, []row{
			{"2024-11 UTC", 2, []int{2, 0, 1, 0}, []float64{22, 0, 20, 0}, []float64{11, 11, 21, 21}},
			{"2024-12 UTC", 2, []int{2, 1, 1}, []float64{103, 4, 50}, []float64{51.5, 53.5, 78.5}},
			{"2025-02 UTC", 1, []int{1}, []float64{1}, []float64{1}},
		}, 9, 5},
		// In New York customer 2 and 5 start in November, 5 orders again
		// in December, and 3's February order is a January one.
		{"New York", cohort.Options{Location: ny}, []row{
			{"2024-11 EDT", 3, []int{3, 1, 1, 0}, []float64{25, 4, 20, 0}, []float64{25.0 / 3, 29.0 / 3, 49.0 / 3, 49.0 / 3}},
			{"2024-12 EST", 1, []int{1, 1, 0}, []float64{100, 50, 0}, []float64{100, 150, 150}},
			{"2025-02 EST", 1, []int{1}, []float64{1}, []float64{1}},
		}, 9, 5},
		// Through mid-January: later orders are out, January is the last
		// column, and customer 4 is not there.
		{"through January", cohort.Options{Through: at("2025-01-15T00:00:00Z")}, []row{
			{"2024-11 UTC", 2, []int{2, 0, 1}, []float64{22, 0, 20}, []float64{11, 11, 21}},
			{"2024-12 UTC", 2, []int{2, 1}, []float64{103, 4}, []float64{51.5, 53.5}},
		}, 7, 4},
		// Through a later month: empty columns up to it.
		{"through April", cohort.Options{Through: at("2025-04-02T00:00:00Z")}, []row{
			{"2024-11 UTC", 2, []int{2, 0, 1, 0, 0, 0}, []float64{22, 0, 20, 0, 0, 0}, []float64{11, 11, 21, 21, 21, 21}},
			{"2024-12 UTC", 2, []int{2, 1, 1, 0, 0}, []float64{103, 4, 50, 0, 0}, []float64{51.5, 53.5, 78.5, 78.5, 78.5}},
			{"2025-02 UTC", 1, []int{1, 0, 0}, []float64{1, 0, 0}, []float64{1, 1, 1}},
		}, 9, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab, err := cohort.Build(handBuilt, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := rows(t, tab)
			if len(got) != len(tt.want) {
				t.Fatalf("%d cohorts, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.month != w.month || g.size != w.size || !reflect.DeepEqual(g.active, w.active) ||
					!close(g.revenue, w.revenue) || !close(g.cumPerCus, w.cumPerCus) {
					t.Errorf("cohort %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
			if tab.Orders != tt.orders || tab.Customers != tt.customer {
				t.Errorf("%d orders of %d customers, want %d of %d", tab.Orders, tab.Customers, tt.orders, tt.customer)
			}
			if !tab.First.Equal(tab.Cohorts[0].Month) {
				t.Errorf("First %v, oldest cohort %v", tab.First, tab.Cohorts[0].Month)
			}
		})
	}
}

func close(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestBuildEdgeCases(t *testing.T) {
	t.Parallel()
	tab, err := cohort.Build(nil, cohort.Options{})
	if err != nil || len(tab.Cohorts) != 0 || tab.Orders != 0 {
		t.Errorf("no orders: %+v, %v", tab, err)
	}
	tab, err = cohort.Build(handBuilt, cohort.Options{Through: at("2000-01-01T00:00:00Z")})
	if err != nil || len(tab.Cohorts) != 0 || tab.Customers != 0 {
		t.Errorf("all orders after Through: %+v, %v", tab, err)
	}
	// The order of the orders does not matter.
	rng := rand.New(rand.NewPCG(1, 1))
	shuffled := append([]cohort.Order(nil), handBuilt...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	a, _ := cohort.Build(handBuilt, cohort.Options{})
	b, _ := cohort.Build(shuffled, cohort.Options{})
	if !reflect.DeepEqual(rows(t, a), rows(t, b)) {
		t.Errorf("shuffling the orders changes the table")
	}
	for _, tt := range []struct {
		name  string
		order cohort.Order
		want  string
	}{
		{"no time", cohort.Order{Customer: 1, Amount: 1}, "no time"},
		{"NaN amount", cohort.Order{Customer: 1, Time: at("2025-01-01T00:00:00Z"), Amount: math.NaN()}, "amount"},
	} {
		if _, err := cohort.Build([]cohort.Order{tt.order}, cohort.Options{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

// TestBuildRandom checks the table against a direct count with maps on
// random orders over three years.
func TestBuildRandom(t *testing.T) {
	t.Parallel()
	orders := randomOrders(20_000, 2_000, 2)
	tab, err := cohort.Build(orders, cohort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	month := func(tm time.Time) int { return tm.Year()*12 + int(tm.Month()) - 1 }
	first := map[int64]int{}
	for _, o := range orders {
		if f, ok := first[o.Customer]; !ok || month(o.Time) < f {
			first[o.Customer] = month(o.Time)
		}
	}
	type cell struct{ cohort, off int }
	active := map[cell]map[int64]bool{}
	revenue := map[cell]float64{}
	size := map[int]int{}
	for _, f := range first {
		size[f]++
	}
	for _, o := range orders {
		f := first[o.Customer]
		c := cell{f, month(o.Time) - f}
		if active[c] == nil {
			active[c] = map[int64]bool{}
		}
		active[c][o.Customer] = true
		revenue[c] += o.Amount
	}
	if len(tab.Cohorts) != len(size) {
		t.Fatalf("%d cohorts, want %d", len(tab.Cohorts), len(size))
	}
	for _, co := range tab.Cohorts {
		f := month(co.Month)
		if co.Size != size[f] {
			t.Errorf("%v: size %d, want %d", co.Month, co.Size, size[f])
		}
		for off := range co.Active {
			c := cell{f, off}
			if co.Active[off] != len(active[c]) || math.Abs(co.Revenue[off]-revenue[c]) > 1e-6 {
				t.Errorf("%v +%d: %d active, revenue %v; want %d, %v", co.Month, off, co.Active[off], co.Revenue[off], len(active[c]), revenue[c])
			}
		}
	}
}

func randomOrders(n, customers int, seed uint64) []cohort.Order {
	rng := rand.New(rand.NewPCG(seed, 2))
	start := at("2022-01-01T00:00:00Z")
	orders := make([]cohort.Order, n)
	for i := range orders {
		orders[i] = cohort.Order{
			Customer: int64(rng.IntN(customers)) * 7919,
			Time:     start.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour)))),
			Amount:   math.Round(100*math.Exp(3.5+rng.NormFloat64())) / 100,
		}
	}
	return orders
}

func BenchmarkBuild1M(b *testing.B) {
	orders := randomOrders(1_000_000, 300_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cohort.Build(orders, cohort.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
