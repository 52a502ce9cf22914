package server_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/store"
)

// metric returns the value of the sample whose name and labels start the
// line as prefix (e.g. `touchbase_rejected_events_total{reason="invalid"}`),
// or -1 when there is none.
func metric(body []byte, prefix string) float64 {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := line[len(prefix):]
		if !strings.HasPrefix(rest, " ") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err == nil {
			return v
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		seed(t, e, e.write, "") // 10 events
		partial := obj{"batch": []any{
			obj{"type": "track", "messageId": "m-1", "userId": "u1", "event": "X"},
			obj{"type": "track", "messageId": "m-2", "userId": "u1"}, // no event name
		}}
		e.mustSend("batch", e.write, partial)
		e.mustSend("batch", e.write, partial) // m-1 is a duplicate now
		if r := e.send("track", "wrong-key", obj{"userId": "u1", "event": "X"}); r.status != 401 {
			t.Fatalf("wrong key: status %d", r.status)
		}
		u1 := customerID(t, e, e.owner, "u1")
		e.mustAPI(e.owner, "GET", "/customers/"+itoa(u1), nil, 200)

		r := e.do("GET", "/metrics", nil, nil)
		if r.status != 200 {
			t.Fatalf("GET /metrics: status %d", r.status)
		}
		for prefix, want := range map[string]float64{
			"touchbase_ingested_events_total":                                                                       11,
			"touchbase_duplicate_events_total":                                                                      1,
			`touchbase_rejected_events_total{reason="invalid"}`:                                                     2,
			`touchbase_rejected_events_total{reason="unauthorized"}`:                                                1,
			`touchbase_http_request_duration_seconds_count{code="200",method="POST",route="/v1/batch"}`:             3,
			`touchbase_http_request_duration_seconds_count{code="401",method="POST",route="/v1/track"}`:             1,
			`touchbase_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/customers/{id}"}`: 1,
		} {
			if got := metric(r.body, prefix); got != want {
				t.Errorf("%s = %v, want %v", prefix, got, want)
			}
		}
		if got := metric(r.body, `touchbase_commit_batch_size_count{stage="store"}`); got < 1 {
			t.Errorf("touchbase_commit_batch_size_count = %v, want >= 1", got)
		}
		if got := metric(r.body, `touchbase_commit_batch_size_sum{stage="store"}`); got != 12 {
			t.Errorf("touchbase_commit_batch_size_sum = %v, want 12 (every message committed once)", got)
		}
		if got := metric(r.body, `touchbase_commit_duration_seconds_count{stage="store"}`); got < 1 {
			t.Errorf("touchbase_commit_duration_seconds_count = %v, want >= 1", got)
		}
		if e.store.Dialect() == "sqlite" {
			// Acknowledged from the ingestion log: each message logged once.
			if got := metric(r.body, `touchbase_commit_batch_size_sum{stage="log"}`); got != 12 {
				t.Errorf("logged messages = %v, want 12", got)
			}
			if got := metric(r.body, "touchbase_ingest_backlog_requests"); got != 0 {
				t.Errorf("touchbase_ingest_backlog_requests = %v after the API has settled, want 0", got)
			}
		}
		if bytes.Contains(r.body, []byte(`route="/api/v1/customers/`+itoa(u1))) {
			t.Errorf("a raw path is used as a route label")
		}
	})
}

func TestHealth(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/healthz", nil, nil)
		var h struct {
			Status string `json:"status"`
		}
		r.decode(t, &h)
		if r.status != 200 || h.Status != "ok" {
			t.Fatalf("healthz: status %d: %s", r.status, r.body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.srv.Close(ctx); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("healthz while shutting down: status %d, want 503", rec.Code)
		}
	})
}

// healthOf reads /healthz.
func healthOf(t *testing.T, e *env) (int, map[string]string) {
	t.Helper()
	r := e.do("GET", "/healthz", nil, nil)
	var h struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r.decode(t, &h)
	if (r.status == 200) != (h.Status == "ok") {
		t.Errorf("healthz: status %d with %q", r.status, h.Status)
	}
	return r.status, h.Checks
}

// TestHealthSchema damages the schema under a running server: a dropped
// table and a migration version that went back are 503s naming them.
func TestHealthSchema(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		status, checks := healthOf(t, e)
		if status != 200 || checks["database"] != "ok" || checks["migrations"] != "ok" || checks["engine"] != "ok" {
			t.Fatalf("healthy server: %d %v, want 200 with database, migrations and engine ok", status, checks)
		}
		db := e.store.DB()
		if _, err := db.Exec("DROP TABLE order_items"); err != nil {
			t.Fatal(err)
		}
		if status, checks = healthOf(t, e); status != 503 || checks["migrations"] != "table order_items is missing" || checks["database"] != "ok" {
			t.Errorf("dropped table: %d %v, want 503 naming order_items", status, checks)
		}
		if _, err := db.Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)"); err != nil {
			t.Fatal(err)
		}
		if status, checks = healthOf(t, e); status != 503 || !strings.Contains(checks["migrations"], "the database is at migration") {
			t.Errorf("migration version went back: %d %v", status, checks)
		}
	})
}

// TestHealthDamagedFile truncates, then overwrites, the SQLite file of a
// running server: /healthz answers 503 naming the database, although the
// connections' caches would still answer many reads.
func TestHealthDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "touchbase.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, s)
	seed(t, e, e.write, "")
	if status, checks := healthOf(t, e); status != 200 {
		t.Fatalf("before: %d %v", status, checks)
	}
	// Every page in the file, none in the -wal file: a file shorter than
	// its header with frames in the -wal file may be a checkpoint under
	// way, which the check does not call truncated.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := s.DB().Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the -wal file does not empty")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	if status, checks := healthOf(t, e); status != 503 || !strings.Contains(checks["database"], "truncated") {
		t.Errorf("truncated file: %d %v, want 503 naming the database", status, checks)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, 4096), 0)
	f.Close()
	if status, checks := healthOf(t, e); status != 503 || !strings.Contains(checks["database"], "overwritten") {
		t.Errorf("overwritten file: %d %v, want 503 naming the database", status, checks)
	}
}
