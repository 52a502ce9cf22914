package touchbase

import (
	"context"
	"time"
)

// Role is what a user or an admin token may do in a workspace.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner    Role = "owner"    // everything, including users, keys and the workspace itself
	RoleAdmin    Role = "admin"    // everything but ownership and workspace deletion
	RoleMarketer Role = "marketer" // customers, segments, campaigns; not keys or users
	RoleAnalyst  Role = "analyst"  // read only
)

// Roles lists every valid role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMarketer, RoleAnalyst}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleMarketer, RoleAnalyst:
		return true
	}
	return false
}

// rank orders roles: a higher rank may do everything a lower one may.
func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMarketer:
		return 2
	case RoleAnalyst:
		return 1
	}
	return 0
}

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// User is a person who signs in to the console. Users are global; Member
// gives one a role in a workspace.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Member is a user's role in one workspace. Its CreatedAt is when they
// joined the workspace (not when their account was made, which may tell of
// other workspaces).
type Member struct {
	User
	WorkspaceID int64 `json:"workspace_id"`
	Role        Role  `json:"role"`
}

// Membership is one workspace a user belongs to, as the user sees it.
type Membership struct {
	WorkspaceID   int64  `json:"workspace_id"`
	WorkspaceName string `json:"workspace_name"`
	Role          Role   `json:"role"`
}

// UserService manages users and their memberships.
type UserService interface {
	// CreateUser creates the user (or finds the one with that email) and
	// gives them role in the workspace, without asking them: it is for
	// operators with the database in hand (the CLI); people are invited
	// (InvitationService). An empty password leaves the user without one
	// (they cannot sign in until it is set). Returns EINVALID for a bad
	// email or role, ECONFLICT when they are already a member.
	CreateUser(ctx context.Context, workspaceID int64, email, name, password string, role Role) (*Member, error)
	// ListMembers returns the workspace's members, oldest membership
	// first.
	ListMembers(ctx context.Context, workspaceID int64) ([]*Member, error)
	// ListMemberships returns the workspaces the user belongs to, by
	// workspace name; none is an empty list, not an error.
	ListMemberships(ctx context.Context, userID int64) ([]*Membership, error)
	// HomeWorkspace returns the id of the workspace a sign-in lands in:
	// the one the user last looked at, while they are a member of it, else
	// the one they joined first; never chosen by name, which another
	// workspace's owner can change. ENOTFOUND when they belong to none.
	HomeWorkspace(ctx context.Context, userID int64) (int64, error)
	// FindMember returns ENOTFOUND when the user is not a member.
	FindMember(ctx context.Context, workspaceID, userID int64) (*Member, error)
	// SetMemberRole returns ENOTFOUND, EINVALID, and ECONFLICT when it would
	// leave the workspace without an owner.
	SetMemberRole(ctx context.Context, workspaceID, userID int64, role Role) (*Member, error)
	// RemoveMember returns ENOTFOUND, and ECONFLICT for the last owner.
	RemoveMember(ctx context.Context, workspaceID, userID int64) error
	// SetPassword returns ENOTFOUND, EINVALID for a password under 8 characters.
	SetPassword(ctx context.Context, userID int64, password string) error
	// Authenticate returns the user whose email and password match, or
	// EUNAUTHORIZED.
	Authenticate(ctx context.Context, email, password string) (*User, error)
}
