package clv_test

import (
	"math"
	"testing"

	"github.com/touchbase/touchbase/analytics/clv"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// rounds2 reports whether got, rounded half up to two decimals as published
// tables are, is want.
func rounds2(got, want float64) bool { return near(got, want, 0.005+1e-9) }

// TestSummarizeCDNOW checks the summaries against those the published fits
// were made from: Hardie's CDNOW summary (x, t_x, T, mean repeat spend
// zbar), as shipped in lifetimes (CamDavidsonPilon/lifetimes,
// lifetimes/datasets/cdnow_customers_summary_with_transactions.csv), and
// the counts in Fader, Hardie & Lee (2005, JMR, section 2.2): 946 of the
// 2,357 customers made a repeat purchase, their mean spend averages $35.08.
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
}
