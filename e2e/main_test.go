// Package e2e tests the real touchbase binary: it is built once in
// TestMain and run as a separate process, the way people and scripts run it.
package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" for creating test databases
)

// binary is the touchbase binary TestMain builds, or the one
// TOUCHBASE_E2E_BINARY names.
var binary string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// TOUCHBASE_E2E_BINARY tests a binary built elsewhere (a release build).
	if binary = os.Getenv("TOUCHBASE_E2E_BINARY"); binary != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "touchbase-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "touchbase")
	build := exec.Command("go", "build", "-o", binary, "github.com/touchbase/touchbase/cmd/touchbase")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build touchbase: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// environ is the process environment without TOUCHBASE_* variables (so
// that the caller's settings do not leak into a test), plus extra.
func environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOUCHBASE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cliResult is what one run of the binary printed and returned.
type cliResult struct {
	code           int
	stdout, stderr string
}

// cli runs the binary to completion with env added to a clean environment.
func cli(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environ(env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run touchbase %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// mustCLI runs the binary and fails the test unless it exits 0.
func mustCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	r := cli(t, env, args...)
	if r.code != 0 {
		t.Fatalf("touchbase %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// mustJSON runs the binary with --json and decodes its stdout into v.
func mustJSON(t *testing.T, v any, env []string, args ...string) {
	t.Helper()
	r := mustCLI(t, env, append(args, "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("touchbase %s --json: %v\nstdout: %s", strings.Join(args, " "), err, r.stdout)
	}
}

// lockedBuffer collects a process's stderr while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// server is a running `touchbase serve` process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, once done
}

// startServer runs `touchbase serve --addr 127.0.0.1:0 args...` and waits
// until it prints the address it listens on.
func startServer(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	return startCommand(t, env, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
}

// startCommand runs a serving command (serve, demo) and waits until it
// prints the address it listens on.
func startCommand(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = environ(env...)
	s := &server{t: t, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start touchbase serve: %v", err)
	}
	first := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pipe)
		line, _ := br.ReadString('\n')
		s.stdout.Write([]byte(line))
		first <- line
		io.Copy(s.stdout, br)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case line := <-first:
		const prefix = "touchbase listening on "
		if !strings.HasPrefix(line, prefix) {
			<-s.done
			t.Fatalf("touchbase %s printed %q, want %q...\nstderr: %s", args[0], line, prefix, s.stderr.String())
		}
		s.URL = strings.TrimSpace(strings.TrimPrefix(line, prefix))
	case <-time.After(time.Minute):
		t.Fatalf("touchbase %s did not print its address within a minute\nstderr: %s", args[0], s.stderr.String())
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("signal touchbase: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		s.t.Fatalf("touchbase did not stop within a minute of SIGTERM\nstderr: %s", s.stderr.String())
	}
	if s.err != nil {
		s.t.Fatalf("touchbase serve exited with %v after SIGTERM\nstderr: %s", s.err, s.stderr.String())
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill touchbase: %v", err)
	}
	<-s.done
}

// get does GET url with an optional bearer token and decodes a JSON answer
// into v when v is not nil. It returns the status.
func get(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, body)
		}
	}
	return resp.StatusCode
}

// stats is the part of GET /api/v1/stats the tests read.
type stats struct {
	Customers int64   `json:"customers"`
	Events    int64   `json:"events"`
	Orders    int64   `json:"orders"`
	Revenue   float64 `json:"revenue"`
}

// postgresDSN returns the DSN of a fresh PostgreSQL database, dropped when
// the test ends, on the cluster TOUCHBASE_TEST_PG_DSN names. It skips the
// test loudly without one, and fails it when TOUCHBASE_REQUIRE_PG=1.
func postgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("TOUCHBASE_TEST_PG_DSN")
	if admin == "" {
		if os.Getenv("TOUCHBASE_REQUIRE_PG") == "1" {
			t.Fatal("TOUCHBASE_REQUIRE_PG=1 but TOUCHBASE_TEST_PG_DSN is not set: run through scripts/with-postgres (make test)")
		}
		t.Skip("WARNING: TOUCHBASE_TEST_PG_DSN is not set: POSTGRESQL IS SKIPPED (use make test or scripts/with-postgres)")
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "tbe2e_" + hex.EncodeToString(rnd[:])
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
