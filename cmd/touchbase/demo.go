package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/demo"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
)

// demoDataDir is where the demo store lives unless --data (or
// TOUCHBASE_DATA, or the config file) says otherwise: apart from a real
// store's ./touchbase-data.
const demoDataDir = "./touchbase-demo"

func (a *app) demoCmd() *cobra.Command {
	var (
		customers   int
		seed        int64
		dataset     string
		datasetFile string
	)
	cmd := &cobra.Command{
		Use:         "demo",
		Annotations: map[string]string{annotServer: "yes"},
		Short:       "Fill a data directory with a realistic demo store and serve it",
		Long: `Create (or reuse) a data directory holding a realistic online store, then
serve it like 'touchbase serve', printing the console URL and the owner's
login.

The store is generated (--customers people over two years: seasons and
weekly cycles, a catalogue, browsing before buying, abandoned carts,
repeat buyers and one-timers, lapsed customers, newsletter opt-ins,
countries, time zones and birthdays; see docs/demo.md), or with
--dataset online-retail it is the UCI Online Retail data set. Either way it
goes in through the same ingestion path as real data. A data directory
that already holds customers is served as it is.

The data directory is ./touchbase-demo unless --data says otherwise. Each
start sets a new owner password and prints it.`,
		Example: `  touchbase demo
  touchbase demo --customers 100000 --seed 7 --addr 127.0.0.1:9000
  touchbase demo --dataset online-retail --data ./retail-demo`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			if a.cfg.Source("data") == "default" {
				a.cfg.Data = demoDataDir
				if strings.HasPrefix(a.cfg.Source("db"), "default") {
					a.cfg.DB = filepath.Join(demoDataDir, "touchbase.db")
				}
			}
			if customers < 1 {
				return usageErrorf(cmd, "--customers must be at least 1")
			}
			switch dataset {
			case "", "synthetic", "online-retail":
			default:
				return usageErrorf(cmd, "--dataset must be synthetic or online-retail, not %q", dataset)
			}
			return a.demo(cmd.Context(), demo.Config{Customers: customers, Seed: seed}, dataset, datasetFile)
		},
	}
	f := cmd.Flags()
	addServeFlags(f)
	f.IntVar(&customers, "customers", demo.DefaultCustomers, "people in the generated store")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed makes the same store")
	f.StringVar(&dataset, "dataset", "synthetic", "synthetic, or online-retail (the UCI Online Retail data set)")
	f.StringVar(&datasetFile, "dataset-file", "", "where online-retail.csv.gz is (default: looked for in ./, ./data and ../shared/data)")
	return cmd
}

// demo fills the store when it is empty, then serves it.
func (a *app) demo(ctx context.Context, cfg demo.Config, dataset, datasetFile string) (err error) {
	st, err := a.openServingStore(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	boot, err := st.Bootstrap(ctx, a.cfg.OwnerEmail)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	ws := boot.Workspace
	stats, err := st.Stats(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if stats.Customers > 0 {
		fmt.Fprintf(a.stderr, "Reusing the store in %s: %s customers, %s orders.\n", a.cfg.Data, thousands(stats.Customers), thousands(stats.Orders))
	} else if err := a.fillDemo(ctx, st, ws, cfg, dataset, datasetFile); err != nil {
		return err
	} else if err := createDemoSegments(ctx, st, ws.ID, dataset); err != nil {
		return err
	}

	// A new password each start: the one bootstrap printed may be gone,
	// and only its hash is kept.
	if boot.Owner == nil {
		return touchbase.Errorf(touchbase.ECONFLICT, "workspace %q has no owner to log in as; add one with `touchbase user create --role owner`", ws.Name)
	}
	password := boot.Password
	if password == "" {
		password = demoPassword()
		if err := st.SetPassword(ctx, boot.Owner.ID, password); err != nil {
			return fmt.Errorf("set the owner's password: %w", err)
		}
	}
	return a.serveStore(ctx, st, func(base string) {
		line := strings.Repeat("=", 72)
		fmt.Fprintf(a.stderr, "\n%s\n  touchbase demo store (%s)\n\n", line, a.cfg.Data)
		fmt.Fprintf(a.stderr, "    console:   %s/ui/\n", base)
		fmt.Fprintf(a.stderr, "    email:     %s\n", boot.Owner.Email)
		fmt.Fprintf(a.stderr, "    password:  %s\n", password)
		fmt.Fprintf(a.stderr, "    admin API: %s/api/v1 (create a token: touchbase key create --kind admin --data %s)\n", base, a.cfg.Data)
		fmt.Fprintf(a.stderr, "\n  Stop with Ctrl-C; run it again to serve the same store.\n%s\n\n", line)
	})
}

// fillDemo loads the demo data into ws, through the importer.
func (a *app) fillDemo(ctx context.Context, st *store.Store, ws *touchbase.Workspace, cfg demo.Config, dataset, datasetFile string) error {
	var (
		in   io.Reader
		im   = &touchbase.Import{WorkspaceID: ws.ID}
		wait func() error
	)
	if dataset == "online-retail" {
		path, err := findDataset(datasetFile)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			im.Size = fi.Size()
		}
		in, im.Kind, im.FileName, im.Options.Format = f, touchbase.ImportOrders, filepath.Base(path), importer.FormatOnlineRetail
		fmt.Fprintf(a.stderr, "Importing the UCI Online Retail data set from %s into %s ...\n", path, a.cfg.Data)
	} else {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := demo.Generate(ctx, cfg, pw)
			pw.CloseWithError(err)
			done <- err
		}()
		wait = func() error { return <-done }
		in, im.Kind, im.FileName, im.Options.Format = pr, touchbase.ImportEvents, fmt.Sprintf("demo store (%d customers, seed %d)", cfg.Customers, cfg.Seed), importer.FormatNDJSON
		fmt.Fprintf(a.stderr, "Generating a demo store of %s customers (seed %d) into %s ...\n", thousands(int64(cfg.Customers)), cfg.Seed, a.cfg.Data)
	}
	if err := st.CreateImport(ctx, im); err != nil {
		return err
	}
	bar := a.importProgress(im)
	start := time.Now()
	err := importer.Execute(ctx, st, st, im, in, bar.update)
	bar.finish()
	if wait != nil {
		if werr := wait(); err == nil && werr != nil {
			err = fmt.Errorf("generate the demo store: %w", werr)
		}
	}
	if err != nil {
		return fmt.Errorf("load the demo store: %w", err)
	}
	if im.Errors > 0 {
		// The generator's messages are all valid; a rejection is a bug.
		return fmt.Errorf("load the demo store: %d records rejected, first: %s", im.Errors, im.LineErrors[0].Error())
	}
	stats, err := st.Stats(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	fmt.Fprintf(a.stderr, "Loaded %s events in %s: %s customers, %s orders, revenue %.2f.\n",
		thousands(im.Stored), time.Since(start).Round(100*time.Millisecond), thousands(stats.Customers), thousands(stats.Orders), stats.Revenue)
	return nil
}

// findDataset finds online-retail.csv.gz.
func findDataset(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	for _, p := range []string{"online-retail.csv.gz", "data/online-retail.csv.gz", "../shared/data/online-retail.csv.gz"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", touchbase.Errorf(touchbase.ENOTFOUND, "online-retail.csv.gz not found in ./, ./data or ../shared/data: "+
		"download the UCI Online Retail data set as CSV and pass --dataset-file PATH")
}

// demoPassword is a fresh 20-character password.
func demoPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// demoSegments are the segments a demo store starts with: what a shop
// asks first, in the segment language (docs/segments.md). The engine
// evaluates them when the server starts.
var demoSegments = []struct{ name, description, text string }{
	{"Repeat buyers", "Ordered at least twice", `orders >= 2`},
	{"Lapsed customers", "Bought before, nothing for six months", `orders >= 1 and last_order_at < 180d ago`},
	{"Cart abandoners", "Started a checkout this week and did not order after it",
		`last("Checkout Started") > 7d ago and not (last("Order Completed") > last("Checkout Started"))`},
	{"Big spenders", "Over 500 in the last year", `sum("Order Completed".revenue, within 365d) > 500`},
	{"Window shoppers", "Three or more product views this month, never ordered", `count("Product Viewed", within 30d) >= 3 and orders = 0`},
	{"Newsletter subscribers", "Opted in to marketing email", `email_consent = "subscribed"`},
	{"Birthdays this week", "Birthday today or in the next six days, in their time zone", `birthday within next 7d`},
}

// createDemoSegments adds demoSegments to a synthetic demo store (the
// Online Retail data set has neither checkouts nor birthdays).
func createDemoSegments(ctx context.Context, st *store.Store, ws int64, dataset string) error {
	if dataset != "" && dataset != "synthetic" {
		return nil
	}
	for _, d := range demoSegments {
		n, err := parseDefinition(d.text)
		if err != nil {
			return fmt.Errorf("demo segment %q: %w", d.name, err)
		}
		def, err := json.Marshal(n)
		if err != nil {
			return err
		}
		seg := &touchbase.Segment{WorkspaceID: ws, Name: d.name, Description: d.description, Kind: touchbase.SegmentDynamic,
			Definition: def, Text: segment.Format(n)}
		if err := st.CreateSegment(ctx, seg, nil); err != nil {
			return fmt.Errorf("demo segment %q: %w", d.name, err)
		}
	}
	return nil
}
