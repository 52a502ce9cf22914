package storetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

func testEvents(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	a := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, UserID: "a"})
	b := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, UserID: "b"})
	other := Workspace(t, s, "other")
	oc := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: other.ID, UserID: "a"})
	InsertEvent(t, s, &touchbase.Event{WorkspaceID: other.ID, CustomerID: oc, Event: "Order Completed"})

	// Customer a's events arrive out of time order, two at the same instant.
	type seed struct {
		cust  int64
		typ   touchbase.EventType
		name  string
		hours int
	}
	var all []*touchbase.Event
	for _, sd := range []seed{
		{a, touchbase.EventTrack, "Product Viewed", 5},
		{a, touchbase.EventPage, "Home", 1},
		{b, touchbase.EventTrack, "Order Completed", 2},
		{a, touchbase.EventTrack, "Order Completed", 3},
		{a, touchbase.EventIdentify, "", 3},
		{a, touchbase.EventTrack, "Product Viewed", 0},
		{b, touchbase.EventPage, "Home", 4},
	} {
		e := &touchbase.Event{WorkspaceID: w.ID, CustomerID: sd.cust, Type: sd.typ, Event: sd.name, UserID: "u",
			Timestamp: Epoch.Add(time.Duration(sd.hours) * time.Hour), ReceivedAt: Epoch.Add(100 * time.Hour)}
		InsertEvent(t, s, e)
		all = append(all, e)
	}
	full := &touchbase.Event{WorkspaceID: w.ID, CustomerID: b, MessageID: "msg-1", Type: touchbase.EventTrack, Event: "Checkout Started",
		UserID: "b", AnonymousID: "anon-b", Timestamp: Epoch.Add(6 * time.Hour), ReceivedAt: Epoch.Add(7 * time.Hour),
		Properties: json.RawMessage(`{"revenue": 12.5, "products": [{"id": "p1"}]}`), Context: json.RawMessage(`{"ip": "127.0.0.1"}`)}
	InsertEvent(t, s, full)
	all = append(all, full)

	t.Run("find", func(t *testing.T) {
		got, err := s.FindEvent(ctx, w.ID, full.ID)
		must(t, err)
		if !jsonEqual(got.Properties, full.Properties) || !jsonEqual(got.Context, full.Context) {
			t.Errorf("properties %s context %s", got.Properties, got.Context)
		}
		want := *full
		want.Properties, want.Context = got.Properties, got.Context
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("FindEvent\n got %+v\nwant %+v", got, &want)
		}
		e, err := s.FindEvent(ctx, w.ID, all[0].ID)
		must(t, err)
		if e.Properties != nil || e.Context != nil {
			t.Errorf("absent JSON came back as %q %q", e.Properties, e.Context)
		}
		_, err = s.FindEvent(ctx, w.ID, full.ID+1000)
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	byID := func(es []*touchbase.Event) []int64 {
		sorted := slices.Clone(es)
		slices.SortFunc(sorted, func(x, y *touchbase.Event) int { return int(y.ID - x.ID) })
		return eventIDs(sorted)
	}
	timeline := func(es []*touchbase.Event) []int64 {
		sorted := slices.Clone(es)
		slices.SortFunc(sorted, func(x, y *touchbase.Event) int {
			if c := y.Timestamp.Compare(x.Timestamp); c != 0 {
				return c
			}
			return int(y.ID - x.ID)
		})
		return eventIDs(sorted)
	}
	where := func(keep func(e *touchbase.Event) bool) []*touchbase.Event {
		var out []*touchbase.Event
		for _, e := range all {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	ofA := where(func(e *touchbase.Event) bool { return e.CustomerID == a })

	for _, tc := range []struct {
		name string
		f    touchbase.EventFilter
		want []int64
	}{
		{"all newest first", touchbase.EventFilter{}, byID(all)},
		{"timeline", touchbase.EventFilter{CustomerID: a}, timeline(ofA)},
		{"type", touchbase.EventFilter{Type: touchbase.EventPage}, byID(where(func(e *touchbase.Event) bool { return e.Type == touchbase.EventPage }))},
		{"name", touchbase.EventFilter{Event: "Order Completed"}, byID(where(func(e *touchbase.Event) bool { return e.Event == "Order Completed" }))},
		{"timeline by name", touchbase.EventFilter{CustomerID: a, Event: "Product Viewed"}, timeline(where(func(e *touchbase.Event) bool {
			return e.CustomerID == a && e.Event == "Product Viewed"
		}))},
		{"since inclusive, until exclusive", touchbase.EventFilter{CustomerID: a, Since: Epoch.Add(time.Hour), Until: Epoch.Add(5 * time.Hour)},
			timeline(where(func(e *touchbase.Event) bool {
				return e.CustomerID == a && !e.Timestamp.Before(Epoch.Add(time.Hour)) && e.Timestamp.Before(Epoch.Add(5*time.Hour))
			}))},
		{"unknown customer", touchbase.EventFilter{CustomerID: b + 1000}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 50} {
				f := tc.f
				f.Limit = limit
				got := listAllEvents(t, s, w.ID, f)
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d: ids\n got %v\nwant %v", limit, got, tc.want)
				}
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		_, timelineNext, err := s.ListEvents(ctx, w.ID, touchbase.EventFilter{CustomerID: a, Limit: 1})
		must(t, err)
		for _, tc := range []struct {
			name string
			f    touchbase.EventFilter
		}{
			{"bad type", touchbase.EventFilter{Type: "click"}},
			{"bad cursor", touchbase.EventFilter{After: "%%%"}},
			{"timeline cursor without customer", touchbase.EventFilter{After: timelineNext}},
			{"bad timestamp in cursor", touchbase.EventFilter{CustomerID: a, After: base64.RawURLEncoding.EncodeToString([]byte("timeline|x|5"))}},
			{"negative limit", touchbase.EventFilter{Limit: -5}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.ListEvents(ctx, w.ID, tc.f)
				wantCode(t, err, touchbase.EINVALID)
			})
		}
	})
}

func listAllEvents(t *testing.T, s *store.Store, ws int64, f touchbase.EventFilter) []int64 {
	t.Helper()
	var ids []int64
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("more than 1000 pages: the cursor does not advance")
		}
		es, next, err := s.ListEvents(context.Background(), ws, f)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if next != "" && len(es) != f.Limit {
			t.Fatalf("page %d has %d events and a next cursor", page, len(es))
		}
		for _, e := range es {
			if e.WorkspaceID != ws {
				t.Fatalf("event %d of workspace %d listed", e.ID, e.WorkspaceID)
			}
		}
		ids = append(ids, eventIDs(es)...)
		if next == "" {
			return ids
		}
		f.After = next
	}
}

func eventIDs(es []*touchbase.Event) []int64 {
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

// jsonEqual compares JSON by value: PostgreSQL's jsonb does not keep
// spacing or key order.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func testOrders(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	c := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, UserID: "c"})
	other := Workspace(t, s, "other")
	InsertOrder(t, s, &touchbase.Order{WorkspaceID: other.ID, OrderID: "o-1", Revenue: 999})

	o1 := &touchbase.Order{WorkspaceID: w.ID, OrderID: "o-1", CustomerID: c, Revenue: 45, Total: 50, Subtotal: 40, Shipping: 5, Tax: 8,
		Discount: 3, Currency: "EUR", Coupon: "SPRING", PlacedAt: Epoch, UpdatedAt: Epoch.Add(time.Minute),
		Items: []touchbase.OrderItem{
			{ProductID: "p-2", SKU: "SKU-2", Name: "Mug", Category: "Kitchen", Brand: "Acme", Variant: "blue", Price: 15, Quantity: 2},
			{ProductID: "p-1", Name: "Tea", Price: 10, Quantity: 1},
		}}
	guest := &touchbase.Order{WorkspaceID: w.ID, OrderID: "guest", Revenue: 10, PlacedAt: Epoch.Add(time.Hour),
		Items: []touchbase.OrderItem{{ProductID: "p-1", Price: 10, Quantity: 1}}}
	cancelled := &touchbase.Order{WorkspaceID: w.ID, OrderID: "o-3", CustomerID: c, Status: touchbase.OrderCancelled, Revenue: 70, PlacedAt: Epoch.Add(time.Hour)}
	refunded := &touchbase.Order{WorkspaceID: w.ID, OrderID: "o-4", CustomerID: c, Status: touchbase.OrderRefunded, Revenue: 20, Refunded: 20, PlacedAt: Epoch.Add(2 * time.Hour)}
	for _, o := range []*touchbase.Order{o1, guest, cancelled, refunded} {
		InsertOrder(t, s, o)
	}

	t.Run("find", func(t *testing.T) {
		got, err := s.FindOrder(ctx, w.ID, "o-1")
		must(t, err)
		if !reflect.DeepEqual(got, o1) {
			t.Errorf("FindOrder\n got %+v\nwant %+v", got, o1)
		}
		got, err = s.FindOrder(ctx, w.ID, "guest")
		must(t, err)
		if got.CustomerID != 0 || len(got.Items) != 1 {
			t.Errorf("guest order %+v", got)
		}
		_, err = s.FindOrder(ctx, w.ID, "o-404")
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	// Newest first; guest and cancelled were placed at the same instant and
	// cancelled was inserted later, so it comes first.
	for _, tc := range []struct {
		name string
		f    touchbase.OrderFilter
		want []string
	}{
		{"all", touchbase.OrderFilter{}, []string{"o-4", "o-3", "guest", "o-1"}},
		{"customer", touchbase.OrderFilter{CustomerID: c}, []string{"o-4", "o-3", "o-1"}},
		{"status", touchbase.OrderFilter{Status: touchbase.OrderCancelled}, []string{"o-3"}},
		{"since inclusive, until exclusive", touchbase.OrderFilter{Since: Epoch.Add(time.Hour), Until: Epoch.Add(2 * time.Hour)}, []string{"o-3", "guest"}},
		{"none", touchbase.OrderFilter{CustomerID: c + 1000}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 3, 50} {
				f := tc.f
				f.Limit = limit
				var got []string
				for page := 0; ; page++ {
					if page > 100 {
						t.Fatal("cursor does not advance")
					}
					os, next, err := s.ListOrders(ctx, w.ID, f)
					must(t, err)
					for _, o := range os {
						got = append(got, o.OrderID)
						if o.WorkspaceID != w.ID {
							t.Errorf("order of workspace %d listed", o.WorkspaceID)
						}
						if o.OrderID == "o-1" && !reflect.DeepEqual(o, o1) {
							t.Errorf("listed o-1 %+v, want %+v (items included)", o, o1)
						}
					}
					if next == "" {
						break
					}
					f.After = next
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d: %v, want %v", limit, got, tc.want)
				}
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		_, _, err := s.ListOrders(ctx, w.ID, touchbase.OrderFilter{Status: "shipped"})
		wantCode(t, err, touchbase.EINVALID)
		_, _, err = s.ListOrders(ctx, w.ID, touchbase.OrderFilter{After: "bad"})
		wantCode(t, err, touchbase.EINVALID)
		_, _, err = s.ListOrders(ctx, w.ID, touchbase.OrderFilter{After: base64.RawURLEncoding.EncodeToString([]byte("products|o-1|0"))})
		wantCode(t, err, touchbase.EINVALID)
	})
}

func testProducts(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	other := Workspace(t, s, "other")
	InsertProduct(t, s, &touchbase.Product{WorkspaceID: other.ID, ProductID: "p-01", Name: "Other Mug", Category: "Kitchen"})
	var ids []string
	for i := 12; i >= 1; i-- {
		p := &touchbase.Product{WorkspaceID: w.ID, ProductID: fmt.Sprintf("p-%02d", i), SKU: fmt.Sprintf("SKU%d", i),
			Name: fmt.Sprintf("Item %d", i), Category: []string{"Kitchen", "Garden"}[i%2], Price: float64(i)}
		if i == 3 {
			p.Name, p.Brand, p.Variant, p.Currency, p.URL, p.ImageURL = "Blue Mug 100%", "Acme", "blue", "EUR", "https://x.example/p3", "https://x.example/p3.jpg"
		}
		InsertProduct(t, s, p)
		ids = append([]string{p.ProductID}, ids...)
	}

	t.Run("find", func(t *testing.T) {
		p, err := s.FindProduct(ctx, w.ID, "p-03")
		must(t, err)
		want := &touchbase.Product{WorkspaceID: w.ID, ProductID: "p-03", SKU: "SKU3", Name: "Blue Mug 100%", Category: "Garden", Brand: "Acme",
			Variant: "blue", Price: 3, Currency: "EUR", URL: "https://x.example/p3", ImageURL: "https://x.example/p3.jpg", CreatedAt: Epoch, UpdatedAt: Epoch}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("FindProduct\n got %+v\nwant %+v", p, want)
		}
		_, err = s.FindProduct(ctx, w.ID, "p-99")
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	for _, tc := range []struct {
		name string
		f    touchbase.ProductFilter
		want []string
	}{
		{"all by id", touchbase.ProductFilter{}, ids},
		{"category", touchbase.ProductFilter{Category: "Kitchen"}, []string{"p-02", "p-04", "p-06", "p-08", "p-10", "p-12"}},
		{"query name any case", touchbase.ProductFilter{Query: "MUG"}, []string{"p-03"}},
		{"query sku", touchbase.ProductFilter{Query: "sku1"}, []string{"p-01", "p-10", "p-11", "p-12"}},
		{"query id", touchbase.ProductFilter{Query: "p-1"}, []string{"p-10", "p-11", "p-12"}},
		{"query percent is literal", touchbase.ProductFilter{Query: "0%"}, []string{"p-03"}},
		{"query and category", touchbase.ProductFilter{Query: "item 1", Category: "Garden"}, []string{"p-01", "p-11"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 5, 50} {
				f := tc.f
				f.Limit = limit
				var got []string
				for page := 0; ; page++ {
					if page > 100 {
						t.Fatal("cursor does not advance")
					}
					ps, next, err := s.ListProducts(ctx, w.ID, f)
					must(t, err)
					for _, p := range ps {
						got = append(got, p.ProductID)
					}
					if next == "" {
						break
					}
					f.After = next
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %d: %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	_, _, err := s.ListProducts(ctx, w.ID, touchbase.ProductFilter{After: "???"})
	wantCode(t, err, touchbase.EINVALID)
}

func testStats(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	st, err := s.Stats(ctx, w.ID)
	must(t, err)
	if *st != (touchbase.Stats{}) {
		t.Errorf("empty workspace stats %+v", st)
	}

	for _, ws := range []int64{w.ID, Workspace(t, s, "other").ID} {
		c := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws})
		InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws})
		InsertEvent(t, s, &touchbase.Event{WorkspaceID: ws, CustomerID: c})
		InsertEvent(t, s, &touchbase.Event{WorkspaceID: ws, CustomerID: c})
		InsertEvent(t, s, &touchbase.Event{WorkspaceID: ws, CustomerID: c})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: "a", CustomerID: c, Revenue: 100})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: "b", Status: touchbase.OrderPartiallyRefunded, Revenue: 50, Refunded: 12.5})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: "c", Status: touchbase.OrderRefunded, Revenue: 30, Refunded: 30})
		InsertOrder(t, s, &touchbase.Order{WorkspaceID: ws, OrderID: "d", Status: touchbase.OrderCancelled, Revenue: 1000})
		InsertProduct(t, s, &touchbase.Product{WorkspaceID: ws, ProductID: "p"})
	}
	st, err = s.Stats(ctx, w.ID)
	must(t, err)
	want := touchbase.Stats{Customers: 2, Events: 3, Orders: 3, Revenue: 137.5, Products: 1}
	if *st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}
