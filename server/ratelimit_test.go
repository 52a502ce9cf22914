package server

import (
	"context"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
)

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		key     int64
		n       int
		ok      bool
		wait    time.Duration
	}{
		{0, 1, 20, true, 0},                // burst is 3 s worth: 30
		{0, 1, 10, true, 0},                // bucket now empty
		{0, 1, 1, false, time.Second / 10}, // 10/s: one token in 100 ms
		{0, 2, 30, true, 0},                // another key has its own bucket
		{500 * time.Millisecond, 1, 5, true, 0},
		{0, 1, 5, false, 500 * time.Millisecond},
		{10 * time.Second, 1, 100, true, 0},                 // larger than the burst: passes on a full bucket...
		{time.Second, 1, 1, false, 6100 * time.Millisecond}, // ...and leaves it in debt: -70 + 10, 61 tokens short
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		ok, wait := l.take(s.key, 10, s.n)
		if ok != s.ok || wait.Round(time.Millisecond) != s.wait {
			t.Errorf("step %d: take(%d) = %v, %v; want %v, %v", i, s.n, ok, wait, s.ok, s.wait)
		}
	}
}

// countingKeys is a KeyService that counts authentications.
type countingKeys struct {
	touchbase.KeyService
	calls int
	key   *touchbase.Key
}

func (k *countingKeys) AuthenticateKey(_ context.Context, secret string) (*touchbase.Key, error) {
	k.calls++
	if secret != "good" {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "no")
	}
	return k.key, nil
}

var _ touchbase.KeyService = (*countingKeys)(nil)

func TestKeyCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newKeyCache(10*time.Second, func() time.Time { return now })
	keys := &countingKeys{key: &touchbase.Key{ID: 7, Kind: touchbase.KeyWrite}}
	ctx := context.Background()
	auth := func(secret string) error { _, err := c.authenticate(ctx, keys, secret); return err }

	for i := 0; i < 2; i++ {
		if auth("good") != nil {
			t.Fatal("a live key was refused")
		}
	}
	if keys.calls != 1 {
		t.Fatalf("a live key is looked up %d times, want once", keys.calls)
	}
	for i := 0; i < 2; i++ {
		if auth("bad") == nil {
			t.Fatal("a wrong key was accepted")
		}
	}
	if keys.calls != 3 {
		t.Fatalf("wrong keys must not be cached: %d lookups", keys.calls)
	}
	now = now.Add(11 * time.Second)
	if auth("good") != nil || keys.calls != 4 {
		t.Fatalf("an expired entry is not looked up again: %d lookups", keys.calls)
	}
	c.dropKey(7)
	if auth("good") != nil || keys.calls != 5 {
		t.Fatalf("a dropped key is not looked up again: %d lookups", keys.calls)
	}
	if err := auth(""); touchbase.ErrorCode(err) != touchbase.EUNAUTHORIZED || keys.calls != 5 {
		t.Fatalf("empty secret: %v after %d lookups", err, keys.calls)
	}
}
