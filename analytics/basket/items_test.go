package basket_test

import (
	"slices"
	"testing"

	"github.com/touchbase/touchbase/analytics/basket"
)

func TestItems(t *testing.T) {
	it := basket.NewItems()
	a, b := it.Intern("apple"), it.Intern("banana")
	if a != 0 || b != 1 || it.Intern("apple") != 0 || it.Len() != 2 {
		t.Fatalf("ids %d %d, len %d: want dense ids in first-seen order", a, b, it.Len())
	}
	if id, ok := it.ID("banana"); !ok || id != 1 {
		t.Errorf("ID(banana) = %d, %v", id, ok)
	}
	if _, ok := it.ID("cherry"); ok {
		t.Error("ID(cherry) found an item never interned")
	}
	if got := it.Names([]int32{1, 0}); !slices.Equal(got, []string{"banana", "apple"}) {
		t.Errorf("Names = %q", got)
	}
}

func TestBuilder(t *testing.T) {
	b := basket.NewBuilder(nil)
	b.Add("milk", "bread", "milk", "eggs") // the repeated milk counts once
	b.Add()
	if err := b.AddIDs(2, 0, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.AddIDs(0, 7); err == nil {
		t.Error("AddIDs accepted an id the dictionary does not know")
	}
	if b.Len() != 3 {
		t.Errorf("Len = %d after three baskets and a rejected one", b.Len())
	}
	tx := b.Transactions()
	for _, c := range []struct {
		name string
		i    int
		want []int32
	}{
		{"sorted and deduplicated", 0, []int32{0, 1, 2}},
		{"empty basket kept", 1, []int32{}},
		{"ids deduplicated", 2, []int32{0, 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := tx.At(c.i); !slices.Equal(got, c.want) {
				t.Errorf("At(%d) = %v, want %v", c.i, got, c.want)
			}
		})
	}
	if tx.Len() != 3 || tx.Size() != 5 {
		t.Errorf("Len %d Size %d, want 3 and 5", tx.Len(), tx.Size())
	}
	if got := tx.ItemCounts(); !slices.Equal(got, []int{2, 1, 2}) {
		t.Errorf("ItemCounts = %v, want [2 1 2]", got)
	}

	// The Builder starts over but keeps its dictionary, so ids agree.
	b.Add("eggs", "jam")
	next := b.Transactions()
	if next.Len() != 1 || next.Items() != tx.Items() || !slices.Equal(next.At(0), []int32{2, 3}) {
		t.Errorf("second batch: %d baskets, basket %v", next.Len(), next.At(0))
	}
	if tx.Len() != 3 {
		t.Errorf("first batch changed to %d baskets", tx.Len())
	}
}
