package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

var _ touchbase.WorkspaceService = (*Store)(nil)

// maxNameLen bounds workspace, user and key names.
const maxNameLen = 200

// CreateWorkspace creates a workspace with default settings. It returns
// EINVALID for an empty or overlong name. Names need not be unique: they
// are labels, and refusing one that another tenant uses would tell who
// uses it.
func (s *Store) CreateWorkspace(ctx context.Context, name string) (*touchbase.Workspace, error) {
	name, err := workspaceName(name)
	if err != nil {
		return nil, err
	}
	var w *touchbase.Workspace
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = s.createWorkspace(ctx, tx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// createWorkspace inserts a workspace.
func (s *Store) createWorkspace(ctx context.Context, tx *sql.Tx, name string) (*touchbase.Workspace, error) {
	w := &touchbase.Workspace{
		Name:      name,
		Settings:  defaultSettings(),
		CreatedAt: time.UnixMilli(s.now()).UTC(),
	}
	settings, err := json.Marshal(w.Settings)
	if err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO workspaces (name, settings, created_at) VALUES (?, ?, ?) RETURNING id`),
		name, string(settings), w.CreatedAt.UnixMilli()).Scan(&w.ID)
	if err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	return w, nil
}

func defaultSettings() touchbase.WorkspaceSettings {
	return touchbase.WorkspaceSettings{AllowedOrigins: []string{}, Currency: "USD", Timezone: "UTC"}
}

// FindWorkspace returns ENOTFOUND.
func (s *Store) FindWorkspace(ctx context.Context, id int64) (*touchbase.Workspace, error) {
	return s.findWorkspace(ctx, s.rdb, "id = ?", id)
}

// FindWorkspaceByName returns the one workspace with this name: ENOTFOUND
// when there is none, ECONFLICT (naming their ids) when several share it.
// It is for operators (the CLI), who see every workspace anyway.
func (s *Store) FindWorkspaceByName(ctx context.Context, name string) (*touchbase.Workspace, error) {
	name = strings.TrimSpace(name)
	rows, err := s.rdb.QueryContext(ctx, s.d.q("SELECT "+workspaceColumns+" FROM workspaces WHERE name = ? ORDER BY id LIMIT 10"), name)
	if err != nil {
		return nil, fmt.Errorf("find workspace %q: %w", name, err)
	}
	defer rows.Close()
	var ws []*touchbase.Workspace
	for rows.Next() {
		w, err := scanWorkspace(rows)
		if err != nil {
			return nil, fmt.Errorf("find workspace %q: %w", name, err)
		}
		ws = append(ws, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find workspace %q: %w", name, err)
	}
	switch len(ws) {
	case 0:
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "workspace %q not found", name)
	case 1:
		return ws[0], nil
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = strconv.FormatInt(w.ID, 10)
	}
	return nil, touchbase.Errorf(touchbase.ECONFLICT, "several workspaces are named %q (ids %s): name one by its id", name, strings.Join(ids, ", "))
}

const workspaceColumns = "id, name, settings, created_at"

func (s *Store) findWorkspace(ctx context.Context, q queryer, where string, arg any) (*touchbase.Workspace, error) {
	w, err := scanWorkspace(q.QueryRowContext(ctx, s.d.q("SELECT "+workspaceColumns+" FROM workspaces WHERE "+where), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "workspace %v not found", arg)
	} else if err != nil {
		return nil, fmt.Errorf("find workspace %v: %w", arg, err)
	}
	return w, nil
}

// ListWorkspaces returns all workspaces, oldest first.
func (s *Store) ListWorkspaces(ctx context.Context) ([]*touchbase.Workspace, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+workspaceColumns+" FROM workspaces ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	defer rows.Close()
	ws := []*touchbase.Workspace{}
	for rows.Next() {
		w, err := scanWorkspace(rows)
		if err != nil {
			return nil, fmt.Errorf("list workspaces: %w", err)
		}
		ws = append(ws, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	return ws, nil
}

// UpdateWorkspace changes the name and settings given. It returns ENOTFOUND,
// EINVALID for a bad name or setting. Another workspace may have the same
// name (see CreateWorkspace).
func (s *Store) UpdateWorkspace(ctx context.Context, id int64, upd touchbase.WorkspaceUpdate) (*touchbase.Workspace, error) {
	var name string
	if upd.Name != nil {
		var err error
		if name, err = workspaceName(*upd.Name); err != nil {
			return nil, err
		}
	}
	if upd.Settings != nil {
		if err := validateSettings(upd.Settings); err != nil {
			return nil, err
		}
	}
	var w *touchbase.Workspace
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if w, err = s.findWorkspace(ctx, tx, "id = ?"+s.forUpdate(), id); err != nil {
			return err
		}
		if upd.Name != nil {
			w.Name = name
		}
		if upd.Settings != nil {
			w.Settings = *upd.Settings
			if w.Settings.AllowedOrigins == nil {
				w.Settings.AllowedOrigins = []string{}
			}
		}
		settings, err := json.Marshal(w.Settings)
		if err != nil {
			return fmt.Errorf("update workspace %d: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, s.d.q("UPDATE workspaces SET name = ?, settings = ? WHERE id = ?"), w.Name, string(settings), id)
		if err != nil {
			return fmt.Errorf("update workspace %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func workspaceName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &touchbase.Error{Code: touchbase.EINVALID, Message: "workspace name is empty",
			Fields: []touchbase.FieldError{{Index: -1, Field: "name", Message: "must not be empty"}}}
	case utf8.RuneCountInString(name) > maxNameLen:
		return "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("workspace name is longer than %d characters", maxNameLen),
			Fields: []touchbase.FieldError{{Index: -1, Field: "name", Message: "too long"}}}
	case !utf8.ValidString(name):
		return "", touchbase.Errorf(touchbase.EINVALID, "workspace name is not valid UTF-8")
	}
	return name, nil
}

// validateSettings checks each setting and names every bad one.
func validateSettings(set *touchbase.WorkspaceSettings) error {
	var bad []touchbase.FieldError
	for i, o := range set.AllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			bad = append(bad, touchbase.FieldError{Index: -1, Field: fmt.Sprintf("settings.allowed_origins[%d]", i),
				Message: fmt.Sprintf("%q is not an origin like https://shop.example.com", o)})
		}
	}
	if set.RateLimit < 0 {
		bad = append(bad, touchbase.FieldError{Index: -1, Field: "settings.rate_limit", Message: "must not be negative"})
	}
	if c := set.Currency; c != "" && (len(c) != 3 || strings.ToUpper(c) != c || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		bad = append(bad, touchbase.FieldError{Index: -1, Field: "settings.currency", Message: fmt.Sprintf("%q is not an ISO 4217 code like EUR", c)})
	}
	if tz := set.Timezone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			bad = append(bad, touchbase.FieldError{Index: -1, Field: "settings.timezone", Message: fmt.Sprintf("%q is not an IANA time zone like Europe/Berlin", tz)})
		}
	}
	if len(bad) > 0 {
		return &touchbase.Error{Code: touchbase.EINVALID, Message: "invalid workspace settings: " + bad[0].Field + ": " + bad[0].Message, Fields: bad}
	}
	return nil
}

func scanWorkspace(row interface{ Scan(...any) error }) (*touchbase.Workspace, error) {
	var (
		w        touchbase.Workspace
		settings string
		created  int64
	)
	if err := row.Scan(&w.ID, &w.Name, &settings, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &w.Settings); err != nil {
		return nil, fmt.Errorf("workspace %d settings: %w", w.ID, err)
	}
	if w.Settings.AllowedOrigins == nil {
		w.Settings.AllowedOrigins = []string{}
	}
	w.CreatedAt = time.UnixMilli(created).UTC()
	return &w, nil
}

// queryer is what reads need: a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writeTx runs fn in a write transaction and commits when it returns nil.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := runTx(ctx, s.db, nil, fn)
	if err == nil {
		s.changed.fire()
	}
	return s.condition(err)
}

// readTx runs fn in a read-only transaction on the read pool, so that reads
// made of several queries see one snapshot (REPEATABLE READ on PostgreSQL;
// an SQLite transaction is a snapshot already).
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.dollar {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return s.condition(runTx(ctx, s.rdb, opts, fn))
}

// runTx runs fn in a transaction on db and commits when it returns nil.
func runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// forUpdate locks the rows a read-modify-write transaction selects on
// PostgreSQL. SQLite needs nothing: its one writer runs write transactions
// one at a time (BEGIN IMMEDIATE).
func (s *Store) forUpdate() string {
	if s.d.dollar {
		return " FOR UPDATE"
	}
	return ""
}

// isUniqueViolation reports whether err is a unique or primary key
// constraint violation, on either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		// SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
		return lite.Code() == 2067 || lite.Code() == 1555
	}
	return false
}
