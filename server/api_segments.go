package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/server/ui"
)

// SegmentEngine evaluates segments; an *engine.Engine is one. It is what
// the console needs (ui.SegmentEngine), and Forget for erasure.
type SegmentEngine interface {
	ui.SegmentEngine
	// Forget drops an erased customer.
	Forget(ctx context.Context, workspaceID, customerID int64) error
}

// segmentSample is how many members a preview shows.
const segmentSample = 10

// registerSegmentRoutes registers /api/v1/segments.
func (s *Server) registerSegmentRoutes() {
	tags := []string{"segments"}
	register(s, huma.Operation{
		OperationID: "create-segment", Method: http.MethodPost, Path: "/segments", Tags: tags,
		Summary: "Create a segment",
		Description: "A dynamic segment takes its definition as text (`orders >= 2 and last_order_at < 180d ago`) or as the " +
			"JSON tree; a static segment (a list) takes neither and gets its members added. See docs/segments.md.",
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusConflict},
	}, touchbase.RoleMarketer, s.createSegment)
	register(s, huma.Operation{
		OperationID: "list-segments", Method: http.MethodGet, Path: "/segments", Tags: tags,
		Summary: "List segments", Description: "The workspace's segments by name, with their sizes.",
	}, touchbase.RoleAnalyst, s.listSegments)
	register(s, huma.Operation{
		OperationID: "get-segment", Method: http.MethodGet, Path: "/segments/{id}", Tags: tags,
		Summary:     "Get a segment",
		Description: "The segment with its definition as text and as the JSON tree, and its member count as of as_of (now by default).",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getSegment)
	register(s, huma.Operation{
		OperationID: "update-segment", Method: http.MethodPatch, Path: "/segments/{id}", Tags: tags,
		Summary: "Update a segment", Description: "Changes the name, the description or the definition; members follow at once.",
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, touchbase.RoleMarketer, s.updateSegment)
	register(s, huma.Operation{
		OperationID: "delete-segment", Method: http.MethodDelete, Path: "/segments/{id}", Tags: tags,
		Summary: "Delete a segment", DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, touchbase.RoleMarketer, s.deleteSegment)
	register(s, huma.Operation{
		OperationID: "preview-segment", Method: http.MethodPost, Path: "/segments/preview", Tags: tags,
		Summary:     "Preview a definition",
		Description: "Counts the members of a definition without saving it, with a sample of them, its canonical text and warnings (unknown names, with suggestions).",
	}, touchbase.RoleAnalyst, s.previewSegment)
	register(s, huma.Operation{
		OperationID: "list-segment-members", Method: http.MethodGet, Path: "/segments/{id}/members", Tags: tags,
		Summary: "List a segment's members", Description: "Members by customer id, one page at a time (keyset paging).",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.listSegmentMembers)
	register(s, huma.Operation{
		OperationID: "export-segment", Method: http.MethodGet, Path: "/segments/{id}/export", Tags: tags,
		Summary: "Export a segment as CSV",
		Description: "One row per member: id, user_id, email, phone. With hashed=true, email and phone are also given as the " +
			"SHA-256 of their normalised form (lower-cased email; phone in E.164 digits), the format ad platforms take for custom audiences.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.exportSegment)
	register(s, huma.Operation{
		OperationID: "segment-sizes", Method: http.MethodGet, Path: "/segments/{id}/sizes", Tags: tags,
		Summary: "A segment's size over time", Description: "Recorded sizes, at most one a minute, oldest first.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.segmentSizes)
	register(s, huma.Operation{
		OperationID: "segment-overlap", Method: http.MethodGet, Path: "/segments/{id}/overlap/{other}", Tags: tags,
		Summary: "Overlap of two segments", Description: "How many customers are in each segment, in both, and in one only.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.segmentOverlap)
	register(s, huma.Operation{
		OperationID: "explain-segment", Method: http.MethodGet, Path: "/segments/{id}/explain/{customer_id}", Tags: tags,
		Summary:     "Explain a customer's membership",
		Description: "Why the customer is or is not a member, clause by clause, with the values used.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.explainSegment)
	register(s, huma.Operation{
		OperationID: "add-segment-members", Method: http.MethodPost, Path: "/segments/{id}/members", Tags: tags,
		Summary: "Add members to a static segment", Description: "Customers by id, user id or email; unknown ones are reported, not added.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleMarketer, s.addSegmentMembers)
	register(s, huma.Operation{
		OperationID: "remove-segment-members", Method: http.MethodPost, Path: "/segments/{id}/members/remove", Tags: tags,
		Summary: "Remove members from a static segment", Description: "Customers by id, user id or email.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleMarketer, s.removeSegmentMembers)
	register(s, huma.Operation{
		OperationID: "list-customer-segments", Method: http.MethodGet, Path: "/customers/{id}/segments", Tags: []string{"customers", "segments"},
		Summary: "A customer's segments", Description: "The segments the customer is in, and their recent entries and exits.",
		Errors: []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.listCustomerSegments)
}

// SegmentDefinition is a definition in a request: as text or as the JSON
// tree.
type SegmentDefinition struct {
	Text       string          `json:"text,omitempty" doc:"The definition as people write it."`
	Definition json.RawMessage `json:"definition,omitempty" doc:"The definition as the JSON tree (see docs/segments.md)."`
}

// parse returns the definition's tree, checked; nil when neither form is
// given.
func (d SegmentDefinition) parse(reg *segment.Registry) (*segment.Node, error) {
	switch {
	case d.Text != "" && len(d.Definition) > 0:
		return nil, fieldError("text", "give the definition as text or as the JSON tree, not both")
	case d.Text != "":
		n, err := segment.Parse(d.Text)
		if err != nil {
			return nil, fieldError("text", err.Error())
		}
		if err := segment.Check(n, reg); err != nil {
			return nil, fieldError("text", err.Error())
		}
		return n, nil
	case len(d.Definition) > 0:
		var n segment.Node
		if err := json.Unmarshal(d.Definition, &n); err != nil {
			return nil, fieldError("definition", err.Error())
		}
		if err := segment.Check(&n, reg); err != nil {
			return nil, fieldError("definition", err.Error())
		}
		return &n, nil
	}
	return nil, nil
}

type segmentDoc struct {
	*touchbase.Segment
	Count *int `json:"count,omitempty" doc:"Members as of as_of, counted now (dynamic segments)."`
}

type createSegmentInput struct {
	Body struct {
		Name        string `json:"name" minLength:"1" maxLength:"200"`
		Description string `json:"description,omitempty" maxLength:"2000"`
		Kind        string `json:"kind,omitempty" enum:"dynamic,static" doc:"Default: dynamic when a definition is given, static otherwise."`
		SegmentDefinition
	}
}

func (s *Server) createSegment(ctx context.Context, k *touchbase.Key, in *createSegmentInput) (*output[*segmentDoc], error) {
	n, err := in.Body.parse(s.svc.Features)
	if err != nil {
		return nil, err
	}
	seg := &touchbase.Segment{WorkspaceID: k.WorkspaceID, Name: in.Body.Name, Description: in.Body.Description, Kind: touchbase.SegmentKind(in.Body.Kind)}
	if seg.Kind == "" {
		seg.Kind = touchbase.SegmentStatic
		if n != nil {
			seg.Kind = touchbase.SegmentDynamic
		}
	}
	if seg.Kind == touchbase.SegmentDynamic && n == nil {
		return nil, fieldError("text", "a dynamic segment needs a definition (text or definition)")
	}
	if err := s.svc.Engine.Save(ctx, seg, n); err != nil {
		return nil, textError(err)
	}
	return s.segmentDoc(ctx, k.WorkspaceID, seg.ID, time.Time{})
}

// textError makes a definition's EINVALID error one about the field text.
func textError(err error) error {
	if touchbase.ErrorCode(err) == touchbase.EINVALID {
		return fieldError("text", touchbase.ErrorMessage(err))
	}
	return err
}

// checkRefs refuses a definition that names an unknown segment or refers
// to the segment being saved, directly or through others.
func (s *Server) checkRefs(ctx context.Context, ws int64, name string, n *segment.Node) error {
	if len(segment.Refs(n)) == 0 {
		return nil
	}
	all, err := s.svc.Segments.ListSegments(ctx, ws)
	if err != nil {
		return err
	}
	if err := engine.CheckReferences(all, name, n); err != nil {
		return fieldError("text", touchbase.ErrorMessage(err))
	}
	return nil
}

// segmentDoc loads a segment and counts its members as of asOf.
func (s *Server) segmentDoc(ctx context.Context, ws, id int64, asOf time.Time) (*output[*segmentDoc], error) {
	seg, err := s.svc.Segments.FindSegment(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	doc := &segmentDoc{Segment: seg}
	ids, err := s.members(ctx, seg, asOf)
	if err != nil {
		return nil, err
	}
	count := len(ids)
	doc.Count = &count
	return &output[*segmentDoc]{Body: doc}, nil
}

// members returns a segment's members as of asOf: a dynamic segment's
// evaluated now, a list's as stored.
func (s *Server) members(ctx context.Context, seg *touchbase.Segment, asOf time.Time) ([]int64, error) {
	if seg.Kind == touchbase.SegmentStatic {
		return s.svc.Segments.SegmentMembers(ctx, seg.WorkspaceID, seg.ID)
	}
	n, err := engine.Definition(seg)
	if err != nil {
		return nil, err
	}
	return s.svc.Engine.Members(ctx, seg.WorkspaceID, n, asOf)
}

type segmentList struct {
	Items []*touchbase.Segment `json:"items"`
}

func (s *Server) listSegments(ctx context.Context, k *touchbase.Key, _ *struct{}) (*output[*segmentList], error) {
	all, err := s.svc.Segments.ListSegments(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if all == nil {
		all = []*touchbase.Segment{}
	}
	return &output[*segmentList]{Body: &segmentList{Items: all}}, nil
}

type segmentIDInput struct {
	ID   int64     `path:"id" doc:"The segment's id."`
	AsOf time.Time `query:"as_of" doc:"Evaluate as if the clock said this time (RFC 3339); default now."`
}

func (s *Server) getSegment(ctx context.Context, k *touchbase.Key, in *segmentIDInput) (*output[*segmentDoc], error) {
	return s.segmentDoc(ctx, k.WorkspaceID, in.ID, in.AsOf)
}

type updateSegmentInput struct {
	ID   int64 `path:"id"`
	Body struct {
		Name        *string `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Description *string `json:"description,omitempty" maxLength:"2000"`
		SegmentDefinition
	}
}

func (s *Server) updateSegment(ctx context.Context, k *touchbase.Key, in *updateSegmentInput) (*output[*segmentDoc], error) {
	seg, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	if in.Body.Name != nil {
		seg.Name = *in.Body.Name
	}
	if in.Body.Description != nil {
		seg.Description = *in.Body.Description
	}
	n, err := in.Body.parse(s.svc.Features)
	if err != nil {
		return nil, err
	}
	if n != nil && seg.Kind == touchbase.SegmentStatic {
		return nil, fieldError("text", "a static segment (a list) has no definition")
	}
	if n == nil && seg.Kind == touchbase.SegmentDynamic {
		// The definition stays as stored.
		if n, err = engine.Definition(seg); err != nil {
			return nil, err
		}
	}
	if err := s.svc.Engine.Save(ctx, seg, n); err != nil {
		return nil, textError(err)
	}
	return s.segmentDoc(ctx, k.WorkspaceID, seg.ID, time.Time{})
}

func (s *Server) deleteSegment(ctx context.Context, k *touchbase.Key, in *segmentIDInput) (*noContent, error) {
	if _, err := s.svc.Engine.Delete(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	return &noContent{}, nil
}

type previewSegmentInput struct {
	Body struct {
		SegmentDefinition
		AsOf   time.Time `json:"as_of,omitempty" doc:"Evaluate as if the clock said this time; default now."`
		Sample int       `json:"sample,omitempty" minimum:"0" maximum:"100" doc:"How many members to show (default 10)."`
	}
}

type segmentPreview struct {
	Count      int                   `json:"count"`
	Text       string                `json:"text" doc:"The definition's canonical text."`
	Definition *segment.Node         `json:"definition"`
	Sample     []*touchbase.Customer `json:"sample"`
	Warnings   []string              `json:"warnings" doc:"Names the workspace has never seen, with suggestions."`
}

func (s *Server) previewSegment(ctx context.Context, k *touchbase.Key, in *previewSegmentInput) (*output[*segmentPreview], error) {
	n, err := in.Body.parse(s.svc.Features)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, fieldError("text", "give a definition as text or as the JSON tree")
	}
	if err := s.checkRefs(ctx, k.WorkspaceID, "", n); err != nil {
		return nil, err
	}
	ids, err := s.svc.Engine.Members(ctx, k.WorkspaceID, n, in.Body.AsOf)
	if err != nil {
		return nil, err
	}
	sample := in.Body.Sample
	if sample == 0 {
		sample = segmentSample
	}
	out := &segmentPreview{Count: len(ids), Text: segment.Format(n), Definition: n, Warnings: []string{}}
	if out.Sample, err = s.svc.Customers.FindCustomers(ctx, k.WorkspaceID, ids[:min(sample, len(ids))]); err != nil {
		return nil, err
	}
	if out.Sample == nil {
		out.Sample = []*touchbase.Customer{}
	}
	voc, err := s.svc.Engine.Vocabulary(ctx, k.WorkspaceID)
	if err != nil {
		return nil, err
	}
	for _, w := range segment.Suggest(n, s.svc.Features, voc) {
		out.Warnings = append(out.Warnings, w.Error())
	}
	return &output[*segmentPreview]{Body: out}, nil
}

type segmentMembersInput struct {
	ID     int64     `path:"id"`
	AsOf   time.Time `query:"as_of" doc:"Evaluate as if the clock said this time (RFC 3339); default now."`
	Limit  int       `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Cursor string    `query:"cursor" doc:"The next value of the previous page."`
}

func (s *Server) listSegmentMembers(ctx context.Context, k *touchbase.Key, in *segmentMembersInput) (*output[*Page[*touchbase.Customer]], error) {
	seg, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	var after int64
	if in.Cursor != "" {
		if after, err = strconv.ParseInt(in.Cursor, 10, 64); err != nil {
			return nil, fieldError("cursor", "not a cursor this endpoint returned")
		}
	}
	ids, err := s.members(ctx, seg, in.AsOf)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearch(ids, after+1)
	page := ids[i:min(i+in.Limit, len(ids))]
	items, err := s.svc.Customers.FindCustomers(ctx, k.WorkspaceID, page)
	if err != nil {
		return nil, err
	}
	out := &Page[*touchbase.Customer]{Items: items}
	if out.Items == nil {
		out.Items = []*touchbase.Customer{}
	}
	if i+len(page) < len(ids) {
		next := strconv.FormatInt(page[len(page)-1], 10)
		out.Next = &next
	}
	return &output[*Page[*touchbase.Customer]]{Body: out}, nil
}
