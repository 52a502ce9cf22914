package recommend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/recommend"
)

var day0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// purchases makes one order per customer at day0, from "customer:A,B,C".
func purchases(baskets ...string) []recommend.Purchase {
	var out []recommend.Purchase
	for k, b := range baskets {
		_, items, _ := strings.Cut(b, ":")
		for _, p := range strings.Split(items, ",") {
			out = append(out, recommend.Purchase{Customer: int64(k + 1), Product: p, Time: day0})
		}
	}
	return out
}

// small is the hand-computed example: buyers A 3, B 3, C 2, D 1; together
// A-B 2, A-C 2, B-C 1, B-D 1.
var small = purchases("1:A,B", "2:A,B,C", "3:A,C", "4:B,D")

func train(t *testing.T, ps []recommend.Purchase, opts recommend.TrainOptions) *recommend.Model {
	t.Helper()
	m, err := recommend.Train(ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSimilar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    recommend.TrainOptions
		product string
		n       int
		want    []recommend.Scored
	}{
		{"cosine", recommend.TrainOptions{MinCount: 1}, "B", 10,
			[]recommend.Scored{{"A", 2.0 / 3}, {"D", 1 / math.Sqrt(3)}, {"C", 1 / math.Sqrt(6)}}},
		{"cosine, first n", recommend.TrainOptions{MinCount: 1}, "B", 1, []recommend.Scored{{"A", 2.0 / 3}}},
		{"min count drops single co-purchases", recommend.TrainOptions{}, "B", 10, []recommend.Scored{{"A", 2.0 / 3}}},
		{"neighbours kept", recommend.TrainOptions{MinCount: 1, Neighbours: 2}, "B", 10,
			[]recommend.Scored{{"A", 2.0 / 3}, {"D", 1 / math.Sqrt(3)}}},
		{"conditional ties go to the lower id", recommend.TrainOptions{MinCount: 1, Similarity: recommend.Conditional}, "A", 10,
			[]recommend.Scored{{"B", 2.0 / 3}, {"C", 2.0 / 3}}},
		{"conditional damps popular products", recommend.TrainOptions{MinCount: 1, Similarity: recommend.Conditional, Alpha: 1}, "A", 10,
			[]recommend.Scored{{"C", 2.0 / 6}, {"B", 2.0 / 9}}},
		{"jaccard", recommend.TrainOptions{MinCount: 1, Similarity: recommend.Jaccard}, "A", 10,
			[]recommend.Scored{{"C", 2.0 / 3}, {"B", 2.0 / 4}}},
		{"by order", recommend.TrainOptions{MinCount: 1, Basis: recommend.ByOrder}, "D", 10,
			[]recommend.Scored{{"B", 1 / math.Sqrt(3)}}},
		{"unknown product", recommend.TrainOptions{}, "X", 10, nil},
		{"no n", recommend.TrainOptions{}, "A", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := train(t, small, tc.opts).Similar(tc.product, tc.n)
			if !sameScored(got, tc.want) {
				t.Errorf("Similar(%q, %d) = %v, want %v", tc.product, tc.n, got, tc.want)
			}
		})
	}
}

// sameScored compares up to float32 precision, which is what neighbours
// keep.
func sameScored(a, b []recommend.Scored) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Product != b[i].Product || math.Abs(a[i].Score-b[i].Score) > 1e-6 {
			return false
		}
	}
	return true
}

func TestBasisByOrder(t *testing.T) {
	t.Parallel()
	// Customer 1 bought A and B in different orders: together for
	// ByCustomer, not for ByOrder.
	ps := []recommend.Purchase{
		{Customer: 1, Product: "A", Time: day0},
		{Customer: 1, Product: "B", Time: day0.Add(time.Hour)},
		{Customer: 2, Product: "A", Time: day0},
		{Customer: 2, Product: "B", Time: day0.Add(time.Hour)},
	}
	if got := train(t, ps, recommend.TrainOptions{}).Similar("A", 5); len(got) != 1 || got[0].Product != "B" {
		t.Errorf("by customer: Similar(A) = %v, want B", got)
	}
	if got := train(t, ps, recommend.TrainOptions{Basis: recommend.ByOrder}).Similar("A", 5); len(got) != 0 {
		t.Errorf("by order: Similar(A) = %v, want none", got)
	}
}

func TestForCustomer(t *testing.T) {
	t.Parallel()
	m := train(t, small, recommend.TrainOptions{MinCount: 1})
	bAfterAC := 2.0/3 + 1/math.Sqrt(6) // from A and from C, weight 1 each
	tests := []struct {
		name     string
		customer int64
		n        int
		opts     recommend.Options
		want     []recommend.Recommendation
	}{
		{"co-occurrence, then popular, bought ones left out", 3, 5, recommend.Options{}, []recommend.Recommendation{
			{Product: "B", Score: bAfterAC, Reason: recommend.BoughtWith, Because: "A"},
			{Product: "D", Reason: recommend.Popular},
		}},
		{"n far past the catalogue", 3, 1 << 40, recommend.Options{}, []recommend.Recommendation{
			{Product: "B", Score: bAfterAC, Reason: recommend.BoughtWith, Because: "A"},
			{Product: "D", Reason: recommend.Popular},
		}},
		{"first n", 3, 1, recommend.Options{}, []recommend.Recommendation{
			{Product: "B", Score: bAfterAC, Reason: recommend.BoughtWith, Because: "A"},
		}},
		{"fallback before popular, bought and repeated ones skipped", 3, 5, recommend.Options{Fallback: []string{"A", "B", "X", "X", "D"}}, []recommend.Recommendation{
			{Product: "B", Score: bAfterAC, Reason: recommend.BoughtWith, Because: "A"},
			{Product: "X", Reason: recommend.Fallback},
			{Product: "D", Reason: recommend.Fallback},
		}},
		{"unknown customer gets popular products, ties by id", 99, 3, recommend.Options{}, []recommend.Recommendation{
			{Product: "A", Reason: recommend.Popular},
			{Product: "B", Reason: recommend.Popular},
			{Product: "C", Reason: recommend.Popular},
		}},
		{"no n", 3, 0, recommend.Options{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := m.ForCustomer(tc.customer, tc.n, tc.opts)
			if !sameRecs(got, tc.want) {
				t.Errorf("ForCustomer(%d, %d) =\n%v, want\n%v", tc.customer, tc.n, got, tc.want)
			}
		})
	}
}

func sameRecs(a, b []recommend.Recommendation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Product != y.Product || x.Reason != y.Reason || x.Because != y.Because || math.Abs(x.Score-y.Score) > 1e-6 {
			return false
		}
	}
	return true
}

// groceries has milk bought again by every returning customer and a vase
// bought once by each, in orders a week apart.
func groceries() []recommend.Purchase {
	var ps []recommend.Purchase
	for c := int64(1); c <= 20; c++ {
		ps = append(ps,
			recommend.Purchase{Customer: c, Product: "milk", Time: day0},
			recommend.Purchase{Customer: c, Product: "vase", Time: day0},
			recommend.Purchase{Customer: c, Product: "milk", Time: day0.AddDate(0, 0, 7)},
			recommend.Purchase{Customer: c, Product: "bread", Time: day0.AddDate(0, 0, 7)},
		)
	}
	ps = append(ps, recommend.Purchase{Customer: 21, Product: "vase", Time: day0})
	return ps
}

func TestRepeats(t *testing.T) {
	t.Parallel()
	m := train(t, groceries(), recommend.TrainOptions{})
	milk, _ := m.RepeatRate("milk")
	vase, _ := m.RepeatRate("vase")
	// 20 of 20 returning buyers repeat milk, none the vase; the overall
	// rate is 20/60, and 10 pseudo-buyers pull towards it.
	if want := (20 + 10*20.0/60) / 30; math.Abs(milk-want) > 1e-6 {
		t.Errorf("RepeatRate(milk) = %g, want %g", milk, want)
	}
	if want := (10 * 20.0 / 60) / 30; math.Abs(vase-want) > 1e-6 {
		t.Errorf("RepeatRate(vase) = %g, want %g", vase, want)
	}
	if _, ok := m.RepeatRate("X"); ok {
		t.Error("RepeatRate(X) is known")
	}

	tests := []struct {
		name string
		opts recommend.Options
		want []string
	}{
		{"excluded", recommend.Options{}, nil},
		// Bread beats the vase: bought more recently, and more like milk.
		{"all repeats", recommend.Options{Repeats: recommend.IncludeRepeats}, []string{"milk", "bread", "vase"}},
		{"frequent repeats", recommend.Options{Repeats: recommend.IncludeFrequentRepeats}, []string{"milk"}},
		{"frequent repeats above a high rate", recommend.Options{Repeats: recommend.IncludeFrequentRepeats, MinRepeatRate: 0.9}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range m.ForCustomer(1, 5, tc.opts) {
				got = append(got, r.Product)
				if r.Product == "milk" && (r.Reason != recommend.BuyAgain || r.Because != "milk") {
					t.Errorf("milk: reason %v because %q, want buy_again because milk", r.Reason, r.Because)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAddOrder(t *testing.T) {
	t.Parallel()
	// Two orders at the same instant are two orders with AddOrder, one
	// with Add.
	b := recommend.NewBuilder(recommend.TrainOptions{})
	for range 2 {
		b.AddOrder(recommend.Order{Customer: 1, Time: day0, Items: []recommend.Item{{Product: "milk"}, {Product: "milk", Quantity: 2}}})
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if st := m.Stats(); st.Orders != 2 || st.Customers != 1 || st.Products != 1 || !st.End.Equal(day0) {
		t.Errorf("Stats() = %+v, want 2 orders of 1 customer, 1 product, ending %v", st, day0)
	}
	m = train(t, []recommend.Purchase{{Customer: 1, Product: "milk", Time: day0}, {Customer: 1, Product: "milk", Time: day0}}, recommend.TrainOptions{})
	if st := m.Stats(); st.Orders != 1 {
		t.Errorf("Stats().Orders = %d from Add, want 1", st.Orders)
	}
}

func TestTrainErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    recommend.Purchase
		opts recommend.TrainOptions
		want string
	}{
		{"empty product", recommend.Purchase{Customer: 1}, recommend.TrainOptions{}, "empty product id"},
		{"negative quantity", recommend.Purchase{Customer: 1, Product: "A", Quantity: -1}, recommend.TrainOptions{}, "quantity -1"},
		{"NaN quantity", recommend.Purchase{Customer: 1, Product: "A", Quantity: math.NaN()}, recommend.TrainOptions{}, "quantity NaN"},
		{"alpha", recommend.Purchase{Customer: 1, Product: "A"}, recommend.TrainOptions{Alpha: 2}, "alpha 2"},
		{"similarity", recommend.Purchase{Customer: 1, Product: "A"}, recommend.TrainOptions{Similarity: 9}, "unknown similarity"},
		{"basis", recommend.Purchase{Customer: 1, Product: "A"}, recommend.TrainOptions{Basis: 9}, "unknown basis"},
		{"neighbours", recommend.Purchase{Customer: 1, Product: "A"}, recommend.TrainOptions{Neighbours: -1}, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := recommend.Train([]recommend.Purchase{tc.p}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Train: error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	m := train(t, nil, recommend.TrainOptions{})
	if got := m.ForCustomer(1, 3, recommend.Options{Fallback: []string{"A"}}); len(got) != 1 || got[0].Product != "A" {
		t.Errorf("ForCustomer on an empty model = %v, want the fallback", got)
	}
	if got := m.Popular(3, recommend.PopularOptions{}); len(got) != 0 {
		t.Errorf("Popular on an empty model = %v", got)
	}
}

func TestPopular(t *testing.T) {
	t.Parallel()
	ps := append(purchases("1:A,B", "2:A,B,C", "3:A,C", "4:B,D"),
		recommend.Purchase{Customer: 4, Product: "D", Time: day0.AddDate(0, 1, 0)},
		recommend.Purchase{Customer: 5, Product: "D", Time: day0.AddDate(0, 1, 0)})
	m := train(t, ps, recommend.TrainOptions{})
	tests := []struct {
		name string
		n    int
		opts recommend.PopularOptions
		want []recommend.Scored
	}{
		{"everyone", 10, recommend.PopularOptions{}, []recommend.Scored{{"A", 3}, {"B", 3}, {"C", 2}, {"D", 2}}},
		{"first n", 1, recommend.PopularOptions{}, []recommend.Scored{{"A", 3}}},
		{"a segment, with repeats and strangers", 10, recommend.PopularOptions{Customers: []int64{3, 4, 4, 99}},
			[]recommend.Scored{{"A", 1}, {"B", 1}, {"C", 1}, {"D", 1}}},
		{"an empty segment", 10, recommend.PopularOptions{Customers: []int64{}}, []recommend.Scored{}},
		{"recent", 10, recommend.PopularOptions{Since: day0.AddDate(0, 0, 1)}, []recommend.Scored{{"D", 2}}},
		{"recent in a segment", 10, recommend.PopularOptions{Since: day0.AddDate(0, 0, 1), Customers: []int64{1, 5}}, []recommend.Scored{{"D", 1}}},
		{"no n", 0, recommend.PopularOptions{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := m.Popular(tc.n, tc.opts)
			if !sameScored(got, tc.want) {
				t.Errorf("Popular(%d, %+v) = %v, want %v", tc.n, tc.opts, got, tc.want)
			}
		})
	}
}

// synthetic makes seeded purchases with some structure: each customer
// prefers one of ten product families.
func synthetic(seed uint64, customers, products, orders, lines int) []recommend.Purchase {
	r := rand.New(rand.NewPCG(seed, 1))
	var ps []recommend.Purchase
	for range orders {
		c := r.IntN(customers)
		family := c % 10
		at := day0.Add(time.Duration(r.IntN(365*24)) * time.Hour)
		for range 1 + r.IntN(2*lines-1) {
			p := r.IntN(products)
			if r.IntN(3) > 0 {
				p = p/10*10 + family
			}
			ps = append(ps, recommend.Purchase{Customer: int64(c), Product: productID(p), Time: at, Quantity: float64(1 + r.IntN(3))})
		}
	}
	return ps
}

func productID(p int) string { return fmt.Sprintf("SKU-%05d", p) }

func TestDeterministic(t *testing.T) {
	t.Parallel()
	ps := synthetic(7, 300, 200, 2000, 4)
	shuffled := append([]recommend.Purchase(nil), ps...)
	rand.New(rand.NewPCG(8, 8)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	a := train(t, ps, recommend.TrainOptions{Workers: 1})
	b := train(t, shuffled, recommend.TrainOptions{Workers: 4})
	for c := int64(0); c < 300; c++ {
		ra, rb := a.ForCustomer(c, 10, recommend.Options{}), b.ForCustomer(c, 10, recommend.Options{})
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("customer %d: %v, then %v after shuffling and more workers", c, ra, rb)
		}
	}
	for p := range 200 {
		if sa, sb := a.Similar(productID(p), 50), b.Similar(productID(p), 50); !reflect.DeepEqual(sa, sb) {
			t.Fatalf("Similar(%s): %v, then %v", productID(p), sa, sb)
		}
	}
}

func TestForHistoryMatchesForCustomer(t *testing.T) {
	t.Parallel()
	ps := synthetic(3, 100, 150, 800, 3)
	m := train(t, ps, recommend.TrainOptions{})
	byCustomer := make(map[int64][]recommend.Purchase)
	for _, p := range ps {
		byCustomer[p.Customer] = append(byCustomer[p.Customer], p)
	}
	for c, h := range byCustomer {
		for _, opts := range []recommend.Options{{}, {Repeats: recommend.IncludeRepeats, Weighting: recommend.WeightLogQuantity}} {
			want := m.ForCustomer(c, 10, opts)
			if got := m.ForHistory(h, 10, opts); !sameRecs(got, want) {
				t.Fatalf("customer %d: ForHistory = %v, ForCustomer = %v", c, got, want)
			}
		}
	}
	// A product the model never saw is not recommended back.
	got := m.ForHistory([]recommend.Purchase{{Product: "NEW", Time: day0}}, 3, recommend.Options{Fallback: []string{"NEW", "OTHER"}})
	if len(got) != 3 || got[0].Product != "OTHER" || got[1].Reason != recommend.Popular {
		t.Errorf("ForHistory with an unknown product = %v, want OTHER then popular products", got)
	}
}

func TestReasonString(t *testing.T) {
	t.Parallel()
	for r, want := range map[recommend.Reason]string{
		recommend.BoughtWith: "bought_with", recommend.BuyAgain: "buy_again",
		recommend.Fallback: "fallback", recommend.Popular: "popular", 0: "Reason(0)",
	} {
		if got := r.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", r, got, want)
		}
	}
}
