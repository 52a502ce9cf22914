package server_test

import (
	"net/url"
	"sync"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
	"github.com/touchbase/touchbase"
)

// sdkCallback records what the SDK says about each message.
type sdkCallback struct {
	mu       sync.Mutex
	ok       int
	failures []error
}

func (c *sdkCallback) Success(analytics.Message) { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *sdkCallback) Failure(_ analytics.Message, err error) {
	c.mu.Lock()
	c.failures = append(c.failures, err)
	c.mu.Unlock()
}

// TestSegmentSDK points the real analytics-go SDK at the server and reads
// what it sent back through the admin API.
func TestSegmentSDK(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		cb := &sdkCallback{}
		client, err := analytics.NewWithConfig(e.write, analytics.Config{
			Endpoint:  e.url,
			Interval:  50 * time.Millisecond,
			BatchSize: 100,
			Callback:  cb,
		})
		if err != nil {
			t.Fatal(err)
		}
		placed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		msgs := []analytics.Message{
			analytics.Page{AnonymousId: "anon-sdk", Name: "Home", Properties: analytics.NewProperties().SetURL("https://shop.example/")},
			analytics.Identify{UserId: "sdk-user", AnonymousId: "anon-sdk",
				Traits: analytics.NewTraits().SetEmail("Grace@Example.com").SetFirstName("Grace").Set("plan", "gold")},
			analytics.Track{UserId: "sdk-user", Event: "Product Viewed",
				Properties: analytics.NewProperties().Set("product_id", "sku-1").SetName("Teapot").SetPrice(20).SetCategory("Kitchen")},
			analytics.Track{UserId: "sdk-user", Event: "Order Completed", Timestamp: placed,
				Properties: analytics.NewProperties().Set("order_id", "sdk-o1").SetRevenue(45).SetCurrency("EUR").
					Set("products", []map[string]any{
						{"product_id": "sku-1", "name": "Teapot", "price": 20, "quantity": 2, "category": "Kitchen"},
						{"product_id": "sku-2", "name": "Cup", "price": 5, "quantity": 1},
					})},
		}
		for _, m := range msgs {
			if err := client.Enqueue(m); err != nil {
				t.Fatalf("enqueue %T: %v", m, err)
			}
		}
		if err := client.Close(); err != nil {
			t.Fatalf("close SDK client: %v", err)
		}
		cb.mu.Lock()
		if len(cb.failures) > 0 || cb.ok != len(msgs) {
			t.Fatalf("SDK: %d delivered, failures %v", cb.ok, cb.failures)
		}
		cb.mu.Unlock()

		var customers page[touchbase.Customer]
		e.mustAPI(e.owner, "GET", "/customers?user_id=sdk-user", nil, 200).decode(t, &customers)
		if len(customers.Items) != 1 {
			t.Fatalf("customers with user_id sdk-user: %d, want 1", len(customers.Items))
		}
		c := customers.Items[0]
		if c.Email != "grace@example.com" || c.Traits["firstName"] != "Grace" || c.Traits["plan"] != "gold" {
			t.Errorf("customer %+v lacks the identify traits", c)
		}
		if c.Features.Orders != 1 || c.Features.Revenue != 45 {
			t.Errorf("features %+v, want 1 order and revenue 45", c.Features)
		}
		// The anonymous page view belongs to the same person.
		var byAnon page[touchbase.Customer]
		e.mustAPI(e.owner, "GET", "/customers?anonymous_id=anon-sdk", nil, 200).decode(t, &byAnon)
		if len(byAnon.Items) != 1 || byAnon.Items[0].ID != c.ID {
			t.Errorf("anonymous_id anon-sdk finds %+v, want customer %d", byAnon.Items, c.ID)
		}

		var profile struct {
			touchbase.Customer
			Orders []touchbase.Order `json:"orders"`
			Events []touchbase.Event `json:"events"`
		}
		e.mustAPI(e.owner, "GET", "/customers/"+itoa(c.ID), nil, 200).decode(t, &profile)
		types := map[touchbase.EventType]int{}
		for _, ev := range profile.Events {
			types[ev.Type]++
		}
		if types[touchbase.EventPage] != 1 || types[touchbase.EventIdentify] != 1 || types[touchbase.EventTrack] != 2 {
			t.Errorf("profile events by type %v, want 1 page, 1 identify, 2 track", types)
		}
		if len(profile.Orders) != 1 || profile.Orders[0].OrderID != "sdk-o1" || len(profile.Orders[0].Items) != 2 {
			t.Fatalf("profile orders %+v, want sdk-o1 with 2 items", profile.Orders)
		}

		var o touchbase.Order
		e.mustAPI(e.owner, "GET", "/orders/sdk-o1", nil, 200).decode(t, &o)
		if o.Revenue != 45 || o.Currency != "EUR" || o.CustomerID != c.ID || o.PlacedAt.Sub(placed).Abs() > 5*time.Second {
			t.Errorf("order %+v, want revenue 45 EUR placed %s for customer %d", o, placed, c.ID)
		}
		var p touchbase.Product
		e.mustAPI(e.owner, "GET", "/products/"+url.PathEscape("sku-1"), nil, 200).decode(t, &p)
		if p.Name != "Teapot" {
			t.Errorf("product sku-1 %+v, want Teapot", p)
		}
	})
}
