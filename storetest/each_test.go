package storetest_test

import (
	"context"
	"testing"

	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestEach checks that every backend hands out a fresh, migrated, empty
// store of its own dialect.
func TestEach(t *testing.T) {
	var seen []string
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		seen = append(seen, s.Dialect())
		if s.Dialect() != t.Name()[len("TestEach/"):] {
			t.Errorf("subtest %s got dialect %s", t.Name(), s.Dialect())
		}
		ctx := context.Background()
		if _, err := s.DB().ExecContext(ctx, "INSERT INTO workspaces (name, created_at) VALUES ('leak', 1)"); err != nil {
			t.Fatalf("insert: %v", err)
		}
		// A second store of the same backend must not see the first's rows.
		b := storetest.Backends(t)
		for _, bk := range b {
			if bk.Name != s.Dialect() {
				continue
			}
			other := bk.Open(t)
			var n int
			if err := other.DB().QueryRowContext(ctx, "SELECT count(*) FROM workspaces").Scan(&n); err != nil {
				t.Fatalf("count: %v", err)
			}
			if n != 0 {
				t.Errorf("fresh %s store has %d workspaces, want 0", bk.Name, n)
			}
		}
	})
	if len(seen) == 0 || seen[0] != "sqlite" {
		t.Errorf("backends run: %v, want sqlite first", seen)
	}
}
