package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// The store's health checks, for /healthz: cheap enough to be polled every
// few seconds (a header read, a catalog query, a one-row read), never an
// integrity check, which reads the whole file.

// CheckDatabase says whether the database answers a real read: on
// SQLite also whether the file is still an SQLite file as long as its
// header says (an overwritten or truncated file fails here even while the
// connections' page caches still answer from memory).
func (s *Store) CheckDatabase(ctx context.Context) error {
	if s.path != "" {
		if err := checkSQLiteFile(s.path); err != nil {
			return err
		}
	}
	var n int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM workspaces").Scan(&n); err != nil {
		return fmt.Errorf("read workspaces: %w", err)
	}
	return nil
}

// CheckSchema says whether the migrations are at the version this binary
// applied at Open, and every table that was there then still is.
func (s *Store) CheckSchema(ctx context.Context) error {
	var v int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&v); err != nil {
		return fmt.Errorf("read the migration version: %w", err)
	}
	if v != s.schemaVersion {
		return fmt.Errorf("the database is at migration %d, this touchbase expects %d", v, s.schemaVersion)
	}
	tables, err := s.listTables(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, t := range s.schemaTables {
		if _, found := slices.BinarySearch(tables, t); !found {
			missing = append(missing, t)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("table %s is missing", missing[0])
	}
	return fmt.Errorf("tables %s are missing", strings.Join(missing, ", "))
}

// recordSchema remembers the migration version and the tables as Open
// left them, for CheckSchema.
func (s *Store) recordSchema(ctx context.Context, version int64) error {
	tables, err := s.listTables(ctx)
	if err != nil {
		return err
	}
	s.schemaVersion, s.schemaTables = version, tables
	return nil
}

// listTables returns the names of the tables, sorted.
func (s *Store) listTables(ctx context.Context) ([]string, error) {
	q := "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if s.d.dollar {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	rows, err := s.rdb.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	slices.Sort(tables)
	return tables, nil
}

// checkSQLiteFile reads the 100-byte header of an SQLite file: its magic
// string, page size and page count (https://sqlite.org/fileformat.html,
// 1.3), and checks that the file is at least as long as the header says.
// A checkpoint writes page 1 (the header) first and extends the file
// after, so while one runs, or after one a full disk cut short, the file
// may be shorter than its header says with the missing pages still in the
// -wal file; only a file shorter than its header with no frames in the
// -wal file has lost pages.
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open the database file: %w", err)
	}
	defer f.Close()
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("the database file %s has no SQLite header (%v): it was truncated or replaced", path, err)
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return fmt.Errorf("the database file %s is not an SQLite file any more: it was overwritten", path)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The page count is valid when "version-valid-for" equals the change
	// counter (files written by SQLite 3.7.0 and later).
	if binary.BigEndian.Uint32(h[92:96]) != binary.BigEndian.Uint32(h[24:28]) {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat the database file: %w", err)
	}
	if want := pages * pageSize; fi.Size() < want && !walHasFrames(path) {
		return fmt.Errorf("the database file %s is %d bytes, its header says %d: it was truncated", path, fi.Size(), want)
	}
	return nil
}

// walHasFrames reports whether the -wal file beside an SQLite file holds
// any frame (it is longer than its 32-byte header).
func walHasFrames(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return err == nil && fi.Size() > 32
}
