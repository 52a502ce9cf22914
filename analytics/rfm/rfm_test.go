package rfm_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/rfm"
)

var asOf = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// daysAgo is a last order time d days (and a few hours) before asOf.
func daysAgo(d int) time.Time { return asOf.Add(-time.Duration(d)*24*time.Hour - 3*time.Hour) }

// tenCustomers have distinct recency, frequency and revenue, so each
// score holds two of them; customer i (1-10) is the i-th best in all
// three.
func tenCustomers() []rfm.Customer {
	cs := make([]rfm.Customer, 10)
	for i := range cs {
		k := i + 1
		cs[i] = rfm.Customer{ID: int64(k), LastOrder: daysAgo(100 - 10*k), Orders: k, Revenue: float64(10 * k)}
	}
	return cs
}

func TestAnalyzeScores(t *testing.T) {
	t.Parallel()
	res, err := rfm.Analyze(tenCustomers(), rfm.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range res.Scores {
		want := uint8(1 + i/2)
		if s.ID != int64(i+1) || s.R != want || s.F != want || s.M != want || s.FM != want || !s.Active {
			t.Errorf("customer %d: got %+v, want R=F=M=FM=%d", i+1, s, want)
		}
		if s.RecencyDays != int32(100-10*(i+1)) {
			t.Errorf("customer %d: recency %d days, want %d", i+1, s.RecencyDays, 100-10*(i+1))
		}
	}
	wantGroups := []rfm.Group{rfm.Lost, rfm.Lost, rfm.Hibernating, rfm.Hibernating, rfm.NeedAttention,
		rfm.NeedAttention, rfm.LoyalCustomers, rfm.LoyalCustomers, rfm.Champions, rfm.Champions}
	for i, s := range res.Scores {
		if s.Group != wantGroups[i] {
			t.Errorf("customer %d: group %v, want %v", i+1, s.Group, wantGroups[i])
		}
	}
	// The ranges say what each score means.
	if r := res.Recency[4]; r.Count != 2 || r.Min != 0 || r.Max != 10 {
		t.Errorf("R=5 range %+v, want 2 customers, 0-10 days", r)
	}
	if r := res.Monetary[0]; r.Count != 2 || r.Min != 10 || r.Max != 20 {
		t.Errorf("M=1 range %+v, want 2 customers, 10-20", r)
	}
}

func TestAnalyzeInactiveAndNeverOrdered(t *testing.T) {
	t.Parallel()
	cs := append(tenCustomers(),
		rfm.Customer{ID: 11, LastOrder: daysAgo(400)}, // ordered before the period only
		rfm.Customer{ID: 12},                          // never ordered
	)
	res, err := rfm.Analyze(cs, rfm.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if res.Active != 10 || res.Inactive != 1 || res.NeverOrdered != 1 {
		t.Errorf("active %d, inactive %d, never %d; want 10, 1, 1", res.Active, res.Inactive, res.NeverOrdered)
	}
	// The inactive customer does not change the active ones' quintiles.
	for i := range 10 {
		if s := res.Scores[i]; s.R != uint8(1+i/2) {
			t.Errorf("customer %d: R=%d, want %d", i+1, s.R, 1+i/2)
		}
	}
	in, never := res.Scores[10], res.Scores[11]
	if in.R != 1 || in.F != 1 || in.M != 1 || in.FM != 1 || in.Group != rfm.Lost || in.Active || in.RecencyDays != 400 {
		t.Errorf("inactive customer: %+v, want 1/1/1 Lost, 400 days", in)
	}
	if never.R != 0 || never.Group != rfm.None || never.RecencyDays != -1 {
		t.Errorf("never-ordered customer: %+v, want no scores, None, -1 days", never)
	}
	if got := res.Groups[rfm.Lost-1].Count; got != 3 {
		t.Errorf("Lost holds %d, want 3 (two active, one inactive)", got)
	}
	if got := res.Cells[0][0]; got != 3 {
		t.Errorf("cell R=1 FM=1 holds %d, want 3", got)
	}
}

func TestAnalyzeEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		customers []rfm.Customer
		want      []uint8 // R, F, M of each
	}{
		{"empty", nil, nil},
		{"one customer", []rfm.Customer{{ID: 1, LastOrder: daysAgo(3), Orders: 2, Revenue: 50}}, []uint8{1, 1, 1}},
		{"three customers", []rfm.Customer{
			{ID: 1, LastOrder: daysAgo(30), Orders: 1, Revenue: 10},
			{ID: 2, LastOrder: daysAgo(20), Orders: 2, Revenue: 20},
			{ID: 3, LastOrder: daysAgo(10), Orders: 3, Revenue: 30},
		}, []uint8{1, 1, 1, 2, 2, 2, 4, 4, 4}},
		{"all equal", []rfm.Customer{
			{ID: 1, LastOrder: daysAgo(5), Orders: 1, Revenue: 9},
			{ID: 2, LastOrder: daysAgo(5), Orders: 1, Revenue: 9},
			{ID: 3, LastOrder: daysAgo(5), Orders: 1, Revenue: 9},
			{ID: 4, LastOrder: daysAgo(5), Orders: 1, Revenue: 9},
			{ID: 5, LastOrder: daysAgo(5), Orders: 1, Revenue: 9},
			{ID: 6, LastOrder: daysAgo(5), Orders: 1, Revenue: 9},
		}, []uint8{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		// Same day, different hours: the same recency.
		{"same day ties", []rfm.Customer{
			{ID: 1, LastOrder: asOf.Add(-49 * time.Hour), Orders: 1, Revenue: 1},
			{ID: 2, LastOrder: asOf.Add(-71 * time.Hour), Orders: 1, Revenue: 2},
			{ID: 3, LastOrder: asOf.Add(-1 * time.Hour), Orders: 1, Revenue: 3},
		}, []uint8{1, 1, 1, 1, 1, 2, 4, 1, 4}},
		{"only inactive", []rfm.Customer{{ID: 1, LastOrder: daysAgo(500)}}, []uint8{1, 1, 1}},
		{"order after as-of counts as today", []rfm.Customer{
			{ID: 1, LastOrder: asOf.Add(time.Hour), Orders: 1, Revenue: 5},
			{ID: 2, LastOrder: daysAgo(1), Orders: 1, Revenue: 5},
		}, []uint8{3, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := rfm.Analyze(tt.customers, rfm.Options{AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			var got []uint8
			for _, s := range res.Scores {
				got = append(got, s.R, s.F, s.M)
			}
			if string(got) != string(tt.want) {
				t.Errorf("R, F, M = %v, want %v", got, tt.want)
			}
			checkSummary(t, tt.customers, res)
		})
	}
}

func TestAnalyzeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		customer rfm.Customer
		opts     rfm.Options
		want     string
	}{
		{"no as-of", rfm.Customer{ID: 1}, rfm.Options{}, "as-of"},
		{"negative orders", rfm.Customer{ID: 1, LastOrder: daysAgo(1), Orders: -1}, rfm.Options{AsOf: asOf}, "negative"},
		{"NaN revenue", rfm.Customer{ID: 1, LastOrder: daysAgo(1), Orders: 1, Revenue: math.NaN()}, rfm.Options{AsOf: asOf}, "revenue"},
		{"infinite revenue", rfm.Customer{ID: 1, LastOrder: daysAgo(1), Orders: 1, Revenue: math.Inf(1)}, rfm.Options{AsOf: asOf}, "revenue"},
		{"orders without time", rfm.Customer{ID: 1, Orders: 2}, rfm.Options{AsOf: asOf}, "no last order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := rfm.Analyze([]rfm.Customer{tt.customer}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// randomCustomers is a store-like population: a tenth inactive, a few
// never ordered, geometric orders, log-normal order values.
func randomCustomers(n int, seed uint64) []rfm.Customer {
	rng := rand.New(rand.NewPCG(seed, 0))
	cs := make([]rfm.Customer, n)
	for i := range cs {
		c := rfm.Customer{ID: int64(i)}
		switch u := rng.Float64(); {
		case u < 0.02:
		case u < 0.12:
			c.LastOrder = daysAgo(366 + rng.IntN(700))
		default:
			c.LastOrder = daysAgo(rng.IntN(365))
			c.Orders = 1
			for rng.Float64() < 0.45 {
				c.Orders++
			}
			for range c.Orders {
				c.Revenue += math.Round(100*math.Exp(3.5+0.8*rng.NormFloat64())) / 100
			}
		}
		cs[i] = c
	}
	return cs
}

// checkSummary checks the summaries against the scores: counts, shares
// and revenue add up, means are means.
func checkSummary(t *testing.T, cs []rfm.Customer, res *rfm.Result) {
	t.Helper()
	scored := res.Active + res.Inactive
	if scored+res.NeverOrdered != len(cs) {
		t.Errorf("active %d + inactive %d + never %d != %d customers", res.Active, res.Inactive, res.NeverOrdered, len(cs))
	}
	var count, cells int
	var share, revenue, revShare, total float64
	for _, c := range cs {
		total += c.Revenue
	}
	for i, g := range res.Groups {
		if g.Group != rfm.Group(i+1) {
			t.Errorf("Groups[%d] is %v", i, g.Group)
		}
		count += g.Count
		share += g.Share
		revenue += g.Revenue
		revShare += g.RevenueShare
		if g.Count > 0 && math.Abs(g.MeanRevenue*float64(g.Count)-g.Revenue) > 1e-6*math.Max(1, g.Revenue) {
			t.Errorf("%v: mean revenue %v × %d != %v", g.Group, g.MeanRevenue, g.Count, g.Revenue)
		}
	}
	for _, row := range res.Cells {
		for _, n := range row {
			cells += n
		}
	}
	if count != scored || cells != scored {
		t.Errorf("groups hold %d, cells %d, want %d scored customers", count, cells, scored)
	}
	if scored > 0 && math.Abs(share-1) > 1e-9 {
		t.Errorf("group shares add up to %v", share)
	}
	if math.Abs(revenue-total) > 1e-6*math.Max(1, total) {
		t.Errorf("group revenue adds up to %v, want %v", revenue, total)
	}
	if total != 0 && math.Abs(revShare-1) > 1e-9 {
		t.Errorf("revenue shares add up to %v", revShare)
	}
	var perScore [3]int
	for s := range 5 {
		perScore[0] += res.Recency[s].Count
		perScore[1] += res.Frequency[s].Count
		perScore[2] += res.Monetary[s].Count
	}
	if perScore != [3]int{res.Active, res.Active, res.Active} {
		t.Errorf("score ranges count %v, want %d each", perScore, res.Active)
	}
}

func TestAnalyzeSummary(t *testing.T) {
	t.Parallel()
	cs := randomCustomers(20_000, 7)
	res, err := rfm.Analyze(cs, rfm.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, cs, res)
	// Each group's count is what its scores say; recency means too.
	var counts [rfm.NumGroups + 1]int
	var recency [rfm.NumGroups + 1]float64
	for _, s := range res.Scores {
		if s.Group != rfm.GroupOf(int(s.R), int(s.FM)) {
			t.Fatalf("%+v: group is not GroupOf(R, FM)", s)
		}
		counts[s.Group]++
		recency[s.Group] += float64(s.RecencyDays)
	}
	for _, g := range res.Groups {
		if g.Count != counts[g.Group] {
			t.Errorf("%v: count %d, scores say %d", g.Group, g.Count, counts[g.Group])
		}
		if g.Count > 0 && math.Abs(g.MeanRecencyDays-recency[g.Group]/float64(g.Count)) > 1e-9 {
			t.Errorf("%v: mean recency %v, want %v", g.Group, g.MeanRecencyDays, recency[g.Group]/float64(g.Count))
		}
	}
	// The score ranges do not overlap: R=5 is the most recent.
	for s := 1; s < 5; s++ {
		if lo, hi := res.Recency[s-1], res.Recency[s]; lo.Count > 0 && hi.Count > 0 && hi.Max >= lo.Min {
			t.Errorf("R=%d spans %v-%v days, R=%d %v-%v: overlap", s+1, hi.Min, hi.Max, s, lo.Min, lo.Max)
		}
		if lo, hi := res.Monetary[s-1], res.Monetary[s]; lo.Count > 0 && hi.Count > 0 && hi.Min <= lo.Max {
			t.Errorf("M=%d starts at %v, M=%d ends at %v: overlap", s+1, hi.Min, s, lo.Max)
		}
	}
}

// TestAnalyzeDeterministic: the same customers in another order get the
// same scores.
// TestAnalyzeSharesFinite: revenues within the bound that sum to next to
// nothing (a refund as large as an order, and a denormal amount) leave
// every figure of the summary finite; the revenue shares were ±Inf.
func TestAnalyzeSharesFinite(t *testing.T) {
	t.Parallel()
	res, err := rfm.Analyze([]rfm.Customer{
		{ID: 1, LastOrder: daysAgo(3), Orders: 4, Revenue: 5},
		{ID: 2, LastOrder: daysAgo(300), Orders: 1, Revenue: -5},
		{ID: 3, LastOrder: daysAgo(30), Orders: 2, Revenue: 1e-310},
	}, rfm.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range res.Groups {
		for _, f := range []float64{g.Share, g.Revenue, g.RevenueShare, g.MeanRecencyDays, g.MeanOrders, g.MeanRevenue} {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				t.Errorf("group %s: %+v", g.Group, g)
				break
			}
		}
	}
}

func TestAnalyzeDeterministic(t *testing.T) {
	t.Parallel()
	cs := randomCustomers(5_000, 11)
	a, err := rfm.Analyze(cs, rfm.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	b, err := rfm.Analyze(cs, rfm.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]rfm.Score{}
	for _, s := range a.Scores {
		byID[s.ID] = s
	}
	for _, s := range b.Scores {
		if byID[s.ID] != s {
			t.Fatalf("customer %d: %+v, then %+v after shuffling", s.ID, byID[s.ID], s)
		}
	}
	if a.Groups != b.Groups && !summariesClose(a, b) {
		t.Errorf("summaries differ after shuffling")
	}
}

// summariesClose allows for the order of float additions.
func summariesClose(a, b *rfm.Result) bool {
	for i := range a.Groups {
		x, y := a.Groups[i], b.Groups[i]
		if x.Count != y.Count || math.Abs(x.Revenue-y.Revenue) > 1e-6*math.Max(1, x.Revenue) {
			return false
		}
	}
	return a.Cells == b.Cells
}

func TestGrid(t *testing.T) {
	t.Parallel()
	used := map[rfm.Group]int{}
	grid := rfm.Grid()
	for r := 1; r <= 5; r++ {
		for fm := 1; fm <= 5; fm++ {
			g := rfm.GroupOf(r, fm)
			if g == rfm.None || g > rfm.Lost {
				t.Errorf("cell R=%d FM=%d maps to %v", r, fm, g)
			}
			if grid[r-1][fm-1] != g {
				t.Errorf("Grid and GroupOf disagree at R=%d FM=%d", r, fm)
			}
			used[g]++
		}
	}
	if len(used) != rfm.NumGroups {
		t.Errorf("the grid uses %d groups, want all %d", len(used), rfm.NumGroups)
	}
	for _, tt := range []struct{ r, fm int }{{0, 1}, {6, 1}, {1, 0}, {1, 6}} {
		if g := rfm.GroupOf(tt.r, tt.fm); g != rfm.None {
			t.Errorf("GroupOf(%d, %d) = %v, want None", tt.r, tt.fm, g)
		}
	}
	// Corners that every RFM table agrees on.
	corners := []struct {
		r, fm int
		want  rfm.Group
	}{{5, 5, rfm.Champions}, {1, 1, rfm.Lost}, {1, 5, rfm.CannotLoseThem}, {5, 1, rfm.NewCustomers}}
	for _, c := range corners {
		if g := rfm.GroupOf(c.r, c.fm); g != c.want {
			t.Errorf("GroupOf(%d, %d) = %v, want %v", c.r, c.fm, g, c.want)
		}
	}
}

func TestFM(t *testing.T) {
	t.Parallel()
	tests := []struct{ f, m, want int }{{1, 1, 1}, {1, 2, 2}, {2, 3, 3}, {5, 4, 5}, {1, 5, 3}, {5, 5, 5}}
	for _, tt := range tests {
		if got := rfm.FM(tt.f, tt.m); got != tt.want {
			t.Errorf("FM(%d, %d) = %d, want %d", tt.f, tt.m, got, tt.want)
		}
	}
}

func TestGroupNames(t *testing.T) {
	t.Parallel()
	want := []string{"Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising",
		"Need Attention", "About To Sleep", "At Risk", "Cannot Lose Them", "Hibernating", "Lost"}
	gs := rfm.Groups()
	if len(gs) != len(want) {
		t.Fatalf("%d groups, want %d", len(gs), len(want))
	}
	for i, g := range gs {
		if g.String() != want[i] {
			t.Errorf("group %d is %q, want %q", i, g, want[i])
		}
		if g.Description() == "" || g.Action() == "" {
			t.Errorf("%v has no description or action", g)
		}
		p, err := rfm.ParseGroup(want[i])
		if err != nil || p != g {
			t.Errorf("ParseGroup(%q) = %v, %v", want[i], p, err)
		}
	}
	if _, err := rfm.ParseGroup("at risk"); err == nil {
		t.Errorf("ParseGroup accepts a misspelt name")
	}
	b, err := json.Marshal(struct{ G rfm.Group }{rfm.AtRisk})
	if err != nil || string(b) != `{"G":"At Risk"}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	var v struct{ G rfm.Group }
	if err := json.Unmarshal([]byte(`{"G":"Cannot Lose Them"}`), &v); err != nil || v.G != rfm.CannotLoseThem {
		t.Errorf("JSON read %v, %v", v.G, err)
	}
}

func BenchmarkAnalyze1M(b *testing.B) {
	cs := randomCustomers(1_000_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rfm.Analyze(cs, rfm.Options{AsOf: asOf}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAnalyzeRule checks Analyze's scores against the rule written out
// over the active customers, on store-like data and on data with outliers
// too large for a histogram (an order count in the millions, an order in
// the 18th century), which take the selection path.
func TestAnalyzeRule(t *testing.T) {
	t.Parallel()
	outliers := randomCustomers(3_000, 13)
	outliers[5].Orders = 9_000_000
	outliers[9].LastOrder = time.Date(1790, 1, 1, 0, 0, 0, 0, time.UTC)
	outliers[9].Orders = 1
	tests := []struct {
		name      string
		customers []rfm.Customer
	}{
		{"store-like", randomCustomers(3_000, 12)},
		{"outliers", outliers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := rfm.Analyze(tt.customers, rfm.Options{AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			var rec, freq, mon []float64
			var idx []int
			for i, s := range res.Scores {
				if s.Active {
					rec = append(rec, -float64(s.RecencyDays))
					freq = append(freq, float64(tt.customers[i].Orders))
					mon = append(mon, tt.customers[i].Revenue)
					idx = append(idx, i)
				}
			}
			r, f, m := bruteQuintiles(rec), bruteQuintiles(freq), bruteQuintiles(mon)
			for j, i := range idx {
				s := res.Scores[i]
				if s.R != r[j] || s.F != f[j] || s.M != m[j] {
					t.Fatalf("customer %d: R, F, M = %d, %d, %d; rule gives %d, %d, %d", s.ID, s.R, s.F, s.M, r[j], f[j], m[j])
				}
			}
			checkSummary(t, tt.customers, res)
		})
	}
}
