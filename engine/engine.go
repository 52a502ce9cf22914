package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Store is what an Engine reads its workspaces from and records
// memberships in; *store.Store is one. The engine follows its change feed:
// the events, and the scoring runs (which change features without an
// event).
type Store interface {
	Source
	touchbase.ChangeFeed
	CreateSegment(ctx context.Context, s *touchbase.Segment, check touchbase.SegmentCheck) error
	UpdateSegment(ctx context.Context, s *touchbase.Segment, check touchbase.SegmentCheck) error
	DeleteSegment(ctx context.Context, workspaceID, id int64, check touchbase.SegmentCheck) error
	FindSegment(ctx context.Context, workspaceID, id int64) (*touchbase.Segment, error)
	ListSegments(ctx context.Context, workspaceID int64) ([]*touchbase.Segment, error)
	SegmentMembers(ctx context.Context, workspaceID, segmentID int64) ([]int64, error)
	RecordMembershipChanges(ctx context.Context, workspaceID int64, changes []touchbase.MembershipChange) error
	FindCustomers(ctx context.Context, workspaceID int64, ids []int64) ([]*touchbase.Customer, error)
}

// Config tunes an Engine.
type Config struct {
	// Every is how often segments whose truth depends on the clock are
	// re-evaluated (default one minute).
	Every time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// ReadOnly makes an engine that records nothing: no membership
	// changes, ever (the CLI's, beside the server that owns them).
	ReadOnly bool
}

// Engine keeps every workspace's segments evaluated: one Index per
// workspace, loaded from the store on first use, following the store's
// change feed (events, scoring runs) as they commit, and recording who
// enters and leaves each segment (membership_changes, the customers'
// timelines). It is derived state: a new Engine over the same store
// compares what it evaluates with the members the store recorded, so a
// restart records only real changes.
//
// Reads never write. Members, Explain and Vocabulary evaluate the index
// as it stands once it has caught up with the store's head; recording the
// changes is the loop's (Open), or Sync's when there is no loop. A read
// waits for the loop to catch up rather than catching up itself, so what
// the store records is what the loop saw, whoever asked.
type Engine struct {
	st  Store
	reg *segment.Registry
	cfg Config

	mu     sync.Mutex
	spaces map[int64]*space
	// failures are the workspaces whose last load or sync in the loop
	// failed (health.go).
	failures map[int64]error

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	// looping is set while the loop runs (Open to Close).
	looping bool
}

// space is one workspace's index and segments.
type space struct {
	mu   sync.Mutex // one sync at a time
	ws   int64
	ix   *Index
	segs map[string]*touchbase.Segment // by name, as last taken up
	// tracked are the segments registered with the index (a definition
	// that cannot be evaluated is in segs, not here).
	tracked map[string]bool
	// runs is the change feed's position of the last analysis run taken
	// up (its scores are in the index).
	runs int64
	// reconcile says that segments were taken up (a load, a definition
	// changed) and the next sync compares their members with the store's
	// instead of reporting the index's changes.
	reconcile bool
	// synced is closed, and replaced, at the end of each sync; syncErr is
	// what that sync returned. Reads wait on it for the loop.
	synced  chan struct{}
	syncErr error
}

// tailBatch is how many events one read of the events table takes.
const tailBatch = 10000

// New returns an Engine over st; call Open to keep segments fresh in the
// background, or use it synchronously (the CLI does).
func New(st Store, reg *segment.Registry, cfg Config) *Engine {
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{st: st, reg: reg, cfg: cfg, spaces: map[int64]*space{}, kick: make(chan struct{}, 1)}
}

// Open starts the loop that loads workspaces (recording what changed
// while touchbase was stopped), follows the store's change feed and the
// clock. The given workspaces, those with segments, are loaded first, in
// the background: the server answers meanwhile, and a request that needs
// a workspace waits for its load.
func (e *Engine) Open(ctx context.Context, workspaces []int64) error {
	ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.done = make(chan struct{})
	e.mu.Lock()
	e.looping = true
	e.mu.Unlock()
	go e.loop(ctx, workspaces)
	return nil
}

// Close stops the loop.
func (e *Engine) Close() error {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
		e.mu.Lock()
		e.looping = false
		e.mu.Unlock()
	}
	return nil
}

// wake has the loop sync at once. It never blocks.
func (e *Engine) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *Engine) loop(ctx context.Context, workspaces []int64) {
	defer close(e.done)
	for _, ws := range workspaces {
		_, err := e.space(ctx, ws)
		if err != nil && ctx.Err() == nil {
			e.cfg.Logger.Error("segments: cannot load workspace", "workspace", ws, "err", err)
		}
		if ctx.Err() == nil {
			e.noteHealth(ws, err)
		}
	}
	t := time.NewTicker(e.cfg.Every)
	defer t.Stop()
	clock := false
	for {
		// Taken before the sync: what commits during it wakes the next.
		changed := e.st.Changed()
		e.mu.Lock()
		spaces := make([]*space, 0, len(e.spaces))
		for _, sp := range e.spaces {
			spaces = append(spaces, sp)
		}
		e.mu.Unlock()
		for _, sp := range spaces {
			if clock {
				// Segments changed by another process (the CLI) are
				// taken up once a tick.
				if err := e.refreshIfChanged(ctx, sp); err != nil && ctx.Err() == nil {
					e.cfg.Logger.Error("segments: taking up changed segments", "workspace", sp.ws, "err", err)
				}
			}
			err := e.sync(ctx, sp, clock)
			if err != nil && ctx.Err() == nil {
				e.cfg.Logger.Error("segments: keeping memberships up to date", "workspace", sp.ws, "err", err)
			}
			if ctx.Err() == nil {
				e.noteHealth(sp.ws, err)
			}
		}
		clock = false
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-e.kick:
		case <-t.C:
			clock = true
		}
	}
}

// space returns workspace ws's space, loading it on first use.
func (e *Engine) space(ctx context.Context, ws int64) (*space, error) {
	e.mu.Lock()
	sp, ok := e.spaces[ws]
	if !ok {
		sp = &space{ws: ws}
		e.spaces[ws] = sp
	}
	e.mu.Unlock()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.ix != nil {
		return sp, nil
	}
	start := time.Now()
	// The load reads the scores of the runs up to the head, at least.
	head, err := e.st.Head(ctx, ws)
	if err != nil {
		return nil, err
	}
	ix := NewIndex(e.reg)
	if err := ix.Load(ctx, e.st, ws); err != nil {
		return nil, err
	}
	sp.ix, sp.segs, sp.tracked, sp.runs = ix, map[string]*touchbase.Segment{}, map[string]bool{}, head.AnalysisRuns
	if sp.synced == nil {
		sp.synced = make(chan struct{})
	}
	if err := e.takeUp(ctx, sp); err != nil {
		sp.ix = nil
		return nil, err
	}
	e.wake() // the loop records what changed while nobody looked
	// The back-fill's scratch (events decoded, series sorted) is garbage
	// now, and would keep the peak resident for as long as the server
	// runs: the runtime keeps freed memory mapped up to about twice the
	// live heap. Hand it back once, as segbench measures the engine.
	debug.FreeOSMemory()
	e.cfg.Logger.Info("segments: workspace loaded", "workspace", ws, "customers", ix.Len(), "segments", len(sp.segs), "took", time.Since(start))
	return sp, nil
}

// Refresh takes up workspace ws's segments as stored (after one was
// created, changed or deleted) and records the changes in membership.
func (e *Engine) Refresh(ctx context.Context, ws int64) error {
	sp, err := e.space(ctx, ws)
	if err != nil {
		return err
	}
	sp.mu.Lock()
	err = e.takeUp(ctx, sp)
	sp.mu.Unlock()
	if err != nil {
		return err
	}
	return e.sync(ctx, sp, false)
}

// refreshIfChanged takes up the workspace's segments again when the store
// holds others than those taken up: created, changed or deleted, or a
// list whose members changed (its size moved).
func (e *Engine) refreshIfChanged(ctx context.Context, sp *space) error {
	all, err := e.st.ListSegments(ctx, sp.ws)
	if err != nil {
		return err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.ix == nil {
		return nil
	}
	same := len(all) == len(sp.segs)
	for _, seg := range all {
		old, ok := sp.segs[seg.Name]
		if !same || !ok || old.ID != seg.ID || !old.UpdatedAt.Equal(seg.UpdatedAt) ||
			(seg.Kind == touchbase.SegmentStatic && old.Size != seg.Size) {
			same = false
			break
		}
	}
	if same {
		return nil
	}
	return e.takeUp(ctx, sp)
}

// Sync brings workspace ws up to date with the store now: the events
// committed since, and the clock (what the background loop does every
// Config.Every).
func (e *Engine) Sync(ctx context.Context, ws int64) error {
	sp, err := e.space(ctx, ws)
	if err != nil {
		return err
	}
	if err := e.refreshIfChanged(ctx, sp); err != nil {
		return err
	}
	return e.sync(ctx, sp, true)
}

// takeUp registers the stored segments with the index and sets the
// lists; the next sync compares the members with the stored ones and
// records the difference. Called with sp.mu held.
func (e *Engine) takeUp(ctx context.Context, sp *space) error {
	all, err := e.st.ListSegments(ctx, sp.ws)
	if err != nil {
		return err
	}
	byName := map[string]*touchbase.Segment{}
	for _, seg := range all {
		byName[seg.Name] = seg
	}
	for name, old := range sp.segs {
		if seg, ok := byName[name]; !ok || seg.ID != old.ID || seg.Kind != old.Kind {
			if old.Kind == touchbase.SegmentStatic {
				sp.ix.DropList(name)
			} else {
				sp.ix.Unregister(name)
			}
		}
	}
	// Lists first: definitions may name them.
	for _, seg := range all {
		if seg.Kind != touchbase.SegmentStatic {
			continue
		}
		ids, err := e.st.SegmentMembers(ctx, sp.ws, seg.ID)
		if err != nil {
			return err
		}
		sp.ix.SetList(seg.Name, ids)
	}
	// Back-fill the aggregates of the new and changed definitions in one
	// scan of the events rather than one per segment. Errors are left to
	// Register below, which reports each segment's own.
	var fresh []*segment.Node
	for _, seg := range all {
		if old, ok := sp.segs[seg.Name]; seg.Kind != touchbase.SegmentDynamic || (ok && old.ID == seg.ID && string(old.Definition) == string(seg.Definition)) {
			continue
		}
		if n, err := Definition(seg); err == nil {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) > 1 {
		_ = sp.ix.PrepareAll(ctx, fresh, func(name string) (*segment.Node, error) {
			if seg, ok := byName[name]; ok && seg.Kind == touchbase.SegmentDynamic {
				return Definition(seg)
			}
			return nil, touchbase.Errorf(touchbase.ENOTFOUND, "segment %q not found", name)
		})
	}
	// Then definitions, each after those it names.
	now := e.cfg.Now()
	registered := map[string]bool{}
	var register func(seg *touchbase.Segment, stack []string) error
	register = func(seg *touchbase.Segment, stack []string) error {
		if registered[seg.Name] || seg.Kind != touchbase.SegmentDynamic {
			return nil
		}
		if slices.Contains(stack, seg.Name) {
			return fmt.Errorf("segment %q refers to itself through %v", seg.Name, stack)
		}
		n, err := Definition(seg)
		if err != nil {
			return err
		}
		for _, ref := range segment.Refs(n) {
			if dep, ok := byName[ref]; ok {
				if err := register(dep, append(stack, seg.Name)); err != nil {
					return err
				}
			}
		}
		registered[seg.Name] = true
		if old, ok := sp.segs[seg.Name]; ok && old.ID == seg.ID && string(old.Definition) == string(seg.Definition) {
			return nil
		}
		return sp.ix.Register(ctx, seg.Name, n, now)
	}
	for _, seg := range all {
		if err := register(seg, nil); err != nil {
			// One broken definition must not stop the others.
			e.cfg.Logger.Error("segments: cannot evaluate segment", "workspace", sp.ws, "segment", seg.Name, "err", err)
		}
	}
	sp.segs, sp.tracked, sp.reconcile = byName, registered, true
	return nil
}

// appendDiff appends the changes that take segment seg from members old to
// members now (both ascending).
func appendDiff(out []touchbase.MembershipChange, seg int64, old, now []int64, at time.Time) []touchbase.MembershipChange {
	i, j := 0, 0
	for i < len(old) || j < len(now) {
		switch {
		case j == len(now) || (i < len(old) && old[i] < now[j]):
			out = append(out, touchbase.MembershipChange{SegmentID: seg, CustomerID: old[i], At: at})
			i++
		case i == len(old) || now[j] < old[i]:
			out = append(out, touchbase.MembershipChange{SegmentID: seg, CustomerID: now[j], Entered: true, At: at})
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// sync applies what the change feed holds since the last sync (the
// events, with the profiles they touched; the scores of analysis runs),
// re-evaluates (with clock, the clock-dependent segments for everyone),
// and records the changes: the members that differ from the stored ones
// after segments were taken up, the index's changes otherwise. Readers
// waiting for it are told when it ends.
func (e *Engine) sync(ctx context.Context, sp *space, clock bool) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	err := e.syncLocked(ctx, sp, clock)
	sp.syncErr = err
	if sp.synced != nil {
		close(sp.synced)
	}
	sp.synced = make(chan struct{})
	return err
}

func (e *Engine) syncLocked(ctx context.Context, sp *space, clock bool) error {
	if sp.ix == nil {
		return nil
	}
	if err := e.catchUp(ctx, sp); err != nil {
		return err
	}
	now := e.cfg.Now()
	if sp.reconcile {
		return e.reconcile(ctx, sp, now)
	}
	cs, err := sp.ix.Changes(now, clock)
	if err != nil {
		return err
	}
	if len(cs) == 0 || e.cfg.ReadOnly {
		return nil
	}
	changes := make([]touchbase.MembershipChange, 0, len(cs))
	for _, c := range cs {
		seg, ok := sp.segs[c.Segment]
		if !ok {
			continue
		}
		changes = append(changes, touchbase.MembershipChange{SegmentID: seg.ID, CustomerID: c.CustomerID, Entered: c.Entered, At: now.UTC()})
	}
	return e.st.RecordMembershipChanges(ctx, sp.ws, changes)
}

// reconcile brings every segment up to date (the changes this reports
// are in the comparison below), then compares the members as evaluated
// with the members as stored: that is what the store has not recorded
// yet, whatever happened since (a restart, a new definition).
func (e *Engine) reconcile(ctx context.Context, sp *space, now time.Time) error {
	if _, err := sp.ix.Changes(now, true); err != nil {
		return err
	}
	if e.cfg.ReadOnly {
		sp.reconcile = false
		return nil
	}
	var changes []touchbase.MembershipChange
	at := now.UTC()
	for name, seg := range sp.segs {
		if !sp.tracked[name] {
			continue
		}
		got, err := sp.ix.TrackedMembers(name)
		if err != nil {
			return err
		}
		stored, err := e.st.SegmentMembers(ctx, sp.ws, seg.ID)
		if err != nil {
			return err
		}
		changes = appendDiff(changes, seg.ID, stored, got, at)
	}
	if err := e.st.RecordMembershipChanges(ctx, sp.ws, changes); err != nil {
		return err
	}
	sp.reconcile = false
	return nil
}

// runBatch is how many finished runs one read of the feed takes.
const runBatch = 100

// catchUp takes up the scores of the scoring runs finished since the
// last one taken up, then applies the events committed since the index's
// last one.
func (e *Engine) catchUp(ctx context.Context, sp *space) error {
	rescore := false
	for {
		runs, err := e.st.AnalysisRunsAfter(ctx, sp.ws, sp.runs, runBatch)
		if err != nil {
			return err
		}
		for _, run := range runs {
			sp.runs = run.Seq
			rescore = rescore || (run.Kind.Scores() && run.Error == "")
		}
		if len(runs) < runBatch {
			break
		}
	}
	if rescore {
		if err := sp.ix.ReloadProfiles(ctx); err != nil {
			return err
		}
	}
	return followEvents(ctx, e.st, sp.ws, sp.ix)
}

// Forget drops a customer erased from the store and records them leaving
// their segments (the store has removed their memberships already).
func (e *Engine) Forget(ctx context.Context, ws, customerID int64) error {
	e.mu.Lock()
	sp, ok := e.spaces[ws]
	e.mu.Unlock()
	if !ok {
		return nil
	}
	sp.mu.Lock()
	if sp.ix != nil {
		sp.ix.RemoveCustomer(customerID)
	}
	sp.mu.Unlock()
	return e.sync(ctx, sp, false)
}

// refs resolves "in segment" among a workspace's segments as taken up.
func (sp *space) refs(name string) (*segment.Node, error) {
	seg, ok := sp.segs[name]
	if !ok {
		return nil, touchbase.Errorf(touchbase.EINVALID, "there is no segment %q", name)
	}
	if seg.Kind == touchbase.SegmentStatic {
		return &segment.Node{Op: segment.OpInSegment, Segment: name}, nil // a list: the index knows it
	}
	return Definition(seg)
}

// Members returns the ids of n's members as of asOf (now when zero),
// ascending, once caught up with the store.
func (e *Engine) Members(ctx context.Context, ws int64, n *segment.Node, asOf time.Time) ([]int64, error) {
	var ids []int64
	err := e.withPrepared(ctx, ws, n, asOf, func(sp *space, asOf time.Time) error {
		bm, err := sp.ix.Evaluate(n, asOf, sp.refs)
		if err != nil {
			return invalid(err)
		}
		ids = sp.ix.Members(bm)
		return nil
	})
	return ids, err
}

// withPrepared runs fn on workspace ws's space, caught up with the store
// and prepared for n, under its lock; asOf zero becomes now.
func (e *Engine) withPrepared(ctx context.Context, ws int64, n *segment.Node, asOf time.Time, fn func(sp *space, asOf time.Time) error) error {
	sp, err := e.space(ctx, ws)
	if err != nil {
		return err
	}
	if err := e.current(ctx, sp); err != nil {
		return err
	}
	if asOf.IsZero() {
		asOf = e.cfg.Now()
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err := sp.ix.Prepare(ctx, n, sp.refs); err != nil {
		return err
	}
	return fn(sp, asOf)
}

// current returns once sp has taken up everything the store's change
// feed held when it was called: the loop catches up and records, and
// current waits for it. Without a loop (an engine used synchronously, the
// CLI's) current catches the index up itself and leaves the changes for
// the next Sync to record: a read records nothing.
func (e *Engine) current(ctx context.Context, sp *space) error {
	head, err := e.st.Head(ctx, sp.ws)
	if err != nil {
		return err
	}
	for {
		sp.mu.Lock()
		if sp.ix == nil || (sp.ix.LastEventID() >= head.Events && sp.runs >= head.AnalysisRuns) {
			sp.mu.Unlock()
			return nil
		}
		e.mu.Lock()
		looping := e.looping
		e.mu.Unlock()
		if !looping {
			err := e.catchUp(ctx, sp)
			sp.mu.Unlock()
			return err
		}
		synced := sp.synced
		sp.mu.Unlock()
		e.wake()
		select {
		case <-synced:
		case <-ctx.Done():
			return ctx.Err()
		}
		sp.mu.Lock()
		err := sp.syncErr
		sp.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// Vocabulary returns the names workspace ws uses, for "did you mean".
func (e *Engine) Vocabulary(ctx context.Context, ws int64) (segment.Vocabulary, error) {
	sp, err := e.space(ctx, ws)
	if err != nil {
		return segment.Vocabulary{}, err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err := e.noteStoredEvents(ctx, sp); err != nil {
		return segment.Vocabulary{}, err
	}
	v := sp.ix.vocabulary()
	for name := range sp.segs {
		v.Segments = append(v.Segments, name)
	}
	slices.Sort(v.Segments)
	return v, nil
}

// invalid makes an evaluation's complaint about a tree (an unknown
// segment, a cycle) the user's error: evaluation reads no store.
func invalid(err error) error {
	var terr *touchbase.Error
	if errors.As(err, &terr) {
		return err
	}
	return touchbase.Errorf(touchbase.EINVALID, "%s", err)
}

// Definition decodes a dynamic segment's stored definition.
func Definition(seg *touchbase.Segment) (*segment.Node, error) {
	n := new(segment.Node)
	if err := json.Unmarshal(seg.Definition, n); err != nil {
		return nil, fmt.Errorf("segment %q: stored definition: %w", seg.Name, err)
	}
	return n, nil
}
