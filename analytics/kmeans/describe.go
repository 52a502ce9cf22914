package kmeans

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// DefaultCut is how far, in standard deviations, a centroid must stand
// from the population's mean on a feature for Describe to mention it.
const DefaultCut = 0.5

// Describe puts a cluster into words from its centroid z in standardised
// units, where the population's mean is 0: each feature on which z is
// above +cut says its High word, below -cut its Low word, strongest first
// ("high spend, frequent, recent"); "average" when none stands out. A
// feature with a Bottom word says it instead when the cluster's mean in
// original units (mean, which may be nil) is at most BottomAt. A cut of
// 0 means DefaultCut.
func Describe(features []Feature, z, mean []float64, cut float64) string {
	if cut <= 0 {
		cut = DefaultCut
	}
	type word struct {
		text     string
		strength float64
	}
	var words []word
	for f, ft := range features {
		switch {
		case ft.Bottom != "" && mean != nil && mean[f] <= ft.BottomAt:
			words = append(words, word{ft.Bottom, math.Abs(z[f])})
		case z[f] > cut:
			words = append(words, word{ft.high(), z[f]})
		case z[f] < -cut:
			words = append(words, word{ft.low(), -z[f]})
		}
	}
	if len(words) == 0 {
		return "average"
	}
	slices.SortStableFunc(words, func(a, b word) int { return cmp.Compare(b.strength, a.strength) })
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = w.text
	}
	return strings.Join(texts, ", ")
}
