package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchbase/touchbase/store"
)

// post sends body to url with the write key as the Basic-auth user, the
// way Segment's SDKs do, and returns the status and the body.
func post(t *testing.T, url, writeKey, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(writeKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestKill9SQLite(t *testing.T) {
	testKill9(t, "")
}

func TestKill9PostgreSQL(t *testing.T) {
	testKill9(t, postgresDSN(t))
}

// testKill9 hammers /v1/batch from several clients, kill -9s the server in
// the middle, restarts it on the same data, and checks that every event
// answered 200 is stored exactly once and nothing was stored that was not
// sent. dsn is "" for SQLite in the data directory.
func testKill9(t *testing.T, dsn string) {
	if testing.Short() {
		t.Skip("kill -9 test hammers the server for seconds")
	}
	data := t.TempDir()
	env := []string{"TOUCHBASE_DATA=" + data}
	if dsn != "" {
		env = append(env, "TOUCHBASE_DB="+dsn)
	} else {
		dsn = filepath.Join(data, "touchbase.db")
	}
	writeKey := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "write").stdout)
	admin := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "admin", "--role", "analyst").stdout)

	// Two rounds: hammer, kill -9 while requests are in flight, restart on
	// the same data with no repair; the second round starts from a store
	// the first kill left behind.
	sent, acked := map[string]bool{}, map[string]bool{}
	var firstAckedBody string
	var srv *server
	for round := range 2 {
		// A rate limit out of reach: this test is about durability, not 429s.
		srv = startServer(t, env, "--rate-limit", "100000000")
		load := newLoad(srv.URL, writeKey, round)
		load.start(4)
		deadline := time.Now().Add(time.Minute)
		time.Sleep(2*time.Second + time.Duration(rand.IntN(1000))*time.Millisecond)
		for (load.acked.Load() < 1000 || load.inflight.Load() == 0) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		inflight := load.inflight.Load()
		srv.kill()
		elapsed := load.stop()
		if load.acked.Load() == 0 {
			t.Fatalf("round %d: no event was acknowledged before the kill; statuses %v\nstderr: %s",
				round, load.statuses, srv.stderr.String())
		}
		if inflight == 0 {
			t.Fatalf("round %d: no request was in flight at the kill (acked %d)", round, load.acked.Load())
		}
		t.Logf("%s round %d: %d events acknowledged in %.1fs (%.0f events/s) by 4 clients, %d requests in flight "+
			"at kill -9, %d requests failed by the kill; statuses %v",
			dsnKind(dsn), round, load.acked.Load(), elapsed.Seconds(), float64(load.acked.Load())/elapsed.Seconds(),
			inflight, load.failed.Load(), load.statuses)
		for code := range load.statuses {
			if code != http.StatusOK {
				t.Errorf("round %d: status %d during the load (only 200 expected before the kill): %s",
					round, code, load.lastError)
			}
		}
		for id := range load.sentIDs {
			sent[id] = true
		}
		for id := range load.ackedIDs {
			acked[id] = true
		}
		if firstAckedBody == "" {
			firstAckedBody = load.firstAckedBody
		}
	}

	// Restart on the same data, no repair: it serves, and the API counts
	// what is stored.
	srv = startServer(t, env)
	var st stats
	if code := get(t, srv.URL+"/api/v1/stats", admin, &st); code != http.StatusOK {
		t.Fatalf("GET /api/v1/stats after restart: %d\nstderr: %s", code, srv.stderr.String())
	}
	if st.Events < int64(len(acked)) {
		t.Errorf("after restart the API counts %d events, but %d were acknowledged", st.Events, len(acked))
	}
	// Resending an acknowledged batch stores nothing twice.
	if code, body := post(t, srv.URL+"/v1/batch", writeKey, firstAckedBody); code != http.StatusOK {
		t.Errorf("resend after restart: %d %s", code, body)
	}
	var st2 stats
	get(t, srv.URL+"/api/v1/stats", admin, &st2)
	if st2.Events != st.Events {
		t.Errorf("resending an acknowledged batch changed the event count from %d to %d", st.Events, st2.Events)
	}
	srv.stop()

	total := verifyStored(t, dsn, sent, acked)
	if total != st2.Events {
		t.Errorf("the API counts %d events, the database holds %d", st2.Events, total)
	}
}

// verifyStored checks that every acknowledged messageId is stored exactly
// once and that every stored one was sent, and returns the events stored.
func verifyStored(t *testing.T, dsn string, sent, acked map[string]bool) int64 {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open the store after restart: %v", err)
	}
	defer s.Close()
	rows, err := s.DB().QueryContext(ctx, "SELECT message_id, COUNT(*) FROM events GROUP BY message_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]int{}
	var total int64
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
		total += int64(n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost, twice, unknown int
	for id := range acked {
		if stored[id] == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged event %s is not stored", id)
			}
		}
	}
	for id, n := range stored {
		if n != 1 {
			twice++
			if twice <= 5 {
				t.Errorf("event %s is stored %d times", id, n)
			}
		}
		if !sent[id] {
			unknown++
			if unknown <= 5 {
				t.Errorf("event %s is stored but was never sent", id)
			}
		}
	}
	t.Logf("%s: %d acknowledged, %d stored (%d sent but unacknowledged were committed), %d lost, %d stored twice, %d unknown",
		dsnKind(dsn), len(acked), total, total-int64(len(acked)), lost, twice, unknown)
	return total
}

// TestGracefulShutdownUnderLoad sends SIGTERM while clients hammer the
// server: it exits cleanly and in time, and what it acknowledged is stored.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("hammers the server for seconds")
	}
	t.Parallel()
	data := t.TempDir()
	env := []string{"TOUCHBASE_DATA=" + data}
	writeKey := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "write").stdout)
	srv := startServer(t, env, "--rate-limit", "100000000")
	load := newLoad(srv.URL, writeKey, 0)
	load.start(4)
	deadline := time.Now().Add(time.Minute)
	time.Sleep(1500 * time.Millisecond)
	for (load.acked.Load() < 500 || load.inflight.Load() == 0) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	began := time.Now()
	srv.stop() // SIGTERM; fails the test unless the exit is clean
	t.Logf("stopped %v after SIGTERM with %d events acknowledged; statuses %v", time.Since(began), load.acked.Load(), load.statuses)
	load.stop()
	for code := range load.statuses {
		// A request that reaches a closing writer is told to retry.
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("status %d during shutdown: %s", code, load.lastError)
		}
	}
	verifyStored(t, filepath.Join(data, "touchbase.db"), load.sentIDs, load.ackedIDs)
}

func dsnKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// load is a set of clients sending batches as fast as the server answers.
type load struct {
	url, key string
	round    int
	client   *http.Client
	cancel   context.CancelFunc
	ctx      context.Context
	wg       sync.WaitGroup
	began    time.Time

	acked    atomic.Int64
	inflight atomic.Int64
	failed   atomic.Int64

	mu             sync.Mutex
	sentIDs        map[string]bool
	ackedIDs       map[string]bool
	statuses       map[int]int
	lastError      string
	firstAckedBody string
}

func newLoad(url, key string, round int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	return &load{
		url: url + "/v1/batch", key: key, round: round,
		client:  &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		ctx:     ctx,
		cancel:  cancel,
		sentIDs: map[string]bool{}, ackedIDs: map[string]bool{}, statuses: map[int]int{},
	}
}

func (l *load) start(clients int) {
	l.began = time.Now()
	for c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			for seq := 0; l.ctx.Err() == nil; seq++ {
				l.send(rng, c, seq)
			}
		}()
	}
}

// stop ends the clients (their requests fail once the server is gone) and
// returns how long the load ran.
func (l *load) stop() time.Duration {
	d := time.Since(l.began)
	l.cancel()
	l.wg.Wait()
	return d
}

// send posts one batch of 100 to 250 analytics-go-shaped events with unique
// messageIds, over a few hundred customers (identified and anonymous).
func (l *load) send(rng *rand.Rand, client, seq int) {
	n := 100 + rng.IntN(151)
	ids := make([]string, n)
	batch := make([]map[string]any, n)
	now := time.Now().UTC()
	for i := range batch {
		ids[i] = fmt.Sprintf("kill-%d-%d-%d-%d", l.round, client, seq, i)
		e := map[string]any{
			"type":      "track",
			"messageId": ids[i],
			"event":     []string{"Product Viewed", "Product Added", "Checkout Started"}[rng.IntN(3)],
			"timestamp": now.Add(-time.Duration(rng.IntN(3600)) * time.Second).Format(time.RFC3339Nano),
			"properties": map[string]any{
				"product_id": fmt.Sprintf("p%d", rng.IntN(500)), "price": float64(rng.IntN(20000)) / 100,
				"category": "Gadgets", "currency": "USD",
			},
			"context": map[string]any{
				"library": map[string]any{"name": "analytics-go", "version": "3.3.0"},
				"ip":      "127.0.0.1",
			},
		}
		if u := rng.IntN(400); u < 300 {
			e["userId"] = fmt.Sprintf("user-%d", u)
		} else {
			e["anonymousId"] = fmt.Sprintf("anon-%d", u)
		}
		batch[i] = e
	}
	body, _ := json.Marshal(map[string]any{"batch": batch, "sentAt": now.Format(time.RFC3339Nano)})

	// Sent is recorded before the request: a request the kill interrupts
	// may or may not have been committed.
	l.mu.Lock()
	for _, id := range ids {
		l.sentIDs[id] = true
	}
	l.mu.Unlock()

	req, _ := http.NewRequestWithContext(context.WithoutCancel(l.ctx), "POST", l.url, bytes.NewReader(body))
	req.SetBasicAuth(l.key, "")
	req.Header.Set("Content-Type", "application/json")
	l.inflight.Add(1)
	resp, err := l.client.Do(req)
	l.inflight.Add(-1)
	if err != nil {
		l.failed.Add(1)
		time.Sleep(10 * time.Millisecond) // the server is gone; do not spin
		return
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	l.mu.Lock()
	defer l.mu.Unlock()
	l.statuses[resp.StatusCode]++
	if resp.StatusCode != http.StatusOK {
		l.lastError = string(msg)
		return
	}
	for _, id := range ids {
		l.ackedIDs[id] = true
	}
	if l.firstAckedBody == "" {
		l.firstAckedBody = string(body)
	}
	l.acked.Add(int64(n))
}
