package recommend

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// baskets is a list of product sets in CSR form: basket b holds
// items[start[b]:start[b+1]].
type baskets struct {
	start []int32
	items []int32
}

// close ends the basket being appended to items, if it has any item.
func (bs *baskets) close() {
	if len(bs.start) == 0 {
		bs.start = append(bs.start, 0)
	}
	if int(bs.start[len(bs.start)-1]) < len(bs.items) {
		bs.start = append(bs.start, int32(len(bs.items)))
	}
}

func (bs *baskets) len() int {
	return max(len(bs.start)-1, 0)
}

func (bs *baskets) basket(b int) []int32 {
	return bs.items[bs.start[b]:bs.start[b+1]]
}

// baskets returns the co-occurrence baskets of the model's basis, each
// capped at MaxBasketItems products.
func (m *Model) baskets(orders baskets) baskets {
	limit := m.opts.MaxBasketItems
	if m.opts.Basis == ByOrder {
		if limit < 0 {
			return orders
		}
		// Orders past the cap are rare enough (a wholesale order) that
		// keeping its first products by id is good enough.
		var out baskets
		for b := range orders.len() {
			items := orders.basket(b)
			if len(items) > limit {
				items = slices.Sorted(slices.Values(items))[:limit]
			}
			out.items = append(out.items, items...)
			out.close()
		}
		return out
	}
	out := baskets{items: make([]int32, 0, len(m.hist))}
	var recent []entry
	for c := range m.customers {
		h := m.history(int32(c))
		if limit >= 0 && len(h) > limit {
			// Keep what the customer bought most recently: their current
			// taste, and what a recommendation for them will start from.
			recent = append(recent[:0], h...)
			slices.SortFunc(recent, func(a, b entry) int {
				return cmp.Or(cmp.Compare(b.last, a.last), cmp.Compare(a.item, b.item))
			})
			h = recent[:limit]
		}
		for _, e := range h {
			out.items = append(out.items, e.item)
		}
		out.close()
	}
	return out
}

// neighbour is one kept similarity: to item, sim.
type neighbour struct {
	item int32
	sim  float32
}

// neighbours computes every product's top neighbours. For each product i it
// walks the baskets holding i and counts, in a dense array, how often every
// other product shares one with it: the work is the sum of the squared
// basket sizes, and the memory one count per product per worker. Products
// are handed to workers in chunks and each writes only its own products'
// lists, so the result does not depend on scheduling.
func (m *Model) neighbours(bs baskets) {
	np := len(m.products)
	// The inverted index: product -> baskets holding it.
	istart := make([]int32, np+1)
	for _, it := range bs.items {
		istart[it+1]++
	}
	for i := range np {
		istart[i+1] += istart[i]
	}
	inv := make([]int32, len(bs.items))
	next := slices.Clone(istart[:np])
	for b := range bs.len() {
		for _, it := range bs.basket(b) {
			inv[next[it]] = int32(b)
			next[it]++
		}
	}
	m.nBaskets = bs.len()

	lists := make([][]neighbour, np)
	var cursor atomic.Int64
	const chunk = 16
	var wg sync.WaitGroup
	for range m.opts.Workers {
		wg.Go(func() {
			count := make([]int32, np)
			var touched []int32
			h := &topN{}
			for {
				lo := int(cursor.Add(chunk)) - chunk
				if lo >= np {
					return
				}
				for i := lo; i < min(lo+chunk, np); i++ {
					touched = touched[:0]
					for _, b := range inv[istart[i]:istart[i+1]] {
						for _, j := range bs.basket(int(b)) {
							if count[j] == 0 {
								touched = append(touched, j)
							}
							count[j]++
						}
					}
					ni := float64(istart[i+1] - istart[i])
					h.items = h.items[:0]
					for _, j := range touched {
						c := count[j]
						count[j] = 0
						if j == int32(i) || int(c) < m.opts.MinCount {
							continue
						}
						nj := float64(istart[j+1] - istart[j])
						// Ranked by the float32 that is kept, so that the
						// order of Similar's scores breaks ties by id.
						sim := float32(m.sim(float64(c), ni, nj))
						h.offer(ranked{item: j, score: float64(sim)}, m.opts.Neighbours)
					}
					best := h.sorted()
					lists[i] = make([]neighbour, len(best))
					for k, r := range best {
						lists[i][k] = neighbour{item: r.item, sim: float32(r.score)} // exact
					}
				}
			}
		})
	}
	wg.Wait()

	m.nbrStart = make([]int32, np+1)
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	m.nbrs = make([]neighbour, 0, total)
	for i, l := range lists {
		m.nbrs = append(m.nbrs, l...)
		m.nbrStart[i+1] = int32(len(m.nbrs))
	}
}

// sim is the configured similarity of i to j from their co-occurrence count
// c and basket counts ni, nj.
func (m *Model) sim(c, ni, nj float64) float64 {
	switch m.opts.Similarity {
	case Conditional:
		return c / (ni * math.Pow(nj, m.opts.Alpha))
	case Jaccard:
		return c / (ni + nj - c)
	default:
		return c / math.Sqrt(ni*nj)
	}
}

// ranked is a product with a score, ordered best first by better.
type ranked struct {
	item  int32
	score float64
}

// better orders best first: higher score, then lower index, which is the
// lower product id.
func (a ranked) better(b ranked) bool {
	return a.score > b.score || (a.score == b.score && a.item < b.item)
}

// topN keeps the k best products offered, in a min-heap whose root is the
// worst kept, so each offer costs O(log k) instead of sorting every
// candidate. Hand-written rather than container/heap, whose interface boxes
// every push.
type topN struct{ items []ranked }

func (h *topN) offer(r ranked, k int) {
	if len(h.items) < k {
		h.items = append(h.items, r)
		for c := len(h.items) - 1; c > 0; {
			p := (c - 1) / 2
			if !h.items[p].better(h.items[c]) {
				break
			}
			h.items[p], h.items[c] = h.items[c], h.items[p]
			c = p
		}
		return
	}
	if k == 0 || !r.better(h.items[0]) {
		return
	}
	h.items[0] = r
	for p := 0; ; {
		w := p
		if l := 2*p + 1; l < len(h.items) && h.items[w].better(h.items[l]) {
			w = l
		}
		if r := 2*p + 2; r < len(h.items) && h.items[w].better(h.items[r]) {
			w = r
		}
		if w == p {
			return
		}
		h.items[p], h.items[w] = h.items[w], h.items[p]
		p = w
	}
}

// sorted sorts the kept products best first and returns them; the next
// offer must follow a reset (h.items = h.items[:0]).
func (h *topN) sorted() []ranked {
	slices.SortFunc(h.items, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.item, b.item))
	})
	return h.items
}
