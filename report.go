package touchbase

import (
	"context"
	"time"
)

// ReportInterval is the width of one point of a report's series.
type ReportInterval string

// Report intervals. Weeks start on Monday; days, weeks and months are
// those of the report's location.
const (
	IntervalDay   ReportInterval = "day"
	IntervalWeek  ReportInterval = "week"
	IntervalMonth ReportInterval = "month"
)

// Valid reports whether i is day, week or month.
func (i ReportInterval) Valid() bool {
	return i == IntervalDay || i == IntervalWeek || i == IntervalMonth
}

// IntervalFor picks the interval that gives a readable chart for a range:
// days up to about a month, weeks up to about half a year, months beyond.
func IntervalFor(since, until time.Time) ReportInterval {
	switch d := until.Sub(since); {
	case d <= 32*24*time.Hour:
		return IntervalDay
	case d <= 190*24*time.Hour:
		return IntervalWeek
	}
	return IntervalMonth
}

// ReportFilter says what a report covers: [Since, Until) in points of
// Interval, cut at Location's midnights (UTC when nil). A zero Since starts
// at the workspace's first customer or order; a zero Until is now.
type ReportFilter struct {
	Since    time.Time
	Until    time.Time
	Interval ReportInterval
	Location *time.Location
}

// ReportPoint holds one period's figures. Orders and Revenue count orders
// that are not cancelled, revenue net of refunds. Buyers are the customers
// who ordered in the period: NewBuyers placed their first order ever in it,
// ReturningBuyers had ordered before it (guest orders have no buyer).
// NewCustomers are the customers first seen in the period (their earliest
// event; their creation when they have none).
type ReportPoint struct {
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	NewCustomers    int64     `json:"new_customers"`
	Orders          int64     `json:"orders"`
	Revenue         float64   `json:"revenue"`
	Buyers          int64     `json:"buyers"`
	NewBuyers       int64     `json:"new_buyers"`
	ReturningBuyers int64     `json:"returning_buyers"`
}

// Report is a workspace's figures over a range: Totals for the whole range
// (a buyer counts once, new when their first order is in the range) and
// Points, one per interval, oldest first, without gaps.
type Report struct {
	Since    time.Time      `json:"since"`
	Until    time.Time      `json:"until"`
	Interval ReportInterval `json:"interval"`
	Totals   ReportPoint    `json:"totals"`
	Points   []ReportPoint  `json:"points"`
}

// ReportService computes reports.
type ReportService interface {
	// Report returns EINVALID for a bad interval, a range that ends before
	// it starts, or one with too many points (over MaxReportPoints).
	Report(ctx context.Context, workspaceID int64, f ReportFilter) (*Report, error)
}

// MaxReportPoints bounds a report's series.
const MaxReportPoints = 400
