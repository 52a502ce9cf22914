package rfm_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/touchbase/touchbase/analytics/rfm"
)

// bruteQuintiles is the rule written out: 1 + floor(5*below/n).
func bruteQuintiles(values []float64) []uint8 {
	out := make([]uint8, len(values))
	for i, v := range values {
		below := 0
		for _, w := range values {
			if w < v {
				below++
			}
		}
		out[i] = uint8(1 + 5*below/len(values))
	}
	return out
}

func TestQuintiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []float64
		want   []uint8
	}{
		{"empty", nil, []uint8{}},
		{"one", []float64{7}, []uint8{1}},
		{"two", []float64{2, 1}, []uint8{3, 1}},
		{"three", []float64{3, 1, 2}, []uint8{4, 1, 2}},
		{"five distinct", []float64{50, 10, 40, 20, 30}, []uint8{5, 1, 4, 2, 3}},
		{"ten distinct", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []uint8{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}},
		{"all equal", []float64{4, 4, 4, 4, 4, 4}, []uint8{1, 1, 1, 1, 1, 1}},
		// Six of ten one-time buyers: they all score 1, and 2 skips to 4
		// because six customers are below it.
		{"large tie at the bottom", []float64{1, 1, 1, 1, 1, 1, 2, 3, 4, 5}, []uint8{1, 1, 1, 1, 1, 1, 4, 4, 5, 5}},
		// The tie straddles the 2/3 boundary (positions 3-6 of 10): all of
		// it takes the score of its first member.
		{"tie across a boundary", []float64{1, 2, 3, 5, 5, 5, 5, 8, 9, 10}, []uint8{1, 1, 2, 2, 2, 2, 2, 4, 5, 5}},
		{"negative values", []float64{-3, -1, 0, 2, -2}, []uint8{1, 3, 4, 5, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := rfm.Quintiles(tt.values)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Quintiles(%v) = %v, want %v", tt.values, got, tt.want)
			}
			if want := bruteQuintiles(tt.values); !slices.Equal(got, want) {
				t.Errorf("Quintiles(%v) = %v, rule gives %v", tt.values, got, want)
			}
		})
	}
}

// TestQuintilesRule checks the selection against the rule written out on
// random data of every small size, with many ties and without.
func TestQuintilesRule(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 60; n++ {
		for _, distinct := range []int{1, 2, 3, 7, 1000} {
			values := make([]float64, n)
			for i := range values {
				values[i] = float64(rng.IntN(distinct))
			}
			orig := slices.Clone(values)
			got := rfm.Quintiles(values)
			if want := bruteQuintiles(values); !slices.Equal(got, want) {
				t.Fatalf("n=%d distinct=%d: Quintiles(%v) = %v, want %v", n, distinct, values, got, want)
			}
			if !slices.Equal(values, orig) {
				t.Fatalf("Quintiles modified its input")
			}
		}
	}
}

// TestQuintilesTiesAndOrder: equal values always score the same, scores
// grow with values, and shuffling the input moves the scores with their
// values.
func TestQuintilesTiesAndOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	values := make([]float64, 100_000)
	for i := range values {
		values[i] = float64(rng.IntN(300)) // about 330 customers per value
	}
	scores := rfm.Quintiles(values)
	byValue := map[float64]uint8{}
	for i, v := range values {
		if s, ok := byValue[v]; ok && s != scores[i] {
			t.Fatalf("value %v scored both %d and %d", v, s, scores[i])
		}
		byValue[v] = scores[i]
	}
	for v, s := range byValue {
		for w, z := range byValue {
			if v < w && s > z {
				t.Fatalf("value %v scored %d above value %v's %d", v, s, w, z)
			}
		}
	}
	perm := rng.Perm(len(values))
	shuffled := make([]float64, len(values))
	for i, p := range perm {
		shuffled[i] = values[p]
	}
	for i, s := range rfm.Quintiles(shuffled) {
		if s != byValue[shuffled[i]] {
			t.Fatalf("after shuffling, value %v scored %d, before %d", shuffled[i], s, byValue[shuffled[i]])
		}
	}
	// With about 330 per value the fifths are within one value's tie.
	var counts [6]int
	for _, s := range scores {
		counts[s]++
	}
	for s := 1; s <= 5; s++ {
		if counts[s] < 19_000 || counts[s] > 21_000 {
			t.Errorf("score %d holds %d of 100000, want about a fifth", s, counts[s])
		}
	}
}
