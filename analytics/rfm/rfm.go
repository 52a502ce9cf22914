// Package rfm scores customers by recency, frequency and monetary value
// and sorts them into the eleven standard RFM groups.
//
// The caller passes what the store knows about each customer over an
// analysis period ending at an as-of instant: the time of the last order,
// and the number of orders and the revenue in the period. Recency is whole
// days from the last order to the as-of instant, so two customers who
// ordered the same day before it tie. Each dimension gets a 1-5 quintile
// score (see Quintiles for the rule, under which ties never split), R
// higher for more recent, F and M higher for more. The group comes from
// the R × FM grid (see Grid), FM being the rounded mean of F and M.
//
// Customers with no order in the period stay visible: they score R=F=M=1
// and fall in Lost, without taking part in the quintiles (which describe
// the active customers only, so a store's many lapsed customers do not
// push every active one up a score). Customers who never ordered have no
// scores (0) and no group (None); they are counted apart.
package rfm

import (
	"fmt"
	"math"
	"time"
)

// Customer is what Analyze needs to know about one customer.
type Customer struct {
	// ID is the caller's, carried to the Score unchanged.
	ID int64
	// LastOrder is the time of the customer's last order at or before the
	// as-of instant, in or before the period; zero if they never ordered.
	LastOrder time.Time
	// Orders is the number of orders in the period.
	Orders int
	// Revenue is the revenue of those orders.
	Revenue float64
}

// Options configure Analyze.
type Options struct {
	// AsOf is the instant recency is measured from; required. A last
	// order after it counts as 0 days.
	AsOf time.Time
}

// Score is one customer's result, in input order.
type Score struct {
	ID int64
	// RecencyDays is whole days from the last order to AsOf (-1 if never
	// ordered).
	RecencyDays int32
	// R, F, M are the 1-5 scores (0 if never ordered); FM is the grid
	// column, FM(F, M).
	R, F, M, FM uint8
	// Active tells whether the customer ordered in the period, that is
	// whether the scores are quintiles (or 1, 1, 1 for the inactive).
	Active bool
	Group  Group
}

// Result is the outcome of Analyze.
type Result struct {
	// Scores holds one Score per input customer, in input order.
	Scores []Score
	// Active counts the customers with an order in the period, the ones
	// the quintiles are computed over; Inactive those who ordered before
	// the period only (in Lost); NeverOrdered those with no order at all.
	Active, Inactive, NeverOrdered int
	// Recency, Frequency and Monetary give, for each score s (index s-1),
	// the range of raw values among the active customers with that score,
	// so the console can say what "R=5" means ("ordered in the last 12
	// days"). Recency is in days.
	Recency, Frequency, Monetary [5]Range
	// Groups summarises each named group, indexed by Group-1 (see Groups).
	Groups [NumGroups]GroupSummary
	// Cells counts the scored customers (active and inactive) of each
	// grid cell: Cells[r-1][fm-1], for the console's heat map.
	Cells [5][5]int
}

// Range is the span of the raw values that got one score.
type Range struct {
	// Count is the number of active customers with the score; Min and Max
	// are meaningless when it is 0.
	Count    int
	Min, Max float64
}

// GroupSummary describes the customers of one group.
type GroupSummary struct {
	Group Group
	Count int
	// Share is Count over all scored customers (active and inactive).
	Share float64
	// Revenue is the group's revenue in the period; RevenueShare its part
	// of the total (0 when the total is 0, or so near it that the part
	// overflows).
	Revenue, RevenueShare float64
	// MeanRecencyDays, MeanOrders and MeanRevenue are per customer of the
	// group.
	MeanRecencyDays, MeanOrders, MeanRevenue float64
}

// Analyze computes the RFM scores and groups of customers, and the
// summaries. It fails on invalid input: a negative order count, a
// non-finite revenue, or orders without a last order time.
func Analyze(customers []Customer, opts Options) (*Result, error) {
	if opts.AsOf.IsZero() {
		return nil, fmt.Errorf("rfm: as-of time is required")
	}
	res := &Result{Scores: make([]Score, len(customers))}

	// Recency and frequency are small integers, so their thresholds come
	// from histograms (one pass, no reordering); monetary, a float, needs
	// a selection over a copy of the active customers' revenues.
	var maxDays int32
	maxOrders := 0
	for i := range customers {
		c := &customers[i]
		s := &res.Scores[i]
		s.ID = c.ID
		switch {
		case c.Orders < 0:
			return nil, fmt.Errorf("rfm: customer %d: negative order count %d", c.ID, c.Orders)
		case math.IsNaN(c.Revenue) || math.IsInf(c.Revenue, 0):
			return nil, fmt.Errorf("rfm: customer %d: revenue is %v", c.ID, c.Revenue)
		case c.LastOrder.IsZero() && c.Orders > 0:
			return nil, fmt.Errorf("rfm: customer %d: %d orders but no last order time", c.ID, c.Orders)
		}
		if c.LastOrder.IsZero() {
			s.RecencyDays = -1
			res.NeverOrdered++
			continue
		}
		s.RecencyDays = days(opts.AsOf.Sub(c.LastOrder))
		if c.Orders == 0 {
			s.R, s.F, s.M, s.FM, s.Group = 1, 1, 1, 1, Lost
			res.Inactive++
			continue
		}
		s.Active = true
		res.Active++
		maxDays = max(maxDays, s.RecencyDays)
		maxOrders = max(maxOrders, c.Orders)
	}

	// Recency is negated throughout so that larger is better in all three
	// dimensions.
	n := res.Active
	mon := make([]float64, 0, n)
	var recHist, freqHist []int
	if histogramFits(int(maxDays), n) {
		recHist = make([]int, maxDays+1)
	}
	if histogramFits(maxOrders, n) {
		freqHist = make([]int, maxOrders+1)
	}
	var rec, freq []float64 // only when a histogram would be too large
	if recHist == nil {
		rec = make([]float64, 0, n)
	}
	if freqHist == nil {
		freq = make([]float64, 0, n)
	}
	for i := range customers {
		s := &res.Scores[i]
		if !s.Active {
			continue
		}
		c := &customers[i]
		mon = append(mon, c.Revenue)
		if recHist != nil {
			recHist[s.RecencyDays]++
		} else {
			rec = append(rec, -float64(s.RecencyDays))
		}
		if freqHist != nil {
			freqHist[c.Orders]++
		} else {
			freq = append(freq, float64(c.Orders))
		}
	}
	var rc, fc cuts
	if recHist != nil {
		rc = histogramCuts(recHist, n, true)
	} else {
		rc = newCuts(rec)
	}
	if freqHist != nil {
		fc = histogramCuts(freqHist, n, false)
	} else {
		fc = newCuts(freq)
	}
	mc := newCuts(mon)

	for i := range customers {
		s := &res.Scores[i]
		if !s.Active {
			continue
		}
		c := &customers[i]
		s.R = rc.score(-float64(s.RecencyDays))
		s.F = fc.score(float64(c.Orders))
		s.M = mc.score(c.Revenue)
		s.FM = uint8(FM(int(s.F), int(s.M)))
		s.Group = grid[s.R-1][s.FM-1]
		res.Recency[s.R-1].add(float64(s.RecencyDays))
		res.Frequency[s.F-1].add(float64(c.Orders))
		res.Monetary[s.M-1].add(c.Revenue)
	}
	res.summarise(customers)
	return res, nil
}

// days converts a duration to whole days, rounding down, never below 0.
func days(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32(d / (24 * time.Hour))
}

func (r *Range) add(v float64) {
	if r.Count == 0 || v < r.Min {
		r.Min = v
	}
	if r.Count == 0 || v > r.Max {
		r.Max = v
	}
	r.Count++
}

// summarise fills Groups and Cells from Scores.
func (res *Result) summarise(customers []Customer) {
	var recencySum [NumGroups]float64
	var ordersSum [NumGroups]float64
	var total float64
	for i := range res.Scores {
		s := &res.Scores[i]
		if s.Group == None {
			continue
		}
		c := &customers[i]
		g := &res.Groups[s.Group-1]
		g.Count++
		g.Revenue += c.Revenue
		total += c.Revenue
		recencySum[s.Group-1] += float64(s.RecencyDays)
		ordersSum[s.Group-1] += float64(c.Orders)
		res.Cells[s.R-1][s.FM-1]++
	}
	scored := res.Active + res.Inactive
	for i := range res.Groups {
		g := &res.Groups[i]
		g.Group = Group(i + 1)
		if g.Count == 0 {
			continue
		}
		n := float64(g.Count)
		g.Share = n / float64(scored)
		// A total that refunds bring near 0 (5 - 5 + 1e-310) makes a
		// part that is no number: 0 then, as for a total of 0.
		if sh := g.Revenue / total; total != 0 && !math.IsInf(sh, 0) {
			g.RevenueShare = sh
		}
		g.MeanRecencyDays = recencySum[i] / n
		g.MeanOrders = ordersSum[i] / n
		g.MeanRevenue = g.Revenue / n
	}
}
