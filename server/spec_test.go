package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
)

// TestSpecOrdersThroughV1: an Order Completed without order_id is a valid
// Segment call: /v1 keeps it, and its order is keyed by its messageId; an
// Order Refunded without one names no order and is kept as an event.
func TestSpecOrdersThroughV1(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		res := e.mustSend("batch", e.write, map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "u1", "messageId": "m-no-order-id", "event": "Order Completed", "properties": map[string]any{
				"revenue": 25, "currency": "EUR", "products": []any{map[string]any{"product_id": "p1", "price": 25}}}},
			map[string]any{"type": "track", "userId": "u1", "event": "Order Refunded", "properties": map[string]any{"total": 25}},
			map[string]any{"type": "track", "userId": "u1", "event": "Order Updated"},
			map[string]any{"type": "track", "userId": "u1", "event": "Checkout Started", "properties": map[string]any{"revenue": 25}},
			map[string]any{"type": "track", "userId": "u1", "event": "Coupon Applied", "properties": map[string]any{"coupon_name": "X", "discount": 2}},
			map[string]any{"type": "track", "userId": "u1", "event": "Promotion Clicked", "properties": map[string]any{"name": "Sale"}},
			map[string]any{"type": "track", "userId": "u1", "event": "Product Added", "properties": map[string]any{"name": "no id", "price": 3}},
		}})
		if res.Accepted != 7 || len(res.Rejected) != 0 {
			t.Fatalf("accepted %d, rejected %+v", res.Accepted, res.Rejected)
		}
		if r := e.mustSend("track", e.write, map[string]any{"userId": "u1", "messageId": "m-2", "event": "Order Completed"}); r.Accepted != 1 {
			t.Fatalf("alone: %+v", r)
		}
		o := e.order("m-no-order-id")
		if o.Revenue != 25 || o.Status != touchbase.OrderCompleted || len(o.Items) != 1 || o.CustomerID != e.customerID("u1") {
			t.Fatalf("the order keyed by its messageId: %+v", o)
		}
		e.order("m-2")
		if st := e.stats(e.owner); st.Events != 8 || st.Orders != 2 {
			t.Fatalf("stats %+v: want 8 events, 2 orders", st)
		}
	})
}

// TestImportWarningsAPI: orders without order_id, in CSV and NDJSON files,
// are imported keyed by their messageId, and the import's report lists a
// warning for each, with its line; order events that name no order are
// kept as events, with a warning.
func TestImportWarningsAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		h := http.Header{"Authorization": {"Bearer " + e.owner}}
		run := func(kind, name, body string) touchbase.Import {
			t.Helper()
			r := e.do("POST", "/api/v1/imports?kind="+kind+"&file_name="+name, h, body)
			if r.status != http.StatusAccepted {
				t.Fatalf("upload: status %d: %s", r.status, r.body)
			}
			var im touchbase.Import
			r.decode(t, &im)
			for deadline := time.Now().Add(20 * time.Second); im.Status == touchbase.ImportQueued || im.Status == touchbase.ImportRunning; {
				if time.Now().After(deadline) {
					t.Fatalf("import still %s", im.Status)
				}
				time.Sleep(20 * time.Millisecond)
				e.mustAPI(e.owner, "GET", "/imports/"+strconv.FormatInt(im.ID, 10), nil, http.StatusOK).decode(t, &im)
			}
			return im
		}
		ndjson := `{"type":"track","userId":"u1","messageId":"hist-1","event":"Order Completed","timestamp":"2023-01-05T10:00:00Z","properties":{"revenue":30}}` + "\n" +
			`{"type":"track","userId":"u1","event":"Order Completed","timestamp":"2023-01-06T10:00:00Z","properties":{"order_id":"o-2","revenue":10}}` + "\n" +
			`{"type":"track","userId":"u1","event":"Order Refunded","timestamp":"2023-01-07T10:00:00Z","properties":{"total":5}}` + "\n" +
			`{"type":"track","event":"Order Completed","timestamp":"2023-01-08T10:00:00Z","properties":{"revenue":7}}` + "\n"
		im := run("events", "history.ndjson", ndjson)
		if im.Status != touchbase.ImportDone || im.Errors != 0 || im.Stored != 4 || im.Warnings != 3 {
			t.Fatalf("NDJSON import: %+v", im)
		}
		var lines []int
		for _, w := range im.LineWarnings {
			lines = append(lines, w.Line)
			if w.Column != "properties.order_id" || w.Message == "" {
				t.Errorf("warning %+v", w)
			}
		}
		if len(lines) != 3 || lines[0] != 1 || lines[1] != 3 || lines[2] != 4 || !strings.Contains(im.LineWarnings[0].Message, `"hist-1"`) {
			t.Fatalf("warnings %+v, want lines 1, 3 and 4", im.LineWarnings)
		}
		if o := e.order("hist-1"); o.Revenue != 30 {
			t.Fatalf("hist-1: %+v", o)
		}

		csv := "order_id,user_id,timestamp,product_id,price,status\n" +
			"c-1,u2,2023-02-01,p1,10,\n" +
			",u2,2023-02-02,p2,20,\n" +
			",u2,2023-02-03,p3,30,refunded\n"
		im = run("orders", "orders.csv", csv)
		if im.Status != touchbase.ImportDone || im.Errors != 0 || im.Warnings != 2 || len(im.LineWarnings) != 2 {
			t.Fatalf("CSV import: %+v", im)
		}
		// Line 4's refund names the order by the key the warning gives.
		if w := im.LineWarnings; w[0].Line != 3 || w[1].Line != 4 || w[0].Column != "order_id" || w[1].Column != "order_id" {
			t.Fatalf("warnings %+v, want lines 3 and 4, column order_id", w)
		}
		var c touchbase.Customer
		e.mustAPI(e.owner, "GET", "/customers/"+strconv.FormatInt(e.customerID("u2"), 10), nil, http.StatusOK).decode(t, &c)
		if c.Features.Orders != 3 || c.Features.Revenue != 30 || c.Features.RefundTotal != 30 {
			t.Fatalf("u2's features %+v: want 3 orders, 60 less the refund of the third", c.Features)
		}
		if again := run("orders", "orders.csv", csv); again.Stored != 0 || again.Duplicates != 4 {
			t.Fatalf("the same file again: %+v", again)
		}
	})
}
