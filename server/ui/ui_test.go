package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/storetest"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()

	if p := c.do("GET", "/ui/customers?q=ada", nil); p.status != http.StatusSeeOther ||
		p.header.Get("Location") != "/ui/login?next="+url.QueryEscape("/ui/customers?q=ada") {
		t.Errorf("signed out: status %d, Location %q, want the login page and back", p.status, p.header.Get("Location"))
	}
	form := c.do("GET", "/ui/login", nil)
	token := form.csrf(t)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"wrong password", url.Values{"email": {"owner@example.com"}, "password": {"nope nope"}}, http.StatusUnauthorized, "Wrong email or password."},
		{"unknown email", url.Values{"email": {"who@example.com"}, "password": {password}}, http.StatusUnauthorized, "Wrong email or password."},
		{"no form token", url.Values{"email": {"owner@example.com"}, "password": {password}, "csrf": {""}}, http.StatusForbidden, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.form["csrf"]; !ok {
				tc.form.Set("csrf", token)
			}
			p := c.do("POST", "/ui/login", tc.form)
			if p.status != tc.status || !strings.Contains(p.body, tc.want) {
				t.Errorf("status %d, want %d with %q: %.300s", p.status, tc.status, tc.want, p.body)
			}
			token = p.csrf(t) // each answer carries a fresh form token
		})
	}

	p := c.do("POST", "/ui/login", url.Values{"email": {"Owner@Example.com"}, "password": {password}, "csrf": {token}, "next": {"/ui/customers"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/customers" {
		t.Fatalf("login: status %d, Location %q", p.status, p.header.Get("Location"))
	}
	var cookie string
	for _, sc := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "tb_session=") {
			cookie = sc
		}
	}
	for _, attr := range []string{"Path=/ui", "HttpOnly", "SameSite=Lax", "Max-Age="} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie %q is Secure over plain HTTP", cookie)
	}

	t.Run("open redirect", func(t *testing.T) {
		c := e.client()
		form := c.do("GET", "/ui/login", nil)
		p := c.do("POST", "/ui/login", url.Values{"email": {"owner@example.com"}, "password": {password}, "csrf": {form.csrf(t)}, "next": {"//evil.example/"}})
		if p.header.Get("Location") != "/ui/" {
			t.Errorf("next=//evil.example/ redirected to %q", p.header.Get("Location"))
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	token := c.do("GET", "/ui/login", nil).csrf(t)
	for i := 0; i < 5; i++ {
		p := c.do("POST", "/ui/login", url.Values{"email": {"analyst@example.com"}, "password": {"wrong-password"}, "csrf": {token}})
		if p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, p.status)
		}
		token = p.csrf(t)
	}
	p := c.do("POST", "/ui/login", url.Values{"email": {"analyst@example.com"}, "password": {password}, "csrf": {token}})
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many failed sign-ins") {
		t.Errorf("after 5 failures the right password got status %d, want 429", p.status)
	}
	// Another account from the same address is not locked by those.
	p = c.do("POST", "/ui/login", url.Values{"email": {"owner@example.com"}, "password": {password}, "csrf": {p.csrf(t)}})
	if p.status != http.StatusSeeOther {
		t.Errorf("other account: status %d", p.status)
	}
}

func TestCSRFAndLogout(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("owner@example.com")
	// Another first character: "x" + csrf[1:] is the token itself when it
	// begins with x, one time in 64.
	wrong := "x" + csrf[1:]
	if csrf[0] == 'x' {
		wrong = "y" + csrf[1:]
	}
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{}, []string{"Origin", e.url}},
		{"wrong token", url.Values{"csrf": {wrong}}, []string{"Origin", e.url}},
		{"other origin", url.Values{"csrf": {csrf}}, []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", url.Values{"csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.do("POST", "/ui/logout", tc.form, tc.hdr...)
			if p.status != http.StatusForbidden {
				t.Errorf("status %d, want 403", p.status)
			}
			if p := c.do("GET", "/ui/", nil); p.status != 200 {
				t.Errorf("session ended by a refused request: %d", p.status)
			}
		})
	}
	// htmx sends the token as a header.
	if p := c.do("POST", "/ui/workspace", url.Values{"workspace_id": {strconv.FormatInt(e.acme.ID, 10)}},
		"X-CSRF-Token", csrf, "HX-Request", "true", "Origin", e.url); p.status != http.StatusNoContent || p.header.Get("HX-Redirect") != "/ui/" {
		t.Errorf("htmx switch with header token: %d %v", p.status, p.header)
	}

	p := c.post("/ui/logout", csrf, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/login" {
		t.Fatalf("logout: %d %q", p.status, p.header.Get("Location"))
	}
	if p := c.do("GET", "/ui/", nil); p.status != http.StatusSeeOther {
		t.Errorf("after logout: status %d, want a redirect to login", p.status)
	}
}

// TestSessionReplayAfterLogout checks that logout ends the session on the
// server: the old cookie, replayed, no longer works.
func TestSessionReplayAfterLogout(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	csrf := c.login("owner@example.com")
	u, _ := url.Parse(e.url + "/ui/")
	cookies := c.http.Jar.Cookies(u)
	c.post("/ui/logout", csrf, nil)
	replay := e.client()
	replay.http.Jar.SetCookies(u, cookies)
	if p := replay.do("GET", "/ui/", nil); p.status != http.StatusSeeOther {
		t.Errorf("replayed cookie after logout: status %d", p.status)
	}
}

func TestRolesAndTenancy(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ada := "/ui/customers/" + strconv.FormatInt(e.ada, 10)
	beta := "/ui/customers/" + strconv.FormatInt(e.betaID, 10)
	consent := url.Values{"trait": {"sms_consent"}, "state": {"subscribed"}}

	t.Run("analyst reads but does not change", func(t *testing.T) {
		c := e.client()
		csrf := c.login("analyst@example.com")
		if p := c.do("GET", ada, nil); p.status != 200 || !strings.Contains(p.body, "Ada Lovelace") || strings.Contains(p.body, "/consent\"") {
			t.Errorf("analyst 360: status %d, consent form shown: %v", p.status, strings.Contains(p.body, "/consent\""))
		}
		if p := c.post(ada+"/consent", csrf, consent); p.status != http.StatusForbidden || !strings.Contains(p.body, "analyst") {
			t.Errorf("analyst consent change: status %d, want 403", p.status)
		}
	})
	t.Run("marketer changes consent", func(t *testing.T) {
		c := e.client()
		csrf := c.login("marketer@example.com")
		if p := c.post(ada+"/consent", csrf, consent); p.status != http.StatusSeeOther {
			t.Fatalf("marketer consent change: status %d: %.300s", p.status, p.body)
		}
		cust, err := e.store.FindCustomer(context.Background(), e.acme.ID, e.ada)
		if err != nil || cust.Traits["sms_consent"] != "subscribed" {
			t.Errorf("sms_consent = %v, %v", cust.Traits["sms_consent"], err)
		}
		bad := url.Values{"trait": {"plan"}, "state": {"subscribed"}}
		if p := c.post(ada+"/consent", csrf, bad); p.status != http.StatusBadRequest {
			t.Errorf("consent on another trait: status %d, want 400", p.status)
		}
	})
	t.Run("a session in one workspace never sees another's customer", func(t *testing.T) {
		c := e.client()
		csrf := c.login("owner@example.com") // lands in Acme Outfitters
		for _, path := range []string{beta, beta + "/timeline"} {
			if p := c.do("GET", path, nil, "HX-Request", "true"); p.status != http.StatusNotFound {
				t.Errorf("GET %s from Acme: status %d, want 404", path, p.status)
			}
		}
		if p := c.post(beta+"/consent", csrf, consent); p.status != http.StatusNotFound {
			t.Errorf("consent of Beta's customer from Acme: status %d", p.status)
		}
		if p := c.do("GET", "/ui/customers?q=hopper", nil); strings.Contains(p.body, "Hopper") {
			t.Error("Acme's search found Beta's customer")
		}
		// After switching, Beta's customer is there and Acme's is not.
		if p := c.post("/ui/workspace", csrf, url.Values{"workspace_id": {strconv.FormatInt(e.beta.ID, 10)}}); p.status != http.StatusSeeOther {
			t.Fatalf("switch: %d", p.status)
		}
		if p := c.do("GET", beta, nil); p.status != 200 || !strings.Contains(p.body, "Grace Hopper") {
			t.Errorf("Beta's customer from Beta: %d", p.status)
		}
		if p := c.do("GET", ada, nil); p.status != http.StatusNotFound {
			t.Errorf("Acme's customer from Beta: %d", p.status)
		}
		// The owner is an analyst in Beta: no changes there.
		if p := c.post(beta+"/consent", csrf, consent); p.status != http.StatusForbidden {
			t.Errorf("analyst-in-Beta consent change: %d", p.status)
		}
	})
	t.Run("switching to a workspace one is not a member of", func(t *testing.T) {
		ctx := context.Background()
		other, err := e.store.CreateWorkspace(ctx, "Gamma")
		if err != nil {
			t.Fatal(err)
		}
		c := e.client()
		csrf := c.login("analyst@example.com")
		if p := c.post("/ui/workspace", csrf, url.Values{"workspace_id": {strconv.FormatInt(other.ID, 10)}}); p.status != http.StatusForbidden {
			t.Errorf("switch to Gamma: %d, want 403", p.status)
		}
	})
	t.Run("a removed member loses access at once", func(t *testing.T) {
		c := e.client()
		c.login("marketer@example.com")
		m, err := e.store.Authenticate(context.Background(), "marketer@example.com", password)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.RemoveMember(context.Background(), e.acme.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		if p := c.do("GET", "/ui/", nil); p.status != http.StatusForbidden {
			t.Errorf("after removal: status %d, want 403", p.status)
		}
	})
}

func TestPages(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	c.login("owner@example.com")
	for _, tc := range []struct {
		name, path string
		hdr        []string
		status     int
		want       []string
		notWant    []string
	}{
		{name: "dashboard", path: "/ui/", status: 200, want: []string{"Revenue and orders", `data-chart="revenue"`, "Last 30 days", `aria-current="true">Last 30 days`}},
		{name: "dashboard all time", path: "/ui/?range=all", status: 200, want: []string{`aria-current="true">All time`}},
		{name: "dashboard custom", path: "/ui/?range=custom&from=2025-01-01&to=2025-01-31", status: 200, want: []string{"1 Jan 2025 – 31 Jan 2025"}},
		{name: "dashboard custom backwards", path: "/ui/?range=custom&from=2025-02-01&to=2025-01-31", status: 400, want: []string{"ends"}},
		{name: "customers", path: "/ui/customers", status: 200, want: []string{"<table", "Olivia", `id="next-page"`}},
		{name: "customer search", path: "/ui/customers?q=ada.lovelace", status: 200, want: []string{"Ada Lovelace"}, notWant: []string{"Olivia"}},
		{name: "customers sorted", path: "/ui/customers?sort=revenue", status: 200, want: []string{`aria-sort="descending"><a class="sort" href="/ui/customers?sort=revenue"`}},
		{name: "customers partial", path: "/ui/customers?q=ada", hdr: []string{"HX-Request", "true", "HX-Target", "results"}, status: 200,
			want: []string{"Ada Lovelace"}, notWant: []string{"<html", "<form id=\"filters\""}},
		{name: "customers bad filter", path: "/ui/customers?min_orders=-1", status: 200, want: []string{"whole number"}},
		{name: "customers bad cursor", path: "/ui/customers?after=garbage", status: 200, want: []string{"cursor"}},
		{name: "customer 360", path: "/ui/customers/" + strconv.FormatInt(e.ada, 10), status: 200,
			want: []string{"Ada Lovelace", "ada.lovelace@example.com", "ADA-30", "Selvedge Jeans", "Load more events", "Subscribed", "Unknown", "email_consent"}},
		{name: "timeline filtered", path: "/ui/customers/" + strconv.FormatInt(e.ada, 10) + "/timeline?event=Order+Completed", hdr: []string{"HX-Request", "true"},
			status: 200, want: []string{"Order Completed"}, notWant: []string{"Product Viewed", "<html"}},
		{name: "customer not a number", path: "/ui/customers/abc", status: 404, want: []string{"Page not found"}},
		{name: "unknown page", path: "/ui/nope", status: 404, want: []string{"Page not found", "Request id", "Back to the dashboard"}},
		{name: "static asset", path: "/ui/static/app.css", status: 200, want: []string{"--s1"}},
		{name: "no vendored readme", path: "/ui/static/vendor/README.md", status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.do("GET", tc.path, nil, tc.hdr...)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %.500s", p.status, tc.status, p.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(p.body, w) {
					t.Errorf("page has %q", w)
				}
			}
			for h, want := range map[string]string{
				"Content-Security-Policy": "script-src 'self'",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "same-origin",
			} {
				if !strings.Contains(p.header.Get(h), want) {
					t.Errorf("%s: %q, want %q", h, p.header.Get(h), want)
				}
			}
		})
	}
}

func TestRootRedirect(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	if p := c.do("GET", "/", nil, "Accept", "text/html,application/xhtml+xml"); p.status != http.StatusFound || p.header.Get("Location") != "/ui/" {
		t.Errorf("browser GET /: %d %q", p.status, p.header.Get("Location"))
	}
	if p := c.do("GET", "/", nil, "Accept", "application/json"); p.status != http.StatusNotFound || !strings.Contains(p.body, `"not_found"`) {
		t.Errorf("API GET /: %d %s", p.status, p.body)
	}
}

// failingCustomers makes every customer read fail as the database would.
type failingCustomers struct{ touchbase.CustomerService }

func (failingCustomers) ListCustomers(context.Context, int64, touchbase.CustomerFilter) ([]*touchbase.Customer, string, error) {
	return nil, "", errors.New("connection reset by peer: secret detail")
}

var _ touchbase.CustomerService = failingCustomers{}

func TestInternalErrorPage(t *testing.T) {
	s := storetest.OpenSQLite(t)
	e := newEnv(t, s, func(svc *server.Services) { svc.Customers = failingCustomers{CustomerService: s} })
	c := e.client()
	c.login("owner@example.com")
	p := c.do("GET", "/ui/customers", nil)
	id := p.header.Get("X-Request-Id")
	if p.status != 500 || id == "" || !strings.Contains(p.body, id) || !strings.Contains(p.body, "Something went wrong") || strings.Contains(p.body, "secret detail") {
		t.Errorf("status %d, request id %q: %.800s", p.status, id, p.body)
	}
	p = c.do("GET", "/ui/customers?q=x", nil, "HX-Request", "true", "HX-Target", "results")
	if p.status != 500 || p.header.Get("HX-Retarget") != "#flash" || !strings.Contains(p.body, p.header.Get("X-Request-Id")) {
		t.Errorf("htmx: status %d, retarget %q: %s", p.status, p.header.Get("HX-Retarget"), p.body)
	}
}

// gatedUsers holds every password check at a gate and counts the checks,
// so that a test can have many sign-ins in flight at once.
type gatedUsers struct {
	touchbase.UserService
	gate    chan struct{}
	checked atomic.Int32
}

func (g *gatedUsers) Authenticate(ctx context.Context, email, password string) (*touchbase.User, error) {
	g.checked.Add(1)
	<-g.gate
	return g.UserService.Authenticate(ctx, email, password)
}

// TestLoginThrottleConcurrent sends 60 wrong passwords for one account at
// once through the real login handler, all held at the password check:
// at most the limit (5) may reach it, and the right password sent while
// they are in flight must not get in.
func TestLoginThrottleConcurrent(t *testing.T) {
	s := storetest.OpenSQLite(t)
	g := &gatedUsers{UserService: s, gate: make(chan struct{})}
	e := newEnv(t, s, func(svc *server.Services) { svc.Users = g })

	type attempt struct {
		c     *client
		token string
	}
	const n = 60
	attempts := make([]attempt, n+1)
	for i := range attempts {
		c := e.client()
		attempts[i] = attempt{c, c.do("GET", "/ui/login", nil).csrf(t)}
	}
	statuses := make(chan int, n)
	var refused atomic.Int32
	for _, a := range attempts[:n] {
		go func() {
			p := a.c.do("POST", "/ui/login", url.Values{"email": {"analyst@example.com"}, "password": {"wrong-password"}, "csrf": {a.token}})
			if p.status == http.StatusTooManyRequests {
				refused.Add(1)
			}
			statuses <- p.status
		}()
	}
	// Every attempt is either at the gate or refused before the next is sent.
	deadline := time.Now().Add(10 * time.Second)
	for int(g.checked.Load()+refused.Load()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	right := make(chan page, 1)
	go func() {
		a := attempts[n]
		right <- a.c.do("POST", "/ui/login", url.Values{"email": {"analyst@example.com"}, "password": {password}, "csrf": {a.token}})
	}()
	for int(g.checked.Load()+refused.Load()) < n+1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(g.gate)
	counts := map[int]int{}
	for i := 0; i < n; i++ {
		counts[<-statuses]++
	}
	p := <-right
	if got := g.checked.Load(); got > 5 {
		t.Errorf("%d passwords were checked, want at most the limit of 5 (statuses %v)", got, counts)
	}
	if counts[http.StatusUnauthorized] > 5 || counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != n {
		t.Errorf("statuses %v, want at most 5 401s and the rest 429", counts)
	}
	if p.status != http.StatusTooManyRequests {
		t.Errorf("the right password among the guesses: status %d, want 429 (Location %q)", p.status, p.header.Get("Location"))
	}
}
