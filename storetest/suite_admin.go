package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

func testWorkspaces(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	a, err := s.CreateWorkspace(ctx, "  Acme Shop ")
	must(t, err)
	if a.ID == 0 || a.Name != "Acme Shop" || !a.CreatedAt.Equal(Epoch) {
		t.Errorf("created %+v, want trimmed name, an id and the clock's time", a)
	}
	if a.Settings.Currency != "USD" || a.Settings.Timezone != "UTC" || a.Settings.AllowedOrigins == nil {
		t.Errorf("default settings %+v", a.Settings)
	}
	fixedClock(s, Epoch.Add(time.Hour))
	b, err := s.CreateWorkspace(ctx, "Beta")
	must(t, err)

	t.Run("create errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, input, code string
		}{
			{"empty", "", touchbase.EINVALID},
			{"blank", "   ", touchbase.EINVALID},
			{"too long", strings.Repeat("x", 201), touchbase.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.CreateWorkspace(ctx, tc.input)
				wantCode(t, err, tc.code)
			})
		}
	})

	// Names are labels: another tenant's name is no conflict, so that
	// creating a workspace never tells which names others use.
	t.Run("names need not be unique", func(t *testing.T) {
		twin, err := s.CreateWorkspace(ctx, " Beta")
		must(t, err)
		if twin.ID == b.ID || twin.Name != "Beta" {
			t.Errorf("second Beta = %+v", twin)
		}
		_, err = s.FindWorkspaceByName(ctx, "Beta")
		wantCode(t, err, touchbase.ECONFLICT)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(twin.ID)) {
			t.Errorf("ambiguous name: %v, want the ids named", err)
		}
		renamed := "Beta Twin"
		_, err = s.UpdateWorkspace(ctx, twin.ID, touchbase.WorkspaceUpdate{Name: &renamed})
		must(t, err)
	})

	t.Run("find", func(t *testing.T) {
		got, err := s.FindWorkspace(ctx, a.ID)
		must(t, err)
		if got.ID != a.ID || got.Name != a.Name || !got.CreatedAt.Equal(a.CreatedAt) || got.Settings.Currency != "USD" {
			t.Errorf("FindWorkspace = %+v, want %+v", got, a)
		}
		got, err = s.FindWorkspaceByName(ctx, "Beta")
		must(t, err)
		if got.ID != b.ID {
			t.Errorf("FindWorkspaceByName = %d, want %d", got.ID, b.ID)
		}
		_, err = s.FindWorkspace(ctx, b.ID+1000)
		wantCode(t, err, touchbase.ENOTFOUND)
		_, err = s.FindWorkspaceByName(ctx, "Gamma")
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	t.Run("list oldest first", func(t *testing.T) {
		ws, err := s.ListWorkspaces(ctx)
		must(t, err)
		if len(ws) != 3 || ws[0].ID != a.ID || ws[1].ID != b.ID {
			t.Fatalf("ListWorkspaces = %v", ws)
		}
	})

	t.Run("update", func(t *testing.T) {
		name := "Acme"
		set := touchbase.WorkspaceSettings{AllowedOrigins: []string{"https://acme.example", "http://localhost:3000"}, RateLimit: 500,
			Currency: "EUR", Timezone: "Europe/Berlin"}
		got, err := s.UpdateWorkspace(ctx, a.ID, touchbase.WorkspaceUpdate{Name: &name, Settings: &set})
		must(t, err)
		if got.Name != "Acme" || got.Settings.Currency != "EUR" {
			t.Errorf("UpdateWorkspace = %+v", got)
		}
		got, err = s.FindWorkspace(ctx, a.ID)
		must(t, err)
		if got.Name != "Acme" || !slices.Equal(got.Settings.AllowedOrigins, set.AllowedOrigins) || got.Settings.RateLimit != 500 ||
			got.Settings.Timezone != "Europe/Berlin" {
			t.Errorf("after update FindWorkspace = %+v", got)
		}
		// A nil field keeps what is there.
		got, err = s.UpdateWorkspace(ctx, a.ID, touchbase.WorkspaceUpdate{})
		must(t, err)
		if got.Name != "Acme" || got.Settings.RateLimit != 500 {
			t.Errorf("empty update changed %+v", got)
		}
		// Renaming to its own name, or another's, is not a conflict.
		_, err = s.UpdateWorkspace(ctx, a.ID, touchbase.WorkspaceUpdate{Name: &name})
		must(t, err)
		beta := "Beta"
		_, err = s.UpdateWorkspace(ctx, a.ID, touchbase.WorkspaceUpdate{Name: &beta})
		must(t, err)
		_, err = s.UpdateWorkspace(ctx, a.ID, touchbase.WorkspaceUpdate{Name: &name})
		must(t, err)
	})

	t.Run("update errors", func(t *testing.T) {
		str := func(s string) *string { return &s }
		for _, tc := range []struct {
			name string
			id   int64
			upd  touchbase.WorkspaceUpdate
			code string
		}{
			{"missing", b.ID + 1000, touchbase.WorkspaceUpdate{Name: str("x")}, touchbase.ENOTFOUND},
			{"empty name", a.ID, touchbase.WorkspaceUpdate{Name: str(" ")}, touchbase.EINVALID},
			{"bad origin", a.ID, touchbase.WorkspaceUpdate{Settings: &touchbase.WorkspaceSettings{AllowedOrigins: []string{"acme.example"}}}, touchbase.EINVALID},
			{"origin with path", a.ID, touchbase.WorkspaceUpdate{Settings: &touchbase.WorkspaceSettings{AllowedOrigins: []string{"https://acme.example/shop"}}}, touchbase.EINVALID},
			{"negative rate", a.ID, touchbase.WorkspaceUpdate{Settings: &touchbase.WorkspaceSettings{RateLimit: -1}}, touchbase.EINVALID},
			{"bad currency", a.ID, touchbase.WorkspaceUpdate{Settings: &touchbase.WorkspaceSettings{Currency: "euro"}}, touchbase.EINVALID},
			{"bad timezone", a.ID, touchbase.WorkspaceUpdate{Settings: &touchbase.WorkspaceSettings{Timezone: "Mars/Olympus"}}, touchbase.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.UpdateWorkspace(ctx, tc.id, tc.upd)
				wantCode(t, err, tc.code)
			})
		}
		got, err := s.FindWorkspace(ctx, a.ID)
		must(t, err)
		if got.Name != "Acme" || got.Settings.Currency != "EUR" {
			t.Errorf("a failed update changed the workspace: %+v", got)
		}
	})
}

func testUsers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	other := Workspace(t, s, "other")
	const password = "correct horse battery"

	owner, err := s.CreateUser(ctx, w.ID, " Ada@Example.COM ", "Ada", password, touchbase.RoleOwner)
	must(t, err)
	if owner.ID == 0 || owner.Email != "ada@example.com" || owner.Name != "Ada" || owner.Role != touchbase.RoleOwner || owner.WorkspaceID != w.ID {
		t.Fatalf("CreateUser = %+v", owner)
	}

	t.Run("password stored as pbkdf2 hash", func(t *testing.T) {
		hash := QueryStrings(t, s, "SELECT password_hash FROM users WHERE id = ?", owner.ID)[0]
		parts := strings.Split(hash, "$")
		if len(parts) != 4 || parts[0] != "pbkdf2-sha256" || parts[1] != "600000" || strings.Contains(hash, password) {
			t.Errorf("password_hash = %q, want pbkdf2-sha256$600000$salt$hash", hash)
		}
	})

	t.Run("create errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, email, password string
			ws                    int64
			role                  touchbase.Role
			code                  string
		}{
			{"bad email", "not an email", "", w.ID, touchbase.RoleAdmin, touchbase.EINVALID},
			{"bad role", "bob@example.com", "", w.ID, "root", touchbase.EINVALID},
			{"empty role", "bob@example.com", "", w.ID, "", touchbase.EINVALID},
			{"short password", "bob@example.com", "short", w.ID, touchbase.RoleAdmin, touchbase.EINVALID},
			{"already member", "ADA@example.com", "", w.ID, touchbase.RoleAdmin, touchbase.ECONFLICT},
			{"no workspace", "bob@example.com", "", other.ID + 1000, touchbase.RoleAdmin, touchbase.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.CreateUser(ctx, tc.ws, tc.email, "", tc.password, tc.role)
				wantCode(t, err, tc.code)
			})
		}
	})

	analyst, err := s.CreateUser(ctx, w.ID, "bob@example.com", "Bob", "", touchbase.RoleAnalyst)
	must(t, err)

	t.Run("existing user joins another workspace", func(t *testing.T) {
		// The password given now must not replace Ada's: an owner of one
		// workspace must not take over an account used in another.
		m, err := s.CreateUser(ctx, other.ID, "ada@example.com", "Someone Else", "attacker-chosen-password", touchbase.RoleMarketer)
		must(t, err)
		if m.ID != owner.ID || m.Name != "Ada" || m.Role != touchbase.RoleMarketer || m.WorkspaceID != other.ID {
			t.Errorf("CreateUser for an existing user = %+v", m)
		}
		_, err = s.Authenticate(ctx, "ada@example.com", "attacker-chosen-password")
		wantCode(t, err, touchbase.EUNAUTHORIZED)
	})

	t.Run("list and find", func(t *testing.T) {
		ms, err := s.ListMembers(ctx, w.ID)
		must(t, err)
		if len(ms) != 2 || ms[0].ID != owner.ID || ms[1].ID != analyst.ID || ms[1].Role != touchbase.RoleAnalyst {
			t.Fatalf("ListMembers = %+v", ms)
		}
		m, err := s.FindMember(ctx, w.ID, analyst.ID)
		must(t, err)
		if m.Email != "bob@example.com" || m.Role != touchbase.RoleAnalyst {
			t.Errorf("FindMember = %+v", m)
		}
		_, err = s.FindMember(ctx, other.ID, analyst.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	t.Run("authenticate", func(t *testing.T) {
		u, err := s.Authenticate(ctx, "ADA@example.com ", password)
		must(t, err)
		if u.ID != owner.ID || u.Email != "ada@example.com" {
			t.Errorf("Authenticate = %+v", u)
		}
		for _, tc := range []struct{ name, email, password string }{
			{"wrong password", "ada@example.com", password + "!"},
			{"unknown email", "nobody@example.com", password},
			{"user without password", "bob@example.com", ""},
			{"empty", "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Authenticate(ctx, tc.email, tc.password)
				wantCode(t, err, touchbase.EUNAUTHORIZED)
			})
		}
	})

	t.Run("set password", func(t *testing.T) {
		wantCode(t, s.SetPassword(ctx, analyst.ID, "1234567"), touchbase.EINVALID)
		wantCode(t, s.SetPassword(ctx, analyst.ID+1000, "long enough"), touchbase.ENOTFOUND)
		must(t, s.SetPassword(ctx, analyst.ID, "bobs new password"))
		u, err := s.Authenticate(ctx, "bob@example.com", "bobs new password")
		must(t, err)
		if u.ID != analyst.ID {
			t.Errorf("Authenticate = %+v", u)
		}
	})

	t.Run("roles and the last owner", func(t *testing.T) {
		_, err := s.SetMemberRole(ctx, w.ID, owner.ID, touchbase.RoleAdmin)
		wantCode(t, err, touchbase.ECONFLICT)
		wantCode(t, s.RemoveMember(ctx, w.ID, owner.ID), touchbase.ECONFLICT)
		_, err = s.SetMemberRole(ctx, w.ID, analyst.ID, "boss")
		wantCode(t, err, touchbase.EINVALID)
		_, err = s.SetMemberRole(ctx, w.ID, analyst.ID+1000, touchbase.RoleAdmin)
		wantCode(t, err, touchbase.ENOTFOUND)
		wantCode(t, s.RemoveMember(ctx, w.ID, analyst.ID+1000), touchbase.ENOTFOUND)

		m, err := s.SetMemberRole(ctx, w.ID, analyst.ID, touchbase.RoleOwner)
		must(t, err)
		if m.Role != touchbase.RoleOwner {
			t.Errorf("SetMemberRole = %+v", m)
		}
		// Now Ada is not the last owner.
		m, err = s.SetMemberRole(ctx, w.ID, owner.ID, touchbase.RoleMarketer)
		must(t, err)
		if m.Role != touchbase.RoleMarketer {
			t.Errorf("SetMemberRole = %+v", m)
		}
		wantCode(t, s.RemoveMember(ctx, w.ID, analyst.ID), touchbase.ECONFLICT)
		must(t, s.RemoveMember(ctx, w.ID, owner.ID))
		_, err = s.FindMember(ctx, w.ID, owner.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		// Removing a member does not delete the user or their other memberships.
		if _, err := s.FindMember(ctx, other.ID, owner.ID); err != nil {
			t.Errorf("membership in the other workspace: %v", err)
		}
	})

	t.Run("concurrent demotions keep an owner", func(t *testing.T) {
		// Two owners demote each other at once: one must fail. Repeated,
		// because a race shows only sometimes.
		x, err := s.CreateUser(ctx, other.ID, "x@example.com", "", "", touchbase.RoleOwner)
		must(t, err)
		for round := range 25 {
			for _, id := range []int64{x.ID, owner.ID} {
				_, err := s.SetMemberRole(ctx, other.ID, id, touchbase.RoleOwner)
				must(t, err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range []int64{x.ID, owner.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = s.SetMemberRole(ctx, other.ID, id, touchbase.RoleAdmin)
				}()
			}
			wg.Wait()
			owners := QueryInt(t, s, "SELECT count(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'", other.ID)
			if owners != 1 {
				t.Fatalf("round %d: after two concurrent demotions %d owners remain (errors %v), want 1", round, owners, errs)
			}
		}
	})
}

func testKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	fixedClock(s, Epoch)

	wk, wsecret, err := s.CreateKey(ctx, w.ID, touchbase.KeyWrite, "", " website ")
	must(t, err)
	fixedClock(s, Epoch.Add(time.Second))
	ak, asecret, err := s.CreateKey(ctx, w.ID, touchbase.KeyAdmin, touchbase.RoleAnalyst, "dashboards")
	must(t, err)

	t.Run("secrets", func(t *testing.T) {
		if !strings.HasPrefix(wsecret, "tbw_") || !strings.HasPrefix(asecret, "tba_") || len(wsecret) < 40 || wsecret == asecret {
			t.Errorf("secrets %q and %q", wsecret, asecret)
		}
		if wk.Prefix != wsecret[:12] || ak.Prefix != asecret[:12] {
			t.Errorf("prefixes %q %q", wk.Prefix, ak.Prefix)
		}
		if wk.Kind != touchbase.KeyWrite || wk.Role != "" || wk.Name != "website" || wk.WorkspaceID != w.ID {
			t.Errorf("write key %+v", wk)
		}
		if ak.Kind != touchbase.KeyAdmin || ak.Role != touchbase.RoleAnalyst {
			t.Errorf("admin key %+v", ak)
		}
		_, again, err := s.CreateKey(ctx, w.ID, touchbase.KeyWrite, "", "")
		must(t, err)
		if again == wsecret {
			t.Error("two keys share a secret")
		}
	})

	t.Run("not stored in plain text", func(t *testing.T) {
		for _, secret := range []string{wsecret, asecret} {
			rows := QueryStrings(t, s, "SELECT kind || '|' || role || '|' || name || '|' || prefix || '|' || hash FROM api_keys")
			for _, row := range rows {
				if strings.Contains(row, secret) || strings.Contains(row, secret[12:]) {
					t.Errorf("api_keys row %q holds the secret", row)
				}
			}
			sum := sha256.Sum256([]byte(secret))
			if n := QueryInt(t, s, "SELECT count(*) FROM api_keys WHERE hash = ?", hex.EncodeToString(sum[:])); n != 1 {
				t.Errorf("%d keys with the secret's SHA-256, want 1", n)
			}
		}
	})

	t.Run("create errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			ws   int64
			kind touchbase.KeyKind
			role touchbase.Role
			code string
		}{
			{"bad kind", w.ID, "read", "", touchbase.EINVALID},
			{"admin without role", w.ID, touchbase.KeyAdmin, "", touchbase.EINVALID},
			{"admin bad role", w.ID, touchbase.KeyAdmin, "god", touchbase.EINVALID},
			{"write with role", w.ID, touchbase.KeyWrite, touchbase.RoleOwner, touchbase.EINVALID},
			{"no workspace", w.ID + 1000, touchbase.KeyWrite, "", touchbase.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.CreateKey(ctx, tc.ws, tc.kind, tc.role, "")
				wantCode(t, err, tc.code)
			})
		}
	})

	t.Run("authenticate", func(t *testing.T) {
		k, err := s.AuthenticateKey(ctx, wsecret)
		must(t, err)
		if k.ID != wk.ID || k.WorkspaceID != w.ID || k.Kind != touchbase.KeyWrite {
			t.Errorf("AuthenticateKey(write) = %+v", k)
		}
		k, err = s.AuthenticateKey(ctx, asecret)
		must(t, err)
		if k.ID != ak.ID || k.Role != touchbase.RoleAnalyst {
			t.Errorf("AuthenticateKey(admin) = %+v", k)
		}
		for _, bad := range []string{"", "tbw_", wsecret + "x", wsecret[:len(wsecret)-1], strings.ToUpper(wsecret), "tbw_" + strings.Repeat("a", 43), wk.Prefix} {
			_, err := s.AuthenticateKey(ctx, bad)
			wantCode(t, err, touchbase.EUNAUTHORIZED)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		fixedClock(s, Epoch.Add(time.Hour))
		must(t, s.RevokeKey(ctx, w.ID, wk.ID))
		_, err := s.AuthenticateKey(ctx, wsecret)
		wantCode(t, err, touchbase.EUNAUTHORIZED)
		must(t, s.RevokeKey(ctx, w.ID, wk.ID)) // again: no change, no error
		wantCode(t, s.RevokeKey(ctx, w.ID, ak.ID+1000), touchbase.ENOTFOUND)
		if _, err := s.AuthenticateKey(ctx, asecret); err != nil {
			t.Errorf("revoking one key broke another: %v", err)
		}
	})

	t.Run("list oldest first with revoked", func(t *testing.T) {
		ks, err := s.ListKeys(ctx, w.ID)
		must(t, err)
		if len(ks) != 3 || ks[0].ID != wk.ID || ks[1].ID != ak.ID {
			t.Fatalf("ListKeys = %+v", ks)
		}
		if ks[0].RevokedAt == nil || !ks[0].RevokedAt.Equal(Epoch.Add(time.Hour)) || ks[1].RevokedAt != nil {
			t.Errorf("revoked_at: %v %v", ks[0].RevokedAt, ks[1].RevokedAt)
		}
		if !ks[0].CreatedAt.Equal(Epoch) || ks[0].Prefix != wk.Prefix || ks[0].Name != "website" {
			t.Errorf("listed key %+v", ks[0])
		}
	})
}

func testBootstrap(t *testing.T, s *store.Store) {
	ctx := context.Background()
	// Two processes start at once on an empty database: one creates.
	var wg sync.WaitGroup
	results := make([]*store.BootstrapResult, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Bootstrap(ctx, "")
		}()
	}
	wg.Wait()
	must(t, errs[0])
	must(t, errs[1])
	first, second := results[0], results[1]
	if !first.Created {
		first, second = second, first
	}
	if !first.Created || second.Created {
		t.Fatalf("Created = %v and %v, want exactly one", first.Created, second.Created)
	}
	if first.Workspace.Name != "default" || second.Workspace.ID != first.Workspace.ID {
		t.Errorf("workspaces %+v and %+v", first.Workspace, second.Workspace)
	}
	if len(first.Password) != 20 || second.Password != "" {
		t.Errorf("passwords %q and %q, want 20 characters once", first.Password, second.Password)
	}
	if first.Owner == nil || first.Owner.Email != "owner@localhost" {
		t.Fatalf("owner %+v", first.Owner)
	}
	if n := QueryInt(t, s, "SELECT count(*) FROM workspaces"); n != 1 {
		t.Errorf("%d workspaces after two bootstraps", n)
	}

	m, err := s.FindMember(ctx, first.Workspace.ID, first.Owner.ID)
	must(t, err)
	if m.Role != touchbase.RoleOwner {
		t.Errorf("owner role %q", m.Role)
	}
	u, err := s.Authenticate(ctx, "owner@localhost", first.Password)
	must(t, err)
	if u.ID != first.Owner.ID {
		t.Errorf("Authenticate = %+v", u)
	}

	// Later starts change nothing, whatever email they pass.
	must(t, s.SetPassword(ctx, u.ID, "changed by the owner"))
	again, err := s.Bootstrap(ctx, "someone@example.com")
	must(t, err)
	if again.Created || again.Password != "" || again.Workspace.ID != first.Workspace.ID || again.Owner == nil || again.Owner.ID != u.ID {
		t.Errorf("third Bootstrap = %+v", again)
	}
	if _, err := s.Authenticate(ctx, "owner@localhost", "changed by the owner"); err != nil {
		t.Errorf("Bootstrap changed the owner's password: %v", err)
	}
	_, err = s.Bootstrap(ctx, "not an email")
	wantCode(t, err, touchbase.EINVALID)
}

// testBootstrapRace has another process create the default workspace while
// Bootstrap runs: Bootstrap must end up with that workspace, not fail and
// not make a second one. The other process's transaction is held open
// until Bootstrap is blocked behind it (on PostgreSQL, waiting on the
// advisory lock every Bootstrap takes, workspace names being no longer
// unique; on SQLite, for the one write connection).
func testBootstrapRace(t *testing.T, s *store.Store) {
	ctx := context.Background()
	tx, err := s.DB().BeginTx(ctx, nil)
	must(t, err)
	defer tx.Rollback()
	if s.Dialect() == "postgres" {
		_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('touchbase bootstrap'))")
		must(t, err)
	}
	var wsID int64
	must(t, tx.QueryRowContext(ctx, placeholders(s, "INSERT INTO workspaces (name, settings, created_at) VALUES ('default', '{}', 0) RETURNING id")).Scan(&wsID))

	type result struct {
		r   *store.BootstrapResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := s.Bootstrap(ctx, "")
		done <- result{r, err}
	}()
	waitBlocked(t, s)
	must(t, tx.Commit())
	res := <-done
	must(t, res.err)
	if res.r.Created || res.r.Password != "" || res.r.Workspace.ID != wsID {
		t.Errorf("Bootstrap = %+v, want the other process's workspace %d, not created", res.r, wsID)
	}
	if n := QueryInt(t, s, "SELECT count(*) FROM workspaces"); n != 1 {
		t.Errorf("%d workspaces", n)
	}
	if n := QueryInt(t, s, "SELECT count(*) FROM users"); n != 0 {
		t.Errorf("%d users: the losing bootstrap's owner was kept", n)
	}
}

// waitBlocked waits until another session waits for a lock (PostgreSQL),
// or long enough for Bootstrap to hash its password and queue for the
// write connection (SQLite, where the waiting cannot be observed).
func waitBlocked(t *testing.T, s *store.Store) {
	t.Helper()
	if s.Dialect() != "postgres" {
		time.Sleep(time.Second)
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := s.DB().QueryRowContext(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n)
		must(t, err)
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("Bootstrap never waited for the other transaction")
}
