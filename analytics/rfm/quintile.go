package rfm

import "math"

// The scoring rule. A value's score is
//
//	score = 1 + floor(5 * below / n)
//
// where below is how many of the n values are strictly worse. Equal values
// have the same below, so a tie never straddles a boundary: the whole tie
// takes the score of its first member in ascending order (the rule of
// pandas' rank(method="min")). With distinct values each score holds a
// fifth of the customers; a large tie makes its own score larger and skips
// the scores it covers (60% one-time buyers all get F=1, and F=2 and F=3
// are empty).
//
// Since below only grows with the value, the score is a step function of
// the value with four steps: score >= s exactly when below >= K(s) with
// K(s) = ceil((s-1)*n/5), that is when the value is greater than the
// K(s)-th smallest value. So four order statistics, found by selection in
// linear time, score everyone; no sort, no ranks.

// cuts holds the four thresholds of one dimension: a value v scores
// 1 + (number of s in 0..3 with v > cut[s]).
type cuts [4]float64

// newCuts returns the thresholds of values. It reorders scratch, which must
// hold a copy of values (it is the selection's work space).
func newCuts(scratch []float64) cuts {
	n := len(scratch)
	var c cuts
	// Without a K(s)-th smallest (K(s) = 0 when n is small), every value
	// reaches score s: -Inf is below them all.
	var ks [4]int
	for s := 2; s <= 5; s++ {
		ks[s-2] = ((s-1)*n + 4) / 5 // ceil((s-1)*n/5)
	}
	// Select the largest rank first; the smaller ones then lie in the
	// part to its left, so each later selection works on less.
	hi, prevK := n, 0
	for i := 3; i >= 0; i-- {
		switch k := ks[i]; {
		case k == 0:
			c[i] = math.Inf(-1)
		case k == prevK: // small n: two thresholds on the same rank
			c[i] = c[i+1]
		default:
			c[i] = selectKth(scratch[:hi], k-1)
			hi, prevK = k-1, k
		}
	}
	return c
}

// histogramFits tells whether integers 0..maxValue are better counted in
// a histogram than selected: when the histogram is not much larger than
// the values themselves.
func histogramFits(maxValue, n int) bool { return maxValue <= 2*n+1<<16 }

// histogramCuts returns the thresholds of n values counted in hist
// (hist[v] values equal v). With negate, the thresholds are those of the
// negated values, for dimensions where smaller is better.
func histogramCuts(hist []int, n int, negate bool) cuts {
	var c cuts
	for i := range c {
		k := ((i+1)*n + 4) / 5 // K(s) for s = i+2
		if k == 0 {
			c[i] = math.Inf(-1)
			continue
		}
		// The k-th smallest: walk the histogram from the small end, which
		// is the large end of the raw values when negated.
		seen := 0
		for j := range hist {
			v := j
			if negate {
				v = len(hist) - 1 - j
			}
			seen += hist[v]
			if seen >= k {
				c[i] = float64(v)
				if negate {
					c[i] = -c[i]
				}
				break
			}
		}
	}
	return c
}

// score returns v's 1-5 score.
func (c *cuts) score(v float64) uint8 {
	s := uint8(1)
	for _, t := range c {
		if v > t {
			s++
		}
	}
	return s
}

// Quintiles returns the 1-5 score of each value, higher values scoring
// higher, by the rule above: score = 1 + floor(5*below/n), below being the
// number of values strictly smaller, so equal values always score the same.
// It does not modify values. NaN is not a value: the caller must filter it.
func Quintiles(values []float64) []uint8 {
	scratch := make([]float64, len(values))
	copy(scratch, values)
	c := newCuts(scratch)
	out := make([]uint8, len(values))
	for i, v := range values {
		out[i] = c.score(v)
	}
	return out
}

// selectKth returns the k-th smallest element (0-based) of a, partially
// reordering a so that a[:k] holds elements <= it and a[k+1:] elements >=
// it. Quickselect with a median-of-three pivot and three-way partitioning,
// so long runs of equal values (one-time buyers) cost one pass, not a
// quadratic number of them.
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		p := medianOfThree(a[lo], a[lo+(hi-lo)/2], a[hi])
		// Dutch national flag: a[lo:lt] < p, a[lt:i] == p, a[gt+1:hi+1] > p.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch v := a[i]; {
			case v < p:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case v > p:
				a[i], a[gt] = a[gt], a[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return p
		}
	}
	return a[k]
}

func medianOfThree(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		return a
	}
	return b
}
