package basket

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// DefaultMaxLen is the longest itemset and rule when Options.MaxLen is 0:
// 10 items, the default of arules.
const DefaultMaxLen = 10

// confEpsilon is the slack of arules' confidence test (c < conf − 1e-12
// rejects), kept so that rules whose confidence is exactly the threshold in
// decimal (0.25 = 59/236) are kept despite binary rounding.
const confEpsilon = 1e-12

// Options are the thresholds of [Mine]. The zero value is not usable: a
// support threshold is required, because without one every combination of
// products in every basket is "frequent".
type Options struct {
	// MinSupport is the minimum support of an itemset as a fraction of
	// all baskets: an itemset is frequent when its count is at least
	// ceil(N × MinSupport), as in arules.
	MinSupport float64
	// MinCount is the minimum count of an itemset in baskets. When both
	// MinSupport and MinCount are set, the stricter applies.
	MinCount int
	// MinConfidence is the minimum confidence of a rule; 0 keeps them all.
	MinConfidence float64
	// MinLen is the minimum number of items of an itemset and of a rule
	// (antecedent plus consequent, as arules' minlen); 0 means 1. With 1,
	// rules with an empty antecedent ({} => {item}) are possible; 2 asks
	// for at least one item on each side.
	MinLen int
	// MaxLen is the maximum number of items of an itemset and of a rule;
	// 0 means DefaultMaxLen.
	MaxLen int
	// MaxRules keeps only the first MaxRules rules of the output order;
	// 0 keeps them all.
	MaxRules int
}

// Itemset is a frequent itemset.
type Itemset struct {
	Items   []int32 // item ids, sorted by item name
	Count   int     // baskets holding all of Items
	Support float64 // Count / number of baskets
}

// Rule is an association rule Antecedent => {Consequent}. As in arules'
// apriori, the consequent is always a single item.
type Rule struct {
	Antecedent []int32 // item ids, sorted by item name; empty for {} => {item}
	Consequent int32
	// Count is the number of baskets holding the antecedent and the
	// consequent (arules' "count").
	Count int
	// Support is Count / number of baskets: how common the whole rule is.
	Support float64
	// Confidence is Count / baskets holding the antecedent: the share of
	// the antecedent's baskets that also hold the consequent.
	Confidence float64
	// Lift is Confidence / support of the consequent: how much more often
	// the consequent is bought with the antecedent than in general (1 is
	// independence).
	Lift float64
}

// Len returns the rule's length as arules counts it: antecedent items plus
// the consequent.
func (r Rule) Len() int { return len(r.Antecedent) + 1 }

// Result is the outcome of [Mine].
type Result struct {
	Baskets  int // number of baskets, the denominator of every support
	MinCount int // the count threshold that was applied
	// Itemsets are the frequent itemsets with MinLen to MaxLen items, by
	// count (descending), then length, then item names.
	Itemsets []Itemset
	// Rules are by lift, confidence, count (all descending), then length,
	// then item names: the most surprising associations first.
	Rules []Rule
	// AllRules is the number of rules before the MaxRules cut.
	AllRules int
}

// Mine finds the frequent itemsets of t by FP-Growth and the association
// rules they make, with the thresholds of opt (see the package
// documentation for how they match arules' apriori).
func Mine(t *Transactions, opt Options) (*Result, error) {
	minLen, maxLen, err := opt.check()
	if err != nil {
		return nil, err
	}
	if err := t.checkSize(); err != nil {
		return nil, err
	}
	n := t.Len()
	minCount := max(int(math.Ceil(float64(n)*opt.MinSupport)), opt.MinCount, 1)
	res := &Result{Baskets: n, MinCount: minCount}

	// Frequent items, ranked by count (descending) then id, so that the
	// ranks and hence the trees do not depend on map or sort instability.
	counts := t.ItemCounts()
	var byRank []int32 // rank -> id
	for id, c := range counts {
		if c >= minCount {
			byRank = append(byRank, int32(id))
		}
	}
	if len(byRank) == 0 {
		return res, nil
	}
	slices.SortFunc(byRank, func(a, b int32) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	rank := make([]int32, len(counts)) // id -> rank, -1 when infrequent
	for i := range rank {
		rank[i] = -1
	}
	for r, id := range byRank {
		rank[id] = int32(r)
	}

	tb := newItemsetTable()
	m := newMiner(len(byRank), int32(minCount), maxLen, tb)
	top := &m.trees[0]
	for r, id := range byRank {
		top.items = append(top.items, int32(r))
		top.counts = append(top.counts, int32(counts[id]))
	}
	if maxLen == 1 {
		for r := range top.items {
			tb.add(top.items[r:r+1], top.counts[r])
		}
	} else {
		ps := &m.paths[0]
		ps.reset()
		ps.items = slices.Grow(ps.items, t.Size())
		ps.off, ps.count, ps.ids = slices.Grow(ps.off, n), slices.Grow(ps.count, n), slices.Grow(ps.ids, n)
		for i := range n {
			from := len(ps.items)
			for _, id := range t.At(i) {
				if r := rank[id]; r >= 0 {
					ps.items = append(ps.items, r)
				}
			}
			slices.Sort(ps.items[from:])
			ps.close(1)
		}
		// Shared prefixes left about half as many nodes as items in the
		// stores tried; sizing for that spares most of append's copying.
		top.nodes = make([]fpNode, 0, len(ps.items)/2+1)
		m.build(top, ps)
		m.mine(top, 0)
	}
	tb.index()

	order := t.items.nameOrder()
	byName := func(a, b int32) int { return cmp.Compare(order[a], order[b]) }
	res.Itemsets = itemsets(tb, byRank, n, minLen, byName)
	res.Rules = rules(tb, byRank, n, minLen, opt.MinConfidence, byName)
	res.AllRules = len(res.Rules)
	if opt.MaxRules > 0 && len(res.Rules) > opt.MaxRules {
		res.Rules = slices.Clip(res.Rules[:opt.MaxRules])
	}
	return res, nil
}

// check validates opt and returns the effective length limits.
func (opt Options) check() (minLen, maxLen int, err error) {
	switch {
	case !(opt.MinSupport >= 0 && opt.MinSupport <= 1): // also catches NaN
		return 0, 0, fmt.Errorf("basket: MinSupport %v not in [0, 1]", opt.MinSupport)
	case opt.MinCount < 0:
		return 0, 0, fmt.Errorf("basket: MinCount %d is negative", opt.MinCount)
	case opt.MinSupport == 0 && opt.MinCount == 0:
		return 0, 0, errors.New("basket: no support threshold: set MinSupport or MinCount")
	case !(opt.MinConfidence >= 0 && opt.MinConfidence <= 1):
		return 0, 0, fmt.Errorf("basket: MinConfidence %v not in [0, 1]", opt.MinConfidence)
	case opt.MinLen < 0 || opt.MaxLen < 0 || opt.MaxRules < 0:
		return 0, 0, fmt.Errorf("basket: negative MinLen %d, MaxLen %d or MaxRules %d", opt.MinLen, opt.MaxLen, opt.MaxRules)
	}
	minLen, maxLen = max(opt.MinLen, 1), opt.MaxLen
	if maxLen == 0 {
		maxLen = DefaultMaxLen
	}
	if minLen > maxLen {
		return 0, 0, fmt.Errorf("basket: MinLen %d greater than MaxLen %d", minLen, maxLen)
	}
	return minLen, maxLen, nil
}

// itemsets returns the mined itemsets of at least minLen items in output
// order, their item slices cut from one backing array.
func itemsets(tb *itemsetTable, byRank []int32, n, minLen int, byName func(a, b int32) int) []Itemset {
	var out []Itemset
	arena := make([]int32, 0, len(tb.items))
	for i := range tb.len() {
		set := tb.at(i)
		if len(set) < minLen {
			continue
		}
		from := len(arena)
		for _, r := range set {
			arena = append(arena, byRank[r])
		}
		slices.SortFunc(arena[from:], byName)
		c := int(tb.count[i])
		out = append(out, Itemset{Items: arena[from:len(arena):len(arena)], Count: c, Support: float64(c) / float64(n)})
	}
	slices.SortFunc(out, func(a, b Itemset) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(len(a.Items), len(b.Items)),
			slices.CompareFunc(a.Items, b.Items, byName))
	})
	return out
}

// rules generates every rule with one item on the right from the mined
// itemsets of at least minLen items, with the tests of arules' ist_rule,
// in output order.
func rules(tb *itemsetTable, byRank []int32, n, minLen int, minConf float64, byName func(a, b int32) int) []Rule {
	single := make([]int32, len(byRank)) // count of each item, by rank
	for i := range tb.len() {
		if set := tb.at(i); len(set) == 1 {
			single[set[0]] = tb.count[i]
		}
	}
	var out []Rule
	var arena []int32
	var starts []int
	body := make([]int32, 0, DefaultMaxLen)
	for i := range tb.len() {
		set, c := tb.at(i), tb.count[i]
		if len(set) < minLen {
			continue
		}
		for h, head := range set {
			sub := int32(n) // an empty antecedent is held by every basket
			body = body[:0]
			if len(set) > 1 {
				body = append(append(body, set[:h]...), set[h+1:]...)
				if sub = tb.lookup(body); sub < 0 {
					panic("basket: subset of a frequent itemset was not mined")
				}
			}
			conf := float64(c) / float64(sub)
			if conf < minConf-confEpsilon {
				continue
			}
			starts = append(starts, len(arena))
			for _, r := range body {
				arena = append(arena, byRank[r])
			}
			out = append(out, Rule{
				Consequent: byRank[head],
				Count:      int(c),
				Support:    float64(c) / float64(n),
				Confidence: conf,
				Lift:       lift(int(c), int(sub), int(single[head]), n),
			})
		}
	}
	starts = append(starts, len(arena))
	for i := range out {
		a := arena[starts[i]:starts[i+1]:starts[i+1]]
		slices.SortFunc(a, byName)
		out[i].Antecedent = a
	}
	slices.SortFunc(out, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(b.Lift, a.Lift), cmp.Compare(b.Confidence, a.Confidence),
			cmp.Compare(b.Count, a.Count), cmp.Compare(len(a.Antecedent), len(b.Antecedent)),
			slices.CompareFunc(a.Antecedent, b.Antecedent, byName), byName(a.Consequent, b.Consequent))
	})
	return out
}

// lift is count × n / (antecedent × consequent) with one rounding: the
// products are exact below 2^53 (n up to ~94 million baskets), so equal
// lifts are equal floats and ties fall through to the next sort key.
// arules computes confidence × n / consequent, rounding twice, which can
// print {} => {item} as 1.0000000000000002.
func lift(count, antecedent, consequent, n int) float64 {
	return float64(count) * float64(n) / (float64(antecedent) * float64(consequent))
}
