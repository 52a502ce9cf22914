package touchbase

import (
	"context"
	"encoding/json"
	"time"
)

// SegmentKind says how a segment's members are decided.
type SegmentKind string

// Segment kinds.
const (
	// SegmentDynamic segments hold the customers their condition is true
	// for, kept up to date as customers act and as time passes.
	SegmentDynamic SegmentKind = "dynamic"
	// SegmentStatic segments (lists) hold the customers added to them.
	SegmentStatic SegmentKind = "static"
)

// Valid reports whether k is a known kind.
func (k SegmentKind) Valid() bool { return k == SegmentDynamic || k == SegmentStatic }

// Timeline events touchbase records when a customer enters or leaves a
// segment.
const (
	EventSegmentEntered = "Segment Entered"
	EventSegmentExited  = "Segment Exited"
)

// Segment is a named set of customers. A dynamic segment's Definition is
// its condition as the canonical JSON tree of package segment, and Text the
// same condition as people write it.
type Segment struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"workspace_id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Kind        SegmentKind     `json:"kind"`
	Definition  json.RawMessage `json:"definition,omitempty"`
	Text        string          `json:"text,omitempty"`
	// Size is the number of members when last recorded.
	Size      int       `json:"size"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MembershipChange is one customer entering or leaving one segment.
type MembershipChange struct {
	// ID is the change's position in the change feed (set when it is
	// read back from the store).
	ID         int64     `json:"id,omitempty"`
	SegmentID  int64     `json:"segment_id"`
	CustomerID int64     `json:"customer_id"`
	Entered    bool      `json:"entered"`
	At         time.Time `json:"at"`
}

// SegmentSize is a segment's size at one time.
type SegmentSize struct {
	At   time.Time `json:"at"`
	Size int       `json:"size"`
}

// SegmentStore keeps segments, their current members and the history of
// changes to them. The engine decides dynamic memberships; the store makes
// them durable so that a restart does not see spurious changes.
type SegmentStore interface {
	// CreateSegment stores a new segment; ECONFLICT when the name is
	// taken, EINVALID for a bad name or kind.
	CreateSegment(ctx context.Context, s *Segment, check SegmentCheck) error
	// UpdateSegment saves the name, description, definition and text;
	// ENOTFOUND, ECONFLICT.
	UpdateSegment(ctx context.Context, s *Segment, check SegmentCheck) error
	// DeleteSegment removes the segment, its members and history;
	// ENOTFOUND.
	DeleteSegment(ctx context.Context, workspaceID, id int64, check SegmentCheck) error
	// FindSegment returns ENOTFOUND.
	FindSegment(ctx context.Context, workspaceID, id int64) (*Segment, error)
	// FindSegmentByName returns ENOTFOUND.
	FindSegmentByName(ctx context.Context, workspaceID int64, name string) (*Segment, error)
	// ListSegments returns the workspace's segments by name.
	ListSegments(ctx context.Context, workspaceID int64) ([]*Segment, error)
	// ListAllSegments returns every workspace's segments.
	ListAllSegments(ctx context.Context) ([]*Segment, error)

	// SegmentMembers returns the ids of the stored members, ascending.
	SegmentMembers(ctx context.Context, workspaceID, segmentID int64) ([]int64, error)
	// RecordMembershipChanges applies changes to the stored members,
	// appends them to the history and to each customer's timeline (as
	// Segment Entered / Segment Exited events), and records sizes, in one
	// transaction. A change that is no change (entering a segment one is
	// in) is skipped.
	RecordMembershipChanges(ctx context.Context, workspaceID int64, changes []MembershipChange) error
	// AddStaticMembers adds customers to a static segment (ENOTFOUND for
	// an unknown segment, EINVALID for a dynamic one) and returns how many
	// were not members yet.
	AddStaticMembers(ctx context.Context, workspaceID, segmentID int64, customerIDs []int64) (int, error)
	// RemoveStaticMembers removes customers from a static segment and
	// returns how many were members.
	RemoveStaticMembers(ctx context.Context, workspaceID, segmentID int64, customerIDs []int64) (int, error)
	// SegmentSizes returns the recorded sizes since since, oldest first.
	SegmentSizes(ctx context.Context, workspaceID, segmentID int64, since time.Time) ([]SegmentSize, error)
	// SegmentsOf returns the ids of the segments a customer is in.
	SegmentsOf(ctx context.Context, workspaceID, customerID int64) ([]int64, error)
	// MembershipChanges returns a customer's changes, newest first.
	MembershipChanges(ctx context.Context, workspaceID, customerID int64, limit int) ([]MembershipChange, error)
}

// SegmentCheck vets a change to a workspace's segments against all of
// them as they stand (references and cycles): its error cancels the
// change. The store runs it inside the change's transaction with the
// workspace's segments locked, so two changes checked at once cannot
// both pass against a state neither leaves (two segments naming each
// other). nil checks nothing.
type SegmentCheck func(all []*Segment) error
