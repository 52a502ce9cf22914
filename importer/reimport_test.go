package importer_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readData(t *testing.T, name string) []byte {
	t.Helper()
	b, err := io.ReadAll(openData(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReimport: importing the same file again stores nothing and leaves
// every table as it was.
func TestReimport(t *testing.T) {
	cases := []struct {
		name string
		kind touchbase.ImportKind
		opts touchbase.ImportOptions
		data func(t *testing.T) []byte
	}{
		{name: "OrdersCSV", kind: touchbase.ImportOrders, data: func(t *testing.T) []byte { return readTestdata(t, "orders.csv") }},
		{name: "CDNOWSample", kind: touchbase.ImportOrders, opts: touchbase.ImportOptions{Format: "cdnow"}, data: func(t *testing.T) []byte { return readData(t, "CDNOW_sample.txt") }},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				data := c.data(t)
				ws := newWorkspace(t, s)
				first, err := runImport(context.Background(), s, ws, c.kind, c.name, c.opts, data)
				if err != nil || first.Stored == 0 {
					t.Fatalf("first import: %v, stored %d", err, first.Stored)
				}
				before := countTables(t, s, ws)
				second, err := runImport(context.Background(), s, ws, c.kind, c.name, c.opts, data)
				if err != nil {
					t.Fatal(err)
				}
				if second.Stored != 0 || second.Duplicates != first.Stored {
					t.Errorf("second import stored %d with %d duplicates; want 0 and %d", second.Stored, second.Duplicates, first.Stored)
				}
				if after := countTables(t, s, ws); after != before {
					t.Errorf("tables after the second import %+v, want %+v", after, before)
				}
			})
		}
	})
}

// TestInterruptedImport: an import cancelled after its first batch and run
// again ends as one clean run does.
func TestInterruptedImport(t *testing.T) {
	data := readData(t, "CDNOW_sample.txt")
	opts := touchbase.ImportOptions{Format: "cdnow"}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		clean := newWorkspace(t, s)
		if _, err := runImport(context.Background(), s, clean, touchbase.ImportOrders, "cdnow", opts, data); err != nil {
			t.Fatal(err)
		}
		want := countTables(t, s, clean)

		ws := storetest.Workspace(t, s, "interrupted").ID
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		im := &touchbase.Import{WorkspaceID: ws, Kind: touchbase.ImportOrders, FileName: "cdnow", Options: opts}
		err := importer.Run(ctx, s, im, bytes.NewReader(data), func(*touchbase.Import) { cancel() })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted import: %v, want context.Canceled", err)
		}
		if part := countTables(t, s, ws); part.Orders == 0 || part.Orders >= want.Orders {
			t.Fatalf("the interrupted import left %d orders; want some of %d", part.Orders, want.Orders)
		}
		if _, err := runImport(context.Background(), s, ws, touchbase.ImportOrders, "cdnow", opts, data); err != nil {
			t.Fatal(err)
		}
		if got := countTables(t, s, ws); got != want {
			t.Errorf("after the rerun %+v, want %+v", got, want)
		}
	})
}

// TestCDNOW: the sample file's orders, customers and dollars, and the
// master file's header line.
func TestCDNOW(t *testing.T) {
	sample := readData(t, "CDNOW_sample.txt")
	var dollars float64
	var lines, of4 int
	sc := bufio.NewScanner(bytes.NewReader(sample))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		dollars += v
		lines++
		if f[0] == "00004" {
			of4++
		}
	}
	if lines != 6919 {
		t.Fatalf("the sample has %d purchases; the README says 6,919", lines)
	}
	master := readData(t, "CDNOW_master.txt.gz")
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Run("Sample", func(t *testing.T) {
			ws := newWorkspace(t, s)
			im := mustImport(t, s, ws, touchbase.ImportOrders, "CDNOW_sample.txt", touchbase.ImportOptions{Format: "cdnow"}, string(sample))
			got := countTables(t, s, ws)
			if im.Errors != 0 || got.Orders != 6919 || got.Customers != 2357 || got.Items != 6919 {
				t.Errorf("%d errors, %+v; want 6,919 orders (and items) of 2,357 customers", im.Errors, got)
			}
			if math.Abs(got.Revenue-dollars) > 0.005 {
				t.Errorf("revenue %.2f, want the file's %.2f", got.Revenue, dollars)
			}
			if n := count(t, s, "SELECT orders FROM customers WHERE workspace_id = ? AND user_id = '00004'", ws); n != int64(of4) {
				t.Errorf("customer 00004 (its master id, as written) has %d orders, want its %d purchases", n, of4)
			}
		})
		t.Run("Master", func(t *testing.T) {
			if testing.Short() {
				t.Skip("69,659 purchases: skipped with -short")
			}
			ws := newWorkspace(t, s)
			im := mustImport(t, s, ws, touchbase.ImportOrders, "CDNOW_master.txt.gz", touchbase.ImportOptions{Format: "cdnow"}, string(master))
			got := countTables(t, s, ws)
			if im.Errors != 0 || im.Skipped != 1 || got.Orders != 69659 || got.Customers != 23570 {
				t.Errorf("%d errors (%+v), %d skipped, %+v; want the header skipped and 69,659 orders of 23,570 customers", im.Errors, im.LineErrors, im.Skipped, got)
			}
		})
	})
}
