// Package store is touchbase's one storage implementation, over database/sql,
// for SQLite (the default, embedded, pure Go) and PostgreSQL (selected by a
// postgres:// DSN). The SQL is portable; dialect holds the few differences.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers "sqlite"
)

//go:embed migrations
var migrations embed.FS

// Store is an open database. Its methods are safe for concurrent use; each
// is one transaction.
type Store struct {
	d dialect
	// db takes writes. On SQLite it is one connection (SQLite has one
	// writer; queuing in Go beats busy-waiting in SQLite).
	db *sql.DB
	// rdb serves reads. On SQLite a pool of query-only connections that WAL
	// lets run beside the writer; on PostgreSQL the same pool as db.
	rdb *sql.DB

	// stmts holds the ingestion path's statements, prepared on the SQLite
	// writer at Open, by query text: they run once per row, and parsing
	// them anew would cost more than running them. (They cannot be prepared
	// lazily: a transaction holds the only write connection.)
	stmts sync.Map

	// ckpt checkpoints SQLite's log off the commit path; nil on PostgreSQL.
	ckpt *checkpointer

	// cache spares the ingestion path its identity lookups; SQLite only
	// (nil on PostgreSQL, where other nodes write too).
	cache *ingestCache

	// analyze keeps PostgreSQL's statistics of young tables current; nil
	// on SQLite.
	analyze *analyzer

	// scanMin is the fewest customer ids a range of a scan read on all
	// cores spans (defaultScanMin; tests lower it).
	scanMin int64

	// changed is the change feed's notification (Changed), fired after
	// every commit.
	changed signal

	// path is the SQLite file ("" on PostgreSQL); schemaVersion and
	// schemaTables are the migration version and the tables Open left,
	// for the health checks (health.go).
	path          string
	schemaVersion int64
	schemaTables  []string

	// Now is the clock; tests replace it.
	Now func() time.Time
}

// prepare prepares the ingestion path's single-row statements on SQLite.
// PostgreSQL needs none of this: pgx caches prepared statements per
// connection itself.
func (s *Store) prepare(ctx context.Context) error {
	if s.d.dollar {
		return nil
	}
	for _, r := range ingestRows {
		q := s.sqliteSQL(r)
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", r.head, err)
		}
		s.stmts.Store(q, st)
	}
	return nil
}

// Open opens the database named by dsn and applies pending migrations. A dsn
// starting with postgres:// or postgresql:// selects PostgreSQL; anything
// else is a SQLite file path (optionally prefixed with sqlite: or file:),
// created with its directory when missing.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.ckpt != nil {
		s.ckpt.open()
	}
	return s, nil
}

func open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{Now: time.Now, scanMin: defaultScanMin}
	switch {
	case dsn == "":
		return nil, fmt.Errorf("open store: empty DSN")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.d = postgres
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.db, s.rdb = db, db
		s.analyze = newAnalyzer(func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, "ANALYZE customers, identities, events, orders, order_items")
			return err
		})
	default:
		s.d = sqlite
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		s.path = path
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("open sqlite: create directory: %w", err)
			}
		}
		// synchronous=FULL: a commit is on disk before Ingest returns, which
		// is what a 200 from /v1 promises; group commit keeps it cheap.
		// temp_store=MEMORY: statement journals of large transactions were
		// a quarter of ingestion's CPU as write syscalls to a temp file.
		base := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)" +
			"&_pragma=synchronous(FULL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_time_format=sqlite"
		// secure_delete(ON) on the writer, the one connection that changes
		// pages: what a change frees (an old version of a row, a deleted
		// row, a freed page) is zeroed, so that an erased person's data does
		// not linger in free space. BenchmarkIngest measured no difference
		// beyond its noise: ingestion mostly inserts.
		db, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=secure_delete(ON)"+fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walAutoCheckpoint))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		rdb, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		rdb.SetMaxOpenConns(8)
		rdb.SetMaxIdleConns(8)
		s.db, s.rdb = db, rdb
		s.path = path
		s.cache = newIngestCache(250_000)
		if s.ckpt, err = newCheckpointer(base, 250*time.Millisecond); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// Migrate applies the pending migrations of the store's dialect.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations/"+s.d.name)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(s.d.goose, s.db, fsys)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var version int64
	for _, src := range p.ListSources() {
		version = max(version, src.Version)
	}
	if err := s.recordSchema(ctx, version); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the database connections.
// walAutoCheckpoint is the log size, in pages, past which the writer
// checkpoints itself: a bound for when the checkpointer falls behind.
const walAutoCheckpoint = 16384

func (s *Store) Close() error {
	s.analyze.close()
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	err := s.db.Close()
	if s.rdb != s.db {
		if rerr := s.rdb.Close(); err == nil {
			err = rerr
		}
	}
	if s.ckpt != nil {
		if cerr := s.ckpt.close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// DB returns the write pool, for tests and tools that need raw SQL.
func (s *Store) DB() *sql.DB { return s.db }

// now returns the clock's time in Unix milliseconds.
func (s *Store) now() int64 { return s.Now().UnixMilli() }

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name  string
	goose goose.Dialect
	// dollar says placeholders are $1, $2 ... rather than ?.
	dollar bool
}

var (
	sqlite   = dialect{name: "sqlite", goose: goose.DialectSQLite3}
	postgres = dialect{name: "postgres", goose: goose.DialectPostgres, dollar: true}
)

// q rewrites a query written with ? placeholders for the dialect. Queries
// never contain a literal ? (values are always parameters).
func (d dialect) q(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// fromMillis converts nullable Unix milliseconds to a time pointer.
func fromMillis(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := time.UnixMilli(ms.Int64).UTC()
	return &t
}

// erasedHash is how an erased customer's identifier is remembered:
// the hex SHA-256 of the normalised value, so that the value itself is gone.
func erasedHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}
