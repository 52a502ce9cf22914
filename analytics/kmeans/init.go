package kmeans

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// PlusPlus picks k initial centres among the n×d points by greedy
// k-means++ (Arthur and Vassilvitskii 2007, in the variant scikit-learn
// uses): the first centre is a point drawn uniformly, and each next one
// the best of 2+ln(k) candidates drawn with probability proportional to
// their squared distance to the nearest centre so far, best meaning the
// one that leaves the smallest total of those distances. The same seed
// gives the same centres, whatever threads is (at least 1 is used).
func PlusPlus(points []float64, d, k int, seed uint64, threads int) ([]float64, error) {
	if err := check(points, d); err != nil {
		return nil, err
	}
	n := len(points) / d
	if k < 1 || k > n {
		return nil, fmt.Errorf("kmeans: cannot pick %d centres among %d points", k, n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b2b))
	return plusPlus(points, d, k, rng, max(threads, 1)), nil
}

func plusPlus(x []float64, d, k int, rng *rand.Rand, threads int) []float64 {
	n := len(x) / d
	p := pool{n: n, threads: threads}
	nc := p.chunks()
	centres := make([]float64, 0, k*d)
	first := rng.IntN(n)
	centres = append(centres, x[first*d:(first+1)*d]...)

	// closest[i] is point i's squared distance to its nearest centre, and
	// chunkPot[c] the sum of closest over chunk c: drawing a point walks
	// the chunk sums, then one chunk, instead of all n points.
	closest := make([]float64, n)
	chunkPot := make([]float64, nc)
	p.run(func(c, lo, hi int) {
		s := 0.0
		for i := lo; i < hi; i++ {
			closest[i] = sqDist(x[i*d:(i+1)*d], centres[:d])
			s += closest[i]
		}
		chunkPot[c] = s
	})

	trials := 2 + int(math.Log(float64(k)))
	cand := make([]int, trials)
	candPot := make([]float64, nc*trials) // per chunk, per candidate
	for len(centres) < k*d {
		pot := 0.0
		for _, s := range chunkPot {
			pot += s
		}
		for t := range cand {
			cand[t] = draw(closest, chunkPot, pot, rng)
		}
		// The total each candidate would leave, chunk by chunk.
		p.run(func(c, lo, hi int) {
			cp := candPot[c*trials : (c+1)*trials]
			for t, ci := range cand {
				cx := x[ci*d : (ci+1)*d]
				s := 0.0
				for i := lo; i < hi; i++ {
					s += min(closest[i], sqDist(x[i*d:(i+1)*d], cx))
				}
				cp[t] = s
			}
		})
		best, bestPot := 0, math.Inf(1)
		for t := range cand {
			s := 0.0
			for c := range nc {
				s += candPot[c*trials+t]
			}
			if s < bestPot {
				best, bestPot = t, s
			}
		}
		cx := x[cand[best]*d : (cand[best]+1)*d]
		centres = append(centres, cx...)
		p.run(func(c, lo, hi int) {
			s := 0.0
			for i := lo; i < hi; i++ {
				closest[i] = min(closest[i], sqDist(x[i*d:(i+1)*d], cx))
				s += closest[i]
			}
			chunkPot[c] = s
		})
	}
	return centres
}

// draw returns a point index with probability closest[i]/pot, or a
// uniform one when every point already sits on a centre (pot 0).
func draw(closest, chunkPot []float64, pot float64, rng *rand.Rand) int {
	if pot <= 0 {
		return rng.IntN(len(closest))
	}
	r := rng.Float64() * pot
	for c, s := range chunkPot {
		if r >= s && c < len(chunkPot)-1 {
			r -= s
			continue
		}
		lo := c * chunkSize
		hi := min(lo+chunkSize, len(closest))
		last := lo
		for i := lo; i < hi; i++ {
			if closest[i] == 0 {
				continue
			}
			last = i
			if r < closest[i] {
				return i
			}
			r -= closest[i]
		}
		// Rounding left r just above the chunk's sum: its last point
		// with a non-zero weight.
		return last
	}
	return len(closest) - 1
}
