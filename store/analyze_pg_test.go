package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/storetest"
)

// TestAnalyzeYoungTables: on PostgreSQL, the store analyses the ingestion
// tables once the first thousand events are in, without waiting for
// autovacuum, so the planner does not plan for empty tables.
func TestAnalyzeYoungTables(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		if be.Name != "postgres" {
			continue
		}
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			s := be.Open(t)
			ws := storetest.Workspace(t, s, "young").ID
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			ins := make([]touchbase.Inbound, 1000)
			for i := range ins {
				ins[i] = touchbase.Inbound{WorkspaceID: ws, MessageID: fmt.Sprintf("m%d", i), Type: touchbase.EventTrack,
					Event: "Product Viewed", UserID: fmt.Sprintf("u%d", i%300), Timestamp: now, ReceivedAt: now}
			}
			if _, err := s.Ingest(ctx, ins); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				n := storetest.QueryInt(t, s, `SELECT count(*) FROM pg_stat_user_tables
					WHERE relname IN ('customers', 'identities', 'events') AND last_analyze IS NOT NULL`)
				if n == 3 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of customers, identities, events analysed 20 s after the first 1,000 events", n)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
