package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/storetest"
)

var selectedWorkspace = regexp.MustCompile(`<option value="(\d+)" selected>`)

// workspaceOf returns the id of the workspace the signed-in client looks at.
func (c *client) workspaceOf() int64 {
	c.e.t.Helper()
	p := c.do("GET", "/ui/", nil)
	m := selectedWorkspace.FindStringSubmatch(p.body)
	if m == nil {
		c.e.t.Fatalf("no workspace selected on the dashboard (status %d)", p.status)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// TestLoginLandsByID: a sign-in lands in the workspace last looked at, or
// the one joined first, never in whichever sorts first by name (another
// workspace's owner can rename theirs to "AAA").
func TestLoginLandsByID(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	c := e.client()
	c.login("owner@example.com")
	if got := c.workspaceOf(); got != e.acme.ID {
		t.Fatalf("first sign-in in workspace %d, want Acme (%d)", got, e.acme.ID)
	}
	c.post("/ui/logout", c.do("GET", "/ui/", nil).csrf(t), nil)

	// Beta's owner renames Beta to sort first.
	aaa := "AAA Beta"
	if _, err := e.store.UpdateWorkspace(ctx, e.beta.ID, touchbase.WorkspaceUpdate{Name: &aaa}); err != nil {
		t.Fatal(err)
	}
	c = e.client()
	c.login("owner@example.com")
	if got := c.workspaceOf(); got != e.acme.ID {
		t.Errorf("after Beta's rename the sign-in landed in %d, want Acme (%d)", got, e.acme.ID)
	}
	// Switching is remembered for the next sign-in.
	csrf := c.do("GET", "/ui/", nil).csrf(t)
	if p := c.post("/ui/workspace", csrf, url.Values{"workspace_id": {strconv.FormatInt(e.beta.ID, 10)}}); p.status != http.StatusSeeOther {
		t.Fatalf("switch: %d", p.status)
	}
	c = e.client()
	c.login("owner@example.com")
	if got := c.workspaceOf(); got != e.beta.ID {
		t.Errorf("after switching to Beta the sign-in landed in %d, want Beta (%d)", got, e.beta.ID)
	}
}

var invitationLink = regexp.MustCompile(`id="invitation-link"[^>]*value="([^"]+)"`)

// invite makes an invitation on the settings page and returns the link.
func (c *client) invite(csrf, email string, role touchbase.Role) (page, string) {
	c.e.t.Helper()
	p := c.post("/ui/settings/invitations", csrf, url.Values{"email": {email}, "role": {string(role)}})
	m := invitationLink.FindStringSubmatch(p.body)
	if m == nil {
		return p, ""
	}
	return p, html.UnescapeString(m[1])
}

// TestInvitations walks the console's invitations: an owner invites an
// address that has an account in another workspace and one that has none
// (the same answer, nothing about the account shown, nobody a member),
// the first accepts by signing in, the second by creating an account, a
// revoked link stops working, and only owners and admins see the page.
func TestInvitations(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	if _, err := e.store.CreateUser(ctx, e.beta.ID, "eve@example.com", "Eve Secretname", password, touchbase.RoleOwner); err != nil {
		t.Fatal(err)
	}
	owner := e.client()
	csrf := owner.login("owner@example.com")
	p := owner.do("GET", "/ui/settings", nil)
	if p.status != 200 || !strings.Contains(p.body, `id="invite-form"`) || !strings.Contains(p.body, `id="members-table"`) {
		t.Fatalf("settings page: %d: %.500s", p.status, p.body)
	}
	for _, who := range []string{"analyst@example.com", "marketer@example.com"} {
		c := e.client()
		c.login(who)
		if p := c.do("GET", "/ui/settings", nil); p.status != http.StatusForbidden {
			t.Errorf("%s opened settings: %d", who, p.status)
		}
		if d := c.do("GET", "/ui/", nil); strings.Contains(d.body, `id="nav-settings"`) {
			t.Errorf("%s sees the settings link", who)
		}
	}

	pe, eveLink := owner.invite(csrf, "eve@example.com", touchbase.RoleMarketer)
	pn, newLink := owner.invite(csrf, "newbie@example.com", touchbase.RoleAnalyst)
	if eveLink == "" || newLink == "" || pe.status != pn.status || pe.status != http.StatusCreated {
		t.Fatalf("invitations: %d %q, %d %q", pe.status, eveLink, pn.status, newLink)
	}
	if !strings.HasPrefix(eveLink, e.url+"/ui/invitation?token=tbi_") {
		t.Errorf("link %q", eveLink)
	}
	// (The owner is in Beta too, so its name is in their switcher.)
	if strings.Contains(pe.body, "Secretname") {
		t.Errorf("inviting eve shows her name from Beta")
	}
	p = owner.do("GET", "/ui/settings", nil)
	members := p.body[strings.Index(p.body, `id="members-table"`):]
	if strings.Contains(members, "eve@example.com") || !strings.Contains(p.body, `id="invitations-table"`) ||
		strings.Count(p.body, "eve@example.com") != 1 || strings.Contains(p.body, newLink) {
		t.Errorf("settings after inviting: eve must be pending only, the link not shown again: %.3000s", p.body)
	}

	// Eve opens her link: the page says who invited her to what; a wrong
	// password is refused, the right one signs her in to Acme.
	eve := e.client()
	eveURL := strings.TrimPrefix(eveLink, e.url)
	p = eve.do("GET", eveURL, nil)
	if p.status != 200 || !strings.Contains(p.body, "Join Acme Outfitters") || !strings.Contains(p.body, "owner@example.com invited") {
		t.Fatalf("invitation page: %d: %.1000s", p.status, p.body)
	}
	token := tokenIn(t, eveLink)
	p = eve.do("POST", "/ui/invitation", url.Values{"token": {token}, "action": {"signin"}, "password": {"wrong wrong"}, "csrf": {p.csrf(t)}},
		"Origin", e.url)
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Wrong password") {
		t.Errorf("wrong password: %d", p.status)
	}
	p = eve.do("POST", "/ui/invitation", url.Values{"token": {token}, "action": {"signin"}, "password": {password}, "csrf": {p.csrf(t)}},
		"Origin", e.url)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/" {
		t.Fatalf("eve accepts: %d %q: %.500s", p.status, p.header.Get("Location"), p.body)
	}
	if got := eve.workspaceOf(); got != e.acme.ID {
		t.Errorf("eve landed in %d, want Acme", got)
	}
	if m, err := e.store.FindMember(ctx, e.acme.ID, memberID(t, e, "eve@example.com")); err != nil || m.Role != touchbase.RoleMarketer {
		t.Errorf("eve's membership: %+v %v", m, err)
	}
	if p := e.client().do("GET", eveURL, nil); p.status != http.StatusNotFound || !strings.Contains(p.body, "does not work") {
		t.Errorf("used link: %d", p.status)
	}

	// The newcomer creates an account.
	nb := e.client()
	nbURL := strings.TrimPrefix(newLink, e.url)
	p = nb.do("GET", nbURL, nil)
	p = nb.do("POST", "/ui/invitation", url.Values{"token": {tokenIn(t, newLink)}, "action": {"signup"}, "name": {"Nina Newbie"},
		"password": {"short"}, "csrf": {p.csrf(t)}}, "Origin", e.url)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "shorter than 8") || !strings.Contains(p.body, `value="Nina Newbie"`) {
		t.Errorf("short password: %d: %.500s", p.status, p.body)
	}
	p = nb.do("POST", "/ui/invitation", url.Values{"token": {tokenIn(t, newLink)}, "action": {"signup"}, "name": {"Nina Newbie"},
		"password": {"a good long password"}, "csrf": {p.csrf(t)}}, "Origin", e.url)
	if p.status != http.StatusSeeOther {
		t.Fatalf("signup: %d: %.500s", p.status, p.body)
	}
	if got := nb.workspaceOf(); got != e.acme.ID {
		t.Errorf("newbie landed in %d", got)
	}
	if p := owner.do("GET", "/ui/settings", nil); !strings.Contains(p.body, "Nina Newbie") || strings.Contains(p.body, `id="invitations-table"`) {
		t.Errorf("after both accepted: %.2000s", p.body)
	}

	// Signed in as another account: the page says so, accepting is refused.
	_, kimLink := owner.invite(csrf, "kim@example.com", touchbase.RoleAnalyst)
	mk := e.client()
	mcsrf := mk.login("marketer@example.com")
	if p := mk.do("GET", strings.TrimPrefix(kimLink, e.url), nil); !strings.Contains(p.body, `id="invitation-other-account"`) {
		t.Errorf("another account's view: %.1000s", p.body)
	}
	if p := mk.post("/ui/invitation", mcsrf, url.Values{"token": {tokenIn(t, kimLink)}, "action": {"accept"}}); p.status != http.StatusForbidden {
		t.Errorf("accepting another's invitation: %d", p.status)
	}

	// Revoked: the link stops working.
	p = owner.do("GET", "/ui/settings", nil)
	id := regexp.MustCompile(`/ui/settings/invitations/(\d+)/revoke`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no revoke button: %.2000s", p.body)
	}
	if p := owner.post("/ui/settings/invitations/"+id[1]+"/revoke", csrf, nil); p.status != http.StatusSeeOther {
		t.Errorf("revoke: %d", p.status)
	}
	if p := e.client().do("GET", strings.TrimPrefix(kimLink, e.url), nil); p.status != http.StatusNotFound {
		t.Errorf("revoked link: %d", p.status)
	}
}

// tokenIn returns the token of an invitation link.
func tokenIn(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("link %q has no token", link)
	}
	return u.Query().Get("token")
}

// memberID returns the id of the user with this email, from Acme's members.
func memberID(t *testing.T, e *env, email string) int64 {
	t.Helper()
	ms, err := e.store.ListMembers(context.Background(), e.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Email == email {
			return m.ID
		}
	}
	t.Fatalf("%s is not a member of Acme", email)
	return 0
}
