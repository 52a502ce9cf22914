package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testTenancy gives workspace A one of everything and proves that every
// workspace-scoped method, called with workspace B's id and A's ids or
// identifiers, finds nothing and changes nothing. (Workspace methods take
// the workspace's own id, and users and passwords are global: the server
// decides who may call those.)
func testTenancy(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := Workspace(t, s, "a")
	b := Workspace(t, s, "b")

	aUser, err := s.CreateUser(ctx, a.ID, "owner-a@example.com", "", "", touchbase.RoleOwner)
	must(t, err)
	aAdmin, err := s.CreateUser(ctx, a.ID, "admin-a@example.com", "", "", touchbase.RoleAdmin)
	must(t, err)
	bUser, err := s.CreateUser(ctx, b.ID, "owner-b@example.com", "", "", touchbase.RoleOwner)
	must(t, err)
	aKey, aSecret, err := s.CreateKey(ctx, a.ID, touchbase.KeyAdmin, touchbase.RoleOwner, "a")
	must(t, err)
	bKey, _, err := s.CreateKey(ctx, b.ID, touchbase.KeyWrite, "", "b")
	must(t, err)

	aCust := &touchbase.Customer{WorkspaceID: a.ID, UserID: "u-a", Email: "ada@example.com", Phone: "+15550001",
		Identities: []touchbase.Identity{{Kind: touchbase.IdentityAnonymousID, Value: "anon-a"}},
		Traits:     map[string]any{"first_name": "Ada", "plan": "gold"}, Features: touchbase.Features{Orders: 5, Revenue: 500}}
	InsertCustomer(t, s, aCust)
	bCust := &touchbase.Customer{WorkspaceID: b.ID, UserID: "u-b", Email: "bob@example.com", Traits: map[string]any{"first_name": "Bob"}}
	InsertCustomer(t, s, bCust)
	aEvent := &touchbase.Event{WorkspaceID: a.ID, CustomerID: aCust.ID, Event: "Order Completed"}
	InsertEvent(t, s, aEvent)
	bEvent := &touchbase.Event{WorkspaceID: b.ID, CustomerID: bCust.ID, Event: "Signed Up"}
	InsertEvent(t, s, bEvent)
	aOrder := &touchbase.Order{WorkspaceID: a.ID, OrderID: "order-a", CustomerID: aCust.ID, Revenue: 500,
		Items: []touchbase.OrderItem{{ProductID: "prod-a", Price: 500, Quantity: 1}}}
	InsertOrder(t, s, aOrder)
	InsertOrder(t, s, &touchbase.Order{WorkspaceID: b.ID, OrderID: "order-b", CustomerID: bCust.ID, Revenue: 7})
	InsertProduct(t, s, &touchbase.Product{WorkspaceID: a.ID, ProductID: "prod-a", Name: "Secret A product", Category: "A"})
	InsertProduct(t, s, &touchbase.Product{WorkspaceID: b.ID, ProductID: "prod-b", Name: "B product"})

	_, err = s.SetConsent(ctx, a.ID, touchbase.Consent{CustomerID: aCust.ID, Channel: touchbase.ChannelEmail, State: touchbase.ConsentSubscribed,
		Source: touchbase.ConsentFromConsole})
	must(t, err)

	aBefore, err := s.ExportCustomer(ctx, a.ID, aCust.ID)
	must(t, err)

	// Finding or changing one of A's things through B: ENOTFOUND.
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"FindMember", func() error { _, err := s.FindMember(ctx, b.ID, aUser.ID); return err }},
		{"SetMemberRole", func() error { _, err := s.SetMemberRole(ctx, b.ID, aAdmin.ID, touchbase.RoleAnalyst); return err }},
		{"RemoveMember", func() error { return s.RemoveMember(ctx, b.ID, aAdmin.ID) }},
		{"RevokeKey", func() error { return s.RevokeKey(ctx, b.ID, aKey.ID) }},
		{"FindCustomer", func() error { _, err := s.FindCustomer(ctx, b.ID, aCust.ID); return err }},
		{"UpdateTraits", func() error {
			_, err := s.UpdateTraits(ctx, b.ID, aCust.ID, map[string]any{"plan": "stolen", "first_name": nil})
			return err
		}},
		{"EraseCustomer", func() error { return s.EraseCustomer(ctx, b.ID, aCust.ID) }},
		{"ListConsents", func() error { _, err := s.ListConsents(ctx, b.ID, aCust.ID); return err }},
		{"SetConsent", func() error {
			_, err := s.SetConsent(ctx, b.ID, touchbase.Consent{CustomerID: aCust.ID, Channel: touchbase.ChannelEmail,
				State: touchbase.ConsentUnsubscribed, Source: touchbase.ConsentFromAPI})
			return err
		}},
		{"ExportCustomer", func() error { _, err := s.ExportCustomer(ctx, b.ID, aCust.ID); return err }},
		{"FindEvent", func() error { _, err := s.FindEvent(ctx, b.ID, aEvent.ID); return err }},
		{"FindOrder", func() error { _, err := s.FindOrder(ctx, b.ID, "order-a"); return err }},
		{"FindProduct", func() error { _, err := s.FindProduct(ctx, b.ID, "prod-a"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), touchbase.ENOTFOUND) })
	}

	// Listing through B: only B's rows, and none for A's identifiers.
	t.Run("ListMembers", func(t *testing.T) {
		ms, err := s.ListMembers(ctx, b.ID)
		must(t, err)
		if len(ms) != 1 || ms[0].ID != bUser.ID {
			t.Errorf("ListMembers(b) = %+v", ms)
		}
	})
	t.Run("ListKeys", func(t *testing.T) {
		ks, err := s.ListKeys(ctx, b.ID)
		must(t, err)
		if len(ks) != 1 || ks[0].ID != bKey.ID {
			t.Errorf("ListKeys(b) = %+v", ks)
		}
	})
	t.Run("ListCustomers", func(t *testing.T) {
		for name, f := range map[string]touchbase.CustomerFilter{
			"user id":      {UserID: "u-a"},
			"email":        {Email: "ada@example.com"},
			"phone":        {Phone: "+15550001"},
			"anonymous id": {AnonymousID: "anon-a"},
			"query":        {Query: "ada"},
			"trait":        {Trait: "plan", TraitValue: "gold"},
			"min orders":   {MinOrders: 1},
			"revenue sort": {Sort: touchbase.CustomerSortRevenue},
		} {
			cs, _, err := s.ListCustomers(ctx, b.ID, f)
			must(t, err)
			for _, c := range cs {
				if c.WorkspaceID != b.ID || c.ID == aCust.ID {
					t.Errorf("%s: ListCustomers(b) returned %+v", name, c)
				}
			}
			if name != "revenue sort" && len(cs) != 0 {
				t.Errorf("%s: ListCustomers(b) returned %d customers, want 0", name, len(cs))
			}
		}
		cs, _, err := s.ListCustomers(ctx, b.ID, touchbase.CustomerFilter{})
		must(t, err)
		if len(cs) != 1 || cs[0].ID != bCust.ID {
			t.Errorf("ListCustomers(b) = %+v", cs)
		}
	})
	t.Run("ListEvents", func(t *testing.T) {
		es, _, err := s.ListEvents(ctx, b.ID, touchbase.EventFilter{CustomerID: aCust.ID})
		must(t, err)
		if len(es) != 0 {
			t.Errorf("A's timeline through B: %+v", es)
		}
		es, _, err = s.ListEvents(ctx, b.ID, touchbase.EventFilter{})
		must(t, err)
		if len(es) != 1 || es[0].ID != bEvent.ID {
			t.Errorf("ListEvents(b) = %+v", es)
		}
		es, _, err = s.ListEvents(ctx, b.ID, touchbase.EventFilter{Event: "Order Completed"})
		must(t, err)
		if len(es) != 0 {
			t.Errorf("A's events by name through B: %+v", es)
		}
	})
	t.Run("ListOrders", func(t *testing.T) {
		os, _, err := s.ListOrders(ctx, b.ID, touchbase.OrderFilter{CustomerID: aCust.ID})
		must(t, err)
		if len(os) != 0 {
			t.Errorf("A's orders through B: %+v", os)
		}
		os, _, err = s.ListOrders(ctx, b.ID, touchbase.OrderFilter{})
		must(t, err)
		if len(os) != 1 || os[0].OrderID != "order-b" {
			t.Errorf("ListOrders(b) = %+v", os)
		}
	})
	t.Run("ListProducts", func(t *testing.T) {
		ps, _, err := s.ListProducts(ctx, b.ID, touchbase.ProductFilter{Query: "product"})
		must(t, err)
		if len(ps) != 1 || ps[0].ProductID != "prod-b" {
			t.Errorf("ListProducts(b) = %+v", ps)
		}
		ps, _, err = s.ListProducts(ctx, b.ID, touchbase.ProductFilter{Category: "A"})
		must(t, err)
		if len(ps) != 0 {
			t.Errorf("A's category through B: %+v", ps)
		}
	})
	t.Run("Stats", func(t *testing.T) {
		st, err := s.Stats(ctx, b.ID)
		must(t, err)
		if want := (touchbase.Stats{Customers: 1, Events: 1, Orders: 1, Revenue: 7, Products: 1}); *st != want {
			t.Errorf("Stats(b) = %+v, want %+v", st, want)
		}
	})
	t.Run("AuthenticateKey names the key's workspace", func(t *testing.T) {
		k, err := s.AuthenticateKey(ctx, aSecret)
		must(t, err)
		if k.WorkspaceID != a.ID {
			t.Errorf("A's key authenticates for workspace %d", k.WorkspaceID)
		}
	})

	t.Run("A unchanged", func(t *testing.T) {
		after, err := s.ExportCustomer(ctx, a.ID, aCust.ID)
		must(t, err)
		if !reflect.DeepEqual(after, aBefore) {
			t.Errorf("A's customer changed through B:\nbefore %+v\n after %+v", aBefore, after)
		}
		if _, err := s.AuthenticateKey(ctx, aSecret); err != nil {
			t.Errorf("A's key no longer works: %v", err)
		}
		m, err := s.FindMember(ctx, a.ID, aAdmin.ID)
		must(t, err)
		if m.Role != touchbase.RoleAdmin {
			t.Errorf("A's admin is now %q", m.Role)
		}
		if n := QueryInt(t, s, "SELECT count(*) FROM erased_identities"); n != 0 {
			t.Errorf("%d identifiers erased by a refused erasure", n)
		}
	})
}
