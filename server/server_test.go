package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
	"github.com/touchbase/touchbase/wal"
)

// env is a real server on 127.0.0.1 over a real store, with one workspace,
// its write key and its owner token.
type env struct {
	t     *testing.T
	store *store.Store
	srv   *server.Server
	url   string
	ws    *touchbase.Workspace
	write string // write key secret
	owner string // owner admin token secret
}

// newEnv starts a server over s. Every test runs it on SQLite and
// PostgreSQL through storetest.Each. cfg, when given, changes the server's
// configuration.
func newEnv(t *testing.T, s *store.Store, cfg ...func(*server.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, store: s}
	e.ws = e.workspace("shop")
	e.write = e.key(e.ws.ID, touchbase.KeyWrite, "")
	e.owner = e.key(e.ws.ID, touchbase.KeyAdmin, touchbase.RoleOwner)

	runner := importer.NewRunner(s, t.TempDir(), nil)
	if err := runner.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	var srv *server.Server
	features := segment.NewRegistry()
	if err := analytics.RegisterFeatures(features); err != nil {
		t.Fatal(err)
	}
	eng := engine.New(s, features, engine.Config{})
	analyst := analytics.New(s, features, analytics.Config{})
	t.Cleanup(func() { analyst.Close() })
	// As touchbase serve does: SQLite acknowledges from the ingestion log.
	var ilog *wal.Log
	if s.Dialect() == "sqlite" {
		var err error
		if ilog, err = wal.Open(t.TempDir(), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ilog.Close() })
	}
	w := wal.NewWriter(s, wal.WriterConfig{Log: ilog, OnCommit: func(st wal.CommitStats) { srv.ObserveCommit(st) }})
	level := slog.LevelError
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	sc := server.Config{
		Addr:    "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Version: "test",
	}
	for _, f := range cfg {
		f(&sc)
	}
	srv = server.New(sc, server.Services{
		Workspaces: s, Users: s, Invitations: s, Keys: s, Customers: s, Events: s, Orders: s, Stats: s, Imports: s, IngestQueue: w,
		Sessions: s, Reports: s, Importer: runner,
		Segments: s, Engine: eng, Features: features,
		Analyses: s, Analyst: analyst,
	})
	if err := eng.Open(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := w.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := srv.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	e.srv = srv
	e.url = "http://" + srv.Addr()
	return e
}

// each runs fn on a fresh env on every backend.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, s *store.Store) { fn(t, newEnv(t, s)) })
}

func (e *env) workspace(name string) *touchbase.Workspace {
	e.t.Helper()
	ws, err := e.store.CreateWorkspace(context.Background(), name)
	if err != nil {
		e.t.Fatalf("create workspace %s: %v", name, err)
	}
	return ws
}

func (e *env) key(ws int64, kind touchbase.KeyKind, role touchbase.Role) string {
	e.t.Helper()
	_, secret, err := e.store.CreateKey(context.Background(), ws, kind, role, string(kind)+" "+string(role))
	if err != nil {
		e.t.Fatalf("create %s key: %v", kind, err)
	}
	return secret
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes the one error shape, failing the test when the body is
// not in it.
func (r response) errorBody(t *testing.T) server.ErrorBody {
	t.Helper()
	var v struct {
		Error *server.ErrorBody `json:"error"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.Error == nil {
		t.Fatalf("status %d: body is not the error shape: %v: %s", r.status, err, r.body)
	}
	if v.Error.Code == "" || v.Error.Message == "" || v.Error.RequestID == "" || v.Error.Fields == nil {
		t.Fatalf("status %d: error lacks code, message, fields or request_id: %s", r.status, r.body)
	}
	if got := r.header.Get("X-Request-Id"); got != v.Error.RequestID {
		t.Errorf("request_id %q differs from X-Request-Id %q", v.Error.RequestID, got)
	}
	return *v.Error
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d: decode %T: %v: %s", r.status, v, err, r.body)
	}
}

// do sends a request; body is sent as is when []byte or string, else as
// JSON.
func (e *env) do(method, path string, header http.Header, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if res.StatusCode == 451 {
		e.t.Fatalf("%s %s answered 451: RudderStack SDKs would call /cluster-info", method, path)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// api calls the admin API with token.
func (e *env) api(token, method, path string, body any) response {
	e.t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return e.do(method, "/api/v1"+path, h, body)
}

// mustAPI calls the admin API and fails unless the status is want.
func (e *env) mustAPI(token, method, path string, body any, want int) response {
	e.t.Helper()
	r := e.api(token, method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// send posts body to /v1/endpoint with key as the Basic-auth user.
func (e *env) send(endpoint, key string, body any) response {
	e.t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if key != "" {
		req, _ := http.NewRequest("POST", "/", nil)
		req.SetBasicAuth(key, "")
		h.Set("Authorization", req.Header.Get("Authorization"))
	}
	return e.do("POST", "/v1/"+endpoint, h, body)
}

// mustSend sends and fails unless the answer is 200; it returns the counts.
func (e *env) mustSend(endpoint, key string, body any) ingestResult {
	e.t.Helper()
	r := e.send(endpoint, key, body)
	if r.status != http.StatusOK {
		e.t.Fatalf("POST /v1/%s: status %d: %s", endpoint, r.status, r.body)
	}
	var res ingestResult
	r.decode(e.t, &res)
	if !res.Success {
		e.t.Fatalf("POST /v1/%s: success is false: %s", endpoint, r.body)
	}
	return res
}

type ingestResult struct {
	Success  bool                   `json:"success"`
	Accepted int                    `json:"accepted"`
	Rejected []touchbase.FieldError `json:"rejected"`
}

// stats returns the workspace totals through the admin API.
func (e *env) stats(token string) touchbase.Stats {
	e.t.Helper()
	var st touchbase.Stats
	e.mustAPI(token, "GET", "/stats", nil, http.StatusOK).decode(e.t, &st)
	return st
}

// page is a decoded list response.
type page[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj is shorthand for JSON objects in tests.
type obj = map[string]any

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
