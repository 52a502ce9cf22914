package analytics

import "time"

// RFMResult is what an RFM run found: the named groups with their
// summaries, the R × FM grid with each cell's group and customers (for the
// console's heat map), and what each 1-5 score means in raw values.
type RFMResult struct {
	AsOf time.Time `json:"as_of"`
	// Period is the analysis period ("365d"); empty is all time.
	Period string `json:"period,omitempty"`
	// Scored is Active plus Inactive: every customer who ever ordered.
	Scored int `json:"scored"`
	// Active ordered in the period (the quintiles describe them);
	// Inactive ordered before it only (scored 1/1/1, Lost); NeverOrdered
	// have no scores.
	Active       int `json:"active"`
	Inactive     int `json:"inactive"`
	NeverOrdered int `json:"never_ordered"`
	// Groups are the eleven named groups, best first.
	Groups []RFMGroup `json:"groups"`
	// Grid is indexed [r-1][fm-1], FM being the rounded mean of F and M.
	Grid [5][5]RFMCell `json:"grid"`
	// Recency (days), Frequency (orders) and Monetary (revenue) give, for
	// each score s (index s-1), the range of raw values that got it.
	Recency   [5]RFMRange `json:"recency"`
	Frequency [5]RFMRange `json:"frequency"`
	Monetary  [5]RFMRange `json:"monetary"`
}

// RFMGroup summarises one named group: who is in it, what stores usually
// do with it, and its customers' share of everyone scored and of revenue.
type RFMGroup struct {
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	Action       string  `json:"action"`
	Count        int     `json:"count"`
	Share        float64 `json:"share"`
	Revenue      float64 `json:"revenue"`
	RevenueShare float64 `json:"revenue_share"`
	// The means per customer of the group.
	MeanRecencyDays float64 `json:"mean_recency_days"`
	MeanOrders      float64 `json:"mean_orders"`
	MeanRevenue     float64 `json:"mean_revenue"`
}

// RFMCell is one cell of the R × FM grid: its group and how many scored
// customers fall in it.
type RFMCell struct {
	Group string `json:"group"`
	Count int    `json:"count"`
}

// RFMRange is the span of raw values that got one score; Min and Max are
// meaningless when Count is 0.
type RFMRange struct {
	Count int     `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
}

// ClusterResult is what a clustering run found.
type ClusterResult struct {
	AsOf      time.Time `json:"as_of"`
	Features  []string  `json:"features"`
	Customers int       `json:"customers"`
	K         int       `json:"k"`
	// Silhouettes are the mean silhouette of each k tried, when k was
	// chosen (the best is K); a k that put every customer in one cluster
	// has none and is left out.
	Silhouettes []KSilhouette `json:"silhouettes,omitempty"`
	Inertia     float64       `json:"inertia"`
	Iterations  int           `json:"iterations"`
	Clusters    []Cluster     `json:"clusters"`
	// Next is the first cluster number never given, so that a number
	// that disappeared does not come back with another meaning.
	Next int `json:"next"`
	// Sample is up to 1,000 customers on the plane of the two principal
	// components of the standardised features, for a scatter plot.
	Sample []ClusterPoint `json:"sample"`
}

// KSilhouette is the mean silhouette of a clustering into K clusters.
type KSilhouette struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
}

// Cluster describes one cluster: its number (kept from the previous run
// when the cluster is essentially the same), size, description in words,
// and centre.
type Cluster struct {
	Number      int     `json:"number"`
	Size        int     `json:"size"`
	Share       float64 `json:"share"`
	Description string  `json:"description"`
	// Means are the cluster's mean of each feature, in its own units.
	Means []float64 `json:"means"`
	// Centroid is the centre in standard deviations from the population
	// mean (after the log transform): what the description reads.
	Centroid []float64 `json:"centroid"`
	// Centre is the centre mapped back to the features' units, which the
	// next run matches its clusters with to keep their numbers.
	Centre []float64 `json:"centre"`
}

// ClusterPoint is one sampled customer on the scatter plot.
type ClusterPoint struct {
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	Cluster int     `json:"cluster"`
}

// CLVResult is a lifetime-value run: the fitted BG/NBD (r, alpha, a, b)
// and Gamma-Gamma (p, q, v) models with their log-likelihoods and
// standard errors, and what they predict over the horizon.
type CLVResult struct {
	AsOf           time.Time `json:"as_of"`
	CalibrationEnd string    `json:"calibration_end"`
	Unit           string    `json:"unit"`
	Horizon        string    `json:"horizon"`

	R                       float64            `json:"r"`
	Alpha                   float64            `json:"alpha"`
	A                       float64            `json:"a"`
	B                       float64            `json:"b"`
	BGNBDLogLikelihood      float64            `json:"bgnbd_log_likelihood"`
	P                       float64            `json:"p"`
	Q                       float64            `json:"q"`
	V                       float64            `json:"v"`
	GammaGammaLogLikelihood float64            `json:"gamma_gamma_log_likelihood"`
	StdErrors               map[string]float64 `json:"std_errors"`

	// Customers are those fitted (first order by the calibration end);
	// Repeaters those with a repeat order, whom Gamma-Gamma is fitted on.
	Customers int `json:"customers"`
	Repeaters int `json:"repeaters"`
	// ExpectedPurchases and PredictedRevenue are the totals over the
	// horizon.
	ExpectedPurchases float64 `json:"expected_purchases"`
	PredictedRevenue  float64 `json:"predicted_revenue"`
	// Risk counts the customers of each churn-risk band.
	Risk map[string]int `json:"risk"`
	// Distribution is a histogram of predicted CLV.
	Distribution []Bucket `json:"distribution"`
	// Top are the customers with the highest predicted CLV; AtRisk the
	// most valuable customers (by revenue so far) whose churn risk is
	// high.
	Top    []CLVCustomer `json:"top"`
	AtRisk []CLVCustomer `json:"at_risk"`
	// Warnings say what to mind about the fit, such as a parameter at the
	// edge of its range (then without a standard error).
	Warnings []string `json:"warnings,omitempty"`
	// Holdout compares the prediction for the orders after the
	// calibration end with what happened, when there are such orders.
	Holdout *Holdout `json:"holdout,omitempty"`
}

// Bucket is one bar of a histogram: Count values in [Min, Max).
type Bucket struct {
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Count int     `json:"count"`
}

// CLVCustomer is one customer's prediction.
type CLVCustomer struct {
	CustomerID        int64   `json:"customer_id"`
	Revenue           float64 `json:"revenue"`
	Orders            int     `json:"orders"`
	PAlive            float64 `json:"p_alive"`
	ExpectedPurchases float64 `json:"expected_purchases"`
	PredictedCLV      float64 `json:"predicted_clv"`
	ChurnRisk         string  `json:"churn_risk"`
}

// Holdout compares predicted and actual purchases in the holdout period
// (from the calibration end to as-of), per number of repeat purchases in
// the calibration period, as the BG/NBD paper does.
type Holdout struct {
	Length    float64      `json:"length"` // in units
	Rows      []HoldoutRow `json:"rows"`
	Actual    float64      `json:"actual"`
	Predicted float64      `json:"predicted"`
}

// HoldoutRow is the customers with Frequency repeat purchases in the
// calibration period (the last row: that many or more): their mean
// actual and predicted purchases in the holdout period.
type HoldoutRow struct {
	Frequency int     `json:"frequency"`
	Customers int     `json:"customers"`
	Actual    float64 `json:"actual"`
	Predicted float64 `json:"predicted"`
}

// BasketResult is a basket analysis: the association rules among the
// products of the orders.
type BasketResult struct {
	Orders        int     `json:"orders"`
	Products      int     `json:"products"`
	MinSupport    float64 `json:"min_support"`
	MinConfidence float64 `json:"min_confidence"`
	MinLen        int     `json:"min_len"`
	// Found is how many rules met the thresholds; Rules are the first
	// MaxRules of them by lift.
	Found int    `json:"found"`
	Rules []Rule `json:"rules"`
	// Names are the products' names, by product id.
	Names map[string]string `json:"names,omitempty"`
}

// Rule is an association rule: orders with every Antecedent product
// also hold the Consequent, in Count orders (Support of all orders), with
// the given Confidence and Lift.
type Rule struct {
	Antecedent []string `json:"antecedent"`
	Consequent []string `json:"consequent"`
	Support    float64  `json:"support"`
	Confidence float64  `json:"confidence"`
	Lift       float64  `json:"lift"`
	Count      int      `json:"count"`
}

// CohortResult is the monthly acquisition cohorts: customers by the month
// of their first order, and how many of them ordered, and for how much,
// in each month since.
type CohortResult struct {
	Cohorts []Cohort `json:"cohorts"`
}

// Cohort is the customers whose first order was in Month (YYYY-MM).
// Index i of the slices is i months after Month.
type Cohort struct {
	Month     string    `json:"month"`
	Size      int       `json:"size"`
	Active    []int     `json:"active"`
	Retention []float64 `json:"retention"`
	Revenue   []float64 `json:"revenue"`
	// CumulativeRevenuePerCustomer is the cohort's revenue up to each
	// month, per customer of the cohort.
	CumulativeRevenuePerCustomer []float64 `json:"cumulative_revenue_per_customer"`
}

// Recommendation is a product recommended to a customer, or like another
// product, with why.
type Recommendation struct {
	ProductID string  `json:"product_id"`
	Name      string  `json:"name,omitempty"`
	Category  string  `json:"category,omitempty"`
	Price     float64 `json:"price,omitempty"`
	URL       string  `json:"url,omitempty"`
	ImageURL  string  `json:"image_url,omitempty"`
	Score     float64 `json:"score"`
	// Reason says why: "bought with Mug", "popular".
	Reason string `json:"reason,omitempty"`
	// Support, Confidence and Lift are those of the rule
	// {product} => {this} for products bought together.
	Support    float64 `json:"support,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	Lift       float64 `json:"lift,omitempty"`
}
