package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/touchbase/touchbase/internal/pgcluster"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
)

// runPostgres loads the generated store into a fresh PostgreSQL database
// with touchbase's own schema (store.Open migrates it), COPY, one more
// index and ANALYZE, then runs the suite as segment.CompileSQL compiles it.
func runPostgres(ctx context.Context, c *config, d *dataset, g *generator, logf func(string, ...any)) (*sqlResult, error) {
	var pg *pgcluster.Cluster
	var err error
	if c.pgDSN != "" {
		pg, err = pgcluster.Use(ctx, c.pgDSN)
	} else {
		logf("postgres: starting a throwaway cluster")
		// fsync off: the load is throwaway, and queries do not write.
		pg, err = pgcluster.Start(ctx, pgcluster.Options{NoSync: true})
		if err == nil {
			defer pg.Stop()
		}
	}
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("segbench_%d", time.Now().UnixNano())
	dsn, err := pg.CreateDatabase(ctx, name)
	if err != nil {
		return nil, err
	}
	defer pg.DropDatabase(context.WithoutCancel(ctx), name)
	st, err := store.Open(ctx, dsn) // touchbase's schema and indexes
	if err != nil {
		return nil, err
	}
	ws, err := st.CreateWorkspace(ctx, "segbench")
	st.Close()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res := &sqlResult{System: "postgres", Version: pg.Version, Notes: pg.Settings}

	start := time.Now()
	if err := copyPostgres(ctx, conn, g, ws.ID, logf); err != nil {
		return nil, err
	}
	// The compiled aggregates are correlated subqueries by customer and
	// event name: this index answers each from its leaf pages.
	for _, q := range []string{
		"CREATE INDEX segbench_events_customer_event ON events (workspace_id, customer_id, event, timestamp)",
		"ANALYZE",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	res.LoadSeconds = time.Since(start).Seconds()
	logf("postgres: loaded in %.0fs", res.LoadSeconds)

	var zones []string
	rows, err := conn.Query(ctx, "SELECT DISTINCT traits->>'timezone' FROM customers WHERE jsonb_typeof(traits->'timezone') = 'string'")
	if err != nil {
		return nil, err
	}
	zones, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	nodes, err := parseSuite()
	if err != nil {
		return nil, err
	}
	for run := 0; run < c.pgRuns; run++ {
		per := make([]float64, len(nodes))
		var total float64
		for i, n := range nodes {
			q, args, err := segment.CompileSQL(n, segment.SQLOptions{Dialect: segment.Postgres, WorkspaceID: ws.ID, AsOf: c.asOf, TimeZones: zones})
			if err != nil {
				return nil, err
			}
			t0 := time.Now()
			rows, err := conn.Query(ctx, q, args...)
			if err != nil {
				return nil, fmt.Errorf("segment %s: %w", suite[i].Name, err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return nil, fmt.Errorf("segment %s: %w", suite[i].Name, err)
			}
			per[i] = float64(time.Since(t0).Microseconds()) / 1e3
			total += per[i]
			logf("postgres: run %d: %s: %d members in %s", run+1, suite[i].Name, len(ids), fmtMs(per[i]))
			if run == 0 {
				res.Counts = append(res.Counts, len(ids))
				res.Compiled = append(res.Compiled, true)
				if err := writeMembers(c.workdir, res.System, suite[i].Name, ids); err != nil {
					return nil, err
				}
			}
		}
		res.SuiteMillis = append(res.SuiteMillis, total)
		res.SegmentMillis = append(res.SegmentMillis, per)
		logf("postgres: run %d: whole suite %s", run+1, fmtMs(total))
	}
	return res, nil
}

// copyPostgres COPYs the generated customers, then their events.
func copyPostgres(ctx context.Context, conn *pgx.Conn, g *generator, ws int64, logf func(string, ...any)) error {
	ccols := strings.Split("id workspace_id user_id email traits orders revenue first_order_at last_order_at first_seen_at last_seen_at events created_at updated_at", " ")
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"customers"}, ccols, &pgCustomers{g: g, ws: ws})
	if err != nil {
		return fmt.Errorf("copy customers: %w", err)
	}
	logf("postgres: %d customers copied", n)
	ecols := strings.Split("id workspace_id customer_id message_id type event user_id timestamp received_at properties", " ")
	n, err = conn.CopyFrom(ctx, pgx.Identifier{"events"}, ecols, &pgEvents{g: g, ws: ws})
	if err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	logf("postgres: %d events copied", n)
	return nil
}

// pgCustomers is the generated customers as a pgx.CopyFromSource.
type pgCustomers struct {
	g  *generator
	ws int64
	id int64
	c  *genCustomer
}

func (s *pgCustomers) Next() bool {
	if s.id >= int64(s.g.customers) {
		return false
	}
	s.id++
	s.c, _ = s.g.customer(s.id, nil)
	return true
}

func (s *pgCustomers) Values() ([]any, error) {
	c := s.c
	return []any{c.ID, s.ws, c.UserID, c.Email, json.RawMessage(c.traitsJSON), c.Orders, c.Revenue, nullMs(c.FirstOrderAt), nullMs(c.LastOrderAt),
		nullMs(c.FirstSeenAt), nullMs(c.LastSeenAt), c.Events, c.CreatedAt, c.CreatedAt}, nil
}

func (s *pgCustomers) Err() error { return nil }

// pgEvents is the generated events, in the SQLite store's id order.
type pgEvents struct {
	g    *generator
	ws   int64
	id   int64 // customer
	c    *genCustomer
	evs  []genEvent
	k    int
	seq  int64
	buf  []genEvent
	done bool
}

func (s *pgEvents) Next() bool {
	for s.k >= len(s.evs) {
		if s.id >= int64(s.g.customers) {
			return false
		}
		s.id++
		s.c, s.evs = s.g.customer(s.id, s.buf)
		s.buf = s.evs
		s.k = 0
	}
	s.k++
	s.seq++
	return true
}

func (s *pgEvents) Values() ([]any, error) {
	e := &s.evs[s.k-1]
	return []any{s.seq, s.ws, s.c.ID, fmt.Sprint("sb-", s.seq), "track", eventNames[e.Kind], s.c.UserID, e.TS, e.TS, json.RawMessage(e.props(s.c.ID))}, nil
}

func (s *pgEvents) Err() error { return nil }
