package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

func TestTrackerServed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/js/tb.js", nil, nil)
		if r.status != 200 {
			t.Fatalf("GET /js/tb.js: status %d", r.status)
		}
		if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
			t.Errorf("Content-Type %q", ct)
		}
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("Cache-Control %q", cc)
		}
		if len(r.body) > 12<<10 || !strings.Contains(string(r.body), "tb.js") {
			t.Errorf("tracker is %d bytes", len(r.body))
		}
		etag := r.header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if r := e.do("GET", "/js/tb.js", http.Header{"If-None-Match": {etag}}, nil); r.status != http.StatusNotModified {
			t.Errorf("revalidation: status %d, want 304", r.status)
		}
	})
}

// trackerHarness runs tb.js in Node with a minimal browser (document with
// cookies, location, navigator, localStorage) whose fetch is Node's real
// one, so the tracker's requests reach the test server.
const trackerHarness = `
const fs = require('fs');
const vm = require('vm');
const [src, host, key] = process.argv.slice(2);
const jar = {}, storage = {}, sent = [], pending = [];
const doc = {
  referrer: 'https://ref.example/', title: 'Lamp', currentScript: null, visibilityState: 'visible',
  addEventListener() {},
};
Object.defineProperty(doc, 'cookie', {
  get() { return Object.keys(jar).map(k => k + '=' + jar[k]).join('; '); },
  set(c) {
    const kv = c.split(';')[0], i = kv.indexOf('=');
    if (/max-age=0(;|$)/.test(c)) delete jar[kv.slice(0, i)]; else jar[kv.slice(0, i)] = kv.slice(i + 1);
  },
});
const win = {
  document: doc,
  location: { href: 'https://shop.example/lamp?ref=ad', pathname: '/lamp', search: '?ref=ad', protocol: 'https:' },
  navigator: { userAgent: 'tb-test', language: 'de-DE' },
  screen: { width: 1280, height: 800 },
  localStorage: { getItem: k => (k in storage ? storage[k] : null), setItem: (k, v) => { storage[k] = String(v); }, removeItem: k => { delete storage[k]; } },
  crypto: globalThis.crypto,
  addEventListener() {},
  fetch(url, opts) {
    const p = fetch(url, opts).then(async r => {
      sent.push({ url, status: r.status, body: opts.body, headers: opts.headers, response: await r.text() });
      return { status: r.status };
    });
    pending.push(p);
    return p;
  },
};
globalThis.window = win;
globalThis.document = doc;
vm.runInThisContext(fs.readFileSync(src, 'utf8'), { filename: 'tb.js' });
const tb = win.tb;
tb.track('Early Click', { before: 'init' });
tb.init(key, { host });
tb.page();
tb.identify('js-user', { email: 'JS@example.com', first_name: 'Jay' });
tb.track('Product Viewed', { product_id: 'lamp-1', price: 19.5 });
const aid = tb.anonymousId();
tb.flush();
Promise.all(pending).then(() => {
  tb.reset();
  console.log(JSON.stringify({ sent, aid, aid2: tb.anonymousId(), cookie: doc.cookie, storage }));
}, err => { console.error(err); process.exit(1); });
`

func TestTrackerInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("TOUCHBASE_REQUIRE_BROWSER") == "1" {
			t.Fatal("TOUCHBASE_REQUIRE_BROWSER=1 but node is missing")
		}
		t.Skip("node is not installed: the tracker is not run")
	}
	each(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		src := filepath.Join(dir, "tb.js")
		harness := filepath.Join(dir, "harness.js")
		r := e.do("GET", "/js/tb.js", nil, nil)
		if err := os.WriteFile(src, r.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(node, "--check", src).CombinedOutput(); err != nil {
			t.Fatalf("node --check tb.js: %v\n%s", err, out)
		}
		if err := os.WriteFile(harness, []byte(trackerHarness), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(node, harness, src, e.url, e.write).Output()
		if err != nil {
			t.Fatalf("run tracker: %v\n%s", err, out)
		}
		var res struct {
			Sent []struct {
				URL      string            `json:"url"`
				Status   int               `json:"status"`
				Body     string            `json:"body"`
				Headers  map[string]string `json:"headers"`
				Response string            `json:"response"`
			} `json:"sent"`
			AID     string            `json:"aid"`
			AID2    string            `json:"aid2"`
			Cookie  string            `json:"cookie"`
			Storage map[string]string `json:"storage"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("harness output: %v: %s", err, out)
		}
		uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
		if !uuid4.MatchString(res.AID) || !uuid4.MatchString(res.AID2) || res.AID == res.AID2 {
			t.Errorf("anonymous ids %q then (after reset) %q, want two UUID v4", res.AID, res.AID2)
		}
		if !strings.Contains(res.Cookie, "tb_aid="+res.AID2) || res.Storage["tb_aid"] != res.AID2 {
			t.Errorf("anonymous id not kept in cookie %q and localStorage %v", res.Cookie, res.Storage)
		}
		if len(res.Sent) != 1 {
			t.Fatalf("tracker sent %d requests, want 1 batch: %+v", len(res.Sent), res.Sent)
		}
		s := res.Sent[0]
		if s.Status != 200 || s.URL != e.url+"/v1/batch" || !strings.HasPrefix(s.Headers["Content-Type"], "text/plain") {
			t.Fatalf("tracker request to %s (%v): status %d: %s", s.URL, s.Headers, s.Status, s.Response)
		}

		// The payload is what ingest expects.
		req, err := inbound.Parse("batch", []byte(s.Body), time.Now())
		if err != nil {
			t.Fatalf("inbound.Parse of the tracker's body: %v", err)
		}
		if req.WriteKey != e.write || len(req.Rejected) != 0 || len(req.Inbounds) != 4 {
			t.Fatalf("parsed: write key %q, %d inbounds, rejected %+v", req.WriteKey, len(req.Inbounds), req.Rejected)
		}
		var types []string
		for _, m := range req.Inbounds {
			types = append(types, string(m.Type)+":"+m.Event)
			if m.AnonymousID != res.AID || m.MessageID == "" {
				t.Errorf("%s: anonymousId %q, messageId %q", m.Type, m.AnonymousID, m.MessageID)
			}
			var ctx struct {
				Library                     struct{ Name, Version string }
				Page                        struct{ URL, Path, Referrer, Title string }
				UserAgent, Locale, Timezone string
			}
			if err := json.Unmarshal(m.Context, &ctx); err != nil {
				t.Fatalf("context: %v", err)
			}
			if ctx.Library.Name != "tb.js" || ctx.Page.URL != "https://shop.example/lamp?ref=ad" || ctx.Page.Path != "/lamp" ||
				ctx.Page.Title != "Lamp" || ctx.Page.Referrer != "https://ref.example/" || ctx.UserAgent != "tb-test" || ctx.Locale != "de-DE" || ctx.Timezone == "" {
				t.Errorf("context %s", m.Context)
			}
		}
		if got := strings.Join(types, " "); got != "track:Early Click page: identify: track:Product Viewed" {
			t.Errorf("messages %s", got)
		}
		if req.Inbounds[2].UserID != "js-user" || req.Inbounds[3].UserID != "js-user" || req.Inbounds[1].UserID != "" {
			t.Errorf("user ids: %q %q %q", req.Inbounds[1].UserID, req.Inbounds[2].UserID, req.Inbounds[3].UserID)
		}

		// And it was stored: one customer with both identifiers.
		var byUser, byAnon page[touchbase.Customer]
		e.mustAPI(e.owner, "GET", "/customers?user_id=js-user", nil, 200).decode(t, &byUser)
		e.mustAPI(e.owner, "GET", "/customers?anonymous_id="+res.AID, nil, 200).decode(t, &byAnon)
		if len(byUser.Items) != 1 || len(byAnon.Items) != 1 || byUser.Items[0].ID != byAnon.Items[0].ID {
			t.Fatalf("by user id %+v, by anonymous id %+v: want the same customer", byUser.Items, byAnon.Items)
		}
		if c := byUser.Items[0]; c.Email != "js@example.com" || c.Features.Events != 4 {
			t.Errorf("customer %+v, want email js@example.com and 4 events", c)
		}
	})
}

// TestTrackerInChromium loads a page from another origin that embeds tb.js
// in headless Chromium, when it is installed, and finds its events in the
// store.
func TestTrackerInChromium(t *testing.T) {
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("TOUCHBASE_REQUIRE_BROWSER") == "1" {
			t.Fatal("TOUCHBASE_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
		}
		t.Skip("no /usr/bin/chromium: the tracker is not run in a browser")
	}
	each(t, func(t *testing.T, e *env) {
		html := `<!doctype html><html><head><title>Lamp</title>
<script src="` + e.url + `/js/tb.js"></script>
<script>
tb.init("` + e.write + `");
tb.page();
tb.identify("chrome-user", {email: "chrome@example.com"});
tb.track("Product Viewed", {product_id: "lamp-1", price: 19.5});
tb.flush();
</script></head>
<body><p id="aid"></p><script>document.getElementById("aid").textContent = "aid=" + tb.anonymousId() + ";";</script></body></html>`
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, html)
		}))
		defer site.Close()

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--no-first-run", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", site.URL+"/lamp")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, out)
		}
		m := regexp.MustCompile(`aid=([0-9a-f-]{36});`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("the page did not run the tracker: %s", out)
		}
		aid := string(m[1])

		// The fetch may finish after the DOM is dumped: poll.
		deadline := time.Now().Add(15 * time.Second)
		for {
			var byUser, byAnon page[touchbase.Customer]
			e.mustAPI(e.owner, "GET", "/customers?user_id=chrome-user", nil, 200).decode(t, &byUser)
			e.mustAPI(e.owner, "GET", "/customers?anonymous_id="+aid, nil, 200).decode(t, &byAnon)
			if len(byUser.Items) == 1 && len(byAnon.Items) == 1 && byUser.Items[0].ID == byAnon.Items[0].ID {
				if c := byUser.Items[0]; c.Email != "chrome@example.com" || c.Features.Events != 3 {
					t.Errorf("customer %+v, want chrome@example.com with 3 events", c)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the browser's events did not arrive: by user %+v, by anonymous id %q %+v", byUser.Items, aid, byAnon.Items)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var evs page[touchbase.Event]
		e.mustAPI(e.owner, "GET", "/events?type=page", nil, 200).decode(t, &evs)
		if len(evs.Items) != 1 || !strings.Contains(string(evs.Items[0].Context), site.URL+"/lamp") ||
			!strings.Contains(string(evs.Items[0].Context), "HeadlessChrome") {
			t.Errorf("page event context: %+v", evs.Items)
		}
	})
}
