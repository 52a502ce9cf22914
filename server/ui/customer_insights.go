package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics"
)

// customerScores is the 360 page's "Scores & predictions" card: what the
// analyses last computed for the customer, with the words of the runs
// that computed them (the RFM group's description, the cluster's).
type customerScores struct {
	S                   touchbase.Scores
	HasRFM, HasCLV, Has bool
	RFMCode             string // "545"
	GroupDescription    string
	GroupAction         string
	ClusterDescription  string
	GroupSegment        string
	ClusterSegment      string
	RiskSegment         string
	CanRun              bool
	loc                 *time.Location
	currency            string
}

// Loc is the workspace's time zone.
func (c *customerScores) Loc() *time.Location { return c.loc }

// Currency is the workspace's currency code.
func (c *customerScores) Currency() string { return c.currency }

// PAlivePercent is P(alive) as a whole percentage.
func (c *customerScores) PAlivePercent() string {
	if c.S.PAlive == nil {
		return ""
	}
	return strconv.Itoa(int(*c.S.PAlive*100+0.5)) + "%"
}

// loadCustomerScores reads the card's words from the latest RFM and
// clustering runs (the scores come with the customer).
func (h *Handler) loadCustomerScores(ctx context.Context, rq *request, c *touchbase.Customer) (*customerScores, error) {
	s := c.Scores
	cs := &customerScores{S: s, loc: location(rq.ws), currency: "USD",
		HasRFM: s.R != nil && s.F != nil && s.M != nil, HasCLV: s.PAlive != nil || s.PredictedCLV != nil}
	if cur := rq.ws.Settings.Currency; cur != "" {
		cs.currency = cur
	}
	cs.Has = cs.HasRFM || cs.HasCLV || s.Cluster != nil || s.RFMGroup != ""
	cs.CanRun = rq.member.Role.AtLeast(touchbase.RoleMarketer) && h.analystOn()
	if cs.HasRFM {
		cs.RFMCode = strconv.Itoa(*s.R) + strconv.Itoa(*s.F) + strconv.Itoa(*s.M)
	}
	if s.RFMGroup != "" {
		run, err := h.svc.Analyses.LatestAnalysisRun(ctx, rq.ws.ID, touchbase.AnalysisRFM)
		if err != nil && touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
			return nil, err
		}
		var res analytics.RFMResult
		if run != nil && json.Unmarshal(run.Result, &res) == nil {
			for _, g := range res.Groups {
				if g.Name == s.RFMGroup {
					cs.GroupDescription, cs.GroupAction = g.Description, g.Action
				}
			}
		}
		if h.segmentsOn() {
			cs.GroupSegment = segmentURL("RFM: "+s.RFMGroup, cs.GroupDescription, "rfm.segment = "+strconv.Quote(s.RFMGroup))
		}
	}
	if s.Cluster != nil {
		run, err := h.svc.Analyses.LatestAnalysisRun(ctx, rq.ws.ID, touchbase.AnalysisClusters)
		if err != nil && touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
			return nil, err
		}
		var res analytics.ClusterResult
		if run != nil && json.Unmarshal(run.Result, &res) == nil {
			for _, cl := range res.Clusters {
				if cl.Number == *s.Cluster {
					cs.ClusterDescription = cl.Description
				}
			}
		}
		if h.segmentsOn() {
			n := strconv.Itoa(*s.Cluster)
			cs.ClusterSegment = segmentURL("Cluster "+n, cs.ClusterDescription, "cluster = "+n)
		}
	}
	if s.ChurnRisk != "" && h.segmentsOn() {
		cs.RiskSegment = segmentURL("Churn risk "+s.ChurnRisk, "Customers whose churn risk is "+s.ChurnRisk+" (lifetime value model).",
			"churn_risk = "+strconv.Quote(s.ChurnRisk))
	}
	return cs, nil
}

// customerRecommendations is how many products the 360 page recommends.
const customerRecommendations = 6

// recommendations is the 360 page's "Recommended products" card.
type recommendations struct {
	Items    []analytics.Recommendation
	Error    string
	currency string
}

// Currency is the workspace's currency code.
func (r *recommendations) Currency() string { return r.currency }

// loadRecommendations asks the analyst for the customer's products. A
// failure is the card's, shown in it: the rest of the profile matters more.
func (h *Handler) loadRecommendations(w http.ResponseWriter, r *http.Request, rq *request, customerID int64, currency string) *recommendations {
	recs := &recommendations{currency: currency}
	items, err := h.svc.Analyst.RecommendForCustomer(r.Context(), rq.ws.ID, customerID, customerRecommendations)
	switch code := touchbase.ErrorCode(err); {
	case err == nil:
		recs.Items = items
	case code == touchbase.EINVALID || code == touchbase.ENOTFOUND || code == touchbase.EUNAVAILABLE:
		recs.Error = touchbase.ErrorMessage(err)
	default:
		id := w.Header().Get("X-Request-Id")
		h.log.Error("console: recommendations", "request_id", id, "customer", customerID, "err", err)
		recs.Error = "Recommendations could not be computed just now."
		if id != "" {
			recs.Error += " Request id " + id + "."
		}
	}
	return recs
}
