package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/touchbase/touchbase"
)

// BootstrapResult is what Bootstrap found or made.
type BootstrapResult struct {
	Workspace *touchbase.Workspace
	// Owner is the workspace's first owner (nil when it has none).
	Owner *touchbase.User
	// Password is the new owner's generated password: set only when
	// Created, and never available again.
	Password string
	// Created says the workspace and owner were made by this call.
	Created bool
}

// DefaultWorkspace is the name of the workspace a first start creates.
const DefaultWorkspace = "default"

// DefaultOwnerEmail is the first owner's email when none is given.
const DefaultOwnerEmail = "owner@localhost"

// bootstrapPasswordLen is the length of the generated owner password: 20
// base62 characters, about 119 bits.
const bootstrapPasswordLen = 20

// Bootstrap makes a new store usable: when it has no workspace, it creates
// the "default" workspace and an owner (ownerEmail, or owner@localhost)
// with a generated password, in one transaction, and returns Created with
// the password. Otherwise it returns the oldest workspace and its first
// owner, Created false and no password. Two processes bootstrapping the
// same database at once end up with one workspace: the second sees the
// first's (SQLite's one writer and, on PostgreSQL, an advisory lock make
// them take turns).
func (s *Store) Bootstrap(ctx context.Context, ownerEmail string) (*BootstrapResult, error) {
	if ownerEmail == "" {
		ownerEmail = DefaultOwnerEmail
	}
	email := touchbase.NormalizeEmail(ownerEmail)
	if email == "" {
		return nil, touchbase.Errorf(touchbase.EINVALID, "owner email %q is not an email address", ownerEmail)
	}
	// Hashing takes a while: skip it when there is nothing to create.
	if r, err := s.existingBootstrap(ctx, s.rdb); err == nil || touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
		return r, err
	}
	password := randomString(bootstrapPasswordLen)
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	var r *BootstrapResult
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		if s.d.dollar {
			// Workspace names are not unique: bootstraps take turns
			// instead, and the second sees the first's workspace.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('touchbase bootstrap'))"); err != nil {
				return fmt.Errorf("bootstrap: lock: %w", err)
			}
		}
		var err error
		if r, err = s.existingBootstrap(ctx, tx); touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
			return err
		}
		w, err := s.createWorkspace(ctx, tx, DefaultWorkspace)
		if err != nil {
			return err
		}
		u, err := s.findOrCreateUser(ctx, tx, email, "Owner", hash)
		if err != nil {
			return err
		}
		// No workspace existed, so a user with this email is left over from
		// a deleted one: the printed password must work for them too.
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE users SET password_hash = ? WHERE id = ?"), hash, u.ID); err != nil {
			return fmt.Errorf("bootstrap: set owner password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)"),
			w.ID, u.ID, string(touchbase.RoleOwner), s.now()); err != nil {
			return fmt.Errorf("bootstrap: make owner: %w", err)
		}
		r = &BootstrapResult{Workspace: w, Owner: u, Password: password, Created: true}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return r, nil
}

// existingBootstrap returns the oldest workspace and its first owner, or
// ENOTFOUND when there is no workspace.
func (s *Store) existingBootstrap(ctx context.Context, q queryer) (*BootstrapResult, error) {
	w, err := scanWorkspace(q.QueryRowContext(ctx, "SELECT "+workspaceColumns+" FROM workspaces ORDER BY created_at, id LIMIT 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "no workspace")
	} else if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	r := &BootstrapResult{Workspace: w}
	m, err := scanMember(q.QueryRowContext(ctx, s.d.q("SELECT "+memberColumns+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = ? AND m.role = ? ORDER BY m.created_at, u.id LIMIT 1`), w.ID, string(touchbase.RoleOwner)))
	if err == nil {
		r.Owner = &m.User
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return r, nil
}
