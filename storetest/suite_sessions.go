package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testSessions covers console sessions: creation needs a membership, the
// token is stored hashed, expiry slides up to the absolute cap, switching
// workspaces needs a membership, and deletion signs out.
func testSessions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	a := Workspace(t, s, "a")
	b := Workspace(t, s, "b")
	c := Workspace(t, s, "c")
	m, err := s.CreateUser(ctx, a.ID, "ann@example.com", "Ann", "", touchbase.RoleOwner)
	must(t, err)
	_, err = s.CreateUser(ctx, b.ID, "ann@example.com", "", "", touchbase.RoleAnalyst)
	must(t, err)
	uid := m.ID

	sess, token, err := s.CreateSession(ctx, uid, a.ID)
	must(t, err)
	if sess.ID == 0 || sess.UserID != uid || sess.WorkspaceID != a.ID || !sess.ExpiresAt.Equal(Epoch.Add(touchbase.SessionIdleTimeout)) {
		t.Fatalf("created %+v", sess)
	}
	sum := sha256.Sum256([]byte(token))
	if got := QueryStrings(t, s, "SELECT token_hash FROM sessions WHERE id = ?", sess.ID); len(got) != 1 || got[0] != hex.EncodeToString(sum[:]) {
		t.Errorf("stored token hash %v, want the SHA-256 of the token only", got)
	}

	t.Run("create errors", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			user, ws int64
			code     string
		}{
			{"not a member", uid, c.ID, touchbase.EFORBIDDEN},
			{"unknown user", uid + 1000, a.ID, touchbase.ENOTFOUND},
			{"unknown workspace", uid, c.ID + 1000, touchbase.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.CreateSession(ctx, tc.user, tc.ws)
				wantCode(t, err, tc.code)
			})
		}
	})

	t.Run("authenticate", func(t *testing.T) {
		got, err := s.AuthenticateSession(ctx, token)
		must(t, err)
		if got.ID != sess.ID || got.UserID != uid || got.WorkspaceID != a.ID {
			t.Errorf("AuthenticateSession = %+v, want %+v", got, sess)
		}
		// The token with its last character changed (to "x", or "y" when
		// it is an "x" already: one token in 64 ends so).
		other := "x"
		if strings.HasSuffix(token, "x") {
			other = "y"
		}
		for _, bad := range []string{"", "tbs_short", token[:len(token)-1] + other, "tba_" + token[4:]} {
			_, err := s.AuthenticateSession(ctx, bad)
			wantCode(t, err, touchbase.EUNAUTHORIZED)
		}
	})

	t.Run("sliding expiry with a cap", func(t *testing.T) {
		_, tok, err := s.CreateSession(ctx, uid, a.ID)
		must(t, err)
		// Used every 10 days, it lives on past 14 days, until 30.
		for day := 10; day <= 29; day += 10 {
			fixedClock(s, Epoch.Add(time.Duration(day)*24*time.Hour))
			got, err := s.AuthenticateSession(ctx, tok)
			must(t, err)
			want := Epoch.Add(time.Duration(day)*24*time.Hour + touchbase.SessionIdleTimeout)
			if limit := Epoch.Add(touchbase.SessionMaxAge); want.After(limit) {
				want = limit
			}
			if !got.ExpiresAt.Equal(want) {
				t.Errorf("day %d: expires %v, want %v", day, got.ExpiresAt, want)
			}
		}
		fixedClock(s, Epoch.Add(touchbase.SessionMaxAge))
		_, err = s.AuthenticateSession(ctx, tok)
		wantCode(t, err, touchbase.EUNAUTHORIZED)

		// Unused for longer than the idle timeout, it is gone.
		fixedClock(s, Epoch)
		_, tok, err = s.CreateSession(ctx, uid, a.ID)
		must(t, err)
		fixedClock(s, Epoch.Add(touchbase.SessionIdleTimeout))
		_, err = s.AuthenticateSession(ctx, tok)
		wantCode(t, err, touchbase.EUNAUTHORIZED)
		fixedClock(s, Epoch)
	})

	t.Run("switch workspace", func(t *testing.T) {
		got, err := s.SetSessionWorkspace(ctx, sess.ID, b.ID)
		must(t, err)
		if got.WorkspaceID != b.ID {
			t.Errorf("switched to %d, want %d", got.WorkspaceID, b.ID)
		}
		if got, err := s.AuthenticateSession(ctx, token); err != nil || got.WorkspaceID != b.ID {
			t.Errorf("after switch: %+v, %v", got, err)
		}
		_, err = s.SetSessionWorkspace(ctx, sess.ID, c.ID)
		wantCode(t, err, touchbase.EFORBIDDEN)
		_, err = s.SetSessionWorkspace(ctx, sess.ID+1000, a.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	t.Run("delete", func(t *testing.T) {
		must(t, s.DeleteSession(ctx, sess.ID))
		_, err := s.AuthenticateSession(ctx, token)
		wantCode(t, err, touchbase.EUNAUTHORIZED)
		must(t, s.DeleteSession(ctx, sess.ID))
	})

	t.Run("expired ones are cleaned up", func(t *testing.T) {
		fixedClock(s, Epoch.Add(365*24*time.Hour))
		_, _, err := s.CreateSession(ctx, uid, a.ID)
		must(t, err)
		if n := QueryInt(t, s, "SELECT count(*) FROM sessions"); n != 1 {
			t.Errorf("%d sessions left, want only the new one", n)
		}
	})
}

// testMemberships covers ListMemberships: a user's workspaces by name, with
// their role in each.
func testMemberships(t *testing.T, s *store.Store) {
	ctx := context.Background()
	zeta := Workspace(t, s, "Zeta")
	alpha := Workspace(t, s, "Alpha")
	other := Workspace(t, s, "Other")
	m, err := s.CreateUser(ctx, zeta.ID, "max@example.com", "", "", touchbase.RoleOwner)
	must(t, err)
	_, err = s.CreateUser(ctx, alpha.ID, "max@example.com", "", "", touchbase.RoleAnalyst)
	must(t, err)
	_, err = s.CreateUser(ctx, other.ID, "someone@example.com", "", "", touchbase.RoleOwner)
	must(t, err)

	got, err := s.ListMemberships(ctx, m.ID)
	must(t, err)
	want := []touchbase.Membership{
		{WorkspaceID: alpha.ID, WorkspaceName: "Alpha", Role: touchbase.RoleAnalyst},
		{WorkspaceID: zeta.ID, WorkspaceName: "Zeta", Role: touchbase.RoleOwner},
	}
	if len(got) != len(want) {
		t.Fatalf("ListMemberships = %d, want %d", len(got), len(want))
	}
	for i := range want {
		if *got[i] != want[i] {
			t.Errorf("membership %d = %+v, want %+v", i, *got[i], want[i])
		}
	}
	none, err := s.ListMemberships(ctx, m.ID+1000)
	must(t, err)
	if none == nil || len(none) != 0 {
		t.Errorf("unknown user: %v, want an empty list", none)
	}
}
