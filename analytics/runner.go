// Package analytics runs the customer-intelligence analyses of a
// workspace: it reads the store's orders, hands them to the pure
// algorithms of its subpackages (rfm, kmeans, clv, basket, recommend,
// cohort), writes the per-customer results back as scores (which segments
// name as features, see Features), and records every run with its
// parameters and result. The subpackages do no I/O; this one does it only
// through the Store it is given.
package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Store is what a Runner reads and writes; *store.Store is one.
type Store interface {
	CreateAnalysisRun(ctx context.Context, run *touchbase.AnalysisRun) error
	FinishAnalysisRun(ctx context.Context, run *touchbase.AnalysisRun) error
	LatestAnalysisRun(ctx context.Context, workspaceID int64, kind touchbase.AnalysisKind) (*touchbase.AnalysisRun, error)
	ListAnalysisRuns(ctx context.Context, workspaceID int64, kind touchbase.AnalysisKind, limit int) ([]*touchbase.AnalysisRun, error)
	ListWorkspaces(ctx context.Context) ([]*touchbase.Workspace, error)
	BuyerTotals(ctx context.Context, workspaceID int64, since, until time.Time) ([]touchbase.BuyerTotals, error)
	ScanOrderFacts(ctx context.Context, workspaceID int64, fn func(touchbase.OrderFact) error) error
	ScanOrderLines(ctx context.Context, workspaceID int64, fn func(touchbase.OrderLine) error) error
	ScanCustomers(ctx context.Context, workspaceID int64, fn func(c *touchbase.Customer, traits []byte) error) error
	// The Save*Scores tell progress how many scores are saved, as they
	// are.
	SaveRFMScores(ctx context.Context, workspaceID, run int64, scores []touchbase.RFMScore, progress func(saved int)) error
	SaveClusterScores(ctx context.Context, workspaceID, run int64, scores []touchbase.ClusterScore, progress func(saved int)) error
	SaveCLVScores(ctx context.Context, workspaceID, run int64, scores []touchbase.CLVScore, progress func(saved int)) error
	CustomerClusters(ctx context.Context, workspaceID int64) ([]touchbase.ClusterScore, error)
	FindProducts(ctx context.Context, workspaceID int64, ids []string) ([]*touchbase.Product, error)
}

// Config tunes a Runner.
type Config struct {
	// Every is how often the background loop (Open) runs every analysis
	// of every workspace with orders; 0 means never, runs on demand only.
	Every time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Progress is told how a run advances: the stage it is in and, when
// known, how much of it is done out of total.
type Progress func(stage string, done, total int)

// saved is the store's progress in saving total scores, told to progress.
func saved(progress Progress, total int) func(int) {
	return func(n int) { progress("saving scores", n, total) }
}

// Runner runs analyses, one at a time per workspace and kind.
type Runner struct {
	st  Store
	reg *segment.Registry
	cfg Config

	mu       sync.Mutex
	running  map[runKey]bool
	live     map[int64]touchbase.AnalysisProgress // of the runs under way, by id
	catalogs map[int64]*catalog                   // per workspace, see recommend.go

	// bg is the context of background work (Start, the schedule),
	// cancelled by Close.
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type runKey struct {
	ws   int64
	kind touchbase.AnalysisKind
}

// New returns a Runner over st; reg names the features clustering may
// use.
func New(st Store, reg *segment.Registry, cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{st: st, reg: reg, cfg: cfg, running: map[runKey]bool{}, live: map[int64]touchbase.AnalysisProgress{}, catalogs: map[int64]*catalog{}}
	r.bg, r.cancel = context.WithCancel(context.Background())
	return r
}

// Run runs one analysis of workspace ws now, records it, writes its
// scores and returns the finished run (its Result is the kind's result
// type as JSON: RFMResult, ClusterResult, CLVResult, BasketResult or
// CohortResult). A run that fails is recorded with its error, and the
// error is returned. EINVALID for bad parameters, ECONFLICT when the same
// analysis of the workspace is running already. progress may be nil.
func (r *Runner) Run(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p Params, progress Progress) (*touchbase.AnalysisRun, error) {
	run, err := r.begin(ctx, ws, kind, &p)
	if err != nil {
		return nil, err
	}
	return run, r.execute(ctx, run, p, progress)
}

// Start is Run in the background: it returns the run as recorded at its
// start (ECONFLICT and EINVALID as Run), and the run goes on until it
// ends or the Runner is closed.
func (r *Runner) Start(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p Params) (*touchbase.AnalysisRun, error) {
	run, err := r.begin(ctx, ws, kind, &p)
	if err != nil {
		return nil, err
	}
	started := *run
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = r.execute(r.bg, run, p, nil) // recorded with the run
	}()
	return &started, nil
}

// begin checks p, claims the workspace's kind and records the run's start.
func (r *Runner) begin(ctx context.Context, ws int64, kind touchbase.AnalysisKind, p *Params) (*touchbase.AnalysisRun, error) {
	if !kind.Valid() {
		return nil, touchbase.Errorf(touchbase.EINVALID, "analysis %q is not one of rfm, clusters, clv, basket, cohorts", kind)
	}
	if p.AsOf.IsZero() {
		p.AsOf = r.cfg.Now().UTC()
	}
	if err := p.resolve(kind, r.reg); err != nil {
		return nil, err
	}
	params, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("%s params: %w", kind, err)
	}
	key := runKey{ws, kind}
	r.mu.Lock()
	if r.running[key] {
		r.mu.Unlock()
		return nil, touchbase.Errorf(touchbase.ECONFLICT, "the %s analysis of this workspace is running already", kind)
	}
	r.running[key] = true
	r.mu.Unlock()
	run := &touchbase.AnalysisRun{WorkspaceID: ws, Kind: kind, Params: params}
	if err := r.st.CreateAnalysisRun(ctx, run); err != nil {
		r.release(key)
		return nil, err
	}
	return run, nil
}

func (r *Runner) release(key runKey) {
	r.mu.Lock()
	delete(r.running, key)
	r.mu.Unlock()
}

// execute runs what begin recorded, and records how it ended.
func (r *Runner) execute(ctx context.Context, run *touchbase.AnalysisRun, p Params, told Progress) error {
	defer r.release(runKey{run.WorkspaceID, run.Kind})
	defer func() {
		r.mu.Lock()
		delete(r.live, run.ID)
		r.mu.Unlock()
	}()
	progress := func(stage string, done, total int) {
		r.mu.Lock()
		r.live[run.ID] = touchbase.AnalysisProgress{Stage: stage, Done: done, Total: total}
		r.mu.Unlock()
		if told != nil {
			told(stage, done, total)
		}
	}
	start := time.Now()
	result, err := r.analyse(ctx, run, p, progress)
	if err == nil {
		run.Result, err = json.Marshal(result)
	}
	if err != nil {
		run.Error = err.Error()
	}
	// The record is finished even when the caller has gone away.
	if ferr := r.st.FinishAnalysisRun(context.WithoutCancel(ctx), run); ferr != nil && err == nil {
		err = ferr
	}
	r.cfg.Logger.Info("analytics: run", "workspace", run.WorkspaceID, "kind", run.Kind, "customers", run.Customers, "took", time.Since(start), "err", err)
	if err != nil {
		return err
	}
	return nil
}

// analyse runs the analysis of run's kind. A panic in it is the run's
// error, logged with its stack: an analysis runs in the background of a
// server (Start, the loop), where a panic would take the whole process
// down with it, and one workspace's data must never do that.
func (r *Runner) analyse(ctx context.Context, run *touchbase.AnalysisRun, p Params, progress Progress) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.cfg.Logger.Error("analytics: run panicked", "workspace", run.WorkspaceID, "kind", run.Kind, "run", run.ID, "panic", v, "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("%s: internal error: %v", run.Kind, v)
		}
	}()
	switch run.Kind {
	case touchbase.AnalysisRFM:
		return r.runRFM(ctx, run, p, progress)
	case touchbase.AnalysisClusters:
		return r.runClusters(ctx, run, p, progress)
	case touchbase.AnalysisCLV:
		return r.runCLV(ctx, run, p, progress)
	case touchbase.AnalysisBasket:
		return r.runBasket(ctx, run, p, progress)
	case touchbase.AnalysisCohorts:
		return r.runCohorts(ctx, run, p, progress)
	}
	return nil, fmt.Errorf("analysis %q is not known", run.Kind)
}

// Progress returns where run id stands, if it is under way in this
// Runner.
func (r *Runner) Progress(id int64) (touchbase.AnalysisProgress, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.live[id]
	return p, ok
}

// Open starts the loop that runs every analysis of every workspace each
// cfg.Every (nothing when it is 0): ten seconds after start the analyses
// never run or older than that, then each as it falls due. A run tells
// nobody when it finishes: it is on the store's change feed, which the
// segment engine follows.
func (r *Runner) Open(ctx context.Context) error {
	if r.cfg.Every <= 0 {
		return nil
	}
	r.wg.Add(1)
	go r.loop(r.bg)
	return nil
}

// Close stops the loop and the runs in the background, and waits for
// them: a run cut short is recorded with its error.
func (r *Runner) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

func (r *Runner) loop(ctx context.Context) {
	defer r.wg.Done()
	// Soon after start (a new store, a demo, shows its analyses within
	// seconds), then every tick: each pass runs what is due (stale or
	// never run).
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.runDue(ctx)
		t.Reset(min(r.cfg.Every, time.Hour))
	}
}

// runDue runs, for every workspace, each analysis whose last run (failed
// ones too: a workspace without orders is tried once per cfg.Every) is
// older than cfg.Every.
func (r *Runner) runDue(ctx context.Context) {
	wss, err := r.st.ListWorkspaces(ctx)
	if err != nil {
		r.cfg.Logger.Error("analytics: list workspaces", "err", err)
		return
	}
	for _, w := range wss {
		for _, kind := range touchbase.AnalysisKinds {
			if ctx.Err() != nil {
				return
			}
			last, err := r.st.ListAnalysisRuns(ctx, w.ID, kind, 1)
			if err != nil {
				r.cfg.Logger.Error("analytics: last run", "workspace", w.ID, "kind", kind, "err", err)
				continue
			}
			if len(last) > 0 && r.cfg.Now().Sub(last[0].StartedAt) < r.cfg.Every {
				continue
			}
			_, err = r.Run(ctx, w.ID, kind, Params{}, nil)
			if err != nil && !errors.Is(err, errNoData) && ctx.Err() == nil {
				r.cfg.Logger.Error("analytics: scheduled run failed", "workspace", w.ID, "kind", kind, "err", err)
			}
		}
	}
}

// errNoData is what a run fails with when the workspace has nothing to
// analyse yet (no orders): the schedule does not log it as a failure.
var errNoData = touchbase.Errorf(touchbase.EINVALID, "the workspace has no orders to analyse yet")
