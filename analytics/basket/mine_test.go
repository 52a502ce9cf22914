package basket_test

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/analytics/basket"
)

func mine(tb testing.TB, t *basket.Transactions, opt basket.Options) *basket.Result {
	tb.Helper()
	res, err := basket.Mine(t, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// ruleKey names a rule by its items, antecedent sorted by name.
func ruleKey(items *basket.Items, r basket.Rule) string {
	return strings.Join(items.Names(r.Antecedent), ", ") + " => " + items.Name(r.Consequent)
}

// textbook are the five market baskets of Tan, Steinbach & Kumar,
// "Introduction to Data Mining", Table 6.1 (section 6.1).
func textbook() *basket.Transactions {
	b := basket.NewBuilder(nil)
	b.Add("Bread", "Milk")
	b.Add("Bread", "Diapers", "Beer", "Eggs")
	b.Add("Milk", "Diapers", "Beer", "Cola")
	b.Add("Bread", "Milk", "Diapers", "Beer")
	b.Add("Bread", "Milk", "Diapers", "Cola")
	return b.Transactions()
}

// format renders rules as "a, b => c count conf lift" for comparisons.
func format(items *basket.Items, rules []basket.Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = fmt.Sprintf("%s => %s %d %.4f %.4f", strings.Join(items.Names(r.Antecedent), ", "),
			items.Name(r.Consequent), r.Count, r.Confidence, r.Lift)
	}
	return out
}

// TestTextbook checks the worked examples of Tan, Steinbach & Kumar on
// their Table 6.1: {Milk, Diapers} => {Beer} has support 2/5 = 0.4 and
// confidence 2/3 (Example 6.1 / eq. 6.2), and at minimum support 60% the
// frequent itemsets are the four items Beer, Bread, Diapers, Milk and the
// pairs {Bread, Diapers}, {Bread, Milk}, {Diapers, Milk}, {Beer, Diapers}
// (Figure 6.5). The rules below are computed by hand from those counts.
func TestTextbook(t *testing.T) {
	tx := textbook()
	items := tx.Items()

	res := mine(t, tx, basket.Options{MinCount: 2, MinConfidence: 0.6, MinLen: 3})
	want := []string{
		// lift = (2/3) / (3/5)
		"Diapers, Milk => Beer 2 0.6667 1.1111",
	}
	got := format(items, res.Rules)
	if !slices.Contains(got, want[0]) {
		t.Errorf("rules %q do not hold %q", got, want[0])
	}
	for _, r := range res.Rules {
		if ruleKey(items, r) == "Diapers, Milk => Beer" && r.Support != 0.4 {
			t.Errorf("support of {Milk, Diapers} => {Beer} is %v, want 0.4", r.Support)
		}
	}

	res = mine(t, tx, basket.Options{MinSupport: 0.6, MinConfidence: 0.8})
	var sets []string
	for _, s := range res.Itemsets {
		sets = append(sets, fmt.Sprintf("%s:%d", strings.Join(items.Names(s.Items), "+"), s.Count))
	}
	wantSets := []string{"Bread:4", "Diapers:4", "Milk:4", "Beer:3",
		"Beer+Diapers:3", "Bread+Diapers:3", "Bread+Milk:3", "Diapers+Milk:3"}
	if !slices.Equal(sets, wantSets) {
		t.Errorf("itemsets %q, want %q", sets, wantSets)
	}
	// Confidence >= 0.8 keeps {Beer} => {Diapers} (3/3) and, because
	// MinLen is 1 as in arules, {} => {X} for the items of support 0.8.
	wantRules := []string{
		"Beer => Diapers 3 1.0000 1.2500",
		" => Bread 4 0.8000 1.0000",
		" => Diapers 4 0.8000 1.0000",
		" => Milk 4 0.8000 1.0000",
	}
	if got := format(items, res.Rules); !slices.Equal(got, wantRules) {
		t.Errorf("rules %q, want %q", got, wantRules)
	}
	if res.Rules[1].Lift != 1 || res.Rules[1].Support != 0.8 {
		t.Errorf("{} => {Bread}: lift %v support %v, want exactly 1 and 0.8", res.Rules[1].Lift, res.Rules[1].Support)
	}

	res = mine(t, tx, basket.Options{MinSupport: 0.6, MinConfidence: 0.8, MinLen: 2, MaxRules: 1})
	if len(res.Rules) != 1 || res.AllRules != 1 {
		t.Errorf("MinLen 2: %d rules of %d, want only {Beer} => {Diapers}", len(res.Rules), res.AllRules)
	}
}

func TestOptions(t *testing.T) {
	tx := textbook()
	for _, c := range []struct {
		name string
		opt  basket.Options
		ok   bool
	}{
		{"support only", basket.Options{MinSupport: 0.5}, true},
		{"count only", basket.Options{MinCount: 2}, true},
		{"no threshold", basket.Options{MinConfidence: 0.5}, false},
		{"support above 1", basket.Options{MinSupport: 1.5}, false},
		{"negative support", basket.Options{MinSupport: -0.1}, false},
		{"NaN support", basket.Options{MinSupport: math.NaN()}, false},
		{"negative count", basket.Options{MinCount: -1}, false},
		{"confidence above 1", basket.Options{MinCount: 1, MinConfidence: 1.01}, false},
		{"NaN confidence", basket.Options{MinCount: 1, MinConfidence: math.NaN()}, false},
		{"MinLen above MaxLen", basket.Options{MinCount: 1, MinLen: 3, MaxLen: 2}, false},
		{"MinLen above default MaxLen", basket.Options{MinCount: 1, MinLen: 11}, false},
		{"negative MaxLen", basket.Options{MinCount: 1, MaxLen: -1}, false},
		{"negative MaxRules", basket.Options{MinCount: 1, MaxRules: -1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := basket.Mine(tx, c.opt)
			if (err == nil) != c.ok {
				t.Errorf("Mine(%+v) error %v, want ok %v", c.opt, err, c.ok)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	for _, c := range []struct {
		name string
		tx   *basket.Transactions
	}{
		{"no baskets", basket.NewBuilder(nil).Transactions()},
		{"empty baskets", func() *basket.Transactions {
			b := basket.NewBuilder(nil)
			b.Add()
			b.Add()
			return b.Transactions()
		}()},
		{"nothing frequent", textbook()},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := mine(t, c.tx, basket.Options{MinCount: 6})
			if len(res.Itemsets) != 0 || len(res.Rules) != 0 || res.Baskets != c.tx.Len() {
				t.Errorf("%d itemsets, %d rules, %d baskets", len(res.Itemsets), len(res.Rules), res.Baskets)
			}
		})
	}
}

// TestDeterministic shuffles the baskets, the items within them and so the
// ids, and expects the same output in the same order.
func TestDeterministic(t *testing.T) {
	base := randomBaskets(rand.New(rand.NewPCG(7, 7)), 300, 12)
	opt := basket.Options{MinCount: 3, MinConfidence: 0.2}
	var want []string
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 99))
		baskets := slices.Clone(base)
		r.Shuffle(len(baskets), func(i, j int) { baskets[i], baskets[j] = baskets[j], baskets[i] })
		b := basket.NewBuilder(nil)
		for _, names := range baskets {
			names = slices.Clone(names)
			r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
			b.Add(names...)
		}
		tx := b.Transactions()
		res := mine(t, tx, opt)
		got := format(tx.Items(), res.Rules)
		for _, s := range res.Itemsets {
			got = append(got, fmt.Sprint(tx.Items().Names(s.Items), s.Count))
		}
		if seed == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("order %d differs from order 0", seed)
		}
	}
}

// randomBaskets draws n baskets over items named a, b, c ... each item in
// a basket with its own probability between 5% and 90%, so that some
// baskets are empty and some itemsets long.
func randomBaskets(r *rand.Rand, n, nItems int) [][]string {
	p := make([]float64, nItems)
	for i := range p {
		p[i] = 0.05 + 0.85*r.Float64()
	}
	out := make([][]string, n)
	for i := range out {
		for j, pj := range p {
			if r.Float64() < pj {
				out[i] = append(out[i], string(rune('a'+j)))
			}
		}
	}
	return out
}

// bruteForce is the reference for the differential test: it counts every
// subset of the items by scanning all baskets as bit masks, and applies the
// definitions of arules' apriori directly.
type bruteForce struct {
	counts map[uint32]int // itemset mask -> count, frequent itemsets only
	rules  map[string]basket.Rule
	sets   map[string]int
}

func brute(tx *basket.Transactions, opt basket.Options) bruteForce {
	n := tx.Len()
	masks := make([]uint32, n)
	for i := range n {
		for _, id := range tx.At(i) {
			masks[i] |= 1 << id
		}
	}
	minCount := max(opt.MinCount, 1)
	for float64(minCount) < float64(n)*opt.MinSupport {
		minCount++
	}
	minLen, maxLen := max(opt.MinLen, 1), opt.MaxLen
	if maxLen == 0 {
		maxLen = basket.DefaultMaxLen
	}
	bf := bruteForce{counts: map[uint32]int{}, rules: map[string]basket.Rule{}, sets: map[string]int{}}
	nItems := tx.Items().Len()
	for set := uint32(1); set < 1<<nItems; set++ {
		if bits.OnesCount32(set) > maxLen {
			continue
		}
		c := 0
		for _, m := range masks {
			if m&set == set {
				c++
			}
		}
		if c >= minCount {
			bf.counts[set] = c
		}
	}
	// ids lists the items of a mask sorted by name, as Mine does.
	ids := func(set uint32) []int32 {
		var out []int32
		for ; set != 0; set &= set - 1 {
			out = append(out, int32(bits.TrailingZeros32(set)))
		}
		slices.SortFunc(out, func(a, b int32) int { return strings.Compare(tx.Items().Name(a), tx.Items().Name(b)) })
		return out
	}
	for set, c := range bf.counts {
		if bits.OnesCount32(set) < minLen {
			continue
		}
		bf.sets[fmt.Sprint(tx.Items().Names(ids(set)))] = c
		for _, head := range ids(set) {
			body := set &^ (1 << head)
			bc := n
			if body != 0 {
				bc = bf.counts[body]
			}
			conf := float64(c) / float64(bc)
			if conf < opt.MinConfidence-1e-12 {
				continue
			}
			r := basket.Rule{Antecedent: ids(body), Consequent: head, Count: c, Confidence: conf,
				Support: float64(c) / float64(n),
				Lift:    float64(c) * float64(n) / (float64(bc) * float64(bf.counts[1<<head]))}
			bf.rules[ruleKey(tx.Items(), r)] = r
		}
	}
	return bf
}

// TestAgainstBruteForce is the differential test: on many seeded random
// transaction sets and thresholds, FP-Growth must give exactly the
// itemsets, counts and rules (with their figures, to the last bit) of the
// brute-force enumeration, in the documented order.
func TestAgainstBruteForce(t *testing.T) {
	var sets, rules, long int // guard against a vacuous test
	defer func() {
		t.Logf("%d itemsets, %d rules, %d of 4+ items", sets, rules, long)
		if !t.Failed() && (sets < 10000 || rules < 20000 || long < 5000) {
			t.Errorf("only %d itemsets, %d rules, %d of 4+ items: the random cases test too little", sets, rules, long)
		}
	}()
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 2024))
		nItems := 1 + r.IntN(12)
		b := basket.NewBuilder(nil)
		for _, names := range randomBaskets(r, r.IntN(150), nItems) {
			b.Add(names...)
		}
		tx := b.Transactions()
		opt := basket.Options{
			MinCount:      r.IntN(5),
			MinConfidence: []float64{0, 0.1, 0.25, 0.5, 2.0 / 3, 0.9, 1}[r.IntN(7)],
			MinLen:        r.IntN(3),
			MaxLen:        r.IntN(6),
		}
		if opt.MinCount == 0 || r.IntN(2) == 0 {
			opt.MinSupport = []float64{0.01, 0.05, 0.1, 0.2, 0.3}[r.IntN(5)]
		}
		if opt.MaxLen != 0 && opt.MinLen > opt.MaxLen {
			opt.MinLen = opt.MaxLen
		}
		name := fmt.Sprintf("seed %d %d baskets %d items %+v", seed, tx.Len(), nItems, opt)
		res, err := basket.Mine(tx, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := brute(tx, opt)

		sets += len(res.Itemsets)
		rules += len(res.Rules)
		for _, s := range res.Itemsets {
			if len(s.Items) >= 4 {
				long++
			}
		}
		if len(res.Itemsets) != len(want.sets) {
			t.Fatalf("%s: %d itemsets, brute force %d", name, len(res.Itemsets), len(want.sets))
		}
		for _, s := range res.Itemsets {
			k := fmt.Sprint(tx.Items().Names(s.Items))
			if c, ok := want.sets[k]; !ok || c != s.Count {
				t.Fatalf("%s: itemset %s count %d, brute force %d (found %v)", name, k, s.Count, c, ok)
			}
		}
		if len(res.Rules) != len(want.rules) {
			t.Fatalf("%s: %d rules, brute force %d", name, len(res.Rules), len(want.rules))
		}
		for i, r := range res.Rules {
			k := ruleKey(tx.Items(), r)
			w, ok := want.rules[k]
			if !ok || r.Count != w.Count || r.Support != w.Support || r.Confidence != w.Confidence || r.Lift != w.Lift {
				t.Fatalf("%s: rule %s %+v, brute force %+v (found %v)", name, k, r, w, ok)
			}
			if i > 0 && !ruleBefore(tx.Items(), res.Rules[i-1], r) {
				t.Fatalf("%s: rule %d (%s) out of order after %s", name, i, k, ruleKey(tx.Items(), res.Rules[i-1]))
			}
		}
	}
}

// ruleBefore is the documented order: lift, confidence, count descending,
// then shorter first, then by item names.
func ruleBefore(items *basket.Items, a, b basket.Rule) bool {
	switch {
	case a.Lift != b.Lift:
		return a.Lift > b.Lift
	case a.Confidence != b.Confidence:
		return a.Confidence > b.Confidence
	case a.Count != b.Count:
		return a.Count > b.Count
	case a.Len() != b.Len():
		return a.Len() < b.Len()
	}
	return ruleKey(items, a) < ruleKey(items, b)
}

// TestConcurrent runs Mine and Together on one Transactions from several
// goroutines, as the API may; run with -race.
func TestConcurrent(t *testing.T) {
	tx := textbook()
	want := format(tx.Items(), mine(t, tx, basket.Options{MinCount: 1}).Rules)
	errs := make(chan error, 8)
	for range 4 {
		go func() {
			res, err := basket.Mine(tx, basket.Options{MinCount: 1})
			if err == nil && !slices.Equal(format(tx.Items(), res.Rules), want) {
				err = fmt.Errorf("concurrent Mine gave other rules")
			}
			errs <- err
		}()
		go func() {
			_, err := basket.Together(tx, basket.TogetherOptions{})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
