package loadgen

import (
	"maps"
	"math"
	"slices"
	"time"
)

// Report is what one run measured. Times are in milliseconds, rates in
// events per second.
type Report struct {
	Loop         string  `json:"loop"` // "closed" or "open"
	Senders      int     `json:"senders,omitempty"`
	OfferedRate  float64 `json:"offered_events_per_sec,omitempty"`
	BatchSize    int     `json:"batch_size"`
	AvgBodyBytes int     `json:"avg_body_bytes"`

	// Interval is the measured interval in seconds: the plan's Duration,
	// or, for a run by number of events, until the last answer.
	Interval float64 `json:"interval_s"`
	// Elapsed runs until the last answer (requests in flight at the
	// deadline are waited for).
	Elapsed float64 `json:"elapsed_s"`

	Requests   int   `json:"requests"`
	OKRequests int   `json:"ok_requests"`
	EventsSent int64 `json:"events_sent"`
	// EventsAcked are the events answered 200 (accepted + duplicates):
	// committed, whenever the answer came.
	EventsAcked int64 `json:"events_acked"`
	Duplicates  int64 `json:"duplicates"`
	Rejected    int64 `json:"rejected"`
	// Refused events were answered with an error status: not stored.
	Refused int64 `json:"refused"`
	// Unknown events were in requests that failed in transport: they may
	// or may not be stored.
	Unknown     int64          `json:"unknown"`
	Statuses    map[string]int `json:"statuses"`
	FirstErrors []string       `json:"first_errors,omitempty"`

	// EventsPerSec are the events acknowledged within the interval,
	// divided by it.
	EventsPerSec float64 `json:"events_per_sec"`
	// StartedPerSec (open loop) are the events whose request started
	// within the interval, per second: the offered load actually achieved.
	StartedPerSec float64 `json:"started_events_per_sec,omitempty"`
	// Windows are the events acknowledged in each whole second of the
	// interval.
	Windows []int64       `json:"windows"`
	Window  WindowSummary `json:"window"`
	Latency Latency       `json:"latency_ms"`

	// ScheduleLagMax (open loop) is the most a request started after its
	// scheduled time; LateRequests started over 10 ms late.
	ScheduleLagMax float64 `json:"schedule_lag_max_ms,omitempty"`
	LateRequests   int     `json:"late_requests,omitempty"`
}

// WindowSummary summarises per-second throughput.
type WindowSummary struct {
	Count  int     `json:"count"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Latency summarises request latencies in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func (c *recorder) report(plan Plan, pool *Pool, end time.Time) *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &Report{
		Loop:         "closed",
		Senders:      plan.Senders,
		BatchSize:    pool.BatchSize(),
		AvgBodyBytes: pool.AvgBodyBytes(),
		Elapsed:      end.Sub(c.start).Seconds(),
		Requests:     c.requests,
		OKRequests:   c.okRequests,
		EventsSent:   c.sentEvents,
		EventsAcked:  c.acked.Load(),
		Duplicates:   c.dups,
		Rejected:     c.rejected,
		Refused:      c.refusedEv,
		Unknown:      c.unknown,
		Statuses:     maps.Clone(c.statuses),
		FirstErrors:  slices.Clone(c.firstErrors),
		Latency:      summarise(c.lat),
	}
	if plan.Rate > 0 {
		r.Loop, r.Senders, r.OfferedRate = "open", 0, plan.Rate
		r.ScheduleLagMax = ms(c.maxLag)
		r.LateRequests = c.lagged
	}
	r.Interval = r.Elapsed
	if !c.deadline.IsZero() && c.deadline.Before(end) {
		r.Interval = c.deadline.Sub(c.start).Seconds()
	}
	if r.Interval > 0 {
		r.EventsPerSec = float64(c.ackedInTime) / r.Interval
		if plan.Rate > 0 {
			r.StartedPerSec = float64(c.sentEvents) / r.Interval
		}
	}
	whole := int(r.Interval)
	r.Windows = make([]int64, whole)
	copy(r.Windows, c.windows)
	r.Window = summariseWindows(r.Windows)
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// summarise computes latency percentiles (nearest rank).
func summarise(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Latency{
		Count: len(s),
		Mean:  ms(sum / time.Duration(len(s))),
		P50:   ms(Percentile(s, 50)),
		P90:   ms(Percentile(s, 90)),
		P99:   ms(Percentile(s, 99)),
		P999:  ms(Percentile(s, 99.9)),
		Max:   ms(s[len(s)-1]),
	}
}

// Percentile returns the nearest-rank p-th percentile of sorted values.
func Percentile[T int64 | float64 | time.Duration](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func summariseWindows(w []int64) WindowSummary {
	if len(w) == 0 {
		return WindowSummary{}
	}
	s := slices.Clone(w)
	slices.Sort(s)
	return WindowSummary{Count: len(s), Median: Median(s), Min: float64(s[0]), Max: float64(s[len(s)-1])}
}

// Median of sorted values; the mean of the middle two for an even count.
func Median[T int64 | float64](sorted []T) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return float64(sorted[n/2])
	}
	return (float64(sorted[n/2-1]) + float64(sorted[n/2])) / 2
}
