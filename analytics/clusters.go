package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics/kmeans"
)

// sampleSize is how many customers the cluster scatter plot shows.
const sampleSize = 1000

// runClusters clusters the customers who have every feature of
// p.Features: RFM's three by default (customers who ordered), computed
// from their built-in features as of p.AsOf.
func (r *Runner) runClusters(ctx context.Context, run *touchbase.AnalysisRun, p Params, progress Progress) (*ClusterResult, error) {
	ws := run.WorkspaceID
	progress("reading customers", 0, 0)
	ids, raw, err := r.clusterInput(ctx, ws, p)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errNoData
	}
	features := make([]kmeans.Feature, len(p.Features))
	for i, name := range p.Features {
		features[i] = clusterFeature(name)
	}
	if p.K > len(ids) || (p.K == 0 && p.MinK > len(ids)) {
		return nil, touchbase.Errorf(touchbase.EINVALID, "clusters: %d customers cannot make %d clusters", len(ids), max(p.K, p.MinK))
	}
	opts := kmeans.ClassifyOptions{Options: kmeans.Options{
		K: p.K, KMin: p.MinK, KMax: min(p.MaxK, len(ids)), Seed: p.Seed, Threads: runtime.GOMAXPROCS(0), Silhouette: p.K > 0,
		Progress: func(done, total int) { progress("clustering", done, total) },
	}}
	// The previous run on the same features lends its numbers to the
	// clusters that barely moved.
	if last, err := r.st.LatestAnalysisRun(ctx, ws, touchbase.AnalysisClusters); err == nil {
		var prev ClusterResult
		if json.Unmarshal(last.Result, &prev) == nil && slices.Equal(prev.Features, p.Features) && len(prev.Clusters) > 0 {
			pv := kmeans.Previous{Next: prev.Next}
			for _, c := range prev.Clusters {
				if len(c.Centre) == len(features) {
					pv.IDs = append(pv.IDs, c.Number)
					pv.Centres = append(pv.Centres, c.Centre...)
				}
			}
			if len(pv.IDs) == len(prev.Clusters) {
				opts.Previous = &pv
			}
		}
	} else if touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
		return nil, err
	}
	progress("clustering", 0, 0) // then the fit's steps: the k tried, the runs
	cls, err := kmeans.Classify(raw, features, opts)
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "clusters: %v", err)
	}
	scores := make([]touchbase.ClusterScore, len(ids))
	for i, id := range ids {
		scores[i] = touchbase.ClusterScore{CustomerID: id, Cluster: cls.Clusters[cls.Labels[i]].ID}
	}
	progress("saving scores", 0, len(scores))
	if err := r.st.SaveClusterScores(ctx, ws, run.ID, scores, saved(progress, len(scores))); err != nil {
		return nil, err
	}
	run.Customers = len(ids)

	res := &ClusterResult{
		AsOf: p.AsOf, Features: p.Features, Customers: len(ids), K: len(cls.Clusters),
		Inertia: cls.Fit.Inertia, Iterations: cls.Fit.Iterations, Next: cls.Next,
	}
	for _, s := range cls.Fit.SilhouetteByK {
		// A k with every customer in one cluster has none (NaN), which
		// JSON cannot carry: every customer looks the same.
		if !math.IsNaN(s.Silhouette) {
			res.Silhouettes = append(res.Silhouettes, KSilhouette{K: s.K, Silhouette: s.Silhouette})
		}
	}
	for _, c := range cls.Clusters {
		res.Clusters = append(res.Clusters, Cluster{
			Number: c.ID, Size: c.Size, Share: c.Share, Description: c.Description,
			Means: c.Mean, Centroid: c.Centroid, Centre: c.Centre,
		})
	}
	z, err := cls.Scaler.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	res.Sample = scatter(z, len(features), cls, p.Seed)
	return res, nil
}

// clusterFeature is how feature name is prepared and described: RFM's
// words for RFM's three, log-transformed counts and money otherwise.
func clusterFeature(name string) kmeans.Feature {
	for _, f := range kmeans.RFMFeatures() {
		if f.Name == name {
			return f
		}
	}
	// Probabilities and scores are not heavy-tailed; counts, money and
	// days are. Traits are whatever the store made them: used as they
	// are.
	switch name {
	case "p_alive", "rfm.r", "rfm.f", "rfm.m", "cluster":
		return kmeans.Feature{Name: name}
	}
	if strings.HasPrefix(name, "traits.") {
		return kmeans.Feature{Name: name}
	}
	return kmeans.Feature{Name: name, Log: true}
}

// traitNumber returns the number at path in traits (a JSON object), and
// whether there is one there.
func traitNumber(traits map[string]any, path []string) (float64, bool) {
	var v any = traits
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, false
		}
		v = m[k]
	}
	n, ok := v.(float64)
	return n, ok && !math.IsNaN(n) && !math.IsInf(n, 0)
}

// clusterInput returns the customers to cluster and their raw features,
// row by row: from the buyer totals for RFM alone (one light query), from
// the profiles when other features are asked for.
func (r *Runner) clusterInput(ctx context.Context, ws int64, p Params) ([]int64, []float64, error) {
	d := len(p.Features)
	var ids []int64
	var raw []float64
	days := func(last int64) float64 {
		return math.Max(0, float64(p.AsOf.UnixMilli()-last)/float64(24*time.Hour/time.Millisecond))
	}
	if slices.Equal(p.Features, rfmFeatures) {
		buyers, err := r.st.BuyerTotals(ctx, ws, time.Time{}, time.Time{})
		if err != nil {
			return nil, nil, err
		}
		ids = make([]int64, 0, len(buyers))
		raw = make([]float64, 0, d*len(buyers))
		for _, b := range buyers {
			ids = append(ids, b.CustomerID)
			raw = append(raw, days(b.LastOrderAt), float64(b.Orders), math.Max(0, b.Revenue))
		}
		return ids, raw, nil
	}
	row := make([]float64, d)
	paths := make([][]string, d) // of the traits among the features
	for i, name := range p.Features {
		if key, ok := strings.CutPrefix(name, "traits."); ok {
			paths[i] = strings.Split(key, ".")
		}
	}
	var traits map[string]any
	err := r.st.ScanCustomers(ctx, ws, func(c *touchbase.Customer, traitsJSON []byte) error {
		traits = nil
		for i, name := range p.Features {
			if paths[i] != nil {
				if traits == nil {
					if len(traitsJSON) == 0 || json.Unmarshal(traitsJSON, &traits) != nil {
						return nil // no traits (or not an object): no number
					}
				}
				v, ok := traitNumber(traits, paths[i])
				if !ok {
					return nil
				}
				row[i] = v
				continue
			}
			switch name {
			case "recency":
				if c.Features.LastOrderAt == nil {
					return nil
				}
				row[i] = days(c.Features.LastOrderAt.UnixMilli())
			case "frequency":
				if c.Features.Orders == 0 {
					return nil
				}
				row[i] = float64(c.Features.Orders)
			case "monetary":
				if c.Features.Orders == 0 {
					return nil
				}
				row[i] = math.Max(0, c.Features.Revenue)
			default:
				f, _ := r.reg.Lookup(name) // resolve checked it is a number
				v, ok := f.Get(c)
				if !ok || math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
					return nil
				}
				row[i] = v.Num
				if clusterFeature(name).Log {
					row[i] = math.Max(0, row[i])
				}
			}
		}
		ids = append(ids, c.ID)
		raw = append(raw, row...)
		return nil
	})
	return ids, raw, err
}

// scatter samples customers onto the plane of the first two principal
// components of the standardised features z (n×d), for a 2-D picture of
// the clusters.
func scatter(z []float64, d int, cls *kmeans.Classification, seed uint64) []ClusterPoint {
	n := len(z) / d
	rng := rand.New(rand.NewPCG(seed, 0x5ca77e4))
	idx := rng.Perm(n)[:min(n, sampleSize)]
	slices.Sort(idx)
	axes := principalAxes(z, d, 2)
	out := make([]ClusterPoint, len(idx))
	for k, i := range idx {
		row := z[i*d : (i+1)*d]
		var x, y float64
		for j, v := range row {
			x += v * axes[0][j]
			if len(axes) > 1 {
				y += v * axes[1][j]
			}
		}
		out[k] = ClusterPoint{X: x, Y: y, Cluster: cls.Clusters[cls.Labels[i]].ID}
	}
	return out
}

// principalAxes returns the first m principal axes (unit vectors) of the
// rows of z (n×d, centred: standardised), by power iteration with
// deflation on the d×d covariance matrix.
func principalAxes(z []float64, d, m int) [][]float64 {
	n := len(z) / d
	cov := make([]float64, d*d)
	for i := range n {
		row := z[i*d : (i+1)*d]
		for a := range d {
			for b := range d {
				cov[a*d+b] += row[a] * row[b]
			}
		}
	}
	var axes [][]float64
	for range min(m, d) {
		v := make([]float64, d)
		for j := range v {
			v[j] = 1 / math.Sqrt(float64(d+j)) // not orthogonal to any axis found
		}
		for range 200 {
			w := make([]float64, d)
			for a := range d {
				for b := range d {
					w[a] += cov[a*d+b] * v[b]
				}
			}
			norm := 0.0
			for _, x := range w {
				norm += x * x
			}
			if norm = math.Sqrt(norm); norm == 0 {
				break
			}
			for j := range w {
				w[j] /= norm
			}
			v = w
		}
		// Deflate: take out the component along v.
		lambda := 0.0
		for a := range d {
			for b := range d {
				lambda += v[a] * cov[a*d+b] * v[b]
			}
		}
		for a := range d {
			for b := range d {
				cov[a*d+b] -= lambda * v[a] * v[b]
			}
		}
		axes = append(axes, v)
	}
	return axes
}
