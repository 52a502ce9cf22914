package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
	"github.com/touchbase/touchbase/inbound"
)

// TestEncodeMatchesAnalyticsGo sends the generator's messages through the
// real analytics-go client and demands the same bytes, but for the two
// values the client makes up per batch (its messageId and sentAt).
func TestEncodeMatchesAnalyticsGo(t *testing.T) {
	start := time.Now()
	rng := mrand.New(mrand.NewPCG(7, 7))
	g := &eventGen{rng: rng, products: catalogue(rng, 50), start: start}
	var msgs []analytics.Message
	for i, m := range Mix {
		for ident := identUserAndAnon; ident <= identAnon; ident++ {
			msgs = append(msgs, g.message(m.Event, ident, i*3+ident))
		}
	}

	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		if r.URL.Path != "/v1/batch" || r.Header.Get("User-Agent") != "analytics-go (version: "+analytics.Version+")" {
			t.Errorf("analytics-go sent %s with User-Agent %q", r.URL.Path, r.Header.Get("User-Agent"))
		}
	}))
	defer srv.Close()
	client, err := analytics.NewWithConfig("wk", analytics.Config{Endpoint: srv.URL, BatchSize: len(msgs), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("analytics-go sent %d requests, want 1", len(got))
	}

	ours, err := encodeBatch(msgs, start)
	if err != nil {
		t.Fatal(err)
	}
	// Give analytics-go's body our batch messageId and sentAt.
	envelope := regexp.MustCompile(`^\{"messageId":"[^"]*","sentAt":"[^"]*",`)
	want := envelope.FindSubmatch(ours)
	if want == nil {
		t.Fatalf("our body does not start with messageId and sentAt: %.200s", ours)
	}
	theirs := envelope.ReplaceAll(got[0], want[0])
	if !bytes.Equal(theirs, ours) {
		i := 0
		for i < len(ours) && i < len(theirs) && ours[i] == theirs[i] {
			i++
		}
		t.Fatalf("bodies differ at byte %d:\nanalytics-go: ...%.200s\nloadgen:      ...%.200s", i, theirs[max(0, i-50):], ours[max(0, i-50):])
	}
	if !bytes.Contains(ours, []byte(`"context":{"library":{"name":"analytics-go","version":"`+analytics.Version+`"}}`)) {
		t.Errorf("batch has no analytics-go library context: %.300s", ours[len(ours)-300:])
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestPoolFill checks the bodies the server will see: valid for touchbase's
// parser, every messageId a fresh UUID v4, visitors from the population
// with a stable anonymousId each, fresh order ids, sentAt the send time.
func TestPoolFill(t *testing.T) {
	w := Workload{Users: 500, Bodies: 3, BatchSize: 250}
	pool, err := NewPool(w, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if pool.AvgBodyBytes() < 150<<10 || pool.AvgBodyBytes() > maxBatchBytes {
		t.Errorf("average body is %d bytes; want realistic events of roughly 0.6-2 KB each", pool.AvgBodyBytes())
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	msgIDs := map[string]bool{}
	orderIDs := map[string]bool{}
	anonOf := map[string]string{}
	events := map[string]int{}
	total := 0
	var buf []byte
	for i := 0; i < 9; i++ { // three rounds over the templates: ids must still be new
		now := time.Date(2024, 5, 1, 12, 0, i, 123456789, time.UTC)
		var n int
		buf, n = pool.Fill(buf, rng, now)
		if n != 250 || !json.Valid(buf) {
			t.Fatalf("body %d: %d events, valid JSON %v", i, n, json.Valid(buf))
		}
		var env struct {
			MessageID string `json:"messageId"`
			SentAt    string `json:"sentAt"`
			Batch     []struct {
				MessageID   string         `json:"messageId"`
				UserID      string         `json:"userId"`
				AnonymousID string         `json:"anonymousId"`
				Type        string         `json:"type"`
				Event       string         `json:"event"`
				Properties  map[string]any `json:"properties"`
			} `json:"batch"`
		}
		if err := json.Unmarshal(buf, &env); err != nil {
			t.Fatal(err)
		}
		if env.SentAt != "2024-05-01T12:00:0"+string(rune('0'+i))+".123456789Z" {
			t.Errorf("sentAt %q, want the send time", env.SentAt)
		}
		if !uuidV4.MatchString(env.MessageID) {
			t.Errorf("batch messageId %q is not a UUID v4", env.MessageID)
		}
		for _, e := range env.Batch {
			total++
			if !uuidV4.MatchString(e.MessageID) || msgIDs[e.MessageID] {
				t.Fatalf("messageId %q is not a fresh UUID v4", e.MessageID)
			}
			msgIDs[e.MessageID] = true
			if e.UserID == "" && e.AnonymousID == "" {
				t.Fatalf("event without identity")
			}
			if e.UserID != "" && (!strings.HasPrefix(e.UserID, "user-") || e.UserID > UserID(w.Users-1)) {
				t.Fatalf("userId %q is outside the population of %d", e.UserID, w.Users)
			}
			if e.AnonymousID != "" && !uuidV4.MatchString(e.AnonymousID) {
				t.Fatalf("anonymousId %q is not a UUID v4", e.AnonymousID)
			}
			if e.UserID != "" && e.AnonymousID != "" {
				if a, ok := anonOf[e.UserID]; ok && a != e.AnonymousID {
					t.Fatalf("user %s has anonymousIds %s and %s", e.UserID, a, e.AnonymousID)
				}
				anonOf[e.UserID] = e.AnonymousID
			}
			name := e.Event
			if e.Type == "page" {
				name = ""
			}
			events[name]++
			if e.Event == "Order Completed" || e.Event == "Checkout Started" {
				id, _ := e.Properties["order_id"].(string)
				if len(id) != 16 || orderIDs[id] {
					t.Fatalf("order_id %q is not a fresh 16-digit id", id)
				}
				orderIDs[id] = true
			}
		}
		req, err := inbound.Parse("batch", buf, now.Add(time.Second))
		if err != nil {
			t.Fatalf("touchbase cannot parse body %d: %v", i, err)
		}
		if len(req.Inbounds) != 250 || len(req.Rejected) != 0 {
			t.Fatalf("touchbase parsed %d inbounds and rejected %+v", len(req.Inbounds), req.Rejected)
		}
	}
	// The mix over 2,250 events: each kind within a few points of its share.
	for _, m := range Mix {
		got := float64(events[m.Event]) * 100 / float64(total)
		if d := got - float64(m.Percent); d < -3 || d > 3 {
			t.Errorf("%q is %.1f%% of events, want about %d%%", m.Event, got, m.Percent)
		}
	}
}

func TestMix62IsInjective(t *testing.T) {
	seen := map[uint64]bool{}
	for i := uint64(0); i < 200000; i++ {
		x := mix62(i)
		if x > mask62 || seen[x] {
			t.Fatalf("mix62(%d) = %x repeats or overflows", i, x)
		}
		seen[x] = true
	}
}

func TestPercentileAndMedian(t *testing.T) {
	s := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want int64
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {0, 1}} {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
	if got := Median(s); got != 5.5 {
		t.Errorf("median = %v, want 5.5", got)
	}
	if got := Median([]float64{3, 1e9, 7}[:1]); got != 3 {
		t.Errorf("median of one = %v", got)
	}
}

// fakeServer answers /v1/batch like touchbase: it counts each request's
// events as accepted, except every fifth request, refused with a 503.
type fakeServer struct {
	requests, accepted atomic.Int64
	delay              time.Duration
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, _, _ := r.BasicAuth(); u != "wk" {
		http.Error(w, "no key", http.StatusUnauthorized)
		return
	}
	var env struct {
		Batch []json.RawMessage `json:"batch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(f.delay)
	if f.requests.Add(1)%5 == 0 {
		http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
		return
	}
	f.accepted.Add(int64(len(env.Batch)))
	json.NewEncoder(w).Encode(map[string]any{"success": true, "accepted": len(env.Batch), "duplicates": 0})
}

func TestRunnerAccounting(t *testing.T) {
	pool, err := NewPool(Workload{Users: 100, Bodies: 2, BatchSize: 50}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		plan Plan
	}{
		{"closed loop by events", Plan{Senders: 3, Events: 2000}},
		{"open loop by duration", Plan{Rate: 2000, Duration: 1500 * time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeServer{delay: 2 * time.Millisecond}
			srv := httptest.NewServer(f)
			defer srv.Close()
			r := NewRunner(pool, Target{URL: srv.URL, WriteKey: "wk"})
			defer r.Close()
			rep, err := r.Run(context.Background(), c.plan)
			if err != nil {
				t.Fatal(err)
			}
			if rep.EventsAcked != f.accepted.Load() || r.Acked() != rep.EventsAcked {
				t.Errorf("acked %d (Acked %d), server accepted %d", rep.EventsAcked, r.Acked(), f.accepted.Load())
			}
			if int64(rep.Requests) != f.requests.Load() || rep.Statuses["503"] != int(f.requests.Load()/5) {
				t.Errorf("%d requests with statuses %v; server saw %d", rep.Requests, rep.Statuses, f.requests.Load())
			}
			if rep.EventsAcked+rep.Refused != rep.EventsSent || rep.Unknown != 0 {
				t.Errorf("sent %d = acked %d + refused %d + unknown %d?", rep.EventsSent, rep.EventsAcked, rep.Refused, rep.Unknown)
			}
			if rep.Latency.Count != rep.Requests || rep.Latency.P50 < 2 || rep.Latency.Max < rep.Latency.P99 {
				t.Errorf("latency %+v over %d requests", rep.Latency, rep.Requests)
			}
			switch c.plan.Rate {
			case 0:
				if rep.EventsSent < 2000 || rep.EventsSent >= 2050 {
					t.Errorf("sent %d events, want the 2,000 planned (rounded up to a batch)", rep.EventsSent)
				}
			default:
				// 2,000 events/s for 1.5 s in batches of 50: 60 requests.
				if rep.Requests != 60 || rep.StartedPerSec != 2000 {
					t.Errorf("open loop sent %d requests (%.0f events/s), want 60 (2000/s)", rep.Requests, rep.StartedPerSec)
				}
				if len(rep.Windows) != 1 || rep.EventsPerSec < 1000 || rep.EventsPerSec > 2000 {
					t.Errorf("windows %v, %.0f events/s", rep.Windows, rep.EventsPerSec)
				}
			}
		})
	}
}

// BenchmarkFill is the generator's cost per request: what the load
// generator takes from the server's CPU on a shared machine.
func BenchmarkFill(b *testing.B) {
	pool, err := NewPool(Workload{Bodies: 4}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	buf := make([]byte, 0, 512<<10)
	b.SetBytes(int64(pool.AvgBodyBytes()))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = pool.Fill(buf, rng, time.Now())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pool.BatchSize()), "ns/event")
}
