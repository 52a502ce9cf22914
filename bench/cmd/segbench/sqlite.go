package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/touchbase/touchbase/store"
)

// genVersion changes whenever the generator's output does, so that a
// cached store of an older generator is not used.
const genVersion = 1

// dataset describes a generated store.
type dataset struct {
	Version   int     `json:"version"`
	Seed      uint64  `json:"seed"`
	Customers int     `json:"customers"`
	Events    int64   `json:"events"`
	AsOf      string  `json:"as_of"`
	Workspace int64   `json:"workspace"`
	Path      string  `json:"path"`
	Seconds   float64 `json:"generate_seconds"`
	Bytes     int64   `json:"bytes"`
}

// batch is the generated customers of one transaction.
type batch struct {
	cs  []*genCustomer
	evs [][]genEvent
}

// generateStream generates customers 1..n into batches of size k on a
// goroutine, so that generation overlaps with writing.
func generateStream(ctx context.Context, g *generator, k int) <-chan batch {
	out := make(chan batch, 4)
	go func() {
		defer close(out)
		for lo := 1; lo <= g.customers; lo += k {
			var b batch
			for id := lo; id < lo+k && id <= g.customers; id++ {
				c, evs := g.customer(int64(id), nil)
				b.cs = append(b.cs, c)
				b.evs = append(b.evs, evs)
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// ensureSQLite returns the generated SQLite store in dir, generating it
// unless a complete one of the same generator, seed and size is there.
func ensureSQLite(ctx context.Context, dir string, g *generator, logf func(string, ...any)) (*dataset, error) {
	name := fmt.Sprintf("segbench-v%d-c%d-s%d", genVersion, g.customers, g.seed)
	path := filepath.Join(dir, name+".db")
	marker := filepath.Join(dir, name+".json")
	if b, err := os.ReadFile(marker); err == nil {
		var d dataset
		if json.Unmarshal(b, &d) == nil && d.Version == genVersion {
			// The marker names where the store was made; the cache may
			// have moved since (a --data-dir copied elsewhere).
			d.Path = path
			logf("using the cached store %s (%d customers, %d events)", path, d.Customers, d.Events)
			return &d, nil
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("generating %d customers into %s (once; cached for later runs)", g.customers, path)
	start := time.Now()
	s, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ws, err := s.CreateWorkspace(ctx, "segbench")
	if err != nil {
		return nil, err
	}
	d := &dataset{Version: genVersion, Seed: g.seed, Customers: g.customers, AsOf: time.UnixMilli(g.asOf).UTC().Format(time.RFC3339), Workspace: ws.ID, Path: path}
	db := s.DB() // the single writer connection
	// A throwaway bulk load: a crash means regenerating, so no fsync.
	if _, err := db.ExecContext(ctx, "PRAGMA synchronous=OFF"); err != nil {
		return nil, err
	}
	w := &sqliteWriter{ws: ws.ID}
	var seq int64
	for b := range generateStream(ctx, g, 2000) {
		if err := w.write(ctx, db, b, &seq); err != nil {
			return nil, err
		}
		if last := b.cs[len(b.cs)-1].ID; last%100000 == 0 {
			logf("  %d customers, %d events (%.0fs)", last, seq, time.Since(start).Seconds())
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return nil, err
	}
	d.Events, d.Seconds = seq, time.Since(start).Seconds()
	if fi, err := os.Stat(path); err == nil {
		d.Bytes = fi.Size()
	}
	raw, _ := json.MarshalIndent(d, "", "  ")
	if err := os.WriteFile(marker, raw, 0o644); err != nil {
		return nil, err
	}
	logf("generated %d customers and %d events in %.0fs (%.1f GB)", g.customers, seq, d.Seconds, float64(d.Bytes)/1e9)
	return d, nil
}

// rowsPerInsert is how many rows one multi-row INSERT writes.
const rowsPerInsert = 64

const (
	customerCols = "(id, workspace_id, user_id, email, traits, orders, revenue, first_order_at, last_order_at, first_seen_at, last_seen_at, events, created_at, updated_at)"
	eventCols    = "(id, workspace_id, customer_id, message_id, type, event, user_id, timestamp, received_at, properties)"
)

// sqliteWriter writes batches in one transaction each, with multi-row
// INSERTs: rows are in id order, so every index grows at its end.
type sqliteWriter struct {
	ws         int64
	cargs      []any
	eargs      []any
	ncust, nev int
}

func multiInsert(table, cols string, width, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return "INSERT INTO " + table + " " + cols + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

func (w *sqliteWriter) write(ctx context.Context, db *sql.DB, b batch, seq *int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	exec := func(table, cols string, width int, args []any) error {
		q := multiInsert(table, cols, width, len(args)/width)
		st, ok := stmts[q]
		if !ok {
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[q] = st
		}
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	flushEvents := func(force bool) error {
		for len(w.eargs) >= 10*rowsPerInsert || (force && len(w.eargs) > 0) {
			n := min(len(w.eargs), 10*rowsPerInsert)
			if err := exec("events", eventCols, 10, w.eargs[:n]); err != nil {
				return err
			}
			w.eargs = append(w.eargs[:0], w.eargs[n:]...)
		}
		return nil
	}
	for k, c := range b.cs {
		w.cargs = append(w.cargs, c.ID, w.ws, c.UserID, c.Email, c.traitsJSON, c.Orders, c.Revenue,
			nullMs(c.FirstOrderAt), nullMs(c.LastOrderAt), nullMs(c.FirstSeenAt), nullMs(c.LastSeenAt), c.Events, c.CreatedAt, c.CreatedAt)
		if len(w.cargs) == 14*rowsPerInsert || k == len(b.cs)-1 {
			if err := exec("customers", customerCols, 14, w.cargs); err != nil {
				return err
			}
			w.cargs = w.cargs[:0]
		}
		for i := range b.evs[k] {
			e := &b.evs[k][i]
			*seq++
			w.eargs = append(w.eargs, *seq, w.ws, c.ID, "sb-"+fmt.Sprint(*seq), "track", eventNames[e.Kind], c.UserID, e.TS, e.TS, e.props(c.ID))
			if err := flushEvents(false); err != nil {
				return err
			}
		}
	}
	if err := flushEvents(true); err != nil {
		return err
	}
	for _, st := range stmts {
		st.Close()
	}
	return tx.Commit()
}

func nullMs(ms int64) any {
	if ms == 0 {
		return nil
	}
	return ms
}
