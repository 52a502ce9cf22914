// Package server is touchbase's HTTP surface: Segment-compatible ingestion
// (/v1), the browser tracker (/js/tb.js), the admin API (/api/v1, documented
// by OpenAPI 3.1), the web console (/ui, package server/ui), metrics
// (/metrics) and health (/healthz).
//
// Handlers are methods on Server, registered per file, and return errors;
// writeError is the one place that turns an error into a response, with the
// one code-to-status table in error.go.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/server/ui"
	"github.com/touchbase/touchbase/wal"
)

// DefaultRateLimit is the sustained events per second one write key may send
// when neither the workspace nor Config says otherwise.
const DefaultRateLimit = 50000

// Config configures a Server. The zero value works: it listens on
// 127.0.0.1:0 and logs nothing.
type Config struct {
	// Addr is the host:port to listen on; port 0 picks a free one.
	Addr string
	// RateLimit is the default sustained events per second per write key
	// (DefaultRateLimit when 0); a workspace's Settings.RateLimit wins.
	RateLimit int
	// Logger receives the access log (debug) and errors; nil discards.
	Logger *slog.Logger
	// Version is reported in the OpenAPI document and by the tracker.
	Version string
	// TrustForwardedProto makes the console treat a request with
	// X-Forwarded-Proto: https as secure (its session cookie gets Secure).
	// Set it only behind a TLS-terminating proxy that sets the header.
	TrustForwardedProto bool
	// ReadTimeout bounds how long a request, body included, may take to
	// arrive (60 seconds when 0); a client slower than that is answered
	// 408.
	ReadTimeout time.Duration
}

// IngestQueue is what stands between /v1 and the store: it takes accepted
// requests durably (when Write returns nil they survive a crash) and moves
// them into the store, which it may trail. *wal.Writer is one; the
// store's touchbase.Ingester is what it writes to. Settle waits (up to
// max) until what was acknowledged is in the store; the admin API and the
// console call it first, so that they show what a client has just sent.
// Forget removes the copies it keeps of what an erased customer (known by
// ids) sent; erasure calls it after the store's.
type IngestQueue interface {
	Write(ctx context.Context, rec *wal.Received) error
	Settle(ctx context.Context, max time.Duration) bool
	Forget(ctx context.Context, workspaceID int64, ids []touchbase.Identity) error
}

// Services are what the server serves; *store.Store implements all but
// IngestQueue, which is an *wal.Writer over the store.
type Services struct {
	Workspaces touchbase.WorkspaceService
	Users      touchbase.UserService
	Keys       touchbase.KeyService
	// Invitations serve /api/v1/invitations and the console's invitation
	// pages; without them people can only be added by the CLI.
	Invitations touchbase.InvitationService
	Customers   touchbase.CustomerService
	Events      touchbase.EventService
	Orders      touchbase.OrderService
	Stats       touchbase.StatsService
	Imports     touchbase.ImportService
	IngestQueue IngestQueue
	// Sessions and Reports serve the console; without them /ui is not
	// mounted.
	Sessions touchbase.SessionService
	Reports  touchbase.ReportService
	// Importer runs uploaded imports; nil answers 503 to uploads.
	Importer touchbase.ImportSubmitter
	// Segments, Engine and Features serve /api/v1/segments; without the
	// first two the routes are not registered.
	Segments touchbase.SegmentStore
	Engine   SegmentEngine
	Features *segment.Registry
	// Analyses and Analyst serve /api/v1/analyses, recommendations and
	// the console's Insights pages. Without Analyses the routes and pages
	// are not there; without Analyst runs and recommendations answer 503
	// (the console hides "Run now" and the 360 page's recommendations).
	Analyses touchbase.AnalysisService
	Analyst  Analyst
}

// Server serves touchbase over HTTP. Create it with New, then Open it, or
// mount Handler in a server of your own.
type Server struct {
	cfg Config
	svc Services
	log *slog.Logger

	mux     *http.ServeMux
	handler http.Handler
	api     huma.API
	metrics *metrics
	keys    *keyCache
	limits  *rateLimiter
	health  []healthCheck

	// closing makes /healthz answer 503 while the server shuts down, so a
	// load balancer stops sending traffic.
	closing atomic.Bool

	mu   sync.Mutex
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// New returns a Server over svc with every route registered.
func New(cfg Config, svc Services) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		cfg:     cfg,
		svc:     svc,
		log:     cfg.Logger,
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
		keys:    newKeyCache(keyCacheTTL, time.Now),
		limits:  newRateLimiter(time.Now),
	}
	if l, ok := svc.IngestQueue.(lagger); ok {
		s.metrics.registerLag(l)
	}
	if r, ok := svc.IngestQueue.(roomer); ok {
		s.metrics.registerNoRoom(r)
	}
	s.health = s.healthChecks()
	s.registerOperationsRoutes()
	s.registerIngestRoutes()
	s.registerTrackerRoutes()
	s.registerAPI()
	s.registerConsole()
	s.mux.HandleFunc("/", s.handle(s.handleNoRoute))
	s.handler = s.instrument(s.mux)
	return s
}

// registerConsole mounts the web console at /ui/ and sends browsers that
// open the server's root there; API clients asking for / keep getting the
// JSON 404.
func (s *Server) registerConsole() {
	if s.svc.Sessions == nil || s.svc.Reports == nil {
		return
	}
	svc := ui.Services{
		Workspaces: s.svc.Workspaces, Users: s.svc.Users, Invitations: s.svc.Invitations, Sessions: s.svc.Sessions, Customers: s.svc.Customers,
		Events: s.svc.Events, Orders: s.svc.Orders, Stats: s.svc.Stats, Reports: s.svc.Reports,
		Imports: s.svc.Imports, Importer: s.svc.Importer,
		Segments: s.svc.Segments, Engine: s.svc.Engine, Features: s.svc.Features,
		Analyses: s.svc.Analyses, Analyst: s.svc.Analyst,
	}
	console := ui.New(ui.Config{
		Logger:              s.log,
		StatusOf:            func(code string) int { return statusOf[code] },
		ClientError:         clientError,
		TrustForwardedProto: s.cfg.TrustForwardedProto,
		Version:             s.cfg.Version,
	}, svc)
	s.mux.Handle(ui.Prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.settle(r.Context())
		console.ServeHTTP(w, r)
	}))
	s.mux.HandleFunc("GET /{$}", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			return s.handleNoRoute(w, r)
		}
		http.Redirect(w, r, ui.Prefix+"/", http.StatusFound)
		return nil
	}))
}

// Handler returns the server's root handler, with request ids, logging,
// metrics and panic recovery around every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens on Config.Addr and serves in the background until Close.
func (s *Server) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return fmt.Errorf("server already open on %s", s.ln.Addr())
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the address the server listens on, once open.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting connections and waits for requests in flight to
// finish, until ctx ends (then it closes what remains).
func (s *Server) Close(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	srv, done := s.http, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("shut down http server: %w", err)
	}
	<-done
	return err
}

// handlerFunc is an HTTP handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc to net/http: an error becomes the one JSON
// error response.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// handleNoRoute answers every request no pattern matched: 405 when the path
// exists for another method, 404 otherwise, in the one error shape.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &statusError{status: http.StatusMethodNotAllowed, code: touchbase.EINVALID,
			msg: fmt.Sprintf("method %s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))}
	}
	return touchbase.Errorf(touchbase.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
}

// ctxKey types the request-scoped values the server keeps in contexts.
type ctxKey int

const (
	requestIDKey ctxKey = iota
	adminKeyKey
	baseURLKey
)

// requestID returns the request id of ctx, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// newRequestID returns 16 random hex characters.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID reports whether a client-sent X-Request-Id is safe to echo
// and log: short, printable ASCII without spaces.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// instrument wraps next with a request id, an access log line, the request
// duration histogram and panic recovery.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		rw := &responseWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = requestBody{r.Body}
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				if !rw.wrote {
					s.writeError(rw, r, fmt.Errorf("panic: %v", v))
				}
			}
			// r.Pattern is set by the mux on this very request value.
			route := r.Pattern
			if i := strings.IndexByte(route, ' '); i >= 0 {
				route = route[i+1:]
			}
			if route == "" {
				route = "/"
			}
			d := time.Since(start)
			s.metrics.observeRequest(route, r.Method, rw.status, d)
			s.log.Debug("request", "request_id", id, "method", r.Method, "route", route, "path", r.URL.Path,
				"status", rw.status, "bytes", rw.bytes, "duration", d, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rw, r)
	})
}

// responseWriter records the status and size of a response.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (huma sets read
// deadlines through it).
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush forwards to the underlying writer when it can flush.
func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.wrote = true
		f.Flush()
	}
}
