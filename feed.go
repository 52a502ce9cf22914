package touchbase

import "context"

// ChangeFeed is the durable, ordered record of what happened in a
// workspace, which consumers follow by cursor: the events (everything a
// customer did, and what touchbase did to them), the membership changes
// (who entered and left which segment), the analysis runs as they finish
// (scoring runs change customers' features without an event) and the
// imports as they finish.
//
// Each stream is read after a cursor: the position of the last entry a
// consumer has taken up (0 for the beginning). Positions are assigned at
// commit, in commit order within a workspace, and never reused, so a
// consumer that saves its cursor with its own state resumes after a
// restart exactly where it stopped, missing nothing and seeing nothing
// twice. Head says where each stream stands, for a consumer that starts
// from now rather than from the beginning.
//
// Changed is the in-process notification: a channel closed at the next
// commit of anything (a consumer takes the channel, reads after its
// cursors, then waits on the channel; what was committed in between
// closes it at once). Commits by other processes (the CLI, other nodes)
// close no channel here: consumers also read on a timer.
type ChangeFeed interface {
	// EventsAfter returns up to limit of the workspace's events after
	// position after (an event's ID), in order.
	EventsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]EventRow, error)
	// MembershipChangesAfter returns up to limit of the workspace's
	// membership changes after position after (a change's ID), in order.
	MembershipChangesAfter(ctx context.Context, workspaceID, after int64, limit int) ([]MembershipChange, error)
	// AnalysisRunsAfter returns up to limit of the workspace's analysis
	// runs that finished after position after (a run's Seq), in the
	// order they finished.
	AnalysisRunsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]*AnalysisRun, error)
	// ImportsAfter returns up to limit of the workspace's imports that
	// finished (done or failed) after position after (an import's Seq),
	// in the order they finished.
	ImportsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]*Import, error)
	// Head returns the newest position of each of the workspace's
	// streams.
	Head(ctx context.Context, workspaceID int64) (FeedPosition, error)
	// Changed returns a channel that is closed when the next commit
	// lands. It never blocks.
	Changed() <-chan struct{}
}

// FeedPosition is a position in each stream of a workspace's change feed.
// AnalysisRuns and Imports count in one sequence of the workspace's
// finished runs and imports, so either may skip numbers.
type FeedPosition struct {
	Events            int64 `json:"events"`
	MembershipChanges int64 `json:"membership_changes"`
	AnalysisRuns      int64 `json:"analysis_runs"`
	Imports           int64 `json:"imports"`
}
