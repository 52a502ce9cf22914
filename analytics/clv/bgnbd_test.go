package clv_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/clv"
	"gonum.org/v1/gonum/mathext"
)

// TestPAlive: properties of P(alive) from Fader, Hardie & Lee (2008),
// "Computing P(alive) Using the BG/NBD Model", and the checks lifetimes
// makes (test_conditional_probability_alive_returns_1_if_no_repeat_purchases,
// test_conditional_probability_alive_is_between_0_and_1).
func TestPAlive(t *testing.T) {
	m := hardieBGNBD
	t.Run("one-time buyers are alive", func(t *testing.T) {
		// A BG/NBD customer can only drop out right after a purchase.
		for _, T := range []float64{0, 1, 39, 500} {
			if p := m.PAlive(0, 0, T); p != 1 {
				t.Errorf("PAlive(0, 0, %v) = %v, want 1", T, p)
			}
		}
	})
	t.Run("between 0 and 1", func(t *testing.T) {
		for x := 0; x < 100; x += 10 {
			for tx := 0.0; tx < 100; tx += 10 {
				for T := tx; T < 100; T += 10 {
					if p := m.PAlive(x, tx, T); !(p >= 0 && p <= 1) {
						t.Errorf("PAlive(%d, %v, %v) = %v", x, tx, T, p)
					}
				}
			}
		}
	})
	t.Run("last purchase at T", func(t *testing.T) {
		// With t_x = T the ratio term is 1: 1/(1 + a/(b+x-1)).
		want := 1 / (1 + m.A/(m.B+22))
		if p := m.PAlive(23, 39, 39); !near(p, want, 1e-15) {
			t.Errorf("PAlive(23, 39, 39) = %v, want %v", p, want)
		}
	})
	t.Run("more recent is more alive", func(t *testing.T) {
		prev := -1.0
		for tx := 0.0; tx <= 39; tx++ {
			p := m.PAlive(3, tx, 39)
			if p <= prev {
				t.Errorf("PAlive(3, %v, 39) = %v, not above %v", tx, p, prev)
			}
			prev = p
		}
	})
	t.Run("longer silence is less alive", func(t *testing.T) {
		prev := 2.0
		for T := 20.0; T <= 80; T++ {
			p := m.PAlive(3, 20, T)
			if p >= prev {
				t.Errorf("PAlive(3, 20, %v) = %v, not below %v", T, p, prev)
			}
			prev = p
		}
	})
	t.Run("increasing frequency paradox", func(t *testing.T) {
		// The BTYD package's bgnbd.PAlive example: at t_x = 30,
		// T = 39 more purchases make the same silence more telling.
		prev := 2.0
		for x := 5; x <= 20; x++ {
			p := m.PAlive(x, 30, 39)
			if p >= prev {
				t.Errorf("PAlive(%d, 30, 39) = %v, not below %v", x, p, prev)
			}
			prev = p
		}
	})
}

// directConditional is eq. 10 of the paper as printed, with gonum's 2F1:
// the reference for ConditionalPurchases where it does not overflow.
func directConditional(m clv.BGNBD, t float64, x int, tx, T float64) float64 {
	r, al, a, b, xf := m.R, m.Alpha, m.A, m.B, float64(x)
	z := t / (al + T + t)
	num := (a + b + xf - 1) / (a - 1) * (1 - math.Pow((al+T)/(al+T+t), r+xf)*mathext.Hypergeo(r+xf, b+xf, a+b+xf-1, z))
	den := 1.0
	if x > 0 {
		den += a / (b + xf - 1) * math.Pow((al+T)/(al+tx), r+xf)
	}
	return num / den
}

// TestConditionalPurchases checks E[Y(t) | x, t_x, T] against eq. 10 in
// its printed form (gonum's 2F1) where that is safe, and against mpmath
// 1.3 (30 digits) where the printed form overflows or the argument is
// near 1. TestBGNBDHighPrecision covers the parameters of degenerate fits.
func TestConditionalPurchases(t *testing.T) {
	m := hardieBGNBD
	t.Run("printed form", func(t *testing.T) {
		for _, x := range []int{0, 1, 2, 5, 10, 20} {
			for _, T := range []float64{5, 39} {
				for _, h := range []float64{0.5, 1, 10, 39, 52} {
					tx := T * 0.6
					got := m.ConditionalPurchases(h, x, tx, T)
					want := directConditional(m, h, x, tx, T)
					if math.Abs(got/want-1) > 1e-9 {
						t.Errorf("E[Y(%v) | %d, %v, %v] = %.12g, printed form %.12g", h, x, tx, T, got, want)
					}
				}
			}
		}
	})
	t.Run("mpmath", func(t *testing.T) {
		tests := []struct {
			name  string
			h     float64
			x     int
			tx, T float64
			want  float64
		}{
			{"ten years ahead, new customer", 520, 0, 0, 0, 4.96863879125285026},
			{"twenty years ahead", 1000, 3, 20, 39, 8.69522814593853775},
			{"frequent buyer (the printed form overflows)", 52, 200, 38, 39, 121.031118747935678},
			{"early silence", 39, 1, 0.5, 39, 0.161886821360805881},
		}
		for _, tt := range tests {
			got := m.ConditionalPurchases(tt.h, tt.x, tt.tx, tt.T)
			if math.Abs(got/tt.want-1) > 1e-9 {
				t.Errorf("%s: E[Y(%v) | %d, %v, %v] = %.15g, mpmath %.15g", tt.name, tt.h, tt.x, tt.tx, tt.T, got, tt.want)
			}
		}
	})
	t.Run("no history is eq. 9", func(t *testing.T) {
		for _, h := range []float64{1, 39, 78} {
			if a, b := m.ExpectedPurchases(h), m.ConditionalPurchases(h, 0, 0, 0); a != b {
				t.Errorf("E[X(%v)] = %v, E[Y(%v) | 0, 0, 0] = %v", h, a, h, b)
			}
		}
	})
	t.Run("grows with the horizon, bounded by the alive rate", func(t *testing.T) {
		for _, x := range []int{0, 1, 4, 50, 1000} {
			prev := 0.0
			for h := 1.0; h <= 200; h *= 1.5 {
				got := m.ConditionalPurchases(h, x, 30, 39)
				// Dropping out only removes purchases: at most
				// P(alive) E[lambda | alive] h.
				bound := m.PAlive(x, 30, 39) * (m.R + float64(x)) / (m.Alpha + 39) * h
				if !(got > prev) || got > bound*(1+1e-12) {
					t.Errorf("E[Y(%v) | %d, 30, 39] = %v, previous %v, bound %v", h, x, got, prev, bound)
				}
				prev = got
			}
		}
	})
	t.Run("a near one", func(t *testing.T) {
		// 1/(a-1) and the bracket both vanish at a = 1: no NaN, and
		// continuous across.
		at := m
		at.A = 1
		lo, hi := m, m
		lo.A, hi.A = 1-1e-3, 1+1e-3
		got := at.ConditionalPurchases(39, 2, 30, 39)
		l, h := lo.ConditionalPurchases(39, 2, 30, 39), hi.ConditionalPurchases(39, 2, 30, 39)
		if math.IsNaN(got) || !(got > math.Min(l, h)-1e-3 && got < math.Max(l, h)+1e-3) {
			t.Errorf("at a = 1: %v, either side %v and %v", got, l, h)
		}
	})
}

// TestOrderProbAndNextOrder: the probability of ordering within t and the
// median time to the next order agree, and there is no date for a
// customer more likely gone than not.
func TestOrderProbAndNextOrder(t *testing.T) {
	m := hardieBGNBD
	tests := []struct {
		name  string
		x     int
		tx, T float64
		ok    bool
	}{
		{"the paper's customer", 2, 30.43, 38.86, true},
		{"frequent and recent", 20, 38, 39, true},
		{"lapsed", 3, 5, 39, false},
		{"one-time buyer, median beyond the cap", 0, 0, 39, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, ok := m.NextOrder(tt.x, tt.tx, tt.T, 104)
			if ok != tt.ok {
				t.Fatalf("NextOrder = %v, %v; want ok = %v (P(alive) %.3f)", next, ok, tt.ok, m.PAlive(tt.x, tt.tx, tt.T))
			}
			if ok {
				if p := m.OrderProb(next, tt.x, tt.tx, tt.T); !near(p, 0.5, 1e-12) {
					t.Errorf("OrderProb at the next order %v = %v, want 0.5", next, p)
				}
			}
			pa := m.PAlive(tt.x, tt.tx, tt.T)
			prev := 0.0
			for h := 1.0; h < 1e4; h *= 2 {
				p := m.OrderProb(h, tt.x, tt.tx, tt.T)
				// Non-decreasing: it saturates at P(alive) in
				// floating point for frequent buyers.
				if p < prev || p > pa {
					t.Errorf("OrderProb(%v) = %v, previous %v, P(alive) %v", h, p, prev, pa)
				}
				prev = p
			}
		})
	}
}

// TestFitBGNBDInvariance: the fit depends on the data, not on how it is
// presented: repeating every customer, or measuring in days instead of
// weeks (alpha scales, the log-likelihood shifts by sum(x) log 7).
func TestFitBGNBDInvariance(t *testing.T) {
	s := cdnowSummaries(t)
	base, err := clv.FitBGNBD(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := clv.FitBGNBD(s)
	if err != nil {
		t.Fatal(err)
	}
	if again != base {
		t.Errorf("two fits differ:\n%+v\n%+v", base, again)
	}
	t.Run("doubled", func(t *testing.T) {
		m, err := clv.FitBGNBD(append(append([]clv.Summary{}, s...), s...))
		if err != nil {
			t.Fatal(err)
		}
		if !closeParams(m, base, 1e-5) || !near(m.LogLikelihood, 2*base.LogLikelihood, 1e-3) {
			t.Errorf("doubled data: %+v, single: %+v", m, base)
		}
		// Twice the data, standard errors shrink by sqrt(2).
		if !near(m.StdErr[0]*math.Sqrt2, base.StdErr[0], 1e-3*base.StdErr[0]) {
			t.Errorf("standard error of r: doubled %v, single %v", m.StdErr[0], base.StdErr[0])
		}
	})
	t.Run("days", func(t *testing.T) {
		o := cdnowOptions()
		o.Unit = 24 * time.Hour
		days, err := clv.Summarize(loadCDNOW(t), o)
		if err != nil {
			t.Fatal(err)
		}
		m, err := clv.FitBGNBD(days)
		if err != nil {
			t.Fatal(err)
		}
		var sumX float64
		for _, c := range days {
			sumX += float64(c.Frequency)
		}
		want := base
		want.Alpha *= 7
		if !closeParams(m, want, 1e-5) || !near(m.LogLikelihood, base.LogLikelihood-sumX*math.Log(7), 1e-3) {
			t.Errorf("in days: %+v, in weeks: %+v", m, base)
		}
	})
}

func closeParams(a, b clv.BGNBD, rel float64) bool {
	return math.Abs(a.R/b.R-1) < rel && math.Abs(a.Alpha/b.Alpha-1) < rel &&
		math.Abs(a.A/b.A-1) < rel && math.Abs(a.B/b.B-1) < rel
}

func TestFitBGNBDErrors(t *testing.T) {
	tests := []struct {
		name string
		s    []clv.Summary
		want string
	}{
		{"empty", nil, "no customer made a repeat purchase"},
		{"no repeat purchase", []clv.Summary{{Customer: 1, T: 10}, {Customer: 2, T: 3}}, "no customer made a repeat purchase"},
		{"recency after T", []clv.Summary{{Customer: 7, Frequency: 1, Recency: 11, T: 10}}, "customer 7"},
		{"negative frequency", []clv.Summary{{Customer: 8, Frequency: -1, T: 10}}, "negative"},
		{"NaN T", []clv.Summary{{Customer: 9, Frequency: 1, T: math.NaN()}}, "customer 9"},
		// One customer: the likelihood grows without bound as r and
		// alpha go to infinity together.
		{"one customer", []clv.Summary{{Customer: 1, Frequency: 1, Recency: 1, T: 2}}, "no maximum inside the parameter space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clv.FitBGNBD(tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
