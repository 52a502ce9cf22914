package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
)

// registerWorkspaceRoutes registers /api/v1/workspace and /api/v1/workspaces.
func (s *Server) registerWorkspaceRoutes() {
	register(s, huma.Operation{
		OperationID: "get-workspace", Method: http.MethodGet, Path: "/workspace", Tags: []string{"workspace"},
		Summary: "Get the workspace",
	}, touchbase.RoleAnalyst, s.getWorkspace)
	register(s, huma.Operation{
		OperationID: "update-workspace", Method: http.MethodPatch, Path: "/workspace", Tags: []string{"workspace"},
		Summary:     "Update the workspace",
		Description: "Changes the name and the settings given; settings not given keep their value. Names need not be unique.",
	}, touchbase.RoleAdmin, s.updateWorkspace)
	register(s, huma.Operation{
		OperationID: "list-workspaces", Method: http.MethodGet, Path: "/workspaces", Tags: []string{"workspace"},
		Summary:     "List workspaces",
		Description: "The workspaces this token can see: its own.",
	}, touchbase.RoleAnalyst, s.listWorkspaces)
	register(s, huma.Operation{
		OperationID: "create-workspace", Method: http.MethodPost, Path: "/workspaces", Tags: []string{"workspace"},
		Summary: "Create a workspace",
		Description: "Creates a new, separate workspace and an owner token for it (shown once). " +
			"The calling token cannot reach the new workspace: use the returned token. " +
			"Names need not be unique (they are labels; ids identify), so no name is ever refused as taken.",
		DefaultStatus: http.StatusCreated,
	}, touchbase.RoleOwner, s.createWorkspace)
}

func (s *Server) getWorkspace(ctx context.Context, k *touchbase.Key, _ *emptyInput) (*output[*touchbase.Workspace], error) {
	ws, err := s.svc.Workspaces.FindWorkspace(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Workspace]{Body: ws}, nil
}

// settingsPatch holds the settings to change; absent fields keep theirs.
type settingsPatch struct {
	AllowedOrigins *[]string `json:"allowed_origins,omitempty" doc:"Browser origins (scheme://host[:port]) the tracker may send from; empty allows any."`
	RateLimit      *int      `json:"rate_limit,omitempty" minimum:"0" doc:"Events per second one write key may send; 0 is the server's default."`
	Currency       *string   `json:"currency,omitempty" doc:"ISO 4217 code money is reported in."`
	Timezone       *string   `json:"timezone,omitempty" doc:"IANA time zone, e.g. Europe/Berlin."`
}

type updateWorkspaceInput struct {
	Body struct {
		Name     *string        `json:"name,omitempty" minLength:"1" doc:"The new name."`
		Settings *settingsPatch `json:"settings,omitempty"`
	}
}

func (s *Server) updateWorkspace(ctx context.Context, k *touchbase.Key, in *updateWorkspaceInput) (*output[*touchbase.Workspace], error) {
	var upd touchbase.WorkspaceUpdate
	if in.Body.Name != nil {
		name := strings.TrimSpace(*in.Body.Name)
		if name == "" {
			return nil, fieldError("name", "must not be empty")
		}
		upd.Name = &name
	}
	if p := in.Body.Settings; p != nil {
		cur, err := s.svc.Workspaces.FindWorkspace(ctx, k.WorkspaceID)
		if err != nil {
			return nil, err
		}
		set := cur.Settings
		if err := applySettings(&set, p); err != nil {
			return nil, err
		}
		upd.Settings = &set
	}
	ws, err := s.svc.Workspaces.UpdateWorkspace(ctx, k.WorkspaceID, upd)
	if err != nil {
		return nil, err
	}
	s.keys.dropWorkspace(k.WorkspaceID)
	return &output[*touchbase.Workspace]{Body: ws}, nil
}

// applySettings validates p and applies it to set.
func applySettings(set *touchbase.WorkspaceSettings, p *settingsPatch) error {
	if p.AllowedOrigins != nil {
		origins := []string{}
		for i, o := range *p.AllowedOrigins {
			norm, err := normalizeOrigin(o)
			if err != nil {
				return fieldError(fmt.Sprintf("settings.allowed_origins[%d]", i), err.Error())
			}
			origins = append(origins, norm)
		}
		set.AllowedOrigins = origins
	}
	if p.RateLimit != nil {
		if *p.RateLimit < 0 {
			return fieldError("settings.rate_limit", "must be 0 (the server's default) or more events per second")
		}
		set.RateLimit = *p.RateLimit
	}
	if p.Currency != nil {
		c := strings.ToUpper(strings.TrimSpace(*p.Currency))
		if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fieldError("settings.currency", fmt.Sprintf("%q is not an ISO 4217 code like EUR or USD", *p.Currency))
		}
		set.Currency = c
	}
	if p.Timezone != nil {
		tz := strings.TrimSpace(*p.Timezone)
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || strings.EqualFold(tz, "local") {
			return fieldError("settings.timezone", fmt.Sprintf("%q is not an IANA time zone like Europe/Berlin", *p.Timezone))
		}
		set.Timezone = tz
	}
	return nil
}

// normalizeOrigin returns o as scheme://host[:port] in lower case, or "*".
func normalizeOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q is not an origin like https://shop.example.com", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func (s *Server) listWorkspaces(ctx context.Context, k *touchbase.Key, _ *emptyInput) (*output[*Page[*touchbase.Workspace]], error) {
	ws, err := s.svc.Workspaces.FindWorkspace(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Workspace]]{Body: newPage([]*touchbase.Workspace{ws}, "")}, nil
}

type createWorkspaceInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" doc:"The workspace's name; another workspace may have the same."`
	}
}

// CreatedWorkspace is a new workspace and the owner token that reaches it.
type CreatedWorkspace struct {
	Workspace *touchbase.Workspace `json:"workspace"`
	Token     *CreatedKey          `json:"token" doc:"An owner admin token of the new workspace; its secret is shown only now."`
}

func (s *Server) createWorkspace(ctx context.Context, k *touchbase.Key, in *createWorkspaceInput) (*output[*CreatedWorkspace], error) {
	name := strings.TrimSpace(in.Body.Name)
	if name == "" {
		return nil, fieldError("name", "must not be empty")
	}
	ws, err := s.svc.Workspaces.CreateWorkspace(ctx, name)
	if err != nil {
		return nil, err
	}
	key, secret, err := s.svc.Keys.CreateKey(ctx, ws.ID, touchbase.KeyAdmin, touchbase.RoleOwner,
		fmt.Sprintf("owner token (created through the API by key %d of workspace %d)", k.ID, k.WorkspaceID))
	if err != nil {
		return nil, fmt.Errorf("create owner token of workspace %d: %w", ws.ID, err)
	}
	s.log.Info("workspace created", "request_id", requestID(ctx), "workspace_id", ws.ID, "by_workspace_id", k.WorkspaceID, "by_key_id", k.ID)
	return &output[*CreatedWorkspace]{Body: &CreatedWorkspace{Workspace: ws, Token: &CreatedKey{Key: *key, Secret: secret}}}, nil
}
