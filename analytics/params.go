package analytics

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Params are an analysis's parameters: each kind reads its own, and a run
// records them with their defaults filled in.
type Params struct {
	// AsOf is the instant the analysis takes as now (default: now).
	AsOf time.Time `json:"as_of,omitzero" required:"false"`

	// Period (rfm): frequency and monetary count the orders of this
	// period before AsOf, such as "365d"; empty is all time.
	Period segment.Duration `json:"period,omitempty"`

	// K (clusters) is the number of clusters; 0 chooses it by silhouette
	// between MinK and MaxK (default 2 and 8).
	K    int `json:"k,omitempty"`
	MinK int `json:"min_k,omitempty"`
	MaxK int `json:"max_k,omitempty"`
	// Features (clusters) are what to cluster on: "recency" (days since
	// the last order), "frequency" (orders) and "monetary" (revenue), the
	// default, any numeric feature segments know ("aov", "events",
	// "p_alive", ...) and numeric traits, as "traits.NAME" (a dot path
	// into nested traits). Customers without a number for every feature
	// are left out.
	Features []string `json:"features,omitempty"`
	// Seed (clusters) makes the run reproducible.
	Seed uint64 `json:"seed,omitempty"`

	// CalibrationEnd (clv) is the last day of the period the model is
	// fitted on (default: AsOf's day); orders after it are the holdout
	// the fit is compared with.
	CalibrationEnd string `json:"calibration_end,omitempty"`
	// Unit (clv) is the model's time unit: "day" or "week" (default).
	Unit string `json:"unit,omitempty"`
	// Horizon (clv) is how far ahead purchases and value are predicted
	// (default 365d).
	Horizon segment.Duration `json:"horizon,omitempty"`

	// MinSupport, MinConfidence and MinLen (basket) are the rules'
	// thresholds (defaults 0.01, 0.2 and 2 items); MaxRules caps how
	// many the run keeps, by lift (default 1,000; -1 keeps every one).
	MinSupport    float64 `json:"min_support,omitempty"`
	MinConfidence float64 `json:"min_confidence,omitempty"`
	MinLen        int     `json:"min_len,omitempty"`
	MaxRules      int     `json:"max_rules,omitempty"`
}

// resolve checks the parameters kind reads and fills in their defaults.
func (p *Params) resolve(kind touchbase.AnalysisKind, reg *segment.Registry) error {
	bad := func(format string, args ...any) error {
		return touchbase.Errorf(touchbase.EINVALID, "%s: "+format, append([]any{kind}, args...)...)
	}
	p.AsOf = p.AsOf.UTC()
	switch kind {
	case touchbase.AnalysisRFM:
		if p.Period != "" {
			if _, err := p.Period.Std(); err != nil {
				return bad("period: %v", err)
			}
		}
	case touchbase.AnalysisClusters:
		if p.K < 0 || p.K == 1 || p.K > 50 {
			return bad("k %d: want 2 to 50, or 0 to choose by silhouette", p.K)
		}
		if p.K == 0 {
			if p.MinK == 0 {
				p.MinK = 2
			}
			if p.MaxK == 0 {
				p.MaxK = 8
			}
			if p.MinK < 2 || p.MaxK < p.MinK || p.MaxK > 50 {
				return bad("k range %d to %d: want 2 <= min_k <= max_k <= 50", p.MinK, p.MaxK)
			}
		}
		if p.Seed == 0 {
			p.Seed = 1
		}
		if len(p.Features) == 0 {
			p.Features = rfmFeatures
		}
		for _, name := range p.Features {
			if slices.Contains(rfmFeatures, name) {
				continue
			}
			if key, ok := strings.CutPrefix(name, "traits."); ok {
				if key == "" || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
					return bad("feature %q: want traits.NAME, a trait's name or dot path", name)
				}
				continue
			}
			f, ok := reg.Lookup(name)
			if !ok {
				return bad("feature %q: want recency, frequency, monetary, a feature segments know (%s) or traits.NAME for a numeric trait",
					name, strings.Join(reg.Names(), ", "))
			}
			if f.Type != segment.TypeNumber {
				return bad("feature %q is not a number", name)
			}
		}
	case touchbase.AnalysisCLV:
		if p.Unit == "" {
			p.Unit = "week"
		}
		if p.Unit != "day" && p.Unit != "week" {
			return bad("unit %q: want day or week", p.Unit)
		}
		if p.CalibrationEnd == "" {
			p.CalibrationEnd = p.AsOf.Format(time.DateOnly)
		}
		if _, err := time.Parse(time.DateOnly, p.CalibrationEnd); err != nil {
			return bad("calibration_end %q: want a date, YYYY-MM-DD", p.CalibrationEnd)
		}
		if p.Horizon == "" {
			p.Horizon = "365d"
		}
		if _, err := p.Horizon.Std(); err != nil {
			return bad("horizon: %v", err)
		}
	case touchbase.AnalysisBasket:
		if p.MinSupport == 0 {
			p.MinSupport = 0.01
		}
		if p.MinConfidence == 0 {
			p.MinConfidence = 0.2
		}
		if p.MinLen == 0 {
			p.MinLen = 2
		}
		if p.MaxRules == 0 {
			p.MaxRules = 1000
		}
		if !(p.MinSupport > 0 && p.MinSupport <= 1) || math.IsNaN(p.MinSupport) {
			return bad("min_support %v: want a fraction of orders, above 0 and at most 1", p.MinSupport)
		}
		if !(p.MinConfidence > 0 && p.MinConfidence <= 1) {
			return bad("min_confidence %v: want above 0 and at most 1", p.MinConfidence)
		}
		if p.MinLen < 1 {
			return bad("min_len %d: want 1 or more", p.MinLen)
		}
		if p.MaxRules < 0 {
			p.MaxRules = -1 // every rule
		}
	}
	return nil
}

// calibrationEnd is CalibrationEnd's day (its midnight, UTC): clv takes
// any instant of the last day counted.
func (p *Params) calibrationEnd() time.Time {
	d, _ := time.Parse(time.DateOnly, p.CalibrationEnd)
	return d
}

// unit is Unit as a duration.
func (p *Params) unit() time.Duration {
	if p.Unit == "day" {
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

// std is d as a duration; resolve has checked it.
func std(d segment.Duration) time.Duration {
	v, _ := d.Std()
	return v
}

// rfmFeatures are the default features clustering uses, computed from
// the orders as RFM does.
var rfmFeatures = []string{"recency", "frequency", "monetary"}
