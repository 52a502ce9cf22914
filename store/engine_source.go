package store

import (
	"context"
	"database/sql"
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
// primary identifiers, decoded traits and features (AOV included), without
// Identities. An error from fn stops the scan and is returned as is.
func (s *Store) ScanCustomers(ctx context.Context, workspaceID int64, fn func(*touchbase.Customer) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q("SELECT "+customerColumns+" FROM customers c WHERE c.workspace_id = ? ORDER BY c.id"), workspaceID)
		if err != nil {
			return fmt.Errorf("scan customers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCustomer(rows)
			if err != nil {
				return fmt.Errorf("scan customers: %w", err)
			}
			if err := fn(c); err != nil {
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
// names, ordered by customer and then timestamp (the events_customer
// index's order, so neither database sorts). With no names it calls fn
// never. An error from fn stops the scan and is returned as is.
func (s *Store) ScanEvents(ctx context.Context, workspaceID int64, names []string, fn func(touchbase.EventRow) error) error {
	if len(names) == 0 {
		return nil
	}
	args := make([]any, 0, 1+len(names))
	args = append(args, workspaceID)
	for _, n := range names {
		args = append(args, n)
	}
	q := s.d.q("SELECT e.customer_id, e.event, e.timestamp, e.properties FROM events e WHERE e.workspace_id = ? AND e.event IN (?" +
		strings.Repeat(", ?", len(names)-1) + ") ORDER BY e.customer_id, e.timestamp")
	return s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("scan events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				ev    touchbase.EventRow
				props []byte
			)
			if err := rows.Scan(&ev.CustomerID, &ev.Event, &ev.Timestamp, &props); err != nil {
				return fmt.Errorf("scan events: %w", err)
			}
			if len(props) > 0 {
				ev.Properties = props
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
