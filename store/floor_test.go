package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkInsertFloor is the most the embedded SQLite inserts through
// this driver, table by table, with the statements ingestion uses and
// nothing else to do: 50,000 rows to a transaction, synchronous=NORMAL
// (as bulk imports run). An import writes, for an order of five lines,
// five order_items rows, one orders row and one event (and its
// customer's upsert); an RFM run writes a customer_scores row per buyer.
// Issue 3's 300,000 lines/s and issue 5's 2 s RFM for a million customers
// are weighed against these in docs/import.md and docs/analytics.md.
//
//	go test ./store -run '^$' -bench InsertFloor -benchtime 1x
func BenchmarkInsertFloor(b *testing.B) {
	for _, tc := range floorCases() {
		b.Run(tc.table, func(b *testing.B) {
			ctx := context.Background()
			var elapsed time.Duration
			for range b.N {
				s, err := Open(ctx, filepath.Join(b.TempDir(), "floor.db"))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.db.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
					b.Fatal(err)
				}
				elapsed += tc.load(b, func(args []any) error {
					return s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertRows(ctx, tx, tc.stmt, args) })
				})
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tc.rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
		})
	}
}

// BenchmarkInsertFloorPostgres is BenchmarkInsertFloor on PostgreSQL (the
// server TOUCHBASE_TEST_PG_DSN names: scripts/with-postgres), each table
// written two ways, 50,000 rows to a transaction with synchronous_commit
// off (as bulk imports run): "insert", the multi-row INSERT statements of
// ingestion and of the analyses, and "copy", COPY (which ingestion uses
// for events).
//
//	scripts/with-postgres go test ./store -run '^$' -bench InsertFloorPostgres -benchtime 1x
func BenchmarkInsertFloorPostgres(b *testing.B) {
	dsn := os.Getenv("TOUCHBASE_TEST_PG_DSN")
	if dsn == "" {
		b.Skip("TOUCHBASE_TEST_PG_DSN is not set: run through scripts/with-postgres")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range floorCases() {
		for _, how := range []string{"insert", "copy"} {
			b.Run(tc.table+"/"+how, func(b *testing.B) {
				var elapsed time.Duration
				for i := range b.N {
					name := fmt.Sprintf("floor_%d_%d", time.Now().UnixNano(), i)
					if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
						b.Fatal(err)
					}
					u.Path = "/" + name
					s, err := Open(ctx, u.String())
					if err != nil {
						b.Fatal(err)
					}
					elapsed += tc.load(b, func(args []any) error {
						conn, err := s.db.Conn(ctx)
						if err != nil {
							return err
						}
						defer conn.Close()
						tx, err := conn.BeginTx(ctx, nil)
						if err != nil {
							return err
						}
						defer tx.Rollback()
						if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
							return err
						}
						if how == "copy" {
							err = (&ingestBatch{s: s, conn: conn, tx: tx}).copyRows(ctx, tc.table, tc.cols, args)
						} else {
							err = s.insertRows(ctx, tx, tc.stmt, args)
						}
						if err != nil {
							return err
						}
						return tx.Commit()
					})
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
					if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(tc.rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
			})
		}
	}
}

// floorCase is one table of the floor benchmarks: rows rows made by row,
// written with stmt, or by COPY of cols.
type floorCase struct {
	table string
	rows  int
	stmt  *rowsSQL
	cols  []string
	row   func(r int, args []any) []any
}

// load writes the case's rows through write, 50,000 at a time, and
// returns how long that took.
func (tc floorCase) load(b *testing.B, write func(args []any) error) time.Duration {
	const perTx = 50_000
	args := make([]any, 0, perTx*tc.stmt.cols)
	start := time.Now()
	for done := 0; done < tc.rows; done += perTx {
		args = args[:0]
		for r := done; r < min(done+perTx, tc.rows); r++ {
			args = tc.row(r, args)
		}
		if err := write(args); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

func floorCases() []floorCase {
	products := make([]string, 2000)
	for i := range products {
		products[i] = fmt.Sprintf("p%d", i)
	}
	props := `{"order_id":"o123456","revenue":61.5,"currency":"GBP","products":[` +
		`{"product_id":"p1","name":"Product 1","category":"cat1","price":12.3,"quantity":1},` +
		`{"product_id":"p2","name":"Product 2","category":"cat2","price":12.3,"quantity":1},` +
		`{"product_id":"p3","name":"Product 3","category":"cat3","price":12.3,"quantity":1},` +
		`{"product_id":"p4","name":"Product 4","category":"cat4","price":12.3,"quantity":1},` +
		`{"product_id":"p5","name":"Product 5","category":"cat5","price":12.3,"quantity":1}]}`
	return []floorCase{
		{"order_items", 1_000_000, &insertOrderItems, orderItemCols, func(r int, args []any) []any {
			return append(args, int64(1), int64(r/5+1), r%5+1, products[r%2000], "", "Product", "Kitchen", "", "", 12.5, 1.0)
		}},
		{"orders", 200_000, &insertOrders, orderCols, func(r int, args []any) []any {
			return append(args, int64(r+1), int64(1), products[r%2000]+fmt.Sprint(r), int64(r%20000+1), "completed",
				61.5, 61.5, 61.5, 0.0, 0.0, 0.0, 0.0, "GBP", "", int64(1_700_000_000_000+r), int64(1_700_000_000_000))
		}},
		{"events", 200_000, &insertEvents, eventCols, func(r int, args []any) []any {
			return append(args, int64(1), int64(r%20000+1), fmt.Sprintf("m%d", r), "track", "Order Completed", "u1", "",
				int64(1_700_000_000_000+r), int64(1_700_000_000_000+r), props, "{}")
		}},
		{"customer_scores", 1_000_000, rfmScoreSQL.upsert, rfmScoreSQL.cols, func(r int, args []any) []any {
			return append(args, int64(1), int64(r+1), 12.0, 3.0, 150.0, 4, 3, 4, "Loyal Customers", int64(1), int64(1_700_000_000_000))
		}},
	}
}
