package touchbase

import (
	"context"
	"time"
)

// KeyKind says what a key is for.
type KeyKind string

// Key kinds.
const (
	// KeyWrite authorises ingestion (/v1) only; it can read nothing. It is
	// public in browsers.
	KeyWrite KeyKind = "write"
	// KeyAdmin is an admin API token (/api/v1) with a role.
	KeyAdmin KeyKind = "admin"
)

// Key is a write key or an admin token. The secret is shown once at
// creation and stored only as a hash.
type Key struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	Kind        KeyKind    `json:"kind"`
	Role        Role       `json:"role,omitempty"` // admin tokens only
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"` // the first characters of the secret, to tell keys apart
	CreatedAt   time.Time  `json:"created_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// KeyService manages write keys and admin tokens.
type KeyService interface {
	// CreateKey returns the key and its secret, which is never shown again.
	// Returns EINVALID for a bad kind or role (admin tokens need one).
	CreateKey(ctx context.Context, workspaceID int64, kind KeyKind, role Role, name string) (*Key, string, error)
	// ListKeys returns the workspace's keys, revoked ones included, oldest first.
	ListKeys(ctx context.Context, workspaceID int64) ([]*Key, error)
	// RevokeKey returns ENOTFOUND when the workspace has no such key.
	RevokeKey(ctx context.Context, workspaceID, keyID int64) error
	// AuthenticateKey returns the live key whose secret this is, or
	// EUNAUTHORIZED (unknown or revoked).
	AuthenticateKey(ctx context.Context, secret string) (*Key, error)
}
