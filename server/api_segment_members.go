package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
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

// exportBatch is how many customers one store read of an export takes.
const exportBatch = 1000

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
	if err := WriteMembersCSV(ctx, &buf, ids, in.Hashed, func(page []int64) ([]*touchbase.Customer, error) {
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

// WriteMembersCSV writes a segment export: id, user_id, email, phone,
// and with hashed the SHA-256 of the normalised email (lower case) and
// phone (E.164: + and digits), as ad platforms match custom audiences.
// load reads one page of customers.
func WriteMembersCSV(ctx context.Context, w io.Writer, ids []int64, hashed bool, load func([]int64) ([]*touchbase.Customer, error)) error {
	cw := csv.NewWriter(w)
	head := []string{"id", "user_id", "email", "phone"}
	if hashed {
		head = append(head, "email_sha256", "phone_sha256")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		page := ids[:min(exportBatch, len(ids))]
		ids = ids[len(page):]
		cs, err := load(page)
		if err != nil {
			return err
		}
		for _, c := range cs {
			row := []string{strconv.FormatInt(c.ID, 10), c.UserID, c.Email, c.Phone}
			if hashed {
				row = append(row, sha256Hex(touchbase.NormalizeEmail(c.Email)), sha256Hex(touchbase.NormalizePhone(c.Phone)))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// sha256Hex is the hex SHA-256 of s, or "" for "".
func sha256Hex(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
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
	ids, userIDs, emails := in.Body.CustomerIDs, in.Body.UserIDs, in.Body.Emails
	if in.Body.CSV != "" {
		var err error
		if ids, userIDs, emails, err = readMembersCSV(in.Body.CSV, ids, userIDs, emails); err != nil {
			return nil, err
		}
	}
	res := &staticMembersResult{Unknown: []string{}}
	found, err := s.svc.Customers.FindCustomers(ctx, k.WorkspaceID, ids)
	if err != nil {
		return nil, err
	}
	known := map[int64]bool{}
	for _, c := range found {
		known[c.ID] = true
	}
	resolved := make([]int64, 0, len(ids)+len(userIDs)+len(emails))
	for _, id := range ids {
		if known[id] {
			resolved = append(resolved, id)
		} else {
			res.Unknown = append(res.Unknown, strconv.FormatInt(id, 10))
		}
	}
	lookup := func(f touchbase.CustomerFilter, label string) error {
		f.Limit = 1
		cs, _, err := s.svc.Customers.ListCustomers(ctx, k.WorkspaceID, f)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			res.Unknown = append(res.Unknown, label)
			return nil
		}
		resolved = append(resolved, cs[0].ID)
		return nil
	}
	for _, u := range userIDs {
		if err := lookup(touchbase.CustomerFilter{UserID: u}, u); err != nil {
			return nil, err
		}
	}
	for _, e := range emails {
		norm := touchbase.NormalizeEmail(e)
		if norm == "" {
			res.Unknown = append(res.Unknown, e)
			continue
		}
		if err := lookup(touchbase.CustomerFilter{Email: norm}, e); err != nil {
			return nil, err
		}
	}
	if res.Changed, err = change(ctx, k.WorkspaceID, in.ID, resolved); err != nil {
		return nil, err
	}
	// Segments that name the list follow it.
	if err := s.svc.Engine.Refresh(ctx, k.WorkspaceID); err != nil {
		return nil, err
	}
	return &output[*staticMembersResult]{Body: res}, nil
}

// readMembersCSV adds the identifiers of a CSV upload to the given ones: the
// header names the columns (id or customer_id, user_id, email; others are
// ignored).
func readMembersCSV(text string, ids []int64, userIDs, emails []string) ([]int64, []string, []string, error) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, nil, nil, fieldError("csv", "no header row: "+err.Error())
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if i, ok := col["customer_id"]; ok {
		col["id"] = i
	}
	if _, ok := col["id"]; !ok {
		if _, ok := col["user_id"]; !ok {
			if _, ok := col["email"]; !ok {
				return nil, nil, nil, fieldError("csv", "the header names no column id, customer_id, user_id or email")
			}
		}
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, nil, fieldError("csv", err.Error())
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		switch {
		case get("id") != "":
			id, err := strconv.ParseInt(get("id"), 10, 64)
			if err != nil {
				return nil, nil, nil, fieldError("csv", fmt.Sprintf("line %d: id %q is not a customer id", line, get("id")))
			}
			ids = append(ids, id)
		case get("user_id") != "":
			userIDs = append(userIDs, get("user_id"))
		case get("email") != "":
			emails = append(emails, get("email"))
		}
	}
	return ids, userIDs, emails, nil
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
