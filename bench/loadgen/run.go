package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
)

// Target is the server the load goes to.
type Target struct {
	URL      string // base URL, e.g. http://127.0.0.1:8080
	WriteKey string
}

// Plan says how to send: closed loop (Senders concurrent senders, each
// sending its next batch as soon as the last one is answered) or open loop
// (Rate events per second on a fixed schedule, whatever the answers), and
// for how long (Duration) or how much (Events). One of Duration and Events
// must be set; with both, the first reached ends the run.
type Plan struct {
	Senders  int     // closed loop concurrency (default 8), when Rate is 0
	Rate     float64 // offered events per second (open loop), 0 for closed loop
	Duration time.Duration
	Events   int64
	// MaxInFlight bounds open-loop requests in flight (default 1024). When
	// reached, the schedule waits: the lateness shows in the latencies,
	// which are measured from the scheduled time.
	MaxInFlight int
	// Timeout bounds one request (default 60s).
	Timeout time.Duration
}

// Runner sends a Pool's bodies to a Target.
type Runner struct {
	pool   *Pool
	target Target
	client *http.Client
	acked  atomic.Int64
}

// NewRunner returns a Runner. Its HTTP client keeps connections alive, as
// analytics-go's (http.DefaultTransport) does.
func NewRunner(pool *Pool, t Target) *Runner {
	tr := &http.Transport{
		MaxIdleConns:        0, // no limit
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Runner{pool: pool, target: t, client: &http.Client{Transport: tr}}
}

// Acked returns the events acknowledged (committed) so far, for samplers
// running beside Run.
func (r *Runner) Acked() int64 { return r.acked.Load() }

// Close releases idle connections.
func (r *Runner) Close() { r.client.Transport.(*http.Transport).CloseIdleConnections() }

// Run sends load according to plan and reports what happened. It returns
// an error only when the plan is invalid; failed requests are counted in
// the report.
func (r *Runner) Run(ctx context.Context, plan Plan) (*Report, error) {
	if plan.Duration <= 0 && plan.Events <= 0 {
		return nil, errors.New("loadgen: a plan needs a Duration or a number of Events")
	}
	if plan.Rate < 0 {
		return nil, errors.New("loadgen: the rate must not be negative")
	}
	if plan.Senders <= 0 {
		plan.Senders = 8
	}
	if plan.MaxInFlight <= 0 {
		plan.MaxInFlight = 1024
	}
	if plan.Timeout <= 0 {
		plan.Timeout = 60 * time.Second
	}
	rec := &recorder{statuses: map[string]int{}, acked: &r.acked}
	run := &run{r: r, plan: plan, rec: rec, url: r.target.URL + "/v1/batch"}
	rec.start = time.Now()
	if plan.Duration > 0 {
		run.deadline = rec.start.Add(plan.Duration)
		rec.deadline = run.deadline
	}
	if plan.Rate > 0 {
		run.openLoop(ctx)
	} else {
		run.closedLoop(ctx)
	}
	return rec.report(plan, r.pool, time.Now()), nil
}

type run struct {
	r        *Runner
	plan     Plan
	rec      *recorder
	url      string
	deadline time.Time    // zero when the plan has no Duration
	issued   atomic.Int64 // events sent or being sent
}

// claim reserves n events of the plan's budget and says whether to send.
func (u *run) claim(ctx context.Context, at time.Time, n int) bool {
	if ctx.Err() != nil || (!u.deadline.IsZero() && !at.Before(u.deadline)) {
		return false
	}
	if u.plan.Events > 0 && u.issued.Add(int64(n))-int64(n) >= u.plan.Events {
		return false
	}
	if u.plan.Events <= 0 {
		u.issued.Add(int64(n))
	}
	return true
}

// worker is one sender's reusable state.
type worker struct {
	buf []byte
	rng *mrand.Rand
}

func newWorker() *worker {
	return &worker{buf: make([]byte, 0, 512<<10), rng: mrand.New(mrand.NewPCG(randomUint64(), randomUint64()))}
}

func (u *run) closedLoop(ctx context.Context) {
	var wg sync.WaitGroup
	for range u.plan.Senders {
		wg.Go(func() {
			w := newWorker()
			for {
				now := time.Now()
				if !u.claim(ctx, now, u.r.pool.BatchSize()) {
					return
				}
				body, n := u.r.pool.Fill(w.buf, w.rng, now)
				w.buf = body
				u.send(body, n, now)
			}
		})
	}
	wg.Wait()
}

func (u *run) openLoop(ctx context.Context) {
	batch := u.r.pool.BatchSize()
	interval := time.Duration(float64(batch) / u.plan.Rate * float64(time.Second))
	if interval <= 0 {
		interval = 1
	}
	workers := sync.Pool{New: func() any { return newWorker() }}
	sem := make(chan struct{}, u.plan.MaxInFlight)
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	start := u.rec.start
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if !u.claim(ctx, at, batch) {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue // claim stops the loop
		}
		if lag := time.Since(at); lag > 0 {
			u.rec.lag(lag)
		}
		wg.Go(func() {
			defer func() { <-sem }()
			w := workers.Get().(*worker)
			defer workers.Put(w)
			body, n := u.r.pool.Fill(w.buf, w.rng, time.Now())
			w.buf = body
			u.send(body, n, at)
		})
	}
	wg.Wait()
}

// ingestAnswer is the part of a /v1 answer the generator reads.
type ingestAnswer struct {
	Accepted   int               `json:"accepted"`
	Duplicates int               `json:"duplicates"`
	Rejected   []json.RawMessage `json:"rejected"`
}

// send posts one body as analytics-go's Client.upload does and records the
// outcome; latency runs from t0 (the send, or the scheduled send in open
// loop) to the whole answer read.
func (u *run) send(body []byte, n int, t0 time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), u.plan.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body))
	if err != nil {
		u.rec.failed("request: "+err.Error(), n, 0)
		return
	}
	req.Header.Add("User-Agent", "analytics-go (version: "+analytics.Version+")")
	req.Header.Add("Content-Type", "application/json")
	req.Header.Add("Content-Length", strconv.Itoa(len(body)))
	req.SetBasicAuth(u.r.target.WriteKey, "")
	u.rec.sent(n)
	res, err := u.r.client.Do(req)
	if err != nil {
		u.rec.failed("transport", n, time.Since(t0))
		return
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	lat := time.Since(t0)
	if err != nil {
		u.rec.failed("transport", n, lat)
		return
	}
	if res.StatusCode != http.StatusOK {
		u.rec.refused(strconv.Itoa(res.StatusCode), n, lat, data)
		return
	}
	var a ingestAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		u.rec.failed("bad answer", n, lat)
		return
	}
	u.rec.ok(a, lat, time.Now())
}

// recorder collects outcomes. One lock per response is far below the
// server's cost per response.
type recorder struct {
	start    time.Time
	deadline time.Time // zero without one
	acked    *atomic.Int64

	mu          sync.Mutex
	lat         []time.Duration
	windows     []int64 // acknowledged events per second since start
	statuses    map[string]int
	firstErrors []string
	requests    int
	okRequests  int
	sentEvents  int64
	ackedInTime int64 // acknowledged before the deadline
	dups        int64
	rejected    int64
	unknown     int64 // events whose fate is unknown (transport errors)
	refusedEv   int64
	maxLag      time.Duration
	lagged      int
}

func (c *recorder) sent(n int) {
	c.mu.Lock()
	c.requests++
	c.sentEvents += int64(n)
	c.mu.Unlock()
}

func (c *recorder) lag(d time.Duration) {
	c.mu.Lock()
	if d > c.maxLag {
		c.maxLag = d
	}
	if d > 10*time.Millisecond {
		c.lagged++
	}
	c.mu.Unlock()
}

func (c *recorder) ok(a ingestAnswer, lat time.Duration, now time.Time) {
	n := int64(a.Accepted + a.Duplicates)
	c.acked.Add(n)
	sec := int(now.Sub(c.start) / time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.okRequests++
	c.statuses["200"]++
	c.lat = append(c.lat, lat)
	for len(c.windows) <= sec {
		c.windows = append(c.windows, 0)
	}
	c.windows[sec] += n
	if c.deadline.IsZero() || now.Before(c.deadline) {
		c.ackedInTime += n
	}
	c.dups += int64(a.Duplicates)
	c.rejected += int64(len(a.Rejected))
	if len(a.Rejected) > 0 && len(c.firstErrors) < 5 {
		c.firstErrors = append(c.firstErrors, fmt.Sprintf("200 with %d rejected: %s", len(a.Rejected), a.Rejected[0]))
	}
}

func (c *recorder) refused(status string, n int, lat time.Duration, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses[status]++
	c.refusedEv += int64(n)
	c.lat = append(c.lat, lat)
	if len(c.firstErrors) < 5 {
		if len(body) > 300 {
			body = body[:300]
		}
		c.firstErrors = append(c.firstErrors, status+": "+string(body))
	}
}

func (c *recorder) failed(what string, n int, lat time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses[what]++
	c.unknown += int64(n)
	if lat > 0 {
		c.lat = append(c.lat, lat)
	}
	if len(c.firstErrors) < 5 {
		c.firstErrors = append(c.firstErrors, what)
	}
}
