package ui

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase/analytics"
)

// heatLevels is how many shades a heat map cell may take above empty.
const heatLevels = 6

// heat is the shade (0 for none, 1 to heatLevels) of v out of top.
func heat(v, top float64) int {
	if v <= 0 || top <= 0 {
		return 0
	}
	return min(heatLevels, max(1, int(math.Ceil(v/top*heatLevels))))
}

// rfmView is an RFM run's result as the page shows it.
type rfmView struct {
	Res *analytics.RFMResult
	// Scored are the customers with scores (active and inactive).
	Scored int
	// Rows are the grid's rows from R=5 down to R=1.
	Rows   []rfmRow
	Groups []rfmGroupView
	// Ranges say what each score means, 5 first.
	Ranges []rfmRange
	// Best are Champions and Loyal Customers; Slipping At Risk and Cannot
	// Lose Them: the two figures stores watch.
	Best, Slipping rfmTotal
	// Segments shows the links to the segment builder.
	Segments bool
}

type rfmRow struct {
	R     int
	Cells []rfmCell
}

// rfmCell is a grid cell: its group, customers, shade and the sides on
// which it borders another group (edge-t, edge-r, edge-b, edge-l), which
// the page draws as gaps so that a group's cells read as one block.
type rfmCell struct {
	R, FM int
	Group string
	Count int
	Share float64
	Heat  int
	Edges string
	// First is the group's first cell, left to right, top to bottom.
	First bool
}

type rfmGroupView struct {
	analytics.RFMGroup
	// Segment opens the builder with rfm.segment = the group.
	Segment string
}

type rfmRange struct {
	Score                        int
	Recency, Frequency, Monetary string
}

type rfmTotal struct {
	Count        int
	Share        float64
	RevenueShare float64
}

func (h *Handler) newRFMView(res *analytics.RFMResult, currency string) *rfmView {
	v := &rfmView{Res: res, Segments: h.segmentsOn()}
	maxCount := 0
	for r := range res.Grid {
		for fm := range res.Grid[r] {
			v.Scored += res.Grid[r][fm].Count
			maxCount = max(maxCount, res.Grid[r][fm].Count)
		}
	}
	// disp is the grid as shown: R=5 on top.
	group := func(i, j int) string {
		if i < 0 || i > 4 || j < 0 || j > 4 {
			return "\x00"
		}
		return res.Grid[4-i][j].Group
	}
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		row := rfmRow{R: 5 - i}
		for j := 0; j < 5; j++ {
			c := res.Grid[4-i][j]
			// A square-root scale: one cell (often Lost) holding most
			// customers would leave every other cell pale.
			cell := rfmCell{R: 5 - i, FM: j + 1, Group: c.Group, Count: c.Count, Heat: heat(math.Sqrt(float64(c.Count)), math.Sqrt(float64(maxCount))),
				First: !seen[c.Group]}
			seen[c.Group] = true
			if v.Scored > 0 {
				cell.Share = float64(c.Count) / float64(v.Scored)
			}
			var edges []string
			for _, e := range []struct {
				di, dj int
				class  string
			}{{-1, 0, "edge-t"}, {0, 1, "edge-r"}, {1, 0, "edge-b"}, {0, -1, "edge-l"}} {
				if group(i+e.di, j+e.dj) != c.Group {
					edges = append(edges, e.class)
				}
			}
			cell.Edges = strings.Join(edges, " ")
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	for _, g := range res.Groups {
		gv := rfmGroupView{RFMGroup: g}
		if h.segmentsOn() {
			gv.Segment = segmentURL("RFM: "+g.Name, g.Description, `rfm.segment = `+strconv.Quote(g.Name))
		}
		v.Groups = append(v.Groups, gv)
		var t *rfmTotal
		switch g.Name {
		case "Champions", "Loyal Customers":
			t = &v.Best
		case "At Risk", "Cannot Lose Them":
			t = &v.Slipping
		default:
			continue
		}
		t.Count += g.Count
		t.Share += g.Share
		t.RevenueShare += g.RevenueShare
	}
	for s := 5; s >= 1; s-- {
		rr := rfmRange{Score: s, Recency: "—", Frequency: "—", Monetary: "—"}
		if x := res.Recency[s-1]; x.Count > 0 {
			rr.Recency = span(x.Min, x.Max, func(f float64) string { return formatInt(f) }) + " days ago"
		}
		if x := res.Frequency[s-1]; x.Count > 0 {
			rr.Frequency = span(x.Min, x.Max, func(f float64) string { return formatInt(f) })
			if x.Max == 1 {
				rr.Frequency += " order"
			} else {
				rr.Frequency += " orders"
			}
		}
		if x := res.Monetary[s-1]; x.Count > 0 {
			rr.Monetary = span(x.Min, x.Max, func(f float64) string { return moneyShort(math.Round(f), currency) })
		}
		v.Ranges = append(v.Ranges, rr)
	}
	return v
}

// span writes a range of values: "3" when it is one value, else "3–7".
func span(lo, hi float64, f func(float64) string) string {
	a, b := f(lo), f(hi)
	if a == b {
		return a
	}
	return a + "–" + b
}

// clusterColours is how many distinct colours clusters take (app.css
// .clu-N and app.js's palette): cluster N has colour N mod it.
const clusterColours = 10

// clustersView is a clustering run's result as the page shows it.
type clustersView struct {
	Res *analytics.ClusterResult
	// Chosen is the silhouette of the k kept, when k was chosen.
	Chosen      *silhouetteRow
	Features    []string // labels, in the result's order
	Clusters    []clusterView
	Silhouettes []silhouetteRow
}

type clusterView struct {
	analytics.Cluster
	Colour int
	// Means are the means of the features, in their units, formatted.
	Means []string
	// CentroidText reads the centroid for those who cannot see the bars.
	CentroidText string
	Segment      string
}

type silhouetteRow struct {
	K          int
	Silhouette float64
	Chosen     bool
}

// clusterChart is what app.js draws: each cluster's centroid as bars, and
// the sample on the plane of the two principal components.
type clusterChart struct {
	Features []string        `json:"features"`
	Clusters []clusterSeries `json:"clusters"`
}

type clusterSeries struct {
	Number   int          `json:"number"`
	Label    string       `json:"label"`
	Colour   int          `json:"colour"`
	Centroid []float64    `json:"centroid"`
	Points   [][2]float64 `json:"points"`
}

// featureLabel names a clustering feature for people.
func featureLabel(name string) string {
	switch name {
	case "recency":
		return "Recency"
	case "frequency":
		return "Orders"
	case "monetary":
		return "Revenue"
	}
	return strings.ReplaceAll(name, "_", " ")
}

// featureValue writes a feature's mean in its unit.
func featureValue(name string, v float64, currency string) string {
	switch name {
	case "recency":
		return formatInt(v) + " days"
	case "frequency":
		return strconv.FormatFloat(v, 'f', 1, 64)
	case "monetary", "revenue", "aov", "predicted_clv", "refund_total":
		return formatMoney(v, currency)
	case "p_alive":
		return share(v)
	}
	return formatDecimal(v)
}

func (h *Handler) newClustersView(res *analytics.ClusterResult, currency string) (*clustersView, *clusterChart) {
	v := &clustersView{Res: res}
	chart := &clusterChart{}
	for _, f := range res.Features {
		v.Features = append(v.Features, featureLabel(f))
	}
	chart.Features = v.Features
	index := map[int]int{}
	for _, c := range res.Clusters {
		cv := clusterView{Cluster: c, Colour: ((c.Number % clusterColours) + clusterColours) % clusterColours}
		for i, m := range c.Means {
			if i < len(res.Features) {
				cv.Means = append(cv.Means, featureValue(res.Features[i], m, currency))
			}
		}
		var parts []string
		for i, x := range c.Centroid {
			if i < len(v.Features) {
				parts = append(parts, v.Features[i]+" "+strconv.FormatFloat(x, 'f', 2, 64))
			}
		}
		cv.CentroidText = strings.Join(parts, ", ")
		if h.segmentsOn() {
			cv.Segment = segmentURL("Cluster "+strconv.Itoa(c.Number), c.Description, "cluster = "+strconv.Itoa(c.Number))
		}
		v.Clusters = append(v.Clusters, cv)
		index[c.Number] = len(chart.Clusters)
		chart.Clusters = append(chart.Clusters, clusterSeries{Number: c.Number, Label: "Cluster " + strconv.Itoa(c.Number),
			Colour: cv.Colour, Centroid: c.Centroid, Points: [][2]float64{}})
	}
	for _, p := range res.Sample {
		if i, ok := index[p.Cluster]; ok {
			chart.Clusters[i].Points = append(chart.Clusters[i].Points, [2]float64{round3(p.X), round3(p.Y)})
		}
	}
	for _, s := range res.Silhouettes {
		v.Silhouettes = append(v.Silhouettes, silhouetteRow{K: s.K, Silhouette: s.Silhouette, Chosen: s.K == res.K})
	}
	for i := range v.Silhouettes {
		if v.Silhouettes[i].Chosen {
			v.Chosen = &v.Silhouettes[i]
		}
	}
	return v, chart
}

// round3 keeps three decimals: plenty for a plot, a third of the JSON.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// clvView is a lifetime-value run's result as the page shows it.
type clvView struct {
	Res               *analytics.CLVResult
	BGNBD, GammaGamma []modelParam
	Risk              []riskRow
	Top, AtRisk       []clvRow
	// MeanCLV is the predicted revenue per customer fitted.
	MeanCLV float64
	// HighRisk opens the builder with churn_risk = "high".
	HighRisk string
}

type modelParam struct {
	Name, Value, SE string
}

type riskRow struct {
	Band    string
	Count   int
	Share   float64
	Segment string
}

type clvRow struct {
	analytics.CLVCustomer
	Name  string
	Email string
}

// clvTable is a list of customers on the lifetime-value page.
type clvTable struct {
	Rows     []clvRow
	ID       string
	currency string
}

// Currency is the workspace's currency code.
func (t clvTable) Currency() string { return t.currency }

// clvChart is what app.js draws: the CLV histogram and, when there is a
// holdout period, actual against predicted purchases.
type clvChart struct {
	Currency     string    `json:"currency"`
	Distribution []string  `json:"distribution_labels"`
	Counts       []int     `json:"distribution"`
	Holdout      []string  `json:"holdout_labels,omitempty"`
	Actual       []float64 `json:"holdout_actual,omitempty"`
	Predicted    []float64 `json:"holdout_predicted,omitempty"`
}

// sig writes a model parameter to four significant digits.
func sig(f float64) string {
	if math.Abs(f) >= 1e4 {
		return formatDecimal(f)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// moneyShort writes an amount without cents when it is whole: axis labels.
func moneyShort(f float64, currency string) string {
	return strings.TrimSuffix(formatMoney(f, currency), ".00")
}

func (h *Handler) newCLVView(ctx context.Context, ws int64, res *analytics.CLVResult, currency string) (*clvView, *clvChart, error) {
	v := &clvView{Res: res}
	se := func(name string) string {
		if x, ok := res.StdErrors[name]; ok && !math.IsNaN(x) {
			return sig(x)
		}
		return "—"
	}
	v.BGNBD = []modelParam{{"r", sig(res.R), se("r")}, {"α", sig(res.Alpha), se("alpha")}, {"a", sig(res.A), se("a")}, {"b", sig(res.B), se("b")}}
	v.GammaGamma = []modelParam{{"p", sig(res.P), se("p")}, {"q", sig(res.Q), se("q")}, {"v", sig(res.V), se("v")}}
	if res.Customers > 0 {
		v.MeanCLV = res.PredictedRevenue / float64(res.Customers)
	}
	total := 0
	for _, n := range res.Risk {
		total += n
	}
	for _, band := range []string{"high", "medium", "low"} {
		r := riskRow{Band: band, Count: res.Risk[band]}
		if total > 0 {
			r.Share = float64(r.Count) / float64(total)
		}
		if h.segmentsOn() {
			r.Segment = segmentURL(strings.ToUpper(band[:1])+band[1:]+" churn risk", "Customers whose churn risk is "+band+" (lifetime value model).",
				"churn_risk = "+strconv.Quote(band))
		}
		v.Risk = append(v.Risk, r)
	}
	if h.segmentsOn() {
		v.HighRisk = v.Risk[0].Segment
	}
	var ids []int64
	for _, list := range [][]analytics.CLVCustomer{res.Top, res.AtRisk} {
		for _, c := range list {
			ids = append(ids, c.CustomerID)
		}
	}
	people, err := h.svc.Customers.FindCustomers(ctx, ws, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int64]int{}
	for i, c := range people {
		byID[c.ID] = i
	}
	rows := func(list []analytics.CLVCustomer) []clvRow {
		var out []clvRow
		for _, c := range list {
			row := clvRow{CLVCustomer: c, Name: "Customer #" + strconv.FormatInt(c.CustomerID, 10)}
			if i, ok := byID[c.CustomerID]; ok {
				row.Name, row.Email = displayName(people[i]), people[i].Email
			}
			out = append(out, row)
		}
		return out
	}
	v.Top, v.AtRisk = rows(res.Top), rows(res.AtRisk)

	chart := &clvChart{Currency: currency}
	for _, b := range res.Distribution {
		chart.Distribution = append(chart.Distribution, moneyShort(b.Min, currency)+"–"+moneyShort(b.Max, currency))
		chart.Counts = append(chart.Counts, b.Count)
	}
	if ho := res.Holdout; ho != nil {
		for i, row := range ho.Rows {
			label := strconv.Itoa(row.Frequency)
			if i == len(ho.Rows)-1 && len(ho.Rows) > 1 {
				label += "+"
			}
			chart.Holdout = append(chart.Holdout, label)
			chart.Actual = append(chart.Actual, round3(row.Actual))
			chart.Predicted = append(chart.Predicted, round3(row.Predicted))
		}
	}
	return v, chart, nil
}

// cohortsView is a cohort run's result as the page shows it.
type cohortsView struct {
	// Offsets are the columns: months since the first order.
	Offsets []int
	Rows    []cohortRow
	// Average is every cohort's retention at each offset, weighted by
	// size, over the cohorts that have reached it.
	Average   cohortRow
	Customers int
}

type cohortRow struct {
	Month string // "Jan 2026"
	Size  int
	Cells []cohortCell
}

type cohortCell struct {
	Has       bool
	Offset    int
	Active    int
	Retention float64
	Heat      int
	// Revenue is the cumulative revenue per customer up to the month.
	Revenue float64
}

// cohortChart is what app.js draws: cumulative revenue per customer by
// month since the first order, for the most recent cohorts.
type cohortChart struct {
	Currency string         `json:"currency"`
	Labels   []string       `json:"labels"`
	Cohorts  []cohortSeries `json:"cohorts"`
}

type cohortSeries struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}

// chartCohorts is how many of the most recent cohorts the chart draws.
const chartCohorts = 12

// retentionHeat shades a retention: fixed steps, since retention after
// the first month is small and a scale relative to the first month's 100%
// would leave everything else pale.
func retentionHeat(r float64) int {
	steps := []float64{0.025, 0.05, 0.10, 0.15, 0.25, 0.40}
	if r <= 0 {
		return 0
	}
	for i, s := range steps {
		if r < s {
			return i + 1
		}
	}
	return heatLevels
}

func newCohortsView(res *analytics.CohortResult) (*cohortsView, *cohortChart) {
	v := &cohortsView{}
	width := 0
	for _, c := range res.Cohorts {
		width = max(width, len(c.Retention))
		v.Customers += c.Size
	}
	for i := 0; i < width; i++ {
		v.Offsets = append(v.Offsets, i)
	}
	active, sizes := make([]int, width), make([]int, width)
	for _, c := range res.Cohorts {
		row := cohortRow{Month: monthLabel(c.Month), Size: c.Size}
		for i := 0; i < width; i++ {
			cell := cohortCell{Offset: i}
			if i < len(c.Retention) {
				cell.Has, cell.Retention = true, c.Retention[i]
				if i < len(c.Active) {
					cell.Active = c.Active[i]
					active[i] += c.Active[i]
					sizes[i] += c.Size
				}
				if i < len(c.CumulativeRevenuePerCustomer) {
					cell.Revenue = c.CumulativeRevenuePerCustomer[i]
				}
				cell.Heat = retentionHeat(cell.Retention)
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	v.Average = cohortRow{Month: "All cohorts", Size: v.Customers}
	for i := 0; i < width; i++ {
		cell := cohortCell{Offset: i, Active: active[i]}
		if sizes[i] > 0 {
			cell.Has, cell.Retention = true, float64(active[i])/float64(sizes[i])
			cell.Heat = retentionHeat(cell.Retention)
		}
		v.Average.Cells = append(v.Average.Cells, cell)
	}
	chart := &cohortChart{}
	for i := 0; i < width; i++ {
		chart.Labels = append(chart.Labels, "Month "+strconv.Itoa(i))
	}
	for _, c := range res.Cohorts[max(0, len(res.Cohorts)-chartCohorts):] {
		s := cohortSeries{Label: monthLabel(c.Month)}
		for _, x := range c.CumulativeRevenuePerCustomer {
			s.Values = append(s.Values, math.Round(x*100)/100)
		}
		chart.Cohorts = append(chart.Cohorts, s)
	}
	return v, chart
}

// monthLabel writes "2026-01" as "Jan 2026" (as it came when unreadable).
func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 2006")
}
