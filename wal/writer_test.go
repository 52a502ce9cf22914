package wal_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
	"github.com/touchbase/touchbase/wal"
)

// slowIngester records what it is asked to store, taking a while per call
// so that concurrent writers pile up behind it.
type slowIngester struct {
	mu    sync.Mutex
	calls [][]touchbase.Inbound
	delay time.Duration
	// poison makes any call containing this messageId fail.
	poison string
}

var _ touchbase.Ingester = (*slowIngester)(nil)

func (s *slowIngester) Ingest(ctx context.Context, ins []touchbase.Inbound) (touchbase.IngestResult, error) {
	time.Sleep(s.delay)
	var res touchbase.IngestResult
	for _, m := range ins {
		if s.poison != "" && m.MessageID == s.poison {
			return touchbase.IngestResult{}, errors.New("poisoned")
		}
	}
	s.mu.Lock()
	s.calls = append(s.calls, append([]touchbase.Inbound(nil), ins...))
	s.mu.Unlock()
	for range ins {
		res.Add(touchbase.IngestStored)
	}
	return res, nil
}

func inbounds(prefix string, n int) []touchbase.Inbound {
	out := make([]touchbase.Inbound, n)
	for i := range out {
		out[i] = touchbase.Inbound{WorkspaceID: 1, MessageID: fmt.Sprintf("%s-%d", prefix, i), Type: touchbase.EventTrack, Event: "E", UserID: "u"}
	}
	return out
}

// rec wraps inbounds as a request of workspace 1.
func rec(m []touchbase.Inbound) *wal.Received {
	return &wal.Received{WorkspaceID: 1, Endpoint: "batch", ReceivedAt: time.Now(), Inbounds: m}
}

func TestWriterGroupsConcurrentRequests(t *testing.T) {
	ing := &slowIngester{delay: 20 * time.Millisecond}
	var mu sync.Mutex
	var commits []wal.CommitStats
	w := wal.NewWriter(ing, wal.WriterConfig{OnCommit: func(c wal.CommitStats) {
		mu.Lock()
		commits = append(commits, c)
		mu.Unlock()
	}})
	w.Open(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if err := w.Write(context.Background(), rec(inbounds(fmt.Sprint(g), 5))); err != nil {
				t.Errorf("writer %d: %v", g, err)
			}
		}(g)
	}
	wg.Wait()
	w.Close()
	if len(commits) >= 20 {
		t.Fatalf("%d commits for 20 concurrent requests: no grouping", len(commits))
	}
	total, shared := 0, false
	for _, c := range commits {
		total += c.Inbounds
		shared = shared || c.Requests > 1
	}
	if total != 100 || !shared {
		t.Fatalf("commits %+v", commits)
	}
}

func TestWriterIsolatesAFailingRequest(t *testing.T) {
	ing := &slowIngester{delay: 10 * time.Millisecond, poison: "bad-0"}
	w := wal.NewWriter(ing, wal.WriterConfig{})
	w.Open(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			prefix := fmt.Sprint("good", g)
			if g == 3 {
				prefix = "bad"
			}
			errs[g] = w.Write(context.Background(), rec(inbounds(prefix, 3)))
		}(g)
	}
	wg.Wait()
	w.Close()
	for g, err := range errs {
		if (g == 3) != (err != nil) {
			t.Fatalf("request %d: err %v", g, err)
		}
	}
	stored := 0
	for _, c := range ing.calls {
		stored += len(c)
	}
	if stored != 27 {
		t.Fatalf("stored %d inbounds, want the 27 good ones", stored)
	}
}

func TestWriterClose(t *testing.T) {
	ing := &slowIngester{delay: 30 * time.Millisecond}
	w := wal.NewWriter(ing, wal.WriterConfig{})
	w.Open(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 5; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if err := w.Write(context.Background(), rec(inbounds(fmt.Sprint(g), 2))); err != nil {
				t.Errorf("queued write %d failed at close: %v", g, err)
			}
		}(g)
	}
	time.Sleep(5 * time.Millisecond)
	w.Close()
	wg.Wait()
	if err := w.Write(context.Background(), rec(inbounds("late", 1))); touchbase.ErrorCode(err) != touchbase.EUNAVAILABLE {
		t.Fatalf("write after close: %v", err)
	}
}

func TestWriterGivesUpWithTheCaller(t *testing.T) {
	ing := &slowIngester{delay: 200 * time.Millisecond}
	w := wal.NewWriter(ing, wal.WriterConfig{})
	w.Open(context.Background())
	defer w.Close()
	go w.Write(context.Background(), rec(inbounds("first", 1))) // occupies the loop
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Write(ctx, rec(inbounds("second", 1))); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the caller's deadline", err)
	}
}

// TestWriterConcurrentIdentities runs the real store behind the writer:
// concurrent identifies of one person from several devices, half of them
// resends, end in one profile with every identifier and no duplicate event.
func TestWriterConcurrentIdentities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		wsp, err := s.CreateWorkspace(ctx, "concurrent")
		if err != nil {
			t.Fatal(err)
		}
		w := wal.NewWriter(s, wal.WriterConfig{})
		w.Open(ctx)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					m := touchbase.Inbound{
						WorkspaceID: wsp.ID, MessageID: fmt.Sprintf("g%d-%d", g, i%10), Type: touchbase.EventIdentify,
						UserID: "same-user", AnonymousID: fmt.Sprintf("device-%d", i%3), Email: "same@example.com",
						Traits:    map[string]any{"email": "same@example.com"},
						Timestamp: time.Now(), ReceivedAt: time.Now(),
					}
					if err := w.Write(ctx, rec([]touchbase.Inbound{m})); err != nil {
						t.Error(err)
					}
				}
			}(g)
		}
		wg.Wait()
		w.Close()
		stats, err := s.Stats(ctx, wsp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Customers != 1 || stats.Events != 80 {
			t.Fatalf("stats %+v, want 1 customer and 80 events", stats)
		}
		list, _, err := s.ListCustomers(ctx, wsp.ID, touchbase.CustomerFilter{UserID: "same-user"})
		if err != nil || len(list) != 1 {
			t.Fatalf("%v %v", list, err)
		}
		c, err := s.FindCustomer(ctx, wsp.ID, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, id := range c.Identities {
			ids = append(ids, string(id.Kind)+":"+id.Value)
		}
		sort.Strings(ids)
		want := "anonymous_id:device-0 anonymous_id:device-1 anonymous_id:device-2 email:same@example.com user_id:same-user"
		if strings.Join(ids, " ") != want {
			t.Fatalf("identities %v", ids)
		}
	})
}

func TestWriterRefusesWhenTooFarBehind(t *testing.T) {
	ing := &slowIngester{delay: 100 * time.Millisecond}
	w := wal.NewWriter(ing, wal.WriterConfig{MaxPending: 10})
	w.Open(context.Background())
	defer w.Close()
	done := make(chan error, 2)
	go func() { err := w.Write(context.Background(), rec(inbounds("a", 6))); done <- err }()
	time.Sleep(10 * time.Millisecond)
	go func() { err := w.Write(context.Background(), rec(inbounds("b", 4))); done <- err }()
	time.Sleep(10 * time.Millisecond)
	// 10 pending: one more is refused at once, not queued.
	start := time.Now()
	err := w.Write(context.Background(), rec(inbounds("c", 1)))
	if touchbase.ErrorCode(err) != touchbase.EUNAVAILABLE || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("over the bound: %v after %v", err, time.Since(start))
	}
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Committed work frees the bound; a request larger than the bound
	// alone is still taken when nothing else waits.
	if err := w.Write(context.Background(), rec(inbounds("d", 25))); err != nil {
		t.Fatalf("after the queue drained: %v", err)
	}
}
