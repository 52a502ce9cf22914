package basket

import (
	"cmp"
	"fmt"
	"slices"
)

// Measure is what ranks the companions of a product in [Together].
type Measure int

const (
	// ByLift ranks by lift: companions bought with the product far more
	// often than their own popularity predicts. Pair it with a MinCount,
	// as lift favours rare products.
	ByLift Measure = iota
	// ByConfidence ranks by confidence: the share of the product's baskets
	// that also hold the companion, which favours popular companions.
	ByConfidence
	// ByCount ranks by the number of baskets holding both.
	ByCount
)

// String returns the measure's name: "lift", "confidence" or "count".
func (m Measure) String() string {
	switch m {
	case ByLift:
		return "lift"
	case ByConfidence:
		return "confidence"
	case ByCount:
		return "count"
	}
	return fmt.Sprintf("Measure(%d)", int(m))
}

// ParseMeasure returns the Measure named s ("lift", "confidence" or
// "count"), for command-line flags and query parameters.
func ParseMeasure(s string) (Measure, error) {
	for m := ByLift; m <= ByCount; m++ {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("basket: unknown measure %q (want lift, confidence or count)", s)
}

// DefaultTopN is the number of companions per product when
// TogetherOptions.TopN is 0.
const DefaultTopN = 10

// TogetherOptions are the thresholds of [Together] and [TogetherWith].
type TogetherOptions struct {
	// MinCount is the minimum number of baskets holding both products;
	// 0 means 1. A pair seen in two baskets can have a huge lift by
	// chance, so a store should ask for more.
	MinCount int
	// MinConfidence is the minimum confidence of {product} => {companion}.
	MinConfidence float64
	// TopN is the number of companions kept per product; 0 means
	// DefaultTopN.
	TopN int
	// RankBy orders the companions; the zero value is ByLift.
	RankBy Measure
}

// Companion is a product bought together with another one, the figures
// being those of the rule {product} => {companion}.
type Companion struct {
	Item       int32   // the companion's id
	Count      int     // baskets holding both
	Support    float64 // Count / number of baskets
	Confidence float64 // Count / baskets holding the product
	Lift       float64 // Confidence / support of the companion
}

// Together returns the companions of every product: out[id] lists the best
// TopN companions of item id by opt.RankBy, ties broken by count, lift and
// then name. Products with no companion meeting the thresholds get nil.
//
// It counts each pair once per basket through an index from items to
// baskets, in time proportional to the sum of squared basket sizes and in
// memory proportional to the baskets, whatever the number of products.
func Together(t *Transactions, opt TogetherOptions) ([][]Companion, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if err := t.checkSize(); err != nil {
		return nil, err
	}
	nItems := t.items.Len()
	counts := t.ItemCounts()

	// The vertical index: where the baskets of each item are, by a
	// counting sort. It holds spans of t.ids rather than basket numbers,
	// which would cost a second cache miss (on t.off) per basket visited.
	start := make([]int, nItems+1)
	for id, c := range counts {
		start[id+1] = start[id] + c
	}
	baskets := make([]span, len(t.ids))
	fill := slices.Clone(start[:nItems])
	for i := range t.Len() {
		s := span{uint32(t.off[i]), uint32(t.off[i+1])}
		for _, id := range t.At(i) {
			baskets[fill[id]] = s
			fill[id]++
		}
	}

	p := newPairCounter(t, counts, opt)
	out := make([][]Companion, nItems)
	var arena []Companion
	for id := range nItems {
		top := p.companions(int32(id), baskets[start[id]:start[id+1]])
		if len(top) == 0 {
			continue
		}
		if len(arena) < len(top) {
			// One allocation per ~4096 companions rather than per product.
			arena = make([]Companion, max(4096, len(top)))
		}
		out[id] = arena[:len(top):len(top)]
		copy(out[id], top)
		arena = arena[len(top):]
	}
	return out, nil
}

// TogetherWith returns the companions of one product, as [Together] would,
// by one pass over the baskets: for a few products it is cheaper than
// Together, for many it is not.
func TogetherWith(t *Transactions, item int32, opt TogetherOptions) ([]Companion, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if item < 0 || int(item) >= t.items.Len() {
		return nil, fmt.Errorf("basket: item id %d not in the dictionary of %d items", item, t.items.Len())
	}
	if err := t.checkSize(); err != nil {
		return nil, err
	}
	var holding []span
	for i := range t.Len() {
		if _, ok := slices.BinarySearch(t.At(i), item); ok {
			holding = append(holding, span{uint32(t.off[i]), uint32(t.off[i+1])})
		}
	}
	return slices.Clone(newPairCounter(t, t.ItemCounts(), opt).companions(item, holding)), nil
}

func (opt TogetherOptions) check() error {
	switch {
	case opt.MinCount < 0:
		return fmt.Errorf("basket: MinCount %d is negative", opt.MinCount)
	case !(opt.MinConfidence >= 0 && opt.MinConfidence <= 1):
		return fmt.Errorf("basket: MinConfidence %v not in [0, 1]", opt.MinConfidence)
	case opt.TopN < 0:
		return fmt.Errorf("basket: TopN %d is negative", opt.TopN)
	case opt.RankBy < ByLift || opt.RankBy > ByCount:
		return fmt.Errorf("basket: unknown RankBy %v", opt.RankBy)
	}
	return nil
}

// pairCounter counts the co-occurrences of one product at a time in a
// dense array over all items, which is cleared through the list of items
// touched, so a product costs only its own baskets.
type pairCounter struct {
	t        *Transactions
	counts   []int // baskets per item
	minCount int
	minConf  float64
	topN     int
	less     func(a, b Companion) int
	co       []int32 // co-occurrence counts, zero between products
	touched  []int32
	top      []Companion // the best so far, in order
}

func newPairCounter(t *Transactions, counts []int, opt TogetherOptions) *pairCounter {
	p := &pairCounter{
		t:        t,
		counts:   counts,
		minCount: max(opt.MinCount, 1),
		minConf:  opt.MinConfidence,
		topN:     cmp.Or(opt.TopN, DefaultTopN),
		co:       make([]int32, t.items.Len()),
	}
	order := t.items.nameOrder()
	// Ties: count, then lift, then name, so the order is total.
	tie := func(a, b Companion) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.Lift, a.Lift), cmp.Compare(order[a.Item], order[b.Item]))
	}
	switch opt.RankBy {
	case ByConfidence:
		p.less = func(a, b Companion) int { return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), tie(a, b)) }
	case ByCount:
		p.less = tie
	default:
		p.less = func(a, b Companion) int { return cmp.Or(cmp.Compare(b.Lift, a.Lift), tie(a, b)) }
	}
	return p
}

// span locates one basket in Transactions.ids.
type span struct{ from, to uint32 }

// companions returns the best companions of item, whose baskets are given;
// the slice is reused by the next call.
func (p *pairCounter) companions(item int32, baskets []span) []Companion {
	p.top = p.top[:0]
	if len(baskets) < p.minCount {
		return nil
	}
	for _, b := range baskets {
		for _, other := range p.t.ids[b.from:b.to] {
			if p.co[other] == 0 {
				p.touched = append(p.touched, other)
			}
			p.co[other]++
		}
	}
	n := float64(p.t.Len())
	for _, other := range p.touched {
		c := int(p.co[other])
		p.co[other] = 0
		if other == item || c < p.minCount {
			continue
		}
		// The expressions of the two-item rules of Mine, so that both
		// give the same figures to the last bit.
		conf := float64(c) / float64(len(baskets))
		if conf < p.minConf-confEpsilon {
			continue
		}
		p.offer(Companion{
			Item:       other,
			Count:      c,
			Support:    float64(c) / n,
			Confidence: conf,
			Lift:       lift(c, len(baskets), p.counts[other], p.t.Len()),
		})
	}
	p.touched = p.touched[:0]
	return p.top
}

// offer inserts c into the sorted top list when it belongs there: top-N is
// small, so insertion beats sorting every candidate.
func (p *pairCounter) offer(c Companion) {
	if len(p.top) == p.topN && p.less(c, p.top[len(p.top)-1]) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(p.top, c, p.less)
	if len(p.top) < p.topN {
		p.top = append(p.top, Companion{})
	}
	copy(p.top[i+1:], p.top[i:])
	p.top[i] = c
}
