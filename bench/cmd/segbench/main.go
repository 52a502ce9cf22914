// Command segbench measures segment evaluation: touchbase's in-memory
// engine against DuckDB and PostgreSQL, on the same generated store and
// the same suite of segments, checking that all three return the same
// members.
//
// It generates (once; cached in --data-dir) a deterministic touchbase
// SQLite store of --customers customers and about 20 events each (views,
// carts, checkouts, orders, email opens and clicks; see gen.go), then:
//
//	touchbase  in a process of its own: back-fill (engine.Index Load and
//	           Register of the suite, from the SQLite store), RSS with the
//	           suite registered, --runs full evaluations of the whole suite,
//	           and --events new events applied one at a time through the
//	           real-time path (ApplyCustomer, ApplyEvent, Changes), timed
//	           each
//	postgres   (--pg) the same data COPYed into a throwaway cluster (or
//	           --pg-dsn) with the store's schema and indexes plus one on
//	           (workspace, customer, event, timestamp), ANALYZEd; the suite
//	           compiled by segment.CompileSQL, run --pg-runs times
//	duckdb     (--duckdb) the same data appended into a DuckDB file in
//	           --data-dir (cached), in typed columns; one hand-written
//	           query per segment (see duckdb.go), run --runs times
//
// Members must be identical in every system (the command fails otherwise).
// The table goes to stdout with medians and ranges, the ratios, and each
// target of issue 4 as PASS or FAIL; --json writes everything.
//
//	cd bench && go run ./cmd/segbench --runs 5
//	cd bench && go run ./cmd/segbench --runs 5 --pg --duckdb --json segbench.json
//	cd bench && go run ./cmd/segbench --customers 10000 --pg --duckdb   # a quick check
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	customers int
	seed      uint64
	asOf      time.Time
	dataDir   string
	workdir   string
	runs      int
	pgRuns    int
	events    int
	pg        bool
	pgDSN     string
	duckdb    bool
	jsonOut   string
	cpuprof   string
	phase     string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "segbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("segbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asOf := "2026-11-01T12:00:00Z"
	fs.IntVar(&c.customers, "customers", 1000000, "customers in the generated store (about 20 events each)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated store")
	fs.StringVar(&asOf, "as-of", asOf, "the as-of instant of every evaluation (the store's history ends here)")
	fs.StringVar(&c.dataDir, "data-dir", "segbench-data", "where the generated SQLite store (and DuckDB file) are cached")
	fs.StringVar(&c.workdir, "workdir", "", "where members are written for the comparison (default a new temporary directory)")
	fs.IntVar(&c.runs, "runs", 3, "full evaluations of the suite in touchbase and DuckDB")
	fs.IntVar(&c.pgRuns, "pg-runs", 1, "full evaluations of the suite in PostgreSQL (slow)")
	fs.IntVar(&c.events, "events", 20000, "events applied one at a time for the incremental cost")
	fs.BoolVar(&c.pg, "pg", false, "also run the suite in PostgreSQL")
	fs.StringVar(&c.pgDSN, "pg-dsn", os.Getenv("TOUCHBASE_TEST_PG_DSN"), "PostgreSQL server to create the database in (default $TOUCHBASE_TEST_PG_DSN; empty: a throwaway cluster)")
	fs.BoolVar(&c.duckdb, "duckdb", false, "also run the suite in DuckDB")
	fs.StringVar(&c.jsonOut, "json", "", "write the JSON summary to this file (- for stdout; the table then goes to stderr)")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "write a CPU profile of the touchbase phase (back-fill, evaluations, incremental) here")
	fs.StringVar(&c.phase, "phase", "", "internal: run one phase in this process and print its JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	t, err := time.Parse(time.RFC3339, asOf)
	if err != nil {
		return nil, fmt.Errorf("--as-of: %w", err)
	}
	c.asOf = t.UTC()
	if c.customers < 1 || c.runs < 1 || c.pgRuns < 1 || c.events < 0 {
		return nil, errors.New("--customers, --runs and --pg-runs must be positive")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	g := newGenerator(c.seed, c.customers, c.asOf)
	d, err := ensureSQLite(ctx, c.dataDir, g, logf)
	if err != nil {
		return err
	}
	if c.phase == "engine" {
		res, err := runEngine(ctx, c, d, logf)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(res)
	}
	if c.phase != "" {
		return fmt.Errorf("--phase %q: want engine", c.phase)
	}

	table := stdout
	if c.jsonOut == "-" {
		table = stderr
	}
	if c.workdir == "" {
		if c.workdir, err = os.MkdirTemp("", "touchbase-segbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.workdir)
	} else if err := os.MkdirAll(c.workdir, 0o755); err != nil {
		return err
	}
	sum := &summary{Machine: machine(), Dataset: d, Suite: suite, Runs: c.runs, Started: time.Now().UTC()}

	logf("touchbase: starting the engine phase in a process of its own")
	if sum.Touchbase, err = c.enginePhase(ctx, stderr); err != nil {
		return err
	}
	if c.duckdb {
		if sum.DuckDB, err = runDuckDB(ctx, c, d, g, logf); err != nil {
			return err
		}
	}
	if c.pg {
		if sum.Postgres, err = runPostgres(ctx, c, d, g, logf); err != nil {
			return err
		}
	}
	if err := sum.compare(c.workdir); err != nil {
		return err
	}
	sum.aggregate()
	printSummary(table, sum)
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(sum, "", "  ")
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if c.jsonOut == "-" {
			_, err = stdout.Write(b)
		} else {
			err = os.WriteFile(c.jsonOut, b, 0o644)
		}
		if err != nil {
			return err
		}
	}
	if !sum.Match {
		return errors.New("the systems returned different members (see above)")
	}
	return nil
}

// enginePhase runs the touchbase phase in a child process of this binary,
// so that the RSS it reports is the engine's alone.
func (c *config) enginePhase(ctx context.Context, stderr io.Writer) (*engineResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dataDir, _ := filepath.Abs(c.dataDir)
	args := []string{"--phase", "engine", "--customers", fmt.Sprint(c.customers), "--seed", fmt.Sprint(c.seed),
		"--as-of", c.asOf.Format(time.RFC3339Nano), "--data-dir", dataDir, "--workdir", c.workdir,
		"--runs", fmt.Sprint(c.runs), "--events", fmt.Sprint(c.events)}
	if c.cpuprof != "" {
		p, _ := filepath.Abs(c.cpuprof)
		args = append(args, "--cpuprofile", p)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("engine phase: %w", err)
	}
	var res engineResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("engine phase: %w", err)
	}
	return &res, nil
}
