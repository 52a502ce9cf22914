package server

import (
	"context"
	"net/http"
	"time"
)

// /healthz says what works: one check per part touchbase needs, each
// cheap enough to be polled every few seconds (never an integrity check).
// It answers 200 when every check passes and 503 when one fails or the
// server is shutting down, with the JSON
//
//	{"status": "ok", "version": "...", "checks": {"database": "ok", "migrations": "ok", ...}}
//
// where a failing check says what is wrong instead of "ok".

// healthCheck is one line of /healthz.
type healthCheck struct {
	name  string
	check func(ctx context.Context) error
}

// storeHealth is what a store can tell about itself (*store.Store does):
// CheckDatabase that it answers a real read and its file is intact,
// CheckSchema that the migrations and tables are what this binary expects.
type storeHealth interface {
	CheckDatabase(ctx context.Context) error
	CheckSchema(ctx context.Context) error
}

// healthReporter is any other part that can say whether it works (the
// segment engine does; an ingestion writer that knows its disk is full
// would): implementing it on a service is all it takes to add a check.
type healthReporter interface {
	Health(ctx context.Context) error
}

// healthChecks returns the checks of the services the server has, in the
// order /healthz lists them.
func (s *Server) healthChecks() []healthCheck {
	var checks []healthCheck
	if st, ok := s.svc.Workspaces.(storeHealth); ok {
		checks = append(checks, healthCheck{"database", st.CheckDatabase}, healthCheck{"migrations", st.CheckSchema})
	} else if s.svc.Workspaces != nil {
		checks = append(checks, healthCheck{"database", func(ctx context.Context) error {
			_, err := s.svc.Workspaces.ListWorkspaces(ctx)
			return err
		}})
	}
	if h, ok := s.svc.IngestQueue.(healthReporter); ok {
		checks = append(checks, healthCheck{"ingest", h.Health})
	}
	if h, ok := s.svc.Engine.(healthReporter); ok {
		checks = append(checks, healthCheck{"engine", h.Health})
	}
	return checks
}

// healthTimeout bounds one /healthz: a database that does not answer in
// that time is not healthy.
const healthTimeout = 5 * time.Second

// health is the body of /healthz.
type health struct {
	Status  string            `json:"status"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	h := health{Status: "ok", Version: s.cfg.Version, Checks: map[string]string{}}
	if s.closing.Load() {
		h.Status = "shutting down"
		writeJSON(w, http.StatusServiceUnavailable, h)
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	status := http.StatusOK
	for _, c := range s.health {
		if err := c.check(ctx); err != nil {
			h.Checks[c.name] = err.Error()
			h.Status, status = "unhealthy", http.StatusServiceUnavailable
			s.log.Warn("health check failed", "request_id", requestID(r.Context()), "check", c.name, "err", err)
			continue
		}
		h.Checks[c.name] = "ok"
	}
	writeJSON(w, status, h)
	return nil
}
