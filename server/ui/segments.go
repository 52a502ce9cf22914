package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
)

// SegmentEngine evaluates segments; an *engine.Engine is one. Declared
// here, below server, whose own interface embeds it.
type SegmentEngine interface {
	// Members returns the ids of n's members as of asOf (now when zero),
	// ascending.
	Members(ctx context.Context, workspaceID int64, n *segment.Node, asOf time.Time) ([]int64, error)
	// Explain says, clause by clause, why a customer is or is not a
	// member of n; ENOTFOUND for an unknown customer.
	Explain(ctx context.Context, workspaceID int64, n *segment.Node, customerID int64, asOf time.Time) (*engine.Explanation, error)
	// Refresh takes up the workspace's segments as stored after one was
	// created, changed or deleted, and records the membership changes.
	Refresh(ctx context.Context, workspaceID int64) error
	// Vocabulary is the workspace's trait, event and segment names, for
	// "did you mean" warnings.
	Vocabulary(ctx context.Context, workspaceID int64) (segment.Vocabulary, error)
	// Save creates or updates a segment with definition n (nil for a
	// list), checking what it names, and takes it up; EINVALID, ECONFLICT.
	Save(ctx context.Context, seg *touchbase.Segment, n *segment.Node) error
	// Delete deletes a segment no other segment names; ECONFLICT,
	// ENOTFOUND.
	Delete(ctx context.Context, workspaceID, id int64) (*touchbase.Segment, error)
}

// segmentsOn reports whether the server gave the console what the
// segment pages need.
func (h *Handler) segmentsOn() bool { return h.svc.Segments != nil && h.svc.Engine != nil }

func (h *Handler) segmentRoutes() {
	m := h.mux
	m.HandleFunc("GET "+Prefix+"/segments", h.authed(touchbase.RoleAnalyst, h.segments))
	m.HandleFunc("GET "+Prefix+"/segments/new", h.authed(touchbase.RoleAnalyst, h.newSegment))
	m.HandleFunc("POST "+Prefix+"/segments", h.authed(touchbase.RoleMarketer, h.saveSegment))
	m.HandleFunc("POST "+Prefix+"/segments/preview", h.authed(touchbase.RoleAnalyst, h.previewSegment))
	m.HandleFunc("GET "+Prefix+"/segments/{id}", h.authed(touchbase.RoleAnalyst, h.segmentPage))
	m.HandleFunc("GET "+Prefix+"/segments/{id}/edit", h.authed(touchbase.RoleAnalyst, h.editSegment))
	m.HandleFunc("POST "+Prefix+"/segments/{id}", h.authed(touchbase.RoleMarketer, h.saveSegment))
	m.HandleFunc("POST "+Prefix+"/segments/{id}/delete", h.authed(touchbase.RoleMarketer, h.deleteSegment))
	m.HandleFunc("GET "+Prefix+"/segments/{id}/export.csv", h.authed(touchbase.RoleAnalyst, h.exportSegment))
	m.HandleFunc("POST "+Prefix+"/segments/{id}/members", limitBody(maxListUpload, h.authed(touchbase.RoleMarketer, h.addListMembers)))
	m.HandleFunc("POST "+Prefix+"/segments/{id}/members/remove", limitBody(maxListUpload, h.authed(touchbase.RoleMarketer, h.removeListMembers)))
	m.HandleFunc("GET "+Prefix+"/customers/{id}/explain", h.authed(touchbase.RoleAnalyst, h.explain))
}

// segmentExample is a definition people can start from.
type segmentExample struct {
	Name, Description, Text string
}

// URL opens the builder with the example filled in.
func (x segmentExample) URL() string {
	return Prefix + "/segments/new?" + url.Values{"name": {x.Name}, "description": {x.Description}, "text": {x.Text}}.Encode()
}

// segmentExamples are shown where there are no segments yet and beside
// the builder: the kinds of segment stores make first.
var segmentExamples = []segmentExample{
	{"Repeat buyers", "Customers who ordered at least twice.", `orders >= 2`},
	{"Lapsed customers", "Bought before, nothing in the last six months.", `orders >= 1 and last_order_at < 180d ago`},
	{"Cart abandoners", "Started a checkout over a day ago and have not ordered since.",
		`last("Checkout Started") > 1d ago and not (last("Order Completed") > last("Checkout Started"))`},
	{"Birthdays this week", "Their birthday falls in the next seven days.", `birthday within next 7d`},
}

type segmentsData struct {
	base
	Segments []*touchbase.Segment
	Examples []segmentExample
}

// segments lists the workspace's segments and lists.
func (h *Handler) segments(w http.ResponseWriter, r *http.Request, rq *request) error {
	d := &segmentsData{base: h.base(rq, "Segments", "segments"), Examples: segmentExamples}
	var err error
	if d.Segments, err = h.svc.Segments.ListSegments(r.Context(), rq.ws.ID); err != nil {
		return err
	}
	h.render(w, http.StatusOK, "segments", d)
	return nil
}

// featureDoc is one feature in the builder's cheat sheet.
type featureDoc struct {
	Name, Type, Doc string
}

type segmentEditData struct {
	base
	Seg *touchbase.Segment // nil while creating
	// The form's values.
	Kind, Name, Description, Text string
	// Error is why the last save failed; Field names the field.
	Error, Field string
	Preview      *previewData
	Features     []featureDoc
	Examples     []segmentExample
}

// Static reports whether the form is a list's (no definition).
func (d *segmentEditData) Static() bool { return d.Kind == string(touchbase.SegmentStatic) }

// Action is where the form posts.
func (d *segmentEditData) Action() string {
	if d.Seg == nil {
		return Prefix + "/segments"
	}
	return Prefix + "/segments/" + strconv.FormatInt(d.Seg.ID, 10)
}

// newSegment is the builder for a new segment, or with ?kind=static the
// form of a new list. name, description and text fill it in (the
// examples link here).
func (h *Handler) newSegment(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	d := &segmentEditData{Kind: string(touchbase.SegmentDynamic), Name: q.Get("name"), Description: q.Get("description"), Text: q.Get("text")}
	if q.Get("kind") == string(touchbase.SegmentStatic) {
		d.Kind = string(touchbase.SegmentStatic)
	}
	return h.renderSegmentEdit(w, r, rq, http.StatusOK, d)
}

// editSegment is the builder of a saved segment; analysts see it
// read-only, with the live count.
func (h *Handler) editSegment(w http.ResponseWriter, r *http.Request, rq *request) error {
	seg, err := h.findSegment(r, rq)
	if err != nil {
		return err
	}
	d := &segmentEditData{Seg: seg, Kind: string(seg.Kind), Name: seg.Name, Description: seg.Description, Text: seg.Text}
	return h.renderSegmentEdit(w, r, rq, http.StatusOK, d)
}

func (h *Handler) renderSegmentEdit(w http.ResponseWriter, r *http.Request, rq *request, status int, d *segmentEditData) error {
	title := "New segment"
	switch {
	case d.Seg != nil:
		title = "Edit " + d.Seg.Name
	case d.Static():
		title = "New list"
	}
	d.base = h.base(rq, title, "segments")
	d.Examples = segmentExamples
	var names []string
	if h.svc.Features != nil {
		names = h.svc.Features.Names()
	}
	for _, name := range names {
		if f, ok := h.svc.Features.Lookup(name); ok {
			d.Features = append(d.Features, featureDoc{Name: f.Name, Type: f.Type.String(), Doc: f.Doc})
		}
	}
	if !d.Static() {
		// The first preview comes with the page, so that an edit (or an
		// example) shows its count without waiting for a keystroke.
		var err error
		if d.Preview, err = h.preview(r.Context(), rq.ws.ID, d.Name, d.Text); err != nil {
			return err
		}
	}
	h.render(w, status, "segedit", d)
	return nil
}

// definitionError is a definition's problem as the builder shows it: the
// message and, for a problem in the text, the line with a caret under the
// column.
type definitionError struct {
	Message string
	Pos     string // "line 2, column 7", or ""
	Line    string // the text's line
	Caret   string // white space up to the column, then ^
}

// newDefinitionError describes err, a problem with text.
func newDefinitionError(text string, err error) *definitionError {
	var serr *segment.Error
	if !errors.As(err, &serr) || serr.Pos.Line <= 0 {
		return &definitionError{Message: touchbase.ErrorMessage(err)}
	}
	d := &definitionError{Pos: serr.Pos.String(), Message: strings.TrimPrefix(serr.Error(), serr.Pos.String()+": ")}
	lines := strings.Split(text, "\n")
	if serr.Pos.Line > len(lines) {
		return d
	}
	d.Line = strings.TrimRight(lines[serr.Pos.Line-1], "\r")
	// Columns count characters; a tab stays a tab so that the caret lines
	// up under the same character in a monospace font.
	var caret strings.Builder
	col := 1
	for _, c := range d.Line {
		if col >= serr.Pos.Col {
			break
		}
		if c == '\t' {
			caret.WriteRune('\t')
		} else {
			caret.WriteRune(' ')
		}
		col++
	}
	caret.WriteRune('^')
	d.Caret = caret.String()
	return d
}

// parseDefinition reads a definition as the admin API does: segment.Parse,
// segment.Check against the workspace's features, then the references to
// other segments (none unknown, no cycle through name). A problem with the
// text is an *segment.Error (with its position) or an EINVALID error.
func (h *Handler) parseDefinition(ctx context.Context, ws int64, name, text string) (*segment.Node, error) {
	n, err := segment.Parse(text)
	if err != nil {
		return nil, err
	}
	if err := segment.Check(n, h.svc.Features); err != nil {
		return nil, err
	}
	if len(segment.Refs(n)) > 0 {
		all, err := h.svc.Segments.ListSegments(ctx, ws)
		if err != nil {
			return nil, err
		}
		if err := engine.CheckReferences(all, name, n); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// isDefinitionError reports whether err is the author's to fix.
func isDefinitionError(err error) bool {
	var serr *segment.Error
	return errors.As(err, &serr) || touchbase.ErrorCode(err) == touchbase.EINVALID
}

// previewSample is how many members the builder shows.
const previewSample = 10

// previewData is the builder's live result.
type previewData struct {
	Empty     bool // nothing typed yet
	Err       *definitionError
	Count     int
	Canonical string // the text as touchbase writes it, when it differs
	Warnings  []string
	Sample    []*touchbase.Customer
}

// More reports whether the sample is not all the members.
func (p *previewData) More() bool { return p.Count > len(p.Sample) }

// preview parses text and counts its members now. A problem with the
// text is part of the result, not an error: the builder shows it while
// people type.
func (h *Handler) preview(ctx context.Context, ws int64, name, text string) (*previewData, error) {
	p := &previewData{}
	if strings.TrimSpace(text) == "" {
		p.Empty = true
		return p, nil
	}
	n, err := h.parseDefinition(ctx, ws, name, text)
	var ids []int64
	if err == nil {
		ids, err = h.svc.Engine.Members(ctx, ws, n, time.Time{})
	}
	if err != nil {
		if !isDefinitionError(err) {
			return nil, err
		}
		p.Err = newDefinitionError(text, err)
		return p, nil
	}
	p.Count = len(ids)
	if canon := segment.Format(n); canon != strings.TrimSpace(text) {
		p.Canonical = canon
	}
	if p.Sample, err = h.svc.Customers.FindCustomers(ctx, ws, ids[:min(previewSample, len(ids))]); err != nil {
		return nil, err
	}
	voc, err := h.svc.Engine.Vocabulary(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, w := range segment.Suggest(n, h.svc.Features, voc) {
		p.Warnings = append(p.Warnings, w.Error())
	}
	return p, nil
}

// previewSegment is the builder's live fragment: htmx posts the form a
// moment after each keystroke.
func (h *Handler) previewSegment(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := h.preview(r.Context(), rq.ws.ID, strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("text"))
	if err != nil {
		return err
	}
	h.execute(w, "segedit", "preview", p)
	return nil
}

// saveSegment creates a segment (POST /segments) or saves one
// (POST /segments/{id}). A problem with the form comes back on the form,
// with what was typed, not as an error page.
func (h *Handler) saveSegment(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	d := &segmentEditData{Kind: r.PostFormValue("kind"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")), Text: r.PostFormValue("text")}
	seg := &touchbase.Segment{WorkspaceID: rq.ws.ID, Kind: touchbase.SegmentKind(d.Kind)}
	if r.PathValue("id") != "" {
		var err error
		if seg, err = h.findSegment(r, rq); err != nil {
			return err
		}
		d.Seg, d.Kind = seg, string(seg.Kind)
	}
	if !seg.Kind.Valid() {
		seg.Kind = touchbase.SegmentDynamic
		d.Kind = string(seg.Kind)
	}
	err := h.storeSegment(ctx, seg, d)
	if err != nil {
		if !isDefinitionError(err) && touchbase.ErrorCode(err) != touchbase.ECONFLICT {
			return err
		}
		d.Error = touchbase.ErrorMessage(err)
		if d.Field == "" {
			d.Field = "name"
		}
		return h.renderSegmentEdit(w, r, rq, h.cfg.StatusOf(touchbase.ErrorCode(err)), d)
	}
	redirect(w, r, Prefix+"/segments/"+strconv.FormatInt(seg.ID, 10))
	return nil
}

// storeSegment checks the form, saves seg and has the engine take it up.
func (h *Handler) storeSegment(ctx context.Context, seg *touchbase.Segment, d *segmentEditData) error {
	if d.Name == "" {
		d.Field = "name"
		return fieldError("name", "give the segment a name")
	}
	seg.Name, seg.Description = d.Name, d.Description
	var n *segment.Node
	if seg.Kind == touchbase.SegmentDynamic {
		if strings.TrimSpace(d.Text) == "" {
			d.Field = "text"
			return fieldError("text", "a segment needs a definition: type a condition such as orders >= 2")
		}
		var err error
		n, err = h.parseDefinition(ctx, seg.WorkspaceID, seg.Name, d.Text)
		if err != nil {
			if isDefinitionError(err) {
				d.Field = "text"
				if e := newDefinitionError(d.Text, err); e.Pos != "" {
					return touchbase.Errorf(touchbase.EINVALID, "the definition has a problem at %s: %s", e.Pos, e.Message)
				}
			}
			return err
		}
	}
	return h.svc.Engine.Save(ctx, seg, n)
}

// deleteSegment deletes a segment no other segment refers to.
func (h *Handler) deleteSegment(w http.ResponseWriter, r *http.Request, rq *request) error {
	seg, err := h.findSegment(r, rq)
	if err != nil {
		return err
	}
	if _, err := h.svc.Engine.Delete(r.Context(), rq.ws.ID, seg.ID); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/segments")
	return nil
}

// findSegment reads the {id} of the path in the session's workspace; a
// segment of another workspace is not found, whatever the id.
func (h *Handler) findSegment(r *http.Request, rq *request) (*touchbase.Segment, error) {
	id, err := pathID(r, "segment")
	if err != nil {
		return nil, err
	}
	return h.svc.Segments.FindSegment(r.Context(), rq.ws.ID, id)
}

// segmentMembers returns a segment's members now: a dynamic segment's as
// the engine evaluates it, a list's as stored.
func (h *Handler) segmentMembers(ctx context.Context, seg *touchbase.Segment) ([]int64, error) {
	if seg.Kind == touchbase.SegmentStatic {
		return h.svc.Segments.SegmentMembers(ctx, seg.WorkspaceID, seg.ID)
	}
	n, err := engine.Definition(seg)
	if err != nil {
		return nil, err
	}
	return h.svc.Engine.Members(ctx, seg.WorkspaceID, n, time.Time{})
}
