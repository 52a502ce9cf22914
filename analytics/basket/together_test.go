package basket_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/touchbase/touchbase/analytics/basket"
)

func companionNames(items *basket.Items, cs []basket.Companion) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s %d %.4f %.4f", items.Name(c.Item), c.Count, c.Confidence, c.Lift)
	}
	return out
}

// TestTogetherTextbook ranks the companions of Beer in the baskets of Tan,
// Steinbach & Kumar, Table 6.1; the figures are computed by hand: Beer is
// in 3 of 5 baskets, with Diapers in 3 (lift 1 / (4/5) = 1.25), Bread and
// Milk in 2 (lift (2/3) / (4/5)), Cola and Eggs in 1 (lifts (1/3) / (2/5)
// and (1/3) / (1/5)).
func TestTogetherTextbook(t *testing.T) {
	tx := textbook()
	items := tx.Items()
	beer, _ := items.ID("Beer")
	for _, c := range []struct {
		name string
		opt  basket.TogetherOptions
		want []string
	}{
		{"by lift", basket.TogetherOptions{}, []string{
			"Eggs 1 0.3333 1.6667", "Diapers 3 1.0000 1.2500", "Bread 2 0.6667 0.8333", "Milk 2 0.6667 0.8333", "Cola 1 0.3333 0.8333"}},
		{"by confidence", basket.TogetherOptions{RankBy: basket.ByConfidence}, []string{
			"Diapers 3 1.0000 1.2500", "Bread 2 0.6667 0.8333", "Milk 2 0.6667 0.8333", "Eggs 1 0.3333 1.6667", "Cola 1 0.3333 0.8333"}},
		{"by count", basket.TogetherOptions{RankBy: basket.ByCount}, []string{
			"Diapers 3 1.0000 1.2500", "Bread 2 0.6667 0.8333", "Milk 2 0.6667 0.8333", "Eggs 1 0.3333 1.6667", "Cola 1 0.3333 0.8333"}},
		{"top 2", basket.TogetherOptions{TopN: 2}, []string{"Eggs 1 0.3333 1.6667", "Diapers 3 1.0000 1.2500"}},
		{"min count 2", basket.TogetherOptions{MinCount: 2}, []string{
			"Diapers 3 1.0000 1.2500", "Bread 2 0.6667 0.8333", "Milk 2 0.6667 0.8333"}},
		{"min confidence", basket.TogetherOptions{MinConfidence: 0.7}, []string{"Diapers 3 1.0000 1.2500"}},
		{"min count above the product's baskets", basket.TogetherOptions{MinCount: 4}, []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			all, err := basket.Together(tx, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := companionNames(items, all[beer]); !slices.Equal(got, c.want) {
				t.Errorf("Together: %q, want %q", got, c.want)
			}
			one, err := basket.TogetherWith(tx, beer, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := companionNames(items, one); !slices.Equal(got, c.want) {
				t.Errorf("TogetherWith: %q, want %q", got, c.want)
			}
		})
	}
}

func TestTogetherOptions(t *testing.T) {
	tx := textbook()
	for _, c := range []struct {
		name string
		opt  basket.TogetherOptions
	}{
		{"negative count", basket.TogetherOptions{MinCount: -1}},
		{"confidence above 1", basket.TogetherOptions{MinConfidence: 2}},
		{"NaN confidence", basket.TogetherOptions{MinConfidence: math.NaN()}},
		{"negative TopN", basket.TogetherOptions{TopN: -1}},
		{"unknown measure", basket.TogetherOptions{RankBy: 7}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := basket.Together(tx, c.opt); err == nil {
				t.Error("Together accepted invalid options")
			}
			if _, err := basket.TogetherWith(tx, 0, c.opt); err == nil {
				t.Error("TogetherWith accepted invalid options")
			}
		})
	}
	if _, err := basket.TogetherWith(tx, 99, basket.TogetherOptions{}); err == nil {
		t.Error("TogetherWith accepted an unknown item")
	}
}

// TestTogetherMatchesRules checks the pair counting against the two-item
// rules that Mine finds on Groceries: for every product, the companions
// are exactly the rules {product} => {companion}, in the same order and
// with the same figures to the last bit.
func TestTogetherMatchesRules(t *testing.T) {
	tx := groceries(t)
	items := tx.Items()
	res := mine(t, tx, basket.Options{MinSupport: 0.001, MinConfidence: 0.05, MinLen: 2, MaxLen: 2})
	want := make([][]basket.Companion, items.Len())
	for _, r := range res.Rules {
		a := r.Antecedent[0]
		want[a] = append(want[a], basket.Companion{Item: r.Consequent, Count: r.Count, Support: r.Support,
			Confidence: r.Confidence, Lift: r.Lift})
	}
	got, err := basket.Together(tx, basket.TogetherOptions{MinCount: res.MinCount, MinConfidence: 0.05, TopN: items.Len()})
	if err != nil {
		t.Fatal(err)
	}
	pairs := 0
	for id := range want {
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("%s: Together %v, rules %v", items.Name(int32(id)), got[id], want[id])
		}
		pairs += len(got[id])
	}
	if pairs != len(res.Rules) || pairs < 1000 {
		t.Errorf("%d companions for %d rules", pairs, len(res.Rules))
	}
	herbs, _ := items.ID("herbs")
	one, err := basket.TogetherWith(tx, herbs, basket.TogetherOptions{MinCount: res.MinCount, MinConfidence: 0.05, TopN: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(one, got[herbs][:3]) {
		t.Errorf("TogetherWith(herbs) %v, Together %v", one, got[herbs][:3])
	}
}

func TestParseMeasure(t *testing.T) {
	for _, c := range []struct {
		in   string
		want basket.Measure
		ok   bool
	}{
		{"lift", basket.ByLift, true},
		{"confidence", basket.ByConfidence, true},
		{"count", basket.ByCount, true},
		{"Lift", 0, false},
		{"", 0, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			m, err := basket.ParseMeasure(c.in)
			if (err == nil) != c.ok || (c.ok && m != c.want) {
				t.Errorf("ParseMeasure(%q) = %v, %v", c.in, m, err)
			}
			if c.ok && m.String() != c.in {
				t.Errorf("%v.String() = %q", m, m.String())
			}
		})
	}
}
