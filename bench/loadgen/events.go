// Package loadgen generates Segment /v1/batch bodies shaped exactly as
// github.com/segmentio/analytics-go/v3 serialises them, and sends them to a
// touchbase server as fast as it acknowledges them (closed loop) or at a
// fixed offered rate (open loop), recording latency, per-second throughput
// and errors.
//
// Generating realistic JSON is expensive, so it happens once, before timing:
// a pool of batch templates is built with analytics-go's own types and
// encoding, and each request copies one and overwrites, in place, the
// fixed-width values that must differ per send (messageIds, the visitor's
// userId and anonymousId, order ids, sentAt). The generator then costs a
// memcpy and a few hundred bytes of hex per request.
package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
)

// Workload describes the traffic: who sends what.
type Workload struct {
	// Users is the population of visitors events are drawn from, uniformly,
	// at send time (default 100,000; at most 10,000,000).
	Users int
	// Products is the catalogue size (default 5,000).
	Products int
	// BatchSize is the number of events per /v1/batch body (default 250,
	// analytics-go's DefaultBatchSize).
	BatchSize int
	// Bodies is the number of distinct batch templates generated before
	// the run (default 64).
	Bodies int
	// Seed makes the templates reproducible (default 1).
	Seed uint64
}

func (w Workload) withDefaults() Workload {
	if w.Users <= 0 {
		w.Users = 100000
	}
	if w.Products <= 0 {
		w.Products = 5000
	}
	if w.BatchSize <= 0 {
		w.BatchSize = analytics.DefaultBatchSize
	}
	if w.Bodies <= 0 {
		w.Bodies = 64
	}
	if w.Seed == 0 {
		w.Seed = 1
	}
	return w
}

// Mix is the share of each kind of event, in percent. Browsing dominates,
// as in any store's traffic: most events are product views and pages, a
// few are carts and checkouts, about one in fifty is an order.
var Mix = []struct {
	Event   string // "" is a page call
	Percent int
}{
	{"Product Viewed", 40},
	{"", 25}, // page
	{"Product List Viewed", 7},
	{"Products Searched", 4},
	{"Product Added", 12},
	{"Product Removed", 2},
	{"Cart Viewed", 4},
	{"Checkout Started", 4},
	{"Order Completed", 2},
}

// identity kinds of a template event: which identifiers it carries.
const (
	identUserAndAnon = iota // logged in, the site forwards both (60%)
	identUser               // backend event, userId only (25%)
	identAnon               // anonymous visitor (15%)
)

type product struct {
	id, sku, name, category, brand, variant, slug string
	price                                         float64
}

// catalogue is a deterministic product list.
func catalogue(rng *rand.Rand, n int) []product {
	adjectives := []string{"Organic", "Classic", "Slim", "Vintage", "Premium", "Everyday", "Recycled", "Merino", "Waterproof", "Lightweight", "Heavy", "Soft"}
	materials := []string{"Cotton", "Linen", "Wool", "Leather", "Denim", "Bamboo", "Ceramic", "Steel", "Oak", "Canvas"}
	kinds := []struct{ noun, category string }{
		{"T-Shirt", "Apparel/Tops"}, {"Hoodie", "Apparel/Tops"}, {"Jeans", "Apparel/Bottoms"},
		{"Sneakers", "Shoes"}, {"Boots", "Shoes"}, {"Backpack", "Bags"}, {"Tote Bag", "Bags"},
		{"Mug", "Home/Kitchen"}, {"Chef Knife", "Home/Kitchen"}, {"Throw Blanket", "Home/Living"},
		{"Desk Lamp", "Home/Living"}, {"Water Bottle", "Outdoor"}, {"Rain Jacket", "Outdoor"},
		{"Wallet", "Accessories"}, {"Sunglasses", "Accessories"}, {"Watch Strap", "Accessories"},
	}
	brands := []string{"Acme", "Northwind", "Fjordline", "Kestrel & Co", "Bluebird", "Oakhaven", "Lumen"}
	colours := []string{"navy", "black", "white", "olive", "sand", "red", "grey"}
	sizes := []string{"XS", "S", "M", "L", "XL", "one size"}
	ps := make([]product, n)
	for i := range ps {
		k := kinds[rng.IntN(len(kinds))]
		name := adjectives[rng.IntN(len(adjectives))] + " " + materials[rng.IntN(len(materials))] + " " + k.noun
		ps[i] = product{
			id:       fmt.Sprintf("%024x", rng.Uint64()^uint64(i)<<40),
			sku:      fmt.Sprintf("SKU-%05d-%s", i, strings.ToUpper(colours[i%len(colours)][:2])),
			name:     name,
			category: k.category,
			brand:    brands[rng.IntN(len(brands))],
			variant:  colours[rng.IntN(len(colours))] + "/" + sizes[rng.IntN(len(sizes))],
			slug:     strings.ToLower(strings.NewReplacer(" ", "-", "&", "and").Replace(name)) + fmt.Sprintf("-%d", i),
			price:    float64(rng.IntN(20000)+499) / 100,
		}
	}
	return ps
}

const shop = "https://shop.example.com"

// Placeholders written by the generator and overwritten per send. They
// have the width of the values that replace them.
const (
	placeholderUUID  = "00000000-0000-4000-8000-000000000000"
	placeholderUser  = "user-0000000"
	placeholderOrder = "0000000000000000"
)

// eventGen builds analytics-go messages.
type eventGen struct {
	rng      *rand.Rand
	products []product
	start    time.Time
}

var (
	userAgents = []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	}
	locales = []struct{ locale, timezone, currency string }{
		{"en-US", "America/New_York", "USD"}, {"en-US", "America/Los_Angeles", "USD"},
		{"en-GB", "Europe/London", "GBP"}, {"de-DE", "Europe/Berlin", "EUR"},
		{"fr-FR", "Europe/Paris", "EUR"}, {"nl-NL", "Europe/Amsterdam", "EUR"},
		{"es-ES", "Europe/Madrid", "EUR"}, {"en-AU", "Australia/Sydney", "AUD"},
	}
	referrers = []string{"https://www.google.com/", "https://www.instagram.com/", "https://www.facebook.com/",
		"https://duckduckgo.com/", "https://newsletter.example.com/", ""}
	searches = []string{"linen shirt", "waterproof jacket", "gift for dad", "mug", "sneakers white", "backpack 20l", "merino"}
	coupons  = []string{"", "", "", "WELCOME10", "SPRING24", "FREESHIP"}
)

func (g *eventGen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *eventGen) product() *product { return &g.products[g.rng.IntN(len(g.products))] }

// productProps are the Segment E-commerce Spec v2 product fields.
func productProps(p *product, currency string, quantity, position int) analytics.Properties {
	props := analytics.NewProperties().
		Set("product_id", p.id).SetSKU(p.sku).SetCategory(p.category).SetName(p.name).
		SetPrice(p.price).SetCurrency(currency).SetURL(shop+"/products/"+p.slug).
		Set("brand", p.brand).Set("variant", p.variant).Set("quantity", quantity).
		Set("image_url", "https://cdn.shop.example.com/img/"+p.id[:12]+".jpg")
	if position > 0 {
		props.Set("position", position)
	}
	return props
}

// lineItems returns 1-4 products as a cart or an order lists them, and
// their subtotal.
func (g *eventGen) lineItems(currency string) ([]analytics.Properties, float64) {
	n := 1 + g.rng.IntN(4)
	items := make([]analytics.Properties, n)
	subtotal := 0.0
	for i := range items {
		p := g.product()
		q := 1 + g.rng.IntN(3)*g.rng.IntN(2)
		items[i] = productProps(p, currency, q, i+1)
		subtotal += p.price * float64(q)
	}
	return items, round2(subtotal)
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// context is the per-message context a store's backend forwards from the
// browser session (analytics-go adds its library context at batch level).
func (g *eventGen) context(path, title string) (*analytics.Context, string) {
	loc := locales[g.rng.IntN(len(locales))]
	ip := net.IPv4(byte(1+g.rng.IntN(222)), byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1+g.rng.IntN(254)))
	return &analytics.Context{
		IP:        ip,
		UserAgent: g.pick(userAgents),
		Locale:    loc.locale,
		Timezone:  loc.timezone,
		Page: analytics.PageInfo{
			Path:     path,
			URL:      shop + path,
			Title:    title,
			Referrer: g.pick(referrers),
		},
	}, loc.currency
}

// message returns one event of the mix as analytics-go would enqueue it:
// Type, MessageId and Timestamp filled as Client.Enqueue fills them. The
// identifiers are placeholders.
func (g *eventGen) message(event string, ident int, i int) analytics.Message {
	var userID, anonID string
	switch ident {
	case identUserAndAnon:
		userID, anonID = placeholderUser, placeholderUUID
	case identUser:
		userID = placeholderUser
	default:
		anonID = placeholderUUID
	}
	// Enqueue stamps time.Now(); events were spread over the last seconds.
	ts := g.start.Add(-time.Duration(g.rng.Int64N(int64(5 * time.Second))))
	var integrations analytics.Integrations
	if i%10 == 0 {
		integrations = analytics.NewIntegrations().EnableAll().Disable("Salesforce")
	}

	p := g.product()
	if event == "" {
		kinds := []struct{ name, path, title string }{
			{"Home", "/", "Shop | Home"},
			{"Product", "/products/" + p.slug, p.name + " | Shop"},
			{"Category", "/c/" + strings.ToLower(strings.ReplaceAll(p.category, "/", "-")), p.category + " | Shop"},
			{"Search", "/search", "Search | Shop"},
		}
		k := kinds[g.rng.IntN(len(kinds))]
		ctx, _ := g.context(k.path, k.title)
		props := analytics.NewProperties().SetPath(k.path).SetURL(shop + k.path).SetTitle(k.title).
			SetReferrer(ctx.Page.Referrer)
		if k.name == "Search" {
			props.Set("search", "?q="+strings.ReplaceAll(g.pick(searches), " ", "+"))
		}
		return analytics.Page{Type: "page", MessageId: placeholderUUID, UserId: userID, AnonymousId: anonID,
			Name: k.name, Timestamp: ts, Context: ctx, Properties: props, Integrations: integrations}
	}

	ctx, currency := g.context("/products/"+p.slug, p.name+" | Shop")
	var props analytics.Properties
	switch event {
	case "Product Viewed":
		props = productProps(p, currency, 1, 0).SetValue(p.price)
	case "Product Added", "Product Removed":
		q := 1 + g.rng.IntN(2)
		props = productProps(p, currency, q, 0).Set("cart_id", fmt.Sprintf("%016x", g.rng.Uint64()))
	case "Product List Viewed":
		n := 4 + g.rng.IntN(5)
		items := make([]analytics.Properties, n)
		for j := range items {
			items[j] = productProps(g.product(), currency, 1, j+1)
		}
		ctx.Page.Path = "/c/" + strings.ToLower(strings.ReplaceAll(p.category, "/", "-"))
		ctx.Page.URL = shop + ctx.Page.Path
		props = analytics.NewProperties().Set("list_id", "category-"+p.category).SetCategory(p.category).Set("products", items)
	case "Products Searched":
		props = analytics.NewProperties().Set("query", g.pick(searches))
	case "Cart Viewed":
		items, _ := g.lineItems(currency)
		props = analytics.NewProperties().Set("cart_id", fmt.Sprintf("%016x", g.rng.Uint64())).Set("products", items)
	case "Checkout Started", "Order Completed":
		items, subtotal := g.lineItems(currency)
		coupon := g.pick(coupons)
		discount := 0.0
		if coupon != "" {
			discount = round2(subtotal * 0.1)
		}
		shipping := 4.95
		if subtotal > 75 {
			shipping = 0
		}
		tax := round2((subtotal - discount) * 0.2)
		props = analytics.NewProperties().
			Set("order_id", placeholderOrder).Set("checkout_id", fmt.Sprintf("%016x", g.rng.Uint64())).
			Set("affiliation", "Online Store").SetSubtotal(subtotal).SetRevenue(round2(subtotal-discount)).
			SetTotal(round2(subtotal-discount+shipping+tax)).SetShipping(shipping).SetTax(tax).
			SetDiscount(discount).SetCurrency(currency).Set("products", items)
		if coupon != "" {
			props.SetCoupon(coupon)
		}
		ctx.Page.Path, ctx.Page.Title = "/checkout", "Checkout | Shop"
		ctx.Page.URL = shop + ctx.Page.Path
	default:
		panic("loadgen: no generator for event " + event)
	}
	return analytics.Track{Type: "track", MessageId: placeholderUUID, UserId: userID, AnonymousId: anonID,
		Event: event, Timestamp: ts, Context: ctx, Properties: props, Integrations: integrations}
}

// batch is analytics-go's (unexported) batch body, field for field.
type batch struct {
	MessageId string             `json:"messageId"`
	SentAt    time.Time          `json:"sentAt"`
	Messages  []json.RawMessage  `json:"batch"`
	Context   *analytics.Context `json:"context"`
}

// defaultContext is the batch-level context analytics-go always sends.
func defaultContext() *analytics.Context {
	return &analytics.Context{Library: analytics.LibraryInfo{Name: "analytics-go", Version: analytics.Version}}
}

// maxBatchBytes is analytics-go's cap on a batch body.
const maxBatchBytes = 500000

// encodeBatch marshals msgs as analytics-go's Client.send does: each
// message on its own (makeMessage), then the batch envelope. sentAt has a
// full nine-digit fraction in UTC so that it can be overwritten in place.
func encodeBatch(msgs []analytics.Message, sentAt time.Time) ([]byte, error) {
	raw := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("marshal message %d: %w", i, err)
		}
		raw[i] = b
	}
	sentAt = sentAt.UTC().Truncate(10).Add(1) // nine fraction digits, never trimmed
	body, err := json.Marshal(batch{MessageId: placeholderUUID, SentAt: sentAt, Messages: raw, Context: defaultContext()})
	if err != nil {
		return nil, fmt.Errorf("marshal batch: %w", err)
	}
	if len(body) > maxBatchBytes {
		return nil, fmt.Errorf("batch of %d events is %d bytes, over analytics-go's %d", len(msgs), len(body), maxBatchBytes)
	}
	return body, nil
}
