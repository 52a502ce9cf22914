package main

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
)

// TestUserInviteCLI: `user invite` makes an invitation and prints its link
// (the same answer whether the address has an account or not), `user
// invitations` lists the pending ones, `user revoke-invitation` stops a
// link; and --workspace takes an id, which names a workspace even when
// several share its name.
func TestUserInviteCLI(t *testing.T) {
	clearEnv(t)
	data := t.TempDir()
	ctx := context.Background()
	for range 2 {
		if r := runCLI(t, "", "workspace", "create", "--data", data, "twin"); r.code != 0 {
			t.Fatalf("workspace create twin: %d %s", r.code, r.stderr)
		}
	}
	r := runCLI(t, "", "user", "invite", "--data", data, "--workspace", "twin", "--email", "x@example.com")
	checkError(t, r, exitError, "several workspaces are named")

	st := openData(t, data)
	wss, err := st.ListWorkspaces(ctx)
	if err != nil || len(wss) != 3 {
		t.Fatalf("workspaces %v %v", wss, err)
	}
	st.Close()
	twin := strconv.FormatInt(wss[2].ID, 10)

	r = runCLI(t, "", "user", "invite", "--data", data, "--workspace", twin, "--email", "Ann@Example.com", "--role", "analyst",
		"--url", "https://crm.example.com/")
	m := regexp.MustCompile(`(?m)^link: (https://crm\.example\.com/ui/invitation\?token=tbi_\S+)$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil || !strings.Contains(r.stdout, `invited ann@example.com to workspace "twin" as analyst`) {
		t.Fatalf("user invite: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	u, _ := url.Parse(m[1])
	st = openData(t, data)
	inv, name, err := st.FindInvitation(ctx, u.Query().Get("token"))
	if err != nil || inv.WorkspaceID != wss[2].ID || inv.Role != touchbase.RoleAnalyst || name != "twin" {
		t.Errorf("the printed link's invitation: %+v %q %v", inv, name, err)
	}
	st.Close()

	r = runCLI(t, "", "user", "invite", "--data", data, "--email", "bo@example.com", "--json")
	var out struct {
		Email     string `json:"email"`
		Role      string `json:"role"`
		Workspace string `json:"workspace"`
		Link      string `json:"link"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Email != "bo@example.com" || out.Role != "marketer" ||
		out.Workspace != "default" || !strings.HasPrefix(out.Link, "http://127.0.0.1:8080/ui/invitation?token=tbi_") {
		t.Fatalf("user invite --json: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}

	r = runCLI(t, "", "user", "invitations", "--data", data, "--workspace", twin)
	if r.code != 0 || !strings.Contains(r.stdout, "ann@example.com") || strings.Contains(r.stdout, "bo@example.com") || strings.Contains(r.stdout, "tbi_") {
		t.Errorf("user invitations: %q %q", r.stdout, r.stderr)
	}
	r = runCLI(t, "", "user", "revoke-invitation", "--data", data, "--workspace", twin, strconv.FormatInt(inv.ID, 10))
	if r.code != 0 {
		t.Errorf("revoke: %d %q", r.code, r.stderr)
	}
	r = runCLI(t, "", "user", "revoke-invitation", "--data", data, "--workspace", twin, strconv.FormatInt(inv.ID, 10))
	checkError(t, r, exitError, "no pending invitation")
	r = runCLI(t, "", "user", "invitations", "--data", data, "--workspace", twin, "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("after revoking: %q", r.stdout)
	}
	r = runCLI(t, "", "user", "invite", "--data", data, "--email", "x@example.com", "--role", "boss")
	checkError(t, r, exitUsage, "--role must be one of")
}
