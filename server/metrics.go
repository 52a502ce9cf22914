package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/touchbase/touchbase/wal"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// (never the global one: two servers in one process, as in tests, must not
// clash).
type metrics struct {
	reg        *prometheus.Registry
	ingested   prometheus.Counter
	duplicates prometheus.Counter
	rejected   *prometheus.CounterVec
	requests   *prometheus.HistogramVec
	batchSize  *prometheus.HistogramVec
	commitTime *prometheus.HistogramVec
	commitErrs *prometheus.CounterVec
	refused    *prometheus.CounterVec

	// refusedMu guards the refusals counted since the last log line.
	refusedMu       sync.Mutex
	refusedOrders   int
	refusedProducts int
	refusedLogged   time.Time
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchbase_ingested_events_total",
			Help: "Events accepted through /v1 and committed to the store (new events, duplicates excluded).",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "touchbase_duplicate_events_total",
			Help: "Events whose messageId was already stored.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchbase_rejected_events_total",
			Help: "Events (or whole requests, when they could not be counted) refused through /v1, by reason (the error code).",
		}, []string{"reason"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "touchbase_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "touchbase_commit_batch_size",
			Help:    "Inbound events per commit, by stage: log (requests flushed to the ingestion log) or store (committed to the database).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9), // 1 .. 65536
		}, []string{"stage"}),
		commitTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "touchbase_commit_duration_seconds",
			Help:    "Time each commit took, by stage (log or store).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stage"}),
		commitErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchbase_commit_errors_total",
			Help: "Commits that failed, by stage: a failed log commit is answered with an error; a failed store commit is retried.",
		}, []string{"stage"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchbase_refused_changes_total",
			Help: "Changes that events of public write keys asked for and were refused, by what they would have changed (order: another customer's or a guest order; product: one a server key or an import defined). The events themselves are stored.",
		}, []string{"change"}),
	}
	for _, change := range []string{"order", "product"} {
		m.refused.WithLabelValues(change) // shown as 0 before the first refusal
	}
	m.reg.MustRegister(m.ingested, m.duplicates, m.rejected, m.requests, m.batchSize, m.commitTime, m.commitErrs, m.refused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// ObserveCommit records one group commit of the ingestion writer; pass it as
// wal.WriterConfig.OnCommit.
func (s *Server) ObserveCommit(st wal.CommitStats) {
	if st.Err != nil {
		s.metrics.commitErrs.WithLabelValues(st.Stage).Inc()
		return
	}
	s.metrics.batchSize.WithLabelValues(st.Stage).Observe(float64(st.Inbounds))
	s.metrics.commitTime.WithLabelValues(st.Stage).Observe(st.Duration.Seconds())
	if st.Stage == wal.StageStore {
		s.metrics.ingested.Add(float64(st.Result.Stored))
		s.metrics.duplicates.Add(float64(st.Result.Duplicates))
		if st.Result.RefusedOrders > 0 || st.Result.RefusedProducts > 0 {
			s.refused(st.Result.RefusedOrders, st.Result.RefusedProducts)
		}
	}
}

// refusedLogEvery is how often, at most, refusals are logged: an attacker
// sending them must not flood the log, and an installation that upgraded
// must still see that its public key lost a right.
const refusedLogEvery = time.Minute

// refused counts the changes refused to public write keys, and logs them
// (at info: they are no error, and their events are stored) at most once a
// refusedLogEvery.
func (s *Server) refused(orders, products int) {
	m := s.metrics
	m.refused.WithLabelValues("order").Add(float64(orders))
	m.refused.WithLabelValues("product").Add(float64(products))
	m.refusedMu.Lock()
	defer m.refusedMu.Unlock()
	m.refusedOrders += orders
	m.refusedProducts += products
	if now := time.Now(); now.Sub(m.refusedLogged) >= refusedLogEvery {
		args := []any{"orders", m.refusedOrders, "products", m.refusedProducts}
		if !m.refusedLogged.IsZero() {
			args = append(args, "since", m.refusedLogged)
		}
		s.log.Info("public write key: changes refused, events kept (see docs/ingestion.md, What a write key may change)", args...)
		m.refusedOrders, m.refusedProducts, m.refusedLogged = 0, 0, now
	}
}

// lagger is implemented by ingesters that acknowledge before the store
// has the events (*wal.Writer with a log).
type lagger interface {
	Lag() (requests uint64, bytes int64)
}

// registerLag exports the ingestion log's backlog.
func (m *metrics) registerLag(l lagger) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "touchbase_ingest_backlog_requests",
		Help: "Requests acknowledged from the ingestion log and not yet applied to the store.",
	}, func() float64 { n, _ := l.Lag(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "touchbase_ingest_log_bytes",
			Help: "Bytes the ingestion log holds (its files not yet wholly applied).",
		}, func() float64 { _, b := l.Lag(); return float64(b) }))
}

// roomer is implemented by ingesters that can be waiting for room on a
// full disk (*wal.Writer).
type roomer interface {
	NoRoom() bool
}

// registerNoRoom exports whether ingestion waits for room.
func (m *metrics) registerNoRoom(r roomer) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "touchbase_ingest_no_room",
		Help: "1 while the disk of the database or of the ingestion log is full: /v1 answers 503 with Retry-After, nothing acknowledged is dropped, and ingestion resumes once there is room.",
	}, func() float64 {
		if r.NoRoom() {
			return 1
		}
		return 0
	}))
}

// registerOperationsRoutes registers what operators use: /metrics and
// /healthz.
func (s *Server) registerOperationsRoutes() {
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg}))
	s.mux.HandleFunc("GET /healthz", s.handle(s.handleHealth))
}
