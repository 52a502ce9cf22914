package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// public marks m as sent with a public (browser) write key.
func public(m touchbase.Inbound) touchbase.Inbound {
	m.Public = true
	return m
}

// viewed is a Product Viewed describing p.
func (q *inboundSeq) viewed(userID string, p touchbase.Product) touchbase.Inbound {
	m := q.track("Product Viewed", userID, "")
	m.Products = []touchbase.Product{p}
	return m
}

type productRow struct {
	name, url, image string
	price            float64
	trusted          int
}

func productOf(t *testing.T, s *store.Store, ws int64, id string) productRow {
	t.Helper()
	var p productRow
	err := s.DB().QueryRow(rebind(s, "SELECT name, price, url, image_url, trusted FROM products WHERE workspace_id = ? AND product_id = ?"), ws, id).
		Scan(&p.name, &p.price, &p.url, &p.image, &p.trusted)
	if err != nil {
		t.Fatalf("product %s: %v", id, err)
	}
	return p
}

type orderRow struct {
	user, status string
	revenue      float64
	refunded     float64
}

func orderOf(t *testing.T, s *store.Store, ws int64, id string) orderRow {
	t.Helper()
	var o orderRow
	err := s.DB().QueryRow(rebind(s, `SELECT coalesce(c.user_id, ''), o.status, o.revenue, o.refunded FROM orders o
		LEFT JOIN customers c ON c.workspace_id = o.workspace_id AND c.id = o.customer_id
		WHERE o.workspace_id = ? AND o.order_id = ?`), ws, id).Scan(&o.user, &o.status, &o.revenue, &o.refunded)
	if err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
	return o
}

// eventsNamed counts the workspace's events called name.
func eventsNamed(t *testing.T, s *store.Store, ws int64, name string) int {
	t.Helper()
	return count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND event = ?", ws, name)
}

// TestPublicKeyCatalogue: a public write key's events may create products
// and keep up to date the ones only public events defined, but cannot
// rewrite a product that a server key or an import defined; the events are
// stored all the same, and each refused change is counted.
func TestPublicKeyCatalogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mug := touchbase.Product{ProductID: "mug", Name: "Mug", Price: 12, URL: "https://shop.example/mug", ImageURL: "https://shop.example/mug.jpg"}
		evil := touchbase.Product{ProductID: "mug", Name: "Free mug, click here", Price: 0.01, URL: "https://evil.example/phish", ImageURL: "https://evil.example/x.jpg"}

		t.Run("a server key's product", func(t *testing.T) {
			ws := newWorkspace(t, s, "server-product")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.viewed("u1", mug))
			res := ingestOK(t, s, public(q.viewed("u2", evil)))
			if p := productOf(t, s, ws, "mug"); p.name != "Mug" || p.price != 12 || p.url != mug.URL || p.image != mug.ImageURL || p.trusted != 1 {
				t.Fatalf("a public key rewrote the server's product: %+v", p)
			}
			if res.RefusedProducts != 1 || res.Stored != 1 {
				t.Fatalf("result %+v, want the event stored and one product change refused", res)
			}
			if n := eventsNamed(t, s, ws, "Product Viewed"); n != 2 {
				t.Fatalf("%d events, want both kept", n)
			}
			// Telling the catalogue what it already holds is no refusal.
			same := mug
			same.URL = ""
			if res := ingestOK(t, s, public(q.viewed("u2", same))); res.RefusedProducts != 0 {
				t.Fatalf("result %+v: a public event that changes nothing was counted as refused", res)
			}
			// The server key changes it at will.
			ingestOK(t, s, q.viewed("u1", touchbase.Product{ProductID: "mug", Price: 14}))
			if p := productOf(t, s, ws, "mug"); p.price != 14 || p.name != "Mug" {
				t.Fatalf("the server key could not change its product: %+v", p)
			}
		})

		t.Run("an import's product", func(t *testing.T) {
			ws := newWorkspace(t, s, "imported-product")
			q := &inboundSeq{ws: ws}
			if err := s.UpsertProducts(ctx, ws, []touchbase.Product{mug}); err != nil {
				t.Fatal(err)
			}
			res := ingestOK(t, s, public(q.viewed("u2", evil)))
			if p := productOf(t, s, ws, "mug"); p.name != "Mug" || p.price != 12 || p.url != mug.URL {
				t.Fatalf("a public key rewrote the imported product: %+v", p)
			}
			if res.RefusedProducts != 1 {
				t.Fatalf("result %+v, want one refused product change", res)
			}
			// An imported order's products are the store's too.
			o := q.order(touchbase.OrderChangeCompleted, "u1", "o1", 20, 0)
			o.Products = []touchbase.Product{{ProductID: "lamp", Name: "Lamp", Price: 20}}
			if _, err := s.IngestBulk(ctx, []touchbase.Inbound{o}); err != nil {
				t.Fatal(err)
			}
			ingestOK(t, s, public(q.viewed("u2", touchbase.Product{ProductID: "lamp", Name: "Broken lamp"})))
			if p := productOf(t, s, ws, "lamp"); p.name != "Lamp" || p.trusted != 1 {
				t.Fatalf("a public key renamed an imported order's product: %+v", p)
			}
		})

		t.Run("in one batch", func(t *testing.T) {
			ws := newWorkspace(t, s, "batch-product")
			q := &inboundSeq{ws: ws}
			res := ingestOK(t, s, public(q.viewed("u2", touchbase.Product{ProductID: "mug", Name: "Evil", ImageURL: "https://evil.example/x.jpg"})),
				q.viewed("u1", touchbase.Product{ProductID: "mug", Name: "Mug", Price: 12}),
				public(q.viewed("u2", evil)))
			if p := productOf(t, s, ws, "mug"); p.name != "Mug" || p.price != 12 || p.image != "" || p.url != "" || p.trusted != 1 {
				t.Fatalf("public events around the server's in one batch: %+v", p)
			}
			if res.RefusedProducts != 1 || res.Stored != 3 {
				t.Fatalf("result %+v", res)
			}
		})

		t.Run("a public key's own products", func(t *testing.T) {
			ws := newWorkspace(t, s, "public-product")
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, public(q.viewed("u1", mug)))
			if p := productOf(t, s, ws, "mug"); p.name != "Mug" || p.trusted != 0 {
				t.Fatalf("a public key could not add a product: %+v", p)
			}
			if res := ingestOK(t, s, public(q.viewed("u2", touchbase.Product{ProductID: "mug", Price: 13}))); res.RefusedProducts != 0 {
				t.Fatalf("result %+v", res)
			}
			if p := productOf(t, s, ws, "mug"); p.price != 13 || p.name != "Mug" {
				t.Fatalf("a product only public events defined did not follow them: %+v", p)
			}
			// Once the server key defines it, it is the store's.
			ingestOK(t, s, q.viewed("u1", touchbase.Product{ProductID: "mug", Name: "Stoneware mug"}))
			ingestOK(t, s, public(q.viewed("u2", evil)))
			if p := productOf(t, s, ws, "mug"); p.name != "Stoneware mug" || p.price != 13 || p.trusted != 1 {
				t.Fatalf("after the server defined it: %+v", p)
			}
		})
	})
}

// TestPublicKeyOrders: a public write key's events create orders for the
// customer who sends them and change that customer's orders; they cannot
// refund, cancel, rewrite or take over another customer's order or a guest
// order. Their events are stored and the refusals counted. A server key
// (a message that is not public) and an import can do all of it.
func TestPublicKeyOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		setup := func(t *testing.T, name string) (int64, *inboundSeq) {
			ws := newWorkspace(t, s, name)
			q := &inboundSeq{ws: ws}
			ingestOK(t, s, q.order(touchbase.OrderChangeCompleted, "victim", "o1", 100, 0))
			guest := q.order(touchbase.OrderChangeCompleted, "", "g1", 60, 0)
			guest.Guest = true
			if _, err := s.IngestBulk(ctx, []touchbase.Inbound{guest}); err != nil {
				t.Fatal(err)
			}
			ingestOK(t, s, q.identify("attacker", "", nil))
			return ws, q
		}
		victimUnchanged := func(t *testing.T, s *store.Store, ws int64) {
			t.Helper()
			if o := orderOf(t, s, ws, "o1"); o != (orderRow{user: "victim", status: "completed", revenue: 100}) {
				t.Fatalf("the victim's order: %+v", o)
			}
			if r := loadCustomer(t, s, ws, customerOf(t, s, ws, touchbase.IdentityUserID, "victim")); r.orders != 1 || r.revenue != 100 || r.refunds != 0 {
				t.Fatalf("the victim's features: %+v", r)
			}
			if r := loadCustomer(t, s, ws, customerOf(t, s, ws, touchbase.IdentityUserID, "attacker")); r.orders != 0 || r.revenue != 0 {
				t.Fatalf("the attacker's features: %+v", r)
			}
			if o := orderOf(t, s, ws, "g1"); o != (orderRow{status: "completed", revenue: 60}) {
				t.Fatalf("the guest order: %+v", o)
			}
		}

		for _, tc := range []struct {
			name string
			kind touchbase.OrderChangeKind
			rev  float64
		}{
			{"refund", touchbase.OrderChangeRefunded, 0},
			{"cancel", touchbase.OrderChangeCancelled, 0},
			{"update", touchbase.OrderChangeUpdated, 1},
			{"move by resending", touchbase.OrderChangeCompleted, 1},
		} {
			t.Run("a public key cannot "+tc.name+" another customer's order", func(t *testing.T) {
				ws, q := setup(t, "public-"+strings.ReplaceAll(tc.name, " ", "-"))
				res := ingestOK(t, s, public(q.order(tc.kind, "attacker", "o1", tc.rev, 0)), public(q.order(tc.kind, "attacker", "g1", tc.rev, 0)))
				victimUnchanged(t, s, ws)
				if res.RefusedOrders != 2 || res.Stored != 2 {
					t.Fatalf("result %+v, want both events stored and both changes refused", res)
				}
				attacker := customerOf(t, s, ws, touchbase.IdentityUserID, "attacker")
				if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND customer_id = ?", ws, attacker); n != 3 {
					t.Fatalf("%d events on the sender's timeline, want its identify and both order events", n)
				}
			})
		}

		t.Run("in one batch with the order's creation", func(t *testing.T) {
			ws := newWorkspace(t, s, "public-batch")
			q := &inboundSeq{ws: ws}
			res := ingestOK(t, s, public(q.order(touchbase.OrderChangeCompleted, "victim", "o1", 100, 0)),
				public(q.order(touchbase.OrderChangeRefunded, "attacker", "o1", 0, 0)),
				public(q.order(touchbase.OrderChangeCompleted, "attacker", "o1", 1, 0)))
			if o := orderOf(t, s, ws, "o1"); o != (orderRow{user: "victim", status: "completed", revenue: 100}) || res.RefusedOrders != 2 {
				t.Fatalf("order %+v, result %+v", o, res)
			}
		})

		t.Run("a public key changes its own customer's orders", func(t *testing.T) {
			ws := newWorkspace(t, s, "public-own")
			q := &inboundSeq{ws: ws}
			// An anonymous visitor orders, then signs in: the order is theirs.
			o := q.order(touchbase.OrderChangeCompleted, "", "o1", 50, 0)
			o.AnonymousID = "anon"
			ingestOK(t, s, public(o))
			ingestOK(t, s, public(q.identify("buyer", "anon", nil)))
			res := ingestOK(t, s, public(q.order(touchbase.OrderChangeCompleted, "buyer", "o1", 55, 0)),
				public(q.order(touchbase.OrderChangeRefunded, "buyer", "o1", 0, 5)))
			if got := orderOf(t, s, ws, "o1"); got != (orderRow{user: "buyer", status: "partially_refunded", revenue: 55, refunded: 5}) || res.RefusedOrders != 0 {
				t.Fatalf("order %+v, result %+v", got, res)
			}
			ingestOK(t, s, public(q.order(touchbase.OrderChangeCancelled, "buyer", "o1", 0, 0)))
			if got := orderOf(t, s, ws, "o1"); got.status != "cancelled" {
				t.Fatalf("order %+v, want cancelled by its own customer", got)
			}
		})

		t.Run("a server key and an import can", func(t *testing.T) {
			for _, bulk := range []bool{false, true} {
				ws, q := setup(t, map[bool]string{false: "server-key", true: "import"}[bulk])
				ins := []touchbase.Inbound{
					q.order(touchbase.OrderChangeRefunded, "other", "o1", 0, 30),
					q.order(touchbase.OrderChangeCompleted, "attacker", "g1", 60, 0),
				}
				var res touchbase.IngestResult
				var err error
				if bulk {
					res, err = s.IngestBulk(ctx, ins)
				} else {
					res, err = s.Ingest(ctx, ins)
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.RefusedOrders != 0 {
					t.Fatalf("result %+v", res)
				}
				if o := orderOf(t, s, ws, "o1"); o != (orderRow{user: "victim", status: "partially_refunded", revenue: 100, refunded: 30}) {
					t.Fatalf("bulk %v: o1 %+v, want refunded in part whoever the refund names", bulk, o)
				}
				// And moved by a resend naming another customer.
				if _, err := s.IngestBulk(ctx, []touchbase.Inbound{q.order(touchbase.OrderChangeCompleted, "other", "o1", 100, 0)}); err != nil {
					t.Fatal(err)
				}
				if o := orderOf(t, s, ws, "o1"); o.user != "other" {
					t.Fatalf("bulk %v: o1 %+v, want moved to the customer the store names", bulk, o)
				}
				if o := orderOf(t, s, ws, "g1"); o.user != "attacker" {
					t.Fatalf("bulk %v: g1 %+v, want given to the customer the store names", bulk, o)
				}
			}
		})
	})
}

// TestLinksNeverStored: whatever sends it (a public key, a server key, an
// import, a products file), a product link that is not an http(s) URL is
// never stored, so no reader (the API, recommendations, the console) ever
// gets one; the event keeps the property as it was sent.
func TestLinksNeverStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := newWorkspace(t, s, "links")
		q := &inboundSeq{ws: ws}
		bad := []string{"javascript:alert(document.cookie)", " JAVASCRIPT:alert(1)", "data:text/html,<script>alert(1)</script>",
			"vbscript:msgbox(1)", "file:///etc/passwd", "/relative/path", "//evil.example/x"}
		var ids []string
		for i, u := range bad {
			id := "p" + string(rune('a'+i))
			ids = append(ids, id)
			m := q.viewed("u1", touchbase.Product{ProductID: id, Name: "P", URL: u, ImageURL: u})
			m.Properties = []byte(`{"url":"` + strings.ReplaceAll(u, `"`, `\"`) + `"}`)
			if i%2 == 0 {
				m = public(m)
			}
			ingestOK(t, s, m)
		}
		if _, err := s.IngestBulk(ctx, []touchbase.Inbound{q.viewed("u1", touchbase.Product{ProductID: "pz", URL: bad[0], ImageURL: bad[2]})}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertProducts(ctx, ws, []touchbase.Product{{ProductID: "py", URL: bad[0], ImageURL: bad[3]}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, "pz", "py")
		ps, err := s.FindProducts(ctx, ws, ids)
		if err != nil {
			t.Fatal(err)
		}
		listed, _, err := s.ListProducts(ctx, ws, touchbase.ProductFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != len(ids) || len(listed) != len(ids) {
			t.Fatalf("found %d and listed %d products, want %d", len(ps), len(listed), len(ids))
		}
		for _, p := range append(ps, listed...) {
			if p.URL != "" || p.ImageURL != "" {
				t.Errorf("product %s kept the link %q / %q", p.ProductID, p.URL, p.ImageURL)
			}
		}
		if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND properties ->> 'url' = 'javascript:alert(document.cookie)'", ws); n != 1 {
			t.Errorf("%d events keep the url property as sent, want 1", n)
		}
	})
}

// TestWriteScopeMigration: an existing database's products become the
// store's catalogue (trusted: public keys can no longer rewrite them), and
// the links stored before the check existed that are not http(s) URLs are
// cleared.
func TestWriteScopeMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.MigrateTo(ctx, 7); err != nil {
			t.Fatal(err)
		}
		ws := newWorkspace(t, s, "upgraded")
		for _, p := range []struct{ id, url, image string }{
			{"good", "https://shop.example/p", "http://cdn.example/p.jpg"},
			{"script", "javascript:alert(1)", "JavaScript:alert(1)"},
			{"data", "data:text/html,x", "vbscript:x"},
			{"relative", "/p/1", "//cdn.example/p.jpg"},
			{"nohost", "https:///p", "http://"},
			{"space", "https://shop.example/a b", "https://shop.example\\@evil.example"},
		} {
			if _, err := s.DB().Exec(rebind(s, `INSERT INTO products (workspace_id, product_id, name, url, image_url, created_at, updated_at)
				VALUES (?, ?, 'P', ?, ?, 0, 0)`), ws, p.id, p.url, p.image); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.MigrateTo(ctx, 8); err != nil {
			t.Fatal(err)
		}
		if p := productOf(t, s, ws, "good"); p.url != "https://shop.example/p" || p.image != "http://cdn.example/p.jpg" || p.trusted != 1 {
			t.Fatalf("good links: %+v", p)
		}
		for _, id := range []string{"script", "data", "relative", "nohost", "space"} {
			if p := productOf(t, s, ws, id); p.url != "" || p.image != "" || p.trusted != 1 {
				t.Errorf("%s: %+v, want its links cleared", id, p)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		q := &inboundSeq{ws: ws}
		if res := ingestOK(t, s, public(q.viewed("u", touchbase.Product{ProductID: "good", Name: "Renamed"}))); res.RefusedProducts != 1 {
			t.Fatalf("result %+v: a product stored before the upgrade is not the store's", res)
		}
	})
}
