// Command profserve is `touchbase serve` with a CPU profile: the same
// store, group-commit writer and server, wired as cmd/touchbase/serve.go
// wires them, writing a pprof CPU profile (and optionally a heap profile)
// when it stops on SIGINT or SIGTERM. The server has no pprof endpoint;
// ingestbench --cpuprofile runs this in its place so that the profile holds
// the server's CPU alone, not the load generator's.
//
//	profserve --data DIR [--db DSN] --addr 127.0.0.1:0 --json --rate-limit N --cpuprofile FILE
//
// Keep the wiring in step with cmd/touchbase/serve.go.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/wal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	data := flag.String("data", "./touchbase-data", "data directory")
	db := flag.String("db", "", "database DSN (default DATA/touchbase.db)")
	addr := flag.String("addr", "127.0.0.1:8080", "HOST:PORT to listen on")
	rate := flag.Int("rate-limit", 0, "default events/s per write key")
	flag.Bool("json", true, "print the {\"addr\",\"url\"} line (always on; accepted for serve's command line)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here when stopped")
	memprofile := flag.String("memprofile", "", "write a heap profile here when stopped")
	ingestLog := flag.String("ingest-log", "auto", "acknowledge from the ingestion log: on, off, auto (on for SQLite), as serve")
	var pragmas pragmaList
	flag.Var(&pragmas, "sqlite-pragma", "an experiment: run PRAGMA `NAME=VALUE` on the SQLite writer connection after opening (repeatable)")
	flag.Parse()
	if *db == "" {
		*db = filepath.Join(*data, "touchbase.db")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	st, err := store.Open(ctx, *db)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	for _, p := range pragmas {
		// The writer is one connection that is never closed, so a pragma
		// set now holds for every commit.
		if st.Dialect() != "sqlite" {
			return fmt.Errorf("--sqlite-pragma %s: the database is %s", p, st.Dialect())
		}
		if _, err := st.DB().ExecContext(ctx, "PRAGMA "+p); err != nil {
			return fmt.Errorf("PRAGMA %s: %w", p, err)
		}
		log.Info("experiment: pragma set on the writer connection", "pragma", p)
	}
	if _, err := st.Bootstrap(ctx, "owner@localhost"); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}

	var ilog *wal.Log
	if *ingestLog == "on" || (*ingestLog == "auto" && st.Dialect() == "sqlite") {
		if ilog, err = wal.Open(filepath.Join(*data, "ingest-log"), 0); err != nil {
			return err
		}
		defer ilog.Close()
	}
	var srv *server.Server
	w := wal.NewWriter(st, wal.WriterConfig{
		Log:      ilog,
		Logger:   log,
		OnCommit: func(cs wal.CommitStats) { srv.ObserveCommit(cs) },
	})
	srv = server.New(server.Config{Addr: *addr, RateLimit: *rate, Logger: log, Version: "profserve"}, server.Services{
		Workspaces: st, Users: st, Keys: st, Customers: st, Events: st, Orders: st, Stats: st, Imports: st, IngestQueue: w,
	})
	if err := w.Open(ctx); err != nil {
		return err
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	if err := srv.Open(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if cerr := srv.Close(sctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	a := srv.Addr()
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"addr": a, "url": "http://" + a, "version": "profserve"}); err != nil {
		return err
	}
	log.Info("profserve serving", "url", "http://"+a, "db", st.Dialect())
	<-ctx.Done()
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// pragmaList collects repeated --sqlite-pragma flags.
type pragmaList []string

func (p *pragmaList) String() string { return strings.Join(*p, ",") }

func (p *pragmaList) Set(v string) error {
	if strings.ContainsAny(v, ";") {
		return fmt.Errorf("one pragma per flag, without ';'")
	}
	*p = append(*p, v)
	return nil
}
