package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// DuckDB holds the store the way an analytics database would: typed
// columns (the traits and the properties the suite reads pulled out of
// their JSON at load), no indexes. The suite is hand-written for it, one
// query per segment, each an aggregation over the events grouped by
// customer: CompileSQL's correlated subqueries are written for SQLite's and
// PostgreSQL's JSON functions and type names, which DuckDB's differ from.
// The members must still be exactly touchbase's.

// duckSchema is the DuckDB schema.
const duckSchema = `
CREATE TABLE customers (id BIGINT, country VARCHAR, timezone VARCHAR, birthday VARCHAR, email_subscribed BOOLEAN,
	orders INTEGER, revenue DOUBLE, last_order_at BIGINT);
CREATE TABLE events (customer_id BIGINT, event VARCHAR, ts BIGINT, category VARCHAR, revenue DOUBLE);`

// duckQueries returns the suite's queries, in suite order, for as-of A.
func duckQueries(asOf time.Time) []string {
	a := asOf.UnixMilli()
	day := msDay
	since := func(days int64) string { return fmt.Sprint(a - days*day) }
	A := fmt.Sprint(a)
	return []string{
		// de-subscribed
		`SELECT id FROM customers WHERE country = 'DE' AND email_subscribed ORDER BY id`,
		// ordered-90d
		`SELECT DISTINCT customer_id FROM events WHERE event = 'Order Completed' AND ts BETWEEN ` + since(90) + ` AND ` + A + ` ORDER BY 1`,
		// revenue-1000
		`SELECT customer_id FROM events WHERE event = 'Order Completed' AND ts <= ` + A + ` GROUP BY 1 HAVING sum(revenue) > 1000 ORDER BY 1`,
		// browse-abandon
		`SELECT customer_id FROM events WHERE event IN ('Product Viewed', 'Order Completed') AND ts BETWEEN ` + since(30) + ` AND ` + A + `
		 GROUP BY 1 HAVING count(*) FILTER (WHERE event = 'Product Viewed' AND category = 'Electronics') >= 2
		 AND count(*) FILTER (WHERE event = 'Order Completed') = 0 ORDER BY 1`,
		// cart-abandon
		`SELECT customer_id FROM events WHERE event IN ('Checkout Started', 'Order Completed') AND ts <= ` + A + `
		 GROUP BY 1 HAVING max(ts) FILTER (WHERE event = 'Checkout Started') > ` + since(1) + `
		 AND NOT coalesce(max(ts) FILTER (WHERE event = 'Order Completed') > max(ts) FILTER (WHERE event = 'Checkout Started'), false) ORDER BY 1`,
		// win-back
		`SELECT customer_id FROM events WHERE event = 'Order Completed' AND ts <= ` + A + `
		 GROUP BY 1 HAVING count(*) >= 3 AND count(*) FILTER (WHERE ts >= ` + since(180) + `) = 0 ORDER BY 1`,
		// birthday-7d
		`SELECT id FROM customers WHERE contains(` + birthdayWindows(asOf, 7) + `, ',' || substr(birthday, 6, 5) || ',') ORDER BY id`,
		// email-30d
		`SELECT DISTINCT customer_id FROM events WHERE event IN ('Email Opened', 'Email Link Clicked') AND ts BETWEEN ` + since(30) + ` AND ` + A + ` ORDER BY 1`,
		// email-60d
		`SELECT e.customer_id FROM events e JOIN customers c ON c.id = e.customer_id
		 WHERE c.email_subscribed AND e.event = 'Email Link Clicked' AND e.ts BETWEEN ` + since(60) + ` AND ` + A + `
		 GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1`,
		// rfm-champions
		`SELECT customer_id FROM events WHERE event = 'Order Completed' AND ts <= ` + A + `
		 GROUP BY 1 HAVING count(*) FILTER (WHERE ts >= ` + since(90) + `) >= 3
		 AND coalesce(sum(revenue) FILTER (WHERE ts >= ` + since(365) + `), 0) > 500 AND max(ts) > ` + since(30) + ` ORDER BY 1`,
		// nested
		`SELECT c.id FROM customers c LEFT JOIN (SELECT customer_id, count(*) AS n FROM events
		   WHERE event = 'Product Added' AND ts BETWEEN ` + since(14) + ` AND ` + A + ` GROUP BY 1) a ON a.customer_id = c.id
		 WHERE (c.country IN ('US', 'GB', 'CA') OR starts_with(c.timezone, 'Europe/')) AND NOT (c.email_subscribed = false)
		 AND (c.orders >= 2 OR coalesce(a.n, 0) >= 3) AND NOT (c.revenue > 5000) ORDER BY 1`,
		// lapsed-features
		`SELECT id FROM customers WHERE orders >= 2 AND revenue > 300 AND last_order_at < ` + since(180) + ` ORDER BY id`,
	}
}

// birthdayWindows is a SQL expression: the month-days ("MM-DD") of
// "within next N days" at as-of in the customer's time zone, as a
// comma-separated list (docs/segments.md; 29 February counts on 28
// February in other years), by zone.
func birthdayWindows(asOf time.Time, days int) string {
	zones := map[string]bool{}
	for _, c := range countries {
		for _, z := range c.zones {
			zones[z] = true
		}
	}
	names := make([]string, 0, len(zones))
	for z := range zones {
		names = append(names, z)
	}
	sort.Strings(names)
	win := func(loc *time.Location) string {
		y, m, d := asOf.In(loc).Date()
		s := ","
		for k := range days {
			t := time.Date(y, m, d+k, 12, 0, 0, 0, time.UTC)
			s += t.Format("01-02") + ","
			if t.Month() == time.February && t.Day() == 28 && !(t.Year()%4 == 0 && (t.Year()%100 != 0 || t.Year()%400 == 0)) {
				s += "02-29,"
			}
		}
		return "'" + s + "'"
	}
	expr := "CASE"
	for _, z := range names {
		loc, err := time.LoadLocation(z)
		if err != nil {
			continue // an unknown zone counts as UTC, as in the engine
		}
		expr += " WHEN timezone = '" + z + "' THEN " + win(loc)
	}
	return expr + " ELSE " + win(time.UTC) + " END"
}

// runDuckDB loads (or reuses) the DuckDB file and runs the suite.
func runDuckDB(ctx context.Context, c *config, d *dataset, g *generator, logf func(string, ...any)) (*sqlResult, error) {
	path := strings.TrimSuffix(d.Path, ".db") + ".duckdb"
	marker := path + ".json"
	res := &sqlResult{System: "duckdb"}
	fresh := true
	if b, err := os.ReadFile(marker); err == nil && json.Unmarshal(b, &res.LoadSeconds) == nil {
		fresh = false
		logf("duckdb: using the cached %s (loaded in %.0fs)", filepath.Base(path), res.LoadSeconds)
	} else {
		os.Remove(path)
		os.Remove(path + ".wal")
	}
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, err
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	if fresh {
		start := time.Now()
		if err := loadDuckDB(ctx, connector, db, g, logf); err != nil {
			return nil, err
		}
		res.LoadSeconds = time.Since(start).Seconds()
		raw, _ := json.Marshal(res.LoadSeconds)
		if err := os.WriteFile(marker, raw, 0o644); err != nil {
			return nil, err
		}
		logf("duckdb: loaded in %.0fs", res.LoadSeconds)
	}
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&res.Version); err != nil {
		return nil, err
	}
	queries := duckQueries(c.asOf)
	for run := 0; run < c.runs; run++ {
		per := make([]float64, len(queries))
		var total float64
		for i, q := range queries {
			t0 := time.Now()
			ids, err := queryIDs(ctx, db, q)
			if err != nil {
				return nil, fmt.Errorf("segment %s: %w", suite[i].Name, err)
			}
			per[i] = float64(time.Since(t0).Microseconds()) / 1e3
			total += per[i]
			if run == 0 {
				res.Counts = append(res.Counts, len(ids))
				res.Compiled = append(res.Compiled, false)
				if err := writeMembers(c.workdir, res.System, suite[i].Name, ids); err != nil {
					return nil, err
				}
			}
		}
		res.SuiteMillis = append(res.SuiteMillis, total)
		res.SegmentMillis = append(res.SegmentMillis, per)
		logf("duckdb: run %d: whole suite %s", run+1, fmtMs(total))
	}
	return res, nil
}

func queryIDs(ctx context.Context, db *sql.DB, q string) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// loadDuckDB creates the tables and appends the generated store.
func loadDuckDB(ctx context.Context, connector *duckdb.Connector, db *sql.DB, g *generator, logf func(string, ...any)) error {
	if _, err := db.ExecContext(ctx, duckSchema); err != nil {
		return err
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ca, err := duckdb.NewAppenderFromConn(conn, "", "customers")
	if err != nil {
		return err
	}
	ea, err := duckdb.NewAppenderFromConn(conn, "", "events")
	if err != nil {
		return err
	}
	str := func(s string) driver.Value {
		if s == "" {
			return nil
		}
		return s
	}
	var n int64
	for b := range generateStream(ctx, g, 2000) {
		for k, c := range b.cs {
			if err := ca.AppendRow(c.ID, c.Country, str(c.Timezone), str(c.Birthday), c.Subscribed, int32(c.Orders), c.Revenue, nullMs(c.LastOrderAt)); err != nil {
				return err
			}
			for _, e := range b.evs[k] {
				var rev driver.Value
				if e.Kind == evOrder || e.Kind == evCheckout {
					rev = e.Revenue
				}
				if err := ea.AppendRow(c.ID, eventNames[e.Kind], e.TS, str(e.Category), rev); err != nil {
					return err
				}
				n++
			}
		}
	}
	if err := ca.Close(); err != nil {
		return err
	}
	if err := ea.Close(); err != nil {
		return err
	}
	logf("duckdb: %d customers, %d events appended", g.customers, n)
	_, err = db.ExecContext(ctx, "CHECKPOINT")
	return err
}
