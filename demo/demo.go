// Package demo generates a realistic synthetic online store: a catalogue,
// customers from a dozen countries, and two years of what they did on the
// shop's site, as Segment HTTP Tracking API calls (NDJSON), so that
// `touchbase demo` loads it through the same ingestion path as real data.
//
// The store is modelled, not sprinkled with noise: acquisition grows and
// follows the seasons and the week; each person has their own visit rate,
// loyalty and propensity to buy, so a few customers bring a large share of
// the revenue and many buy once and lapse; sessions browse before they buy
// and most carts are abandoned. docs/demo.md describes the model.
package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	// The generator needs the IANA zones of its customers' countries,
	// whatever the machine it runs on has installed.
	_ "time/tzdata"
)

// Config says what store to generate; the zero value is the default store.
type Config struct {
	Customers int       // people with a profile; default 20,000
	Seed      int64     // default 1; same Config => byte-identical output
	End       time.Time // the history ends here; default: the start of today, UTC
	Days      int       // length of the history; default 730 (two years)
}

// Defaults.
const (
	DefaultCustomers = 20_000
	DefaultSeed      = 1
	DefaultDays      = 730
)

// withDefaults fills the zero fields. The default End is the only input
// taken from the clock: fix End for reproducible output across days.
func (c Config) withDefaults() Config {
	if c.Customers <= 0 {
		c.Customers = DefaultCustomers
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Days <= 0 {
		c.Days = DefaultDays
	}
	if c.End.IsZero() {
		now := time.Now().UTC()
		c.End = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	c.End = c.End.UTC()
	return c
}

// Summary is what was generated, for printing and for checks. Its counts
// are those a store that ingested every message reports: Orders excludes
// cancelled orders, and Revenue is the revenue of the orders that were not
// cancelled net of refunds, in USD.
type Summary struct {
	Customers  int // people with a profile: Identified + Anonymous
	Identified int // people who signed up (an identify with a user id)
	Anonymous  int // people who only ever browsed anonymously
	Events     int // messages written
	Orders     int // orders completed and not cancelled
	Cancelled  int // orders completed, then cancelled
	Refunds    int // Order Refunded messages
	Revenue    float64
	Products   int // distinct products the messages name
	First      time.Time
	Last       time.Time
}

// Generate writes the store's history as NDJSON Segment calls to w, one
// customer after another, each customer's calls in chronological
// order. Memory does not grow with cfg.Customers. It stops with ctx's
// error when ctx is done.
func Generate(ctx context.Context, cfg Config, w io.Writer) (Summary, error) {
	cfg = cfg.withDefaults()
	if cfg.Customers > maxCustomers {
		return Summary{}, fmt.Errorf("demo: %d customers: the limit is %d", cfg.Customers, maxCustomers)
	}
	g, err := newGenerator(cfg, w)
	if err != nil {
		return Summary{}, err
	}
	for i := range cfg.Customers {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return g.sum, fmt.Errorf("demo: %w", err)
			}
		}
		g.customer(i)
		if g.err != nil {
			return g.sum, fmt.Errorf("demo: write: %w", g.err)
		}
	}
	if err := g.w.Flush(); err != nil {
		return g.sum, fmt.Errorf("demo: write: %w", err)
	}
	for _, seen := range g.seen {
		if seen {
			g.sum.Products++
		}
	}
	g.sum.Revenue = float64(g.revenue) / 100
	return g.sum, nil
}

// maxCustomers keeps phone numbers unique (see phone).
const maxCustomers = 9_000_000

// generator is the state of one Generate call: what customers share (the
// catalogue, the calendar, the zones) and the current customer's.
type generator struct {
	cfg   Config
	cat   *catalogue
	cal   *calendar
	zones map[string]*time.Location
	w     *bufio.Writer
	err   error

	pcg *rand.PCG
	rng *rand.Rand
	ln  line

	sum     Summary
	revenue int64  // cents
	seen    []bool // products named so far

	c customer // the customer being generated
}

func newGenerator(cfg Config, w io.Writer) (*generator, error) {
	g := &generator{
		cfg:   cfg,
		cat:   newCatalogue(cfg.Seed),
		cal:   newCalendar(cfg.End, cfg.Days),
		zones: map[string]*time.Location{},
		w:     bufio.NewWriterSize(w, 256<<10),
		pcg:   rand.NewPCG(0, 0),
	}
	g.rng = rand.New(g.pcg)
	g.seen = make([]bool, len(g.cat.products))
	for _, c := range countries {
		for _, z := range c.zones {
			loc, err := time.LoadLocation(z.name)
			if err != nil {
				return nil, fmt.Errorf("demo: time zone: %w", err)
			}
			g.zones[z.name] = loc
		}
	}
	return g, nil
}

// seedCustomer makes the random stream of customer i depend only on the
// seed and i, so that any customer can be regenerated alone.
func (g *generator) seedCustomer(i int) {
	g.pcg.Seed(uint64(g.cfg.Seed)*0x9e3779b97f4a7c15, uint64(i)+1)
}

// Identity of a message: who sends it.
const (
	asVisitor = iota // anonymousId only: a browser that has not logged in
	asUser           // userId and the browser's anonymousId
	asServer         // userId only: the shop's backend
)

// begin starts a message of type typ at t.
func (g *generator) begin(typ string, at time.Time, who int) {
	c := &g.c
	l := &g.ln
	l.reset()
	l.beginObject("")
	l.str("type", typ)
	c.msgs++
	l.key("messageId")
	l.b = append(l.b, `"demo-`...)
	l.b = strconv.AppendInt(l.b, g.cfg.Seed, 10)
	l.b = append(l.b, '-')
	l.b = strconv.AppendInt(l.b, int64(c.idx), 10)
	l.b = append(l.b, '-')
	l.b = strconv.AppendInt(l.b, int64(c.msgs), 10)
	l.b = append(l.b, '"')
	l.time("timestamp", at)
	if who != asVisitor {
		l.str("userId", c.userID)
	}
	if who != asServer {
		l.str("anonymousId", c.anonID)
	}
	at = at.Truncate(time.Millisecond) // as written
	if g.sum.First.IsZero() || at.Before(g.sum.First) {
		g.sum.First = at.UTC()
	}
	if at.After(g.sum.Last) {
		g.sum.Last = at.UTC()
	}
}

// end closes the message with its context and writes it.
func (g *generator) end(who int) {
	c := &g.c
	l := &g.ln
	l.beginObject("context")
	l.beginObject("library")
	if who == asServer {
		l.str("name", "analytics-node")
		l.str("version", "2.1.0")
	} else {
		l.str("name", "analytics.js")
		l.str("version", "5.2.0")
	}
	l.endObject()
	if who != asServer {
		l.str("userAgent", c.ua)
		l.str("locale", c.locale)
		if c.campaign != nil {
			l.beginObject("campaign")
			l.str("name", c.campaign.name)
			l.str("source", c.campaign.source)
			l.str("medium", c.campaign.medium)
			l.endObject()
		}
	}
	l.str("timezone", c.zone)
	l.endObject()
	l.endObject()
	l.b = append(l.b, '\n')
	if g.err == nil {
		_, g.err = g.w.Write(l.b)
	}
	g.sum.Events++
}
