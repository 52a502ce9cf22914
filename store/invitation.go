package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

var _ touchbase.InvitationService = (*Store)(nil)

// Invitation tokens are "tbi_" and 43 base62 characters (256 bits), stored
// as their hex SHA-256 like session tokens.
const invitationTokenPrefix = "tbi_"

const invitationColumns = "i.id, i.workspace_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at"

// openInvitation is the condition of an invitation neither accepted nor
// revoked (it may have expired).
const openInvitation = "i.accepted_at IS NULL AND i.revoked_at IS NULL"

// CreateInvitation invites email to the workspace with role, revoking a
// pending invitation of the same email, and returns the invitation and its
// token. It looks nothing up about the email beyond this workspace's own
// members, so its answer is the same whether or not the address has an
// account elsewhere. Returns EINVALID for a bad email or role, ENOTFOUND
// for a missing workspace, ECONFLICT when the email is a member already.
func (s *Store) CreateInvitation(ctx context.Context, workspaceID int64, email string, role touchbase.Role, invitedBy string) (*touchbase.Invitation, string, error) {
	norm := touchbase.NormalizeEmail(email)
	if norm == "" {
		return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("%q is not an email address", email),
			Fields: []touchbase.FieldError{{Index: -1, Field: "email", Message: "not an email address"}}}
	}
	if !role.Valid() {
		return nil, "", invalidRole(role)
	}
	invitedBy = strings.TrimSpace(invitedBy)
	if utf8.RuneCountInString(invitedBy) > 2*maxNameLen {
		invitedBy = string([]rune(invitedBy)[:2*maxNameLen])
	}
	token := invitationTokenPrefix + randomString(keySecretLen)
	now := time.UnixMilli(s.now()).UTC()
	inv := &touchbase.Invitation{WorkspaceID: workspaceID, Email: norm, Role: role, InvitedBy: invitedBy,
		CreatedAt: now, ExpiresAt: now.Add(touchbase.InvitationTTL)}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		var members int
		err := tx.QueryRowContext(ctx, s.d.q(`SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND u.email = ?`), workspaceID, norm).Scan(&members)
		if err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		if members > 0 {
			return &touchbase.Error{Code: touchbase.ECONFLICT, Message: fmt.Sprintf("%s is a member of this workspace already", norm),
				Fields: []touchbase.FieldError{{Index: -1, Field: "email", Message: "a member already"}}}
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE invitations SET revoked_at = ?
			WHERE workspace_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL`), now.UnixMilli(), workspaceID, norm); err != nil {
			return fmt.Errorf("revoke earlier invitation: %w", err)
		}
		err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO invitations (workspace_id, email, role, invited_by, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), workspaceID, norm, string(role), invitedBy, keyHash(token),
			now.UnixMilli(), inv.ExpiresAt.UnixMilli()).Scan(&inv.ID)
		if err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return inv, token, nil
}

// ListInvitations returns the workspace's pending invitations, oldest
// first.
func (s *Store) ListInvitations(ctx context.Context, workspaceID int64) ([]*touchbase.Invitation, error) {
	rows, err := s.rdb.QueryContext(ctx, s.d.q("SELECT "+invitationColumns+" FROM invitations i WHERE i.workspace_id = ? AND "+
		openInvitation+" AND i.expires_at > ? ORDER BY i.created_at, i.id"), workspaceID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	defer rows.Close()
	invs := []*touchbase.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("list invitations: %w", err)
		}
		invs = append(invs, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return invs, nil
}

// RevokeInvitation stops a pending invitation's link from working;
// ENOTFOUND when the workspace has none with this id.
func (s *Store) RevokeInvitation(ctx context.Context, workspaceID, id int64) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE invitations SET revoked_at = ? WHERE workspace_id = ? AND id = ?
			AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`), now, workspaceID, id, now)
		if err != nil {
			return fmt.Errorf("revoke invitation %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("revoke invitation %d: %w", id, err)
		} else if n == 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "no pending invitation %d in this workspace", id)
		}
		return nil
	})
}

// invalidInvitation is the one answer for a link that does not work,
// whatever the reason: unknown, expired, accepted or revoked.
func invalidInvitation() error {
	return touchbase.Errorf(touchbase.ENOTFOUND, "this invitation link does not work: it has expired, was used or was revoked. Ask whoever invited you for a new one")
}

// FindInvitation returns the pending invitation of token and its
// workspace's name; ENOTFOUND for a link that does not work.
func (s *Store) FindInvitation(ctx context.Context, token string) (*touchbase.Invitation, string, error) {
	var (
		inv  *touchbase.Invitation
		name string
	)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = s.pendingInvitation(ctx, tx, token, false)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT name FROM workspaces WHERE id = ?"), inv.WorkspaceID).Scan(&name); err != nil {
			return fmt.Errorf("find invitation: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return inv, name, nil
}

// pendingInvitation reads the invitation of token, locked for update on
// PostgreSQL when lock is set; ENOTFOUND unless it is pending.
func (s *Store) pendingInvitation(ctx context.Context, tx *sql.Tx, token string, lock bool) (*touchbase.Invitation, error) {
	if len(token) != len(invitationTokenPrefix)+keySecretLen || !strings.HasPrefix(token, invitationTokenPrefix) {
		return nil, invalidInvitation()
	}
	q := "SELECT " + invitationColumns + " FROM invitations i WHERE i.token_hash = ?"
	if lock {
		q += s.forUpdate()
	}
	inv, err := scanInvitation(tx.QueryRowContext(ctx, s.d.q(q), keyHash(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, invalidInvitation()
	} else if err != nil {
		return nil, fmt.Errorf("find invitation: %w", err)
	}
	if !inv.Pending(time.UnixMilli(s.now())) {
		return nil, invalidInvitation()
	}
	return inv, nil
}

// AcceptInvitation makes userID, whose email must be the invitation's, a
// member with its role, and marks it accepted (its link stops working).
// Being a member already is fine: the invitation is used up all the same.
func (s *Store) AcceptInvitation(ctx context.Context, token string, userID int64) (*touchbase.Member, error) {
	var m *touchbase.Member
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		inv, err := s.pendingInvitation(ctx, tx, token, true)
		if err != nil {
			return err
		}
		var email string
		err = tx.QueryRowContext(ctx, s.d.q("SELECT email FROM users WHERE id = ?"), userID).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "user %d not found", userID)
		} else if err != nil {
			return fmt.Errorf("accept invitation: %w", err)
		}
		if email != inv.Email {
			return touchbase.Errorf(touchbase.EFORBIDDEN, "this invitation is for %s, and you are signed in as %s: sign out, and open the link again", inv.Email, email)
		}
		m, err = s.acceptInvitation(ctx, tx, inv, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// AcceptInvitationAsNewUser creates the account of the invitation's email
// with name and password, and accepts the invitation for it. ECONFLICT
// when the email has an account: its owner signs in to accept (the
// account's password is never set through an invitation, which whoever
// invites could then use).
func (s *Store) AcceptInvitationAsNewUser(ctx context.Context, token, name, password string) (*touchbase.Member, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, &touchbase.Error{Code: touchbase.EINVALID, Message: "your name is empty",
			Fields: []touchbase.FieldError{{Index: -1, Field: "name", Message: "must not be empty"}}}
	case utf8.RuneCountInString(name) > maxNameLen:
		return nil, &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("your name is longer than %d characters", maxNameLen),
			Fields: []touchbase.FieldError{{Index: -1, Field: "name", Message: "too long"}}}
	}
	// Refuse a dead link before paying for the hash.
	if _, _, err := s.FindInvitation(ctx, token); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	var m *touchbase.Member
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		inv, err := s.pendingInvitation(ctx, tx, token, true)
		if err != nil {
			return err
		}
		var userID int64
		err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (email) DO NOTHING RETURNING id`), inv.Email, name, hash, s.now()).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ECONFLICT, "%s has a touchbase account already: sign in with it to accept", inv.Email)
		} else if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		m, err = s.acceptInvitation(ctx, tx, inv, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// acceptInvitation adds the membership and marks inv accepted by userID.
func (s *Store) acceptInvitation(ctx context.Context, tx *sql.Tx, inv *touchbase.Invitation, userID int64) (*touchbase.Member, error) {
	now := s.now()
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, user_id) DO NOTHING`), inv.WorkspaceID, userID, string(inv.Role), now); err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	res, err := tx.ExecContext(ctx, s.d.q(`UPDATE invitations SET accepted_at = ?, accepted_by = ?
		WHERE workspace_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL`), now, userID, inv.WorkspaceID, inv.ID)
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	} else if n != 1 {
		return nil, invalidInvitation()
	}
	return s.findMember(ctx, tx, inv.WorkspaceID, userID)
}

func scanInvitation(row interface{ Scan(...any) error }) (*touchbase.Invitation, error) {
	var (
		inv               touchbase.Invitation
		role              string
		created, expires  int64
		accepted, revoked sql.NullInt64
	)
	if err := row.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &role, &inv.InvitedBy, &created, &expires, &accepted, &revoked); err != nil {
		return nil, err
	}
	inv.Role = touchbase.Role(role)
	inv.CreatedAt = time.UnixMilli(created).UTC()
	inv.ExpiresAt = time.UnixMilli(expires).UTC()
	if accepted.Valid {
		t := time.UnixMilli(accepted.Int64).UTC()
		inv.AcceptedAt = &t
	}
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		inv.RevokedAt = &t
	}
	return &inv, nil
}
