package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// One visit, as analytics.js reports it: a landing page, collections
// (Product List Viewed), products (Product Viewed), and for the visits
// that fill a cart, Product Added, the cart, the checkout and maybe the
// order. Browsing always precedes buying: only products viewed in the
// visit go in the cart. Pages are a few seconds to a few minutes apart.

// visit writes one visit.
func (g *generator) visit(v *visit) {
	c, rng := &g.c, g.rng
	t := v.at
	c.viewed = c.viewed[:0]
	c.cart = c.cart[:0]
	if c.signedUp && v.kind != bounce && rng.Float64() < 0.15 {
		// A new phone or computer: anonymous until they log in. (Not on
		// a visit that bounces: that browser would stay a separate
		// anonymous profile, and the demo's people would not match its
		// profiles.)
		c.anonID = uuid(rng)
		c.deviceKnown = false
	}
	g.traffic(rng)

	// Landing: the home page, or the collection an ad pointed to.
	list := -1
	if c.campaign != nil && c.campaign.medium != "" && rng.Float64() < 0.6 {
		list = c.fav
		g.listView(t, list)
	} else {
		g.page(t, "Home", "Home", "/", c.campaign.referrerOrNone())
	}
	c.campaign = nil
	if v.kind == bounce {
		if rng.Float64() < 0.4 {
			t = g.step(t)
			g.productView(t, g.cat.product(rng, c.fav))
		}
		return
	}
	if c.signedUp && !c.deviceKnown {
		t = g.step(t)
		g.identify(t, false)
	}
	if v.signup && v.kind < checkoutAbandoned {
		t = g.step(t)
		g.identify(t, true)
	}
	if (list < 0 && rng.Float64() < 0.75) || rng.Float64() < 0.2 {
		list = c.fav
		if rng.Float64() < 0.45 {
			list = g.cat.category(rng)
		}
		t = g.step(t)
		g.listView(t, list)
	}
	if list < 0 {
		list = c.fav // arrived at a product from the home page
	}
	views := 1 + geometric(rng, 0.55)
	if v.kind >= cartAbandoned {
		views++
	}
	for range views {
		t = g.step(t)
		ci := list
		if rng.Float64() < 0.3 {
			ci = g.cat.category(rng)
		}
		g.productView(t, g.cat.product(rng, ci))
	}
	if v.kind == browse {
		return
	}

	// The cart: the first viewed product, and each further one with the
	// person's basket propensity.
	c.carts++
	cartID := g.id('C', c.carts)
	for i, p := range c.viewed {
		if i > 0 && (rng.Float64() >= c.basket || len(c.cart) == 4) {
			continue
		}
		if inCart(c.cart, p) {
			continue
		}
		q := 1
		if u := rng.Float64(); c.gifter && u < 0.5 {
			q = 2 + rng.IntN(3) // one for everyone on the list
		} else if u < 0.04 {
			q = 3
		} else if u < 0.14 {
			q = 2
		}
		c.cart = append(c.cart, cartLine{product: p, quantity: q})
		t = g.step(t)
		g.productAdded(t, cartID, c.cart[len(c.cart)-1])
	}
	if v.kind == cartAbandoned {
		if rng.Float64() < 0.5 {
			t = g.step(t)
			g.cartViewed(t, cartID)
		}
		return
	}
	t = g.step(t)
	g.cartViewed(t, cartID)
	orderID := g.id('O', c.orders+1)
	t = g.step(t)
	g.checkoutStarted(t, orderID)
	if v.signup {
		t = g.step(t)
		g.identify(t, true)
	}
	if v.kind == checkoutAbandoned {
		return
	}
	t = g.step(t)
	g.order(t, orderID)
	t = g.step(t)
	g.page(t, "Order Confirmation", "Thank you", "/checkout/thank-you", "")
}

// referrerOrNone is the referrer of a landing page ("" for none, or when
// the visit came from a campaign).
func (c *campaign) referrerOrNone() string {
	if c == nil {
		return ""
	}
	return c.referrer
}

// traffic draws where the visit comes from.
func (g *generator) traffic(rng *rand.Rand) {
	c := &g.c
	u := rng.Float64()
	for i := range trafficSources {
		s := &trafficSources[i]
		u -= s.weight
		if u >= 0 {
			continue
		}
		if s.c.medium == "email" && !(c.signedUp && c.consent == "subscribed") {
			break // only subscribers get the newsletter: direct instead
		}
		if s.c != (campaign{}) {
			c.campaign = &s.c
		}
		return
	}
	c.campaign = nil
}

// step returns the time of the next event: seconds to a few minutes on.
func (g *generator) step(t time.Time) time.Time {
	d := 4 + g.rng.ExpFloat64()*30
	return t.Add(time.Duration(min(d, 240) * float64(time.Second)))
}

// who is the identity the current browser sends.
func (g *generator) who() int {
	if g.c.signedUp && g.c.deviceKnown {
		return asUser
	}
	return asVisitor
}

// id returns the customer's nth id of a kind (C for carts, O for orders):
// unique per seed and customer.
func (g *generator) id(kind byte, n int) string {
	b := make([]byte, 0, 24)
	b = append(b, kind)
	b = strconv.AppendInt(b, g.cfg.Seed, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(g.c.idx), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(n), 10)
	return string(b)
}

func (g *generator) page(t time.Time, name, title, path, referrer string) {
	who := g.who()
	g.begin("page", t, who)
	l := &g.ln
	l.str("name", name)
	l.beginObject("properties")
	l.str("path", path)
	l.str("url", storeURL+path)
	l.key("title")
	l.b = appendString(l.b, title)
	l.b = append(l.b[:len(l.b)-1], " – "+storeName+`"`...) // no allocation per page
	l.strIf("referrer", referrer)
	l.endObject()
	g.end(who)
}

// listView writes a collection page and its Product List Viewed: the
// collection's products in popularity order, a page of six.
func (g *generator) listView(t time.Time, ci int) {
	path := categorySlug(ci)
	name := categorySpecs[ci].name
	g.page(t, "Collection", name, path, g.c.campaign.referrerOrNone())
	t = t.Add(time.Duration(300+g.rng.IntN(1500)) * time.Millisecond)
	who := g.who()
	g.begin("track", t, who)
	l := &g.ln
	l.str("event", "Product List Viewed")
	l.beginObject("properties")
	l.str("list_id", slug(name))
	l.str("category", name)
	l.beginArray("products")
	all := g.cat.byCat[ci]
	from := 0
	if len(all) > 12 && g.rng.Float64() < 0.25 {
		from = 6 // the second page
	}
	for i, p := range all[from:min(from+6, len(all))] {
		l.beginObject("")
		g.productFields(p)
		l.int("position", from+i+1)
		l.endObject()
	}
	l.endArray()
	l.endObject()
	g.end(who)
}

// productFields writes a product's spec fields into the open object.
func (g *generator) productFields(p int) {
	l := &g.ln
	pr := &g.cat.products[p]
	l.str("product_id", pr.ProductID)
	l.str("sku", pr.SKU)
	l.str("name", pr.Name)
	l.str("category", pr.Category)
	l.str("brand", pr.Brand)
	l.money("price", cents(pr.Price))
	g.seen[p] = true
}

func (g *generator) productView(t time.Time, p int) {
	g.page(t, "Product", g.cat.products[p].Name, g.cat.slugs[p], "")
	t = t.Add(time.Duration(200+g.rng.IntN(1200)) * time.Millisecond)
	who := g.who()
	g.begin("track", t, who)
	l := &g.ln
	l.str("event", "Product Viewed")
	l.beginObject("properties")
	g.productFields(p)
	l.str("currency", "USD")
	l.str("url", storeURL+g.cat.slugs[p])
	l.endObject()
	g.end(who)
	if !inViewed(g.c.viewed, p) {
		g.c.viewed = append(g.c.viewed, p)
	}
}

func (g *generator) productAdded(t time.Time, cartID string, line cartLine) {
	who := g.who()
	g.begin("track", t, who)
	l := &g.ln
	l.str("event", "Product Added")
	l.beginObject("properties")
	l.str("cart_id", cartID)
	g.productFields(line.product)
	l.int("quantity", line.quantity)
	l.str("currency", "USD")
	l.endObject()
	g.end(who)
}

// cartProducts writes the cart as a products array.
func (g *generator) cartProducts() {
	l := &g.ln
	l.beginArray("products")
	for _, line := range g.c.cart {
		l.beginObject("")
		g.productFields(line.product)
		l.int("quantity", line.quantity)
		l.endObject()
	}
	l.endArray()
}

func (g *generator) cartViewed(t time.Time, cartID string) {
	g.page(t, "Cart", "Your cart", "/cart", "")
	who := g.who()
	g.begin("track", t.Add(400*time.Millisecond), who)
	l := &g.ln
	l.str("event", "Cart Viewed")
	l.beginObject("properties")
	l.str("cart_id", cartID)
	g.cartProducts()
	l.endObject()
	g.end(who)
}

func (g *generator) checkoutStarted(t time.Time, orderID string) {
	// The checkout is often a hosted page that sends no page call.
	who := g.who()
	g.begin("track", t, who)
	l := &g.ln
	l.str("event", "Checkout Started")
	l.beginObject("properties")
	l.str("order_id", orderID)
	l.money("value", g.subtotal())
	l.str("currency", "USD")
	g.cartProducts()
	l.endObject()
	g.end(who)
}

func (g *generator) subtotal() int64 {
	var s int64
	for _, line := range g.c.cart {
		s += cents(g.cat.products[line.product].Price) * int64(line.quantity)
	}
	return s
}

// identify writes a sign-up (all the traits the shop knows) or a log-in
// on a new browser (the email only). Either ties the browser's anonymous
// id to the user id.
func (g *generator) identify(t time.Time, signup bool) {
	c := &g.c
	c.signedUp, c.deviceKnown = true, true
	g.begin("identify", t, asUser)
	l := &g.ln
	l.beginObject("traits")
	l.str("email", c.email)
	if signup {
		l.str("first_name", c.first)
		l.str("last_name", c.last)
		l.strIf("phone", c.phone)
		l.str("country", c.ctry.code)
		l.str("timezone", c.zone)
		l.strIf("birthday", c.birthday)
		l.time("created_at", t)
		l.str("email_consent", c.consent)
		l.strIf("sms_consent", c.sms)
		if c.consent == "subscribed" && g.rng.Float64() < 0.15 {
			// Some subscribers unsubscribe later, from an email.
			g.schedule(later{at: t.Add(time.Duration((3 + g.rng.ExpFloat64()*150) * float64(24*time.Hour))), what: unsubscribe})
		}
	}
	l.endObject()
	g.end(asUser)
}

func cents(price float64) int64 { return int64(math.Round(price * 100)) }

func inCart(cart []cartLine, p int) bool {
	for _, l := range cart {
		if l.product == p {
			return true
		}
	}
	return false
}

func inViewed(viewed []int, p int) bool {
	for _, v := range viewed {
		if v == p {
			return true
		}
	}
	return false
}

// geometric draws the number of failures before the first success of
// probability p.
func geometric(rng *rand.Rand, p float64) int {
	n := 0
	for rng.Float64() >= p && n < 20 {
		n++
	}
	return n
}
