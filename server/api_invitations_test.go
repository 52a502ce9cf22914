package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
)

// tokenOf returns the token of an invitation link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("link %q has no token", link)
	}
	return u.Query().Get("token")
}

// TestAPIInvitationsLeakNothing: inviting an address that has an account in
// another workspace answers exactly as for one that has none (no name, no
// dates, nothing of that workspace), and makes nobody a member until they
// accept. Adding a user directly is gone from the API.
func TestAPIInvitationsLeakNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		other := e.workspace("Eve's other shop")
		e.store.Now = func() time.Time { return time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) }
		eve, err := e.store.CreateUser(ctx, other.ID, "eve@example.com", "Eve Secretname", "correct horse battery", touchbase.RoleOwner)
		e.store.Now = time.Now
		if err != nil {
			t.Fatal(err)
		}

		// The old way in: refused, and Eve is not added.
		if r := e.api(e.owner, "POST", "/users", obj{"email": "eve@example.com", "role": "analyst"}); r.status < 400 {
			t.Fatalf("POST /users: status %d, want it refused: %s", r.status, r.body)
		} else if strings.Contains(string(r.body), "Secretname") || strings.Contains(string(r.body), "2020") {
			t.Errorf("POST /users revealed Eve's account: %s", r.body)
		}

		withAccount := e.mustAPI(e.owner, "POST", "/invitations", obj{"email": "eve@example.com", "role": "analyst"}, 201)
		without := e.mustAPI(e.owner, "POST", "/invitations", obj{"email": "nobody@example.com", "role": "analyst"}, 201)
		for _, leak := range []string{"Secretname", "2020-01-02", "Eve's other shop"} {
			if strings.Contains(string(withAccount.body), leak) {
				t.Errorf("the invitation reveals %q: %s", leak, withAccount.body)
			}
		}
		if a, b := fieldsOf(t, withAccount.body), fieldsOf(t, without.body); !slices.Equal(a, b) {
			t.Errorf("answers differ in shape: %v vs %v", a, b)
		}
		var members page[touchbase.Member]
		e.mustAPI(e.owner, "GET", "/users", nil, 200).decode(t, &members)
		for _, m := range members.Items {
			if m.Email == "eve@example.com" {
				t.Errorf("Eve is a member before accepting: %+v", m)
			}
		}
		var pending page[touchbase.Invitation]
		e.mustAPI(e.owner, "GET", "/invitations", nil, 200).decode(t, &pending)
		if len(pending.Items) != 2 || pending.Items[0].Email != "eve@example.com" || pending.Items[0].InvitedBy == "" {
			t.Errorf("pending %+v", pending.Items)
		}

		// Eve accepts; then she is a member, listed with the date she joined.
		var inv server.CreatedInvitation
		withAccount.decode(t, &inv)
		if _, err := e.store.AcceptInvitation(ctx, tokenOf(t, inv.Link), eve.ID); err != nil {
			t.Fatal(err)
		}
		e.mustAPI(e.owner, "GET", "/users", nil, 200).decode(t, &members)
		found := false
		for _, m := range members.Items {
			if m.Email == "eve@example.com" {
				found = true
				if m.CreatedAt.Year() == 2020 {
					t.Errorf("member shows the account's creation date, not when she joined: %+v", m)
				}
			}
		}
		if !found {
			t.Errorf("Eve is not a member after accepting: %+v", members.Items)
		}

		// Revoking the other one: its link stops working.
		var nobody server.CreatedInvitation
		without.decode(t, &nobody)
		e.mustAPI(e.owner, "DELETE", "/invitations/"+itoa(nobody.ID), nil, 204)
		if _, _, err := e.store.FindInvitation(ctx, tokenOf(t, nobody.Link)); touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
			t.Errorf("revoked link: %v", err)
		}
		if r := e.api(e.owner, "DELETE", "/invitations/"+itoa(nobody.ID), nil); r.status != 404 {
			t.Errorf("revoke twice: %d", r.status)
		}
		// Only owners invite owners.
		admin := e.key(e.ws.ID, touchbase.KeyAdmin, touchbase.RoleAdmin)
		if r := e.api(admin, "POST", "/invitations", obj{"email": "boss@example.com", "role": "owner"}); r.status != 403 {
			t.Errorf("admin inviting an owner: %d", r.status)
		}
		marketer := e.key(e.ws.ID, touchbase.KeyAdmin, touchbase.RoleMarketer)
		if r := e.api(marketer, "POST", "/invitations", obj{"email": "m@example.com", "role": "analyst"}); r.status != 403 {
			t.Errorf("marketer inviting: %d", r.status)
		}
	})
}

// fieldsOf returns the sorted keys of a JSON object.
func fieldsOf(t *testing.T, body []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestAPIWorkspaceNamesLeakNothing: creating or renaming a workspace with
// another tenant's name works like any other name, so that the answer
// tells nothing about which names others use.
func TestAPIWorkspaceNamesLeakNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.workspace("Secret Competitor")
		var created server.CreatedWorkspace
		e.mustAPI(e.owner, "POST", "/workspaces", obj{"name": "Secret Competitor"}, 201).decode(t, &created)
		if created.Workspace.Name != "Secret Competitor" {
			t.Errorf("created %+v", created.Workspace)
		}
		e.mustAPI(e.owner, "PATCH", "/workspace", obj{"name": "Secret Competitor"}, 200)
	})
}
