package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/internal/csvsafe"
	"github.com/touchbase/touchbase/store"
)

// importErrorsShown is how many line errors the CLI prints; --error-report
// writes all that were kept.
const importErrorsShown = 20

func (a *app) importCmd() *cobra.Command {
	var (
		opts        touchbase.ImportOptions
		workspace   string
		errorReport string
	)
	cmd := &cobra.Command{
		Use:   "import customers|orders|products|events FILE",
		Short: "Import a CSV or NDJSON file (or - for stdin; .gz is read as gzip)",
		Long: `Import customers, orders, products or events from a file into a workspace.

FILE is CSV with a header row, or NDJSON (one Segment call per line), or
- for stdin; gzipped files are recognised. Each row becomes a Segment
call and goes through the same validation and identity resolution as
events sent to /v1. Importing the same file again changes nothing, and an
interrupted import is completed by running it again.

CSV columns are matched to fields by name (user_id, email, phone,
anonymous_id, timestamp, event, order_id, product_id, sku, name, price,
quantity, ... and common spellings such as "Customer ID" or "E-mail");
other columns become traits (customers), properties (events) or product
properties of the order line (orders). --map says it explicitly, with dot
paths and optional types:

    --map "Customer ID=user_id,E-mail=email,Ctry=traits.country,cat=properties.category,ts=timestamp,name=event"
    --map "Age=traits.age:int,Opt In=traits.newsletter:bool,Notes=-"

Orders are one row per line item, grouped by order_id; a status column
(completed, cancelled, refunded) picks the event. Presets read two public
data sets as they are published: --format online-retail (UCI Online
Retail) and --format cdnow (CDNOW_master or CDNOW_sample). See
docs/import.md.`,
		Example: `  touchbase import orders --format online-retail online-retail.csv.gz
  touchbase import customers customers.csv --map "Customer ID=user_id,E-mail=email"
  zcat events.ndjson.gz | touchbase import events -`,
		Args: exactArgs("kind", "file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			kind := touchbase.ImportKind(args[0])
			if !kind.Valid() {
				return usageErrorf(cmd, "what to import must be customers, orders, products or events, not %q", args[0])
			}
			in, name, size, err := openImportFile(args[1], a.stdin)
			if err != nil {
				return err
			}
			defer in.Close()
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				im := &touchbase.Import{WorkspaceID: ws.ID, Kind: kind, FileName: name, Size: size, Options: opts}
				if err := st.CreateImport(ctx, im); err != nil {
					return err
				}
				im.Options.MaxBytes = a.cfg.ImportMaxBytes
				bar := a.importProgress(im)
				start := time.Now()
				runErr := importer.Execute(ctx, st, st, im, in, bar.update)
				bar.finish()
				elapsed := time.Since(start)
				if errorReport != "" {
					if err := writeErrorReport(errorReport, im.LineErrors); err != nil {
						return err
					}
				}
				if a.json {
					if err := a.printJSON(im); err != nil {
						return err
					}
				} else {
					a.printImport(im, elapsed)
				}
				return runErr
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "", "csv, ndjson, online-retail or cdnow (default: from the file name and content)")
	f.StringVar(&opts.Map, "map", "", `column mapping: "Column=field,Other=traits.x:int" (see --help)`)
	f.IntVar(&opts.MaxErrors, "max-errors", importer.DefaultMaxErrors, "bad rows to skip before giving up (-1: no limit)")
	f.StringVar(&opts.TimeZone, "time-zone", "", "IANA time zone of times written without one (default UTC)")
	f.StringVar(&workspace, "workspace", "", "workspace name (default: the first workspace)")
	f.StringVar(&errorReport, "error-report", "", "write the bad rows (line, column, message) to this CSV file")
	addImportMaxBytesFlag(f)
	return cmd
}

// openImportFile opens FILE, or stdin for "-"; size is 0 when unknown.
func openImportFile(path string, stdin io.Reader) (io.ReadCloser, string, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), "stdin", 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", 0, touchbase.Errorf(touchbase.EINVALID, "cannot open %s: %v", path, err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, filepath.Base(path), size, nil
}

// importBar draws progress on a terminal (stderr), and nothing otherwise.
type importBar struct {
	bar   *progressbar.ProgressBar
	start time.Time
}

func (a *app) importProgress(im *touchbase.Import) *importBar {
	b := &importBar{start: time.Now()}
	if a.json || !isTerminal(a.stderr) {
		return b
	}
	max := im.Size
	if max == 0 {
		max = -1 // a spinner: stdin has no known size
	}
	b.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetDescription("importing "+im.FileName),
		progressbar.OptionClearOnFinish(),
	)
	return b
}

func (b *importBar) update(im *touchbase.Import) {
	if b.bar == nil {
		return
	}
	rate := float64(im.Lines) / time.Since(b.start).Seconds()
	b.bar.Describe(fmt.Sprintf("%s: %s lines, %s lines/s, %s errors", im.FileName, thousands(im.Lines), thousands(int64(rate)), thousands(im.Errors)))
	_ = b.bar.Set64(im.BytesRead)
}

func (b *importBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// printImport reports an import on stdout, and its first bad rows on stderr.
func (a *app) printImport(im *touchbase.Import, elapsed time.Duration) {
	rate := float64(im.Lines) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(a.stdout, "Import %d (%s from %s): %s\n", im.ID, im.Kind, im.FileName, im.Status)
	fmt.Fprintf(a.stdout, "  %s lines in %s (%s lines/s)\n", thousands(im.Lines), elapsed.Round(time.Millisecond), thousands(int64(rate)))
	fmt.Fprintf(a.stdout, "  %s records: %s stored, %s already imported, %s naming erased customers\n",
		thousands(im.Records), thousands(im.Stored), thousands(im.Duplicates), thousands(im.Erased))
	if im.Skipped > 0 {
		fmt.Fprintf(a.stdout, "  %s lines skipped (not data: headers, stock adjustments)\n", thousands(im.Skipped))
	}
	fmt.Fprintf(a.stdout, "  %s bad rows skipped\n", thousands(im.Errors))
	if im.Warnings > 0 {
		fmt.Fprintf(a.stdout, "  %s warnings (imported, but not as written)\n", thousands(im.Warnings))
	}
	for i, w := range im.LineWarnings {
		if i == importErrorsShown {
			fmt.Fprintf(a.stderr, "  ... and %s more warnings (see --json, or GET /api/v1/imports/%d)\n", thousands(im.Warnings-int64(i)), im.ID)
			break
		}
		fmt.Fprintf(a.stderr, "  warning: %s\n", w.Error())
	}
	for i, le := range im.LineErrors {
		if i == importErrorsShown {
			fmt.Fprintf(a.stderr, "  ... and %s more (write them all with --error-report FILE)\n", thousands(im.Errors-int64(i)))
			break
		}
		fmt.Fprintf(a.stderr, "  %s\n", le.Error())
	}
	if im.Error != "" {
		fmt.Fprintf(a.stderr, "import failed: %s\n", im.Error)
	}
}

// writeErrorReport writes line errors as CSV, made safe for spreadsheets
// (messages quote the file's own values).
func writeErrorReport(path string, errs []touchbase.LineError) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("error report: %w", err)
	}
	w := csvsafe.NewWriter(f)
	_ = w.Write([]string{"line", "column", "message"})
	for _, le := range errs {
		_ = w.Write([]string{strconv.Itoa(le.Line), le.Column, le.Message})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("error report: %w", err)
	}
	return f.Close()
}

// thousands writes n with comma separators: 1,234,567.
func thousands(n int64) string { return humanize.Comma(n) }
