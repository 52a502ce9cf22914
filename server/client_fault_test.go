package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/storetest"
)

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestClientFaults sends requests over a raw connection the way broken
// clients do: half a body and then the connection closed for writing, or
// half a body and then nothing. They are the client's doing: 400 and 408
// in the one error shape, logged at debug level, never an ERROR.
func TestClientFaults(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, storetest.OpenSQLite(t), func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.ReadTimeout = 500 * time.Millisecond
	})
	body := `{"batch":[{"type":"track","userId":"u1","event":"Clicked","properties":{"pad":"` + strings.Repeat("x", 400) + `"}}]}`
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(e.write+":"))
	for _, tc := range []struct {
		name, path, auth string
		stall            bool
		status           int
		code             string
	}{
		{"ingestion, closed mid-body", "/v1/batch", basic, false, http.StatusBadRequest, "invalid"},
		{"ingestion, stalled mid-body", "/v1/batch", basic, true, http.StatusRequestTimeout, "timeout"},
		{"admin API, closed mid-body", "/api/v1/segments", "Bearer " + e.owner, false, http.StatusBadRequest, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", e.srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				tc.path, e.srv.Addr(), tc.auth, len(body), body[:len(body)/2])
			if !tc.stall {
				conn.(*net.TCPConn).CloseWrite()
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			defer res.Body.Close()
			var v struct {
				Error server.ErrorBody `json:"error"`
			}
			if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
				t.Fatalf("status %d, body not the error shape: %v", res.StatusCode, err)
			}
			if res.StatusCode != tc.status || v.Error.Code != tc.code {
				t.Errorf("status %d code %q (%s), want %d %q", res.StatusCode, v.Error.Code, v.Error.Message, tc.status, tc.code)
			}
		})
	}
	if l := logs.String(); strings.Contains(l, "level=ERROR") {
		t.Errorf("client faults were logged as errors:\n%s", l)
	} else if !strings.Contains(l, "client fault") {
		t.Errorf("no debug line for the client faults:\n%s", l)
	}
}
