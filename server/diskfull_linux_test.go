//go:build linux

package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/touchbase/touchbase/internal/pgcluster"
	"github.com/touchbase/touchbase/store"
)

// tmpfs is a small file system of its own for a test, so that the test can
// fill it and grow it again.
type tmpfs struct {
	t   *testing.T
	dir string
}

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory, unmounted
// when the test ends. It skips the test where mounting is not permitted
// (not root, no CAP_SYS_ADMIN), unless TOUCHBASE_REQUIRE_TMPFS=1.
func mountTmpfs(t *testing.T, size int64) *tmpfs {
	t.Helper()
	dir, err := os.MkdirTemp("", "touchbase-full-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	// mode=0755: PostgreSQL's server user must reach a tablespace in it.
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs (%v): the full-disk test needs root or CAP_SYS_ADMIN", err)
		if os.Getenv("TOUCHBASE_REQUIRE_TMPFS") == "1" {
			t.Fatal(msg + ", and TOUCHBASE_REQUIRE_TMPFS=1 requires it")
		}
		t.Skip(msg + "; set TOUCHBASE_REQUIRE_TMPFS=1 to make this a failure")
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return &tmpfs{t: t, dir: dir}
}

// used returns the bytes in use on the file system.
func (fs *tmpfs) used() int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(fs.dir, &st); err != nil {
		fs.t.Fatal(err)
	}
	return int64(st.Blocks-st.Bfree) * st.Bsize
}

// resize changes the file system's size (never below what it holds).
func (fs *tmpfs) resize(size int64) {
	fs.t.Helper()
	if err := syscall.Mount("tmpfs", fs.dir, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		fs.t.Fatalf("resize tmpfs to %d bytes: %v", size, err)
	}
}

// fill sends batches from a few clients until the disk is full and then
// some more, and returns the messageIds that were acknowledged. Every
// answer must be a 200 or a 503 with Retry-After.
func (f *durableServer) fill(t *testing.T) map[string]bool {
	t.Helper()
	const clients, perBatch = 4, 40
	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		refused atomic.Int64
		stop    atomic.Bool
		seq     atomic.Int64
		wg      sync.WaitGroup
	)
	firstRefusal, failed := make(chan struct{}), make(chan struct{})
	var once, failOnce sync.Once
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				prefix := fmt.Sprintf("m%d", seq.Add(1))
				status, retry := f.sendBatch(t, prefix, perBatch)
				switch {
				case status == http.StatusOK:
					mu.Lock()
					for i := 0; i < perBatch; i++ {
						acked[fmt.Sprintf("%s-%d", prefix, i)] = true
					}
					mu.Unlock()
				case status == http.StatusServiceUnavailable && retry != "":
					refused.Add(1)
					once.Do(func() { close(firstRefusal) })
					time.Sleep(10 * time.Millisecond)
				default:
					t.Errorf("request %s while the disk fills: status %d (Retry-After %q), want 200, or 503 with Retry-After", prefix, status, retry)
					failOnce.Do(func() { close(failed) })
				}
			}
		}()
	}
	select {
	case <-firstRefusal:
		time.Sleep(time.Second) // refused requests must stay refused, and none fail otherwise
	case <-failed:
	case <-time.After(2 * time.Minute):
		t.Error("the disk never filled")
	}
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d events acknowledged, %d requests refused with 503", len(acked), refused.Load())
	if refused.Load() == 0 {
		t.Fatal("no request was refused")
	}
	return acked
}

// resume waits until /v1 acknowledges again after the disk has room, then
// until the backlog is in the store, and checks that the store holds
// exactly the acknowledged events, once each.
func (f *durableServer) resume(t *testing.T, acked map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for n := 0; ; n++ {
		prefix := fmt.Sprintf("after%d", n)
		status, _ := f.sendBatch(t, prefix, 5)
		if status == http.StatusOK {
			for i := 0; i < 5; i++ {
				acked[fmt.Sprintf("%s-%d", prefix, i)] = true
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the disk grew, /v1 still answers %d", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !f.w.Settle(context.Background(), 2*time.Minute) {
		t.Fatal("the backlog was not applied within 2 minutes of the disk growing")
	}
	if v := f.metric(t, "touchbase_ingest_no_room"); v != 0 {
		t.Errorf("touchbase_ingest_no_room = %v once there is room again, want 0", v)
	}
	if status, h := f.health(t); status != http.StatusOK || h.Checks["ingest"] != "ok" {
		t.Errorf("/healthz once there is room again: %d %+v, want 200 with ingest ok", status, h)
	}
	stored := map[string]int{}
	rows, err := f.st.DB().QueryContext(context.Background(), rebind(f.st, "SELECT message_id FROM events WHERE workspace_id = ?"), f.ws)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost, extra, twice []string
	for id := range acked {
		if stored[id] == 0 {
			lost = append(lost, id)
		}
	}
	for id, n := range stored {
		if !acked[id] {
			extra = append(extra, id)
		}
		if n > 1 {
			twice = append(twice, id)
		}
	}
	if len(lost)+len(extra)+len(twice) > 0 {
		t.Fatalf("%d acknowledged, %d stored: %d acknowledged events lost (e.g. %v), %d stored that were refused (e.g. %v), %d stored twice",
			len(acked), len(stored), len(lost), first(lost), len(extra), first(extra), len(twice))
	}
}

// checkNoRoomReported checks that /metrics says ingestion waits for room.
func (f *durableServer) checkNoRoomReported(t *testing.T) {
	t.Helper()
	if v := f.metric(t, "touchbase_ingest_no_room"); v != 1 {
		t.Errorf("touchbase_ingest_no_room = %v while the disk is full, want 1", v)
	}
	if !f.w.NoRoom() {
		t.Error("Writer.NoRoom() is false while the disk is full")
	}
	if status, h := f.health(t); status != http.StatusServiceUnavailable || !strings.Contains(h.Checks["ingest"], "disk is full") {
		t.Errorf("/healthz while the disk is full: %d %+v, want 503 with the ingest check saying the disk is full", status, h)
	}
}

// TestFullDiskSQLite fills the file system that holds the SQLite database
// (and the ingestion log), then grows it: every acknowledged event must be
// stored once, every refused request refused with 503 and Retry-After, and
// ingestion must resume by itself.
func TestFullDiskSQLite(t *testing.T) {
	for _, withLog := range []bool{true, false} {
		t.Run(map[bool]string{true: "log", false: "nolog"}[withLog], func(t *testing.T) {
			fs := mountTmpfs(t, 64<<20)
			data := filepath.Join(fs.dir, "data")
			st, err := store.Open(context.Background(), filepath.Join(data, "touchbase.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			logDir := ""
			if withLog {
				logDir = filepath.Join(data, "ingest-log")
			}
			f := startDurableServer(t, st, logDir)
			// Room for some 10,000 events beyond what is there.
			fs.resize(fs.used() + 3<<20)
			acked := f.fill(t)
			f.checkNoRoomReported(t)
			if withLog {
				if fails, _ := filepath.Glob(filepath.Join(logDir, "failed", "*")); len(fails) > 0 {
					t.Errorf("requests set aside while the disk was full: %v", fails)
				}
			}
			fs.resize(512 << 20)
			f.resume(t, acked)
			if withLog {
				if fails, _ := filepath.Glob(filepath.Join(logDir, "failed", "*")); len(fails) > 0 {
					t.Errorf("requests set aside: %v", fails)
				}
			}
		})
	}
}

// TestFullDiskPostgres does the same on PostgreSQL, with the database in a
// tablespace on a tmpfs (the ingestion log, when on, has room elsewhere).
// It runs in a cluster of its own: while the tablespace is full, no
// checkpoint of its cluster can finish, and every CREATE DATABASE (which
// checkpoints) of the other packages' tests would fail with it.
func TestFullDiskPostgres(t *testing.T) {
	if os.Getenv("TOUCHBASE_TEST_PG_DSN") == "" {
		if os.Getenv("TOUCHBASE_REQUIRE_PG") == "1" {
			t.Fatal("TOUCHBASE_REQUIRE_PG=1 but TOUCHBASE_TEST_PG_DSN is not set")
		}
		t.Skip("TOUCHBASE_TEST_PG_DSN is not set: POSTGRESQL IS SKIPPED (run through scripts/with-postgres)")
	}
	mountTmpfs(t, 1<<20) // skips (or fails) first where mounting is not allowed
	pg, err := pgcluster.Start(context.Background(), pgcluster.Options{NoSync: true, Settings: []string{"shared_buffers=32MB"}})
	if err != nil {
		t.Fatalf("start a cluster of the test's own: %v", err)
	}
	t.Cleanup(func() { pg.Stop() })
	dsn := pg.AdminDSN
	for _, withLog := range []bool{true, false} {
		t.Run(map[bool]string{true: "log", false: "nolog"}[withLog], func(t *testing.T) {
			fs := mountTmpfs(t, 256<<20)
			st := openPostgresInTablespace(t, dsn, fs)
			logDir := ""
			if withLog {
				logDir = t.TempDir()
			}
			f := startDurableServer(t, st, logDir)
			fs.resize(fs.used() + 3<<20)
			acked := f.fill(t)
			f.checkNoRoomReported(t)
			fs.resize(1 << 30)
			f.resume(t, acked)
			if withLog {
				if fails, _ := filepath.Glob(filepath.Join(logDir, "failed", "*")); len(fails) > 0 {
					t.Errorf("requests set aside: %v", fails)
				}
			}
		})
	}
}

// openPostgresInTablespace creates a database whose default tablespace is
// a directory on fs, owned by the server's OS user, and opens the store on
// it (migrating it). The server must run on this machine as the postgres
// user, as scripts/with-postgres runs it.
func openPostgresInTablespace(t *testing.T, dsn string, fs *tmpfs) *store.Store {
	t.Helper()
	ctx := context.Background()
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("no postgres OS user to own a tablespace: %v", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	loc := filepath.Join(fs.dir, "ts")
	if err := os.Mkdir(loc, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(loc, uid, gid); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	ts, db := "tbfull_ts_"+suffix, "tbfull_"+suffix
	if _, err := admin.ExecContext(ctx, "CREATE TABLESPACE "+ts+" LOCATION '"+loc+"'"); err != nil {
		t.Fatalf("create a tablespace on the tmpfs (the server must run here, as the postgres user): %v", err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP TABLESPACE IF EXISTS "+ts) })
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+db+" TABLESPACE "+ts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	st, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
