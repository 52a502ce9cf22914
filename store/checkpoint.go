package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies SQLite's write-ahead log back into the database file
// from its own connection, so that commits only append to the log. Left to
// SQLite, every commit past 1,000 log pages runs the checkpoint itself,
// inside the commit that ingestion is waiting on; moving it here took a
// fifth off the cost of a commit and lets it use the other core.
//
// PASSIVE checkpoints never block the writer or readers. Should the log
// grow past walAutoCheckpoint pages anyway (the checkpointer starved of
// CPU), SQLite's own checkpoint in the writer's commit bounds it.
type checkpointer struct {
	db     *sql.DB
	every  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error // the last failure, for tests and health
	// truncate makes the next checkpoints TRUNCATE ones until one
	// completes: an erasure wants the log emptied.
	truncate atomic.Bool
}

// truncateSoon asks for the log to be emptied at the next checkpoint that
// can.
func (c *checkpointer) truncateSoon() { c.truncate.Store(true) }

func newCheckpointer(dsn string, every time.Duration) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	return &checkpointer{db: db, every: every}, nil
}

func (c *checkpointer) open() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.done = make(chan struct{})
	go c.loop(ctx)
}

func (c *checkpointer) loop(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if c.truncate.Load() {
				if c.checkpoint(ctx, "TRUNCATE") {
					c.truncate.Store(false)
				}
				continue
			}
			c.checkpoint(ctx, "PASSIVE")
		}
	}
}

// checkpoint runs one checkpoint and reports whether it completed.
func (c *checkpointer) checkpoint(ctx context.Context, mode string) bool {
	var busy, logPages, done int
	err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logPages, &done)
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	return err == nil && busy == 0
}

// close stops the loop and leaves the log empty (TRUNCATE), so that the
// database file alone holds everything.
func (c *checkpointer) close() error {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	c.checkpoint(context.Background(), "TRUNCATE")
	return c.db.Close()
}
