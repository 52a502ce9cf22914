package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testInvitations covers invitations: made without looking anyone up (the
// answer is the same for an address with an account elsewhere and one
// without), stored as a token hash, listed while pending, revoked, taken
// over by a new invitation of the same email, expiring, accepted once by
// the invited account or as a new one, and never letting an invitation
// set an existing account's password.
func testInvitations(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	shop := Workspace(t, s, "shop")
	other := Workspace(t, s, "other")
	const password = "correct horse battery"
	_, err := s.CreateUser(ctx, shop.ID, "owner@example.com", "Owner", password, touchbase.RoleOwner)
	must(t, err)
	// Eve has an account, in another workspace, with a name and a date.
	fixedClock(s, Epoch.Add(-400*24*time.Hour))
	eve, err := s.CreateUser(ctx, other.ID, "eve@example.com", "Eve Secret", password, touchbase.RoleOwner)
	must(t, err)
	fixedClock(s, Epoch)

	t.Run("same answer with or without an account", func(t *testing.T) {
		a, tokA, err := s.CreateInvitation(ctx, shop.ID, " Eve@Example.com ", touchbase.RoleAnalyst, "owner@example.com")
		must(t, err)
		b, tokB, err := s.CreateInvitation(ctx, shop.ID, "nobody@example.com", touchbase.RoleAnalyst, "owner@example.com")
		must(t, err)
		for _, inv := range []*touchbase.Invitation{a, b} {
			if inv.ID == 0 || inv.WorkspaceID != shop.ID || inv.Role != touchbase.RoleAnalyst || inv.InvitedBy != "owner@example.com" ||
				!inv.CreatedAt.Equal(Epoch) || !inv.ExpiresAt.Equal(Epoch.Add(touchbase.InvitationTTL)) || inv.AcceptedAt != nil {
				t.Errorf("invitation %+v", inv)
			}
		}
		if a.Email != "eve@example.com" || b.Email != "nobody@example.com" {
			t.Errorf("emails %q %q, want normalised", a.Email, b.Email)
		}
		for _, tok := range []string{tokA, tokB} {
			if !strings.HasPrefix(tok, "tbi_") || len(tok) != 47 {
				t.Errorf("token %q", tok)
			}
			sum := sha256.Sum256([]byte(tok))
			if n := QueryInt(t, s, "SELECT count(*) FROM invitations WHERE token_hash = ?", hex.EncodeToString(sum[:])); n != 1 {
				t.Errorf("token hash stored %d times, want once (and never the token)", n)
			}
		}
		// Not a member until accepted.
		_, err = s.FindMember(ctx, shop.ID, eve.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		must(t, s.RevokeInvitation(ctx, shop.ID, a.ID))
		must(t, s.RevokeInvitation(ctx, shop.ID, b.ID))
	})

	t.Run("create errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, email string
			ws          int64
			role        touchbase.Role
			code        string
		}{
			{"bad email", "not an email", shop.ID, touchbase.RoleAdmin, touchbase.EINVALID},
			{"bad role", "x@example.com", shop.ID, "root", touchbase.EINVALID},
			{"already a member", "OWNER@example.com", shop.ID, touchbase.RoleAdmin, touchbase.ECONFLICT},
			{"no workspace", "x@example.com", other.ID + 1000, touchbase.RoleAdmin, touchbase.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.CreateInvitation(ctx, tc.ws, tc.email, tc.role, "")
				wantCode(t, err, tc.code)
			})
		}
	})

	t.Run("list, reinvite, revoke, expire", func(t *testing.T) {
		first, tok1, err := s.CreateInvitation(ctx, shop.ID, "kim@example.com", touchbase.RoleAnalyst, "")
		must(t, err)
		second, tok2, err := s.CreateInvitation(ctx, shop.ID, "kim@example.com", touchbase.RoleMarketer, "")
		must(t, err)
		_, _, err = s.FindInvitation(ctx, tok1)
		wantCode(t, err, touchbase.ENOTFOUND) // the new one replaced it
		got, name, err := s.FindInvitation(ctx, tok2)
		must(t, err)
		if got.ID != second.ID || got.Role != touchbase.RoleMarketer || name != "shop" {
			t.Errorf("FindInvitation = %+v in %q", got, name)
		}
		lee, _, err := s.CreateInvitation(ctx, shop.ID, "lee@example.com", touchbase.RoleAnalyst, "")
		must(t, err)
		list, err := s.ListInvitations(ctx, shop.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != second.ID || list[1].ID != lee.ID {
			t.Errorf("ListInvitations = %+v, want kim's second and lee's", list)
		}
		if l, err := s.ListInvitations(ctx, other.ID); err != nil || len(l) != 0 {
			t.Errorf("other workspace's invitations: %v %v", l, err)
		}
		// Another workspace cannot revoke it; a revoked one is gone.
		wantCode(t, s.RevokeInvitation(ctx, other.ID, lee.ID), touchbase.ENOTFOUND)
		must(t, s.RevokeInvitation(ctx, shop.ID, lee.ID))
		wantCode(t, s.RevokeInvitation(ctx, shop.ID, lee.ID), touchbase.ENOTFOUND)
		wantCode(t, s.RevokeInvitation(ctx, shop.ID, first.ID), touchbase.ENOTFOUND)
		// Expiry.
		fixedClock(s, Epoch.Add(touchbase.InvitationTTL))
		_, _, err = s.FindInvitation(ctx, tok2)
		wantCode(t, err, touchbase.ENOTFOUND)
		if l, _ := s.ListInvitations(ctx, shop.ID); len(l) != 0 {
			t.Errorf("expired invitations listed: %+v", l)
		}
		_, err = s.AcceptInvitationAsNewUser(ctx, tok2, "Kim", password)
		wantCode(t, err, touchbase.ENOTFOUND)
		fixedClock(s, Epoch)
		for _, bad := range []string{"", "tbi_short", "tbs_" + strings.Repeat("a", 43), "tbi_" + strings.Repeat("a", 43)} {
			_, _, err := s.FindInvitation(ctx, bad)
			wantCode(t, err, touchbase.ENOTFOUND)
		}
		must(t, s.RevokeInvitation(ctx, shop.ID, second.ID))
	})

	t.Run("an existing account accepts", func(t *testing.T) {
		inv, tok, err := s.CreateInvitation(ctx, shop.ID, "eve@example.com", touchbase.RoleMarketer, "")
		must(t, err)
		// Only the invited account: not another one holding the link.
		outsider, err := s.CreateUser(ctx, other.ID, "mal@example.com", "Mal", password, touchbase.RoleAnalyst)
		must(t, err)
		_, err = s.AcceptInvitation(ctx, tok, outsider.ID)
		wantCode(t, err, touchbase.EFORBIDDEN)
		// Creating Eve's account again must not work (nor set her password).
		_, err = s.AcceptInvitationAsNewUser(ctx, tok, "Not Eve", "attacker-chosen-password")
		wantCode(t, err, touchbase.ECONFLICT)
		_, err = s.Authenticate(ctx, "eve@example.com", "attacker-chosen-password")
		wantCode(t, err, touchbase.EUNAUTHORIZED)

		fixedClock(s, Epoch.Add(time.Hour))
		m, err := s.AcceptInvitation(ctx, tok, eve.ID)
		must(t, err)
		if m.ID != eve.ID || m.WorkspaceID != shop.ID || m.Role != touchbase.RoleMarketer || !m.CreatedAt.Equal(Epoch.Add(time.Hour)) {
			t.Errorf("member %+v, want Eve as marketer since the acceptance", m)
		}
		// Used up.
		_, err = s.AcceptInvitation(ctx, tok, eve.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		wantCode(t, s.RevokeInvitation(ctx, shop.ID, inv.ID), touchbase.ENOTFOUND)
		if n := QueryInt(t, s, "SELECT count(*) FROM invitations WHERE id = ? AND accepted_by = ?", inv.ID, eve.ID); n != 1 {
			t.Errorf("acceptance not recorded")
		}
		fixedClock(s, Epoch)
	})

	t.Run("a new account accepts", func(t *testing.T) {
		_, tok, err := s.CreateInvitation(ctx, shop.ID, "new@example.com", touchbase.RoleAdmin, "")
		must(t, err)
		_, err = s.AcceptInvitationAsNewUser(ctx, tok, " ", password)
		wantCode(t, err, touchbase.EINVALID)
		_, err = s.AcceptInvitationAsNewUser(ctx, tok, "Nia", "short")
		wantCode(t, err, touchbase.EINVALID)
		m, err := s.AcceptInvitationAsNewUser(ctx, tok, " Nia ", password)
		must(t, err)
		if m.Email != "new@example.com" || m.Name != "Nia" || m.Role != touchbase.RoleAdmin || m.WorkspaceID != shop.ID {
			t.Errorf("member %+v", m)
		}
		if _, err := s.Authenticate(ctx, "new@example.com", password); err != nil {
			t.Errorf("the new account cannot sign in: %v", err)
		}
		_, err = s.AcceptInvitationAsNewUser(ctx, tok, "Nia", password)
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	t.Run("accepted once under concurrency", func(t *testing.T) {
		_, tok, err := s.CreateInvitation(ctx, shop.ID, "race@example.com", touchbase.RoleAnalyst, "")
		must(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.AcceptInvitationAsNewUser(ctx, tok, "Racer", password)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if c := touchbase.ErrorCode(err); c != touchbase.ENOTFOUND && c != touchbase.ECONFLICT {
				t.Errorf("concurrent accept: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d acceptances succeeded, want exactly 1 (%v)", ok, errs)
		}
	})
}

// testHomeWorkspace: a sign-in lands in the workspace last looked at, else
// the one joined first, whatever the names (which other owners change).
func testHomeWorkspace(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, Epoch)
	mine := Workspace(t, s, "Zulu (mine)")
	m, err := s.CreateUser(ctx, mine.ID, "max@example.com", "", "", touchbase.RoleOwner)
	must(t, err)
	fixedClock(s, Epoch.Add(time.Hour))
	theirs := Workspace(t, s, "Theirs")
	_, err = s.CreateUser(ctx, theirs.ID, "max@example.com", "", "", touchbase.RoleAnalyst)
	must(t, err)

	home := func() int64 {
		t.Helper()
		id, err := s.HomeWorkspace(ctx, m.ID)
		must(t, err)
		return id
	}
	if got := home(); got != mine.ID {
		t.Errorf("home %d, want the first joined (%d)", got, mine.ID)
	}
	// Another owner renames theirs to sort first: nothing changes.
	aaa := "AAA"
	_, err = s.UpdateWorkspace(ctx, theirs.ID, touchbase.WorkspaceUpdate{Name: &aaa})
	must(t, err)
	if got := home(); got != mine.ID {
		t.Errorf("after a rename, home %d, want %d", got, mine.ID)
	}
	// Looking at theirs makes it home; leaving it makes the first home again.
	sess, _, err := s.CreateSession(ctx, m.ID, mine.ID)
	must(t, err)
	_, err = s.SetSessionWorkspace(ctx, sess.ID, theirs.ID)
	must(t, err)
	if got := home(); got != theirs.ID {
		t.Errorf("after switching, home %d, want %d", got, theirs.ID)
	}
	must(t, s.RemoveMember(ctx, theirs.ID, m.ID))
	if got := home(); got != mine.ID {
		t.Errorf("after leaving, home %d, want %d", got, mine.ID)
	}
	_, err = s.HomeWorkspace(ctx, m.ID+1000)
	wantCode(t, err, touchbase.ENOTFOUND)
}
