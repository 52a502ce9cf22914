package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.SessionService = (*Store)(nil)

// Session tokens are "tbs_" and 43 base62 characters (256 bits), stored as
// their hex SHA-256 like API keys.
const sessionTokenPrefix = "tbs_"

// sessionTouchEvery is how stale last_seen_at may get before a request
// writes it again: sliding expiry without a write per page view.
const sessionTouchEvery = time.Minute

const sessionColumns = "id, user_id, workspace_id, created_at, last_seen_at, expires_at"

// CreateSession signs userID in, looking at workspaceID, and returns the
// session and its token. It also deletes expired sessions, so that the
// table does not grow with abandoned ones. Returns ENOTFOUND for an unknown
// user or workspace, EFORBIDDEN when the user is not a member of it.
func (s *Store) CreateSession(ctx context.Context, userID, workspaceID int64) (*touchbase.Session, string, error) {
	token := sessionTokenPrefix + randomString(keySecretLen)
	now := time.UnixMilli(s.now()).UTC()
	sess := &touchbase.Session{UserID: userID, WorkspaceID: workspaceID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(touchbase.SessionIdleTimeout)}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkMember(ctx, tx, userID, workspaceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM sessions WHERE expires_at <= ?"), now.UnixMilli()); err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO sessions (token_hash, user_id, workspace_id, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), keyHash(token), userID, workspaceID,
			now.UnixMilli(), now.UnixMilli(), sess.ExpiresAt.UnixMilli()).Scan(&sess.ID)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return s.rememberWorkspace(ctx, tx, userID, workspaceID)
	})
	if err != nil {
		return nil, "", err
	}
	return sess, token, nil
}

// checkMember returns ENOTFOUND for an unknown user or workspace and
// EFORBIDDEN when the user is not a member of the workspace.
func (s *Store) checkMember(ctx context.Context, tx *sql.Tx, userID, workspaceID int64) error {
	var user, ws, member int
	err := tx.QueryRowContext(ctx, s.d.q(`SELECT
		(SELECT count(*) FROM users WHERE id = ?),
		(SELECT count(*) FROM workspaces WHERE id = ?),
		(SELECT count(*) FROM memberships WHERE workspace_id = ? AND user_id = ?)`),
		userID, workspaceID, workspaceID, userID).Scan(&user, &ws, &member)
	switch {
	case err != nil:
		return fmt.Errorf("check membership: %w", err)
	case user == 0:
		return touchbase.Errorf(touchbase.ENOTFOUND, "user %d not found", userID)
	case ws == 0:
		return touchbase.Errorf(touchbase.ENOTFOUND, "workspace %d not found", workspaceID)
	case member == 0:
		return touchbase.Errorf(touchbase.EFORBIDDEN, "you are not a member of workspace %d", workspaceID)
	}
	return nil
}

// rememberWorkspace records the workspace the user looks at, for the next
// sign-in (HomeWorkspace).
func (s *Store) rememberWorkspace(ctx context.Context, tx *sql.Tx, userID, workspaceID int64) error {
	if _, err := tx.ExecContext(ctx, s.d.q("UPDATE users SET last_workspace_id = ? WHERE id = ?"), workspaceID, userID); err != nil {
		return fmt.Errorf("remember workspace of %d: %w", userID, err)
	}
	return nil
}

// AuthenticateSession returns the live session of a token, moving its
// expiry to SessionIdleTimeout from now (at most SessionMaxAge after it was
// created) at most once per sessionTouchEvery. Returns EUNAUTHORIZED for a
// malformed, unknown or expired token.
func (s *Store) AuthenticateSession(ctx context.Context, token string) (*touchbase.Session, error) {
	if len(token) != len(sessionTokenPrefix)+keySecretLen || !strings.HasPrefix(token, sessionTokenPrefix) {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown session")
	}
	hash := keyHash(token)
	sess, err := scanSession(s.rdb.QueryRowContext(ctx, s.d.q("SELECT "+sessionColumns+" FROM sessions WHERE token_hash = ?"), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown session")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	now := time.UnixMilli(s.now()).UTC()
	if !now.Before(sess.ExpiresAt) {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "session expired")
	}
	if now.Sub(sess.LastSeenAt) < sessionTouchEvery {
		return sess, nil
	}
	expires := now.Add(touchbase.SessionIdleTimeout)
	if limit := sess.CreatedAt.Add(touchbase.SessionMaxAge); expires.After(limit) {
		expires = limit
	}
	// The condition on expires_at keeps a concurrent sign-out (or an
	// expiry in between) from being undone.
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ? AND expires_at > ?"),
			now.UnixMilli(), expires.UnixMilli(), sess.ID, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("touch session %d: %w", sess.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("touch session %d: %w", sess.ID, err)
		} else if n == 0 {
			return touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown session")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sess.LastSeenAt, sess.ExpiresAt = now, expires
	return sess, nil
}

// SetSessionWorkspace switches the session to workspaceID. Returns
// ENOTFOUND for an unknown session or workspace, EFORBIDDEN when the user
// is not a member of the workspace.
func (s *Store) SetSessionWorkspace(ctx context.Context, sessionID, workspaceID int64) (*touchbase.Session, error) {
	var sess *touchbase.Session
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		sess, err = scanSession(tx.QueryRowContext(ctx, s.d.q("SELECT "+sessionColumns+" FROM sessions WHERE id = ?"+s.forUpdate()), sessionID))
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "session %d not found", sessionID)
		} else if err != nil {
			return fmt.Errorf("find session %d: %w", sessionID, err)
		}
		if err := s.checkMember(ctx, tx, sess.UserID, workspaceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE sessions SET workspace_id = ? WHERE id = ?"), workspaceID, sessionID); err != nil {
			return fmt.Errorf("switch session %d: %w", sessionID, err)
		}
		sess.WorkspaceID = workspaceID
		return s.rememberWorkspace(ctx, tx, sess.UserID, workspaceID)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// DeleteSession signs the session out; one that is gone already is fine.
func (s *Store) DeleteSession(ctx context.Context, sessionID int64) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM sessions WHERE id = ?"), sessionID); err != nil {
			return fmt.Errorf("delete session %d: %w", sessionID, err)
		}
		return nil
	})
}

func scanSession(row interface{ Scan(...any) error }) (*touchbase.Session, error) {
	var (
		sess                   touchbase.Session
		created, seen, expires int64
	)
	if err := row.Scan(&sess.ID, &sess.UserID, &sess.WorkspaceID, &created, &seen, &expires); err != nil {
		return nil, err
	}
	sess.CreatedAt = time.UnixMilli(created).UTC()
	sess.LastSeenAt = time.UnixMilli(seen).UTC()
	sess.ExpiresAt = time.UnixMilli(expires).UTC()
	return &sess, nil
}
