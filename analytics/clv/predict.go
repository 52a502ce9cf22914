package clv

import (
	"fmt"
	"math"
)

// Model is a purchase model and a spend model fitted to the same customers.
type Model struct {
	Purchases BGNBD
	Spend     GammaGamma
}

// Fit fits both models to the summaries: BG/NBD to every customer,
// Gamma-Gamma to those with a repeat purchase.
func Fit(s []Summary) (Model, error) {
	bg, err := FitBGNBD(s)
	if err != nil {
		return Model{}, err
	}
	gg, err := FitGammaGamma(s)
	if err != nil {
		return Model{}, err
	}
	return Model{Purchases: bg, Spend: gg}, nil
}

// Risk is a churn-risk band.
type Risk string

// The churn-risk bands, by P(alive).
const (
	RiskLow    Risk = "low"    // P(alive) >= 0.7
	RiskMedium Risk = "medium" // 0.3 <= P(alive) < 0.7
	RiskHigh   Risk = "high"   // P(alive) < 0.3
)

// RiskOf bands a probability of being alive: low from 0.7, high below 0.3,
// medium between. Fixed cut-offs rather than quantiles of the customer
// base, so that a band means the same thing in every store and from one
// fit to the next. Mind that BG/NBD gives every one-time buyer P(alive) = 1,
// hence low risk; Prediction.OrderProb is the better guide for them.
func RiskOf(pAlive float64) Risk {
	switch {
	case pAlive >= 0.7:
		return RiskLow
	case pAlive >= 0.3:
		return RiskMedium
	default:
		return RiskHigh
	}
}

// PredictOptions say what to predict over.
type PredictOptions struct {
	// Horizon is how far ahead to predict, in the summaries' unit (52
	// for a year in weeks). It must be positive.
	Horizon float64
	// Periods splits the horizon into equal periods for discounting; 0
	// means 1. With 12 periods over a year and DiscountRate 0.01, cash
	// is discounted 1% a month, as lifetimes' customer_lifetime_value
	// does.
	Periods int
	// DiscountRate is the discount rate per period, >= 0.
	DiscountRate float64
}

func (o PredictOptions) validate() error {
	switch {
	case !(o.Horizon > 0) || math.IsInf(o.Horizon, 0):
		return fmt.Errorf("clv: predict options: horizon %v is not a positive number", o.Horizon)
	case o.Periods < 0:
		return fmt.Errorf("clv: predict options: periods %d is negative", o.Periods)
	case !(o.DiscountRate >= 0) || math.IsInf(o.DiscountRate, 0):
		return fmt.Errorf("clv: predict options: discount rate %v is not a non-negative number", o.DiscountRate)
	}
	return nil
}

// Prediction is what the models say about one customer, from the
// calibration end (see Options.TimeAt) over PredictOptions.Horizon.
type Prediction struct {
	Customer int64
	// PAlive is the probability that the customer has not dropped out.
	PAlive float64
	// Risk is the churn-risk band of PAlive.
	Risk Risk
	// Purchases is the expected number of purchases within the horizon.
	Purchases float64
	// OrderProb is the probability of at least one purchase within the
	// horizon.
	OrderProb float64
	// Spend is the expected spend per purchase.
	Spend float64
	// CLV is the expected (discounted) spend within the horizon.
	CLV float64
	// NextOrder is the median time to the next purchase, in units after
	// the calibration end (BGNBD.NextOrder); meaningful only when
	// HasNextOrder, which is false when the customer is more likely gone
	// than not or the median lies beyond the horizon.
	NextOrder    float64
	HasNextOrder bool
}

// Finite reports whether every number of the prediction is finite (NaN
// and infinities are not). BGNBD's predictions are finite for every
// model a fit returns, short of one that expects a customer to buy a
// million times within the horizon (see BGNBD.ConditionalPurchases);
// callers that store or show predictions check it all the same.
func (p *Prediction) Finite() bool {
	for _, f := range [...]float64{p.PAlive, p.Purchases, p.OrderProb, p.Spend, p.CLV, p.NextOrder} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// Predict predicts one customer. CLV is
//
//	sum over periods k = 1..n of  Spend × (E[Y(k h/n)] - E[Y((k-1) h/n)]) / (1+d)^k
//
// for horizon h, n periods and discount rate d, E[Y(t)] being
// BGNBD.ConditionalPurchases: the purchases expected in each period, valued
// at the expected spend, discounted to the calibration end. With d = 0 it
// is Spend × Purchases. Spend and purchases are multiplied as independent,
// which is the Gamma-Gamma model's assumption (see
// SpendFrequencyCorrelation).
func (m Model) Predict(s Summary, o PredictOptions) (Prediction, error) {
	if err := o.validate(); err != nil {
		return Prediction{}, err
	}
	if err := checkSummary(0, &s); err != nil {
		return Prediction{}, err
	}
	return m.predict(&s, &o), nil
}

// PredictAll predicts every customer, in the order of the summaries.
// Customers with the same history (x, t_x, T), common when times are whole
// days, share the purchase model's part of the work.
func (m Model) PredictAll(s []Summary, o PredictOptions) ([]Prediction, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	for i := range s {
		if err := checkSummary(i, &s[i]); err != nil {
			return nil, err
		}
	}
	out := make([]Prediction, len(s))
	seen := make(map[history]outlook)
	for i := range s {
		h := history{x: s[i].Frequency, tx: s[i].Recency, T: s[i].T}
		if h.x == 0 {
			h.tx = 0 // unused by the model
		}
		ol, ok := seen[h]
		if !ok {
			ol = m.Purchases.outlook(h, &o)
			seen[h] = ol
		}
		out[i] = m.prediction(&s[i], &ol)
	}
	return out, nil
}

// history is what the purchase model knows of a customer.
type history struct {
	x     int
	tx, T float64
}

// outlook is what the purchase model predicts for a history: a Prediction
// but for spend.
type outlook struct {
	pAlive, purchases, orderProb, nextOrder float64
	hasNextOrder                            bool
	// discounted is the sum of each period's expected purchases,
	// discounted: CLV per unit of spend.
	discounted float64
}

func (m Model) predict(s *Summary, o *PredictOptions) Prediction {
	ol := m.Purchases.outlook(history{x: s.Frequency, tx: s.Recency, T: s.T}, o)
	return m.prediction(s, &ol)
}

func (m Model) prediction(s *Summary, ol *outlook) Prediction {
	spend := m.Spend.ExpectedSpend(s.Frequency, s.Monetary)
	return Prediction{
		Customer:     s.Customer,
		PAlive:       ol.pAlive,
		Risk:         RiskOf(ol.pAlive),
		Purchases:    ol.purchases,
		OrderProb:    ol.orderProb,
		Spend:        spend,
		CLV:          spend * ol.discounted,
		NextOrder:    ol.nextOrder,
		HasNextOrder: ol.hasNextOrder,
	}
}

func (bg BGNBD) outlook(h history, o *PredictOptions) outlook {
	var ol outlook
	ol.pAlive = bg.PAlive(h.x, h.tx, h.T)
	ol.purchases = bg.conditional(o.Horizon, h.x, h.T, ol.pAlive)
	ol.orderProb = bg.orderProb(o.Horizon, h.x, h.T, ol.pAlive)
	ol.nextOrder, ol.hasNextOrder = bg.nextOrder(h.x, h.T, o.Horizon, ol.pAlive)
	if o.DiscountRate == 0 {
		ol.discounted = ol.purchases
		return ol
	}
	n := max(o.Periods, 1)
	step := o.Horizon / float64(n)
	var prev float64
	disc := 1.0
	for k := 1; k <= n; k++ {
		cum := ol.purchases
		if k < n {
			cum = bg.conditional(float64(k)*step, h.x, h.T, ol.pAlive)
		}
		disc /= 1 + o.DiscountRate
		ol.discounted += (cum - prev) * disc
		prev = cum
	}
	return ol
}
