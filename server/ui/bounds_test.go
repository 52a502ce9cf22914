package ui_test

import (
	"strings"
	"testing"

	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestDashboardOfAPoisonedWorkspace stores what ingestion accepted before
// numbers were bounded (two orders of 1e308, a revenue of +Inf): migration
// 6 repairs it and the dashboard shows again, on both databases.
func TestDashboardOfAPoisonedWorkspace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s)
		c := e.client()
		c.login("owner@example.com")
		inf := "9e999" // SQLite stored the sum; PostgreSQL refused it
		if s.Dialect() == "postgres" {
			inf = "1e308"
		}
		storetest.Exec(t, s, "UPDATE orders SET revenue = 1e308 WHERE workspace_id = ? AND order_id IN ('ADA-10', 'ADA-20')", e.acme.ID)
		storetest.Exec(t, s, "UPDATE customers SET revenue = "+inf+" WHERE workspace_id = ? AND user_id = 'ada'", e.acme.ID)
		// Poisoned, the dashboard fails (PostgreSQL) or shows "n/a"
		// (SQLite's +Inf), never a wrapped number.
		if p := c.do("GET", "/ui/?range=all", nil); p.status == 200 && !strings.Contains(p.body, "n/a") || strings.Contains(p.body, "92,233,720") {
			t.Fatalf("dashboard of a poisoned workspace: %d: %.300s", p.status, p.body)
		}
		storetest.Remigrate(t, s, 9)
		for _, path := range []string{"/ui/?range=all", "/ui/customers?sort=revenue"} {
			if p := c.do("GET", path, nil); p.status != 200 || strings.Contains(p.body, "n/a") {
				t.Errorf("GET %s after the repair: %d: %.300s", path, p.status, p.body)
			}
		}
	})
}
