package basket

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Items interns item names as dense ids 0, 1, 2 ... in the order they are
// first seen. Ids are int32 because a store has far fewer than 2^31
// products and baskets of int32 take half the memory of baskets of int.
//
// Items only grows, so ids handed out stay valid. It is not safe for
// concurrent use while names are being added.
type Items struct {
	names []string
	ids   map[string]int32
}

// NewItems returns an empty dictionary.
func NewItems() *Items {
	return &Items{ids: make(map[string]int32)}
}

// Intern returns the id of name, adding it when it is new. Names are taken
// as given: no trimming, and "" is a name like any other.
func (it *Items) Intern(name string) int32 {
	if id, ok := it.ids[name]; ok {
		return id
	}
	return it.add(name)
}

// internBytes is Intern for a name still in the reader's buffer: the map
// lookup with string(b) does not allocate, so only new names are copied.
func (it *Items) internBytes(b []byte) int32 {
	if id, ok := it.ids[string(b)]; ok {
		return id
	}
	return it.add(string(b))
}

func (it *Items) add(name string) int32 {
	if len(it.names) == math.MaxInt32 {
		// Unreachable for any store; a panic rather than a wrapped id.
		panic("basket: more than 2^31-1 distinct items")
	}
	id := int32(len(it.names))
	it.names = append(it.names, name)
	it.ids[name] = id
	return id
}

// ID returns the id of name and whether it is known.
func (it *Items) ID(name string) (int32, bool) {
	id, ok := it.ids[name]
	return id, ok
}

// Name returns the name of id; it panics when id is out of range, like an
// index out of range.
func (it *Items) Name(id int32) string { return it.names[id] }

// Names returns the names of ids, in the same order.
func (it *Items) Names(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = it.names[id]
	}
	return out
}

// Len returns the number of distinct items.
func (it *Items) Len() int { return len(it.names) }

// nameOrder returns, for every id, its position when the names are sorted,
// so that output can be ordered by name with integer comparisons.
func (it *Items) nameOrder() []int32 {
	byName := make([]int32, len(it.names))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int {
		if c := cmp.Compare(it.names[a], it.names[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	order := make([]int32, len(it.names))
	for pos, id := range byName {
		order[id] = int32(pos)
	}
	return order
}

// Transactions are baskets of item ids in compressed sparse rows: basket i
// is ids[off[i]:off[i+1]], sorted ascending and without duplicates. A
// million orders of five products cost about 28 MB instead of the ~100 MB
// of a [][]int32.
//
// Transactions never change once built, so [Mine] and [Together] may run
// on them concurrently, as long as no Builder is adding names to their
// Items at the same time.
type Transactions struct {
	items *Items
	off   []int // len = number of baskets + 1
	ids   []int32
}

// Len returns the number of baskets, empty ones included.
func (t *Transactions) Len() int { return len(t.off) - 1 }

// At returns basket i: item ids, ascending, without duplicates. The slice
// shares the Transactions' memory and must not be modified.
func (t *Transactions) At(i int) []int32 {
	return t.ids[t.off[i]:t.off[i+1]:t.off[i+1]]
}

// Items returns the dictionary of the baskets' item ids. It may know more
// items than appear in the baskets (when shared with other Transactions).
func (t *Transactions) Items() *Items { return t.items }

// Size returns the number of (basket, item) pairs, the non-zero cells of
// the basket × item matrix; Size / (Len × Items().Len()) is what arules
// calls the density.
func (t *Transactions) Size() int { return len(t.ids) }

// checkSize reports whether t fits the int32 counts, node numbers and
// offsets of mining: fewer than 2^31 baskets and 2^31 items in all.
func (t *Transactions) checkSize() error {
	if t.Len() > math.MaxInt32 || len(t.ids) > math.MaxInt32 {
		return fmt.Errorf("basket: %d baskets of %d items in all, more than the 2^31-1 that mining counts", t.Len(), len(t.ids))
	}
	return nil
}

// ItemCounts returns, for every item id, the number of baskets that hold it.
func (t *Transactions) ItemCounts() []int {
	counts := make([]int, t.items.Len())
	for _, id := range t.ids {
		counts[id]++
	}
	return counts
}

// Builder collects baskets into [Transactions].
type Builder struct {
	items *Items
	off   []int
	ids   []int32
}

// NewBuilder returns a Builder that interns names in items; nil starts a
// new dictionary. Sharing one dictionary between several Builders gives
// their Transactions the same ids.
func NewBuilder(items *Items) *Builder {
	if items == nil {
		items = NewItems()
	}
	return &Builder{items: items, off: []int{0}}
}

// Add appends one basket of item names; repeated names count once, as a
// basket either holds a product or not. Names are not trimmed.
func (b *Builder) Add(names ...string) {
	for _, n := range names {
		b.ids = append(b.ids, b.items.Intern(n))
	}
	b.close()
}

// AddIDs appends one basket of item ids from the Builder's dictionary;
// repeated ids count once. An id the dictionary does not know is an error
// and adds nothing.
func (b *Builder) AddIDs(ids ...int32) error {
	n := int32(b.items.Len())
	for _, id := range ids {
		if id < 0 || id >= n {
			return fmt.Errorf("basket: item id %d not in the dictionary of %d items", id, n)
		}
	}
	b.ids = append(b.ids, ids...)
	b.close()
	return nil
}

// close sorts and deduplicates the basket being added and records its end.
func (b *Builder) close() {
	start := b.off[len(b.off)-1]
	basket := b.ids[start:]
	slices.Sort(basket)
	b.ids = b.ids[:start+len(slices.Compact(basket))]
	b.off = append(b.off, len(b.ids))
}

// Len returns the number of baskets added so far.
func (b *Builder) Len() int { return len(b.off) - 1 }

// Transactions returns the baskets added so far and empties the Builder,
// which keeps its dictionary for the next batch.
func (b *Builder) Transactions() *Transactions {
	t := &Transactions{items: b.items, off: slices.Clip(b.off), ids: slices.Clip(b.ids)}
	b.off, b.ids = []int{0}, nil
	return t
}
