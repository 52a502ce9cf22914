package ui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/touchbase/touchbase"
)

// The console's security model (docs/console.md says it for people):
//
//   - A session is a random token in an HttpOnly, SameSite=Lax cookie
//     scoped to /ui; the store keeps its SHA-256 only and ends it 14 days
//     after its last use, 30 days after sign-in at the latest.
//   - Every request reads the user's membership of the session's workspace,
//     so a changed role or a removal applies at once.
//   - Every non-GET request must be same-origin (Sec-Fetch-Site, Origin)
//     and carry the CSRF token: the form field csrf or, for htmx, the
//     X-CSRF-Token header that <body hx-headers> adds. The token is derived
//     from the session token, so it needs no storage and dies with it.
//   - The login form, before any session, uses a double-submit token: a
//     random value in a short-lived cookie and in the form.
//   - Failed sign-ins are throttled per email and per client address.
const (
	sessionCookie = "tb_session"
	loginCookie   = "tb_login"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// request is what an authenticated handler knows about who asks.
type request struct {
	sess        *touchbase.Session
	member      *touchbase.Member
	ws          *touchbase.Workspace
	memberships []*touchbase.Membership
	csrf        string
}

// authedFunc is a handler that needs a signed-in member.
type authedFunc func(w http.ResponseWriter, r *http.Request, rq *request) error

// authed wraps fn with session authentication, the CSRF checks on
// changes, and a minimum role in the session's workspace. Without a valid
// session it sends people to the login page and back afterwards.
func (h *Handler) authed(min touchbase.Role, fn authedFunc) http.HandlerFunc {
	return h.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		c, err := r.Cookie(sessionCookie)
		var sess *touchbase.Session
		if err == nil {
			sess, err = h.svc.Sessions.AuthenticateSession(ctx, c.Value)
		}
		if err != nil {
			if err != http.ErrNoCookie && touchbase.ErrorCode(err) != touchbase.EUNAUTHORIZED {
				return err
			}
			if r.Method != http.MethodGet {
				return touchbase.Errorf(touchbase.EUNAUTHORIZED, "your session has ended: sign in again")
			}
			h.toLogin(w, r)
			return nil
		}
		rq := &request{sess: sess, csrf: csrfToken(c.Value)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := checkSameOrigin(r); err != nil {
				return err
			}
			got := r.Header.Get(csrfHeader)
			if got == "" {
				got = r.PostFormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(rq.csrf)) != 1 {
				return touchbase.Errorf(touchbase.EFORBIDDEN, "this form has expired or did not come from touchbase: reload the page and try again")
			}
		}
		if err := h.loadMember(ctx, rq); err != nil {
			return err
		}
		if !rq.member.Role.AtLeast(min) {
			return touchbase.Errorf(touchbase.EFORBIDDEN, "your role in %s is %s: this needs %s or above", rq.ws.Name, rq.member.Role, min)
		}
		return fn(w, r, rq)
	})
}

// loadMember fills in the member, workspace and memberships of rq. When
// the user has lost their membership of the session's workspace, the
// session moves to another of theirs; with none left, EFORBIDDEN.
func (h *Handler) loadMember(ctx context.Context, rq *request) error {
	ms, err := h.svc.Users.ListMemberships(ctx, rq.sess.UserID)
	if err != nil {
		return err
	}
	rq.memberships = ms
	in := false
	for _, m := range ms {
		in = in || m.WorkspaceID == rq.sess.WorkspaceID
	}
	if !in {
		if len(ms) == 0 {
			return touchbase.Errorf(touchbase.EFORBIDDEN, "you are not a member of any workspace any more: ask an owner or admin to invite you again")
		}
		if rq.sess, err = h.svc.Sessions.SetSessionWorkspace(ctx, rq.sess.ID, ms[0].WorkspaceID); err != nil {
			return err
		}
	}
	if rq.member, err = h.svc.Users.FindMember(ctx, rq.sess.WorkspaceID, rq.sess.UserID); err != nil {
		return err
	}
	rq.ws, err = h.svc.Workspaces.FindWorkspace(ctx, rq.sess.WorkspaceID)
	return err
}

// toLogin sends a signed-out visitor to the login page, to come back to
// where they were going (htmx follows HX-Redirect with a full load).
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	target := Prefix + "/login"
	if next := r.URL.RequestURI(); next != Prefix+"/" && !isHTMX(r) {
		target += "?next=" + url.QueryEscape(next)
	}
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// checkSameOrigin refuses cross-site changes: browsers send Sec-Fetch-Site
// (same-origin for our own forms), and Origin on every POST; either one
// from elsewhere is refused. The CSRF token is checked besides, for
// browsers that send neither.
func checkSameOrigin(r *http.Request) error {
	refuse := touchbase.Errorf(touchbase.EFORBIDDEN, "cross-site request refused: changes must come from touchbase's own pages")
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return refuse
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return refuse
		}
	}
	return nil
}

// csrfToken derives the CSRF token of a session token: a hash, so it
// reveals nothing about the session token, needs no storage, and ends with
// the session.
func csrfToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("touchbase console csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// secure reports whether the request came over TLS, to this server or (when
// configured) to a proxy in front of it.
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || (h.cfg.TrustForwardedProto && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.secure(r), MaxAge: int(maxAge / time.Second)}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// loginData is what the login page shows.
type loginData struct {
	base
	Email string
	Next  string
	Error string
	Token string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, err := h.svc.Sessions.AuthenticateSession(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return nil
		}
	}
	h.renderLogin(w, r, http.StatusOK, "", "")
	return nil
}

// renderLogin shows the login form with a fresh double-submit token.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, email, msg string) {
	token := h.formToken(w, r)
	next := r.FormValue("next")
	h.render(w, status, "login", loginData{base: h.base(nil, "Sign in", ""), Email: email, Next: safeNext(next), Error: msg, Token: token})
}

// formToken sets a fresh double-submit token for a form used without a
// session (sign-in, accepting an invitation) and returns it for the form.
func (h *Handler) formToken(w http.ResponseWriter, r *http.Request) string {
	var b [24]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	h.setCookie(w, r, loginCookie, token, time.Hour)
	return token
}

// login signs a user in, into their home workspace (HomeWorkspace).
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := checkSameOrigin(r); err != nil {
		return err
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		h.renderLogin(w, r, http.StatusForbidden, r.PostFormValue("email"), "The sign-in form expired. Please try again.")
		return nil
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	ip := clientIP(r)
	// The attempt is counted before the password is checked: concurrent
	// guesses cannot all pass the limit before the first is counted.
	if wait := h.logins.reserve(email, ip); wait > 0 {
		h.renderLogin(w, r, http.StatusTooManyRequests, email,
			"Too many failed sign-ins. Try again in "+strconv.Itoa(int(wait.Minutes())+1)+" minutes.")
		return nil
	}
	u, err := h.svc.Users.Authenticate(ctx, email, r.PostFormValue("password"))
	if touchbase.ErrorCode(err) == touchbase.EUNAUTHORIZED {
		h.renderLogin(w, r, http.StatusUnauthorized, email, "Wrong email or password.")
		return nil
	} else if err != nil {
		h.logins.release(email, ip)
		return err
	}
	h.logins.succeed(email, ip)
	// The workspace is chosen by id (the one last looked at, else the
	// first joined), never by name: another workspace's owner can rename
	// theirs to sort first.
	home, err := h.svc.Users.HomeWorkspace(ctx, u.ID)
	if touchbase.ErrorCode(err) == touchbase.ENOTFOUND {
		h.renderLogin(w, r, http.StatusForbidden, email, "Your account is not a member of any workspace. Ask an owner or admin to invite you.")
		return nil
	} else if err != nil {
		return err
	}
	return h.signIn(w, r, u.ID, home, safeNext(r.PostFormValue("next")))
}

// signIn starts a session for userID looking at workspaceID and sends the
// browser to next.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, userID, workspaceID int64, next string) error {
	_, token, err := h.svc.Sessions.CreateSession(r.Context(), userID, workspaceID)
	if err != nil {
		return err
	}
	h.setCookie(w, r, sessionCookie, token, touchbase.SessionMaxAge)
	h.setCookie(w, r, loginCookie, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// safeNext returns next when it is a console path (never another site:
// no open redirect), else the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") &&
		!strings.HasPrefix(next, Prefix+"/login") {
		return next
	}
	return Prefix + "/"
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := h.svc.Sessions.DeleteSession(r.Context(), rq.sess.ID); err != nil {
		return err
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	redirect(w, r, Prefix+"/login")
	return nil
}

func (h *Handler) switchWorkspace(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := strconv.ParseInt(r.PostFormValue("workspace_id"), 10, 64)
	if err != nil {
		return fieldError("workspace_id", "choose a workspace")
	}
	if _, err := h.svc.Sessions.SetSessionWorkspace(r.Context(), rq.sess.ID, id); err != nil {
		if touchbase.ErrorCode(err) == touchbase.ENOTFOUND {
			return touchbase.Errorf(touchbase.EFORBIDDEN, "you are not a member of that workspace")
		}
		return err
	}
	redirect(w, r, Prefix+"/")
	return nil
}

// redirect sends the browser to target after a change: a 303 for a form,
// HX-Redirect (a full load) for htmx.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// clientIP is the address failed sign-ins are counted against. It is the
// connection's peer: behind a proxy that is the proxy, which then bounds
// everyone's failures together (safe, if coarse).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Login throttling: after maxFailsPerEmail failures for one email, or
// maxFailsPerIP from one address, within failWindow, sign-ins for it are
// refused until the window passes. It lives in memory: a restart forgets
// it, and each node of a cluster counts alone, which still bounds guessing
// to a few attempts per window per node.
//
// An attempt is reserved (counted as a failure) before its password is
// checked, in the same critical section that decides whether it may go
// ahead; a right password gives its reservation back. Checking first and
// counting after the check let 60 concurrent guesses all through, since
// none was counted until the (deliberately slow) hash had been computed.
const (
	maxFailsPerEmail = 5
	maxFailsPerIP    = 30
	failWindow       = 15 * time.Minute
	maxThrottleKeys  = 100_000
)

type throttle struct {
	now   func() time.Time
	mu    sync.Mutex
	fails map[string]*failCount
}

type failCount struct {
	n     int
	since time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, fails: map[string]*failCount{}}
}

func throttleKeys(email, ip string) (string, string) {
	return "e:" + strings.ToLower(strings.TrimSpace(email)), "i:" + ip
}

// reserve counts one sign-in attempt for email from ip, unless either has
// used up its attempts: then it counts nothing and returns how long
// sign-ins are refused.
func (t *throttle) reserve(email, ip string) time.Duration {
	ek, ik := throttleKeys(email, ip)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range [...]struct {
		key string
		max int
	}{{ek, maxFailsPerEmail}, {ik, maxFailsPerIP}} {
		f := t.fails[k.key]
		if f == nil {
			continue
		}
		if left := f.since.Add(failWindow).Sub(now); left <= 0 {
			delete(t.fails, k.key)
		} else if f.n >= k.max && left > wait {
			wait = left
		}
	}
	if wait > 0 {
		return wait
	}
	if len(t.fails) >= maxThrottleKeys {
		for k, f := range t.fails {
			if now.Sub(f.since) >= failWindow {
				delete(t.fails, k)
			}
		}
	}
	for _, k := range []string{ek, ik} {
		f := t.fails[k]
		if f == nil {
			f = &failCount{since: now}
			t.fails[k] = f
		}
		f.n++
	}
	return 0
}

// succeed settles a reserved attempt whose password was right: the email's
// failures are forgotten, and the address gets its one attempt back (not
// all of them: one right password must not reset the count of an address
// guessing others).
func (t *throttle) succeed(email, ip string) {
	ek, ik := throttleKeys(email, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, ek)
	t.giveBack(ik)
}

// release gives back a reserved attempt that got no answer (the store
// failed before the password was checked).
func (t *throttle) release(email, ip string) {
	ek, ik := throttleKeys(email, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.giveBack(ek)
	t.giveBack(ik)
}

func (t *throttle) giveBack(k string) {
	if f := t.fails[k]; f != nil {
		if f.n--; f.n <= 0 {
			delete(t.fails, k)
		}
	}
}

// hxHeaders is the hx-headers attribute of <body>: htmx sends the CSRF
// token with every request it makes.
func hxHeaders(csrf string) string {
	b, _ := json.Marshal(map[string]string{csrfHeader: csrf})
	return string(b)
}

// InvitationPath is the console page where the holder of an invitation's
// token accepts it. The token is in the query, which the access log does
// not record (it records the path), and Referrer-Policy keeps it from
// other sites.
func InvitationPath(token string) string {
	return Prefix + "/invitation?token=" + url.QueryEscape(token)
}
