package clv_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/clv"
)

func day(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, time.UTC)
}

// TestSummarize checks the definitions (Fader, Hardie & Lee 2005; the
// lifetimes package's summary_data_from_transaction_data) on histories
// small enough to work out by hand, in days.
func TestSummarize(t *testing.T) {
	opts := clv.Options{
		CalibrationEnd: day(2024, 1, 31, 15), // any time of the day: the whole day counts
		HoldoutEnd:     day(2024, 2, 29, 0),
		Unit:           24 * time.Hour,
	}
	tx := []clv.Transaction{
		// 1: first on Jan 1; two orders on Jan 11 are one purchase day
		// of 30; Jan 21 is 10; Jan 31 23:00 is still calibration; Feb 5
		// and Feb 29 are holdout; Mar 1 is after the holdout.
		{Customer: 1, At: day(2024, 1, 1, 9), Amount: 100},
		{Customer: 1, At: day(2024, 1, 11, 8), Amount: 20},
		{Customer: 1, At: day(2024, 1, 11, 20), Amount: 10},
		{Customer: 1, At: day(2024, 1, 21, 0), Amount: 10},
		{Customer: 1, At: day(2024, 1, 31, 23), Amount: 50},
		{Customer: 1, At: day(2024, 2, 5, 12), Amount: 7},
		{Customer: 1, At: day(2024, 2, 29, 23), Amount: 9},
		{Customer: 1, At: day(2024, 3, 1, 0), Amount: 1000},
		// 2: one-time buyer, with two orders on the first day.
		{Customer: 2, At: day(2024, 1, 20, 10), Amount: 5},
		{Customer: 2, At: day(2024, 1, 20, 11), Amount: 5},
		// 3: first purchase after the calibration end: not a customer yet.
		{Customer: 3, At: day(2024, 2, 1, 0), Amount: 40},
		// 4: first purchase on the calibration end day: T = 0.
		{Customer: 4, At: day(2024, 1, 31, 1), Amount: 40},
		// 5: bought only in the calibration period, then in the holdout.
		{Customer: 5, At: day(2023, 12, 1, 0), Amount: 40},
		{Customer: 5, At: day(2024, 2, 10, 0), Amount: 60},
	}
	want := []clv.Summary{
		{Customer: 1, Frequency: 3, Recency: 30, T: 30, Monetary: (30 + 10 + 50) / 3.0, HoldoutFrequency: 2, HoldoutMonetary: 8},
		{Customer: 2, Frequency: 0, Recency: 0, T: 11},
		{Customer: 4, Frequency: 0, Recency: 0, T: 0},
		{Customer: 5, Frequency: 0, Recency: 0, T: 61, HoldoutFrequency: 1, HoldoutMonetary: 60},
	}
	tests := []struct {
		name string
		tx   []clv.Transaction
	}{
		{"ordered", tx},
		{"reversed", reversed(tx)},
		{"shuffled", shuffled(tx, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.tx)
			got, err := clv.Summarize(tt.tx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, want)
			}
			if !slices.Equal(tt.tx, before) {
				t.Error("Summarize modified its input")
			}
		})
	}
}

// TestSummarizeWeeksAndNoHoldout: in weeks recency and T are days / 7, and
// without a holdout end, later purchases are ignored.
func TestSummarizeWeeksAndNoHoldout(t *testing.T) {
	tx := []clv.Transaction{
		{Customer: 9, At: day(1997, 1, 1, 0), Amount: 29.33},
		{Customer: 9, At: day(1997, 1, 18, 0), Amount: 29.73},
		{Customer: 9, At: day(1997, 8, 2, 0), Amount: 14.96},
		{Customer: 9, At: day(1997, 12, 12, 0), Amount: 26.48},
	}
	got, err := clv.Summarize(tx, clv.Options{CalibrationEnd: day(1997, 9, 30, 0), Unit: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := []clv.Summary{{Customer: 9, Frequency: 2, Recency: 213.0 / 7, T: 272.0 / 7, Monetary: (29.73 + 14.96) / 2}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestSummarizeLocation: the day boundary is the store's, so 23:30 and
// 00:30 local are two purchase days, though the same UTC day.
func TestSummarizeLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	tx := []clv.Transaction{
		{Customer: 1, At: time.Date(2024, 3, 1, 23, 30, 0, 0, ny), Amount: 1}, // 04:30 UTC on Mar 2
		{Customer: 1, At: time.Date(2024, 3, 2, 0, 30, 0, 0, ny), Amount: 2},  // 05:30 UTC on Mar 2
	}
	tests := []struct {
		name string
		loc  *time.Location
		x    int
	}{
		{"UTC", nil, 0},
		{"New York", ny, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := clv.Summarize(tx, clv.Options{CalibrationEnd: time.Date(2024, 3, 31, 12, 0, 0, 0, ny), Unit: 24 * time.Hour, Location: tt.loc})
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != 1 || s[0].Frequency != tt.x {
				t.Errorf("got %+v, want frequency %d", s, tt.x)
			}
		})
	}
}

func TestSummarizeErrors(t *testing.T) {
	end := day(2024, 1, 31, 0)
	tests := []struct {
		name string
		tx   []clv.Transaction
		opts clv.Options
		want string
	}{
		{"no calibration end", nil, clv.Options{Unit: time.Hour}, "calibration end"},
		{"no unit", nil, clv.Options{CalibrationEnd: end}, "unit"},
		{"holdout before calibration end", nil, clv.Options{CalibrationEnd: end, HoldoutEnd: end, Unit: time.Hour}, "holdout end"},
		{"NaN amount", []clv.Transaction{{Customer: 1, At: end, Amount: math.NaN()}}, clv.Options{CalibrationEnd: end, Unit: time.Hour}, "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clv.Summarize(tt.tx, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestOptionsTimes: the holdout length and the instant of a prediction.
func TestOptionsTimes(t *testing.T) {
	o := cdnowOptions()
	l, err := o.HoldoutLength()
	if err != nil {
		t.Fatal(err)
	}
	if l != 39 { // 1997-10-01 to 1998-06-30 is 273 days
		t.Errorf("holdout length %v weeks, want 39", l)
	}
	at, err := o.TimeAt(2)
	if err != nil {
		t.Fatal(err)
	}
	if want := day(1997, 10, 14, 0); !at.Equal(want) {
		t.Errorf("TimeAt(2) = %v, want %v", at, want)
	}
}

func reversed(tx []clv.Transaction) []clv.Transaction {
	out := slices.Clone(tx)
	slices.Reverse(out)
	return out
}

func shuffled(tx []clv.Transaction, seed uint64) []clv.Transaction {
	out := slices.Clone(tx)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
