package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// inboundSeq makes inbounds with message ids unique within a test.
type inboundSeq struct {
	ws int64
	n  int
}

func (q *inboundSeq) inbound(typ touchbase.EventType, userID, anonID string) touchbase.Inbound {
	q.n++
	return touchbase.Inbound{
		WorkspaceID: q.ws, MessageID: fmt.Sprintf("m%d", q.n), Type: typ, UserID: userID, AnonymousID: anonID,
		Timestamp: t0.Add(time.Duration(q.n) * time.Minute), ReceivedAt: t0.Add(time.Duration(q.n) * time.Minute),
	}
}

func (q *inboundSeq) track(event, userID, anonID string) touchbase.Inbound {
	m := q.inbound(touchbase.EventTrack, userID, anonID)
	m.Event = event
	m.Properties = json.RawMessage(`{"k":1}`)
	return m
}

func (q *inboundSeq) identify(userID, anonID string, traits map[string]any) touchbase.Inbound {
	m := q.inbound(touchbase.EventIdentify, userID, anonID)
	m.Traits = traits
	if e, ok := traits["email"].(string); ok {
		m.Email = touchbase.NormalizeEmail(e)
	}
	raw, _ := json.Marshal(traits)
	m.Properties = raw
	return m
}

func (q *inboundSeq) order(kind touchbase.OrderChangeKind, userID, orderID string, revenue, refund float64) touchbase.Inbound {
	names := map[touchbase.OrderChangeKind]string{
		touchbase.OrderChangeCompleted: "Order Completed", touchbase.OrderChangeRefunded: "Order Refunded",
		touchbase.OrderChangeCancelled: "Order Cancelled", touchbase.OrderChangeUpdated: "Order Updated",
	}
	m := q.track(names[kind], userID, "")
	m.Order = &touchbase.OrderChange{Kind: kind, RefundAmount: refund, Order: touchbase.Order{
		OrderID: orderID, Revenue: revenue, Total: revenue, Currency: "EUR", PlacedAt: m.Timestamp,
		Items: []touchbase.OrderItem{{ProductID: "p1", Name: "Mug", Price: revenue, Quantity: 1}},
	}}
	m.Products = []touchbase.Product{{ProductID: "p1", Name: "Mug", Price: revenue}}
	return m
}

func newWorkspace(t *testing.T, s *store.Store, name string) int64 {
	t.Helper()
	var id int64
	err := s.DB().QueryRow(rebind(s, "INSERT INTO workspaces (name, created_at) VALUES (?, ?) RETURNING id"), name, time.Now().UnixMilli()).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func rebind(s *store.Store, q string) string {
	if s.Dialect() != "postgres" {
		return q
	}
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
	}
	return q
}

func ingestOK(t *testing.T, s *store.Store, ins ...touchbase.Inbound) touchbase.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), ins)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if len(res.Statuses) != len(ins) {
		t.Fatalf("got %d statuses for %d inbounds", len(res.Statuses), len(ins))
	}
	return res
}

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(rebind(s, q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// customerOf returns the customer an identity points to (0 if none).
func customerOf(t *testing.T, s *store.Store, ws int64, kind touchbase.IdentityKind, value string) int64 {
	t.Helper()
	var id int64
	err := s.DB().QueryRow(rebind(s, "SELECT customer_id FROM identities WHERE workspace_id = ? AND kind = ? AND value = ?"), ws, string(kind), value).Scan(&id)
	if err != nil {
		return 0
	}
	return id
}

type custRow struct {
	userID, email     string
	traits            map[string]any
	orders, events    int
	refunds           int
	revenue, refunded float64
	firstSeen         int64
	lastSeen          int64
}

func loadCustomer(t *testing.T, s *store.Store, ws, id int64) custRow {
	t.Helper()
	var r custRow
	var userID, email *string
	var traits string
	var first, last *int64
	err := s.DB().QueryRow(rebind(s, `SELECT user_id, email, traits, orders, events, refunds, revenue, refund_total, first_seen_at, last_seen_at
		FROM customers WHERE workspace_id = ? AND id = ?`), ws, id).
		Scan(&userID, &email, &traits, &r.orders, &r.events, &r.refunds, &r.revenue, &r.refunded, &first, &last)
	if err != nil {
		t.Fatalf("load customer %d: %v", id, err)
	}
	if userID != nil {
		r.userID = *userID
	}
	if email != nil {
		r.email = *email
	}
	if first != nil {
		r.firstSeen = *first
	}
	if last != nil {
		r.lastSeen = *last
	}
	if err := json.Unmarshal([]byte(traits), &r.traits); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIngest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("TrackCreatesCustomer", func(t *testing.T) {
			ws := newWorkspace(t, s, "track")
			q := &inboundSeq{ws: ws}
			res := ingestOK(t, s, q.track("Viewed", "", "a1"), q.track("Viewed", "", "a1"), q.track("Viewed", "u9", ""))
			if res.Stored != 3 {
				t.Fatalf("stored %d, want 3", res.Stored)
			}
			c := customerOf(t, s, ws, touchbase.IdentityAnonymousID, "a1")
			if c == 0 {
				t.Fatal("anonymous id not resolved to a customer")
			}
			r := loadCustomer(t, s, ws, c)
			if r.events != 2 || r.firstSeen != t0.Add(time.Minute).UnixMilli() || r.lastSeen != t0.Add(2*time.Minute).UnixMilli() {
				t.Fatalf("features %+v", r)
			}
			if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 2 {
				t.Fatalf("%d customers, want 2", n)
			}
		})

		t.Run("Dedupe", func(t *testing.T) {
			ws := newWorkspace(t, s, "dedupe")
			q := &inboundSeq{ws: ws}
			batch := []touchbase.Inbound{q.track("A", "u1", ""), q.track("B", "u1", "")}
			dup := batch[0]
			res := ingestOK(t, s, append(batch, dup)...)
			if res.Stored != 2 || res.Duplicates != 1 || res.Statuses[2] != touchbase.IngestDuplicate {
				t.Fatalf("first send: %+v", res)
			}
			res = ingestOK(t, s, batch...)
			if res.Stored != 0 || res.Duplicates != 2 {
				t.Fatalf("resend: %+v", res)
			}
			if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ?", ws); n != 2 {
				t.Fatalf("%d events, want 2", n)
			}
			if r := loadCustomer(t, s, ws, customerOf(t, s, ws, touchbase.IdentityUserID, "u1")); r.events != 2 {
				t.Fatalf("events feature %d, want 2", r.events)
			}
		})

		t.Run("IdentifyAdoptsAnonymousProfile", func(t *testing.T) {
			ws := newWorkspace(t, s, "adopt")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.track("Product Viewed", "", "anon"))
			anon := customerOf(t, s, ws, touchbase.IdentityAnonymousID, "anon")
			ingestOK(t, s, q.identify("u1", "anon", map[string]any{"email": "Ann@Example.com ", "first_name": "Ann"}))
			if got := customerOf(t, s, ws, touchbase.IdentityUserID, "u1"); got != anon {
				t.Fatalf("user id points at %d, want the anonymous profile %d", got, anon)
			}
			if got := customerOf(t, s, ws, touchbase.IdentityEmail, "ann@example.com"); got != anon {
				t.Fatalf("email points at %d, want %d", got, anon)
			}
			r := loadCustomer(t, s, ws, anon)
			if r.userID != "u1" || r.email != "ann@example.com" || r.traits["first_name"] != "Ann" || r.events != 2 {
				t.Fatalf("profile %+v", r)
			}
		})

		t.Run("IdentifyMergesTwoProfiles", func(t *testing.T) {
			ws := newWorkspace(t, s, "merge")
			q := &inboundSeq{ws: ws}
			// A phone browsed anonymously; a laptop signed in as u1.
			ingestOK(t, s, q.track("Product Viewed", "", "phone"), q.track("Product Viewed", "", "phone"))
			ingestOK(t, s, q.identify("u1", "laptop", map[string]any{"plan": "gold", "city": "Oslo"}))
			phone := customerOf(t, s, ws, touchbase.IdentityAnonymousID, "phone")
			known := customerOf(t, s, ws, touchbase.IdentityUserID, "u1")
			// The phone's traits must not overwrite the known profile's.
			if _, err := s.DB().Exec(rebind(s, "UPDATE customers SET traits = ? WHERE id = ?"), `{"city":"Bergen","age":40}`, phone); err != nil {
				t.Fatal(err)
			}
			// Now u1 signs in on the phone.
			res := ingestOK(t, s, q.identify("u1", "phone", nil))
			if res.Stored != 1 {
				t.Fatalf("%+v", res)
			}
			if got := customerOf(t, s, ws, touchbase.IdentityAnonymousID, "phone"); got != known {
				t.Fatalf("phone points at %d, want the known profile %d", got, known)
			}
			if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 1 {
				t.Fatalf("%d customers after merge, want 1", n)
			}
			if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND customer_id = ?", ws, known); n != 5 {
				t.Fatalf("%d events on the survivor, want 5 (2 phone + 2 identifies + the merge event)", n)
			}
			if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND customer_id = ? AND event = ?", ws, known, touchbase.EventCustomersMerged); n != 1 {
				t.Fatalf("%d merge events, want 1", n)
			}
			r := loadCustomer(t, s, ws, known)
			if r.traits["city"] != "Oslo" || r.traits["plan"] != "gold" || r.traits["age"] != float64(40) || r.events != 4 {
				t.Fatalf("merged profile %+v", r)
			}
			// Idempotent: the same identify again changes nothing.
			q.n = 0
			before := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ?", ws)
			ingestOK(t, s, q.identify("u1", "phone", nil))
			if after := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ?", ws); after != before {
				t.Fatalf("resend changed event count %d -> %d", before, after)
			}
		})

		t.Run("KnownPeopleNeverMerge", func(t *testing.T) {
			ws := newWorkspace(t, s, "known")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.identify("u1", "", map[string]any{"email": "shared@example.com"}))
			// u2 claims the same email and u1's anonymous id: separate person.
			ingestOK(t, s, q.identify("u2", "", map[string]any{"email": "shared@example.com"}))
			u1 := customerOf(t, s, ws, touchbase.IdentityUserID, "u1")
			u2 := customerOf(t, s, ws, touchbase.IdentityUserID, "u2")
			if u1 == 0 || u2 == 0 || u1 == u2 {
				t.Fatalf("u1=%d u2=%d: two known people must stay apart", u1, u2)
			}
			if got := customerOf(t, s, ws, touchbase.IdentityEmail, "shared@example.com"); got != u1 {
				t.Fatalf("email moved to %d; it belongs to its first owner %d", got, u1)
			}
		})

		t.Run("MergeWithinOneBatch", func(t *testing.T) {
			ws := newWorkspace(t, s, "inbatch")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s,
				q.track("A", "", "x"),
				q.track("B", "u7", ""),
				q.identify("u7", "x", map[string]any{"name": "Xu"}),
				q.track("C", "", "x"),
				q.inbound(touchbase.EventAlias, "u7", ""),
			)
			c := customerOf(t, s, ws, touchbase.IdentityUserID, "u7")
			if got := customerOf(t, s, ws, touchbase.IdentityAnonymousID, "x"); got != c || c == 0 {
				t.Fatalf("x -> %d, u7 -> %d", got, c)
			}
			if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 1 {
				t.Fatalf("%d customers, want 1", n)
			}
			if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND customer_id = ?", ws, c); n != 5 {
				t.Fatalf("%d events, want 5", n)
			}
		})

		t.Run("Alias", func(t *testing.T) {
			ws := newWorkspace(t, s, "alias")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.track("A", "", "old-anon"))
			old := customerOf(t, s, ws, touchbase.IdentityAnonymousID, "old-anon")
			m := q.inbound(touchbase.EventAlias, "new-user", "")
			m.PreviousID = "old-anon"
			ingestOK(t, s, m)
			if got := customerOf(t, s, ws, touchbase.IdentityUserID, "new-user"); got != old {
				t.Fatalf("alias: new-user -> %d, want %d", got, old)
			}
		})

		t.Run("Orders", func(t *testing.T) {
			ws := newWorkspace(t, s, "orders")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.order(touchbase.OrderChangeCompleted, "u1", "o1", 100, 0), q.order(touchbase.OrderChangeCompleted, "u1", "o2", 50, 0))
			c := customerOf(t, s, ws, touchbase.IdentityUserID, "u1")
			if r := loadCustomer(t, s, ws, c); r.orders != 2 || r.revenue != 150 {
				t.Fatalf("after two orders: %+v", r)
			}
			ingestOK(t, s, q.order(touchbase.OrderChangeRefunded, "u1", "o1", 0, 30))
			if r := loadCustomer(t, s, ws, c); r.orders != 2 || r.revenue != 120 || r.refunds != 1 || r.refunded != 30 {
				t.Fatalf("after partial refund: %+v", r)
			}
			ingestOK(t, s, q.order(touchbase.OrderChangeCancelled, "u1", "o2", 0, 0))
			if r := loadCustomer(t, s, ws, c); r.orders != 1 || r.revenue != 70 {
				t.Fatalf("after cancel: %+v", r)
			}
			ingestOK(t, s, q.order(touchbase.OrderChangeRefunded, "u1", "o1", 0, 0)) // the rest
			var status string
			var refunded float64
			s.DB().QueryRow(rebind(s, "SELECT status, refunded FROM orders WHERE workspace_id = ? AND order_id = ?"), ws, "o1").Scan(&status, &refunded)
			if status != "refunded" || refunded != 100 {
				t.Fatalf("o1 %s %v", status, refunded)
			}
			// A resent Order Completed replaces amounts but not the items' count.
			ingestOK(t, s, q.order(touchbase.OrderChangeCompleted, "u1", "o3", 10, 0))
			ingestOK(t, s, q.order(touchbase.OrderChangeCompleted, "u1", "o3", 12, 0))
			if n := count(t, s, "SELECT count(*) FROM order_items WHERE workspace_id = ?", ws); n != 3 {
				t.Fatalf("%d order items, want 3", n)
			}
			if n := count(t, s, "SELECT count(*) FROM products WHERE workspace_id = ?", ws); n != 1 {
				t.Fatalf("%d products, want 1", n)
			}
		})

		t.Run("Erased", func(t *testing.T) {
			ws := newWorkspace(t, s, "erased")
			sum := sha256.Sum256([]byte("gone@example.com"))
			if _, err := s.DB().Exec(rebind(s, "INSERT INTO erased_identities (workspace_id, kind, value_hash, created_at) VALUES (?, 'email', ?, 0)"), ws, hex.EncodeToString(sum[:])); err != nil {
				t.Fatal(err)
			}
			q := &inboundSeq{ws: ws}
			res := ingestOK(t, s, q.identify("u5", "", map[string]any{"email": "gone@example.com"}), q.track("Kept", "u6", ""))
			if res.Erased != 1 || res.Stored != 1 || res.Statuses[0] != touchbase.IngestErased {
				t.Fatalf("%+v", res)
			}
			if customerOf(t, s, ws, touchbase.IdentityUserID, "u5") != 0 {
				t.Fatal("an erased identifier recreated a profile")
			}
		})

		t.Run("WorkspacesAreSeparate", func(t *testing.T) {
			a, b := newWorkspace(t, s, "ws-a"), newWorkspace(t, s, "ws-b")
			qa, qb := &inboundSeq{ws: a}, &inboundSeq{ws: b}
			// Same message ids and user ids in both.
			ingestOK(t, s, qa.track("X", "same", ""), qb.track("X", "same", ""))
			ca, cb := customerOf(t, s, a, touchbase.IdentityUserID, "same"), customerOf(t, s, b, touchbase.IdentityUserID, "same")
			if ca == 0 || cb == 0 || ca == cb {
				t.Fatalf("customers %d, %d", ca, cb)
			}
		})

	})
}

// TestIngestCache checks that what the ingestion path remembers between
// calls never outlives a change it did not make itself.
func TestIngestCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("EraseThenLateEvent", func(t *testing.T) {
			ws := newWorkspace(t, s, "erase-late")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.identify("u1", "a1", map[string]any{"email": "u1@example.com"}))
			ingestOK(t, s, q.track("Warm", "u1", "")) // resolved from memory where there is any
			c := customerOf(t, s, ws, touchbase.IdentityUserID, "u1")
			if err := s.EraseCustomer(context.Background(), ws, c); err != nil {
				t.Fatal(err)
			}
			res := ingestOK(t, s, q.track("Late", "u1", ""), q.track("Late", "", "a1"), q.track("Fresh", "u2", ""))
			if res.Erased != 2 || res.Stored != 1 {
				t.Fatalf("after erase: %+v", res)
			}
			if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND customer_id = ?", ws, c); n != 0 {
				t.Fatalf("%d events landed on the erased customer", n)
			}
		})
	})

	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("ProductsWrittenOnlyWhenChanged", func(t *testing.T) {
			ws := newWorkspace(t, s, "products")
			q := &inboundSeq{ws: ws}
			viewed := func(p touchbase.Product) touchbase.Inbound {
				m := q.track("Product Viewed", "u1", "")
				m.Products = []touchbase.Product{p}
				return m
			}
			price := func() (float64, string, string) {
				var v float64
				var name, url string
				if err := s.DB().QueryRow(rebind(s, "SELECT price, name, url FROM products WHERE workspace_id = ? AND product_id = 'p9'"), ws).Scan(&v, &name, &url); err != nil {
					t.Fatal(err)
				}
				return v, name, url
			}
			updated := func() int64 {
				return int64(count(t, s, "SELECT updated_at FROM products WHERE workspace_id = ? AND product_id = 'p9'", ws))
			}
			clock := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			defer func(now func() time.Time) { s.Now = now }(s.Now)
			s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
			ingestOK(t, s, viewed(touchbase.Product{ProductID: "p9", Name: "Lamp", Price: 20, URL: "https://shop.example/lamp"}))
			first := updated()
			ingestOK(t, s, viewed(touchbase.Product{ProductID: "p9", Name: "Lamp", Price: 20}))
			if s.Dialect() == "sqlite" && updated() != first {
				t.Fatal("an event that changes nothing rewrote the product")
			}
			ingestOK(t, s, viewed(touchbase.Product{ProductID: "p9", Price: 25}))
			if updated() == first {
				t.Fatal("a price change did not write the product")
			}
			if v, name, url := price(); v != 25 || name != "Lamp" || url != "https://shop.example/lamp" {
				t.Fatalf("after a price change: %v %q %q", v, name, url)
			}
			ingestOK(t, s, viewed(touchbase.Product{ProductID: "p9", Name: "Desk lamp", Price: 25}))
			if v, name, url := price(); v != 25 || name != "Desk lamp" || url != "https://shop.example/lamp" {
				t.Fatalf("after a rename: %v %q %q", v, name, url)
			}
		})
	})

	t.Run("AnotherProcessChangesTheFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shared.db")
		a, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		ws := newWorkspace(t, a, "two-processes")
		q := &inboundSeq{ws: ws}
		ingestOK(t, a, q.track("A", "", "anon"))
		ingestOK(t, a, q.track("A", "", "anon"))
		old := customerOf(t, a, ws, touchbase.IdentityAnonymousID, "anon")
		// The other "process" deletes the profile behind a's back.
		if _, err := b.DB().Exec("DELETE FROM identities WHERE workspace_id = ?", ws); err != nil {
			t.Fatal(err)
		}
		if _, err := b.DB().Exec("DELETE FROM customers WHERE workspace_id = ?", ws); err != nil {
			t.Fatal(err)
		}
		ingestOK(t, a, q.track("B", "", "anon"))
		now := customerOf(t, a, ws, touchbase.IdentityAnonymousID, "anon")
		if now == 0 || now == old {
			t.Fatalf("anon resolved to %d (deleted customer was %d): a stale memory was used", now, old)
		}
		if n := count(t, a, "SELECT count(*) FROM customers WHERE workspace_id = ? AND id = ?", ws, now); n != 1 {
			t.Fatal("the event's customer does not exist")
		}
	})
}

func TestIngestOrderUpdatedIsPartial(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s, "order-updated")
		q := &inboundSeq{ws: ws}
		ingestOK(t, s, q.order(touchbase.OrderChangeCompleted, "u1", "o1", 80, 0))
		upd := q.order(touchbase.OrderChangeUpdated, "u1", "o1", 0, 0)
		o := &upd.Order.Order
		o.Total, o.Revenue, o.Items, o.Coupon, o.Currency = 0, 0, nil, "SPRING", ""
		o.Shipping = 4.5
		ingestOK(t, s, upd)
		var revenue, total, shipping float64
		var coupon, currency string
		err := s.DB().QueryRow(rebind(s, "SELECT revenue, total, shipping, coupon, currency FROM orders WHERE workspace_id = ? AND order_id = 'o1'"), ws).
			Scan(&revenue, &total, &shipping, &coupon, &currency)
		if err != nil {
			t.Fatal(err)
		}
		if revenue != 80 || total != 80 || shipping != 4.5 || coupon != "SPRING" || currency != "EUR" {
			t.Fatalf("after a partial update: revenue %v total %v shipping %v coupon %q currency %q", revenue, total, shipping, coupon, currency)
		}
		if n := count(t, s, "SELECT count(*) FROM order_items WHERE workspace_id = ?", ws); n != 1 {
			t.Fatalf("%d items; an update without products keeps them", n)
		}
		if r := loadCustomer(t, s, ws, customerOf(t, s, ws, touchbase.IdentityUserID, "u1")); r.orders != 1 || r.revenue != 80 {
			t.Fatalf("features %+v", r)
		}
	})
}

// orderSnapshot is every order's stored state and the customers' order
// features, for comparing two ways of getting there.
func orderSnapshot(t *testing.T, s *store.Store, ws int64) string {
	t.Helper()
	rows, err := s.DB().Query(rebind(s, `SELECT o.order_id, coalesce(c.user_id, ''), o.status, o.revenue, o.total, o.refunded,
		(SELECT count(*) FROM order_items i WHERE i.workspace_id = o.workspace_id AND i.order_id = o.id)
		FROM orders o LEFT JOIN customers c ON c.workspace_id = o.workspace_id AND c.id = o.customer_id
		WHERE o.workspace_id = ? ORDER BY o.order_id`), ws)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, user, status string
		var revenue, total, refunded float64
		var items int
		if err := rows.Scan(&id, &user, &status, &revenue, &total, &refunded, &items); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s %v %v %v %d\n", id, user, status, revenue, total, refunded, items)
	}
	for _, u := range []string{"u1", "u2"} {
		if c := customerOf(t, s, ws, touchbase.IdentityUserID, u); c != 0 {
			fmt.Fprintf(&b, "%s %+v\n", u, loadCustomer(t, s, ws, c))
		}
	}
	return b.String()
}

// TestIngestOrderChangesInOneBatch: a batch that creates, refunds, cancels,
// resends and moves orders ends where the same messages one call at a time
// end, on both the durable and the bulk path.
func TestIngestOrderChangesInOneBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		script := func(q *inboundSeq) []touchbase.Inbound {
			moved := q.order(touchbase.OrderChangeCompleted, "u2", "o4", 40, 0) // o4 resent as u2's
			upd := q.order(touchbase.OrderChangeUpdated, "u1", "o2", 0, 0)
			upd.Order.Order.Items, upd.Order.Order.Shipping = nil, 3
			return []touchbase.Inbound{
				q.order(touchbase.OrderChangeCompleted, "u1", "o1", 100, 0),
				q.order(touchbase.OrderChangeCompleted, "u1", "o2", 50, 0),
				q.order(touchbase.OrderChangeRefunded, "u1", "o1", 0, 30),
				q.order(touchbase.OrderChangeRefunded, "u1", "o1", 0, 0),   // the rest
				q.order(touchbase.OrderChangeCancelled, "u1", "o3", 20, 0), // unknown: created cancelled
				q.order(touchbase.OrderChangeRefunded, "u1", "o9", 0, 5),   // unknown: an event only
				q.order(touchbase.OrderChangeCompleted, "u1", "o4", 40, 0),
				moved,
				upd,
				q.order(touchbase.OrderChangeCompleted, "u1", "o2", 55, 0), // resent
				q.order(touchbase.OrderChangeCancelled, "u1", "o2", 0, 0),
			}
		}
		ws1 := newWorkspace(t, s, "one-by-one")
		for _, m := range script(&inboundSeq{ws: ws1}) {
			ingestOK(t, s, m)
		}
		ws2 := newWorkspace(t, s, "one-batch")
		ingestOK(t, s, script(&inboundSeq{ws: ws2})...)
		ws3 := newWorkspace(t, s, "bulk")
		if _, err := s.IngestBulk(context.Background(), script(&inboundSeq{ws: ws3})); err != nil {
			t.Fatal(err)
		}
		want := orderSnapshot(t, s, ws1)
		if !strings.Contains(want, "o1 u1 refunded 100 100 100 1") || !strings.Contains(want, "o4 u2 completed") ||
			!strings.Contains(want, "o3 u1 cancelled") || strings.Contains(want, "o9") {
			t.Fatalf("one message at a time:\n%s", want)
		}
		for _, ws := range []int64{ws2, ws3} {
			if got := orderSnapshot(t, s, ws); got != want {
				t.Errorf("workspace %d:\n%s\nwant (one message at a time):\n%s", ws, got, want)
			}
		}
	})
}

// TestIngestGuestOrder: an order that names nobody is stored with no
// customer, and no profile is made for it.
func TestIngestGuestOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s, "guest")
		q := &inboundSeq{ws: ws}
		m := q.order(touchbase.OrderChangeCompleted, "", "g1", 30, 0)
		m.Guest = true
		ingestOK(t, s, m)
		if res := ingestOK(t, s, m); res.Duplicates != 1 {
			t.Fatalf("resent guest order: %+v", res)
		}
		if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 0 {
			t.Fatalf("%d customers for a guest order", n)
		}
		if n := count(t, s, "SELECT count(*) FROM orders WHERE workspace_id = ? AND customer_id IS NULL AND order_id = 'g1'", ws); n != 1 {
			t.Fatalf("%d guest orders", n)
		}
		if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND customer_id = 0", ws); n != 1 {
			t.Fatalf("%d events without a customer", n)
		}
	})
}

// TestIngestOrderFeaturesRandom ingests random histories of orders (new,
// resent, updated, refunded, cancelled, moved to another customer),
// with anonymous buyers merged into known ones, in batches of random
// sizes, and checks every customer's order features against a count of
// the orders table: new orders add to the features, anything else counts
// them again, and both must agree. Amounts are multiples of 0.25, so
// sums are exact whatever their order.
func TestIngestOrderFeaturesRandom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for seed := range uint64(6) {
			ws := newWorkspace(t, s, fmt.Sprintf("orders-%d", seed))
			q := &inboundSeq{ws: ws}
			r := rand.New(rand.NewPCG(seed, 77))
			var batch []touchbase.Inbound
			flush := func() {
				if len(batch) > 0 {
					ingestOK(t, s, batch...)
					batch = nil
				}
			}
			var orderIDs []string
			amount := func() float64 { return float64(1+r.IntN(400)) * 0.25 }
			for range 300 {
				user := fmt.Sprintf("u%d", r.IntN(8))
				var m touchbase.Inbound
				switch k := r.IntN(20); {
				case k < 9 || len(orderIDs) == 0:
					id := fmt.Sprintf("o%d", len(orderIDs))
					orderIDs = append(orderIDs, id)
					m = q.order(touchbase.OrderChangeCompleted, user, id, amount(), 0)
				case k < 11: // a buyer known only by an anonymous id, then identified
					anon := fmt.Sprintf("a%d", r.IntN(5))
					if r.IntN(2) == 0 {
						id := fmt.Sprintf("o%d", len(orderIDs))
						orderIDs = append(orderIDs, id)
						m = q.order(touchbase.OrderChangeCompleted, "", id, amount(), 0)
						m.AnonymousID = anon
					} else {
						m = q.identify(user, anon, nil)
					}
				case k < 13:
					m = q.order(touchbase.OrderChangeCompleted, user, orderIDs[r.IntN(len(orderIDs))], amount(), 0) // resent, maybe by another
				case k < 15:
					m = q.order(touchbase.OrderChangeUpdated, user, orderIDs[r.IntN(len(orderIDs))], amount(), 0)
				case k < 18:
					m = q.order(touchbase.OrderChangeRefunded, user, orderIDs[r.IntN(len(orderIDs))], 0, float64(r.IntN(40))*0.25)
				default:
					m = q.order(touchbase.OrderChangeCancelled, user, orderIDs[r.IntN(len(orderIDs))], 0, 0)
				}
				// Out of order in time, so that first and last orders move
				// both ways.
				m.Timestamp = t0.Add(time.Duration(r.IntN(10000)) * time.Minute)
				if m.Order != nil {
					m.Order.Order.PlacedAt = m.Timestamp
				}
				batch = append(batch, m)
				if r.IntN(6) == 0 {
					flush()
				}
			}
			flush()
			type feats struct {
				orders, refunds       int
				revenue, refunded     float64
				firstOrder, lastOrder int64
			}
			counted := map[int64]feats{}
			rows, err := s.DB().Query(rebind(s, `SELECT customer_id, count(*), coalesce(sum(revenue - refunded), 0), min(placed_at), max(placed_at),
				coalesce(sum(CASE WHEN refunded > 0 THEN 1 ELSE 0 END), 0), coalesce(sum(refunded), 0)
				FROM orders WHERE workspace_id = ? AND status <> 'cancelled' AND customer_id IS NOT NULL GROUP BY customer_id`), ws)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				var f feats
				if err := rows.Scan(&id, &f.orders, &f.revenue, &f.firstOrder, &f.lastOrder, &f.refunds, &f.refunded); err != nil {
					t.Fatal(err)
				}
				counted[id] = f
			}
			rows.Close()
			rows, err = s.DB().Query(rebind(s, `SELECT id, orders, revenue, coalesce(first_order_at, 0), coalesce(last_order_at, 0), refunds, refund_total
				FROM customers WHERE workspace_id = ?`), ws)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var id int64
				var f feats
				if err := rows.Scan(&id, &f.orders, &f.revenue, &f.firstOrder, &f.lastOrder, &f.refunds, &f.refunded); err != nil {
					t.Fatal(err)
				}
				if want := counted[id]; f != want {
					t.Errorf("seed %d: customer %d has order features %+v, the orders table says %+v", seed, id, f, want)
				}
				n++
			}
			rows.Close()
			if n < 8 || len(counted) < 5 {
				t.Errorf("seed %d: %d customers, %d with orders: the history is too thin to test", seed, n, len(counted))
			}
		}
	})
}
