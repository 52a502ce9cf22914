// Package ui is touchbase's web console at /ui: server-rendered pages
// (html/template) made lively with htmx and charted with Chart.js, both
// vendored and embedded, so the binary needs no Node build and no CDN.
//
// It is a package of its own, below server: server mounts Handler and
// hands it its code-to-status table (Config.StatusOf), so that errors keep
// one mapping. Every page needs a session (see auth.go); every change needs
// the session's CSRF token and a same-origin request.
package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

//go:embed templates static
var assets embed.FS

// Prefix is where the console is mounted.
const Prefix = "/ui"

// Config configures the console.
type Config struct {
	// Logger receives errors; nil discards.
	Logger *slog.Logger
	// StatusOf maps a touchbase error code to an HTTP status: the server's
	// one table. Nil treats every error as internal.
	StatusOf func(code string) int
	// ClientError returns the error to show when err is the client's
	// doing at the transport level (a body cut short, too slow, too
	// large), nil otherwise: the server's one judgement of that. Nil
	// judges nothing so.
	ClientError func(err error) error
	// TrustForwardedProto marks the session cookie Secure when a request
	// carries X-Forwarded-Proto: https. Set it only behind a proxy that
	// terminates TLS and sets that header itself; requests over TLS to
	// touchbase directly are always Secure.
	TrustForwardedProto bool
	// Now is the clock (relative times, date ranges); nil is time.Now.
	Now func() time.Time
	// Version is shown in the footer.
	Version string
}

// Services are what the console reads and changes; *store.Store
// implements them all.
type Services struct {
	Workspaces touchbase.WorkspaceService
	Users      touchbase.UserService
	Sessions   touchbase.SessionService
	// Invitations serve the settings page's invitations and the page
	// where invitees accept; without them both are hidden.
	Invitations touchbase.InvitationService
	Customers   touchbase.CustomerService
	Events      touchbase.EventService
	Orders      touchbase.OrderService
	Stats       touchbase.StatsService
	Reports     touchbase.ReportService
	Imports     touchbase.ImportService
	// Importer runs uploads; nil hides the upload form.
	Importer touchbase.ImportSubmitter
	// Segments and Engine serve the segment pages and the 360 page's
	// segments card; without either they are hidden. Features are the
	// names definitions may use; nil knows none (as for the API).
	Segments touchbase.SegmentStore
	Engine   SegmentEngine
	Features *segment.Registry
	// Analyses serve the Insights pages and the 360 page's scores;
	// without them both are hidden. Analyst runs analyses ("Run now")
	// and recommends products on the 360 page; without it those are
	// hidden and the pages show what earlier runs found.
	Analyses touchbase.AnalysisService
	Analyst  Analyst
}

// Handler serves the console. Create it with New.
type Handler struct {
	cfg      Config
	svc      Services
	log      *slog.Logger
	mux      *http.ServeMux
	pages    map[string]*template.Template
	static   fs.FS
	assetVer map[string]string
	logins   *throttle
}

// New returns the console over svc.
func New(cfg Config, svc Services) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StatusOf == nil {
		cfg.StatusOf = func(string) int { return http.StatusInternalServerError }
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	h := &Handler{
		cfg:      cfg,
		svc:      svc,
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
		static:   static,
		assetVer: assetVersions(static),
		logins:   newThrottle(cfg.Now),
	}
	h.pages = h.parsePages()
	h.routes()
	return h
}

func (h *Handler) routes() {
	m := h.mux
	m.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", h.serveStatic()))
	m.HandleFunc("GET "+Prefix+"/login", h.handle(h.loginPage))
	m.HandleFunc("POST "+Prefix+"/login", h.handle(h.login))
	m.HandleFunc("POST "+Prefix+"/logout", h.authed(touchbase.RoleAnalyst, h.logout))
	m.HandleFunc("POST "+Prefix+"/workspace", h.authed(touchbase.RoleAnalyst, h.switchWorkspace))
	m.HandleFunc("GET "+Prefix+"/{$}", h.authed(touchbase.RoleAnalyst, h.dashboard))
	m.HandleFunc("GET "+Prefix+"/customers", h.authed(touchbase.RoleAnalyst, h.customers))
	m.HandleFunc("GET "+Prefix+"/customers/{id}", h.authed(touchbase.RoleAnalyst, h.customer))
	m.HandleFunc("GET "+Prefix+"/customers/{id}/timeline", h.authed(touchbase.RoleAnalyst, h.timeline))
	m.HandleFunc("POST "+Prefix+"/customers/{id}/consent", h.authed(touchbase.RoleMarketer, h.setConsent))
	m.HandleFunc("GET "+Prefix+"/imports", h.authed(touchbase.RoleAnalyst, h.imports))
	// The limit applies before authed reads the multipart form for the
	// CSRF token.
	m.HandleFunc("POST "+Prefix+"/imports", limitBody(maxImportBytes, h.authed(touchbase.RoleMarketer, h.upload)))
	m.HandleFunc("GET "+Prefix+"/imports/{id}", h.authed(touchbase.RoleAnalyst, h.importPage))
	m.HandleFunc("GET "+Prefix+"/imports/{id}/errors.csv", h.authed(touchbase.RoleAnalyst, h.importErrors))
	if h.segmentsOn() {
		h.segmentRoutes()
	}
	if h.insightsOn() {
		h.insightRoutes()
	}
	if h.settingsOn() {
		h.settingsRoutes()
	}
	m.HandleFunc(Prefix+"/", h.handle(func(w http.ResponseWriter, r *http.Request) error {
		return touchbase.Errorf(touchbase.ENOTFOUND, "there is no page at %s", r.URL.Path)
	}))
}

// ServeHTTP serves every console request with the security headers the
// pages rely on: scripts only from /ui/static (no inline script, no eval),
// no framing, no referrer leaking customer ids to other sites.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// handlerFunc is a console handler that returns its error for renderError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: an error becomes an error page.
func (h *Handler) handle(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.renderError(w, r, err)
		}
	}
}

// errorPage is what the error template shows.
type errorPage struct {
	base
	Status     int
	ErrTitle   string
	Message    string
	RequestID  string
	HasSession bool
}

// renderError is the one place that renders a console error: a page of its
// own for a full request, the message alone for an htmx fragment (htmx
// shows it in the page's error region). Internal errors are logged with the
// request id, which the page shows so that people can quote it.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if h.cfg.ClientError != nil {
		if ce := h.cfg.ClientError(err); ce != nil {
			h.log.Debug("console client fault", "request_id", w.Header().Get("X-Request-Id"), "err", err)
			err = ce
		}
	}
	code := touchbase.ErrorCode(err)
	status := h.cfg.StatusOf(code)
	if status == 0 {
		status = http.StatusInternalServerError
	}
	id := w.Header().Get("X-Request-Id")
	p := errorPage{base: h.base(nil, "", ""), Status: status, Message: touchbase.ErrorMessage(err), RequestID: id}
	switch {
	case status == http.StatusNotFound:
		p.ErrTitle = "Page not found"
	case status == http.StatusForbidden:
		p.ErrTitle = "You may not do this"
	case status == http.StatusTooManyRequests:
		p.ErrTitle = "Too many attempts"
	case status >= 500:
		p.ErrTitle, p.Message = "Something went wrong", "touchbase could not complete this request. If it keeps happening, send the request id below to whoever runs this server."
		if errors.Is(err, context.Canceled) {
			h.log.Debug("console request canceled", "request_id", id, "err", err)
		} else {
			h.log.Error("console internal error", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		}
	default:
		p.ErrTitle = "That did not work"
	}
	if _, err := r.Cookie(sessionCookie); err == nil {
		p.HasSession = true
	}
	p.Title = p.ErrTitle
	if isHTMX(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("HX-Retarget", "#flash")
		w.Header().Set("HX-Reswap", "innerHTML")
		w.WriteHeader(status)
		h.execute(w, "fragment", "flash", p)
		return
	}
	h.render(w, status, "error", p)
}

// isHTMX reports whether htmx made the request for a fragment (a history
// restore wants the whole page).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes the page template name with data. Pages are rendered to a
// buffer first, so that a template error becomes a clean 500, not half a
// page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	h.execute(w, name, "layout", data, status)
}

// execute runs template block of page name into w with status (200 when
// not given).
func (h *Handler) execute(w http.ResponseWriter, name, block string, data any, status ...int) {
	t, ok := h.pages[name]
	if !ok {
		h.log.Error("console: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		h.log.Error("console: render", "template", name, "block", block, "request_id", w.Header().Get("X-Request-Id"), "err", err)
		http.Error(w, "internal error (request id "+w.Header().Get("X-Request-Id")+")", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold customer data: never cached, and a fragment must not be
	// served for a full page from a cache keyed on the URL alone.
	hd.Set("Cache-Control", "no-store")
	hd.Add("Vary", "HX-Request")
	if len(status) > 0 && status[0] != 0 {
		w.WriteHeader(status[0])
	}
	w.Write(buf.Bytes())
}

// pageFiles names, per page, the template files it is made of besides the
// layout and the shared fragments.
var pageFiles = map[string][]string{
	"login":      {"login.html"},
	"settings":   {"settings.html"},
	"invitation": {"invitation.html"},
	"error":      {"error.html"},
	"dashboard":  {"dashboard.html"},
	"customers":  {"customers.html"},
	"customer":   {"customer.html"},
	"imports":    {"imports.html"},
	"import":     {"import.html"},
	"segments":   {"segments.html"},
	"segment":    {"segment.html", "segment_members.html"},
	"segedit":    {"segment_edit.html"},
	"fragment":   {},
	// The analysis pages share insight.html's head, run status and form.
	"insights":         {"insights.html"},
	"insight-rfm":      {"insight.html", "insight_rfm.html"},
	"insight-clusters": {"insight.html", "insight_clusters.html"},
	"insight-clv":      {"insight.html", "insight_clv.html"},
	"insight-basket":   {"insight.html", "insight_basket.html"},
	"insight-cohorts":  {"insight.html", "insight_cohorts.html"},
}

func (h *Handler) parsePages() map[string]*template.Template {
	funcs := h.funcs()
	pages := map[string]*template.Template{}
	for name, files := range pageFiles {
		t := template.New(name).Funcs(funcs)
		all := append([]string{"templates/layout.html", "templates/fragments.html"}, files...)
		for i, f := range all {
			if !strings.HasPrefix(f, "templates/") {
				all[i] = "templates/" + f
			}
		}
		pages[name] = template.Must(t.ParseFS(assets, all...))
	}
	return pages
}

// assetVersions returns a short content hash per static file, added to
// asset URLs so that they can be cached for good and still change with a
// new binary.
func assetVersions(static fs.FS) map[string]string {
	out := map[string]string{}
	fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
}

// asset returns the URL of a static file with its version.
func (h *Handler) asset(name string) string {
	return Prefix + "/static/" + name + "?v=" + h.assetVer[name]
}

// serveStatic serves the embedded assets; a versioned URL is immutable.
func (h *Handler) serveStatic() http.Handler {
	files := http.FileServerFS(h.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(r.URL.Path)
		if _, ok := h.assetVer[name]; !ok || strings.HasSuffix(name, ".md") {
			h.renderError(w, r, touchbase.Errorf(touchbase.ENOTFOUND, "no such file"))
			return
		}
		if r.URL.Query().Get("v") == h.assetVer[name] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	})
}

// fieldError is an EINVALID error about one form field.
func fieldError(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &touchbase.Error{Code: touchbase.EINVALID, Message: msg,
		Fields: []touchbase.FieldError{{Index: -1, Field: field, Message: msg}}}
}

// limitBody bounds the request body of next to n bytes.
func limitBody(n int64, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next(w, r)
	}
}
