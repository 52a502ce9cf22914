package touchbase

import (
	"context"
	"time"
)

// Workspace is one store or brand: the tenant. Every row, key, query and job
// belongs to exactly one.
type Workspace struct {
	ID        int64             `json:"id"`
	Name      string            `json:"name"`
	Settings  WorkspaceSettings `json:"settings"`
	CreatedAt time.Time         `json:"created_at"`
}

// WorkspaceSettings are the knobs an owner sets per workspace.
type WorkspaceSettings struct {
	// AllowedOrigins lists the browser origins the tracker may send from.
	// Empty means any origin (write keys are public in browsers anyway).
	AllowedOrigins []string `json:"allowed_origins"`
	// RateLimit is the sustained events per second one write key may send;
	// 0 means the server's default.
	RateLimit int `json:"rate_limit"`
	// Currency is the ISO 4217 code money is reported in.
	Currency string `json:"currency"`
	// Timezone is the IANA zone reports and schedules use by default.
	Timezone string `json:"timezone"`
}

// WorkspaceUpdate holds the fields to change; nil means keep.
type WorkspaceUpdate struct {
	Name     *string
	Settings *WorkspaceSettings
}

// WorkspaceService manages workspaces.
type WorkspaceService interface {
	// CreateWorkspace returns EINVALID when the name is empty. Names need
	// not be unique (they are labels; ids identify), so that creating one
	// never tells which names other tenants use.
	CreateWorkspace(ctx context.Context, name string) (*Workspace, error)
	// FindWorkspace returns ENOTFOUND.
	FindWorkspace(ctx context.Context, id int64) (*Workspace, error)
	// FindWorkspaceByName returns ENOTFOUND, and ECONFLICT when several
	// workspaces have the name. For operators, who see them all.
	FindWorkspaceByName(ctx context.Context, name string) (*Workspace, error)
	// ListWorkspaces returns all workspaces, oldest first.
	ListWorkspaces(ctx context.Context) ([]*Workspace, error)
	// UpdateWorkspace returns ENOTFOUND, EINVALID.
	UpdateWorkspace(ctx context.Context, id int64, upd WorkspaceUpdate) (*Workspace, error)
}
