package kmeans

import (
	"fmt"
	"math"
)

// Silhouette returns the mean silhouette of the n×d points labelled
// 0..k-1, as scikit-learn's silhouette_score computes it with Euclidean
// distances: for each point, a is its mean distance to the other points of
// its cluster and b the smallest mean distance to another cluster's
// points, and its silhouette is (b-a)/max(a, b), or 0 alone in its
// cluster. It costs n² distances: pass a sample of large data sets. It
// returns NaN with fewer than two clusters present.
func Silhouette(points []float64, d int, labels []int32, k int, threads int) (float64, error) {
	n := len(labels)
	if d < 1 || len(points) != n*d {
		return 0, fmt.Errorf("kmeans: %d labels for %d values of %d features", n, len(points), d)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= k {
			return 0, fmt.Errorf("kmeans: point %d has label %d, not in 0..%d", i, l, k-1)
		}
	}
	return silhouette(points, d, labels, k, threads), nil
}

// silhouette is Silhouette on labels known to be valid.
func silhouette(points []float64, d int, labels []int32, k int, threads int) float64 {
	n := len(labels)
	sizes := make([]int, k)
	for _, l := range labels {
		sizes[l]++
	}
	present := 0
	for _, s := range sizes {
		if s > 0 {
			present++
		}
	}
	if present < 2 {
		return math.NaN()
	}
	// Small chunks: each point costs n distances, so chunks of thousands
	// of points would be too coarse to share evenly between threads.
	p := pool{n: n, threads: max(threads, 1), size: 64}
	partial := make([]float64, p.chunks())
	p.run(func(c, lo, hi int) {
		dist := make([]float64, k) // summed distance to each cluster
		s := 0.0
		for i := lo; i < hi; i++ {
			clear(dist)
			pi := points[i*d : (i+1)*d]
			for j := range n {
				dist[labels[j]] += math.Sqrt(sqDist(pi, points[j*d:(j+1)*d]))
			}
			own := labels[i]
			if sizes[own] == 1 {
				continue // silhouette 0
			}
			a := dist[own] / float64(sizes[own]-1)
			b := math.Inf(1)
			for j, t := range dist {
				if int32(j) != own && sizes[j] > 0 {
					b = min(b, t/float64(sizes[j]))
				}
			}
			if m := max(a, b); m > 0 {
				s += (b - a) / m
			}
		}
		partial[c] = s
	})
	total := 0.0
	for _, s := range partial {
		total += s
	}
	return total / float64(n)
}

// sampleSilhouette is the silhouette of the labelled points at idx.
func sampleSilhouette(x []float64, d int, labels []int32, k int, idx []int, threads int) float64 {
	sl := make([]int32, len(idx))
	for j, i := range idx {
		sl[j] = labels[i]
	}
	return silhouette(gather(x, d, idx), d, sl, k, threads)
}
