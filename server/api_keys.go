package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
)

// registerKeyRoutes registers /api/v1/keys.
func (s *Server) registerKeyRoutes() {
	register(s, huma.Operation{
		OperationID: "list-keys", Method: http.MethodGet, Path: "/keys", Tags: []string{"keys"},
		Summary:     "List keys",
		Description: "Write keys and admin tokens of the workspace, revoked ones included, oldest first. Secrets are never shown again.",
	}, touchbase.RoleAdmin, s.listKeys)
	register(s, huma.Operation{
		OperationID: "create-key", Method: http.MethodPost, Path: "/keys", Tags: []string{"keys"},
		Summary:       "Create a key",
		Description:   "A public write key (ingestion from browsers, limited to the sender's own orders), a server key (ingestion with full rights, a secret for your backend) or an admin token with a role. The secret is in this response only. Only owners may create owner tokens.",
		DefaultStatus: http.StatusCreated,
	}, touchbase.RoleAdmin, s.createKey)
	register(s, huma.Operation{
		OperationID: "revoke-key", Method: http.MethodDelete, Path: "/keys/{id}", Tags: []string{"keys"},
		Summary:       "Revoke a key",
		Description:   "The key stops working at once on this server. Only owners may revoke owner tokens.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound},
	}, touchbase.RoleAdmin, s.revokeKey)
}

// CreatedKey is a new key with its secret, shown once.
type CreatedKey struct {
	touchbase.Key
	Secret string `json:"secret" doc:"The key itself: a write or server key goes in /v1 requests, an admin token in Authorization: Bearer. Shown only now."`
}

func (s *Server) listKeys(ctx context.Context, k *touchbase.Key, _ *emptyInput) (*output[*Page[*touchbase.Key]], error) {
	keys, err := s.svc.Keys.ListKeys(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Key]]{Body: newPage(keys, "")}, nil
}

type createKeyInput struct {
	Body struct {
		Kind string `json:"kind" enum:"write,server,admin" doc:"write: a public write key for browsers (ingestion only; may change only the sender's own orders and no product a server key or an import defined); server: a secret write key for server-to-server calls, with full rights; admin: an admin API token."`
		Role string `json:"role,omitempty" enum:"owner,admin,marketer,analyst" doc:"The admin token's role (admin tokens only)."`
		Name string `json:"name,omitempty" maxLength:"200" doc:"What the key is for, e.g. \"website\"."`
	}
}

func (s *Server) createKey(ctx context.Context, k *touchbase.Key, in *createKeyInput) (*output[*CreatedKey], error) {
	kind, role := touchbase.KeyKind(in.Body.Kind), touchbase.Role(in.Body.Role)
	switch kind {
	case touchbase.KeyWrite, touchbase.KeyServer:
		if role != "" {
			return nil, fieldError("role", "only admin tokens have a role; leave it out for a write or server key")
		}
	case touchbase.KeyAdmin:
		if role == "" {
			return nil, fieldError("role", "an admin token needs a role: owner, admin, marketer or analyst")
		}
		if role == touchbase.RoleOwner && k.Role != touchbase.RoleOwner {
			return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may create owner tokens")
		}
	}
	key, secret, err := s.svc.Keys.CreateKey(ctx, k.WorkspaceID, kind, role, strings.TrimSpace(in.Body.Name))
	if err != nil {
		return nil, err
	}
	s.log.Info("key created", "request_id", requestID(ctx), "workspace_id", k.WorkspaceID, "key_id", key.ID, "kind", kind, "role", role, "by_key_id", k.ID)
	return &output[*CreatedKey]{Body: &CreatedKey{Key: *key, Secret: secret}}, nil
}

type keyIDInput struct {
	ID int64 `path:"id" doc:"The key's id."`
}

func (s *Server) revokeKey(ctx context.Context, k *touchbase.Key, in *keyIDInput) (*noContent, error) {
	keys, err := s.svc.Keys.ListKeys(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	var target *touchbase.Key
	for _, key := range keys {
		if key.ID == in.ID {
			target = key
		}
	}
	if target == nil {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "no key %d in this workspace", in.ID)
	}
	if target.Kind == touchbase.KeyAdmin && target.Role == touchbase.RoleOwner && k.Role != touchbase.RoleOwner {
		return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may revoke an owner token")
	}
	if err := s.svc.Keys.RevokeKey(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	s.keys.dropKey(in.ID)
	s.log.Info("key revoked", "request_id", requestID(ctx), "workspace_id", k.WorkspaceID, "key_id", in.ID, "by_key_id", k.ID)
	return &noContent{}, nil
}

// registerUserRoutes registers /api/v1/users: the workspace's members.
// There is no way to add one here: people join by accepting an invitation
// (api_invitations.go), so that nobody is made a member without their
// consent, and nothing about an account is shown before they are one.
func (s *Server) registerUserRoutes() {
	register(s, huma.Operation{
		OperationID: "list-users", Method: http.MethodGet, Path: "/users", Tags: []string{"users"},
		Summary:     "List users",
		Description: "The workspace's members and their roles, oldest first; created_at is when each joined. Add people with POST /invitations.",
	}, touchbase.RoleAdmin, s.listUsers)
	register(s, huma.Operation{
		OperationID: "update-user", Method: http.MethodPatch, Path: "/users/{id}", Tags: []string{"users"},
		Summary:     "Change a user's role",
		Description: "Only owners may make someone an owner or change an owner's role; the last owner cannot be demoted.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict},
	}, touchbase.RoleAdmin, s.updateUser)
	register(s, huma.Operation{
		OperationID: "remove-user", Method: http.MethodDelete, Path: "/users/{id}", Tags: []string{"users"},
		Summary:       "Remove a user",
		Description:   "Removes the user from the workspace. Only owners may remove owners; the last owner cannot be removed.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound, http.StatusConflict},
	}, touchbase.RoleAdmin, s.removeUser)
}

func (s *Server) listUsers(ctx context.Context, k *touchbase.Key, _ *emptyInput) (*output[*Page[*touchbase.Member]], error) {
	ms, err := s.svc.Users.ListMembers(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Member]]{Body: newPage(ms, "")}, nil
}

type updateUserInput struct {
	ID   int64 `path:"id" doc:"The user's id."`
	Body struct {
		Role string `json:"role" enum:"owner,admin,marketer,analyst"`
	}
}

func (s *Server) updateUser(ctx context.Context, k *touchbase.Key, in *updateUserInput) (*output[*touchbase.Member], error) {
	m, err := s.svc.Users.FindMember(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	role := touchbase.Role(in.Body.Role)
	if (m.Role == touchbase.RoleOwner || role == touchbase.RoleOwner) && k.Role != touchbase.RoleOwner {
		return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may grant or change the owner role")
	}
	m, err = s.svc.Users.SetMemberRole(ctx, k.WorkspaceID, in.ID, role)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Member]{Body: m}, nil
}

type userIDInput struct {
	ID int64 `path:"id" doc:"The user's id."`
}

func (s *Server) removeUser(ctx context.Context, k *touchbase.Key, in *userIDInput) (*noContent, error) {
	m, err := s.svc.Users.FindMember(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	if m.Role == touchbase.RoleOwner && k.Role != touchbase.RoleOwner {
		return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may remove an owner")
	}
	if err := s.svc.Users.RemoveMember(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	return &noContent{}, nil
}
