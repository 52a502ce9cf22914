package analytics

import (
	"context"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics/rfm"
)

// runRFM scores every customer who ever ordered: from their built-in
// features for all time (one pass over the customers), or with the
// period's orders counted from the orders table.
func (r *Runner) runRFM(ctx context.Context, run *touchbase.AnalysisRun, p Params, progress Progress) (*RFMResult, error) {
	progress("reading customers", 0, 0)
	ws := run.WorkspaceID
	buyers, err := r.st.BuyerTotals(ctx, ws, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	if len(buyers) == 0 {
		return nil, errNoData
	}
	in := make([]rfm.Customer, len(buyers))
	for i, b := range buyers {
		in[i] = rfm.Customer{ID: b.CustomerID, LastOrder: time.UnixMilli(b.LastOrderAt), Orders: b.Orders, Revenue: b.Revenue}
	}
	if p.Period != "" {
		progress("counting the period's orders", 0, 0)
		period, err := r.st.BuyerTotals(ctx, ws, p.AsOf.Add(-std(p.Period)), p.AsOf.Add(time.Millisecond))
		if err != nil {
			return nil, err
		}
		// Both are by customer id: the period's buyers are among all.
		j := 0
		for i := range in {
			c := &in[i]
			for j < len(period) && period[j].CustomerID < c.ID {
				j++
			}
			if j < len(period) && period[j].CustomerID == c.ID {
				c.Orders, c.Revenue = period[j].Orders, period[j].Revenue
				c.LastOrder = time.UnixMilli(period[j].LastOrderAt)
			} else {
				c.Orders, c.Revenue = 0, 0
			}
		}
	}
	progress("scoring", 0, len(in))
	res, err := rfm.Analyze(in, rfm.Options{AsOf: p.AsOf})
	if err != nil {
		return nil, err
	}
	scores := make([]touchbase.RFMScore, 0, len(res.Scores))
	for i, s := range res.Scores {
		if s.Group == rfm.None {
			continue
		}
		scores = append(scores, touchbase.RFMScore{
			CustomerID: s.ID, Recency: float64(s.RecencyDays), Frequency: float64(in[i].Orders), Monetary: in[i].Revenue,
			R: int(s.R), F: int(s.F), M: int(s.M), Group: s.Group.String(),
		})
	}
	progress("saving scores", 0, len(scores))
	if err := r.st.SaveRFMScores(ctx, ws, run.ID, scores, saved(progress, len(scores))); err != nil {
		return nil, err
	}
	run.Customers = len(scores)
	return rfmResult(res, p), nil
}

func rfmResult(res *rfm.Result, p Params) *RFMResult {
	out := &RFMResult{AsOf: p.AsOf, Period: string(p.Period), Active: res.Active, Inactive: res.Inactive, NeverOrdered: res.NeverOrdered}
	out.Scored = res.Active + res.Inactive
	for _, g := range res.Groups {
		out.Groups = append(out.Groups, RFMGroup{
			Name: g.Group.String(), Description: g.Group.Description(), Action: g.Group.Action(),
			Count: g.Count, Share: g.Share, Revenue: g.Revenue, RevenueShare: g.RevenueShare,
			MeanRecencyDays: g.MeanRecencyDays, MeanOrders: g.MeanOrders, MeanRevenue: g.MeanRevenue,
		})
	}
	grid := rfm.Grid()
	for ri := range 5 {
		for fi := range 5 {
			out.Grid[ri][fi] = RFMCell{Group: grid[ri][fi].String(), Count: res.Cells[ri][fi]}
		}
	}
	conv := func(rs [5]rfm.Range) (out [5]RFMRange) {
		for i, r := range rs {
			out[i] = RFMRange{Count: r.Count, Min: r.Min, Max: r.Max}
		}
		return out
	}
	out.Recency, out.Frequency, out.Monetary = conv(res.Recency), conv(res.Frequency), conv(res.Monetary)
	return out
}
