package store

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

var _ touchbase.UserService = (*Store)(nil)

// Password hashing: PBKDF2-HMAC-SHA256 as OWASP recommends it (600,000
// iterations), stored as "pbkdf2-sha256$iterations$salt$hash" in unpadded
// standard base64 so that the cost can be raised later without breaking old
// hashes.
const (
	passwordIterations = 600_000
	passwordSaltLen    = 16
	passwordKeyLen     = 32
	passwordScheme     = "pbkdf2-sha256"
	minPasswordLen     = 8
	maxPasswordLen     = 1024
)

// CreateUser creates the user, or finds the one with that email, and makes
// them a member of the workspace with role. The password and name only
// apply to a new user: an existing user keeps theirs (an admin of one
// workspace must not be able to take over an account used in another).
// Returns EINVALID for a bad email, role or password, ENOTFOUND for a
// missing workspace, ECONFLICT when the user is already a member.
func (s *Store) CreateUser(ctx context.Context, workspaceID int64, email, name, password string, role touchbase.Role) (*touchbase.Member, error) {
	norm := touchbase.NormalizeEmail(email)
	if norm == "" {
		return nil, &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("%q is not an email address", email),
			Fields: []touchbase.FieldError{{Index: -1, Field: "email", Message: "not an email address"}}}
	}
	if !role.Valid() {
		return nil, invalidRole(role)
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxNameLen {
		return nil, touchbase.Errorf(touchbase.EINVALID, "user name is longer than %d characters", maxNameLen)
	}
	var hash string
	if password != "" {
		var err error
		if hash, err = hashPassword(password); err != nil {
			return nil, err
		}
	}
	var m *touchbase.Member
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		u, err := s.findOrCreateUser(ctx, tx, norm, name, hash)
		if err != nil {
			return err
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, user_id) DO NOTHING`), workspaceID, u.ID, string(role), now)
		if err != nil {
			return fmt.Errorf("create membership: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("create membership: %w", err)
		} else if n == 0 {
			return touchbase.Errorf(touchbase.ECONFLICT, "%s is already a member of workspace %d", norm, workspaceID)
		}
		u.CreatedAt = time.UnixMilli(now).UTC()
		m = &touchbase.Member{User: *u, WorkspaceID: workspaceID, Role: role}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// findOrCreateUser returns the user with the normalised email, creating it
// with name and password hash when there is none.
func (s *Store) findOrCreateUser(ctx context.Context, tx *sql.Tx, email, name, hash string) (*touchbase.User, error) {
	u := &touchbase.User{Email: email, Name: name, CreatedAt: time.UnixMilli(s.now()).UTC()}
	err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (email) DO NOTHING RETURNING id`), email, name, hash, u.CreatedAt.UnixMilli()).Scan(&u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		var created int64
		err = tx.QueryRowContext(ctx, s.d.q("SELECT id, name, created_at FROM users WHERE email = ?"), email).Scan(&u.ID, &u.Name, &created)
		u.CreatedAt = time.UnixMilli(created).UTC()
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// lockWorkspace checks that the workspace exists, and on PostgreSQL locks
// its row so that concurrent changes of its memberships are serialised (the
// last owner check counts owners). ENOTFOUND when it does not exist.
func (s *Store) lockWorkspace(ctx context.Context, tx *sql.Tx, workspaceID int64) error {
	var id int64
	err := tx.QueryRowContext(ctx, s.d.q("SELECT id FROM workspaces WHERE id = ?"+s.forUpdate()), workspaceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return touchbase.Errorf(touchbase.ENOTFOUND, "workspace %d not found", workspaceID)
	} else if err != nil {
		return fmt.Errorf("find workspace %d: %w", workspaceID, err)
	}
	return nil
}

// memberColumns read a member; its created_at is the membership's (when
// they joined this workspace), never the account's.
const memberColumns = "u.id, u.email, u.name, m.created_at, m.workspace_id, m.role"

// ListMembers returns the workspace's members, oldest membership first.
func (s *Store) ListMembers(ctx context.Context, workspaceID int64) ([]*touchbase.Member, error) {
	rows, err := s.rdb.QueryContext(ctx, s.d.q("SELECT "+memberColumns+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = ? ORDER BY m.created_at, u.id`), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	ms := []*touchbase.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// FindMember returns ENOTFOUND when the user is not a member.
func (s *Store) FindMember(ctx context.Context, workspaceID, userID int64) (*touchbase.Member, error) {
	return s.findMember(ctx, s.rdb, workspaceID, userID)
}

func (s *Store) findMember(ctx context.Context, q queryer, workspaceID, userID int64) (*touchbase.Member, error) {
	m, err := scanMember(q.QueryRowContext(ctx, s.d.q("SELECT "+memberColumns+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = ? AND m.user_id = ?`), workspaceID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "user %d is not a member of workspace %d", userID, workspaceID)
	} else if err != nil {
		return nil, fmt.Errorf("find member %d: %w", userID, err)
	}
	return m, nil
}

// SetMemberRole returns ENOTFOUND, EINVALID for a bad role, and ECONFLICT
// when it would leave the workspace without an owner.
func (s *Store) SetMemberRole(ctx context.Context, workspaceID, userID int64, role touchbase.Role) (*touchbase.Member, error) {
	if !role.Valid() {
		return nil, invalidRole(role)
	}
	var m *touchbase.Member
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		var err error
		if m, err = s.findMember(ctx, tx, workspaceID, userID); err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		if m.Role == touchbase.RoleOwner {
			if err := s.keepAnOwner(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE memberships SET role = ? WHERE workspace_id = ? AND user_id = ?"),
			string(role), workspaceID, userID); err != nil {
			return fmt.Errorf("set role of %d: %w", userID, err)
		}
		m.Role = role
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// RemoveMember returns ENOTFOUND, and ECONFLICT for the last owner.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID int64) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		m, err := s.findMember(ctx, tx, workspaceID, userID)
		if err != nil {
			return err
		}
		if m.Role == touchbase.RoleOwner {
			if err := s.keepAnOwner(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?"), workspaceID, userID); err != nil {
			return fmt.Errorf("remove member %d: %w", userID, err)
		}
		return nil
	})
}

// keepAnOwner returns ECONFLICT unless the workspace has an owner other
// than userID. The caller holds the workspace lock.
func (s *Store) keepAnOwner(ctx context.Context, tx *sql.Tx, workspaceID, userID int64) error {
	var others int
	err := tx.QueryRowContext(ctx, s.d.q("SELECT count(*) FROM memberships WHERE workspace_id = ? AND role = ? AND user_id <> ?"),
		workspaceID, string(touchbase.RoleOwner), userID).Scan(&others)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if others == 0 {
		return touchbase.Errorf(touchbase.ECONFLICT, "user %d is the last owner of workspace %d: make someone else owner first", userID, workspaceID)
	}
	return nil
}

// SetPassword returns ENOTFOUND, EINVALID for a password under 8 characters.
func (s *Store) SetPassword(ctx context.Context, userID int64, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE users SET password_hash = ? WHERE id = ?"), hash, userID)
		if err != nil {
			return fmt.Errorf("set password of %d: %w", userID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("set password of %d: %w", userID, err)
		} else if n == 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "user %d not found", userID)
		}
		return nil
	})
}

// Authenticate returns the user whose email and password match, or
// EUNAUTHORIZED. It takes as long for an unknown email as for a wrong
// password, so that it does not tell which emails have accounts.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*touchbase.User, error) {
	var (
		u       touchbase.User
		hash    string
		created int64
	)
	err := s.rdb.QueryRowContext(ctx, s.d.q("SELECT id, email, name, password_hash, created_at FROM users WHERE email = ?"),
		touchbase.NormalizeEmail(email)).Scan(&u.ID, &u.Email, &u.Name, &hash, &created)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	ok, verr := checkPassword(hash, password)
	if verr != nil {
		return nil, fmt.Errorf("authenticate user %d: %w", u.ID, verr)
	}
	if err != nil || !ok {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "wrong email or password")
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	return &u, nil
}

// hashPassword returns the encoded PBKDF2 hash of password, or EINVALID
// when it is too short or too long.
func hashPassword(password string) (string, error) {
	switch n := utf8.RuneCountInString(password); {
	case n < minPasswordLen:
		return "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("password is shorter than %d characters", minPasswordLen),
			Fields: []touchbase.FieldError{{Index: -1, Field: "password", Message: "too short"}}}
	case len(password) > maxPasswordLen:
		return "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("password is longer than %d bytes", maxPasswordLen),
			Fields: []touchbase.FieldError{{Index: -1, Field: "password", Message: "too long"}}}
	}
	salt := make([]byte, passwordSaltLen)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, passwordIterations, passwordKeyLen)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	return passwordScheme + "$" + strconv.Itoa(passwordIterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// dummyHash is verified against when there is no user or no password, so
// that a failed sign-in costs the same either way.
const dummyHash = "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// checkPassword reports whether password matches the encoded hash. An
// empty hash (a user without a password) never matches. It returns an error
// only for a hash it cannot read.
func checkPassword(encoded, password string) (bool, error) {
	usable := encoded != ""
	if !usable {
		encoded = dummyHash
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != passwordScheme {
		return false, fmt.Errorf("unknown password hash format")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false, fmt.Errorf("bad password hash iterations %q", parts[1])
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[2])
	if err != nil {
		return false, fmt.Errorf("bad password hash salt: %w", err)
	}
	want, err := enc.DecodeString(parts[3])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("bad password hash")
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false, fmt.Errorf("hash password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1 && usable, nil
}

func invalidRole(role touchbase.Role) error {
	return &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("role %q is not one of owner, admin, marketer, analyst", role),
		Fields: []touchbase.FieldError{{Index: -1, Field: "role", Message: "must be owner, admin, marketer or analyst"}}}
}

func scanMember(row interface{ Scan(...any) error }) (*touchbase.Member, error) {
	var (
		m       touchbase.Member
		role    string
		created int64
	)
	if err := row.Scan(&m.ID, &m.Email, &m.Name, &created, &m.WorkspaceID, &role); err != nil {
		return nil, err
	}
	m.CreatedAt = time.UnixMilli(created).UTC()
	m.Role = touchbase.Role(role)
	return &m, nil
}

// HomeWorkspace returns the workspace a sign-in lands in: the one the user
// last looked at (users.last_workspace_id, kept by the session methods)
// while they are still a member of it, else the one they joined first.
// ENOTFOUND when they belong to none.
func (s *Store) HomeWorkspace(ctx context.Context, userID int64) (int64, error) {
	var id int64
	err := s.rdb.QueryRowContext(ctx, s.d.q(`SELECT m.workspace_id FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = ?
		ORDER BY CASE WHEN m.workspace_id = u.last_workspace_id THEN 0 ELSE 1 END, m.created_at, m.workspace_id LIMIT 1`), userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, touchbase.Errorf(touchbase.ENOTFOUND, "user %d is not a member of any workspace", userID)
	} else if err != nil {
		return 0, fmt.Errorf("home workspace of %d: %w", userID, err)
	}
	return id, nil
}

// ListMemberships returns the workspaces the user belongs to, by workspace
// name (then id); an unknown user has none.
func (s *Store) ListMemberships(ctx context.Context, userID int64) ([]*touchbase.Membership, error) {
	rows, err := s.rdb.QueryContext(ctx, s.d.q(`SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.user_id = ? ORDER BY w.name, w.id`), userID)
	if err != nil {
		return nil, fmt.Errorf("list memberships of %d: %w", userID, err)
	}
	defer rows.Close()
	ms := []*touchbase.Membership{}
	for rows.Next() {
		var (
			m    touchbase.Membership
			role string
		)
		if err := rows.Scan(&m.WorkspaceID, &m.WorkspaceName, &role); err != nil {
			return nil, fmt.Errorf("list memberships of %d: %w", userID, err)
		}
		m.Role = touchbase.Role(role)
		ms = append(ms, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list memberships of %d: %w", userID, err)
	}
	return ms, nil
}
