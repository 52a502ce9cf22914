package kmeans_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/analytics/kmeans"
)

// blobs returns perBlob points around each of the centres (rows of d),
// with standard deviation sd, shuffled, and each point's blob.
func blobs(centres [][]float64, perBlob int, sd float64, seed uint64) ([]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	d := len(centres[0])
	n := perBlob * len(centres)
	order := rng.Perm(n)
	x := make([]float64, n*d)
	truth := make([]int, n)
	for i, o := range order {
		b := o % len(centres)
		truth[i] = b
		for f := range d {
			x[i*d+f] = centres[b][f] + sd*rng.NormFloat64()
		}
	}
	return x, truth
}

var fourBlobs = [][]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}}

// samePartition tells whether labels and truth group the points alike.
func samePartition(labels []int32, truth []int) bool {
	toTruth := map[int32]int{}
	fromTruth := map[int]int32{}
	for i, l := range labels {
		if t, ok := toTruth[l]; ok && t != truth[i] {
			return false
		}
		if l2, ok := fromTruth[truth[i]]; ok && l2 != l {
			return false
		}
		toTruth[l], fromTruth[truth[i]] = truth[i], l
	}
	return true
}

func TestFitRecoversBlobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		centres [][]float64
		perBlob int
	}{
		{"four blobs in 3-D", fourBlobs, 500},
		{"three blobs in 2-D", [][]float64{{0, 0}, {8, 8}, {-8, 8}}, 300},
		{"two blobs in 1-D", [][]float64{{-5}, {5}}, 200},
		{"five blobs in 5-D", [][]float64{{0, 0, 0, 0, 0}, {9, 0, 0, 0, 0}, {0, 9, 0, 0, 0}, {0, 0, 9, 0, 0}, {0, 0, 0, 0, 9}}, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, truth := blobs(tt.centres, tt.perBlob, 1, 1)
			d := len(tt.centres[0])
			res, err := kmeans.Fit(x, d, kmeans.Options{K: len(tt.centres), Seed: 1, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !samePartition(res.Labels, truth) {
				t.Errorf("clusters are not the blobs")
			}
			if !res.Converged || res.Iterations < 1 {
				t.Errorf("converged %v after %d iterations", res.Converged, res.Iterations)
			}
			for j := range res.K {
				if res.Sizes[j] != tt.perBlob {
					t.Errorf("cluster %d holds %d, want %d", j, res.Sizes[j], tt.perBlob)
				}
				// Each centroid is near one of the true centres.
				near := false
				for _, c := range tt.centres {
					near = near || math.Sqrt(sqDist(res.Centroid(j), c)) < 0.5
				}
				if !near {
					t.Errorf("centroid %v is near no blob centre", res.Centroid(j))
				}
			}
			if want := inertia(x, d, res.Labels, res.Centroids); math.Abs(res.Inertia-want) > 1e-9*want {
				t.Errorf("inertia %v, recomputed %v", res.Inertia, want)
			}
			if !math.IsNaN(res.Silhouette) {
				t.Errorf("silhouette %v computed without being asked", res.Silhouette)
			}
		})
	}
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

func inertia(x []float64, d int, labels []int32, centroids []float64) float64 {
	s := 0.0
	for i, l := range labels {
		s += sqDist(x[i*d:(i+1)*d], centroids[int(l)*d:(int(l)+1)*d])
	}
	return s
}

// TestFitDeterministic: the same seed gives the same bits, whatever the
// number of threads; another seed may differ but is as good on blobs.
func TestFitDeterministic(t *testing.T) {
	t.Parallel()
	// Overlapping blobs, so that seeds matter.
	x, _ := blobs(fourBlobs, 5000, 4, 2)
	var first *kmeans.Result
	for _, threads := range []int{1, 2, 3, 8} {
		res, err := kmeans.Fit(x, 3, kmeans.Options{K: 6, Seed: 42, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if res.Inertia != first.Inertia || !slices.Equal(res.Centroids, first.Centroids) ||
			!slices.Equal(res.Labels, first.Labels) || res.Iterations != first.Iterations {
			t.Errorf("%d threads: inertia %v, %d iterations; 1 thread: %v, %d", threads,
				res.Inertia, res.Iterations, first.Inertia, first.Iterations)
		}
	}
	// Largest first.
	for j := 1; j < first.K; j++ {
		if first.Sizes[j] > first.Sizes[j-1] {
			t.Errorf("sizes %v are not decreasing", first.Sizes)
		}
	}
}

// TestFitInit: from given centres, one Lloyd run, clusters in Init's
// order, and exactly the iterations of Lloyd's algorithm written out.
func TestFitInit(t *testing.T) {
	t.Parallel()
	x, _ := blobs(fourBlobs, 300, 2, 3)
	init := []float64{9, 1, 0, 0, 0, 0, 1, 1, 9, 0, 9, 1} // near blobs 1, 0, 3, 2
	res, err := kmeans.Fit(x, 3, kmeans.Options{K: 4, Init: init, Tol: -1, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{10, 0, 0, 0, 0, 0, 0, 0, 10, 0, 10, 0}
	for j := range 4 {
		if math.Sqrt(sqDist(res.Centroid(j), want[j*3:j*3+3])) > 0.6 {
			t.Errorf("cluster %d ended at %v, want near %v", j, res.Centroid(j), want[j*3:j*3+3])
		}
	}
	if init[0] != 9 {
		t.Errorf("Fit modified Init")
	}
	// Plain Lloyd to a fixed point, in the simplest code.
	c := slices.Clone(init)
	labels := make([]int32, len(x)/3)
	for iter := 1; ; iter++ {
		changed := false
		for i := range labels {
			best, bj := math.Inf(1), int32(0)
			for j := range 4 {
				if dd := sqDist(x[i*3:i*3+3], c[j*3:j*3+3]); dd < best {
					best, bj = dd, int32(j)
				}
			}
			changed = changed || labels[i] != bj || iter == 1
			labels[i] = bj
		}
		if !changed {
			if iter != res.Iterations {
				t.Errorf("%d iterations, plain Lloyd took %d", res.Iterations, iter)
			}
			break
		}
		sums, counts := make([]float64, 12), make([]float64, 4)
		for i, l := range labels {
			for f := range 3 {
				sums[int(l)*3+f] += x[i*3+f]
			}
			counts[l]++
		}
		for j := range 12 {
			c[j] = sums[j] / counts[j/3]
		}
	}
	if !slices.Equal(labels, res.Labels) {
		t.Errorf("labels differ from plain Lloyd's")
	}
	if want := inertia(x, 3, labels, c); math.Abs(res.Inertia-want) > 1e-9*want {
		t.Errorf("inertia %v, plain Lloyd's %v", res.Inertia, want)
	}
}

// TestFitMaxIter: a run cut short is not converged, and its labels and
// inertia are those of its final centres.
func TestFitMaxIter(t *testing.T) {
	t.Parallel()
	x, _ := blobs(fourBlobs, 2000, 6, 4)
	res, err := kmeans.Fit(x, 3, kmeans.Options{K: 8, MaxIter: 2, Tol: -1, Seed: 1, Restarts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Converged || res.Iterations != 2 {
		t.Errorf("converged %v after %d iterations, want false after 2", res.Converged, res.Iterations)
	}
	for i := range res.Labels {
		p := x[i*3 : i*3+3]
		own := sqDist(p, res.Centroid(int(res.Labels[i])))
		for j := range res.K {
			if sqDist(p, res.Centroid(j)) < own {
				t.Fatalf("point %d is nearer centre %d than its own %d", i, j, res.Labels[i])
			}
		}
	}
	if want := inertia(x, 3, res.Labels, res.Centroids); math.Abs(res.Inertia-want) > 1e-9*want {
		t.Errorf("inertia %v, recomputed %v", res.Inertia, want)
	}
}

// TestFitEmptyCluster: a centre that gets no point moves to the farthest
// point, and the three blobs are still found.
func TestFitEmptyCluster(t *testing.T) {
	t.Parallel()
	centres := [][]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}}
	x, truth := blobs(centres, 400, 1, 5)
	// The third centre is far from everything: empty after the first
	// assignment. Blob 2 is nearer blob 0's centre, and farthest from it.
	init := []float64{0, 0, 0, 10, 0, 0, 1000, 1000, 1000}
	res, err := kmeans.Fit(x, 3, kmeans.Options{K: 3, Init: init})
	if err != nil {
		t.Fatal(err)
	}
	if !samePartition(res.Labels, truth) {
		t.Errorf("clusters are not the blobs; sizes %v", res.Sizes)
	}
	if c := res.Centroid(2); math.Sqrt(sqDist(c, centres[2])) > 0.5 {
		t.Errorf("the empty cluster's centre ended at %v, want near %v", c, centres[2])
	}
}

// TestFitDegenerate: fewer distinct points than clusters, or a single
// point, do not fail.
func TestFitDegenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		x    []float64
		k    int
	}{
		{"identical points", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 3},
		{"two distinct values", []float64{0, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5}, 3},
		{"one point", []float64{1, 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := 2
			res, err := kmeans.Fit(tt.x, d, kmeans.Options{K: tt.k, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, s := range res.Sizes {
				total += s
			}
			if total != len(tt.x)/d || res.Inertia != 0 {
				t.Errorf("sizes %v, inertia %v", res.Sizes, res.Inertia)
			}
		})
	}
}

// TestChooseKIdenticalPoints: when every point is the same, no k has a
// silhouette (NaN: every point in one cluster), and the smallest k of the
// range is chosen, as on a tie, not the largest.
func TestChooseKIdenticalPoints(t *testing.T) {
	t.Parallel()
	x := make([]float64, 2*50)
	res, err := kmeans.Fit(x, 2, kmeans.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.K != 2 || len(res.SilhouetteByK) != 9 || !math.IsNaN(res.SilhouetteByK[0].Silhouette) {
		t.Errorf("k = %d, silhouettes %+v; want k = 2 and every silhouette NaN", res.K, res.SilhouetteByK)
	}
}

func TestFitErrors(t *testing.T) {
	t.Parallel()
	x := []float64{0, 0, 1, 1, 2, 2, 3, 3}
	tests := []struct {
		name string
		x    []float64
		d    int
		opts kmeans.Options
		want string
	}{
		{"no features", x, 0, kmeans.Options{K: 2}, "features"},
		{"ragged", x[:7], 2, kmeans.Options{K: 2}, "rows"},
		{"NaN", []float64{0, math.NaN()}, 2, kmeans.Options{K: 1}, "NaN"},
		{"too many clusters", x, 2, kmeans.Options{K: 5}, "clusters of 4"},
		{"init without k", x, 2, kmeans.Options{Init: []float64{0, 0}}, "need K"},
		{"init of the wrong size", x, 2, kmeans.Options{K: 2, Init: []float64{0, 0}}, "initial values"},
		{"bad k range", x, 2, kmeans.Options{KMin: 1}, "range"},
		{"too few to choose", x[:4], 2, kmeans.Options{}, "too few"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := kmeans.Fit(tt.x, tt.d, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestPlusPlus(t *testing.T) {
	t.Parallel()
	x, _ := blobs(fourBlobs, 1000, 0.5, 6)
	a, err := kmeans.PlusPlus(x, 3, 4, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := kmeans.PlusPlus(x, 3, 4, 7, 4)
	if !slices.Equal(a, b) {
		t.Errorf("the seeding depends on threads")
	}
	// Well separated blobs: one seed in each.
	hit := map[int]bool{}
	for j := range 4 {
		for bi, c := range fourBlobs {
			if sqDist(a[j*3:j*3+3], c) < 9 {
				hit[bi] = true
			}
		}
	}
	if len(hit) != 4 {
		t.Errorf("seeds %v do not cover the four blobs", a)
	}
	if _, err := kmeans.PlusPlus(x, 3, 0, 1, 1); err == nil {
		t.Errorf("k=0 accepted")
	}
}

func TestSilhouette(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		x      []float64
		labels []int32
		k      int
		want   float64
	}{
		// a = 1 everywhere; b = 10.5 for the outer points, 9.5 for the
		// inner ones.
		{"two pairs", []float64{0, 1, 10, 11}, []int32{0, 0, 1, 1}, 2, (9.5/10.5 + 8.5/9.5) / 2},
		{"a singleton scores 0", []float64{0, 1, 10}, []int32{0, 0, 1}, 2, (9.0/10 + 8.0/9) / 3},
		{"one cluster", []float64{0, 1, 2}, []int32{0, 0, 0}, 1, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := kmeans.Silhouette(tt.x, 1, tt.labels, tt.k, 2)
			if err != nil {
				t.Fatal(err)
			}
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-12) {
				t.Errorf("Silhouette = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := kmeans.Silhouette([]float64{0, 1}, 1, []int32{0, 2}, 2, 1); err == nil {
		t.Errorf("a label out of range is accepted")
	}
}

// TestChooseK: the silhouette picks the number of clear blobs, on all
// points and on a sample of them.
func TestChooseK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		centres [][]float64
		perBlob int
		sample  int
	}{
		{"four blobs, all points", fourBlobs, 200, 0},
		{"three blobs, sampled", [][]float64{{0, 0, 0}, {12, 0, 0}, {0, 12, 0}}, 3000, 1500},
		{"six blobs in 2-D", [][]float64{{0, 0}, {10, 0}, {20, 0}, {0, 10}, {10, 10}, {20, 10}}, 150, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, truth := blobs(tt.centres, tt.perBlob, 1, 8)
			d := len(tt.centres[0])
			res, err := kmeans.Fit(x, d, kmeans.Options{Seed: 3, KMax: 8, SampleSize: tt.sample, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.K != len(tt.centres) {
				t.Errorf("chose k=%d, want %d; scores %+v", res.K, len(tt.centres), res.SilhouetteByK)
			}
			if len(res.SilhouetteByK) != 7 || res.SilhouetteByK[0].K != 2 {
				t.Errorf("scores for %d values of k, from %d; want 7 from 2", len(res.SilhouetteByK), res.SilhouetteByK[0].K)
			}
			if !samePartition(res.Labels, truth) {
				t.Errorf("clusters are not the blobs")
			}
			if res.Silhouette < 0.7 {
				t.Errorf("silhouette %v of clear blobs, want > 0.7", res.Silhouette)
			}
		})
	}
}

// BenchmarkLloyd1M is the case of the scikit-learn comparison: one Lloyd
// run, k=8, from given centres, on a million log-standardised RFM rows.
func BenchmarkLloyd1M(b *testing.B) {
	raw := rfmRows(1_000_000, 1)
	_, z, err := kmeans.FitTransform(raw, kmeans.RFMFeatures())
	if err != nil {
		b.Fatal(err)
	}
	init, err := kmeans.PlusPlus(z, 3, 8, 1, 2)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var res *kmeans.Result
	for b.Loop() {
		res, err = kmeans.Fit(z, 3, kmeans.Options{K: 8, Init: init, Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Iterations), "iterations")
}

// rfmRows is a store-like population, as the benchmark command makes it:
// recency uniform over two years, geometric order counts, log-normal
// spend per order.
func rfmRows(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, 0, 3*n)
	for range n {
		orders := 1
		for rng.Float64() < 0.4 {
			orders++
		}
		spend := 0.0
		for range orders {
			spend += math.Exp(3.5 + 0.9*rng.NormFloat64())
		}
		x = append(x, math.Floor(730*rng.Float64()), float64(orders), spend)
	}
	return x
}

// TestFitProgress: Progress counts every k tried, every run of the final
// fit and the silhouette, one by one up to the total it announces.
func TestFitProgress(t *testing.T) {
	t.Parallel()
	x, _ := blobs(fourBlobs, 200, 1, 5)
	for _, c := range []struct {
		name  string
		opts  kmeans.Options
		total int
	}{
		{"k chosen among 2..5", kmeans.Options{KMin: 2, KMax: 5, Restarts: 2}, 4 + 2 + 1},
		{"k given", kmeans.Options{K: 4, Restarts: 3}, 3},
		{"k given, with its silhouette", kmeans.Options{K: 4, Restarts: 3, Silhouette: true}, 4},
		{"from initial centres", kmeans.Options{K: 2, Init: []float64{0, 0, 0, 10, 0, 0}}, 1},
	} {
		var told [][2]int
		c.opts.Seed = 1
		c.opts.Progress = func(done, total int) { told = append(told, [2]int{done, total}) }
		if _, err := kmeans.Fit(x, 3, c.opts); err != nil {
			t.Fatal(err)
		}
		var want [][2]int
		for k := 1; k <= c.total; k++ {
			want = append(want, [2]int{k, c.total})
		}
		if !slices.Equal(told, want) {
			t.Errorf("%s: progress %v, want %v", c.name, told, want)
		}
	}
}
