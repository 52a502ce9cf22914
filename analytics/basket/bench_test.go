package basket_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/touchbase/touchbase/analytics/basket"
)

// syntheticStore is a seeded online store: orders of 1 to 40 products
// (about 4 on average) drawn with Zipf-like popularity (the best seller in
// ~7% of orders, the tail in a handful), plus planted associations: each
// product has a complement bought with it in a quarter of its orders, and
// some products come in bundles of three.
func syntheticStore(orders, products int, seed uint64) *basket.Transactions {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	items := basket.NewItems()
	for p := range products {
		items.Intern(fmt.Sprintf("sku-%05d", p))
	}
	zipf := rand.NewZipf(r, 1.1, 10, uint64(products-1))
	complement := func(p int) int32 { return int32((p*7919 + 13) % products) }
	b := basket.NewBuilder(items)
	var order []int32
	for range orders {
		order = order[:0]
		size := 1 + min(int(r.ExpFloat64()*3), 39)
		for range size {
			p := int(zipf.Uint64())
			order = append(order, int32(p))
			if r.IntN(4) == 0 {
				order = append(order, complement(p))
			}
			if p%50 == 0 && r.IntN(3) == 0 { // bundle p, p+1, p+2
				order = append(order, int32((p+1)%products), int32((p+2)%products))
			}
		}
		if err := b.AddIDs(order...); err != nil {
			panic(err)
		}
	}
	return b.Transactions()
}

// store1M is generated once per test binary: it takes longer than mining.
var store1M = sync.OnceValue(func() *basket.Transactions { return syntheticStore(1_000_000, 5000, 1) })

// BenchmarkGroceries mines Groceries at support 0.001 and confidence 0.5:
// 13,492 frequent itemsets and 5,668 rules, sorted.
func BenchmarkGroceries(b *testing.B) {
	tx := groceries(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := basket.Mine(tx, basket.Options{MinSupport: 0.001, MinConfidence: 0.5})
		if err != nil || len(res.Rules) != 5668 {
			b.Fatal(err, len(res.Rules))
		}
	}
}

// BenchmarkGroceriesTogether lists the companions of all 169 products.
func BenchmarkGroceriesTogether(b *testing.B) {
	tx := groceries(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := basket.Together(tx, basket.TogetherOptions{MinCount: 10}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseGroceries reads groceries.csv (500 kB) from memory.
func BenchmarkParseGroceries(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "groceries.csv"))
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := basket.ParseBaskets(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStore1M mines a synthetic store of a million orders over 5,000
// products at support 0.0005 (500 orders) and confidence 0.2.
func BenchmarkStore1M(b *testing.B) {
	tx := store1M()
	b.ReportAllocs()
	b.ResetTimer()
	var res *basket.Result
	for b.Loop() {
		var err error
		if res, err = basket.Mine(tx, basket.Options{MinSupport: 0.0005, MinConfidence: 0.2}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Itemsets)), "itemsets")
	b.ReportMetric(float64(len(res.Rules)), "rules")
}

// BenchmarkStore1MTogether lists the top ten companions of all 5,000
// products of the synthetic store, seen together in at least 20 orders.
func BenchmarkStore1MTogether(b *testing.B) {
	tx := store1M()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := basket.Together(tx, basket.TogetherOptions{MinCount: 20}); err != nil {
			b.Fatal(err)
		}
	}
}
