package importer_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// boundCase is a file with rows beyond touchbase's bounds among good ones:
// each bad row is a line error naming its column and what is wrong, the
// good rows are imported.
type boundCase struct {
	name, format string
	kind         touchbase.ImportKind
	opts         touchbase.ImportOptions
	data         string
	errors       []touchbase.LineError // Message: a substring
	orders       []string              // order ids imported
}

func checkBounds(t *testing.T, cases []boundCase) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := newWorkspace(t, s)
				name := "file." + c.format
				c.opts.Format = c.format
				im := mustImport(t, s, ws, c.kind, name, c.opts, c.data)
				// Order lines are checked when their order is complete:
				// errors come by record, not always by line.
				slices.SortFunc(im.LineErrors, func(a, b touchbase.LineError) int { return a.Line - b.Line })
				if len(im.LineErrors) != len(c.errors) {
					t.Fatalf("line errors %+v, want %+v", im.LineErrors, c.errors)
				}
				for i, want := range c.errors {
					got := im.LineErrors[i]
					if got.Line != want.Line || got.Column != want.Column || !strings.Contains(got.Message, want.Message) {
						t.Errorf("line error %+v, want line %d, column %q, a message with %q", got, want.Line, want.Column, want.Message)
					}
				}
				if c.orders != nil {
					ids := storetest.QueryStrings(t, s, "SELECT order_id FROM orders WHERE workspace_id = ? ORDER BY order_id", ws)
					if !reflect.DeepEqual(ids, c.orders) {
						t.Errorf("orders %v, want %v", ids, c.orders)
					}
				}
			})
		}
	})
}

const numberRange = "numbers must be between -9007199254740991 and 9007199254740991"

func TestImportNumberBounds(t *testing.T) {
	checkBounds(t, []boundCase{
		{name: "CSVOrders", format: "csv", kind: touchbase.ImportOrders,
			data: "order_id,user_id,timestamp,product_id,price,quantity,total,points\n" + // 1
				"o1,u1,2024-01-01,p1,10,1,10,5\n" + // 2
				"o2,u1,2024-01-02,p1,1e308,1,,\n" + // 3
				"o3,u1,2024-01-03,p1,10,9007199254740992,,\n" + // 4
				"o4,u1,2024-01-04,p1,1e10,1e10,,\n" + // 5
				"o5,u1,2024-01-05,p1,10,1,\"1,000,000,000,000,000,000\",\n" + // 6
				"o6,u1,2024-01-06,p1,10,1,,12345678901234567\n" + // 7: points goes to the item, typed by its value
				"o7,u1,2024-01-07,p1,9007199254740991,1,,\n", // 8
			errors: []touchbase.LineError{
				{Line: 3, Column: "price", Message: numberRange},
				{Line: 4, Column: "quantity", Message: numberRange},
				{Line: 5, Column: "properties.products[0]", Message: "price × quantity is 1e+20"},
				{Line: 6, Column: "total", Message: numberRange},
				{Line: 7, Column: "points", Message: "is 12345678901234567: " + numberRange},
			},
			orders: []string{"o1", "o7"}},
		{name: "CSVCustomers", format: "csv", kind: touchbase.ImportCustomers,
			data: "user_id,score,ltv\nu1,5,1.5\nu2,12345678901234567,1\nu3,1,-9007199254740993\n",
			opts: touchbase.ImportOptions{Map: "ltv=traits.ltv:number"},
			errors: []touchbase.LineError{
				{Line: 3, Column: "score", Message: numberRange},
				{Line: 4, Column: "ltv", Message: numberRange},
			}},
		{name: "CSVProducts", format: "csv", kind: touchbase.ImportProducts,
			data:   "product_id,name,price\np1,Mug,10\np2,Gold,1e308\n",
			errors: []touchbase.LineError{{Line: 3, Column: "price", Message: numberRange}}},
		{name: "NDJSON", format: "ndjson", kind: touchbase.ImportOrders,
			data: `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"n1","revenue":5}}` + "\n" +
				`{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"n2","revenue":1e308}}` + "\n" +
				`{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"n3","products":[{"price":1e308,"quantity":1e308}]}}` + "\n",
			errors: []touchbase.LineError{
				{Line: 2, Column: "properties.revenue", Message: numberRange},
				{Line: 3, Column: "properties.products[0].price", Message: numberRange},
			},
			orders: []string{"n1"}},
		{name: "OnlineRetail", format: "online-retail", kind: touchbase.ImportOrders,
			data: "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
				"536365,85123A,MUG,6,12/1/2010 8:26,2.55,17850,United Kingdom\n" +
				"536366,85123A,MUG,6,12/1/2010 8:28,1e308,17850,United Kingdom\n",
			errors: []touchbase.LineError{{Line: 3, Column: "UnitPrice", Message: numberRange}},
			orders: []string{"536365"}},
		{name: "CDNOW", format: "cdnow", kind: touchbase.ImportOrders,
			data:   "00001 19970101 1 11.77\n00002 19970102 1 1e308\n",
			errors: []touchbase.LineError{{Line: 2, Column: "dollar value", Message: "is not an amount from 0 to 9007199254740991"}},
			orders: []string{"cdnow-00001-19970101-1"}},
	})
}

// TestImportNUL: a NUL in a CSV cell becomes U+FFFD, as \u0000 does on
// /v1, in products (which the importer writes itself) as in messages, on
// both databases alike.
func TestImportNUL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		mustImport(t, s, ws, touchbase.ImportProducts, "p.csv", touchbase.ImportOptions{}, "product_id,name,price\np\x001,Mu\x00g,10\n")
		mustImport(t, s, ws, touchbase.ImportCustomers, "c.csv", touchbase.ImportOptions{}, "user_id,plan\nu\x001,go\x00ld\n")
		names := storetest.QueryStrings(t, s, "SELECT product_id || ' ' || name FROM products WHERE workspace_id = ?", ws)
		if !reflect.DeepEqual(names, []string{"p\uFFFD1 Mu\uFFFDg"}) {
			t.Errorf("products %q", names)
		}
		users := storetest.QueryStrings(t, s, "SELECT user_id FROM customers WHERE workspace_id = ?", ws)
		if !reflect.DeepEqual(users, []string{"u\uFFFD1"}) {
			t.Errorf("customers %q", users)
		}
	})
}

// TestImportTimestampBounds: an order date outside the event range (from
// the Unix epoch to a day after the import) is a line error naming the
// column; history back to CDNOW's 1997, and the epoch itself, import.
func TestImportTimestampBounds(t *testing.T) {
	const outOfRange = "is out of range: event times must be from 1970-01-01T00:00:00Z"
	checkBounds(t, []boundCase{
		{name: "CSVOrders", format: "csv", kind: touchbase.ImportOrders,
			data: "order_id,user_id,order_date,product_id,price\n" +
				"o1,u1,1997-01-01,p1,10\n" +
				"o2,u1,0001-01-01,p1,10\n" +
				"o3,u1,9999-12-31,p1,10\n" +
				"o4,u1,1969-12-31 23:59:59,p1,10\n" +
				"o5,u1,1970-01-01,p1,10\n",
			opts: touchbase.ImportOptions{Map: "order_date=timestamp"},
			errors: []touchbase.LineError{
				{Line: 3, Column: "order_date", Message: outOfRange},
				{Line: 4, Column: "order_date", Message: outOfRange},
				{Line: 5, Column: "order_date", Message: outOfRange},
			},
			orders: []string{"o1", "o5"}},
		{name: "NDJSON", format: "ndjson", kind: touchbase.ImportOrders,
			data: `{"type":"track","userId":"u1","event":"Order Completed","timestamp":"0001-01-01T00:00:00Z","properties":{"order_id":"n1","revenue":5}}` + "\n" +
				`{"type":"track","userId":"u1","event":"Order Completed","timestamp":"2011-12-09T12:50:00Z","properties":{"order_id":"n2","revenue":5}}` + "\n",
			errors: []touchbase.LineError{{Line: 1, Column: "timestamp", Message: outOfRange}},
			orders: []string{"n2"}},
		{name: "OnlineRetail", format: "online-retail", kind: touchbase.ImportOrders,
			data: "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
				"536365,85123A,MUG,6,12/1/2010 8:26,2.55,17850,United Kingdom\n" +
				"536366,85123A,MUG,6,12/31/9999 8:28,2.55,17850,United Kingdom\n",
			errors: []touchbase.LineError{{Line: 3, Column: "InvoiceDate", Message: outOfRange}},
			orders: []string{"536365"}},
	})
}
