package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeInProcess runs serve through run, as main does, reads the JSON
// it prints, and stops it by cancelling the context (what SIGTERM does).
func TestServeInProcess(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr lockedWriter
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--json", "--log-format", "text"},
			strings.NewReader(""), outW, &stderr)
		outW.Close()
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("read serve's stdout: %v (stderr %s)", err, stderr.String())
	}
	var started struct{ Addr, URL, Version string }
	if err := json.Unmarshal([]byte(line), &started); err != nil {
		t.Fatalf("serve --json printed %q: %v", line, err)
	}
	if !strings.HasPrefix(started.Addr, "127.0.0.1:") || started.URL != "http://"+started.Addr || started.Version != version {
		t.Errorf("serve --json = %+v", started)
	}
	resp, err := http.Get(started.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("serve exited %d after cancel; stderr %s", c, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not return within a minute of cancel")
	}
	logs := stderr.String()
	for _, want := range []string{"password:", "level=INFO msg=\"touchbase serving\"", "msg=stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, logs)
		}
	}
	if _, err := http.Get(started.URL + "/healthz"); err == nil {
		t.Errorf("the server still answers after serve returned")
	}
}
