package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
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

// TestErasedIdentitiesMigration: migration 00011 renames
// suppressed_identities to erased_identities with its rows, so that an
// identifier erased before the upgrade still drops late events, and an
// import's count recorded as "suppressed" reads as Erased. Down gives both
// their old names back.
func TestErasedIdentitiesMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.MigrateTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		ws := newWorkspace(t, s, "upgraded")
		sum := sha256.Sum256([]byte("gone@example.com"))
		if _, err := s.DB().Exec(rebind(s, "INSERT INTO suppressed_identities (workspace_id, kind, value_hash, created_at) VALUES (?, 'email', ?, 0)"), ws, hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		var imID int64
		if err := s.DB().QueryRow(rebind(s, `INSERT INTO imports (workspace_id, kind, status, counts, created_at)
			VALUES (?, 'events', 'done', '{"lines":5,"stored":1,"duplicates":1,"suppressed":3}', 0) RETURNING id`), ws).Scan(&imID); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		im, err := s.FindImport(ctx, ws, imID)
		if err != nil {
			t.Fatal(err)
		}
		if im.Erased != 3 || im.Stored != 1 || im.Duplicates != 1 || im.Lines != 5 {
			t.Errorf("counts after the upgrade %+v, want Erased 3 and the others as they were", im.ImportCounts)
		}
		q := &inboundSeq{ws: ws}
		res := ingestOK(t, s, q.identify("u1", "", map[string]any{"email": "gone@example.com"}))
		if res.Erased != 1 || res.Statuses[0] != touchbase.IngestErased {
			t.Fatalf("result %+v: an identifier erased before the upgrade is forgotten", res)
		}
		// Applied again over its own result, as storetest.Remigrate does,
		// it changes nothing.
		storetest.Remigrate(t, s, 11)
		if n := count(t, s, "SELECT count(*) FROM erased_identities WHERE workspace_id = ?", ws); n != 1 {
			t.Errorf("%d erased identifiers after migrating again, want 1", n)
		}

		if err := s.MigrateTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "SELECT count(*) FROM suppressed_identities WHERE workspace_id = ?", ws); n != 1 {
			t.Errorf("down: %d rows in suppressed_identities, want 1", n)
		}
		var counts string
		if err := s.DB().QueryRow(rebind(s, "SELECT counts FROM imports WHERE id = ?"), imID).Scan(&counts); err != nil {
			t.Fatal(err)
		}
		var back map[string]int64
		if err := json.Unmarshal([]byte(counts), &back); err != nil || back["suppressed"] != 3 || back["stored"] != 1 {
			t.Errorf("down: counts %s (%v), want suppressed 3 again", counts, err)
		}
		if _, ok := back["erased"]; ok {
			t.Errorf("down: counts %s keep erased", counts)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
