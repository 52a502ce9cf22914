package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/touchbase/touchbase"
)

// The engine (package engine) is derived state rebuilt from the store at
// start: these methods stream a workspace's customers and events to it in
// one query each, rather than a page or a customer at a time. Each runs in
// one read transaction, so it sees one snapshot; on SQLite a long scan
// keeps the log from being checkpointed until it ends, which writers do
// not wait for.

// ScanCustomers calls fn with each customer of the workspace in id order:
// primary identifiers and features (AOV included), without Identities,
// and with the traits as stored rather than decoded: c.Traits is nil and
// traits is the JSON object (empty for none), valid until fn returns. The
// engine keeps traits as JSON: decoding them here for it to encode them
// again was most of its load. An error from fn stops the scan and is
// returned as is.
func (s *Store) ScanCustomers(ctx context.Context, workspaceID int64, fn func(c *touchbase.Customer, traits []byte) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q("SELECT "+customerColumns+" FROM "+customersWithScores+" WHERE c.workspace_id = ? ORDER BY c.id"), workspaceID)
		if err != nil {
			return fmt.Errorf("scan customers: %w", err)
		}
		defer rows.Close()
		var traits sql.RawBytes
		for rows.Next() {
			c, err := scanCustomerTraits(rows, &traits)
			if err != nil {
				return fmt.Errorf("scan customers: %w", err)
			}
			if err := fn(c, traits); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("scan customers: %w", err)
		}
		return nil
	})
}

// ScanEvents calls fn with each event of the workspace whose name is one of
// names and whose id is in (after, upTo], in id order. ev.Properties is valid
// until fn returns. With no names it calls fn never. An error from fn stops
// the scan and is returned as is.
//
// Id order is the table's own on SQLite (the rowid): a walk of the
// events_customer index, by customer and timestamp, costs a row lookup per
// event, which was half the engine's back-fill; the engine orders each
// customer's events itself.
func (s *Store) ScanEvents(ctx context.Context, workspaceID int64, names []string, after, upTo int64, fn func(touchbase.EventRow) error) error {
	if len(names) == 0 {
		return nil
	}
	args := make([]any, 0, 3+len(names))
	args = append(args, workspaceID, after, upTo)
	for _, n := range names {
		args = append(args, n)
	}
	q := s.d.q("SELECT e.id, e.customer_id, e.event, e.timestamp, e.properties FROM events e WHERE e.workspace_id = ? AND e.id > ? AND e.id <= ? AND e.event IN (?" +
		strings.Repeat(", ?", len(names)-1) + ") ORDER BY e.id")
	return s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("scan events: %w", err)
		}
		defer rows.Close()
		// The names are few: each row's is one of them, not a new string.
		var name, props sql.RawBytes
		for rows.Next() {
			var ev touchbase.EventRow
			if err := rows.Scan(&ev.ID, &ev.CustomerID, &name, &ev.Timestamp, &props); err != nil {
				return fmt.Errorf("scan events: %w", err)
			}
			for _, n := range names {
				if n == string(name) {
					ev.Event = n
					break
				}
			}
			if ev.Event == "" && len(name) > 0 {
				ev.Event = string(name) // compared otherwise (a collation)
			}
			if len(props) > 0 {
				ev.Properties = json.RawMessage(props)
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("scan events: %w", err)
		}
		return nil
	})
}

// LastEventID returns the id of the workspace's latest event (0 for none):
// the engine's starting point for following the events table.
func (s *Store) LastEventID(ctx context.Context, workspaceID int64) (int64, error) {
	// "max(id) ... WHERE workspace_id = ?" walks the workspace's entries
	// in events_customer (7 s for 21 million events on SQLite). Read
	// backwards in id order instead, to the workspace's latest event: the
	// first row in a store of one workspace. The unary plus keeps SQLite
	// from taking the index for the equality (PostgreSQL ignores it).
	var id int64
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, s.d.q("SELECT id FROM events WHERE +workspace_id = ? ORDER BY id DESC LIMIT 1"), workspaceID).Scan(&id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last event: %w", err)
	}
	return id, nil
}

// EventsAfter returns up to limit of the workspace's events with ids above
// after, in id order: what the engine has not seen yet. Ingestion commits a
// workspace's events in id order (one writer on SQLite, the workspace's
// advisory lock on PostgreSQL), so following ids misses nothing.
func (s *Store) EventsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]touchbase.EventRow, error) {
	var out []touchbase.EventRow
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT id, customer_id, event, timestamp, properties FROM events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?"),
			[]any{workspaceID, after, limit}, func(rows *sql.Rows) error {
				var ev touchbase.EventRow
				var props []byte
				if err := rows.Scan(&ev.ID, &ev.CustomerID, &ev.Event, &ev.Timestamp, &props); err != nil {
					return err
				}
				if len(props) > 0 {
					ev.Properties = props
				}
				out = append(out, ev)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return out, nil
}

// EventNames returns the distinct names of the workspace's events (track
// names, page and screen names), sorted: the vocabulary "did you mean"
// draws on. It reads every event of the workspace.
func (s *Store) EventNames(ctx context.Context, workspaceID int64) ([]string, error) {
	var out []string
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT DISTINCT event FROM events WHERE workspace_id = ? AND event <> '' ORDER BY event"),
			[]any{workspaceID}, func(rows *sql.Rows) error {
				var name string
				err := rows.Scan(&name)
				out = append(out, name)
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("event names: %w", err)
	}
	return out, nil
}
