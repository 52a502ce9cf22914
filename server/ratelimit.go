package server

import (
	"math"
	"sync"
	"time"
)

// burstSeconds is how many seconds' worth of events a write key may send at
// once after being idle.
const burstSeconds = 3

// rateLimiter holds one token bucket per write key, in events per second.
type rateLimiter struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(now func() time.Time) *rateLimiter {
	return &rateLimiter{now: now, buckets: map[int64]*bucket{}}
}

// take spends n tokens of key's bucket refilled at rate per second. When
// there are too few it spends nothing and says how long to wait. A request
// larger than the burst passes when the bucket is full (and leaves it in
// debt), so that a low limit never blocks a batch for good.
func (l *rateLimiter) take(key int64, rate int, n int) (ok bool, retryAfter time.Duration) {
	if rate <= 0 || n <= 0 {
		return true, 0
	}
	burst := float64(rate) * burstSeconds
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*float64(rate))
	}
	b.last = now
	need := float64(n)
	if b.tokens >= need || b.tokens >= burst {
		b.tokens -= need
		return true, 0
	}
	want := math.Min(need, burst) - b.tokens
	return false, time.Duration(want / float64(rate) * float64(time.Second))
}
