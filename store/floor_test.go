package store

import (
	"context"
	"database/sql"
	"fmt"
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
	const perTx = 50_000
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
	for _, tc := range []struct {
		table string
		rows  int
		stmt  *rowsSQL
		row   func(r int, args []any) []any
	}{
		{"order_items", 1_000_000, &insertOrderItems, func(r int, args []any) []any {
			return append(args, int64(1), int64(r/5+1), r%5+1, products[r%2000], "", "Product", "Kitchen", "", "", 12.5, 1.0)
		}},
		{"orders", 200_000, &insertOrders, func(r int, args []any) []any {
			return append(args, int64(r+1), int64(1), products[r%2000]+fmt.Sprint(r), int64(r%20000+1), "completed",
				61.5, 61.5, 61.5, 0.0, 0.0, 0.0, 0.0, "GBP", "", int64(1_700_000_000_000+r), int64(1_700_000_000_000))
		}},
		{"events", 200_000, &insertEvents, func(r int, args []any) []any {
			return append(args, int64(1), int64(r%20000+1), fmt.Sprintf("m%d", r), "track", "Order Completed", "u1", "",
				int64(1_700_000_000_000+r), int64(1_700_000_000_000+r), props, "{}")
		}},
		{"customer_scores", 1_000_000, rfmScoreSQL.upsert, func(r int, args []any) []any {
			return append(args, int64(1), int64(r+1), 12.0, 3.0, 150.0, 4, 3, 4, "Loyal Customers", int64(1), int64(1_700_000_000_000))
		}},
	} {
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
				args := make([]any, 0, perTx*tc.stmt.cols)
				start := time.Now()
				for done := 0; done < tc.rows; done += perTx {
					args = args[:0]
					for r := done; r < min(done+perTx, tc.rows); r++ {
						args = tc.row(r, args)
					}
					if err := s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertRows(ctx, tx, tc.stmt, args) }); err != nil {
						b.Fatal(err)
					}
				}
				elapsed += time.Since(start)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tc.rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
		})
	}
}
