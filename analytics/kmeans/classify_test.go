package kmeans_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/analytics/kmeans"
)

func TestScaler(t *testing.T) {
	t.Parallel()
	features := []kmeans.Feature{{Name: "days", Log: true}, {Name: "score"}, {Name: "constant"}}
	raw := []float64{
		0, 10, 5,
		9, 20, 5,
		99, 30, 5,
		999, 40, 5,
	}
	s, z, err := kmeans.FitTransform(raw, features)
	if err != nil {
		t.Fatal(err)
	}
	// The logged column is log1p(0, 9, 99, 999) = ln(1, 10, 100, 1000).
	if want := 1.5 * math.Ln10; math.Abs(s.Mean[0]-want) > 1e-12 {
		t.Errorf("mean of log days %v, want %v", s.Mean[0], want)
	}
	if want := math.Sqrt(1.25) * math.Ln10; math.Abs(s.Std[0]-want) > 1e-12 {
		t.Errorf("std of log days %v, want %v", s.Std[0], want)
	}
	if s.Mean[1] != 25 || math.Abs(s.Std[1]-math.Sqrt(125)) > 1e-12 {
		t.Errorf("score mean %v std %v, want 25 and √125", s.Mean[1], s.Std[1])
	}
	if s.Std[2] != 1 {
		t.Errorf("a constant feature has std %v, want 1", s.Std[2])
	}
	for f := range 3 {
		mean, sq := 0.0, 0.0
		for i := range 4 {
			mean += z[i*3+f] / 4
			sq += z[i*3+f] * z[i*3+f] / 4
		}
		wantSq := 1.0
		if f == 2 {
			wantSq = 0
		}
		if math.Abs(mean) > 1e-12 || math.Abs(sq-wantSq) > 1e-12 {
			t.Errorf("feature %d standardises to mean %v, mean square %v", f, mean, sq)
		}
	}
	// Transform agrees with FitTransform; Inverse undoes it.
	z2, err := s.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	back := s.Inverse(z2)
	for i := range raw {
		if z2[i] != z[i] {
			t.Errorf("Transform[%d] = %v, FitTransform %v", i, z2[i], z[i])
		}
		if math.Abs(back[i]-raw[i]) > 1e-9*math.Max(1, raw[i]) {
			t.Errorf("Inverse[%d] = %v, want %v", i, back[i], raw[i])
		}
	}
	if s2, err := kmeans.NewScaler(raw, features); err != nil || !slices.Equal(s2.Mean, s.Mean) {
		t.Errorf("NewScaler differs from FitTransform: %v", err)
	}
}

// TestScalerConstantFeature: a feature every row has the same value of
// standardises to exactly 0, logged or not, however many rows. The mean
// of 500 log1p(5) is not log1p(5) in floating point; the std of the
// rounding, 1e-16, made every z ±1 and the description "lapsed, high
// spend" for a store whose customers all look the same.
func TestScalerConstantFeature(t *testing.T) {
	t.Parallel()
	features := kmeans.RFMFeatures()
	var raw []float64
	for i := range 500 {
		raw = append(raw, 5, float64(1+i%7), 20)
	}
	s, z, err := kmeans.FitTransform(raw, features)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mean[0] != math.Log1p(5) || s.Std[0] != 1 || s.Mean[2] != math.Log1p(20) || s.Std[2] != 1 {
		t.Errorf("constant features: means %v, stds %v", s.Mean, s.Std)
	}
	for i := 0; i < len(z); i += 3 {
		if z[i] != 0 || z[i+2] != 0 {
			t.Fatalf("row %d standardises to %v", i/3, z[i:i+3])
		}
	}
	cls, err := kmeans.Classify(raw, features, kmeans.ClassifyOptions{Options: kmeans.Options{K: 2, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cls.Clusters {
		if strings.Contains(c.Description, "lapsed") || strings.Contains(c.Description, "recent") || strings.Contains(c.Description, "spend") {
			t.Errorf("cluster %d is %q: recency and spend are the same for everyone", c.ID, c.Description)
		}
	}
}

func TestScalerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		raw      []float64
		features []kmeans.Feature
		want     string
	}{
		{"no features", []float64{1}, nil, "no features"},
		{"no rows", nil, []kmeans.Feature{{Name: "a"}}, "rows"},
		{"ragged", []float64{1, 2, 3}, []kmeans.Feature{{Name: "a"}, {Name: "b"}}, "rows"},
		{"log of -1", []float64{-1}, []kmeans.Feature{{Name: "a", Log: true}}, "log1p"},
		{"NaN", []float64{math.NaN()}, []kmeans.Feature{{Name: "a"}}, "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := kmeans.NewScaler(tt.raw, tt.features)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	rfm := kmeans.RFMFeatures()
	tests := []struct {
		name     string
		features []kmeans.Feature
		z, mean  []float64
		cut      float64
		want     string
	}{
		{"best customers, strongest first", rfm, []float64{-0.8, 1.2, 1.9}, []float64{10, 6, 900}, 0, "high spend, frequent, recent"},
		{"lapsed one-timers", rfm, []float64{1.4, -0.7, -0.6}, []float64{600, 1, 30}, 0, "lapsed, one-time, low spend"},
		{"one-time even when average", rfm, []float64{0.1, -0.2, 0.3}, []float64{300, 1.02, 80}, 0, "one-time"},
		{"infrequent but not one-time", rfm, []float64{0, -0.9, 0}, []float64{300, 1.4, 80}, 0, "infrequent"},
		{"nothing stands out", rfm, []float64{0.4, -0.4, 0.49}, []float64{300, 2, 80}, 0, "average"},
		{"no means: no bottom word", rfm, []float64{0, -0.9, 0}, nil, 0, "infrequent"},
		{"a wider cut", rfm, []float64{-0.8, 1.2, 1.9}, nil, 1, "high spend, frequent"},
		{"default words", []kmeans.Feature{{Name: "sessions"}, {Name: "returns"}}, []float64{0.7, -2}, nil, 0, "low returns, high sessions"},
		{"equal strength keeps feature order", []kmeans.Feature{{Name: "a"}, {Name: "b"}}, []float64{1, -1}, nil, 0, "high a, low b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := kmeans.Describe(tt.features, tt.z, tt.mean, tt.cut); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

// rfmBlobs makes raw RFM rows from clear groups of customers, each group
// given by its typical recency, orders and spend.
func rfmBlobs(groups [][3]float64, perGroup int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 5))
	var raw []float64
	for i := range perGroup * len(groups) {
		g := groups[i%len(groups)]
		// Multiplicative noise, so the groups are blobs after the log.
		raw = append(raw,
			g[0]*math.Exp(0.1*rng.NormFloat64()),
			math.Max(1, math.Round(g[1]*math.Exp(0.05*rng.NormFloat64()))),
			g[2]*math.Exp(0.1*rng.NormFloat64()))
	}
	return raw
}

var rfmGroups = [][3]float64{
	{5, 12, 2000}, // recent, frequent, big spenders
	{400, 1, 25},  // lapsed one-timers
	{15, 1, 60},   // recent one-timers
	{200, 4, 300}, // fading regulars
}

func TestClassify(t *testing.T) {
	t.Parallel()
	raw := rfmBlobs(rfmGroups, 500, 1)
	c, err := kmeans.Classify(raw, kmeans.RFMFeatures(), kmeans.ClassifyOptions{Options: kmeans.Options{K: 4, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clusters) != 4 || len(c.Labels) != 2000 || c.Next != 5 {
		t.Fatalf("%d clusters, %d labels, next %d", len(c.Clusters), len(c.Labels), c.Next)
	}
	descriptions := map[string]bool{}
	for j, cl := range c.Clusters {
		if cl.ID != j+1 || cl.Size != 500 || cl.Share != 0.25 {
			t.Errorf("cluster %d: number %d, size %d, share %v", j, cl.ID, cl.Size, cl.Share)
		}
		descriptions[cl.Description] = true
		// Centre and mean are near the group's values.
		g := nearestGroup(cl.Mean)
		for f := range 3 {
			if math.Abs(cl.Centre[f]-g[f]) > 0.1*g[f] || math.Abs(cl.Mean[f]-g[f]) > 0.1*g[f] {
				t.Errorf("cluster %s: centre %v, mean %v; group %v", cl.Description, cl.Centre, cl.Mean, g)
			}
		}
	}
	for _, want := range []string{"recent, frequent, high spend", "lapsed, one-time, low spend", "recent, one-time, low spend"} {
		found := false
		for d := range descriptions {
			// Word order depends on strength; compare the words.
			found = found || sameWords(d, want)
		}
		if !found {
			t.Errorf("no cluster described as %q; got %v", want, descriptions)
		}
	}
}

func nearestGroup(mean []float64) [3]float64 {
	best, bestD := rfmGroups[0], math.Inf(1)
	for _, g := range rfmGroups {
		d := 0.0
		for f := range 3 {
			d += math.Pow(math.Log(mean[f])-math.Log(g[f]), 2)
		}
		if d < bestD {
			best, bestD = g, d
		}
	}
	return best
}

func sameWords(a, b string) bool {
	wa, wb := strings.Split(a, ", "), strings.Split(b, ", ")
	slices.Sort(wa)
	slices.Sort(wb)
	return slices.Equal(wa, wb)
}

// TestClassifyKeepsNumbers: a re-run on the same customers in another
// order and with another seed finds the same clusters in another order;
// they keep their numbers.
func TestClassifyKeepsNumbers(t *testing.T) {
	t.Parallel()
	raw := rfmBlobs(rfmGroups, 400, 2)
	opts := kmeans.ClassifyOptions{Options: kmeans.Options{K: 4, Seed: 1}}
	first, err := kmeans.Classify(raw, kmeans.RFMFeatures(), opts)
	if err != nil {
		t.Fatal(err)
	}
	// Shuffle rows and drop some of the largest group's, so that the
	// size order, and with it the clusters' order, changes.
	rng := rand.New(rand.NewPCG(3, 3))
	n := len(raw) / 3
	var again []float64
	var origin []int
	for _, i := range rng.Perm(n) {
		if i%4 == 1 && rng.IntN(2) == 0 {
			continue
		}
		again = append(again, raw[i*3:i*3+3]...)
		origin = append(origin, i)
	}
	prev := first.Previous()
	opts.Seed, opts.Previous = 99, &prev
	second, err := kmeans.Classify(again, kmeans.RFMFeatures(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Clusters[3].Size >= first.Clusters[3].Size {
		t.Fatalf("the test did not change the size order")
	}
	for j, i := range origin {
		a := first.Clusters[first.Labels[i]].ID
		b := second.Clusters[second.Labels[j]].ID
		if a != b {
			t.Fatalf("row %d was in cluster %d, now in %d", i, a, b)
		}
	}
	if second.Next != 5 {
		t.Errorf("next number %d, want 5 (no new cluster)", second.Next)
	}
}

func TestRenumber(t *testing.T) {
	t.Parallel()
	// Identity scaling, so standardised and original units coincide.
	raw := []float64{-1, -1, 1, 1}
	s, err := kmeans.NewScaler(raw, []kmeans.Feature{{Name: "x"}, {Name: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	prev := kmeans.Previous{IDs: []int{3, 7, 4}, Centres: []float64{0, 0, 5, 5, -5, 5}, Next: 9}
	tests := []struct {
		name      string
		centroids []float64
		maxShift  float64
		wantIDs   []int
		wantNext  int
	}{
		{"same clusters, permuted", []float64{5, 5, -5, 5, 0, 0}, 0, []int{7, 4, 3}, 9},
		{"small moves keep numbers", []float64{-5.3, 5.2, 0.1, -0.2, 5.4, 5}, 0, []int{4, 3, 7}, 9},
		{"a cluster moved too far", []float64{0, 0, 5, 5, -5, 9}, 0, []int{3, 7, 9}, 10},
		{"a wider threshold keeps it", []float64{0, 0, 5, 5, -5, 9}, 5, []int{3, 7, 4}, 9},
		{"one more cluster", []float64{0, 0, 5, 5, -5, 5, 20, 20}, 0, []int{3, 7, 4, 9}, 10},
		{"one cluster fewer", []float64{-5, 5, 5, 5}, 0, []int{4, 7}, 9},
		// Closest pair first would match the first centroid with 2 and
		// leave the second with nothing within reach; the optimal
		// assignment gives each its own.
		{"optimal, not greedy", []float64{0.3, 0, 0.7, 0}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := prev
			if tt.wantIDs == nil {
				p = kmeans.Previous{IDs: []int{1, 2}, Centres: []float64{0, 0, 0.45, 0}}
				tt.wantIDs, tt.wantNext = []int{1, 2}, 3
			}
			ids, next, err := kmeans.Renumber(tt.centroids, s, p, tt.maxShift)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, tt.wantIDs) || next != tt.wantNext {
				t.Errorf("Renumber = %v, next %d; want %v, next %d", ids, next, tt.wantIDs, tt.wantNext)
			}
		})
	}
	// Without a previous run: 1..k.
	ids, next, err := kmeans.Renumber([]float64{0, 0, 1, 1}, s, kmeans.Previous{}, 0)
	if err != nil || !slices.Equal(ids, []int{1, 2}) || next != 3 {
		t.Errorf("Renumber without previous = %v, %d, %v", ids, next, err)
	}
	if _, _, err := kmeans.Renumber([]float64{0, 0}, s, kmeans.Previous{IDs: []int{1, 1}, Centres: []float64{0, 0, 1, 1}}, 0); err == nil {
		t.Errorf("duplicate previous numbers accepted")
	}
}

// TestRenumberMatchesBruteForce checks the optimal assignment against
// all permutations on small random cases.
func TestRenumberMatchesBruteForce(t *testing.T) {
	t.Parallel()
	s, err := kmeans.NewScaler([]float64{-1, 1}, []kmeans.Feature{{Name: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for range 200 {
		k := 1 + rng.IntN(6)
		cur, old := make([]float64, k), make([]float64, k)
		ids := make([]int, k)
		for i := range k {
			cur[i], old[i], ids[i] = rng.Float64(), rng.Float64(), i+1
		}
		const maxShift = 0.3
		got, _, err := kmeans.Renumber(cur, s, kmeans.Previous{IDs: ids, Centres: old}, maxShift)
		if err != nil {
			t.Fatal(err)
		}
		// The cost Renumber minimises: capped distance of each match.
		cost := func(match []int) float64 {
			c := 0.0
			for i, id := range match {
				if id <= k {
					c += math.Abs(cur[i] - old[id-1])
				} else {
					c += maxShift
				}
			}
			return c
		}
		best := math.Inf(1)
		for _, perm := range permutations(k) {
			c := 0.0
			for i, j := range perm {
				c += math.Min(math.Abs(cur[i]-old[j]), maxShift)
			}
			best = math.Min(best, c)
		}
		if got := cost(got); got > best+1e-9 {
			t.Fatalf("cur %v old %v: numbers %v cost %v, optimum %v", cur, old, got, best, best)
		}
	}
}

func permutations(k int) [][]int {
	if k == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(k - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(slices.Clone(p[:pos]), k-1), p[pos:]...)
			out = append(out, q)
		}
	}
	return out
}
