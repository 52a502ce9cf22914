package inbound_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/touchbase/touchbase/inbound"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenAnalyticsGoBatch parses a realistic analytics-go batch (the
// SDK's own shape: batch-level messageId, sentAt and library context,
// spec v1 orderId and product id, the SDK's "sky" typo for sku) plus two
// bad members, and compares the result with testdata/*.golden.json.
// Run with -update to accept a change.
func TestGoldenAnalyticsGoBatch(t *testing.T) {
	in := filepath.Join("testdata", "analytics-go-batch.json")
	golden := filepath.Join("testdata", "analytics-go-batch.golden.json")
	body, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	// The client sent at 09:00:05.56 by its clock; it arrived at 09:00:06
	// by ours, so the client's clock is about 0.44 s behind.
	receivedAt := time.Date(2024, 5, 31, 9, 0, 6, 0, time.UTC)
	req, err := inbound.Parse("batch", body, receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Parse(%s) differs from %s; run with -update and review the diff:\n%s", in, golden, got)
	}
}
