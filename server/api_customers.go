package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
)

// profileEvents and profileOrders are how many of each the 360 document
// carries; the timeline and order endpoints page through the rest.
const (
	profileEvents = 20
	profileOrders = 20
)

// registerCustomerRoutes registers /api/v1/customers.
func (s *Server) registerCustomerRoutes() {
	register(s, huma.Operation{
		OperationID: "list-customers", Method: http.MethodGet, Path: "/customers", Tags: []string{"customers"},
		Summary:     "List customers",
		Description: "Customers matching every filter given, one page at a time (keyset paging: pass next as cursor).",
	}, touchbase.RoleAnalyst, s.listCustomers)
	register(s, huma.Operation{
		OperationID: "get-customer", Method: http.MethodGet, Path: "/customers/{id}", Tags: []string{"customers"},
		Summary:     "Get a customer",
		Description: "The 360 view: profile, identities, traits, features, the most recent orders (with items) and events.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getCustomer)
	register(s, huma.Operation{
		OperationID: "list-customer-events", Method: http.MethodGet, Path: "/customers/{id}/events", Tags: []string{"customers"},
		Summary:     "List a customer's events",
		Description: "The customer's timeline, newest first.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.listCustomerEvents)
	register(s, huma.Operation{
		OperationID: "update-customer", Method: http.MethodPatch, Path: "/customers/{id}", Tags: []string{"customers"},
		Summary:     "Update a customer's traits",
		Description: "Merges traits into the profile; a null value removes the trait.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleMarketer, s.updateCustomer)
	register(s, huma.Operation{
		OperationID: "erase-customer", Method: http.MethodDelete, Path: "/customers/{id}", Tags: []string{"customers"},
		Summary:       "Erase a customer",
		Description:   "GDPR erasure: the customer's PII and events are deleted, their orders detached, and their identifiers remembered as erased (hashed) so that late events do not recreate them.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound},
	}, touchbase.RoleAdmin, s.eraseCustomer)
	register(s, huma.Operation{
		OperationID: "export-customer", Method: http.MethodGet, Path: "/customers/{id}/export", Tags: []string{"customers"},
		Summary:     "Export a customer's data",
		Description: "Everything touchbase holds about the customer (GDPR access request), as a JSON download.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAdmin, s.exportCustomer)
}

type listCustomersInput struct {
	UserID      string    `query:"user_id" doc:"Exact user id."`
	Email       string    `query:"email" doc:"Exact email (case-insensitive)."`
	Phone       string    `query:"phone" doc:"Exact phone number."`
	AnonymousID string    `query:"anonymous_id" doc:"An anonymous id the customer used."`
	Q           string    `query:"q" doc:"Search email, name, user id and phone."`
	Trait       string    `query:"trait" doc:"A trait name; with trait_value, customers whose trait equals it."`
	TraitValue  string    `query:"trait_value" doc:"The value trait must have (compared as text)."`
	MinOrders   int       `query:"min_orders" minimum:"0" doc:"At least this many orders."`
	SeenSince   time.Time `query:"seen_since" doc:"Seen at or after this time (RFC 3339)."`
	Sort        string    `query:"sort" enum:"id,last_seen,revenue,orders,created" doc:"Order: id ascending, or the others descending."`
	Limit       int       `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Page size."`
	Cursor      string    `query:"cursor" doc:"The next value of the previous page."`
}

func (s *Server) listCustomers(ctx context.Context, k *touchbase.Key, in *listCustomersInput) (*output[*Page[*touchbase.Customer]], error) {
	if in.TraitValue != "" && in.Trait == "" {
		return nil, fieldError("trait", "trait_value needs trait (the name of the trait to compare)")
	}
	email := in.Email
	if e := touchbase.NormalizeEmail(email); e != "" {
		email = e
	}
	phone := in.Phone
	if p := touchbase.NormalizePhone(phone); p != "" {
		phone = p
	}
	items, next, err := s.svc.Customers.ListCustomers(ctx, k.WorkspaceID, touchbase.CustomerFilter{
		UserID: in.UserID, Email: email, Phone: phone, AnonymousID: in.AnonymousID,
		Query: in.Q, Trait: in.Trait, TraitValue: in.TraitValue, MinOrders: in.MinOrders,
		SeenSince: in.SeenSince, Sort: touchbase.CustomerSort(in.Sort), After: in.Cursor, Limit: in.Limit,
	})
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Customer]]{Body: newPage(items, next)}, nil
}

type customerIDInput struct {
	ID int64 `path:"id" doc:"The customer's id."`
}

// CustomerProfile is the 360 view of one customer.
type CustomerProfile struct {
	touchbase.Customer
	Orders []*touchbase.Order `json:"orders" doc:"The most recent orders, newest first, with their items."`
	Events []*touchbase.Event `json:"events" doc:"The most recent events, newest first."`
	// EventsNext continues the timeline at /customers/{id}/events.
	EventsNext *string `json:"events_next" nullable:"true" doc:"Cursor of the rest of the timeline (GET /customers/{id}/events?cursor=...); null when events holds it all."`
}

func (s *Server) getCustomer(ctx context.Context, k *touchbase.Key, in *customerIDInput) (*output[*CustomerProfile], error) {
	c, err := s.svc.Customers.FindCustomer(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	orders, _, err := s.svc.Orders.ListOrders(ctx, k.WorkspaceID, touchbase.OrderFilter{CustomerID: c.ID, Limit: profileOrders})
	if err != nil {
		return nil, fmt.Errorf("orders of customer %d: %w", c.ID, err)
	}
	events, next, err := s.svc.Events.ListEvents(ctx, k.WorkspaceID, touchbase.EventFilter{CustomerID: c.ID, Limit: profileEvents})
	if err != nil {
		return nil, fmt.Errorf("events of customer %d: %w", c.ID, err)
	}
	p := &CustomerProfile{Customer: *c, Orders: orders, Events: events}
	if p.Orders == nil {
		p.Orders = []*touchbase.Order{}
	}
	if p.Events == nil {
		p.Events = []*touchbase.Event{}
	}
	if next != "" {
		p.EventsNext = &next
	}
	return &output[*CustomerProfile]{Body: p}, nil
}

type customerEventsInput struct {
	ID     int64  `path:"id" doc:"The customer's id."`
	Type   string `query:"type" enum:"identify,track,page,screen,group,alias" doc:"Only events of this type."`
	Event  string `query:"event" doc:"Only track events with this name (or pages/screens with this name)."`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Cursor string `query:"cursor"`
}

func (s *Server) listCustomerEvents(ctx context.Context, k *touchbase.Key, in *customerEventsInput) (*output[*Page[*touchbase.Event]], error) {
	// A customer of another workspace would only give an empty page; say
	// it does not exist, as everywhere else.
	if _, err := s.svc.Customers.FindCustomer(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	items, next, err := s.svc.Events.ListEvents(ctx, k.WorkspaceID, touchbase.EventFilter{
		CustomerID: in.ID, Type: touchbase.EventType(in.Type), Event: in.Event, After: in.Cursor, Limit: in.Limit,
	})
	if err != nil {
		return nil, err
	}
	return &output[*Page[*touchbase.Event]]{Body: newPage(items, next)}, nil
}

type updateCustomerInput struct {
	ID   int64 `path:"id" doc:"The customer's id."`
	Body struct {
		Traits map[string]any `json:"traits" doc:"Traits to merge; null removes one."`
	}
}

func (s *Server) updateCustomer(ctx context.Context, k *touchbase.Key, in *updateCustomerInput) (*output[*touchbase.Customer], error) {
	if in.Body.Traits == nil {
		return nil, fieldError("traits", "traits must be an object of the traits to change")
	}
	c, err := s.svc.Customers.UpdateTraits(ctx, k.WorkspaceID, in.ID, in.Body.Traits)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Customer]{Body: c}, nil
}

// eraseWait bounds how long an erasure waits for the ingestion log's
// backlog to be applied, so that the log's copies can go.
const eraseWait = 2 * time.Minute

// eraseCustomer erases the customer from the store, then from every copy
// touchbase keeps (the ingestion log, failed/), and answers 204 only once
// they are gone.
func (s *Server) eraseCustomer(ctx context.Context, k *touchbase.Key, in *customerIDInput) (*noContent, error) {
	// Their identifiers, to find what they sent in the copies; read
	// first, since the erasure deletes them.
	c, err := s.svc.Customers.FindCustomer(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	ids := append([]touchbase.Identity{
		{Kind: touchbase.IdentityUserID, Value: c.UserID},
		{Kind: touchbase.IdentityEmail, Value: c.Email},
		{Kind: touchbase.IdentityPhone, Value: c.Phone},
	}, c.Identities...)
	err = s.svc.Customers.EraseCustomer(ctx, k.WorkspaceID, in.ID)
	if err != nil && touchbase.ErrorCode(err) != touchbase.EUNAVAILABLE {
		// EUNAVAILABLE may come after the rows went: remove the other
		// copies all the same.
		return nil, err
	}
	if err == nil {
		s.log.Info("customer erased", "request_id", requestID(ctx), "workspace_id", k.WorkspaceID, "customer_id", in.ID, "key_id", k.ID)
	}
	if s.svc.Engine != nil {
		// Erasure leaves no event behind for the engine to follow.
		if err := s.svc.Engine.Forget(ctx, k.WorkspaceID, in.ID); err != nil {
			s.log.Error("segments: forgetting an erased customer", "workspace_id", k.WorkspaceID, "customer_id", in.ID, "err", err)
		}
	}
	if s.svc.IngestQueue != nil {
		fctx, cancel := context.WithTimeout(ctx, eraseWait)
		defer cancel()
		if ferr := s.svc.IngestQueue.Forget(fctx, k.WorkspaceID, ids); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		return nil, err
	}
	return &noContent{}, nil
}

type exportOutput struct {
	ContentDisposition string `header:"Content-Disposition"`
	Body               *touchbase.CustomerExport
}

func (s *Server) exportCustomer(ctx context.Context, k *touchbase.Key, in *customerIDInput) (*exportOutput, error) {
	x, err := s.svc.Customers.ExportCustomer(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	return &exportOutput{
		ContentDisposition: fmt.Sprintf(`attachment; filename="customer-%d.json"`, in.ID),
		Body:               x,
	}, nil
}

// fieldError is an EINVALID error about one field of the request.
func fieldError(field, msg string) error {
	e := touchbase.Errorf(touchbase.EINVALID, "%s: %s", field, msg)
	e.Fields = []touchbase.FieldError{{Index: -1, Field: field, Message: msg}}
	return e
}
