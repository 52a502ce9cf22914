package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/wal"
)

// TestCommandsApplyTheIngestionLog: a server stopped (or killed) with
// acknowledged events still in its ingestion log leaves them for the next
// start; a command that opens the data directory meanwhile applies them
// first, so that it sees every event that was answered with a 200.
func TestCommandsApplyTheIngestionLog(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	// Creates the store and the default workspace (id 1).
	if r := runCLI(t, "", "key", "create", "--data", data, "--kind", "write"); r.code != 0 {
		t.Fatalf("key create: %d %s", r.code, r.stderr)
	}
	l, err := wal.Open(filepath.Join(data, "ingest-log"), 0)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"batch":[{"type":"track","event":"Viewed","userId":"a","messageId":"m1"},` +
		`{"type":"identify","userId":"b","messageId":"m2","traits":{"plan":"gold"}}]}`
	if _, err := l.Append([]wal.Entry{{WorkspaceID: 1, Endpoint: "batch", ReceivedAt: time.Now(), Body: []byte(body)}}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	r := runCLI(t, "", "segment", "count", "--data", data, "--json", `plan = "gold" or count("Viewed") >= 1`)
	if r.code != 0 || strings.Join(strings.Fields(r.stdout), "") != `{"count":2}` {
		t.Fatalf("segment count after a stop with a backlog: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if segs, _ := filepath.Glob(filepath.Join(data, "ingest-log", "*.log")); len(segs) != 0 {
		t.Fatalf("the applied log is kept: %v", segs)
	}
}
