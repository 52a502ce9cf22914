package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/store"
)

var bannerPassword = regexp.MustCompile(`(?m)^\s*password:\s+(\S+)\s*$`)

// openData opens the store of a data directory the CLI made.
func openData(t *testing.T, data string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(data, "touchbase.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestKeyCreateBootstraps(t *testing.T) {
	clearEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	r := runCLI(t, "", "key", "create", "--data", data, "--kind", "write", "--owner-email", "ignored@example.com")
	// --owner-email is a serve flag: key create does not know it.
	checkError(t, r, exitUsage, "unknown flag: --owner-email")

	t.Setenv("TOUCHBASE_OWNER_EMAIL", "Ops@Example.com")
	r = runCLI(t, "", "key", "create", "--data", data, "--kind", "write")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "tb") {
		t.Errorf("stdout %q, want the key alone", r.stdout)
	}
	m := bannerPassword.FindStringSubmatch(r.stderr)
	if m == nil || !strings.Contains(r.stderr, "ops@example.com") {
		t.Fatalf("no banner with the owner from TOUCHBASE_OWNER_EMAIL on stderr: %q", r.stderr)
	}
	st := openData(t, data)
	if _, err := st.Authenticate(context.Background(), "ops@example.com", m[1]); err != nil {
		t.Errorf("the banner's password does not sign in: %v", err)
	}
	if _, err := st.AuthenticateKey(context.Background(), strings.TrimSpace(r.stdout)); err != nil {
		t.Errorf("the printed key does not authenticate: %v", err)
	}

	// The second command finds the store bootstrapped: no banner.
	r = runCLI(t, "", "key", "create", "--data", data, "--kind", "admin", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("second key create: exit %d, stderr %q", r.code, r.stderr)
	}
	var k struct {
		ID        int64  `json:"id"`
		Key       string `json:"key"`
		Kind      string `json:"kind"`
		Role      string `json:"role"`
		Workspace string `json:"workspace"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil {
		t.Fatal(err)
	}
	if k.ID == 0 || k.Key == "" || k.Kind != "admin" || k.Role != "admin" || k.Workspace != store.DefaultWorkspace {
		t.Errorf("key create --json = %+v", k)
	}
}

func TestUserCreatePasswords(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	ctx := context.Background()
	if r := runCLI(t, "", "workspace", "create", "--data", data, "second"); r.code != 0 {
		t.Fatalf("workspace create: %d %s", r.code, r.stderr)
	}

	// --password - reads the first line of stdin.
	r := runCLI(t, "s3cret-passphrase\nignored\n", "user", "create", "--data", data, "--email", "ann@example.com", "--password", "-")
	if r.code != 0 || strings.Contains(r.stdout, "s3cret") {
		t.Fatalf("user create --password -: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	st := openData(t, data)
	if _, err := st.Authenticate(ctx, "ann@example.com", "s3cret-passphrase"); err != nil {
		t.Errorf("password from stdin: %v", err)
	}
	st.Close()

	r = runCLI(t, "", "user", "create", "--data", data, "--email", "bob@example.com", "--password", "-")
	checkError(t, r, exitError, "--password -: no password on stdin")

	// A generated password is printed once, and works.
	r = runCLI(t, "", "user", "create", "--data", data, "--email", "cy@example.com", "--role", "analyst")
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("user create: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	st = openData(t, data)
	if _, err := st.Authenticate(ctx, "cy@example.com", m[1]); err != nil {
		t.Errorf("generated password: %v", err)
	}
	st.Close()

	// An existing user joins another workspace and keeps their password:
	// nothing is printed as if it were theirs.
	r = runCLI(t, "", "user", "create", "--data", data, "--email", "ann@example.com", "--workspace", "second", "--json")
	if r.code != 0 {
		t.Fatalf("existing user: exit %d, stderr %q", r.code, r.stderr)
	}
	var u struct {
		Password  string `json:"password"`
		Workspace string `json:"workspace"`
		Role      string `json:"role"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil {
		t.Fatal(err)
	}
	if u.Password != "" || u.Workspace != "second" || u.Role != "admin" {
		t.Errorf("existing user --json = %+v, want no password, workspace second, role admin", u)
	}
	if !strings.Contains(r.stderr, "password was not changed") {
		t.Errorf("stderr %q, want a note that the password was kept", r.stderr)
	}
	st = openData(t, data)
	if _, err := st.Authenticate(ctx, "ann@example.com", "s3cret-passphrase"); err != nil {
		t.Errorf("the existing user's password changed: %v", err)
	}

	// Joining the same workspace twice is a conflict, said in one line.
	r = runCLI(t, "", "user", "create", "--data", data, "--email", "ann@example.com", "--workspace", "second")
	checkError(t, r, exitError, "already a member")
}
