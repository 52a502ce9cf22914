package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

var _ touchbase.SegmentStore = (*Store)(nil)

const segmentCols = "id, workspace_id, name, description, kind, definition, text, size, created_at, updated_at"

// sizeBucket is the resolution of segment_sizes: one row per segment per
// minute, however often memberships change.
const sizeBucket = int64(time.Minute / time.Millisecond)

// leaveSegments takes a customer who is about to be deleted (merged away or
// erased) off the sizes of the segments they are in; arguments: workspace,
// workspace, customer. Their segment_members rows go next.
const leaveSegments = `UPDATE segments SET size = size - 1 WHERE workspace_id = ? AND id IN
	(SELECT segment_id FROM segment_members WHERE workspace_id = ? AND customer_id = ?)`

// CreateSegment stores a new segment; ECONFLICT when the name is taken,
// EINVALID for a bad name or kind.
func (s *Store) CreateSegment(ctx context.Context, seg *touchbase.Segment, check touchbase.SegmentCheck) error {
	if err := checkSegment(seg); err != nil {
		return err
	}
	now := s.now()
	seg.CreatedAt, seg.UpdatedAt = timeOf(now), timeOf(now)
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkSegments(ctx, tx, seg.WorkspaceID, check); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO segments (workspace_id, name, description, kind, definition, text, size, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (workspace_id, name) DO NOTHING RETURNING id`),
			seg.WorkspaceID, seg.Name, seg.Description, string(seg.Kind), rawJSON(seg.Definition), seg.Text, now, now).Scan(&seg.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ECONFLICT, "a segment named %q exists already", seg.Name)
		}
		if err != nil {
			return fmt.Errorf("create segment: %w", err)
		}
		return nil
	})
}

// UpdateSegment saves the name, description, definition and text;
// ENOTFOUND, ECONFLICT, EINVALID. The kind does not change.
func (s *Store) UpdateSegment(ctx context.Context, seg *touchbase.Segment, check touchbase.SegmentCheck) error {
	if err := checkSegment(seg); err != nil {
		return err
	}
	now := s.now()
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkSegments(ctx, tx, seg.WorkspaceID, check); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE segments SET name = ?, description = ?, definition = ?, text = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`),
			seg.Name, seg.Description, rawJSON(seg.Definition), seg.Text, now, seg.WorkspaceID, seg.ID)
		if isUniqueViolation(err) {
			return touchbase.Errorf(touchbase.ECONFLICT, "a segment named %q exists already", seg.Name)
		}
		if err != nil {
			return fmt.Errorf("update segment %d: %w", seg.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "segment %d not found", seg.ID)
		}
		seg.UpdatedAt = timeOf(now)
		return nil
	})
}

// checkSegments locks the workspace's segments for the rest of tx (on
// SQLite the write transaction holds the database already) and runs
// check on them.
func (s *Store) checkSegments(ctx context.Context, tx *sql.Tx, workspaceID int64, check touchbase.SegmentCheck) error {
	if check == nil {
		return nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.d.q("SELECT id FROM workspaces WHERE id = ?"+s.forUpdate()), workspaceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return touchbase.Errorf(touchbase.ENOTFOUND, "workspace %d not found", workspaceID)
	}
	if err != nil {
		return fmt.Errorf("lock segments: %w", err)
	}
	all, err := s.querySegments(ctx, tx, workspaceSegments, workspaceID)
	if err != nil {
		return fmt.Errorf("list segments: %w", err)
	}
	return check(all)
}

func checkSegment(seg *touchbase.Segment) error {
	name := strings.TrimSpace(seg.Name)
	switch {
	case name == "" || name != seg.Name:
		return touchbase.Errorf(touchbase.EINVALID, "segment name %q: want a name without surrounding spaces", seg.Name)
	case utf8.RuneCountInString(name) > maxNameLen || !utf8.ValidString(name):
		return touchbase.Errorf(touchbase.EINVALID, "segment name: at most %d characters of UTF-8", maxNameLen)
	case !seg.Kind.Valid():
		return touchbase.Errorf(touchbase.EINVALID, "segment kind %q is not dynamic or static", seg.Kind)
	case seg.Kind == touchbase.SegmentDynamic && len(seg.Definition) == 0:
		return touchbase.Errorf(touchbase.EINVALID, "segment %q: a dynamic segment needs a definition", seg.Name)
	case seg.Kind == touchbase.SegmentStatic && len(seg.Definition) != 0:
		return touchbase.Errorf(touchbase.EINVALID, "segment %q: a static segment (a list) has no definition", seg.Name)
	}
	return nil
}

// DeleteSegment removes the segment, its members and its history;
// ENOTFOUND.
func (s *Store) DeleteSegment(ctx context.Context, workspaceID, id int64, check touchbase.SegmentCheck) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkSegments(ctx, tx, workspaceID, check); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.d.q("DELETE FROM segments WHERE workspace_id = ? AND id = ?"), workspaceID, id)
		if err != nil {
			return fmt.Errorf("delete segment %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "segment %d not found", id)
		}
		for _, table := range []string{"segment_members", "membership_changes", "segment_sizes"} {
			if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM "+table+" WHERE workspace_id = ? AND segment_id = ?"), workspaceID, id); err != nil {
				return fmt.Errorf("delete segment %d: %w", id, err)
			}
		}
		return nil
	})
}

// FindSegment returns ENOTFOUND.
func (s *Store) FindSegment(ctx context.Context, workspaceID, id int64) (*touchbase.Segment, error) {
	return s.findSegment(ctx, "id = ?", workspaceID, id, fmt.Sprintf("segment %d", id))
}

// FindSegmentByName returns ENOTFOUND.
func (s *Store) FindSegmentByName(ctx context.Context, workspaceID int64, name string) (*touchbase.Segment, error) {
	return s.findSegment(ctx, "name = ?", workspaceID, name, fmt.Sprintf("segment %q", name))
}

func (s *Store) findSegment(ctx context.Context, where string, workspaceID int64, key any, what string) (*touchbase.Segment, error) {
	var seg *touchbase.Segment
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		seg, err = scanSegment(tx.QueryRowContext(ctx, s.d.q("SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? AND "+where), workspaceID, key))
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "%s not found", what)
		}
		return err
	})
	return seg, err
}

// ListSegments returns the workspace's segments by name.
func (s *Store) ListSegments(ctx context.Context, workspaceID int64) ([]*touchbase.Segment, error) {
	return s.listSegments(ctx, workspaceSegments, workspaceID)
}

const workspaceSegments = "SELECT " + segmentCols + " FROM segments WHERE workspace_id = ? ORDER BY name"

// ListAllSegments returns every workspace's segments.
func (s *Store) ListAllSegments(ctx context.Context) ([]*touchbase.Segment, error) {
	return s.listSegments(ctx, "SELECT "+segmentCols+" FROM segments ORDER BY workspace_id, name")
}

func (s *Store) listSegments(ctx context.Context, q string, args ...any) ([]*touchbase.Segment, error) {
	var out []*touchbase.Segment
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.querySegments(ctx, tx, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return out, nil
}

// querySegments runs q, a SELECT of segmentCols, in tx.
func (s *Store) querySegments(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]*touchbase.Segment, error) {
	var out []*touchbase.Segment
	err := queryRows(ctx, tx, s.d.q(q), args, func(rows *sql.Rows) error {
		seg, err := scanSegment(rows)
		if err == nil {
			out = append(out, seg)
		}
		return err
	})
	return out, err
}

func scanSegment(row interface{ Scan(...any) error }) (*touchbase.Segment, error) {
	seg := &touchbase.Segment{}
	var kind string
	var def sql.NullString
	var created, updated int64
	if err := row.Scan(&seg.ID, &seg.WorkspaceID, &seg.Name, &seg.Description, &kind, &def, &seg.Text, &seg.Size, &created, &updated); err != nil {
		return nil, err
	}
	seg.Kind, seg.CreatedAt, seg.UpdatedAt = touchbase.SegmentKind(kind), timeOf(created), timeOf(updated)
	if def.Valid {
		seg.Definition = json.RawMessage(def.String)
	}
	return seg, nil
}

// SegmentMembers returns the ids of the stored members, ascending.
func (s *Store) SegmentMembers(ctx context.Context, workspaceID, segmentID int64) ([]int64, error) {
	var ids []int64
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT customer_id FROM segment_members WHERE workspace_id = ? AND segment_id = ? ORDER BY customer_id"),
			[]any{workspaceID, segmentID}, func(rows *sql.Rows) error {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("segment %d members: %w", segmentID, err)
	}
	return ids, nil
}

var (
	insertMembers = rowsSQL{
		head:   "INSERT INTO segment_members (workspace_id, segment_id, customer_id, since) VALUES",
		cols:   4,
		suffix: " ON CONFLICT (workspace_id, segment_id, customer_id) DO NOTHING",
	}
	insertMembershipChanges = rowsSQL{
		head: "INSERT INTO membership_changes (workspace_id, segment_id, customer_id, entered, at) VALUES",
		cols: 5,
	}
)

// RecordMembershipChanges applies changes to the stored members, appends
// them to the history and to the customers' timelines, and records the
// segments' sizes, in one transaction. Changes that change nothing are
// skipped; so are changes of customers that no longer exist.
func (s *Store) RecordMembershipChanges(ctx context.Context, workspaceID int64, changes []touchbase.MembershipChange) error {
	_, err := s.recordMembershipChanges(ctx, workspaceID, changes)
	return err
}

// recordMembershipChanges is RecordMembershipChanges, returning how many
// changes it applied.
func (s *Store) recordMembershipChanges(ctx context.Context, workspaceID int64, changes []touchbase.MembershipChange) (int, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	now := s.now()
	applied := 0
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if s.d.dollar {
			// The timeline events written here take ids from the events
			// sequence: under the lock ingestion takes, so that a
			// workspace's event ids commit in order and the engine,
			// which follows them, skips none.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", workspaceID); err != nil {
				return fmt.Errorf("record changes: lock workspace %d: %w", workspaceID, err)
			}
		}
		bySeg := map[int64][]touchbase.MembershipChange{}
		for _, c := range changes {
			bySeg[c.SegmentID] = append(bySeg[c.SegmentID], c)
		}
		segIDs := make([]int64, 0, len(bySeg))
		for id := range bySeg {
			segIDs = append(segIDs, id)
		}
		slices.Sort(segIDs)
		for _, segID := range segIDs {
			n, err := s.recordSegmentChanges(ctx, tx, workspaceID, segID, bySeg[segID], now)
			if err != nil {
				return fmt.Errorf("record changes of segment %d: %w", segID, err)
			}
			applied += n
		}
		return nil
	})
	return applied, err
}

// recordSegmentChanges records one segment's changes and returns how many
// were real.
func (s *Store) recordSegmentChanges(ctx context.Context, tx *sql.Tx, ws, segID int64, changes []touchbase.MembershipChange, now int64) (int, error) {
	var name string
	err := tx.QueryRowContext(ctx, s.d.q("SELECT name FROM segments WHERE workspace_id = ? AND id = ?"), ws, segID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // deleted meanwhile: nothing to record
	} else if err != nil {
		return 0, err
	}
	// The last change per customer wins; then keep only real changes of
	// customers that exist.
	last := map[int64]touchbase.MembershipChange{}
	ids := make([]any, 0, len(changes))
	for _, c := range changes {
		if _, ok := last[c.CustomerID]; !ok {
			ids = append(ids, c.CustomerID)
		}
		last[c.CustomerID] = c
	}
	member := map[int64]bool{}
	err = s.queryIn(ctx, tx, "SELECT customer_id FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND customer_id IN (%s)",
		[]any{ws, segID}, ids, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			member[id] = true
			return err
		})
	if err != nil {
		return 0, err
	}
	exists := map[int64]bool{}
	err = s.queryIn(ctx, tx, "SELECT id FROM customers WHERE workspace_id = ? AND id IN (%s)", []any{ws}, ids, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		exists[id] = true
		return err
	})
	if err != nil {
		return 0, err
	}
	var enter, leave, hist, events []any
	delta := 0
	for _, idv := range ids {
		id := idv.(int64)
		c := last[id]
		if c.Entered == member[id] || (c.Entered && !exists[id]) {
			continue
		}
		at := c.At.UnixMilli()
		if c.At.IsZero() {
			at = now
		}
		event := touchbase.EventSegmentExited
		if c.Entered {
			enter = append(enter, ws, segID, id, at)
			event = touchbase.EventSegmentEntered
			delta++
		} else {
			leave = append(leave, id)
			delta--
		}
		hist = append(hist, ws, segID, id, c.Entered, at)
		if exists[id] {
			props, _ := json.Marshal(map[string]any{"segment_id": segID, "segment": name})
			events = append(events, ws, id, fmt.Sprintf("tb-segment-%d-%d-%d-%t", segID, id, at, c.Entered),
				string(touchbase.EventTrack), event, "", "", at, now, string(props), nil)
		}
	}
	if len(hist) == 0 {
		return 0, nil
	}
	if err := s.insertRows(ctx, tx, &insertMembers, enter); err != nil {
		return 0, err
	}
	for len(leave) > 0 {
		n := min(len(leave), 500)
		q := "DELETE FROM segment_members WHERE workspace_id = ? AND segment_id = ? AND customer_id IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
		if _, err := tx.ExecContext(ctx, s.d.q(q), append([]any{ws, segID}, leave[:n]...)...); err != nil {
			return 0, err
		}
		leave = leave[n:]
	}
	if err := s.insertRows(ctx, tx, &insertMembershipChanges, hist); err != nil {
		return 0, err
	}
	if err := s.insertRows(ctx, tx, &insertEvents, events); err != nil {
		return 0, err
	}
	var size int64
	if err := tx.QueryRowContext(ctx, s.d.q("UPDATE segments SET size = size + ? WHERE workspace_id = ? AND id = ? RETURNING size"), delta, ws, segID).Scan(&size); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO segment_sizes (workspace_id, segment_id, at, size) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, segment_id, at) DO UPDATE SET size = excluded.size`), ws, segID, now/sizeBucket*sizeBucket, size)
	if err != nil {
		return 0, err
	}
	return len(hist) / insertMembershipChanges.cols, nil
}

// AddStaticMembers adds customers to a static segment and returns how many
// were not members yet; ENOTFOUND for an unknown segment or customer,
// EINVALID for a dynamic segment.
func (s *Store) AddStaticMembers(ctx context.Context, workspaceID, segmentID int64, customerIDs []int64) (int, error) {
	return s.changeStaticMembers(ctx, workspaceID, segmentID, customerIDs, true)
}

// RemoveStaticMembers removes customers from a static segment and returns
// how many were members; ENOTFOUND, EINVALID as AddStaticMembers.
func (s *Store) RemoveStaticMembers(ctx context.Context, workspaceID, segmentID int64, customerIDs []int64) (int, error) {
	return s.changeStaticMembers(ctx, workspaceID, segmentID, customerIDs, false)
}

func (s *Store) changeStaticMembers(ctx context.Context, workspaceID, segmentID int64, customerIDs []int64, add bool) (int, error) {
	seg, err := s.FindSegment(ctx, workspaceID, segmentID)
	if err != nil {
		return 0, err
	}
	if seg.Kind != touchbase.SegmentStatic {
		return 0, touchbase.Errorf(touchbase.EINVALID, "segment %q is dynamic: its members follow its definition", seg.Name)
	}
	changes := make([]touchbase.MembershipChange, 0, len(customerIDs))
	at := timeOf(s.now())
	for _, id := range customerIDs {
		changes = append(changes, touchbase.MembershipChange{SegmentID: segmentID, CustomerID: id, Entered: add, At: at})
	}
	return s.recordMembershipChanges(ctx, workspaceID, changes)
}

// SegmentSizes returns the recorded sizes since since, oldest first.
func (s *Store) SegmentSizes(ctx context.Context, workspaceID, segmentID int64, since time.Time) ([]touchbase.SegmentSize, error) {
	var out []touchbase.SegmentSize
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT at, size FROM segment_sizes WHERE workspace_id = ? AND segment_id = ? AND at >= ? ORDER BY at"),
			[]any{workspaceID, segmentID, ms(since)}, func(rows *sql.Rows) error {
				var at int64
				var z touchbase.SegmentSize
				if err := rows.Scan(&at, &z.Size); err != nil {
					return err
				}
				z.At = timeOf(at)
				out = append(out, z)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("segment %d sizes: %w", segmentID, err)
	}
	return out, nil
}

// SegmentsOf returns the ids of the segments a customer is in, ascending.
func (s *Store) SegmentsOf(ctx context.Context, workspaceID, customerID int64) ([]int64, error) {
	var ids []int64
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT segment_id FROM segment_members WHERE workspace_id = ? AND customer_id = ? ORDER BY segment_id"),
			[]any{workspaceID, customerID}, func(rows *sql.Rows) error {
				var id int64
				err := rows.Scan(&id)
				ids = append(ids, id)
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("segments of customer %d: %w", customerID, err)
	}
	return ids, nil
}

// MembershipChanges returns a customer's changes, newest first (limit 50
// when <= 0).
func (s *Store) MembershipChanges(ctx context.Context, workspaceID, customerID int64, limit int) ([]touchbase.MembershipChange, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	var out []touchbase.MembershipChange
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q("SELECT segment_id, customer_id, entered, at FROM membership_changes WHERE workspace_id = ? AND customer_id = ? ORDER BY id DESC LIMIT ?"),
			[]any{workspaceID, customerID, limit}, func(rows *sql.Rows) error {
				var c touchbase.MembershipChange
				var at int64
				if err := rows.Scan(&c.SegmentID, &c.CustomerID, &c.Entered, &at); err != nil {
					return err
				}
				c.At = timeOf(at)
				out = append(out, c)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("customer %d membership changes: %w", customerID, err)
	}
	return out, nil
}
