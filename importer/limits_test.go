package importer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// retailLine is an Online Retail sale line of invoice inv.
func retailLine(inv, desc string) string {
	return inv + ",85123A," + desc + ",6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
}

const retailHead = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"

// TestLineLimit: in every format, a line longer than MaxLineBytes stops
// the import with an error that names the line and the limit, and what was
// read before it, an order still open included, is imported.
func TestLineLimit(t *testing.T) {
	long := strings.Repeat("x", importer.MaxLineBytes) // with its line end, one byte over
	// Short lines inside a quote, longer than the limit together: the
	// record that encoding/csv would hold whole, however far it reaches.
	var open strings.Builder
	for open.Len() <= importer.MaxLineBytes {
		open.WriteString("a short line of a quote left open\n")
	}
	cases := []struct {
		name   string
		kind   touchbase.ImportKind
		file   string
		format string
		data   string
		line   int
		query  string // what was imported before the line: one row each
		want   []string
	}{
		{"csv", touchbase.ImportCustomers, "people.csv", "", "user_id,notes\nu1,a\nu2," + long + "\nu3,c\n", 3,
			"SELECT user_id FROM customers WHERE workspace_id = ? ORDER BY user_id", []string{"u1"}},
		{"csv quote left open", touchbase.ImportCustomers, "people.csv", "", "user_id,notes\nu1,a\nu2,\"" + open.String() + "\"\nu3,c\n", 3,
			"SELECT user_id FROM customers WHERE workspace_id = ? ORDER BY user_id", []string{"u1"}},
		{"csv orders", touchbase.ImportOrders, "orders.csv", "",
			"order_id,user_id,product_id,price,quantity,name\no1,u1,p1,5,1,Mug\no1,u1,p2,5,1,Cup\no2,u1,p1,5,1," + long + "\n", 4,
			"SELECT order_id FROM orders WHERE workspace_id = ? ORDER BY order_id", []string{"o1"}},
		{"csv header", touchbase.ImportCustomers, "people.csv", "", "user_id," + long + "\nu1,a\n", 1,
			"SELECT user_id FROM customers WHERE workspace_id = ?", nil},
		{"online-retail", touchbase.ImportOrders, "retail.csv", importer.FormatOnlineRetail,
			retailHead + retailLine("536365", "MUG") + retailLine("536366", long), 3,
			"SELECT order_id FROM orders WHERE workspace_id = ?", []string{"536365"}},
		{"cdnow", touchbase.ImportOrders, "CDNOW_master.txt", importer.FormatCDNOW,
			"00001 19970101 1 11.77\n00002 " + long + "\n00003 19970102 2 20.00\n", 2,
			"SELECT user_id FROM customers WHERE workspace_id = ?", []string{"00001"}},
		{"ndjson", touchbase.ImportEvents, "events.ndjson", "",
			`{"type":"track","userId":"u1","event":"First"}` + "\n" + `{"type":"track","userId":"u1","event":"` + long + "\"}\n" +
				`{"type":"track","userId":"u1","event":"Third"}` + "\n", 2,
			"SELECT event FROM events WHERE workspace_id = ?", []string{"First"}},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := newWorkspace(t, s)
				for _, gz := range []bool{false, true} {
					data := c.data
					if gz {
						data = gzipped(t, data)
					}
					im, err := runImport(context.Background(), s, ws, c.kind, c.file, touchbase.ImportOptions{Format: c.format}, []byte(data))
					want := fmt.Sprintf("line %d is longer than 4 MiB, the limit of a line", c.line)
					if touchbase.ErrorCode(err) != touchbase.EINVALID || !strings.Contains(touchbase.ErrorMessage(err), want) {
						t.Fatalf("gzip %v: err = %v, want EINVALID %q", gz, err, want)
					}
					if got := storetest.QueryStrings(t, s, c.query, ws); !reflect.DeepEqual(got, c.want) {
						t.Errorf("gzip %v: imported %q, want %q, what came before line %d", gz, got, c.want, c.line)
					}
					if len(im.LineErrors) != 0 {
						t.Errorf("gzip %v: line errors %+v", gz, im.LineErrors)
					}
				}
			})
		}
	})
}

// TestLineLimitEdge: a line of MaxLineBytes with its line end is read; one
// byte more is not, and neither is a last line without an end one over.
func TestLineLimitEdge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		// An ignored column holds the bulk: only the line limit applies.
		line := func(id string, n int) string {
			return id + "," + strings.Repeat("x", n-len(id)-2) + "\n"
		}
		head := "user_id,notes\n"
		opts := touchbase.ImportOptions{Map: "notes=-"}
		im := mustImport(t, s, ws, touchbase.ImportCustomers, "people.csv", opts, head+line("u1", importer.MaxLineBytes)+"u2,a\n")
		if im.Records != 2 || im.Errors != 0 {
			t.Fatalf("a line of exactly the limit: %+v %+v", im.ImportCounts, im.LineErrors)
		}
		last := strings.TrimSuffix(line("u3", importer.MaxLineBytes+1), "\n") // the limit, no end
		im = mustImport(t, s, ws, touchbase.ImportCustomers, "people.csv", opts, head+last)
		if im.Records != 1 || im.Errors != 0 {
			t.Fatalf("a last line of exactly the limit: %+v %+v", im.ImportCounts, im.LineErrors)
		}
		_, err := runImport(context.Background(), s, ws, touchbase.ImportCustomers, "people.csv", opts, []byte(head+line("u4", importer.MaxLineBytes+1)))
		if !strings.Contains(touchbase.ErrorMessage(err), "line 2 is longer than 4 MiB") {
			t.Fatalf("one byte over: %v", err)
		}
	})
}

// TestFieldLimit: in every format, a field longer than MaxFieldBytes makes
// its row a bad row, reported with its line and column and skipped; the
// rows around it are imported. A field of exactly the limit is fine, and a
// CSV column that is not imported is bound by the line only.
func TestFieldLimit(t *testing.T) {
	over := strings.Repeat("y", importer.MaxFieldBytes+1)
	full := strings.Repeat("z", importer.MaxFieldBytes)
	cases := []struct {
		name   string
		kind   touchbase.ImportKind
		file   string
		opts   touchbase.ImportOptions
		data   string
		errors []touchbase.LineError // Line and Column
		query  string
		want   []string
	}{
		{"csv", touchbase.ImportCustomers, "people.csv", touchbase.ImportOptions{Map: "skip=-"},
			"user_id,notes,skip\nu1,a," + over + "\nu2," + over + ",b\nu3," + full + ",c\n",
			[]touchbase.LineError{{Line: 3, Column: "notes"}},
			"SELECT user_id FROM customers WHERE workspace_id = ? ORDER BY user_id", []string{"u1", "u3"}},
		{"csv products", touchbase.ImportProducts, "products.csv", touchbase.ImportOptions{},
			"product_id,name,Body (HTML)\np1," + over + ",x\np2,Mug," + over + "\n",
			[]touchbase.LineError{{Line: 2, Column: "name"}},
			"SELECT product_id FROM products WHERE workspace_id = ?", []string{"p2"}},
		{"online-retail", touchbase.ImportOrders, "retail.csv", touchbase.ImportOptions{Format: importer.FormatOnlineRetail},
			retailHead + retailLine("536365", over) + retailLine("536366", "MUG"),
			[]touchbase.LineError{{Line: 2, Column: "Description"}},
			"SELECT order_id FROM orders WHERE workspace_id = ?", []string{"536366"}},
		{"cdnow", touchbase.ImportOrders, "CDNOW_master.txt", touchbase.ImportOptions{Format: importer.FormatCDNOW},
			"00001 19970101 1 11.77\n00002 19970101 " + over + " 1.00\n00003 19970102 2 20.00\n",
			[]touchbase.LineError{{Line: 2, Column: "number of CDs"}},
			"SELECT user_id FROM customers WHERE workspace_id = ? ORDER BY user_id", []string{"00001", "00003"}},
		{"ndjson", touchbase.ImportEvents, "events.ndjson", touchbase.ImportOptions{},
			`{"type":"track","userId":"u1","event":"Long","properties":{"x":"` + over + `"}}` + "\n" +
				// Two strings of 40 KiB, the first ending in an escaped
				// backslash: neither is over the limit.
				`{"type":"track","userId":"u1","event":"Two","properties":{"x":"` + strings.Repeat("a", 40<<10) + `\\","y":"` + strings.Repeat("b", 40<<10) + `"}}` + "\n" +
				// Escaped quotes, as written up to the limit.
				`{"type":"track","userId":"u1","event":"Quotes","properties":{"x":"` + strings.Repeat(`\"`, importer.MaxFieldBytes/2) + `"}}` + "\n",
			[]touchbase.LineError{{Line: 1}},
			"SELECT event FROM events WHERE workspace_id = ? ORDER BY event", []string{"Quotes", "Two"}},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ws := newWorkspace(t, s)
				im := mustImport(t, s, ws, c.kind, c.file, c.opts, c.data)
				var got []touchbase.LineError
				for _, le := range im.LineErrors {
					if !strings.Contains(le.Message, "more than 64 KiB, the limit of a field") {
						t.Errorf("line %d: message %q does not name the limit", le.Line, le.Message)
					}
					got = append(got, touchbase.LineError{Line: le.Line, Column: le.Column})
				}
				if !reflect.DeepEqual(got, c.errors) {
					t.Errorf("line errors %+v, want %+v (full: %+v)", got, c.errors, im.LineErrors)
				}
				if rows := storetest.QueryStrings(t, s, c.query, ws); !reflect.DeepEqual(rows, c.want) {
					t.Errorf("imported %q, want %q", rows, c.want)
				}
			})
		}
		t.Run("header", func(t *testing.T) {
			ws := newWorkspace(t, s)
			_, err := runImport(context.Background(), s, ws, touchbase.ImportCustomers, "people.csv", touchbase.ImportOptions{}, []byte("user_id,"+over+"\nu1,a\n"))
			if touchbase.ErrorCode(err) != touchbase.EINVALID || !strings.Contains(touchbase.ErrorMessage(err), "column 2 is 65537 bytes long, more than 64 KiB") {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

// TestMaxBytes: the file as decompressed is bound by ImportOptions.MaxBytes:
// past it the import stops with an error naming the limit and the line,
// and the lines before are imported. A file of exactly the limit is read.
func TestMaxBytes(t *testing.T) {
	var b strings.Builder
	b.WriteString("user_id\n") // 8 bytes
	for i := range 100 {
		fmt.Fprintf(&b, "u%03d\n", i) // 5 bytes each
	}
	data := b.String() // 508 bytes
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		im := mustImport(t, s, ws, touchbase.ImportCustomers, "people.csv", touchbase.ImportOptions{MaxBytes: int64(len(data))}, data)
		if im.Records != 100 {
			t.Fatalf("a file of exactly the limit: %+v", im.ImportCounts)
		}
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprint("gzip ", gz), func(t *testing.T) { testMaxBytes(t, s, data, gz) })
		}
	})
}

// testMaxBytes imports data, gzipped or not, under a limit it passes.
func testMaxBytes(t *testing.T, s *store.Store, data string, gz bool) {
	ws := newWorkspace(t, s)
	in := data
	if gz {
		in = gzipped(t, data) // far smaller: the limit is on what it inflates to
	}
	_, err := runImport(context.Background(), s, ws, touchbase.ImportCustomers, "people.csv", touchbase.ImportOptions{MaxBytes: 258}, []byte(in))
	// 8 + 50*5 = 258 bytes are the header and u000-u049.
	want := "the file holds more than 258 bytes once decompressed, the limit of one import (import_max_bytes): the import stops at line 52"
	if touchbase.ErrorCode(err) != touchbase.EINVALID || !strings.Contains(touchbase.ErrorMessage(err), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if n := count(t, s, "SELECT count(*) FROM customers WHERE workspace_id = ?", ws); n != 50 {
		t.Errorf("%d customers imported, want the 50 before the limit", n)
	}
}

// TestGzipBomb: a small gzip that inflates to one line of 256 MiB stops at
// the line limit, having allocated a few times the limit, not the line.
// (e2e's TestImportBomb measures the server's resident memory.)
func TestGzipBomb(t *testing.T) {
	bomb := gzipBomb(t, "user_id,notes\nu1,", 256<<20)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := runImport(context.Background(), s, ws, touchbase.ImportCustomers, "bomb.csv.gz", touchbase.ImportOptions{}, bomb)
		runtime.ReadMemStats(&after)
		if !strings.Contains(touchbase.ErrorMessage(err), "line 2 is longer than 4 MiB") {
			t.Fatalf("err = %v", err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Errorf("the import allocated %d MiB to reject a line of a %d KiB gzip", n>>20, len(bomb)>>10)
		}
	})
}

// gzipBomb is a gzip file of head and then n bytes of "a" without a line
// end: gzip members of 1 MiB each, compressed once and repeated (a gzip
// reader reads concatenated members as one stream).
func gzipBomb(t testing.TB, head string, n int) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	out := member([]byte(head))
	chunk := member(bytes.Repeat([]byte("a"), 1<<20))
	for range n >> 20 {
		out = append(out, chunk...)
	}
	return out
}

// TestLineErrorClipped: a line error quoting a long value is kept short,
// with what it says about the value: an import keeps a thousand of them.
func TestLineErrorClipped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ws := newWorkspace(t, s)
		long := strings.Repeat("é", 30000) // 60,000 bytes, under the field limit
		im := mustImport(t, s, ws, touchbase.ImportCustomers, "people.csv", touchbase.ImportOptions{Map: "age=traits.age:int"}, "user_id,age\nu1,"+long+"\n")
		if len(im.LineErrors) != 1 {
			t.Fatalf("line errors %+v", im.LineErrors)
		}
		msg := im.LineErrors[0].Message
		if len(msg) > 512 || !strings.HasPrefix(msg, `"éé`) || !strings.HasSuffix(msg, `éé" is not a number`) || !utf8.ValidString(msg) {
			t.Errorf("message of %d bytes: %q", len(msg), msg)
		}
	})
}
