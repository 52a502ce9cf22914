package recommend

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Reason says why a product is recommended.
type Reason uint8

const (
	// BoughtWith: customers who bought [Recommendation.Because], which
	// this customer bought, also bought it. Its share of the score is the
	// largest of the customer's products.
	BoughtWith Reason = iota + 1
	// BuyAgain: the customer bought it before and, with [Options.Repeats],
	// buying it again is likely. Because is the product itself.
	BuyAgain
	// Fallback: it comes from [Options.Fallback].
	Fallback
	// Popular: it is among the products with the most customers.
	Popular
)

// String returns the reason as a lower-case word, for templates and logs.
func (r Reason) String() string {
	switch r {
	case BoughtWith:
		return "bought_with"
	case BuyAgain:
		return "buy_again"
	case Fallback:
		return "fallback"
	case Popular:
		return "popular"
	}
	return fmt.Sprintf("Reason(%d)", r)
}

// Recommendation is one recommended product.
type Recommendation struct {
	Product string
	// Score is the sum of the weighted similarities for BoughtWith and
	// BuyAgain, comparable within one customer's list only; it is 0 for
	// Fallback and Popular, whose order is their list's.
	Score  float64
	Reason Reason
	// Because is the product of the customer's history that contributed
	// most, for BoughtWith and BuyAgain ("because you bought X"); empty
	// otherwise.
	Because string
}

// Repeats says whether products the customer already bought may be
// recommended again.
type Repeats uint8

const (
	// ExcludeBought never recommends a product the customer bought: the
	// default, since "you might also like" lists that repeat the customer's
	// own purchases look broken for durable goods.
	ExcludeBought Repeats = iota
	// IncludeRepeats lets bought products compete with the others. A
	// bought product j gets, on top of its similarity to the rest of the
	// history, a buy-again term: its own weight times its repeat rate
	// ([Model.RepeatRate], the chance that a returning buyer of j buys it
	// again) times [Options.RepeatWeight]. With the default weight the
	// customer's own staples come first and co-occurrence fills the rest,
	// which beat both alone on Online Retail (docs/analytics.md).
	IncludeRepeats
	// IncludeFrequentRepeats is IncludeRepeats for products whose repeat
	// rate is at least [Options.MinRepeatRate] (consumables, refills,
	// staples) and ExcludeBought for the others.
	IncludeFrequentRepeats
)

// Weighting says how much each product of a customer's history counts.
type Weighting uint8

const (
	// WeightLogOrders weighs a product by 1 + ln(orders holding it): a
	// product bought again says more about the customer's taste than one
	// bought once, but not ten times more for ten orders. The default,
	// though on Online Retail the weightings did not differ measurably for
	// new products; it is the best one when repeats are allowed.
	WeightLogOrders Weighting = iota
	// WeightOnce weighs every bought product 1.
	WeightOnce
	// WeightOrders weighs a product by the number of orders holding it.
	WeightOrders
	// WeightLogQuantity weighs a product by 1 + ln(total quantity).
	WeightLogQuantity
)

// Defaults used when an [Options] field is zero.
const (
	// DefaultHalfLife is mild: on Online Retail's ten months recency made
	// no measurable difference, but over years of history a customer's
	// taste of three years ago should fade.
	DefaultHalfLife = 180 * 24 * time.Hour
	// DefaultMinRepeatRate lets back products that about a third of
	// returning buyers buy again.
	DefaultMinRepeatRate = 0.3
	// DefaultRepeatWeight is where the evaluation stopped improving (16:
	// 0.858, 32: 0.862, 64: 0.863 validation hit rate).
	DefaultRepeatWeight = 32
	// DefaultUseNeighbours is fewer than the neighbours kept, because
	// summing many weak similarities over a long history favours products
	// that are a little like everything: on Online Retail 20 beat 50 and
	// 100; the rest serve [Model.Similar].
	DefaultUseNeighbours = 20
)

// Options tunes one recommendation. The zero value is the evaluated default
// (docs/analytics.md).
type Options struct {
	Repeats Repeats
	// MinRepeatRate is the repeat rate from which IncludeFrequentRepeats
	// allows a bought product; 0 means DefaultMinRepeatRate.
	MinRepeatRate float64
	// RepeatWeight multiplies the buy-again term of a bought product that
	// may be repeated; 0 means DefaultRepeatWeight.
	RepeatWeight float64
	// Neighbours is how many of each bought product's best neighbours
	// count towards the scores; 0 means DefaultUseNeighbours, and more
	// than [TrainOptions.Neighbours] counts those kept.
	Neighbours int
	Weighting  Weighting
	// HalfLife halves a history product's weight for every HalfLife since
	// the customer last bought it, so recent taste counts more; 0 means
	// DefaultHalfLife, negative means no decay.
	HalfLife time.Duration
	// Now is the time recency is measured from; zero means the model's
	// latest purchase ([Stats.End]), which keeps results reproducible.
	Now time.Time
	// Fallback lists products, best first, that fill the list when
	// co-occurrence gives too few: typically [Model.Popular] for the
	// customer's segment. Products the customer may not be recommended
	// are skipped. After it, overall popularity fills the rest.
	Fallback []string
}

// scratch is one recommendation's working memory: dense per-product arrays
// that are cleared through touched after use.
type scratch struct {
	score   []float64
	best    []float64 // the largest single contribution to score
	because []int32   // the history product that made it
	bought  []bool
	taken   []bool // already in the list
	seen    []bool // in touched
	touched []int32
	top     topN
}

func newScratch(n int) *scratch {
	return &scratch{
		score:   make([]float64, n),
		best:    make([]float64, n),
		because: make([]int32, n),
		bought:  make([]bool, n),
		taken:   make([]bool, n),
		seen:    make([]bool, n),
	}
}

// ForCustomer returns up to n recommendations for a customer of the
// training data, from their history in it. A customer the model does not
// know gets the fallback and popular products only.
func (m *Model) ForCustomer(customer int64, n int, opts Options) []Recommendation {
	var h []entry
	if c, ok := m.customerIndex[customer]; ok {
		h = m.history(c)
	}
	return m.recommend(h, nil, n, opts)
}

// ForHistory returns up to n recommendations for a customer whose
// purchases are given, for instance a customer newer than the model, or to
// take their latest orders into account without retraining. The
// purchases' Customer is ignored; products the model does not know are not
// recommended again (with the default Repeats) but add nothing to scores.
func (m *Model) ForHistory(purchases []Purchase, n int, opts Options) []Recommendation {
	ps := slices.Clone(purchases)
	slices.SortStableFunc(ps, func(a, b Purchase) int { return a.Time.Compare(b.Time) })
	byItem := make(map[int32]int, len(ps))
	var h []entry
	var unknown map[string]bool
	lastOrder := make(map[int32]int64, len(ps))
	for _, p := range ps {
		i, ok := m.productIndex[p.Product]
		if !ok {
			if unknown == nil {
				unknown = make(map[string]bool)
			}
			unknown[p.Product] = true
			continue
		}
		k, ok := byItem[i]
		if !ok {
			k = len(h)
			byItem[i] = k
			h = append(h, entry{item: i})
		}
		t := p.Time.Unix()
		if o, ok := lastOrder[i]; !ok || o != t {
			h[k].orders++
			lastOrder[i] = t
		}
		h[k].last = t
		q := p.Quantity
		if q <= 0 || math.IsNaN(q) || math.IsInf(q, 0) {
			q = 1
		}
		h[k].qty += float32(q)
	}
	slices.SortFunc(h, func(a, b entry) int { return cmp.Compare(a.item, b.item) })
	return m.recommend(h, unknown, n, opts)
}

func (m *Model) recommend(h []entry, unknown map[string]bool, n int, opts Options) []Recommendation {
	if n <= 0 {
		return nil
	}
	halfLife := opts.HalfLife
	if halfLife == 0 {
		halfLife = DefaultHalfLife
	}
	now := m.end
	if !opts.Now.IsZero() {
		now = opts.Now.Unix()
	}
	minRepeat := float32(opts.MinRepeatRate)
	if minRepeat == 0 {
		minRepeat = DefaultMinRepeatRate
	}
	repeatWeight := opts.RepeatWeight
	if repeatWeight == 0 {
		repeatWeight = DefaultRepeatWeight
	}
	k := int32(opts.Neighbours)
	if k <= 0 {
		k = DefaultUseNeighbours
	}
	s := m.scratch.Get().(*scratch)
	defer func() {
		for _, j := range s.touched {
			s.score[j], s.best[j], s.because[j] = 0, 0, 0
			s.taken[j], s.seen[j] = false, false
		}
		for _, e := range h {
			s.bought[e.item] = false
		}
		s.touched = s.touched[:0]
		m.scratch.Put(s)
	}()
	touch := func(j int32) {
		if !s.seen[j] {
			s.seen[j] = true
			s.touched = append(s.touched, j)
		}
	}
	add := func(j, from int32, x float64) {
		touch(j)
		s.score[j] += x
		if x > s.best[j] {
			s.best[j], s.because[j] = x, from
		}
	}
	// allowed says whether a bought product may be recommended again.
	allowed := func(j int32) bool {
		switch opts.Repeats {
		case IncludeRepeats:
			return true
		case IncludeFrequentRepeats:
			return m.repeatRate[j] >= minRepeat
		}
		return false
	}

	for _, e := range h {
		s.bought[e.item] = true
	}
	for _, e := range h {
		w := weight(e, opts.Weighting)
		if halfLife > 0 && now > e.last {
			w *= math.Exp2(-float64(now-e.last) / halfLife.Seconds())
		}
		lo, hi := m.nbrStart[e.item], m.nbrStart[e.item+1]
		for _, nb := range m.nbrs[lo:min(hi, lo+k)] {
			if !s.bought[nb.item] || allowed(nb.item) {
				add(nb.item, e.item, w*float64(nb.sim))
			}
		}
		if allowed(e.item) {
			add(e.item, e.item, repeatWeight*w*float64(m.repeatRate[e.item]))
		}
	}

	s.top.items = s.top.items[:0]
	for _, j := range s.touched {
		if s.score[j] > 0 {
			s.top.offer(ranked{item: j, score: s.score[j]}, n)
		}
	}
	// n may be far more than there are products to recommend.
	out := make([]Recommendation, 0, min(n, len(m.products)+len(opts.Fallback)))
	for _, r := range s.top.sorted() {
		j := r.item
		rec := Recommendation{Product: m.products[j], Score: r.score, Reason: BoughtWith, Because: m.products[s.because[j]]}
		if s.because[j] == j {
			rec.Reason = BuyAgain
		}
		out = append(out, rec)
		s.taken[j] = true
	}
	if len(out) == n {
		return out
	}

	// ok says whether a fallback product may be added, and marks it taken.
	ok := func(j int32) bool {
		if s.taken[j] || (s.bought[j] && !allowed(j)) {
			return false
		}
		touch(j)
		s.taken[j] = true
		return true
	}
	var extra map[string]bool // fallback products the model does not know, taken
	for _, p := range opts.Fallback {
		if len(out) == n {
			return out
		}
		if j, known := m.productIndex[p]; known {
			if ok(j) {
				out = append(out, Recommendation{Product: p, Reason: Fallback})
			}
			continue
		}
		if unknown[p] && opts.Repeats != IncludeRepeats || extra[p] {
			continue
		}
		if extra == nil {
			extra = make(map[string]bool)
		}
		extra[p] = true
		out = append(out, Recommendation{Product: p, Reason: Fallback})
	}
	for _, j := range m.popular {
		if len(out) == n {
			break
		}
		if ok(j) {
			out = append(out, Recommendation{Product: m.products[j], Reason: Popular})
		}
	}
	return out
}

func weight(e entry, w Weighting) float64 {
	switch w {
	case WeightOnce:
		return 1
	case WeightOrders:
		return float64(e.orders)
	case WeightLogQuantity:
		return 1 + math.Log(max(float64(e.qty), 1))
	}
	return 1 + math.Log(float64(e.orders))
}
