package kmeans

import (
	"fmt"
	"slices"
)

// ClassifyOptions configure Classify.
type ClassifyOptions struct {
	// Options configure the fit (k, restarts, seed, threads...).
	Options
	// Cut is Describe's threshold; 0 means DefaultCut.
	Cut float64
	// Previous, when set, is the previous run's numbering (see Renumber);
	// MaxShift its threshold, 0 meaning DefaultMaxShift.
	Previous *Previous
	MaxShift float64
}

// Classification is a clustering of customers, ready to show and to write
// back as features.
type Classification struct {
	// Labels holds each row's index in Clusters (not its number).
	Labels []int32
	// Clusters are largest first (in the order of Options.Init when
	// given).
	Clusters []Cluster
	// Scaler standardised the features; the centroids are in its units.
	Scaler *Scaler
	// Fit is the clustering of the standardised rows (its Labels are
	// Labels).
	Fit *Result
	// Next is the first cluster number not given yet, for the next run's
	// Previous.Next.
	Next int
}

// Cluster is one cluster of a Classification.
type Cluster struct {
	// ID is the cluster's number, stable across runs (see Renumber).
	ID int
	// Size is its number of rows, Share their part of all rows.
	Size  int
	Share float64
	// Centroid is its centre in standardised units, Centre the same
	// mapped back to original units (Scaler.Inverse), Mean the arithmetic
	// mean of its rows' raw values.
	Centroid, Centre, Mean []float64
	// Description puts it into words (see Describe).
	Description string
}

// Previous returns what the next run needs to keep this run's numbers.
func (c *Classification) Previous() Previous {
	p := Previous{Next: c.Next}
	for _, cl := range c.Clusters {
		p.IDs = append(p.IDs, cl.ID)
		p.Centres = append(p.Centres, cl.Centre...)
	}
	return p
}

// Classify clusters the n×len(features) raw rows: it log-standardises
// them (FitTransform), fits (Fit), describes each cluster (Describe) and
// numbers them, keeping the previous run's numbers for clusters that
// barely moved (Renumber), or 1..k largest first without a previous run.
func Classify(raw []float64, features []Feature, opts ClassifyOptions) (*Classification, error) {
	scaler, z, err := FitTransform(raw, features)
	if err != nil {
		return nil, err
	}
	d := len(features)
	fit, err := Fit(z, d, opts.Options)
	if err != nil {
		return nil, err
	}
	c := &Classification{Labels: fit.Labels, Scaler: scaler, Fit: fit, Clusters: make([]Cluster, fit.K)}
	n := len(raw) / d
	sums := make([]float64, fit.K*d)
	for i, l := range fit.Labels {
		for f := range d {
			sums[int(l)*d+f] += raw[i*d+f]
		}
	}
	for j := range c.Clusters {
		cl := &c.Clusters[j]
		cl.Size = fit.Sizes[j]
		cl.Share = float64(cl.Size) / float64(n)
		cl.Centroid = slices.Clone(fit.Centroid(j))
		cl.Centre = scaler.Inverse(cl.Centroid)
		cl.Mean = make([]float64, d)
		if cl.Size > 0 {
			for f := range d {
				cl.Mean[f] = sums[j*d+f] / float64(cl.Size)
			}
		}
		cl.Description = Describe(features, cl.Centroid, cl.Mean, opts.Cut)
	}
	prev := Previous{}
	if opts.Previous != nil {
		prev = *opts.Previous
	}
	ids, next, err := Renumber(fit.Centroids, scaler, prev, opts.MaxShift)
	if err != nil {
		return nil, fmt.Errorf("renumber: %w", err)
	}
	for j := range c.Clusters {
		c.Clusters[j].ID = ids[j]
	}
	c.Next = next
	return c, nil
}
