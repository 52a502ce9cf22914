package touchbase

import (
	"context"
	"time"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation asks a person, by email, to join a workspace with a role. An
// owner or admin makes it; the person becomes a member only by accepting
// it through the link that carries its token (shown once, to the inviter,
// to pass on: touchbase sends no mail yet). Nothing about the person is
// looked up when it is made, so the inviter learns nothing about whether
// the address has an account, or where.
type Invitation struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	Email       string `json:"email"`
	Role        Role   `json:"role"`
	// InvitedBy says who made it, for the invitee and the list: a user's
	// email, an admin token's name, or the CLI.
	InvitedBy  string     `json:"invited_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Pending reports whether the invitation can still be accepted at now.
func (inv *Invitation) Pending(now time.Time) bool {
	return inv.AcceptedAt == nil && inv.RevokedAt == nil && now.Before(inv.ExpiresAt)
}

// InvitationService makes, lists, revokes and accepts invitations.
type InvitationService interface {
	// CreateInvitation invites email to the workspace with role and
	// returns the invitation and its secret token, which is never shown
	// again. A pending invitation of the same email is revoked (its link
	// stops working). Returns EINVALID for a bad email or role, ENOTFOUND
	// for a missing workspace, ECONFLICT when the email's account is
	// already a member of this workspace.
	CreateInvitation(ctx context.Context, workspaceID int64, email string, role Role, invitedBy string) (*Invitation, string, error)
	// ListInvitations returns the workspace's pending invitations, oldest
	// first.
	ListInvitations(ctx context.Context, workspaceID int64) ([]*Invitation, error)
	// RevokeInvitation stops a pending invitation's link from working.
	// Returns ENOTFOUND when the workspace has no such pending invitation.
	RevokeInvitation(ctx context.Context, workspaceID, id int64) error
	// FindInvitation returns the pending invitation of a token and the
	// name of its workspace. Returns ENOTFOUND for a token that is unknown,
	// expired, accepted or revoked (alike: a link either works or not).
	FindInvitation(ctx context.Context, token string) (*Invitation, string, error)
	// AcceptInvitation makes userID a member with the invitation's role.
	// The user's email must be the invitation's (EFORBIDDEN otherwise).
	// Returns ENOTFOUND for a token that does not work (see
	// FindInvitation); accepting makes it stop working.
	AcceptInvitation(ctx context.Context, token string, userID int64) (*Member, error)
	// AcceptInvitationAsNewUser creates the account of the invitation's
	// email with name and password and makes it a member. Returns
	// ENOTFOUND as AcceptInvitation, EINVALID for a bad name or password,
	// ECONFLICT when the email has an account already (its owner signs in
	// to accept).
	AcceptInvitationAsNewUser(ctx context.Context, token, name, password string) (*Member, error)
}
