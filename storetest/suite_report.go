package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// testReport checks the dashboard's figures against a small history whose
// every number is worked out by hand: buyers new in a period (first order
// ever in it) or returning, refunds netted, cancelled and other
// workspaces' orders ignored, guest orders counted as orders only.
func testReport(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := Workspace(t, s, "shop")
	other := Workspace(t, s, "other")
	day := func(d int, hour int) time.Time {
		return Epoch.Add(time.Duration(d)*24*time.Hour + time.Duration(hour)*time.Hour)
	}

	// Epoch is Wednesday 2025-01-01 UTC.
	c1 := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, Email: "c1@example.com", CreatedAt: day(-10, 9)})
	c2 := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, Email: "c2@example.com", CreatedAt: day(0, 10)})
	c3 := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, Email: "c3@example.com", CreatedAt: day(1, 12)})
	// c4 was seen (on the 2nd) before touchbase created them (the 3rd):
	// a back-filled history counts when the customer was first seen.
	InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: w.ID, Email: "c4@example.com", CreatedAt: day(2, 12),
		Features: touchbase.Features{FirstSeenAt: at(24*time.Hour + 20*time.Hour)}})
	orders := []touchbase.Order{
		{OrderID: "o1", CustomerID: c1, Revenue: 100, PlacedAt: day(-10, 9)},
		{OrderID: "o2", CustomerID: c1, Revenue: 50, Refunded: 10, Status: touchbase.OrderPartiallyRefunded, PlacedAt: day(1, 12)},
		{OrderID: "o3", CustomerID: c2, Revenue: 20, PlacedAt: day(0, 12)},
		{OrderID: "o4", CustomerID: c2, Revenue: 30, PlacedAt: day(2, 12)},
		{OrderID: "o5", CustomerID: c3, Revenue: 999, Status: touchbase.OrderCancelled, PlacedAt: day(1, 13)},
		{OrderID: "g1", Revenue: 40, PlacedAt: day(2, 12)},
		{OrderID: "o6", CustomerID: c1, Revenue: 5, PlacedAt: day(2, 2)},
		{OrderID: "o7", CustomerID: c3, Revenue: 70, PlacedAt: day(4, 12)},
	}
	for i := range orders {
		orders[i].WorkspaceID = w.ID
		InsertOrder(t, s, &orders[i])
	}
	oc := InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: other.ID, Email: "c1@example.com", CreatedAt: day(1, 1)})
	InsertOrder(t, s, &touchbase.Order{WorkspaceID: other.ID, OrderID: "o1", CustomerID: oc, Revenue: 1000, PlacedAt: day(1, 1)})

	type fig struct {
		newCustomers, orders      int64
		revenue                   float64
		buyers, newBuy, returning int64
	}
	figOf := func(p touchbase.ReportPoint) fig {
		return fig{p.NewCustomers, p.Orders, p.Revenue, p.Buyers, p.NewBuyers, p.ReturningBuyers}
	}
	ny, err := time.LoadLocation("America/New_York")
	must(t, err)

	for _, tc := range []struct {
		name     string
		f        touchbase.ReportFilter
		interval touchbase.ReportInterval
		starts   []time.Time
		points   []fig
		totals   fig
	}{
		{
			name:     "days",
			f:        touchbase.ReportFilter{Since: day(0, 0), Until: day(3, 0), Interval: touchbase.IntervalDay},
			interval: touchbase.IntervalDay,
			starts:   []time.Time{day(0, 0), day(1, 0), day(2, 0)},
			points: []fig{
				{1, 1, 20, 1, 1, 0},
				{2, 1, 40, 1, 0, 1},
				{0, 3, 75, 2, 0, 2},
			},
			totals: fig{3, 5, 135, 2, 1, 1},
		},
		{
			name:     "interval picked from the range",
			f:        touchbase.ReportFilter{Since: day(0, 0), Until: day(3, 0)},
			interval: touchbase.IntervalDay,
			starts:   []time.Time{day(0, 0), day(1, 0), day(2, 0)},
			points:   []fig{{1, 1, 20, 1, 1, 0}, {2, 1, 40, 1, 0, 1}, {0, 3, 75, 2, 0, 2}},
			totals:   fig{3, 5, 135, 2, 1, 1},
		},
		{
			// Weeks start on Monday: 2024-12-30, then 2025-01-06.
			name:     "weeks clipped to the range",
			f:        touchbase.ReportFilter{Since: day(0, 0), Until: day(7, 0), Interval: touchbase.IntervalWeek},
			interval: touchbase.IntervalWeek,
			starts:   []time.Time{day(0, 0), day(5, 0)},
			points:   []fig{{3, 6, 205, 3, 2, 1}, {0, 0, 0, 0, 0, 0}},
			totals:   fig{3, 6, 205, 3, 2, 1},
		},
		{
			name:     "all time by month",
			f:        touchbase.ReportFilter{Until: day(3, 0), Interval: touchbase.IntervalMonth},
			interval: touchbase.IntervalMonth,
			starts:   []time.Time{day(-10, 0), day(0, 0)},
			points:   []fig{{1, 1, 100, 1, 1, 0}, {3, 5, 135, 2, 1, 1}},
			totals:   fig{4, 6, 235, 2, 2, 0},
		},
		{
			// New York's 2 January is 05:00 UTC on the 2nd to 05:00 on the
			// 3rd: o6 (02:00 UTC on the 3rd) is in, o3 is not; c3 and c4 were
			// first seen then.
			name:     "days of the location",
			f:        touchbase.ReportFilter{Since: time.Date(2025, 1, 2, 0, 0, 0, 0, ny), Until: time.Date(2025, 1, 3, 0, 0, 0, 0, ny), Location: ny},
			interval: touchbase.IntervalDay,
			starts:   []time.Time{day(1, 5)},
			points:   []fig{{2, 2, 45, 1, 0, 1}},
			totals:   fig{2, 2, 45, 1, 0, 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := s.Report(ctx, w.ID, tc.f)
			must(t, err)
			if rep.Interval != tc.interval {
				t.Errorf("interval %s, want %s", rep.Interval, tc.interval)
			}
			if len(rep.Points) != len(tc.points) {
				t.Fatalf("%d points, want %d: %+v", len(rep.Points), len(tc.points), rep.Points)
			}
			for i, p := range rep.Points {
				if !p.Start.Equal(tc.starts[i]) {
					t.Errorf("point %d starts %v, want %v", i, p.Start, tc.starts[i])
				}
				if i > 0 && !rep.Points[i-1].End.Equal(p.Start) {
					t.Errorf("gap between points %d and %d", i-1, i)
				}
				if got := figOf(p); got != tc.points[i] {
					t.Errorf("point %d (%v) = %+v, want %+v", i, p.Start, got, tc.points[i])
				}
			}
			if got := figOf(rep.Totals); got != tc.totals {
				t.Errorf("totals = %+v, want %+v", got, tc.totals)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    touchbase.ReportFilter
		}{
			{"bad interval", touchbase.ReportFilter{Since: day(0, 0), Until: day(1, 0), Interval: "hour"}},
			{"ends before it starts", touchbase.ReportFilter{Since: day(1, 0), Until: day(0, 0)}},
			{"too many points", touchbase.ReportFilter{Since: day(0, 0), Until: day(800, 0), Interval: touchbase.IntervalDay}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Report(ctx, w.ID, tc.f)
				wantCode(t, err, touchbase.EINVALID)
			})
		}
	})

	t.Run("empty workspace", func(t *testing.T) {
		empty := Workspace(t, s, "empty")
		fixedClock(s, day(100, 0))
		defer fixedClock(s, time.Now())
		rep, err := s.Report(ctx, empty.ID, touchbase.ReportFilter{})
		must(t, err)
		if len(rep.Points) == 0 || rep.Totals.Orders != 0 || rep.Totals.NewCustomers != 0 || !rep.Until.Equal(day(100, 0)) {
			t.Errorf("empty report %+v", rep)
		}
	})
}
