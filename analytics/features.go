package analytics

import (
	"strconv"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Features are the customer features the analyses compute, as segments
// name them: `rfm.segment = "At Risk"`, `cluster = 2`,
// `predicted_clv > 500`, `p_alive < 0.3`. Their values are the
// customer's Scores; in SQL, the customer_scores row.
func Features() []segment.Feature {
	col := func(name string) func(segment.Dialect) string {
		return func(segment.Dialect) string {
			return "(SELECT s." + name + " FROM customer_scores s WHERE s.workspace_id = c.workspace_id AND s.customer_id = c.id)"
		}
	}
	num := func(f func(*touchbase.Scores) *float64) func(*touchbase.Customer) (segment.Value, bool) {
		return func(c *touchbase.Customer) (segment.Value, bool) {
			if v := f(&c.Scores); v != nil {
				return segment.Number(*v), true
			}
			return segment.Value{}, false
		}
	}
	integer := func(f func(*touchbase.Scores) *int) func(*touchbase.Customer) (segment.Value, bool) {
		return func(c *touchbase.Customer) (segment.Value, bool) {
			if v := f(&c.Scores); v != nil {
				return segment.Number(float64(*v)), true
			}
			return segment.Value{}, false
		}
	}
	str := func(f func(*touchbase.Scores) string) func(*touchbase.Customer) (segment.Value, bool) {
		return func(c *touchbase.Customer) (segment.Value, bool) {
			s := f(&c.Scores)
			return segment.String(s), s != ""
		}
	}
	return []segment.Feature{
		{Name: "rfm.segment", Type: segment.TypeString, Doc: `RFM group: "Champions", "Loyal Customers", ... "Lost" (buyers only)`,
			SQL: col("rfm_segment"), Get: str(func(s *touchbase.Scores) string { return s.RFMGroup })},
		{Name: "rfm.score", Type: segment.TypeString, Doc: `the three RFM scores as one code, R then F then M: "555" is the best`,
			SQL: func(segment.Dialect) string {
				return "(SELECT CAST(s.rfm_r AS TEXT) || CAST(s.rfm_f AS TEXT) || CAST(s.rfm_m AS TEXT) FROM customer_scores s" +
					" WHERE s.workspace_id = c.workspace_id AND s.customer_id = c.id)"
			},
			Get: func(c *touchbase.Customer) (segment.Value, bool) {
				s := &c.Scores
				if s.R == nil || s.F == nil || s.M == nil {
					return segment.Value{}, false
				}
				return segment.String(strconv.Itoa(*s.R) + strconv.Itoa(*s.F) + strconv.Itoa(*s.M)), true
			}},
		{Name: "rfm.r", Type: segment.TypeNumber, Doc: "RFM recency score, 1-5 (5: ordered most recently)",
			SQL: col("rfm_r"), Get: integer(func(s *touchbase.Scores) *int { return s.R })},
		{Name: "rfm.f", Type: segment.TypeNumber, Doc: "RFM frequency score, 1-5 (5: orders most often)",
			SQL: col("rfm_f"), Get: integer(func(s *touchbase.Scores) *int { return s.F })},
		{Name: "rfm.m", Type: segment.TypeNumber, Doc: "RFM monetary score, 1-5 (5: spends the most)",
			SQL: col("rfm_m"), Get: integer(func(s *touchbase.Scores) *int { return s.M })},
		{Name: "rfm.recency", Type: segment.TypeNumber, Doc: "days since the last order, when RFM last ran",
			SQL: col("rfm_recency"), Get: num(func(s *touchbase.Scores) *float64 { return s.Recency })},
		{Name: "rfm.frequency", Type: segment.TypeNumber, Doc: "orders in RFM's period",
			SQL: col("rfm_frequency"), Get: num(func(s *touchbase.Scores) *float64 { return s.Frequency })},
		{Name: "rfm.monetary", Type: segment.TypeNumber, Doc: "revenue in RFM's period",
			SQL: col("rfm_monetary"), Get: num(func(s *touchbase.Scores) *float64 { return s.Monetary })},
		{Name: "cluster", Type: segment.TypeNumber, Doc: "the customer's cluster from the last clustering",
			SQL: col("cluster"), Get: integer(func(s *touchbase.Scores) *int { return s.Cluster })},
		{Name: "p_alive", Type: segment.TypeNumber, Doc: "probability (0-1) that the customer is still active (BG/NBD)",
			SQL: col("p_alive"), Get: num(func(s *touchbase.Scores) *float64 { return s.PAlive })},
		{Name: "expected_purchases", Type: segment.TypeNumber, Doc: "orders expected over the lifetime-value horizon",
			SQL: col("expected_purchases"), Get: num(func(s *touchbase.Scores) *float64 { return s.ExpectedPurchases })},
		{Name: "predicted_clv", Type: segment.TypeNumber, Doc: "revenue expected over the lifetime-value horizon",
			SQL: col("predicted_clv"), Get: num(func(s *touchbase.Scores) *float64 { return s.PredictedCLV })},
		{Name: "churn_risk", Type: segment.TypeString, Doc: `"low", "medium" or "high", from p_alive`,
			SQL: col("churn_risk"), Get: str(func(s *touchbase.Scores) string { return s.ChurnRisk })},
		{Name: "next_order_at", Type: segment.TypeTime, Doc: "when the next order is expected",
			SQL: col("next_order_at"), Get: func(c *touchbase.Customer) (segment.Value, bool) {
				if t := c.Scores.NextOrderAt; t != nil {
					return segment.Value{Type: segment.TypeTime, Time: t.UnixMilli()}, true
				}
				return segment.Value{}, false
			}},
	}
}

// RegisterFeatures adds Features to reg.
func RegisterFeatures(reg *segment.Registry) error {
	for _, f := range Features() {
		if err := reg.Register(f); err != nil {
			return err
		}
	}
	return nil
}
