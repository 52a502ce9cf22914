package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.ReportService = (*Store)(nil)

// Report returns the workspace's figures over [f.Since, f.Until), in total
// and per interval. The periods are cut in Go, where time zones and month
// lengths are easy, and handed to SQL as a list of (lo, hi) bounds that
// both databases join orders and customers against: one query per measure,
// whatever the interval, and the same SQL on SQLite and PostgreSQL.
//
// A customer is new when first seen (their earliest event), or, never
// seen, when created: imported and back-filled histories keep their dates.
// That condition has no index, so the measure reads the workspace's
// customers once per report.
//
// Whether a buyer is new or returning depends on their first order ever,
// so the query also reads the earliest order of each customer who ordered
// in the range: on a workspace with a long history that is an index scan of
// those customers' orders.
//
// Returns EINVALID for a bad interval, a range that ends before it starts,
// or one of more than MaxReportPoints intervals.
func (s *Store) Report(ctx context.Context, workspaceID int64, f touchbase.ReportFilter) (*touchbase.Report, error) {
	loc := f.Location
	if loc == nil {
		loc = time.UTC
	}
	if f.Interval != "" && !f.Interval.Valid() {
		return nil, &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("interval %q is not day, week or month", f.Interval),
			Fields: []touchbase.FieldError{{Index: -1, Field: "interval", Message: "must be day, week or month"}}}
	}
	until := f.Until
	if until.IsZero() {
		until = time.UnixMilli(s.now())
	}
	rep := &touchbase.Report{Points: []touchbase.ReportPoint{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		since := f.Since
		if since.IsZero() {
			first, err := s.firstActivity(ctx, tx, workspaceID)
			if err != nil {
				return err
			}
			if first.IsZero() || !first.Before(until) {
				first = until.AddDate(0, 0, -30)
			}
			since = startOfDay(first.In(loc))
		}
		if !since.Before(until) {
			return &touchbase.Error{Code: touchbase.EINVALID, Message: "the report's range ends before it starts",
				Fields: []touchbase.FieldError{{Index: -1, Field: "until", Message: "must be after since"}}}
		}
		interval := f.Interval
		if interval == "" {
			interval = touchbase.IntervalFor(since, until)
		}
		rep.Since, rep.Until, rep.Interval = since.UTC(), until.UTC(), interval
		bounds, err := reportBounds(since.In(loc), until.In(loc), interval)
		if err != nil {
			return err
		}
		for _, b := range bounds {
			rep.Points = append(rep.Points, touchbase.ReportPoint{Start: b[0], End: b[1]})
		}
		if err := s.reportFill(ctx, tx, workspaceID, rep.Points); err != nil {
			return err
		}
		total := []touchbase.ReportPoint{{Start: rep.Since, End: rep.Until}}
		if err := s.reportFill(ctx, tx, workspaceID, total); err != nil {
			return err
		}
		rep.Totals = total[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// firstActivity returns when the workspace's first customer was created or
// first order placed, or the zero time when it has neither.
func (s *Store) firstActivity(ctx context.Context, tx *sql.Tx, workspaceID int64) (time.Time, error) {
	var c, o sql.NullInt64
	err := tx.QueryRowContext(ctx, s.d.q(`SELECT
		(SELECT min(coalesce(first_seen_at, created_at)) FROM customers WHERE workspace_id = ?),
		(SELECT min(placed_at) FROM orders WHERE workspace_id = ? AND status <> 'cancelled')`), workspaceID, workspaceID).Scan(&c, &o)
	if err != nil {
		return time.Time{}, fmt.Errorf("first activity of workspace %d: %w", workspaceID, err)
	}
	first := c
	if !first.Valid || (o.Valid && o.Int64 < first.Int64) {
		first = o
	}
	if !first.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(first.Int64).UTC(), nil
}

// reportBounds cuts [since, until) at the starts of days, weeks (Monday)
// or months in since's location; the first and last periods are clipped
// to the range, so that the points add up to the totals.
func reportBounds(since, until time.Time, interval touchbase.ReportInterval) ([][2]time.Time, error) {
	start := startOfDay(since)
	var next func(time.Time) time.Time
	switch interval {
	case touchbase.IntervalDay:
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case touchbase.IntervalWeek:
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case touchbase.IntervalMonth:
		start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, start.Location())
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	}
	var out [][2]time.Time
	for lo := start; lo.Before(until); lo = next(lo) {
		if len(out) == touchbase.MaxReportPoints {
			return nil, &touchbase.Error{Code: touchbase.EINVALID,
				Message: fmt.Sprintf("the range has more than %d %ss: choose a shorter range or a longer interval", touchbase.MaxReportPoints, interval),
				Fields:  []touchbase.FieldError{{Index: -1, Field: "interval", Message: "too many points"}}}
		}
		hi := next(lo)
		a, b := lo, hi
		if a.Before(since) {
			a = since
		}
		if b.After(until) {
			b = until
		}
		out = append(out, [2]time.Time{a.UTC(), b.UTC()})
	}
	return out, nil
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// reportFill computes the figures of each point, whose Start and End are
// set, with one query for orders and one for new customers.
func (s *Store) reportFill(ctx context.Context, tx *sql.Tx, workspaceID int64, points []touchbase.ReportPoint) error {
	// The bounds as a VALUES list; CAST types the parameters, which
	// PostgreSQL would otherwise read as text.
	var b strings.Builder
	b.WriteString("WITH b (k, lo, hi) AS (VALUES ")
	bargs := make([]any, 0, 3*len(points))
	for i, p := range points {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")
		bargs = append(bargs, i, p.Start.UnixMilli(), p.End.UnixMilli())
	}
	b.WriteString(")")
	with := b.String()
	lo, hi := points[0].Start.UnixMilli(), points[len(points)-1].End.UnixMilli()

	args := append(append([]any{}, bargs...), workspaceID, workspaceID, lo, hi, workspaceID)
	rows, err := tx.QueryContext(ctx, s.d.q(with+`,
		f (customer_id, first_at) AS (
			SELECT customer_id, min(placed_at) FROM orders
			WHERE workspace_id = ? AND status <> 'cancelled' AND customer_id IN (
				SELECT customer_id FROM orders WHERE workspace_id = ? AND status <> 'cancelled' AND placed_at >= ? AND placed_at < ?)
			GROUP BY customer_id)
		SELECT b.k, count(o.id), coalesce(sum(o.revenue - o.refunded), 0), count(DISTINCT o.customer_id),
			count(DISTINCT CASE WHEN f.first_at >= b.lo THEN o.customer_id END),
			count(DISTINCT CASE WHEN f.first_at < b.lo THEN o.customer_id END)
		FROM b JOIN orders o ON o.workspace_id = ? AND o.status <> 'cancelled' AND o.placed_at >= b.lo AND o.placed_at < b.hi
		LEFT JOIN f ON f.customer_id = o.customer_id
		GROUP BY b.k`), args...)
	if err != nil {
		return fmt.Errorf("report orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k int
			p touchbase.ReportPoint
		)
		if err := rows.Scan(&k, &p.Orders, &p.Revenue, &p.Buyers, &p.NewBuyers, &p.ReturningBuyers); err != nil {
			return fmt.Errorf("report orders: %w", err)
		}
		if k >= 0 && k < len(points) {
			pt := &points[k]
			pt.Orders, pt.Revenue, pt.Buyers, pt.NewBuyers, pt.ReturningBuyers = p.Orders, p.Revenue, p.Buyers, p.NewBuyers, p.ReturningBuyers
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report orders: %w", err)
	}
	rows.Close()

	rows, err = tx.QueryContext(ctx, s.d.q(with+`
		SELECT b.k, count(c.id) FROM b JOIN customers c ON c.workspace_id = ?
			AND coalesce(c.first_seen_at, c.created_at) >= b.lo AND coalesce(c.first_seen_at, c.created_at) < b.hi
		GROUP BY b.k`), append(append([]any{}, bargs...), workspaceID)...)
	if err != nil {
		return fmt.Errorf("report customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k int
			n int64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("report customers: %w", err)
		}
		if k >= 0 && k < len(points) {
			points[k].NewCustomers = n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report customers: %w", err)
	}
	return nil
}
