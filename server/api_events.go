package server

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
)

// registerStatsRoutes registers /api/v1/stats.
func (s *Server) registerStatsRoutes() {
	register(s, huma.Operation{
		OperationID: "get-stats", Method: http.MethodGet, Path: "/stats", Tags: []string{"workspace"},
		Summary:     "Get the workspace's totals",
		Description: "Customers, events, orders, revenue and products of the token's workspace.",
	}, touchbase.RoleAnalyst, s.getStats)
}

type emptyInput struct{}

func (s *Server) getStats(ctx context.Context, k *touchbase.Key, _ *emptyInput) (*output[*touchbase.Stats], error) {
	st, err := s.svc.Stats.Stats(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Stats]{Body: st}, nil
}

// registerEventRoutes registers /api/v1/events.
func (s *Server) registerEventRoutes() {
	register(s, huma.Operation{
		OperationID: "list-events", Method: http.MethodGet, Path: "/events", Tags: []string{"events"},
		Summary:     "List events",
		Description: "Events of the workspace, newest first.",
	}, touchbase.RoleAnalyst, s.listEvents)
	register(s, huma.Operation{
		OperationID: "get-event", Method: http.MethodGet, Path: "/events/{id}", Tags: []string{"events"},
		Summary: "Get an event",
		Errors:  []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getEvent)
}

type listEventsInput struct {
	CustomerID int64     `query:"customer_id" doc:"Only this customer's events."`
	Type       string    `query:"type" enum:"identify,track,page,screen,group,alias" doc:"Only events of this type."`
	Event      string    `query:"event" doc:"Only events with this name."`
	Since      time.Time `query:"since" doc:"At or after this time (RFC 3339)."`
	Until      time.Time `query:"until" doc:"Before this time (RFC 3339)."`
	Limit      int       `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Cursor     string    `query:"cursor"`
}

func (s *Server) listEvents(ctx context.Context, k *touchbase.Key, in *listEventsInput) (*output[*Page[*touchbase.Event]], error) {
	items, next, err := s.svc.Events.ListEvents(ctx, k.WorkspaceID, touchbase.EventFilter{
		CustomerID: in.CustomerID, Type: touchbase.EventType(in.Type), Event: in.Event,
		Since: in.Since, Until: in.Until, After: in.Cursor, Limit: in.Limit,
	})
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Event]]{Body: newPage(items, next)}, nil
}

type eventIDInput struct {
	ID int64 `path:"id" doc:"The event's id."`
}

func (s *Server) getEvent(ctx context.Context, k *touchbase.Key, in *eventIDInput) (*output[*touchbase.Event], error) {
	e, err := s.svc.Events.FindEvent(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Event]{Body: e}, nil
}
