package clv

import "math"

// HoldoutRow compares, for the customers with one calibration frequency,
// the purchases they made in the holdout period with those the model
// expected of them.
type HoldoutRow struct {
	// Frequency is the calibration frequency x; the last row holds the
	// customers with this frequency or more ("7+" in the paper).
	Frequency int
	Customers int
	// Actual and Predicted are mean holdout purchases per customer.
	Actual, Predicted float64
}

// HoldoutComparison is the paper's conditional-expectation check (Fader,
// Hardie & Lee 2005, figure 5): calibration-period customers grouped by
// frequency, actual against predicted holdout purchases, and the totals.
type HoldoutComparison struct {
	Rows []HoldoutRow
	// Actual and Predicted are total holdout purchases over all customers.
	Actual, Predicted float64
	// NotFinite counts the customers left out because their prediction
	// was not finite (see Prediction.Finite).
	NotFinite int
}

// CompareHoldout compares the holdout purchases in the summaries with the
// model's conditional expectations over a holdout of length units
// (Options.HoldoutLength), grouping calibration frequencies from censor up
// into one row; censor <= 0 means 7, as in the paper. Frequencies with no
// customers are left out, and so are customers whose prediction is not
// finite, counted in NotFinite.
func (m BGNBD) CompareHoldout(s []Summary, length float64, censor int) HoldoutComparison {
	if censor <= 0 {
		censor = 7
	}
	rows := make([]HoldoutRow, censor+1)
	var c HoldoutComparison
	for i := range s {
		x := s[i].Frequency
		pred := m.ConditionalPurchases(length, x, s[i].Recency, s[i].T)
		if math.IsNaN(pred) || math.IsInf(pred, 0) {
			c.NotFinite++
			continue
		}
		act := float64(s[i].HoldoutFrequency)
		r := &rows[min(max(x, 0), censor)]
		r.Customers++
		r.Actual += act
		r.Predicted += pred
		c.Actual += act
		c.Predicted += pred
	}
	for x := range rows {
		r := rows[x]
		if r.Customers == 0 {
			continue
		}
		n := float64(r.Customers)
		c.Rows = append(c.Rows, HoldoutRow{Frequency: x, Customers: r.Customers, Actual: r.Actual / n, Predicted: r.Predicted / n})
	}
	return c
}
