package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/touchbase/touchbase"
)

// apiPrefix is where the admin API lives; its OpenAPI document is at
// apiPrefix + "/openapi.json" and lists full paths.
const apiPrefix = "/api/v1"

// registerAPI builds the admin API with huma over the server's mux.
func (s *Server) registerAPI() {
	installHumaErrors()
	cfg := huma.DefaultConfig("touchbase admin API", s.cfg.Version)
	cfg.Info.Description = "Read and manage one workspace of touchbase: customers, events, orders, products, " +
		"keys and users. Authenticate with `Authorization: Bearer <admin token>`; a token sees only its own " +
		"workspace. Errors have one shape: `{\"error\": {\"code\", \"message\", \"fields\", \"request_id\"}}`."
	cfg.OpenAPIPath = apiPrefix + "/openapi"
	// No docs page (it loads from a CDN) and no $schema links in bodies.
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An admin API token (kind admin)."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	s.api = humago.New(s.mux, cfg)
	s.api.UseMiddleware(s.apiAuth)

	s.registerStatsRoutes()
	s.registerCustomerRoutes()
	s.registerEventRoutes()
	s.registerOrderRoutes()
	s.registerImportRoutes()
	if s.svc.Segments != nil && s.svc.Engine != nil {
		s.registerSegmentRoutes()
	}
	if s.svc.Analyses != nil {
		s.registerAnalysisRoutes()
	}
	s.registerWorkspaceRoutes()
	s.registerKeyRoutes()
	s.registerUserRoutes()
	if s.svc.Invitations != nil {
		s.registerInvitationRoutes()
	}
}

// settleWait bounds how long a reader waits for ingestion to catch up
// before being served what the store has.
const settleWait = 10 * time.Second

// settle waits until the events acknowledged so far are in the store
// (instant when they are), so that a client reads what it has just sent.
func (s *Server) settle(ctx context.Context) {
	if s.svc.IngestQueue != nil && !s.svc.IngestQueue.Settle(ctx, settleWait) && ctx.Err() == nil {
		s.log.Warn("ingestion is behind: serving the store as it is", "waited", settleWait)
	}
}

// apiAuth authenticates the admin token of every operation and checks the
// role the operation asks for (fail closed: an operation that names none is
// owner-only).
func (s *Server) apiAuth(hctx huma.Context, next func(huma.Context)) {
	ctx := hctx.Context()
	op := hctx.Operation()
	min, _ := op.Metadata["role"].(touchbase.Role)
	if !min.Valid() {
		min = touchbase.RoleOwner
	}
	k, err := s.authenticateAdmin(ctx, hctx.Header("Authorization"))
	if err == nil && !k.Role.AtLeast(min) {
		err = touchbase.Errorf(touchbase.EFORBIDDEN, "a token with role %s may not %s: it needs role %s or above",
			k.Role, strings.ToLower(op.Summary), min)
	}
	if err != nil {
		er := s.errorResponse(ctx, err)
		if er.status == http.StatusUnauthorized {
			hctx.SetHeader("WWW-Authenticate", `Bearer realm="touchbase"`)
		}
		b, _ := json.Marshal(er)
		hctx.SetHeader("Content-Type", "application/json")
		hctx.SetStatus(er.status)
		hctx.BodyWriter().Write(append(b, '\n'))
		return
	}
	s.settle(ctx)
	scheme := "http"
	if hctx.TLS() != nil || (s.cfg.TrustForwardedProto && strings.EqualFold(hctx.Header("X-Forwarded-Proto"), "https")) {
		scheme = "https"
	}
	hctx = huma.WithValue(hctx, baseURLKey, scheme+"://"+hctx.Host())
	next(huma.WithValue(hctx, adminKeyKey, k))
}

// authenticateAdmin returns the live admin token of an Authorization header.
func (s *Server) authenticateAdmin(ctx context.Context, header string) (*touchbase.Key, error) {
	const bearer = "bearer "
	if header == "" {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "missing admin token: send Authorization: Bearer <admin token>")
	}
	if len(header) <= len(bearer) || !strings.EqualFold(header[:len(bearer)], bearer) {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "the Authorization header must be Bearer <admin token>")
	}
	k, err := s.keys.authenticate(ctx, s.svc.Keys, strings.TrimSpace(header[len(bearer):]))
	if err != nil {
		if touchbase.ErrorCode(err) == touchbase.EUNAUTHORIZED {
			return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "unknown or revoked admin token")
		}
		return nil, err
	}
	if k.Kind != touchbase.KeyAdmin {
		return nil, touchbase.Errorf(touchbase.EFORBIDDEN, "this is a write key: it can only send events to /v1; the admin API needs an admin token")
	}
	return k, nil
}

// register adds an admin API operation at apiPrefix+op.Path that needs at
// least role min. h gets the caller's token (its WorkspaceID scopes every
// query); its errors are rendered in the one shape.
func register[I, O any](s *Server, op huma.Operation, min touchbase.Role, h func(ctx context.Context, k *touchbase.Key, in *I) (*O, error)) {
	op.Path = apiPrefix + op.Path
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata["role"] = min
	op.Description = strings.TrimSpace(op.Description + fmt.Sprintf("\n\nNeeds a token with role %s or above.", min))
	op.Errors = append([]int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden}, op.Errors...)
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		k, _ := ctx.Value(adminKeyKey).(*touchbase.Key)
		if k == nil {
			// apiAuth always sets it; refuse rather than serve unscoped.
			return nil, s.errorResponse(ctx, touchbase.Errorf(touchbase.EUNAUTHORIZED, "missing admin token"))
		}
		out, err := h(ctx, k, in)
		if err == nil {
			err = checkFinite(out)
		}
		if err != nil {
			return nil, s.errorResponse(ctx, err)
		}
		return out, nil
	})
}

// Page is one page of a list and the cursor of the next.
type Page[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next" nullable:"true" doc:"Pass as cursor to get the next page; null at the end."`
}

// newPage returns items and next ("" at the end) as a Page, never with a
// null items list.
func newPage[T any](items []T, next string) *Page[T] {
	if items == nil {
		items = []T{}
	}
	p := &Page[T]{Items: items}
	if next != "" {
		p.Next = &next
	}
	return p
}

// output wraps a body for huma.
type output[T any] struct {
	Body T
}

// noContent is the output of operations that answer 204.
type noContent struct{}
