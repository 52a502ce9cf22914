package store

import (
	"context"
	"fmt"
	"time"

	"github.com/touchbase/touchbase"
)

// scrub removes the copies the database keeps of rows an erasure deleted,
// once the deletion is committed.
//
// On SQLite, the writer runs with secure_delete on, so the deleted rows
// (and every earlier version of them) are zeroed in the pages that held
// them; but the write-ahead log still holds the pages as they were before.
// A TRUNCATE checkpoint copies the log into the database file and empties
// it. It waits for readers on older snapshots (up to the busy timeout), and
// is tried a few times; failing that, the checkpointer truncates at its
// next chance.
//
// On PostgreSQL, a deleted row stays in its page, dead, until VACUUM. The
// tables that hold personal data are vacuumed now: customers and events
// without index cleanup (their indexes hold no personal data, and a pass
// over the indexes of a billion events would take minutes), identities
// with it (its key holds the values). The bytes can still sit in the free
// space of a page until it is written again, in the WAL until it is
// recycled, and in backups: docs/ingestion.md says what an operator does
// about those.
func (s *Store) scrub(ctx context.Context, id int64) error {
	if s.d.dollar {
		for _, q := range []string{
			"VACUUM (INDEX_CLEANUP OFF) customers, events",
			"VACUUM identities",
		} {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				return s.condition(fmt.Errorf("erase customer %d: %s: %w", id, q, err))
			}
		}
		return nil
	}
	for try := 0; ; try++ {
		var busy, logPages, done int
		err := s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
		if err != nil {
			return s.condition(fmt.Errorf("erase customer %d: checkpoint: %w", id, err))
		}
		if busy == 0 {
			return nil
		}
		if try == 2 {
			s.ckpt.truncateSoon()
			return touchbase.Errorf(touchbase.EUNAVAILABLE,
				"customer %d is erased, but readers kept the database's write-ahead log busy: it still holds earlier copies of their rows until the next checkpoint empties it, within seconds", id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
