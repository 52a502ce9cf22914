package analytics

import (
	"context"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics/cohort"
)

// runCohorts builds the monthly acquisition cohorts of the customers who
// ordered, through the as-of month, in UTC months.
func (r *Runner) runCohorts(ctx context.Context, run *touchbase.AnalysisRun, p Params, progress Progress) (*CohortResult, error) {
	progress("reading orders", 0, 0)
	var orders []cohort.Order
	err := r.st.ScanOrderFacts(ctx, run.WorkspaceID, func(o touchbase.OrderFact) error {
		orders = append(orders, cohort.Order{Customer: o.CustomerID, Time: time.UnixMilli(o.PlacedAt), Amount: o.Value})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(orders) == 0 {
		return nil, errNoData
	}
	progress("building cohorts", 0, len(orders))
	t, err := cohort.Build(orders, cohort.Options{Through: p.AsOf})
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "cohorts: %v", err)
	}
	res := &CohortResult{Cohorts: make([]Cohort, len(t.Cohorts))}
	for i, c := range t.Cohorts {
		res.Cohorts[i] = Cohort{
			Month: c.Month.Format("2006-01"), Size: c.Size, Active: c.Active, Retention: c.Retention,
			Revenue: c.Revenue, CumulativeRevenuePerCustomer: c.CumulativeRevenuePerCustomer,
		}
	}
	run.Customers = t.Customers
	return res, nil
}
