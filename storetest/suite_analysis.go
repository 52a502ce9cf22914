package storetest

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testAnalysis covers what the analyses read and write: runs recorded
// with their result, scores saved per analysis (a run clears what an
// earlier one computed for customers it no longer scores, and leaves the
// other analyses' columns alone), scores read with the customer, and the
// order facts and lines the algorithms take, each per workspace.
func testAnalysis(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	a := Workspace(t, s, "a")
	b := Workspace(t, s, "b")
	ann := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "ann"})
	bob := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "bob"})
	other := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: b.ID, UserID: "ann"})

	t.Run("runs", func(t *testing.T) {
		wantCode(t, s.CreateAnalysisRun(ctx, &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: "magic"}), touchbase.EINVALID)
		_, err := s.LatestAnalysisRun(ctx, a.ID, touchbase.AnalysisRFM)
		wantCode(t, err, touchbase.ENOTFOUND)

		ok := &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: touchbase.AnalysisRFM, Params: json.RawMessage(`{"period":"365d"}`)}
		must(t, s.CreateAnalysisRun(ctx, ok))
		ok.Customers, ok.Result = 2, json.RawMessage(`{"groups":[]}`)
		must(t, s.FinishAnalysisRun(ctx, ok))
		failed := &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: touchbase.AnalysisRFM}
		must(t, s.CreateAnalysisRun(ctx, failed))
		failed.Error = "no buyers"
		must(t, s.FinishAnalysisRun(ctx, failed))
		running := &touchbase.AnalysisRun{WorkspaceID: a.ID, Kind: touchbase.AnalysisRFM}
		must(t, s.CreateAnalysisRun(ctx, running))

		got, err := s.LatestAnalysisRun(ctx, a.ID, touchbase.AnalysisRFM)
		must(t, err)
		if got.ID != ok.ID || got.Customers != 2 || string(got.Result) != `{"groups":[]}` || string(got.Params) != `{"period":"365d"}` || got.FinishedAt == nil {
			t.Errorf("latest run = %+v, want the finished, successful one %d", got, ok.ID)
		}
		runs, err := s.ListAnalysisRuns(ctx, a.ID, "", 0)
		must(t, err)
		if len(runs) != 3 || runs[0].ID != running.ID || runs[0].FinishedAt != nil || runs[1].Error != "no buyers" {
			t.Errorf("runs = %+v", runs)
		}
		if runs, _ := s.ListAnalysisRuns(ctx, a.ID, touchbase.AnalysisCLV, 0); len(runs) != 0 {
			t.Errorf("clv runs = %+v, want none", runs)
		}
		// Another workspace sees none of them, and cannot finish them.
		if runs, _ := s.ListAnalysisRuns(ctx, b.ID, "", 0); len(runs) != 0 {
			t.Errorf("workspace b sees %d runs", len(runs))
		}
		wantCode(t, s.FinishAnalysisRun(ctx, &touchbase.AnalysisRun{WorkspaceID: b.ID, ID: ok.ID}), touchbase.ENOTFOUND)
		_, err = s.FindAnalysisRun(ctx, b.ID, ok.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		found, err := s.FindAnalysisRun(ctx, a.ID, failed.ID)
		must(t, err)
		if found.Error != "no buyers" || found.Kind != touchbase.AnalysisRFM {
			t.Errorf("FindAnalysisRun = %+v", found)
		}
	})

	t.Run("scores", func(t *testing.T) {
		next := Epoch.Add(30 * 24 * time.Hour)
		must(t, s.SaveRFMScores(ctx, a.ID, 1, []touchbase.RFMScore{
			{CustomerID: ann, Recency: 3, Frequency: 4, Monetary: 250.5, R: 5, F: 4, M: 5, Group: "Champions"},
			{CustomerID: bob, Recency: 300, Frequency: 1, Monetary: 10, R: 1, F: 1, M: 1, Group: "Lost"},
		}, nil))
		must(t, s.SaveClusterScores(ctx, a.ID, 2, []touchbase.ClusterScore{{CustomerID: ann, Cluster: 3}, {CustomerID: bob, Cluster: 1}}, nil))
		must(t, s.SaveCLVScores(ctx, a.ID, 3, []touchbase.CLVScore{
			{CustomerID: ann, PAlive: 0.9, ExpectedPurchases: 2.5, PredictedCLV: 180, ChurnRisk: "low", NextOrderAt: next},
			{CustomerID: bob, PAlive: 0.1, ChurnRisk: "high"},
		}, nil))
		c, err := s.FindCustomer(ctx, a.ID, ann)
		must(t, err)
		sc := c.Scores
		if sc.R == nil || *sc.R != 5 || *sc.F != 4 || *sc.M != 5 || sc.RFMGroup != "Champions" || *sc.Monetary != 250.5 || *sc.Recency != 3 ||
			sc.Cluster == nil || *sc.Cluster != 3 || *sc.PAlive != 0.9 || *sc.PredictedCLV != 180 || sc.ChurnRisk != "low" ||
			sc.NextOrderAt == nil || !sc.NextOrderAt.Equal(next) || sc.UpdatedAt == nil {
			t.Errorf("ann's scores = %+v", sc)
		}
		c, err = s.FindCustomer(ctx, a.ID, bob)
		must(t, err)
		if c.Scores.NextOrderAt != nil || c.Scores.ChurnRisk != "high" {
			t.Errorf("bob's scores = %+v, want no next order", c.Scores)
		}

		cl, err := s.CustomerClusters(ctx, a.ID)
		must(t, err)
		if len(cl) != 2 || cl[0] != (touchbase.ClusterScore{CustomerID: ann, Cluster: 3}) || cl[1].Cluster != 1 {
			t.Errorf("CustomerClusters = %+v", cl)
		}
		// A new RFM run that scores ann only clears bob's RFM columns,
		// and leaves his cluster and CLV.
		must(t, s.SaveRFMScores(ctx, a.ID, 4, []touchbase.RFMScore{{CustomerID: ann, Recency: 1, Frequency: 5, Monetary: 300, R: 5, F: 5, M: 5, Group: "Champions"}}, nil))
		cs, err := s.FindCustomers(ctx, a.ID, []int64{ann, bob})
		must(t, err)
		for _, c := range cs {
			switch c.ID {
			case ann:
				if *c.Scores.F != 5 || *c.Scores.Frequency != 5 {
					t.Errorf("ann after the second run: %+v", c.Scores)
				}
			case bob:
				if c.Scores.R != nil || c.Scores.RFMGroup != "" || c.Scores.Recency != nil {
					t.Errorf("bob keeps RFM scores the second run did not give: %+v", c.Scores)
				}
				if c.Scores.Cluster == nil || c.Scores.PAlive == nil {
					t.Errorf("bob lost his cluster or CLV to an RFM run: %+v", c.Scores)
				}
			}
		}
		// A customer without scores reads as none, in lists too.
		c, err = s.FindCustomer(ctx, b.ID, other)
		must(t, err)
		if c.Scores != (touchbase.Scores{}) {
			t.Errorf("unscored customer has %+v", c.Scores)
		}
		page, _, err := s.ListCustomers(ctx, a.ID, touchbase.CustomerFilter{})
		must(t, err)
		if len(page) != 2 || page[0].Scores.Cluster == nil {
			t.Errorf("listed customers = %+v, want their scores", page)
		}
		// Erasure takes the scores with the customer.
		must(t, s.EraseCustomer(ctx, a.ID, bob))
		if n := QueryInt(t, s, "SELECT count(*) FROM customer_scores WHERE workspace_id = ? AND customer_id = ?", a.ID, bob); n != 0 {
			t.Errorf("erased customer keeps %d score rows", n)
		}
	})

	t.Run("scores that are not finite", func(t *testing.T) {
		// NaN and infinities are no score: SQLite made NULL of NaN but
		// kept ±Inf, PostgreSQL kept all three, which then read back as
		// scores and failed the customer's JSON.
		dan := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "dan"})
		eve := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "eve"})
		must(t, s.SaveCLVScores(ctx, a.ID, 5, []touchbase.CLVScore{
			{CustomerID: dan, PAlive: math.NaN(), ExpectedPurchases: math.Inf(1), PredictedCLV: math.Inf(-1), ChurnRisk: "high"},
			{CustomerID: eve, PAlive: 0.5, ExpectedPurchases: math.NaN(), PredictedCLV: 12.5, ChurnRisk: "medium"},
		}, nil))
		must(t, s.SaveRFMScores(ctx, a.ID, 6, []touchbase.RFMScore{
			{CustomerID: dan, Recency: math.Inf(1), Frequency: math.NaN(), Monetary: math.Inf(1), R: 1, F: 1, M: 5, Group: "Lost"},
		}, nil))
		cs, err := s.FindCustomers(ctx, a.ID, []int64{dan, eve})
		must(t, err)
		for _, c := range cs {
			sc := c.Scores
			switch c.ID {
			case dan:
				if sc.PAlive != nil || sc.ExpectedPurchases != nil || sc.PredictedCLV != nil || sc.Recency != nil || sc.Frequency != nil || sc.Monetary != nil ||
					sc.ChurnRisk != "high" || sc.M == nil || *sc.M != 5 {
					t.Errorf("dan's scores = %+v, want the numbers that are not finite unset", sc)
				}
			case eve:
				if sc.PAlive == nil || *sc.PAlive != 0.5 || sc.ExpectedPurchases != nil || sc.PredictedCLV == nil || *sc.PredictedCLV != 12.5 {
					t.Errorf("eve's scores = %+v, want expected purchases unset, the rest kept", sc)
				}
			}
		}
		if n := QueryInt(t, s, "SELECT count(*) FROM customer_scores WHERE workspace_id = ? AND NOT (abs(p_alive) <= 1.7976931348623157e308 AND abs(predicted_clv) <= 1.7976931348623157e308 AND abs(expected_purchases) <= 1.7976931348623157e308)", a.ID); n != 0 {
			t.Errorf("%d score rows hold a number that is not finite", n)
		}
	})

	t.Run("orders", func(t *testing.T) {
		day := 24 * time.Hour
		carl := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: a.ID, UserID: "carl",
			Features: touchbase.Features{Orders: 2, Revenue: 70, FirstOrderAt: at(0), LastOrderAt: at(10 * day)}})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: a.ID, OrderID: "o1", CustomerID: carl, Revenue: 50, PlacedAt: Epoch,
			Items: []touchbase.OrderItem{{ProductID: "p1", Quantity: 2, Price: 10}, {ProductID: "p2", Quantity: 1, Price: 30}}})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: a.ID, OrderID: "o2", CustomerID: carl, Revenue: 40, Refunded: 20,
			Status: touchbase.OrderPartiallyRefunded, PlacedAt: Epoch.Add(10 * day), Items: []touchbase.OrderItem{{ProductID: "p1", Quantity: 1, Price: 40}}})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: a.ID, OrderID: "o3", CustomerID: carl, Revenue: 99, Status: touchbase.OrderCancelled,
			PlacedAt: Epoch.Add(5 * day), Items: []touchbase.OrderItem{{ProductID: "p3", Quantity: 1, Price: 99}}})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: a.ID, OrderID: "guest", Revenue: 5, PlacedAt: Epoch.Add(day),
			Items: []touchbase.OrderItem{{ProductID: "p2", Quantity: 1, Price: 5}}})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: b.ID, OrderID: "o1", CustomerID: other, Revenue: 7, PlacedAt: Epoch,
			Items: []touchbase.OrderItem{{ProductID: "p9", Quantity: 1, Price: 7}}})

		var facts []touchbase.OrderFact
		must(t, s.ScanOrderFacts(ctx, a.ID, func(o touchbase.OrderFact) error { facts = append(facts, o); return nil }))
		if len(facts) != 2 || facts[0].Value != 50 || facts[1].Value != 20 || facts[1].PlacedAt != Epoch.Add(10*day).UnixMilli() || facts[0].CustomerID != carl {
			t.Errorf("order facts = %+v, want o1 (50) and o2 net of its refund (20)", facts)
		}
		var lines []touchbase.OrderLine
		must(t, s.ScanOrderLines(ctx, a.ID, func(l touchbase.OrderLine) error { lines = append(lines, l); return nil }))
		if len(lines) != 4 || lines[0].ProductID != "p1" || lines[1].ProductID != "p2" || lines[2].ProductID != "p1" ||
			lines[3].CustomerID != 0 || lines[3].ProductID != "p2" {
			t.Errorf("order lines = %+v, want o1's two, o2's one and the guest order's, no cancelled order", lines)
		}

		InsertProduct(t, s, &touchbase.Product{WorkspaceID: a.ID, ProductID: "p1", Name: "Mug"})
		InsertProduct(t, s, &touchbase.Product{WorkspaceID: a.ID, ProductID: "p2", Name: "Tea"})
		InsertProduct(t, s, &touchbase.Product{WorkspaceID: b.ID, ProductID: "p3", Name: "Other"})
		ps, err := s.FindProducts(ctx, a.ID, []string{"p2", "nope", "p3", "p1", "p2"})
		must(t, err)
		if len(ps) != 2 || ps[0].Name != "Tea" || ps[1].Name != "Mug" {
			t.Errorf("FindProducts = %+v, want Tea then Mug (p3 is another workspace's)", ps)
		}

		all, err := s.BuyerTotals(ctx, a.ID, time.Time{}, time.Time{})
		must(t, err)
		if len(all) != 1 || all[0].CustomerID != carl || all[0].Orders != 2 || all[0].Revenue != 70 || all[0].LastOrderAt != Epoch.Add(10*day).UnixMilli() {
			t.Errorf("all-time buyer totals = %+v, want carl's features", all)
		}
		period, err := s.BuyerTotals(ctx, a.ID, Epoch.Add(day), Epoch.Add(30*day))
		must(t, err)
		if len(period) != 1 || period[0].Orders != 1 || period[0].Revenue != 20 || period[0].FirstOrderAt != Epoch.Add(10*day).UnixMilli() {
			t.Errorf("buyer totals from day 1 = %+v, want o2 only", period)
		}
	})
}
