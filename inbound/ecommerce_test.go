package inbound_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
)

func TestOrders(t *testing.T) {
	placed := time.Date(2024, 5, 31, 9, 0, 0, 0, time.UTC)
	track := func(event, props string) string {
		return `{"userId":"u","event":"` + event + `","timestamp":"2024-05-31T09:00:00Z","properties":` + props + `}`
	}
	order := func(o touchbase.Order) touchbase.Order {
		o.PlacedAt, o.UpdatedAt = placed, placed
		return o
	}
	for _, tc := range []struct {
		name, event  string
		want         *touchbase.OrderChange
		wantProducts []touchbase.Product
	}{
		{
			name: "order completed, all of Segment's fields",
			event: track("Order Completed", `{"checkout_id":"c1","order_id":"50314b8e9bcf000000000000","affiliation":"Google Store","total":27.50,"subtotal":22.50,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"usd",
				"products":[{"product_id":"507f1f77bcf86cd799439011","sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,"quantity":1,"category":"Games","brand":"Hasbro","variant":"classic","url":"https://www.example.com/product/path","image_url":"https:///www.example.com/product/path.jpg"},
				{"product_id":"505bd76785ebb509fc183733","sku":"46493-32","name":"Uno Card Game","price":3,"quantity":2,"category":"Games"}]}`),
			want: &touchbase.OrderChange{Kind: touchbase.OrderChangeCompleted, Order: order(touchbase.Order{
				OrderID: "50314b8e9bcf000000000000", Status: touchbase.OrderCompleted, Revenue: 25, Total: 27.5, Subtotal: 22.5,
				Shipping: 3, Tax: 2, Discount: 2.5, Coupon: "hasbros", Currency: "USD",
				Items: []touchbase.OrderItem{
					{ProductID: "507f1f77bcf86cd799439011", SKU: "45790-32", Name: "Monopoly: 3rd Edition", Category: "Games", Brand: "Hasbro", Variant: "classic", Price: 19, Quantity: 1},
					{ProductID: "505bd76785ebb509fc183733", SKU: "46493-32", Name: "Uno Card Game", Category: "Games", Price: 3, Quantity: 2},
				}})},
			wantProducts: []touchbase.Product{
				{ProductID: "507f1f77bcf86cd799439011", SKU: "45790-32", Name: "Monopoly: 3rd Edition", Category: "Games", Brand: "Hasbro", Variant: "classic", Price: 19, Currency: "USD"},
				{ProductID: "505bd76785ebb509fc183733", SKU: "46493-32", Name: "Uno Card Game", Category: "Games", Price: 3, Currency: "USD"},
			},
		},
		{
			name:  "revenue falls back to total",
			event: track("Order Completed", `{"order_id":"o1","total":"40.10"}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeCompleted, Order: order(touchbase.Order{OrderID: "o1", Status: touchbase.OrderCompleted, Revenue: 40.1, Total: 40.1})},
		},
		{
			name:  "then to the items, with numeric strings, quantity 1 by default and ids from sku or id",
			event: track("order completed", `{"order_id":1234,"products":[{"sku":"S1","price":" 10.5 ","quantity":"3"},{"id":99,"price":4},{"name":"gift wrap","price":1.25}]}`),
			want: &touchbase.OrderChange{Kind: touchbase.OrderChangeCompleted, Order: order(touchbase.Order{OrderID: "1234", Status: touchbase.OrderCompleted, Revenue: 36.75,
				Items: []touchbase.OrderItem{{ProductID: "S1", SKU: "S1", Price: 10.5, Quantity: 3}, {ProductID: "99", Price: 4, Quantity: 1}, {Name: "gift wrap", Price: 1.25, Quantity: 1}}})},
			wantProducts: []touchbase.Product{{ProductID: "S1", SKU: "S1", Price: 10.5}, {ProductID: "99", Price: 4}},
		},
		{
			name:  "spec v1 names: orderId, productId; snake_case wins",
			event: track("Order Completed", `{"orderId":"v1","products":[{"productId":"p1","sku":"s1","price":2},{"product_id":"p2","productId":"x","price":3}]}`),
			want: &touchbase.OrderChange{Kind: touchbase.OrderChangeCompleted, Order: order(touchbase.Order{OrderID: "v1", Status: touchbase.OrderCompleted, Revenue: 5,
				Items: []touchbase.OrderItem{{ProductID: "p1", SKU: "s1", Price: 2, Quantity: 1}, {ProductID: "p2", Price: 3, Quantity: 1}}})},
			wantProducts: []touchbase.Product{{ProductID: "p1", SKU: "s1", Price: 2}, {ProductID: "p2", Price: 3}},
		},
		{
			name:  "order_id wins over orderId",
			event: track("Order Cancelled", `{"orderId":"camel","order_id":"snake"}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeCancelled, Order: order(touchbase.Order{OrderID: "snake", Status: touchbase.OrderCancelled})},
		},
		{
			name:  "null amounts are absent",
			event: track("Order Completed", `{"order_id":"o2","revenue":null,"total":null,"products":null,"coupon":null}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeCompleted, Order: order(touchbase.Order{OrderID: "o2", Status: touchbase.OrderCompleted})},
		},
		{
			name:  "order updated replaces what is given",
			event: track("Order Updated", `{"order_id":"o1","revenue":35,"products":[{"product_id":"p","price":35}]}`),
			want: &touchbase.OrderChange{Kind: touchbase.OrderChangeUpdated, Order: order(touchbase.Order{OrderID: "o1", Revenue: 35,
				Items: []touchbase.OrderItem{{ProductID: "p", Price: 35, Quantity: 1}}})},
		},
		{
			name:  "full refund",
			event: track("Order Refunded", `{"order_id":"o1"}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeRefunded, Order: order(touchbase.Order{OrderID: "o1"})},
		},
		{
			name:  "partial refund by total",
			event: track("Order Refunded", `{"order_id":"o1","total":12,"revenue":10,"currency":"EUR"}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeRefunded, RefundAmount: 12, Order: order(touchbase.Order{OrderID: "o1", Currency: "EUR"})},
		},
		{
			name:  "partial refund by revenue",
			event: track("Order Refunded", `{"order_id":"o1","revenue":"7.5"}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeRefunded, RefundAmount: 7.5, Order: order(touchbase.Order{OrderID: "o1"})},
		},
		{
			name:  "partial refund by products",
			event: track("Order Refunded", `{"order_id":"o1","products":[{"product_id":"p1","price":5,"quantity":2},{"product_id":"p2","price":1.5}]}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeRefunded, RefundAmount: 11.5, Order: order(touchbase.Order{OrderID: "o1"})},
		},
		{
			name:  "cancelled",
			event: track("Order Cancelled", `{"order_id":"o1","total":30}`),
			want:  &touchbase.OrderChange{Kind: touchbase.OrderChangeCancelled, Order: order(touchbase.Order{OrderID: "o1", Status: touchbase.OrderCancelled, Revenue: 30, Total: 30})},
		},
		{
			name:  "zero quantity is kept",
			event: track("Order Completed", `{"order_id":"o3","products":[{"product_id":"p","price":5,"quantity":0}]}`),
			want: &touchbase.OrderChange{Kind: touchbase.OrderChangeCompleted, Order: order(touchbase.Order{OrderID: "o3", Status: touchbase.OrderCompleted,
				Items: []touchbase.OrderItem{{ProductID: "p", Price: 5, Quantity: 0}}})},
			wantProducts: []touchbase.Product{{ProductID: "p", Price: 5}},
		},
		{
			name:  "not an order event",
			event: track("Order Shipped", `{"order_id":"o1","revenue":"n/a"}`),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := one(t, "track", tc.event)
			if !reflect.DeepEqual(m.Order, tc.want) {
				t.Errorf("order %+v\nwant  %+v", m.Order, tc.want)
			}
			if !reflect.DeepEqual(m.Products, tc.wantProducts) {
				t.Errorf("products %+v\nwant     %+v", m.Products, tc.wantProducts)
			}
		})
	}
}

func TestCatalogueProducts(t *testing.T) {
	for _, tc := range []struct {
		name, event string
		want        []touchbase.Product
	}{
		{
			name:  "product viewed",
			event: `{"event":"Product Viewed","properties":{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro","variant":"200 pieces","price":18.99,"quantity":1,"coupon":"MAYDEALS","currency":"usd","position":3,"value":18.99,"url":"https://www.example.com/product/path","image_url":"https://www.example.com/product/path.jpg"}}`,
			want: []touchbase.Product{{ProductID: "507f1f77bcf86cd799439011", SKU: "G-32", Name: "Monopoly: 3rd Edition", Category: "Games", Brand: "Hasbro",
				Variant: "200 pieces", Price: 18.99, Currency: "USD", URL: "https://www.example.com/product/path", ImageURL: "https://www.example.com/product/path.jpg"}},
		},
		{"product added, id from sku", `{"event":"Product Added","properties":{"sku":"S-1","price":"5"}}`, []touchbase.Product{{ProductID: "S-1", SKU: "S-1", Price: 5}}},
		{"product clicked, numeric id", `{"event":"Product Clicked","properties":{"id":77}}`, []touchbase.Product{{ProductID: "77"}}},
		{"spec v1's id wins over sku", `{"event":"Product Viewed","properties":{"sku":"S-1","id":"p-1"}}`, []touchbase.Product{{ProductID: "p-1", SKU: "S-1"}}},
		{"camelCase productId and imageUrl", `{"event":"Product Viewed","properties":{"productId":"p-2","id":"x","imageUrl":"https://i.test/p.png"}}`, []touchbase.Product{{ProductID: "p-2", ImageURL: "https://i.test/p.png"}}},
		{"removed", `{"event":"Product Removed","properties":{"product_id":"p"}}`, []touchbase.Product{{ProductID: "p"}}},
		{"wishlist", `{"event":"Product Added to Wishlist","properties":{"product_id":"p"}}`, []touchbase.Product{{ProductID: "p"}}},
		{"shared", `{"event":"Product Shared","properties":{"product_id":"p"}}`, []touchbase.Product{{ProductID: "p"}}},
		{"without an id: not added, not an error", `{"event":"Product Viewed","properties":{"name":"Mystery"}}`, nil},
		{"odd price: kept without it", `{"event":"Product Viewed","properties":{"product_id":"p","price":"call us","name":["x"]}}`, []touchbase.Product{{ProductID: "p"}}},
		{"no properties", `{"event":"Product Viewed"}`, nil},
		{
			name:  "cart viewed",
			event: `{"event":"Cart Viewed","properties":{"cart_id":"c","currency":"eur","products":[{"product_id":"a","price":1},{"name":"no id"},"junk",{"sku":"b","price":"bad"}]}}`,
			want:  []touchbase.Product{{ProductID: "a", Price: 1, Currency: "EUR"}, {ProductID: "b", SKU: "b", Currency: "EUR"}},
		},
		{"checkout started", `{"event":"Checkout Started","properties":{"order_id":"o","products":[{"product_id":"a"}]}}`, []touchbase.Product{{ProductID: "a"}}},
		{"product list viewed", `{"event":"Product List Viewed","properties":{"list_id":"l","products":[{"product_id":"a","category":"Games"}]}}`, []touchbase.Product{{ProductID: "a", Category: "Games"}}},
		{"products not an array", `{"event":"Cart Viewed","properties":{"products":{"product_id":"a"}}}`, nil},
		{"other events carry no products", `{"event":"Product Reviewed","properties":{"product_id":"a"}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := one(t, "track", `{"userId":"u",`+tc.event[1:])
			if !reflect.DeepEqual(m.Products, tc.want) {
				t.Errorf("products %+v\nwant     %+v", m.Products, tc.want)
			}
			if m.Order != nil {
				t.Errorf("order %+v", m.Order)
			}
		})
	}
}
