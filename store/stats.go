package store

import (
	"context"
	"fmt"

	"github.com/touchbase/touchbase"
)

var _ touchbase.StatsService = (*Store)(nil)

// Stats returns the workspace's totals: customers, events, orders that are
// not cancelled, their revenue net of refunds, and products. It counts rows
// rather than summing per-customer counters so that it is right whatever
// ingestion did; on very large workspaces that is a full index scan.
func (s *Store) Stats(ctx context.Context, workspaceID int64) (*touchbase.Stats, error) {
	var st touchbase.Stats
	err := s.rdb.QueryRowContext(ctx, s.d.q(`SELECT
		(SELECT count(*) FROM customers WHERE workspace_id = ?),
		(SELECT count(*) FROM events WHERE workspace_id = ?),
		(SELECT count(*) FROM orders WHERE workspace_id = ? AND status <> 'cancelled'),
		(SELECT coalesce(sum(revenue - refunded), 0) FROM orders WHERE workspace_id = ? AND status <> 'cancelled'),
		(SELECT count(*) FROM products WHERE workspace_id = ?)`),
		workspaceID, workspaceID, workspaceID, workspaceID, workspaceID).
		Scan(&st.Customers, &st.Events, &st.Orders, &st.Revenue, &st.Products)
	if err != nil {
		return nil, fmt.Errorf("stats of workspace %d: %w", workspaceID, err)
	}
	return &st, nil
}
