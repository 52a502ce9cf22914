package importer_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestLineErrors: each bad row is reported with its file line (the header
// is line 1) and column, and the good rows around it are imported. A row
// without an order id is no error: it is an order of its own, keyed by its
// messageId, and a warning says so.
func TestLineErrors(t *testing.T) {
	data := "order_id,user_id,timestamp,product_id,name,price,quantity\n" + // 1
		"o1,u1,2024-01-01,p1,\"Mug\nwith a lid\",10,1\n" + // 2-3
		"o2,u1,2024-01-02,p1,Mug,ten,1\n" + // 4
		"o3,u1,yesterday,p1,Mug,5,1\n" + // 5
		"o4,u1,2024-01-03,p1,Mug,5\n" + // 6
		",u1,2024-01-04,p1,Mug,5,1\n" + // 7
		"o5,u1,2024-01-05,p1,Mug,5,1\n" + // 8
		"o6,u1,2024-01-06,p1,\"Mug,5,1\n" // 9: the quote is never closed
	want := []touchbase.LineError{
		{Line: 4, Column: "price"},
		{Line: 5, Column: "timestamp"},
		{Line: 6},
		{Line: 9},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		im := mustImport(t, s, ws, touchbase.ImportOrders, "orders.csv", touchbase.ImportOptions{}, data)
		var got []touchbase.LineError
		for _, le := range im.LineErrors {
			if le.Message == "" {
				t.Errorf("line %d: no message", le.Line)
			}
			got = append(got, touchbase.LineError{Line: le.Line, Column: le.Column})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line errors %+v\nwant (lines and columns) %+v\nfull: %+v", got, want, im.LineErrors)
		}
		if im.Errors != int64(len(want)) {
			t.Errorf("Errors = %d, want %d", im.Errors, len(want))
		}
		ids := storetest.QueryStrings(t, s, "SELECT order_id FROM orders WHERE workspace_id = ? ORDER BY order_id", ws)
		if len(ids) != 3 || ids[0] != "o1" || ids[1] != "o5" || !strings.HasPrefix(ids[2], "tb-") {
			t.Errorf("orders %v, want the good rows o1 and o5, and line 7's keyed by its messageId", ids)
		}
		if im.Warnings != 1 || len(im.LineWarnings) != 1 || im.LineWarnings[0].Line != 7 || im.LineWarnings[0].Column != "order_id" ||
			len(ids) == 3 && !strings.Contains(im.LineWarnings[0].Message, ids[2]) {
			t.Errorf("warnings %d %+v, want line 7's, in column order_id, naming the order's key", im.Warnings, im.LineWarnings)
		}
	})
}

// TestMaxErrors: the import stops with ErrTooManyErrors once more than
// MaxErrors rows are bad, and not before.
func TestMaxErrors(t *testing.T) {
	data := "user_id,visits\nu1,1\nu2,x\nu3,2\nu4,y\nu5,z\nu6,3\n"
	opts := func(n int) touchbase.ImportOptions {
		return touchbase.ImportOptions{Map: "visits=traits.visits:int", MaxErrors: n}
	}
	cases := []struct {
		name      string
		maxErrors int
		tooMany   bool
		customers int64
	}{
		{name: "AtTheLimit", maxErrors: 3, customers: 3},
		{name: "NoLimit", maxErrors: -1, customers: 3},
		{name: "OverTheLimit", maxErrors: 2, tooMany: true},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := newWorkspace(t, s)
				im, err := runImport(context.Background(), s, ws, touchbase.ImportCustomers, "c.csv", opts(c.maxErrors), []byte(data))
				if c.tooMany != errors.Is(err, importer.ErrTooManyErrors) {
					t.Fatalf("error %v; want ErrTooManyErrors: %v", err, c.tooMany)
				}
				if !c.tooMany {
					if err != nil {
						t.Fatal(err)
					}
					if im.Errors != 3 {
						t.Errorf("Errors = %d, want 3", im.Errors)
					}
					if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != c.customers {
						t.Errorf("%d customers, want %d", n, c.customers)
					}
				}
			})
		}
	})
}

// TestBadMap: a mapping that cannot apply is EINVALID before anything is
// imported.
func TestBadMap(t *testing.T) {
	data := "id,Plan\nu1,pro\n"
	cases := []struct {
		name, kind, spec, mention string
	}{
		{name: "UnknownField", kind: "customers", spec: "id=user_id,Plan=favourite", mention: "favourite"},
		{name: "ColumnNotInHeader", kind: "customers", spec: "id=user_id,Tier=traits.tier", mention: "Tier"},
		{name: "UnknownType", kind: "customers", spec: "id=user_id,Plan=traits.plan:colour", mention: "colour"},
		{name: "PathWithoutName", kind: "customers", spec: "id=user_id,Plan=traits", mention: "traits"},
		{name: "ItemOutsideOrders", kind: "customers", spec: "id=user_id,Plan=item.plan", mention: "item"},
		{name: "NoEntrySeparator", kind: "customers", spec: "id user_id", mention: "COLUMN=TARGET"},
		{name: "NoPerson", kind: "customers", spec: "id=traits.id", mention: "user_id"},
		{name: "TwoColumnsOneField", kind: "customers", spec: "id=user_id,Plan=user_id", mention: "user_id"},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := newWorkspace(t, s)
				_, err := runImport(context.Background(), s, ws, touchbase.ImportKind(c.kind), "c.csv", touchbase.ImportOptions{Map: c.spec}, []byte(data))
				var te *touchbase.Error
				if !errors.As(err, &te) || te.Code != touchbase.EINVALID {
					t.Fatalf("error %v, want EINVALID", err)
				}
				if !strings.Contains(te.Message, c.mention) {
					t.Errorf("message %q does not mention %q", te.Message, c.mention)
				}
				if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ?", ws); n != 0 {
					t.Errorf("%d events imported despite the bad map", n)
				}
			})
		}
	})
}
