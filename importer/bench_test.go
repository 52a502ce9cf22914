package importer_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/storetest"
)

// syntheticOrders writes an orders CSV of about n lines: orders of about
// five lines each, by 20,000 customers, over a year.
func syntheticOrders(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("order_id,user_id,email,timestamp,product_id,name,category,price,quantity\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for line, order := 0, 1; line < n; order++ {
		cust := rng.IntN(20000)
		at := start.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Format("2006-01-02 15:04:05")
		for k := 1 + rng.IntN(9); k > 0 && line < n; k-- {
			p := rng.IntN(2000)
			fmt.Fprintf(&b, "o%d,u%d,c%d@example.com,%s,p%d,Product %d,cat%d,%d.%02d,%d\n",
				order, cust, cust, at, p, p, p%40, 1+p%97, p%100, 1+rng.IntN(3))
			line++
		}
	}
	return b.Bytes()
}

// importLines is how many lines BenchmarkImportOrders imports: more show
// how the cost grows with a customer's history.
var importLines = flag.Int("import-lines", 200000, "order lines BenchmarkImportOrders imports")

// BenchmarkImportOrders imports -import-lines order lines (200,000) into a
// fresh store per iteration, on SQLite and (under scripts/with-postgres)
// PostgreSQL.
func BenchmarkImportOrders(b *testing.B) {
	lines := *importLines
	data := syntheticOrders(lines)
	for _, be := range storetest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := be.Open(b)
				ws := storetest.Workspace(b, s, "bench").ID
				b.StartTimer()
				t0 := time.Now()
				im := &touchbase.Import{WorkspaceID: ws, Kind: touchbase.ImportOrders, FileName: "orders.csv"}
				if err := importer.Run(context.Background(), s, im, bytes.NewReader(data), nil); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(t0)
				if im.Errors != 0 || im.Lines != int64(lines)+1 {
					b.Fatalf("%d lines, %d errors: %+v", im.Lines, im.Errors, im.LineErrors)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/elapsed.Seconds(), "lines/s")
		})
	}
}

// discardStore takes every batch and keeps nothing, so that a benchmark
// measures the readers (CSV parsing, mapping, inbound's validation) alone.
type discardStore struct{}

func (discardStore) IngestBulk(_ context.Context, ins []touchbase.Inbound) (touchbase.IngestResult, error) {
	return touchbase.IngestResult{Stored: len(ins)}, nil
}

func (discardStore) UpsertProducts(context.Context, int64, []touchbase.Product) error { return nil }

// BenchmarkReadOrders reads -import-lines order lines (200,000) into a
// store that discards them: the readers' throughput, without the
// database's.
func BenchmarkReadOrders(b *testing.B) {
	lines := *importLines
	data := syntheticOrders(lines)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		im := &touchbase.Import{WorkspaceID: 1, Kind: touchbase.ImportOrders, FileName: "orders.csv"}
		if err := importer.Run(context.Background(), discardStore{}, im, bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(t0)
		if im.Errors != 0 || im.Lines != int64(lines)+1 {
			b.Fatalf("%d lines, %d errors: %+v", im.Lines, im.Errors, im.LineErrors)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/elapsed.Seconds(), "lines/s")
}
