package recommend_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/recommend"
)

// BenchmarkTrainOnlineRetail trains on every purchase of Online Retail that
// the evaluation keeps (both periods).
func BenchmarkTrainOnlineRetail(b *testing.B) {
	d := loadRetail(b)
	all := append(append([]recommend.Purchase(nil), d.train...), d.test...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := recommend.Train(all, recommend.TrainOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(all)), "lines")
}

// BenchmarkRecommendOnlineRetail recommends 10 products to every customer
// of Online Retail; one op is all of them.
func BenchmarkRecommendOnlineRetail(b *testing.B) {
	d := loadRetail(b)
	all := append(append([]recommend.Purchase(nil), d.train...), d.test...)
	m, err := recommend.Train(all, recommend.TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	customers := make([]int64, 0, len(all))
	seen := make(map[int64]bool)
	for _, p := range all {
		if !seen[p.Customer] {
			seen[p.Customer] = true
			customers = append(customers, p.Customer)
		}
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		for _, c := range customers {
			m.ForCustomer(c, 10, recommend.Options{})
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*len(customers)), "ns/customer")
}

// BenchmarkTrainSynthetic is the size the package is built for: a million
// orders of 100,000 customers over 5,000 products, 4 lines per order on
// average, streamed through a Builder.
func BenchmarkTrainSynthetic(b *testing.B) {
	const customers, products, orders, lines = 100_000, 5_000, 1_000_000, 4
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, products)
	for i := range ids {
		ids[i] = fmt.Sprintf("SKU-%05d", i)
	}
	type order struct {
		customer int64
		at       time.Time
		items    []int32
	}
	data := make([]order, orders)
	nlines := 0
	for k := range data {
		c := r.IntN(customers)
		family := c % 50 // customers lean towards one of 50 families of products
		items := make([]int32, 1+r.IntN(2*lines-1))
		for i := range items {
			p := skewed(r, products)
			if r.IntN(2) == 0 {
				p = p/50*50 + family
			}
			items[i] = int32(p)
		}
		nlines += len(items)
		data[k] = order{int64(c), day0.Add(time.Duration(r.IntN(365*24*60)) * time.Minute), items}
	}
	buf := make([]recommend.Item, 0, 2*lines)
	b.ReportAllocs()
	for b.Loop() {
		bl := recommend.NewBuilder(recommend.TrainOptions{})
		for _, o := range data {
			buf = buf[:0]
			for _, it := range o.items {
				buf = append(buf, recommend.Item{Product: ids[it], Quantity: 1})
			}
			bl.AddOrder(recommend.Order{Customer: o.customer, Time: o.at, Items: buf})
		}
		if _, err := bl.Build(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(nlines), "lines")
}

// skewed draws a product with a long-tailed popularity, as in a real
// catalogue: the square of a uniform draw puts most weight on low indexes.
func skewed(r *rand.Rand, n int) int {
	u := r.Float64()
	return int(u * u * float64(n))
}
