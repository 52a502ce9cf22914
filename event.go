package touchbase

import (
	"context"
	"encoding/json"
	"time"
)

// EventType is the Segment call type (an inbound's, and its event's).
type EventType string

// Segment call types.
const (
	EventIdentify EventType = "identify"
	EventTrack    EventType = "track"
	EventPage     EventType = "page"
	EventScreen   EventType = "screen"
	EventGroup    EventType = "group"
	EventAlias    EventType = "alias"
)

// Valid reports whether t is one of the six Segment types.
func (t EventType) Valid() bool {
	switch t {
	case EventIdentify, EventTrack, EventPage, EventScreen, EventGroup, EventAlias:
		return true
	}
	return false
}

// Names of the events touchbase itself records on a customer's timeline.
const (
	EventCustomersMerged = "Customers Merged"
)

// Inbound is one validated, normalised Segment-spec call as it arrives,
// ready to be stored: what ingestion hands to the store, which makes it an
// event. (Not a "message": that word is a delivery to a customer.) Raw
// JSON fields are kept as sent so that nothing a client sent is lost.
type Inbound struct {
	WorkspaceID int64
	MessageID   string
	Type        EventType
	// Event is the track event name, or the page or screen name.
	Event       string
	UserID      string
	AnonymousID string
	// Email and Phone are the normalised identifiers found in the traits
	// (identify) or context.traits (any type); empty when absent.
	Email string
	Phone string
	// PreviousID is alias's previous id; GroupID is group's group id.
	PreviousID string
	GroupID    string
	// Traits are the profile traits to merge: identify's traits, or
	// context.traits of other types. Nil when there are none.
	Traits map[string]any
	// Timestamp is when it happened, corrected for the client's clock skew.
	Timestamp  time.Time
	ReceivedAt time.Time
	// Properties is the raw JSON object of track/page/screen properties, or
	// identify/group traits; Context is the raw context object. Both are
	// nil when absent.
	Properties json.RawMessage
	Context    json.RawMessage
	// Order is set for the e-commerce events that change an order.
	Order *OrderChange
	// Products are the products the event describes (viewed, added, ordered),
	// to keep the catalogue current.
	Products []Product
	// Guest is set for an imported order event that names nobody (a guest
	// checkout): it updates orders and products but no customer, and is
	// stored without one (CustomerID 0).
	Guest bool
	// Public says the inbound came with a public write key (KeyWrite),
	// whose secret every visitor of the store's pages can read. It is
	// stored as an event all the same, but what it may change is limited:
	// it may create an order for the customer it resolves to, change only
	// orders of that same customer (never a guest order or another
	// customer's, never move one), and may not change a product that a
	// server key or an import defined. What it may not change is counted
	// in IngestResult's Refused counts. Imports and server keys leave it
	// false.
	Public bool
}

// Event is what an inbound becomes once stored: an entry on a customer's
// timeline.
type Event struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"workspace_id"`
	CustomerID  int64           `json:"customer_id"`
	MessageID   string          `json:"message_id"`
	Type        EventType       `json:"type"`
	Event       string          `json:"event,omitempty"`
	UserID      string          `json:"user_id,omitempty"`
	AnonymousID string          `json:"anonymous_id,omitempty"`
	Timestamp   time.Time       `json:"timestamp"`
	ReceivedAt  time.Time       `json:"received_at"`
	Properties  json.RawMessage `json:"properties,omitempty"`
	Context     json.RawMessage `json:"context,omitempty"`
}

// IngestStatus is what happened to one inbound.
type IngestStatus uint8

// Ingest statuses.
const (
	IngestStored    IngestStatus = iota // a new event was written
	IngestDuplicate                     // its messageId was already stored (or repeated in the call)
	IngestErased                        // dropped: an identifier belongs to an erased customer
)

// IngestResult counts what one Ingest call did with its inbounds; Statuses
// has one entry per inbound, in order.
type IngestResult struct {
	Stored     int
	Duplicates int
	Erased     int // dropped: they name an erased customer
	Statuses   []IngestStatus
	// RefusedOrders counts the order changes of public inbounds (see
	// Inbound.Public) that were not applied: their events are stored.
	RefusedOrders int
	// RefusedProducts counts the catalogue changes of public inbounds that
	// were not applied to products a server key or an import defined.
	RefusedProducts int
}

// Add counts status s.
func (r *IngestResult) Add(s IngestStatus) {
	r.Statuses = append(r.Statuses, s)
	switch s {
	case IngestStored:
		r.Stored++
	case IngestDuplicate:
		r.Duplicates++
	case IngestErased:
		r.Erased++
	}
}

// Ingester stores inbounds durably: when Ingest returns nil, every inbound
// is committed. Each call is one transaction.
type Ingester interface {
	Ingest(ctx context.Context, ins []Inbound) (IngestResult, error)
}

// EventFilter selects events; zero fields do not filter. Paging is keyset:
// pass the previous page's Next as After.
type EventFilter struct {
	CustomerID int64
	Type       EventType
	Event      string
	Since      time.Time
	Until      time.Time
	After      string // opaque cursor
	Limit      int    // default 50, at most 1000
}

// EventService reads events.
type EventService interface {
	// FindEvent returns ENOTFOUND.
	FindEvent(ctx context.Context, workspaceID, id int64) (*Event, error)
	// ListEvents returns the events newest first and the cursor of the next
	// page ("" at the end). EINVALID for a bad cursor.
	ListEvents(ctx context.Context, workspaceID int64, f EventFilter) ([]*Event, string, error)
}

// EventRow is the part of a stored event that segment evaluation reads:
// whose it is, its name, when it happened and its raw properties. It is
// what the engine back-fills its event aggregates from, and what it is fed
// as events arrive.
type EventRow struct {
	// ID is the event's row id: ids grow in commit order within a
	// workspace, which is what lets the engine follow the events table.
	ID         int64
	CustomerID int64
	// Event is the track event's name, or the page's or screen's name.
	Event string
	// Timestamp is Unix milliseconds.
	Timestamp int64
	// Properties is the raw JSON object; nil when absent.
	Properties json.RawMessage
}
