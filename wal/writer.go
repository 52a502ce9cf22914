package wal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

// WriterConfig tunes a Writer.
type WriterConfig struct {
	// Log, when set, makes acknowledgement cheap: Write returns once the
	// request is flushed to the log, and the Writer applies the log to
	// the store behind, in large commits. Without it, Write returns once
	// the store has committed the inbounds. The caller opens and closes
	// the Log.
	Log *Log
	// MaxBatch is the most inbounds one store transaction takes when
	// Write commits to the store (default 10,000). A request is never
	// split across commits. A log append takes whatever is queued: its
	// cost is a sequential write, so the slower the disk answers, the
	// more each flush carries, and a stall of the disk does not cap
	// throughput at MaxBatch per flush.
	MaxBatch int
	// MaxPending bounds the inbounds waiting for a group commit (default
	// 100,000). Past it, Write refuses with EUNAVAILABLE at once: when
	// senders outrun the disk, they are told to back off (SDKs retry
	// 503s) instead of the server holding ever more bodies in memory.
	MaxPending int
	// MaxBacklog bounds, with a Log, the bytes logged and not yet applied
	// (default 4 GiB). Past it, Write refuses with EUNAVAILABLE.
	MaxBacklog int64
	// ApplyBytes is about how much request body one store commit applies
	// from the log when it is behind (default 32 MiB, some 30,000 typical
	// events): a commit dirties each index page once however many events
	// land on it, so under a backlog larger commits apply faster (60,000
	// events per commit apply 35% faster than 15,000 at 2 million events
	// stored), but the commit's working set grows with it (a Go heap of
	// some 880 MB at 64 MiB).
	ApplyBytes int
	// DrainTimeout bounds how long Close goes on applying the log's
	// backlog (default 30 s); what is left is applied at the next start.
	DrainTimeout time.Duration
	// OnCommit, when set, is called after every log append and store
	// commit, from the writer's goroutines; keep it cheap.
	OnCommit func(CommitStats)
	// Logger reports apply failures (default slog.Default()).
	Logger *slog.Logger
}

// Commit stages.
const (
	StageLog   = "log"   // requests flushed to the ingestion log
	StageStore = "store" // inbounds committed to the store
)

// CommitStats describes one group commit.
type CommitStats struct {
	Stage    string        // StageLog or StageStore
	Inbounds int           // inbounds in the commit
	Requests int           // requests that shared it
	Bytes    int           // request bytes (log appends)
	Duration time.Duration // time spent writing
	Result   touchbase.IngestResult
	Err      error
}

// Received is one accepted request: its valid inbounds, and what the log
// keeps to derive them again (Parse is deterministic).
type Received struct {
	WorkspaceID int64
	Endpoint    string // as passed to Parse
	ReceivedAt  time.Time
	Body        []byte              // the decoded body Parse read
	Inbounds    []touchbase.Inbound // Parse's valid inbounds, WorkspaceID (and Public) set
	// Public says the request came with a public write key: its inbounds
	// have Inbound.Public set, and the log keeps it with the body.
	Public bool
}

// Writer makes ingestion durable cheaply by group commit: concurrent Write
// calls that arrive while a commit is running share the next one, so one
// fsync serves many requests. With a Log the commit is an append to it and
// an applier goroutine moves the log into the store; without, it is a
// store transaction.
type Writer struct {
	ing touchbase.Ingester
	cfg WriterConfig
	log *slog.Logger

	reqs    chan *writeRequest
	pending atomic.Int64 // inbounds accepted by Write and not yet committed

	mu     sync.RWMutex // guards closed against Write's send
	closed bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// storeFull is set while the store has no room (its last commit
	// failed with ENOROOM) and cleared by the next that succeeds. With a
	// Log, Write refuses while it is set, and the applier tries one
	// request at a time until there is room; without, each commit tries.
	storeFull atomic.Bool
	// logFull is set while the log has no room (its last append failed
	// with ENOROOM).
	logFull atomic.Bool

	// With a Log: the applier's progress.
	applyMu  sync.Mutex
	applied  uint64        // last record applied
	progress chan struct{} // closed and replaced when applied moves
	stopping chan struct{} // closed by Close: drain, then stop
	applier  chan struct{} // closed when the applier returns
	rotate   chan struct{} // Forget's request to rotate the log (buffered: one pending is enough)
}

type writeRequest struct {
	ctx  context.Context
	rec  *Received
	err  error
	done chan struct{}
}

// NewWriter returns a Writer over ing. Call Open before Write.
func NewWriter(ing touchbase.Ingester, cfg WriterConfig) *Writer {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 10000
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 100000
	}
	if cfg.MaxBacklog <= 0 {
		cfg.MaxBacklog = 4 << 30
	}
	if cfg.ApplyBytes <= 0 {
		cfg.ApplyBytes = 32 << 20
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Writer{ing: ing, cfg: cfg, log: lg, reqs: make(chan *writeRequest, 1024), done: make(chan struct{}),
		progress: make(chan struct{}), stopping: make(chan struct{}), applier: make(chan struct{}),
		rotate: make(chan struct{}, 1)}
}

// Open starts the commit loop, and with a Log the applier, which first
// applies what an earlier run logged and did not apply.
func (w *Writer) Open(ctx context.Context) error {
	// The loops' context outlives ctx's cancellation on purpose: Close,
	// not the caller's context, ends them, after the queue is drained.
	w.ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go w.loop()
	if w.cfg.Log != nil {
		w.applied = w.cfg.Log.Applied()
		go w.apply()
	} else {
		close(w.applier)
	}
	return nil
}

// Close stops accepting writes, commits what is queued, applies the log's
// backlog for up to DrainTimeout, and waits.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	<-w.done
	close(w.stopping)
	<-w.applier
	w.cancel()
	return nil
}

// Write makes rec durable and returns once it is: committed to the store,
// or with a Log, flushed to it. It returns EUNAVAILABLE after Close or
// when ingestion is too far behind, ENOROOM while the disk (of the log or
// of the store) is full, and ctx's error if ctx ends first (the request
// may still be stored: the caller must not promise durability then).
// After EUNAVAILABLE or ENOROOM nothing of rec is stored.
func (w *Writer) Write(ctx context.Context, rec *Received) error {
	n := len(rec.Inbounds)
	if n == 0 {
		return nil
	}
	if l := w.cfg.Log; l != nil {
		if w.storeFull.Load() {
			// The log may have room, but what it takes could not be
			// applied, and would eat the room the store needs to
			// recover.
			return touchbase.Errorf(touchbase.ENOROOM,
				"the database's disk is full: events are refused until it has room again; retry")
		}
		if b := l.Backlog(); b > w.cfg.MaxBacklog {
			return touchbase.Errorf(touchbase.EUNAVAILABLE,
				"ingestion is %d MB behind; retry shortly", b>>20)
		}
	}
	if p := w.pending.Add(int64(n)); p > int64(w.cfg.MaxPending) && p > int64(n) {
		w.pending.Add(-int64(n))
		return touchbase.Errorf(touchbase.EUNAVAILABLE,
			"ingestion is %d events behind; retry shortly", p-int64(n))
	}
	r := &writeRequest{ctx: ctx, rec: rec, done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		w.pending.Add(-int64(n))
		return touchbase.Errorf(touchbase.EUNAVAILABLE, "the server is shutting down; retry")
	}
	select {
	case w.reqs <- r:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		w.pending.Add(-int64(n))
		return ctx.Err()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Settle waits until everything acknowledged before the call is in the
// store, for at most max; it reports whether it got there. Readers that
// must see what was just sent (the admin API) call it first. Without a Log
// there is nothing to wait for.
func (w *Writer) Settle(ctx context.Context, max time.Duration) bool {
	l := w.cfg.Log
	if l == nil {
		return true
	}
	target, _ := l.Appended()
	var timeout <-chan time.Time
	for {
		w.applyMu.Lock()
		applied, progress := w.applied, w.progress
		w.applyMu.Unlock()
		if applied >= target {
			return true
		}
		if timeout == nil {
			t := time.NewTimer(max)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-progress:
		case <-timeout:
			return false
		case <-ctx.Done():
			return false
		case <-w.applier:
			return false
		}
	}
}

// NoRoom reports whether ingestion is waiting for room: the last commit to
// the store, or the last append to the log, found the disk full. While it
// is, Write refuses with ENOROOM; nothing acknowledged is dropped, and
// ingestion resumes by itself once there is room.
func (w *Writer) NoRoom() bool { return w.storeFull.Load() || w.logFull.Load() }

// Health reports, for /healthz, whether ingestion is waiting for room on
// disk, and where: ENOROOM while the store or the log found the disk full.
func (w *Writer) Health(context.Context) error {
	switch {
	case w.storeFull.Load():
		return touchbase.Errorf(touchbase.ENOROOM, "the database's disk is full: /v1 answers 503 until there is room")
	case w.logFull.Load():
		return touchbase.Errorf(touchbase.ENOROOM, "the ingestion log's disk is full: /v1 answers 503 until there is room")
	}
	return nil
}

// noteRoom records on flag what err says about room: set by ENOROOM,
// cleared by success, left by any other error. It logs the changes.
func (w *Writer) noteRoom(flag *atomic.Bool, err error, where string) {
	full := touchbase.ErrorCode(err) == touchbase.ENOROOM
	if err != nil && !full {
		return
	}
	if flag.Swap(full) == full {
		return
	}
	if full {
		w.log.Error(where+" has no room: events are refused with 503 until there is; nothing acknowledged is dropped", "err", err)
	} else {
		w.log.Info(where + " has room again: ingestion goes on")
	}
}

// waitOut reports whether err is a condition of the storage rather than
// of the request (no room, a database out of connections or unreachable):
// nothing was stored, and the same request goes in once it passes, so it
// is retried, never set aside.
func waitOut(err error) bool {
	switch touchbase.ErrorCode(err) {
	case touchbase.ENOROOM, touchbase.EUNAVAILABLE:
		return true
	}
	return false
}

// Lag returns, with a Log, how many logged requests are not yet applied
// and how many bytes the log holds.
func (w *Writer) Lag() (requests uint64, bytes int64) {
	l := w.cfg.Log
	if l == nil {
		return 0, 0
	}
	appended, _ := l.Appended()
	w.applyMu.Lock()
	applied := w.applied
	w.applyMu.Unlock()
	if appended > applied {
		requests = appended - applied
	}
	return requests, l.Backlog()
}

func (w *Writer) loop() {
	defer close(w.done)
	var group []*writeRequest
	for {
		r, ok := <-w.reqs
		if !ok {
			return
		}
		group = append(group[:0], r)
		n := len(r.rec.Inbounds)
		limit := w.cfg.MaxBatch
		if w.cfg.Log != nil {
			limit = w.cfg.MaxPending // all that can be queued
		}
		// Take everything that queued up while the last commit ran.
	drain:
		for n < limit {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
				n += len(r.rec.Inbounds)
			default:
				break drain
			}
		}
		w.commit(group)
		clear(group) // drop references to the committed bodies
	}
}

// finish answers r: its inbounds stop counting as pending first, so that
// the caller, once answered, finds the room they took free again.
func (w *Writer) finish(r *writeRequest, err error) {
	r.err = err
	w.pending.Add(-int64(len(r.rec.Inbounds)))
	close(r.done)
}

// commit makes the group durable. Requests whose caller gave up are
// dropped first.
func (w *Writer) commit(group []*writeRequest) {
	live := make([]*writeRequest, 0, len(group))
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			w.finish(r, err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if w.cfg.Log != nil {
		w.append(live)
		return
	}
	w.store(live)
}

// append flushes the group to the log.
func (w *Writer) append(live []*writeRequest) {
	start := time.Now()
	entries := make([]Entry, len(live))
	ins, size := 0, 0
	for i, r := range live {
		entries[i] = Entry{WorkspaceID: r.rec.WorkspaceID, Endpoint: r.rec.Endpoint, ReceivedAt: r.rec.ReceivedAt, Body: r.rec.Body, Public: r.rec.Public}
		ins += len(r.rec.Inbounds)
		size += len(r.rec.Body)
	}
	_, err := w.cfg.Log.Append(entries)
	w.noteRoom(&w.logFull, err, "the ingestion log's disk")
	if w.cfg.OnCommit != nil {
		w.cfg.OnCommit(CommitStats{Stage: StageLog, Inbounds: ins, Requests: len(live), Bytes: size, Duration: time.Since(start), Err: err})
	}
	for _, r := range live {
		w.finish(r, err)
	}
}

// store commits the group's inbounds in one transaction. If it fails,
// each request is retried alone so that one bad request cannot fail the
// others; unless the storage failed (a full disk), which no request
// causes: then every request is refused as it is, with nothing stored.
func (w *Writer) store(live []*writeRequest) {
	var ins []touchbase.Inbound
	for _, r := range live {
		ins = append(ins, r.rec.Inbounds...)
	}
	_, err := w.ingest(ins, len(live))
	w.noteRoom(&w.storeFull, err, "the database's disk")
	if err == nil || len(live) == 1 || waitOut(err) {
		for _, r := range live {
			w.finish(r, err)
		}
		return
	}
	for _, r := range live {
		_, err := w.ingest(r.rec.Inbounds, 1)
		w.noteRoom(&w.storeFull, err, "the database's disk")
		w.finish(r, err)
	}
}

func (w *Writer) ingest(ins []touchbase.Inbound, requests int) (touchbase.IngestResult, error) {
	start := time.Now()
	res, err := w.ing.Ingest(w.ctx, ins)
	if err == nil && len(res.Statuses) != len(ins) {
		err = errors.New("ingest: store returned a status count that does not match the inbounds")
	}
	if w.cfg.OnCommit != nil {
		w.cfg.OnCommit(CommitStats{Stage: StageStore, Inbounds: len(ins), Requests: requests, Duration: time.Since(start), Result: res, Err: err})
	}
	return res, err
}

// apply moves the log into the store, in commits of about ApplyBytes,
// until Close; then it drains the backlog for up to DrainTimeout.
func (w *Writer) apply() {
	defer close(w.applier)
	l := w.cfg.Log
	stopping := w.stopping
	var deadline time.Time // set once Close is called
	var entries []Entry    // read and not yet applied
	failures := 0
	corrupt := 0 // reads in a row that failed on the log's content
	for {
		select {
		case <-w.rotate:
			w.rotateLog()
		default:
		}
		_, appended := l.Appended()
		var err error
		progressed := false
		if len(entries) == 0 {
			entries, err = l.Read(w.cfg.ApplyBytes)
			switch {
			case err == nil:
				corrupt = 0
			case errors.Is(err, ErrCorrupt) && corrupt >= 2:
				// Read three times, the damage is on disk: go on after
				// it rather than hold everything behind it.
				corrupt = 0
				if from, to, saved, serr := l.SkipCorrupt(); serr != nil {
					w.log.Error("ingestion log: cannot skip a corrupt record; retrying", "err", serr)
					failures++
				} else {
					w.log.Error("ingestion log: corrupt records skipped: they will not reach the store; the damaged file is kept",
						"first", from, "last", to, "copy", saved, "err", err)
					if to >= from {
						// Everything before them was applied when the
						// read stopped at them.
						w.markApplied(to)
					}
					progressed = true
				}
			default:
				if errors.Is(err, ErrCorrupt) {
					corrupt++
				}
				w.log.Error("ingestion log: cannot read; retrying", "err", err)
				failures++
			}
		}
		if len(entries) > 0 {
			batch := entries
			if w.storeFull.Load() {
				// A probe: while there is no room, a failed try
				// should cost little.
				batch = entries[:1]
			}
			if w.applyEntries(batch, failures) {
				entries, failures, progressed = entries[len(batch):], 0, true
			} else {
				failures++
			}
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			w.logLeft()
			return
		}
		if progressed {
			continue // there may be more
		}
		if failures == 0 && !deadline.IsZero() {
			return // drained
		}
		var pause <-chan time.Time
		if failures > 0 {
			d := min(time.Second<<min(failures-1, 5), 30*time.Second)
			if w.storeFull.Load() {
				d = min(d, noRoomProbe)
			}
			pause = time.After(d)
		}
		select {
		case <-appended:
		case <-pause:
		case <-w.rotate:
			w.rotateLog()
		case <-stopping:
			stopping = nil
			deadline = time.Now().Add(w.cfg.DrainTimeout)
		}
	}
}

func (w *Writer) logLeft() {
	if n, b := w.Lag(); n > 0 {
		w.log.Warn("ingestion log: stopping with requests not yet applied; they are applied at the next start",
			"requests", n, "bytes", b)
	}
}

// noRoomProbe bounds the pause between tries while the store has no
// room: a try is then one request, cheap to fail, and ingestion resumes
// within it once there is room.
const noRoomProbe = 2 * time.Second

// applyEntries commits entries to the store and moves the applied
// position past them. It reports false when nothing was applied; the
// caller tries the same entries again after a pause. An entry the store
// refuses while others in the same attempt succeed, or alone after many
// attempts, is set aside in the log's failed/ directory, reported, and
// skipped, so that one bad request cannot stop ingestion. A condition of
// the storage (a full disk) is no request's fault: it is waited out, and
// nothing is set aside for it.
func (w *Writer) applyEntries(entries []Entry, failures int) bool {
	type refused struct {
		e   *Entry
		err error
	}
	var aside []refused
	ins := make([][]touchbase.Inbound, len(entries))
	live, total := 0, 0
	for i := range entries {
		e := &entries[i]
		req, err := inbound.Parse(e.Endpoint, e.Body, e.ReceivedAt)
		if err != nil || req == nil {
			// It parsed when it was received; only a change of rules
			// between versions can bring this here.
			aside = append(aside, refused{e, fmt.Errorf("parse: %w", err)})
			continue
		}
		for j := range req.Inbounds {
			req.Inbounds[j].WorkspaceID = e.WorkspaceID
			req.Inbounds[j].Public = e.Public
		}
		ins[i] = req.Inbounds
		total += len(req.Inbounds)
		live++
	}
	// One allocation: grown by doubling, the 30,000 inbounds of a commit
	// were copied over and over: 7% of the server's CPU at 50,000/s.
	all := make([]touchbase.Inbound, 0, total)
	for _, in := range ins {
		all = append(all, in...)
	}
	_, err := w.ingest(all, live)
	w.noteRoom(&w.storeFull, err, "the database's disk")
	switch {
	case err == nil:
	case waitOut(err):
		if !w.storeFull.Load() { // noteRoom said it
			w.log.Error("ingestion log: the store cannot take writes now; retrying", "seq", entries[0].Seq, "err", err)
		}
		return false
	case live > 1:
		var failed []refused
		for i := range entries {
			if len(ins[i]) == 0 {
				continue
			}
			_, err := w.ingest(ins[i], 1)
			if waitOut(err) {
				// Those that went in are caught by messageId
				// deduplication when the whole is tried again.
				w.noteRoom(&w.storeFull, err, "the database's disk")
				return false
			}
			if err != nil {
				failed = append(failed, refused{&entries[i], err})
			}
		}
		if len(failed) == live {
			w.log.Error("ingestion log: the store refuses every request; retrying", "err", err)
			return false
		}
		aside = append(aside, failed...)
	case failures < 10:
		w.log.Error("ingestion log: cannot apply a request; retrying", "seq", entries[0].Seq, "err", err)
		return false
	default:
		for i := range entries {
			if len(ins[i]) > 0 {
				aside = append(aside, refused{&entries[i], err})
			}
		}
	}
	for _, r := range aside {
		if err := w.setAside(*r.e, r.err); err != nil {
			// Never skip a request that is not kept somewhere.
			w.log.Error("ingestion log: a request the store refuses could not be set aside; retrying", "seq", r.e.Seq, "cause", r.err, "err", err)
			return false
		}
	}
	w.markApplied(entries[len(entries)-1].Seq)
	return true
}

// rotateLog rotates the log from the applier's goroutine (Rotate closes
// the reader's file) and wakes Forget, whose files may be gone now.
func (w *Writer) rotateLog() {
	w.cfg.Log.Rotate()
	w.applyMu.Lock()
	close(w.progress)
	w.progress = make(chan struct{})
	w.applyMu.Unlock()
}

// markApplied moves the applied position to last, every record up to
// which is in the store (or skipped as corrupt), and wakes Settle.
func (w *Writer) markApplied(last uint64) {
	if err := w.cfg.Log.SetApplied(last); err != nil {
		// Applied all the same: the position is advisory.
		w.log.Warn("ingestion log: cannot record the applied position", "err", err)
	}
	w.applyMu.Lock()
	w.applied = max(w.applied, last)
	close(w.progress)
	w.progress = make(chan struct{})
	w.applyMu.Unlock()
}

// setAside writes an entry the store will not take to failed/<seq>.json in
// the log's directory, for an operator to inspect and resend. The file is
// whole or absent: it is written beside and renamed.
func (w *Writer) setAside(e Entry, cause error) error {
	dir := filepath.Join(w.cfg.Log.dir, "failed")
	p := filepath.Join(dir, fmt.Sprintf("%020d.json", e.Seq))
	b, err := json.Marshal(map[string]any{
		"seq": e.Seq, "workspace_id": e.WorkspaceID, "endpoint": e.Endpoint, "public": e.Public,
		"received_at": e.ReceivedAt, "error": cause.Error(), "body": string(e.Body),
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return noRoom(err)
	}
	if err := writeFileSync(p, b); err != nil {
		return noRoom(err)
	}
	w.log.Error("ingestion log: the store refuses a request; set aside", "seq", e.Seq, "file", p, "err", cause)
	return nil
}

// writeFileSync writes b to path through a temporary file that is synced
// and renamed, so that path is whole or absent.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
