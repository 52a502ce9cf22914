// Package importer loads files into a workspace: customers, orders,
// products and events, from CSV (with a column mapping onto the fields of
// Segment calls) or NDJSON (Segment calls), plain or gzipped, with presets
// for well-known data sets (the UCI Online Retail and CDNOW files).
//
// Every record becomes an inbound (one Segment call) that goes through the
// Segment spec's validation (inbound.ParseRecord) and the store's
// ingestion, exactly as events sent to /v1 do; only the catalogue
// (products) is written directly. Re-importing a file changes nothing: a
// record's messageId is derived from its content, so a record already
// imported is a duplicate, and orders are keyed by their order id. An
// interrupted import is made good by running it again.
package importer

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

// Store is what an import writes to; *store.Store is one.
type Store interface {
	// IngestBulk stores inbounds as Ingest does, without waiting for the
	// disk: the caller's next durable commit (UpdateImport) covers it.
	IngestBulk(ctx context.Context, ins []touchbase.Inbound) (touchbase.IngestResult, error)
	UpsertProducts(ctx context.Context, workspaceID int64, ps []touchbase.Product) error
}

// DefaultMaxErrors is how many bad records an import skips before it gives
// up, unless told otherwise.
const DefaultMaxErrors = 100

// Formats.
const (
	FormatCSV          = "csv"
	FormatNDJSON       = "ndjson"
	FormatOnlineRetail = "online-retail"
	FormatCDNOW        = "cdnow"
)

// Formats lists the formats, for help texts.
var Formats = []string{FormatCSV, FormatNDJSON, FormatOnlineRetail, FormatCDNOW}

// Limits of one call to the store: large enough to amortise a commit, small
// enough to report progress often and to keep memory flat.
const (
	batchMessages = 5000
	batchLines    = 50000
	batchProducts = 5000
)

// ErrTooManyErrors stops an import with more bad records than allowed.
var ErrTooManyErrors = errors.New("too many bad records")

// Run imports r into im.WorkspaceID as im.Kind and im.Options say, adding
// to im's counts and line errors as it goes. progress, if not nil, is
// called after every batch the store committed, from Run's goroutine.
//
// It returns ErrTooManyErrors (wrapped) when more records than
// Options.MaxErrors are bad, an EINVALID *touchbase.Error for options or a
// file it cannot read at all (bad mapping, missing columns, not gzip...),
// and the store's or reader's error otherwise. What was committed before
// an error stays; running the import again completes it.
func Run(ctx context.Context, st Store, im *touchbase.Import, r io.Reader, progress func(*touchbase.Import)) error {
	if !im.Kind.Valid() {
		return touchbase.Errorf(touchbase.EINVALID, "import kind %q is not one of customers, orders, products, events", im.Kind)
	}
	loc := time.UTC
	if tz := im.Options.TimeZone; tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return touchbase.Errorf(touchbase.EINVALID, "time zone %q: %v", tz, err)
		}
	}
	maxErrors := im.Options.MaxErrors
	if maxErrors == 0 {
		maxErrors = DefaultMaxErrors
	}

	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(counter, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return touchbase.Errorf(touchbase.EINVALID, "%s: not a valid gzip file: %v", im.FileName, err)
		}
		defer zr.Close()
		in = zr
	}
	// The limits apply to the file as decompressed, whatever came over
	// the wire: every source reads through lim.
	lim := newLimitReader(in, im.Options.MaxBytes)
	src, err := newSource(im, bufio.NewReaderSize(lim, 1<<20), lim, loc)
	if err != nil {
		if le := limitError(err, 1, lim.max); le != nil {
			return le
		}
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Unbuffered: the reader builds the next batch while the store
	// commits one, which is all the overlap two cores give; batches
	// queued beyond that only held memory (Online Retail: 710 -> 540 MB
	// of RSS at the same speed).
	batches := make(chan *batch)
	done := make(chan error, 1)
	go func() {
		defer close(batches)
		err := readBatches(ctx, src, im.WorkspaceID, im.Errors, counter, maxErrors, batches)
		if le := limitError(err, src.lines()+1, lim.max); le != nil {
			err = le // the line after the last one read whole
		}
		done <- err
	}()
	var storeErr error
	for b := range batches {
		if storeErr == nil {
			storeErr = store(ctx, st, im, b)
			if storeErr != nil {
				cancel() // stop reading; drain what is in flight
				continue
			}
			if progress != nil {
				progress(im)
			}
		}
	}
	readErr := <-done
	if storeErr != nil {
		return storeErr
	}
	return readErr
}

// batch is what the reader hands to the store: records made into inbounds
// (or products), and what it read to get them.
type batch struct {
	ins        []touchbase.Inbound
	products   []touchbase.Product
	lines      int64
	records    int64
	skipped    int64
	bytesRead  int64
	lineErrors []touchbase.LineError
	warnings   []touchbase.LineError
}

// readBatches reads records, validates them as inbound does, and sends
// batches until the file ends, maxErrors is passed or ctx is done.
func readBatches(ctx context.Context, src source, ws, errs int64, counter *countingReader, maxErrors int, out chan<- *batch) error {
	receivedAt := time.Now().UTC()
	b := &batch{}
	var sent int64 // lines in batches sent
	send := func() bool {
		b.lines = int64(src.lines()) - sent
		sent += b.lines
		b.bytesRead = counter.n
		b.skipped = src.skipped()
		select {
		case out <- b:
		case <-ctx.Done():
			return false
		}
		b = &batch{}
		return true
	}
	for {
		rec, err := src.next()
		if err == io.EOF {
			break
		}
		var le *touchbase.LineError
		if err != nil && !errors.As(err, &le) {
			send()
			return err
		}
		if le == nil {
			b.records++
			if rec.product != nil {
				b.products = append(b.products, *rec.product)
			} else if in, err := inbound.ParseRecord(rec.body, receivedAt); err != nil {
				e := recordError(rec, err)
				le = &e
			} else {
				in.WorkspaceID = ws
				b.ins = append(b.ins, in)
				if w := inbound.Warning(&in); w != nil {
					b.warnings = append(b.warnings, touchbase.LineError{Line: rec.line, Column: rec.column(w.Field), Message: w.Message})
				}
			}
		}
		if le != nil {
			// A bad record, from the source or from inbound: reported, skipped.
			errs++
			le.Column, le.Message = clip(le.Column), clip(le.Message)
			b.lineErrors = append(b.lineErrors, *le)
			if maxErrors >= 0 && errs > int64(maxErrors) {
				send()
				return fmt.Errorf("%w: more than %d (see the error report; raise --max-errors to go on)", ErrTooManyErrors, maxErrors)
			}
			continue
		}
		if len(b.ins) >= batchMessages || len(b.products) >= batchProducts || int64(src.lines())-sent >= batchLines {
			if !send() {
				return ctx.Err()
			}
		}
	}
	if !send() {
		return ctx.Err()
	}
	return nil
}

// store commits one batch and adds it to im's counts.
func store(ctx context.Context, st Store, im *touchbase.Import, b *batch) error {
	if len(b.ins) > 0 {
		res, err := st.IngestBulk(ctx, b.ins)
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		im.Stored += int64(res.Stored)
		im.Duplicates += int64(res.Duplicates)
		im.Erased += int64(res.Erased)
	}
	if len(b.products) > 0 {
		if err := st.UpsertProducts(ctx, im.WorkspaceID, b.products); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		im.Stored += int64(len(b.products))
	}
	im.Lines += b.lines
	im.Records += b.records
	im.Skipped = b.skipped
	im.BytesRead = b.bytesRead
	im.Errors += int64(len(b.lineErrors))
	for _, le := range b.lineErrors {
		if len(im.LineErrors) < touchbase.MaxLineErrors {
			im.LineErrors = append(im.LineErrors, le)
		}
	}
	im.Warnings += int64(len(b.warnings))
	for _, w := range b.warnings {
		if len(im.LineWarnings) < touchbase.MaxLineErrors {
			im.LineWarnings = append(im.LineWarnings, w)
		}
	}
	return nil
}

// recordError turns inbound's verdict on a record into a line error.
func recordError(rec record, err error) touchbase.LineError {
	le := touchbase.LineError{Line: rec.line, Message: err.Error()}
	var te *touchbase.Error
	if errors.As(err, &te) {
		le.Message = te.Message
		if len(te.Fields) > 0 {
			le.Column = rec.column(te.Fields[0].Field)
			le.Message = te.Fields[0].Message
		}
	}
	return le
}

// record is one unit a source makes of the file: an inbound or a product.
type record struct {
	line    int // the file line it starts on
	body    []byte
	product *touchbase.Product
	// columns maps inbound fields back to the CSV columns they came from,
	// so errors name what the user wrote; nil for NDJSON.
	columns map[string]string
}

// column names the column (or field) behind an inbound field.
func (r record) column(field string) string {
	if c, ok := r.columns[field]; ok {
		return c
	}
	// An order line's product: properties.products[i].price is the price
	// column (mapped as an item field or an item path).
	if rest, ok := strings.CutPrefix(field, "properties.products["); ok {
		if _, f, ok := strings.Cut(rest, "]."); ok {
			for _, k := range [...]string{"properties." + f, "item." + f} {
				if c, ok := r.columns[k]; ok {
					return c
				}
			}
		}
	}
	return field
}

// source reads records from a file.
type source interface {
	// next returns the next record; a *touchbase.LineError for a bad one
	// (reported and skipped); io.EOF at the end. Any other error stops the
	// import.
	next() (record, error)
	// lines is how many lines were read so far.
	lines() int
	// skipped is how many lines were deliberately left out so far.
	skipped() int64
}

// newSource picks the reader for the file's format; r reads lim, which a
// source tells where each line starts.
func newSource(im *touchbase.Import, r *bufio.Reader, lim *limitReader, loc *time.Location) (source, error) {
	format := im.Options.Format
	if format == "" {
		format = guessFormat(im.FileName, r)
	}
	switch format {
	case FormatCSV:
		return newCSVSource(im.Kind, im.Options.Map, r, lim, loc)
	case FormatNDJSON:
		if im.Kind == touchbase.ImportProducts {
			return nil, touchbase.Errorf(touchbase.EINVALID, "products are imported from CSV; NDJSON files hold Segment calls (events)")
		}
		return newNDJSONSource(r, lim), nil
	case FormatOnlineRetail:
		return newRetailSource(im.Kind, r, lim, loc)
	case FormatCDNOW:
		return newCDNOWSource(im.Kind, r, lim)
	}
	return nil, touchbase.Errorf(touchbase.EINVALID, "unknown format %q (use %s)", format, strings.Join(Formats, ", "))
}

// guessFormat tells NDJSON from CSV by the file name, then by the first
// character.
func guessFormat(name string, r *bufio.Reader) string {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(name)), ".gz")
	switch filepath.Ext(base) {
	case ".ndjson", ".jsonl", ".json":
		return FormatNDJSON
	case ".csv", ".tsv", ".txt":
		return FormatCSV
	}
	for n := 1; n <= 64; n++ {
		b, err := r.Peek(n)
		if err != nil || len(b) < n {
			break
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n', 0xef, 0xbb, 0xbf:
			continue
		case '{':
			return FormatNDJSON
		default:
			return FormatCSV
		}
	}
	return FormatCSV
}

// countingReader counts the bytes read from the file as stored (before
// gzip), for progress against its size.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
