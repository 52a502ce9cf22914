package storetest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// pagingCustomers seeds n customers whose sort values tie often and whose
// last_seen is sometimes NULL, the cases keyset paging gets wrong.
func pagingCustomers(t *testing.T, s *store.Store, ws int64, n int) []*touchbase.Customer {
	revenues := []float64{0, 10.5, 10.5, 99.99, 0.1 + 0.2, 1e6, 0.3}
	var cs []*touchbase.Customer
	for i := range n {
		c := &touchbase.Customer{
			WorkspaceID: ws,
			UserID:      fmt.Sprintf("user-%02d", i),
			CreatedAt:   Epoch.Add(time.Duration(i%3) * time.Minute),
			Features:    touchbase.Features{Orders: i % 4, Revenue: revenues[i%len(revenues)]},
		}
		if i%5 != 0 {
			c.Features.LastSeenAt = at(time.Duration(i%6) * time.Hour)
		}
		InsertCustomer(t, s, c)
		cs = append(cs, c)
	}
	return cs
}

// expectedOrder sorts customers as ListCustomers must: id ascending, or
// the sort value descending (NULLs last) then id descending.
func expectedOrder(cs []*touchbase.Customer, sort touchbase.CustomerSort) []int64 {
	sorted := slices.Clone(cs)
	slices.SortFunc(sorted, func(a, b *touchbase.Customer) int {
		var c int
		switch sort {
		case touchbase.CustomerSortID:
			return cmp.Compare(a.ID, b.ID)
		case touchbase.CustomerSortLastSeen:
			an, bn := a.Features.LastSeenAt == nil, b.Features.LastSeenAt == nil
			switch {
			case an && bn:
			case an:
				return 1
			case bn:
				return -1
			default:
				c = -a.Features.LastSeenAt.Compare(*b.Features.LastSeenAt)
			}
		case touchbase.CustomerSortRevenue:
			c = -cmp.Compare(a.Features.Revenue, b.Features.Revenue)
		case touchbase.CustomerSortOrders:
			c = -cmp.Compare(a.Features.Orders, b.Features.Orders)
		case touchbase.CustomerSortCreated:
			c = -a.CreatedAt.Compare(b.CreatedAt)
		}
		if c != 0 {
			return c
		}
		return -cmp.Compare(a.ID, b.ID)
	})
	ids := make([]int64, len(sorted))
	for i, c := range sorted {
		ids[i] = c.ID
	}
	return ids
}

// listAllCustomers pages through ListCustomers and returns the ids in the
// order seen, failing on a page of the wrong size or a runaway cursor.
func listAllCustomers(t *testing.T, s *store.Store, ws int64, f touchbase.CustomerFilter) []int64 {
	t.Helper()
	var ids []int64
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("more than 1000 pages: the cursor does not advance")
		}
		cs, next, err := s.ListCustomers(context.Background(), ws, f)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if next != "" && len(cs) != f.Limit {
			t.Fatalf("page %d has %d customers and a next cursor, want a full page of %d", page, len(cs), f.Limit)
		}
		if len(cs) == 0 && page > 0 {
			t.Fatalf("page %d is empty: the previous page should have had no cursor", page)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		if next == "" {
			return ids
		}
		f.After = next
	}
}

func testCustomerPaging(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	cs := pagingCustomers(t, s, w.ID, 23)
	// Another workspace's customers must never show up.
	pagingCustomers(t, s, Workspace(t, s, "other").ID, 5)

	sorts := []touchbase.CustomerSort{touchbase.CustomerSortID, touchbase.CustomerSortLastSeen, touchbase.CustomerSortRevenue,
		touchbase.CustomerSortOrders, touchbase.CustomerSortCreated}
	for _, sort := range sorts {
		want := expectedOrder(cs, sort)
		for _, limit := range []int{1, 4, 7, 23, 50} {
			t.Run(fmt.Sprintf("%s/limit %d", sort, limit), func(t *testing.T) {
				got := listAllCustomers(t, s, w.ID, touchbase.CustomerFilter{Sort: sort, Limit: limit})
				if !slices.Equal(got, want) {
					t.Errorf("ids\n got %v\nwant %v", got, want)
				}
			})
		}
	}

	t.Run("default sort is id, default limit 50", func(t *testing.T) {
		got, next, err := s.ListCustomers(ctx, w.ID, touchbase.CustomerFilter{})
		must(t, err)
		if len(got) != 23 || next != "" || got[0].ID != expectedOrder(cs, touchbase.CustomerSortID)[0] {
			t.Errorf("got %d customers, next %q", len(got), next)
		}
	})

	t.Run("filtered and sorted", func(t *testing.T) {
		var withOrders []*touchbase.Customer
		for _, c := range cs {
			if c.Features.Orders >= 2 {
				withOrders = append(withOrders, c)
			}
		}
		got := listAllCustomers(t, s, w.ID, touchbase.CustomerFilter{MinOrders: 2, Sort: touchbase.CustomerSortRevenue, Limit: 3})
		if want := expectedOrder(withOrders, touchbase.CustomerSortRevenue); !slices.Equal(got, want) {
			t.Errorf("ids\n got %v\nwant %v", got, want)
		}
	})

	t.Run("rows added while paging", func(t *testing.T) {
		// Keyset paging: a customer added between pages shifts nothing.
		f := touchbase.CustomerFilter{Sort: touchbase.CustomerSortRevenue, Limit: 5}
		first, next, err := s.ListCustomers(ctx, w.ID, f)
		must(t, err)
		InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, Features: touchbase.Features{Revenue: 2e6}})
		InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, Features: touchbase.Features{Revenue: -1}})
		f.After = next
		rest := listAllCustomers(t, s, w.ID, f)
		var got []int64
		for _, c := range first {
			got = append(got, c.ID)
		}
		got = append(got, rest...)
		want := expectedOrder(cs, touchbase.CustomerSortRevenue)
		// The -1 customer sorts last; the 2e6 one was before the cursor.
		if len(got) != len(want)+1 || !slices.Equal(got[:len(want)], want) {
			t.Errorf("ids\n got %v\nwant %v then the new customer", got, want)
		}
	})

	t.Run("bad cursors and arguments", func(t *testing.T) {
		_, revNext, err := s.ListCustomers(ctx, w.ID, touchbase.CustomerFilter{Sort: touchbase.CustomerSortRevenue, Limit: 2})
		must(t, err)
		b64 := base64.RawURLEncoding.EncodeToString
		for _, tc := range []struct {
			name string
			f    touchbase.CustomerFilter
		}{
			{"not base64", touchbase.CustomerFilter{After: "!!!"}},
			{"garbage", touchbase.CustomerFilter{After: b64([]byte("garbage"))}},
			{"bad id", touchbase.CustomerFilter{After: b64([]byte("customers:id||x"))}},
			{"bad value", touchbase.CustomerFilter{Sort: touchbase.CustomerSortRevenue, After: b64([]byte("customers:revenue|abc|3"))}},
			{"other sort's cursor", touchbase.CustomerFilter{Sort: touchbase.CustomerSortOrders, After: revNext}},
			{"event cursor", touchbase.CustomerFilter{After: b64([]byte("events||3"))}},
			{"unknown sort", touchbase.CustomerFilter{Sort: "name"}},
			{"negative limit", touchbase.CustomerFilter{Limit: -1}},
			{"negative min orders", touchbase.CustomerFilter{MinOrders: -1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.ListCustomers(ctx, w.ID, tc.f)
				wantCode(t, err, touchbase.EINVALID)
			})
		}
		// Over the maximum is capped, not refused.
		got, _, err := s.ListCustomers(ctx, w.ID, touchbase.CustomerFilter{Limit: 5000})
		must(t, err)
		if len(got) != 25 {
			t.Errorf("limit 5000 returned %d customers, want all 25", len(got))
		}
	})
}

func testCustomerFilters(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	ada := &touchbase.Customer{WorkspaceID: w.ID, UserID: "u-1", Email: "ada@example.com", Phone: "+4915112345678",
		Identities: []touchbase.Identity{{Kind: touchbase.IdentityAnonymousID, Value: "anon-1"}},
		Traits:     map[string]any{"first_name": "Ada", "last_name": "Lovelace", "plan": "gold", "age": 36, "vip": true},
		Features:   touchbase.Features{Orders: 3, LastSeenAt: at(48 * time.Hour)}}
	grace := &touchbase.Customer{WorkspaceID: w.ID, UserID: "u-2", Email: "grace@example.org",
		Identities: []touchbase.Identity{{Kind: touchbase.IdentityEmail, Value: "grace.alt@example.org"}},
		Traits:     map[string]any{"name": "Grace Hopper", "plan": "silver", "age": 85.5, "vip": false},
		Features:   touchbase.Features{Orders: 1, LastSeenAt: at(time.Hour)}}
	anon := &touchbase.Customer{WorkspaceID: w.ID, Identities: []touchbase.Identity{{Kind: touchbase.IdentityAnonymousID, Value: "anon-3"}}}
	emile := &touchbase.Customer{WorkspaceID: w.ID, UserID: "u_4", Email: "100%_real@example.com",
		Traits:   map[string]any{"first_name": "Émile", "plan": "gold", "a.b": "dot", "a": map[string]any{"b": "nested"}},
		Features: touchbase.Features{Orders: 5}}
	for _, c := range []*touchbase.Customer{ada, grace, anon, emile} {
		InsertCustomer(t, s, c)
	}
	// The same identifiers in another workspace must not match.
	other := Workspace(t, s, "other")
	InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: other.ID, UserID: "u-1", Email: "ada@example.com", Phone: "+4915112345678",
		Traits: map[string]any{"first_name": "Ada", "plan": "gold"}, Features: touchbase.Features{Orders: 9, LastSeenAt: at(72 * time.Hour)}})

	for _, tc := range []struct {
		name string
		f    touchbase.CustomerFilter
		want []*touchbase.Customer
	}{
		{"user id", touchbase.CustomerFilter{UserID: "u-1"}, []*touchbase.Customer{ada}},
		{"user id is exact", touchbase.CustomerFilter{UserID: "u-"}, nil},
		{"email normalised", touchbase.CustomerFilter{Email: " ADA@Example.com "}, []*touchbase.Customer{ada}},
		{"secondary email", touchbase.CustomerFilter{Email: "grace.alt@example.org"}, []*touchbase.Customer{grace}},
		{"phone normalised", touchbase.CustomerFilter{Phone: "+49 151 1234-5678"}, []*touchbase.Customer{ada}},
		{"anonymous id", touchbase.CustomerFilter{AnonymousID: "anon-3"}, []*touchbase.Customer{anon}},
		{"two identifiers of one customer", touchbase.CustomerFilter{UserID: "u-1", AnonymousID: "anon-1"}, []*touchbase.Customer{ada}},
		{"identifiers of two customers", touchbase.CustomerFilter{UserID: "u-1", Email: "grace@example.org"}, nil},
		{"query last name", touchbase.CustomerFilter{Query: "lovelace"}, []*touchbase.Customer{ada}},
		{"query email or first name", touchbase.CustomerFilter{Query: "ADA"}, []*touchbase.Customer{ada}},
		{"query name trait", touchbase.CustomerFilter{Query: "grace hopper"}, []*touchbase.Customer{grace}},
		{"query full name", touchbase.CustomerFilter{Query: "Ada Lovelace"}, []*touchbase.Customer{ada}},
		{"query email domain", touchbase.CustomerFilter{Query: "example.org"}, []*touchbase.Customer{grace}},
		{"query user id", touchbase.CustomerFilter{Query: "u-2"}, []*touchbase.Customer{grace}},
		{"query phone digits", touchbase.CustomerFilter{Query: "15112345"}, []*touchbase.Customer{ada}},
		{"query formatted phone", touchbase.CustomerFilter{Query: "151 1234"}, []*touchbase.Customer{ada}},
		{"query percent is literal", touchbase.CustomerFilter{Query: "100%"}, []*touchbase.Customer{emile}},
		{"query underscore is literal", touchbase.CustomerFilter{Query: "_"}, []*touchbase.Customer{emile}},
		{"query no match", touchbase.CustomerFilter{Query: "nobody"}, nil},
		{"trait string", touchbase.CustomerFilter{Trait: "plan", TraitValue: "gold"}, []*touchbase.Customer{ada, emile}},
		{"trait integer", touchbase.CustomerFilter{Trait: "age", TraitValue: "36"}, []*touchbase.Customer{ada}},
		{"trait float", touchbase.CustomerFilter{Trait: "age", TraitValue: "85.5"}, []*touchbase.Customer{grace}},
		{"trait true", touchbase.CustomerFilter{Trait: "vip", TraitValue: "true"}, []*touchbase.Customer{ada}},
		{"trait false", touchbase.CustomerFilter{Trait: "vip", TraitValue: "false"}, []*touchbase.Customer{grace}},
		{"trait set", touchbase.CustomerFilter{Trait: "plan"}, []*touchbase.Customer{ada, grace, emile}},
		{"trait name with a dot is not a path", touchbase.CustomerFilter{Trait: "a.b", TraitValue: "dot"}, []*touchbase.Customer{emile}},
		{"trait missing", touchbase.CustomerFilter{Trait: "nope", TraitValue: "x"}, nil},
		{"min orders", touchbase.CustomerFilter{MinOrders: 3}, []*touchbase.Customer{ada, emile}},
		{"seen since", touchbase.CustomerFilter{SeenSince: Epoch.Add(24 * time.Hour)}, []*touchbase.Customer{ada}},
		{"seen since is inclusive", touchbase.CustomerFilter{SeenSince: Epoch.Add(time.Hour)}, []*touchbase.Customer{ada, grace}},
		{"combined", touchbase.CustomerFilter{Trait: "plan", TraitValue: "gold", MinOrders: 4}, []*touchbase.Customer{emile}},
		{"query and identifier", touchbase.CustomerFilter{Query: "example", Email: "grace@example.org"}, []*touchbase.Customer{grace}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListCustomers(ctx, w.ID, tc.f)
			must(t, err)
			var gotIDs, wantIDs []int64
			for _, c := range got {
				gotIDs = append(gotIDs, c.ID)
				if c.WorkspaceID != w.ID {
					t.Errorf("customer %d of workspace %d listed", c.ID, c.WorkspaceID)
				}
			}
			for _, c := range tc.want {
				wantIDs = append(wantIDs, c.ID)
			}
			if !slices.Equal(gotIDs, wantIDs) || next != "" {
				t.Errorf("ids %v (next %q), want %v", gotIDs, next, wantIDs)
			}
		})
	}

	for _, tc := range []struct {
		name string
		f    touchbase.CustomerFilter
	}{
		{"bad email", touchbase.CustomerFilter{Email: "nope"}},
		{"bad phone", touchbase.CustomerFilter{Phone: "12"}},
		{"trait value without trait", touchbase.CustomerFilter{TraitValue: "gold"}},
		{"quote in trait name", touchbase.CustomerFilter{Trait: `pl"an`, TraitValue: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.ListCustomers(ctx, w.ID, tc.f)
			wantCode(t, err, touchbase.EINVALID)
		})
	}

	t.Run("items carry traits and features", func(t *testing.T) {
		got, _, err := s.ListCustomers(ctx, w.ID, touchbase.CustomerFilter{UserID: "u-1"})
		must(t, err)
		c := got[0]
		if c.Email != "ada@example.com" || c.Phone != "+4915112345678" || c.Traits["first_name"] != "Ada" || c.Traits["age"] != 36.0 ||
			c.Features.Orders != 3 || c.Features.LastSeenAt == nil || !c.Features.LastSeenAt.Equal(Epoch.Add(48*time.Hour)) {
			t.Errorf("listed customer %+v", c)
		}
	})
}

func testCustomer(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	c := &touchbase.Customer{WorkspaceID: w.ID, UserID: "u-1", Email: "ada@example.com", Phone: "+441234567",
		Identities: []touchbase.Identity{
			{Kind: touchbase.IdentityAnonymousID, Value: "anon-b", CreatedAt: Epoch.Add(2 * time.Hour)},
			{Kind: touchbase.IdentityAnonymousID, Value: "anon-a", CreatedAt: Epoch.Add(time.Hour)},
		},
		Traits: map[string]any{"first_name": "Ada", "plan": "gold", "address": map[string]any{"city": "London"}},
		Features: touchbase.Features{Orders: 4, Revenue: 100, FirstOrderAt: at(time.Hour), LastOrderAt: at(3 * time.Hour),
			FirstSeenAt: at(0), LastSeenAt: at(4 * time.Hour), Refunds: 1, RefundTotal: 20, Events: 17},
		CreatedAt: Epoch, UpdatedAt: Epoch.Add(time.Minute)}
	InsertCustomer(t, s, c)

	t.Run("find", func(t *testing.T) {
		got, err := s.FindCustomer(ctx, w.ID, c.ID)
		must(t, err)
		want := *c
		want.Features.AOV = 25
		want.Identities = []touchbase.Identity{
			{Kind: touchbase.IdentityUserID, Value: "u-1", CreatedAt: Epoch},
			{Kind: touchbase.IdentityEmail, Value: "ada@example.com", CreatedAt: Epoch},
			{Kind: touchbase.IdentityPhone, Value: "+441234567", CreatedAt: Epoch},
			{Kind: touchbase.IdentityAnonymousID, Value: "anon-a", CreatedAt: Epoch.Add(time.Hour)},
			{Kind: touchbase.IdentityAnonymousID, Value: "anon-b", CreatedAt: Epoch.Add(2 * time.Hour)},
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("FindCustomer\n got %+v\nwant %+v", got, &want)
		}
		_, err = s.FindCustomer(ctx, w.ID, c.ID+1000)
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	t.Run("no orders, no average", func(t *testing.T) {
		id := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID})
		got, err := s.FindCustomer(ctx, w.ID, id)
		must(t, err)
		if got.Features.AOV != 0 || got.Features.LastSeenAt != nil || got.Traits == nil || len(got.Identities) != 0 {
			t.Errorf("empty customer %+v", got)
		}
	})

	t.Run("update traits", func(t *testing.T) {
		fixedClock(s, Epoch.Add(24*time.Hour))
		got, err := s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"plan": "platinum", "first_name": nil, "age": 36, "tags": []any{"a", "b"}})
		must(t, err)
		want := map[string]any{"plan": "platinum", "age": 36.0, "tags": []any{"a", "b"}, "address": map[string]any{"city": "London"}}
		if !reflect.DeepEqual(got.Traits, want) {
			t.Errorf("returned traits %v, want %v", got.Traits, want)
		}
		if !got.UpdatedAt.Equal(Epoch.Add(24*time.Hour)) || len(got.Identities) != 5 || got.Features.Orders != 4 {
			t.Errorf("returned customer %+v", got)
		}
		again, err := s.FindCustomer(ctx, w.ID, c.ID)
		must(t, err)
		if !reflect.DeepEqual(again.Traits, want) || !again.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("stored traits %v updated %v", again.Traits, again.UpdatedAt)
		}
		// No traits: nothing changes.
		fixedClock(s, Epoch.Add(48*time.Hour))
		same, err := s.UpdateTraits(ctx, w.ID, c.ID, nil)
		must(t, err)
		if !reflect.DeepEqual(same.Traits, want) {
			t.Errorf("empty update changed traits to %v", same.Traits)
		}
	})

	t.Run("update traits errors", func(t *testing.T) {
		_, err := s.UpdateTraits(ctx, w.ID, c.ID+1000, map[string]any{"a": 1})
		wantCode(t, err, touchbase.ENOTFOUND)
		_, err = s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"": 1})
		wantCode(t, err, touchbase.EINVALID)
		_, err = s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"score": math.NaN()})
		wantCode(t, err, touchbase.EINVALID)
		// Numbers that sums could not hold (see touchbase.MaxNumber).
		for field, traits := range map[string]map[string]any{
			"traits.score":        {"score": 1e308},
			"traits.deep.a[1]":    {"plan": "gold", "deep": map[string]any{"a": []any{1, -1e16}}},
			"traits.points":       {"points": int64(1 << 60)},
			"traits.lifetime.ltv": {"lifetime": map[string]any{"ltv": json.Number("9007199254740992")}},
		} {
			_, err = s.UpdateTraits(ctx, w.ID, c.ID, traits)
			var te *touchbase.Error
			if !errors.As(err, &te) || te.Code != touchbase.EINVALID || len(te.Fields) != 1 || te.Fields[0].Field != field ||
				!strings.Contains(te.Message, "numbers must be between -9007199254740991 and 9007199254740991") {
				t.Errorf("UpdateTraits(%v) = %v, want EINVALID naming %s and the bound", traits, err, field)
			}
		}
		got, err := s.FindCustomer(ctx, w.ID, c.ID)
		must(t, err)
		if _, ok := got.Traits["score"]; ok || got.Traits["plan"] != "platinum" {
			t.Errorf("a failed update changed traits: %v", got.Traits)
		}
	})

	t.Run("update traits with NUL", func(t *testing.T) {
		// As ingestion does: U+FFFD on both databases, never a 500.
		got, err := s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"nick\x00": "A\x00da", "more": map[string]any{"k\x00": []any{"\x00"}},
			"max": float64(touchbase.MaxNumber)})
		must(t, err)
		again, err := s.FindCustomer(ctx, w.ID, c.ID)
		must(t, err)
		for _, tr := range []map[string]any{got.Traits, again.Traits} {
			if tr["nick\uFFFD"] != "A\uFFFDda" || !reflect.DeepEqual(tr["more"], map[string]any{"k\uFFFD": []any{"\uFFFD"}}) ||
				tr["max"] != float64(touchbase.MaxNumber) {
				t.Errorf("traits %v", tr)
			}
		}
	})
}

func testEraseExport(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	c := &touchbase.Customer{WorkspaceID: w.ID, UserID: "u-1", Email: "ada@example.com", Phone: "+441234567",
		Identities: []touchbase.Identity{{Kind: touchbase.IdentityAnonymousID, Value: "anon-1"}, {Kind: touchbase.IdentityEmail, Value: "ada@work.example"}},
		Traits:     map[string]any{"first_name": "Ada"}}
	InsertCustomer(t, s, c)
	keep := &touchbase.Customer{WorkspaceID: w.ID, UserID: "u-2", Email: "grace@example.com"}
	InsertCustomer(t, s, keep)

	var events []*touchbase.Event
	for _, h := range []int{3, 1, 2} { // inserted out of time order
		e := &touchbase.Event{WorkspaceID: w.ID, CustomerID: c.ID, Event: fmt.Sprintf("E%d", h), Timestamp: Epoch.Add(time.Duration(h) * time.Hour),
			Properties: []byte(`{"n":1}`)}
		InsertEvent(t, s, e)
		events = append(events, e)
	}
	keptEvent := &touchbase.Event{WorkspaceID: w.ID, CustomerID: keep.ID, Event: "Kept"}
	InsertEvent(t, s, keptEvent)
	o2 := &touchbase.Order{WorkspaceID: w.ID, OrderID: "o-2", CustomerID: c.ID, Revenue: 20, PlacedAt: Epoch.Add(2 * time.Hour),
		Items: []touchbase.OrderItem{{ProductID: "p-1", Price: 10, Quantity: 2}}}
	o1 := &touchbase.Order{WorkspaceID: w.ID, OrderID: "o-1", CustomerID: c.ID, Revenue: 30, PlacedAt: Epoch.Add(time.Hour),
		Items: []touchbase.OrderItem{{ProductID: "p-2", Price: 5, Quantity: 1}, {ProductID: "p-1", Price: 25, Quantity: 1}}}
	InsertOrder(t, s, o2)
	InsertOrder(t, s, o1)
	InsertOrder(t, s, &touchbase.Order{WorkspaceID: w.ID, OrderID: "o-keep", CustomerID: keep.ID, Revenue: 5})

	t.Run("export", func(t *testing.T) {
		x, err := s.ExportCustomer(ctx, w.ID, c.ID)
		must(t, err)
		if x.Customer.ID != c.ID || len(x.Customer.Identities) != 5 || x.Customer.Traits["first_name"] != "Ada" {
			t.Errorf("exported customer %+v", x.Customer)
		}
		var names []string
		for _, e := range x.Events {
			names = append(names, e.Event)
		}
		if !slices.Equal(names, []string{"E1", "E2", "E3"}) {
			t.Errorf("exported events %v, want E1 E2 E3 (oldest first)", names)
		}
		if len(x.Orders) != 2 || x.Orders[0].OrderID != "o-1" || x.Orders[1].OrderID != "o-2" ||
			len(x.Orders[0].Items) != 2 || x.Orders[0].Items[0].ProductID != "p-2" || x.Orders[0].Items[1].ProductID != "p-1" {
			t.Errorf("exported orders %+v", x.Orders)
		}
		_, err = s.ExportCustomer(ctx, w.ID, c.ID+1000)
		wantCode(t, err, touchbase.ENOTFOUND)
	})

	// One of the identifiers was erased before (an earlier erasure of
	// someone who used it): that must not make this erasure fail.
	Exec(t, s, "INSERT INTO erased_identities (workspace_id, kind, value_hash, created_at) VALUES (?, 'anonymous_id', ?, 0)", w.ID, sha256Hex("anon-1"))

	must(t, s.EraseCustomer(ctx, w.ID, c.ID))

	t.Run("erased", func(t *testing.T) {
		_, err := s.FindCustomer(ctx, w.ID, c.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		_, err = s.ExportCustomer(ctx, w.ID, c.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		wantCode(t, s.EraseCustomer(ctx, w.ID, c.ID), touchbase.ENOTFOUND)
		for _, e := range events {
			_, err := s.FindEvent(ctx, w.ID, e.ID)
			wantCode(t, err, touchbase.ENOTFOUND)
		}
		if n := QueryInt(t, s, "SELECT count(*) FROM events WHERE customer_id = ?", c.ID); n != 0 {
			t.Errorf("%d events left", n)
		}
		if n := QueryInt(t, s, "SELECT count(*) FROM identities WHERE customer_id = ?", c.ID); n != 0 {
			t.Errorf("%d identities left", n)
		}
		for _, id := range []string{"o-1", "o-2"} {
			o, err := s.FindOrder(ctx, w.ID, id)
			must(t, err)
			if o.CustomerID != 0 || len(o.Items) == 0 {
				t.Errorf("order %s after erasure: %+v, want kept with no customer", id, o)
			}
		}
	})

	t.Run("identifiers erased as hashes only", func(t *testing.T) {
		got := QueryStrings(t, s, "SELECT kind || ':' || value_hash FROM erased_identities WHERE workspace_id = ? ORDER BY kind, value_hash", w.ID)
		var want []string
		for _, id := range []struct{ kind, value string }{
			{"user_id", "u-1"}, {"email", "ada@example.com"}, {"email", "ada@work.example"}, {"phone", "+441234567"}, {"anonymous_id", "anon-1"},
		} {
			want = append(want, id.kind+":"+sha256Hex(id.value))
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("erased\n got %v\nwant %v", got, want)
		}
	})

	t.Run("others untouched", func(t *testing.T) {
		got, err := s.FindCustomer(ctx, w.ID, keep.ID)
		must(t, err)
		if len(got.Identities) != 2 {
			t.Errorf("kept customer %+v", got)
		}
		if _, err := s.FindEvent(ctx, w.ID, keptEvent.ID); err != nil {
			t.Errorf("kept event: %v", err)
		}
		o, err := s.FindOrder(ctx, w.ID, "o-keep")
		must(t, err)
		if o.CustomerID != keep.ID {
			t.Errorf("kept order %+v", o)
		}
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
