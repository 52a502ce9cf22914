package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
)

// dateRange is one choice of the dashboard's range picker.
type dateRange struct {
	Key, Label string
	Days       int // 0: all time or custom
}

var dateRanges = []dateRange{
	{"7d", "Last 7 days", 7},
	{"30d", "Last 30 days", 30},
	{"90d", "Last 90 days", 90},
	{"365d", "Last 365 days", 365},
	{"all", "All time", 0},
}

// rangeOption is a range link with its state.
type rangeOption struct {
	dateRange
	Active bool
}

type dashboardData struct {
	base
	Range      string
	RangeLabel string
	Ranges     []rangeOption
	From, To   string // the custom range's inputs, YYYY-MM-DD
	Stats      *touchbase.Stats
	Report     *touchbase.Report
	AOV        float64
	Chart      string // JSON for app.js
	Empty      bool
	// Segments are the workspace's segments, largest first, when the
	// console has segments at all.
	Segments []*touchbase.Segment
	// Insights sums up the latest RFM and lifetime-value runs; nil when
	// neither has run (or the console has no Insights pages).
	Insights *dashboardInsights
}

// dashboardInsights is the dashboard's summary of the analyses.
type dashboardInsights struct {
	// Groups are the largest RFM groups.
	Groups []analytics.RFMGroup
	CLV    *analytics.CLVResult
}

// dashboardGroups is how many RFM groups the dashboard lists.
const dashboardGroups = 6

// loadDashboardInsights reads the latest RFM and lifetime-value runs. A
// result that cannot be read leaves its half out: the pages say why.
func (h *Handler) loadDashboardInsights(ctx context.Context, ws int64) (*dashboardInsights, error) {
	d := &dashboardInsights{}
	latest := func(kind touchbase.AnalysisKind, v any) (bool, error) {
		run, err := h.svc.Analyses.LatestAnalysisRun(ctx, ws, kind)
		if touchbase.ErrorCode(err) == touchbase.ENOTFOUND {
			return false, nil
		} else if err != nil {
			return false, err
		}
		return json.Unmarshal(run.Result, v) == nil, nil
	}
	var rfm analytics.RFMResult
	ok, err := latest(touchbase.AnalysisRFM, &rfm)
	if err != nil {
		return nil, err
	}
	if ok {
		d.Groups = slices.Clone(rfm.Groups)
		slices.SortStableFunc(d.Groups, func(a, b analytics.RFMGroup) int { return cmp.Compare(b.Count, a.Count) })
		d.Groups = d.Groups[:min(len(d.Groups), dashboardGroups)]
	}
	var clv analytics.CLVResult
	if ok, err = latest(touchbase.AnalysisCLV, &clv); err != nil {
		return nil, err
	} else if ok {
		d.CLV = &clv
	}
	if d.Groups == nil && d.CLV == nil {
		return nil, nil
	}
	return d, nil
}

// dashboardSegments is how many segments the dashboard lists.
const dashboardSegments = 8

// chartData is what app.js draws: one label and one value per period.
type chartData struct {
	Interval        touchbase.ReportInterval `json:"interval"`
	Currency        string                   `json:"currency"`
	Labels          []string                 `json:"labels"`
	Revenue         []float64                `json:"revenue"`
	Orders          []int64                  `json:"orders"`
	NewBuyers       []int64                  `json:"new_buyers"`
	ReturningBuyers []int64                  `json:"returning_buyers"`
	NewCustomers    []int64                  `json:"new_customers"`
}

const dateLayout = "2006-01-02"

// dashboard shows the workspace's customers, orders, revenue and buyers
// over the chosen range. Ranges end with today (in the workspace's time
// zone), so "last 7 days" is today and the six days before it.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	d := dashboardData{base: h.base(rq, "Dashboard", "dashboard")}
	loc := d.Loc()
	now := h.cfg.Now().In(loc)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)

	q := r.URL.Query()
	d.Range = q.Get("range")
	f := touchbase.ReportFilter{Until: tomorrow, Location: loc}
	switch d.Range {
	case "custom":
		from, err1 := time.ParseInLocation(dateLayout, q.Get("from"), loc)
		to, err2 := time.ParseInLocation(dateLayout, q.Get("to"), loc)
		if err1 != nil || err2 != nil {
			return fieldError("from", "a custom range needs a start and an end date")
		}
		if to.Before(from) {
			return fieldError("to", "the range ends (%s) before it starts (%s)", q.Get("to"), q.Get("from"))
		}
		f.Since, f.Until = from, to.AddDate(0, 0, 1)
		d.RangeLabel = from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
	case "all":
		d.RangeLabel = "All time"
	default:
		d.Range = "30d"
		fallthrough
	case "7d", "90d", "365d":
		for _, dr := range dateRanges {
			if dr.Key == d.Range {
				f.Since = tomorrow.AddDate(0, 0, -dr.Days)
				d.RangeLabel = dr.Label
			}
		}
	}
	for _, dr := range dateRanges {
		d.Ranges = append(d.Ranges, rangeOption{dr, dr.Key == d.Range})
	}

	var err error
	if d.Stats, err = h.svc.Stats.Stats(ctx, rq.ws.ID); err != nil {
		return err
	}
	if d.Report, err = h.svc.Reports.Report(ctx, rq.ws.ID, f); err != nil {
		return err
	}
	d.From = d.Report.Since.In(loc).Format(dateLayout)
	d.To = d.Report.Until.In(loc).AddDate(0, 0, -1).Format(dateLayout)
	if t := d.Report.Totals; t.Orders > 0 {
		d.AOV = t.Revenue / float64(t.Orders)
	}
	d.Empty = d.Stats.Customers == 0 && d.Stats.Orders == 0
	if h.segmentsOn() {
		if d.Segments, err = h.svc.Segments.ListSegments(ctx, rq.ws.ID); err != nil {
			return err
		}
		slices.SortStableFunc(d.Segments, func(a, b *touchbase.Segment) int { return cmp.Compare(b.Size, a.Size) })
		d.Segments = d.Segments[:min(len(d.Segments), dashboardSegments)]
	}

	if h.insightsOn() {
		if d.Insights, err = h.loadDashboardInsights(ctx, rq.ws.ID); err != nil {
			return err
		}
	}

	c := chartData{Interval: d.Report.Interval, Currency: d.Currency()}
	for _, p := range d.Report.Points {
		c.Labels = append(c.Labels, periodLabel(p.Start.In(loc), d.Report.Interval))
		c.Revenue = append(c.Revenue, p.Revenue)
		c.Orders = append(c.Orders, p.Orders)
		c.NewBuyers = append(c.NewBuyers, p.NewBuyers)
		c.ReturningBuyers = append(c.ReturningBuyers, p.ReturningBuyers)
		c.NewCustomers = append(c.NewCustomers, p.NewCustomers)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	d.Chart = string(b)
	h.render(w, http.StatusOK, "dashboard", d)
	return nil
}

// periodLabel names a period on a chart's axis.
func periodLabel(t time.Time, interval touchbase.ReportInterval) string {
	switch interval {
	case touchbase.IntervalMonth:
		return t.Format("Jan 2006")
	case touchbase.IntervalWeek:
		return "w/c " + t.Format("2 Jan")
	}
	return t.Format("Mon 2 Jan")
}
