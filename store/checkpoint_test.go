package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// TestCheckpointer checks that the log is copied into the database file in
// the background while the store is open, and emptied at Close.
func TestCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "touchbase.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	ws := newWorkspace(t, s, "ckpt")
	q := &inboundSeq{ws: ws}
	for i := 0; i < 20; i++ {
		batch := make([]touchbase.Inbound, 0, 200)
		for j := 0; j < 200; j++ {
			batch = append(batch, q.track("Viewed", "", "anon"))
		}
		ingestOK(t, s, batch...)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) <= before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if fileSize(t, path) <= before {
		t.Fatalf("the database file stayed at %d bytes: nothing was checkpointed while open", before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Fatalf("the log still holds %d bytes after Close", st.Size())
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
