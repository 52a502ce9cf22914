package analytics

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/clv"
)

// TestHistogramNotFinite: NaN and infinities have no bar and are
// counted; finite values far apart, or beyond int's range from the 99th
// percentile, land in a bar. It panicked on int(NaN) before.
func TestHistogramNotFinite(t *testing.T) {
	tests := []struct {
		name    string
		values  []float64
		counted int
		skipped int
	}{
		{"NaN and infinities", []float64{1, math.NaN(), 2, math.Inf(1), 3, math.Inf(-1)}, 3, 3},
		{"only NaN", []float64{math.NaN(), math.NaN()}, 0, 2},
		{"one far beyond the rest", append(make([]float64, 200), 1e30), 201, 0},
		{"the whole float64 range", []float64{-math.MaxFloat64, 0, math.MaxFloat64}, 3, 0},
		{"all equal and large", []float64{1e17, 1e17, 1e17}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bars, skipped := histogram(tt.values, 20)
			n := 0
			for _, b := range bars {
				n += b.Count
			}
			if n != tt.counted || skipped != tt.skipped {
				t.Errorf("%d in bars and %d skipped, want %d and %d: %+v", n, skipped, tt.counted, tt.skipped, bars)
			}
			if _, err := json.Marshal(bars); err != nil {
				t.Errorf("bars do not encode: %v", err)
			}
		})
	}
}

// TestTallyCLVNotFinite: a prediction that is not finite gets no score
// and counts in no total, band, list or bar, so the result encodes.
func TestTallyCLVNotFinite(t *testing.T) {
	ok := clv.Prediction{Customer: 1, PAlive: 0.9, Risk: clv.RiskLow, Purchases: 2, OrderProb: 0.8, Spend: 10, CLV: 20, NextOrder: 3, HasNextOrder: true}
	preds := []clv.Prediction{ok}
	for i, bad := range []func(*clv.Prediction){
		func(p *clv.Prediction) { p.Purchases, p.CLV = math.Inf(-1), math.NaN() },
		func(p *clv.Prediction) { p.PAlive, p.Risk = math.NaN(), clv.RiskOf(math.NaN()) },
		func(p *clv.Prediction) { p.NextOrder = math.Inf(1) },
		func(p *clv.Prediction) { p.Spend, p.CLV = math.Inf(1), math.Inf(1) },
	} {
		p := ok
		p.Customer = int64(i + 2)
		bad(&p)
		preds = append(preds, p)
	}
	res := &CLVResult{Risk: map[string]int{"low": 0, "medium": 0, "high": 0}, StdErrors: map[string]float64{}}
	opts := clv.Options{CalibrationEnd: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Unit: 7 * 24 * time.Hour}
	scores, list, values := tallyCLV(res, preds, map[int64]clvTotals{1: {orders: 3, revenue: 30}}, opts)
	if len(scores) != 1 || scores[0].CustomerID != 1 || len(list) != 1 || len(values) != 1 {
		t.Fatalf("scores %+v, list %+v, values %v: want customer 1's only", scores, list, values)
	}
	if res.ExpectedPurchases != 2 || res.PredictedRevenue != 20 || res.Risk["low"] != 1 || res.Risk["high"] != 0 {
		t.Errorf("totals %v, %v, bands %v: want customer 1's only", res.ExpectedPurchases, res.PredictedRevenue, res.Risk)
	}
	res.Distribution, _ = histogram(values, 20)
	res.Top = list
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("the result does not encode: %v", err)
	}
}
