package analytics

import (
	"cmp"
	"context"
	"errors"
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
	type totals struct {
		orders  int
		revenue float64
	}
	byCustomer := make(map[int64]totals, len(sums))
	for _, t := range tx {
		v := byCustomer[t.Customer]
		v.orders++
		v.revenue += t.Amount
		byCustomer[t.Customer] = v
	}
	scores := make([]touchbase.CLVScore, len(preds))
	list := make([]CLVCustomer, len(preds))
	values := make([]float64, len(preds))
	for i, pr := range preds {
		sc := touchbase.CLVScore{
			CustomerID: pr.Customer, PAlive: pr.PAlive, ExpectedPurchases: pr.Purchases,
			PredictedCLV: pr.CLV, ChurnRisk: string(pr.Risk),
		}
		if pr.HasNextOrder {
			if at, err := opts.TimeAt(pr.NextOrder); err == nil {
				sc.NextOrderAt = at
			}
		}
		scores[i] = sc
		res.ExpectedPurchases += pr.Purchases
		res.PredictedRevenue += pr.CLV
		res.Risk[string(pr.Risk)]++
		t := byCustomer[pr.Customer]
		list[i] = CLVCustomer{CustomerID: pr.Customer, Revenue: t.revenue, Orders: t.orders, PAlive: pr.PAlive,
			ExpectedPurchases: pr.Purchases, PredictedCLV: pr.CLV, ChurnRisk: string(pr.Risk)}
		values[i] = pr.CLV
	}
	progress("saving scores", 0, len(scores))
	if err := r.st.SaveCLVScores(ctx, ws, run.ID, scores, saved(progress, len(scores))); err != nil {
		return nil, err
	}
	run.Customers = len(scores)

	res.Distribution = histogram(values, 20)
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
		h := &Holdout{Length: length, Actual: cmpd.Actual, Predicted: cmpd.Predicted}
		for _, row := range cmpd.Rows {
			h.Rows = append(h.Rows, HoldoutRow{Frequency: row.Frequency, Customers: row.Customers, Actual: row.Actual, Predicted: row.Predicted})
		}
		res.Holdout = h
	}
	return res, nil
}

// histogram buckets values into at most n bars of equal width from 0 to
// the 99th percentile, the last bar taking everything above: a few very
// valuable customers would otherwise squeeze every other bar into one.
func histogram(values []float64, n int) []Bucket {
	if len(values) == 0 {
		return nil
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	lo := math.Min(0, sorted[0])
	hi := sorted[min(len(sorted)-1, len(sorted)*99/100)]
	if hi <= lo {
		hi = lo + 1
	}
	width := (hi - lo) / float64(n)
	out := make([]Bucket, n)
	for i := range out {
		out[i] = Bucket{Min: lo + float64(i)*width, Max: lo + float64(i+1)*width}
	}
	out[n-1].Max = sorted[len(sorted)-1]
	for _, v := range sorted {
		i := min(n-1, int((v-lo)/width))
		out[i].Count++
	}
	return out
}
