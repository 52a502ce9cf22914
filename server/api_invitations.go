package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server/ui"
)

// registerInvitationRoutes registers /api/v1/invitations: people join a
// workspace by accepting an invitation, never by being added.
func (s *Server) registerInvitationRoutes() {
	tags := []string{"users"}
	register(s, huma.Operation{
		OperationID: "list-invitations", Method: http.MethodGet, Path: "/invitations", Tags: tags,
		Summary:     "List pending invitations",
		Description: "Invitations neither accepted, revoked nor expired, oldest first. Their links are not shown again.",
	}, touchbase.RoleAdmin, s.listInvitations)
	register(s, huma.Operation{
		OperationID: "create-invitation", Method: http.MethodPost, Path: "/invitations", Tags: tags,
		Summary: "Invite someone",
		Description: "Invites an email address to the workspace with a role. The person becomes a member only when they " +
			"open the link and accept (signing in, or creating their account). touchbase sends no mail: pass the link on " +
			"yourself; it is in this response only and works for 7 days. The answer is the same whether or not the " +
			"address has an account. Inviting the address again replaces the earlier invitation. Only owners may invite owners.",
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusConflict},
	}, touchbase.RoleAdmin, s.createInvitation)
	register(s, huma.Operation{
		OperationID: "revoke-invitation", Method: http.MethodDelete, Path: "/invitations/{id}", Tags: tags,
		Summary:       "Revoke an invitation",
		Description:   "Its link stops working at once. Only owners may revoke an invitation to be owner.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound},
	}, touchbase.RoleAdmin, s.revokeInvitation)
}

func (s *Server) listInvitations(ctx context.Context, k *touchbase.Key, _ *emptyInput) (*output[*Page[*touchbase.Invitation]], error) {
	invs, err := s.svc.Invitations.ListInvitations(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Invitation]]{Body: newPage(invs, "")}, nil
}

type createInvitationInput struct {
	Body struct {
		Email string `json:"email" minLength:"3" maxLength:"320"`
		Role  string `json:"role" enum:"owner,admin,marketer,analyst"`
	}
}

// CreatedInvitation is a new invitation with its link, shown once.
type CreatedInvitation struct {
	touchbase.Invitation
	Link string `json:"link" doc:"Where the invitee accepts: pass it on to them (touchbase sends no mail). Shown only now."`
}

func (s *Server) createInvitation(ctx context.Context, k *touchbase.Key, in *createInvitationInput) (*output[*CreatedInvitation], error) {
	role := touchbase.Role(in.Body.Role)
	if role == touchbase.RoleOwner && k.Role != touchbase.RoleOwner {
		return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may invite owners")
	}
	by := fmt.Sprintf("admin token %d", k.ID)
	if name := strings.TrimSpace(k.Name); name != "" {
		by = fmt.Sprintf("admin token %q", name)
	}
	inv, token, err := s.svc.Invitations.CreateInvitation(ctx, k.WorkspaceID, in.Body.Email, role, by)
	if err != nil {
		return nil, err
	}
	s.log.Info("invitation created", "request_id", requestID(ctx), "workspace_id", k.WorkspaceID, "invitation_id", inv.ID, "role", role, "by_key_id", k.ID)
	return &output[*CreatedInvitation]{Body: &CreatedInvitation{Invitation: *inv, Link: baseURLOf(ctx) + ui.InvitationPath(token)}}, nil
}

type invitationIDInput struct {
	ID int64 `path:"id" doc:"The invitation's id."`
}

func (s *Server) revokeInvitation(ctx context.Context, k *touchbase.Key, in *invitationIDInput) (*noContent, error) {
	invs, err := s.svc.Invitations.ListInvitations(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if inv.ID == in.ID && inv.Role == touchbase.RoleOwner && k.Role != touchbase.RoleOwner {
			return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may revoke an invitation to be owner")
		}
	}
	if err := s.svc.Invitations.RevokeInvitation(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	s.log.Info("invitation revoked", "request_id", requestID(ctx), "workspace_id", k.WorkspaceID, "invitation_id", in.ID, "by_key_id", k.ID)
	return &noContent{}, nil
}

// baseURLOf returns the scheme and host the request came to (see
// apiAuth), for links in answers; "" when unknown.
func baseURLOf(ctx context.Context) string {
	u, _ := ctx.Value(baseURLKey).(string)
	return u
}
