package inbound_test

import (
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/inbound"
)

// specEvents are the events of Segment's E-commerce Spec v2, each with the
// properties the spec lists as it documents them, less every identifier:
// the spec makes none of its properties required.
var specEvents = []struct{ event, props string }{
	{"Products Searched", `{"query":"blue roses"}`},
	{"Product List Viewed", `{"category":"Deals","products":[{"name":"Monopoly","price":19,"position":1}]}`},
	{"Product List Filtered", `{"filters":[{"type":"department","value":"beauty"}],"sorts":[{"type":"price","value":"desc"}],"products":[{"name":"Uno","price":3}]}`},
	{"Promotion Viewed", `{"name":"75% store-wide shoe sale","creative":"home_banner_top","position":"home_banner_top"}`},
	{"Promotion Clicked", `{"name":"75% store-wide shoe sale","creative":"home_banner_top"}`},
	{"Product Clicked", `{"category":"Games","name":"Monopoly","price":18.99,"position":3}`},
	{"Product Viewed", `{"category":"Games","name":"Monopoly","price":18.99,"currency":"usd","url":"https://www.example.com/p"}`},
	{"Product Added", `{"name":"Monopoly","price":18.99,"quantity":1}`},
	{"Product Removed", `{"name":"Monopoly","price":18.99,"quantity":1}`},
	{"Cart Viewed", `{"products":[{"name":"Monopoly","price":19,"quantity":1}]}`},
	{"Checkout Started", `{"value":30,"revenue":25,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"USD","products":[{"name":"Monopoly","price":19}]}`},
	{"Checkout Step Viewed", `{"step":2,"shipping_method":"Fedex"}`},
	{"Checkout Step Completed", `{"step":2,"payment_method":"Visa"}`},
	{"Payment Info Entered", `{"step":4,"payment_method":"Visa"}`},
	{"Order Updated", `{"total":27.5,"revenue":25,"products":[{"name":"Monopoly","price":19}]}`},
	{"Order Completed", `{"total":27.5,"revenue":25,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"USD","products":[{"name":"Monopoly","price":19,"quantity":1}]}`},
	{"Order Refunded", `{"total":30,"currency":"USD"}`},
	{"Order Cancelled", `{"total":30,"currency":"USD"}`},
	{"Coupon Entered", `{"coupon_id":"may_deals_2016"}`},
	{"Coupon Applied", `{"coupon_name":"May Deals 2016","discount":23.32}`},
	{"Coupon Denied", `{"reason":"Coupon expired"}`},
	{"Coupon Removed", `{"coupon_name":"May Deals 2016","discount":23.32}`},
	{"Product Added to Wishlist", `{"name":"Monopoly","price":18.99}`},
	{"Product Removed from Wishlist", `{"name":"Monopoly","price":18.99}`},
	{"Wishlist Product Added to Cart", `{"name":"Monopoly","price":18.99}`},
	{"Product Shared", `{"share_via":"email","recipient":"friend@example.com"}`},
	{"Cart Shared", `{"share_via":"email","products":[{"name":"Monopoly"}]}`},
	{"Product Reviewed", `{"rating":5,"review_body":"Good"}`},
}

// TestSpecEventsAreAccepted: every event of the e-commerce spec, without
// any of its ids, with its properties or with none, is a valid call: /v1
// takes it alone and in a batch, and an import takes it as a record.
func TestSpecEventsAreAccepted(t *testing.T) {
	for _, se := range specEvents {
		for _, props := range []string{se.props, "{}", ""} {
			event := `{"type":"track","userId":"u1","event":"` + se.event + `"`
			if props != "" {
				event += `,"properties":` + props
			}
			event += `}`
			t.Run(se.event+" "+props, func(t *testing.T) {
				req, err := inbound.Parse("track", []byte(event), received)
				if err != nil {
					t.Fatalf("/v1/track refused a valid spec event: %v", err)
				}
				if len(req.Inbounds) != 1 || len(req.Rejected) != 0 {
					t.Fatalf("track: %d inbounds, rejected %v", len(req.Inbounds), req.Rejected)
				}
				req = mustParse(t, "batch", `{"batch":[`+event+`]}`)
				if len(req.Inbounds) != 1 || len(req.Rejected) != 0 {
					t.Fatalf("batch: %d inbounds, rejected %v", len(req.Inbounds), req.Rejected)
				}
				if _, err := inbound.ParseRecord([]byte(event), received); err != nil {
					t.Fatalf("ParseRecord refused a valid spec event: %v", err)
				}
			})
		}
	}
}

// TestOrdersWithoutOrderID: an Order Completed without order_id is an
// order keyed by its messageId (the one sent, or the one derived from the
// event's content); the other order events name no order without one and
// are events only. Warning says which for import reports.
func TestOrdersWithoutOrderID(t *testing.T) {
	for _, tc := range []struct {
		name, event string
		keyed       bool   // an order keyed by the messageId
		warning     string // "" for none
	}{
		{"completed with a messageId", `{"userId":"u","messageId":"m-1","event":"Order Completed","properties":{"revenue":10,"products":[{"product_id":"p1","price":10}]}}`, true, `keyed by its messageId "m-1"`},
		{"completed without a messageId", `{"userId":"u","event":"Order Completed","properties":{"revenue":10}}`, true, "keyed by its messageId"},
		{"completed without properties", `{"userId":"u","event":"Order Completed"}`, true, "keyed by its messageId"},
		{"completed with an empty order_id", `{"userId":"u","event":"Order Completed","properties":{"order_id":"","revenue":4}}`, true, "keyed by its messageId"},
		{"updated", `{"userId":"u","event":"Order Updated","properties":{"revenue":10}}`, false, "Order Updated without properties.order_id names no order: kept as an event only"},
		{"refunded", `{"userId":"u","event":"Order Refunded","properties":{"order_id":""}}`, false, "Order Refunded without properties.order_id names no order"},
		{"cancelled", `{"userId":"u","event":"Order Cancelled"}`, false, "Order Cancelled without properties.order_id names no order"},
		{"completed with an order_id", `{"userId":"u","event":"Order Completed","properties":{"order_id":"o1"}}`, false, ""},
		{"not an order event", `{"userId":"u","event":"Checkout Started"}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := one(t, "track", tc.event)
			switch {
			case tc.keyed && (m.Order == nil || m.Order.Order.OrderID != m.MessageID || !m.Order.KeyedByMessageID || m.MessageID == ""):
				t.Fatalf("order %+v of message %q, want one keyed by the messageId", m.Order, m.MessageID)
			case !tc.keyed && m.Order != nil && m.Order.KeyedByMessageID:
				t.Fatalf("order %+v keyed by the messageId", m.Order)
			case !tc.keyed && tc.warning != "" && m.Order != nil:
				t.Fatalf("order %+v: an event that names no order changed one", m.Order)
			}
			w := inbound.Warning(&m)
			switch {
			case tc.warning == "" && w != nil:
				t.Fatalf("warning %+v, want none", w)
			case tc.warning != "" && (w == nil || w.Field != "properties.order_id" || !strings.Contains(w.Message, tc.warning)):
				t.Fatalf("warning %+v, want one on properties.order_id saying %q", w, tc.warning)
			}
		})
	}
	t.Run("the same event derives the same key", func(t *testing.T) {
		ev := `{"userId":"u","event":"Order Completed","timestamp":"2024-05-31T09:00:00Z","properties":{"revenue":10}}`
		a, b := one(t, "track", ev), one(t, "track", ev)
		if a.Order.Order.OrderID != b.Order.Order.OrderID {
			t.Fatalf("keys %q and %q", a.Order.Order.OrderID, b.Order.Order.OrderID)
		}
	})
	t.Run("an import's guest order without order_id", func(t *testing.T) {
		m, err := inbound.ParseRecord([]byte(`{"type":"track","event":"Order Completed","properties":{"revenue":5}}`), time.Now())
		if err != nil || !m.Guest || m.Order == nil || m.Order.Order.OrderID != m.MessageID {
			t.Fatalf("ParseRecord = %+v, %v; want a guest order keyed by its messageId", m, err)
		}
		m, err = inbound.ParseRecord([]byte(`{"type":"track","event":"Order Refunded","properties":{"total":5}}`), time.Now())
		if err != nil || !m.Guest || m.Order != nil {
			t.Fatalf("ParseRecord = %+v, %v; want a guest event, no order", m, err)
		}
	})
}
