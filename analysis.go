package touchbase

import (
	"context"
	"encoding/json"
	"time"
)

// AnalysisKind names one of the customer-intelligence analyses.
type AnalysisKind string

// Analysis kinds. RFM, clusters and CLV write customer scores; basket and
// cohorts describe the store as a whole.
const (
	AnalysisRFM      AnalysisKind = "rfm"
	AnalysisClusters AnalysisKind = "clusters"
	AnalysisCLV      AnalysisKind = "clv"
	AnalysisBasket   AnalysisKind = "basket"
	AnalysisCohorts  AnalysisKind = "cohorts"
)

// AnalysisKinds are the kinds in the order they run: clusters use the RFM
// values, so RFM comes first.
var AnalysisKinds = []AnalysisKind{AnalysisRFM, AnalysisClusters, AnalysisCLV, AnalysisBasket, AnalysisCohorts}

// Valid reports whether k is a known kind.
func (k AnalysisKind) Valid() bool {
	for _, v := range AnalysisKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Scores reports whether runs of k write per-customer scores, which
// segments name as features.
func (k AnalysisKind) Scores() bool {
	return k == AnalysisRFM || k == AnalysisClusters || k == AnalysisCLV
}

// AnalysisRun is one run of an analysis: when, on how many customers, with
// which parameters, and what it found (Result: the kind's summary, such as
// RFM's group table or CLV's fitted parameters and fit quality). Error is
// set when the run failed; FinishedAt is nil while it runs.
type AnalysisRun struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"workspace_id"`
	Kind        AnalysisKind    `json:"kind"`
	StartedAt   time.Time       `json:"started_at"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	Customers   int             `json:"customers"`
	Params      json.RawMessage `json:"params"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	// Seq is the run's position in the change feed once it finished (0
	// before; set by ChangeFeed.AnalysisRunsAfter).
	Seq int64 `json:"-"`
	// Progress is where a run under way stands, as the process running
	// it last told (only that process knows: nil otherwise, and once the
	// run ends).
	Progress *AnalysisProgress `json:"progress,omitempty"`
}

// AnalysisProgress is the stage a run is in ("reading customers",
// "saving scores", ...) and, when known, how much of it is done.
type AnalysisProgress struct {
	Stage string `json:"stage"`
	Done  int    `json:"done,omitempty"`
	Total int    `json:"total,omitempty"`
}

// Scores are what the analyses last computed for a customer; a nil field
// was not computed (no run yet, or the customer had nothing to score:
// RFM and CLV score buyers only).
type Scores struct {
	// RFM: recency in days since the last order in the period, orders
	// and revenue in the period, their 1-5 scores and named group.
	Recency   *float64 `json:"rfm_recency,omitempty"`
	Frequency *float64 `json:"rfm_frequency,omitempty"`
	Monetary  *float64 `json:"rfm_monetary,omitempty"`
	R         *int     `json:"rfm_r,omitempty"`
	F         *int     `json:"rfm_f,omitempty"`
	M         *int     `json:"rfm_m,omitempty"`
	RFMGroup  string   `json:"rfm_segment,omitempty"`
	// Cluster is the customer's cluster number from the last clustering.
	Cluster *int `json:"cluster,omitempty"`
	// Lifetime value (BG/NBD + Gamma-Gamma) over the run's horizon.
	PAlive            *float64   `json:"p_alive,omitempty"`
	ExpectedPurchases *float64   `json:"expected_purchases,omitempty"`
	PredictedCLV      *float64   `json:"predicted_clv,omitempty"`
	ChurnRisk         string     `json:"churn_risk,omitempty"`
	NextOrderAt       *time.Time `json:"next_order_at,omitempty"`
	// UpdatedAt is when any of them was last written.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// AnalysisService runs the analyses of a workspace and reads their results.
type AnalysisService interface {
	// ListAnalysisRuns returns the workspace's runs, newest first, of one
	// kind or of all when kind is empty.
	ListAnalysisRuns(ctx context.Context, workspaceID int64, kind AnalysisKind, limit int) ([]*AnalysisRun, error)
	// FindAnalysisRun returns one run, or ENOTFOUND.
	FindAnalysisRun(ctx context.Context, workspaceID, id int64) (*AnalysisRun, error)
	// LatestAnalysisRun returns the newest finished, successful run of a
	// kind, or ENOTFOUND.
	LatestAnalysisRun(ctx context.Context, workspaceID int64, kind AnalysisKind) (*AnalysisRun, error)
}

// RFMScore is what an RFM run computes for one buyer.
type RFMScore struct {
	CustomerID int64
	Recency    float64 // days since the last order in the period
	Frequency  float64 // orders in the period
	Monetary   float64 // revenue of those orders
	R, F, M    int     // 1-5
	Group      string  // the named group: "Champions", "At Risk", ...
}

// ClusterScore is the cluster a clustering run puts one customer in.
type ClusterScore struct {
	CustomerID int64
	Cluster    int
}

// CLVScore is what a lifetime-value run predicts for one buyer over its
// horizon. NextOrderAt is zero when no next order is expected.
type CLVScore struct {
	CustomerID        int64
	PAlive            float64
	ExpectedPurchases float64
	PredictedCLV      float64
	ChurnRisk         string
	NextOrderAt       time.Time
}

// BuyerTotals are one customer's orders in a period: how many, their
// revenue (net of refunds, cancelled orders left out) and the first and
// last order's time in Unix milliseconds.
type BuyerTotals struct {
	CustomerID   int64
	Orders       int
	Revenue      float64
	FirstOrderAt int64
	LastOrderAt  int64
}

// OrderFact is one order of a known customer, as the analyses read it:
// not cancelled, its value net of refunds, its time in Unix milliseconds.
type OrderFact struct {
	ID         int64
	CustomerID int64
	PlacedAt   int64
	Value      float64
}

// OrderLine is one line of an order that is not cancelled; CustomerID is 0
// for a guest order.
type OrderLine struct {
	OrderID    int64
	CustomerID int64
	PlacedAt   int64
	ProductID  string
	Quantity   float64
	Price      float64
}
