package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// TestMigrationsKeepForeignKeys: migration 00006 rebuilds the workspaces
// table with foreign keys off on SQLite's one writer connection; they must
// be on again afterwards, and the tables that refer to workspaces must
// still cascade to the rebuilt one.
func TestMigrationsKeepForeignKeys(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "touchbase.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var on int
	if err := s.DB().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", on, err)
	}
	ws, err := s.CreateWorkspace(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, ws.ID, "ann@example.com", "", "", touchbase.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "DELETE FROM workspaces WHERE id = ?", ws.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM memberships").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d memberships left after their workspace was deleted (%v): the cascade is gone", n, err)
	}
}
