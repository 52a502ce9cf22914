package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// asOf is the clock of the seeded stores: their orders are in the two
// years before it.
var asOf = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// seedShop fills a workspace with n customers who order from a catalogue
// where some products go together (a mug with tea, a pen with ink), so
// that every analysis has something to find. It returns the workspace id.
func seedShop(t *testing.T, s *store.Store, n int) int64 {
	t.Helper()
	ws := storetest.Workspace(t, s, "shop").ID
	r := rand.New(rand.NewPCG(7, 11))
	pairs := [][2]string{{"mug", "tea"}, {"pen", "ink"}, {"sock", "shoe"}, {"cap", "scarf"}}
	for _, p := range []string{"mug", "tea", "pen", "ink", "sock", "shoe", "cap", "scarf", "lamp"} {
		storetest.InsertProduct(t, s, &touchbase.Product{WorkspaceID: ws, ProductID: p, Name: "The " + p, Price: 10})
	}
	for i := range n {
		orders := 1 + int(r.ExpFloat64()*2)
		last := asOf.Add(-time.Duration(r.IntN(700*24)) * time.Hour)
		var revenue float64
		type order struct {
			at    time.Time
			items []touchbase.OrderItem
			value float64
		}
		var os []order
		for k := range orders {
			at := last.Add(-time.Duration(k*(20+r.IntN(40))) * 24 * time.Hour)
			pr := pairs[(i+k)%len(pairs)]
			items := []touchbase.OrderItem{{ProductID: pr[0], Quantity: 1, Price: 10}}
			if r.IntN(3) > 0 {
				items = append(items, touchbase.OrderItem{ProductID: pr[1], Quantity: 1, Price: 15})
			}
			if r.IntN(5) == 0 {
				items = append(items, touchbase.OrderItem{ProductID: "lamp", Quantity: 1, Price: 40})
			}
			v := 0.0
			for _, it := range items {
				v += it.Price
			}
			v *= 1 + r.Float64()
			revenue += v
			os = append(os, order{at, items, v})
		}
		first := os[len(os)-1].at
		c := &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("u%d", i),
			Features: touchbase.Features{Orders: orders, Revenue: revenue, FirstOrderAt: &first, LastOrderAt: &last}}
		storetest.InsertCustomer(t, s, c)
		for k, o := range os {
			storetest.InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: fmt.Sprintf("o%d-%d", i, k), CustomerID: c.ID,
				Revenue: o.value, PlacedAt: o.at, Items: o.items})
		}
	}
	// Someone who never ordered is in no analysis.
	storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: "browser"})
	return ws
}

// TestRunner runs every analysis on a seeded store, on both databases:
// runs are recorded, scores land on the customers, and segments on the
// scores follow a run, through the engine following the change feed.
func TestRunner(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := be.Open(t)
			ws := seedShop(t, s, 300)
			reg := segment.NewRegistry()
			if err := analytics.RegisterFeatures(reg); err != nil {
				t.Fatal(err)
			}
			eng := engine.New(s, reg, engine.Config{Now: func() time.Time { return asOf }})
			champions := &touchbase.Segment{WorkspaceID: ws, Name: "champions", Kind: touchbase.SegmentDynamic}
			n, err := segment.Parse(`rfm.segment = "Champions"`)
			if err != nil {
				t.Fatal(err)
			}
			if err := eng.Save(ctx, champions, n); err != nil {
				t.Fatal(err)
			}
			if err := eng.Open(ctx, []int64{ws}); err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			r := analytics.New(s, reg, analytics.Config{Now: func() time.Time { return asOf }})
			defer r.Close()

			// RFM: every buyer scored, the groups add up, and the segment
			// holds exactly the Champions.
			var stages []string
			run, err := r.Run(ctx, ws, touchbase.AnalysisRFM, analytics.Params{}, func(stage string, _, _ int) { stages = append(stages, stage) })
			if err != nil {
				t.Fatal(err)
			}
			if run.Customers != 300 || run.FinishedAt == nil || run.Error != "" || len(stages) < 3 {
				t.Fatalf("rfm run = %+v, stages %v", run, stages)
			}
			var rfm analytics.RFMResult
			if err := json.Unmarshal(run.Result, &rfm); err != nil {
				t.Fatal(err)
			}
			sum := 0
			for _, g := range rfm.Groups {
				sum += g.Count
			}
			if sum != 300 || len(rfm.Groups) != 11 || rfm.Grid[4][4].Group != "Champions" {
				t.Errorf("rfm result: %d in groups, %d groups, top cell %q", sum, len(rfm.Groups), rfm.Grid[4][4].Group)
			}
			ids := storetest.QueryInts(t, s, "SELECT id FROM customers WHERE workspace_id = ? ORDER BY id", ws)
			cs, err := s.FindCustomers(ctx, ws, ids)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, c := range cs {
				if c.UserID == "browser" {
					if c.Scores.R != nil {
						t.Errorf("a customer who never ordered got RFM scores: %+v", c.Scores)
					}
					continue
				}
				if c.Scores.R == nil || c.Scores.RFMGroup == "" {
					t.Fatalf("buyer %s has no RFM scores", c.UserID)
				}
				if c.Scores.RFMGroup == "Champions" {
					want = append(want, c.ID)
				}
			}
			// The engine's loop takes the run from the change feed: nobody
			// tells it.
			slices.Sort(want)
			var got []int64
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if got, err = s.SegmentMembers(ctx, ws, champions.ID); err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				if slices.Equal(got, want) {
					break
				}
			}
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("champions segment has %d members, want the %d Champions", len(got), len(want))
			}

			// Clusters: every buyer in one.
			first, err := r.Run(ctx, ws, touchbase.AnalysisClusters, analytics.Params{K: 3, Seed: 5}, nil)
			if err != nil {
				t.Fatal(err)
			}
			again, err := r.Run(ctx, ws, touchbase.AnalysisClusters, analytics.Params{K: 3, Seed: 9}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var c1, c2 analytics.ClusterResult
			if json.Unmarshal(first.Result, &c1) != nil || json.Unmarshal(again.Result, &c2) != nil {
				t.Fatal("cluster results do not decode")
			}
			if c1.Customers != 300 || len(c1.Clusters) != 3 || len(c1.Sample) != 300 {
				t.Errorf("clusters = %d customers, %d clusters, %d sampled", c1.Customers, len(c1.Clusters), len(c1.Sample))
			}
			// Another seed finds much the same clusters: each keeps its
			// number (and so its description).
			byNumber := func(cr analytics.ClusterResult) map[int]string {
				m := map[int]string{}
				for _, c := range cr.Clusters {
					m[c.Number] = c.Description
				}
				return m
			}
			if fmt.Sprint(byNumber(c1)) != fmt.Sprint(byNumber(c2)) {
				t.Errorf("a second run renumbered the clusters: %v then %v", byNumber(c1), byNumber(c2))
			}

			// Basket: the pairs the shop sells together are found.
			run, err = r.Run(ctx, ws, touchbase.AnalysisBasket, analytics.Params{MinSupport: 0.05, MinConfidence: 0.3}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var bk analytics.BasketResult
			if err := json.Unmarshal(run.Result, &bk); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, rule := range bk.Rules {
				if slices.Equal(rule.Antecedent, []string{"tea"}) && rule.Consequent[0] == "mug" {
					found = rule.Confidence == 1 && bk.Names["mug"] == "The mug"
				}
			}
			if !found {
				t.Errorf("basket rules miss {tea} => {mug} at confidence 1: %+v", bk.Rules)
			}
			together, err := r.BoughtTogether(ctx, ws, "pen", 3)
			if err != nil || len(together) == 0 || together[0].ProductID != "ink" || together[0].Name != "The ink" {
				t.Errorf("bought together with pen = %+v, %v; want ink first", together, err)
			}

			// Recommendations: what goes with the history, not the history.
			recs, err := r.RecommendForCustomer(ctx, ws, ids[0], 4)
			if err != nil {
				t.Fatal(err)
			}
			bought := map[string]bool{}
			if err := s.ScanOrderLines(ctx, ws, func(l touchbase.OrderLine) error {
				if l.CustomerID == ids[0] {
					bought[l.ProductID] = true
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 {
				t.Errorf("4 recommendations asked, %d given: %+v", len(recs), recs)
			}
			for _, rec := range recs {
				if bought[rec.ProductID] || rec.Reason == "" || rec.Name == "" {
					t.Errorf("recommendation %+v: bought already, or without a name or reason", rec)
				}
			}

			// Bad parameters are refused before anything runs.
			for _, p := range []analytics.Params{{K: 1}, {MinK: 5, MaxK: 3}, {Features: []string{"email"}}, {Features: []string{"nope"}}} {
				if _, err := r.Run(ctx, ws, touchbase.AnalysisClusters, p, nil); touchbase.ErrorCode(err) != touchbase.EINVALID {
					t.Errorf("clusters with %+v: %v, want EINVALID", p, err)
				}
			}
			if _, err := r.Run(ctx, ws, touchbase.AnalysisBasket, analytics.Params{MinSupport: 2}, nil); touchbase.ErrorCode(err) != touchbase.EINVALID {
				t.Errorf("basket with support 2: %v, want EINVALID", err)
			}
			runs, err := s.ListAnalysisRuns(ctx, ws, "", 0)
			if err != nil || len(runs) != 4 {
				t.Errorf("%d runs recorded (%v), want 4: refused ones are not runs", len(runs), err)
			}
		})
	}
}

// TestRunnerEmpty checks that an analysis of a store without orders
// fails with a clear error, and is recorded as failed.
func TestRunnerEmpty(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenSQLite(t)
	ws := storetest.Workspace(t, s, "empty").ID
	r := analytics.New(s, segment.NewRegistry(), analytics.Config{})
	for _, kind := range []touchbase.AnalysisKind{touchbase.AnalysisRFM, touchbase.AnalysisClusters, touchbase.AnalysisBasket} {
		run, err := r.Run(ctx, ws, kind, analytics.Params{}, nil)
		if touchbase.ErrorCode(err) != touchbase.EINVALID || run == nil || run.Error == "" || run.FinishedAt == nil {
			t.Errorf("%s on an empty store: %v, run %+v; want EINVALID, recorded", kind, err, run)
		}
	}
}

// TestClustersOnTraits clusters on numeric traits, a nested one
// included: customers without a number for both are left out, and two
// well-apart groups come out as the two clusters.
func TestClustersOnTraits(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := be.Open(t)
			ws := storetest.Workspace(t, s, "club").ID
			group := map[int64]int{}
			for i := range 60 {
				age, points := 20+i%7, 100+float64(i%5)
				if i%2 == 1 {
					age, points = 60+i%7, 5000+float64(i%5)
				}
				c := &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("m%d", i),
					Traits: map[string]any{"age": age, "loyalty": map[string]any{"points": points}}}
				storetest.InsertCustomer(t, s, c)
				group[c.ID] = i % 2
			}
			for i, traits := range []map[string]any{
				nil, {"age": 30}, {"age": "thirty", "loyalty": map[string]any{"points": 1}}, {"age": 30, "loyalty": 7},
			} {
				storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("x%d", i), Traits: traits})
			}
			r := analytics.New(s, segment.NewRegistry(), analytics.Config{})
			run, err := r.Run(ctx, ws, touchbase.AnalysisClusters, analytics.Params{K: 2, Features: []string{"traits.age", "traits.loyalty.points"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var res analytics.ClusterResult
			if err := json.Unmarshal(run.Result, &res); err != nil {
				t.Fatal(err)
			}
			if res.Customers != 60 || len(res.Clusters) != 2 || res.Clusters[0].Size != 30 || res.Clusters[1].Size != 30 {
				t.Fatalf("%d customers in %d clusters (%+v), want the 60 members in two of 30", res.Customers, len(res.Clusters), res.Clusters)
			}
			cs, _, err := s.ListCustomers(ctx, ws, touchbase.CustomerFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			clusterOf := map[int]int{} // group -> cluster
			for _, c := range cs {
				g, member := group[c.ID]
				switch {
				case !member && c.Scores.Cluster != nil:
					t.Errorf("customer %s without both numbers is in cluster %d", c.UserID, *c.Scores.Cluster)
				case member && c.Scores.Cluster == nil:
					t.Errorf("customer %s has no cluster", c.UserID)
				case member:
					if k, ok := clusterOf[g]; ok && k != *c.Scores.Cluster {
						t.Errorf("customer %s of group %d is in cluster %d, the group's others in %d", c.UserID, g, *c.Scores.Cluster, k)
					}
					clusterOf[g] = *c.Scores.Cluster
				}
			}
			if clusterOf[0] == clusterOf[1] {
				t.Errorf("both groups in cluster %d", clusterOf[0])
			}
			for _, f := range []string{"traits.", "traits..x", "traits.x."} {
				if _, err := r.Run(ctx, ws, touchbase.AnalysisClusters, analytics.Params{K: 2, Features: []string{f}}, nil); touchbase.ErrorCode(err) != touchbase.EINVALID {
					t.Errorf("clusters on %q: %v, want EINVALID", f, err)
				}
			}
		})
	}
}

// TestRunnerProgress: a run tells its stages as it goes, saving the
// scores chunk by chunk, and the Runner answers where a run under way
// stands (what the API and the console show) until it ends.
func TestRunnerProgress(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenSQLite(t)
	ws := seedShop(t, s, 300)
	r := analytics.New(s, segment.NewRegistry(), analytics.Config{})
	var id int64
	var told []touchbase.AnalysisProgress
	_, err := r.Run(ctx, ws, touchbase.AnalysisRFM, analytics.Params{}, func(stage string, done, total int) {
		if id == 0 {
			runs, err := s.ListAnalysisRuns(ctx, ws, touchbase.AnalysisRFM, 1)
			if err != nil || len(runs) != 1 || runs[0].FinishedAt != nil {
				t.Fatalf("the run under way: %+v, %v", runs, err)
			}
			id = runs[0].ID
		}
		p := touchbase.AnalysisProgress{Stage: stage, Done: done, Total: total}
		if got, ok := r.Progress(id); !ok || got != p {
			t.Errorf("Progress(%d) = %+v, %v while the run tells %+v", id, got, ok, p)
		}
		told = append(told, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	last := told[len(told)-1]
	if last != (touchbase.AnalysisProgress{Stage: "saving scores", Done: 300, Total: 300}) {
		t.Errorf("stages told %+v; want the last to be all 300 scores saved", told)
	}
	if p, ok := r.Progress(id); ok {
		t.Errorf("Progress of a finished run: %+v", p)
	}
}

// panickyStore is a store whose order scan panics, as a bug in an
// analysis would.
type panickyStore struct{ *store.Store }

func (panickyStore) ScanOrderFacts(context.Context, int64, func(touchbase.OrderFact) error) error {
	panic("boom")
}

// TestRunnerSurvivesPanic: an analysis that panics in the background (a
// run started through the API, or the loop) fails its run, recorded with
// the error, and leaves the process and the next run alone. It took the
// whole server down before.
func TestRunnerSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenSQLite(t)
	ws := seedShop(t, s, 20)
	r := analytics.New(panickyStore{s}, segment.NewRegistry(), analytics.Config{Now: func() time.Time { return asOf }})
	started, err := r.Start(ctx, ws, touchbase.AnalysisCLV, analytics.Params{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // waits for the run
	run, err := s.FindAnalysisRun(ctx, ws, started.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.FinishedAt == nil || run.Error != "clv: internal error: boom" {
		t.Errorf("run after a panic: %+v", run)
	}
	r = analytics.New(panickyStore{s}, segment.NewRegistry(), analytics.Config{Now: func() time.Time { return asOf }})
	defer r.Close()
	if run, err := r.Run(ctx, ws, touchbase.AnalysisCLV, analytics.Params{}, nil); err == nil || run.Error == "" {
		t.Errorf("second run: %+v, %v; want the same error", run, err)
	}
	if _, err := r.Run(ctx, ws, touchbase.AnalysisRFM, analytics.Params{}, nil); err != nil {
		t.Errorf("an RFM run after the panics: %v", err)
	}
}

// TestClustersAllAlike: when every customer looks the same (one order of
// the same value on the same day), no k has a silhouette; the run used to
// fail on its NaN in the result's JSON. It succeeds, with every customer
// in one cluster, described as what they are.
func TestClustersAllAlike(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenSQLite(t)
	ws := storetest.Workspace(t, s, "launch").ID
	day := asOf.Add(-10 * 24 * time.Hour)
	for i := range 40 {
		c := &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("u%d", i),
			Features: touchbase.Features{Orders: 1, Revenue: 25, FirstOrderAt: &day, LastOrderAt: &day}}
		storetest.InsertCustomer(t, s, c)
		storetest.InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: fmt.Sprintf("o%d", i), CustomerID: c.ID, Revenue: 25, PlacedAt: day})
	}
	r := analytics.New(s, segment.NewRegistry(), analytics.Config{Now: func() time.Time { return asOf }})
	defer r.Close()
	run, err := r.Run(ctx, ws, touchbase.AnalysisClusters, analytics.Params{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res analytics.ClusterResult
	if err := json.Unmarshal(run.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.K != 2 || len(res.Silhouettes) != 0 || res.Clusters[0].Size != 40 || res.Clusters[0].Description != "one-time" {
		t.Errorf("result %+v", res)
	}
}
