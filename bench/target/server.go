// Package target runs the system under test for the benchmarks: the real
// touchbase binary as a separate process (built from the repository or
// given), on SQLite or on a PostgreSQL cluster it starts, and reads what
// the benchmarks check and sample: /api/v1/stats, /metrics, and the
// processes' memory and CPU time from /proc.
package target

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/touchbase/touchbase"
)

// Build builds the touchbase binary from the repository at repo into out,
// as `make build` does (no cgo).
func Build(ctx context.Context, repo, out string) error {
	return goBuild(ctx, repo, out, "./cmd/touchbase")
}

// ExportRev writes commit rev of the repository at repo into a new
// temporary directory (git archive), so that a binary can be built from a
// commit rather than from a working tree where other people's uncommitted
// edits live. remove deletes the directory.
func ExportRev(ctx context.Context, repo, rev string) (dir string, remove func(), err error) {
	tmp, err := os.MkdirTemp("", "touchbase-src-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(tmp) }
	archive := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", rev)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", tmp)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		remove()
		return "", nil, err
	}
	untar.Stdin = pipe
	var aerr, terr bytes.Buffer
	archive.Stderr, untar.Stderr = &aerr, &terr
	if err := untar.Start(); err != nil {
		remove()
		return "", nil, err
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		remove()
		return "", nil, fmt.Errorf("git archive %s: %w: %s", rev, err, aerr.String())
	}
	if err := untar.Wait(); err != nil {
		remove()
		return "", nil, fmt.Errorf("untar %s: %w: %s", rev, err, terr.String())
	}
	return tmp, remove, nil
}

// Describe returns the commit rev (or the working tree, for "") of the
// repository at repo as `git describe --always --dirty` shows it, with
// its full hash.
func Describe(ctx context.Context, repo, rev string) string {
	args := []string{"-C", repo, "describe", "--always", "--dirty"}
	if rev != "" {
		args = []string{"-C", repo, "describe", "--always", rev}
	}
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// BuildIn builds the package pkg of the Go module at dir into out.
func BuildIn(ctx context.Context, dir, out, pkg string) error { return goBuild(ctx, dir, out, pkg) }

func goBuild(ctx context.Context, dir, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %w\n%s", pkg, dir, err, b)
	}
	return nil
}

// Options says how to run the server.
type Options struct {
	// Binary is the touchbase binary: it creates the keys, and serves
	// unless Serve is set.
	Binary string
	// Serve, when set, is the command that serves instead of `Binary
	// serve`; it must take serve's flags (bench's profserve does).
	Serve []string
	// Dir is the data directory (created when missing).
	Dir string
	// DB is the database DSN; "" is SQLite in Dir.
	DB string
	// RateLimit is serve's --rate-limit (events/s per write key); 0 keeps
	// the server's default.
	RateLimit int
	// Stderr receives the server's log; nil discards it.
	Stderr io.Writer
}

// Server is a running touchbase server.
type Server struct {
	URL        string
	WriteKey   string
	AdminToken string // an analyst token: enough to read /api/v1/stats

	cmd  *exec.Cmd
	done chan struct{}
	err  error // the process's exit, once done is closed
}

// environ is this process's environment without TOUCHBASE_* settings, so
// that the caller's configuration does not change the server under test.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOUCHBASE_") {
			env = append(env, kv)
		}
	}
	return env
}

// Start creates a write key and an admin token with the CLI (which creates
// and migrates the database), starts the server on a free loopback port,
// and waits until /healthz answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	common := []string{"--data", o.Dir}
	if o.DB != "" {
		common = append(common, "--db", o.DB)
	}
	s := &Server{done: make(chan struct{})}
	var err error
	if s.WriteKey, err = cli(ctx, o.Binary, append([]string{"key", "create", "--kind", "write", "--name", "bench"}, common...)...); err != nil {
		return nil, err
	}
	if s.AdminToken, err = cli(ctx, o.Binary, append([]string{"key", "create", "--kind", "admin", "--role", "analyst", "--name", "bench"}, common...)...); err != nil {
		return nil, err
	}

	argv := o.Serve
	if len(argv) == 0 {
		argv = []string{o.Binary, "serve"}
	}
	args := append(append(argv[1:len(argv):len(argv)], common...), "--addr", "127.0.0.1:0", "--json")
	if o.RateLimit > 0 {
		args = append(args, "--rate-limit", strconv.Itoa(o.RateLimit))
	}
	s.cmd = exec.Command(argv[0], args...)
	s.cmd.Env = environ()
	s.cmd.Stderr = o.Stderr
	if s.cmd.Stderr == nil {
		s.cmd.Stderr = io.Discard
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()

	// serve --json prints one line once it listens.
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- l
		io.Copy(io.Discard, r)
	}()
	var ready struct {
		URL string `json:"url"`
	}
	select {
	case l := <-line:
		if err := json.Unmarshal([]byte(l), &ready); err != nil || ready.URL == "" {
			s.kill()
			return nil, fmt.Errorf("serve printed %q, not its {\"url\":...} line: %v (is the log in the server's stderr?)", l, err)
		}
	case <-s.done:
		return nil, fmt.Errorf("serve exited before listening: %v", s.err)
	case <-time.After(2 * time.Minute):
		s.kill()
		return nil, errors.New("serve did not print its address within 2 minutes")
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
	s.URL = ready.URL
	if err := s.waitHealthy(ctx, time.Minute); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// cli runs the binary and returns its stdout, trimmed.
func cli(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	out := strings.TrimSpace(stdout.String())
	if out == "" || strings.ContainsAny(out, " \n") {
		return "", fmt.Errorf("%s %s printed %q, not a key alone", filepath.Base(bin), strings.Join(args, " "), out)
	}
	return out, nil
}

func (s *Server) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		res, err := http.Get(s.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/healthz did not answer 200 within %s (last: %v)", s.URL, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return fmt.Errorf("serve exited: %v", s.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PID is the server process's id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

func (s *Server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// Stop sends SIGTERM and waits for a graceful exit (it commits what it
// acknowledged), killing the process after limit.
func (s *Server) Stop(limit time.Duration) error {
	select {
	case <-s.done:
		return fmt.Errorf("server had already exited: %v", s.err)
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("server exited with %v after SIGTERM", s.err)
		}
		return nil
	case <-time.After(limit):
		s.kill()
		return fmt.Errorf("server did not stop within %s of SIGTERM; killed", limit)
	}
}

// Stats returns the workspace's totals from GET /api/v1/stats.
func (s *Server) Stats(ctx context.Context) (*touchbase.Stats, error) {
	var st touchbase.Stats
	if err := s.getJSON(ctx, "/api/v1/stats", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// CountEvents counts the workspace's events named event by paging through
// GET /api/v1/events. Verification needs it to tell the server's own
// events (a "Customers Merged" event per identity merge) from the
// benchmark's.
func (s *Server) CountEvents(ctx context.Context, event string) (int64, error) {
	var n int64
	cursor := ""
	for {
		q := url.Values{"event": {event}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  *string           `json:"next"`
		}
		if err := s.getJSON(ctx, "/api/v1/events?"+q.Encode(), &page); err != nil {
			return 0, err
		}
		n += int64(len(page.Items))
		if page.Next == nil || *page.Next == "" {
			return n, nil
		}
		cursor = *page.Next
	}
}

// getJSON GETs an admin API path with the admin token and decodes the
// answer into v.
func (s *Server) getJSON(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, res.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// Metrics returns the samples of /metrics whose name (with labels, as
// written) is in names, or all of them when names is empty.
func (s *Server) Metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer res.Body.Close()
	return ParseMetrics(res.Body, names...)
}

// ParseMetrics reads Prometheus text format, keeping the samples named.
func ParseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name := line[:i]
		if len(want) > 0 && !want[name] {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[name] = v
	}
	return out, sc.Err()
}
