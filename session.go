package touchbase

import (
	"context"
	"time"
)

// Session lengths. A session lives SessionIdleTimeout past its last use and
// never longer than SessionMaxAge after sign-in, whatever its use: a stolen
// cookie stops working within that bound.
const (
	SessionIdleTimeout = 14 * 24 * time.Hour
	SessionMaxAge      = 30 * 24 * time.Hour
)

// Session is a person signed in to the console. The token that names it is
// in their cookie only; the store keeps its SHA-256. WorkspaceID is the
// workspace they are looking at (their role comes from their membership
// there, read on every request, so that a changed role applies at once).
type Session struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"user_id"`
	WorkspaceID int64     `json:"workspace_id"`
	CreatedAt   time.Time `json:"created_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// SessionService keeps console sessions.
type SessionService interface {
	// CreateSession signs userID in, looking at workspaceID, and returns the
	// session and its secret token, which is never shown again. Returns
	// ENOTFOUND when the user or workspace does not exist.
	CreateSession(ctx context.Context, userID, workspaceID int64) (*Session, string, error)
	// AuthenticateSession returns the live session of a token and extends
	// its expiry (sliding, up to SessionMaxAge after creation). Returns
	// EUNAUTHORIZED for an unknown, expired or deleted session.
	AuthenticateSession(ctx context.Context, token string) (*Session, error)
	// SetSessionWorkspace switches the session to another workspace.
	// Returns ENOTFOUND for an unknown session, EFORBIDDEN when the user is
	// not a member of the workspace.
	SetSessionWorkspace(ctx context.Context, sessionID, workspaceID int64) (*Session, error)
	// DeleteSession signs out; deleting a session that is gone is not an
	// error.
	DeleteSession(ctx context.Context, sessionID int64) error
}
