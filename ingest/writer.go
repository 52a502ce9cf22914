package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchbase/touchbase"
)

// WriterConfig tunes a Writer.
type WriterConfig struct {
	// MaxBatch is the most messages one commit takes (default 10,000). A
	// request is never split across commits.
	MaxBatch int
	// MaxPending bounds the messages waiting for a commit (default
	// 100,000). Past it, Write refuses with EUNAVAILABLE at once: when
	// senders outrun the database, they are told to back off (SDKs retry
	// 503s) instead of the server holding ever more bodies in memory.
	MaxPending int
	// OnCommit, when set, is called after every commit attempt, from the
	// writer's goroutine; keep it cheap.
	OnCommit func(CommitStats)
}

// CommitStats describes one group commit.
type CommitStats struct {
	Messages int           // messages in the commit
	Requests int           // Write calls that shared it
	Duration time.Duration // time spent in the store
	Err      error
}

// Writer makes ingestion durable cheaply by group commit: concurrent Write
// calls that arrive while a commit is running share the next one, so one
// transaction (and one fsync) serves many requests.
type Writer struct {
	ing touchbase.Ingester
	cfg WriterConfig

	reqs    chan *writeRequest
	pending atomic.Int64 // messages accepted by Write and not yet committed

	mu     sync.RWMutex // guards closed against Write's send
	closed bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type writeRequest struct {
	ctx  context.Context
	msgs []touchbase.Message
	res  touchbase.IngestResult
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
	return &Writer{ing: ing, cfg: cfg, reqs: make(chan *writeRequest, 1024), done: make(chan struct{})}
}

// Open starts the commit loop.
func (w *Writer) Open(ctx context.Context) error {
	// The loop's context outlives ctx's cancellation on purpose: Close, not
	// the caller's context, ends it, after the queue is drained.
	w.ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go w.loop()
	return nil
}

// Close stops accepting writes, commits what is queued, and waits.
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
	w.cancel()
	return nil
}

// Write stores msgs and returns once they are committed. The result's
// Statuses line up with msgs. It returns EUNAVAILABLE after Close, and
// ctx's error if ctx ends first (the messages may still be committed: the
// caller must not promise durability then).
func (w *Writer) Write(ctx context.Context, msgs []touchbase.Message) (touchbase.IngestResult, error) {
	if len(msgs) == 0 {
		return touchbase.IngestResult{}, nil
	}
	if n := w.pending.Add(int64(len(msgs))); n > int64(w.cfg.MaxPending) && n > int64(len(msgs)) {
		w.pending.Add(-int64(len(msgs)))
		return touchbase.IngestResult{}, touchbase.Errorf(touchbase.EUNAVAILABLE,
			"ingestion is %d events behind; retry shortly", n-int64(len(msgs)))
	}
	r := &writeRequest{ctx: ctx, msgs: msgs, done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		w.pending.Add(-int64(len(msgs)))
		return touchbase.IngestResult{}, touchbase.Errorf(touchbase.EUNAVAILABLE, "the server is shutting down; retry")
	}
	select {
	case w.reqs <- r:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		w.pending.Add(-int64(len(msgs)))
		return touchbase.IngestResult{}, ctx.Err()
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		return touchbase.IngestResult{}, ctx.Err()
	}
}

func (w *Writer) loop() {
	defer close(w.done)
	var group []*writeRequest
	var msgs []touchbase.Message
	for {
		r, ok := <-w.reqs
		if !ok {
			return
		}
		group = append(group[:0], r)
		n := len(r.msgs)
		// Take everything that queued up while the last commit ran.
	drain:
		for n < w.cfg.MaxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
				n += len(r.msgs)
			default:
				break drain
			}
		}
		msgs = w.commit(group, msgs[:0])
		clear(msgs) // drop references to the committed bodies
		clear(group)
	}
}

// finish answers r: its messages stop counting as pending first, so that
// the caller, once answered, finds the room they took free again.
func (w *Writer) finish(r *writeRequest) {
	w.pending.Add(-int64(len(r.msgs)))
	close(r.done)
}

// commit runs one transaction for the group. If it fails, each request is
// retried alone so that one bad request cannot fail the others.
// Requests whose caller gave up are dropped before the commit. It returns
// msgs, the scratch buffer, for reuse.
func (w *Writer) commit(group []*writeRequest, msgs []touchbase.Message) []touchbase.Message {
	live := group[:0:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			w.finish(r)
			continue
		}
		live = append(live, r)
		msgs = append(msgs, r.msgs...)
	}
	if len(live) == 0 {
		return msgs
	}
	res, err := w.ingest(msgs, len(live))
	if err == nil {
		off := 0
		for _, r := range live {
			r.res = slice(res, off, len(r.msgs))
			off += len(r.msgs)
			w.finish(r)
		}
		return msgs
	}
	if len(live) == 1 {
		live[0].err = err
		w.finish(live[0])
		return msgs
	}
	for _, r := range live {
		r.res, r.err = w.ingest(r.msgs, 1)
		w.finish(r)
	}
	return msgs
}

func (w *Writer) ingest(msgs []touchbase.Message, requests int) (touchbase.IngestResult, error) {
	start := time.Now()
	res, err := w.ing.Ingest(w.ctx, msgs)
	if err == nil && len(res.Statuses) != len(msgs) {
		err = errors.New("ingest: store returned a status count that does not match the messages")
	}
	if w.cfg.OnCommit != nil {
		w.cfg.OnCommit(CommitStats{Messages: len(msgs), Requests: requests, Duration: time.Since(start), Err: err})
	}
	return res, err
}

// slice returns the part of res for n messages starting at off.
func slice(res touchbase.IngestResult, off, n int) touchbase.IngestResult {
	var out touchbase.IngestResult
	for _, s := range res.Statuses[off : off+n] {
		out.Add(s)
	}
	return out
}
