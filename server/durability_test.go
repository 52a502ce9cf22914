package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/wal"
)

// durableServer is a real server over a store and an ingest writer (with
// the ingestion log in a directory the test chooses), as touchbase serve
// wires them, with a workspace, its write key and its owner token.
type durableServer struct {
	url   string
	w     *wal.Writer
	st    *store.Store
	ws    int64
	write string
	owner string
}

func startDurableServer(t *testing.T, st *store.Store, logDir string) *durableServer {
	t.Helper()
	ctx := context.Background()
	ws, err := st.CreateWorkspace(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := st.CreateKey(ctx, ws.ID, touchbase.KeyWrite, "", "write")
	if err != nil {
		t.Fatal(err)
	}
	_, owner, err := st.CreateKey(ctx, ws.ID, touchbase.KeyAdmin, touchbase.RoleOwner, "owner")
	if err != nil {
		t.Fatal(err)
	}
	var ilog *wal.Log
	if logDir != "" {
		if ilog, err = wal.Open(logDir, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ilog.Close() })
	}
	level := slog.LevelError + 4 // the test provokes errors on purpose
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var srv *server.Server
	w := wal.NewWriter(st, wal.WriterConfig{Log: ilog, Logger: logger, OnCommit: func(cs wal.CommitStats) { srv.ObserveCommit(cs) }})
	srv = server.New(server.Config{Logger: logger, RateLimit: 1 << 30}, server.Services{
		Workspaces: st, Users: st, Keys: st, Customers: st, Events: st, Orders: st, Stats: st, Imports: st, IngestQueue: w,
	})
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
		srv.Close(ctx)
	})
	return &durableServer{url: "http://" + srv.Addr(), w: w, st: st, ws: ws.ID, write: secret, owner: owner}
}

// sendBatch posts a batch of n track events with messageIds prefix-0 ..
// prefix-(n-1) and returns the answer's status and Retry-After header.
func (f *durableServer) sendBatch(t *testing.T, prefix string, n int) (int, string) {
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","event":"Page Read","userId":"u%d","messageId":"%s-%d","properties":{"text":"%s"}}`,
			i%50, prefix, i, strings.Repeat("x", 200))
	}
	b.WriteString(`]}`)
	req, err := http.NewRequest("POST", f.url+"/v1/batch", &b)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(f.write, "")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST /v1/batch: %v", err)
		return 0, ""
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After")
}

// metric returns the value of an unlabelled metric from /metrics (-1 when
// it is not there).
func (f *durableServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get(f.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
	}
	return -1
}

// health returns /healthz's status and body.
func (f *durableServer) health(t *testing.T) (int, struct{ Checks map[string]string }) {
	t.Helper()
	var h struct{ Checks map[string]string }
	res, err := http.Get(f.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, h
}

func first(s []string) []string { return s[:min(len(s), 3)] }

func rebind(st *store.Store, q string) string {
	if st.Dialect() != "postgres" {
		return q
	}
	for n := 1; strings.Contains(q, "?"); n++ {
		q = strings.Replace(q, "?", "$"+strconv.Itoa(n), 1)
	}
	return q
}
