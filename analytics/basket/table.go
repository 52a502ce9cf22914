package basket

import "slices"

// itemsetTable stores the mined itemsets flat (items ascending by rank)
// with an open-addressing index, so that rule generation finds an
// antecedent's count without a map of strings or an allocation per lookup.
type itemsetTable struct {
	items []int32
	off   []int // itemset i is items[off[i]:off[i+1]]
	count []int32
	slots []int32 // itemset index + 1; 0 is an empty slot
}

func newItemsetTable() *itemsetTable { return &itemsetTable{off: []int{0}} }

func (tb *itemsetTable) add(set []int32, count int32) {
	tb.items = append(tb.items, set...)
	tb.off = append(tb.off, len(tb.items))
	tb.count = append(tb.count, count)
}

func (tb *itemsetTable) len() int { return len(tb.count) }

func (tb *itemsetTable) at(i int) []int32 { return tb.items[tb.off[i]:tb.off[i+1]] }

// index builds the lookup index over all itemsets added so far.
func (tb *itemsetTable) index() {
	size := 1
	for size < 2*tb.len() {
		size <<= 1
	}
	tb.slots = make([]int32, size)
	mask := uint64(size - 1)
	for i := range tb.len() {
		h := hashItems(tb.at(i)) & mask
		for tb.slots[h] != 0 {
			h = (h + 1) & mask
		}
		tb.slots[h] = int32(i + 1)
	}
}

// lookup returns the count of set, or -1 when it was not mined.
func (tb *itemsetTable) lookup(set []int32) int32 {
	mask := uint64(len(tb.slots) - 1)
	for h := hashItems(set) & mask; tb.slots[h] != 0; h = (h + 1) & mask {
		i := int(tb.slots[h] - 1)
		if slices.Equal(tb.at(i), set) {
			return tb.count[i]
		}
	}
	return -1
}

// hashItems is FNV-1a over the items with a final avalanche (from
// splitmix64), because FNV's low bits alone, which the mask keeps, cluster
// for small integers.
func hashItems(set []int32) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range set {
		h ^= uint64(uint32(x))
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
