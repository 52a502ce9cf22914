package server

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/audience"
	"github.com/touchbase/touchbase/engine"
)

type exportSegmentInput struct {
	ID     int64     `path:"id"`
	AsOf   time.Time `query:"as_of" doc:"Evaluate as if the clock said this time (RFC 3339); default now."`
	Hashed bool      `query:"hashed" doc:"Add email_sha256 and phone_sha256 columns."`
}

type csvOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *Server) exportSegment(ctx context.Context, k *touchbase.Key, in *exportSegmentInput) (*csvOutput, error) {
	seg, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	ids, err := s.members(ctx, seg, in.AsOf)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := audience.WriteCSV(ctx, &buf, ids, in.Hashed, func(page []int64) ([]*touchbase.Customer, error) {
		return s.svc.Customers.FindCustomers(ctx, k.WorkspaceID, page)
	}); err != nil {
		return nil, err
	}
	return &csvOutput{
		ContentType:        "text/csv; charset=utf-8",
		ContentDisposition: fmt.Sprintf(`attachment; filename="segment-%d.csv"`, seg.ID),
		Body:               buf.Bytes(),
	}, nil
}

type segmentSizesInput struct {
	ID    int64     `path:"id"`
	Since time.Time `query:"since" doc:"From this time (RFC 3339); default 30 days ago."`
}

type segmentSizeList struct {
	Items []touchbase.SegmentSize `json:"items"`
}

func (s *Server) segmentSizes(ctx context.Context, k *touchbase.Key, in *segmentSizesInput) (*output[*segmentSizeList], error) {
	if _, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	since := in.Since
	if since.IsZero() {
		since = time.Now().AddDate(0, 0, -30)
	}
	sizes, err := s.svc.Segments.SegmentSizes(ctx, k.WorkspaceID, in.ID, since)
	if err != nil {
		return nil, err
	}
	if sizes == nil {
		sizes = []touchbase.SegmentSize{}
	}
	return &output[*segmentSizeList]{Body: &segmentSizeList{Items: sizes}}, nil
}

type segmentOverlapInput struct {
	ID    int64     `path:"id"`
	Other int64     `path:"other" doc:"The other segment's id."`
	AsOf  time.Time `query:"as_of" doc:"Evaluate as if the clock said this time (RFC 3339); default now."`
}

type segmentOverlap struct {
	A     int `json:"a" doc:"Members of the first segment."`
	B     int `json:"b" doc:"Members of the other segment."`
	Both  int `json:"both"`
	OnlyA int `json:"only_a"`
	OnlyB int `json:"only_b"`
}

func (s *Server) segmentOverlap(ctx context.Context, k *touchbase.Key, in *segmentOverlapInput) (*output[*segmentOverlap], error) {
	var sets [2][]int64
	for i, id := range []int64{in.ID, in.Other} {
		seg, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, id)
		if err != nil {
			return nil, err
		}
		if sets[i], err = s.members(ctx, seg, in.AsOf); err != nil {
			return nil, err
		}
	}
	// Both lists are ascending: merge them.
	a, b := sets[0], sets[1]
	both := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			both++
			i++
			j++
		}
	}
	return &output[*segmentOverlap]{Body: &segmentOverlap{A: len(a), B: len(b), Both: both, OnlyA: len(a) - both, OnlyB: len(b) - both}}, nil
}

type explainSegmentInput struct {
	ID         int64     `path:"id"`
	CustomerID int64     `path:"customer_id"`
	AsOf       time.Time `query:"as_of" doc:"Evaluate as if the clock said this time (RFC 3339); default now."`
}

func (s *Server) explainSegment(ctx context.Context, k *touchbase.Key, in *explainSegmentInput) (*output[*engine.Explanation], error) {
	seg, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	if seg.Kind == touchbase.SegmentStatic {
		return nil, touchbase.Errorf(touchbase.EINVALID, "segment %q is a list: its members were added, there is no condition to explain", seg.Name)
	}
	n, err := engine.Definition(seg)
	if err != nil {
		return nil, err
	}
	x, err := s.svc.Engine.Explain(ctx, k.WorkspaceID, n, in.CustomerID, in.AsOf)
	if err != nil {
		return nil, err
	}
	return &output[*engine.Explanation]{Body: x}, nil
}

type staticMembersInput struct {
	ID   int64 `path:"id"`
	Body struct {
		CustomerIDs []int64  `json:"customer_ids,omitempty" maxItems:"10000"`
		UserIDs     []string `json:"user_ids,omitempty" maxItems:"10000"`
		Emails      []string `json:"emails,omitempty" maxItems:"10000"`
		CSV         string   `json:"csv,omitempty" maxLength:"10485760" doc:"CSV with a header naming a column id (or customer_id), user_id or email."`
	}
}

type staticMembersResult struct {
	Changed int      `json:"changed" doc:"Customers added (or removed) by this request."`
	Unknown []string `json:"unknown" doc:"Identifiers that name no customer."`
}

func (s *Server) addSegmentMembers(ctx context.Context, k *touchbase.Key, in *staticMembersInput) (*output[*staticMembersResult], error) {
	return s.changeStaticMembers(ctx, k, in, s.svc.Segments.AddStaticMembers)
}

func (s *Server) removeSegmentMembers(ctx context.Context, k *touchbase.Key, in *staticMembersInput) (*output[*staticMembersResult], error) {
	return s.changeStaticMembers(ctx, k, in, s.svc.Segments.RemoveStaticMembers)
}

func (s *Server) changeStaticMembers(ctx context.Context, k *touchbase.Key, in *staticMembersInput,
	change func(ctx context.Context, ws, seg int64, ids []int64) (int, error)) (*output[*staticMembersResult], error) {
	if _, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	ids := audience.Identifiers{CustomerIDs: in.Body.CustomerIDs, UserIDs: in.Body.UserIDs, Emails: in.Body.Emails}
	if in.Body.CSV != "" {
		var err error
		if ids, err = audience.ReadCSV(in.Body.CSV, ids); err != nil {
			return nil, err
		}
	}
	res := &staticMembersResult{}
	resolved, unknown, err := audience.Resolve(ctx, s.svc.Customers, k.WorkspaceID, ids)
	if err != nil {
		return nil, err
	}
	res.Unknown = unknown
	if res.Changed, err = change(ctx, k.WorkspaceID, in.ID, resolved); err != nil {
		return nil, err
	}
	// Segments that name the list follow it.
	if err := s.svc.Engine.Refresh(ctx, k.WorkspaceID); err != nil {
		return nil, err
	}
	return &output[*staticMembersResult]{Body: res}, nil
}

type customerSegments struct {
	Segments []*touchbase.Segment         `json:"segments"`
	Changes  []touchbase.MembershipChange `json:"changes" doc:"The latest entries and exits, newest first."`
}

func (s *Server) listCustomerSegments(ctx context.Context, k *touchbase.Key, in *customerIDInput) (*output[*customerSegments], error) {
	if _, err := s.svc.Customers.FindCustomer(ctx, k.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	ids, err := s.svc.Segments.SegmentsOf(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	out := &customerSegments{Segments: []*touchbase.Segment{}}
	for _, id := range ids {
		seg, err := s.svc.Segments.FindSegment(ctx, k.WorkspaceID, id)
		if err != nil {
			return nil, err
		}
		out.Segments = append(out.Segments, seg)
	}
	if out.Changes, err = s.svc.Segments.MembershipChanges(ctx, k.WorkspaceID, in.ID, 50); err != nil {
		return nil, err
	}
	if out.Changes == nil {
		out.Changes = []touchbase.MembershipChange{}
	}
	return &output[*customerSegments]{Body: out}, nil
}
