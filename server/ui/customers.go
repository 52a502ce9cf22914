package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// customersPage is how many customers one page of the list shows.
const customersPage = 50

type customersData struct {
	base
	Q, Trait, TraitValue, MinOrders, Seen, Sort string
	Customers                                   []*touchbase.Customer
	Next                                        string
	Paged                                       bool // past the first page
	Error                                       string
	Filtered                                    bool
	WorkspaceEmpty                              bool
}

// query returns the list's URL query with the changes given ("" removes).
func (d *customersData) query(changes ...string) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", d.Q)
	set("trait", d.Trait)
	set("trait_value", d.TraitValue)
	set("min_orders", d.MinOrders)
	set("seen", d.Seen)
	set("sort", d.Sort)
	for i := 0; i+1 < len(changes); i += 2 {
		v.Del(changes[i])
		set(changes[i], changes[i+1])
	}
	if len(v) == 0 {
		return Prefix + "/customers"
	}
	return Prefix + "/customers?" + v.Encode()
}

// SortURL is the list sorted by s, from its first page.
func (d *customersData) SortURL(s string) string { return d.query("sort", s) }

// NextURL is the list's next page.
func (d *customersData) NextURL() string { return d.query("after", d.Next) }

// FirstURL is the list's first page.
func (d *customersData) FirstURL() string { return d.query() }

// AriaSort is the aria-sort of a column header.
func (d *customersData) AriaSort(s string) string {
	cur := d.Sort
	if cur == "" {
		cur = "id"
	}
	switch {
	case cur != s:
		return "none"
	case s == "id":
		return "ascending"
	}
	return "descending"
}

// customers lists the workspace's customers: search, filters, sortable
// columns, keyset pages. htmx swaps only the results and pushes the URL,
// so reload, back and forward show the same list.
func (h *Handler) customers(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	d := &customersData{base: h.base(rq, "Customers", "customers"),
		Q: strings.TrimSpace(q.Get("q")), Trait: strings.TrimSpace(q.Get("trait")), TraitValue: strings.TrimSpace(q.Get("trait_value")),
		MinOrders: strings.TrimSpace(q.Get("min_orders")), Seen: q.Get("seen"), Sort: q.Get("sort")}
	f := touchbase.CustomerFilter{Query: d.Q, Trait: d.Trait, TraitValue: d.TraitValue, Sort: touchbase.CustomerSort(d.Sort),
		After: q.Get("after"), Limit: customersPage}
	d.Paged = f.After != ""
	d.Filtered = d.Q != "" || d.Trait != "" || d.TraitValue != "" || d.MinOrders != "" || d.Seen != ""
	var bad error
	if d.MinOrders != "" {
		n, err := strconv.Atoi(d.MinOrders)
		if err != nil || n < 0 {
			bad = fieldError("min_orders", "minimum orders must be a whole number, 0 or more")
		}
		f.MinOrders = n
	}
	if d.Seen != "" {
		days, err := strconv.Atoi(d.Seen)
		if err != nil || days <= 0 {
			bad = fieldError("seen", "choose how recently customers were seen")
		}
		f.SeenSince = h.cfg.Now().AddDate(0, 0, -days)
	}
	if bad == nil {
		d.Customers, d.Next, bad = h.svc.Customers.ListCustomers(r.Context(), rq.ws.ID, f)
	}
	if bad != nil {
		// A bad filter is shown beside the form, not as an error page.
		if touchbase.ErrorCode(bad) != touchbase.EINVALID {
			return bad
		}
		d.Error = touchbase.ErrorMessage(bad)
		d.Customers = nil
	}
	if len(d.Customers) == 0 && !d.Filtered && !d.Paged && d.Error == "" {
		d.WorkspaceEmpty = true
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "results" {
		h.execute(w, "customers", "results", d)
		return nil
	}
	h.render(w, http.StatusOK, "customers", d)
	return nil
}

// consentTraits are the traits that hold a customer's marketing consent
// per channel (docs/console.md describes the convention).
var consentTraits = []struct{ Channel, Trait string }{
	{"Email", "email_consent"},
	{"SMS", "sms_consent"},
}

// consentStates are the values a consent trait may have.
var consentStates = []string{"subscribed", "not_subscribed", "unsubscribed"}

// consentRow is one channel's consent.
type consentRow struct {
	Channel, Trait, State, Label string
}

func consentOf(c *touchbase.Customer) []consentRow {
	var out []consentRow
	for _, ct := range consentTraits {
		row := consentRow{Channel: ct.Channel, Trait: ct.Trait, State: "unknown", Label: "Unknown"}
		if v, ok := c.Traits[ct.Trait].(string); ok {
			for _, s := range consentStates {
				if v == s {
					row.State = s
					row.Label = strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
				}
			}
		}
		out = append(out, row)
	}
	return out
}

type customerData struct {
	base
	C             *touchbase.Customer
	Name          string
	Consent       []consentRow
	ConsentStates []string
	Orders        []*touchbase.Order
	Timeline      *timelineData
	Segments      *customerSegments // nil without the segment pages
	// Scores is nil without the Insights pages, Recommendations without
	// an analyst.
	Scores          *customerScores
	Recommendations *recommendations
}

// customerOrders is how many of their most recent orders a profile shows.
const customerOrders = 10

// customer is the 360 view of one customer of the session's workspace; a
// customer of another workspace is not found, whatever the id.
func (h *Handler) customer(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	c, err := h.findCustomer(r, rq)
	if err != nil {
		return err
	}
	d := &customerData{base: h.base(rq, displayName(c), "customers"), C: c, Name: displayName(c), Consent: consentOf(c),
		ConsentStates: consentStates}
	if d.Orders, _, err = h.svc.Orders.ListOrders(ctx, rq.ws.ID, touchbase.OrderFilter{CustomerID: c.ID, Limit: customerOrders}); err != nil {
		return err
	}
	if d.Timeline, err = h.loadTimeline(r, rq, c.ID); err != nil {
		return err
	}
	if h.segmentsOn() {
		if d.Segments, err = h.loadCustomerSegments(r, rq, c.ID); err != nil {
			return err
		}
		d.Segments.loc = d.Loc()
	}
	if h.insightsOn() {
		if d.Scores, err = h.loadCustomerScores(ctx, rq, c); err != nil {
			return err
		}
	}
	if h.analystOn() {
		d.Recommendations = h.loadRecommendations(w, r, rq, c.ID, d.Currency())
	}
	h.render(w, http.StatusOK, "customer", d)
	return nil
}

// pathID reads the {id} of the path: a positive number, or ENOTFOUND for
// the thing (what) the path names.
func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, touchbase.Errorf(touchbase.ENOTFOUND, "there is no %s %q", what, r.PathValue("id"))
	}
	return id, nil
}

// findCustomer reads the {id} of the path in the session's workspace.
func (h *Handler) findCustomer(r *http.Request, rq *request) (*touchbase.Customer, error) {
	id, err := pathID(r, "customer")
	if err != nil {
		return nil, err
	}
	return h.svc.Customers.FindCustomer(r.Context(), rq.ws.ID, id)
}

// timelinePage is how many events one page of the timeline shows.
const timelinePage = 25

type timelineData struct {
	CustomerID  int64
	Type, Event string
	Types       []touchbase.EventType
	Events      []*touchbase.Event
	Next        string
	Error       string
	loc         *time.Location
}

// Loc is the workspace's time zone.
func (t *timelineData) Loc() *time.Location { return t.loc }

// NextURL is the next page of the timeline with the same filters.
func (t *timelineData) NextURL() string {
	v := url.Values{"after": {t.Next}}
	if t.Type != "" {
		v.Set("type", t.Type)
	}
	if t.Event != "" {
		v.Set("event", t.Event)
	}
	return Prefix + "/customers/" + strconv.FormatInt(t.CustomerID, 10) + "/timeline?" + v.Encode()
}

func (h *Handler) loadTimeline(r *http.Request, rq *request, customerID int64) (*timelineData, error) {
	q := r.URL.Query()
	t := &timelineData{CustomerID: customerID, Type: q.Get("type"), Event: strings.TrimSpace(q.Get("event")), loc: location(rq.ws),
		Types: []touchbase.EventType{touchbase.EventTrack, touchbase.EventPage, touchbase.EventScreen, touchbase.EventIdentify,
			touchbase.EventGroup, touchbase.EventAlias}}
	var err error
	t.Events, t.Next, err = h.svc.Events.ListEvents(r.Context(), rq.ws.ID, touchbase.EventFilter{CustomerID: customerID,
		Type: touchbase.EventType(t.Type), Event: t.Event, After: q.Get("after"), Limit: timelinePage})
	if touchbase.ErrorCode(err) == touchbase.EINVALID {
		t.Error, err = touchbase.ErrorMessage(err), nil
	}
	return t, err
}

// timeline serves the timeline's fragments: the filtered list, or (with a
// cursor) the next page's items for "load more".
func (h *Handler) timeline(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := h.findCustomer(r, rq)
	if err != nil {
		return err
	}
	t, err := h.loadTimeline(r, rq, c.ID)
	if err != nil {
		return err
	}
	if !isHTMX(r) {
		// A reload of a pushed URL, or a link opened on its own: the page.
		target := Prefix + "/customers/" + strconv.FormatInt(c.ID, 10)
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	block := "timeline"
	if r.URL.Query().Get("after") != "" {
		block = "timeline-items"
	}
	h.execute(w, "customer", block, t)
	return nil
}

// setConsent records a channel's consent as the customer's trait.
func (h *Handler) setConsent(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := h.findCustomer(r, rq)
	if err != nil {
		return err
	}
	trait, state := r.PostFormValue("trait"), r.PostFormValue("state")
	okTrait, okState := false, false
	for _, ct := range consentTraits {
		okTrait = okTrait || ct.Trait == trait
	}
	for _, s := range consentStates {
		okState = okState || s == state
	}
	if !okTrait || !okState {
		return fieldError("state", "consent must be one of subscribed, not_subscribed, unsubscribed for email_consent or sms_consent")
	}
	if _, err := h.svc.Customers.UpdateTraits(r.Context(), rq.ws.ID, c.ID, map[string]any{trait: state}); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/customers/"+strconv.FormatInt(c.ID, 10)+"#consent")
	return nil
}
