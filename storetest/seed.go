package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// The seed helpers insert rows with plain SQL, bypassing ingestion, so that
// read-side tests say exactly what is in the database. They fail the test
// on any error.

// Epoch is the instant seeded rows default to: a fixed time keeps tests
// deterministic.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Workspace creates a workspace through the store.
func Workspace(t testing.TB, s *store.Store, name string) *touchbase.Workspace {
	t.Helper()
	w, err := s.CreateWorkspace(context.Background(), name)
	if err != nil {
		t.Fatalf("create workspace %q: %v", name, err)
	}
	return w
}

// InsertCustomer inserts c (WorkspaceID required) with its features as
// given, and an identity for each of UserID, Email and Phone plus each of
// c.Identities. A zero CreatedAt becomes Epoch, a zero UpdatedAt CreatedAt.
// It sets and returns c.ID.
func InsertCustomer(t testing.TB, s *store.Store, c *touchbase.Customer) int64 {
	t.Helper()
	if c.WorkspaceID == 0 {
		t.Fatal("InsertCustomer: WorkspaceID is required")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = Epoch
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	traits := "{}"
	if c.Traits != nil {
		raw, err := json.Marshal(c.Traits)
		if err != nil {
			t.Fatalf("InsertCustomer: traits: %v", err)
		}
		traits = string(raw)
	}
	f := c.Features
	c.ID = QueryInt(t, s, `INSERT INTO customers (workspace_id, user_id, email, phone, traits, orders, revenue, first_order_at, last_order_at,
		first_seen_at, last_seen_at, refunds, refund_total, events, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.WorkspaceID, nullIfEmpty(c.UserID), nullIfEmpty(c.Email), nullIfEmpty(c.Phone), traits, f.Orders, f.Revenue,
		nullTime(f.FirstOrderAt), nullTime(f.LastOrderAt), nullTime(f.FirstSeenAt), nullTime(f.LastSeenAt),
		f.Refunds, f.RefundTotal, f.Events, c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli())
	idents := []touchbase.Identity{
		{Kind: touchbase.IdentityUserID, Value: c.UserID},
		{Kind: touchbase.IdentityEmail, Value: c.Email},
		{Kind: touchbase.IdentityPhone, Value: c.Phone},
	}
	for _, ident := range append(idents, c.Identities...) {
		if ident.Value == "" {
			continue
		}
		created := ident.CreatedAt
		if created.IsZero() {
			created = c.CreatedAt
		}
		Exec(t, s, "INSERT INTO identities (workspace_id, kind, value, customer_id, created_at) VALUES (?, ?, ?, ?, ?)",
			c.WorkspaceID, string(ident.Kind), ident.Value, c.ID, created.UnixMilli())
	}
	return c.ID
}

// InsertEvent inserts e (WorkspaceID and CustomerID required). Defaults: a
// random MessageID, type track, Timestamp Epoch, ReceivedAt Timestamp. It
// sets and returns e.ID.
func InsertEvent(t testing.TB, s *store.Store, e *touchbase.Event) int64 {
	t.Helper()
	if e.WorkspaceID == 0 || e.CustomerID == 0 {
		t.Fatal("InsertEvent: WorkspaceID and CustomerID are required")
	}
	if e.MessageID == "" {
		e.MessageID = randomID()
	}
	if e.Type == "" {
		e.Type = touchbase.EventTrack
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = Epoch
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = e.Timestamp
	}
	e.ID = QueryInt(t, s, `INSERT INTO events (workspace_id, customer_id, message_id, type, event, user_id, anonymous_id, timestamp, received_at, properties, context)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.WorkspaceID, e.CustomerID, e.MessageID, string(e.Type), e.Event, e.UserID, e.AnonymousID,
		e.Timestamp.UnixMilli(), e.ReceivedAt.UnixMilli(), nullJSON(e.Properties), nullJSON(e.Context))
	return e.ID
}

// InsertOrder inserts o and its items (WorkspaceID and OrderID required;
// CustomerID 0 is a guest order). Defaults: status completed, PlacedAt
// Epoch, UpdatedAt PlacedAt. It sets and returns o.ID.
func InsertOrder(t testing.TB, s *store.Store, o *touchbase.Order) int64 {
	t.Helper()
	if o.WorkspaceID == 0 || o.OrderID == "" {
		t.Fatal("InsertOrder: WorkspaceID and OrderID are required")
	}
	if o.Status == "" {
		o.Status = touchbase.OrderCompleted
	}
	if o.PlacedAt.IsZero() {
		o.PlacedAt = Epoch
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.PlacedAt
	}
	var customer any
	if o.CustomerID != 0 {
		customer = o.CustomerID
	}
	o.ID = QueryInt(t, s, `INSERT INTO orders (workspace_id, order_id, customer_id, status, revenue, total, subtotal, shipping, tax, discount,
		refunded, currency, coupon, placed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		o.WorkspaceID, o.OrderID, customer, string(o.Status), o.Revenue, o.Total, o.Subtotal, o.Shipping, o.Tax, o.Discount,
		o.Refunded, o.Currency, o.Coupon, o.PlacedAt.UnixMilli(), o.UpdatedAt.UnixMilli())
	for i, it := range o.Items {
		Exec(t, s, `INSERT INTO order_items (workspace_id, order_id, line, product_id, sku, name, category, brand, variant, price, quantity)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.WorkspaceID, o.ID, i+1, it.ProductID, it.SKU, it.Name, it.Category, it.Brand, it.Variant, it.Price, it.Quantity)
	}
	return o.ID
}

// InsertProduct inserts p (WorkspaceID and ProductID required). Zero times
// become Epoch.
func InsertProduct(t testing.TB, s *store.Store, p *touchbase.Product) {
	t.Helper()
	if p.WorkspaceID == 0 || p.ProductID == "" {
		t.Fatal("InsertProduct: WorkspaceID and ProductID are required")
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = Epoch
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	Exec(t, s, `INSERT INTO products (workspace_id, product_id, sku, name, category, brand, variant, price, currency, url, image_url, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.WorkspaceID, p.ProductID, p.SKU, p.Name, p.Category, p.Brand, p.Variant, p.Price, p.Currency, p.URL, p.ImageURL,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli())
}

// Exec runs a statement written with ? placeholders on the store's write
// pool.
func Exec(t testing.TB, s *store.Store, query string, args ...any) {
	t.Helper()
	if _, err := s.DB().ExecContext(context.Background(), placeholders(s, query), args...); err != nil {
		t.Fatalf("exec %s: %v", firstLine(query), err)
	}
}

// QueryInt runs a query written with ? placeholders that returns one
// integer (a count, or an id with RETURNING).
func QueryInt(t testing.TB, s *store.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB().QueryRowContext(context.Background(), placeholders(s, query), args...).Scan(&n); err != nil {
		t.Fatalf("query %s: %v", firstLine(query), err)
	}
	return n
}

// QueryStrings runs a query written with ? placeholders that returns one
// text column, and returns its values.
func QueryStrings(t testing.TB, s *store.Store, query string, args ...any) []string {
	t.Helper()
	return queryColumn[string](t, s, query, args...)
}

// QueryInts runs a query written with ? placeholders that returns one
// integer column, and returns its values.
func QueryInts(t testing.TB, s *store.Store, query string, args ...any) []int64 {
	t.Helper()
	return queryColumn[int64](t, s, query, args...)
}

func queryColumn[T any](t testing.TB, s *store.Store, query string, args ...any) []T {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), placeholders(s, query), args...)
	if err != nil {
		t.Fatalf("query %s: %v", firstLine(query), err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("query %s: %v", firstLine(query), err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %s: %v", firstLine(query), err)
	}
	return out
}

// placeholders rewrites ? to $N for PostgreSQL (as the store does).
func placeholders(s *store.Store, query string) string {
	if s.Dialect() != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func nullJSON(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return string(r)
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Remigrate forgets that the migrations from version on were applied and
// applies them again, as a store last opened before them would: for tests
// of migrations that repair data written before them.
func Remigrate(t testing.TB, s *store.Store, version int64) {
	t.Helper()
	Exec(t, s, "DELETE FROM goose_db_version WHERE version_id >= ?", version)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate again from version %d: %v", version, err)
	}
}
