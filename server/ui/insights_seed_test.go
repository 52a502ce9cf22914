package ui_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
)

// rfmGrid is analytics/rfm's R × FM map, [r-1][fm-1].
var rfmGrid = [5][5]string{
	{"Lost", "Lost", "At Risk", "At Risk", "Cannot Lose Them"},
	{"Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"},
	{"About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"},
	{"Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"},
	{"New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"},
}

// rfmGroups are the eleven groups, best first, with their words.
var rfmGroups = [][3]string{
	{"Champions", "Bought recently, buy often and spend the most.", "Reward them: early access, loyalty perks, ask for reviews and referrals."},
	{"Loyal Customers", "Buy often and spend well, and still buy.", "Upsell higher-value products; invite them to the loyalty programme."},
	{"Potential Loyalists", "Recent customers with average frequency and spend.", "Offer a membership or loyalty programme; recommend related products."},
	{"New Customers", "Bought very recently, once and for little.", "Welcome them: onboarding, a good first experience, a reason to come back."},
	{"Promising", "Recent shoppers who have not bought much yet.", "Build the habit: brand awareness, free trials, a second-order offer."},
	{"Need Attention", "Average recency, frequency and spend, starting to slip.", "Reactivate with limited-time offers based on their history."},
	{"About To Sleep", "Below-average recency, frequency and spend.", "Share popular products and discounts before they are lost."},
	{"At Risk", "Used to buy often and spend well, but not for a long time.", "Win them back: personalised emails, renewals, helpful resources."},
	{"Cannot Lose Them", "Were among the best customers, but have not bought for a long time.", "Win them back at any cost: talk to them, new products, strong offers."},
	{"Hibernating", "Last bought long ago, rarely and for little.", "Offer other relevant products and special discounts; recreate brand value."},
	{"Lost", "Lowest recency, frequency and spend, or no order in the period.", "Revive interest with an outreach campaign; otherwise ignore."},
}

// rfmResult is a store of some 4,000 scored customers: counts per cell
// shaped as real stores' are (many lost and new, few champions).
func rfmResult() *analytics.RFMResult {
	res := &analytics.RFMResult{AsOf: time.Now().UTC().Truncate(time.Second), Period: "365d", Active: 3120, Inactive: 902, NeverOrdered: 1310}
	counts := [5][5]int{
		{902, 210, 96, 41, 18},
		{260, 188, 120, 77, 35},
		{86, 156, 171, 122, 64},
		{95, 133, 160, 188, 141},
		{120, 98, 104, 212, 225},
	}
	meanRevenue := [5]float64{38, 74, 129, 238, 612}
	byName := map[string]*analytics.RFMGroup{}
	for _, g := range rfmGroups {
		res.Groups = append(res.Groups, analytics.RFMGroup{Name: g[0], Description: g[1], Action: g[2]})
	}
	for i := range res.Groups {
		byName[res.Groups[i].Name] = &res.Groups[i]
	}
	total, revenue := 0, 0.0
	for r := 0; r < 5; r++ {
		for fm := 0; fm < 5; fm++ {
			name, n := rfmGrid[r][fm], counts[r][fm]
			res.Grid[r][fm] = analytics.RFMCell{Group: name, Count: n}
			g := byName[name]
			g.Count += n
			g.Revenue += float64(n) * meanRevenue[fm]
			g.MeanRecencyDays += float64(n) * float64(360-r*70)
			g.MeanOrders += float64(n) * (1 + float64(fm)*1.3)
			total += n
			revenue += float64(n) * meanRevenue[fm]
		}
	}
	for i := range res.Groups {
		g := &res.Groups[i]
		g.Share, g.RevenueShare = float64(g.Count)/float64(total), g.Revenue/revenue
		if g.Count > 0 {
			g.MeanRecencyDays /= float64(g.Count)
			g.MeanOrders /= float64(g.Count)
			g.MeanRevenue = g.Revenue / float64(g.Count)
		}
	}
	recency := [5][2]float64{{181, 365}, {92, 180}, {41, 91}, {15, 40}, {0, 14}}
	for s := 0; s < 5; s++ {
		res.Recency[s] = analytics.RFMRange{Count: 624, Min: recency[s][0], Max: recency[s][1]}
		res.Frequency[s] = analytics.RFMRange{Count: 624, Min: float64(s + 1), Max: float64(s + 1 + s*s)}
		res.Monetary[s] = analytics.RFMRange{Count: 624, Min: []float64{4.5, 52, 110, 205, 402}[s], Max: []float64{51.99, 109.5, 204, 401, 9830}[s]}
	}
	return res
}

func clusterResult() *analytics.ClusterResult {
	res := &analytics.ClusterResult{AsOf: time.Now().UTC().Truncate(time.Second), Features: []string{"recency", "frequency", "monetary"},
		Customers: 4022, K: 4, Inertia: 3120.5, Iterations: 14}
	for k, s := range []float64{0.41, 0.47, 0.52, 0.44, 0.39} {
		res.Silhouettes = append(res.Silhouettes, analytics.KSilhouette{K: k + 2, Silhouette: s})
	}
	res.Clusters = []analytics.Cluster{
		{Number: 1, Size: 612, Share: 0.152, Description: "recent, frequent, high spend", Means: []float64{18, 7.4, 1240}, Centroid: []float64{-1.2, 1.6, 1.5}},
		{Number: 2, Size: 1380, Share: 0.343, Description: "lapsed, one order, low spend", Means: []float64{290, 1.1, 42}, Centroid: []float64{1.1, -0.8, -0.9}},
		{Number: 3, Size: 1206, Share: 0.300, Description: "recent, occasional, average spend", Means: []float64{45, 2.3, 180}, Centroid: []float64{-0.7, 0.1, 0.05}},
		{Number: 4, Size: 824, Share: 0.205, Description: "lapsed, frequent, high spend", Means: []float64{210, 5.2, 760}, Centroid: []float64{0.8, 1.0, 1.1}},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	centres := [][2]float64{{2.2, 0.4}, {-1.8, -0.3}, {0.1, 1.2}, {1.0, -1.4}}
	for i := 0; i < 400; i++ {
		c := i % 4
		res.Sample = append(res.Sample, analytics.ClusterPoint{X: centres[c][0] + rng.NormFloat64()*0.55, Y: centres[c][1] + rng.NormFloat64()*0.45,
			Cluster: res.Clusters[c].Number})
	}
	return res
}

// clvResult is CDNOW's published fit with top and at-risk lists naming
// the given customers.
func clvResult(top, atRisk []int64) *analytics.CLVResult {
	res := &analytics.CLVResult{AsOf: time.Now().UTC().Truncate(time.Second), CalibrationEnd: "1997-09-30", Unit: "week", Horizon: "52w",
		R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4258, BGNBDLogLikelihood: -9582.4292,
		P: 6.2502, Q: 3.7443, V: 15.4433, GammaGammaLogLikelihood: -4059.9213,
		StdErrors: map[string]float64{"r": 0.0126, "alpha": 0.3784, "a": 0.1860, "b": 0.7054, "p": 0.4011, "q": 0.2793, "v": 2.2612},
		Customers: 2357, Repeaters: 946, ExpectedPurchases: 1788.6, PredictedRevenue: 52341.7,
		Risk: map[string]int{"low": 702, "medium": 389, "high": 1266}}
	counts := []int{1290, 402, 236, 141, 96, 64, 41, 30, 22, 35}
	for i, n := range counts {
		res.Distribution = append(res.Distribution, analytics.Bucket{Min: float64(i * 25), Max: float64((i + 1) * 25), Count: n})
	}
	for i, id := range top {
		res.Top = append(res.Top, analytics.CLVCustomer{CustomerID: id, Revenue: 1800 - float64(i)*120, Orders: 14 - i, PAlive: 0.97 - float64(i)*0.02,
			ExpectedPurchases: 6.1 - float64(i)*0.4, PredictedCLV: 912.4 - float64(i)*61, ChurnRisk: "low"})
	}
	for i, id := range atRisk {
		res.AtRisk = append(res.AtRisk, analytics.CLVCustomer{CustomerID: id, Revenue: 1420 - float64(i)*90, Orders: 9 - i, PAlive: 0.12 + float64(i)*0.03,
			ExpectedPurchases: 0.2, PredictedCLV: 31.5 - float64(i)*3, ChurnRisk: "high"})
	}
	res.Holdout = &analytics.Holdout{Length: 39, Actual: 1788, Predicted: 1744.8}
	for f, a := range []float64{0.24, 0.70, 1.39, 1.56, 2.53, 2.95, 3.86, 6.37} {
		res.Holdout.Rows = append(res.Holdout.Rows, analytics.HoldoutRow{Frequency: f, Customers: 1411 / (f + 1), Actual: a, Predicted: a * (0.92 + 0.02*float64(f))})
	}
	return res
}

// basketResult has rules over the env's products and one without a
// name (sku-999), which the page shows by id.
func basketResult() *analytics.BasketResult {
	res := &analytics.BasketResult{Orders: 1860, Products: 7, MinSupport: 0.01, MinConfidence: 0.2, MinLen: 2, Found: 9,
		Names: map[string]string{}}
	for _, p := range products {
		res.Names[p.id] = p.name
	}
	rule := func(lhs []string, rhs string, support, confidence, lift float64) analytics.Rule {
		return analytics.Rule{Antecedent: lhs, Consequent: []string{rhs}, Support: support, Confidence: confidence, Lift: lift,
			Count: int(math.Round(support * float64(res.Orders)))}
	}
	res.Rules = []analytics.Rule{
		rule([]string{"boot-07", "sock-04"}, "jean-03", 0.012, 0.71, 3.42),
		rule([]string{"jack-06"}, "cap-05", 0.031, 0.44, 2.87),
		rule([]string{"jean-03"}, "boot-07", 0.041, 0.38, 2.41),
		rule([]string{"hood-02"}, "tee-01", 0.052, 0.63, 1.96),
		rule([]string{"sku-999"}, "sock-04", 0.011, 0.52, 1.88),
		rule([]string{"tee-01"}, "sock-04", 0.066, 0.29, 1.52),
		rule([]string{"cap-05"}, "tee-01", 0.024, 0.35, 1.09),
		rule([]string{"sock-04"}, "tee-01", 0.066, 0.31, 0.96),
		rule([]string{"boot-07"}, "jack-06", 0.013, 0.22, 0.91),
	}
	return res
}

func cohortResult() *analytics.CohortResult {
	res := &analytics.CohortResult{}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 8; i++ {
		c := analytics.Cohort{Month: start.AddDate(0, i, 0).Format("2006-01"), Size: 180 + i*23}
		cum := 0.0
		for m := 0; m < 8-i; m++ {
			active := c.Size
			if m > 0 {
				active = int(float64(c.Size) * (0.24 / math.Sqrt(float64(m))) * (1 + 0.05*float64(i%3)))
			}
			rev := float64(active) * (64 + 6*float64(i)) // later cohorts spend a little more
			cum += rev
			c.Active = append(c.Active, active)
			c.Retention = append(c.Retention, float64(active)/float64(c.Size))
			c.Revenue = append(c.Revenue, rev)
			c.CumulativeRevenuePerCustomer = append(c.CumulativeRevenuePerCustomer, cum/float64(c.Size))
		}
		res.Cohorts = append(res.Cohorts, c)
	}
	return res
}

// results are a realistic result of each kind for the customers given.
func results(top, atRisk []int64) map[touchbase.AnalysisKind]any {
	return map[touchbase.AnalysisKind]any{
		touchbase.AnalysisRFM:      rfmResult(),
		touchbase.AnalysisClusters: clusterResult(),
		touchbase.AnalysisCLV:      clvResult(top, atRisk),
		touchbase.AnalysisBasket:   basketResult(),
		touchbase.AnalysisCohorts:  cohortResult(),
	}
}

// runParams are the parameters each kind's run records, defaults filled.
var runParams = map[touchbase.AnalysisKind]analytics.Params{
	touchbase.AnalysisRFM:      {Period: "365d"},
	touchbase.AnalysisClusters: {MinK: 2, MaxK: 6, Seed: 1, Features: []string{"recency", "frequency", "monetary"}},
	touchbase.AnalysisCLV:      {CalibrationEnd: "1997-09-30", Unit: "week", Horizon: "52w"},
	touchbase.AnalysisBasket:   {MinSupport: 0.01, MinConfidence: 0.2, MinLen: 2, MaxRules: 1000},
}

// recordRun records a finished run of kind in ws with result (an error
// when fail is not "").
func recordRun(t testing.TB, s *store.Store, ws int64, kind touchbase.AnalysisKind, customers int, result any, fail string) *touchbase.AnalysisRun {
	t.Helper()
	ctx := context.Background()
	p := runParams[kind]
	p.AsOf = time.Now().UTC().Truncate(time.Second)
	params, _ := json.Marshal(p)
	run := &touchbase.AnalysisRun{WorkspaceID: ws, Kind: kind, Params: params}
	if err := s.CreateAnalysisRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	run.Customers, run.Error = customers, fail
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			t.Fatal(err)
		}
		run.Result = b
	}
	if err := s.FinishAnalysisRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	return run
}

// seedInsights records a finished run of every analysis in Acme, and
// Ada's scores from them. The lists of customers name Acme's buyers.
func (e *env) seedInsights() map[touchbase.AnalysisKind]*touchbase.AnalysisRun {
	t := e.t
	t.Helper()
	ctx := context.Background()
	buyers, _, err := e.store.ListCustomers(ctx, e.acme.ID, touchbase.CustomerFilter{MinOrders: 1, Sort: touchbase.CustomerSortRevenue, Limit: 10})
	if err != nil || len(buyers) < 6 {
		t.Fatalf("buyers: %v (%d)", err, len(buyers))
	}
	top := []int64{e.ada}
	for _, c := range buyers[:4] {
		if c.ID != e.ada {
			top = append(top, c.ID)
		}
	}
	atRisk := []int64{buyers[4].ID, buyers[5].ID}
	runs := map[touchbase.AnalysisKind]*touchbase.AnalysisRun{}
	for kind, res := range results(top, atRisk) {
		runs[kind] = recordRun(t, e.store, e.acme.ID, kind, 4022, res, "")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.store.SaveRFMScores(ctx, e.acme.ID, runs[touchbase.AnalysisRFM].ID, []touchbase.RFMScore{
		{CustomerID: e.ada, Recency: 3, Frequency: 4, Monetary: 596, R: 5, F: 4, M: 5, Group: "Champions"},
		{CustomerID: atRisk[0], Recency: 210, Frequency: 6, Monetary: 980, R: 1, F: 5, M: 5, Group: "Cannot Lose Them"},
	}, nil))
	must(e.store.SaveClusterScores(ctx, e.acme.ID, runs[touchbase.AnalysisClusters].ID, []touchbase.ClusterScore{
		{CustomerID: e.ada, Cluster: 1}, {CustomerID: atRisk[0], Cluster: 4},
	}, nil))
	must(e.store.SaveCLVScores(ctx, e.acme.ID, runs[touchbase.AnalysisCLV].ID, []touchbase.CLVScore{
		{CustomerID: e.ada, PAlive: 0.874, ExpectedPurchases: 3.21, PredictedCLV: 512.4, ChurnRisk: "low", NextOrderAt: time.Now().Add(12 * 24 * time.Hour)},
		{CustomerID: atRisk[0], PAlive: 0.12, ExpectedPurchases: 0.2, PredictedCLV: 31.5, ChurnRisk: "high"},
	}, nil))
	return runs
}

// fakeAnalyst is an Analyst whose behaviour each test chooses; by default
// Start records a run that never finishes and recommendations are empty.
type fakeAnalyst struct {
	mu        sync.Mutex
	started   []touchbase.AnalysisKind
	params    []analytics.Params
	start     func(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params) (*touchbase.AnalysisRun, error)
	recommend func(ctx context.Context, ws, customerID int64, n int) ([]analytics.Recommendation, error)
	progress  map[int64]touchbase.AnalysisProgress
}

var _ server.Analyst = (*fakeAnalyst)(nil)

func (f *fakeAnalyst) Progress(id int64) (touchbase.AnalysisProgress, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.progress[id]
	return p, ok
}

// setProgress makes run id under way, at p.
func (f *fakeAnalyst) setProgress(id int64, p touchbase.AnalysisProgress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.progress == nil {
		f.progress = map[int64]touchbase.AnalysisProgress{}
	}
	f.progress[id] = p
}

func (f *fakeAnalyst) Start(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params) (*touchbase.AnalysisRun, error) {
	f.mu.Lock()
	f.started = append(f.started, kind)
	f.params = append(f.params, p)
	start := f.start
	f.mu.Unlock()
	return start(ctx, ws, kind, p)
}

func (f *fakeAnalyst) RecommendForCustomer(ctx context.Context, ws, customerID int64, n int) ([]analytics.Recommendation, error) {
	f.mu.Lock()
	recommend := f.recommend
	f.mu.Unlock()
	if recommend == nil {
		return nil, nil
	}
	return recommend(ctx, ws, customerID, n)
}

// setStart replaces Start's behaviour and returns the one before.
func (f *fakeAnalyst) setStart(fn func(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params) (*touchbase.AnalysisRun, error)) func(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params) (*touchbase.AnalysisRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.start
	f.start = fn
	return old
}

// setRecommend replaces RecommendForCustomer's behaviour.
func (f *fakeAnalyst) setRecommend(fn func(ctx context.Context, ws, customerID int64, n int) ([]analytics.Recommendation, error)) {
	f.mu.Lock()
	f.recommend = fn
	f.mu.Unlock()
}

// calls returns the kinds Start was asked for.
func (f *fakeAnalyst) calls() []touchbase.AnalysisKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]touchbase.AnalysisKind(nil), f.started...)
}

// lastParams returns the parameters of the last Start.
func (f *fakeAnalyst) lastParams() analytics.Params {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.params[len(f.params)-1]
}

// reset forgets the calls.
func (f *fakeAnalyst) reset() {
	f.mu.Lock()
	f.started, f.params, f.progress = nil, nil, nil
	f.mu.Unlock()
}

// newFakeAnalyst records runs in s: each starts, and finishes after
// finishAfter (never when 0) with the kind's realistic result.
func newFakeAnalyst(s *store.Store, finishAfter time.Duration) *fakeAnalyst {
	f := &fakeAnalyst{}
	f.start = func(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params) (*touchbase.AnalysisRun, error) {
		params, _ := json.Marshal(p)
		run := &touchbase.AnalysisRun{WorkspaceID: ws, Kind: kind, Params: params}
		if err := s.CreateAnalysisRun(ctx, run); err != nil {
			return nil, err
		}
		if finishAfter > 0 {
			go func() {
				time.Sleep(finishAfter)
				done := *run
				b, _ := json.Marshal(results(nil, nil)[kind])
				done.Customers, done.Result = 4022, b
				s.FinishAnalysisRun(context.Background(), &done) // the test sees the result, or fails waiting for it
			}()
		}
		return run, nil
	}
	f.recommend = func(ctx context.Context, ws, customerID int64, n int) ([]analytics.Recommendation, error) {
		var out []analytics.Recommendation
		for i, p := range products[:min(n, len(products))] {
			reason := "bought with Selvedge Jeans"
			if i >= 3 {
				reason = "popular with Champions"
			}
			out = append(out, analytics.Recommendation{ProductID: p.id, Name: p.name, Category: p.category, Price: p.price,
				Score: 1 / float64(i+1), Reason: reason})
		}
		return out, nil
	}
	return f
}

// idOf formats an id for a URL.
func idOf(id int64) string { return strconv.FormatInt(id, 10) }

// The API's side of server.Analyst, which the console does not use.

func (f *fakeAnalyst) Run(context.Context, int64, touchbase.AnalysisKind, analytics.Params, analytics.Progress) (*touchbase.AnalysisRun, error) {
	return nil, touchbase.Errorf(touchbase.EUNAVAILABLE, "the console starts runs, it does not wait for them")
}

func (f *fakeAnalyst) SimilarProducts(context.Context, int64, string, int) ([]analytics.Recommendation, error) {
	return nil, nil
}

func (f *fakeAnalyst) BoughtTogether(context.Context, int64, string, int) ([]analytics.Recommendation, error) {
	return nil, nil
}
