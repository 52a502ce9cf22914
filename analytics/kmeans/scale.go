package kmeans

import (
	"fmt"
	"math"
)

// Feature describes one column of the raw data: how to prepare it, and
// the words that describe a cluster by it.
type Feature struct {
	// Name is the feature's name ("monetary").
	Name string
	// Log applies log1p before standardising: for heavy-tailed,
	// non-negative values (spend, order counts, days), whose few large
	// values would otherwise make their own clusters. Values must be
	// greater than -1.
	Log bool
	// High and Low describe a cluster whose centroid is clearly above or
	// below the population on this feature. Default "high <Name>" and
	// "low <Name>".
	High, Low string
	// Bottom, when set, replaces Low when the cluster's mean in original
	// units is at most BottomAt, and is said even when the cluster is not
	// clearly below the population: "one-time" for a frequency of 1.
	Bottom   string
	BottomAt float64
}

// RFMFeatures returns the features of an RFM clustering, in the order
// recency (days since the last order), frequency (orders), monetary
// (revenue), all log-transformed: a high recency is a lapsed customer.
// A cluster whose mean frequency is at most 1.05 (19 in 20 customers
// ordered once) is "one-time".
func RFMFeatures() []Feature {
	return []Feature{
		{Name: "recency", Log: true, High: "lapsed", Low: "recent"},
		{Name: "frequency", Log: true, High: "frequent", Low: "infrequent", Bottom: "one-time", BottomAt: 1.05},
		{Name: "monetary", Log: true, High: "high spend", Low: "low spend"},
	}
}

func (f Feature) high() string {
	if f.High != "" {
		return f.High
	}
	return "high " + f.Name
}

func (f Feature) low() string {
	if f.Low != "" {
		return f.Low
	}
	return "low " + f.Name
}

// Scaler standardises raw features: log1p for the features that ask for
// it, then a z-score with the population's mean and standard deviation.
// It keeps them so that centroids map back to original units and so that
// a later run's centroids can be compared in this run's space.
type Scaler struct {
	Features []Feature
	// Mean and Std are those of each feature after the log, if any. A
	// constant feature has Std 1, so it standardises to 0.
	Mean, Std []float64
}

// NewScaler fits a Scaler to the n×len(features) raw values.
func NewScaler(raw []float64, features []Feature) (*Scaler, error) {
	s, _, err := FitTransform(raw, features)
	return s, err
}

// FitTransform fits a Scaler to the n×len(features) raw values and
// returns it with the standardised values (a new slice), taking each log
// once.
func FitTransform(raw []float64, features []Feature) (*Scaler, []float64, error) {
	d := len(features)
	if d == 0 {
		return nil, nil, fmt.Errorf("kmeans: no features")
	}
	if len(raw)%d != 0 || len(raw) == 0 {
		return nil, nil, fmt.Errorf("kmeans: %d values are not rows of %d features", len(raw), d)
	}
	s := &Scaler{Features: features, Mean: make([]float64, d), Std: make([]float64, d)}
	n := len(raw) / d
	z := make([]float64, len(raw))
	for i, v := range raw {
		t, err := s.prepare(v, i%d)
		if err != nil {
			return nil, nil, fmt.Errorf("row %d %s: %w", i/d, features[i%d].Name, err)
		}
		z[i] = t
	}
	for f := range d {
		mean := 0.0
		constant := true
		for i := range n {
			mean += z[i*d+f]
			constant = constant && z[i*d+f] == z[f]
		}
		if constant {
			// Exactly: the mean of n equal values is not that value in
			// floating point, and a std of its rounding (1e-16) would put
			// every customer one standard deviation off it, which the
			// description then reads as "high" or "low".
			s.Mean[f], s.Std[f] = z[f], 1
			continue
		}
		mean /= float64(n)
		// Two passes: no cancellation when the mean is large against the
		// spread.
		v := 0.0
		for i := range n {
			t := z[i*d+f] - mean
			v += t * t
		}
		s.Mean[f] = mean
		s.Std[f] = math.Sqrt(v / float64(n))
		if s.Std[f] == 0 {
			s.Std[f] = 1
		}
	}
	for i := range z {
		f := i % d
		z[i] = (z[i] - s.Mean[f]) / s.Std[f]
	}
	return s, z, nil
}

// prepare checks a raw value and applies the feature's log.
func (s *Scaler) prepare(v float64, f int) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("kmeans: value %v", v)
	}
	if s.Features[f].Log {
		if v <= -1 {
			return 0, fmt.Errorf("kmeans: log1p of %v", v)
		}
		return math.Log1p(v), nil
	}
	return v, nil
}

// Transform returns the standardised rows of raw (rows of
// len(s.Features) values), in a new slice.
func (s *Scaler) Transform(raw []float64) ([]float64, error) {
	d := len(s.Features)
	if len(raw)%d != 0 {
		return nil, fmt.Errorf("kmeans: %d values are not rows of %d features", len(raw), d)
	}
	z := make([]float64, len(raw))
	for i, v := range raw {
		f := i % d
		t, err := s.prepare(v, f)
		if err != nil {
			return nil, fmt.Errorf("row %d %s: %w", i/d, s.Features[f].Name, err)
		}
		z[i] = (t - s.Mean[f]) / s.Std[f]
	}
	return z, nil
}

// Inverse maps standardised rows back to original units (expm1 for the
// logged features). For a centroid this is not the cluster's arithmetic
// mean but its geometric-style centre: with log1p, the mean of the logs.
func (s *Scaler) Inverse(z []float64) []float64 {
	d := len(s.Features)
	out := make([]float64, len(z))
	for i, v := range z {
		f := i % d
		t := v*s.Std[f] + s.Mean[f]
		if s.Features[f].Log {
			t = math.Expm1(t)
		}
		out[i] = t
	}
	return out
}
