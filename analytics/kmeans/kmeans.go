// Package kmeans clusters points with k-means: greedy k-means++ seeding,
// several seeded restarts, Lloyd iterations on several goroutines, and k
// chosen by the mean silhouette when it is not given.
//
// Points are a flat row-major []float64 of n rows of d features, which
// keeps 1M customers × 3 features in one 24 MB array the kernels stream
// through. Results are deterministic: the same points, options and seed
// give the same bits whatever Options.Threads is.
//
// For customer data, Classify does the whole job: log-standardise the
// raw features (Scaler), fit, describe each cluster in words (Describe)
// and keep cluster numbers stable across runs (Renumber).
package kmeans

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
)

// Options configure Fit. The zero value chooses k by silhouette in 2..10
// with the defaults below.
type Options struct {
	// K is the number of clusters; 0 chooses it by the mean silhouette
	// among KMin..KMax (default 2..10).
	K, KMin, KMax int
	// Restarts is the number of k-means++ seedings, each followed by
	// Lloyd iterations; the run with the lowest inertia is kept. Default 3.
	Restarts int
	// MaxIter bounds the Lloyd iterations of one run. Default 300.
	MaxIter int
	// Tol stops a run when the centres moved, in total squared distance,
	// by at most Tol times the mean variance of the features: scikit-
	// learn's rule, so its tol=1e-4 and ours mean the same. Default 1e-4;
	// negative means 0 (stop only on unchanged labels or MaxIter).
	Tol float64
	// Seed drives the seedings and the silhouette sample.
	Seed uint64
	// Threads is the number of goroutines of the heavy loops. Default
	// GOMAXPROCS.
	Threads int
	// Init, when set, holds K×d initial centres: one Lloyd run starts
	// from them (no seeding, no restarts), and the clusters keep the
	// order of Init. K must be given.
	Init []float64
	// SampleSize is the number of points, drawn with Seed, that the
	// silhouette is computed on (it costs SampleSize² distances), and
	// that k is chosen on when K is 0. Default 10,000; all points when
	// there are fewer.
	SampleSize int
	// Silhouette asks for the silhouette of the result when K is given
	// (it is always computed when k is chosen).
	Silhouette bool
	// Progress, when set, is told how many of a fit's steps are done, out
	// of how many, after each: every k tried on the sample, every run of
	// the final fit, and the silhouette.
	Progress func(done, total int)
}

// Result is a clustering.
type Result struct {
	// K and D are the numbers of clusters and features.
	K, D int
	// Labels holds each point's cluster, 0..K-1. Clusters are numbered
	// by decreasing size (ties by centroid coordinates), except with
	// Options.Init, where cluster j started from Init's j-th centre.
	Labels []int32
	// Centroids holds the K×D cluster centres, row-major.
	Centroids []float64
	// Sizes holds the number of points of each cluster.
	Sizes []int
	// Inertia is the sum of the squared distances of the points to their
	// centres.
	Inertia float64
	// Iterations is the number of Lloyd iterations of the kept run;
	// Converged is false when it stopped at MaxIter.
	Iterations int
	Converged  bool
	// Silhouette is the mean silhouette of the result on the sample, in
	// -1..1 (higher is better separated); NaN when not computed.
	Silhouette float64
	// SilhouetteByK holds, when k was chosen, the score of each k tried.
	SilhouetteByK []KScore
}

// KScore is the mean silhouette of one k, from a fit on the sample.
type KScore struct {
	K          int
	Silhouette float64
	Inertia    float64
}

// Centroid returns cluster j's centre.
func (r *Result) Centroid(j int) []float64 { return r.Centroids[j*r.D : (j+1)*r.D] }

// withDefaults fills in the zero options.
func (o Options) withDefaults() Options {
	if o.KMin == 0 {
		o.KMin = 2
	}
	if o.KMax == 0 {
		o.KMax = 10
	}
	if o.Restarts <= 0 {
		o.Restarts = 3
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 300
	}
	switch {
	case o.Tol == 0:
		o.Tol = 1e-4
	case o.Tol < 0:
		o.Tol = 0
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.SampleSize <= 0 {
		o.SampleSize = 10_000
	}
	return o
}

// check validates a point array.
func check(points []float64, d int) error {
	if d < 1 {
		return fmt.Errorf("kmeans: %d features", d)
	}
	if len(points)%d != 0 {
		return fmt.Errorf("kmeans: %d values are not rows of %d features", len(points), d)
	}
	for i, v := range points {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("kmeans: point %d feature %d is %v", i/d, i%d, v)
		}
	}
	return nil
}

// sampleStream is the random stream of the silhouette sample; the
// restarts use streams 0, 1, 2...
const sampleStream = 1 << 63

// Fit clusters the n×d points (row-major) as opts say.
func Fit(points []float64, d int, opts Options) (*Result, error) {
	if err := check(points, d); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	n := len(points) / d
	switch {
	case o.Init != nil && o.K == 0:
		return nil, fmt.Errorf("kmeans: initial centres need K")
	case o.Init != nil && len(o.Init) != o.K*d:
		return nil, fmt.Errorf("kmeans: %d initial values for %d centres of %d features", len(o.Init), o.K, d)
	case o.K < 0:
		return nil, fmt.Errorf("kmeans: k = %d", o.K)
	case o.K > n:
		return nil, fmt.Errorf("kmeans: %d clusters of %d points", o.K, n)
	case o.K == 0 && (o.KMin < 2 || o.KMax < o.KMin):
		return nil, fmt.Errorf("kmeans: k range %d..%d (silhouette needs k >= 2)", o.KMin, o.KMax)
	case o.K == 0 && n < 3:
		return nil, fmt.Errorf("kmeans: %d points are too few to choose k", n)
	}
	if o.Init != nil {
		if err := check(o.Init, d); err != nil {
			return nil, fmt.Errorf("initial centres: %w", err)
		}
	}

	var sample []int
	if o.K == 0 || o.Silhouette {
		sample = sampleIndices(n, o.SampleSize, rand.New(rand.NewPCG(o.Seed, sampleStream)))
	}
	// The steps, for Progress.
	done, total := 0, o.Restarts
	if o.Init != nil {
		total = 1
	}
	if o.K == 0 {
		total += max(0, min(o.KMax, len(sample)-1)-o.KMin+1) + 1 // the candidates, the silhouette
	} else if o.Silhouette {
		total++
	}
	step := func() {
		done++
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	var byK []KScore
	k := o.K
	if k == 0 {
		var err error
		if k, byK, err = chooseK(points, d, sample, o, step); err != nil {
			return nil, err
		}
	}
	res := fit(points, d, k, o, step)
	res.SilhouetteByK = byK
	res.Silhouette = math.NaN()
	if byK != nil || o.Silhouette {
		res.Silhouette = sampleSilhouette(points, d, res.Labels, k, sample, o.Threads)
		step()
	}
	return res, nil
}

// fit runs o.Restarts seeded runs with k clusters (or one from o.Init)
// and keeps the best; ran, when not nil, is called after each run.
func fit(x []float64, d, k int, o Options, ran func()) *Result {
	tol := o.Tol * meanVariance(x, d)
	var best lloydRun
	if o.Init != nil {
		best = lloyd(x, d, slices.Clone(o.Init), o.MaxIter, tol, o.Threads)
		if ran != nil {
			ran()
		}
	} else {
		for r := range o.Restarts {
			rng := rand.New(rand.NewPCG(o.Seed, uint64(r)))
			run := lloyd(x, d, plusPlus(x, d, k, rng, o.Threads), o.MaxIter, tol, o.Threads)
			// The first of equal inertias, for determinism.
			if r == 0 || run.inertia < best.inertia {
				best = run
			}
			if ran != nil {
				ran()
			}
		}
	}
	res := &Result{
		K: k, D: d, Labels: best.labels, Centroids: best.centres,
		Sizes: make([]int, k), Inertia: best.inertia,
		Iterations: best.iterations, Converged: best.converged,
	}
	for _, l := range res.Labels {
		res.Sizes[l]++
	}
	if o.Init == nil {
		res.sortBySize()
	}
	return res
}

// sortBySize renumbers the clusters largest first, so that the numbering
// says something and does not depend on which seed found which cluster.
func (r *Result) sortBySize() {
	order := make([]int, r.K)
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(r.Sizes[b], r.Sizes[a]); c != 0 {
			return c
		}
		return slices.Compare(r.Centroid(a), r.Centroid(b))
	})
	rank := make([]int32, r.K)
	centroids := make([]float64, len(r.Centroids))
	sizes := make([]int, r.K)
	for newJ, oldJ := range order {
		rank[oldJ] = int32(newJ)
		copy(centroids[newJ*r.D:(newJ+1)*r.D], r.Centroid(oldJ))
		sizes[newJ] = r.Sizes[oldJ]
	}
	for i, l := range r.Labels {
		r.Labels[i] = rank[l]
	}
	r.Centroids, r.Sizes = centroids, sizes
}

// meanVariance is the mean over features of their (population) variance,
// which scales Tol as in scikit-learn.
func meanVariance(x []float64, d int) float64 {
	n := len(x) / d
	if n == 0 {
		return 0
	}
	total := 0.0
	for f := range d {
		mean := 0.0
		for i := range n {
			mean += x[i*d+f]
		}
		mean /= float64(n)
		v := 0.0
		for i := range n {
			t := x[i*d+f] - mean
			v += t * t
		}
		total += v / float64(n)
	}
	return total / float64(d)
}

// chooseK fits every k of the range on the sample and returns the one
// with the highest mean silhouette (the smallest on a tie, and when no k
// has one because every sampled point is the same). Fitting on the
// sample rather than on all points keeps the search to seconds on a
// million customers; the caller then fits the chosen k on all of them.
func chooseK(x []float64, d int, sample []int, o Options, tried func()) (int, []KScore, error) {
	sx := gather(x, d, sample)
	m := len(sample)
	var scores []KScore
	best := 0
	for k := o.KMin; k <= min(o.KMax, m-1); k++ {
		r := fit(sx, d, k, o, nil)
		s := silhouette(sx, d, r.Labels, k, o.Threads)
		tried()
		scores = append(scores, KScore{K: k, Silhouette: s, Inertia: r.Inertia})
		// NaN (every sampled point in one cluster) never wins.
		if s > scores[best].Silhouette || (math.IsNaN(scores[best].Silhouette) && !math.IsNaN(s)) {
			best = len(scores) - 1
		}
	}
	if len(scores) == 0 {
		return 0, nil, fmt.Errorf("kmeans: no k in %d..%d fits %d sampled points", o.KMin, o.KMax, m)
	}
	return scores[best].K, scores, nil
}

// gather copies the rows idx of x.
func gather(x []float64, d int, idx []int) []float64 {
	out := make([]float64, 0, len(idx)*d)
	for _, i := range idx {
		out = append(out, x[i*d:(i+1)*d]...)
	}
	return out
}

// sampleIndices draws m of 0..n-1 without replacement, in increasing
// order (Knuth's selection sampling), or returns all of them when n <= m.
func sampleIndices(n, m int, rng *rand.Rand) []int {
	if n <= m {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, 0, m)
	for i := 0; len(idx) < m; i++ {
		// Take i with probability (still needed)/(still left).
		if rng.IntN(n-i) < m-len(idx) {
			idx = append(idx, i)
		}
	}
	return idx
}
