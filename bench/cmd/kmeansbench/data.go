package main

import (
	"math"
	"math/rand/v2"
)

// generate returns n store-like customers as raw (recency days, orders,
// revenue) rows, from seed alone:
//
//   - orders: 1 + geometric, P(another order) = 0.4, so 60% one-time
//     buyers and a long tail;
//   - recency: a third of customers bought in the last weeks
//     (exponential, mean 20 days), the others uniformly over two years,
//     shrunk by the square root of their orders (regulars come back
//     sooner); whole days;
//   - revenue: the sum of log-normal order values (median 33, σ 0.8 in
//     log space), heavy-tailed as real spend is.
func generate(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0xbe7c))
	x := make([]float64, 0, 3*n)
	for range n {
		orders := 1
		for rng.Float64() < 0.4 {
			orders++
		}
		var days float64
		if rng.Float64() < 1.0/3 {
			days = rng.ExpFloat64() * 20
		} else {
			days = 730 * rng.Float64() / math.Sqrt(float64(orders))
		}
		revenue := 0.0
		for range orders {
			revenue += math.Exp(3.5 + 0.8*rng.NormFloat64())
		}
		x = append(x, math.Floor(days), float64(orders), math.Round(100*revenue)/100)
	}
	return x
}
