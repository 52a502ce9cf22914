package store

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/touchbase/touchbase"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// nearlyFull is the free space under which an I/O error of SQLite is
// taken for a full disk: SQLite reports ENOSPC as SQLITE_FULL where it
// writes pages, but as an I/O error where it grows its shared-memory
// index, syncs or truncates, and the error keeps no errno.
const nearlyFull = 1 << 20

// condition returns err with, in front of it, a touchbase error saying the
// storage cannot take the write now whatever the request was: ENOROOM when
// the database's disk (or tablespace, or quota) is full, EUNAVAILABLE when
// the database is out of connections or memory or unreachable. Nothing of
// the failed transaction is stored either way. The ingestion writer waits such
// errors out instead of setting the request aside, and the server answers
// 503 with Retry-After. Errors that are neither (and errors already
// carrying a code) are returned as they are.
func (s *Store) condition(err error) error {
	if err == nil || touchbase.ErrorCode(err) != touchbase.EINTERNAL {
		return err
	}
	switch s.conditionOf(err) {
	case touchbase.ENOROOM:
		return fmt.Errorf("%w: %w", touchbase.Errorf(touchbase.ENOROOM,
			"the database's disk is full: nothing was stored; retry once there is room"), err)
	case touchbase.EUNAVAILABLE:
		return fmt.Errorf("%w: %w", touchbase.Errorf(touchbase.EUNAVAILABLE,
			"the database cannot take writes now (out of connections or memory, or unreachable): nothing was stored; retry"), err)
	}
	return err
}

func (s *Store) conditionOf(err error) string {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return touchbase.ENOROOM
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			if free, ok := freeBytes(filepath.Dir(s.path)); ok && free < nearlyFull {
				return touchbase.ENOROOM
			}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return touchbase.ENOROOM
		case pe.Code == "53200", pe.Code == "53300": // out_of_memory, too_many_connections
			return touchbase.EUNAVAILABLE
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutting down, starting up
			return touchbase.EUNAVAILABLE
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return touchbase.EUNAVAILABLE
		}
		// 53400 configuration_limit_exceeded is left alone: a request
		// can exceed a limit (locks per transaction) by itself.
		return ""
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return touchbase.ENOROOM
	}
	var ce *pgconn.ConnectError
	var oe *net.OpError
	if errors.As(err, &ce) || errors.As(err, &oe) {
		return touchbase.EUNAVAILABLE // PostgreSQL is unreachable
	}
	return ""
}
