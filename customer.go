package touchbase

import (
	"context"
	"strings"
	"time"
)

// IdentityKind is a kind of identifier that points to a customer.
type IdentityKind string

// Identity kinds, in the order identity resolution trusts them.
const (
	IdentityUserID      IdentityKind = "user_id"
	IdentityEmail       IdentityKind = "email"
	IdentityPhone       IdentityKind = "phone"
	IdentityAnonymousID IdentityKind = "anonymous_id"
)

// IdentityKinds lists the kinds, most trusted first.
var IdentityKinds = []IdentityKind{IdentityUserID, IdentityEmail, IdentityPhone, IdentityAnonymousID}

// Valid reports whether k is one of IdentityKinds.
func (k IdentityKind) Valid() bool {
	switch k {
	case IdentityUserID, IdentityEmail, IdentityPhone, IdentityAnonymousID:
		return true
	}
	return false
}

// Identity is one identifier of a customer. Values are unique per workspace
// and kind.
type Identity struct {
	Kind      IdentityKind `json:"kind"`
	Value     string       `json:"value"`
	CreatedAt time.Time    `json:"created_at"`
}

// Features are the built-in values touchbase computes for every customer.
// Times are nil when unknown. Revenue is net of refunds and excludes
// cancelled orders; Orders counts orders that are not cancelled.
type Features struct {
	Orders       int        `json:"orders"`
	Revenue      float64    `json:"revenue"`
	AOV          float64    `json:"aov"`
	FirstOrderAt *time.Time `json:"first_order_at"`
	LastOrderAt  *time.Time `json:"last_order_at"`
	FirstSeenAt  *time.Time `json:"first_seen_at"`
	LastSeenAt   *time.Time `json:"last_seen_at"`
	Refunds      int        `json:"refunds"`
	RefundTotal  float64    `json:"refund_total"`
	Events       int        `json:"events"`
}

// Customer is one person's unified profile. UserID, Email and Phone are the
// primary identifiers (all identities are in Identities when asked for).
type Customer struct {
	ID          int64          `json:"id"`
	WorkspaceID int64          `json:"workspace_id"`
	UserID      string         `json:"user_id,omitempty"`
	Email       string         `json:"email,omitempty"`
	Phone       string         `json:"phone,omitempty"`
	Traits      map[string]any `json:"traits"`
	Features    Features       `json:"features"`
	Scores      Scores         `json:"scores"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	Identities  []Identity     `json:"identities,omitempty"`
}

// CustomerSort names the orders customers can be listed in.
type CustomerSort string

// Customer sort orders. Each is descending with id as the tie breaker,
// except CustomerSortID which is ascending.
const (
	CustomerSortID       CustomerSort = "id"
	CustomerSortLastSeen CustomerSort = "last_seen"
	CustomerSortRevenue  CustomerSort = "revenue"
	CustomerSortOrders   CustomerSort = "orders"
	CustomerSortCreated  CustomerSort = "created"
)

// CustomerFilter selects customers; zero fields do not filter.
type CustomerFilter struct {
	UserID      string
	Email       string
	Phone       string
	AnonymousID string
	// Query searches email, name (traits first_name, last_name, name),
	// user id and phone, case-insensitively, by prefix or substring.
	Query string
	// Trait and TraitValue match customers whose trait equals the value
	// (compared as text).
	Trait      string
	TraitValue string
	MinOrders  int
	SeenSince  time.Time
	Sort       CustomerSort
	After      string // opaque cursor
	Limit      int    // default 50, at most 1000
}

// CustomerExport is everything touchbase holds about one customer (GDPR
// access request).
type CustomerExport struct {
	Customer *Customer  `json:"customer"`
	Events   []*Event   `json:"events"`
	Orders   []*Order   `json:"orders"`
	Consents []*Consent `json:"consents"`
}

// CustomerService reads and changes profiles.
type CustomerService interface {
	// FindCustomer returns the customer with their identities, or ENOTFOUND.
	FindCustomer(ctx context.Context, workspaceID, id int64) (*Customer, error)
	// FindCustomers returns those of the customers with the given ids
	// that exist, in the order of ids, without identities.
	FindCustomers(ctx context.Context, workspaceID int64, ids []int64) ([]*Customer, error)
	// ListCustomers returns one page and the cursor of the next ("" at the
	// end). EINVALID for a bad cursor or sort.
	ListCustomers(ctx context.Context, workspaceID int64, f CustomerFilter) ([]*Customer, string, error)
	// UpdateTraits merges traits into the profile; a nil value removes the
	// trait. A consent trait (TraitEmailConsent, TraitSMSConsent) records
	// the channel's consent too. Returns ENOTFOUND, EINVALID.
	UpdateTraits(ctx context.Context, workspaceID, id int64, traits map[string]any) (*Customer, error)
	// EraseCustomer deletes the customer's PII and events, detaches their
	// orders, remembers their identifiers as erased so that late events do
	// not recreate them, and removes the copies the database keeps of what it
	// deleted. Returns ENOTFOUND; EUNAVAILABLE when the rows are gone but
	// a copy could not be removed yet.
	EraseCustomer(ctx context.Context, workspaceID, id int64) error
	// ExportCustomer returns ENOTFOUND.
	ExportCustomer(ctx context.Context, workspaceID, id int64) (*CustomerExport, error)
}

// Stats are a workspace's totals.
type Stats struct {
	Customers int64   `json:"customers"`
	Events    int64   `json:"events"`
	Orders    int64   `json:"orders"`
	Revenue   float64 `json:"revenue"`
	Products  int64   `json:"products"`
}

// StatsService reports totals.
type StatsService interface {
	Stats(ctx context.Context, workspaceID int64) (*Stats, error)
}

// NormalizeEmail returns the canonical form of an email address (trimmed,
// lower case), or "" when s does not look like one.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n<>,;") {
		return ""
	}
	return s
}

// NormalizePhone returns the canonical form of a phone number: its digits,
// with a leading + when it had one (E.164 when the sender used it), or ""
// when it has fewer than 5 digits.
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	if strings.HasPrefix(s, "+") {
		b.WriteByte('+')
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			digits++
		}
	}
	if digits < 5 {
		return ""
	}
	return b.String()
}
