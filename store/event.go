package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.EventService = (*Store)(nil)

const eventColumns = "e.id, e.workspace_id, e.customer_id, e.message_id, e.type, e.event, e.user_id, e.anonymous_id, e.timestamp, e.received_at, e.properties, e.context"

// FindEvent returns ENOTFOUND.
func (s *Store) FindEvent(ctx context.Context, workspaceID, id int64) (*touchbase.Event, error) {
	e, err := scanEvent(s.rdb.QueryRowContext(ctx, s.d.q("SELECT "+eventColumns+" FROM events e WHERE e.workspace_id = ? AND e.id = ?"), workspaceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "event %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find event %d: %w", id, err)
	}
	return e, nil
}

// ListEvents returns one page of events, newest first, and the cursor of
// the next page ("" at the end). With a CustomerID it is the customer's
// timeline, ordered by when things happened (timestamp, then id); without,
// by arrival (id). Since is inclusive, Until exclusive. EINVALID for a bad
// cursor, type or limit.
func (s *Store) ListEvents(ctx context.Context, workspaceID int64, f touchbase.EventFilter) ([]*touchbase.Event, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	where := []string{"e.workspace_id = ?"}
	args := []any{workspaceID}
	if f.CustomerID == 0 && !s.d.dollar {
		// Newest first by id is the rowid order on SQLite: the unary +
		// keeps SQLite from reading the workspace's events through an index
		// and sorting them all for each page, and makes it walk the table
		// back from the cursor instead. (PostgreSQL's primary key is
		// (workspace_id, id) already.)
		where[0] = "+e.workspace_id = ?"
	}
	if f.CustomerID != 0 {
		where = append(where, "e.customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if f.Type != "" {
		if !f.Type.Valid() {
			return nil, "", touchbase.Errorf(touchbase.EINVALID, "event type %q is not identify, track, page, screen, group or alias", f.Type)
		}
		where = append(where, "e.type = ?")
		args = append(args, string(f.Type))
	}
	if f.Event != "" {
		where = append(where, "e.event = ?")
		args = append(args, f.Event)
	}
	if !f.Since.IsZero() {
		where = append(where, "e.timestamp >= ?")
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, "e.timestamp < ?")
		args = append(args, f.Until.UnixMilli())
	}
	timeline := f.CustomerID != 0
	kind, order := "events", "e.id DESC"
	if timeline {
		kind, order = "timeline", "e.timestamp DESC, e.id DESC"
	}
	if f.After != "" {
		c, err := decodeCursor(f.After, kind)
		if err != nil {
			return nil, "", err
		}
		if timeline {
			ts, err := c.int()
			if err != nil {
				return nil, "", err
			}
			where = append(where, "(e.timestamp, e.id) < (?, ?)")
			args = append(args, ts, c.id)
		} else {
			where = append(where, "e.id < ?")
			args = append(args, c.id)
		}
	}
	args = append(args, limit+1)
	rows, err := s.rdb.QueryContext(ctx, s.d.q("SELECT "+eventColumns+" FROM events e WHERE "+strings.Join(where, " AND ")+
		" ORDER BY "+order+" LIMIT ?"), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	events := []*touchbase.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list events: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	var next string
	if len(events) > limit {
		events = events[:limit]
		last := events[limit-1]
		next = encodeCursor(kind, strconv.FormatInt(last.Timestamp.UnixMilli(), 10), last.ID)
	}
	return events, next, nil
}

// customerEvents returns all of a customer's events, oldest first.
func (s *Store) customerEvents(ctx context.Context, q queryer, workspaceID, customerID int64) ([]*touchbase.Event, error) {
	rows, err := q.QueryContext(ctx, s.d.q("SELECT "+eventColumns+" FROM events e WHERE e.workspace_id = ? AND e.customer_id = ? ORDER BY e.timestamp, e.id"),
		workspaceID, customerID)
	if err != nil {
		return nil, fmt.Errorf("customer %d events: %w", customerID, err)
	}
	defer rows.Close()
	events := []*touchbase.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("customer %d events: %w", customerID, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customer %d events: %w", customerID, err)
	}
	return events, nil
}

func scanEvent(row interface{ Scan(...any) error }) (*touchbase.Event, error) {
	var (
		e            touchbase.Event
		typ          string
		ts, received int64
		props, evctx []byte
	)
	if err := row.Scan(&e.ID, &e.WorkspaceID, &e.CustomerID, &e.MessageID, &typ, &e.Event, &e.UserID, &e.AnonymousID,
		&ts, &received, &props, &evctx); err != nil {
		return nil, err
	}
	e.Type = touchbase.EventType(typ)
	e.Timestamp = time.UnixMilli(ts).UTC()
	e.ReceivedAt = time.UnixMilli(received).UTC()
	if len(props) > 0 {
		e.Properties = json.RawMessage(props)
	}
	if len(evctx) > 0 {
		e.Context = json.RawMessage(evctx)
	}
	return &e, nil
}

// Paging. Lists are keyset-paginated: a cursor holds the sort value and the
// id of the last row of a page, and the next page starts strictly after it,
// so rows added or removed meanwhile neither repeat nor shift the pages.

const (
	defaultPageLimit = 50
	maxPageLimit     = 1000
)

// pageLimit applies the default (50) and the maximum (1000) to a requested
// page size; a negative one is EINVALID.
func pageLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("limit %d is negative", n),
			Fields: []touchbase.FieldError{{Index: -1, Field: "limit", Message: "must be between 1 and 1000"}}}
	case n == 0:
		return defaultPageLimit, nil
	case n > maxPageLimit:
		return maxPageLimit, nil
	}
	return n, nil
}

// pageCursor is a decoded cursor: which list it belongs to, the sort value
// ("" for NULL) and the id of the row it points after.
type pageCursor struct {
	kind string
	val  string
	id   int64
}

// encodeCursor makes an opaque cursor: base64url of "kind|value|id". The
// kind keeps a cursor of one list or sort from being used with another.
func encodeCursor(kind, val string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + val + "|" + strconv.FormatInt(id, 10)))
}

// decodeCursor returns EINVALID unless s is a cursor of the kind.
func decodeCursor(s, kind string) (pageCursor, error) {
	bad := &touchbase.Error{Code: touchbase.EINVALID, Message: "malformed page cursor: pass the next value of the previous page, with the same sort",
		Fields: []touchbase.FieldError{{Index: -1, Field: "after", Message: "malformed cursor"}}}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageCursor{}, bad
	}
	str := string(raw)
	k, rest, ok := strings.Cut(str, "|")
	i := strings.LastIndexByte(rest, '|')
	if !ok || k != kind || i < 0 {
		return pageCursor{}, bad
	}
	id, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil {
		return pageCursor{}, bad
	}
	return pageCursor{kind: k, val: rest[:i], id: id}, nil
}

// int returns the cursor's value as an integer, or EINVALID.
func (c pageCursor) int() (int64, error) {
	v, err := strconv.ParseInt(c.val, 10, 64)
	if err != nil {
		return 0, touchbase.Errorf(touchbase.EINVALID, "malformed page cursor")
	}
	return v, nil
}

// float returns the cursor's value as a float, or EINVALID.
func (c pageCursor) float() (float64, error) {
	v, err := strconv.ParseFloat(c.val, 64)
	if err != nil {
		return 0, touchbase.Errorf(touchbase.EINVALID, "malformed page cursor")
	}
	return v, nil
}

// likePattern returns a LIKE pattern matching s anywhere, with LIKE's
// wildcards in s escaped (queries use ESCAPE '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ilike is the case-insensitive LIKE: SQLite's LIKE already ignores ASCII
// case; PostgreSQL's needs ILIKE.
func (s *Store) ilike() string {
	if s.d.dollar {
		return "ILIKE"
	}
	return "LIKE"
}
