package e2e_test

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/store"
)

// passwordLine finds the password in the first-start banner.
var passwordLine = regexp.MustCompile(`(?m)^\s*password:\s+(\S+)\s*$`)

// secretLine is what `key create` prints: one token and a newline.
var secretLine = regexp.MustCompile(`^\S{16,}\n$`)

func TestServeFirstStart(t *testing.T) {
	data := t.TempDir()
	env := []string{"TOUCHBASE_DATA=" + data}

	// First start: the banner with the URL, the owner and a password, once.
	srv := startServer(t, env, "--owner-email", "Boss@Example.com")
	if code := get(t, srv.URL+"/healthz", "", nil); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || strings.HasSuffix(srv.URL, ":0") {
		t.Errorf("serve printed URL %q, want the bound 127.0.0.1 address", srv.URL)
	}

	// key create while the server runs: only the key on stdout, no banner.
	r := mustCLI(t, env, "key", "create", "--kind", "write")
	if !secretLine.MatchString(r.stdout) {
		t.Errorf("key create stdout %q, want the key alone on one line", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("key create on a bootstrapped store wrote to stderr: %q", r.stderr)
	}
	writeKey := strings.TrimSpace(r.stdout)
	admin := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "admin").stdout)

	// The write key ingests; the admin token reads it back.
	code, body := post(t, srv.URL+"/v1/track", writeKey,
		`{"userId":"u1","event":"Signed Up","messageId":"first-start-1","properties":{"plan":"gold"}}`)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/track: %d %s", code, body)
	}
	var st stats
	if code := get(t, srv.URL+"/api/v1/stats", admin, &st); code != http.StatusOK {
		t.Fatalf("GET /api/v1/stats: %d", code)
	}
	if st.Events != 1 || st.Customers != 1 {
		t.Errorf("stats after one track = %+v, want 1 event, 1 customer", st)
	}
	if code := get(t, srv.URL+"/api/v1/stats", writeKey, nil); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("a write key read /api/v1/stats: %d", code)
	}

	srv.stop()
	banner := srv.stderr.String()
	m := passwordLine.FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("first start printed no password on stderr:\n%s", banner)
	}
	for _, want := range []string{srv.URL, "boss@example.com", "NOT be\n  shown again"} {
		if !strings.Contains(banner, want) {
			t.Errorf("first-start banner does not contain %q:\n%s", want, banner)
		}
	}
	if strings.Contains(srv.stdout.String(), m[1]) {
		t.Errorf("the password went to stdout: %q", srv.stdout.String())
	}
	checkPassword(t, filepath.Join(data, "touchbase.db"), "boss@example.com", m[1])

	// Second start on the same data: no banner, the data is still there.
	srv = startServer(t, env)
	if code := get(t, srv.URL+"/api/v1/stats", admin, &st); code != http.StatusOK || st.Events != 1 {
		t.Errorf("stats after restart: %d %+v, want 1 event", code, st)
	}
	srv.stop()
	if out := srv.stderr.String(); passwordLine.MatchString(out) || strings.Contains(out, "first start") {
		t.Errorf("second start printed the banner again:\n%s", out)
	}
}

// TestKeyCreateBeforeServe creates a key on a data directory no server has
// seen: the store is created, the owner's password goes to stderr, and the
// key alone to stdout, ready for KEY=$(touchbase key create ...).
func TestKeyCreateBeforeServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "new", "dir")
	r := mustCLI(t, nil, "key", "create", "--data", data, "--kind", "write", "--name", "website")
	if !secretLine.MatchString(r.stdout) {
		t.Fatalf("key create stdout %q, want the key alone on one line", r.stdout)
	}
	m := passwordLine.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("key create on a new store printed no owner password on stderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "touchbase serve") {
		t.Errorf("banner without a server should say how to start it:\n%s", r.stderr)
	}
	checkPassword(t, filepath.Join(data, "touchbase.db"), "owner@localhost", m[1])

	// The server that starts later accepts the key and prints no banner.
	srv := startServer(t, nil, "--data", data)
	code, body := post(t, srv.URL+"/v1/batch", strings.TrimSpace(r.stdout),
		`{"batch":[{"type":"identify","userId":"u1","traits":{"email":"a@example.com"},"messageId":"m1"},
		           {"type":"track","userId":"u1","event":"Order Completed","messageId":"m2",
		            "properties":{"order_id":"o1","revenue":42.5,"currency":"USD"}}]}`)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/batch with a key made before the first start: %d %s", code, body)
	}
	srv.stop()
	if passwordLine.MatchString(srv.stderr.String()) {
		t.Errorf("serve printed a password although key create bootstrapped the store:\n%s", srv.stderr.String())
	}
}

// checkPassword proves the printed password is the owner's real one.
func checkPassword(t *testing.T, dsn, email, password string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.Authenticate(ctx, email, password)
	if err != nil {
		t.Fatalf("the printed password does not sign %s in: %v", email, err)
	}
	if u.Email != email {
		t.Errorf("authenticated %q, want %q", u.Email, email)
	}
	if _, err := st.Authenticate(ctx, email, password+"x"); err == nil {
		t.Errorf("a wrong password signed in")
	}
}
