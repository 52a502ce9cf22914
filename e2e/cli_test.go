package e2e_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type workspaceJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type keyJSON struct {
	ID          int64   `json:"id"`
	WorkspaceID int64   `json:"workspace_id"`
	Workspace   string  `json:"workspace"`
	Kind        string  `json:"kind"`
	Role        string  `json:"role"`
	Name        string  `json:"name"`
	Prefix      string  `json:"prefix"`
	Key         string  `json:"key"`
	RevokedAt   *string `json:"revoked_at"`
}

type userJSON struct {
	ID          int64  `json:"id"`
	Email       string `json:"email"`
	Name        string `json:"name"`
	WorkspaceID int64  `json:"workspace_id"`
	Workspace   string `json:"workspace"`
	Role        string `json:"role"`
	Password    string `json:"password"`
}

// TestCLIAdmin drives workspace, user and key commands with --json, the way
// a provisioning script would.
func TestCLIAdmin(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		testCLIAdmin(t, "sqlite", []string{"TOUCHBASE_DATA=" + t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		testCLIAdmin(t, "postgres", []string{"TOUCHBASE_DATA=" + t.TempDir(), "TOUCHBASE_DB=" + postgresDSN(t)})
	})
}

func testCLIAdmin(t *testing.T, dialect string, env []string) {

	var ws workspaceJSON
	mustJSON(t, &ws, env, "workspace", "create", "shop-two")
	if ws.Name != "shop-two" || ws.ID == 0 {
		t.Errorf("workspace create --json = %+v", ws)
	}
	var all []workspaceJSON
	mustJSON(t, &all, env, "workspace", "list")
	if len(all) != 2 || all[1].Name != "shop-two" {
		t.Fatalf("workspace list --json = %+v, want the default workspace and shop-two", all)
	}
	// Names are labels, not identifiers: a second shop-two is fine, and
	// then the name alone is ambiguous; the id names one.
	var twin workspaceJSON
	mustJSON(t, &twin, env, "workspace", "create", "shop-two")
	if twin.ID == ws.ID || twin.Name != "shop-two" {
		t.Errorf("second shop-two = %+v", twin)
	}
	r := cli(t, env, "user", "list", "--workspace", "shop-two")
	if r.code != 1 || !strings.Contains(r.stderr, "several workspaces are named") || r.stdout != "" {
		t.Errorf("ambiguous workspace name: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	two := itoa(ws.ID)

	// Users: a generated password is printed once; a given one is not.
	var u userJSON
	mustJSON(t, &u, env, "user", "create", "--email", "Ann@Example.com", "--name", "Ann", "--role", "marketer", "--workspace", two)
	if u.Email != "ann@example.com" || u.Role != "marketer" || u.Workspace != "shop-two" || u.WorkspaceID != ws.ID || len(u.Password) < 16 {
		t.Errorf("user create --json = %+v", u)
	}
	var v userJSON
	mustJSON(t, &v, env, "user", "create", "--email", "bob@example.com", "--password", "correct horse battery", "--workspace", two)
	if v.Password != "" || v.Role != "admin" {
		t.Errorf("user create with --password: %+v, want role admin and no password echoed", v)
	}
	var members []userJSON
	mustJSON(t, &members, env, "user", "list", "--workspace", two)
	if len(members) != 2 || members[0].Email != "ann@example.com" || members[1].Email != "bob@example.com" {
		t.Errorf("user list --json = %+v", members)
	}
	mustJSON(t, &members, env, "user", "list")
	if len(members) != 1 || members[0].Role != "owner" {
		t.Errorf("user list of the default workspace = %+v, want its owner alone", members)
	}

	// Keys.
	var wk, ak keyJSON
	mustJSON(t, &wk, env, "key", "create", "--kind", "write", "--workspace", two, "--name", "web")
	mustJSON(t, &ak, env, "key", "create", "--kind", "admin", "--role", "analyst", "--workspace", two)
	if wk.Key == "" || wk.ID == 0 || wk.Kind != "write" || wk.Name != "web" || wk.WorkspaceID != ws.ID || !strings.HasPrefix(wk.Key, wk.Prefix) {
		t.Errorf("key create --json (write) = %+v", wk)
	}
	if ak.Kind != "admin" || ak.Role != "analyst" {
		t.Errorf("key create --json (admin) = %+v", ak)
	}
	var ad keyJSON
	mustJSON(t, &ad, env, "key", "create", "--kind", "admin")
	if ad.Role != "admin" || ad.Workspace == "shop-two" {
		t.Errorf("admin token defaults: %+v, want role admin in the default workspace", ad)
	}
	mustCLI(t, env, "key", "revoke", "--workspace", two, itoa(wk.ID))
	var keys []keyJSON
	mustJSON(t, &keys, env, "key", "list", "--workspace", two)
	if len(keys) != 2 || keys[0].ID != wk.ID || keys[0].RevokedAt == nil || keys[1].RevokedAt != nil {
		t.Errorf("key list --json after revoke = %+v", keys)
	}
	for _, k := range keys {
		if k.Key != "" {
			t.Errorf("key list printed a secret: %+v", k)
		}
	}
	// A key of one workspace cannot be revoked through another.
	r = cli(t, env, "key", "revoke", itoa(ak.ID))
	if r.code != 1 || !strings.Contains(r.stderr, "has no key") {
		t.Errorf("revoke across workspaces: exit %d, stderr %q", r.code, r.stderr)
	}
	r = cli(t, env, "key", "list", "--workspace", "nope")
	if r.code != 1 || !strings.Contains(r.stderr, `workspace "nope" does not exist`) {
		t.Errorf("unknown workspace: exit %d, stderr %q", r.code, r.stderr)
	}

	// migrate reports the schema version; the text output names it too.
	var mig struct {
		Dialect string `json:"dialect"`
		Version int64  `json:"version"`
	}
	mustJSON(t, &mig, env, "migrate")
	if mig.Dialect != dialect || mig.Version < 1 {
		t.Errorf("migrate --json = %+v", mig)
	}
}

// TestCLIConfigPrecedence checks flag > environment > file > default on the
// real binary, through `touchbase config` and through where key create puts
// the database.
func TestCLIConfigPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fileData, envData, flagData := filepath.Join(dir, "file"), filepath.Join(dir, "env"), filepath.Join(dir, "flag")
	cfg := filepath.Join(dir, "touchbase.yaml")
	if err := os.WriteFile(cfg, []byte("data: "+fileData+"\nlog_level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	source := func(env []string, args ...string) map[string][2]string {
		var entries []struct{ Key, Value, Source string }
		mustJSON(t, &entries, env, append([]string{"config"}, args...)...)
		m := map[string][2]string{}
		for _, e := range entries {
			m[e.Key] = [2]string{e.Value, e.Source}
		}
		return m
	}

	fileEnv := []string{"TOUCHBASE_CONFIG=" + cfg}
	if got := source(fileEnv)["data"]; got != [2]string{fileData, "file " + cfg} {
		t.Errorf("file only: data = %v", got)
	}
	both := append(fileEnv, "TOUCHBASE_DATA="+envData)
	if got := source(both)["data"]; got != [2]string{envData, "env TOUCHBASE_DATA"} {
		t.Errorf("env over file: data = %v", got)
	}
	if got := source(both, "--data", flagData)["data"]; got != [2]string{flagData, "flag --data"} {
		t.Errorf("flag over env: data = %v", got)
	}
	if got := source(both)["log_level"]; got != [2]string{"warn", "file " + cfg} {
		t.Errorf("log_level from the file = %v", got)
	}

	// The winning data directory is the one that gets the database.
	mustCLI(t, both, "key", "create", "--kind", "write", "--data", flagData)
	mustCLI(t, both, "key", "create", "--kind", "write")
	for _, d := range []struct {
		dir  string
		want bool
	}{{flagData, true}, {envData, true}, {fileData, false}} {
		_, err := os.Stat(filepath.Join(d.dir, "touchbase.db"))
		if (err == nil) != d.want {
			t.Errorf("database in %s: %v, want present=%v", d.dir, err, d.want)
		}
	}
}

// TestCLIErrors checks that mistakes get one clear line and a non-zero exit.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"unknown flag", nil, []string{"serve", "--port", "80"}, 2, "unknown flag: --port"},
		{"bad rate limit", nil, []string{"serve", "--rate-limit", "fast"}, 2, `"fast"`},
		{"bad addr", []string{"TOUCHBASE_ADDR=nowhere"}, []string{"serve", "--data", data}, 1, "addr (env TOUCHBASE_ADDR)"},
		{"unknown config key", []string{"TOUCHBASE_CONFIG=" + writeTemp(t, "port: 80\n")}, []string{"serve"}, 1, `unknown key "port"`},
		{"missing kind", nil, []string{"key", "create", "--data", data}, 2, "--kind is required"},
		{"unknown command", nil, []string{"srve"}, 2, `unknown command "srve"`},
		{"address in use", nil, []string{"serve", "--data", data, "--addr", taken.Addr().String()}, 1, "listen on " + taken.Addr().String()},
		{"bad postgres", []string{"TOUCHBASE_DB=postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=2"}, []string{"migrate"}, 1, "open database postgres://u:xxxxx@127.0.0.1:1/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, tt.env, tt.args...)
			line := strings.TrimSuffix(r.stderr, "\n")
			if r.code != tt.code || !strings.HasPrefix(line, "touchbase: ") || !strings.Contains(line, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", r.code, r.stderr, tt.code, tt.want)
			}
			if strings.Contains(r.stderr, "hunter2") {
				t.Errorf("the password of the DSN was printed: %q", r.stderr)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "touchbase.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
