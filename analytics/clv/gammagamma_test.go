package clv_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/analytics/clv"
)

// TestExpectedSpend: eq. 5 of Fader & Hardie (2013) is a weighted average
// of the population mean and the customer's own mean, the customer's
// weight p x/(p x + q - 1) growing with x.
func TestExpectedSpend(t *testing.T) {
	m := clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	pop := m.MeanSpend()
	if want := 6.25 * 15.44 / 2.74; !near(pop, want, 1e-12) {
		t.Fatalf("MeanSpend = %v, want %v", pop, want)
	}
	tests := []struct {
		name     string
		x        int
		monetary float64
		want     float64
	}{
		{"no repeat purchase", 0, 0, pop},
		{"refunds exceed purchases", 2, -5, pop},
		{"one $100 purchase", 1, 100, (2.74*pop + 6.25*100) / (6.25 + 2.74)},
		{"at the population mean", 5, pop, pop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.ExpectedSpend(tt.x, tt.monetary); !near(got, tt.want, 1e-9) {
				t.Errorf("ExpectedSpend(%d, %v) = %v, want %v", tt.x, tt.monetary, got, tt.want)
			}
		})
	}
	t.Run("shrinks less with more purchases", func(t *testing.T) {
		prev := math.Inf(1)
		for x := 1; x <= 20; x++ {
			gap := math.Abs(m.ExpectedSpend(x, 100) - 100)
			if !(gap < prev) || m.ExpectedSpend(x, 100) < pop {
				t.Errorf("x = %d: |E[M] - 100| = %v, previous %v", x, gap, prev)
			}
			prev = gap
		}
	})
}

// TestFitGammaGammaCurrency: measuring money in another unit scales gamma
// and shifts the log-likelihood by n log(c) (the density of a mean spend),
// nothing else.
func TestFitGammaGammaCurrency(t *testing.T) {
	s := cdnowSummaries(t)
	base, err := clv.FitGammaGamma(s)
	if err != nil {
		t.Fatal(err)
	}
	const c = 150 // dollars to yen, say
	yen := make([]clv.Summary, len(s))
	for i, v := range s {
		v.Monetary *= c
		yen[i] = v
	}
	m, err := clv.FitGammaGamma(yen)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.P/base.P-1) > 1e-5 || math.Abs(m.Q/base.Q-1) > 1e-5 || math.Abs(m.Gamma/(c*base.Gamma)-1) > 1e-5 ||
		!near(m.LogLikelihood, base.LogLikelihood-float64(base.Customers)*math.Log(c), 1e-3) {
		t.Errorf("in yen %+v, in dollars %+v", m, base)
	}
}

func TestFitGammaGammaData(t *testing.T) {
	t.Run("skips non-positive spend", func(t *testing.T) {
		s := cdnowSummaries(t)
		s[0].Monetary = -3 // customer 1, x = 2
		s[1].Monetary = 0  // customer 2, x = 1
		m, err := clv.FitGammaGamma(s)
		if err != nil {
			t.Fatal(err)
		}
		if m.Customers != 944 || m.Skipped != 2 {
			t.Errorf("fitted %d, skipped %d; want 944, 2", m.Customers, m.Skipped)
		}
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			s    []clv.Summary
			want string
		}{
			{"no repeat purchase", []clv.Summary{{Customer: 1, T: 3}}, "no customer made a repeat purchase"},
			{"NaN spend", []clv.Summary{{Customer: 4, Frequency: 1, Monetary: math.NaN(), T: 3}}, "customer 4"},
			{"everyone spends the same", []clv.Summary{
				{Customer: 1, Frequency: 1, Monetary: 5, T: 3},
				{Customer: 2, Frequency: 2, Monetary: 5, T: 3},
				{Customer: 3, Frequency: 4, Monetary: 5, T: 3},
			}, "clv: fit Gamma-Gamma"},
		}
		for _, tt := range tests {
			_, err := clv.FitGammaGamma(tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: got %v, want an error mentioning %q", tt.name, err, tt.want)
			}
		}
	})
	t.Run("infinite mean spend", func(t *testing.T) {
		// Mean spends spread over orders of magnitude: a tail so
		// heavy that q < 1 and the population mean is infinite.
		r := rand.New(rand.NewPCG(7, 7))
		var s []clv.Summary
		for i := range 2000 {
			s = append(s, clv.Summary{Customer: int64(i), Frequency: 1, T: 10, Recency: 5, Monetary: math.Exp(4 * r.NormFloat64())})
		}
		m, err := clv.FitGammaGamma(s)
		if err == nil || !strings.Contains(err.Error(), "infinite") || !(m.Q <= 1) {
			t.Errorf("got q = %v, error %v; want q <= 1 and an error", m.Q, err)
		}
	})
}

// TestOwnMeanSpend: the stand-in spend model expects a repeat customer's
// own mean and anyone else the mean of those, and its parameters stay
// finite for the result's JSON.
func TestOwnMeanSpend(t *testing.T) {
	s := []clv.Summary{
		{Customer: 1, Frequency: 3, Monetary: 10},
		{Customer: 2, Frequency: 1, Monetary: 30},
		{Customer: 3, Frequency: 0},
		{Customer: 4, Frequency: 2, Monetary: -5}, // refunds: no spend to model
	}
	m, err := clv.OwnMeanSpend(s)
	if err != nil {
		t.Fatal(err)
	}
	if m.Customers != 2 || m.Skipped != 1 || math.IsInf(m.P, 0) || math.IsInf(m.Gamma, 0) || m.Gamma == 0 {
		t.Errorf("model %+v", m)
	}
	tests := []struct {
		x    int
		m    float64
		want float64
	}{{3, 10, 10}, {1, 30, 30}, {1, 9007199254740991, 9007199254740991}, {0, 0, 20}, {2, -5, 20}}
	for _, tt := range tests {
		if got := m.ExpectedSpend(tt.x, tt.m); math.Abs(got/tt.want-1) > 1e-11 {
			t.Errorf("ExpectedSpend(%d, %v) = %v, want %v", tt.x, tt.m, got, tt.want)
		}
	}
	if _, err := clv.OwnMeanSpend(s[2:3]); err == nil {
		t.Error("no repeat customer: no error")
	}
}
