package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics/clv"
)

// listed is how many customers the CLV result lists as top and at risk.
const listed = 25

// runCLV fits BG/NBD and Gamma-Gamma on the orders up to the calibration
// end and predicts, from then, every fitted customer's purchases and
// value over the horizon. Orders after the calibration end (up to as-of)
// are the holdout the prediction is compared with.
func (r *Runner) runCLV(ctx context.Context, run *touchbase.AnalysisRun, p Params, progress Progress) (*CLVResult, error) {
	ws := run.WorkspaceID
	progress("reading orders", 0, 0)
	var tx []clv.Transaction
	err := r.st.ScanOrderFacts(ctx, ws, func(o touchbase.OrderFact) error {
		tx = append(tx, clv.Transaction{Customer: o.CustomerID, At: time.UnixMilli(o.PlacedAt), Amount: o.Value})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(tx) == 0 {
		return nil, errNoData
	}
	opts := clv.Options{CalibrationEnd: p.calibrationEnd(), Unit: p.unit()}
	if asOf := p.AsOf.Truncate(24 * time.Hour); asOf.After(opts.CalibrationEnd) {
		opts.HoldoutEnd = asOf
	}
	progress("summarising", 0, len(tx))
	sums, err := clv.Summarize(tx, opts)
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "clv: %v", err)
	}
	if len(sums) == 0 {
		return nil, touchbase.Errorf(touchbase.EINVALID, "clv: no customer ordered by the calibration end %s", p.CalibrationEnd)
	}
	progress("fitting", 0, len(sums))
	// A fit on the boundary (no standard errors) still predicts: it is
	// the most likely model, with a parameter at its limit, which the
	// result says.
	var warnings []string
	fit := func(err error) error {
		if errors.Is(err, clv.ErrNotIdentified) {
			warnings = append(warnings, err.Error())
			return nil
		}
		if err != nil {
			return touchbase.Errorf(touchbase.EINVALID, "%v", err)
		}
		return nil
	}
	var m clv.Model
	m.Purchases, err = clv.FitBGNBD(sums)
	if err := fit(err); err != nil {
		return nil, err
	}
	m.Spend, err = clv.FitGammaGamma(sums)
	if err != nil && !errors.Is(err, clv.ErrNotIdentified) {
		// Spend that varies too little (a subscription) or too much
		// (q <= 1) for the model: value customers at their own means
		// rather than fail the analysis.
		own, oerr := clv.OwnMeanSpend(sums)
		if oerr != nil {
			return nil, touchbase.Errorf(touchbase.EINVALID, "%v", err)
		}
		warnings = append(warnings, fmt.Sprintf("%v; instead, each repeat customer is expected to spend their own mean order value, and everyone else the mean of those", err))
		m.Spend, err = own, nil
	}
	if err := fit(err); err != nil {
		return nil, err
	}
	horizon := float64(std(p.Horizon)) / float64(p.unit())
	progress("predicting", 0, len(sums))
	preds, err := m.PredictAll(sums, clv.PredictOptions{Horizon: horizon})
	if err != nil {
		return nil, err
	}

	bg, gg := m.Purchases, m.Spend
	res := &CLVResult{
		AsOf: p.AsOf, CalibrationEnd: p.CalibrationEnd, Unit: p.Unit, Horizon: string(p.Horizon),
		R: bg.R, Alpha: bg.Alpha, A: bg.A, B: bg.B, BGNBDLogLikelihood: bg.LogLikelihood,
		P: gg.P, Q: gg.Q, V: gg.Gamma, GammaGammaLogLikelihood: gg.LogLikelihood,
		StdErrors: map[string]float64{},
		Customers: len(sums), Repeaters: gg.Customers,
		Risk:     map[string]int{"low": 0, "medium": 0, "high": 0},
		Warnings: warnings,
	}
	for i, name := range []string{"r", "alpha", "a", "b"} {
		if bg.StdErr[i] > 0 {
			res.StdErrors[name] = bg.StdErr[i]
		}
	}
	for i, name := range []string{"p", "q", "v"} {
		if gg.StdErr[i] > 0 {
			res.StdErrors[name] = gg.StdErr[i]
		}
	}

	// Revenue and orders so far, for the at-risk list.
	byCustomer := make(map[int64]clvTotals, len(sums))
	for _, t := range tx {
		v := byCustomer[t.Customer]
		v.orders++
		v.revenue += t.Amount
		byCustomer[t.Customer] = v
	}
	scores, list, values := tallyCLV(res, preds, byCustomer, opts)
	if n := len(preds) - len(scores); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d customers' predictions are not finite: the model fit is degenerate (r = %.4g, alpha = %.4g, a = %.4g, b = %.4g); they have no lifetime-value scores",
			n, bg.R, bg.Alpha, bg.A, bg.B))
	}
	progress("saving scores", 0, len(scores))
	if err := r.st.SaveCLVScores(ctx, ws, run.ID, scores, saved(progress, len(scores))); err != nil {
		return nil, err
	}
	run.Customers = len(scores)

	res.Distribution, _ = histogram(values, 20)
	slices.SortFunc(list, func(a, b CLVCustomer) int {
		return cmp.Or(cmp.Compare(b.PredictedCLV, a.PredictedCLV), cmp.Compare(a.CustomerID, b.CustomerID))
	})
	res.Top = slices.Clone(list[:min(listed, len(list))])
	slices.SortFunc(list, func(a, b CLVCustomer) int {
		return cmp.Or(cmp.Compare(b.Revenue, a.Revenue), cmp.Compare(a.CustomerID, b.CustomerID))
	})
	for _, c := range list {
		if len(res.AtRisk) == listed {
			break
		}
		if c.ChurnRisk == string(clv.RiskHigh) {
			res.AtRisk = append(res.AtRisk, c)
		}
	}
	if length, err := opts.HoldoutLength(); err == nil && length > 0 {
		cmpd := bg.CompareHoldout(sums, length, 0)
		if cmpd.NotFinite > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%d customers' holdout predictions are not finite; the holdout comparison leaves them out", cmpd.NotFinite))
		}
		h := &Holdout{Length: length, Actual: cmpd.Actual, Predicted: cmpd.Predicted}
		for _, row := range cmpd.Rows {
			h.Rows = append(h.Rows, HoldoutRow{Frequency: row.Frequency, Customers: row.Customers, Actual: row.Actual, Predicted: row.Predicted})
		}
		res.Holdout = h
	}
	return res, nil
}

// clvTotals are a customer's orders and revenue so far.
type clvTotals struct {
	orders  int
	revenue float64
}

// tallyCLV turns predictions into scores, the result's totals and risk
// bands, the customers to list and the values to chart. A prediction that
// is not finite is left out of all of them (the caller warns): a NaN
// would fail the result's JSON and read as a score it is not, and the
// customer's scores are better unset, as for a customer never scored.
func tallyCLV(res *CLVResult, preds []clv.Prediction, byCustomer map[int64]clvTotals, opts clv.Options) ([]touchbase.CLVScore, []CLVCustomer, []float64) {
	scores := make([]touchbase.CLVScore, 0, len(preds))
	list := make([]CLVCustomer, 0, len(preds))
	values := make([]float64, 0, len(preds))
	for i := range preds {
		pr := &preds[i]
		if !pr.Finite() {
			continue
		}
		sc := touchbase.CLVScore{
			CustomerID: pr.Customer, PAlive: pr.PAlive, ExpectedPurchases: pr.Purchases,
			PredictedCLV: pr.CLV, ChurnRisk: string(pr.Risk),
		}
		if pr.HasNextOrder {
			if at, err := opts.TimeAt(pr.NextOrder); err == nil {
				sc.NextOrderAt = at
			}
		}
		scores = append(scores, sc)
		res.ExpectedPurchases += pr.Purchases
		res.PredictedRevenue += pr.CLV
		res.Risk[string(pr.Risk)]++
		t := byCustomer[pr.Customer]
		list = append(list, CLVCustomer{CustomerID: pr.Customer, Revenue: t.revenue, Orders: t.orders, PAlive: pr.PAlive,
			ExpectedPurchases: pr.Purchases, PredictedCLV: pr.CLV, ChurnRisk: string(pr.Risk)})
		values = append(values, pr.CLV)
	}
	return scores, list, values
}

// histogram buckets values into at most n bars of equal width from 0 to
// the 99th percentile, the last bar taking everything above: a few very
// valuable customers would otherwise squeeze every other bar into one.
// NaN and infinities have no bar; they are left out and counted.
func histogram(values []float64, n int) ([]Bucket, int) {
	sorted := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			sorted = append(sorted, v)
		}
	}
	skipped := len(values) - len(sorted)
	if len(sorted) == 0 {
		return nil, skipped
	}
	slices.Sort(sorted)
	lo := math.Min(0, sorted[0])
	hi := sorted[min(len(sorted)-1, len(sorted)*99/100)]
	if hi <= lo {
		hi = lo + 1
	}
	// Divided first, so that neither hi-lo nor the bars' edges overflow.
	fn := float64(n)
	width := hi/fn - lo/fn
	edge := func(i int) float64 { return lo/fn*float64(n-i) + hi/fn*float64(i) }
	out := make([]Bucket, n)
	for i := range out {
		out[i] = Bucket{Min: edge(i), Max: edge(i + 1)}
	}
	out[n-1].Max = sorted[len(sorted)-1]
	for _, v := range sorted {
		// Compared in floating point: a value far beyond the 99th
		// percentile is past int's range, where int() is undefined
		// (MinInt64 on amd64); so is NaN, from a zero width.
		i := n - 1
		if f := (v - lo) / width; f < float64(n-1) {
			i = int(f)
		}
		out[i].Count++
	}
	return out, skipped
}
