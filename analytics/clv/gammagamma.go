package clv

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// GammaGamma is a fitted Gamma-Gamma model of spend per purchase (Fader,
// Hardie & Lee 2005, JMR; Fader & Hardie 2013): a customer's purchase
// values are gamma(P, nu) around their own mean P/nu, and nu is
// gamma(Q, Gamma) across customers. Gamma is in money.
type GammaGamma struct {
	P, Q, Gamma float64
	// StdErr holds the standard errors of P, Q and Gamma, in that
	// order, from the inverted observed information.
	StdErr [3]float64
	// LogLikelihood is the summed log-likelihood of the fit (eq. 1a of
	// the 2013 note, over customers with a repeat purchase).
	LogLikelihood float64
	// Customers is the number of customers fitted: those with a repeat
	// purchase and a positive monetary value.
	Customers int
	// Skipped counts the customers with a repeat purchase left out
	// because their monetary value was not positive (refunds exceeding
	// purchases): the model is for positive spend.
	Skipped int
	// Fit tells how the optimisation went.
	Fit FitInfo
}

// ggRow is one customer: x repeat purchases averaging m.
type ggRow struct {
	x  float64
	xm float64 // x·m
}

// ggData is the fitting data ordered by x, with what depends only on x and
// the data precomputed, so that an evaluation costs one log per customer.
type ggData struct {
	rows   []ggRow
	groups []ggGroup
	n      float64
}

type ggGroup struct {
	x, lnx     float64
	start, end int
	w          float64
	sumLnM     float64
}

// newGGData keeps the customers with x > 0 and m > 0, with money divided
// by scale, and reports how many repeat customers had m <= 0.
func newGGData(s []Summary, scale float64) (*ggData, int, error) {
	var rs []struct {
		x int
		m float64
	}
	skipped := 0
	for i := range s {
		if s[i].Frequency < 0 {
			return nil, 0, fmt.Errorf("clv: summary %d (customer %d): frequency %d is negative", i, s[i].Customer, s[i].Frequency)
		}
		if s[i].Frequency == 0 {
			continue
		}
		m := s[i].Monetary
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return nil, 0, fmt.Errorf("clv: summary %d (customer %d): monetary value %v is not a number", i, s[i].Customer, m)
		}
		if m <= 0 {
			skipped++
			continue
		}
		rs = append(rs, struct {
			x int
			m float64
		}{s[i].Frequency, m / scale})
	}
	if len(rs) == 0 {
		return nil, skipped, errors.New("clv: no customer made a repeat purchase of positive value; Gamma-Gamma cannot be fitted")
	}
	slices.SortFunc(rs, func(a, b struct {
		x int
		m float64
	}) int {
		return cmp.Compare(a.x, b.x)
	})
	d := &ggData{rows: make([]ggRow, len(rs)), n: float64(len(rs))}
	for i := 0; i < len(rs); {
		x := float64(rs[i].x)
		g := ggGroup{x: x, lnx: math.Log(x), start: i}
		for ; i < len(rs) && rs[i].x == rs[g.start].x; i++ {
			d.rows[i] = ggRow{x: x, xm: x * rs[i].m}
			g.sumLnM += math.Log(rs[i].m)
			g.w++
		}
		g.end = i
		d.groups = append(d.groups, g)
	}
	return d, skipped, nil
}

// logLik is the summed log-likelihood of the customers' mean spend at
// (p, q, gamma) (eq. 1a of the 2013 note) and, when grad is not nil, its
// gradient with respect to them.
func (d *ggData) logLik(p, q, gamma float64, grad []float64) float64 {
	lgq, _ := math.Lgamma(q)
	lnGamma := math.Log(gamma)
	var psiQ float64
	if grad != nil {
		psiQ = mathext.Digamma(q)
		clear(grad)
	}
	var ll float64
	for _, g := range d.groups {
		px := p * g.x
		lg1, _ := math.Lgamma(px + q)
		lg2, _ := math.Lgamma(px)
		var sLog, sInv float64
		for _, row := range d.rows[g.start:g.end] {
			v := gamma + row.xm
			sLog += math.Log(v)
			if grad != nil {
				sInv += 1 / v
			}
		}
		ll += g.w*(lg1-lg2-lgq+q*lnGamma+px*g.lnx) + (px-1)*g.sumLnM - (px+q)*sLog
		if grad != nil {
			psi1 := mathext.Digamma(px + q)
			grad[0] += g.x * (g.w*(psi1-mathext.Digamma(px)+g.lnx) + g.sumLnM - sLog)
			grad[1] += g.w*(psi1-psiQ+lnGamma) - sLog
			grad[2] += g.w*q/gamma - (px+q)*sInv
		}
	}
	return ll
}

// objective is the mean negative log-likelihood in log-parameters.
func (d *ggData) objective(lp, grad []float64) float64 {
	p, q, gamma := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2])
	ll := d.logLik(p, q, gamma, grad)
	if grad != nil {
		for i, v := range [3]float64{p, q, gamma} {
			grad[i] *= -v / d.n
		}
	}
	return -ll / d.n
}

// FitGammaGamma fits a Gamma-Gamma model to the customers with at least one
// repeat purchase, by maximum likelihood: BFGS on the mean negative
// log-likelihood over the logarithms of p, q and gamma, from 1, 1, 1 with
// money rescaled so that the mean monetary value is 1 (so the start suits
// any currency). Customers with no repeat purchase are ignored, as the
// model requires; so are repeat customers with a monetary value <= 0,
// counted in Skipped.
//
// It returns an error when q <= 1: the fitted population mean spend,
// p gamma/(q-1), is then infinite, so expected spend is not defined for
// customers without a repeat purchase. That happens when a few enormous
// averages dominate; trimming them is the usual remedy. It also fails when
// the likelihood has no maximum inside the parameter space (a handful of
// customers, or all spending the same). The model returned with an error
// is for diagnosis only.
func FitGammaGamma(s []Summary) (GammaGamma, error) {
	var sum float64
	var k int
	for i := range s {
		if s[i].Frequency > 0 && s[i].Monetary > 0 {
			sum += s[i].Monetary
			k++
		}
	}
	scale := 1.0
	if k > 0 && sum > 0 && !math.IsInf(sum, 0) {
		scale = sum / float64(k)
	}
	d, skipped, err := newGGData(s, scale)
	if err != nil {
		return GammaGamma{Skipped: skipped}, err
	}
	lp, info, err := minimize(d.objective, make([]float64, 3))
	if err != nil {
		return GammaGamma{Skipped: skipped, Fit: info}, fmt.Errorf("clv: fit Gamma-Gamma: %w", err)
	}
	se, err := standardErrors(d.objective, lp, d.n)
	m := GammaGamma{
		P:         math.Exp(lp[0]),
		Q:         math.Exp(lp[1]),
		Gamma:     math.Exp(lp[2]) * scale,
		Customers: len(d.rows),
		Skipped:   skipped,
		Fit:       info,
	}
	if se != nil {
		m.StdErr = [3]float64{se[0], se[1], se[2] * scale}
	}
	// Dividing every mean by scale adds log(scale) to each density.
	m.LogLikelihood = -d.n*d.objective(lp, nil) - d.n*math.Log(scale)
	if err != nil {
		return m, fmt.Errorf("clv: fit Gamma-Gamma (p = %.4g, q = %.4g, gamma = %.4g): %w", m.P, m.Q, m.Gamma, err)
	}
	if m.Q <= 1 {
		return m, fmt.Errorf("clv: fit Gamma-Gamma: q = %.4g <= 1, so the population mean spend is infinite; trim extreme spenders", m.Q)
	}
	return m, nil
}

// ownMeanP is OwnMeanSpend's p: large enough that a customer's own mean
// outweighs the population's by 10^12 to one.
const ownMeanP = 1e12

// OwnMeanSpend is the spend model to use when FitGammaGamma fails: the
// Gamma-Gamma model's limit as p grows without bound (a customer's own
// purchases do not vary), with q = 2, in which a customer with a repeat
// purchase of positive value is expected to spend their own mean
// (ExpectedSpend, to 10^-12) and anyone else the mean of those, which is
// MeanSpend. It is what the data say when spend varies too little for
// the model: when every order costs the same (a subscription) the
// likelihood has no maximum at all, and when it hardly varies across
// customers q and gamma run to infinity, where the optimiser gives up.
// Its parameters are finite, without standard errors or a
// log-likelihood. It fails only when no customer made a repeat purchase
// of positive value.
func OwnMeanSpend(s []Summary) (GammaGamma, error) {
	var sum float64
	var m GammaGamma
	for i := range s {
		switch {
		case s[i].Frequency <= 0:
		case s[i].Monetary > 0 && !math.IsInf(s[i].Monetary, 0):
			sum += s[i].Monetary
			m.Customers++
		default:
			m.Skipped++
		}
	}
	if m.Customers == 0 {
		return m, errors.New("clv: no customer made a repeat purchase of positive value; there is no spend to model")
	}
	mean := sum / float64(m.Customers)
	// MeanSpend = p gamma/(q-1) = mean.
	m.P, m.Q, m.Gamma = ownMeanP, 2, mean/ownMeanP
	return m, nil
}

// LogLikelihoodOf returns the summed log-likelihood of the summaries (those
// with a repeat purchase of positive value) under the model's parameters.
func (m GammaGamma) LogLikelihoodOf(s []Summary) (float64, error) {
	d, _, err := newGGData(s, 1)
	if err != nil {
		return 0, err
	}
	return d.logLik(m.P, m.Q, m.Gamma, nil), nil
}

// MeanSpend is the population mean spend per purchase, p gamma/(q-1)
// (eq. 4 of the 2013 note); +Inf when q <= 1.
func (m GammaGamma) MeanSpend() float64 {
	if m.Q <= 1 {
		return math.Inf(1)
	}
	return m.P * m.Gamma / (m.Q - 1)
}

// ExpectedSpend is the expected mean spend per purchase of a customer with
// x repeat purchases averaging monetary (eq. 5 of the 2013 note):
//
//	p (gamma + x monetary) / (p x + q - 1),
//
// a weighted average of the population mean and the customer's own, the
// customer's weight p x/(p x + q - 1) growing with x. For x = 0 it is the
// population mean, MeanSpend; so it is for a monetary value <= 0 (refunds
// exceeding purchases), which the model, being for positive spend, knows
// nothing about.
func (m GammaGamma) ExpectedSpend(x int, monetary float64) float64 {
	if x <= 0 || !(monetary > 0) {
		return m.MeanSpend()
	}
	xf := float64(x)
	return m.P * (m.Gamma + xf*monetary) / (m.P*xf + m.Q - 1)
}

// SpendFrequencyCorrelation is the Pearson correlation between the number
// of repeat purchases and the mean spend per purchase over customers with a
// repeat purchase (NaN for fewer than two). The Gamma-Gamma model assumes
// the two independent; Fader, Hardie & Lee (2005, JMR, section 2.2) check it
// this way on CDNOW (0.11) and ask anyone applying the model to new data to
// do the same. A strong correlation means CLV = purchases × spend is biased.
func SpendFrequencyCorrelation(s []Summary) float64 {
	var n, sx, sm, sxx, smm, sxm float64
	for i := range s {
		if s[i].Frequency <= 0 {
			continue
		}
		x, m := float64(s[i].Frequency), s[i].Monetary
		n++
		sx += x
		sm += m
		sxx += x * x
		smm += m * m
		sxm += x * m
	}
	if n < 2 {
		return math.NaN()
	}
	cov := sxm - sx*sm/n
	vx := sxx - sx*sx/n
	vm := smm - sm*sm/n
	return cov / math.Sqrt(vx*vm)
}
