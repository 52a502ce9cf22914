package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
	"github.com/touchbase/touchbase/wal"
)

// registerIngestRoutes registers Segment's HTTP Tracking API under /v1.
func (s *Server) registerIngestRoutes() {
	for _, ep := range []string{"identify", "track", "page", "screen", "group", "alias", "batch"} {
		s.mux.HandleFunc("POST /v1/"+ep, s.handleIngest(ep))
	}
	// Segment documents /v1/import as the historical-import alias of batch;
	// analytics.js posts to the one-letter forms.
	s.mux.HandleFunc("POST /v1/import", s.handleIngest("batch"))
	for short, ep := range map[string]string{"i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias", "b": "batch"} {
		s.mux.HandleFunc("POST /v1/"+short, s.handleIngest(ep))
	}
	s.mux.HandleFunc("OPTIONS /v1/{path...}", s.handlePreflight)
}

// noRoomRetryAfter is the Retry-After, in seconds, of a request refused
// because the disk is full.
const noRoomRetryAfter = "5"

// ingestResponse is the body of a successful /v1 request. Segment's SDKs
// read only the status; the counts are for people and tests.
type ingestResponse struct {
	Success bool `json:"success"`
	// Accepted counts the valid events, now durable. Those whose
	// messageId was stored before are dropped when they reach the store
	// (counted in touchbase_duplicate_events_total); either way nothing
	// needs resending.
	Accepted int                    `json:"accepted"`
	Rejected []touchbase.FieldError `json:"rejected,omitempty"`
}

// handleIngest returns the handler of one /v1 endpoint.
func (s *Server) handleIngest(endpoint string) http.HandlerFunc {
	limit := int64(inbound.MaxEventBytes)
	if endpoint == "batch" {
		limit = inbound.MaxBatchBytes
	}
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		s.setCORS(w, r)
		err := s.ingest(w, r, endpoint, limit)
		if err != nil {
			reason := touchbase.ErrorCode(err)
			var te *touchbase.Error
			n := 1 // a request whose events could not be counted counts once
			if errors.As(err, &te) && len(te.Fields) > 0 {
				n = len(te.Fields)
			}
			if c, ok := err.(interface{ events() int }); ok && c.events() > 0 {
				n = c.events()
			}
			s.metrics.rejected.WithLabelValues(reason).Add(float64(n))
		}
		return err
	})
}

// countedError carries how many events a refused request held.
type countedError struct {
	error
	n int
}

func (e *countedError) events() int   { return e.n }
func (e *countedError) Unwrap() error { return e.error }

func (s *Server) ingest(w http.ResponseWriter, r *http.Request, endpoint string, limit int64) error {
	ctx := r.Context()
	receivedAt := time.Now()
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := readBody(r, limit, endpoint)
	if err != nil {
		return err
	}

	// Credentials in the header are checked before the body is parsed, so a
	// wrong key is a 401 whatever the body; a key in the body needs parsing.
	secret, fromHeader := writeKeyFromHeader(r)
	var key *touchbase.Key
	if fromHeader {
		if key, err = s.authenticateWriteKey(r, secret); err != nil {
			return err
		}
	}
	req, perr := inbound.Parse(endpoint, body, receivedAt)
	if perr != nil && key == nil {
		// Without a key there is no workspace to charge: say what is wrong
		// with the body, as Segment does.
		return perr
	}
	if key == nil {
		if req == nil || req.WriteKey == "" {
			return touchbase.Errorf(touchbase.EUNAUTHORIZED,
				"missing write key: send it as the Basic-auth user name (password empty) or as \"writeKey\" in the body")
		}
		if key, err = s.authenticateWriteKey(r, req.WriteKey); err != nil {
			return err
		}
	}
	ws, err := s.keys.workspace(ctx, s.svc.Workspaces, key.WorkspaceID)
	if err != nil {
		return err
	}
	if origin := r.Header.Get("Origin"); origin != "" && key.Kind == touchbase.KeyServer {
		// A browser sent it: the secret is in a web page. Refused before
		// it does harm, so that the mistake shows at once.
		w.Header().Del("Access-Control-Allow-Origin")
		return touchbase.Errorf(touchbase.EFORBIDDEN,
			"this is a server key, a secret for server-to-server calls: browsers (origin %s) must use a public write key (kind \"write\"); revoke this key, it is exposed", origin)
	}
	if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(ws.Settings.AllowedOrigins, origin) {
		w.Header().Del("Access-Control-Allow-Origin")
		return touchbase.Errorf(touchbase.EFORBIDDEN,
			"origin %s may not send events to this workspace: add it to the workspace's settings.allowed_origins", origin)
	}
	if perr != nil {
		return perr
	}

	ins := req.Inbounds
	if len(ins) == 0 && len(req.Rejected) > 0 {
		e := touchbase.Errorf(touchbase.EINVALID, "no valid event: %s", describeFields(req.Rejected))
		e.Fields = req.Rejected
		return e
	}

	rate := ws.Settings.RateLimit
	if rate <= 0 {
		rate = s.cfg.RateLimit
	}
	n := len(ins) + len(req.Rejected)
	if ok, wait := s.limits.take(key.ID, rate, n); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return &countedError{touchbase.Errorf(touchbase.ERATELIMIT,
			"rate limit of %d events/s for this write key exceeded; retry after %d s", rate, secs), n}
	}

	public := key.Kind == touchbase.KeyWrite
	for i := range ins {
		ins[i].WorkspaceID = key.WorkspaceID
		ins[i].Public = public
	}
	rec := &wal.Received{WorkspaceID: key.WorkspaceID, Endpoint: endpoint, ReceivedAt: receivedAt, Body: body, Inbounds: ins, Public: public}
	if err := s.svc.IngestQueue.Write(ctx, rec); err != nil {
		switch touchbase.ErrorCode(err) {
		case touchbase.EUNAVAILABLE:
			// Shutting down, or ingestion is behind (the writer's bound):
			// SDKs retry 503s after this long.
			w.Header().Set("Retry-After", "1")
		case touchbase.ENOROOM:
			// The disk is full: nothing of the request is stored, and
			// room takes an operator, or the backlog, a while to make.
			w.Header().Set("Retry-After", noRoomRetryAfter)
		}
		return &countedError{fmt.Errorf("ingest %d inbounds: %w", len(ins), err), len(ins)}
	}
	if len(req.Rejected) > 0 {
		s.metrics.rejected.WithLabelValues(touchbase.EINVALID).Add(float64(len(req.Rejected)))
	}
	writeJSON(w, http.StatusOK, ingestResponse{Success: true, Accepted: len(ins), Rejected: req.Rejected})
	return nil
}

// authenticateWriteKey returns the live write key (public or server) whose
// secret this is.
func (s *Server) authenticateWriteKey(r *http.Request, secret string) (*touchbase.Key, error) {
	k, err := s.keys.authenticate(r.Context(), s.svc.Keys, secret)
	if err != nil {
		if touchbase.ErrorCode(err) == touchbase.EUNAUTHORIZED {
			return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown or revoked write key")
		}
		return nil, err
	}
	if !k.Kind.Ingests() {
		return nil, touchbase.Errorf(touchbase.EFORBIDDEN,
			"this is an admin API token: /v1 takes a write key (create one with kind \"write\" for browsers, \"server\" for your backend)")
	}
	return k, nil
}

// writeKeyFromHeader returns the write key sent as the Basic-auth user name
// (Segment's way) or as a Bearer token, and whether one was sent.
func writeKeyFromHeader(r *http.Request) (string, bool) {
	if user, _, ok := r.BasicAuth(); ok {
		return user, user != ""
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:]), true
	}
	return "", false
}

// checkContentType refuses media types that cannot hold JSON. SDKs send
// application/json with or without a charset, the tracker text/plain (to
// avoid a CORS preflight), curl -d form-urlencoded: all are read as JSON.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return touchbase.Errorf(touchbase.EUNSUPPORTED, "Content-Type %q is malformed; send application/json", ct)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"), strings.HasPrefix(mt, "image/"),
		strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"),
		strings.HasSuffix(mt, "/xml"), strings.HasSuffix(mt, "+xml"):
		return touchbase.Errorf(touchbase.EUNSUPPORTED, "Content-Type %s is not supported; send application/json", mt)
	}
	return nil
}

// readBody reads the request body, gunzipping it when Content-Encoding says
// gzip, and refuses a decoded body over limit with ETOOLARGE.
func readBody(r *http.Request, limit int64, endpoint string) ([]byte, error) {
	var src io.Reader = r.Body
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	tooLarge := func() error {
		return touchbase.Errorf(touchbase.ETOOLARGE, "request body is over %d bytes, the limit for /v1/%s%s",
			limit, endpoint, map[bool]string{true: " (send fewer events per batch)", false: " (one event is at most 32 KB)"}[endpoint == "batch"])
	}
	if r.ContentLength > 0 && enc == "" && r.ContentLength > limit {
		return nil, tooLarge()
	}
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		// Compressed data is never much larger than the data itself; the cap
		// on the raw stream stops a slow endless upload early.
		raw := io.LimitReader(r.Body, limit+limit/100+1024)
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, gzipError(err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, touchbase.Errorf(touchbase.EUNSUPPORTED, "Content-Encoding %q is not supported; send gzip or no encoding", enc)
	}
	var buf bytes.Buffer
	if enc == "" && r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // ReadFrom wants MinRead spare to see EOF without growing
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if err != nil {
		if enc == "gzip" || enc == "x-gzip" {
			return nil, gzipError(err)
		}
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if n > limit {
		return nil, tooLarge()
	}
	return buf.Bytes(), nil
}

func gzipError(err error) error {
	return touchbase.Errorf(touchbase.EINVALID, "body is not valid gzip (Content-Encoding: gzip): %v", err)
}

// describeFields names the first problems of a batch for the error message.
func describeFields(fs []touchbase.FieldError) string {
	var b strings.Builder
	for i, f := range fs {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(fs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Index >= 0 {
			fmt.Fprintf(&b, "batch[%d].", f.Index)
		}
		fmt.Fprintf(&b, "%s: %s", f.Field, f.Message)
	}
	return b.String()
}

// setCORS lets browsers read /v1 responses. The origin is reflected; the
// workspace's allowed origins are enforced once the key is known (a
// preflight carries no key).
func (s *Server) setCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id")
}

// handlePreflight answers CORS preflights for /v1.
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	s.setCORS(w, r)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	allow := "Authorization, Content-Type, Content-Encoding"
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		// SDKs add headers of their own (AnonymousId, X-Request-Id...); the
		// server ignores unknown ones, so it may as well allow them.
		allow += ", " + req
	}
	h.Set("Access-Control-Allow-Headers", allow)
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// originAllowed reports whether origin is in allowed; empty allows any.
func originAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 {
		return true
	}
	origin = strings.TrimSuffix(strings.ToLower(origin), "/")
	for _, a := range allowed {
		a = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a)), "/")
		if a == "*" || a == origin {
			return true
		}
	}
	return false
}
