package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/idrange"
)

const analysisRunCols = "id, workspace_id, kind, started_at, finished_at, customers, params, result, error"

// CreateAnalysisRun records the start of a run; it sets run.ID and
// run.StartedAt.
func (s *Store) CreateAnalysisRun(ctx context.Context, run *touchbase.AnalysisRun) error {
	if !run.Kind.Valid() {
		return touchbase.Errorf(touchbase.EINVALID, "analysis %q is not one of rfm, clusters, clv, basket, cohorts", run.Kind)
	}
	run.StartedAt = timeOf(s.now())
	params := string(run.Params)
	if params == "" {
		params = "{}"
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO analysis_runs (workspace_id, kind, started_at, params) VALUES (?, ?, ?, ?) RETURNING id`),
			run.WorkspaceID, string(run.Kind), ms(run.StartedAt), params).Scan(&run.ID)
		if err != nil {
			return fmt.Errorf("create analysis run: %w", err)
		}
		return nil
	})
}

// FinishAnalysisRun records the end of a run: its customers, result and
// error; it sets run.FinishedAt and puts the run on the change feed.
func (s *Store) FinishAnalysisRun(ctx context.Context, run *touchbase.AnalysisRun) error {
	t := timeOf(s.now())
	run.FinishedAt = &t
	var result any
	if len(run.Result) > 0 {
		result = string(run.Result)
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE analysis_runs SET finished_at = ?, customers = ?, result = ?, error = ? WHERE workspace_id = ? AND id = ?`),
			ms(t), run.Customers, result, run.Error, run.WorkspaceID, run.ID)
		if err != nil {
			return fmt.Errorf("finish analysis run %d: %w", run.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "analysis run %d not found", run.ID)
		}
		return s.appendFeed(ctx, tx, run.WorkspaceID, feedAnalysisRun, run.ID, ms(t))
	})
}

// ListAnalysisRuns returns the workspace's runs, newest first, of one kind
// or of all when kind is empty (limit 50 when <= 0).
func (s *Store) ListAnalysisRuns(ctx context.Context, workspaceID int64, kind touchbase.AnalysisKind, limit int) ([]*touchbase.AnalysisRun, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	q, args := "SELECT "+analysisRunCols+" FROM analysis_runs WHERE workspace_id = ?", []any{workspaceID}
	if kind != "" {
		q, args = q+" AND kind = ?", append(args, string(kind))
	}
	var out []*touchbase.AnalysisRun
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q(q+" ORDER BY id DESC LIMIT ?"), append(args, limit), func(rows *sql.Rows) error {
			run, err := scanAnalysisRun(rows)
			if err != nil {
				return err
			}
			out = append(out, run)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list analysis runs: %w", err)
	}
	return out, nil
}

// LatestAnalysisRun returns the newest finished, successful run of kind,
// or ENOTFOUND.
func (s *Store) LatestAnalysisRun(ctx context.Context, workspaceID int64, kind touchbase.AnalysisKind) (*touchbase.AnalysisRun, error) {
	var run *touchbase.AnalysisRun
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		run, err = scanAnalysisRun(tx.QueryRowContext(ctx, s.d.q("SELECT "+analysisRunCols+` FROM analysis_runs
			WHERE workspace_id = ? AND kind = ? AND finished_at IS NOT NULL AND error = '' ORDER BY id DESC LIMIT 1`), workspaceID, string(kind)))
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "no %s analysis has run yet", kind)
		}
		if err != nil {
			return fmt.Errorf("latest %s run: %w", kind, err)
		}
		return nil
	})
	return run, err
}

// FindAnalysisRun returns run id, or ENOTFOUND.
func (s *Store) FindAnalysisRun(ctx context.Context, workspaceID, id int64) (*touchbase.AnalysisRun, error) {
	var run *touchbase.AnalysisRun
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		run, err = scanAnalysisRun(tx.QueryRowContext(ctx, s.d.q("SELECT "+analysisRunCols+" FROM analysis_runs WHERE workspace_id = ? AND id = ?"), workspaceID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "analysis run %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("find analysis run %d: %w", id, err)
		}
		return nil
	})
	return run, err
}

func scanAnalysisRun(row interface{ Scan(...any) error }) (*touchbase.AnalysisRun, error) {
	var (
		run      touchbase.AnalysisRun
		kind     string
		started  int64
		finished sql.NullInt64
		params   string
		result   sql.NullString
	)
	if err := row.Scan(&run.ID, &run.WorkspaceID, &kind, &started, &finished, &run.Customers, &params, &result, &run.Error); err != nil {
		return nil, err
	}
	run.Kind = touchbase.AnalysisKind(kind)
	run.StartedAt = timeOf(started)
	run.FinishedAt = fromMillis(finished)
	run.Params = json.RawMessage(params)
	if result.Valid {
		run.Result = json.RawMessage(result.String)
	}
	return &run, nil
}

// scoreSQL are the statements one analysis writes its score columns with.
type scoreSQL struct {
	cols   []string // what upsert writes, in order
	upsert *rowsSQL
	// clear empties the analysis's columns where an earlier run wrote
	// them: for customers this run did not score.
	clear string
}

func newScoreSQL(run string, cols ...string) scoreSQL {
	all := append([]string{"workspace_id", "customer_id"}, cols...)
	all = append(all, run, "updated_at")
	set, null := "", ""
	for _, c := range all[2:] {
		if set != "" {
			set += ", "
		}
		set += c + " = excluded." + c
		if c != "updated_at" {
			null += c + " = NULL, "
		}
	}
	return scoreSQL{
		cols: all,
		upsert: &rowsSQL{head: insertHead("customer_scores", all), cols: len(all),
			suffix: " ON CONFLICT (workspace_id, customer_id) DO UPDATE SET " + set},
		clear: "UPDATE customer_scores SET " + null + "updated_at = ? WHERE workspace_id = ? AND " + run + " IS NOT NULL AND " + run + " <> ?",
	}
}

var (
	rfmScoreSQL = newScoreSQL("rfm_run", "rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_r", "rfm_f", "rfm_m", "rfm_segment")
	clusterSQL  = newScoreSQL("cluster_run", "cluster")
	clvScoreSQL = newScoreSQL("clv_run", "p_alive", "expected_purchases", "predicted_clv", "churn_risk", "next_order_at")
)

// scoreChunk is how many customers' scores one transaction writes: a run
// over a million customers must not hold the one writer for seconds
// while ingestion waits.
const scoreChunk = 5000

// pgScoreChunk is scoreChunk on PostgreSQL, where a transaction of the
// analyses holds no lock that ingestion waits for.
const pgScoreChunk = 50_000

// stageScores upserts rows of scores on PostgreSQL in one transaction on
// conn: COPY into a temporary table, then one INSERT ... SELECT with the
// upsert's conflict clause. For a million customers, 7.0 s where the
// multi-row INSERTs took 9.4 (a rerun, 2026-11-22; 5.7 s against 7.6
// for the first).
func (s *Store) stageScores(ctx context.Context, conn *sql.Conn, sq scoreSQL, args []any) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TEMPORARY TABLE score_stage (LIKE customer_scores) ON COMMIT DROP"); err != nil {
		return err
	}
	if err := copyIn(ctx, conn, "score_stage", sq.cols, args); err != nil {
		return err
	}
	cols := strings.Join(sq.cols, ", ")
	if _, err := tx.ExecContext(ctx, "INSERT INTO customer_scores ("+cols+") SELECT "+cols+" FROM score_stage"+sq.upsert.suffix); err != nil {
		return err
	}
	return tx.Commit()
}

// saveScores writes rows (sq.upsert.cols-4 values per customer after
// its id) for run, scoreChunk customers per transaction (pgScoreChunk,
// staged, on PostgreSQL), then clears the columns of the customers an
// earlier run scored and this one did not. The scores are derived data:
// a reader may see a run half written.
func (s *Store) saveScores(ctx context.Context, ws, run int64, sq scoreSQL, n int, row func(i int, args []any) []any, progress func(saved int)) error {
	now := s.now()
	write, chunk := func(args []any) error {
		return s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertRows(ctx, tx, sq.upsert, args) })
	}, scoreChunk
	if s.d.dollar {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("save scores: %w", err)
		}
		defer conn.Close()
		write, chunk = func(args []any) error { return s.stageScores(ctx, conn, sq, args) }, pgScoreChunk
	}
	args := make([]any, 0, min(chunk, n)*sq.upsert.cols)
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, ws)
			args = row(i, args)
			args = append(args, run, now)
		}
		if err := write(args); err != nil {
			return fmt.Errorf("save scores: %w", err)
		}
		if progress != nil {
			progress(end)
		}
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q(sq.clear), now, ws, run); err != nil {
			return fmt.Errorf("save scores: clear earlier run's: %w", err)
		}
		return nil
	})
}

// SaveRFMScores replaces the workspace's RFM scores with those of run.
// progress, when not nil, is told how many are saved as they are.
func (s *Store) SaveRFMScores(ctx context.Context, workspaceID, run int64, scores []touchbase.RFMScore, progress func(saved int)) error {
	return s.saveScores(ctx, workspaceID, run, rfmScoreSQL, len(scores), func(i int, args []any) []any {
		c := &scores[i]
		return append(args, c.CustomerID, score(c.Recency), score(c.Frequency), score(c.Monetary), c.R, c.F, c.M, c.Group)
	}, progress)
}

// SaveClusterScores replaces the workspace's cluster numbers with those
// of run. progress is as SaveRFMScores'.
func (s *Store) SaveClusterScores(ctx context.Context, workspaceID, run int64, scores []touchbase.ClusterScore, progress func(saved int)) error {
	return s.saveScores(ctx, workspaceID, run, clusterSQL, len(scores), func(i int, args []any) []any {
		return append(args, scores[i].CustomerID, scores[i].Cluster)
	}, progress)
}

// SaveCLVScores replaces the workspace's lifetime-value predictions with
// those of run. progress is as SaveRFMScores'.
func (s *Store) SaveCLVScores(ctx context.Context, workspaceID, run int64, scores []touchbase.CLVScore, progress func(saved int)) error {
	return s.saveScores(ctx, workspaceID, run, clvScoreSQL, len(scores), func(i int, args []any) []any {
		c := &scores[i]
		var next any
		if !c.NextOrderAt.IsZero() {
			next = c.NextOrderAt.UnixMilli()
		}
		return append(args, c.CustomerID, score(c.PAlive), score(c.ExpectedPurchases), score(c.PredictedCLV), c.ChurnRisk, next)
	}, progress)
}

// score is a computed number as its column holds it: not set (NULL) when
// it is not finite. A NaN or infinity is no score, and the databases
// disagree on them (SQLite stores NaN as NULL and keeps ±Inf, PostgreSQL
// keeps all three), which would then fail the customer's JSON.
func score(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// CustomerClusters returns every customer's cluster from the last
// clustering, by customer id.
func (s *Store) CustomerClusters(ctx context.Context, workspaceID int64) ([]touchbase.ClusterScore, error) {
	var out []touchbase.ClusterScore
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT customer_id, cluster FROM customer_scores WHERE workspace_id = ? AND cluster IS NOT NULL ORDER BY customer_id"),
			[]any{workspaceID}, func(rows *sql.Rows) error {
				var c touchbase.ClusterScore
				if err := rows.Scan(&c.CustomerID, &c.Cluster); err != nil {
					return err
				}
				out = append(out, c)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("customer clusters: %w", err)
	}
	return out, nil
}

// BuyerTotals returns the orders of every customer who ordered in
// [since, until), by customer id. A zero since and until read the
// customers' built-in features (all time), which is one pass over the
// customers instead of over the orders.
func (s *Store) BuyerTotals(ctx context.Context, workspaceID int64, since, until time.Time) ([]touchbase.BuyerTotals, error) {
	scan := func(tx *sql.Tx, q string, args []any, out *[]touchbase.BuyerTotals) error {
		return queryRows(ctx, tx, s.d.q(q), args, func(rows *sql.Rows) error {
			var b touchbase.BuyerTotals
			var first sql.NullInt64
			if err := rows.Scan(&b.CustomerID, &b.Orders, &b.Revenue, &first, &b.LastOrderAt); err != nil {
				return err
			}
			b.FirstOrderAt = first.Int64
			*out = append(*out, b)
			return nil
		})
	}
	if !since.IsZero() || !until.IsZero() {
		if until.IsZero() {
			until = time.UnixMilli(1 << 62)
		}
		var out []touchbase.BuyerTotals
		err := s.readTx(ctx, func(tx *sql.Tx) error {
			return scan(tx, `SELECT customer_id, count(*), sum(revenue - refunded), min(placed_at), max(placed_at) FROM orders
				WHERE workspace_id = ? AND customer_id IS NOT NULL AND status <> 'cancelled' AND placed_at >= ? AND placed_at < ?
				GROUP BY customer_id ORDER BY customer_id`, []any{workspaceID, since.UnixMilli(), until.UnixMilli()}, &out)
		})
		if err != nil {
			return nil, fmt.Errorf("buyer totals: %w", err)
		}
		return out, nil
	}
	// All time: the customers' own features, read in ranges of the
	// workspace's ids on all cores (a million buyers are seconds of the
	// driver's work on one). The id range makes SQLite read the table in
	// rowid order; "+orders" keeps it off customers_orders, whose range
	// needs a sort by id and a row lookup per entry (5.0 s for a million
	// buyers, where one pass in id order took 2.6).
	var lo, hi sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, s.d.q("SELECT min(id), max(id) FROM customers WHERE workspace_id = ?"), workspaceID).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("buyer totals: %w", err)
	}
	parts, err := scanIDRanges(ctx, s, lo.Int64, hi.Int64, func(tx *sql.Tx, after, upTo int64) ([]touchbase.BuyerTotals, error) {
		var out []touchbase.BuyerTotals
		err := scan(tx, `SELECT id, orders, revenue, first_order_at, last_order_at FROM customers
			WHERE workspace_id = ? AND id > ? AND id <= ? AND +orders > 0 AND last_order_at IS NOT NULL ORDER BY id`,
			[]any{workspaceID, after, upTo}, &out)
		return out, err
	})
	if err != nil {
		return nil, fmt.Errorf("buyer totals: %w", err)
	}
	return slices.Concat(parts...), nil
}

// ScanOrderFacts calls fn with every order of a known customer that is
// not cancelled, by customer and time. An error from fn stops the scan
// and is returned as is.
func (s *Store) ScanOrderFacts(ctx context.Context, workspaceID int64, fn func(touchbase.OrderFact) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT id, customer_id, placed_at, revenue - refunded FROM orders
			WHERE workspace_id = ? AND customer_id IS NOT NULL AND status <> 'cancelled' ORDER BY customer_id, placed_at, id`), workspaceID)
		if err != nil {
			return fmt.Errorf("scan orders: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var o touchbase.OrderFact
			if err := rows.Scan(&o.ID, &o.CustomerID, &o.PlacedAt, &o.Value); err != nil {
				return fmt.Errorf("scan orders: %w", err)
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("scan orders: %w", err)
		}
		return nil
	})
}

// ScanOrderLines calls fn with every line of every order that is not
// cancelled, by order. An error from fn stops the scan and is returned as
// is.
func (s *Store) ScanOrderLines(ctx context.Context, workspaceID int64, fn func(touchbase.OrderLine) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.q(`SELECT o.id, o.customer_id, o.placed_at, i.product_id, i.quantity, i.price
			FROM orders o JOIN order_items i ON i.workspace_id = o.workspace_id AND i.order_id = o.id
			WHERE o.workspace_id = ? AND o.status <> 'cancelled' AND i.product_id <> '' ORDER BY o.id, i.line`), workspaceID)
		if err != nil {
			return fmt.Errorf("scan order lines: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l touchbase.OrderLine
			var cust sql.NullInt64
			if err := rows.Scan(&l.OrderID, &cust, &l.PlacedAt, &l.ProductID, &l.Quantity, &l.Price); err != nil {
				return fmt.Errorf("scan order lines: %w", err)
			}
			l.CustomerID = cust.Int64
			if err := fn(l); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("scan order lines: %w", err)
		}
		return nil
	})
}

// defaultScanMin is the fewest ids a range of scanIDRanges spans: below
// it, one more read transaction costs more than the cores save.
const defaultScanMin = 1 << 16

// scanIDRanges reads rows by their integer ids, lo to hi and any above
// (written since), in ranges of ids, each in a read transaction of its
// own, on all cores; it returns what read returned for each range, in id
// order. A row written meanwhile may be seen in one range and not
// another: for analyses, which take the store as it comes.
func scanIDRanges[T any](ctx context.Context, s *Store, lo, hi int64, read func(tx *sql.Tx, after, upTo int64) ([]T, error)) ([][]T, error) {
	ranges := idrange.Split(lo, hi, s.scanMin)
	ranges[len(ranges)-1].UpTo = math.MaxInt64
	parts := make([][]T, len(ranges))
	err := idrange.Each(ctx, len(ranges), func(ctx context.Context, r int) error {
		return s.readTx(ctx, func(tx *sql.Tx) error {
			var err error
			parts[r], err = read(tx, ranges[r].After, ranges[r].UpTo)
			return err
		})
	})
	return parts, err
}
