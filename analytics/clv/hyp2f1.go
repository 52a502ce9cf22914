package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

const (
	// seriesMaxZ bounds where the plain power series is used: below it the
	// series converges in a few hundred terms at most; above it gonum's
	// Cephes port, which transforms the argument, is faster and as exact.
	seriesMaxZ = 0.9
	// seriesMaxTerms is a safety net; with z <= seriesMaxZ and the
	// parameters BG/NBD produces the series stops long before.
	seriesMaxTerms = 5000
)

// hyp2f1 is the Gauss hypergeometric function 2F1(a, b; c; z) for
// 0 <= z < 1 and c > 0. It sums the power series itself for z up to
// seriesMaxZ, several times faster than the general routine, and hands
// larger z (or a series that does not settle) to mathext.Hypergeo.
func hyp2f1(a, b, c, z float64) float64 {
	if z == 0 {
		return 1
	}
	if z <= seriesMaxZ {
		// Terms may pass through zero or change sign while n < -a or
		// n < -b; only after that do they shrink monotonically, so only
		// then is a small term a sign of convergence.
		settled := math.Max(math.Max(-a, -b), 0)
		sum, term := 1.0, 1.0
		for n := 0; n < seriesMaxTerms; n++ {
			fn := float64(n)
			term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
			sum += term
			if fn+1 > settled && math.Abs(term) <= 1e-17*math.Abs(sum) {
				return sum
			}
		}
	}
	return mathext.Hypergeo(a, b, c, z)
}
