package recommend

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
)

// Purchase is one line of a customer's purchase history. Lines of the same
// customer at the same Time are one order, which is how order lines from a
// store or an import arrive (they share the order's timestamp); use
// [Builder.AddOrder] when distinct orders can share a timestamp.
type Purchase struct {
	Customer int64
	Product  string
	Time     time.Time
	// Quantity is how many were bought; 0 means unknown and counts as 1.
	Quantity float64
}

// Order is one order of a customer, with its lines.
type Order struct {
	Customer int64
	Time     time.Time
	Items    []Item
}

// Item is one line of an [Order].
type Item struct {
	Product string
	// Quantity is how many were bought; 0 means unknown and counts as 1.
	Quantity float64
}

// Basis says what counts as "bought together" when similarities are learnt.
type Basis uint8

const (
	// ByCustomer counts two products as bought together when the same
	// customer bought both, at any time: the classic item-to-item CF basis,
	// and the better one on Online Retail (docs/analytics.md).
	ByCustomer Basis = iota
	// ByOrder counts two products as bought together only when they are in
	// the same order, which is closer to "frequently bought together".
	ByOrder
)

// Similarity is the measure that turns co-occurrence counts into a score.
// With c the number of baskets (customers or orders, see [Basis]) holding
// both products i and j, and n(i), n(j) the baskets holding each:
type Similarity uint8

const (
	// Cosine is c / sqrt(n(i) n(j)), the cosine of the binary basket
	// vectors of i and j. Symmetric; the default, because on Online Retail
	// it tied Jaccard and beat Conditional at every Alpha.
	Cosine Similarity = iota
	// Conditional is c / (n(i) n(j)^Alpha): the probability of buying j
	// having bought i, with j's popularity damped by Alpha (Deshpande &
	// Karypis, "Item-based top-N recommendation algorithms", 2004). Alpha 0
	// is the plain conditional probability, which favours bestsellers;
	// Alpha 1 is lift divided by the number of baskets, which favours
	// rarities.
	Conditional
	// Jaccard is c / (n(i) + n(j) - c).
	Jaccard
)

// chunkRows is how many purchase lines a Builder stores per chunk.
const chunkRows = 1 << 15

// Defaults used when a [TrainOptions] field is zero.
const (
	// DefaultNeighbours keeps enough for [Model.Similar] lists; a
	// recommendation uses fewer ([DefaultUseNeighbours]).
	DefaultNeighbours = 100
	// DefaultMinCount drops pairs with a single shared basket.
	DefaultMinCount = 2
	// DefaultMaxBasketItems bounds the work per customer; on Online
	// Retail caps of 50 to 200 did as well as none or slightly better.
	DefaultMaxBasketItems = 100
)

// TrainOptions tunes training. The zero value is the evaluated default
// (docs/analytics.md).
type TrainOptions struct {
	Basis      Basis
	Similarity Similarity
	// Alpha is the popularity damping of [Conditional], in [0, 1].
	Alpha float64
	// Neighbours is how many neighbours each product keeps, which bounds
	// the model's memory (8 bytes each); 0 means DefaultNeighbours.
	Neighbours int
	// MinCount drops pairs bought together in fewer baskets, because one
	// shared customer says little and makes rare products look alike;
	// 0 means DefaultMinCount, 1 keeps every pair.
	MinCount int
	// MaxBasketItems caps a customer's basket at the products they bought
	// most recently (an order's, for ByOrder, at its first products by
	// id), because a basket of k products costs k² work and a wholesaler
	// who bought half the catalogue relates everything to everything;
	// 0 means DefaultMaxBasketItems, negative means no cap.
	MaxBasketItems int
	// Workers is how many goroutines compute similarities; 0 means
	// GOMAXPROCS. The result does not depend on it.
	Workers int
}

func (o TrainOptions) withDefaults() (TrainOptions, error) {
	if o.Basis > ByOrder {
		return o, fmt.Errorf("unknown basis %d", o.Basis)
	}
	if o.Similarity > Jaccard {
		return o, fmt.Errorf("unknown similarity %d", o.Similarity)
	}
	if o.Alpha < 0 || o.Alpha > 1 || math.IsNaN(o.Alpha) {
		return o, fmt.Errorf("alpha %g is outside [0, 1]", o.Alpha)
	}
	if o.Neighbours < 0 || o.MinCount < 0 || o.Workers < 0 {
		return o, errors.New("neighbours, min count and workers must not be negative")
	}
	if o.Neighbours == 0 {
		o.Neighbours = DefaultNeighbours
	}
	if o.MinCount == 0 {
		o.MinCount = DefaultMinCount
	}
	if o.MaxBasketItems == 0 {
		o.MaxBasketItems = DefaultMaxBasketItems
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// Train learns a [Model] from purchase lines, in any order.
func Train(purchases []Purchase, opts TrainOptions) (*Model, error) {
	b := NewBuilder(opts)
	for _, p := range purchases {
		b.Add(p)
	}
	return b.Build()
}

// Builder collects purchases for [Builder.Build] without the caller having
// to hold them all, so a store can stream its order lines into it. A
// Builder is not safe for concurrent use.
type Builder struct {
	opts      TrainOptions
	rows      [][]row // in chunks of chunkRows, so growing never copies
	n         int     // rows added
	products  map[string]int32
	customers map[int64]int32
	baskets   int32 // orders added with AddOrder, numbered from 1
	err       error
}

// row is one purchase line with dense indexes, 24 bytes, so ten million
// lines take 240 MB during training (twice that while they are grouped by
// customer) and nothing after it.
type row struct {
	t        int64 // Unix seconds
	customer int32
	product  int32
	basket   int32 // 0: grouped with the customer's lines at the same t
	qty      float32
}

// NewBuilder returns an empty Builder that trains with opts.
func NewBuilder(opts TrainOptions) *Builder {
	return &Builder{
		opts:      opts,
		products:  make(map[string]int32),
		customers: make(map[int64]int32),
	}
}

// Add adds one purchase line. An empty product id or a negative or
// non-finite quantity makes Build fail, since returns and cancellations
// should be removed by the caller rather than guessed at here.
func (b *Builder) Add(p Purchase) {
	b.add(p.Customer, p.Product, p.Time, p.Quantity, 0)
}

// AddOrder adds one order: its lines form one basket even when another
// order of the same customer has the same Time.
func (b *Builder) AddOrder(o Order) {
	b.baskets++
	for _, it := range o.Items {
		b.add(o.Customer, it.Product, o.Time, it.Quantity, b.baskets)
	}
}

func (b *Builder) add(customer int64, product string, t time.Time, qty float64, basket int32) {
	if b.err != nil {
		return
	}
	if product == "" {
		b.err = fmt.Errorf("purchase %d of customer %d: empty product id", b.n+1, customer)
		return
	}
	if qty < 0 || math.IsNaN(qty) || math.IsInf(qty, 0) {
		b.err = fmt.Errorf("purchase %d of customer %d, product %q: quantity %g", b.n+1, customer, product, qty)
		return
	}
	if qty == 0 {
		qty = 1
	}
	pi, ok := b.products[product]
	if !ok {
		pi = int32(len(b.products))
		b.products[product] = pi
	}
	ci, ok := b.customers[customer]
	if !ok {
		ci = int32(len(b.customers))
		b.customers[customer] = ci
	}
	if len(b.rows) == 0 || len(b.rows[len(b.rows)-1]) == chunkRows {
		b.rows = append(b.rows, make([]row, 0, chunkRows))
	}
	last := &b.rows[len(b.rows)-1]
	*last = append(*last, row{t: t.Unix(), customer: ci, product: pi, basket: basket, qty: float32(qty)})
	b.n++
}

// Build trains the model. The Builder must not be used afterwards.
func (b *Builder) Build() (*Model, error) {
	if b.err != nil {
		return nil, fmt.Errorf("recommend: %w", b.err)
	}
	opts, err := b.opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("recommend: train options: %w", err)
	}
	rows := b.rows
	m := &Model{opts: opts}
	m.index(b.products, b.customers, rows)
	// Let the collector take the lines once histories has grouped them.
	b.products, b.customers, b.rows = nil, nil, nil
	orders := m.histories(rows, b.n)
	m.itemStats()
	bs := m.baskets(orders)
	m.neighbours(bs)
	m.scratch.New = func() any { return newScratch(len(m.products)) }
	return m, nil
}

// index renumbers products by id and customers by id, so that index order
// is id order: then every loop over indexes, every float sum and every tie
// comes out the same whatever order the purchases arrived in.
func (m *Model) index(products map[string]int32, customers map[int64]int32, rows [][]row) {
	m.products = make([]string, len(products))
	for id, i := range products {
		m.products[i] = id
	}
	slices.Sort(m.products)
	m.productIndex = make(map[string]int32, len(products))
	pmap := make([]int32, len(products))
	for i, id := range m.products {
		m.productIndex[id] = int32(i)
		pmap[products[id]] = int32(i)
	}
	m.customers = make([]int64, len(customers))
	for id, i := range customers {
		m.customers[i] = id
	}
	slices.Sort(m.customers)
	m.customerIndex = make(map[int64]int32, len(customers))
	cmap := make([]int32, len(customers))
	for i, id := range m.customers {
		m.customerIndex[id] = int32(i)
		cmap[customers[id]] = int32(i)
	}
	for _, chunk := range rows {
		for k := range chunk {
			chunk[k].product = pmap[chunk[k].product]
			chunk[k].customer = cmap[chunk[k].customer]
		}
	}
}

// histories groups the n rows by customer (a counting sort, linear in the
// rows) and folds each customer's rows into one entry per product. For the
// ByOrder basis it also returns the orders as baskets.
func (m *Model) histories(rows [][]row, n int) (orders baskets) {
	nc := len(m.customers)
	start := make([]int32, nc+1)
	for _, chunk := range rows {
		for _, r := range chunk {
			start[r.customer+1]++
		}
	}
	for c := range nc {
		start[c+1] += start[c]
	}
	sorted := make([]row, n)
	next := slices.Clone(start[:nc])
	for k, chunk := range rows {
		for _, r := range chunk {
			sorted[next[r.customer]] = r
			next[r.customer]++
		}
		rows[k] = nil // free as we go: the lines now live in sorted
	}

	// One pass to order each customer's lines and count their products,
	// so that hist is allocated once at its size.
	lastCust := make([]int32, len(m.products)) // product -> 1 + the last customer seen buying it
	entries := 0
	for c := range nc {
		rs := sorted[start[c]:start[c+1]]
		slices.SortFunc(rs, func(a, b row) int {
			// qty last too, so that float sums run in one order whatever
			// order the lines came in.
			return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.basket, b.basket), cmp.Compare(a.product, b.product), cmp.Compare(a.qty, b.qty))
		})
		for _, r := range rs {
			if lastCust[r.product] != int32(c)+1 {
				lastCust[r.product] = int32(c) + 1
				entries++
			}
		}
	}

	m.histStart = make([]int32, nc+1)
	m.hist = make([]entry, 0, entries)
	m.custOrders = make([]int32, nc)
	m.end = math.MinInt64
	pos := make([]int32, len(m.products))       // product -> 1 + its entry's offset in the customer's history
	lastOrder := make([]int32, len(m.products)) // product -> the order it was last seen in, numbered from 1
	var ord int32
	for c := range nc {
		rs := sorted[start[c]:start[c+1]]
		first := int32(len(m.hist))
		for k, r := range rs {
			if k == 0 || r.t != rs[k-1].t || r.basket != rs[k-1].basket {
				ord++
				m.custOrders[c]++
				if m.opts.Basis == ByOrder {
					orders.close()
				}
			}
			p := pos[r.product]
			if p == 0 {
				m.hist = append(m.hist, entry{item: r.product})
				p = int32(len(m.hist)) - first
				pos[r.product] = p
			}
			e := &m.hist[first+p-1]
			e.qty += r.qty
			e.last = r.t
			if lastOrder[r.product] != ord { // the product's first line in this order
				lastOrder[r.product] = ord
				e.orders++
				if m.opts.Basis == ByOrder {
					orders.items = append(orders.items, r.product)
				}
			}
		}
		if len(rs) > 0 {
			m.end = max(m.end, rs[len(rs)-1].t)
		}
		h := m.hist[first:]
		for _, e := range h {
			pos[e.item] = 0
		}
		slices.SortFunc(h, func(a, b entry) int { return cmp.Compare(a.item, b.item) })
		m.histStart[c+1] = int32(len(m.hist))
	}
	m.nOrders = int(ord)
	if m.opts.Basis == ByOrder {
		orders.close()
	}
	if n == 0 {
		m.end = 0
	}
	return orders
}

// itemStats counts each product's buyers and learns its repeat rate.
func (m *Model) itemStats() {
	np := len(m.products)
	m.buyers = make([]int32, np)
	repeaters := make([]int32, np)
	eligible := make([]int32, np) // buyers with two orders or more
	var allRepeat, allEligible float64
	for c := range m.customers {
		h := m.history(int32(c))
		// A customer who came back counts towards the repeat rate even
		// if the other order was of other products; a one-order
		// customer could not have repeated anything and says nothing.
		if m.custOrders[c] < 2 {
			for _, e := range h {
				m.buyers[e.item]++
			}
			continue
		}
		for _, e := range h {
			m.buyers[e.item]++
			eligible[e.item]++
			allEligible++
			if e.orders > 1 {
				repeaters[e.item]++
				allRepeat++
			}
		}
	}
	// Shrink each rate towards the overall one by repeatPrior pseudo
	// buyers, so that a product bought twice by its one buyer does not
	// look like milk.
	const repeatPrior = 10
	global := 0.0
	if allEligible > 0 {
		global = allRepeat / allEligible
	}
	m.repeatRate = make([]float32, np)
	for i := range np {
		m.repeatRate[i] = float32((float64(repeaters[i]) + repeatPrior*global) / (float64(eligible[i]) + repeatPrior))
	}
	m.popular = make([]int32, np)
	for i := range m.popular {
		m.popular[i] = int32(i)
	}
	slices.SortStableFunc(m.popular, func(a, b int32) int { return cmp.Compare(m.buyers[b], m.buyers[a]) })
}
