// Package cohort builds monthly acquisition cohorts: customers grouped by
// the month of their first order, and for each cohort and each month
// since, how many of them ordered and how much they spent.
//
// Months are calendar months in a time zone the caller picks (the
// store's), so an order at 23:30 on the last day of the month counts in
// the month the store saw. Every order counts as activity, refunds
// (negative amounts) included, and reduces the revenue.
package cohort

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Order is one order of one customer.
type Order struct {
	Customer int64
	Time     time.Time
	Amount   float64
}

// Options configure Build.
type Options struct {
	// Location sets the month boundaries; nil means UTC.
	Location *time.Location
	// Through is the last instant counted: orders after it are left out,
	// and its month is the last column. Zero means the latest order's.
	Through time.Time
}

// Table is the cohort table.
type Table struct {
	// Cohorts are in month order, one per month in which at least one
	// customer placed a first order (a month without new customers has no
	// row, but remains a column of the older cohorts).
	Cohorts []Cohort
	// Customers and Orders count what the table is made of.
	Customers, Orders int
	// First and Last are the first instants of the oldest cohort's month
	// and of the last month counted.
	First, Last time.Time
}

// Cohort is the customers whose first order fell in one month.
type Cohort struct {
	// Month is the first instant of the month, in Options.Location.
	Month time.Time
	// Size is the number of customers.
	Size int
	// The following have one entry per month offset, 0 (Month itself) to
	// the last month counted. Active[m] is the number of the cohort's
	// customers who ordered in month m (Active[0] == Size), Retention[m]
	// that over Size, Revenue[m] what the cohort spent in month m, and
	// CumulativeRevenuePerCustomer[m] the cohort's spend in months 0..m
	// over Size.
	Active                       []int
	Retention                    []float64
	Revenue                      []float64
	CumulativeRevenuePerCustomer []float64
}

// Build makes the cohort table of orders. It fails on an order without a
// time or with a non-finite amount.
func Build(orders []Order, opts Options) (*Table, error) {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	through := int32(math.MaxInt32)
	if !opts.Through.IsZero() {
		through = monthOf(opts.Through, loc)
	}

	// Pass 1: each order's month and customer (numbered densely in order
	// of appearance), each customer's first month and order count.
	month := make([]int32, len(orders))
	cust := make([]int32, len(orders))
	index := make(map[int64]int32)
	var first []int32
	var count []int32
	last := int32(math.MinInt32)
	counted := 0
	for i := range orders {
		o := &orders[i]
		if o.Time.IsZero() {
			return nil, fmt.Errorf("cohort: order %d of customer %d has no time", i, o.Customer)
		}
		if math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) {
			return nil, fmt.Errorf("cohort: order %d of customer %d: amount %v", i, o.Customer, o.Amount)
		}
		if !opts.Through.IsZero() && o.Time.After(opts.Through) {
			cust[i] = -1
			continue
		}
		m := monthOf(o.Time, loc)
		c, ok := index[o.Customer]
		if !ok {
			c = int32(len(first))
			index[o.Customer] = c
			first = append(first, m)
			count = append(count, 0)
		}
		first[c] = min(first[c], m)
		count[c]++
		month[i], cust[i] = m, c
		last = max(last, m)
		counted++
	}
	t := &Table{Customers: len(first), Orders: counted}
	if counted == 0 {
		return t, nil
	}
	if through != math.MaxInt32 {
		last = through
	}
	oldest := first[0]
	for _, f := range first {
		oldest = min(oldest, f)
	}
	t.First, t.Last = monthStart(oldest, loc), monthStart(last, loc)

	// One row per month with new customers; row[f-oldest] is its index.
	span := int(last-oldest) + 1
	row := make([]int, span)
	for i := range row {
		row[i] = -1
	}
	for _, f := range first {
		row[f-oldest] = 0
	}
	for m := range row {
		if row[m] < 0 {
			continue
		}
		row[m] = len(t.Cohorts)
		width := span - m
		t.Cohorts = append(t.Cohorts, Cohort{
			Month:                        monthStart(oldest+int32(m), loc),
			Active:                       make([]int, width),
			Retention:                    make([]float64, width),
			Revenue:                      make([]float64, width),
			CumulativeRevenuePerCustomer: make([]float64, width),
		})
	}
	for _, f := range first {
		t.Cohorts[row[f-oldest]].Size++
	}

	// Pass 2: the orders grouped by customer (a counting sort, stable),
	// so that "ordered in month m" counts each customer once however many
	// orders they placed in m: seen[m] holds the last customer counted in
	// month offset m.
	start := make([]int32, len(first)+1)
	for c, n := range count {
		start[c+1] = start[c] + n
	}
	byCustomer := make([]int32, counted)
	next := slices.Clone(start[:len(first)])
	for i, c := range cust {
		if c >= 0 {
			byCustomer[next[c]] = int32(i)
			next[c]++
		}
	}
	seen := make([]int32, span)
	for i := range seen {
		seen[i] = -1
	}
	pos := 0
	for c, n := range count {
		f := first[c]
		co := &t.Cohorts[row[f-oldest]]
		for _, i := range byCustomer[pos : pos+int(n)] {
			off := month[i] - f
			co.Revenue[off] += orders[i].Amount
			if seen[off] != int32(c) {
				seen[off] = int32(c)
				co.Active[off]++
			}
		}
		pos += int(n)
	}

	for i := range t.Cohorts {
		co := &t.Cohorts[i]
		size := float64(co.Size)
		cum := 0.0
		for m := range co.Active {
			co.Retention[m] = float64(co.Active[m]) / size
			cum += co.Revenue[m]
			co.CumulativeRevenuePerCustomer[m] = cum / size
		}
	}
	return t, nil
}

// monthOf numbers t's month in loc: 12*year + month-1.
func monthOf(t time.Time, loc *time.Location) int32 {
	y, m, _ := t.In(loc).Date()
	return int32(y)*12 + int32(m) - 1
}

// monthStart is the first instant of month number m in loc.
func monthStart(m int32, loc *time.Location) time.Time {
	y, mm := m/12, m%12
	if mm < 0 { // years before 0
		y, mm = y-1, mm+12
	}
	return time.Date(int(y), time.Month(mm+1), 1, 0, 0, 0, 0, loc)
}
