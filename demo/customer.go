package demo

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// A customer's life: they arrive on a date the calendar draws (growth,
// season, weekday), then come back at their own rate while they stay
// interested; after each visit they may drift away for good (a geometric
// number of visits, as in the BG/NBD model of customer lifetimes). Each
// person has their own propensities: how often a visit puts something in
// the cart, how often a cart is bought, how big the basket is. Those
// differences, not noise, make the heavy-tailed revenue, the one-time
// buyers and the lapsed customers.

type visitKind uint8

const (
	bounce            visitKind = iota // one page, maybe two
	browse                             // collections and products, no cart
	cartAbandoned                      // added to the cart, left before the checkout
	checkoutAbandoned                  // started the checkout, did not pay
	purchase                           // an order
)

type visit struct {
	at     time.Time
	kind   visitKind
	signup bool // the person creates their account during this visit
}

// later is something that happens after a visit, away from the site: the
// shop's backend cancelling or refunding an order, an unsubscribe link
// clicked in an email.
type later struct {
	at      time.Time
	what    laterKind
	orderID string
	amount  int64 // cents: the order's revenue, or what a refund returns
	full    bool  // a refund of the whole order
}

type laterKind uint8

const (
	cancelOrder laterKind = iota
	refundOrder
	unsubscribe
)

type cartLine struct {
	product  int
	quantity int
}

// campaign is where a visit came from, as UTM parameters.
type campaign struct{ name, source, medium, referrer string }

var trafficSources = []struct {
	c      campaign
	weight float64
}{
	{campaign{referrer: "https://www.google.com/"}, 0.33}, // organic search
	{campaign{}, 0.25}, // direct
	{campaign{"brand", "google", "cpc", ""}, 0.12}, // paid search
	{campaign{"spring-lookbook", "instagram", "paid_social", ""}, 0.08},
	{campaign{"retargeting", "facebook", "paid_social", ""}, 0.06},
	{campaign{"weekly-newsletter", "newsletter", "email", ""}, 0.12}, // subscribers only
	{campaign{"gift-guide", "pinterest", "social", ""}, 0.04},
}

// customer is the state of the person being generated. Its slices are
// reused from one customer to the next.
type customer struct {
	idx  int
	msgs int // messages written so far, for message ids

	ctry     *country
	zone     string
	loc      *time.Location
	locale   string
	ua       string
	userID   string
	anonID   string
	first    string
	last     string
	email    string
	phone    string
	birthday string
	consent  string // email_consent at sign-up
	sms      string // sms_consent at sign-up, "" without a phone

	knows       bool // signs up at some point
	signedUp    bool
	deviceKnown bool // the current browser is logged in
	fav         int  // favourite category
	gifter      bool // buys several of a thing, for others

	gap    float64 // mean days between candidate visits
	stay   float64 // probability of coming back after a visit
	cartP  float64 // probability that a visit fills the cart
	buyP   float64 // probability that a cart at the checkout is bought
	basket float64 // probability of each further item in an order

	orders   int
	carts    int
	campaign *campaign // the current visit's source, for its landing page

	plan    []visit
	pending []later
	viewed  []int
	cart    []cartLine
}

// maxVisits bounds one person's visits: the most loyal customers come back
// every week or so for two years.
const maxVisits = 150

// customer generates person i's whole history.
func (g *generator) customer(i int) {
	g.seedCustomer(i)
	rng := g.rng
	c := &g.c
	*c = customer{idx: i, plan: c.plan[:0], pending: c.pending[:0], viewed: c.viewed[:0], cart: c.cart[:0]}

	c.ctry = drawCountry(rng)
	c.zone = drawZone(rng, c.ctry)
	c.loc = g.zones[c.zone]
	c.locale = drawLocale(rng, c.ctry)
	c.ua = drawUserAgent(rng)
	c.anonID = uuid(rng)
	c.fav = g.cat.category(rng)

	// About three in four people sign up; the rest browse and leave.
	c.knows = rng.Float64() < 0.76
	if c.knows {
		c.gap = gamma(rng, 1.3, 14)
		c.stay = beta(rng, 1.3, 1.7)
		c.cartP = beta(rng, 1.8, 1.8)
		c.buyP = beta(rng, 2.0, 4.4)
		c.basket = beta(rng, 0.8, 2)
		c.gifter = rng.Float64() < 0.1
		g.person(rng)
	} else {
		c.gap = gamma(rng, 1.3, 10)
		c.stay = beta(rng, 1, 2.2)
		c.cartP = beta(rng, 1, 6)
	}
	g.planVisits(rng)

	for vi := range c.plan {
		g.flush(c.plan[vi].at)
		g.visit(&c.plan[vi])
	}
	g.flush(g.cfg.End)
	if c.signedUp {
		g.sum.Identified++
	} else {
		g.sum.Anonymous++
	}
	g.sum.Customers++
}

// person draws who someone who signs up is: name, email, phone, birthday,
// consent.
func (g *generator) person(rng *rand.Rand) {
	c := &g.c
	names := c.ctry.names
	c.first = names.first[rng.IntN(len(names.first))]
	c.last = names.last[rng.IntN(len(names.last))]
	c.email = email(rng, c.first, c.last, c.idx)
	c.userID = "u" + strconv.Itoa(1_000_000+c.idx)
	if c.ctry.code == "US" || c.ctry.code == "CA" {
		if rng.Float64() < 0.45 {
			c.phone = phone(c.idx)
			c.sms = "not_subscribed"
			if rng.Float64() < 0.3 {
				c.sms = "subscribed"
			}
		}
	}
	if rng.Float64() < 0.82 {
		// Ages skew to the late twenties to forties, as an online shop's
		// buyers do.
		age := 18 + int(gamma(rng, 3, 20))
		born := g.cal.end.AddDate(-min(age, 85), 0, -rng.IntN(365))
		c.birthday = born.Format(time.DateOnly)
	}
	c.consent = "not_subscribed"
	if rng.Float64() < 0.52 {
		c.consent = "subscribed"
	}
}

// planVisits draws the times and kinds of the person's visits.
func (g *generator) planVisits(rng *rand.Rand) {
	c, cal := &g.c, g.cal
	limit := cal.end.Add(-3 * time.Hour) // a visit ends before the history does
	var t time.Time
	for try := 0; try < 8; try++ {
		t = cal.at(rng, cal.acquisitionDay(rng), c.loc)
		if t.Before(limit) {
			break
		}
	}
	if !t.Before(limit) {
		t = limit.Add(-time.Duration(rng.IntN(3600)) * time.Second)
	}
	bought := false
	for {
		kind := g.visitKind(rng)
		c.plan = append(c.plan, visit{at: t, kind: kind})
		bought = bought || kind == purchase
		// A good purchase brings people back: buyers stay longer.
		stay := c.stay
		if bought {
			stay += (1 - stay) * loyalty
		}
		if len(c.plan) == maxVisits || rng.Float64() >= stay {
			break
		}
		next, ok := g.nextVisit(rng, t, limit)
		if !ok {
			break
		}
		t = next
	}
	if c.knows {
		// People sign up at their first checkout, or earlier for the
		// newsletter or an account; someone who will sign up and never
		// reaches a checkout does it on their last visit.
		s := len(c.plan) - 1
		for i := range c.plan {
			if c.plan[i].kind >= checkoutAbandoned || rng.Float64() < 0.2 {
				s = i
				break
			}
		}
		if c.plan[s].kind == bounce {
			c.plan[s].kind = browse
		}
		c.plan[s].signup = true
	}
}

// loyalty is how much of the chance of drifting away a first purchase
// removes.
const loyalty = 0.85

// visitKind draws what a visit does, by the person's propensities.
func (g *generator) visitKind(rng *rand.Rand) visitKind {
	c := &g.c
	switch {
	case rng.Float64() < 0.3:
		return bounce
	case rng.Float64() >= c.cartP:
		return browse
	case !c.knows:
		return cartAbandoned // no account, no checkout
	case rng.Float64() < c.buyP:
		return purchase
	case rng.Float64() < 0.45:
		return cartAbandoned
	}
	return checkoutAbandoned
}

// nextVisit draws the next visit after prev: candidate times come at the
// person's own rate and are kept in proportion to how busy their day is
// (thinning), so that returning customers follow the season and the week
// too. The hour is redrawn from the daily curve.
func (g *generator) nextVisit(rng *rand.Rand, prev, limit time.Time) (time.Time, bool) {
	c, cal := &g.c, g.cal
	t := prev
	for {
		t = t.Add(time.Duration(rng.ExpFloat64() * c.gap * float64(24*time.Hour)))
		if !t.Before(limit) {
			return t, false
		}
		d := cal.day(t, c.loc)
		if rng.Float64() >= cal.busy(d) {
			continue
		}
		at := cal.at(rng, d, c.loc)
		if earliest := prev.Add(3 * time.Hour); at.Before(earliest) {
			at = earliest.Add(time.Duration(rng.IntN(7200)) * time.Second)
		}
		return at, at.Before(limit)
	}
}

// schedule adds something that happens later, keeping pending in time
// order; it is dropped when it falls after the history.
func (g *generator) schedule(l later) {
	if !l.at.Before(g.cfg.End) {
		return
	}
	c := &g.c
	i := len(c.pending)
	c.pending = append(c.pending, l)
	for i > 0 && c.pending[i-1].at.After(l.at) {
		c.pending[i] = c.pending[i-1]
		i--
	}
	c.pending[i] = l
}

// flush writes what was scheduled before t.
func (g *generator) flush(t time.Time) {
	c := &g.c
	n := 0
	for n < len(c.pending) && c.pending[n].at.Before(t) {
		g.writeLater(&c.pending[n])
		n++
	}
	c.pending = append(c.pending[:0], c.pending[n:]...)
}

func (g *generator) writeLater(l *later) {
	l2 := &g.ln
	switch l.what {
	case unsubscribe:
		g.begin("identify", l.at, asServer)
		l2.beginObject("traits")
		l2.str("email", g.c.email)
		l2.str("email_consent", "unsubscribed")
		l2.endObject()
		g.end(asServer)
		g.c.consent = "unsubscribed" // no more newsletter visits
	case cancelOrder:
		g.begin("track", l.at, asServer)
		l2.str("event", "Order Cancelled")
		l2.beginObject("properties")
		l2.str("order_id", l.orderID)
		l2.str("currency", "USD")
		l2.endObject()
		g.end(asServer)
		g.sum.Orders--
		g.sum.Cancelled++
		g.revenue -= l.amount
	case refundOrder:
		g.begin("track", l.at, asServer)
		l2.str("event", "Order Refunded")
		l2.beginObject("properties")
		l2.str("order_id", l.orderID)
		if !l.full {
			// A partial refund says how much; a full one need not.
			l2.money("total", l.amount)
		}
		l2.str("currency", "USD")
		l2.endObject()
		g.end(asServer)
		g.sum.Refunds++
		g.revenue -= l.amount
	}
}

// uuid returns a random version 4 UUID from rng, as analytics.js makes
// anonymous ids.
func uuid(rng *rand.Rand) string {
	var b [36]byte
	hi, lo := rng.Uint64(), rng.Uint64()
	hi = hi&^(0xf<<12) | 4<<12   // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	src := [16]byte{}
	for i := range 8 {
		src[i] = byte(hi >> (56 - 8*i))
		src[8+i] = byte(lo >> (56 - 8*i))
	}
	j := 0
	for i, x := range src {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigit[x>>4], hexDigit[x&0xf]
		j += 2
	}
	return string(b[:])
}
