package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/touchbase/touchbase/bench/loadgen"
	"github.com/touchbase/touchbase/bench/target"
)

// summary is the JSON document --json writes.
type summary struct {
	Mode    string       `json:"mode"`
	Started time.Time    `json:"started"`
	Binary  string       `json:"binary"` // what was measured: the build's source, or --binary
	Machine machineInfo  `json:"machine"`
	Config  runConfig    `json:"config"`
	Runs    []*runResult `json:"runs"`
	// Aggregate holds, per figure, the median and range over the runs.
	Aggregate map[string]spread `json:"aggregate"`
}

type machineInfo struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpu_model"`
	MemoryGB  float64 `json:"memory_gb"`
	Kernel    string  `json:"kernel"`
	GoVersion string  `json:"go_version"`
	LoadAvg   float64 `json:"loadavg_1m_at_start"`
}

type runConfig struct {
	Line             string  `json:"description"`
	Database         string  `json:"database"`
	PostgresVersion  string  `json:"postgres_version,omitempty"`
	PostgresSettings string  `json:"postgres_settings,omitempty"`
	Senders          int     `json:"senders"`
	Rate             float64 `json:"rate,omitempty"`
	Duration         float64 `json:"duration_s"`
	Events           int64   `json:"soak_events"`
	Users            int     `json:"users"`
	BatchSize        int     `json:"batch_size"`
	Bodies           int     `json:"templates"`
	AvgBodyBytes     int     `json:"avg_body_bytes"`
	Runs             int     `json:"runs"`
	RateLimit        int     `json:"server_rate_limit"`
	Mix              any     `json:"event_mix"`
}

type runResult struct {
	Run     int             `json:"run"`
	Report  *loadgen.Report `json:"load"`
	Verify  verification    `json:"verify"`
	CPU     cpuUsage        `json:"cpu"`
	Commits commitStats     `json:"commits"` // store commits
	// LogCommits are the ingestion log's group commits (none without it).
	LogCommits commitStats `json:"log_commits"`
	// AppliedAtEnd is how many events the store had committed when the
	// load ended; CatchUpSeconds how long it then took to apply the log's
	// backlog.
	AppliedAtEnd   int64         `json:"applied_at_end"`
	CatchUpSeconds float64       `json:"catch_up_s"`
	Memory         memorySummary `json:"memory"`
	LoadAvgBefore  float64       `json:"loadavg_before"`
	// BusyBefore is the machine's busy cores measured by --wait-idle
	// just before the run (-1 without it).
	BusyBefore      float64 `json:"busy_cores_before"`
	LoadAvgAfter    float64 `json:"loadavg_after"`
	ShutdownSeconds float64 `json:"shutdown_s"`
	DBBytes         int64   `json:"db_bytes"`
}

type verification struct {
	OK      bool  `json:"ok"`
	Stored  int64 `json:"stored_events"`
	Acked   int64 `json:"acknowledged_events"`
	Unknown int64 `json:"unanswered_events"`
	// Merges are the server's own "Customers Merged" events, not counted
	// in Stored.
	Merges int64 `json:"merge_events"`
	// ServerCounter is touchbase_ingested_events_total after the run.
	ServerCounter int64  `json:"server_ingested_counter"`
	Customers     int64  `json:"customers"`
	Orders        int64  `json:"orders"`
	Detail        string `json:"detail"`
}

type commitStats struct {
	Count         int64   `json:"count"`
	AvgMessages   float64 `json:"avg_messages"`
	AvgMillis     float64 `json:"avg_ms"`
	CommitsPerSec float64 `json:"per_sec"`
}

// cpuSnapshot is the CPU time used so far by each party.
type cpuSnapshot struct {
	at                  time.Time
	busy                time.Duration // all CPUs, not idle
	server, pg, loadgen time.Duration
}

func snapshotCPU(serverPID, pgPID int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), loadgen: target.SelfCPUTime()}
	s.busy, _, _ = target.MachineCPU()
	s.server, _ = target.CPUTime(serverPID)
	if pgPID > 0 {
		s.pg, _ = target.TreeCPUTime(pgPID)
	}
	return s
}

// cpuUsage is the average number of cores each party kept busy.
type cpuUsage struct {
	Seconds  float64 `json:"wall_s"`
	Machine  float64 `json:"machine_busy_cores"`
	Server   float64 `json:"server_cores"`
	Postgres float64 `json:"postgres_cores,omitempty"`
	Loadgen  float64 `json:"loadgen_cores"`
	// Other is what the rest of the machine used meanwhile: the noise.
	Other float64 `json:"other_cores"`
}

func cpuUse(a, b cpuSnapshot) cpuUsage {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return cpuUsage{}
	}
	cores := func(d time.Duration) float64 { return d.Seconds() / wall }
	u := cpuUsage{
		Seconds:  wall,
		Machine:  cores(b.busy - a.busy),
		Server:   cores(b.server - a.server),
		Postgres: cores(b.pg - a.pg),
		Loadgen:  cores(b.loadgen - a.loadgen),
	}
	u.Other = max(0, u.Machine-u.Server-u.Postgres-u.Loadgen)
	return u
}

// memSample is one sample of the server's memory during a run.
type memSample struct {
	T         float64 `json:"t_s"`
	Acked     int64   `json:"acked_events"`
	RSS       int64   `json:"rss_bytes"`
	HeapInuse int64   `json:"heap_inuse_bytes"`
	DB        int64   `json:"db_bytes,omitempty"`
}

// sampleMemory samples the server every interval until ctx ends, printing
// each sample when live is set (soak).
func sampleMemory(ctx context.Context, every time.Duration, srv *target.Server, runner *loadgen.Runner,
	dbSize func() int64, live bool, logf func(string, ...any)) []memSample {
	var out []memSample
	start := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	if live {
		logf("%8s %12s %10s %9s %9s %9s", "t(s)", "acked", "events/s", "rss(MB)", "heap(MB)", "db(MB)")
	}
	var last memSample
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		s := memSample{T: time.Since(start).Seconds(), Acked: runner.Acked()}
		var err error
		if s.RSS, err = target.RSS(srv.PID()); err != nil {
			continue
		}
		if m, err := srv.Metrics(ctx, "go_memstats_heap_inuse_bytes"); err == nil {
			s.HeapInuse = int64(m["go_memstats_heap_inuse_bytes"])
		}
		s.DB = dbSize()
		out = append(out, s)
		if live {
			rate := float64(s.Acked-last.Acked) / (s.T - last.T)
			logf("%8.0f %12d %10.0f %9.1f %9.1f %9.1f", s.T, s.Acked, rate, mb(s.RSS), mb(s.HeapInuse), mb(s.DB))
		}
		last = s
	}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// memorySummary is the trend of the server's RSS over a run.
type memorySummary struct {
	Samples  []memSample `json:"samples"`
	RSSFirst float64     `json:"rss_first_mb"`
	RSSMed   float64     `json:"rss_median_mb"`
	RSSMax   float64     `json:"rss_max_mb"`
	RSSLast  float64     `json:"rss_last_mb"`
	HeapMax  float64     `json:"heap_inuse_max_mb"`
	// SlopeMBPerMEvents is the least-squares slope of RSS against events
	// acknowledged over the second half of the samples, in MB per million
	// events: about 0 when memory is flat.
	SlopeMBPerMEvents float64 `json:"rss_slope_mb_per_million_events"`
}

func summariseMemory(s []memSample) memorySummary {
	m := memorySummary{Samples: s}
	if len(s) == 0 {
		return m
	}
	rss := make([]float64, len(s))
	for i, x := range s {
		rss[i] = mb(x.RSS)
		m.HeapMax = max(m.HeapMax, mb(x.HeapInuse))
	}
	m.RSSFirst, m.RSSLast = rss[0], rss[len(rss)-1]
	sorted := slices.Clone(rss)
	slices.Sort(sorted)
	m.RSSMed, m.RSSMax = loadgen.Median(sorted), sorted[len(sorted)-1]
	half := s[len(s)/2:]
	if len(half) >= 3 {
		var sx, sy, sxx, sxy float64
		for _, x := range half {
			ev, r := float64(x.Acked)/1e6, mb(x.RSS)
			sx, sy, sxx, sxy = sx+ev, sy+r, sxx+ev*ev, sxy+ev*r
		}
		n := float64(len(half))
		if d := n*sxx - sx*sx; d > 0 {
			m.SlopeMBPerMEvents = (n*sxy - sx*sy) / d
		}
	}
	return m
}

// spread is a figure's median and range over runs.
type spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func spreadOf(xs []float64) spread {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return spread{}
	}
	return spread{Median: loadgen.Median(s), Min: s[0], Max: s[len(s)-1]}
}

// figures are the per-run numbers aggregated over runs.
var figures = []struct {
	name string
	get  func(*runResult) float64
}{
	{"events_per_sec", func(r *runResult) float64 { return r.Report.EventsPerSec }},
	{"window_median_events_per_sec", func(r *runResult) float64 { return r.Report.Window.Median }},
	{"window_min_events_per_sec", func(r *runResult) float64 { return r.Report.Window.Min }},
	{"window_max_events_per_sec", func(r *runResult) float64 { return r.Report.Window.Max }},
	{"latency_p50_ms", func(r *runResult) float64 { return r.Report.Latency.P50 }},
	{"latency_p90_ms", func(r *runResult) float64 { return r.Report.Latency.P90 }},
	{"latency_p99_ms", func(r *runResult) float64 { return r.Report.Latency.P99 }},
	{"latency_max_ms", func(r *runResult) float64 { return r.Report.Latency.Max }},
	{"server_cores", func(r *runResult) float64 { return r.CPU.Server }},
	{"postgres_cores", func(r *runResult) float64 { return r.CPU.Postgres }},
	{"loadgen_cores", func(r *runResult) float64 { return r.CPU.Loadgen }},
	{"other_cores", func(r *runResult) float64 { return r.CPU.Other }},
	{"commit_avg_messages", func(r *runResult) float64 { return r.Commits.AvgMessages }},
	{"log_commit_avg_messages", func(r *runResult) float64 { return r.LogCommits.AvgMessages }},
	{"applied_during_run_events_per_sec", func(r *runResult) float64 { return float64(r.AppliedAtEnd) / r.Report.Elapsed }},
	{"catch_up_s", func(r *runResult) float64 { return r.CatchUpSeconds }},
	{"rss_max_mb", func(r *runResult) float64 { return r.Memory.RSSMax }},
	{"rss_last_mb", func(r *runResult) float64 { return r.Memory.RSSLast }},
	{"rss_slope_mb_per_million_events", func(r *runResult) float64 { return r.Memory.SlopeMBPerMEvents }},
	{"elapsed_s", func(r *runResult) float64 { return r.Report.Elapsed }},
}

func (s *summary) aggregate() {
	s.Aggregate = map[string]spread{}
	if len(s.Runs) == 0 {
		return
	}
	for _, f := range figures {
		xs := make([]float64, len(s.Runs))
		for i, r := range s.Runs {
			xs[i] = f.get(r)
		}
		s.Aggregate[f.name] = spreadOf(xs)
	}
}

func errorsOf(rep *loadgen.Report) string {
	var parts []string
	keys := make([]string, 0, len(rep.Statuses))
	for k := range rep.Statuses {
		if k != "200" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, rep.Statuses[k]))
	}
	if rep.Rejected > 0 {
		parts = append(parts, fmt.Sprintf("rejected events×%d", rep.Rejected))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// printRun prints one run's result as a few readable lines.
func printRun(w io.Writer, mode string, r *runResult) {
	rep := r.Report
	fmt.Fprintf(w, "run %d  (%.1f s, load average %.2f -> %.2f)\n", r.Run, rep.Elapsed, r.LoadAvgBefore, r.LoadAvgAfter)
	switch mode {
	case "throughput":
		fmt.Fprintf(w, "  throughput   %9.0f events/s overall; per second: median %.0f, min %.0f, max %.0f (%d windows)\n",
			rep.EventsPerSec, rep.Window.Median, rep.Window.Min, rep.Window.Max, rep.Window.Count)
	case "rate":
		fmt.Fprintf(w, "  rate         offered %.0f events/s, started %.0f/s, acknowledged %.0f/s; per second: median %.0f, min %.0f, max %.0f\n",
			rep.OfferedRate, rep.StartedPerSec, rep.EventsPerSec, rep.Window.Median, rep.Window.Min, rep.Window.Max)
		fmt.Fprintf(w, "  schedule     max lag %.1f ms, %d requests started >10 ms late (latency counts from the schedule)\n",
			rep.ScheduleLagMax, rep.LateRequests)
	case "soak":
		fmt.Fprintf(w, "  soak         %d events acknowledged in %.0f s: %.0f events/s\n", rep.EventsAcked, rep.Elapsed, rep.EventsPerSec)
	}
	if len(rep.Windows) >= 20 {
		fmt.Fprintf(w, "  trend        events/s by tenths of the run: %s\n", tenths(rep.Windows))
	}
	l := rep.Latency
	fmt.Fprintf(w, "  latency ms   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (%d requests of %d events, %d KB)\n",
		l.P50, l.P90, l.P99, l.P999, l.Max, l.Count, rep.BatchSize, rep.AvgBodyBytes>>10)
	fmt.Fprintf(w, "  errors       %s\n", errorsOf(rep))
	fmt.Fprintf(w, "  verify       %s: %s (/api/v1/stats events minus %d merge events; server counter %d; customers %d, orders %d)\n",
		map[bool]string{true: "OK", false: "FAILED"}[r.Verify.OK], r.Verify.Detail, r.Verify.Merges, r.Verify.ServerCounter,
		r.Verify.Customers, r.Verify.Orders)
	c := r.CPU
	fmt.Fprintf(w, "  cpu cores    server %.2f  postgres %.2f  loadgen %.2f  other %.2f  (machine busy %.2f)\n",
		c.Server, c.Postgres, c.Loadgen, c.Other, c.Machine)
	if lc := r.LogCommits; lc.Count > 0 {
		fmt.Fprintf(w, "  log commits  %d, %.0f messages and %.1f ms each on average, %.1f/s\n",
			lc.Count, lc.AvgMessages, lc.AvgMillis, lc.CommitsPerSec)
		fmt.Fprintf(w, "  applied      %d events in the store when the load ended (%.0f/s); the backlog was applied %.1f s later\n",
			r.AppliedAtEnd, float64(r.AppliedAtEnd)/rep.Elapsed, r.CatchUpSeconds)
	}
	fmt.Fprintf(w, "  commits      %d store commits, %.0f messages and %.1f ms each on average, %.1f/s\n",
		r.Commits.Count, r.Commits.AvgMessages, r.Commits.AvgMillis, r.Commits.CommitsPerSec)
	m := r.Memory
	fmt.Fprintf(w, "  server RSS   first %.0f MB, median %.0f, max %.0f, last %.0f; heap in use max %.0f MB; slope %.2f MB per million events (2nd half)\n",
		m.RSSFirst, m.RSSMed, m.RSSMax, m.RSSLast, m.HeapMax, m.SlopeMBPerMEvents)
	fmt.Fprintf(w, "  database     %.0f MB; graceful shutdown %.1f s\n", mb(r.DBBytes), r.ShutdownSeconds)
	if len(rep.FirstErrors) > 0 {
		fmt.Fprintf(w, "  first errors %s\n", strings.Join(rep.FirstErrors, " | "))
	}
}

// printSummary prints the median and range of the main figures.
func printSummary(w io.Writer, s *summary) {
	fmt.Fprintf(w, "\n%s\n", s.Config.Line)
	fmt.Fprintf(w, "touchbase: %s\n", s.Binary)
	fmt.Fprintf(w, "machine: %d x %s, %.0f GB, Linux %s, %s; ~%d bytes per event\n", s.Machine.CPUs, s.Machine.CPUModel,
		s.Machine.MemoryGB, s.Machine.Kernel, s.Machine.GoVersion, s.Config.AvgBodyBytes/max(1, s.Config.BatchSize))
	if s.Config.Database == "postgres" {
		fmt.Fprintf(w, "postgres %s: %s\n", s.Config.PostgresVersion, s.Config.PostgresSettings)
	}
	fmt.Fprintf(w, "%-34s %12s %12s %12s   (%d runs)\n", "figure", "median", "min", "max", len(s.Runs))
	for _, f := range figures {
		a, ok := s.Aggregate[f.name]
		if !ok || (f.name == "postgres_cores" && a.Max == 0) {
			continue
		}
		fmt.Fprintf(w, "%-34s %12.1f %12.1f %12.1f\n", f.name, a.Median, a.Min, a.Max)
	}
}

// tenths averages per-second windows over each tenth of the run, to show
// whether throughput holds or decays as the database grows.
func tenths(w []int64) string {
	var parts []string
	for i := range 10 {
		lo, hi := len(w)*i/10, len(w)*(i+1)/10
		var sum int64
		for _, x := range w[lo:hi] {
			sum += x
		}
		parts = append(parts, fmt.Sprintf("%.0f", float64(sum)/float64(max(1, hi-lo))))
	}
	return strings.Join(parts, " ")
}
