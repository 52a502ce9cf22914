package inbound_test

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

// sdkServer is a loopback /v1/batch endpoint that parses what the real
// analytics-go SDK sends.
type sdkServer struct {
	t      *testing.T
	skew   time.Duration // added to our clock, to play a client clock that is off
	mu     sync.Mutex
	ins    []touchbase.Inbound
	bodies [][]byte
	keys   []string
}

func (s *sdkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/batch" {
		s.t.Errorf("SDK called %s", r.URL.Path)
	}
	key, _, _ := r.BasicAuth()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Error(err)
	}
	req, err := inbound.Parse("batch", body, time.Now().Add(s.skew))
	if err != nil {
		s.t.Errorf("Parse: %v %+v", err, fields(err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(req.Rejected) > 0 {
		s.t.Errorf("rejected %+v in %s", req.Rejected, body)
	}
	s.mu.Lock()
	s.ins = append(s.ins, req.Inbounds...)
	s.bodies = append(s.bodies, body)
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	w.Write([]byte(`{"success":true}`))
}

type sdkCallback struct {
	mu       sync.Mutex
	ok, fail int
}

func (c *sdkCallback) Success(analytics.Message) { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *sdkCallback) Failure(_ analytics.Message, err error) {
	c.mu.Lock()
	c.fail++
	c.mu.Unlock()
}

// sendWithSDK sends msgs through analytics-go to a loopback server and
// returns what Parse made of them.
func sendWithSDK(t *testing.T, skew time.Duration, batchSize int, msgs ...analytics.Message) *sdkServer {
	t.Helper()
	srv := &sdkServer{t: t, skew: skew}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener = ln
	hs.Start()
	defer hs.Close()

	cb := &sdkCallback{}
	client, err := analytics.NewWithConfig("wk_sdk", analytics.Config{
		Endpoint:  hs.URL,
		BatchSize: batchSize,
		Interval:  time.Hour, // flush by size or on Close only
		Callback:  cb,
		Logger:    analytics.StdLogger(log.New(io.Discard, "", 0)),
		DefaultContext: &analytics.Context{
			Library: analytics.LibraryInfo{Name: "analytics-go", Version: "3.3.0"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatalf("Enqueue(%+v): %v", m, err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if cb.fail != 0 || cb.ok != len(msgs) {
		t.Fatalf("SDK: %d sent, %d failed, want %d sent", cb.ok, cb.fail, len(msgs))
	}
	return srv
}

func TestAnalyticsGoSDK(t *testing.T) {
	birthday := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	signup := time.Date(2023, 7, 14, 8, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	past := time.Now().Add(-48 * time.Hour).Truncate(time.Millisecond)
	srv := sendWithSDK(t, 0, 3,
		analytics.Identify{UserId: "user-1", AnonymousId: "anon-1", Traits: analytics.NewTraits().
			SetEmail(" Ann.Lee@Example.com").SetPhone("+1 (555) 010-0199").SetFirstName("Ann").SetBirthday(birthday).SetCreatedAt(signup).Set("plan", "gold").Set("logins", 12)},
		analytics.Track{UserId: "user-1", Event: "Product Viewed", Properties: analytics.NewProperties().
			SetProductId("p-1").SetSKU("SKU-1").SetName("Mug").SetCategory("Kitchen").SetPrice(12.5).SetCurrency("EUR").SetURL("https://shop.test/mug")},
		analytics.Track{UserId: "user-1", Event: "Order Completed", MessageId: "order-msg-1", Properties: analytics.NewProperties().
			SetOrderId("o-1").SetRevenue(30).SetTotal(33).SetShipping(3).SetCurrency("EUR").SetCoupon("WELCOME").
			SetProducts(analytics.Product{ID: "p-1", SKU: "SKU-1", Name: "Mug", Price: 12.5}, analytics.Product{ID: "p-2", Name: "Tea", Price: 5})},
		analytics.Page{AnonymousId: "anon-2", Name: "Pricing", Properties: analytics.NewProperties().SetURL("https://shop.test/pricing").SetTitle("Pricing")},
		analytics.Screen{UserId: "user-2", Name: "Cart", Context: &analytics.Context{
			Traits: analytics.NewTraits().SetEmail("bo@example.com"),
			Device: analytics.DeviceInfo{Manufacturer: "Apple", Model: "iPhone15,2"},
		}},
		analytics.Group{UserId: "user-1", GroupId: "acme", Traits: analytics.NewTraits().SetName("Acme").Set("employees", 40)},
		analytics.Alias{PreviousId: "anon-1", UserId: "user-1"},
		analytics.Track{AnonymousId: "anon-3", Event: "Signed Up", Timestamp: past, Integrations: analytics.NewIntegrations().DisableAll().Enable("Mixpanel")},
	)
	if len(srv.ins) != 8 {
		t.Fatalf("%d inbounds parsed, want 8", len(srv.ins))
	}
	if len(srv.bodies) < 3 {
		t.Fatalf("%d requests, want batches of 3", len(srv.bodies))
	}
	for _, k := range srv.keys {
		if k != "wk_sdk" {
			t.Fatalf("write key %q", k)
		}
	}
	byID := map[string]touchbase.Inbound{}
	for _, m := range srv.ins {
		if m.MessageID == "" || m.Timestamp.IsZero() || !m.Type.Valid() {
			t.Fatalf("incomplete inbound %+v", m)
		}
		if time.Since(m.Timestamp) > time.Minute && m.Event != "Signed Up" {
			t.Errorf("%s %s: timestamp %v, want about now", m.Type, m.Event, m.Timestamp)
		}
		if string(m.Context) == "" || !contains(string(m.Context), `"library":{"name":"analytics-go"`) {
			t.Errorf("%s: context %s lacks the batch's library", m.Type, m.Context)
		}
		byID[string(m.Type)+":"+m.Event] = m
	}

	id := byID["identify:"]
	if id.UserID != "user-1" || id.AnonymousID != "anon-1" || id.Email != "ann.lee@example.com" || id.Phone != "+15550100199" {
		t.Errorf("identify %+v", id)
	}
	if id.Traits["birthday"] != "1990-05-17" || id.Traits["createdAt"] != "2023-07-14T06:30:00Z" || id.Traits["logins"] != 12.0 || id.Traits["firstName"] != "Ann" {
		t.Errorf("identify traits %v", id.Traits)
	}
	if pv := byID["track:Product Viewed"]; len(pv.Products) != 1 || pv.Products[0].ProductID != "p-1" || pv.Products[0].Price != 12.5 || pv.Products[0].Currency != "EUR" {
		t.Errorf("product viewed %+v", pv.Products)
	}
	oc := byID["track:Order Completed"]
	if oc.MessageID != "order-msg-1" || oc.Order == nil || oc.Order.Order.OrderID != "o-1" || oc.Order.Order.Revenue != 30 ||
		oc.Order.Order.Total != 33 || len(oc.Order.Order.Items) != 2 || oc.Order.Order.Items[0].ProductID != "p-1" || oc.Order.Order.Coupon != "WELCOME" {
		t.Errorf("order completed %+v", oc.Order)
	}
	if !oc.Order.Order.PlacedAt.Equal(oc.Timestamp) {
		t.Errorf("placed at %v, timestamp %v", oc.Order.Order.PlacedAt, oc.Timestamp)
	}
	if pg := byID["page:Pricing"]; pg.AnonymousID != "anon-2" || !contains(string(pg.Properties), `"name":"Pricing"`) {
		t.Errorf("page %+v %s", pg, pg.Properties)
	}
	if sc := byID["screen:Cart"]; sc.Email != "bo@example.com" || sc.Traits["email"] != "bo@example.com" || !contains(string(sc.Context), `"manufacturer":"Apple"`) {
		t.Errorf("screen %+v %s", sc, sc.Context)
	}
	if g := byID["group:"]; g.GroupID != "acme" || !contains(string(g.Properties), `"employees":40`) {
		t.Errorf("group %+v", g)
	}
	if a := byID["alias:"]; a.PreviousID != "anon-1" || a.UserID != "user-1" {
		t.Errorf("alias %+v", a)
	}
	su := byID["track:Signed Up"]
	if d := su.Timestamp.Sub(past); d < -time.Second || d > time.Second {
		t.Errorf("signed up at %v, want about %v", su.Timestamp, past)
	}
}

// TestAnalyticsGoClockSkew plays a client whose clock is an hour behind
// ours: Parse must place its events at our clock, via sentAt.
func TestAnalyticsGoClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -3 * time.Hour} {
		start := time.Now().Add(skew)
		srv := sendWithSDK(t, skew, 2,
			analytics.Track{UserId: "u", Event: "A"},
			analytics.Track{UserId: "u", Event: "B"},
			analytics.Track{UserId: "u", Event: "C", Timestamp: time.Now().Add(-10 * time.Minute)},
		)
		end := time.Now().Add(skew)
		for _, m := range srv.ins {
			want := [2]time.Time{start.Add(-time.Second), end}
			if m.Event == "C" {
				want = [2]time.Time{start.Add(-10*time.Minute - time.Second), end.Add(-10 * time.Minute)}
			}
			if m.Timestamp.Before(want[0]) || m.Timestamp.After(want[1]) {
				t.Errorf("skew %v: %s at %v, want within %v", skew, m.Event, m.Timestamp, want)
			}
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
