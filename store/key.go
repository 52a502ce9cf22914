package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

var _ touchbase.KeyService = (*Store)(nil)

// Secrets are a kind prefix ("tbw_" public write key, "tbs_" server key,
// "tba_" admin token) and 43
// base62 characters from crypto/rand (256 bits). The prefix makes a leaked
// secret recognisable to secret scanners and tells the two kinds apart
// before any lookup. Only the hex SHA-256 of the secret is stored (a fast
// hash is enough for 256 random bits), with its first keyPrefixLen
// characters in clear to tell keys apart in lists.
const (
	writeKeyPrefix  = "tbw_"
	serverKeyPrefix = "tbs_"
	adminKeyPrefix  = "tba_"
	keySecretLen    = 43
	keyPrefixLen    = 12
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// CreateKey returns the key and its secret, which is never shown again. It
// returns EINVALID for a bad kind, a missing or bad role on an admin token,
// a role on a write or server key, or an overlong name; ENOTFOUND when the
// workspace does not exist.
func (s *Store) CreateKey(ctx context.Context, workspaceID int64, kind touchbase.KeyKind, role touchbase.Role, name string) (*touchbase.Key, string, error) {
	var prefix string
	switch kind {
	case touchbase.KeyWrite:
		if role != "" {
			return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: "write keys have no role: they can only send events",
				Fields: []touchbase.FieldError{{Index: -1, Field: "role", Message: "must be empty for a write key"}}}
		}
		prefix = writeKeyPrefix
	case touchbase.KeyServer:
		if role != "" {
			return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: "server keys have no role: they can only send events",
				Fields: []touchbase.FieldError{{Index: -1, Field: "role", Message: "must be empty for a server key"}}}
		}
		prefix = serverKeyPrefix
	case touchbase.KeyAdmin:
		if !role.Valid() {
			return nil, "", invalidRole(role)
		}
		prefix = adminKeyPrefix
	default:
		return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("key kind %q is not write, server or admin", kind),
			Fields: []touchbase.FieldError{{Index: -1, Field: "kind", Message: "must be write, server or admin"}}}
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxNameLen {
		return nil, "", touchbase.Errorf(touchbase.EINVALID, "key name is longer than %d characters", maxNameLen)
	}
	secret := prefix + randomString(keySecretLen)
	k := &touchbase.Key{
		WorkspaceID: workspaceID,
		Kind:        kind,
		Role:        role,
		Name:        name,
		Prefix:      secret[:keyPrefixLen],
		CreatedAt:   time.UnixMilli(s.now()).UTC(),
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO api_keys (workspace_id, kind, role, name, prefix, hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			workspaceID, string(kind), string(role), name, k.Prefix, keyHash(secret), k.CreatedAt.UnixMilli()).Scan(&k.ID)
		if err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

const keyColumns = "id, workspace_id, kind, role, name, prefix, created_at, revoked_at"

// ListKeys returns the workspace's keys, revoked ones included, oldest first.
func (s *Store) ListKeys(ctx context.Context, workspaceID int64) ([]*touchbase.Key, error) {
	rows, err := s.rdb.QueryContext(ctx, s.d.q("SELECT "+keyColumns+" FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id"), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	ks := []*touchbase.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return ks, nil
}

// RevokeKey revokes the key for good; revoking it again changes nothing.
// It returns ENOTFOUND when the workspace has no such key.
func (s *Store) RevokeKey(ctx context.Context, workspaceID, keyID int64) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, s.d.q("SELECT revoked_at FROM api_keys WHERE workspace_id = ? AND id = ?"+s.forUpdate()),
			workspaceID, keyID).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "key %d not found", keyID)
		} else if err != nil {
			return fmt.Errorf("revoke key %d: %w", keyID, err)
		}
		if revoked.Valid {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ?"),
			s.now(), workspaceID, keyID); err != nil {
			return fmt.Errorf("revoke key %d: %w", keyID, err)
		}
		return nil
	})
}

// AuthenticateKey returns the live key whose secret this is, or
// EUNAUTHORIZED (malformed, unknown or revoked).
func (s *Store) AuthenticateKey(ctx context.Context, secret string) (*touchbase.Key, error) {
	if len(secret) != len(writeKeyPrefix)+keySecretLen || (!strings.HasPrefix(secret, writeKeyPrefix) &&
		!strings.HasPrefix(secret, serverKeyPrefix) && !strings.HasPrefix(secret, adminKeyPrefix)) {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown key")
	}
	k, err := scanKey(s.rdb.QueryRowContext(ctx, s.d.q("SELECT "+keyColumns+" FROM api_keys WHERE hash = ?"), keyHash(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown key")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate key: %w", err)
	}
	if k.RevokedAt != nil {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "key %s was revoked", k.Prefix)
	}
	return k, nil
}

// keyHash is how a secret is stored: hex SHA-256.
func keyHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// randomString returns n base62 characters from crypto/rand, each uniform
// (bytes at or above 248 = 4*62 are discarded rather than folded in).
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

func scanKey(row interface{ Scan(...any) error }) (*touchbase.Key, error) {
	var (
		k          touchbase.Key
		kind, role string
		created    int64
		revoked    sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.WorkspaceID, &kind, &role, &k.Name, &k.Prefix, &created, &revoked); err != nil {
		return nil, err
	}
	k.Kind, k.Role = touchbase.KeyKind(kind), touchbase.Role(role)
	k.CreatedAt = time.UnixMilli(created).UTC()
	k.RevokedAt = fromMillis(revoked)
	return &k, nil
}
