package recommend

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Model is a trained recommender. It is immutable and safe for concurrent
// use; train a new one to take new purchases into account.
type Model struct {
	opts TrainOptions

	products      []string // product index -> id, sorted
	productIndex  map[string]int32
	customers     []int64 // customer index -> id, sorted
	customerIndex map[int64]int32

	// Customer c's history is hist[histStart[c]:histStart[c+1]], one entry
	// per product, by product index.
	histStart  []int32
	hist       []entry
	custOrders []int32 // orders per customer

	buyers     []int32   // distinct customers per product
	repeatRate []float32 // per product, see itemStats
	popular    []int32   // products by buyers, most first, then by id

	// Product i's neighbours are nbrs[nbrStart[i]:nbrStart[i+1]], best
	// first.
	nbrStart []int32
	nbrs     []neighbour

	nOrders  int   // orders seen
	nBaskets int   // baskets co-occurrence was counted over
	end      int64 // the latest purchase, Unix seconds

	scratch sync.Pool // of *scratch, so a recommendation allocates little
}

// entry is what a customer's purchases of one product come to.
type entry struct {
	last   int64 // the latest purchase, Unix seconds
	item   int32
	orders int32   // orders holding the product
	qty    float32 // total quantity
}

func (m *Model) history(c int32) []entry {
	return m.hist[m.histStart[c]:m.histStart[c+1]]
}

// Stats describes a trained model, for logs and the console.
type Stats struct {
	Products  int
	Customers int
	Orders    int
	// Baskets is how many customers or orders (see [Basis]) similarities
	// were counted over.
	Baskets int
	// Neighbours is how many product-to-product similarities are kept.
	Neighbours int
	// End is the latest purchase: the "now" of recency weighting unless
	// [Options.Now] says otherwise.
	End time.Time
}

// Stats returns the model's sizes.
func (m *Model) Stats() Stats {
	return Stats{
		Products:   len(m.products),
		Customers:  len(m.customers),
		Orders:     m.nOrders,
		Baskets:    m.nBaskets,
		Neighbours: len(m.nbrs),
		End:        time.Unix(m.end, 0).UTC(),
	}
}

// RepeatRate returns the share of a product's returning buyers (buyers with
// two orders or more) who bought it in more than one order, shrunk towards
// the overall rate by ten pseudo-buyers so that rarely bought products do
// not get extreme rates. It is false for an unknown product.
func (m *Model) RepeatRate(product string) (float64, bool) {
	i, ok := m.productIndex[product]
	if !ok {
		return 0, false
	}
	return float64(m.repeatRate[i]), true
}

// Scored is a product with a score: a similarity for [Model.Similar], a
// number of distinct customers for [Model.Popular].
type Scored struct {
	Product string
	Score   float64
}

// Products returns the product ids of scored, in order: a [Model.Popular]
// list turned into an [Options.Fallback].
func Products(scored []Scored) []string {
	out := make([]string, len(scored))
	for i, s := range scored {
		out[i] = s.Product
	}
	return out
}

// Similar returns up to n products most similar to product, best first
// ("customers who bought this also bought"), or nil for an unknown product.
// Only the neighbours kept in training are available, so n past
// [TrainOptions.Neighbours] gives no more.
func (m *Model) Similar(product string, n int) []Scored {
	i, ok := m.productIndex[product]
	if !ok || n <= 0 {
		return nil
	}
	nb := m.nbrs[m.nbrStart[i]:m.nbrStart[i+1]]
	out := make([]Scored, 0, min(n, len(nb)))
	for _, x := range nb[:min(n, len(nb))] {
		out = append(out, Scored{Product: m.products[x.item], Score: float64(x.sim)})
	}
	return out
}

// PopularOptions selects whose purchases and which period [Model.Popular]
// counts.
type PopularOptions struct {
	// Customers limits the count to these customers, for instance a
	// segment's members; nil counts everyone. Unknown ids are ignored.
	Customers []int64
	// Since counts only customers who bought the product at or after
	// it; zero counts all time.
	Since time.Time
}

// Popular returns up to n products bought by the most distinct customers,
// most first, then by product id. For a segment's members, [Products] of
// it is the [Options.Fallback] of their recommendations; compute it once
// per segment, since it reads every member's history.
func (m *Model) Popular(n int, opts PopularOptions) []Scored {
	if n <= 0 {
		return nil
	}
	if opts.Customers == nil && opts.Since.IsZero() {
		out := make([]Scored, 0, min(n, len(m.popular)))
		for _, i := range m.popular[:min(n, len(m.popular))] {
			out = append(out, Scored{Product: m.products[i], Score: float64(m.buyers[i])})
		}
		return out
	}
	count := make([]int32, len(m.products))
	since := opts.Since.Unix()
	if opts.Since.IsZero() {
		since = minTime
	}
	tally := func(c int32) {
		for _, e := range m.history(c) {
			if e.last >= since {
				count[e.item]++
			}
		}
	}
	if opts.Customers == nil {
		for c := range m.customers {
			tally(int32(c))
		}
	} else {
		seen := make([]bool, len(m.customers))
		for _, id := range opts.Customers {
			if c, ok := m.customerIndex[id]; ok && !seen[c] {
				seen[c] = true
				tally(c)
			}
		}
	}
	var items []int32
	for i, k := range count {
		if k > 0 {
			items = append(items, int32(i))
		}
	}
	slices.SortFunc(items, func(a, b int32) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b))
	})
	out := make([]Scored, 0, min(n, len(items)))
	for _, i := range items[:min(n, len(items))] {
		out = append(out, Scored{Product: m.products[i], Score: float64(count[i])})
	}
	return out
}

// minTime is a Unix time before any purchase.
const minTime = -1 << 62
