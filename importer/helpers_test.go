package importer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// dataDir is the shared folder of real data sets, ../shared/data from the
// repository root; tests that need it skip when it is absent.
func dataDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data sets not found at %s (see /work/shared/data/README.md): %v", dir, err)
	}
	return dir
}

// openData opens a file of the shared data folder.
func openData(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir(t), name))
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// runImport imports data into ws as kind and returns the import's record
// and Run's error.
func runImport(ctx context.Context, s importer.Store, ws int64, kind touchbase.ImportKind, name string, opts touchbase.ImportOptions, data []byte) (*touchbase.Import, error) {
	im := &touchbase.Import{WorkspaceID: ws, Kind: kind, FileName: name, Options: opts}
	err := importer.Run(ctx, s, im, bytes.NewReader(data), nil)
	return im, err
}

// mustImport is runImport that fails the test on an error.
func mustImport(t testing.TB, s importer.Store, ws int64, kind touchbase.ImportKind, name string, opts touchbase.ImportOptions, data string) *touchbase.Import {
	t.Helper()
	im, err := runImport(context.Background(), s, ws, kind, name, opts, []byte(data))
	if err != nil {
		t.Fatalf("import %s: %v (line errors %+v)", name, err, im.LineErrors)
	}
	return im
}

// newWorkspace makes a workspace and returns its id.
func newWorkspace(t testing.TB, s *store.Store) int64 {
	t.Helper()
	return storetest.Workspace(t, s, t.Name()).ID
}

// count runs a query with ? placeholders returning one integer.
func count(t testing.TB, s *store.Store, q string, args ...any) int64 {
	t.Helper()
	return storetest.QueryInt(t, s, q, args...)
}

// tableCounts are the rows an import leaves in a workspace.
type tableCounts struct {
	Customers, Identities, Events, Orders, Items, Products int64
	Revenue, Refunded                                      float64
}

func countTables(t testing.TB, s *store.Store, ws int64) tableCounts {
	t.Helper()
	var c tableCounts
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&c.Customers, "SELECT count(*) FROM customers WHERE workspace_id = ?"},
		{&c.Identities, "SELECT count(*) FROM identities WHERE workspace_id = ?"},
		{&c.Events, "SELECT count(*) FROM events WHERE workspace_id = ?"},
		{&c.Orders, "SELECT count(*) FROM orders WHERE workspace_id = ?"},
		{&c.Items, "SELECT count(*) FROM order_items WHERE workspace_id = ?"},
		{&c.Products, "SELECT count(*) FROM products WHERE workspace_id = ?"},
	} {
		*q.dst = count(t, s, q.sql, ws)
	}
	c.Revenue = sumFloat(t, s, "SELECT COALESCE(SUM(revenue), 0) FROM orders WHERE workspace_id = ?", ws)
	c.Refunded = sumFloat(t, s, "SELECT COALESCE(SUM(refunded), 0) FROM orders WHERE workspace_id = ?", ws)
	return c
}

// sumFloat runs a query with ? placeholders returning one number.
func sumFloat(t testing.TB, s *store.Store, q string, args ...any) float64 {
	t.Helper()
	var f float64
	if err := s.DB().QueryRow(rebind(s, q), args...).Scan(&f); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return f
}

// rebind writes ? placeholders as PostgreSQL's $N.
func rebind(s *store.Store, q string) string {
	if s.Dialect() != "postgres" {
		return q
	}
	var b bytes.Buffer
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// jsonColumn reads one JSON text column of one row into a map.
func jsonColumn(t testing.TB, s *store.Store, q string, args ...any) map[string]any {
	t.Helper()
	var raw *string
	if err := s.DB().QueryRow(rebind(s, q), args...).Scan(&raw); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
	out := map[string]any{}
	if raw == nil {
		return out
	}
	if err := json.Unmarshal([]byte(*raw), &out); err != nil {
		t.Fatalf("%s: %q is not a JSON object: %v", q, *raw, err)
	}
	return out
}

// gzipped compresses data.
func gzipped(t testing.TB, data string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// cents rounds an amount to whole cents, for comparing sums of prices.
func cents(f float64) int64 {
	if f < 0 {
		return -int64(-f*100 + 0.5)
	}
	return int64(f*100 + 0.5)
}
