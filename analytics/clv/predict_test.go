package clv_test

import (
	"math"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/analytics/clv"
)

func TestRiskOf(t *testing.T) {
	tests := []struct {
		p    float64
		want clv.Risk
	}{
		{1, clv.RiskLow},
		{0.7, clv.RiskLow},
		{0.6999, clv.RiskMedium},
		{0.3, clv.RiskMedium},
		{0.2999, clv.RiskHigh},
		{0, clv.RiskHigh},
	}
	for _, tt := range tests {
		if got := clv.RiskOf(tt.p); got != tt.want {
			t.Errorf("RiskOf(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// cdnowModel is the model fitted to CDNOW, and its summaries.
func cdnowModel(t *testing.T) (clv.Model, []clv.Summary) {
	t.Helper()
	s := cdnowSummaries(t)
	m, err := clv.Fit(s)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestPredict: a prediction is the models' pieces put together, and CLV
// is expected purchases per period valued at expected spend, discounted
// per period (the scheme of lifetimes' customer_lifetime_value).
func TestPredict(t *testing.T) {
	m, s := cdnowModel(t)
	c := s[0] // the paper's customer: x = 2, t_x = 30.43, T = 38.86
	bg, gg := m.Purchases, m.Spend
	const year = 52.0
	p, err := m.Predict(c, clv.PredictOptions{Horizon: year})
	if err != nil {
		t.Fatal(err)
	}
	purchases := bg.ConditionalPurchases(year, c.Frequency, c.Recency, c.T)
	spend := gg.ExpectedSpend(c.Frequency, c.Monetary)
	next, ok := bg.NextOrder(c.Frequency, c.Recency, c.T, year)
	want := clv.Prediction{
		Customer:     1,
		PAlive:       bg.PAlive(c.Frequency, c.Recency, c.T),
		Risk:         clv.RiskLow,
		Purchases:    purchases,
		OrderProb:    bg.OrderProb(year, c.Frequency, c.Recency, c.T),
		Spend:        spend,
		CLV:          purchases * spend,
		NextOrder:    next,
		HasNextOrder: ok,
	}
	if p != want || !ok {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}

	tests := []struct {
		name string
		o    clv.PredictOptions
		want float64
	}{
		{"one period", clv.PredictOptions{Horizon: year, DiscountRate: 0.1}, purchases * spend / 1.1},
		{"monthly", clv.PredictOptions{Horizon: year, Periods: 12, DiscountRate: 0.01}, monthly(bg, c, year, spend)},
		{"periods without a rate", clv.PredictOptions{Horizon: year, Periods: 12}, purchases * spend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := m.Predict(c, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !near(p.CLV, tt.want, 1e-9*tt.want) {
				t.Errorf("CLV %v, want %v", p.CLV, tt.want)
			}
		})
	}
}

// monthly is the discounted CLV summed by hand: month k's expected
// purchases valued at spend, discounted 1% a month.
func monthly(bg clv.BGNBD, c clv.Summary, h, spend float64) float64 {
	var v float64
	for k := 1; k <= 12; k++ {
		e := bg.ConditionalPurchases(h*float64(k)/12, c.Frequency, c.Recency, c.T) - bg.ConditionalPurchases(h*float64(k-1)/12, c.Frequency, c.Recency, c.T)
		v += spend * e / math.Pow(1.01, float64(k))
	}
	return v
}

func TestPredictAll(t *testing.T) {
	m, s := cdnowModel(t)
	o := clv.PredictOptions{Horizon: 39, Periods: 3, DiscountRate: 0.03}
	all, err := m.PredictAll(s, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(s) {
		t.Fatalf("%d predictions for %d customers", len(all), len(s))
	}
	bands := map[clv.Risk]int{}
	for i, p := range all {
		one, err := m.Predict(s[i], o)
		if err != nil {
			t.Fatal(err)
		}
		if p != one || p.Customer != s[i].Customer {
			t.Fatalf("customer %d: PredictAll %+v, Predict %+v", s[i].Customer, p, one)
		}
		if !(p.CLV >= 0) || !(p.Purchases >= 0) || !(p.Spend > 0) {
			t.Errorf("customer %d: %+v", s[i].Customer, p)
		}
		bands[p.Risk]++
	}
	if bands[clv.RiskLow]+bands[clv.RiskMedium]+bands[clv.RiskHigh] != len(s) || bands[clv.RiskHigh] == 0 {
		t.Errorf("risk bands %v", bands)
	}
}

func TestPredictErrors(t *testing.T) {
	m := clv.Model{Purchases: hardieBGNBD, Spend: clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}}
	ok := clv.Summary{Customer: 1, Frequency: 1, Recency: 2, T: 3, Monetary: 10}
	tests := []struct {
		name string
		s    clv.Summary
		o    clv.PredictOptions
		want string
	}{
		{"no horizon", ok, clv.PredictOptions{}, "horizon"},
		{"infinite horizon", ok, clv.PredictOptions{Horizon: math.Inf(1)}, "horizon"},
		{"negative periods", ok, clv.PredictOptions{Horizon: 1, Periods: -1}, "periods"},
		{"negative rate", ok, clv.PredictOptions{Horizon: 1, DiscountRate: -0.1}, "discount rate"},
		{"bad summary", clv.Summary{Customer: 5, Frequency: 1, Recency: 4, T: 3}, clv.PredictOptions{Horizon: 1}, "customer 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Predict(tt.s, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Predict: got %v, want an error mentioning %q", err, tt.want)
			}
			_, err = m.PredictAll([]clv.Summary{tt.s}, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PredictAll: got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
