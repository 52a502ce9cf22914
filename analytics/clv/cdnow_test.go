package clv_test

import (
	"math"
	"testing"

	"github.com/touchbase/touchbase/analytics/clv"
)

// hardieBGNBD is the BG/NBD fit to CDNOW at full precision, from Hardie's
// spreadsheet for "Implementing the BG/NBD Model for Customer Base Analysis
// in Excel" (brucehardie.com/notes/004), as quoted in
// abdullahau/customer-analytics BG-NBD-Model.qmd; the paper rounds it to
// r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.
var hardieBGNBD = clv.BGNBD{R: 0.24259395230803, Alpha: 4.41359091416604, A: 0.792919955839573, B: 2.42589404751842}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// rounds2 reports whether got, rounded half up to two decimals as published
// tables are, is want.
func rounds2(got, want float64) bool { return near(got, want, 0.005+1e-9) }

// TestSummarizeCDNOW checks the summaries against those the published fits
// were made from: Hardie's CDNOW summary (x, t_x, T, mean repeat spend
// zbar), as shipped in lifetimes (CamDavidsonPilon/lifetimes,
// lifetimes/datasets/cdnow_customers_summary_with_transactions.csv), and
// the counts in Fader, Hardie & Lee (2005, JMR, section 2.2): 946 of the
// 2,357 customers made a repeat purchase, their mean spend averages $35.08
// and correlates 0.11 with their number of purchases.
func TestSummarizeCDNOW(t *testing.T) {
	s := cdnowSummaries(t)
	if len(s) != 2357 {
		t.Fatalf("%d customers, want 2357", len(s))
	}
	tests := []struct {
		id      int64
		x       int
		tx, T   float64
		zbar    float64
		comment string
	}{
		{1, 2, 30.43, 38.86, 22.35, "the paper's example customer"},
		{2, 1, 1.71, 38.86, 11.77, ""},
		{3, 0, 0, 38.86, 0, "one-time buyer"},
		{6, 7, 29.43, 38.86, 73.74, ""},
		{26, 1, 1.57, 38.71, 227.14, "two orders on 1997-01-13, one purchase day"},
		{46, 12, 34.43, 38.57, 29.54, ""},
		{157, 29, 37.71, 38.00, 26.26, "31 calibration orders on 30 days"},
		{509, 18, 35.14, 35.86, 78.63, ""},
	}
	byID := map[int64]clv.Summary{}
	for _, c := range s {
		byID[c.Customer] = c
	}
	for _, tt := range tests {
		c := byID[tt.id]
		if c.Frequency != tt.x || !rounds2(c.Recency, tt.tx) || !rounds2(c.T, tt.T) || !rounds2(c.Monetary, tt.zbar) {
			t.Errorf("customer %d (%s): got x=%d t_x=%.4f T=%.4f m=%.4f, want %d %.2f %.2f %.2f",
				tt.id, tt.comment, c.Frequency, c.Recency, c.T, c.Monetary, tt.x, tt.tx, tt.T, tt.zbar)
		}
	}
	rep := repeaters(s)
	if len(rep) != 946 {
		t.Errorf("%d customers with a repeat purchase, want 946", len(rep))
	}
	var sum float64
	for _, c := range rep {
		sum += c.Monetary
	}
	if mean := sum / float64(len(rep)); !rounds2(mean, 35.08) {
		t.Errorf("mean of mean repeat spend %.4f, want 35.08", mean)
	}
	if r := clv.SpendFrequencyCorrelation(s); !rounds2(r, 0.11) {
		t.Errorf("spend-frequency correlation %.4f, want 0.11", r)
	}
}

// TestFitBGNBDCDNOW reproduces the BG/NBD estimates of Fader, Hardie & Lee
// (2005, Marketing Science, section 4): r = 0.243, alpha = 4.414,
// a = 0.793, b = 2.426, LL = -9582.4, to the published precision; Hardie's
// full-precision spreadsheet values to 1e-4 relative; and the log-likelihood
// CLVTools pins, -9582.429 (bachmannpatrick/CLVTools,
// tests/testthat/test_correctness_bgnbd.R).
func TestFitBGNBDCDNOW(t *testing.T) {
	s := cdnowSummaries(t)
	m, err := clv.FitBGNBD(s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		got, published float64
		decimals       int
		hardie         float64
	}{
		{"r", m.R, 0.243, 3, hardieBGNBD.R},
		{"alpha", m.Alpha, 4.414, 3, hardieBGNBD.Alpha},
		{"a", m.A, 0.793, 3, hardieBGNBD.A},
		{"b", m.B, 2.426, 3, hardieBGNBD.B},
		{"LL", m.LogLikelihood, -9582.4, 1, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scale := math.Pow(10, float64(tt.decimals))
			if rounded := math.Round(tt.got*scale) / scale; rounded != tt.published {
				t.Errorf("%s = %.6f rounds to %v, published %v", tt.name, tt.got, rounded, tt.published)
			}
			if !math.IsNaN(tt.hardie) && math.Abs(tt.got/tt.hardie-1) > 1e-4 {
				t.Errorf("%s = %.8f, Hardie's spreadsheet %.8f", tt.name, tt.got, tt.hardie)
			}
		})
	}
	if !near(m.LogLikelihood, -9582.429, 5e-4) {
		t.Errorf("LL = %.4f, CLVTools -9582.429", m.LogLikelihood)
	}
	if !m.Fit.Converged || m.Customers != 2357 {
		t.Errorf("fit %+v over %d customers, want converged over 2357", m.Fit, m.Customers)
	}
	for i, se := range m.StdErr {
		// Standard errors are not published; check that they exist
		// and that every estimate is many of them from zero.
		est := [4]float64{m.R, m.Alpha, m.A, m.B}[i]
		if !(se > 0) || est/se < 3 {
			t.Errorf("parameter %d: estimate %.4f, standard error %.4f", i, est, se)
		}
	}
	ll, err := hardieBGNBD.LogLikelihoodOf(s)
	if err != nil {
		t.Fatal(err)
	}
	if !near(ll, m.LogLikelihood, 1e-3) {
		t.Errorf("LL at Hardie's parameters %.4f, at ours %.4f", ll, m.LogLikelihood)
	}
}

// TestBGNBDPublishedPredictions checks predictions at the published
// parameters against published figures and against references computed
// with mpmath 1.3 at 30 digits from eqs. 9 and 10 as printed (the
// unstable form, fine in arbitrary precision).
func TestBGNBDPublishedPredictions(t *testing.T) {
	m := hardieBGNBD
	// Fader, Hardie & Lee (2005), section 5: a customer with x = 2,
	// t_x = 30.43, T = 38.86 is expected to make 1.226 purchases in the
	// next 39 weeks (also pinned by lifetimes' test_estimation.py).
	if got := m.ConditionalPurchases(39, 2, 30.43, 38.86); !near(got, 1.226, 5e-4) || !near(got, 1.2259064593213881, 1e-9) {
		t.Errorf("conditional expectation %.10f, published 1.226, mpmath 1.2259064593", got)
	}
	// E[X(t)], eq. 9: Hardie's spreadsheet values as pinned by lifetimes
	// (test_expectation_returns_same_value_Hardie_excel_sheet, to 3
	// decimals there), and mpmath. The spreadsheet's 1.8576 at 78 weeks
	// is 4e-4 below the exact 1.85796.
	tests := []struct {
		t, hardie, mpmath float64
	}{
		{0.1429, 0.0078, 0.007816001544006420},
		{1, 0.0532, 0.05318429364117091},
		{3, 0.1506, 0.1506308169922193},
		{31.8571, 1.0405, 1.040488269842614},
		{32, 1.0437, 1.043731167776677},
		{78, 1.8576, 1.857956642046742},
	}
	for _, tt := range tests {
		got := m.ExpectedPurchases(tt.t)
		if !near(got, tt.hardie, 5e-4) || math.Abs(got/tt.mpmath-1) > 1e-9 {
			t.Errorf("E[X(%v)] = %.10f, Hardie %v, mpmath %.10f", tt.t, got, tt.hardie, tt.mpmath)
		}
	}
}

// TestFitGammaGammaCDNOW reproduces the Gamma-Gamma estimates of Fader,
// Hardie & Lee (2005, JMR) and Fader & Hardie (2013, note 025):
// p = 6.25, q = 3.74, gamma = 15.44 on the 946 customers with a repeat
// purchase, their mean repeat spend as monetary value; the implied
// population mean is nine cents above the observed $35.08 (JMR, section
// 2.2); the log-likelihood at the optimum, -4055.9177, as pinned by
// CLVTools (bachmannpatrick/CLVTools, tests/testthat/test_correctness_gg.R);
// and the conditional expected spend of the first ten customers, from
// Hardie's spreadsheet as pinned by lifetimes
// (test_conditional_expected_average_profit).
func TestFitGammaGammaCDNOW(t *testing.T) {
	s := cdnowSummaries(t)
	m, err := clv.FitGammaGamma(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name           string
		got, published float64
	}{
		{"p", m.P, 6.25},
		{"q", m.Q, 3.74},
		{"gamma", m.Gamma, 15.44},
		{"mean spend", m.MeanSpend(), 35.17},
	} {
		if rounded := math.Round(tt.got*100) / 100; rounded != tt.published {
			t.Errorf("%s = %.6f rounds to %v, published %v", tt.name, tt.got, rounded, tt.published)
		}
	}
	if !near(m.LogLikelihood, -4055.9177, 5e-5) {
		t.Errorf("LL = %.5f, CLVTools -4055.9177", m.LogLikelihood)
	}
	if m.Customers != 946 || m.Skipped != 0 || !m.Fit.Converged {
		t.Errorf("fit over %d customers (%d skipped), %+v; want 946, 0, converged", m.Customers, m.Skipped, m.Fit)
	}
	for i, se := range m.StdErr {
		est := [3]float64{m.P, m.Q, m.Gamma}[i]
		if !(se > 0) || est/se < 3 {
			t.Errorf("parameter %d: estimate %.4f, standard error %.4f", i, est, se)
		}
	}
	want := []float64{24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17}
	for i, w := range want {
		if got := m.ExpectedSpend(s[i].Frequency, s[i].Monetary); !near(got, w, 0.01) {
			t.Errorf("customer %d: expected spend %.4f, Hardie %.2f", s[i].Customer, got, w)
		}
	}
}

// TestCompareHoldoutCDNOW: the paper's conditional-expectation check
// (figure 5) on the 39-week holdout. The actual means are facts of the
// data; the predictions are this fit's, pinned against regressions.
func TestCompareHoldoutCDNOW(t *testing.T) {
	s := cdnowSummaries(t)
	m, err := clv.FitBGNBD(s)
	if err != nil {
		t.Fatal(err)
	}
	c := m.CompareHoldout(s, 39, 7)
	want := []clv.HoldoutRow{
		{0, 1411, 0.2367, 0.2251},
		{1, 439, 0.6970, 0.5231},
		{2, 214, 1.3925, 1.0441},
		{3, 100, 1.5600, 1.5203},
		{4, 62, 2.5323, 2.1639},
		{5, 38, 2.9474, 2.6538},
		{6, 29, 3.8621, 3.5040},
		{7, 64, 6.3594, 6.1572},
	}
	if len(c.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(c.Rows), len(want))
	}
	for i, w := range want {
		g := c.Rows[i]
		if g.Frequency != w.Frequency || g.Customers != w.Customers || !near(g.Actual, w.Actual, 1e-4) || !near(g.Predicted, w.Predicted, 1e-4) {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
	if c.Actual != 1882 || !near(c.Predicted, 1653.41, 0.01) {
		t.Errorf("totals: actual %v, predicted %.2f; want 1882, 1653.41", c.Actual, c.Predicted)
	}
}
