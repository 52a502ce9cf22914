package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/inbound"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
)

// password is every test user's password.
const password = "correct horse battery"

// env is a real server on 127.0.0.1 over a real store with two
// workspaces: Acme Outfitters (seeded with a realistic history) and Beta
// Goods (a few customers of its own). owner@example.com owns Acme and is an
// analyst in Beta; analyst@example.com is an analyst in Acme only;
// marketer@example.com is a marketer in Acme.
type env struct {
	t      *testing.T
	store  *store.Store
	srv    *server.Server
	engine *engine.Engine
	url    string
	acme   *touchbase.Workspace
	beta   *touchbase.Workspace
	ada    int64 // Acme's customer with a long timeline
	betaID int64 // a customer of Beta
}

// newEnv starts the server over s. svc, when given, changes the services
// the server gets (to inject failures).
func newEnv(t *testing.T, s *store.Store, svc ...func(*server.Services)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, store: s}
	var err error
	if e.acme, err = s.CreateWorkspace(ctx, "Acme Outfitters"); err != nil {
		t.Fatal(err)
	}
	if e.beta, err = s.CreateWorkspace(ctx, "Beta Goods"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		ws    int64
		email string
		role  touchbase.Role
	}{
		{e.acme.ID, "owner@example.com", touchbase.RoleOwner},
		{e.beta.ID, "owner@example.com", touchbase.RoleAnalyst},
		{e.acme.ID, "analyst@example.com", touchbase.RoleAnalyst},
		{e.acme.ID, "marketer@example.com", touchbase.RoleMarketer},
	} {
		if _, err := s.CreateUser(ctx, u.ws, u.email, "", password, u.role); err != nil {
			t.Fatal(err)
		}
	}
	e.seed()

	level := slog.LevelError
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	runner := importer.NewRunner(s, t.TempDir(), nil)
	if err := runner.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	// The engine is used synchronously, as the CLI does: each request
	// catches up with the events table, so tests need not wait.
	// The analytics' features too, as the CLI registers them, so that the
	// Insights pages' "Segment" links parse in the builder.
	features := segment.NewRegistry()
	if err := analytics.RegisterFeatures(features); err != nil {
		t.Fatal(err)
	}
	eng := engine.New(s, features, engine.Config{})
	e.engine = eng
	services := server.Services{Workspaces: s, Users: s, Invitations: s, Keys: s, Customers: s, Events: s, Orders: s, Stats: s, Sessions: s, Reports: s,
		Imports: s, Importer: runner, Segments: s, Engine: eng, Features: features, Analyses: s}
	for _, f := range svc {
		f(&services)
	}
	e.srv = server.New(server.Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), Version: "test"}, services)
	if err := e.srv.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.srv.Close(ctx)
	})
	e.url = "http://" + e.srv.Addr()
	return e
}

var (
	firstNames = []string{"Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas", "Isla", "Mateo",
		"Chloe", "Hugo", "Freya", "Leon", "Nora", "Arthur", "Zoe", "Felix"}
	lastNames = []string{"Smith", "Müller", "García", "Rossi", "Dubois", "Jansen", "Kowalski", "Nielsen", "Silva", "O'Brien",
		"Novak", "Berg", "Costa", "Fischer", "Martin"}
	cities   = [][2]string{{"Berlin", "DE"}, {"Paris", "FR"}, {"Madrid", "ES"}, {"Amsterdam", "NL"}, {"London", "GB"}, {"Milan", "IT"}, {"Austin", "US"}}
	products = []struct {
		id, name, category string
		price              float64
	}{
		{"tee-01", "Organic Cotton Tee", "Tops", 29},
		{"hood-02", "Merino Hoodie", "Tops", 119},
		{"jean-03", "Selvedge Jeans", "Bottoms", 149},
		{"sock-04", "Wool Socks (3 pack)", "Accessories", 24},
		{"cap-05", "Canvas Cap", "Accessories", 35},
		{"jack-06", "Rain Jacket", "Outerwear", 229},
		{"boot-07", "Leather Boots", "Shoes", 249},
	}
	consents = []string{"subscribed", "subscribed", "not_subscribed", "unsubscribed", ""}
)

// seed sends Acme a realistic history through the real parser and the
// store's ingestion: 60 customers over the last 120 days with page views,
// product views and orders; Ada Lovelace with 40 events (two timeline
// pages); and Beta a few customers of its own.
func (e *env) seed() {
	t := e.t
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	var batch []map[string]any
	n := 0
	add := func(m map[string]any, at time.Time) {
		n++
		m["messageId"] = fmt.Sprintf("seed-%d", n)
		m["timestamp"] = at.Format(time.RFC3339Nano)
		batch = append(batch, m)
	}
	for i := 0; i < 60; i++ {
		first, last := firstNames[i%len(firstNames)], lastNames[(i*7)%len(lastNames)]
		city := cities[i%len(cities)]
		uid := fmt.Sprintf("cust-%03d", i+1)
		email := strings.ToLower(strings.NewReplacer("ü", "u", "í", "i", "'", "").Replace(first+"."+last)) + fmt.Sprintf("%d@example.com", i+1)
		start := now.Add(-time.Duration(rng.IntN(120*24)+2) * time.Hour)
		traits := map[string]any{"email": email, "first_name": first, "last_name": last, "city": city[0], "country": city[1]}
		if c := consents[i%len(consents)]; c != "" {
			traits["email_consent"] = c
		}
		add(map[string]any{"type": "identify", "userId": uid, "traits": traits}, start)
		at := start
		for j := 0; j < 2+rng.IntN(5); j++ {
			at = at.Add(time.Duration(rng.IntN(60)+5) * time.Minute)
			p := products[rng.IntN(len(products))]
			add(map[string]any{"type": "page", "userId": uid, "name": p.name, "properties": map[string]any{"path": "/products/" + p.id}}, at)
			add(map[string]any{"type": "track", "userId": uid, "event": "Product Viewed",
				"properties": map[string]any{"product_id": p.id, "name": p.name, "price": p.price, "category": p.category}}, at.Add(time.Second))
		}
		orders := rng.IntN(4)
		if i%3 == 0 {
			orders = 0
		}
		for o := 0; o < orders; o++ {
			at = at.Add(time.Duration(rng.IntN(20*24)+1) * time.Hour)
			if at.After(now) {
				break
			}
			var items []any
			total := 0.0
			for k := 0; k < 1+rng.IntN(3); k++ {
				p := products[rng.IntN(len(products))]
				q := 1 + rng.IntN(2)
				total += p.price * float64(q)
				items = append(items, map[string]any{"product_id": p.id, "name": p.name, "price": p.price, "quantity": q, "category": p.category})
			}
			add(map[string]any{"type": "track", "userId": uid, "event": "Order Completed", "properties": map[string]any{
				"order_id": fmt.Sprintf("A-%d%02d", 1000+i, o), "revenue": total, "total": total + 4.95, "shipping": 4.95, "currency": "USD", "products": items}}, at)
		}
	}
	// Ada: 1 identify + 39 more events.
	adaStart := now.Add(-40 * 24 * time.Hour)
	add(map[string]any{"type": "identify", "userId": "ada", "traits": map[string]any{"email": "ada.lovelace@example.com", "first_name": "Ada",
		"last_name": "Lovelace", "city": "London", "country": "GB", "email_consent": "subscribed", "plan": "gold"}}, adaStart)
	for j := 1; j < 40; j++ {
		at := adaStart.Add(time.Duration(j) * 23 * time.Hour)
		if j%10 == 0 {
			add(map[string]any{"type": "track", "userId": "ada", "event": "Order Completed", "properties": map[string]any{
				"order_id": fmt.Sprintf("ADA-%d", j), "revenue": 149.0, "currency": "USD",
				"products": []any{map[string]any{"product_id": "jean-03", "name": "Selvedge Jeans", "price": 149, "quantity": 1}}}}, at)
			continue
		}
		add(map[string]any{"type": "track", "userId": "ada", "event": "Product Viewed", "properties": map[string]any{"product_id": "tee-01", "n": j}}, at)
	}
	e.ingest(e.acme.ID, batch)

	batch = nil
	for i, name := range []string{"Grace Hopper", "Alan Turing", "Katherine Johnson"} {
		parts := strings.Fields(name)
		add(map[string]any{"type": "identify", "userId": fmt.Sprintf("beta-%d", i), "traits": map[string]any{
			"email": strings.ToLower(parts[1]) + "@beta.example", "first_name": parts[0], "last_name": parts[1]}}, now.Add(-time.Duration(i+1)*time.Hour))
	}
	e.ingest(e.beta.ID, batch)

	e.ada = e.customerID(e.acme.ID, "ada.lovelace@example.com")
	e.betaID = e.customerID(e.beta.ID, "hopper@beta.example")
	if e.ada == 0 || e.betaID == 0 {
		t.Fatal("seed: customers not found")
	}
}

func (e *env) ingest(ws int64, batch []map[string]any) {
	t := e.t
	t.Helper()
	body, err := json.Marshal(map[string]any{"batch": batch})
	if err != nil {
		t.Fatal(err)
	}
	req, err := inbound.Parse("batch", body, time.Now())
	if err != nil {
		t.Fatalf("parse seed: %v", err)
	}
	if len(req.Rejected) > 0 {
		t.Fatalf("seed rejected: %+v", req.Rejected)
	}
	for i := range req.Inbounds {
		req.Inbounds[i].WorkspaceID = ws
	}
	if _, err := e.store.Ingest(context.Background(), req.Inbounds); err != nil {
		t.Fatalf("ingest seed: %v", err)
	}
}

func (e *env) customerID(ws int64, email string) int64 {
	cs, _, err := e.store.ListCustomers(context.Background(), ws, touchbase.CustomerFilter{Email: email})
	if err != nil || len(cs) != 1 {
		e.t.Fatalf("customer %s: %v (%d found)", email, err, len(cs))
	}
	return cs[0].ID
}

// client is a browser-like HTTP client: a cookie jar, no redirects
// followed (tests look at them), and the headers a browser sends on
// same-origin requests.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

// do sends a request; form (for POST) is url-encoded. hdr adds headers.
func (c *client) do(method, path string, form url.Values, hdr ...string) page {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.url+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the first CSRF token in a page.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := hiddenCSRF.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in page (status %d): %.300s", p.status, p.body)
	}
	return m[1]
}

// login signs in as email and returns the dashboard's CSRF token.
func (c *client) login(email string) string {
	c.e.t.Helper()
	p := c.do("GET", "/ui/login", nil)
	p = c.do("POST", "/ui/login", url.Values{"email": {email}, "password": {password}, "csrf": {p.csrf(c.e.t)}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/" {
		c.e.t.Fatalf("login as %s: status %d, Location %q: %.500s", email, p.status, p.header.Get("Location"), p.body)
	}
	d := c.do("GET", "/ui/", nil)
	if d.status != 200 {
		c.e.t.Fatalf("dashboard after login: %d", d.status)
	}
	return d.csrf(c.e.t)
}

// post sends a form with the CSRF token, as the console's own pages do.
func (c *client) post(path, csrf string, form url.Values) page {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf)
	return c.do("POST", path, form, "Origin", c.e.url, "Sec-Fetch-Site", "same-origin")
}
