package touchbase

import (
	"context"
	"time"
)

// KeyKind says what a key is for.
type KeyKind string

// Key kinds.
const (
	// KeyWrite is a public write key: it authorises ingestion (/v1) only,
	// can read nothing, and is meant to be seen in web pages (tb.js,
	// analytics.js). Its events are stored like any other, but the changes
	// they make to orders and the catalogue are limited: see
	// Inbound.Public.
	KeyWrite KeyKind = "write"
	// KeyServer is a server write key: ingestion only, like KeyWrite, with
	// the full rights of the store's own backend (any order, the
	// catalogue). It is a secret for server-to-server calls; /v1 refuses it
	// from a browser (a request with an Origin header).
	KeyServer KeyKind = "server"
	// KeyAdmin is an admin API token (/api/v1) with a role.
	KeyAdmin KeyKind = "admin"
)

// Ingests reports whether keys of kind k authorise /v1.
func (k KeyKind) Ingests() bool { return k == KeyWrite || k == KeyServer }

// Key is a write key (public or server) or an admin token. The secret is shown once at
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

// KeyService manages write keys, server keys and admin tokens.
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
