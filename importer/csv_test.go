package importer_test

import (
	"reflect"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// item is an order line as stored.
type item struct {
	ProductID, Name, Category, Variant string
	Price, Quantity                    float64
}

func orderItems(t *testing.T, s *store.Store, ws int64, orderID string) []item {
	t.Helper()
	rows, err := s.DB().Query(rebind(s, `SELECT i.product_id, i.name, i.category, i.variant, i.price, i.quantity
		FROM order_items i JOIN orders o ON o.workspace_id = i.workspace_id AND o.id = i.order_id
		WHERE o.workspace_id = ? AND o.order_id = ? ORDER BY i.line`), ws, orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.ProductID, &it.Name, &it.Category, &it.Variant, &it.Price, &it.Quantity); err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func traitsOf(t *testing.T, s *store.Store, ws int64, userID string) map[string]any {
	t.Helper()
	return jsonColumn(t, s, "SELECT traits FROM customers WHERE workspace_id = ? AND user_id = ?", ws, userID)
}

func orderStatus(t *testing.T, s *store.Store, ws int64, orderID string) (status string, revenue, refunded float64) {
	t.Helper()
	err := s.DB().QueryRow(rebind(s, "SELECT status, revenue, refunded FROM orders WHERE workspace_id = ? AND order_id = ?"), ws, orderID).
		Scan(&status, &revenue, &refunded)
	if err != nil {
		t.Fatalf("order %s: %v", orderID, err)
	}
	return status, revenue, refunded
}

func wantJSON(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestCSVMapping imports small CSVs and checks what the store holds.
func TestCSVMapping(t *testing.T) {
	cases := []struct {
		name  string
		kind  touchbase.ImportKind
		opts  touchbase.ImportOptions
		data  string
		gzip  bool
		check func(t *testing.T, s *store.Store, ws int64)
	}{
		{
			name: "AutoTyping",
			kind: touchbase.ImportCustomers,
			data: "user_id,Zip,Score,Active,Nickname,Big\nu1,02134,12.5,true,1e3,-7\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				wantJSON(t, "traits", traitsOf(t, s, ws, "u1"), map[string]any{"zip": "02134", "score": 12.5, "active": true, "nickname": "1e3", "big": -7.0})
			},
		},
		{
			name: "MapPathsAndTypes",
			kind: touchbase.ImportCustomers,
			opts: touchbase.ImportOptions{Map: "Id=user_id,Zip=traits.address.zip:string,Visits=traits.visits:int,Vip=traits.vip:bool,Joined=traits.joined_on:time,Score=traits.score:number,Code=traits.code:string"},
			data: "Id,Zip,Visits,Vip,Joined,Score,Code\nu1,2134,7,yes,2024-03-01 10:30:00,\"1,234.5\",0042\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				wantJSON(t, "traits", traitsOf(t, s, ws, "u1"), map[string]any{
					"address": map[string]any{"zip": "2134"}, "visits": 7.0, "vip": true,
					"joined_on": "2024-03-01T10:30:00.000Z", "score": 1234.5, "code": "0042",
				})
			},
		},
		{
			name: "TimeZoneOption",
			kind: touchbase.ImportCustomers,
			opts: touchbase.ImportOptions{Map: "Joined=traits.joined_on:time", TimeZone: "Europe/Paris"},
			data: "user_id,Joined\nu1,2024-03-01 10:30:00\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				wantJSON(t, "traits", traitsOf(t, s, ws, "u1"), map[string]any{"joined_on": "2024-03-01T09:30:00.000Z"})
			},
		},
		{
			name: "KnownFieldAliases",
			kind: touchbase.ImportCustomers,
			data: "Customer ID,E-mail,Phone Number,Plan\nc7,Ann@Example.COM,+33 6 12 34 56 78,pro\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				var email, phone string
				err := s.DB().QueryRow(rebind(s, "SELECT email, phone FROM customers WHERE workspace_id = ? AND user_id = ?"), ws, "c7").Scan(&email, &phone)
				if err != nil {
					t.Fatal(err)
				}
				if email != "ann@example.com" || phone != "+33612345678" {
					t.Errorf("email %q phone %q, want ann@example.com and +33612345678", email, phone)
				}
				if tr := traitsOf(t, s, ws, "c7"); tr["plan"] != "pro" {
					t.Errorf("traits %v: want plan pro", tr)
				}
			},
		},
		{
			name: "SemicolonDelimiterAndBOM",
			kind: touchbase.ImportCustomers,
			data: "\ufeffuser_id;City;Age\nu1;Lyon;41\nu2;\"Paris; France\";\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				wantJSON(t, "u1 traits", traitsOf(t, s, ws, "u1"), map[string]any{"city": "Lyon", "age": 41.0})
				wantJSON(t, "u2 traits", traitsOf(t, s, ws, "u2"), map[string]any{"city": "Paris; France"})
			},
		},
		{
			name: "TabDelimiter",
			kind: touchbase.ImportCustomers,
			data: "user_id\tCity\tNote\nu1\tSalem, OR\t\"quoted\"\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				wantJSON(t, "traits", traitsOf(t, s, ws, "u1"), map[string]any{"city": "Salem, OR", "note": "quoted"})
			},
		},
		{
			name: "Gzip",
			kind: touchbase.ImportCustomers,
			data: "user_id,City\nu1,Salem\nu2,Bend\n",
			gzip: true,
			check: func(t *testing.T, s *store.Store, ws int64) {
				wantJSON(t, "traits", traitsOf(t, s, ws, "u2"), map[string]any{"city": "Bend"})
			},
		},
		{
			name: "CustomersByEmailOnly",
			kind: touchbase.ImportCustomers,
			data: "email,name\nbob@example.com,Bob\nBOB@example.com,Robert\neve@example.com,Eve\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 2 {
					t.Errorf("%d customers, want 2 (one per email, case-insensitive)", n)
				}
				tr := jsonColumn(t, s, "SELECT traits FROM customers WHERE workspace_id = ? AND email = ?", ws, "bob@example.com")
				if tr["name"] != "Robert" {
					t.Errorf("bob's traits %v: want the later row's name", tr)
				}
			},
		},
		{
			name: "EventsWithProperties",
			kind: touchbase.ImportEvents,
			opts: touchbase.ImportOptions{Map: "When=timestamp,Amount=properties.amount:number,Ip=context.ip,Tier=traits.tier"},
			data: "user_id,event,When,Amount,Ip,Tier,Coupon\nu1,Signed Up,2024-01-02T03:04:05Z,9.90,10.0.0.1,gold,WELCOME\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				props := jsonColumn(t, s, "SELECT properties FROM events WHERE workspace_id = ? AND event = 'Signed Up'", ws)
				wantJSON(t, "properties", props, map[string]any{"amount": 9.9, "coupon": "WELCOME"})
				ctx := jsonColumn(t, s, "SELECT context FROM events WHERE workspace_id = ? AND event = 'Signed Up'", ws)
				if ctx["ip"] != "10.0.0.1" {
					t.Errorf("context %v: want ip 10.0.0.1", ctx)
				}
				if tr := traitsOf(t, s, ws, "u1"); tr["tier"] != "gold" {
					t.Errorf("traits %v: want tier gold from context.traits", tr)
				}
				ts := count(t, s, "SELECT timestamp FROM events WHERE workspace_id = ? AND event = 'Signed Up'", ws)
				if ts != 1704164645000 {
					t.Errorf("timestamp %d, want 2024-01-02T03:04:05Z", ts)
				}
			},
		},
		{
			name: "EventsWithTypeColumn",
			kind: touchbase.ImportEvents,
			data: "type,user_id,event,plan\nidentify,u1,,gold\ntrack,u1,Clicked,\nTRACK,u1,Opened,\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				if tr := traitsOf(t, s, ws, "u1"); tr["plan"] != "gold" {
					t.Errorf("traits %v: the identify row should set plan", tr)
				}
				if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND type = 'track'", ws); n != 2 {
					t.Errorf("%d track events, want 2", n)
				}
				if n := count(t, s, "SELECT count(*) FROM events WHERE workspace_id = ? AND type = 'identify'", ws); n != 1 {
					t.Errorf("%d identify events, want 1", n)
				}
			},
		},
		{
			name: "Products",
			kind: touchbase.ImportProducts,
			data: "SKU,Title,Category,Price,Currency,Warehouse\nA-1,Mug,Kitchen,\"$1,299.00\",eur,north\nB-2,Cup,,3,,\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				var name, cat, cur string
				var price float64
				err := s.DB().QueryRow(rebind(s, "SELECT name, category, price, currency FROM products WHERE workspace_id = ? AND product_id = ?"), ws, "A-1").
					Scan(&name, &cat, &price, &cur)
				if err != nil {
					t.Fatal(err)
				}
				if name != "Mug" || cat != "Kitchen" || price != 1299 || cur != "EUR" {
					t.Errorf("product A-1 = %q %q %v %q", name, cat, price, cur)
				}
				if n := count(t, s, "SELECT count(*) FROM products WHERE workspace_id = ?", ws); n != 2 {
					t.Errorf("%d products, want 2", n)
				}
			},
		},
		{
			name: "OrdersGroupedNonContiguous",
			kind: touchbase.ImportOrders,
			opts: touchbase.ImportOptions{Map: "Colour=item.variant,Channel=properties.channel,Segment=traits.segment"},
			data: "order_id,user_id,timestamp,product_id,name,price,qty,Colour,Channel,Segment,currency\n" +
				"o1,u1,2024-05-01,p1,Mug,4.5,2,red,web,vip,eur\n" +
				"o2,u2,2024-05-02,p2,Cup,3,1,,shop,,\n" +
				"o1,u1,2024-05-01,p3,Plate,10,1,blue,,,\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				if n := count(t, s, "SELECT count(*) FROM orders WHERE workspace_id = ?", ws); n != 2 {
					t.Fatalf("%d orders, want 2", n)
				}
				got := orderItems(t, s, ws, "o1")
				want := []item{{ProductID: "p1", Name: "Mug", Variant: "red", Price: 4.5, Quantity: 2}, {ProductID: "p3", Name: "Plate", Variant: "blue", Price: 10, Quantity: 1}}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("o1 items %+v, want %+v", got, want)
				}
				status, revenue, _ := orderStatus(t, s, ws, "o1")
				if status != "completed" || revenue != 19 {
					t.Errorf("o1 %s revenue %v, want completed 19", status, revenue)
				}
				if tr := traitsOf(t, s, ws, "u1"); tr["segment"] != "vip" {
					t.Errorf("u1 traits %v: want segment vip", tr)
				}
				props := jsonColumn(t, s, "SELECT properties FROM events WHERE workspace_id = ? AND user_id = 'u1'", ws)
				if props["channel"] != "web" || props["currency"] != "eur" && props["currency"] != "EUR" {
					t.Errorf("o1 event properties %v: want channel web and currency", props)
				}
				var cur string
				if err := s.DB().QueryRow(rebind(s, "SELECT currency FROM orders WHERE workspace_id = ? AND order_id = 'o1'"), ws).Scan(&cur); err != nil || cur != "EUR" {
					t.Errorf("o1 currency %q (%v), want EUR", cur, err)
				}
			},
		},
		{
			name: "OrdersStatus",
			kind: touchbase.ImportOrders,
			data: "order_id,email,status,product_id,price,quantity\n" +
				"o1,a@example.com,completed,p1,10,1\n" +
				"o2,a@example.com,Cancelled,p1,20,1\n" +
				"o3,b@example.com,refunded,p1,30,1\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				for _, c := range []struct {
					order, status     string
					revenue, refunded float64
				}{{"o1", "completed", 10, 0}, {"o2", "cancelled", 20, 0}, {"o3", "refunded", 30, 30}} {
					status, revenue, refunded := orderStatus(t, s, ws, c.order)
					if status != c.status || revenue != c.revenue || refunded != c.refunded {
						t.Errorf("%s: %s revenue %v refunded %v, want %s %v %v", c.order, status, revenue, refunded, c.status, c.revenue, c.refunded)
					}
				}
				var orders int
				var revenue float64
				err := s.DB().QueryRow(rebind(s, "SELECT orders, revenue FROM customers WHERE workspace_id = ? AND email = ?"), ws, "a@example.com").Scan(&orders, &revenue)
				if err != nil || orders != 1 || revenue != 10 {
					t.Errorf("a@example.com: %d orders, revenue %v (%v); want 1 and 10 (the cancelled order counts in no feature)", orders, revenue, err)
				}
			},
		},
		{
			name: "GuestOrder",
			kind: touchbase.ImportOrders,
			data: "order_id,product_id,price,quantity\ng1,p1,5,2\n",
			check: func(t *testing.T, s *store.Store, ws int64) {
				if n := count(t, s, "SELECT count(*) FROM orders WHERE workspace_id = ? AND customer_id IS NULL", ws); n != 1 {
					t.Errorf("%d guest orders, want 1", n)
				}
				if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 0 {
					t.Errorf("%d customers, want none", n)
				}
			},
		},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := newWorkspace(t, s)
				data := c.data
				if c.gzip {
					data = gzipped(t, data)
				}
				im := mustImport(t, s, ws, c.kind, c.name+".csv", c.opts, data)
				if im.Errors != 0 {
					t.Fatalf("%d line errors: %+v", im.Errors, im.LineErrors)
				}
				c.check(t, s, ws)
			})
		}
	})
}
