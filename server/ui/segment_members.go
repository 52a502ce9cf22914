package ui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/audience"
	"github.com/touchbase/touchbase/engine"
)

// segmentMembersPage is how many members one page of a segment shows.
const segmentMembersPage = 50

// maxListUpload bounds a list's upload of identifiers (the API takes CSV
// up to 10 MiB too).
const maxListUpload = 10 << 20

// sizeHistoryDays is how far back a segment's size chart goes.
const sizeHistoryDays = 30

// maxChartPoints bounds the points of the size chart: sizes are recorded
// up to once a minute, far more than a chart can show.
const maxChartPoints = 240

type segmentData struct {
	base
	Seg     *touchbase.Segment
	Count   int
	Chart   string // JSON for app.js
	Points  int    // recorded sizes in the chart
	Members *membersData
}

// Static reports whether the segment is a list.
func (d *segmentData) Static() bool { return d.Seg.Kind == touchbase.SegmentStatic }

// membersData is a page of a segment's members, with, for a list, the
// result of the last change to it.
type membersData struct {
	SegID     int64
	Static    bool
	CanEdit   bool
	CSRF      string
	Count     int
	After     int64
	Customers []*touchbase.Customer
	Next      int64 // 0: no next page
	// Changed and Unknown report an add or remove: how many customers it
	// changed and the identifiers that named nobody.
	Action  string
	Changed int
	Unknown []string
	Error   string
	// OOB also updates the page's count (an htmx answer to a change).
	OOB      bool
	loc      *time.Location
	currency string
}

// Loc is the workspace's time zone.
func (m *membersData) Loc() *time.Location { return m.loc }

// Currency is the workspace's currency code.
func (m *membersData) Currency() string { return m.currency }

// URL is the segment's page from the member after after.
func (m *membersData) URL(after int64) string {
	u := Prefix + "/segments/" + strconv.FormatInt(m.SegID, 10)
	if after > 0 {
		u += "?after=" + strconv.FormatInt(after, 10)
	}
	return u
}

// sizeChart is what app.js draws: the recorded sizes, as milliseconds
// since the epoch and counts, ending with the size now.
type sizeChart struct {
	At   []int64 `json:"at"`
	Size []int   `json:"size"`
}

// segmentPage shows a segment: its definition, size now and over time,
// its members a page at a time, exports and, for a list, the forms that
// change its members. htmx asks for the members alone when paging.
func (h *Handler) segmentPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	seg, err := h.findSegment(r, rq)
	if err != nil {
		return err
	}
	d := &segmentData{base: h.base(rq, seg.Name, "segments"), Seg: seg}
	if d.Members, err = h.loadMembers(r, rq, seg); err != nil {
		return err
	}
	d.Count = d.Members.Count
	if isHTMX(r) && r.Header.Get("HX-Target") == "members-panel" {
		h.execute(w, "segment", "members", d.Members)
		return nil
	}
	if err := h.sizeChart(r, d); err != nil {
		return err
	}
	h.render(w, http.StatusOK, "segment", d)
	return nil
}

// loadMembers reads the page of members after the query's cursor (a
// customer id: members are in id order, so a page is stable while others
// join and leave).
func (h *Handler) loadMembers(r *http.Request, rq *request, seg *touchbase.Segment) (*membersData, error) {
	m := &membersData{SegID: seg.ID, Static: seg.Kind == touchbase.SegmentStatic, CanEdit: rq.member.Role.AtLeast(touchbase.RoleMarketer),
		CSRF: rq.csrf, loc: location(rq.ws), currency: h.base(rq, "", "").Currency()}
	if a := r.URL.Query().Get("after"); a != "" {
		after, err := strconv.ParseInt(a, 10, 64)
		if err != nil || after < 0 {
			return nil, fieldError("after", "that page link is broken: start again from the first page")
		}
		m.After = after
	}
	ids, err := h.segmentMembers(r.Context(), seg)
	if err != nil {
		return nil, err
	}
	m.Count = len(ids)
	i, _ := slices.BinarySearch(ids, m.After+1)
	page := ids[i:min(i+segmentMembersPage, len(ids))]
	if m.Customers, err = h.svc.Customers.FindCustomers(r.Context(), rq.ws.ID, page); err != nil {
		return nil, err
	}
	if i+len(page) < len(ids) {
		m.Next = page[len(page)-1]
	}
	return m, nil
}

// sizeChart fills in the chart of the last 30 days' sizes. The line ends
// at the size now, so a segment recorded once still draws a line, and
// one with no record yet draws its current size.
func (h *Handler) sizeChart(r *http.Request, d *segmentData) error {
	now := h.cfg.Now()
	sizes, err := h.svc.Segments.SegmentSizes(r.Context(), d.Seg.WorkspaceID, d.Seg.ID, now.AddDate(0, 0, -sizeHistoryDays))
	if err != nil {
		return err
	}
	d.Points = len(sizes)
	c := sizeChart{}
	if len(sizes) > maxChartPoints {
		// Keep the last size of each of maxChartPoints equal spans.
		from, span := sizes[0].At, now.Sub(sizes[0].At)/maxChartPoints+1
		var kept []touchbase.SegmentSize
		for i, s := range sizes {
			if i+1 < len(sizes) && sizes[i+1].At.Sub(from)/span == s.At.Sub(from)/span {
				continue
			}
			kept = append(kept, s)
		}
		sizes = kept
	}
	for _, s := range sizes {
		c.At = append(c.At, s.At.UnixMilli())
		c.Size = append(c.Size, s.Size)
	}
	c.At = append(c.At, now.UnixMilli())
	c.Size = append(c.Size, d.Count)
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	d.Chart = string(b)
	return nil
}

// exportSegment downloads the members as CSV, with ?hashed=1 the hashed
// columns ad platforms take (audience.WriteCSV, as the API and the CLI
// write it).
func (h *Handler) exportSegment(w http.ResponseWriter, r *http.Request, rq *request) error {
	seg, err := h.findSegment(r, rq)
	if err != nil {
		return err
	}
	ids, err := h.segmentMembers(r.Context(), seg)
	if err != nil {
		return err
	}
	hashed := r.URL.Query().Get("hashed") == "1"
	name := "segment-" + strconv.FormatInt(seg.ID, 10)
	if hashed {
		name += "-hashed"
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	hd.Set("Cache-Control", "no-store")
	err = audience.WriteCSV(r.Context(), w, ids, hashed, func(page []int64) ([]*touchbase.Customer, error) {
		return h.svc.Customers.FindCustomers(r.Context(), rq.ws.ID, page)
	})
	if err != nil {
		// The rows are streamed: the status is sent. Abort the response so
		// that the browser reports a failed download, not a short file.
		h.log.Error("console: segment export", "segment", seg.ID, "request_id", hd.Get("X-Request-Id"), "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (h *Handler) addListMembers(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.changeListMembers(w, r, rq, "add")
}

func (h *Handler) removeListMembers(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.changeListMembers(w, r, rq, "remove")
}

// changeListMembers adds customers to a list, or removes them, named in
// the form's text (emails and user ids, one a line) and its CSV file
// (audience.ReadCSV: a header naming id, user_id or email). The members
// panel comes back with what changed and what named nobody.
func (h *Handler) changeListMembers(w http.ResponseWriter, r *http.Request, rq *request, action string) error {
	ctx := r.Context()
	seg, err := h.findSegment(r, rq)
	if err != nil {
		return err
	}
	if seg.Kind != touchbase.SegmentStatic {
		return touchbase.Errorf(touchbase.EINVALID, "segment %q is dynamic: its condition decides its members", seg.Name)
	}
	ids, err := listIdentifiers(r)
	var changed int
	var unknown []string
	if err == nil {
		var found []int64
		if found, unknown, err = audience.Resolve(ctx, h.svc.Customers, rq.ws.ID, ids); err == nil {
			change := h.svc.Segments.AddStaticMembers
			if action == "remove" {
				change = h.svc.Segments.RemoveStaticMembers
			}
			changed, err = change(ctx, rq.ws.ID, seg.ID, found)
		}
	}
	if err != nil && touchbase.ErrorCode(err) != touchbase.EINVALID {
		return err
	}
	// A list's members are stored, not evaluated: the engine takes up the
	// change for the segments that refer to it.
	if err == nil && changed > 0 {
		if err := h.svc.Engine.Refresh(ctx, rq.ws.ID); err != nil {
			return err
		}
	}
	r.URL.RawQuery = "" // back to the first page, where the change shows
	m, lerr := h.loadMembers(r, rq, seg)
	if lerr != nil {
		return lerr
	}
	m.Action, m.Changed, m.Unknown = action, changed, unknown
	if err != nil {
		m.Error = touchbase.ErrorMessage(err)
	}
	if isHTMX(r) {
		m.OOB = true
		h.execute(w, "segment", "members", m)
		return nil
	}
	d := &segmentData{base: h.base(rq, seg.Name, "segments"), Seg: seg, Members: m, Count: m.Count}
	if err := h.sizeChart(r, d); err != nil {
		return err
	}
	h.render(w, http.StatusOK, "segment", d)
	return nil
}

// listIdentifiers reads a list form: the text's lines (an email when it
// holds an @, else a user id) and the CSV file, if one was chosen.
func listIdentifiers(r *http.Request) (audience.Identifiers, error) {
	var ids audience.Identifiers
	for _, line := range strings.FieldsFunc(r.PostFormValue("ids"), func(c rune) bool { return c == '\n' || c == '\r' || c == ',' }) {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.Contains(line, "@"):
			ids.Emails = append(ids.Emails, line)
		default:
			ids.UserIDs = append(ids.UserIDs, line)
		}
	}
	f, _, err := r.FormFile("csv")
	switch {
	case errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart):
	case err != nil:
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ids, fieldError("csv", "the file is larger than 10 MiB: split it, or use the API")
		}
		return ids, fieldError("csv", "could not read the file: %s", err)
	default:
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return ids, fieldError("csv", "could not read the file: %s", err)
		}
		if len(b) > 0 {
			if ids, err = audience.ReadCSV(string(b), ids); err != nil {
				return ids, err
			}
		}
	}
	if ids.Len() == 0 {
		return ids, fieldError("ids", "type emails or user ids, one a line, or choose a CSV file")
	}
	return ids, nil
}

// customerSegment is one segment a customer is in.
type customerSegment struct {
	Seg     *touchbase.Segment
	Entered *time.Time // nil when the entry is older than the history read
}

// customerSegments is the 360 page's segments card.
type customerSegments struct {
	CustomerID int64
	In         []customerSegment
	Dynamic    []*touchbase.Segment // the segments Explain offers
	loc        *time.Location
}

// Loc is the workspace's time zone.
func (d *customerSegments) Loc() *time.Location { return d.loc }

// membershipHistory is how many of a customer's latest membership changes
// the 360 page reads for the entry times.
const membershipHistory = 200

// loadCustomerSegments reads the segments a customer is in, when they
// entered, and the segments whose condition can be explained.
func (h *Handler) loadCustomerSegments(r *http.Request, rq *request, customerID int64) (*customerSegments, error) {
	ctx := r.Context()
	ids, err := h.svc.Segments.SegmentsOf(ctx, rq.ws.ID, customerID)
	if err != nil {
		return nil, err
	}
	all, err := h.svc.Segments.ListSegments(ctx, rq.ws.ID)
	if err != nil {
		return nil, err
	}
	changes, err := h.svc.Segments.MembershipChanges(ctx, rq.ws.ID, customerID, membershipHistory)
	if err != nil {
		return nil, err
	}
	entered := map[int64]*time.Time{}
	for _, c := range changes { // newest first: the first entry is the current stay's
		if _, ok := entered[c.SegmentID]; !ok && c.Entered {
			at := c.At
			entered[c.SegmentID] = &at
		}
	}
	d := &customerSegments{CustomerID: customerID}
	for _, seg := range all {
		if slices.Contains(ids, seg.ID) {
			d.In = append(d.In, customerSegment{Seg: seg, Entered: entered[seg.ID]})
		}
		if seg.Kind == touchbase.SegmentDynamic {
			d.Dynamic = append(d.Dynamic, seg)
		}
	}
	return d, nil
}

// explainData is the explanation fragment.
type explainData struct {
	Seg *touchbase.Segment
	X   *engine.Explanation
	loc *time.Location
}

// Loc is the workspace's time zone.
func (d *explainData) Loc() *time.Location { return d.loc }

// explain says why the customer is or is not in the chosen segment,
// clause by clause with the values used (the engine's own verdict).
func (h *Handler) explain(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := h.findCustomer(r, rq)
	if err != nil {
		return err
	}
	if !isHTMX(r) {
		// A fragment opened on its own (no JavaScript, a reload): the
		// customer's page, where the control is.
		http.Redirect(w, r, Prefix+"/customers/"+strconv.FormatInt(c.ID, 10)+"#segments", http.StatusSeeOther)
		return nil
	}
	if r.URL.Query().Get("segment") == "" {
		h.execute(w, "customer", "explain", &explainData{loc: location(rq.ws)})
		return nil
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("segment"), 10, 64)
	if err != nil || id <= 0 {
		return touchbase.Errorf(touchbase.ENOTFOUND, "there is no segment %q", r.URL.Query().Get("segment"))
	}
	seg, err := h.svc.Segments.FindSegment(r.Context(), rq.ws.ID, id)
	if err != nil {
		return err
	}
	if seg.Kind == touchbase.SegmentStatic {
		return touchbase.Errorf(touchbase.EINVALID, "segment %q is a list: its members were added, there is no condition to explain", seg.Name)
	}
	n, err := engine.Definition(seg)
	if err != nil {
		return err
	}
	d := &explainData{Seg: seg, loc: location(rq.ws)}
	if d.X, err = h.svc.Engine.Explain(r.Context(), rq.ws.ID, n, c.ID, time.Time{}); err != nil {
		return err
	}
	h.execute(w, "customer", "explain", d)
	return nil
}
