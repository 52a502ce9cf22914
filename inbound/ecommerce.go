package inbound

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/jsonscan"
)

// E-commerce, after Segment's E-commerce Spec v2. Event names are matched
// without regard to case ("order completed" counts).
//
// The snake_case names of spec v2 are read, and the camelCase ones of spec
// v1 that some SDKs still send (analytics-go's SetOrderId writes orderId):
// orderId, productId, imageUrl; the snake_case one wins when both are sent.
//
// Order events (Order Completed, Order Updated, Order Refunded, Order
// Cancelled) set Inbound.Order. They move money, so the types of their
// fields are checked: the amounts (revenue, total, subtotal, shipping,
// tax, discount, and each product's price and quantity) must be finite
// numbers or strings holding one, quantities must not be negative, and the
// text fields (order_id, coupon, currency, product ids and names, ...)
// must be strings or numbers. A violation rejects the event, naming the
// field. A field the spec leaves optional is never required: an Order
// Completed without order_id is a valid Segment call, and its order is
// keyed by the event's messageId (OrderChange.KeyedByMessageID); an Order
// Updated, Refunded or Cancelled without one names no order and is kept as
// an event only (Inbound.Order nil). Warning says so for import reports.
//
// Product links (url, image_url) are kept only when they are http or https
// URLs (touchbase.WebLink); any other is left out of the catalogue, and
// stays in the event's properties.
//
// Catalogue events (Product Viewed and friends, whose properties are one
// product; and Cart Viewed, Checkout Started, Product List Viewed and Order
// Completed, which carry a products array) set Inbound.Products. They only
// keep the catalogue current, so they are never rejected for it: a product
// whose id or price cannot be read is left out, or kept without a price.
// A product's id is product_id, else id (spec v1's name for the same
// database id, which analytics-go's SetProductId still writes), else sku.
// Products without any are not added to the catalogue.

// orderKind returns the order change an event name stands for.
func orderKind(event string) (touchbase.OrderChangeKind, bool) {
	switch {
	case strings.EqualFold(event, "Order Completed"):
		return touchbase.OrderChangeCompleted, true
	case strings.EqualFold(event, "Order Updated"):
		return touchbase.OrderChangeUpdated, true
	case strings.EqualFold(event, "Order Refunded"):
		return touchbase.OrderChangeRefunded, true
	case strings.EqualFold(event, "Order Cancelled"), strings.EqualFold(event, "Order Canceled"):
		return touchbase.OrderChangeCancelled, true
	}
	return "", false
}

// productEvent reports whether the event's properties are one product.
func productEvent(event string) bool {
	for _, name := range [...]string{"Product Viewed", "Product Clicked", "Product Added",
		"Product Removed", "Product Added to Wishlist", "Product Shared"} {
		if strings.EqualFold(event, name) {
			return true
		}
	}
	return false
}

// productsEvent reports whether the event carries a products array whose
// products go to the catalogue.
func productsEvent(event string) bool {
	for _, name := range [...]string{"Order Completed", "Cart Viewed", "Checkout Started",
		"Product List Viewed"} {
		if strings.EqualFold(event, name) {
			return true
		}
	}
	return false
}

// maxIDBytes bounds identifiers that are keys of the store (user ids,
// order ids, product ids...): longer ones would not fit an index.
const maxIDBytes = 1024

// ecommerce fills in.Order and in.Products for the e-commerce track
// events. props is the raw properties object (nil when absent).
func ecommerce(in *touchbase.Inbound, props []byte) *touchbase.FieldError {
	if kind, ok := orderKind(in.Event); ok {
		change, fe := parseOrder(kind, props, in.Timestamp)
		if fe != nil {
			return fe
		}
		if change.Order.OrderID == "" {
			if kind != touchbase.OrderChangeCompleted {
				return nil // names no order: an event only
			}
			change.Order.OrderID, change.KeyedByMessageID = in.MessageID, true
		}
		in.Order = change
		if kind == touchbase.OrderChangeCompleted {
			for i := range change.Order.Items {
				if p, ok := itemProduct(&change.Order.Items[i], change.Order.Currency); ok {
					in.Products = append(in.Products, p)
				}
			}
		}
		return nil
	}
	if props == nil {
		return nil
	}
	switch {
	case productEvent(in.Event):
		if p, ok := catalogueProduct(props, ""); ok {
			in.Products = append(in.Products, p)
		}
	case productsEvent(in.Event):
		currency := ""
		var products []byte
		it := jsonscan.NewObjectIter(props)
		var m jsonscan.Member
		for it.Next(&m) {
			switch {
			case m.Is("currency"):
				currency, _ = textValue(m.Value)
			case m.Is("products"):
				products = m.Value
			}
		}
		if len(products) == 0 || products[0] != '[' {
			return nil
		}
		ai := jsonscan.NewArrayIter(products)
		for {
			v, ok := ai.Next()
			if !ok {
				break
			}
			if p, ok := catalogueProduct(v, currency); ok {
				in.Products = append(in.Products, p)
			}
		}
	}
	return nil
}

// parseOrder reads an order event's properties. The order id is empty when
// the event gives none.
func parseOrder(kind touchbase.OrderChangeKind, props []byte, at time.Time) (*touchbase.OrderChange, *touchbase.FieldError) {
	c := &touchbase.OrderChange{Kind: kind}
	o := &c.Order
	o.PlacedAt, o.UpdatedAt = at, at
	switch kind {
	case touchbase.OrderChangeCompleted:
		o.Status = touchbase.OrderCompleted
	case touchbase.OrderChangeCancelled:
		o.Status = touchbase.OrderCancelled
	}
	if props == nil {
		return c, nil
	}
	var (
		revenue, total       float64
		hasRevenue, hasTotal bool
		products             []byte
		fe                   *touchbase.FieldError
		itemsSum             float64
		hasItems             bool
		orderIDCamel         string
		amount               = func(m *jsonscan.Member, dst *float64) { *dst, fe = moneyField(m, propertiesPath()) }
		text                 = func(m *jsonscan.Member, dst *string) { *dst, fe = textField(m, propertiesPath()) }
	)
	it := jsonscan.NewObjectIter(props)
	var m jsonscan.Member
	for it.Next(&m) {
		switch {
		case m.Is("order_id"):
			text(&m, &o.OrderID)
		case m.Is("orderId"):
			text(&m, &orderIDCamel)
		case m.Is("revenue"):
			amount(&m, &revenue)
			hasRevenue = !isNull(m.Value)
		case m.Is("total"):
			amount(&m, &total)
			hasTotal = !isNull(m.Value)
		case m.Is("subtotal"):
			amount(&m, &o.Subtotal)
		case m.Is("shipping"):
			amount(&m, &o.Shipping)
		case m.Is("tax"):
			amount(&m, &o.Tax)
		case m.Is("discount"):
			amount(&m, &o.Discount)
		case m.Is("coupon"):
			text(&m, &o.Coupon)
		case m.Is("currency"):
			text(&m, &o.Currency)
			o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
		case m.Is("products"):
			products = m.Value
		}
		if fe != nil {
			return nil, fe
		}
	}
	if o.OrderID == "" {
		o.OrderID = orderIDCamel
	}
	if len(o.OrderID) > maxIDBytes {
		return nil, fieldError("properties.order_id", "properties.order_id is %d bytes; the limit is %d", len(o.OrderID), maxIDBytes)
	}
	if products != nil && !isNull(products) {
		if products[0] != '[' {
			return nil, fieldError("properties.products", "properties.products must be an array, not %s", jsonKind(products))
		}
		ai := jsonscan.NewArrayIter(products)
		for i := 0; ; i++ {
			v, ok := ai.Next()
			if !ok {
				break
			}
			item, fe := orderItem(v, i)
			if fe != nil {
				return nil, fe
			}
			hasItems = true
			if fe := amountsInRange(item.Price*item.Quantity, itemsSum, i); fe != nil {
				return nil, fe
			}
			itemsSum += item.Price * item.Quantity
			if kind != touchbase.OrderChangeRefunded && kind != touchbase.OrderChangeCancelled {
				o.Items = append(o.Items, item)
			}
		}
	}
	o.Total = total
	switch {
	case hasRevenue:
		o.Revenue = revenue
	case hasTotal:
		o.Revenue = total
	default:
		o.Revenue = itemsSum
	}
	if kind == touchbase.OrderChangeRefunded {
		// What this event refunds: total, else revenue, else the products
		// given; 0 (nothing given) means in full. These amounts are the
		// refund's, not the order's: they go to RefundAmount only, so that
		// no store mistakes them for the order's revenue.
		switch {
		case hasTotal:
			c.RefundAmount = total
		case hasRevenue:
			c.RefundAmount = revenue
		case hasItems:
			c.RefundAmount = itemsSum
		}
		o.Revenue, o.Total, o.Subtotal, o.Shipping, o.Tax, o.Discount = 0, 0, 0, 0, 0, 0
	}
	return c, nil
}

// orderEventName returns the Segment event name of an order change.
func orderEventName(k touchbase.OrderChangeKind) string {
	switch k {
	case touchbase.OrderChangeCompleted:
		return "Order Completed"
	case touchbase.OrderChangeUpdated:
		return "Order Updated"
	case touchbase.OrderChangeRefunded:
		return "Order Refunded"
	}
	return "Order Cancelled"
}

// orderItem reads products[i] of an order event.
func orderItem(raw []byte, i int) (touchbase.OrderItem, *touchbase.FieldError) {
	var item touchbase.OrderItem
	if raw[0] != '{' {
		name := fmt.Sprintf("properties.products[%d]", i)
		return item, fieldError(name, "%s must be an object, not %s", name, jsonKind(raw))
	}
	prefix := itemPath(i)
	var (
		fe             *touchbase.FieldError
		productID, id  string
		productIDCamel string
		hasQuantity    bool
	)
	it := jsonscan.NewObjectIter(raw)
	var m jsonscan.Member
	for it.Next(&m) {
		switch {
		case m.Is("product_id"):
			productID, fe = textField(&m, prefix)
		case m.Is("productId"):
			productIDCamel, fe = textField(&m, prefix)
		case m.Is("sku"):
			item.SKU, fe = textField(&m, prefix)
		case m.Is("id"):
			id, fe = textField(&m, prefix)
		case m.Is("name"):
			item.Name, fe = textField(&m, prefix)
		case m.Is("category"):
			item.Category, fe = textField(&m, prefix)
		case m.Is("brand"):
			item.Brand, fe = textField(&m, prefix)
		case m.Is("variant"):
			item.Variant, fe = textField(&m, prefix)
		case m.Is("price"):
			item.Price, fe = moneyField(&m, prefix)
		case m.Is("quantity"):
			item.Quantity, fe = moneyField(&m, prefix)
			hasQuantity = !isNull(m.Value)
			if fe == nil && item.Quantity < 0 {
				fe = fieldError(prefix.to("quantity"), "%s must not be negative, got %s", prefix.to("quantity"), m.Value)
			}
		}
		if fe != nil {
			return item, fe
		}
	}
	if !hasQuantity {
		item.Quantity = 1
	}
	item.ProductID = firstNonEmpty(productID, productIDCamel, id, item.SKU)
	if len(item.ProductID) > maxIDBytes {
		return item, fieldError(prefix.to("product_id"), "%s is %d bytes; the limit is %d", prefix.to("product_id"), len(item.ProductID), maxIDBytes)
	}
	return item, nil
}

// itemProduct returns the catalogue product an order item describes.
func itemProduct(it *touchbase.OrderItem, currency string) (touchbase.Product, bool) {
	if it.ProductID == "" {
		return touchbase.Product{}, false
	}
	return touchbase.Product{
		ProductID: it.ProductID, SKU: it.SKU, Name: it.Name, Category: it.Category,
		Brand: it.Brand, Variant: it.Variant, Price: it.Price, Currency: currency,
	}, true
}

// catalogueProduct reads a product object leniently (see the file comment).
func catalogueProduct(raw []byte, currency string) (touchbase.Product, bool) {
	var p touchbase.Product
	if len(raw) == 0 || raw[0] != '{' {
		return p, false
	}
	var productID, productIDCamel, id string
	it := jsonscan.NewObjectIter(raw)
	var m jsonscan.Member
	for it.Next(&m) {
		switch {
		case m.Is("product_id"):
			productID, _ = textValue(m.Value)
		case m.Is("productId"):
			productIDCamel, _ = textValue(m.Value)
		case m.Is("sku"):
			p.SKU, _ = textValue(m.Value)
		case m.Is("id"):
			id, _ = textValue(m.Value)
		case m.Is("name"):
			p.Name, _ = textValue(m.Value)
		case m.Is("category"):
			p.Category, _ = textValue(m.Value)
		case m.Is("brand"):
			p.Brand, _ = textValue(m.Value)
		case m.Is("variant"):
			p.Variant, _ = textValue(m.Value)
		case m.Is("price"):
			p.Price, _ = amountValue(m.Value)
		case m.Is("url"):
			p.URL = linkValue(m.Value)
		case m.Is("image_url"):
			p.ImageURL = linkValue(m.Value)
		case m.Is("imageUrl"):
			if p.ImageURL == "" {
				p.ImageURL = linkValue(m.Value)
			}
		case m.Is("currency"):
			if currency == "" {
				currency, _ = textValue(m.Value)
			}
		}
	}
	p.ProductID = firstNonEmpty(productID, productIDCamel, id, p.SKU)
	p.Currency = strings.ToUpper(strings.TrimSpace(currency))
	if p.ProductID == "" || len(p.ProductID) > maxIDBytes {
		return p, false
	}
	return p, true
}

// linkValue reads a link: a string holding an http or https URL, else "".
func linkValue(raw []byte) string {
	if raw[0] != '"' {
		return ""
	}
	return touchbase.WebLink(jsonscan.Unquote(raw))
}

// Warning says what Parse made of a valid track event otherwise than it
// was sent, for import reports: an Order Completed without order_id whose
// order is keyed by its messageId, or another order event without one,
// kept as an event only. It returns nil for every other inbound.
func Warning(in *touchbase.Inbound) *touchbase.FieldError {
	if in.Type != touchbase.EventTrack {
		return nil
	}
	kind, ok := orderKind(in.Event)
	switch {
	case !ok:
		return nil
	case in.Order == nil:
		return fieldError("properties.order_id", "%s without properties.order_id names no order: kept as an event only", orderEventName(kind))
	case in.Order.KeyedByMessageID:
		return fieldError("properties.order_id", "%s without properties.order_id: the order is keyed by its messageId %q", orderEventName(kind), in.MessageID)
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// textValue reads a string, or a number as its literal; null is "".
func textValue(raw []byte) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		return jsonscan.Unquote(raw), true
	case c == 'n':
		return "", true
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), true
	}
	return "", false
}

// amountsInRange checks that products[i]'s price × quantity, and the sum
// of the products up to it, are amounts touchbase stores (see
// touchbase.MaxNumber): each factor is within the bound, their product
// need not be.
func amountsInRange(line, before float64, i int) *touchbase.FieldError {
	if !touchbase.NumberInRange(line) {
		name := fmt.Sprintf("properties.products[%d]", i)
		return fieldError(name, "%s: price × quantity is %g: amounts, like %s", name, line, touchbase.NumberRange)
	}
	if sum := before + line; !touchbase.NumberInRange(sum) {
		return fieldError("properties.products", "properties.products: price × quantity adds up to %g by products[%d]: amounts, like %s", sum, i, touchbase.NumberRange)
	}
	return nil
}

// amountValue reads a number within ±touchbase.MaxNumber, or a string
// holding one; null is 0.
func amountValue(raw []byte) (float64, bool) {
	switch c := raw[0]; {
	case c == 'n':
		return 0, true
	case c == '"':
		s := strings.TrimSpace(jsonscan.Unquote(raw))
		if !jsonscan.IsNumber([]byte(s)) {
			return 0, false
		}
		raw = []byte(s)
	case c == '-' || (c >= '0' && c <= '9'):
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || !touchbase.NumberInRange(f) {
		return 0, false
	}
	return f, true
}

// path is where the fields being read are, for error messages: the
// properties (item < 0) or properties.products[item]. Paths are built only
// for errors.
type path struct{ item int }

func propertiesPath() path { return path{item: -1} }
func itemPath(i int) path  { return path{item: i} }

func (p path) to(key string) string {
	if p.item < 0 {
		return "properties." + key
	}
	return fmt.Sprintf("properties.products[%d].%s", p.item, key)
}

func textField(m *jsonscan.Member, prefix path) (string, *touchbase.FieldError) {
	s, ok := textValue(m.Value)
	if !ok {
		name := prefix.to(m.Name())
		return "", fieldError(name, "%s must be a string, not %s", name, jsonKind(m.Value))
	}
	return s, nil
}

func moneyField(m *jsonscan.Member, prefix path) (float64, *touchbase.FieldError) {
	f, ok := amountValue(m.Value)
	if !ok {
		name := prefix.to(m.Name())
		if m.Value[0] == '"' && !jsonscan.IsNumber([]byte(strings.TrimSpace(jsonscan.Unquote(m.Value)))) {
			return 0, fieldError(name, "%s must be a number, got the string %s", name, clip(m.Value))
		}
		if m.Value[0] == '"' || m.Value[0] == '-' || (m.Value[0] >= '0' && m.Value[0] <= '9') {
			return 0, fieldError(name, "%s is %s: %s", name, clip(m.Value), touchbase.NumberRange)
		}
		return 0, fieldError(name, "%s must be a number, not %s", name, jsonKind(m.Value))
	}
	return f, nil
}
