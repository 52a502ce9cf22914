package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// The generator makes a store's worth of customers and events from a seed
// alone: customer k's profile and events come from a generator seeded with
// (seed, k), so the same store can be written to SQLite, PostgreSQL and
// DuckDB, or one customer regenerated, without keeping anything in memory.
//
// Shapes: each customer signs up at some point in the two years before
// as-of and is active until as-of (half of them) or until they churned.
// Activity is heavy-tailed (log-normal events per customer, mean about
// 20, a few customers with thousands). Activity comes in sessions: product
// views in a favourite category or a popular one, sometimes a cart, a
// checkout and an order (revenue a multiple of 0.25, so that every sum is
// exact in float64 whatever the order of addition); subscribers also open
// emails and click their links.

// Event names, in the order of the kind field.
var eventNames = []string{"Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Email Opened", "Email Link Clicked"}

const (
	evViewed = iota
	evAdded
	evCheckout
	evOrder
	evOpened
	evClicked
)

var categories = []string{"Electronics", "Fashion", "Home", "Books", "Beauty", "Sports", "Toys", "Garden", "Grocery", "Music"}

// countries with their population weights and time zones.
var countries = []struct {
	code   string
	weight float64
	zones  []string
}{
	{"US", 30, []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}},
	{"DE", 12, []string{"Europe/Berlin"}},
	{"GB", 10, []string{"Europe/London"}},
	{"FR", 8, []string{"Europe/Paris"}},
	{"CA", 5, []string{"America/Toronto", "America/Vancouver"}},
	{"NL", 4, []string{"Europe/Amsterdam"}},
	{"ES", 4, []string{"Europe/Madrid"}},
	{"IT", 4, []string{"Europe/Rome"}},
	{"PL", 3, []string{"Europe/Warsaw"}},
	{"BR", 6, []string{"America/Sao_Paulo"}},
	{"JP", 5, []string{"Asia/Tokyo"}},
	{"AU", 4, []string{"Australia/Sydney"}},
	{"IN", 5, []string{"Asia/Kolkata"}},
}

// genCustomer is one generated profile with its features, which are
// consistent with its events (as ingestion keeps them).
type genCustomer struct {
	ID              int64
	UserID, Email   string
	Country         string
	Timezone        string // "" for none
	Birthday        string // "" for none
	Subscribed      bool
	Orders          int
	Revenue         float64
	FirstOrderAt    int64 // 0: none
	LastOrderAt     int64
	FirstSeenAt     int64
	LastSeenAt      int64
	Events          int
	CreatedAt       int64
	traitsJSON      string
	favourite, seed int
}

// genEvent is one generated event.
type genEvent struct {
	Kind     uint8 // index in eventNames
	TS       int64 // Unix ms
	Category string
	Revenue  float64 // Order Completed, Product Added (price), Checkout Started
	Campaign int
	OrderSeq int
}

// generator yields customer 1..n in order.
type generator struct {
	seed      uint64
	customers int
	asOf      int64
	cumW      []float64
	catW      []float64
}

func newGenerator(seed uint64, customers int, asOf time.Time) *generator {
	g := &generator{seed: seed, customers: customers, asOf: asOf.UnixMilli()}
	total := 0.0
	for _, c := range countries {
		total += c.weight
		g.cumW = append(g.cumW, total)
	}
	// Category popularity falls off as 1/(rank+1).
	total = 0
	for k := range categories {
		total += 1 / float64(k+1)
		g.catW = append(g.catW, total)
	}
	return g
}

func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

const (
	msDay  = int64(24 * time.Hour / time.Millisecond)
	msMin  = int64(time.Minute / time.Millisecond)
	spread = 730 * msDay // the store's history: two years
)

// customer generates customer id (1-based) and its events, ascending by
// timestamp, appending the events to evs[:0].
func (g *generator) customer(id int64, evs []genEvent) (*genCustomer, []genEvent) {
	r := rand.New(rand.NewPCG(g.seed, uint64(id)))
	c := &genCustomer{ID: id, UserID: "u" + strconv.FormatInt(id, 10), Email: "c" + strconv.FormatInt(id, 10) + "@example.com"}
	co := countries[pick(r, g.cumW)]
	c.Country = co.code
	if r.IntN(20) != 0 {
		c.Timezone = co.zones[r.IntN(len(co.zones))]
	}
	if r.IntN(100) < 85 {
		y := 1950 + r.IntN(58)
		m := 1 + r.IntN(12)
		days := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
		c.Birthday = fmt.Sprintf("%04d-%02d-%02d", y, m, 1+r.IntN(days))
	}
	c.Subscribed = r.IntN(100) < 60
	c.CreatedAt = g.asOf - r.Int64N(spread)
	end := g.asOf
	if r.IntN(2) == 0 {
		end = c.CreatedAt + r.Int64N(g.asOf-c.CreatedAt+1)
	}
	c.favourite = r.IntN(len(categories))

	// Heavy-tailed activity: log-normal, mean about 20.
	const sigma = 1.3
	mu := math.Log(20) - sigma*sigma/2
	budget := min(int(math.Exp(mu+sigma*r.NormFloat64())), 5000)
	evs = evs[:0]
	span := end - c.CreatedAt + 1
	for len(evs) < budget {
		t := c.CreatedAt + r.Int64N(span)
		step := func() int64 { t += msMin/6 + r.Int64N(5*msMin); return t }
		if c.Subscribed && r.IntN(4) == 0 {
			camp := r.IntN(500)
			evs = append(evs, genEvent{Kind: evOpened, TS: t, Campaign: camp})
			if r.IntN(4) == 0 {
				evs = append(evs, genEvent{Kind: evClicked, TS: step(), Campaign: camp})
			}
			continue
		}
		cat := c.favourite
		if r.IntN(5) < 2 {
			cat = pick(r, g.catW)
		}
		for range 1 + r.IntN(5) {
			evs = append(evs, genEvent{Kind: evViewed, TS: step(), Category: categories[cat]})
		}
		if r.IntN(100) >= 35 {
			continue
		}
		price := float64(4+r.IntN(400)) * 0.25
		evs = append(evs, genEvent{Kind: evAdded, TS: step(), Category: categories[cat], Revenue: price})
		if r.IntN(100) >= 45 {
			continue
		}
		total := price * float64(1+r.IntN(3))
		evs = append(evs, genEvent{Kind: evCheckout, TS: step(), Revenue: total})
		if r.IntN(100) >= 60 {
			continue
		}
		c.Orders++
		evs = append(evs, genEvent{Kind: evOrder, TS: step(), Revenue: total, OrderSeq: c.Orders})
	}
	slices.SortStableFunc(evs, func(a, b genEvent) int {
		switch {
		case a.TS < b.TS:
			return -1
		case a.TS > b.TS:
			return 1
		}
		return 0
	})
	// Sessions that start near the end run past as-of: those events are
	// in the store but after the as-of instant, which every system must
	// ignore.
	c.Orders, c.Events = 0, len(evs)
	for _, e := range evs {
		if c.FirstSeenAt == 0 {
			c.FirstSeenAt = e.TS
		}
		c.LastSeenAt = e.TS
		if e.Kind == evOrder {
			c.Orders++
			c.Revenue += e.Revenue
			if c.FirstOrderAt == 0 {
				c.FirstOrderAt = e.TS
			}
			c.LastOrderAt = e.TS
		}
	}
	c.traitsJSON = c.traits()
	return c, evs
}

// traits is the customer's traits as the store keeps them: a JSON object
// with sorted keys.
func (c *genCustomer) traits() string {
	b := []byte(`{`)
	if c.Birthday != "" {
		b = append(b, `"birthday":"`+c.Birthday+`",`...)
	}
	b = append(b, `"country":"`+c.Country+`","email_subscribed":`+strconv.FormatBool(c.Subscribed)...)
	if c.Timezone != "" {
		b = append(b, `,"timezone":"`+c.Timezone+`"`...)
	}
	return string(append(b, '}'))
}

// Traits returns the traits as a map, as the store decodes them.
func (c *genCustomer) Traits() map[string]any {
	m := map[string]any{"country": c.Country, "email_subscribed": c.Subscribed}
	if c.Birthday != "" {
		m["birthday"] = c.Birthday
	}
	if c.Timezone != "" {
		m["timezone"] = c.Timezone
	}
	return m
}

// props is the event's properties as JSON.
func (e *genEvent) props(customer int64) string {
	switch e.Kind {
	case evViewed:
		return `{"category":"` + e.Category + `"}`
	case evAdded:
		return `{"category":"` + e.Category + `","price":` + num(e.Revenue) + `}`
	case evCheckout:
		return `{"revenue":` + num(e.Revenue) + `}`
	case evOrder:
		return `{"order_id":"o` + strconv.FormatInt(customer, 10) + "-" + strconv.Itoa(e.OrderSeq) + `","revenue":` + num(e.Revenue) + `}`
	default:
		return `{"campaign":"c` + strconv.Itoa(e.Campaign) + `"}`
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
