// Command ingestbench measures durable ingestion of the real touchbase
// binary over HTTP: it builds (or takes) the binary, starts `touchbase
// serve` on a fresh SQLite file or PostgreSQL database, creates a write key
// with `touchbase key create`, and sends /v1/batch bodies of analytics-go
// track and page events (see package loadgen) from this process.
//
// Modes:
//
//	throughput  --senders C for --duration D, each sending its next batch as
//	            soon as the last is acknowledged: events/s per second
//	            (median, min, max), overall events/s, latency percentiles
//	rate        a fixed offered load (--rate events/s, open loop: slow
//	            answers do not slow the schedule) for --duration: achieved
//	            rate and latency measured from each request's scheduled time
//	soak        --events N at --rate (or, with --rate 0, as fast as --senders
//	            get them acknowledged), sampling the server's RSS every
//	            --sample: memory over time and its trend
//
// After every run it checks through the admin API (/api/v1/stats) that the
// stored event count equals the acknowledged count, then stops the server
// with SIGTERM. --runs repeats the whole run (fresh server and database)
// and reports the median and range. --json writes a machine-readable
// summary; the table goes to stdout.
//
//	cd bench && go run ./cmd/ingestbench --mode throughput --runs 3
//	cd bench && go run ./cmd/ingestbench --mode rate --rate 10000 --pg
//	cd bench && go run ./cmd/ingestbench --mode soak --events 10000000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/touchbase/touchbase/bench/loadgen"
	"github.com/touchbase/touchbase/bench/target"
	"github.com/touchbase/touchbase/internal/pgcluster"
)

// config is the command line.
type config struct {
	mode      string
	pg        bool
	pgDSN     string
	pgNoSync  bool
	binary    string
	repo      string
	rev       string
	senders   int
	duration  time.Duration
	rate      float64
	events    int64
	runs      int
	sample    time.Duration
	rateLimit int
	workdir   string
	keep      bool
	jsonOut   string
	cpuprof   string
	memprof   string
	profFlags string
	waitIdle  float64
	workload  loadgen.Workload
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("ingestbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.mode, "mode", "throughput", "throughput, rate or soak")
	fs.BoolVar(&c.pg, "pg", false, "use PostgreSQL: a database in the server of --pg-dsn, or in a throwaway cluster this command starts")
	fs.StringVar(&c.pgDSN, "pg-dsn", os.Getenv("TOUCHBASE_TEST_PG_DSN"), "PostgreSQL server to create the benchmark database in (default $TOUCHBASE_TEST_PG_DSN; empty: start a cluster)")
	fs.BoolVar(&c.pgNoSync, "pg-nosync", false, "start the cluster with fsync, synchronous_commit and full_page_writes off (as scripts/with-postgres does); default durable")
	fs.StringVar(&c.binary, "binary", "", "touchbase binary to run (default: build it from --repo)")
	fs.StringVar(&c.repo, "repo", "..", "touchbase repository to build the binary from")
	fs.StringVar(&c.rev, "rev", "", "build this commit (git archive) instead of the working tree, e.g. HEAD")
	fs.IntVar(&c.senders, "senders", 8, "concurrent senders (throughput, and soak with --rate 0)")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "length of a throughput or rate run")
	fs.Float64Var(&c.rate, "rate", -1, "offered events/s (rate mode default 10000; soak default 0: as fast as acknowledged)")
	fs.Int64Var(&c.events, "events", 10000000, "events to send in soak mode")
	fs.IntVar(&c.runs, "runs", 1, "repeat the run this many times, each on a fresh server and database")
	fs.DurationVar(&c.sample, "sample", 5*time.Second, "interval between samples of the server's memory")
	fs.IntVar(&c.rateLimit, "rate-limit", 1000000000, "serve --rate-limit: the per-write-key limit (default 50,000/s) is lifted to measure the server, not the limiter")
	fs.StringVar(&c.workdir, "workdir", "", "where data directories go (default a new temporary directory)")
	fs.BoolVar(&c.keep, "keep", false, "keep the data directories and databases")
	fs.StringVar(&c.jsonOut, "json", "", "write the JSON summary to this file (- for stdout; the table then goes to stderr)")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "serve with bench's profserve and write the server's CPU profile here (run N>1 adds .N)")
	fs.StringVar(&c.memprof, "memprofile", "", "with profserve, write the server's heap profile at the end here")
	fs.StringVar(&c.profFlags, "profserve-flags", "", "extra flags for profserve, space-separated (experiments such as --sqlite-pragma temp_store=memory)")
	fs.Float64Var(&c.waitIdle, "wait-idle", 0, "before each run, wait (up to 15 minutes) until the machine's other work uses under this many cores (0: do not wait)")
	fs.IntVar(&c.workload.Users, "users", 100000, "population of visitors")
	fs.IntVar(&c.workload.BatchSize, "batch", 250, "events per /v1/batch request")
	fs.IntVar(&c.workload.Bodies, "bodies", 64, "distinct batch templates generated before the run")
	fs.Uint64Var(&c.workload.Seed, "seed", 1, "seed of the generated templates")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	switch c.mode {
	case "throughput":
		if c.rate > 0 {
			return nil, errors.New("--rate is for the rate and soak modes; throughput sends as fast as acknowledged")
		}
		c.rate = 0
	case "rate":
		if c.rate < 0 {
			c.rate = 10000
		}
		if c.rate == 0 {
			return nil, errors.New("rate mode needs --rate > 0")
		}
	case "soak":
		if c.rate < 0 {
			c.rate = 0
		}
		if c.events <= 0 {
			return nil, errors.New("soak mode needs --events > 0")
		}
	default:
		return nil, fmt.Errorf("--mode %q: want throughput, rate or soak", c.mode)
	}
	if c.runs < 1 || c.senders < 1 || c.duration <= 0 || c.sample <= 0 {
		return nil, errors.New("--runs, --senders, --duration and --sample must be positive")
	}
	if c.binary != "" && c.rev != "" {
		return nil, errors.New("--binary and --rev are alternatives")
	}
	if (c.memprof != "" || c.profFlags != "") && c.cpuprof == "" {
		return nil, errors.New("--memprofile and --profserve-flags need --cpuprofile (they are profserve's)")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	table := stdout
	if c.jsonOut == "-" {
		table = stderr
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	work := c.workdir
	if work == "" {
		if work, err = os.MkdirTemp("", "touchbase-ingestbench-"); err != nil {
			return err
		}
		if !c.keep {
			defer os.RemoveAll(work)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	work, _ = filepath.Abs(work)

	// The source to build: the working tree (repo, bench/ beside it), or
	// a commit exported to a temporary directory.
	repo, benchDir := c.repo, "."
	source := "working tree " + target.Describe(ctx, c.repo, "")
	if c.rev != "" {
		source = "commit " + target.Describe(ctx, c.repo, c.rev)
		dir, remove, err := target.ExportRev(ctx, c.repo, c.rev)
		if err != nil {
			return err
		}
		defer remove()
		repo, benchDir = dir, filepath.Join(dir, "bench")
	}
	binary, profSource := c.binary, source
	if binary != "" {
		source = binary
	} else {
		binary = filepath.Join(work, "touchbase")
		logf("building touchbase from the %s", source)
		if err := target.Build(ctx, repo, binary); err != nil {
			return err
		}
	}
	var serve []string
	if c.cpuprof != "" {
		prof := filepath.Join(work, "profserve")
		logf("building profserve (serve with a CPU profile) from the %s", profSource)
		if err := target.BuildIn(ctx, benchDir, prof, "./cmd/profserve"); err != nil {
			return fmt.Errorf("%w (run ingestbench from bench/; with --rev, the commit must have bench/cmd/profserve)", err)
		}
		serve = append([]string{prof}, strings.Fields(c.profFlags)...)
	}

	var pg *pgcluster.Cluster
	if c.pg {
		if c.pgDSN != "" {
			if pg, err = pgcluster.Use(ctx, c.pgDSN); err != nil {
				return err
			}
		} else {
			logf("starting a throwaway PostgreSQL cluster")
			if pg, err = pgcluster.Start(ctx, pgcluster.Options{NoSync: c.pgNoSync}); err != nil {
				return err
			}
			defer func() {
				if err := pg.Stop(); err != nil {
					logf("stop PostgreSQL: %v", err)
				}
			}()
		}
	}

	logf("generating %d batch templates of %d events", c.workload.Bodies, c.workload.BatchSize)
	sum := &summary{Mode: c.mode, Machine: machine(), Config: c.describe(pg), Started: time.Now().UTC(), Binary: source}
	for i := 1; i <= c.runs; i++ {
		if ctx.Err() != nil {
			break
		}
		pool, err := loadgen.NewPool(c.workload, time.Now())
		if err != nil {
			return err
		}
		sum.Config.AvgBodyBytes = pool.AvgBodyBytes()
		busyBefore := -1.0
		if c.waitIdle > 0 {
			busyBefore = waitIdle(ctx, c.waitIdle, 15*time.Minute)
			logf("machine busy %.2f cores before run %d (--wait-idle %.2f)", busyBefore, i, c.waitIdle)
		}
		logf("run %d/%d: %s", i, c.runs, sum.Config.Line)
		res, err := c.runOnce(ctx, i, pool, binary, serve, work, pg, logf)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		res.BusyBefore = busyBefore
		sum.Runs = append(sum.Runs, res)
		printRun(table, c.mode, res)
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
	for _, r := range sum.Runs {
		if !r.Verify.OK {
			return fmt.Errorf("run %d: stored events do not match acknowledged ones: %s", r.Run, r.Verify.Detail)
		}
	}
	return nil
}

// runOnce runs one benchmark on a fresh server and database.
func (c *config) runOnce(ctx context.Context, n int, pool *loadgen.Pool, binary string, serve []string, work string,
	pg *pgcluster.Cluster, logf func(string, ...any)) (*runResult, error) {
	dir := filepath.Join(work, fmt.Sprintf("run-%d", n))
	opts := target.Options{Binary: binary, Dir: dir, RateLimit: c.rateLimit}
	dbName := ""
	if pg != nil {
		dbName = fmt.Sprintf("tbbench_%d_%d_%d", os.Getpid(), time.Now().Unix(), n)
		dsn, err := pg.CreateDatabase(ctx, dbName)
		if err != nil {
			return nil, err
		}
		opts.DB = dsn
		if !c.keep {
			defer func() {
				if err := pg.DropDatabase(context.WithoutCancel(ctx), dbName); err != nil {
					logf("%v", err)
				}
			}()
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	opts.Stderr = logFile
	if len(serve) > 0 {
		prof := c.cpuprof
		if c.runs > 1 {
			prof = fmt.Sprintf("%s.%d", prof, n)
		}
		prof, _ = filepath.Abs(prof)
		opts.Serve = append(serve[:len(serve):len(serve)], "--cpuprofile", prof)
		if c.memprof != "" {
			mem := c.memprof
			if c.runs > 1 {
				mem = fmt.Sprintf("%s.%d", mem, n)
			}
			mem, _ = filepath.Abs(mem)
			opts.Serve = append(opts.Serve, "--memprofile", mem)
		}
	}
	srv, err := target.Start(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (server log: %s)", err, logFile.Name())
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.Stop(time.Minute)
		}
		if !c.keep && pg == nil {
			os.RemoveAll(filepath.Join(dir, "touchbase.db"))
			os.Remove(filepath.Join(dir, "touchbase.db-wal"))
			os.Remove(filepath.Join(dir, "touchbase.db-shm"))
		}
	}()

	res := &runResult{Run: n, LoadAvgBefore: target.LoadAvg()}
	runner := loadgen.NewRunner(pool, loadgen.Target{URL: srv.URL, WriteKey: srv.WriteKey})
	defer runner.Close()
	plan := loadgen.Plan{Senders: c.senders, Rate: c.rate}
	switch c.mode {
	case "throughput", "rate":
		plan.Duration = c.duration
	case "soak":
		plan.Events = c.events
	}

	pgPID := 0
	if pg != nil {
		pgPID = pg.PostmasterPID()
	}
	cpu0 := snapshotCPU(srv.PID(), pgPID)
	samples := make(chan []memSample, 1)
	sctx, stopSampling := context.WithCancel(ctx)
	go func() {
		samples <- sampleMemory(sctx, c.sample, srv, runner, func() int64 {
			if pg != nil {
				return 0
			}
			return target.DirSize(dir)
		}, c.mode == "soak", logf)
	}()
	rep, err := runner.Run(ctx, plan)
	cpu1 := snapshotCPU(srv.PID(), pgPID)
	stopSampling()
	res.Memory = summariseMemory(<-samples)
	if err != nil {
		return nil, err
	}
	res.Report = rep
	res.CPU = cpuUse(cpu0, cpu1)
	res.LoadAvgAfter = target.LoadAvg()
	res.Commits = commitsOf(srv, ctx, "store", rep.Elapsed)
	res.LogCommits = commitsOf(srv, ctx, "log", rep.Elapsed)

	// With the ingestion log, the store trails the acknowledgements: how
	// far it got during the run, and how long it takes to catch up.
	if m, err := srv.Metrics(ctx, "touchbase_ingested_events_total", "touchbase_ingest_backlog_requests"); err == nil {
		res.AppliedAtEnd = int64(m["touchbase_ingested_events_total"])
		t0 := time.Now()
		for backlog := m["touchbase_ingest_backlog_requests"]; backlog > 0 && time.Since(t0) < 60*time.Minute; {
			time.Sleep(250 * time.Millisecond)
			m, err := srv.Metrics(ctx, "touchbase_ingest_backlog_requests")
			if err != nil {
				return nil, err
			}
			backlog = m["touchbase_ingest_backlog_requests"]
		}
		res.CatchUpSeconds = time.Since(t0).Seconds()
	}

	// Everything acknowledged must be stored, once.
	st, err := srv.Stats(ctx)
	if err != nil {
		return nil, err
	}
	// The server adds one "Customers Merged" event per identity merge.
	merges, err := srv.CountEvents(ctx, "Customers Merged")
	if err != nil {
		return nil, err
	}
	res.Verify = verify(rep, st.Events-merges)
	res.Verify.Merges, res.Verify.Customers, res.Verify.Orders = merges, st.Customers, st.Orders
	if m, err := srv.Metrics(ctx, "touchbase_ingested_events_total"); err == nil {
		res.Verify.ServerCounter = int64(m["touchbase_ingested_events_total"])
	}

	stopped = true
	t0 := time.Now()
	if err := srv.Stop(2 * time.Minute); err != nil {
		return nil, err
	}
	res.ShutdownSeconds = time.Since(t0).Seconds()
	if pg != nil {
		res.DBBytes, _ = pg.DatabaseSize(ctx, dbName)
	} else {
		res.DBBytes = target.DirSize(dir)
	}
	return res, nil
}

// commitsOf reads the server's commit metrics of one stage (log or
// store).
func commitsOf(srv *target.Server, ctx context.Context, stage string, elapsed float64) commitStats {
	l := `{stage="` + stage + `"}`
	m, err := srv.Metrics(ctx, "touchbase_commit_batch_size_sum"+l, "touchbase_commit_batch_size_count"+l,
		"touchbase_commit_duration_seconds_sum"+l, "touchbase_commit_duration_seconds_count"+l)
	cnt := m["touchbase_commit_batch_size_count"+l]
	if err != nil || cnt == 0 {
		return commitStats{}
	}
	return commitStats{
		Count:         int64(cnt),
		AvgMessages:   m["touchbase_commit_batch_size_sum"+l] / cnt,
		AvgMillis:     m["touchbase_commit_duration_seconds_sum"+l] / m["touchbase_commit_duration_seconds_count"+l] * 1000,
		CommitsPerSec: cnt / elapsed,
	}
}

// verify compares the stored event count with what the run acknowledged.
// Events whose request failed in transport may or may not be stored.
func verify(rep *loadgen.Report, stored int64) verification {
	v := verification{Stored: stored, Acked: rep.EventsAcked - rep.Duplicates, Unknown: rep.Unknown}
	switch {
	case rep.Duplicates != 0:
		v.Detail = fmt.Sprintf("the server reported %d duplicates, but every messageId sent was new", rep.Duplicates)
	case stored == v.Acked && v.Unknown == 0:
		v.OK = true
		v.Detail = "stored = acknowledged"
	case stored >= v.Acked && stored <= v.Acked+v.Unknown:
		v.OK = true
		v.Detail = fmt.Sprintf("stored %d is within acknowledged %d + %d in requests with no answer", stored, v.Acked, v.Unknown)
	case stored < v.Acked:
		v.Detail = fmt.Sprintf("LOST: stored %d < acknowledged %d", stored, v.Acked)
	default:
		v.Detail = fmt.Sprintf("stored %d > acknowledged %d + unanswered %d", stored, v.Acked, v.Unknown)
	}
	return v
}

// describe is the run configuration for the report.
func (c *config) describe(pg *pgcluster.Cluster) runConfig {
	w := c.workload
	rc := runConfig{
		Database: "sqlite", Senders: c.senders, Rate: c.rate, Duration: c.duration.Seconds(), Events: c.events,
		Users: w.Users, BatchSize: w.BatchSize, Bodies: w.Bodies, Runs: c.runs, RateLimit: c.rateLimit,
		Mix: loadgen.Mix,
	}
	if pg != nil {
		rc.Database = "postgres"
		rc.PostgresVersion = pg.Version
		rc.PostgresSettings = pg.Settings
	}
	var parts []string
	parts = append(parts, c.mode, rc.Database)
	switch c.mode {
	case "throughput":
		parts = append(parts, fmt.Sprintf("%d senders for %s", c.senders, c.duration))
	case "rate":
		parts = append(parts, fmt.Sprintf("%.0f events/s offered for %s", c.rate, c.duration))
	case "soak":
		if c.rate > 0 {
			parts = append(parts, fmt.Sprintf("%d events at %.0f/s", c.events, c.rate))
		} else {
			parts = append(parts, fmt.Sprintf("%d events, %d senders at full speed", c.events, c.senders))
		}
	}
	parts = append(parts, fmt.Sprintf("batches of %d, %d users", w.BatchSize, w.Users))
	rc.Line = strings.Join(parts, ", ")
	return rc
}

// machine describes where the benchmark ran.
func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvg: target.LoadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
		m.MemoryGB = float64(kb) / (1 << 20)
	}
	return m
}

// waitIdle waits until the machine's CPUs are busy less than cores over a
// 3-second window, or limit passes, and returns the last figure.
func waitIdle(ctx context.Context, cores float64, limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	for {
		b0, _, err := target.MachineCPU()
		if err != nil {
			return -1
		}
		select {
		case <-ctx.Done():
			return -1
		case <-time.After(3 * time.Second):
		}
		b1, _, _ := target.MachineCPU()
		busy := (b1 - b0).Seconds() / 3
		if busy < cores || time.Now().After(deadline) {
			return busy
		}
	}
}
