package demo

import (
	"time"
)

// Orders: the cart's products at catalogue prices, a coupon now and then
// (a welcome offer for new subscribers, the Black Friday code, the
// Christmas code, a thank-you for regulars), free shipping over a
// threshold, and the tax of the customer's country. Amounts are kept in
// cents so that the summary's revenue is exact. Segment's revenue is the
// subtotal less the discount; total adds shipping and tax.

// Thresholds and rates of the shop's shipping, in cents.
const (
	domesticShipping      = 595
	domesticFreeOver      = 7500
	internationalShip     = 1495
	internationalFreeOver = 15000
)

// Order outcomes that are rare but real.
const (
	cancelRate = 0.006 // cancelled within hours (payment failed, changed their mind)
	refundRate = 0.045 // returned within weeks
)

// coupon returns the code and percentage a new order uses, if any.
func (g *generator) coupon(t time.Time) (string, int) {
	c, rng := &g.c, g.rng
	s := season(t.In(c.loc))
	switch {
	case c.orders == 0 && c.consent == "subscribed" && rng.Float64() < 0.5:
		return "WELCOME10", 10
	case s >= 2.2 && rng.Float64() < 0.55:
		return "BFCM25", 25
	case s == 1.7 && rng.Float64() < 0.2:
		return "HOLIDAY15", 15
	case c.orders >= 3 && rng.Float64() < 0.2:
		return "THANKYOU20", 20
	case rng.Float64() < 0.03:
		return "FREESHIP", 0
	}
	return "", 0
}

// order writes Order Completed for the cart and schedules what may happen
// to it later.
func (g *generator) order(t time.Time, orderID string) {
	c, rng := &g.c, g.rng
	code, pct := g.coupon(t)
	subtotal := g.subtotal()
	discount := subtotal * int64(pct) / 100
	revenue := subtotal - discount
	shipping := int64(domesticShipping)
	free := int64(domesticFreeOver)
	if !c.ctry.domestic {
		shipping, free = internationalShip, internationalFreeOver
	}
	if revenue >= free || code == "FREESHIP" {
		shipping = 0
	}
	tax := int64(float64(revenue)*c.ctry.taxRate + 0.5)
	total := revenue + shipping + tax

	g.begin("track", t, asUser)
	l := &g.ln
	l.str("event", "Order Completed")
	l.beginObject("properties")
	l.str("order_id", orderID)
	l.str("affiliation", "Online Store")
	l.money("total", total)
	l.money("revenue", revenue)
	l.money("subtotal", subtotal)
	l.money("shipping", shipping)
	l.money("tax", tax)
	l.money("discount", discount)
	l.strIf("coupon", code)
	l.str("currency", "USD")
	g.cartProducts()
	l.endObject()
	g.end(asUser)
	c.orders++
	g.sum.Orders++
	g.revenue += revenue

	switch u := rng.Float64(); {
	case u < cancelRate:
		g.schedule(later{at: t.Add(time.Duration(30+rng.IntN(330)) * time.Minute), what: cancelOrder, orderID: orderID, amount: revenue})
	case u < cancelRate+refundRate:
		at := t.Add(time.Duration((5 + rng.Float64()*30) * float64(24*time.Hour)))
		if len(c.cart) > 1 && rng.Float64() < 0.4 {
			// One line returned: its share of the discounted revenue.
			line := c.cart[rng.IntN(len(c.cart))]
			amount := cents(g.cat.products[line.product].Price) * int64(line.quantity) * revenue / subtotal
			g.schedule(later{at: at, what: refundOrder, orderID: orderID, amount: amount})
		} else {
			g.schedule(later{at: at, what: refundOrder, orderID: orderID, amount: revenue, full: true})
		}
	}
}
