package basket

import (
	"cmp"
	"slices"
)

// FP-Growth (Han, Pei & Yin 2000) without the child lookups of the
// textbook tree: a tree is built from all its paths at once by grouping
// them on their first item, each group on its second item, and so on (a
// most-significant-digit radix sort that emits one node per group), so no
// hash map or sibling list is needed. Mining only ever walks up (parent)
// and across (the nodes of one item), so children are never needed
// afterwards.
//
// Items are "ranks": 0 is the most frequent item, and every path runs from
// low rank (near the root) to high rank. Conditional trees keep the global
// order, which keeps paths sorted without re-ranking.

// fpNode is one node: an item, the number of baskets through it, and its
// parent (0 is the root).
type fpNode struct {
	item   int32
	parent int32
	count  int32
}

// fpTree is an FP-tree with its header table.
type fpTree struct {
	nodes  []fpNode // nodes[0] is the root
	items  []int32  // the ranks in the tree, ascending
	counts []int32  // counts[i]: baskets (of this conditional base) holding items[i]
	start  []int32  // nodes of items[i] are byItem[start[i]:start[i+1]]
	byItem []int32
}

// pathSet is a list of weighted paths in one flat slice.
type pathSet struct {
	items []int32
	off   []int // path i is items[off[i]:off[i+1]]
	count []int32
	ids   []int32 // the paths to build from; build reorders them
}

func (p *pathSet) reset() {
	p.items, p.off, p.count, p.ids = p.items[:0], append(p.off[:0], 0), p.count[:0], p.ids[:0]
}

// close ends the path whose items were appended since the last close.
func (p *pathSet) close(count int32) {
	if p.off[len(p.off)-1] == len(p.items) {
		return // empty paths add nothing to a tree
	}
	p.ids = append(p.ids, int32(len(p.count)))
	p.count = append(p.count, count)
	p.off = append(p.off, len(p.items))
}

// len returns the number of items of path i.
func (p *pathSet) len(i int32) int { return p.off[i+1] - p.off[i] }

// item returns the d-th item of path i.
func (p *pathSet) item(i int32, d int) int32 { return p.items[p.off[i]+d] }

// miner holds the state of one mining run. Buffers are kept per recursion
// depth: the tree of depth d is read while the one of depth d+1 is built.
type miner struct {
	minCount int32
	maxLen   int
	out      *itemsetTable

	trees  []fpTree
	paths  []pathSet
	prefix []int32 // items of the current conditional base, deepest last
	freq   []int32 // scratch, by rank, zero between uses
	pos    []int32 // scratch, by rank: index in the tree's items
	bucket []int32 // scratch, by rank, zero between uses: radix counters
	keys   []int32 // scratch: the ranks a radix pass met
	aux    []int32 // scratch: radix scatter buffer
	fill   []int32 // scratch: where the header table's next node goes
	set    []int32 // scratch for emitted itemsets
	sel    []int32 // scratch for the items chosen from a chain
}

func newMiner(nRanks int, minCount int32, maxLen int, out *itemsetTable) *miner {
	return &miner{
		minCount: minCount,
		maxLen:   maxLen,
		out:      out,
		trees:    make([]fpTree, maxLen+1),
		paths:    make([]pathSet, maxLen+1),
		freq:     make([]int32, nRanks),
		pos:      make([]int32, nRanks),
		bucket:   make([]int32, nRanks),
		sel:      make([]int32, 0, maxLen),
	}
}

// build makes t from the paths of ps; t.items and t.counts must already
// hold the items of the paths, ascending, and their counts.
func (m *miner) build(t *fpTree, ps *pathSet) {
	t.nodes = append(t.nodes[:0], fpNode{item: -1, parent: -1})
	if len(ps.ids) > 0 {
		m.grow(t, ps, ps.ids, 0, 0)
	}

	// Header table: the nodes of each item, by a counting sort on rank.
	items := t.items
	t.start = slices.Grow(t.start[:0], len(items)+1)[:len(items)+1]
	clear(t.start)
	for i, r := range items {
		m.pos[r] = int32(i)
	}
	for _, n := range t.nodes[1:] {
		t.start[m.pos[n.item]+1]++
	}
	for i := 1; i < len(t.start); i++ {
		t.start[i] += t.start[i-1]
	}
	t.byItem = slices.Grow(t.byItem[:0], len(t.nodes)-1)[:len(t.nodes)-1]
	fill := append(m.fill[:0], t.start[:len(items)]...)
	for id := 1; id < len(t.nodes); id++ {
		i := m.pos[t.nodes[id].item]
		t.byItem[fill[i]] = int32(id)
		fill[i]++
	}
	m.fill = fill
}

// grow adds below parent the subtree of group: paths that share their
// first d items (the path down to parent) and have more. It orders them by
// their item at d and adds one child per distinct item, ascending, so that
// nodes are numbered depth first and a chain is numbered 1, 2, 3 ...
func (m *miner) grow(t *fpTree, ps *pathSet, group []int32, d int, parent int32) {
	m.partition(ps, group, d)
	for len(group) > 0 {
		item := ps.item(group[0], d)
		end, count := 0, int32(0)
		for end < len(group) && ps.item(group[end], d) == item {
			count += ps.count[group[end]]
			end++
		}
		t.nodes = append(t.nodes, fpNode{item: item, parent: parent, count: count})
		node := int32(len(t.nodes) - 1)
		longer := group[:0] // the run's paths that go on below node
		for _, p := range group[:end] {
			if ps.len(p) > d+1 {
				longer = append(longer, p)
			}
		}
		if len(longer) > 0 {
			m.grow(t, ps, longer, d+1, node)
		}
		group = group[end:]
	}
}

// partition orders group by the paths' item at d: a counting sort for
// large groups, whose cost does not grow with log n, a comparison sort of
// one integer key for small ones.
func (m *miner) partition(ps *pathSet, group []int32, d int) {
	if len(group) < 256 {
		slices.SortFunc(group, func(a, b int32) int { return cmp.Compare(ps.item(a, d), ps.item(b, d)) })
		return
	}
	keys := m.keys[:0]
	for _, p := range group {
		k := ps.item(p, d)
		if m.bucket[k] == 0 {
			keys = append(keys, k)
		}
		m.bucket[k]++
	}
	slices.Sort(keys)
	next := int32(0)
	for _, k := range keys {
		c := m.bucket[k]
		m.bucket[k] = next
		next += c
	}
	if cap(m.aux) < len(group) {
		m.aux = make([]int32, len(group))
	}
	aux := m.aux[:len(group)]
	for _, p := range group {
		k := ps.item(p, d)
		aux[m.bucket[k]] = p
		m.bucket[k]++
	}
	copy(group, aux)
	for _, k := range keys {
		m.bucket[k] = 0
	}
	m.keys = keys
}

// single reports whether t is one chain, whose itemsets need no recursion.
func (t *fpTree) single() bool {
	for i := 1; i < len(t.nodes); i++ {
		if t.nodes[i].parent != int32(i-1) {
			return false
		}
	}
	return true
}

// mine emits every frequent itemset of t joined with m.prefix[:depth].
func (m *miner) mine(t *fpTree, depth int) {
	if t.single() {
		m.chain(t.nodes[1:], depth)
		return
	}
	for x := len(t.items) - 1; x >= 0; x-- {
		m.prefix = append(m.prefix[:depth], t.items[x])
		m.emit(nil, depth+1, t.counts[x])
		if depth+1 < m.maxLen && x > 0 && m.conditional(t, x, depth+1) {
			m.mine(&m.trees[depth+1], depth+1)
		}
	}
}

// conditional builds, in m.trees[depth], the tree of the baskets holding
// t.items[x], restricted to the items still frequent among them; it
// reports false when none is.
func (m *miner) conditional(t *fpTree, x, depth int) bool {
	nodes := t.byItem[t.start[x]:t.start[x+1]]
	for _, id := range nodes {
		c := t.nodes[id].count
		for p := t.nodes[id].parent; p != 0; p = t.nodes[p].parent {
			m.freq[t.nodes[p].item] += c
		}
	}
	// Ancestors have lower ranks, so only t.items[:x] can have been counted.
	child := &m.trees[depth]
	items, counts := child.items[:0], child.counts[:0]
	for _, r := range t.items[:x] {
		if m.freq[r] >= m.minCount {
			items = append(items, r)
			counts = append(counts, m.freq[r])
			m.freq[r] = -1 // marks the items to keep
		} else {
			m.freq[r] = 0
		}
	}
	if len(items) == 0 {
		return false
	}
	ps := &m.paths[depth]
	ps.reset()
	for _, id := range nodes {
		from := len(ps.items)
		for p := t.nodes[id].parent; p != 0; p = t.nodes[p].parent {
			if r := t.nodes[p].item; m.freq[r] < 0 {
				ps.items = append(ps.items, r)
			}
		}
		slices.Reverse(ps.items[from:])
		ps.close(t.nodes[id].count)
	}
	for _, r := range items {
		m.freq[r] = 0
	}
	child.items, child.counts = items, counts
	m.build(child, ps)
	return true
}

// chain emits the itemsets of a single-path tree: every non-empty subset of
// the path (up to the length limit) joined with the prefix, counted by its
// deepest node. mine is only called below the length limit, so there is
// room for at least one path item.
func (m *miner) chain(path []fpNode, depth int) {
	sel := m.sel[:0]
	for i := len(path) - 1; i >= 0; i-- {
		// path[i] is the deepest chosen node; pick the others above it.
		m.subsets(path[:i], depth, append(sel, path[i].item), path[i].count)
	}
}

// subsets emits sel joined with every subset of above, all counted count.
// sel is in descending rank order (its first item is the deepest chosen),
// and so are the items appended to it.
func (m *miner) subsets(above []fpNode, depth int, sel []int32, count int32) {
	m.emit(sel, depth, count)
	if depth+len(sel) >= m.maxLen {
		return
	}
	for i := len(above) - 1; i >= 0; i-- {
		m.subsets(above[:i], depth, append(sel, above[i].item), count)
	}
}

// emit records extra ∪ prefix[:depth] with its count. prefix is in
// descending rank order and extra (from a chain, whose items rank below the
// prefix's) too, so the itemset is stored reversed: ascending.
func (m *miner) emit(extra []int32, depth int, count int32) {
	set := append(m.set[:0], m.prefix[:depth]...)
	set = append(set, extra...)
	slices.Reverse(set)
	m.out.add(set, count)
	m.set = set
}
