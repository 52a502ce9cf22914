package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// sqlResult is what one SQL system measured.
type sqlResult struct {
	System        string      `json:"system"`
	Version       string      `json:"version"`
	LoadSeconds   float64     `json:"load_seconds"`
	SuiteMillis   []float64   `json:"suite_ms"`
	SegmentMillis [][]float64 `json:"segment_ms"`
	Counts        []int       `json:"counts"`
	Compiled      []bool      `json:"compiled"` // per segment: segment.CompileSQL's query (else hand-written)
	Notes         string      `json:"notes,omitempty"`
}

// stat is a median and a range.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func statOf(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

func (s stat) String() string {
	if s.Min == s.Max {
		return fmtMs(s.Median)
	}
	return fmt.Sprintf("%s (%s - %s)", fmtMs(s.Median), fmtMs(s.Min), fmtMs(s.Max))
}

func fmtMs(ms float64) string {
	switch {
	case ms >= 10000:
		return fmt.Sprintf("%.1f s", ms/1000)
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	default:
		return fmt.Sprintf("%.1f ms", ms)
	}
}

// target is one of issue 4's requirements and how it came out.
type goal struct {
	What     string `json:"what"`
	Want     string `json:"want"`
	Got      string `json:"got"`
	Verdict  string `json:"verdict"` // PASS, FAIL, or "-" when not measured
	Measured bool   `json:"measured"`
}

// summary is the whole report.
type summary struct {
	Machine   machineInfo   `json:"machine"`
	Dataset   *dataset      `json:"dataset"`
	Suite     []definition  `json:"suite"`
	Runs      int           `json:"runs"`
	Started   time.Time     `json:"started"`
	Touchbase *engineResult `json:"touchbase"`
	DuckDB    *sqlResult    `json:"duckdb,omitempty"`
	Postgres  *sqlResult    `json:"postgres,omitempty"`

	Match      bool     `json:"members_match"`
	Mismatches []string `json:"mismatches,omitempty"`

	TouchbaseSuite stat    `json:"touchbase_suite_ms"`
	DuckDBSuite    stat    `json:"duckdb_suite_ms"`
	PostgresSuite  stat    `json:"postgres_suite_ms"`
	DuckDBRatio    float64 `json:"duckdb_over_touchbase"`
	PostgresRatio  float64 `json:"postgres_over_touchbase"`
	Targets        []goal  `json:"targets"`
}

// compare checks that every system returned touchbase's members.
func (s *summary) compare(dir string) error {
	s.Match = true
	for _, r := range []*sqlResult{s.DuckDB, s.Postgres} {
		if r == nil {
			continue
		}
		for _, d := range suite {
			want, err := readMembers(dir, "touchbase", d.Name)
			if err != nil {
				return err
			}
			got, err := readMembers(dir, r.System, d.Name)
			if err != nil {
				return err
			}
			if !slices.Equal(got, want) {
				s.Match = false
				s.Mismatches = append(s.Mismatches, fmt.Sprintf("%s: %s has %d members, touchbase %d%s", d.Name, r.System, len(got), len(want), firstDiff(got, want)))
			}
		}
	}
	return nil
}

func firstDiff(a, b []int64) string {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			i++
			j++
		case a[i] < b[j]:
			return fmt.Sprintf("; first only there: customer %d", a[i])
		default:
			return fmt.Sprintf("; first only in touchbase: customer %d", b[j])
		}
	}
	if i < len(a) {
		return fmt.Sprintf("; first only there: customer %d", a[i])
	}
	if j < len(b) {
		return fmt.Sprintf("; first only in touchbase: customer %d", b[j])
	}
	return ""
}

func (s *summary) aggregate() {
	tb := s.Touchbase
	s.TouchbaseSuite = statOf(tb.SuiteMillis)
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	add := func(what, want, got string, measured, ok bool) {
		t := goal{What: what, Want: want, Got: got, Measured: measured, Verdict: "-"}
		if measured {
			t.Verdict = verdict(ok)
		}
		s.Targets = append(s.Targets, t)
	}
	if s.DuckDB != nil {
		s.DuckDBSuite = statOf(s.DuckDB.SuiteMillis)
		s.DuckDBRatio = s.DuckDBSuite.Median / s.TouchbaseSuite.Median
	}
	add("full suite vs DuckDB", ">= 10x faster", fmt.Sprintf("%.1fx", s.DuckDBRatio), s.DuckDB != nil, s.DuckDBRatio >= 10)
	if s.Postgres != nil {
		s.PostgresSuite = statOf(s.Postgres.SuiteMillis)
		s.PostgresRatio = s.PostgresSuite.Median / s.TouchbaseSuite.Median
	}
	add("full suite vs PostgreSQL", ">= 100x faster", fmt.Sprintf("%.0fx", s.PostgresRatio), s.Postgres != nil, s.PostgresRatio >= 100)
	add("incremental: one event, all suite segments", "p99 < 50 µs",
		fmt.Sprintf("p99 %.1f µs (%.1f right after the load)", tb.IncrementalWarm.P99, tb.Incremental.P99), tb.IncrementalWarm.N > 0, tb.IncrementalWarm.P99 < 50)
	add("back-fill from SQLite", "< 60 s", fmt.Sprintf("%.1f s", tb.BackfillSeconds), true, tb.BackfillSeconds < 60)
	add("RSS, suite registered", "< 1.5 GB", fmt.Sprintf("%.2f GB", float64(tb.RSSBytes)/1e9), true, tb.RSSBytes < 1500_000_000)
}

func printSummary(w io.Writer, s *summary) {
	d := s.Dataset
	fmt.Fprintf(w, "\nstore: %d customers, %d events (seed %d, as of %s), %s\n", d.Customers, d.Events, d.Seed, d.AsOf, d.Path)
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s, load %s\n\n", s.Machine.CPUs, s.Machine.CPUModel, s.Machine.GoVersion, s.Machine.LoadAvg)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "segment\tmembers\ttouchbase\t"
	if s.DuckDB != nil {
		head += "DuckDB\t"
	}
	if s.Postgres != nil {
		head += "PostgreSQL\t"
	}
	fmt.Fprintln(tw, head)
	col := func(r [][]float64, i int) stat {
		var xs []float64
		for _, run := range r {
			xs = append(xs, run[i])
		}
		return statOf(xs)
	}
	for i, def := range suite {
		line := fmt.Sprintf("%s\t%d\t%s\t", def.Name, s.Touchbase.Counts[i], col(s.Touchbase.SegmentMillis, i))
		if s.DuckDB != nil {
			line += col(s.DuckDB.SegmentMillis, i).String() + "\t"
		}
		if s.Postgres != nil {
			mark := ""
			if !s.Postgres.Compiled[i] {
				mark = " (hand-written)"
			}
			line += col(s.Postgres.SegmentMillis, i).String() + mark + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	line := fmt.Sprintf("whole suite\t\t%s\t", s.TouchbaseSuite)
	if s.DuckDB != nil {
		line += s.DuckDBSuite.String() + "\t"
	}
	if s.Postgres != nil {
		line += s.PostgresSuite.String() + "\t"
	}
	fmt.Fprintln(tw, line)
	tw.Flush()
	tb := s.Touchbase
	fmt.Fprintf(w, "\nruns: touchbase and DuckDB %d, PostgreSQL %d (median and range)\n", s.Runs, func() int {
		if s.Postgres != nil {
			return len(s.Postgres.SuiteMillis)
		}
		return 0
	}())
	if s.DuckDB != nil {
		fmt.Fprintf(w, "DuckDB / touchbase: %.1fx (DuckDB %s, load %.0f s)\n", s.DuckDBRatio, s.DuckDB.Version, s.DuckDB.LoadSeconds)
	}
	if s.Postgres != nil {
		fmt.Fprintf(w, "PostgreSQL / touchbase: %.0fx (PostgreSQL %s, load %.0f s)\n", s.PostgresRatio, s.Postgres.Version, s.Postgres.LoadSeconds)
	}
	fmt.Fprintf(w, "back-fill: %.1f s (Load %.1f s, Register %.1f s); RSS %.0f MB (Go heap %.0f MB), %.0f MB at the back-fill's peak\n",
		tb.BackfillSeconds, tb.LoadSeconds, tb.RegisterSeconds, float64(tb.RSSBytes)/1e6, float64(tb.HeapBytes)/1e6, float64(tb.PeakRSSBytes)/1e6)
	in := tb.Incremental
	fmt.Fprintf(w, "incremental, the first events after the load (%d, one at a time): p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.0f µs; consistent with full evaluation: %v\n",
		in.N, in.P50, in.P90, in.P99, in.P999, in.Max, tb.IncrementalOK)
	al := tb.IncrementalAlone
	fmt.Fprintf(w, "  not preempted (%d events; %d were): p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.0f µs; GC during the phase: %d cycles, %.1f ms of assists\n",
		al.N, tb.Preempted, al.P50, al.P90, al.P99, al.P999, al.Max, tb.GCCycles, tb.GCAssistMilli)
	nf := tb.IncrementalNoFault
	fmt.Fprintf(w, "  nor a page fault (%d events; %d took one): p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.0f µs\n",
		nf.N, tb.Faulted, nf.P50, nf.P90, nf.P99, nf.P999, nf.Max)
	if wm := tb.IncrementalWarm; wm.N > 0 {
		fmt.Fprintf(w, "  %d more on a warm heap (after a collection, memory not returned to the OS, as a server runs; %d took a page fault): p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.0f µs\n",
			wm.N, tb.WarmFaulted, wm.P50, wm.P90, wm.P99, wm.P999, wm.Max)
	}
	if nz := tb.Noise; nz.N > 0 {
		fmt.Fprintf(w, "  the machine's noise (a fixed computation timed the same way, %d times): p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.0f µs\n",
			nz.N, nz.P50, nz.P90, nz.P99, nz.P999, nz.Max)
	}
	if s.DuckDB != nil || s.Postgres != nil {
		if s.Match {
			fmt.Fprintln(w, "members: identical in every system")
		} else {
			fmt.Fprintln(w, "members: DIFFERENT:\n  "+strings.Join(s.Mismatches, "\n  "))
		}
	}
	fmt.Fprintln(w, "\ntargets (issue 4):")
	for _, t := range s.Targets {
		fmt.Fprintf(w, "  %-4s  %-44s want %-16s got %s\n", t.Verdict, t.What, t.Want, t.Got)
	}
}

// machineInfo describes where the benchmark ran.
type machineInfo struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpu_model"`
	GoVersion string  `json:"go"`
	Kernel    string  `json:"kernel"`
	MemoryGB  float64 `json:"memory_gb"`
	LoadAvg   string  `json:"loadavg"`
}

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
		m.MemoryGB = float64(kb) / (1 << 20)
	}
	return m
}
