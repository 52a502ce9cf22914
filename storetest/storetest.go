// Package storetest runs store tests on every backend: a fresh SQLite file
// and, when TOUCHBASE_TEST_PG_DSN names a PostgreSQL server, a fresh
// PostgreSQL database. Run is the conformance suite of the store's read and
// admin side; the seed helpers insert rows with plain SQL so that tests do
// not depend on the ingestion path.
//
// TOUCHBASE_TEST_PG_DSN is an admin connection (one that may create
// databases) to a throwaway cluster; scripts/with-postgres starts one and
// sets it. TOUCHBASE_REQUIRE_PG=1 turns a missing DSN into a failure.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase/store"
)

// Backend is one database the store runs on.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// Open returns a fresh, migrated, empty store that is closed (and its
	// database dropped) when the test ends.
	Open func(t testing.TB) *store.Store
}

// Backends returns SQLite, and PostgreSQL when TOUCHBASE_TEST_PG_DSN is set.
// Without it, it says loudly that PostgreSQL is skipped, or fails the test
// when TOUCHBASE_REQUIRE_PG=1.
func Backends(t testing.TB) []Backend {
	t.Helper()
	bs := []Backend{{Name: "sqlite", Open: OpenSQLite}}
	if os.Getenv("TOUCHBASE_TEST_PG_DSN") != "" {
		return append(bs, Backend{Name: "postgres", Open: OpenPostgres})
	}
	if os.Getenv("TOUCHBASE_REQUIRE_PG") == "1" {
		t.Fatal("storetest: TOUCHBASE_REQUIRE_PG=1 but TOUCHBASE_TEST_PG_DSN is not set: run the tests through scripts/with-postgres (make test)")
	}
	t.Log("storetest: WARNING: TOUCHBASE_TEST_PG_DSN is not set: POSTGRESQL IS SKIPPED, testing SQLite only (use make test or scripts/with-postgres)")
	return bs
}

// Each runs fn as a subtest named after each backend, on a fresh store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open(t)) })
	}
}

// OpenSQLite returns a fresh, migrated SQLite store in a temporary directory.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "touchbase.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sqlite store: %v", err)
		}
	})
	return s
}

// OpenPostgres returns a store on a fresh, migrated PostgreSQL database,
// created from a template that is migrated once per test binary, and
// dropped when the test ends. It fails the test when TOUCHBASE_TEST_PG_DSN
// is not set.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	c, err := pgShared()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	name := dbName("tb")
	ctx := context.Background()
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+c.template+c.strategy); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	s, err := store.Open(ctx, withDatabase(c.dsn, name))
	if err != nil {
		c.drop(name)
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close postgres store: %v", err)
		}
		if err := c.drop(name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return s
}

// pgCluster is the PostgreSQL server the tests of one binary share: an admin
// connection and a migrated template database.
type pgCluster struct {
	dsn      string
	admin    *sql.DB
	template string
	// strategy is " STRATEGY FILE_COPY" from PostgreSQL 15 on: for a tiny
	// database on a cluster without fsync it is about twice as fast as the
	// default WAL_LOG (86 ms against 154 ms here).
	strategy string
}

// shared caches the cluster per test binary: migrating once and copying
// the template is what makes a fresh database per test cheap.
var shared struct {
	once sync.Once
	c    *pgCluster
	err  error
}

func pgShared() (*pgCluster, error) {
	shared.once.Do(func() { shared.c, shared.err = newPGCluster() })
	return shared.c, shared.err
}

func newPGCluster() (*pgCluster, error) {
	dsn := os.Getenv("TOUCHBASE_TEST_PG_DSN")
	if dsn == "" {
		return nil, fmt.Errorf("TOUCHBASE_TEST_PG_DSN is not set")
	}
	// The pgx driver is registered by package store.
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	admin.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	c := &pgCluster{dsn: dsn, admin: admin, template: dbName("tbtmpl")}
	var version int
	if err := admin.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return nil, fmt.Errorf("server version: %w", err)
	}
	if version >= 150000 {
		c.strategy = " STRATEGY FILE_COPY"
	}
	c.dropStale(ctx)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+c.template); err != nil {
		return nil, fmt.Errorf("create template database: %w", err)
	}
	s, err := store.Open(ctx, withDatabase(dsn, c.template))
	if err != nil {
		c.drop(c.template)
		return nil, fmt.Errorf("migrate template database: %w", err)
	}
	// CREATE DATABASE ... TEMPLATE needs the template to have no sessions.
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("close template database: %w", err)
	}
	return c, nil
}

func (c *pgCluster) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// staleName matches the databases dbName makes and captures their creation
// time.
var staleName = regexp.MustCompile(`^tb(?:tmpl)?_([0-9]+)_[0-9a-f]+$`)

// dropStale drops test databases left over by test binaries that were
// killed more than three hours ago (a cluster that outlives one run is
// allowed). Each binary's template lives until then: no hook runs when a
// test binary ends.
func (c *pgCluster) dropStale(ctx context.Context) {
	rows, err := c.admin.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'tb%'")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			break
		}
		m := staleName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if sec, err := strconv.ParseInt(m[1], 10, 64); err == nil && time.Since(time.Unix(sec, 0)) > 3*time.Hour {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		c.drop(name) // best effort
	}
}

// dbName returns a fresh database name: prefix, creation time, random part.
func dbName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s_%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b[:]))
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return u.String()
}

// redact hides a password in a DSN for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the PostgreSQL DSN"
	}
	return u.Redacted()
}
