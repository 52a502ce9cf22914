package basket_test

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/analytics/basket"
)

// The published figures below were printed by R, whose default is seven
// significant digits; near accepts what rounds to the printed value.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 0.5000001e-6*math.Abs(want)
}

// groceries reads the arules "Groceries" baskets from the shared data
// folder (../shared/data from the repository root).
func groceries(tb testing.TB) *basket.Transactions {
	tb.Helper()
	path := filepath.Join("..", "..", "..", "shared", "data", "groceries.csv")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("groceries.csv not found at %s (see /work/shared/data/README.md)", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	t, err := basket.ParseBaskets(f)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// published is one rule as R printed it; count 0 when not printed.
type published struct {
	lhs, rhs                  string // lhs: items joined by ", ", as in the printed rule
	support, confidence, lift float64
	count                     int
}

func publishedKey(p published) string {
	lhs := strings.Split(p.lhs, ", ")
	if p.lhs == "" {
		lhs = nil
	}
	slices.Sort(lhs)
	return strings.Join(lhs, ", ") + " => " + p.rhs
}

// checkRules finds each published rule in res and compares its figures;
// with ranked, the rules must also come first and in this order.
func checkRules(t *testing.T, items *basket.Items, res *basket.Result, want []published, ranked bool) {
	t.Helper()
	at := make(map[string]int, len(res.Rules))
	for i, r := range res.Rules {
		at[ruleKey(items, r)] = i
	}
	for k, p := range want {
		i, ok := at[publishedKey(p)]
		if !ok {
			t.Errorf("rule %s not found", publishedKey(p))
			continue
		}
		r := res.Rules[i]
		if !near(r.Support, p.support) || !near(r.Confidence, p.confidence) || !near(r.Lift, p.lift) ||
			(p.count != 0 && r.Count != p.count) {
			t.Errorf("%s: support %.9f confidence %.7f lift %.7f count %d, published %.9f %.7f %.7f %d",
				publishedKey(p), r.Support, r.Confidence, r.Lift, r.Count, p.support, p.confidence, p.lift, p.count)
		}
		if ranked && i != k {
			t.Errorf("%s is rule %d by lift, published as %d", publishedKey(p), i+1, k+1)
		}
	}
}

// lengths is R's "rule length distribution (lhs + rhs)".
func lengths(res *basket.Result) map[int]int {
	m := map[int]int{}
	for _, r := range res.Rules {
		m[r.Len()]++
	}
	return m
}

// qualityRange checks the Min. and Max. of R's "summary of quality
// measures" (printed to 4 significant digits there, hence the tolerance).
func qualityRange(t *testing.T, res *basket.Result, support, confidence, lift [2]float64, count [2]int) {
	t.Helper()
	lo := res.Rules[0]
	hi := res.Rules[0]
	for _, r := range res.Rules {
		lo.Support, hi.Support = min(lo.Support, r.Support), max(hi.Support, r.Support)
		lo.Confidence, hi.Confidence = min(lo.Confidence, r.Confidence), max(hi.Confidence, r.Confidence)
		lo.Lift, hi.Lift = min(lo.Lift, r.Lift), max(hi.Lift, r.Lift)
		lo.Count, hi.Count = min(lo.Count, r.Count), max(hi.Count, r.Count)
	}
	close4 := func(got, want float64) bool { return math.Abs(got-want) <= 0.5e-3*math.Abs(want) }
	if !close4(lo.Support, support[0]) || !close4(hi.Support, support[1]) ||
		!close4(lo.Confidence, confidence[0]) || !close4(hi.Confidence, confidence[1]) ||
		!close4(lo.Lift, lift[0]) || !close4(hi.Lift, lift[1]) ||
		(count[1] != 0 && (lo.Count != count[0] || hi.Count != count[1])) {
		t.Errorf("quality ranges support [%g, %g] confidence [%g, %g] lift [%g, %g] count [%d, %d], published %v %v %v %v",
			lo.Support, hi.Support, lo.Confidence, hi.Confidence, lo.Lift, hi.Lift, lo.Count, hi.Count, support, confidence, lift, count)
	}
}

// TestGroceriesSummary reproduces summary(Groceries) of arules (Hahsler et
// al., arules documentation and "Introduction to arules"; the same output
// for read.transactions("groceries.csv") in Lantz, "Machine Learning with
// R", ch. 8): 9835 transactions, 169 items, density 0.02609146, the five
// most frequent items, and the basket size distribution.
func TestGroceriesSummary(t *testing.T) {
	tx := groceries(t)
	items := tx.Items()
	if tx.Len() != 9835 || items.Len() != 169 {
		t.Fatalf("%d transactions, %d items; published 9835, 169", tx.Len(), items.Len())
	}
	if d := float64(tx.Size()) / float64(tx.Len()*items.Len()); !near(d, 0.02609146) {
		t.Errorf("density %.8f, published 0.02609146", d)
	}
	counts := tx.ItemCounts()
	for _, want := range []struct {
		name  string
		count int
	}{{"whole milk", 2513}, {"other vegetables", 1903}, {"rolls/buns", 1809}, {"soda", 1715}, {"yogurt", 1372}} {
		id, ok := items.ID(want.name)
		if !ok || counts[id] != want.count {
			t.Errorf("%s: %d baskets, published %d", want.name, counts[id], want.count)
		}
	}
	sizes := map[int]int{}
	for i := range tx.Len() {
		sizes[len(tx.At(i))]++
	}
	want := map[int]int{1: 2159, 2: 1643, 3: 1299, 4: 1005, 5: 855, 6: 645, 7: 545, 8: 438, 9: 350, 10: 246,
		11: 182, 12: 117, 13: 78, 14: 77, 15: 55, 16: 46, 17: 29, 18: 14, 19: 14, 20: 9, 21: 11, 22: 4,
		23: 6, 24: 1, 26: 1, 27: 1, 28: 1, 29: 3, 32: 1}
	if !mapsEqual(sizes, want) {
		t.Errorf("basket sizes %v, published %v", sizes, want)
	}
}

func mapsEqual(a, b map[int]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestGroceriesHahsler reproduces apriori(Groceries, parameter =
// list(support = 0.001, confidence = 0.5)): "set of 5668 rules" and the top
// three by lift (Hahsler & Chelluboina, "Visualizing Association Rules:
// Introduction to the R-extension Package arulesViz", section 2). The rule
// length distribution, quality ranges and top ten with counts are the
// summary() and inspect() output of the same call on groceries.csv in the
// R Markdown report "STA 380, Part 2: Exercises" (Soni, Green, Jaco &
// Cabrera, github.com/Brandt-moreThan4/Machine-Learning); the first rules
// in arules' order ({honey} => {whole milk} ...) are in head(quality(rules))
// of the arulesViz vignette.
func TestGroceriesHahsler(t *testing.T) {
	tx := groceries(t)
	res := mine(t, tx, basket.Options{MinSupport: 0.001, MinConfidence: 0.5})
	if len(res.Rules) != 5668 || res.MinCount != 10 {
		t.Fatalf("%d rules with count >= %d; published 5668 with count >= 10", len(res.Rules), res.MinCount)
	}
	if got, want := lengths(res), map[int]int{2: 11, 3: 1461, 4: 3211, 5: 939, 6: 46}; !mapsEqual(got, want) {
		t.Errorf("rule lengths %v, published %v", got, want)
	}
	qualityRange(t, res, [2]float64{0.001017, 0.022267}, [2]float64{0.5, 1}, [2]float64{1.957, 18.996}, [2]int{10, 219})
	checkRules(t, tx.Items(), res, []published{
		{"Instant food products, soda", "hamburger meat", 0.001220132, 0.6315789, 18.99565, 12},
		{"soda, popcorn", "salty snack", 0.001220132, 0.6315789, 16.69779, 12},
		{"flour, baking powder", "sugar", 0.001016777, 0.5555556, 16.40807, 10},
		{"ham, processed cheese", "white bread", 0.001931876, 0.6333333, 15.04549, 19},
		{"Instant food products, whole milk", "hamburger meat", 0.001525165, 0.5, 15.03823, 15},
		{"curd, other vegetables, whipped/sour cream, yogurt", "cream cheese", 0.001016777, 0.5882353, 14.83409, 10},
		{"domestic eggs, processed cheese", "white bread", 0.001118454, 0.5238095, 12.44364, 11},
		{"other vegetables, tropical fruit, white bread, yogurt", "butter", 0.001016777, 0.6666667, 12.03058, 10},
		{"hamburger meat, whipped/sour cream, yogurt", "butter", 0.001016777, 0.625, 11.27867, 10},
		{"domestic eggs, other vegetables, tropical fruit, whole milk, yogurt", "butter", 0.001016777, 0.625, 11.27867, 10},
	}, true)
	checkRules(t, tx.Items(), res, []published{
		{"honey", "whole milk", 0.001118454, 0.7333333, 2.870009, 0},
		{"tidbits", "rolls/buns", 0.001220132, 0.5217391, 2.836542, 0},
		{"cocoa drinks", "whole milk", 0.001321810, 0.5909091, 2.312611, 0},
		{"cereals", "whole milk", 0.003660397, 0.6428571, 2.515917, 36},
	}, false)
}

// TestGroceriesLantz reproduces Lantz, "Machine Learning with R", ch. 8,
// on this very groceries.csv: apriori(groceries, parameter = list(support =
// 0.006, confidence = 0.25, minlen = 2)) is a "set of 463 rules" of lengths
// 150 / 297 / 16; its top five by lift, the first three rules of
// inspect(groceryrules[1:3]), two of the berry rules and the summary's
// quality ranges (as printed in the book and in reruns of its code, e.g.
// rdrr.io statistics101/MLWithR).
func TestGroceriesLantz(t *testing.T) {
	tx := groceries(t)
	res := mine(t, tx, basket.Options{MinSupport: 0.006, MinConfidence: 0.25, MinLen: 2})
	if len(res.Rules) != 463 || res.MinCount != 60 {
		t.Fatalf("%d rules with count >= %d; published 463 (count >= 60)", len(res.Rules), res.MinCount)
	}
	if got, want := lengths(res), map[int]int{2: 150, 3: 297, 4: 16}; !mapsEqual(got, want) {
		t.Errorf("rule lengths %v, published %v", got, want)
	}
	qualityRange(t, res, [2]float64{0.006101, 0.074835}, [2]float64{0.25, 0.66}, [2]float64{0.9932, 3.9565}, [2]int{60, 0})
	checkRules(t, tx.Items(), res, []published{
		{"herbs", "root vegetables", 0.007015760, 0.4312500, 3.956477, 69},
		{"berries", "whipped/sour cream", 0.009049314, 0.2721713, 3.796886, 89},
		{"other vegetables, tropical fruit, whole milk", "root vegetables", 0.007015760, 0.4107143, 3.768074, 69},
		{"beef, other vegetables", "root vegetables", 0.007930859, 0.4020619, 3.688692, 78},
		{"other vegetables, tropical fruit", "pip fruit", 0.009456024, 0.2634561, 3.482649, 93},
	}, true)
	checkRules(t, tx.Items(), res, []published{
		// The book prints "potted plants"; this copy of the file names the
		// item "pot plants" (170 baskets either way).
		{"pot plants", "whole milk", 0.006914082, 0.4000000, 1.565460, 68},
		{"pasta", "whole milk", 0.006100661, 0.4054054, 1.586614, 60},
		{"herbs", "other vegetables", 0.007727504, 0.4750000, 2.4548739, 76},
		{"berries", "yogurt", 0.010574479, 0.3180428, 2.279848, 104},
		{"berries", "other vegetables", 0.010269446, 0.3088685, 1.596280, 101},
	}, false)
}

// TestGroceriesMaxLen reproduces apriori(groceries, parameter =
// list(support = 0.003, confidence = 0.5, maxlen = 4)): "set of 414
// rules", 5 / 281 / 128 by length, and its top three by lift, from the
// report "STA 380, Part 2: Exercises" (github.com/Brandt-moreThan4/
// Machine-Learning).
func TestGroceriesMaxLen(t *testing.T) {
	tx := groceries(t)
	res := mine(t, tx, basket.Options{MinSupport: 0.003, MinConfidence: 0.5, MaxLen: 4})
	if len(res.Rules) != 414 {
		t.Fatalf("%d rules, published 414", len(res.Rules))
	}
	if got, want := lengths(res), map[int]int{2: 5, 3: 281, 4: 128}; !mapsEqual(got, want) {
		t.Errorf("rule lengths %v, published %v", got, want)
	}
	checkRules(t, tx.Items(), res, []published{
		{"herbs, whole milk", "root vegetables", 0.004168785, 0.5394737, 4.949369, 41},
		{"herbs, other vegetables", "root vegetables", 0.003863752, 0.5, 4.587220, 38},
		{"curd, tropical fruit, whole milk", "yogurt", 0.003965430, 0.6093750, 4.368224, 39},
	}, true)
}

// TestGroceriesOtherThresholds reproduces rule counts published for other
// thresholds on the same data: support 0.01 / confidence 0.5 gives "set of
// 15 rules", all of length 3, led by {citrus fruit, root vegetables} =>
// {other vegetables}, and support 0.001 / confidence 0.8 gives 410 rules
// (report "STA-380-Assignment-2", Chung, Diehl, Dissanayake & Kwon, 2017);
// support 0.01 / confidence 0.9 gives no rule (a "Grocery Association
// Rules" assignment on data(Groceries)).
func TestGroceriesOtherThresholds(t *testing.T) {
	tx := groceries(t)
	res := mine(t, tx, basket.Options{MinSupport: 0.01, MinConfidence: 0.5})
	if got, want := lengths(res), map[int]int{3: 15}; !mapsEqual(got, want) {
		t.Errorf("support 0.01, confidence 0.5: rule lengths %v, published %v", got, want)
	}
	checkRules(t, tx.Items(), res, []published{
		{"citrus fruit, root vegetables", "other vegetables", 0.01037112, 0.5862069, 3.029608, 0},
		{"root vegetables, tropical fruit", "other vegetables", 0.01230300, 0.5845411, 3.020999, 0},
		{"rolls/buns, root vegetables", "other vegetables", 0.01220132, 0.5020921, 2.594890, 0},
		{"root vegetables, yogurt", "other vegetables", 0.01291307, 0.5000000, 2.584078, 0},
		{"curd, yogurt", "whole milk", 0.01006609, 0.5823529, 2.279125, 0},
		{"butter, other vegetables", "whole milk", 0.01148958, 0.5736041, 2.244885, 0},
	}, true)
	if n := len(mine(t, tx, basket.Options{MinSupport: 0.001, MinConfidence: 0.8}).Rules); n != 410 {
		t.Errorf("support 0.001, confidence 0.8: %d rules, published 410", n)
	}
	if n := len(mine(t, tx, basket.Options{MinSupport: 0.01, MinConfidence: 0.9}).Rules); n != 0 {
		t.Errorf("support 0.01, confidence 0.9: %d rules, published none", n)
	}
}

// TestGroceriesEmptyAntecedent reproduces the {} => {item} rules of arules:
// apriori(grocery, parameter = list(supp = 0.01, conf = 0.1), appearance =
// list(default = "rhs", lhs = "margarine")) prints, besides the rules from
// {margarine}, one {} => {item} rule (confidence = support, lift 1) for each
// of the eight items with support >= 0.1 (report "STA-380-Assignment-2",
// Chung, Diehl, Dissanayake & Kwon, 2017).
func TestGroceriesEmptyAntecedent(t *testing.T) {
	tx := groceries(t)
	res := mine(t, tx, basket.Options{MinSupport: 0.01, MinConfidence: 0.1, MaxLen: 2})
	var empty []published
	for _, r := range res.Rules {
		if len(r.Antecedent) == 0 {
			empty = append(empty, published{"", tx.Items().Name(r.Consequent), r.Support, r.Confidence, r.Lift, r.Count})
		}
	}
	want := []published{
		{"", "whole milk", 0.25551601, 0.2555160, 1, 0},
		{"", "other vegetables", 0.19349263, 0.1934926, 1, 0},
		{"", "rolls/buns", 0.18393493, 0.1839349, 1, 0},
		{"", "soda", 0.17437722, 0.1743772, 1, 0},
		{"", "yogurt", 0.13950178, 0.1395018, 1, 0},
		{"", "bottled water", 0.11052364, 0.1105236, 1, 0},
		{"", "root vegetables", 0.10899847, 0.1089985, 1, 0},
		{"", "tropical fruit", 0.10493137, 0.1049314, 1, 0},
	}
	if len(empty) != len(want) {
		t.Fatalf("%d rules {} => {item}, published %d: %v", len(empty), len(want), empty)
	}
	// Lift is exactly 1 for all of them, so they are ordered by confidence.
	for i, w := range want {
		g := empty[i]
		if g.rhs != w.rhs || !near(g.support, w.support) || !near(g.confidence, w.confidence) || g.lift != 1 {
			t.Errorf("rule %d: {} => {%s} %g %g %g, published {} => {%s} %g %g 1", i, g.rhs, g.support, g.confidence, g.lift,
				w.rhs, w.support, w.confidence)
		}
	}
	checkRules(t, tx.Items(), res, []published{
		{"margarine", "whole milk", 0.02419929, 0.4131944, 1.6170980, 0},
		{"margarine", "other vegetables", 0.01972547, 0.3368056, 1.7406635, 0},
		{"margarine", "rolls/buns", 0.01474326, 0.2517361, 1.3686151, 0},
		{"margarine", "yogurt", 0.01423488, 0.2430556, 1.7423115, 0},
		{"margarine", "root vegetables", 0.01108287, 0.1892361, 1.7361354, 0},
		{"margarine", "bottled water", 0.01026945, 0.1753472, 1.5865133, 0},
		{"margarine", "soda", 0.01016777, 0.1736111, 0.9956066, 0},
	}, false)
}

// TestGroceriesItemsets reproduces the frequent itemset counts of
// eclat(Groceries, parameter = list(supp = 0.001)) and (supp = 0.01): 13492
// and 333 itemsets, of which 13464 and 333 are closed and 7794 and 243
// maximal (a "Grocery Association Rules" assignment solved with arules;
// closed and maximal as arules' is.closed and is.maximal define them).
func TestGroceriesItemsets(t *testing.T) {
	tx := groceries(t)
	for _, c := range []struct {
		support                 float64
		frequent, closed, maxim int
	}{
		{0.001, 13492, 13464, 7794},
		{0.01, 333, 333, 243},
	} {
		res := mine(t, tx, basket.Options{MinSupport: c.support, MinConfidence: 1})
		closed, maxim := closedMaximal(res.Itemsets)
		if len(res.Itemsets) != c.frequent || closed != c.closed || maxim != c.maxim {
			t.Errorf("support %g: %d frequent, %d closed, %d maximal itemsets; published %d, %d, %d",
				c.support, len(res.Itemsets), closed, maxim, c.frequent, c.closed, c.maxim)
		}
	}
}

// closedMaximal counts the closed itemsets (no superset with the same
// count) and the maximal ones (no frequent superset); checking the
// supersets with one more item is enough, as counts only fall.
func closedMaximal(sets []basket.Itemset) (closed, maximal int) {
	key := func(ids []int32) string {
		s := slices.Sorted(slices.Values(ids))
		var b strings.Builder
		for _, id := range s {
			b.WriteString(string(rune(id + 1)))
		}
		return b.String()
	}
	// For every itemset, the best count among its one-larger supersets.
	bestSuper := map[string]int{}
	for _, s := range sets {
		for i := range s.Items {
			sub := key(slices.Delete(slices.Clone(s.Items), i, i+1))
			bestSuper[sub] = max(bestSuper[sub], s.Count)
		}
	}
	for _, s := range sets {
		best, ok := bestSuper[key(s.Items)]
		if !ok {
			maximal++
		}
		if best < s.Count {
			closed++
		}
	}
	return closed, maximal
}
