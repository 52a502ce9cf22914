package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
	"gonum.org/v1/gonum/stat/distuv"
)

// seedFixedDropout fills a workspace with n customers who order as
// BG/NBD's customers at CDNOW's purchase rates, but all with the same
// drop-out probability p after each order, in whole days from 1997-01-01
// to 1997-09-30; it returns the workspace id. (clv's
// synthesizeFixedDropout, with the same draws.)
func seedFixedDropout(t *testing.T, s *store.Store, n int, p float64, seed uint64) int64 {
	t.Helper()
	ws := storetest.Workspace(t, s, "steady").ID
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	lambda := distuv.Gamma{Alpha: 0.24259395230803, Beta: 4.41359091416604, Src: src}
	start := time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)
	const endDay = 272
	for c := range n {
		l := lambda.Rand()
		id := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("c%d", c+1)})
		k := 0
		buy := func(day int) {
			k++
			storetest.InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: fmt.Sprintf("o%d-%d", c+1, k), CustomerID: id,
				Revenue: 10 + 20*rng.Float64(), PlacedAt: start.AddDate(0, 0, day)})
		}
		first := rng.IntN(84)
		buy(first)
		for t := float64(first); ; {
			if t += rng.ExpFloat64() / l * 7; !(t < endDay+1) {
				break
			}
			buy(int(t))
			if rng.Float64() < p {
				break
			}
		}
	}
	return ws
}

// TestCLVDegenerateFit runs the lifetime-value analysis on customers whose
// drop-out probability does not vary, where the BG/NBD fit lands at a
// and b near a million. The predictions were NaN and -Inf there, and the
// result's histogram panicked on them (a 500, or the server down for a
// run in the background). The run succeeds, with every customer scored
// and every figure finite, on both databases.
func TestCLVDegenerateFit(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := be.Open(t)
			const n = 1000
			ws := seedFixedDropout(t, s, n, 0.05, 1)
			asOf := time.Date(1997, 10, 28, 0, 0, 0, 0, time.UTC)
			r := analytics.New(s, segment.NewRegistry(), analytics.Config{Now: func() time.Time { return asOf }})
			defer r.Close()
			run, err := r.Run(ctx, ws, touchbase.AnalysisCLV, analytics.Params{CalibrationEnd: "1997-09-30", Unit: "week"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var res analytics.CLVResult
			if err := json.Unmarshal(run.Result, &res); err != nil {
				t.Fatal(err)
			}
			if !(res.A > 1e4 && res.B > 1e5) {
				t.Fatalf("the fit is not the degenerate one this test is about: r %v, alpha %v, a %v, b %v", res.R, res.Alpha, res.A, res.B)
			}
			bars := 0
			for _, b := range res.Distribution {
				bars += b.Count
			}
			if run.Customers != n || res.Customers != n || bars != n || !(res.ExpectedPurchases > 0) || !(res.PredictedRevenue > 0) || res.Holdout == nil {
				t.Errorf("run of %d customers, result %+v", run.Customers, res)
			}
			for _, w := range res.Warnings {
				t.Logf("warning: %s", w)
			}
			ids := storetest.QueryInts(t, s, "SELECT id FROM customers WHERE workspace_id = ? ORDER BY id", ws)
			cs, err := s.FindCustomers(ctx, ws, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				sc := c.Scores
				if sc.PAlive == nil || sc.ExpectedPurchases == nil || sc.PredictedCLV == nil ||
					!finite(*sc.PAlive) || !finite(*sc.ExpectedPurchases) || !(*sc.PredictedCLV > 0) || sc.ChurnRisk == "" {
					t.Fatalf("customer %d: scores %+v", c.ID, sc)
				}
			}
		})
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// TestCLVSubscription runs the lifetime-value analysis on a subscription
// store: everyone pays 19.99 every 30 days and nobody has stopped. Every
// order costs the same, so the Gamma-Gamma likelihood has no maximum and
// the run failed ("fit Gamma-Gamma: minimize: no convergence"). It
// succeeds with a warning, values each customer at 19.99 an order, and
// expects about a year's orders over the year ahead (BG/NBD at its own
// limit: r and alpha huge, a near 0).
func TestCLVSubscription(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenSQLite(t)
	ws := storetest.Workspace(t, s, "box").ID
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 3))
	for c := range 150 {
		id := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("c%d", c)})
		for k, at := 0, asOf.AddDate(0, 0, -30*(3+rng.IntN(10))-rng.IntN(30)); at.Before(asOf); k, at = k+1, at.AddDate(0, 0, 30) {
			storetest.InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: fmt.Sprintf("o%d-%d", c, k), CustomerID: id, Revenue: 19.99, PlacedAt: at})
		}
	}
	r := analytics.New(s, segment.NewRegistry(), analytics.Config{Now: func() time.Time { return asOf }})
	defer r.Close()
	run, err := r.Run(ctx, ws, touchbase.AnalysisCLV, analytics.Params{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res analytics.CLVResult
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, "Gamma-Gamma") && strings.Contains(w, "own mean order value")
	}
	if !warned || run.Customers != 150 {
		t.Errorf("run of %d customers, warnings %q", run.Customers, res.Warnings)
	}
	for _, c := range res.Top {
		// 365 days at one order in 30, give or take the model's reading.
		if math.Abs(c.PredictedCLV/c.ExpectedPurchases-19.99) > 1e-6 || c.ExpectedPurchases < 10 || c.ExpectedPurchases > 14 {
			t.Errorf("customer %d: %v orders worth %v", c.CustomerID, c.ExpectedPurchases, c.PredictedCLV)
		}
	}
}
