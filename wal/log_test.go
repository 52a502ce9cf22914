package wal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
	"github.com/touchbase/touchbase/wal"
)

func entry(ws int64, body string) wal.Entry {
	return wal.Entry{WorkspaceID: ws, Endpoint: "batch", ReceivedAt: time.Unix(1700000000, 123456789).UTC(), Body: []byte(body)}
}

func readAll(t *testing.T, l *wal.Log) []wal.Entry {
	t.Helper()
	var out []wal.Entry
	for {
		es, err := l.Read(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			e.Body = append([]byte(nil), e.Body...)
			out = append(out, e)
		}
	}
}

func TestLogAppendReadReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last, err := l.Append([]wal.Entry{entry(1, "a"), entry(2, "bb")}); err != nil || last != 2 {
		t.Fatalf("append: %d %v", last, err)
	}
	if last, err := l.Append([]wal.Entry{entry(3, "ccc")}); err != nil || last != 3 {
		t.Fatalf("append: %d %v", last, err)
	}
	got := readAll(t, l)
	if len(got) != 3 || string(got[2].Body) != "ccc" || got[1].WorkspaceID != 2 || got[0].Seq != 1 ||
		got[0].Endpoint != "batch" || !got[0].ReceivedAt.Equal(time.Unix(1700000000, 123456789)) {
		t.Fatalf("read %+v", got)
	}
	if _, err := wal.Open(dir, 0); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("a second open of a log in use: %v", err)
	}
	if err := l.SetApplied(1); err != nil {
		t.Fatal(err)
	}
	l.Close()

	// Reopened, it reads from the applied position, and numbering goes on.
	l, err = wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got = readAll(t, l)
	if len(got) != 2 || got[0].Seq != 2 || string(got[1].Body) != "ccc" {
		t.Fatalf("after reopen %+v", got)
	}
	if last, err := l.Append([]wal.Entry{entry(1, "d")}); err != nil || last != 4 {
		t.Fatalf("append after reopen: %d %v", last, err)
	}
}

// TestLogCutsATornRecord: a crash in the middle of a write leaves part of
// a record; it was never acknowledged, and opening the log removes it.
func TestLogCutsATornRecord(t *testing.T) {
	for _, tail := range []string{"partial header", strings.Repeat("x", 100)} {
		dir := t.TempDir()
		l, err := wal.Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		l.Append([]wal.Entry{entry(1, "one"), entry(1, "two")})
		l.Close()
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(files) != 1 {
			t.Fatalf("files %v", files)
		}
		before, _ := os.Stat(files[0])
		f, _ := os.OpenFile(files[0], os.O_WRONLY|os.O_APPEND, 0)
		f.WriteString(tail)
		f.Close()

		l, err = wal.Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(files[0])
		if after.Size() != before.Size() {
			t.Fatalf("torn tail %q: size %d, want %d", tail, after.Size(), before.Size())
		}
		if last, err := l.Append([]wal.Entry{entry(1, "three")}); err != nil || last != 3 {
			t.Fatalf("append after the cut: %d %v", last, err)
		}
		got := readAll(t, l)
		if len(got) != 3 || string(got[2].Body) != "three" {
			t.Fatalf("read %+v", got)
		}
		l.Close()
	}
}

// TestLogFiles: records span rolled files in order, and files
// go once applied.
func TestLogFiles(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 200)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	body := strings.Repeat("e", 60)
	for i := 0; i < 20; i++ {
		if _, err := l.Append([]wal.Entry{entry(1, fmt.Sprint(i, body))}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(files) < 5 {
		t.Fatalf("%d files for 20 records of ~100 bytes at 200 per file", len(files))
	}
	got := readAll(t, l)
	for i, e := range got {
		if e.Seq != uint64(i+1) || string(e.Body) != fmt.Sprint(i, body) {
			t.Fatalf("record %d: %d %q", i, e.Seq, e.Body)
		}
	}
	if len(got) != 20 {
		t.Fatalf("read %d records", len(got))
	}
	full := l.Backlog()
	if err := l.SetApplied(20); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(left) > 1 || l.Backlog() >= full {
		t.Fatalf("after applying all: files %v, backlog %d of %d", left, l.Backlog(), full)
	}
	// Reading resumes across a fresh file.
	l.Append([]wal.Entry{entry(1, "more")})
	if got := readAll(t, l); len(got) != 1 || got[0].Seq != 21 {
		t.Fatalf("after the drop: %+v", got)
	}
}

func batchBody(ids ...string) string {
	var evs []string
	for _, id := range ids {
		evs = append(evs, fmt.Sprintf(`{"type":"track","event":"Viewed","userId":"u-%s","messageId":"%s","timestamp":"2023-11-14T03:04:05Z"}`, id, id))
	}
	return `{"batch":[` + strings.Join(evs, ",") + `]}`
}

// receivedBody parses body as a /v1/batch request of ws would be.
func receivedBody(t *testing.T, ws int64, body string) *wal.Received {
	t.Helper()
	now := time.Now()
	req, err := inbound.Parse("batch", []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range req.Inbounds {
		req.Inbounds[i].WorkspaceID = ws
	}
	return &wal.Received{WorkspaceID: ws, Endpoint: "batch", ReceivedAt: now, Body: []byte(body), Inbounds: req.Inbounds}
}

// TestWriterWithLog runs the real store behind a logged writer: requests
// are acknowledged from the log, Settle waits until they are in the
// store, resends are stored once, and what a stopped server left logged
// is applied at the next start.
func TestWriterWithLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wsp, err := s.CreateWorkspace(ctx, "logged")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		l, err := wal.Open(dir, 4096)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		stages := map[string]int{}
		w := wal.NewWriter(s, wal.WriterConfig{Log: l, ApplyBytes: 2000, OnCommit: func(c wal.CommitStats) {
			mu.Lock()
			stages[c.Stage] += c.Inbounds
			mu.Unlock()
		}})
		w.Open(ctx)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					// Every request is sent twice: the resend stores nothing.
					body := batchBody(fmt.Sprintf("g%d-%d-a", g, i), fmt.Sprintf("g%d-%d-b", g, i))
					for range 2 {
						if err := w.Write(ctx, receivedBody(t, wsp.ID, body)); err != nil {
							t.Error(err)
						}
					}
				}
			}(g)
		}
		wg.Wait()
		if !w.Settle(ctx, 30*time.Second) {
			t.Fatal("Settle did not see the log applied")
		}
		if n, _ := w.Lag(); n != 0 {
			t.Fatalf("lag %d after Settle", n)
		}
		st, err := s.Stats(ctx, wsp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Events != 160 || st.Customers != 160 {
			t.Fatalf("stats %+v, want 160 events and customers", st)
		}
		mu.Lock()
		if stages[wal.StageLog] != 320 || stages[wal.StageStore] != 320 {
			t.Fatalf("inbounds by stage %v, want 320 logged and 320 applied", stages)
		}
		mu.Unlock()
		w.Close()

		// A server that stopped (or crashed) with records logged and not
		// applied: the next writer applies them first.
		if _, err := l.Append([]wal.Entry{{WorkspaceID: wsp.ID, Endpoint: "batch", ReceivedAt: time.Now(), Body: []byte(batchBody("late-1", "late-2"))}}); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, err = wal.Open(dir, 4096)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		w = wal.NewWriter(s, wal.WriterConfig{Log: l})
		w.Open(ctx)
		if !w.Settle(ctx, 30*time.Second) {
			t.Fatal("the backlog of the last run was not applied")
		}
		w.Close()
		if st, _ := s.Stats(ctx, wsp.ID); st.Events != 162 {
			t.Fatalf("after restart %d events, want 162", st.Events)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*.log")); len(files) > 1 {
			t.Fatalf("applied files are kept: %v", files)
		}
	})
}

// TestWriterSetsAsideWhatTheStoreRefuses: one request the store refuses
// while the others go in is written to failed/ and skipped; ingestion
// goes on.
func TestWriterSetsAsideWhatTheStoreRefuses(t *testing.T) {
	ing := &slowIngester{poison: "bad"}
	dir := t.TempDir()
	l, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Logged before the writer opens, so that one store commit takes all.
	l.Append([]wal.Entry{entry(1, batchBody("ok-1")), entry(1, batchBody("bad")), entry(1, batchBody("ok-2"))})
	w := wal.NewWriter(ing, wal.WriterConfig{Log: l})
	w.Open(context.Background())
	if !w.Settle(context.Background(), 10*time.Second) {
		t.Fatal("not applied")
	}
	w.Close()
	var stored []string
	for _, c := range ing.calls {
		for _, m := range c {
			stored = append(stored, m.MessageID)
		}
	}
	if strings.Join(stored, " ") != "ok-1 ok-2" {
		t.Fatalf("stored %v", stored)
	}
	b, err := os.ReadFile(filepath.Join(dir, "failed", fmt.Sprintf("%020d.json", 2)))
	if err != nil || !strings.Contains(string(b), `\"messageId\":\"bad\"`) || !strings.Contains(string(b), "poisoned") {
		t.Fatalf("set-aside file: %s %v", b, err)
	}
}

// fullIngester answers ENOROOM while full is set, as the store does on a
// full disk, and stores otherwise.
type fullIngester struct {
	slowIngester
	full  atomic.Bool
	tries atomic.Int64
}

func (f *fullIngester) Ingest(ctx context.Context, ins []touchbase.Inbound) (touchbase.IngestResult, error) {
	f.tries.Add(1)
	if f.full.Load() {
		return touchbase.IngestResult{}, fmt.Errorf("ingest: commit: %w", touchbase.Errorf(touchbase.ENOROOM, "the database's disk is full"))
	}
	return f.slowIngester.Ingest(ctx, ins)
}

// TestWriterWaitsOutAFullStore: a store with no room is no request's
// fault: nothing logged is set aside or skipped, Write refuses with
// ENOROOM meanwhile (nothing of the refused request logged), and once
// there is room the backlog goes in, once each.
func TestWriterWaitsOutAFullStore(t *testing.T) {
	ing := &fullIngester{}
	ing.full.Store(true)
	dir := t.TempDir()
	l, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Append([]wal.Entry{entry(1, batchBody("a-1")), entry(1, batchBody("a-2", "a-3")), entry(1, batchBody("a-4"))})
	w := wal.NewWriter(ing, wal.WriterConfig{Log: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	w.Open(context.Background())
	defer w.Close()
	for deadline := time.Now().Add(10 * time.Second); ing.tries.Load() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d tries in 10 s", ing.tries.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !w.NoRoom() {
		t.Error("NoRoom is false while the store is full")
	}
	appended, _ := l.Appended()
	err = w.Write(context.Background(), receivedBody(t, 1, batchBody("refused")))
	if touchbase.ErrorCode(err) != touchbase.ENOROOM {
		t.Fatalf("Write while the store is full: %v, want ENOROOM", err)
	}
	if now, _ := l.Appended(); now != appended {
		t.Errorf("a refused request was logged: appended %d -> %d", appended, now)
	}
	if fails, _ := filepath.Glob(filepath.Join(dir, "failed", "*")); len(fails) > 0 {
		t.Fatalf("set aside while the store was full: %v", fails)
	}
	if w.Settle(context.Background(), 0) {
		t.Fatal("settled while nothing could be applied")
	}

	ing.full.Store(false)
	if !w.Settle(context.Background(), 10*time.Second) {
		t.Fatal("the backlog was not applied once there was room")
	}
	if w.NoRoom() {
		t.Error("NoRoom is true once there is room")
	}
	if err := w.Write(context.Background(), receivedBody(t, 1, batchBody("after"))); err != nil {
		t.Fatalf("Write once there is room: %v", err)
	}
	if !w.Settle(context.Background(), 10*time.Second) {
		t.Fatal("not applied")
	}
	seen := map[string]int{}
	for _, c := range ing.calls {
		for _, m := range c {
			seen[m.MessageID]++
		}
	}
	if len(seen) != 5 || seen["refused"] != 0 || seen["after"] != 1 {
		t.Fatalf("stored %v, want a-1..a-4 and after", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s stored %d times", id, n)
		}
	}
	if fails, _ := filepath.Glob(filepath.Join(dir, "failed", "*")); len(fails) > 0 {
		t.Fatalf("set aside: %v", fails)
	}
}

// TestWriterWithLogRefusesPastTheBacklog: when the store falls far behind,
// senders are told to retry instead of the log growing without bound.
func TestWriterWithLogRefusesPastTheBacklog(t *testing.T) {
	ing := &slowIngester{delay: time.Second}
	l, err := wal.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := wal.NewWriter(ing, wal.WriterConfig{Log: l, MaxBacklog: 300})
	w.Open(context.Background())
	defer w.Close()
	body := batchBody("a", "b", "c")
	for i := 0; i < 3; i++ {
		err = w.Write(context.Background(), receivedBody(t, 1, body))
		if err != nil {
			break
		}
	}
	if touchbase.ErrorCode(err) != touchbase.EUNAVAILABLE {
		t.Fatalf("past the backlog: %v", err)
	}
}

// TestWriterLogFlushTakesAllQueued: while one flush of the log runs,
// requests queue up; the next flush takes all of them, however far past
// MaxBatch, so a slow disk means bigger flushes rather than a cap on
// throughput.
func TestWriterLogFlushTakesAllQueued(t *testing.T) {
	l, err := wal.Open(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	var mu sync.Mutex
	var flushes []wal.CommitStats
	w := wal.NewWriter(&slowIngester{}, wal.WriterConfig{Log: l, MaxBatch: 5, OnCommit: func(c wal.CommitStats) {
		if c.Stage != wal.StageLog {
			return
		}
		mu.Lock()
		flushes = append(flushes, c)
		first := len(flushes) == 1
		mu.Unlock()
		if first {
			<-release // hold the flusher while the others queue
		}
	}})
	w.Open(context.Background())
	defer w.Close()
	write := func(id string) {
		if err := w.Write(context.Background(), receivedBody(t, 1, batchBody(id+"-a", id+"-b"))); err != nil {
			t.Error(err)
		}
	}
	done := make(chan struct{})
	go func() { write("first"); close(done) }()
	for {
		mu.Lock()
		n := len(flushes)
		mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); write(fmt.Sprint("q", g)) }()
	}
	time.Sleep(200 * time.Millisecond) // for all 20 to queue behind the held flush
	close(release)
	wg.Wait()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(flushes) != 2 || flushes[1].Requests != 20 || flushes[1].Inbounds != 40 {
		t.Fatalf("flushes %+v; want the first request, then the 20 queued ones (40 inbounds, MaxBatch 5) in one", flushes)
	}
}

// BenchmarkLogAppend flushes groups of 40 requests of 263 KB (10 MB, what
// a flush carries when it falls behind at 50,000 events/s) to a log.
func BenchmarkLogAppend(b *testing.B) {
	l, err := wal.Open(b.TempDir(), 256<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	group := make([]wal.Entry, 40)
	for i := range group {
		group[i] = entry(1, strings.Repeat("x", 263<<10))
	}
	b.SetBytes(int64(40 * 263 << 10))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(group); err != nil {
			b.Fatal(err)
		}
		if err := l.SetApplied(l.Applied() + 40); err != nil {
			b.Fatal(err)
		}
	}
}

// corruptAt flips a byte of the first log file, at off from its start
// (negative: from its end).
func corruptAt(t *testing.T, dir string, off int64) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if off < 0 {
		fi, _ := f.Stat()
		off += fi.Size()
	}
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	return files[0]
}

// TestLogSkipsCorruptRecords: damage on disk (a flipped bit in a body, or
// in a length, which loses the framing) makes Read fail with ErrCorrupt;
// SkipCorrupt goes on at the next whole record, keeps the damaged file
// in failed/, and reports what was lost; the records after the damage
// survive a reopen (only a bad last record is a torn write). Damage in
// the last record of the file being appended to skips to the next
// record appended, in a new file.
func TestLogSkipsCorruptRecords(t *testing.T) {
	body := func(i int) string { return fmt.Sprintf("request %d %s", i, strings.Repeat("b", 100)) }
	recordBytes := int64(16 + 18 + len("batch") + len(body(0)))
	for _, tc := range []struct {
		name     string
		off      int64 // of the damage, from the file's start (negative: end)
		from, to uint64
		after    int  // records read after the skip
		open     bool // damaged while the log is open (at a reopen, a bad last record is a torn write, cut)
	}{
		{"body of record 3", 2*recordBytes + 40, 3, 3, 7, false},
		{"length of record 5", 4 * recordBytes, 5, 5, 5, false},
		{"last record, log open", -10, 10, 10, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := wal.Open(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 10; i++ {
				l.Append([]wal.Entry{entry(1, body(i))})
			}
			if !tc.open {
				l.Close()
			}
			seg := corruptAt(t, dir, tc.off)
			if !tc.open {
				if l, err = wal.Open(dir, 0); err != nil {
					t.Fatal(err)
				}
			}
			defer l.Close()
			got, err := l.Read(1 << 20)
			if !errors.Is(err, wal.ErrCorrupt) || uint64(len(got)) != tc.from-1 {
				t.Fatalf("read %d records, err %v; want %d and ErrCorrupt", len(got), err, tc.from-1)
			}
			if _, err := l.Read(1 << 20); !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("reading again: %v; want ErrCorrupt again", err)
			}
			from, to, saved, err := l.SkipCorrupt()
			if err != nil || from != tc.from || to != tc.to {
				t.Fatalf("skipped %d-%d, err %v; want %d-%d", from, to, err, tc.from, tc.to)
			}
			if a, _ := os.ReadFile(seg); len(a) == 0 {
				t.Fatal("the file is gone")
			} else if b, _ := os.ReadFile(saved); !bytes.Equal(a, b) {
				t.Fatalf("the copy in %s is not the damaged file", saved)
			}
			rest := readAll(t, l)
			if len(rest) != tc.after || (len(rest) > 0 && (rest[0].Seq != tc.to+1 || string(rest[0].Body) != body(int(tc.to+1)))) {
				t.Fatalf("after the skip read %+v; want %d records from %d", rest, tc.after, tc.to+1)
			}
			// Appending goes on, and what is appended reads back.
			if last, err := l.Append([]wal.Entry{entry(1, "after")}); err != nil || last != 11 {
				t.Fatalf("append after the skip: %d %v", last, err)
			}
			if got := readAll(t, l); len(got) != 1 || string(got[0].Body) != "after" {
				t.Fatalf("the record appended after the skip: %+v", got)
			}
		})
	}
}

// TestWriterGoesOnPastCorruptRecords: a damaged request in the middle of
// the log holds ingestion up for three reads, then is skipped: everything
// else reaches the store and Settle sees the log applied.
func TestWriterGoesOnPastCorruptRecords(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for i := range 6 {
		b := batchBody(fmt.Sprintf("m%d", i))
		l.Append([]wal.Entry{{WorkspaceID: 1, Endpoint: "batch", ReceivedAt: time.Now(), Body: []byte(b)}})
		sizes = append(sizes, int64(16+18+len("batch")+len(b)))
	}
	l.Close()
	corruptAt(t, dir, sizes[0]+sizes[1]+40) // in request 3's body
	if l, err = wal.Open(dir, 0); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ing := &slowIngester{}
	w := wal.NewWriter(ing, wal.WriterConfig{Log: l})
	w.Open(context.Background())
	defer w.Close()
	if !w.Settle(context.Background(), 20*time.Second) {
		t.Fatal("Settle did not see the log applied")
	}
	var stored []string
	ing.mu.Lock()
	for _, c := range ing.calls {
		for _, m := range c {
			stored = append(stored, m.MessageID)
		}
	}
	ing.mu.Unlock()
	sort.Strings(stored)
	if strings.Join(stored, ",") != "m0,m1,m3,m4,m5" {
		t.Fatalf("stored %v; want all but the damaged m2", stored)
	}
	if saved, _ := filepath.Glob(filepath.Join(dir, "failed", "*.log")); len(saved) != 1 {
		t.Fatalf("damaged files kept: %v", saved)
	}
}

// TestLogKeepsThePublicFlag: whether a request came with a public write
// key survives the log, a restart and the applier, so that a logged event
// of the public key gets no more rights than it would have had at once.
func TestLogKeepsThePublicFlag(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, srv := entry(1, batchBody("pub-1")), entry(1, batchBody("srv-1"))
	pub.Public = true
	if _, err := l.Append([]wal.Entry{pub, srv}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if l, err = wal.Open(dir, 0); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := readAll(t, l)
	if len(got) != 2 || !got[0].Public || got[1].Public || got[0].Endpoint != "batch" || got[1].Endpoint != "batch" {
		t.Fatalf("read back %+v", got)
	}

	// Written by a Writer from a public request, applied with the flag.
	dir = t.TempDir()
	l2, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	ing := &slowIngester{}
	w := wal.NewWriter(ing, wal.WriterConfig{Log: l2})
	ctx := context.Background()
	w.Open(ctx)
	defer w.Close()
	rec := receivedBody(t, 1, batchBody("pub-2"))
	rec.Public = true
	for i := range rec.Inbounds {
		rec.Inbounds[i].Public = true
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, receivedBody(t, 1, batchBody("srv-2"))); err != nil {
		t.Fatal(err)
	}
	if !w.Settle(ctx, 10*time.Second) {
		t.Fatal("not applied")
	}
	ing.mu.Lock()
	defer ing.mu.Unlock()
	public := map[string]bool{}
	for _, call := range ing.calls {
		for _, m := range call {
			public[m.MessageID] = m.Public
		}
	}
	if len(public) != 2 || !public["pub-2"] || public["srv-2"] {
		t.Fatalf("applied inbounds' Public: %v, want pub-2 public and srv-2 not", public)
	}
}

// TestWriterForgetRemovesTheLogsCopies: Forget rotates the active file
// and returns once every request logged before it is applied and its
// file removed; given too little time, it says so, and the files go
// by themselves once applied. Appends racing with it are unharmed.
func TestWriterForgetRemovesTheLogsCopies(t *testing.T) {
	ing := &slowIngester{delay: 300 * time.Millisecond}
	dir := t.TempDir()
	l, err := wal.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := wal.NewWriter(ing, wal.WriterConfig{Log: l, ApplyBytes: 1})
	w.Open(context.Background())
	defer w.Close()
	ctx := context.Background()
	for i := range 3 {
		if err := w.Write(ctx, receivedBody(t, 1, batchBody(fmt.Sprint("a", i)))); err != nil {
			t.Fatal(err)
		}
	}
	// Appends go on while Forget runs.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			if err := w.Write(ctx, receivedBody(t, 1, batchBody(fmt.Sprint("b", i)))); err != nil {
				t.Error(err)
			}
		}
	}()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.Forget(short, 1, nil); touchbase.ErrorCode(err) != touchbase.EUNAVAILABLE {
		t.Fatalf("Forget with the backlog unapplied: %v, want EUNAVAILABLE", err)
	}
	if err := w.Forget(ctx, 1, nil); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	wg.Wait()
	if !w.Settle(ctx, 30*time.Second) {
		t.Fatal("not applied")
	}
	seen := map[string]bool{}
	for _, c := range ing.calls {
		for _, m := range c {
			seen[m.MessageID] = true
		}
	}
	if len(seen) != 23 {
		t.Fatalf("stored %d of 23 requests", len(seen))
	}
	// Once all is applied, one more Forget leaves no file behind.
	if err := w.Forget(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.log")); len(files) != 0 {
		t.Fatalf("files left after Forget: %v", files)
	}
}
