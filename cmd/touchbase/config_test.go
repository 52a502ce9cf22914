package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// result is what one in-process run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// clearEnv unsets every TOUCHBASE_* setting (empty counts as unset) so that
// the caller's environment does not leak into a test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, s := range settings {
		t.Setenv(s.env(), "")
	}
	t.Setenv(configFileEnv, "")
}

type configEntry struct {
	Key, Value, Source string
}

// effective runs `touchbase config --json` and returns key -> entry.
func effective(t *testing.T, args ...string) map[string]configEntry {
	t.Helper()
	r := runCLI(t, "", append([]string{"config", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("config %v: exit %d, stderr %q", args, r.code, r.stderr)
	}
	var entries []configEntry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatalf("config --json: %v\n%s", err, r.stdout)
	}
	m := map[string]configEntry{}
	for _, e := range entries {
		m[e.Key] = e
	}
	return m
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigDefaults(t *testing.T) {
	clearEnv(t)
	c := effective(t)
	want := map[string]string{
		"data":               "./touchbase-data",
		"db":                 filepath.Join("./touchbase-data", "touchbase.db"),
		"log_level":          "info",
		"log_format":         "auto",
		"addr":               "127.0.0.1:8080",
		"rate_limit":         "0",
		"owner_email":        "owner@localhost",
		"segment_interval":   "1m",
		"analytics_interval": "24h",
		"ingest_log":         "auto",
		"import_max_bytes":   "64GiB",
	}
	if len(c) != len(want) {
		t.Errorf("config lists %d keys, want %d: %v", len(c), len(want), c)
	}
	for k, v := range want {
		if c[k].Value != v {
			t.Errorf("%s = %q, want default %q", k, c[k].Value, v)
		}
		if !strings.HasPrefix(c[k].Source, "default") {
			t.Errorf("%s source = %q, want default", k, c[k].Source)
		}
	}
}

func TestConfigPrecedence(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, "touchbase.yaml", `
data: /from/file
log_level: warn
rate_limit: 100
addr: 127.0.0.1:7000
owner_email: file@example.com
`)
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		key   string
		value string
		src   string
	}{
		{"file beats default", nil, []string{"--config", file}, "data", "/from/file", "file " + file},
		{"env beats file", map[string]string{"TOUCHBASE_DATA": "/from/env"}, []string{"--config", file},
			"data", "/from/env", "env TOUCHBASE_DATA"},
		{"flag beats env", map[string]string{"TOUCHBASE_DATA": "/from/env"}, []string{"--config", file, "--data", "/from/flag"},
			"data", "/from/flag", "flag --data"},
		{"env config file", map[string]string{"TOUCHBASE_CONFIG": file}, nil, "log_level", "warn", "file " + file},
		{"flag config beats env config", map[string]string{"TOUCHBASE_CONFIG": "/does/not/exist.yaml"},
			[]string{"--config", file}, "rate_limit", "100", "file " + file},
		{"env int", map[string]string{"TOUCHBASE_RATE_LIMIT": "250"}, []string{"--config", file},
			"rate_limit", "250", "env TOUCHBASE_RATE_LIMIT"},
		{"flag log level", map[string]string{"TOUCHBASE_LOG_LEVEL": "error"}, []string{"--config", file, "--log-level", "debug"},
			"log_level", "debug", "flag --log-level"},
		{"db follows data", map[string]string{"TOUCHBASE_DATA": "/from/env"}, nil,
			"db", filepath.Join("/from/env", "touchbase.db"), "env TOUCHBASE_DATA (data directory + /touchbase.db)"},
		{"db from env", map[string]string{"TOUCHBASE_DB": "postgres://u:secret@127.0.0.1/x"}, nil,
			"db", "postgres://u:xxxxx@127.0.0.1/x", "env TOUCHBASE_DB"},
		{"empty env is unset", map[string]string{"TOUCHBASE_DATA": ""}, []string{"--config", file},
			"data", "/from/file", "file " + file},
		{"unrelated TOUCHBASE_ variables are ignored", map[string]string{"TOUCHBASE_NOT_A_SETTING": "x"}, nil,
			"data", "./touchbase-data", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := effective(t, tt.args...)
			if got := c[tt.key]; got.Value != tt.value || got.Source != tt.src {
				t.Errorf("%s = %q from %q, want %q from %q", tt.key, got.Value, got.Source, tt.value, tt.src)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	badKey := writeFile(t, "bad-key.yaml", "data: /x\nlog:\n  level: debug\n")
	badYAML := writeFile(t, "bad.yaml", "data: [unclosed\n")
	listValue := writeFile(t, "list.yaml", "addr: [a, b]\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string // substrings of the one-line error
	}{
		{"missing file", nil, []string{"--config", "/no/such/file.yaml"}, 1,
			[]string{"config file /no/such/file.yaml does not exist"}},
		{"unknown key", nil, []string{"--config", badKey}, 1,
			[]string{badKey, `unknown key "log.level"`, "known keys: addr, analytics_interval, data, db"}},
		{"bad yaml", nil, []string{"--config", badYAML}, 1, []string{"config file " + badYAML}},
		{"list value", nil, []string{"--config", listValue}, 1, []string{"addr (file " + listValue + ")", "single value"}},
		{"bad env number", map[string]string{"TOUCHBASE_RATE_LIMIT": "lots"}, nil, 1,
			[]string{"rate_limit (env TOUCHBASE_RATE_LIMIT)", `"lots"`}},
		{"negative rate", map[string]string{"TOUCHBASE_RATE_LIMIT": "-5"}, nil, 1,
			[]string{"rate_limit (env TOUCHBASE_RATE_LIMIT)"}},
		{"bad log level flag", nil, []string{"--log-level", "loud"}, 1,
			[]string{"log_level (flag --log-level)", `"loud" is not one of debug, info, warn, error`}},
		{"bad log format env", map[string]string{"TOUCHBASE_LOG_FORMAT": "xml"}, nil, 1,
			[]string{"log_format (env TOUCHBASE_LOG_FORMAT)"}},
		{"bad addr env", map[string]string{"TOUCHBASE_ADDR": "localhost"}, nil, 1,
			[]string{"addr (env TOUCHBASE_ADDR)", "HOST:PORT"}},
		{"bad port", map[string]string{"TOUCHBASE_ADDR": "127.0.0.1:99999"}, nil, 1,
			[]string{"addr (env TOUCHBASE_ADDR)", "0 to 65535"}},
		{"bad owner email", map[string]string{"TOUCHBASE_OWNER_EMAIL": "nobody"}, nil, 1,
			[]string{"owner_email (env TOUCHBASE_OWNER_EMAIL)"}},
		{"empty data flag", nil, []string{"--data", ""}, 1, []string{"data (flag --data)"}},
		{"bad import size", map[string]string{"TOUCHBASE_IMPORT_MAX_BYTES": "64GB"}, nil, 1,
			[]string{"import_max_bytes (env TOUCHBASE_IMPORT_MAX_BYTES)", `"64GB" is not a size of 1MiB or more`}},
		{"tiny import size", nil, []string{"--import-max-bytes", "1000"}, 1,
			[]string{"import_max_bytes (flag --import-max-bytes)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := runCLI(t, "", append([]string{"config"}, tt.args...)...)
			checkError(t, r, tt.code, tt.want...)
		})
	}
}

// checkError checks that a run failed with code and one line on stderr
// holding every substring, and printed nothing on stdout.
func checkError(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	msg := strings.TrimSuffix(r.stderr, "\n")
	if !strings.HasPrefix(msg, "touchbase: ") || strings.Contains(msg, "\n") {
		t.Errorf("stderr %q, want one line starting with \"touchbase: \"", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("stderr %q does not contain %q", msg, w)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{"unknown subcommand", []string{"key", "frobnicate"}, []string{`unknown command "frobnicate" for "touchbase key"`}},
		{"missing subcommand", []string{"key"}, []string{`"touchbase key" needs a subcommand`}},
		{"unknown flag", []string{"serve", "--nope"}, []string{"unknown flag: --nope", "touchbase serve --help"}},
		{"bad int flag", []string{"serve", "--rate-limit", "many"}, []string{"--rate-limit", `"many"`}},
		{"key without kind", []string{"key", "create", "--data", data}, []string{"--kind is required"}},
		{"key bad kind", []string{"key", "create", "--data", data, "--kind", "read"}, []string{`--kind must be write, server or admin, not "read"`}},
		{"key bad role", []string{"key", "create", "--data", data, "--kind", "admin", "--role", "god"}, []string{`--role must be one of`}},
		{"write key with role", []string{"key", "create", "--data", data, "--kind", "write", "--role", "admin"}, []string{"--role applies to admin tokens only"}},
		{"revoke without id", []string{"key", "revoke", "--data", data}, []string{"takes 1 argument(s) (ID), got 0"}},
		{"revoke bad id", []string{"key", "revoke", "--data", data, "abc"}, []string{`key ID "abc" is not a number`}},
		{"workspace create without name", []string{"workspace", "create", "--data", data}, []string{"(NAME)"}},
		{"user without email", []string{"user", "create", "--data", data}, []string{"--email is required"}},
		{"user bad role", []string{"user", "create", "--data", data, "--email", "a@b.c", "--role", "boss"}, []string{`--role must be one of`}},
		{"version with args", []string{"version", "extra"}, []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", tt.args...)
			checkError(t, r, exitUsage, tt.want...)
		})
	}
	// None of them may have created a database.
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("usage errors created %d files in the data directory", len(entries))
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "", "version", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v["version"] != version || !strings.HasPrefix(v["go"], "go") || v["commit"] == "" {
		t.Errorf("version --json = %v", v)
	}
	// version works even when the configuration is broken.
	t.Setenv("TOUCHBASE_CONFIG", "/no/such/file.yaml")
	if r := runCLI(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "touchbase "+version) {
		t.Errorf("version with a broken config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// lockedWriter is a strings.Builder safe for a goroutine writing while the
// test reads.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestConfigTakesServeFlags(t *testing.T) {
	clearEnv(t)
	t.Setenv("TOUCHBASE_ADDR", ":7000")
	c := effective(t, "--addr", ":9000", "--rate-limit", "5", "--owner-email", "o@example.com")
	for key, want := range map[string]string{"addr": ":9000", "rate_limit": "5", "owner_email": "o@example.com"} {
		if c[key].Value != want || !strings.HasPrefix(c[key].Source, "flag --") {
			t.Errorf("%s = %+v, want %q from its flag", key, c[key], want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "500MiB": 500 << 20, "64 GiB": 64 << 30, "2TiB": 2 << 40, "8KiB": 8 << 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "64GB", "1.5GiB", "-1", "99999999999TiB"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}
