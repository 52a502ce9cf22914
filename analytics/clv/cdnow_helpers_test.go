package clv_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/clv"
)

// cdnowPath is the CDNOW 1/10 sample (Fader, Hardie & Lee 2005) in the
// shared data folder next to the repository root.
var cdnowPath = filepath.Join("..", "..", "..", "shared", "data", "CDNOW_sample.txt")

// cdnowOptions is the calibration and holdout split of the BG/NBD paper:
// 39 weeks of calibration, 1997-01-01 to 1997-09-30, and 39 weeks of
// holdout, to 1998-06-30, in weeks. The calibration end is the day
// 1997-09-30 itself: T = 38.86 for the paper's customer who first bought on
// 1997-01-01 is 272 days, to September 30 (to October 1 it would be 39.00).
func cdnowOptions() clv.Options {
	return clv.Options{
		CalibrationEnd: time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC),
		HoldoutEnd:     time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC),
		Unit:           7 * 24 * time.Hour,
	}
}

// loadCDNOW reads the CDNOW sample: no header, whitespace separated master
// id, sample id, date (YYYYMMDD), number of CDs, dollar value. The
// customer is the sample id (1 to 2357), as in the published summaries.
func loadCDNOW(tb testing.TB) []clv.Transaction {
	tb.Helper()
	f, err := os.Open(cdnowPath)
	if os.IsNotExist(err) {
		tb.Skipf("CDNOW sample not found at %s (the shared data folder is absent); skipping", cdnowPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var tx []clv.Transaction
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 5 {
			tb.Fatalf("%s:%d: %d fields, want 5", cdnowPath, line, len(fs))
		}
		id, err1 := strconv.ParseInt(fs[1], 10, 64)
		at, err2 := time.Parse("20060102", fs[2])
		amt, err3 := strconv.ParseFloat(fs[4], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			tb.Fatalf("%s:%d: %q: bad field", cdnowPath, line, sc.Text())
		}
		tx = append(tx, clv.Transaction{Customer: id, At: at, Amount: amt})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return tx
}

// cdnowSummaries is the CDNOW sample summarised with cdnowOptions.
func cdnowSummaries(tb testing.TB) []clv.Summary {
	tb.Helper()
	s, err := clv.Summarize(loadCDNOW(tb), cdnowOptions())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// repeaters keeps the customers with at least one repeat purchase, those
// the Gamma-Gamma model is fitted to.
func repeaters(s []clv.Summary) []clv.Summary {
	var out []clv.Summary
	for _, c := range s {
		if c.Frequency > 0 {
			out = append(out, c)
		}
	}
	return out
}
