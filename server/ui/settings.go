package ui

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// The settings page shows the workspace's people: its members and the
// pending invitations, which owners and admins make and revoke. People
// join only by accepting an invitation (invitationPage), so nobody is made
// a member without their consent, and making one shows nothing about
// whether the address has an account.

func (h *Handler) settingsRoutes() {
	m := h.mux
	m.HandleFunc("GET "+Prefix+"/settings", h.authed(touchbase.RoleAdmin, h.settings))
	m.HandleFunc("POST "+Prefix+"/settings/invitations", h.authed(touchbase.RoleAdmin, h.invite))
	m.HandleFunc("POST "+Prefix+"/settings/invitations/{id}/revoke", h.authed(touchbase.RoleAdmin, h.revokeInvitation))
	m.HandleFunc("GET "+Prefix+"/invitation", h.handle(h.invitationPage))
	m.HandleFunc("POST "+Prefix+"/invitation", h.handle(h.acceptInvitation))
}

// settingsOn reports whether the settings and invitation pages are served.
func (h *Handler) settingsOn() bool { return h.svc.Invitations != nil }

// settingsData is what the settings page shows.
type settingsData struct {
	base
	Members     []*touchbase.Member
	Invitations []*touchbase.Invitation
	// Roles are those the viewer may invite to.
	Roles []touchbase.Role
	// Created is the invitation just made, with its Link (shown once).
	Created *touchbase.Invitation
	Link    string
	Email   string
	Role    touchbase.Role
	Error   string
}

func (h *Handler) settings(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.renderSettings(w, r, rq, http.StatusOK, &settingsData{Role: touchbase.RoleMarketer})
}

func (h *Handler) renderSettings(w http.ResponseWriter, r *http.Request, rq *request, status int, d *settingsData) error {
	ctx := r.Context()
	var err error
	if d.Members, err = h.svc.Users.ListMembers(ctx, rq.ws.ID); err != nil {
		return err
	}
	if d.Invitations, err = h.svc.Invitations.ListInvitations(ctx, rq.ws.ID); err != nil {
		return err
	}
	d.base = h.base(rq, "Settings", "settings")
	for _, role := range touchbase.Roles {
		if role != touchbase.RoleOwner || rq.member.Role == touchbase.RoleOwner {
			d.Roles = append(d.Roles, role)
		}
	}
	h.render(w, status, "settings", d)
	return nil
}

func (h *Handler) invite(w http.ResponseWriter, r *http.Request, rq *request) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	role := touchbase.Role(r.PostFormValue("role"))
	d := &settingsData{Email: email, Role: role}
	if role == touchbase.RoleOwner && rq.member.Role != touchbase.RoleOwner {
		d.Error = "Only an owner may invite owners."
		return h.renderSettings(w, r, rq, http.StatusForbidden, d)
	}
	inv, token, err := h.svc.Invitations.CreateInvitation(r.Context(), rq.ws.ID, email, role, rq.member.Email)
	if code := touchbase.ErrorCode(err); code == touchbase.EINVALID || code == touchbase.ECONFLICT {
		d.Error = touchbase.ErrorMessage(err)
		return h.renderSettings(w, r, rq, h.cfg.StatusOf(code), d)
	} else if err != nil {
		return err
	}
	h.log.Info("invitation created", "request_id", w.Header().Get("X-Request-Id"), "workspace_id", rq.ws.ID, "invitation_id", inv.ID,
		"role", inv.Role, "by_user_id", rq.member.ID)
	scheme := "http://"
	if h.secure(r) {
		scheme = "https://"
	}
	return h.renderSettings(w, r, rq, http.StatusCreated, &settingsData{Created: inv, Link: scheme + r.Host + InvitationPath(token),
		Role: touchbase.RoleMarketer})
}

func (h *Handler) revokeInvitation(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return touchbase.Errorf(touchbase.ENOTFOUND, "no such invitation")
	}
	invs, err := h.svc.Invitations.ListInvitations(r.Context(), rq.ws.ID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if inv.ID == id && inv.Role == touchbase.RoleOwner && rq.member.Role != touchbase.RoleOwner {
			return touchbase.Errorf(touchbase.EFORBIDDEN, "only an owner may revoke an invitation to be owner")
		}
	}
	if err := h.svc.Invitations.RevokeInvitation(r.Context(), rq.ws.ID, id); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/settings")
	return nil
}

// invitationData is what the page where an invitee accepts shows.
type invitationData struct {
	base
	Invitation *touchbase.Invitation
	Workspace  string
	Token      string
	// SignedInAs is the email of the session's user, "" without one;
	// SessionCSRF is that session's CSRF token.
	SignedInAs  string
	SessionCSRF string
	// FormToken is the double-submit token of the forms used without a
	// session (as on the login page).
	FormToken string
	Name      string
	Error     string
}

// invitationPage shows an invitation to whoever holds its link: an
// existing user signs in (or, signed in already, accepts), a new one sets
// their name and password. A link that does not work is a 404 page saying
// so, whatever the reason.
func (h *Handler) invitationPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderInvitation(w, r, http.StatusOK, r.URL.Query().Get("token"), "", "")
}

func (h *Handler) renderInvitation(w http.ResponseWriter, r *http.Request, status int, token, name, msg string) error {
	ctx := r.Context()
	inv, wsName, err := h.svc.Invitations.FindInvitation(ctx, token)
	if err != nil {
		return err
	}
	d := invitationData{base: h.base(nil, "Join "+wsName, ""), Invitation: inv, Workspace: wsName, Token: token, Name: name, Error: msg}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if sess, err := h.svc.Sessions.AuthenticateSession(ctx, c.Value); err == nil {
			u, err := h.svc.Users.FindMember(ctx, sess.WorkspaceID, sess.UserID)
			if err == nil {
				d.SignedInAs, d.SessionCSRF = u.Email, csrfToken(c.Value)
			}
		}
	}
	if d.SignedInAs == "" {
		d.FormToken = h.formToken(w, r)
	}
	h.render(w, status, "invitation", d)
	return nil
}

// acceptInvitation takes the invitation page's forms: accept (signed in as
// the invited account), signin (the invited account's password), or
// signup (a new account for the invited email).
func (h *Handler) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := checkSameOrigin(r); err != nil {
		return err
	}
	token := r.PostFormValue("token")
	inv, _, err := h.svc.Invitations.FindInvitation(ctx, token)
	if err != nil {
		return err
	}
	switch r.PostFormValue("action") {
	case "accept":
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			return touchbase.Errorf(touchbase.EUNAUTHORIZED, "your session has ended: open the invitation link again")
		}
		sess, err := h.svc.Sessions.AuthenticateSession(ctx, c.Value)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue(csrfField)), []byte(csrfToken(c.Value))) != 1 {
			return touchbase.Errorf(touchbase.EFORBIDDEN, "this form has expired or did not come from touchbase: reload the page and try again")
		}
		if _, err := h.svc.Invitations.AcceptInvitation(ctx, token, sess.UserID); err != nil {
			return err
		}
		if _, err := h.svc.Sessions.SetSessionWorkspace(ctx, sess.ID, inv.WorkspaceID); err != nil {
			return err
		}
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return nil
	case "signin", "signup":
	default:
		return touchbase.Errorf(touchbase.EINVALID, "choose to sign in or to create your account")
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		return h.renderInvitation(w, r, http.StatusForbidden, token, r.PostFormValue("name"), "The form expired. Please try again.")
	}
	password := r.PostFormValue("password")
	if r.PostFormValue("action") == "signin" {
		// The invited account's password, throttled like the login form's
		// (this form must not be a way around that limit).
		ip := clientIP(r)
		if wait := h.logins.reserve(inv.Email, ip); wait > 0 {
			return h.renderInvitation(w, r, http.StatusTooManyRequests, token, "",
				"Too many failed sign-ins. Try again in "+strconv.Itoa(int(wait/time.Minute)+1)+" minutes.")
		}
		u, err := h.svc.Users.Authenticate(ctx, inv.Email, password)
		if touchbase.ErrorCode(err) == touchbase.EUNAUTHORIZED {
			return h.renderInvitation(w, r, http.StatusUnauthorized, token, "", "Wrong password for "+inv.Email+".")
		} else if err != nil {
			h.logins.release(inv.Email, ip)
			return err
		}
		h.logins.succeed(inv.Email, ip)
		if _, err := h.svc.Invitations.AcceptInvitation(ctx, token, u.ID); err != nil {
			return err
		}
		return h.signIn(w, r, u.ID, inv.WorkspaceID, Prefix+"/")
	}
	m, err := h.svc.Invitations.AcceptInvitationAsNewUser(ctx, token, r.PostFormValue("name"), password)
	if code := touchbase.ErrorCode(err); code == touchbase.EINVALID || code == touchbase.ECONFLICT {
		return h.renderInvitation(w, r, h.cfg.StatusOf(code), token, r.PostFormValue("name"), touchbase.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return h.signIn(w, r, m.ID, m.WorkspaceID, Prefix+"/")
}
