package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
)

// sdkCallback records what analytics-go reports for each message.
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

// TestSegmentSDK runs the README's analytics-go example against the real
// binary and reads the result back with the README's admin API call. A
// backend SDK uses a server key, as the README says.
func TestSegmentSDK(t *testing.T) {
	t.Parallel()
	env := []string{"TOUCHBASE_DATA=" + t.TempDir()}
	writeKey := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "server").stdout)
	admin := strings.TrimSpace(mustCLI(t, env, "key", "create", "--kind", "admin").stdout)
	if !strings.HasPrefix(writeKey, "tbs_") {
		t.Fatalf("key create --kind server printed %q", writeKey)
	}
	srv := startServer(t, env)

	cb := &sdkCallback{}
	client, err := analytics.NewWithConfig(writeKey, analytics.Config{
		Endpoint: srv.URL,
		Interval: 50 * time.Millisecond,
		Callback: cb,
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []analytics.Message{
		analytics.Identify{
			UserId: "u1",
			Traits: analytics.NewTraits().SetEmail("ada@example.com").SetFirstName("Ada"),
		},
		analytics.Track{
			UserId: "u1",
			Event:  "Order Completed",
			Properties: analytics.NewProperties().
				Set("order_id", "o-1001").SetRevenue(45).SetCurrency("EUR"),
		},
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatalf("enqueue %T: %v", m, err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatalf("close the SDK client: %v", err)
	}
	if cb.ok != len(msgs) || len(cb.failures) > 0 {
		t.Fatalf("analytics-go: %d delivered, failures %v", cb.ok, cb.failures)
	}

	var page struct {
		Items []struct {
			ID       int64          `json:"id"`
			UserID   string         `json:"user_id"`
			Email    string         `json:"email"`
			Traits   map[string]any `json:"traits"`
			Features struct {
				Orders  int     `json:"orders"`
				Revenue float64 `json:"revenue"`
			} `json:"features"`
		} `json:"items"`
	}
	if code := get(t, srv.URL+"/api/v1/customers?user_id=u1", admin, &page); code != http.StatusOK {
		t.Fatalf("GET /api/v1/customers?user_id=u1: %d", code)
	}
	if len(page.Items) != 1 {
		t.Fatalf("customers with user_id u1: %+v", page.Items)
	}
	c := page.Items[0]
	if c.Email != "ada@example.com" || c.Traits["firstName"] != "Ada" || c.Features.Orders != 1 || c.Features.Revenue != 45 {
		t.Errorf("customer u1 = %+v, want ada@example.com, firstName Ada, 1 order, revenue 45", c)
	}
	srv.stop()
}
