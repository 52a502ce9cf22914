package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// Memory bounds of TestImportBomb. The server peaks near 30 MB of
// resident memory idle and near 60 MB through the test's imports (a line
// of 4 MiB held, and copied); 256 MB leaves room for another machine's
// allocator and is far below what a 4 GiB line or a 400 MiB body held
// whole costs. (A real import of the Online Retail file peaks near 540 MB,
// see docs/import.md: its batches of parsed orders, not a line.)
const (
	importMemoryBound = 256 << 20
	// killMemory ends the server if a run goes past it, so that a test of
	// code without the limits cannot exhaust the machine.
	killMemory = 1536 << 20
)

// TestImportBomb uploads what used to take the server down: a 4 MB gzip
// that inflates to one line of 4 GiB, through the admin API and through
// the console; a 400 MiB body; an NDJSON gzip past the configured
// decompressed size. Each import fails with the limit it hit, on its line,
// while the server's resident memory stays under importMemoryBound. Then
// the server starts again on the same data with the bomb interrupted
// mid-run (as a crash leaves it): it resumes it, fails it cleanly again,
// and stays bounded.
func TestImportBomb(t *testing.T) {
	data := t.TempDir()
	env := []string{"TOUCHBASE_DATA=" + data, "TOUCHBASE_IMPORT_MAX_BYTES=256MiB"}
	token := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "admin").stdout)
	password := "correct horse battery staple"
	mustCLI(t, env, "user", "create", "--email", "marketer@example.com", "--password", password, "--role", "marketer")

	srv := startServer(t, env)
	mem := watchMemory(t, srv, killMemory)
	idle := mem.hwm()

	bomb := gzipBomb(t, "user_id,notes\nu1,ok\nu2,", 4<<30)
	t.Logf("the bomb: %d bytes of gzip, %d GiB inflated", len(bomb), 4)

	// The admin API.
	id := apiUpload(t, srv.URL, token, "kind=customers&file_name=bomb.csv.gz", bytes.NewReader(bomb))
	im := waitFailed(t, srv, mem, token, id)
	wantError(t, im, "line 3 is longer than 4 MiB, the limit of a line")
	if im.Stored != 1 {
		t.Errorf("the line before the bomb: stored %d, want 1 (u1)", im.Stored)
	}
	bombID := im

	// The console's upload form.
	c := consoleClient(t, srv.URL, "marketer@example.com", password)
	id = consoleUpload(t, c, srv.URL, "customers", "bomb.csv.gz", bytes.NewReader(bomb))
	wantError(t, waitFailed(t, srv, mem, token, id), "line 3 is longer than 4 MiB, the limit of a line")

	// A body of 400 MiB goes to disk as it arrives, not into memory.
	body := io.MultiReader(strings.NewReader(`{"type":"track","userId":"u1","event":"`), &repeatReader{b: 'a', n: 400 << 20})
	id = apiUpload(t, srv.URL, token, "kind=events&file_name=big.ndjson", body)
	wantError(t, waitFailed(t, srv, mem, token, id), "line 1 is longer than 4 MiB, the limit of a line")

	// Blank lines, 1 GiB of them inflated: past import_max_bytes (256 MiB
	// here), the import stops.
	blank := gzipBomb(t, "", 1<<30, bytes.Repeat([]byte(strings.Repeat(" ", 1023)+"\n"), 1024)...)
	id = apiUpload(t, srv.URL, token, "kind=events&file_name=blank.ndjson.gz", bytes.NewReader(blank))
	wantError(t, waitFailed(t, srv, mem, token, id), "the file holds more than 256 MiB once decompressed, the limit of one import (import_max_bytes): the import stops at line 262145")

	peak := mem.hwm()
	t.Logf("resident memory: %d MB idle, %d MB at the peak of four failed imports", idle>>20, peak>>20)
	if peak > importMemoryBound {
		t.Errorf("the server's resident memory peaked at %d MB, over %d MB", peak>>20, importMemoryBound>>20)
	}
	srv.stop()

	// What a crash during the bomb's import leaves: the import running and
	// its upload kept. The next start resumes it.
	interrupt(t, data, bombID, bomb)
	srv = startServer(t, env)
	mem = watchMemory(t, srv, killMemory)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var again touchbase.Import
		if code := get(t, fmt.Sprintf("%s/api/v1/imports/%d", srv.URL, bombID.ID), token, &again); code != http.StatusOK {
			t.Fatalf("GET the import after the restart: %d", code)
		}
		if again.Status == touchbase.ImportFailed && again.StartedAt.After(*bombID.StartedAt) {
			wantError(t, &again, "line 3 is longer than 4 MiB, the limit of a line")
			break
		}
		if time.Now().After(deadline) || mem.killed.Load() {
			t.Fatalf("the resumed import is %s (killed past %d MB: %v)\nstderr: %s", again.Status, killMemory>>20, mem.killed.Load(), srv.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(srv.stderr.String(), `"msg":"import: resuming"`) {
		t.Errorf("the restarted server did not say it resumed the import:\n%s", srv.stderr.String())
	}
	var list struct {
		Items []touchbase.Import `json:"items"`
	}
	get(t, srv.URL+"/api/v1/imports", token, &list)
	for _, im := range list.Items {
		if im.Status != touchbase.ImportFailed {
			t.Errorf("import %d (%s) is %s after the restart, want failed", im.ID, im.FileName, im.Status)
		}
	}
	if peak := mem.hwm(); peak > importMemoryBound {
		t.Errorf("after the restart, the server's resident memory peaked at %d MB, over %d MB", peak>>20, importMemoryBound>>20)
	} else {
		t.Logf("resident memory after the restart, with the bomb resumed: peak %d MB", peak>>20)
	}
	srv.stop()
	if files, _ := filepath.Glob(filepath.Join(data, "imports", "*")); len(files) != 0 {
		t.Errorf("left in the imports directory: %v", files)
	}
}

// interrupt sets an ended import back to running with its upload in place,
// as a process that died during it leaves it.
func interrupt(t *testing.T, data string, im *touchbase.Import, upload []byte) {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(data, "touchbase.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec("UPDATE imports SET status = 'running', error = '' WHERE id = ?", im.ID); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(data, "imports", fmt.Sprintf("%d-%d.upload", im.WorkspaceID, im.ID))
	if err := os.WriteFile(name, upload, 0o600); err != nil {
		t.Fatal(err)
	}
}

// memWatch follows a process's resident memory from /proc, and kills it
// past a bound.
type memWatch struct {
	pid    int
	killed atomic.Bool
}

// watchMemory reads srv's VmRSS every 10 ms until it exits, and kill -9s
// it past kill bytes.
func watchMemory(t *testing.T, srv *server, kill int64) *memWatch {
	t.Helper()
	m := &memWatch{pid: srv.cmd.Process.Pid}
	if m.status("VmHWM") == 0 {
		t.Skip("no /proc/PID/status to read the server's memory from")
	}
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-srv.done:
				return
			case <-tick.C:
				if rss := m.status("VmRSS"); rss > kill {
					m.killed.Store(true)
					srv.cmd.Process.Kill()
					t.Errorf("the server's resident memory reached %d MB: killed", rss>>20)
					return
				}
			}
		}
	}()
	return m
}

// hwm is the process's peak resident memory so far, in bytes.
func (m *memWatch) hwm() int64 { return m.status("VmHWM") }

// status reads one "Name: N kB" line of /proc/PID/status, in bytes; 0 when
// it cannot.
func (m *memWatch) status(name string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		return 0
	}
	sm := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB`).FindSubmatch(b)
	if sm == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(sm[1]), 10, 64)
	return n << 10
}

// gzipBomb is a gzip file of head, then n bytes of chunk repeated ("a" by
// default): gzip members of 1 MiB, compressed once and repeated (a gzip
// reader reads concatenated members as one stream), so that gigabytes
// take a moment and a few megabytes to make.
func gzipBomb(t *testing.T, head string, n int64, chunk ...byte) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if chunk == nil {
		chunk = bytes.Repeat([]byte("a"), 1<<20)
	}
	out := member([]byte(head))
	mb := member(chunk)
	for range n / int64(len(chunk)) {
		out = append(out, mb...)
	}
	return out
}

// repeatReader reads n bytes of b.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// apiUpload posts body to /api/v1/imports?query and returns the import's id.
func apiUpload(t *testing.T, base, token, query string, body io.Reader) int64 {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/imports?"+query, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload %s: %v", query, err)
	}
	b := readAll(t, res)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("upload %s: %d %s", query, res.StatusCode, b)
	}
	m := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("upload %s answered %s", query, b)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// waitFailed polls an import until it has ended and requires it failed.
func waitFailed(t *testing.T, srv *server, mem *memWatch, token string, id int64) *touchbase.Import {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var im touchbase.Import
		code := get(t, fmt.Sprintf("%s/api/v1/imports/%d", srv.URL, id), token, &im)
		switch {
		case mem.killed.Load():
			t.Fatalf("import %d: the server was killed past %d MB of resident memory", id, killMemory>>20)
		case code != http.StatusOK:
			t.Fatalf("GET import %d: %d\nstderr: %s", id, code, srv.stderr.String())
		case im.Status == touchbase.ImportFailed:
			return &im
		case im.Status == touchbase.ImportDone:
			t.Fatalf("import %d (%s) is done, want failed: %+v", id, im.FileName, im)
		case time.Now().After(deadline):
			t.Fatalf("import %d is still %s", id, im.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantError(t *testing.T, im *touchbase.Import, want string) {
	t.Helper()
	if !strings.Contains(im.Error, want) {
		t.Errorf("import %d (%s) failed with %q, want %q", im.ID, im.FileName, im.Error, want)
	}
}

// consoleSession is a signed-in console client and its CSRF token.
type consoleSession struct {
	c    *http.Client
	csrf string
}

// consoleClient signs in to the console.
func consoleClient(t *testing.T, base, email, password string) *consoleSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := func(path string) string {
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF field on %s (%d):\n%s", path, res.StatusCode, body)
		}
		return m[1]
	}
	req, _ := http.NewRequest("POST", base+"/ui/login", strings.NewReader(url.Values{
		"email": {email}, "password": {password}, "csrf": {csrf("/ui/login")},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, res); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("console sign-in: %d", res.StatusCode)
	}
	return &consoleSession{c: c, csrf: csrf("/ui/imports")}
}

// consoleUpload posts the console's import form with file streamed as its
// file, and returns the import's id from the redirect.
func consoleUpload(t *testing.T, s *consoleSession, base, kind, name string, file io.Reader) int64 {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("csrf", s.csrf)
		mw.WriteField("kind", kind)
		mw.WriteField("format", "")
		mw.WriteField("map", "")
		fw, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(fw, file)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/ui/imports", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", base)
	res, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	m := regexp.MustCompile(`/ui/imports/(\d+)$`).FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("console upload: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}
