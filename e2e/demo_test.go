package e2e_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `touchbase demo` as a newcomer does: it fills a data
// directory, serves it, prints a login that works; a second run serves the
// same store with a new password.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	args := []string{"demo", "--data", dir, "--customers", "300", "--seed", "3", "--addr", "127.0.0.1:0"}
	s := startCommand(t, nil, args...)
	password := loginOf(t, s)
	token := strings.TrimSpace(mustCLI(t, nil, "key", "create", "--data", dir, "--kind", "admin").stdout)
	var stats struct{ Customers, Orders, Events int64 }
	if code := get(t, s.URL+"/api/v1/stats", token, &stats); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	if stats.Customers != 300 || stats.Orders == 0 || stats.Events < 300 {
		t.Fatalf("the demo store has %+v; want 300 customers with orders and events", stats)
	}
	if !consoleLogin(t, s.URL, password) {
		t.Fatalf("the printed password does not log in to the console")
	}
	// The store starts with segments; asking for one waits for the
	// engine's load, which records their members.
	sizes := demoSegmentSizes(t, s.URL, token)
	if len(sizes) != 7 || sizes["Repeat buyers"] == 0 || sizes["Newsletter subscribers"] == 0 {
		t.Fatalf("demo segments %v: want seven, repeat buyers and subscribers among them", sizes)
	}
	get(t, s.URL+"/api/v1/stats", token, &stats)
	s.stop()

	s = startCommand(t, nil, args...)
	if !strings.Contains(s.stderr.String(), "Reusing the store") {
		t.Fatalf("second run did not reuse the store:\n%s", s.stderr.String())
	}
	again := loginOf(t, s)
	// After the engine's load: a restart records no membership change
	// (each would be an event), and the sizes stand.
	if sizes2 := demoSegmentSizes(t, s.URL, token); !maps.Equal(sizes2, sizes) {
		t.Errorf("segment sizes after a restart %v, before %v", sizes2, sizes)
	}
	var stats2 struct{ Customers, Orders, Events int64 }
	get(t, s.URL+"/api/v1/stats", token, &stats2)
	if stats2 != stats {
		t.Fatalf("after a restart %+v, before %+v", stats2, stats)
	}
	if again == password || !consoleLogin(t, s.URL, again) || consoleLogin(t, s.URL, password) {
		t.Fatalf("the second run's password should replace the first")
	}
	s.stop()
}

// loginOf reads the owner's password from the demo's banner.
func loginOf(t *testing.T, s *server) string {
	t.Helper()
	// stderr arrives through a pipe of its own: give it a moment.
	var m []string
	for i := 0; i < 100; i++ {
		if m = regexp.MustCompile(`password:\s+(\S+)`).FindStringSubmatch(s.stderr.String()); m != nil && strings.Contains(s.stderr.String(), s.URL+"/ui/") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m == nil || !strings.Contains(s.stderr.String(), s.URL+"/ui/") {
		t.Fatalf("no console URL and password in the banner:\n%s", s.stderr.String())
	}
	return m[1]
}

// consoleLogin reports whether the owner can log in to the console with
// password: the login page's form, with its CSRF token, then a redirect
// away from the login page.
func consoleLogin(t *testing.T, base, password string) bool {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on the login page:\n%s", body)
	}
	req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(url.Values{
		"email": {"owner@localhost"}, "password": {password}, "csrf": {m[1]},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	return res.StatusCode == http.StatusSeeOther && !strings.Contains(res.Header.Get("Location"), "login")
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// demoSegmentSizes returns the demo's segments' sizes by name, each
// counted now (which waits for the engine to have loaded the store).
func demoSegmentSizes(t *testing.T, base, token string) map[string]int {
	t.Helper()
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if code := get(t, base+"/api/v1/segments", token, &list); code != 200 {
		t.Fatalf("GET /api/v1/segments: %d", code)
	}
	sizes := map[string]int{}
	for _, seg := range list.Items {
		var doc struct {
			Size  int `json:"size"`
			Count int `json:"count"`
		}
		if code := get(t, fmt.Sprintf("%s/api/v1/segments/%d", base, seg.ID), token, &doc); code != 200 {
			t.Fatalf("GET segment %q: %d", seg.Name, code)
		}
		sizes[seg.Name] = doc.Count
	}
	return sizes
}
