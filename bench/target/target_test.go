package target_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/bench/loadgen"
	"github.com/touchbase/touchbase/bench/target"
	"github.com/touchbase/touchbase/internal/pgcluster"
)

// binary is the touchbase binary built once for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bench-target-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "touchbase")
	if err := target.Build(context.Background(), "../..", binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestIngestAndVerify drives the real binary with the load generator for a
// moment and checks what the benchmark relies on: every acknowledged event
// is stored (stats minus merge events), the server's counter agrees, the
// process can be sampled, and SIGTERM stops it cleanly.
func TestIngestAndVerify(t *testing.T) {
	backends := []struct{ name, dsn string }{{"sqlite", ""}}
	if dsn := os.Getenv("TOUCHBASE_TEST_PG_DSN"); dsn != "" {
		backends = append(backends, struct{ name, dsn string }{"postgres", dsn})
	} else {
		t.Log("TOUCHBASE_TEST_PG_DSN is not set: SQLite only (run under scripts/with-postgres for both)")
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			opts := target.Options{Binary: binary, Dir: dir, RateLimit: 1 << 30}
			if be.dsn != "" {
				pg, err := pgcluster.Use(ctx, be.dsn)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("bench_target_%d", time.Now().UnixNano())
				if opts.DB, err = pg.CreateDatabase(ctx, name); err != nil {
					t.Fatal(err)
				}
				defer pg.DropDatabase(ctx, name)
			}
			srv, err := target.Start(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			stopped := false
			defer func() {
				if !stopped {
					srv.Stop(time.Minute)
				}
			}()

			// A small population forces identity merges (anonymous events
			// first, then identified ones carrying the same anonymousId).
			pool, err := loadgen.NewPool(loadgen.Workload{Users: 300, Bodies: 4, BatchSize: 100}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			r := loadgen.NewRunner(pool, loadgen.Target{URL: srv.URL, WriteKey: srv.WriteKey})
			defer r.Close()
			rep, err := r.Run(ctx, loadgen.Plan{Senders: 4, Events: 3000})
			if err != nil {
				t.Fatal(err)
			}
			if rep.EventsAcked < 3000 || rep.Statuses["200"] != rep.Requests || rep.Rejected != 0 || rep.Duplicates != 0 {
				t.Fatalf("acked %d events; statuses %v, rejected %d, duplicates %d; first errors %v",
					rep.EventsAcked, rep.Statuses, rep.Rejected, rep.Duplicates, rep.FirstErrors)
			}

			st, err := srv.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			merges, err := srv.CountEvents(ctx, "Customers Merged")
			if err != nil {
				t.Fatal(err)
			}
			if merges == 0 {
				t.Errorf("no merge events: the workload should link anonymous visitors to users")
			}
			if got := st.Events - merges; got != rep.EventsAcked {
				t.Errorf("stored %d events (%d minus %d merges), acknowledged %d", got, st.Events, merges, rep.EventsAcked)
			}
			if st.Customers == 0 || st.Customers > 600 || st.Orders == 0 {
				t.Errorf("stats %+v: want at most 2 profiles per visitor of 300, and some orders", st)
			}
			m, err := srv.Metrics(ctx, "touchbase_ingested_events_total", "touchbase_commit_batch_size_count")
			if err != nil {
				t.Fatal(err)
			}
			if int64(m["touchbase_ingested_events_total"]) != rep.EventsAcked || m["touchbase_commit_batch_size_count"] == 0 {
				t.Errorf("metrics %v; acked %d", m, rep.EventsAcked)
			}

			rss, err := target.RSS(srv.PID())
			if err != nil || rss < 1<<20 {
				t.Errorf("RSS %d, %v", rss, err)
			}
			cpu, err := target.CPUTime(srv.PID())
			if err != nil || cpu <= 0 {
				t.Errorf("server CPU time %v, %v", cpu, err)
			}
			stopped = true
			if err := srv.Stop(time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStartPostgres starts a durable throwaway cluster, as ingestbench
// --pg does without a DSN.
func TestStartPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	if _, err := pgcluster.Find(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	pg, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := pg.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if !strings.Contains(pg.Settings, "fsync=on") || pg.Version == "" || pg.PostmasterPID() == 0 {
		t.Errorf("cluster %q settings %q pid %d", pg.Version, pg.Settings, pg.PostmasterPID())
	}
	dsn, err := pg.CreateDatabase(ctx, "bench_one")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dsn, "/bench_one?") {
		t.Errorf("DSN %s does not name the database", dsn)
	}
	if n, err := pg.DatabaseSize(ctx, "bench_one"); err != nil || n <= 0 {
		t.Errorf("size %d, %v", n, err)
	}
	if cpu, err := target.TreeCPUTime(pg.PostmasterPID()); err != nil || cpu < 0 {
		t.Errorf("cluster CPU %v, %v", cpu, err)
	}
	if err := pg.DropDatabase(ctx, "bench_one"); err != nil {
		t.Fatal(err)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 12
touchbase_rejected_events_total{reason="invalid"} 3
go_memstats_heap_inuse_bytes 1.2345e+07
`
	m, err := target.ParseMetrics(strings.NewReader(text), "go_memstats_heap_inuse_bytes", `touchbase_rejected_events_total{reason="invalid"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["go_memstats_heap_inuse_bytes"] != 12345000 || m[`touchbase_rejected_events_total{reason="invalid"}`] != 3 {
		t.Errorf("parsed %v", m)
	}
}
