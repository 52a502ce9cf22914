package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/touchbase/touchbase/storetest"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for the test, or skips loudly without
// it (fails when TOUCHBASE_REQUIRE_BROWSER=1, as CI sets). It returns a
// tab's context and the console errors and exceptions the pages report.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("TOUCHBASE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("TOUCHBASE_REQUIRE_BROWSER=1 but %s is missing: install Debian's chromium", chromiumPath)
		}
		t.Skipf("##### SKIPPED: no %s: THE CONSOLE IS NOT TESTED IN A BROWSER (apt-get install chromium) #####", chromiumPath)
	}
	// Not t.TempDir: Chromium may still be writing its profile as it exits,
	// which would fail the test in TempDir's cleanup.
	profile, err := os.MkdirTemp("", "touchbase-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		os.RemoveAll(profile) // best effort
	})

	var (
		mu   sync.Mutex
		errs []string
	)
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			errs = append(errs, "exception: "+ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				errs = append(errs, "console.error: "+strings.Join(parts, " "))
			}
		case *cdplog.EventEntryAdded:
			// CSP violations and failed loads are reported here.
			if ev.Entry.Level == cdplog.LevelError {
				errs = append(errs, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err := chromedp.Run(ctx, cdplog.Enable()); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// screenshotDir is where the test keeps its screenshots:
// $TOUCHBASE_ARTIFACTS/screenshots, else testdata/artifacts/screenshots at
// the repository's root.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TOUCHBASE_ARTIFACTS")
	if dir == "" {
		root, err := filepath.Abs(".")
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatal("no go.mod above the test's directory")
			}
			root = parent
		}
		dir = filepath.Join(root, "testdata", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page PNG of the current page.
func shot(t *testing.T, dir, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return fmt.Errorf("screenshot %s: %w", name, err)
		}
		path := filepath.Join(dir, name+".png")
		t.Logf("screenshot: %s", path)
		return os.WriteFile(path, buf, 0o644)
	})
}

// saveShot saves a screenshot taken before (of the window, where a full
// page one would close an open popover).
func saveShot(t *testing.T, dir, name string, png *[]byte) chromedp.Action {
	return chromedp.ActionFunc(func(context.Context) error {
		path := filepath.Join(dir, name+".png")
		t.Logf("screenshot: %s", path)
		return os.WriteFile(path, *png, 0o644)
	})
}

// waitJS polls a JavaScript condition until it holds.
func waitJS(cond string) chromedp.Action {
	return chromedp.Poll(cond, nil, chromedp.WithPollingTimeout(15*time.Second))
}

// waitAfterNavigation polls a condition across a page load that is under
// way: evaluating in a page being replaced fails, so it tries again.
func waitAfterNavigation(cond string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var ok bool
			err := chromedp.Evaluate(cond, &ok).Do(ctx)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("condition %q never held (last error %v)", cond, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestConsoleInChromium drives the console as a person would, in headless
// Chromium, over a real server and a seeded SQLite store.
func TestConsoleInChromium(t *testing.T) {
	ctx, consoleErrors := browser(t)
	s := storetest.OpenSQLite(t)
	// Runs started from the pages finish 1.5 s later, so that the test
	// sees them running, then done.
	e := newEnv(t, s, withAnalyst(newFakeAnalyst(s, 1500*time.Millisecond)))
	e.seedInsights()
	dir := screenshotDir(t)
	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v (console errors: %v)", step, err, consoleErrors())
		}
	}
	var text string

	run("login page",
		chromedp.Navigate(e.url+"/ui/"),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		shot(t, dir, "login"),
	)
	run("wrong password",
		chromedp.SendKeys("#email", "owner@example.com", chromedp.ByQuery),
		chromedp.SendKeys("#password", "not the password", chromedp.ByQuery),
		chromedp.Click("button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#login-error", chromedp.ByQuery),
		chromedp.Text("#login-error", &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "Wrong email or password") {
		t.Errorf("login error %q", text)
	}
	run("login error screenshot", shot(t, dir, "login-error"))

	run("right password lands on the dashboard with charts",
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click("button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible(`canvas[data-chart="revenue"]`, chromedp.ByQuery),
		waitJS(`document.querySelectorAll("canvas[data-chart]").length === 3 &&
			[...document.querySelectorAll("canvas[data-chart]")].every(c => window.Chart && Chart.getChart(c) && c.width > 0)`),
		chromedp.Sleep(400), // the charts' entry animation
		shot(t, dir, "dashboard"),
	)
	run("dashboard range", chromedp.Navigate(e.url+"/ui/?range=all"),
		chromedp.WaitVisible(`canvas[data-chart="revenue"]`, chromedp.ByQuery),
		waitJS(`location.search === "?range=all" && document.querySelectorAll("canvas[data-chart]").length === 3 &&
			[...document.querySelectorAll("canvas[data-chart]")].every(c => Chart.getChart(c))`),
		chromedp.Sleep(400),
		shot(t, dir, "dashboard-all-time"),
	)

	var status int
	run("a POST without the CSRF token is refused",
		chromedp.Evaluate(`fetch("/ui/logout", {method: "POST"}).then(r => r.status)`, &status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		}),
	)
	if status != http.StatusForbidden {
		t.Errorf("CSRF-less POST from the page: status %d, want 403", status)
	}

	run("customers",
		chromedp.Click(`nav a[href="/ui/customers"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#customers-table", chromedp.ByQuery),
		shot(t, dir, "customers"),
	)
	run("search by email updates the list and the URL",
		chromedp.SendKeys("#q", "ada.lovelace@", chromedp.ByQuery),
		waitJS(`location.search.includes("q=ada.lovelace") && document.querySelectorAll("#customers-table tbody tr").length === 1`),
		chromedp.Text("#customers-table tbody", &text, chromedp.ByQuery),
		shot(t, dir, "customers-search"),
	)
	if !strings.Contains(text, "Ada Lovelace") {
		t.Errorf("search result %q", text)
	}

	run("customer 360",
		chromedp.Click("#customers-table tbody a.person", chromedp.ByQuery),
		chromedp.WaitVisible("#customer-name", chromedp.ByQuery),
		chromedp.Text("#customer-name", &text, chromedp.ByQuery),
		shot(t, dir, "customer-360"),
	)
	if text != "Ada Lovelace" {
		t.Errorf("360 of %q", text)
	}
	run("the timeline pages with load more",
		waitJS(`document.querySelectorAll("#timeline-list .tl-item").length === 25`),
		chromedp.Click("#timeline-more", chromedp.ByQuery),
		waitJS(`document.querySelectorAll("#timeline-list .tl-item").length === 40 && !document.querySelector("#timeline-more")`),
	)
	run("the timeline filters by event name",
		chromedp.SendKeys("#tl-event", "Order Completed", chromedp.ByQuery),
		waitJS(`document.querySelectorAll("#timeline-list .tl-item").length === 3`),
	)
	run("back returns to the search",
		chromedp.NavigateBack(),
		chromedp.WaitVisible("#customers-table", chromedp.ByQuery),
		waitJS(`document.querySelector("#q").value === "ada.lovelace@" && document.querySelectorAll("#customers-table tbody tr").length === 1`),
	)
	run("a 1024 pixel wide window",
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(e.url+"/ui/customers/"+strconv.FormatInt(e.ada, 10)),
		chromedp.WaitVisible("#customer-name", chromedp.ByQuery),
		shot(t, dir, "customer-360-1024"),
		chromedp.Navigate(e.url+"/ui/customers"),
		chromedp.WaitVisible("#customers-table", chromedp.ByQuery),
		shot(t, dir, "customers-1024"),
		chromedp.EmulateViewport(1280, 800),
	)

	run("segments: the empty list offers examples",
		chromedp.Navigate(e.url+"/ui/"),
		chromedp.Click(`nav a[href="/ui/segments"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#segments-empty", chromedp.ByQuery),
		shot(t, dir, "segments-empty"),
	)
	run("segment builder: the live count appears as a definition is typed",
		chromedp.Click("#create-first", chromedp.ByQuery),
		chromedp.WaitVisible("#seg-text", chromedp.ByQuery),
		chromedp.SendKeys("#seg-name", "Repeat buyers", chromedp.ByQuery),
		chromedp.SendKeys("#seg-text", "orders >= 2", chromedp.ByQuery),
		waitJS(`!!document.querySelector("#preview-count") && document.querySelector("#preview-count strong").textContent !== ""`),
	)
	run("segment builder: a typo shows where it is",
		chromedp.SendKeys("#seg-text", " andd revenue > 100", chromedp.ByQuery),
		waitJS(`!!document.querySelector("#preview-error")`),
		chromedp.Text("#preview-error", &text, chromedp.ByQuery),
		shot(t, dir, "segment-builder-error"),
	)
	if !strings.Contains(text, "line 1, column 13") || !strings.Contains(text, "^") {
		t.Errorf("preview error %q", text)
	}
	run("segment builder: fixed, the count comes back",
		chromedp.Evaluate(`document.querySelector("#seg-text").value = ""; true`, nil),
		chromedp.SendKeys("#seg-text", "orders >= 2 and revenue > 100", chromedp.ByQuery),
		waitJS(`!!document.querySelector("#preview-count") && document.querySelectorAll("#preview-sample a.person").length > 0`),
		chromedp.Text("#preview-count", &text, chromedp.ByQuery),
		shot(t, dir, "segment-builder"),
	)
	if !strings.Contains(text, "match") {
		t.Errorf("preview count %q", text)
	}
	run("segment: saved, its page shows the chart and the members",
		chromedp.Click("#segment-save", chromedp.ByQuery),
		waitAfterNavigation(`/^\/ui\/segments\/[0-9]+$/.test(location.pathname) && document.readyState === "complete" &&
			!!document.querySelector("#members-table") && window.Chart && !!Chart.getChart(document.querySelector('canvas[data-chart="segment-size"]'))`),
		chromedp.Sleep(400), // the chart's entry animation
		chromedp.Text("#segment-name", &text, chromedp.ByQuery),
		shot(t, dir, "segment"),
	)
	if !strings.Contains(text, "Repeat buyers") {
		t.Errorf("segment page of %q", text)
	}
	run("a member's 360 explains the membership",
		chromedp.Click("#members-table tbody a.person", chromedp.ByQuery),
		chromedp.WaitVisible("#explain-segment", chromedp.ByQuery),
		waitJS(`document.querySelectorAll("#customer-segments .seg-chip").length >= 1`),
		chromedp.Evaluate(`(() => { const s = document.querySelector("#explain-segment");
			s.value = [...s.options].find(o => o.textContent === "Repeat buyers").value;
			s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, nil),
		waitJS(`!!document.querySelector("#explanation .explain-verdict.holds")`),
		chromedp.ScrollIntoView("#segments", chromedp.ByQuery),
		chromedp.Text("#explanation", &text, chromedp.ByQuery),
		shot(t, dir, "customer-explain"),
	)
	if !strings.Contains(text, "✓") || !strings.Contains(text, "orders >= 2") {
		t.Errorf("explanation %q", text)
	}
	run("segments: the list, and the builder in a 1024 pixel window",
		chromedp.Click(`nav a[href="/ui/segments"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#segments-table", chromedp.ByQuery),
		shot(t, dir, "segments"),
		chromedp.EmulateViewport(1024, 768),
		chromedp.Click("#segments-table a.seg-name", chromedp.ByQuery),
		chromedp.WaitVisible("#segment-edit", chromedp.ByQuery),
		chromedp.Click("#segment-edit", chromedp.ByQuery),
		chromedp.WaitVisible("#preview-count", chromedp.ByQuery),
		shot(t, dir, "segment-builder-1024"),
		chromedp.EmulateViewport(1280, 800),
	)
	run("a list: created, a member added by email",
		chromedp.Navigate(e.url+"/ui/segments"),
		chromedp.Click("#new-list", chromedp.ByQuery),
		chromedp.WaitVisible("#seg-name", chromedp.ByQuery),
		chromedp.SendKeys("#seg-name", "Press contacts", chromedp.ByQuery),
		chromedp.Click("#segment-save", chromedp.ByQuery),
		waitAfterNavigation(`/^\/ui\/segments\/[0-9]+$/.test(location.pathname) && !!document.querySelector("#list-ids")`),
		chromedp.SendKeys("#list-ids", "ada.lovelace@example.com\nnobody@example.com", chromedp.ByQuery),
		chromedp.Click("#list-add", chromedp.ByQuery),
		waitJS(`!!document.querySelector("#list-result") && document.querySelectorAll("#members-table tbody tr").length === 1 &&
			document.querySelector("#segment-count").textContent === "1"`),
		chromedp.Text("#list-result", &text, chromedp.ByQuery),
		shot(t, dir, "segment-list"),
	)
	if !strings.Contains(text, "Added 1 customer.") || !strings.Contains(text, "nobody@example.com") {
		t.Errorf("list result %q", text)
	}

	csvPath := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csvPath, []byte(importCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	run("import: the mapping rows appear for a chosen CSV file",
		chromedp.Navigate(e.url+"/ui/"),
		chromedp.Click(`nav a[href="/ui/imports"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#import-form", chromedp.ByQuery),
		shot(t, dir, "import-empty"),
		chromedp.SetUploadFiles("#import-file", []string{csvPath}, chromedp.ByQuery),
		waitJS(`document.querySelectorAll("#import-mapping-table tbody input").length === 4 && !document.querySelector("#import-mapping").hidden`),
		chromedp.Evaluate(`[...document.querySelectorAll("#import-mapping-table tbody input")].map(i => i.value).join(",")`, &text),
		shot(t, dir, "import-mapping"),
	)
	if text != "user_id,email,traits.signed_up,traits.country" {
		t.Errorf("guessed mapping %q", text)
	}
	run("import: map a column, submit, wait for done",
		chromedp.SetValue("#map-2", "timestamp", chromedp.ByQuery),
		chromedp.Click("#import-submit", chromedp.ByQuery),
		waitAfterNavigation(`location.pathname.startsWith("/ui/imports/") && !!document.querySelector("#import-status .import-done")`),
		chromedp.Text("#line-errors-table tbody", &text, chromedp.ByQuery),
		fitsWindow(t, "import"),
		shot(t, dir, "import"),
		chromedp.EmulateViewport(1440, 900),
		fitsWindow(t, "import at 1440"),
		shot(t, dir, "import-1440"),
		chromedp.EmulateViewport(1280, 800),
	)
	if !strings.HasPrefix(strings.TrimSpace(text), "3") || !strings.Contains(text, "Signed Up") {
		t.Errorf("bad lines %q", text)
	}
	run("import list",
		chromedp.Click(`nav a[href="/ui/imports"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#imports-table", chromedp.ByQuery),
		shot(t, dir, "import-list"),
	)

	var png []byte // a screenshot of the window only
	// chartsDrawn holds when every chart of the page is drawn.
	const chartsDrawn = `document.querySelectorAll("canvas[data-chart]").length > 0 &&
		[...document.querySelectorAll("canvas[data-chart]")].every(c => window.Chart && Chart.getChart(c) && c.width > 0)`
	run("insights: the overview",
		chromedp.Navigate(e.url+"/ui/"),
		chromedp.Click(`nav a[href="/ui/insights"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#insight-cards", chromedp.ByQuery),
		shot(t, dir, "insights"),
	)
	run("insights: RFM, the grid and the groups",
		chromedp.Click(`nav a[href="/ui/insights/rfm"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#rfm-grid", chromedp.ByQuery),
		chromedp.Text("#rfm-grid tbody tr:first-child td:last-child", &text, chromedp.ByQuery),
		shot(t, dir, "insight-rfm"),
	)
	if !strings.Contains(text, "Champions") || !strings.Contains(text, "225") {
		t.Errorf("R 5, FM 5 reads %q", text)
	}
	run("insights: clusters, with their charts",
		chromedp.Click(`nav a[href="/ui/insights/clusters"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#cluster-means", chromedp.ByQuery),
		waitJS(chartsDrawn+` && document.querySelectorAll('canvas[data-chart="centroid"]').length === 4`),
		chromedp.Sleep(400), // the charts' entry animation
		shot(t, dir, "insight-clusters"),
	)
	run("insights: lifetime value",
		chromedp.Click(`nav a[href="/ui/insights/clv"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#clv-top", chromedp.ByQuery),
		waitJS(chartsDrawn),
		chromedp.Sleep(400),
		shot(t, dir, "insight-clv"),
		chromedp.Click(".run-options summary", chromedp.ByQuery),
		chromedp.WaitVisible("#opt-horizon", chromedp.ByQuery),
		chromedp.CaptureScreenshot(&png),
		saveShot(t, dir, "insight-options", &png),
		chromedp.Click(".run-options summary", chromedp.ByQuery),
	)
	run("insights: basket rules, filtered as a product is typed",
		chromedp.Click(`nav a[href="/ui/insights/basket"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#rules-table", chromedp.ByQuery),
		shot(t, dir, "insight-basket"),
		chromedp.SendKeys("#rule-q", "boots", chromedp.ByQuery),
		waitJS(`location.search.includes("q=boots") && document.querySelectorAll("#rules-table tbody tr").length === 3`),
		chromedp.Click(`#rules-table th[aria-sort] a[href*="sort=confidence"]`, chromedp.ByQuery),
		waitJS(`location.search.includes("sort=confidence") && document.querySelector("#rules-table th[aria-sort=descending]").textContent.trim() === "Confidence"`),
		shot(t, dir, "insight-basket-filtered"),
	)
	run("insights: cohorts",
		chromedp.Click(`nav a[href="/ui/insights/cohorts"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#cohort-grid", chromedp.ByQuery),
		waitJS(chartsDrawn),
		chromedp.Sleep(400),
		shot(t, dir, "insight-cohorts"),
	)
	run("insights: Run now shows the run under way, then its results",
		chromedp.Navigate(e.url+"/ui/insights/rfm"),
		chromedp.WaitVisible("#run-now", chromedp.ByQuery),
		chromedp.Click("#run-now", chromedp.ByQuery),
		waitAfterNavigation(`document.readyState === "complete" && !!document.querySelector("#run-status.run-status")`),
		shot(t, dir, "insight-running"),
		waitAfterNavigation(`document.readyState === "complete" && !document.querySelector("#run-status.run-status") &&
			!!document.querySelector("#rfm-grid") && document.querySelectorAll("#run-history tbody tr").length === 2`),
		chromedp.Text("#run-history tbody tr:first-child", &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "done") {
		t.Errorf("the new run reads %q", text)
	}
	run("the 360 page's scores and recommendations",
		chromedp.Navigate(e.url+"/ui/customers/"+strconv.FormatInt(e.ada, 10)),
		chromedp.WaitVisible("#scores", chromedp.ByQuery),
		chromedp.Text("#scores", &text, chromedp.ByQuery),
		shot(t, dir, "customer-scores"),
	)
	if !strings.Contains(text, "Champions") || !strings.Contains(text, "87%") || !strings.Contains(text, "$512.40") {
		t.Errorf("scores card %q", text)
	}
	run("insights in a 1024 pixel wide window",
		chromedp.EmulateViewport(1024, 768),
		chromedp.Reload(),
		chromedp.WaitVisible("#scores", chromedp.ByQuery),
		shot(t, dir, "customer-scores-1024"),
		chromedp.Navigate(e.url+"/ui/insights/rfm"),
		chromedp.WaitVisible("#rfm-grid", chromedp.ByQuery),
		shot(t, dir, "insight-rfm-1024"),
		chromedp.Navigate(e.url+"/ui/insights/clv"),
		waitJS(chartsDrawn),
		chromedp.Sleep(400),
		shot(t, dir, "insight-clv-1024"),
		chromedp.EmulateViewport(1280, 800),
	)

	var link string
	run("settings: invite someone, the link shown once",
		chromedp.Click("#nav-settings", chromedp.ByQuery),
		chromedp.WaitVisible("#invite-form", chromedp.ByQuery),
		chromedp.SendKeys("#invite-email", "grace.hopper@example.com", chromedp.ByQuery),
		chromedp.SetValue("#invite-role", "marketer", chromedp.ByQuery),
		chromedp.Click("#invite-submit", chromedp.ByQuery),
		chromedp.WaitVisible("#invitation-link", chromedp.ByQuery),
		chromedp.Value("#invitation-link", &link, chromedp.ByQuery),
		chromedp.WaitVisible("#invitations-table", chromedp.ByQuery),
		fitsWindow(t, "settings"),
		shot(t, dir, "settings"),
		chromedp.EmulateViewport(1440, 900),
		fitsWindow(t, "settings at 1440"),
		shot(t, dir, "settings-1440"),
		chromedp.EmulateViewport(1280, 800),
	)
	if !strings.Contains(link, "/ui/invitation?token=tbi_") {
		t.Errorf("invitation link %q", link)
	}
	run("the invitation, opened by another account",
		chromedp.Navigate(link),
		chromedp.WaitVisible("#invitation-other-account", chromedp.ByQuery),
		chromedp.Text("#invitation-summary", &text, chromedp.ByQuery),
		fitsWindow(t, "invitation"),
		shot(t, dir, "invitation-other-account"),
	)
	if !strings.Contains(text, "grace.hopper@example.com") || !strings.Contains(text, "marketer") {
		t.Errorf("invitation summary %q", text)
	}

	run("switch workspace",
		chromedp.Navigate(e.url+"/ui/"),
		chromedp.WaitVisible("#workspace-switcher", chromedp.ByQuery),
		// Deferred: the switch reloads the page, which must not happen
		// while this evaluation is still answering.
		chromedp.Evaluate(fmt.Sprintf(`setTimeout(() => { const s = document.querySelector("#workspace-switcher"); s.value = "%d";
			s.dispatchEvent(new Event("change", {bubbles: true})); }, 0); true`, e.beta.ID), nil),
		waitAfterNavigation(fmt.Sprintf(`!!document.querySelector("#workspace-switcher") && document.querySelector("#workspace-switcher").value === "%d" &&
			document.querySelector(".badge-role").textContent.trim() === "analyst" && document.readyState === "complete"`, e.beta.ID)),
		chromedp.Text(".page-head p", &text, chromedp.ByQuery),
		shot(t, dir, "dashboard-beta"),
	)
	if !strings.Contains(text, "Beta Goods") {
		t.Errorf("after switching: %q", text)
	}
	run("insights: a workspace where nothing has run, as an analyst",
		chromedp.Click(`nav a[href="/ui/insights/rfm"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#insight-empty", chromedp.ByQuery),
		shot(t, dir, "insight-empty"),
	)

	var cookies []*network.Cookie
	run("log out",
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			cookies, err = network.GetCookies().WithURLs([]string{e.url + "/ui/"}).Do(ctx)
			return err
		}),
		chromedp.Click("#sign-out", chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.Navigate(e.url+"/ui/customers"),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
	)
	// The old session cookie, replayed outside the browser, is dead too.
	var session string
	for _, c := range cookies {
		if c.Name == "tb_session" {
			session = c.Value
			if !c.HTTPOnly || c.Path != "/ui" || c.SameSite != network.CookieSameSiteLax {
				t.Errorf("session cookie %+v", c)
			}
		}
	}
	if session == "" {
		t.Fatal("no session cookie before logout")
	}
	replay := e.client()
	u, _ := url.Parse(e.url + "/ui/")
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "tb_session", Value: session, Path: "/ui"}})
	if p := replay.do("GET", "/ui/", nil); p.status != http.StatusSeeOther {
		t.Errorf("session after logout: status %d, want a redirect to login", p.status)
	}

	e2 := e
	if errs := consoleErrors(); len(errs) > 0 {
		// The refused fetch above logs its 403; nothing else may.
		var other []string
		for _, e := range errs {
			// So does the wrong password's 401 on the login form.
			if !strings.Contains(e, "status of 403") && !strings.Contains(e, "status of 401 (Unauthorized) "+e2.url+"/ui/login") {
				other = append(other, e)
			}
		}
		if len(other) > 0 {
			t.Errorf("the pages reported errors:\n%s", strings.Join(other, "\n"))
		}
	}
}

// fitsWindow fails the test when the page is wider than the window: a
// layout that scrolls sideways.
func fitsWindow(t *testing.T, page string) chromedp.Action {
	t.Helper()
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var w struct{ Page, Window int }
		if err := chromedp.Evaluate(`({Page: document.documentElement.scrollWidth, Window: window.innerWidth})`, &w).Do(ctx); err != nil {
			return err
		}
		if w.Page > w.Window {
			t.Errorf("%s: the page is %d px wide in a %d px window", page, w.Page, w.Window)
		}
		return nil
	})
}
