package ui_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// withAnalyst gives the server the analyst f.
func withAnalyst(f *fakeAnalyst) func(*server.Services) {
	return func(svc *server.Services) { svc.Analyst = f }
}

// unescaped is p with its HTML entities decoded, to read URLs as the
// browser does (html/template writes + in a URL as &#43;).
func unescaped(p page) page {
	p.body = html.UnescapeString(p.body)
	return p
}

// wantIn checks that body holds every string of want.
func wantIn(t *testing.T, what string, p page, want ...string) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("%s: status %d: %.600s", what, p.status, p.body)
	}
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// TestInsightPages renders every analysis page, the overview and the 360
// page's cards from realistic runs in the store.
func TestInsightPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		fa := newFakeAnalyst(s, 0)
		e := newEnv(t, s, withAnalyst(fa))
		runs := e.seedInsights()
		c := e.client()
		c.login("owner@example.com")

		p := c.do("GET", "/ui/insights", nil)
		wantIn(t, "overview", p, `href="/ui/insights/rfm"`, `id="insight-cards"`, "437 champions, 387 at risk or not to lose", "4 clusters of 4,022 customers",
			"$52,341.70 predicted over 52w, 1,266 at high churn risk", "9 rules among 1,860 orders", "8 monthly cohorts")
		for _, nav := range []string{"rfm", "clusters", "clv", "basket", "cohorts"} {
			if !strings.Contains(p.body, `<li><a href="/ui/insights/`+nav+`"`) {
				t.Errorf("nav lacks %s", nav)
			}
		}

		t.Run("dashboard", func(t *testing.T) {
			p := c.do("GET", "/ui/?range=all", nil)
			wantIn(t, "dashboard", p, `id="dashboard-insights"`, `<th scope="row">Lost</th><td class="num">1,112 <span class="muted small">28%</span>`,
				"$52,341.70", `<span class="badge risk-high">1,266</span>`, `href="/ui/insights/rfm"`)
		})

		t.Run("rfm", func(t *testing.T) {
			p := c.do("GET", "/ui/insights/rfm", nil)
			wantIn(t, "rfm", p, `id="rfm-grid"`, `<th scope="row">R 5</th>`, `<th scope="col">FM 1</th>`,
				`title="R 5, FM 5: Champions, 225 customers (5.6%)"`, `title="R 1, FM 1: Lost, 902 customers (22%)"`,
				`id="rfm-groups"`, `<th scope="row" class="group-cell"><strong>Cannot Lose Them</strong>`,
				"Win them back at any cost", `id="rfm-ranges"`, "0–14 days ago", "the last 365d", `id="run-customers">4,022<`,
				`id="run-form"`)
			wantIn(t, "rfm links", unescaped(p), "/ui/segments/new?description=Bought+recently", "&text=rfm.segment+%3D+%22Champions%22")
			if n := strings.Count(p.body, `class="rfm-cell `); n != 25 {
				t.Errorf("%d grid cells, want 25", n)
			}
			// The grid runs R 5 to 1, FM 1 to 5: the first cell is New
			// Customers, the last Cannot Lose Them.
			cells := regexp.MustCompile(`title="R (\d), FM (\d): ([^,]+),`).FindAllStringSubmatch(p.body, -1)
			if len(cells) != 25 || cells[0][1]+cells[0][2]+cells[0][3] != "51New Customers" || cells[24][1]+cells[24][2]+cells[24][3] != "15Cannot Lose Them" {
				t.Errorf("grid order: first %v, last %v", cells[0], cells[len(cells)-1])
			}
			// Cells of one group read as one block: Champions' two cells
			// share the side between them.
			if !strings.Contains(p.body, `class="rfm-cell heat-3 edge-t edge-b edge-l" title="R 5, FM 4: Champions`) {
				t.Errorf("Champions' left cell is not joined to its right neighbour")
			}
			// The group's link opens the builder, where the feature parses.
			link := regexp.MustCompile(`href="(/ui/segments/new\?[^"]+rfm.segment[^"]+Champions[^"]+)"`).FindStringSubmatch(p.body)
			if link == nil {
				t.Fatal("no segment link for Champions")
			}
			b := c.do("GET", html.UnescapeString(link[1]), nil)
			wantIn(t, "builder from the RFM group", b, `value="RFM: Champions"`, `id="preview-count"><strong>1</strong>`)
		})

		t.Run("clusters", func(t *testing.T) {
			p := c.do("GET", "/ui/insights/clusters", nil)
			wantIn(t, "clusters", p, `id="cluster-k">4<`, `id="cluster-1"`, "recent, frequent, high spend", `data-chart="cluster-scatter"`,
				`id="silhouettes"`, `<th scope="row">4 <span class="badge import-done">kept</span>`, `id="cluster-means"`,
				"$1,240.00", "290 days", "chosen by silhouette, 2 to 6", `id="chart-data"`)
			wantIn(t, "cluster links", unescaped(p), "&text=cluster+%3D+4")
			if n := strings.Count(p.body, `data-chart="centroid"`); n != 4 {
				t.Errorf("%d centroid charts, want 4", n)
			}
			var chart struct {
				Features []string
				Clusters []struct {
					Number   int
					Centroid []float64
					Points   [][2]float64
				}
			}
			m := regexp.MustCompile(`data-chart-json="([^"]+)"`).FindStringSubmatch(p.body)
			if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &chart) != nil {
				t.Fatalf("chart data %v", m)
			}
			if len(chart.Clusters) != 4 || len(chart.Clusters[0].Points) != 100 || chart.Features[2] != "Revenue" || chart.Clusters[0].Centroid[1] != 1.6 {
				t.Errorf("chart data %+v", chart)
			}
		})

		t.Run("lifetime value", func(t *testing.T) {
			p := c.do("GET", "/ui/insights/clv", nil)
			wantIn(t, "clv", p, `id="clv-customers">2,357<`, `id="clv-revenue">$52,341.70<`, "0.2426", "± 0.0126", "-9,582.43", "-4,059.92",
				`id="clv-top"`, `href="/ui/customers/`+idOf(e.ada)+`"`, "Ada Lovelace", `id="clv-at-risk"`, `<span class="badge risk-high">high</span>`,
				`data-chart="clv-distribution"`, `id="clv-holdout"`, "<th scope=\"row\">7+</th>", "Fitted on orders up to")
			wantIn(t, "clv links", unescaped(p), "&text=churn_risk+%3D+%22high%22")
		})

		t.Run("basket", func(t *testing.T) {
			p := c.do("GET", "/ui/insights/basket", nil)
			wantIn(t, "basket", p, `id="rules-table"`, `<span class="product-chip">Leather Boots</span>`, `product-chip-then">Selvedge Jeans<`,
				`<span class="product-chip">sku-999</span>`, `id="rules-found">9<`, "Rules 1–9 of 9", "3.42", "71%", "1.2%", `aria-sort="descending"`)
		})

		t.Run("cohorts", func(t *testing.T) {
			p := c.do("GET", "/ui/insights/cohorts", nil)
			wantIn(t, "cohorts", p, `id="cohort-grid"`, `<th scope="row" class="nowrap">Jan 2026</th>`, `id="cohort-count">8<`,
				`title="Jan 2026 cohort, month 1: 43 of 180 ordered (24%)"`, "All cohorts", `data-chart="cohort-revenue"`, "Back in month 1")
			if n := strings.Count(p.body, `class="cohort-none"`); n != 28 {
				t.Errorf("%d empty cells, want 28 (the triangle of months not reached yet)", n)
			}
		})

		t.Run("customer 360", func(t *testing.T) {
			p := c.do("GET", "/ui/customers/"+idOf(e.ada), nil)
			wantIn(t, "360", p, `id="scores"`, `id="score-group">Champions<`, "Bought recently, buy often and spend the most.",
				`title="Recency score, 5: ordered most recently">R 5<`, "Cluster 1", "recent, frequent, high spend",
				`id="score-palive">87%<`, `id="score-clv-value">$512.40<`, `id="score-risk">low<`, "3.21", "596",
				`id="recommendations"`, `id="rec-list"`, "Merino Hoodie", "$119.00", "bought with Selvedge Jeans")
			if n := strings.Count(p.body, `class="rec"`); n != 6 {
				t.Errorf("%d recommendations, want 6", n)
			}
		})

		t.Run("an earlier run", func(t *testing.T) {
			old := runs[touchbase.AnalysisBasket]
			res := basketResult()
			res.Rules = res.Rules[:2]
			res.Found = 2
			recordRun(t, s, e.acme.ID, touchbase.AnalysisBasket, 1000, res, "")
			p := c.do("GET", "/ui/insights/basket", nil)
			wantIn(t, "latest", p, "Rules 1–2 of 2", `id="run-history"`, `href="/ui/insights/basket?run=`+idOf(old.ID)+`"`)
			p = c.do("GET", "/ui/insights/basket?run="+idOf(old.ID), nil)
			wantIn(t, "older", p, `id="older-run"`, "Rules 1–9 of 9", `<input type="hidden" name="run" value="`+idOf(old.ID)+`">`)
			// Sorting an earlier run keeps to it.
			if !strings.Contains(p.body, `href="/ui/insights/basket?run=`+idOf(old.ID)+`&amp;sort=confidence"`) {
				t.Errorf("sort link leaves the earlier run")
			}
		})
	})
}

// TestInsightsTenancy checks that a run of another workspace, or of
// another kind, is not found, whatever its id.
func TestInsightsTenancy(t *testing.T) {
	s := storetest.OpenSQLite(t)
	e := newEnv(t, s)
	runs := e.seedInsights()
	betaRun := recordRun(t, s, e.beta.ID, touchbase.AnalysisRFM, 3, rfmResult(), "")
	c := e.client()
	c.login("owner@example.com") // an analyst in Beta too, but signed in to Acme
	for _, path := range []string{
		"/ui/insights/rfm?run=" + idOf(betaRun.ID),
		"/ui/insights/rfm?run=" + idOf(runs[touchbase.AnalysisCLV].ID),
		"/ui/insights/rfm?run=999999",
		"/ui/insights/rfm?run=abc",
		"/ui/insights/magic",
	} {
		if p := c.do("GET", path, nil); p.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, p.status)
		}
	}
	// Beta's own page shows Beta's run, and none of Acme's.
	p := c.do("GET", "/ui/insights/clv", nil)
	wantIn(t, "acme clv", p, "Ada Lovelace")
	switchTo(t, c, e.beta.ID)
	p = c.do("GET", "/ui/insights/clv", nil)
	wantIn(t, "beta clv", p, `id="insight-empty"`)
	p = c.do("GET", "/ui/insights/rfm?run="+idOf(betaRun.ID), nil)
	wantIn(t, "beta rfm", p, `id="run-customers">3<`)
	if p := c.do("GET", "/ui/insights/rfm?run="+idOf(runs[touchbase.AnalysisRFM].ID), nil); p.status != http.StatusNotFound {
		t.Errorf("Acme's run from Beta: status %d, want 404", p.status)
	}
}

// switchTo moves c's session to workspace ws.
func switchTo(t *testing.T, c *client, ws int64) {
	t.Helper()
	csrf := c.do("GET", "/ui/", nil).csrf(t)
	if p := c.post("/ui/workspace", csrf, url.Values{"workspace_id": {idOf(ws)}}); p.status != http.StatusSeeOther {
		t.Fatalf("switch workspace: %d", p.status)
	}
}

// TestInsightsEmpty covers the pages before any run: what they need, and
// who may start one.
func TestInsightsEmpty(t *testing.T) {
	s := storetest.OpenSQLite(t)
	fa := newFakeAnalyst(s, 0)
	e := newEnv(t, s, withAnalyst(fa))
	owner, analyst := e.client(), e.client()
	owner.login("owner@example.com")
	analyst.login("analyst@example.com")
	for _, tc := range []struct{ kind, needs string }{
		{"rfm", "RFM needs orders"},
		{"clusters", "Clustering needs customers with orders"},
		{"clv", "Lifetime value needs customers with repeat orders"},
		{"basket", "Basket rules need orders with several products"},
		{"cohorts", "Cohorts need orders"},
	} {
		p := owner.do("GET", "/ui/insights/"+tc.kind, nil)
		wantIn(t, tc.kind, p, `id="insight-empty"`, tc.needs+`: <a href="/ui/imports">import some</a> or run <code>touchbase analyze `+tc.kind+`</code>`,
			`id="run-form"`, `action="/ui/insights/`+tc.kind+`/run"`)
		if n := strings.Count(p.body, `id="run-form"`); n != 1 {
			t.Errorf("%s: %d run forms, want 1", tc.kind, n)
		}
		if strings.Contains(p.body, `id="run-meta"`) || strings.Contains(p.body, `id="run-history"`) {
			t.Errorf("%s: run details without a run", tc.kind)
		}
		p = analyst.do("GET", "/ui/insights/"+tc.kind, nil)
		wantIn(t, tc.kind+" as analyst", p, `id="insight-empty"`, "Your role is analyst")
		if strings.Contains(p.body, `id="run-form"`) {
			t.Errorf("%s: an analyst sees Run now", tc.kind)
		}
	}
	if p := owner.do("GET", "/ui/", nil); strings.Contains(p.body, `id="dashboard-insights"`) {
		t.Error("the dashboard sums up analyses that never ran")
	}
	p := owner.do("GET", "/ui/insights", nil)
	if n := strings.Count(p.body, "not run yet"); n != 5 {
		t.Errorf("overview: %d analyses not run yet, want 5", n)
	}
	p = owner.do("GET", "/ui/customers/"+idOf(e.ada), nil)
	wantIn(t, "360 without scores", p, `id="scores-empty"`, `id="recommendations"`)
}

// TestInsightsHidden checks the pages are hidden without the services
// they need: without Analyses, no pages; without an Analyst, no Run now
// and no recommendations.
func TestInsightsHidden(t *testing.T) {
	s := storetest.OpenSQLite(t)
	e := newEnv(t, s, func(svc *server.Services) { svc.Analyses = nil })
	c := e.client()
	csrf := c.login("owner@example.com")
	if p := c.do("GET", "/ui/", nil); strings.Contains(p.body, "/ui/insights") {
		t.Error("the navigation offers Insights without the service")
	}
	if p := c.do("GET", "/ui/insights/rfm", nil); p.status != http.StatusNotFound {
		t.Errorf("rfm page without the service: %d", p.status)
	}
	if p := c.post("/ui/insights/rfm/run", csrf, nil); p.status != http.StatusNotFound {
		t.Errorf("run without the service: %d", p.status)
	}
	if p := c.do("GET", "/ui/customers/"+idOf(e.ada), nil); strings.Contains(p.body, `id="scores"`) || strings.Contains(p.body, `id="recommendations"`) {
		t.Error("the 360 page shows scores or recommendations without the services")
	}

	s2 := storetest.OpenSQLite(t)
	e2 := newEnv(t, s2)
	e2.seedInsights()
	c2 := e2.client()
	csrf = c2.login("owner@example.com")
	p := c2.do("GET", "/ui/insights/rfm", nil)
	wantIn(t, "rfm without an analyst", p, `id="rfm-grid"`)
	if strings.Contains(p.body, `id="run-form"`) {
		t.Error("Run now without an analyst")
	}
	if p := c2.post("/ui/insights/rfm/run", csrf, nil); p.status != http.StatusServiceUnavailable {
		t.Errorf("run without an analyst: %d %.300s", p.status, p.body)
	}
	p = c2.do("GET", "/ui/customers/"+idOf(e2.ada), nil)
	wantIn(t, "360 without an analyst", p, `id="scores"`)
	if strings.Contains(p.body, `id="recommendations"`) {
		t.Error("recommendations without an analyst")
	}
}

// TestRunNow starts runs from the pages: roles, CSRF, parameters, the
// running state that htmx polls, and failures.
func TestRunNow(t *testing.T) {
	s := storetest.OpenSQLite(t)
	fa := newFakeAnalyst(s, 0)
	e := newEnv(t, s, withAnalyst(fa))
	owner, analyst, marketer := e.client(), e.client(), e.client()
	csrf := owner.login("owner@example.com")
	acsrf := analyst.login("analyst@example.com")
	mcsrf := marketer.login("marketer@example.com")

	t.Run("an analyst may not run", func(t *testing.T) {
		p := analyst.post("/ui/insights/rfm/run", acsrf, nil)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "this needs marketer or above") {
			t.Errorf("status %d: %.300s", p.status, p.body)
		}
		if len(fa.calls()) != 0 {
			t.Errorf("started %v", fa.calls())
		}
	})
	t.Run("without the CSRF token", func(t *testing.T) {
		p := owner.do("POST", "/ui/insights/rfm/run", url.Values{}, "Origin", e.url)
		if p.status != http.StatusForbidden || len(fa.calls()) != 0 {
			t.Errorf("status %d, started %v", p.status, fa.calls())
		}
	})
	t.Run("bad parameters stay at the edge", func(t *testing.T) {
		for _, tc := range []struct {
			kind string
			form url.Values
			want string
		}{
			{"rfm", url.Values{"period": {"soon"}}, "period &#34;soon&#34;"},
			{"clusters", url.Values{"k": {"1"}}, "a whole number from 2 to 50"},
			{"clv", url.Values{"unit": {"month"}}, "day or week"},
			{"clv", url.Values{"calibration_end": {"yesterday"}}, "YYYY-MM-DD"},
			{"basket", url.Values{"min_support": {"0"}}, "a percentage above 0"},
		} {
			p := owner.post("/ui/insights/"+tc.kind+"/run", csrf, tc.form)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
				t.Errorf("%s %v: status %d: %.400s", tc.kind, tc.form, p.status, p.body)
			}
		}
		if len(fa.calls()) != 0 {
			t.Errorf("started %v", fa.calls())
		}
	})
	t.Run("the runner's refusal shows", func(t *testing.T) {
		start := fa.setStart(func(context.Context, int64, touchbase.AnalysisKind, analytics.Params) (*touchbase.AnalysisRun, error) {
			return nil, touchbase.Errorf(touchbase.EINVALID, "clv: no customer has a repeat order")
		})
		defer fa.setStart(start)
		p := owner.post("/ui/insights/clv/run", csrf, nil)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "no customer has a repeat order") {
			t.Errorf("status %d: %.300s", p.status, p.body)
		}
		// From htmx, in the page's flash region.
		p = owner.do("POST", "/ui/insights/clv/run", url.Values{}, "X-CSRF-Token", csrf, "HX-Request", "true", "Origin", e.url)
		if p.status != http.StatusBadRequest || p.header.Get("HX-Retarget") != "#flash" || !strings.Contains(p.body, "repeat order") {
			t.Errorf("htmx: status %d, %v: %.300s", p.status, p.header, p.body)
		}
	})
	fa.reset()

	t.Run("clusters on the features asked for, traits among them", func(t *testing.T) {
		wantIn(t, "the form", owner.do("GET", "/ui/insights/clusters", nil), `id="opt-features" name="features"`)
		p := owner.post("/ui/insights/clusters/run", csrf, url.Values{"k": {"3"}, "features": {" traits.age , aov,,"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.300s", p.status, p.body)
		}
		if got := fa.lastParams(); got.K != 3 || !slices.Equal(got.Features, []string{"traits.age", "aov"}) {
			t.Errorf("params %+v", got)
		}
	})
	fa.reset()

	t.Run("a marketer runs with parameters; the page polls until it ends", func(t *testing.T) {
		p := marketer.post("/ui/insights/basket/run", mcsrf, url.Values{"min_support": {"0.5"}, "min_confidence": {"30%"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/insights/basket" {
			t.Fatalf("run: status %d, Location %q: %.300s", p.status, p.header.Get("Location"), p.body)
		}
		if got := fa.calls(); !slices.Equal(got, []touchbase.AnalysisKind{touchbase.AnalysisBasket}) {
			t.Fatalf("started %v", got)
		}
		if p := fa.lastParams(); p.MinSupport != 0.005 || p.MinConfidence != 0.3 {
			t.Errorf("params %+v", p)
		}
		p = marketer.do("GET", "/ui/insights/basket", nil)
		wantIn(t, "running", p, `id="run-status" class="run-status card" role="status" hx-get="/ui/insights/basket" hx-trigger="every 2s"`, "Running…")
		if strings.Contains(p.body, `id="run-form"`) || strings.Contains(p.body, `id="insight-empty"`) {
			t.Error("Run now, or the empty state, while a run is under way")
		}
		poll := func() page {
			return marketer.do("GET", "/ui/insights/basket", nil, htmx("run-status")...)
		}
		p = poll()
		if p.status != http.StatusOK || !strings.Contains(p.body, "Running…") || strings.Contains(p.body, "<html") {
			t.Errorf("poll while running: %d %.300s", p.status, p.body)
		}
		runs, err := s.ListAnalysisRuns(context.Background(), e.acme.ID, touchbase.AnalysisBasket, 1)
		if err != nil || len(runs) != 1 {
			t.Fatal(runs, err)
		}
		run := runs[0]
		// Where the run stands, as the Analyst tells.
		fa.setProgress(run.ID, touchbase.AnalysisProgress{Stage: "saving scores", Done: 5000, Total: 20000})
		wantIn(t, "progress", poll(), `<span id="run-stage">saving scores (5000 of 20000)</span>`)
		b, _ := json.Marshal(basketResult())
		run.Customers, run.Result = 1860, b
		if err := s.FinishAnalysisRun(context.Background(), run); err != nil {
			t.Fatal(err)
		}
		p = poll()
		if p.status != http.StatusNoContent || p.header.Get("HX-Refresh") != "true" {
			t.Errorf("poll after the end: %d %v", p.status, p.header)
		}
		p = marketer.do("GET", "/ui/insights/basket", nil)
		wantIn(t, "done", p, `id="rules-table"`, `id="run-form"`)
		if strings.Contains(p.body, "Running…") {
			t.Error("still running")
		}
	})

	t.Run("a failed run says why, above the last results", func(t *testing.T) {
		recordRun(t, s, e.acme.ID, touchbase.AnalysisBasket, 0, nil, "basket: no order has two products")
		p := owner.do("GET", "/ui/insights/basket", nil)
		wantIn(t, "failed", p, `id="run-failed"`, "basket: no order has two products", `id="rules-table"`, `<span class="badge import-failed">failed</span>`)
		p = owner.do("GET", "/ui/insights", nil)
		wantIn(t, "overview", p, `title="basket: no order has two products">last run failed`)
	})

	t.Run("a result that cannot be read", func(t *testing.T) {
		recordRun(t, s, e.acme.ID, touchbase.AnalysisCohorts, 10, json.RawMessage(`{"cohorts": 5}`), "")
		p := owner.do("GET", "/ui/insights/cohorts", nil)
		wantIn(t, "unreadable", p, `id="result-error"`, "cannot be read")
		if strings.Contains(p.body, `id="insight-empty"`) {
			t.Error("the empty state for a run that exists")
		}
	})
}

// TestBasketFilters filters, sorts and pages the rules on the server.
func TestBasketFilters(t *testing.T) {
	s := storetest.OpenSQLite(t)
	e := newEnv(t, s)
	e.seedInsights()
	res := basketResult()
	// Enough rules for three pages.
	for i := 0; i < 110; i++ {
		res.Rules = append(res.Rules, analytics.Rule{Antecedent: []string{"cap-05"}, Consequent: []string{"tee-01"}, Support: 0.01, Confidence: 0.21, Lift: 0.5, Count: 19})
	}
	res.Found = len(res.Rules)
	recordRun(t, s, e.acme.ID, touchbase.AnalysisBasket, 1860, res, "")
	c := e.client()
	c.login("owner@example.com")

	lifts := regexp.MustCompile(`<td class="num"><strong>([0-9.]+)</strong></td>`)
	rows := func(p page) []string {
		var out []string
		for _, m := range lifts.FindAllStringSubmatch(p.body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, tc := range []struct {
		name, query string
		lifts       []string
		want        string
	}{
		{"min lift", "lift=2", []string{"3.42", "2.87", "2.41"}, "Rules 1–3 of 3 matching"},
		{"min confidence", "confidence=50", []string{"3.42", "1.96", "1.88"}, "of 3 matching"},
		{"both", "lift=2&confidence=40", []string{"3.42", "2.87"}, "of 2 matching"},
		{"product by name", "q=selvedge", []string{"3.42", "2.41"}, "of 2 matching"},
		{"product by id", "q=SKU-999", []string{"1.88"}, "of 1 matching"},
		{"sorted by confidence", "lift=1.5&sort=confidence", []string{"3.42", "1.96", "1.88", "2.87", "2.41", "1.52"}, "of 6 matching"},
		{"sorted by support", "lift=1.5&sort=support", []string{"1.52", "1.96", "2.41", "2.87", "3.42", "1.88"}, "of 6 matching"},
		{"nothing matches", "lift=10", nil, "No rules match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.do("GET", "/ui/insights/basket?"+tc.query, nil)
			wantIn(t, tc.query, p, tc.want)
			if got := rows(p); !slices.Equal(got, tc.lifts) {
				t.Errorf("lifts %v, want %v", got, tc.lifts)
			}
		})
	}
	t.Run("a bad filter is shown, the rules unfiltered", func(t *testing.T) {
		p := c.do("GET", "/ui/insights/basket?lift=abc", nil)
		wantIn(t, "bad lift", p, `id="rules-error"`, "Minimum lift must be a number", "Rules 1–50 of 119")
	})
	t.Run("pages", func(t *testing.T) {
		p := c.do("GET", "/ui/insights/basket", nil)
		wantIn(t, "page 1", p, "Rules 1–50 of 119", "Page 1 of 3", `id="rules-next" href="/ui/insights/basket?page=2"`)
		p = c.do("GET", "/ui/insights/basket?page=3", nil)
		wantIn(t, "page 3", p, "Rules 101–119 of 119", "Page 3 of 3")
		p = c.do("GET", "/ui/insights/basket?page=99", nil)
		wantIn(t, "past the end", p, "Page 3 of 3")
	})
	t.Run("htmx gets the rules alone", func(t *testing.T) {
		p := c.do("GET", "/ui/insights/basket?q=boots&sort=count", nil, htmx("rules")...)
		if p.status != http.StatusOK || strings.Contains(p.body, "<html") || !strings.Contains(p.body, `id="rules-table"`) ||
			!strings.Contains(p.body, `<input type="hidden" name="sort" value="count" form="rule-filters">`) {
			t.Errorf("fragment: %d %.400s", p.status, p.body)
		}
		if got := rows(p); !slices.Equal(got, []string{"2.41", "0.91", "3.42"}) {
			t.Errorf("lifts by count %v", got)
		}
	})
}

// TestCustomerRecommendationErrors shows a recommender's failure in its
// card, not as a failed page.
func TestCustomerRecommendationErrors(t *testing.T) {
	s := storetest.OpenSQLite(t)
	fa := newFakeAnalyst(s, 0)
	e := newEnv(t, s, withAnalyst(fa))
	c := e.client()
	c.login("owner@example.com")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a user error", touchbase.Errorf(touchbase.EUNAVAILABLE, "no basket analysis has run yet"), "no basket analysis has run yet"},
		{"an internal error", errors.New("database is locked"), "Recommendations could not be computed just now."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa.setRecommend(func(context.Context, int64, int64, int) ([]analytics.Recommendation, error) { return nil, tc.err })
			p := c.do("GET", "/ui/customers/"+idOf(e.ada), nil)
			wantIn(t, "360", p, `id="recs-error"`, tc.want, `id="customer-name"`)
			if strings.Contains(p.body, "database is locked") {
				t.Error("an internal error's text reached the page")
			}
		})
	}
	fa.setRecommend(func(context.Context, int64, int64, int) ([]analytics.Recommendation, error) { return nil, nil })
	wantIn(t, "none", c.do("GET", "/ui/customers/"+idOf(e.ada), nil), `id="recs-empty"`)
}
