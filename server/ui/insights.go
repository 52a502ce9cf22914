package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/segment"
)

// Analyst runs analyses and recommends; an *analytics.Runner is one.
// Declared here, below server, whose own type embeds it.
type Analyst interface {
	// Start records a run of kind with p and runs it in the background;
	// the run it returns has not finished. EINVALID for bad parameters.
	Start(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p analytics.Params) (*touchbase.AnalysisRun, error)
	// RecommendForCustomer returns up to n products for the customer,
	// best first, with why.
	RecommendForCustomer(ctx context.Context, ws, customerID int64, n int) ([]analytics.Recommendation, error)
	// Progress returns where run id stands, if it is under way here.
	Progress(id int64) (touchbase.AnalysisProgress, bool)
}

// insightsOn reports whether the server gave the console the analysis
// runs to show.
func (h *Handler) insightsOn() bool { return h.svc.Analyses != nil }

// analystOn reports whether the console can start runs and recommend.
func (h *Handler) analystOn() bool { return h.svc.Analyst != nil }

// insight is one analysis as the console presents it.
type insight struct {
	Kind  touchbase.AnalysisKind
	Title string
	// Lead says in one sentence what the page shows.
	Lead string
	// Needs says what the analysis needs to run, for the empty state.
	Needs string
}

// Slug is the analysis's path under /ui/insights.
func (i insight) Slug() string { return string(i.Kind) }

// URL is the analysis's page.
func (i insight) URL() string { return Prefix + "/insights/" + i.Slug() }

// CLI is the command that runs the analysis.
func (i insight) CLI() string { return "touchbase analyze " + string(i.Kind) }

// insights are the analyses in the order the navigation lists them.
var insights = []insight{
	{touchbase.AnalysisRFM, "RFM", "Customers scored 1 to 5 on how recently, how often and how much they buy, and sorted into eleven named groups.",
		"RFM needs orders"},
	{touchbase.AnalysisClusters, "Clusters", "Customers grouped automatically by what they have in common (k-means on their recency, frequency and spend).",
		"Clustering needs customers with orders"},
	{touchbase.AnalysisCLV, "Lifetime value", "What each customer is expected to buy and spend, how likely they are to still be a customer, and who is at risk.",
		"Lifetime value needs customers with repeat orders"},
	{touchbase.AnalysisBasket, "Basket rules", "Products bought together: if an order holds these, it often holds that too.",
		"Basket rules need orders with several products"},
	{touchbase.AnalysisCohorts, "Cohorts", "Customers by the month of their first order: how many come back each month after, and what they spend.",
		"Cohorts need orders"},
}

func (h *Handler) insightRoutes() {
	m := h.mux
	m.HandleFunc("GET "+Prefix+"/insights", h.authed(touchbase.RoleAnalyst, h.insightsOverview))
	for _, in := range insights {
		m.HandleFunc("GET "+in.URL(), h.authed(touchbase.RoleAnalyst, h.insightPage(in)))
		m.HandleFunc("POST "+in.URL()+"/run", h.authed(touchbase.RoleMarketer, h.runInsight(in)))
	}
}

// runHistory is how many recent runs a page lists.
const runHistory = 8

// staleRun is how long a run may go unfinished before the page stops
// waiting for it: a server that restarts mid-run never finishes it.
const staleRun = time.Hour

// runState is where an analysis stands: the run whose results the page
// shows, the one under way, the last one that failed, and recent ones.
type runState struct {
	In insight
	// Run is the run shown: the latest successful one, or the one asked
	// for with ?run=; nil when none.
	Run *touchbase.AnalysisRun
	// Older is set when Run is not the latest successful run.
	Older bool
	// Running is the newest run when it has not finished.
	Running *touchbase.AnalysisRun
	// Stale is set when Running started so long ago that it will likely
	// never finish.
	Stale bool
	// Failed is the newest finished run when it failed after Run.
	Failed  *touchbase.AnalysisRun
	History []runRow
	// CanRun shows the run form; HasAnalyst tells why it is hidden.
	CanRun     bool
	HasAnalyst bool
	CSRF       string
	// Params are the shown run's parameters, and Form the run form's.
	Params []param
	Form   analytics.Params
	loc    *time.Location
}

// Loc is the workspace's time zone.
func (s *runState) Loc() *time.Location { return s.loc }

// runRow is a run in the history list.
type runRow struct {
	*touchbase.AnalysisRun
	Shown bool
}

// Took is how long a finished run took, roughly.
func (r runRow) Took() string { return duration(r.FinishedAt.Sub(r.StartedAt)) }

// RunURL is the page showing run id.
func (s *runState) RunURL(id int64) string {
	return s.In.URL() + "?run=" + strconv.FormatInt(id, 10)
}

// HeadForm reports whether Run now goes in the page's head: once there
// is a run to show or one under way; before, the empty state holds it.
func (s *runState) HeadForm() bool { return s.CanRun && (s.Run != nil || s.Running != nil) }

// Took is how long the shown run took.
func (s *runState) Took() string {
	if s.Run == nil || s.Run.FinishedAt == nil {
		return ""
	}
	return duration(s.Run.FinishedAt.Sub(s.Run.StartedAt))
}

// duration is d rounded for people: "0.4 s", "12 s", "3 min", "2 h 5 min".
func duration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	}
	return strconv.Itoa(int(d.Hours())) + " h " + strconv.Itoa(int(d.Minutes())%60) + " min"
}

// loadRunState reads where in's analysis stands in the session's
// workspace; runParam is the ?run= asked for ("" for the latest). A run of
// another workspace or kind is not found.
func (h *Handler) loadRunState(ctx context.Context, rq *request, in insight, runParam string) (*runState, error) {
	ws := rq.ws.ID
	st := &runState{In: in, HasAnalyst: h.analystOn(), CSRF: rq.csrf, loc: location(rq.ws)}
	latest, err := h.svc.Analyses.LatestAnalysisRun(ctx, ws, in.Kind)
	if err != nil && touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
		return nil, err
	}
	st.Run = latest
	if runParam != "" {
		id, err := strconv.ParseInt(runParam, 10, 64)
		if err != nil || id <= 0 {
			return nil, touchbase.Errorf(touchbase.ENOTFOUND, "there is no %s run %q", in.Title, runParam)
		}
		run, err := h.svc.Analyses.FindAnalysisRun(ctx, ws, id)
		if err != nil {
			return nil, err
		}
		if run.Kind != in.Kind || run.FinishedAt == nil || run.Error != "" {
			// Only finished, successful runs have results to show; the
			// others are described by the page of the latest.
			return nil, touchbase.Errorf(touchbase.ENOTFOUND, "there is no finished %s run %d", in.Title, id)
		}
		st.Run, st.Older = run, latest == nil || run.ID != latest.ID
	}
	recent, err := h.svc.Analyses.ListAnalysisRuns(ctx, ws, in.Kind, runHistory)
	if err != nil {
		return nil, err
	}
	for i, run := range recent {
		if i == 0 && run.FinishedAt == nil {
			st.Running = run
			st.Stale = h.cfg.Now().Sub(run.StartedAt) > staleRun
			if h.analystOn() {
				if p, ok := h.svc.Analyst.Progress(run.ID); ok {
					run.Progress, st.Stale = &p, false
				}
			}
		}
		if run.FinishedAt != nil && run.Error != "" && st.Failed == nil && (latest == nil || run.ID > latest.ID) {
			st.Failed = run
		}
		st.History = append(st.History, runRow{run, st.Run != nil && run.ID == st.Run.ID})
	}
	st.CanRun = rq.member.Role.AtLeast(touchbase.RoleMarketer) && st.HasAnalyst && (st.Running == nil || st.Stale)
	if st.Run != nil {
		json.Unmarshal(st.Run.Params, &st.Form) // best effort: the form starts from the last run's choices
		st.Params = paramsOf(in.Kind, st.Form)
	}
	return st, nil
}

// param is one of a run's parameters, for people.
type param struct{ Name, Value string }

// paramsOf lists the parameters kind reads, as a run recorded them.
func paramsOf(kind touchbase.AnalysisKind, p analytics.Params) []param {
	var out []param
	if !p.AsOf.IsZero() {
		out = append(out, param{"As of", p.AsOf.UTC().Format("2 Jan 2006, 15:04 MST")})
	}
	switch kind {
	case touchbase.AnalysisRFM:
		period := "all time"
		if p.Period != "" {
			period = "the last " + string(p.Period)
		}
		out = append(out, param{"Period", period})
	case touchbase.AnalysisClusters:
		k := strconv.Itoa(p.K)
		if p.K == 0 {
			k = fmt.Sprintf("chosen by silhouette, %d to %d", p.MinK, p.MaxK)
		}
		out = append(out, param{"Clusters", k})
		if len(p.Features) > 0 {
			out = append(out, param{"Features", strings.Join(p.Features, ", ")})
		}
		if p.Seed != 0 {
			out = append(out, param{"Seed", strconv.FormatUint(p.Seed, 10)})
		}
	case touchbase.AnalysisCLV:
		out = append(out, param{"Fitted on orders up to", p.CalibrationEnd}, param{"Time unit", p.Unit}, param{"Horizon", string(p.Horizon)})
	case touchbase.AnalysisBasket:
		out = append(out, param{"Min. support", share(p.MinSupport) + " of orders"}, param{"Min. confidence", share(p.MinConfidence)},
			param{"Min. items", strconv.Itoa(p.MinLen)}, param{"Max. rules", formatInt(p.MaxRules)})
	}
	return out
}

// runParams reads the run form of kind: the parameters it offers, empty
// for the analysis's defaults. The runner checks them again.
func runParams(kind touchbase.AnalysisKind, r *http.Request) (analytics.Params, error) {
	var p analytics.Params
	val := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	switch kind {
	case touchbase.AnalysisRFM:
		if v := val("period"); v != "" {
			d, err := segment.ParseDuration(v)
			if err != nil {
				return p, fieldError("period", "period %q: a whole number and a unit, such as 365d or 52w, or empty for all time", v)
			}
			p.Period = d
		}
	case touchbase.AnalysisClusters:
		if v := val("k"); v != "" {
			k, err := strconv.Atoi(v)
			if err != nil || k < 2 || k > 50 {
				return p, fieldError("k", "clusters %q: a whole number from 2 to 50, or empty to choose by silhouette", v)
			}
			p.K = k
		}
		for _, f := range strings.Split(val("features"), ",") {
			if f = strings.TrimSpace(f); f != "" {
				p.Features = append(p.Features, f)
			}
		}
	case touchbase.AnalysisCLV:
		if v := val("horizon"); v != "" {
			d, err := segment.ParseDuration(v)
			if err != nil {
				return p, fieldError("horizon", "horizon %q: a whole number and a unit, such as 365d or 26w", v)
			}
			p.Horizon = d
		}
		switch v := val("unit"); v {
		case "", "day", "week":
			p.Unit = v
		default:
			return p, fieldError("unit", "time unit %q: day or week", v)
		}
		if v := val("calibration_end"); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return p, fieldError("calibration_end", "fit on orders up to %q: a date, YYYY-MM-DD, or empty for today", v)
			}
			p.CalibrationEnd = v
		}
	case touchbase.AnalysisBasket:
		for _, f := range []struct {
			name, label string
			to          *float64
		}{{"min_support", "minimum support", &p.MinSupport}, {"min_confidence", "minimum confidence", &p.MinConfidence}} {
			v := strings.TrimSuffix(val(f.name), "%")
			if v == "" {
				continue
			}
			pc, err := strconv.ParseFloat(v, 64)
			if err != nil || !(pc > 0 && pc <= 100) {
				return p, fieldError(f.name, "%s %q: a percentage above 0 and at most 100", f.label, v)
			}
			*f.to = pc / 100
		}
	}
	return p, nil
}

// runInsight starts a run of in's analysis in the background and sends
// people back to its page, which shows it running.
func (h *Handler) runInsight(in insight) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		if !h.analystOn() {
			return touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not run analyses: run %s", in.CLI())
		}
		p, err := runParams(in.Kind, r)
		if err != nil {
			return err
		}
		if _, err := h.svc.Analyst.Start(r.Context(), rq.ws.ID, in.Kind, p); err != nil {
			return err
		}
		redirect(w, r, in.URL())
		return nil
	}
}

// insightData is what an analysis page shows: where the analysis stands
// and, per kind, the shown run's result.
type insightData struct {
	base
	State *runState
	// ResultError is set when the shown run's result cannot be read.
	ResultError string
	RFM         *rfmView
	Clusters    *clustersView
	CLV         *clvView
	Basket      *basketView
	Cohorts     *cohortsView
	Chart       string // JSON for app.js
}

// insightPage serves an analysis's page. While a run is under way, htmx
// polls its status fragment; once it has finished the answer asks for a
// full reload (HX-Refresh), which shows the new results.
func (h *Handler) insightPage(in insight) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		ctx := r.Context()
		q := r.URL.Query()
		st, err := h.loadRunState(ctx, rq, in, q.Get("run"))
		if err != nil {
			return err
		}
		if isHTMX(r) && r.Header.Get("HX-Target") == "run-status" {
			if st.Running == nil || st.Stale {
				w.Header().Set("HX-Refresh", "true")
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
			h.execute(w, "insight-"+in.Slug(), "run-status", st)
			return nil
		}
		d := &insightData{base: h.base(rq, in.Title, "insights/"+in.Slug()), State: st}
		if st.Run != nil {
			var chart any
			if chart, err = h.insightView(ctx, rq, d, q); err != nil {
				if touchbase.ErrorCode(err) != touchbase.EINVALID {
					return err
				}
				d.ResultError = touchbase.ErrorMessage(err)
				d.RFM, d.Clusters, d.CLV, d.Basket, d.Cohorts = nil, nil, nil, nil, nil
			} else if chart != nil {
				b, err := json.Marshal(chart)
				if err != nil {
					return err
				}
				d.Chart = string(b)
			}
		}
		if in.Kind == touchbase.AnalysisBasket && d.Basket != nil && isHTMX(r) && r.Header.Get("HX-Target") == "rules" {
			h.execute(w, "insight-basket", "rules", d)
			return nil
		}
		h.render(w, http.StatusOK, "insight-"+in.Slug(), d)
		return nil
	}
}

// insightView reads the shown run's result into d's view of its kind and
// returns what its charts draw (nil for none). A result that cannot be
// read is EINVALID: the page says so rather than failing.
func (h *Handler) insightView(ctx context.Context, rq *request, d *insightData, q url.Values) (any, error) {
	run := d.State.Run
	decode := func(v any) error {
		if err := json.Unmarshal(run.Result, v); err != nil {
			return touchbase.Errorf(touchbase.EINVALID, "the result of run %d cannot be read (%v): run the analysis again", run.ID, err)
		}
		return nil
	}
	switch run.Kind {
	case touchbase.AnalysisRFM:
		var res analytics.RFMResult
		if err := decode(&res); err != nil {
			return nil, err
		}
		d.RFM = h.newRFMView(&res, d.Currency())
		return nil, nil
	case touchbase.AnalysisClusters:
		var res analytics.ClusterResult
		if err := decode(&res); err != nil {
			return nil, err
		}
		var chart any
		d.Clusters, chart = h.newClustersView(&res, d.Currency())
		return chart, nil
	case touchbase.AnalysisCLV:
		var res analytics.CLVResult
		if err := decode(&res); err != nil {
			return nil, err
		}
		v, chart, err := h.newCLVView(ctx, rq.ws.ID, &res, d.Currency())
		d.CLV = v
		return chart, err
	case touchbase.AnalysisBasket:
		var res analytics.BasketResult
		if err := decode(&res); err != nil {
			return nil, err
		}
		d.Basket = newBasketView(&res, q, d.State)
		return nil, nil
	case touchbase.AnalysisCohorts:
		var res analytics.CohortResult
		if err := decode(&res); err != nil {
			return nil, err
		}
		v, chart := newCohortsView(&res)
		d.Cohorts, chart.Currency = v, d.Currency()
		return chart, nil
	}
	return nil, nil
}

// insightCard is one analysis on the overview.
type insightCard struct {
	In       insight
	Run      *touchbase.AnalysisRun // latest successful, or nil
	Running  bool
	Failed   string // the newest run's error, when it failed
	Headline string // what the latest run found, in a few words
}

type insightsData struct {
	base
	Cards []insightCard
}

// insightsOverview lists the analyses with where each stands.
func (h *Handler) insightsOverview(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	d := &insightsData{base: h.base(rq, "Insights", "insights")}
	for _, in := range insights {
		c := insightCard{In: in}
		recent, err := h.svc.Analyses.ListAnalysisRuns(ctx, rq.ws.ID, in.Kind, 1)
		if err != nil {
			return err
		}
		if len(recent) == 1 {
			c.Running = recent[0].FinishedAt == nil && h.cfg.Now().Sub(recent[0].StartedAt) <= staleRun
			c.Failed = recent[0].Error
		}
		c.Run, err = h.svc.Analyses.LatestAnalysisRun(ctx, rq.ws.ID, in.Kind)
		if err != nil && touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
			return err
		}
		if c.Run != nil {
			c.Headline = headline(c.Run, d.Currency())
		}
		d.Cards = append(d.Cards, c)
	}
	h.render(w, http.StatusOK, "insights", d)
	return nil
}

// headline says what a run found in a few words, or "" when its result
// cannot be read.
func headline(run *touchbase.AnalysisRun, currency string) string {
	switch run.Kind {
	case touchbase.AnalysisRFM:
		var res analytics.RFMResult
		if json.Unmarshal(run.Result, &res) != nil {
			return ""
		}
		var champions, risk int
		for _, g := range res.Groups {
			switch g.Name {
			case "Champions":
				champions = g.Count
			case "At Risk", "Cannot Lose Them":
				risk += g.Count
			}
		}
		return formatInt(champions) + " champions, " + formatInt(risk) + " at risk or not to lose"
	case touchbase.AnalysisClusters:
		var res analytics.ClusterResult
		if json.Unmarshal(run.Result, &res) != nil {
			return ""
		}
		return plural(res.K, "cluster") + " of " + formatInt(res.Customers) + " customers"
	case touchbase.AnalysisCLV:
		var res analytics.CLVResult
		if json.Unmarshal(run.Result, &res) != nil {
			return ""
		}
		return formatMoney(res.PredictedRevenue, currency) + " predicted over " + res.Horizon + ", " +
			formatInt(res.Risk["high"]) + " at high churn risk"
	case touchbase.AnalysisBasket:
		var res analytics.BasketResult
		if json.Unmarshal(run.Result, &res) != nil {
			return ""
		}
		return formatInt(res.Found) + " rules among " + formatInt(res.Orders) + " orders"
	case touchbase.AnalysisCohorts:
		var res analytics.CohortResult
		if json.Unmarshal(run.Result, &res) != nil {
			return ""
		}
		return plural(len(res.Cohorts), "monthly cohort")
	}
	return ""
}

// share writes a fraction as a percentage: one decimal below 10%, none
// above, "<0.1%" for a sliver, "–" for NaN.
func share(f float64) string {
	switch {
	case f != f:
		return "–"
	case f == 0:
		return "0%"
	case f > 0 && f < 0.001:
		return "<0.1%"
	case f < 0.1:
		return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(f*100, 'f', 0, 64) + "%"
}

// segmentURL opens the segment builder filled in with a definition.
func segmentURL(name, description, text string) string {
	return Prefix + "/segments/new?" + url.Values{"name": {name}, "description": {description}, "text": {text}}.Encode()
}
