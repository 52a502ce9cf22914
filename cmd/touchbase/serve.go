package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/touchbase/touchbase/analytics"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/importer"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/wal"
)

// shutdownTimeout bounds how long serve waits for requests in flight.
const shutdownTimeout = 30 * time.Second

func (a *app) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "serve",
		Annotations: map[string]string{annotServer: "yes"},
		Short:       "Run the server: ingestion (/v1), admin API (/api/v1), tracker, metrics",
		Long: `Run the server until SIGINT or SIGTERM, then shut down gracefully: stop
accepting requests, finish those in flight, commit what was accepted, close
the database.

On the first start (an empty database) it creates the default workspace and
its owner, and prints the owner's password once on stderr.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			return a.serve(cmd.Context())
		},
	}
	addServeFlags(cmd.Flags())
	return cmd
}

// addServeFlags adds the settings only serve uses (config shows them too).
func addServeFlags(f *pflag.FlagSet) {
	f.String("addr", "127.0.0.1:8080", "HOST:PORT to listen on; port 0 picks a free one (env TOUCHBASE_ADDR)")
	f.Int("rate-limit", 0, "default events/s per write key; 0 is the server's default (env TOUCHBASE_RATE_LIMIT)")
	f.String("owner-email", "owner@localhost", "email of the owner created on first start (env TOUCHBASE_OWNER_EMAIL)")
	f.String("segment-interval", "1m", "how often segments that depend on the clock are re-evaluated (env TOUCHBASE_SEGMENT_INTERVAL)")
	f.String("analytics-interval", "24h", "how often the analyses are recomputed; 0 for on demand only (env TOUCHBASE_ANALYTICS_INTERVAL)")
	f.String("ingest-log", "auto", "acknowledge events from the ingestion log: on, off, auto (on for SQLite) (env TOUCHBASE_INGEST_LOG)")
	addImportMaxBytesFlag(f)
}

// addImportMaxBytesFlag adds --import-max-bytes, which serve and import
// both take.
func addImportMaxBytesFlag(f *pflag.FlagSet) {
	f.String("import-max-bytes", "64GiB", "the most one import's file may hold once decompressed (env TOUCHBASE_IMPORT_MAX_BYTES)")
}

// serve runs the server until ctx ends.
func (a *app) serve(ctx context.Context) (err error) {
	log := a.log
	st, err := a.openServingStore(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
		if err == nil { // an error is run's to report, once
			log.Info("stopped")
		}
	}()
	boot, err := st.Bootstrap(ctx, a.cfg.OwnerEmail)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return a.serveStore(ctx, st, func(base string) {
		if boot.Created {
			a.printBanner(boot, base)
		}
	})
}

// serveStore serves st until ctx ends; announce runs once the server
// listens, with its base URL.
func (a *app) serveStore(ctx context.Context, st *store.Store, announce func(base string)) (err error) {
	log := a.log
	// The writer reports commits to the server's metrics; srv is set
	// before the writer opens, so before any commit.
	var srv *server.Server
	features := newRegistry()
	eng := engine.New(st, features, engine.Config{Every: a.cfg.SegmentInterval, Logger: log})
	var ilog *wal.Log
	if a.cfg.useIngestLog(st.Dialect()) {
		// Opened before the engine and the server, closed after the
		// writer: what an earlier run logged is applied first.
		if ilog, err = wal.Open(a.ingestLogDir(), 0); err != nil {
			return err
		}
		defer ilog.Close()
	} else if err := a.applyIngestLog(ctx, st); err != nil {
		// The log was on in an earlier run: apply what it left first.
		return err
	}
	w := wal.NewWriter(st, wal.WriterConfig{
		Log:    ilog,
		Logger: log,
		// Metrics only: who needs to know that events were committed
		// follows the store's change feed.
		OnCommit: func(cs wal.CommitStats) { srv.ObserveCommit(cs) },
	})
	runner := importer.NewRunner(st, filepath.Join(a.cfg.Data, "imports"), log)
	runner.MaxBytes = a.cfg.ImportMaxBytes
	analyst := analytics.New(st, features, analytics.Config{Every: a.cfg.AnalyticsInterval, Logger: log})
	srv = server.New(server.Config{
		Addr:      a.cfg.Addr,
		RateLimit: a.cfg.RateLimit,
		Logger:    log,
		Version:   version,
	}, server.Services{
		Workspaces:  st,
		Users:       st,
		Invitations: st,
		Keys:        st,
		Customers:   st,
		Events:      st,
		Orders:      st,
		Stats:       st,
		Imports:     st,
		IngestQueue: w,
		Sessions:    st,
		Reports:     st,
		Importer:    runner,
		Segments:    st,
		Engine:      eng,
		Features:    features,
		Analyses:    st,
		Analyst:     analyst,
	})
	// The engine loads in the background, records what changed while
	// touchbase was stopped, then follows the events table.
	if err := eng.Open(ctx, segmentWorkspaces(ctx, st, log)); err != nil {
		return fmt.Errorf("open segment engine: %w", err)
	}
	defer eng.Close()
	if err := w.Open(ctx); err != nil {
		return fmt.Errorf("open ingest writer: %w", err)
	}
	defer func() {
		// After the server: requests in flight have had their writes
		// queued, and Close commits them.
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("flush ingest writer: %w", cerr)
		}
	}()
	if err := runner.Open(ctx); err != nil {
		return fmt.Errorf("open import runner: %w", err)
	}
	defer runner.Close() // before the store closes; an import it was running resumes at the next start
	if err := analyst.Open(ctx); err != nil {
		return fmt.Errorf("open analytics: %w", err)
	}
	defer analyst.Close() // a run cut short is recorded as such; the next start runs it again
	if err := srv.Open(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if cerr := srv.Close(sctx); cerr != nil && err == nil {
			err = cerr
		}
	}()

	addr := srv.Addr()
	base := baseURL(addr)
	announce(base)
	log.Info("touchbase serving", "url", base, "db", st.Dialect(), "data", a.cfg.Data, "version", version)
	if a.json {
		// One compact line: a script reads it while the server runs.
		err := json.NewEncoder(a.stdout).Encode(map[string]string{"addr": addr, "url": base, "version": version})
		if err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
	} else {
		fmt.Fprintf(a.stdout, "touchbase listening on %s\n", base)
	}

	<-ctx.Done()
	log.Info("shutting down: server, then ingest writer, then database")
	return nil
}

// baseURL is the http:// URL of a listening address, with a wildcard host
// replaced by localhost so that it can be opened.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// segmentWorkspaces lists the workspaces that have segments, which the
// engine loads at start; the others load when first asked.
func segmentWorkspaces(ctx context.Context, st *store.Store, log *slog.Logger) []int64 {
	all, err := st.ListAllSegments(ctx)
	if err != nil {
		log.Error("segments: cannot list them; they load when first used", "err", err)
		return nil
	}
	var out []int64
	for _, seg := range all {
		if len(out) == 0 || out[len(out)-1] != seg.WorkspaceID {
			out = append(out, seg.WorkspaceID)
		}
	}
	return out
}
