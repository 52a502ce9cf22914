package clv

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// BGNBD is a fitted BG/NBD model (Fader, Hardie & Lee 2005): while alive, a
// customer buys at a Poisson rate lambda, gamma(R, Alpha) distributed across
// customers; after each purchase they drop out with probability p,
// beta(A, B) distributed. Alpha is in the summaries' unit of time.
type BGNBD struct {
	R, Alpha, A, B float64
	// StdErr holds the standard errors of R, Alpha, A and B, in that
	// order, from the inverted observed information.
	StdErr [4]float64
	// LogLikelihood is the summed log-likelihood of the fit, in the
	// summaries' unit, comparable with published values.
	LogLikelihood float64
	// Customers is the number of customers fitted.
	Customers int
	// Fit tells how the optimisation went.
	Fit FitInfo
}

// bgRow is one distinct (x, t_x, T) and the number of customers with it.
type bgRow struct {
	x     int
	tx, T float64
	w     float64
}

// bgData is the fitting data: distinct rows ordered by x, so that what
// depends only on x (the lgamma and digamma terms) is computed once per x.
type bgData struct {
	rows   []bgRow
	groups []bgGroup
	n      float64 // customers
	sumX   float64 // sum of x over customers
}

type bgGroup struct {
	x          int
	start, end int
	w          float64
}

func checkSummary(i int, s *Summary) error {
	switch {
	case s.Frequency < 0:
		return fmt.Errorf("clv: summary %d (customer %d): frequency %d is negative", i, s.Customer, s.Frequency)
	case !(s.T >= 0) || math.IsInf(s.T, 0):
		return fmt.Errorf("clv: summary %d (customer %d): T %v is not a non-negative number", i, s.Customer, s.T)
	case !(s.Recency >= 0) || s.Recency > s.T:
		return fmt.Errorf("clv: summary %d (customer %d): recency %v is not in [0, T = %v]", i, s.Customer, s.Recency, s.T)
	}
	return nil
}

// newBGData aggregates the summaries, with times multiplied by scale.
// Identical histories are common (times are whole days), so a million
// customers shrink to far fewer rows, and each likelihood evaluation costs
// that much less.
func newBGData(s []Summary, scale float64) (*bgData, error) {
	rs := make([]bgRow, len(s))
	var d bgData
	repeaters := 0
	for i := range s {
		if err := checkSummary(i, &s[i]); err != nil {
			return nil, err
		}
		x := s[i].Frequency
		tx := s[i].Recency * scale
		if x == 0 {
			tx = 0 // unused by the model; zero it so that rows merge
		} else {
			repeaters++
		}
		rs[i] = bgRow{x: x, tx: tx, T: s[i].T * scale, w: 1}
		d.sumX += float64(x)
	}
	if repeaters == 0 {
		return nil, errors.New("clv: no customer made a repeat purchase; BG/NBD cannot be fitted")
	}
	slices.SortFunc(rs, func(a, b bgRow) int {
		if c := cmp.Compare(a.x, b.x); c != 0 {
			return c
		}
		if c := cmp.Compare(a.T, b.T); c != 0 {
			return c
		}
		return cmp.Compare(a.tx, b.tx)
	})
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && out[k].x == r.x && out[k].T == r.T && out[k].tx == r.tx {
			out[k].w++
			continue
		}
		out = append(out, r)
	}
	d.rows = slices.Clip(out)
	for i := 0; i < len(d.rows); {
		g := bgGroup{x: d.rows[i].x, start: i}
		for i < len(d.rows) && d.rows[i].x == g.x {
			g.w += d.rows[i].w
			i++
		}
		g.end = i
		d.groups = append(d.groups, g)
	}
	d.n = float64(len(s))
	return &d, nil
}

// logLik returns the summed log-likelihood at (r, alpha, a, b) and, when
// grad is not nil, its gradient with respect to them. It is the numerically
// stable form lifetimes uses: the two terms of the likelihood are added in
// log space (log-sum-exp), because each alone underflows for frequent
// buyers.
func (d *bgData) logLik(r, alpha, a, b float64, grad []float64) float64 {
	lgr, _ := math.Lgamma(r)
	lgb, _ := math.Lgamma(b)
	lgab, _ := math.Lgamma(a + b)
	var psiR, psiB, psiAB float64
	if grad != nil {
		psiR, psiB, psiAB = mathext.Digamma(r), mathext.Digamma(b), mathext.Digamma(a+b)
		clear(grad)
	}
	lnA, lnAlpha := math.Log(a), math.Log(alpha)
	var ll float64
	for _, g := range d.groups {
		x := float64(g.x)
		rx := r + x
		lg1, _ := math.Lgamma(rx)
		lg2, _ := math.Lgamma(b + x)
		lg3, _ := math.Lgamma(a + b + x)
		base := lg1 - lgr + r*lnAlpha + lgab + lg2 - lgb - lg3
		c4 := 0.0
		if g.x > 0 {
			c4 = lnA - math.Log(b+x-1)
		}
		// Row sums: the log-sum-exp terms and, for the gradient, the
		// terms' weights times their derivatives.
		var sL, sR, sAlpha, sA, sB float64
		for _, row := range d.rows[g.start:g.end] {
			l3 := math.Log(alpha + row.T)
			a3 := -rx * l3
			if g.x == 0 {
				sL += row.w * a3
				if grad != nil {
					sR -= row.w * l3
					sAlpha -= row.w * rx / (alpha + row.T)
				}
				continue
			}
			l4 := math.Log(alpha + row.tx)
			a4 := c4 - rx*l4
			e := math.Exp(-math.Abs(a3 - a4))
			sL += row.w * (math.Max(a3, a4) + math.Log1p(e))
			if grad != nil {
				// Softmax weights of the alive (3) and dropped-out
				// (4) terms.
				w3, w4 := 1/(1+e), e/(1+e)
				if a4 > a3 {
					w3, w4 = w4, w3
				}
				sR -= row.w * (w3*l3 + w4*l4)
				sAlpha -= row.w * rx * (w3/(alpha+row.T) + w4/(alpha+row.tx))
				sA += row.w * w4 / a
				sB -= row.w * w4 / (b + x - 1)
			}
		}
		ll += g.w*base + sL
		if grad != nil {
			psiRX := mathext.Digamma(rx)
			psiABX := mathext.Digamma(a + b + x)
			grad[0] += g.w*(psiRX-psiR+lnAlpha) + sR
			grad[1] += g.w*r/alpha + sAlpha
			grad[2] += g.w*(psiAB-psiABX) + sA
			grad[3] += g.w*(psiAB+mathext.Digamma(b+x)-psiB-psiABX) + sB
		}
	}
	return ll
}

// objective is the mean negative log-likelihood in log-parameters.
func (d *bgData) objective(lp, grad []float64) float64 {
	r, alpha, a, b := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2]), math.Exp(lp[3])
	ll := d.logLik(r, alpha, a, b, grad)
	if grad != nil {
		// d/d(log θ) = θ d/dθ; negate and average.
		for i, v := range [4]float64{r, alpha, a, b} {
			grad[i] *= -v / d.n
		}
	}
	return -ll / d.n
}

// FitBGNBD fits a BG/NBD model to the summaries by maximum likelihood. It
// minimises the mean negative log-likelihood over the logarithms of the
// parameters (so they stay positive without bounds) with BFGS from r = alpha
// = a = b = 1, with time rescaled so that the longest T is 10 (as lifetimes
// does) to keep alpha's start sensible whatever the unit. It is
// deterministic. At least one customer must have made a repeat purchase.
//
// It fails when the likelihood has no maximum inside the parameter space,
// as with a handful of customers, when the optimum drifts towards zero or
// infinity; the model returned with such an error is for diagnosis only.
func FitBGNBD(s []Summary) (BGNBD, error) {
	maxT := 0.0
	for i := range s {
		maxT = math.Max(maxT, s[i].T)
	}
	scale := 1.0
	if maxT > 0 {
		scale = 10 / maxT
	}
	d, err := newBGData(s, scale)
	if err != nil {
		return BGNBD{}, err
	}
	lp, info, err := minimize(d.objective, make([]float64, 4))
	if err != nil {
		return BGNBD{Fit: info}, fmt.Errorf("clv: fit BG/NBD: %w", err)
	}
	se, err := standardErrors(d.objective, lp, d.n)
	m := BGNBD{
		R:         math.Exp(lp[0]),
		Alpha:     math.Exp(lp[1]) / scale,
		A:         math.Exp(lp[2]),
		B:         math.Exp(lp[3]),
		Customers: len(s),
		Fit:       info,
	}
	if se != nil {
		m.StdErr = [4]float64{se[0], se[1] / scale, se[2], se[3]}
	}
	// Scaling time by s takes x log s off each customer's log-likelihood
	// (the likelihood is a density in time); add it back so that the
	// figure is in the summaries' unit, as published.
	m.LogLikelihood = -d.n*d.objective(lp, nil) + d.sumX*math.Log(scale)
	if err != nil {
		return m, fmt.Errorf("clv: fit BG/NBD (r = %.4g, alpha = %.4g, a = %.4g, b = %.4g): %w", m.R, m.Alpha, m.A, m.B, err)
	}
	return m, nil
}

// LogLikelihoodOf returns the summed log-likelihood of the summaries under
// the model's parameters: to compare models, or parameters from elsewhere,
// on the same data.
func (m BGNBD) LogLikelihoodOf(s []Summary) (float64, error) {
	d, err := newBGData(s, 1)
	if err != nil {
		return 0, err
	}
	return d.logLik(m.R, m.Alpha, m.A, m.B, nil), nil
}

// PAlive is the probability that a customer with history (x, tx, T) has not
// dropped out by T (Fader, Hardie & Lee 2008, "Computing P(alive) Using the
// BG/NBD Model"):
//
//	1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+tx))^(r+x))
//
// It is 1 for a customer who never bought again (x = 0): in BG/NBD a
// customer can only drop out right after a purchase. That is the model's,
// not the data's, verdict on one-time buyers; see Prediction.OrderProb.
func (m BGNBD) PAlive(x int, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	xf := float64(x)
	// log1p: when purchase rates hardly vary across customers, r and
	// alpha run to a billion and the ratio is 1 + 1e-9, whose log
	// would keep half its digits.
	logOdds := math.Log(m.A/(m.B+xf-1)) + (m.R+xf)*math.Log1p((T-tx)/(m.Alpha+tx))
	return 1 / (1 + math.Exp(logOdds))
}

// ExpectedPurchases is E[X(t)], the number of repeat purchases a new
// customer is expected to make in their first t units (eq. 9 of the paper).
func (m BGNBD) ExpectedPurchases(t float64) float64 {
	// Eq. 9 is eq. 10 for a customer with no history at all.
	return m.ConditionalPurchases(t, 0, 0, 0)
}

// ConditionalPurchases is E[Y(t) | x, tx, T], the number of purchases a
// customer with history (x, tx, T) is expected to make in the next t units
// (eq. 10 of the paper):
//
//	(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] P(alive)
//
// with z = t/(alpha+T+t). It is computed as P(alive) times
// purchasesIfAlive, a sum of positive terms equal to the rest, because
// every closed form of it fails somewhere a fit can land: the printed 2F1
// overflows for frequent buyers, Euler's transformation of it for large a
// (a fit lands at a and b near a million when the drop-out probability
// hardly varies across customers), both cancel to nothing near a = 1, and
// gonum's 2F1 loses its way or never returns for large parameters.
func (m BGNBD) ConditionalPurchases(t float64, x int, tx, T float64) float64 {
	return m.conditional(t, x, T, m.PAlive(x, tx, T))
}

// conditional is ConditionalPurchases given P(alive), which predictions
// share.
func (m BGNBD) conditional(t float64, x int, T, pAlive float64) float64 {
	if !(t > 0) {
		return 0
	}
	return pAlive * m.purchasesIfAlive(t, x, T)
}

// maxTerms bounds purchasesIfAlive's sum: 10-20 ms. It takes that many
// terms only when the model expects a customer to buy a million times in
// t, or t is 25,000 times alpha+T (alpha some minutes, for a customer who
// first bought at the calibration end).
const maxTerms = 1 << 20

// purchasesIfAlive is E[Y(t) | alive at T, x], the purchases expected in
// the next t units of a customer still alive after x repeat purchases in
// T. Given that, the purchase rate is gamma(r+x, alpha+T) and the drop-out
// probability p is beta(a, b+x), independently. Had the customer never
// dropped out, they would buy N times in t, N negative binomial:
//
//	P(N = j) = Γ(r+x+j) / (Γ(r+x) j!) (1-z)^(r+x) z^j,  z = t/(alpha+T+t);
//
// they make their k-th purchase only if they survived the k-1 before,
// with probability R_k = E[(1-p)^(k-1)] = prod_{i<k-1} (b+x+i)/(a+b+x+i).
// So E[Y] = sum_j P(N = j) S_j with S_j = R_1 + ... + R_j: every term
// positive, no cancellation, no singularity at a = 1, each factor a ratio
// near 1 whatever a and b (as they grow with a/(a+b) = p, R_k tends to
// (1-p)^(k-1) and the sum to (1 - E[e^(-lambda p t)])/p, the fixed-p
// limit). It stops when a bound on the rest of the sum falls below
// rounding, after about as many terms as N takes values: E[N] =
// (r+x) t/(alpha+T) plus some multiple of 1/(1-z). Cut short at
// maxTerms, it is the middle of what the bound leaves when that is within
// a millionth, else NaN.
func (m BGNBD) purchasesIfAlive(t float64, x int, T float64) float64 {
	xf := float64(x)
	s, bx := m.R+xf, m.B+xf
	w := t / (m.Alpha + T)
	z := w / (1 + w)
	// P(N = j) = v e^off. P(N = 0) = (1+w)^-s underflows for frequent
	// buyers, and v grows up to the mode: rescale v (and the sum) into
	// off as it grows, so that neither leaves float64.
	off := -s * math.Log1p(w)
	// q is the next ratio P(N = j+1)/P(N = j) = (s+j) z/(j+1), which
	// moves monotonically towards z, so rho bounds it from here on; R
	// does not grow, so S_(j+k) <= S_j + k R_(j+1), and what is left of
	// the sum is at most v rho/(1-rho) (S + R_(j+1)/(1-rho)).
	const eps = 0x1p-53
	q, v, r, S, sum := s*z, 1.0, 1.0, 0.0, 0.0
	rho, done := 1.0, false
	for j := 1.0; j <= maxTerms; j++ {
		v *= q
		S += r // S_j
		sum += v * S
		r *= (bx + j - 1) / (m.A + bx + j - 1) // R_(j+1)
		q = (s + j) / (j + 1) * z
		if rho = max(q, z); rho < 1 {
			if u := 1 - rho; v*rho*(S*u+r) <= eps*sum*u*u {
				done = true
				break
			}
		}
		if v > 0x1p900 {
			v, sum, off = v*0x1p-900, sum*0x1p-900, off+900*math.Ln2
		}
	}
	if !done {
		// Cut short: the value is within sum + [0, rest].
		rest := math.Inf(1)
		if u := 1 - rho; u > 0 {
			rest = v * rho / u * (S + r/u)
		}
		if !(rest <= 1e-6*sum) {
			return math.NaN() // no honest figure; see maxTerms
		}
		sum += rest / 2
	}
	if off > -700 {
		return sum * math.Exp(off)
	}
	return math.Exp(math.Log(sum) + off)
}

// OrderProb is the probability that a customer with history (x, tx, T)
// makes at least one purchase in the next t units. Given alive, the time to
// the next purchase is exponential with a gamma(r+x, alpha+T) rate (a
// customer drops out only after a purchase, so nothing can intervene), so
// it is
//
//	P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)).
func (m BGNBD) OrderProb(t float64, x int, tx, T float64) float64 {
	return m.orderProb(t, x, T, m.PAlive(x, tx, T))
}

func (m BGNBD) orderProb(t float64, x int, T, pAlive float64) float64 {
	if !(t > 0) {
		return 0
	}
	return pAlive * -math.Expm1(-(m.R+float64(x))*math.Log1p(t/(m.Alpha+T)))
}

// NextOrder is the expected time to a customer's next order, in units after
// T, and whether there is one within max units. It is the median of that
// time: the t at which OrderProb reaches 1/2, which has a closed form,
//
//	t = (alpha+T) ((1 - 1/(2 P(alive)))^(-1/(r+x)) - 1).
//
// A median rather than a mean because the mean waiting time is infinite
// for many customers under the model (a gamma mixture of exponentials with
// shape r+x <= 1), and because "more likely than not by then" is what a
// store owner reads into a date. There is none when P(alive) <= 1/2 (the
// customer is more likely gone than not, so no date is honest) or when the
// median is beyond max, as it is for most one-time buyers.
func (m BGNBD) NextOrder(x int, tx, T, max float64) (float64, bool) {
	return m.nextOrder(x, T, max, m.PAlive(x, tx, T))
}

func (m BGNBD) nextOrder(x int, T, max, pAlive float64) (float64, bool) {
	if pAlive <= 0.5 {
		return 0, false
	}
	u := 1 - 1/(2*pAlive)
	t := (m.Alpha + T) * math.Expm1(-math.Log(u)/(m.R+float64(x)))
	if !(t <= max) {
		return 0, false
	}
	return t, true
}
