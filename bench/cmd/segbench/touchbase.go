package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
)

// engineResult is what the engine phase measured.
type engineResult struct {
	LoadSeconds     float64     `json:"load_seconds"`     // Index.Load: customers (and no aggregates yet)
	RegisterSeconds float64     `json:"register_seconds"` // PrepareAll and Register of the suite: back-fill of its aggregates
	BackfillSeconds float64     `json:"backfill_seconds"` // both: the engine built from the store
	SuiteMillis     []float64   `json:"suite_ms"`         // full evaluation of the whole suite, per run
	SegmentMillis   [][]float64 `json:"segment_ms"`       // per run, per segment
	Counts          []int       `json:"counts"`
	RSSBytes        int64       `json:"rss_bytes"` // VmRSS after GC, suite registered
	// PeakRSSBytes is VmHWM then: the back-fill's peak, which the server
	// hands back after a workspace's load as the run does here.
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	HeapBytes    uint64  `json:"heap_bytes"`
	Incremental  latency `json:"incremental"`
	// IncrementalAlone is Incremental over the events during which the
	// thread was not preempted (Preempted counts the others): the engine's
	// own latency, without the shared machine's. IncrementalNoFault is
	// over the events that were neither preempted nor took a page fault
	// (Faulted counts those that did).
	IncrementalAlone   latency `json:"incremental_alone"`
	Preempted          int     `json:"incremental_preempted"`
	IncrementalNoFault latency `json:"incremental_no_fault"`
	Faulted            int     `json:"incremental_faulted"`
	// GC during the incremental phase (runtime/metrics).
	GCCycles      uint64  `json:"incremental_gc_cycles"`
	GCAssistMilli float64 `json:"incremental_gc_assist_ms"`
	IncrementalOK bool    `json:"incremental_consistent"`
	Changes       int     `json:"incremental_changes"`
	// Where the time of the slowest 1% of the events neither preempted
	// nor faulting went, against all of those events.
	SlowestSplit eventSplit `json:"incremental_slowest_split"`
	AllSplit     eventSplit `json:"incremental_all_split"`
	// IncrementalWarm is a second run of as many other events right
	// after, following a collection but without returning memory to the
	// OS: a server's steady state, whose heap keeps its free pages
	// between collections. The first run is a server's first events
	// after loading the workspace, right after debug.FreeOSMemory, when
	// each new page faults. WarmFaulted counts the events of the second
	// that took a page fault. The target's verdict is the steady state's.
	IncrementalWarm latency `json:"incremental_warm"`
	WarmFaulted     int     `json:"incremental_warm_faulted"`
	// Noise is a fixed computation of about an event's median cost,
	// timed as the events are, as many times: what this machine adds to
	// a latency's tail by itself (a virtual machine's pauses, which no
	// thread counter sees).
	Noise latency `json:"noise"`
}

// eventSplit describes a set of incremental events: the medians of their
// three steps (microseconds), the share that were their customer's first
// in the phase (whose points the series copy out of the bulk), and the
// median of their customers' stored events.
type eventSplit struct {
	N             int            `json:"n"`
	ApplyCustomer float64        `json:"apply_customer_us"`
	ApplyEvent    float64        `json:"apply_event_us"`
	Changes       float64        `json:"changes_us"`
	FirstShare    float64        `json:"first_share"`
	CustEvents    int            `json:"customer_events"`
	Kinds         map[string]int `json:"kinds"`
}

// stepTimes is one incremental event's record.
type stepTimes struct {
	customer, event, changes time.Duration
	first                    bool
	custEvents               int
	kind                     uint8
}

func (t stepTimes) total() time.Duration { return t.customer + t.event + t.changes }

// splitOf summarises ts.
func splitOf(ts []stepTimes) eventSplit {
	sp := eventSplit{N: len(ts), Kinds: map[string]int{}}
	if len(ts) == 0 {
		return sp
	}
	med := func(f func(stepTimes) float64) float64 {
		v := make([]float64, len(ts))
		for i, t := range ts {
			v[i] = f(t)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	sp.ApplyCustomer = med(func(t stepTimes) float64 { return us(t.customer) })
	sp.ApplyEvent = med(func(t stepTimes) float64 { return us(t.event) })
	sp.Changes = med(func(t stepTimes) float64 { return us(t.changes) })
	sp.CustEvents = int(med(func(t stepTimes) float64 { return float64(t.custEvents) }))
	first := 0
	for _, t := range ts {
		if t.first {
			first++
		}
		sp.Kinds[eventNames[t.kind]]++
	}
	sp.FirstShare = float64(first) / float64(len(ts))
	return sp
}

// latency summarises per-event costs in microseconds.
type latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p999_us"`
	Max  float64 `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

func summariseLatency(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	q := func(p float64) float64 { return us(s[min(len(s)-1, int(p*float64(len(s))))]) }
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return latency{N: len(s), P50: q(0.50), P90: q(0.90), P99: q(0.99), P999: q(0.999), Max: us(s[len(s)-1]), Mean: us(sum) / float64(len(s))}
}

// runEngine measures touchbase's engine on the generated store. It runs in
// a process of its own (see --phase), so that its RSS is the engine's.
func runEngine(ctx context.Context, c *config, d *dataset, logf func(string, ...any)) (*engineResult, error) {
	nodes, err := parseSuite()
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, d.Path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	asOf := c.asOf
	res := &engineResult{}

	var stopProf func()
	if c.cpuprof != "" {
		f, err := os.Create(c.cpuprof)
		if err != nil {
			return nil, err
		}
		pprof.StartCPUProfile(f)
		stopProf = func() { pprof.StopCPUProfile(); f.Close() }
		defer func() {
			if stopProf != nil {
				stopProf()
			}
		}()
	}

	// Back-fill: what `touchbase serve` does at start for a workspace.
	start := time.Now()
	ix := engine.NewIndex(segment.NewRegistry())
	if err := ix.Load(ctx, s, d.Workspace); err != nil {
		return nil, err
	}
	res.LoadSeconds = time.Since(start).Seconds()
	t1 := time.Now()
	// As the engine takes up a workspace's segments: their aggregates
	// back-filled in one scan of the events, then each registered.
	if err := ix.PrepareAll(ctx, nodes, nil); err != nil {
		return nil, err
	}
	for i, n := range nodes {
		if err := ix.Register(ctx, suite[i].Name, n, asOf); err != nil {
			return nil, err
		}
	}
	res.RegisterSeconds = time.Since(t1).Seconds()
	res.BackfillSeconds = time.Since(start).Seconds()
	logf("touchbase: back-fill %.1fs (load %.1fs, register %.1fs), %d customers", res.BackfillSeconds, res.LoadSeconds, res.RegisterSeconds, ix.Len())
	if _, err := ix.Changes(asOf, true); err != nil {
		return nil, err
	}

	// As the server does after loading a workspace (Engine.space).
	debug.FreeOSMemory()
	res.RSSBytes, res.PeakRSSBytes = procStatus("VmRSS"), procStatus("VmHWM")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapBytes = ms.HeapAlloc
	logf("touchbase: RSS %.0f MB with the suite registered (Go heap %.0f MB); peak %.0f MB", float64(res.RSSBytes)/1e6, float64(ms.HeapAlloc)/1e6, float64(res.PeakRSSBytes)/1e6)

	// Full evaluation of the whole suite, --runs times.
	refs := func(name string) (*segment.Node, error) { return nil, fmt.Errorf("no segment %q", name) }
	for run := 0; run < c.runs; run++ {
		per := make([]float64, len(nodes))
		t := time.Now()
		for i, n := range nodes {
			t0 := time.Now()
			bm, err := ix.Evaluate(n, asOf, refs)
			if err != nil {
				return nil, fmt.Errorf("segment %s: %w", suite[i].Name, err)
			}
			per[i] = float64(time.Since(t0).Microseconds()) / 1e3
			if run == 0 {
				ids := ix.Members(bm)
				res.Counts = append(res.Counts, len(ids))
				tracked, err := ix.TrackedMembers(suite[i].Name)
				if err != nil {
					return nil, err
				}
				if !slices.Equal(ids, tracked) {
					return nil, fmt.Errorf("segment %s: Evaluate and the tracked members differ (%d, %d)", suite[i].Name, len(ids), len(tracked))
				}
				if err := writeMembers(c.workdir, "touchbase", suite[i].Name, ids); err != nil {
					return nil, err
				}
			}
		}
		res.SuiteMillis = append(res.SuiteMillis, float64(time.Since(t).Microseconds())/1e3)
		res.SegmentMillis = append(res.SegmentMillis, per)
		logf("touchbase: run %d: whole suite %.1f ms", run+1, res.SuiteMillis[run])
	}

	// Incremental: one event at a time through the real-time path.
	lastID, err := s.LastEventID(ctx, d.Workspace)
	if err != nil {
		return nil, err
	}
	res.Noise = summariseLatency(noise(c.events))
	logf("touchbase: the machine's noise, a fixed computation timed as the events are: p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.0f µs",
		res.Noise.P50, res.Noise.P99, res.Noise.P999, res.Noise.Max)
	gc0 := gcMetrics()
	lat, alone, noFault, steps, changes, err := incremental(ix, d, c, 99, lastID)
	if err != nil {
		return nil, err
	}
	res.AllSplit = splitOf(steps)
	slices.SortFunc(steps, func(a, b stepTimes) int { return cmp.Compare(b.total(), a.total()) })
	res.SlowestSplit = splitOf(steps[:len(steps)/100])
	gc1 := gcMetrics()
	res.GCCycles, res.GCAssistMilli = gc1.cycles-gc0.cycles, 1e3*(gc1.assist-gc0.assist)
	res.Incremental, res.Changes = summariseLatency(lat), changes
	res.IncrementalAlone, res.Preempted = summariseLatency(alone), len(lat)-len(alone)
	res.IncrementalNoFault, res.Faulted = summariseLatency(noFault), len(alone)-len(noFault)
	logf("touchbase: incremental p50 %.1f µs, p99 %.1f µs, max %.0f µs over %d events (%d membership changes); not preempted (%d): p99 %.1f µs; %d GC cycles, %.1f ms of assists",
		res.Incremental.P50, res.Incremental.P99, res.Incremental.Max, len(lat), changes, len(alone), res.IncrementalAlone.P99, res.GCCycles, res.GCAssistMilli)
	for _, x := range []struct {
		what string
		sp   eventSplit
	}{{"all", res.AllSplit}, {"slowest 1%", res.SlowestSplit}} {
		logf("touchbase: incremental, %s of the %d events neither preempted nor faulting: medians ApplyCustomer %.1f µs, ApplyEvent %.1f µs, Changes %.1f µs; %.0f%% their customer's first; customer's events %d; %v",
			x.what, len(noFault), x.sp.ApplyCustomer, x.sp.ApplyEvent, x.sp.Changes, 100*x.sp.FirstShare, x.sp.CustEvents, x.sp.Kinds)
	}
	runtime.GC()
	warm, warmAlone, warmNoFault, _, _, err := incremental(ix, d, c, 100, lastID+int64(c.events))
	if err != nil {
		return nil, err
	}
	res.IncrementalWarm, res.WarmFaulted = summariseLatency(warm), len(warmAlone)-len(warmNoFault)
	logf("touchbase: incremental on a warm heap: p50 %.1f µs, p99 %.1f µs, %d events faulted", res.IncrementalWarm.P50, res.IncrementalWarm.P99, res.WarmFaulted)
	if stopProf != nil {
		stopProf()
		stopProf = nil
	}
	// The tracked memberships, kept up to date event by event, must be
	// what a full evaluation says now.
	res.IncrementalOK = true
	for i, n := range nodes {
		bm, err := ix.Evaluate(n, asOf, refs)
		if err != nil {
			return nil, err
		}
		tracked, _ := ix.TrackedMembers(suite[i].Name)
		if !slices.Equal(ix.Members(bm), tracked) {
			res.IncrementalOK = false
			logf("touchbase: segment %s: incremental memberships differ from a full evaluation", suite[i].Name)
		}
	}
	return res, nil
}

// incremental applies --events new events one at a time, as the engine's
// real-time path does (the profile, then the event, then Changes), and
// times each: all, those during which the thread ran alone (was not
// preempted), and those of these that took no page fault.
//
// steps splits the time of each event neither preempted nor faulting.
// stream seeds which customers and events; the events' ids follow lastID.
func incremental(ix *engine.Index, d *dataset, c *config, stream uint64, lastID int64) (all, alone, noFault []time.Duration, steps []stepTimes, changes int, err error) {
	// One thread, so that its involuntary context switches are the
	// events'.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g := newGenerator(d.Seed, d.Customers, c.asOf)
	r := rand.New(rand.NewPCG(d.Seed, stream))
	profiles := map[int64]*touchbase.Customer{}
	asOf := c.asOf
	all = make([]time.Duration, 0, c.events)
	alone = make([]time.Duration, 0, c.events)
	noFault = make([]time.Duration, 0, c.events)
	for k := range c.events {
		id := 1 + r.Int64N(int64(d.Customers))
		cust, seen := profiles[id]
		if !seen {
			gc, _ := g.customer(id, nil)
			cust = gc.profile(d.Workspace)
			profiles[id] = cust
		}
		// An event a few minutes before as-of, with the store's mix.
		ts := asOf.UnixMilli() - r.Int64N(10*msMin)
		kind := uint8([]int{evViewed, evViewed, evViewed, evViewed, evViewed, evAdded, evCheckout, evOrder, evOpened, evClicked}[r.IntN(10)])
		ev := genEvent{Kind: kind, TS: ts, Category: categories[r.IntN(len(categories))], Revenue: float64(4+r.IntN(400)) * 0.25, Campaign: r.IntN(500)}
		f := &cust.Features
		f.Events++
		t := time.UnixMilli(ts).UTC()
		f.LastSeenAt = &t
		if kind == evOrder {
			f.Orders++
			f.Revenue += ev.Revenue
			f.AOV = f.Revenue / float64(f.Orders)
			f.LastOrderAt = &t
			ev.OrderSeq = f.Orders
		}
		row := touchbase.EventRow{ID: lastID + int64(k) + 1, CustomerID: id, Event: eventNames[kind], Timestamp: ts, Properties: []byte(ev.props(id))}
		sw, pf := threadCounters()
		t0 := time.Now()
		ix.ApplyCustomer(cust)
		t1 := time.Now()
		ix.ApplyEvent(row)
		t2 := time.Now()
		cs, err := ix.Changes(asOf, false)
		t3 := time.Now()
		dt := t3.Sub(t0)
		all = append(all, dt)
		sw1, pf1 := threadCounters()
		if sw1 == sw {
			alone = append(alone, dt)
			if pf1 == pf {
				noFault = append(noFault, dt)
				steps = append(steps, stepTimes{customer: t1.Sub(t0), event: t2.Sub(t1), changes: t3.Sub(t2),
					first: !seen, custEvents: cust.Features.Events, kind: kind})
			}
		}
		if err != nil {
			return nil, nil, nil, nil, 0, err
		}
		changes += len(cs)
	}
	return all, alone, noFault, steps, changes, nil
}

// noise times n runs of a fixed computation of about 6 µs (an event's
// median cost) the way incremental times an event, on a locked thread.
// Its spread is the machine's, not the engine's.
func noise(n int) []time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	all := make([]time.Duration, 0, n)
	h := uint64(14695981039346656037)
	for range n {
		t0 := time.Now()
		for i := range 6000 { // FNV-1a over the counter: no memory, no branches to miss
			h ^= uint64(i)
			h *= 1099511628211
		}
		all = append(all, time.Since(t0))
	}
	noiseSink = h
	return all
}

// noiseSink keeps noise's computation from being optimised away.
var noiseSink uint64

type gcCounters struct {
	cycles uint64
	assist float64 // seconds of CPU in mark assists
}

func gcMetrics() gcCounters {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/mark/assist:cpu-seconds"}}
	metrics.Read(s)
	var g gcCounters
	if s[0].Value.Kind() == metrics.KindUint64 {
		g.cycles = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64 {
		g.assist = s[1].Value.Float64()
	}
	return g
}

// profile is the customer as the store returns it.
func (c *genCustomer) profile(ws int64) *touchbase.Customer {
	ms := func(v int64) *time.Time {
		if v == 0 {
			return nil
		}
		t := time.UnixMilli(v).UTC()
		return &t
	}
	f := touchbase.Features{Orders: c.Orders, Revenue: c.Revenue, FirstOrderAt: ms(c.FirstOrderAt), LastOrderAt: ms(c.LastOrderAt),
		FirstSeenAt: ms(c.FirstSeenAt), LastSeenAt: ms(c.LastSeenAt), Events: c.Events}
	if c.Orders > 0 {
		f.AOV = c.Revenue / float64(c.Orders)
	}
	created := time.UnixMilli(c.CreatedAt).UTC()
	return &touchbase.Customer{ID: c.ID, WorkspaceID: ws, UserID: c.UserID, Email: c.Email, Traits: c.Traits(), Features: f, CreatedAt: created, UpdatedAt: created}
}

// procStatus returns a size field of /proc/self/status (VmRSS, VmHWM) in
// bytes, 0 where there is none.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// writeMembers writes a system's members of a segment (ascending ids) for
// the comparison.
func writeMembers(dir, system, seg string, ids []int64) error {
	b := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(id))
	}
	return os.WriteFile(filepath.Join(dir, system+"-"+seg+".members"), b, 0o644)
}

func readMembers(dir, system, seg string) ([]int64, error) {
	b, err := os.ReadFile(filepath.Join(dir, system+"-"+seg+".members"))
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(b)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}
