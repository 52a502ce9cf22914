package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/touchbase/touchbase"
)

var _ touchbase.ChangeFeed = (*Store)(nil)

// Kinds of feed_entries.
const (
	feedAnalysisRun = "analysis_run"
	feedImport      = "import"
)

// signal is the change feed's notification: a channel closed at the next
// commit, made only when someone waits (a commit nobody waits for costs a
// lock and no allocation).
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *signal) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

func (g *signal) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

// Changed returns a channel closed at the next commit of this Store.
func (s *Store) Changed() <-chan struct{} { return s.changed.wait() }

// appendFeed gives a finished run or import (kind, id) the workspace's
// next position in the change feed, in transaction tx. On PostgreSQL it
// takes the workspace's advisory lock first, which ingestion takes too:
// positions then commit in order across nodes.
func (s *Store) appendFeed(ctx context.Context, tx *sql.Tx, workspaceID int64, kind string, id, at int64) error {
	if s.d.dollar {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", workspaceID); err != nil {
			return fmt.Errorf("change feed: lock workspace %d: %w", workspaceID, err)
		}
	}
	_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO feed_entries (workspace_id, seq, kind, subject_id, at)
		SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ? FROM feed_entries WHERE workspace_id = ?
		ON CONFLICT (workspace_id, kind, subject_id) DO NOTHING`), workspaceID, kind, id, at, workspaceID)
	if err != nil {
		return fmt.Errorf("change feed: %s %d: %w", kind, id, err)
	}
	return nil
}

// MembershipChangesAfter returns up to limit of the workspace's membership
// changes with ids above after, in id order. They commit in id order (the
// one writer on SQLite, the workspace's advisory lock on PostgreSQL).
func (s *Store) MembershipChangesAfter(ctx context.Context, workspaceID, after int64, limit int) ([]touchbase.MembershipChange, error) {
	var out []touchbase.MembershipChange
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT id, segment_id, customer_id, entered, at FROM membership_changes WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?"),
			[]any{workspaceID, after, limit}, func(rows *sql.Rows) error {
				var c touchbase.MembershipChange
				var at int64
				if err := rows.Scan(&c.ID, &c.SegmentID, &c.CustomerID, &c.Entered, &at); err != nil {
					return err
				}
				c.At = timeOf(at)
				out = append(out, c)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("membership changes after %d: %w", after, err)
	}
	return out, nil
}

// AnalysisRunsAfter returns up to limit of the workspace's runs that
// finished after position after, in the order they finished.
func (s *Store) AnalysisRunsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]*touchbase.AnalysisRun, error) {
	var out []*touchbase.AnalysisRun
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT f.seq, ` + joinCols("r.", analysisRunCols) + ` FROM feed_entries f JOIN analysis_runs r ON r.workspace_id = f.workspace_id AND r.id = f.subject_id
			WHERE f.workspace_id = ? AND f.kind = ? AND f.seq > ? ORDER BY f.seq LIMIT ?`
		return queryRows(ctx, tx, s.d.q(q), []any{workspaceID, feedAnalysisRun, after, limit}, func(rows *sql.Rows) error {
			var seq int64
			run, err := scanAnalysisRun(seqScanner{rows, &seq})
			if err != nil {
				return err
			}
			run.Seq = seq
			out = append(out, run)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("analysis runs after %d: %w", after, err)
	}
	return out, nil
}

// ImportsAfter returns up to limit of the workspace's imports that
// finished after position after, in the order they finished.
func (s *Store) ImportsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]*touchbase.Import, error) {
	var out []*touchbase.Import
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT f.seq, ` + joinCols("i.", importCols) + ` FROM feed_entries f JOIN imports i ON i.workspace_id = f.workspace_id AND i.id = f.subject_id
			WHERE f.workspace_id = ? AND f.kind = ? AND f.seq > ? ORDER BY f.seq LIMIT ?`
		return queryRows(ctx, tx, s.d.q(q), []any{workspaceID, feedImport, after, limit}, func(rows *sql.Rows) error {
			var seq int64
			im, err := scanImport(seqScanner{rows, &seq})
			if err != nil {
				return err
			}
			im.Seq = seq
			out = append(out, im)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("imports after %d: %w", after, err)
	}
	return out, nil
}

// Head returns the newest position of each of the workspace's streams,
// in one round trip: every read of the engine asks it.
func (s *Store) Head(ctx context.Context, workspaceID int64) (touchbase.FeedPosition, error) {
	var p touchbase.FeedPosition
	// Each reads backwards along its primary key (see LastEventID for the
	// unary plus).
	q := `SELECT
		coalesce((SELECT id FROM events WHERE +workspace_id = ? ORDER BY id DESC LIMIT 1), 0),
		coalesce((SELECT id FROM membership_changes WHERE +workspace_id = ? ORDER BY id DESC LIMIT 1), 0),
		coalesce((SELECT seq FROM feed_entries WHERE workspace_id = ? AND kind = '` + feedAnalysisRun + `' ORDER BY seq DESC LIMIT 1), 0),
		coalesce((SELECT seq FROM feed_entries WHERE workspace_id = ? AND kind = '` + feedImport + `' ORDER BY seq DESC LIMIT 1), 0)`
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, s.d.q(q), workspaceID, workspaceID, workspaceID, workspaceID).
			Scan(&p.Events, &p.MembershipChanges, &p.AnalysisRuns, &p.Imports)
	})
	if err != nil {
		return p, fmt.Errorf("change feed head: %w", err)
	}
	return p, nil
}

// seqScanner scans a row's first column into seq and the rest with the
// row scanner of the joined table.
type seqScanner struct {
	rows *sql.Rows
	seq  *int64
}

func (r seqScanner) Scan(dest ...any) error {
	return r.rows.Scan(append([]any{r.seq}, dest...)...)
}

// joinCols prefixes each of a comma-separated list of columns with a
// table's alias.
func joinCols(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = alias + c
	}
	return strings.Join(parts, ", ")
}
