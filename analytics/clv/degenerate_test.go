package clv_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/touchbase/touchbase/analytics/clv"
	"gonum.org/v1/gonum/stat/distuv"
)

// synthesizeFixedDropout is synthesize with one drop-out probability p
// for everyone instead of a beta-distributed one: the limit of BG/NBD as
// a and b grow with a/(a+b) = p, where a fit lands at a and b in the
// hundred thousands or millions. Spend is uniform in [10, 30).
func synthesizeFixedDropout(n int, p float64, seed uint64) []clv.Transaction {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	lambda := distuv.Gamma{Alpha: hardieBGNBD.R, Beta: hardieBGNBD.Alpha, Src: src}
	start := synthOptions.CalibrationEnd.AddDate(0, 0, -272)
	const endDay = 272
	var tx []clv.Transaction
	for c := range n {
		l := lambda.Rand()
		buy := func(day int) {
			tx = append(tx, clv.Transaction{Customer: int64(c + 1), At: start.AddDate(0, 0, day), Amount: 10 + 20*rng.Float64()})
		}
		purchaseDays(rng, l, p, endDay, buy)
	}
	return tx
}

// fixedDropoutPurchases is the limit of E[Y(t) | x, t_x, T] as a and b
// grow with a/(a+b) = p: alive, a customer buys at a gamma(r+x, alpha+T)
// rate and drops out with probability p after each purchase, so expects
// (1 - E[e^(-lambda p t)])/p purchases.
func fixedDropoutPurchases(m clv.BGNBD, p, t float64, x int, tx, T float64) float64 {
	s := m.R + float64(x)
	return m.PAlive(x, tx, T) * -math.Expm1(-s*math.Log1p(p*t/(m.Alpha+T))) / p
}

// TestPredictFixedDropout: on customers whose drop-out probability hardly
// varies the BG/NBD fit lands at a and b near a million, where the
// hypergeometric series of eq. 10 overflowed: every prediction came out
// NaN or infinite. They are finite and agree with the fixed-p limit.
func TestPredictFixedDropout(t *testing.T) {
	s, err := clv.Summarize(synthesizeFixedDropout(1000, 0.05, 1), synthOptions)
	if err != nil {
		t.Fatal(err)
	}
	m, err := clv.Fit(s)
	if err != nil {
		t.Fatal(err)
	}
	bg := m.Purchases
	if !(bg.A > 1e4 && bg.B > 1e5) {
		t.Fatalf("the fit is not the degenerate one this test is about: %+v", bg)
	}
	p := bg.A / (bg.A + bg.B)
	preds, err := m.PredictAll(s, clv.PredictOptions{Horizon: 52, Periods: 12, DiscountRate: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, pr := range preds {
		c := s[i]
		finite := isFinite(pr.PAlive) && isFinite(pr.Purchases) && isFinite(pr.OrderProb) && isFinite(pr.CLV) && isFinite(pr.NextOrder)
		limit := fixedDropoutPurchases(bg, p, 52, c.Frequency, c.Recency, c.T)
		// The limit is off by O(1/a) relative.
		if !finite || !(pr.Purchases >= 0) || math.Abs(pr.Purchases/limit-1) > 1e-3 || !(pr.CLV > 0) {
			if bad++; bad <= 5 {
				t.Errorf("customer %d (x %d, t_x %.2f, T %.2f): %+v; fixed-p limit %v purchases", c.Customer, c.Frequency, c.Recency, c.T, pr, limit)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d predictions wrong at a = %.4g, b = %.4g", bad, len(preds), bg.A, bg.B)
	}
}

// TestPredictSteadyBuyers: customers who all buy at a steady rate and
// never stop (a subscription) drive r and alpha to a billion (no
// heterogeneity in rates) and a to 0 (nobody drops out). The predictions
// were finite but wrong there, down to negative purchases; they are what
// the customers do, a purchase a week.
func TestPredictSteadyBuyers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := make([]clv.Summary, 2000)
	for i := range s {
		every := 1 + 0.05*rng.Float64() // weeks
		T := 39 - 12*rng.Float64()
		x := int(T / every)
		s[i] = clv.Summary{Customer: int64(i + 1), Frequency: x, Recency: float64(x) * every, T: T}
	}
	bg, err := clv.FitBGNBD(s)
	if err == nil || bg.R < 1e6 || bg.A > 1e-3 {
		t.Fatalf("the fit is not the degenerate one this test is about: %+v, %v", bg, err)
	}
	for _, c := range s[:200] {
		got := bg.ConditionalPurchases(52, c.Frequency, c.Recency, c.T)
		// Rates are r/alpha for everyone, and nobody drops out.
		want := bg.R / bg.Alpha * 52
		if math.Abs(got/want-1) > 1e-3 {
			t.Errorf("customer %d (x %d, t_x %.2f, T %.2f): %v purchases in a year, want %v", c.Customer, c.Frequency, c.Recency, c.T, got, want)
		}
	}
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// TestBGNBDHighPrecision checks P(alive) and E[Y(t) | x, t_x, T] over the
// parameters a fit can end at, from CDNOW's to a and b of 1e15 or a of
// 1e-19, and r and alpha of a billion, against eq. 10 as printed and the
// P(alive) formula evaluated in 256-bit arithmetic (math/big), and the
// large-a, b ones against the fixed-p limit too. r is a quarter-integer
// so that every power is a square root's integer power.
func TestBGNBDHighPrecision(t *testing.T) {
	models := []struct {
		name string
		m    clv.BGNBD
	}{
		{"CDNOW", clv.BGNBD{R: 0.25, Alpha: 4.41, A: 0.79, B: 2.43}},
		{"a near 1", clv.BGNBD{R: 0.25, Alpha: 4.41, A: 1 + 1e-9, B: 2.43}},
		{"a, b in the thousands", clv.BGNBD{R: 0.75, Alpha: 3, A: 1e3, B: 2e4}},
		{"the fixed-dropout fit", clv.BGNBD{R: 0.25, Alpha: 4.5, A: 94600, B: 2.86e6}},
		{"a, b of 1e9", clv.BGNBD{R: 0.25, Alpha: 4.5, A: 1e9, B: 9e9}},
		{"a, b of 1e15", clv.BGNBD{R: 2.5, Alpha: 4.5, A: 5e14, B: 5e14}},
		{"a of 1e-19", clv.BGNBD{R: 0.25, Alpha: 4.5, A: 3e-19, B: 1e7}},
		{"steady rates", clv.BGNBD{R: 1e9 + 0.25, Alpha: 1.1e9, A: 3e-19, B: 1e7}},
		{"steady rates, dropping out", clv.BGNBD{R: 1e9 + 0.25, Alpha: 1.1e9, A: 1e6, B: 1e7}},
	}
	histories := []struct{ x, tx, T float64 }{{0, 0, 0}, {0, 0, 39}, {2, 30.43, 38.86}, {20, 38, 39}, {5, 10, 39}, {200, 38, 39}}
	for _, mm := range models {
		t.Run(mm.name, func(t *testing.T) {
			m := mm.m
			for _, h := range histories {
				x := int(h.x)
				if want := bigPAlive(m, x, h.tx, h.T); !relNear(m.PAlive(x, h.tx, h.T), want, 1e-12) {
					t.Errorf("PAlive(%d, %v, %v) = %.17g, want %.17g", x, h.tx, h.T, m.PAlive(x, h.tx, h.T), want)
				}
				for _, horizon := range []float64{1, 39, 52} {
					got := m.ConditionalPurchases(horizon, x, h.tx, h.T)
					want := bigConditional(m, horizon, x, h.tx, h.T)
					if !relNear(got, want, 1e-10) {
						t.Errorf("E[Y(%v) | %d, %v, %v] = %.17g, want %.17g", horizon, x, h.tx, h.T, got, want)
					}
					if m.A+m.B >= 1e9 {
						limit := fixedDropoutPurchases(m, m.A/(m.A+m.B), horizon, x, h.tx, h.T)
						if !relNear(got, limit, 1e-6) {
							t.Errorf("E[Y(%v) | %d, %v, %v] = %.17g, fixed-p limit %.17g", horizon, x, h.tx, h.T, got, limit)
						}
					}
				}
			}
		})
	}
}

func relNear(got, want, rel float64) bool {
	return got == want || math.Abs(got-want) <= rel*math.Abs(want)
}

// prec is the precision of the reference evaluations, in bits.
const prec = 256

func bf(f float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(f) }

// quarterPow is q^e for e a multiple of 1/4 (exactly, in float64).
func quarterPow(q *big.Float, e float64) *big.Float {
	k := int64(math.Round(e * 4))
	if float64(k) != e*4 || k < 0 {
		panic("quarterPow: exponent not a non-negative multiple of 1/4")
	}
	root := new(big.Float).SetPrec(prec).Sqrt(new(big.Float).SetPrec(prec).Sqrt(q))
	out := bf(1)
	for b := root; k > 0; k >>= 1 {
		if k&1 == 1 {
			out.Mul(out, b)
		}
		b = new(big.Float).SetPrec(prec).Mul(b, b)
	}
	return out
}

// bigOdds is the odds of having dropped out, a/(b+x-1) ((alpha+T)/(alpha+tx))^(r+x).
func bigOdds(m clv.BGNBD, x int, tx, T float64) *big.Float {
	xf := float64(x)
	ratio := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).Add(bf(m.Alpha), bf(T)), new(big.Float).SetPrec(prec).Add(bf(m.Alpha), bf(tx)))
	odds := quarterPow(ratio, m.R+xf)
	odds.Mul(odds, bf(m.A))
	return odds.Quo(odds, new(big.Float).SetPrec(prec).Add(bf(m.B), bf(xf-1)))
}

func bigPAlive(m clv.BGNBD, x int, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	den := bigOdds(m, x, tx, T)
	den.Add(den, bf(1))
	f, _ := new(big.Float).SetPrec(prec).Quo(bf(1), den).Float64()
	return f
}

// bigConditional is eq. 10 as printed,
//
//	(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] P(alive),
//
// with the series summed to 2^-200 in 256-bit arithmetic, so that neither
// its size nor the cancellation in the bracket matters.
func bigConditional(m clv.BGNBD, t float64, x int, tx, T float64) float64 {
	xf := float64(x)
	add := func(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(prec).Add(a, b) }
	beta := add(bf(m.Alpha), bf(T))
	betaT := add(beta, bf(t))
	z := new(big.Float).SetPrec(prec).Quo(bf(t), betaT)
	s, bx := add(bf(m.R), bf(xf)), add(bf(m.B), bf(xf))
	c := add(add(bf(m.A), bx), bf(-1))
	sum, term := bf(1), bf(1)
	eps := new(big.Float).SetPrec(prec).SetMantExp(bf(1), -200)
	for n := 0; n < 1_000_000; n++ {
		fn := bf(float64(n))
		term.Mul(term, add(s, fn))
		term.Mul(term, add(bx, fn))
		term.Mul(term, z)
		term.Quo(term, add(c, fn))
		term.Quo(term, bf(float64(n+1)))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(new(big.Float).Mul(eps, sum)) < 0 && n > 10 {
			break
		}
	}
	bracket := quarterPow(new(big.Float).SetPrec(prec).Quo(beta, betaT), m.R+xf)
	bracket.Mul(bracket, sum)
	bracket.Sub(bf(1), bracket)
	bracket.Mul(bracket, c)
	bracket.Quo(bracket, add(bf(m.A), bf(-1)))
	if x > 0 {
		den := bigOdds(m, x, tx, T)
		bracket.Quo(bracket, den.Add(den, bf(1)))
	}
	f, _ := bracket.Float64()
	return f
}

// TestCompareHoldoutNotFinite: a customer whose prediction is not finite
// is left out of the comparison and counted, so that its totals stay
// numbers. Here the horizon is 10^7 times alpha+T for the customer who
// first bought at the calibration end, past what the sum takes (maxTerms).
func TestCompareHoldoutNotFinite(t *testing.T) {
	s := []clv.Summary{
		{Customer: 1, Frequency: 2, Recency: 10, T: 20, HoldoutFrequency: 1},
		{Customer: 2, Frequency: 0, T: 0, HoldoutFrequency: 3},
	}
	m := hardieBGNBD
	m.Alpha = 1e-6
	if e := m.ConditionalPurchases(10, 0, 0, 0); !math.IsNaN(e) {
		t.Fatalf("E[Y(10) | 0, 0, 0] = %v, want NaN (too long a sum)", e)
	}
	c := m.CompareHoldout(s, 10, 0)
	if c.NotFinite != 1 || c.Actual != 1 || !isFinite(c.Predicted) || len(c.Rows) != 1 || c.Rows[0].Frequency != 2 {
		t.Errorf("comparison %+v, want customer 1's only and one not finite", c)
	}
}
