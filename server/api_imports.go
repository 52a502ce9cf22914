package server

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/touchbase/touchbase"
)

// MaxImportBytes bounds one uploaded import file as sent (gzip it to send
// more; the importer bounds what it inflates to).
const MaxImportBytes = 512 << 20

// uploadTimeout is how long an upload may take to arrive, instead of the
// server's ReadTimeout (60 s: 512 MiB would need 70 Mbit/s); it is set once
// the token is known, so that only an admin token can hold a connection
// that long.
const uploadTimeout = 30 * time.Minute

// registerImportRoutes registers /api/v1/imports.
func (s *Server) registerImportRoutes() {
	register(s, huma.Operation{
		OperationID: "create-import", Method: http.MethodPost, Path: "/imports", Tags: []string{"imports"},
		Summary: "Upload a file to import",
		Description: "The body is the file: CSV with a header row, or NDJSON of Segment calls (events), plain or gzipped " +
			"(up to 512 MiB). The import runs in the background; poll the returned import for its status, counts " +
			"and the bad lines. Importing the same file again changes nothing. See docs/import.md for the mapping.",
		DefaultStatus: http.StatusAccepted,
		// The body is streamed to disk (createImportInput.Resolve), not
		// read by huma: described here, bounded by createImport.
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		}},
		Errors: []int{http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable},
	}, touchbase.RoleMarketer, s.createImport)
	register(s, huma.Operation{
		OperationID: "list-imports", Method: http.MethodGet, Path: "/imports", Tags: []string{"imports"},
		Summary:     "List imports",
		Description: "The workspace's latest imports, newest first.",
	}, touchbase.RoleAnalyst, s.listImports)
	register(s, huma.Operation{
		OperationID: "get-import", Method: http.MethodGet, Path: "/imports/{id}", Tags: []string{"imports"},
		Summary:     "Get an import",
		Description: "Status, counts, and the first 1,000 bad lines with their line numbers.",
		Errors:      []int{http.StatusNotFound},
	}, touchbase.RoleAnalyst, s.getImport)
}

type createImportInput struct {
	Kind      string `query:"kind" required:"true" enum:"customers,orders,products,events" doc:"What the file holds."`
	Format    string `query:"format" enum:"csv,ndjson,online-retail,cdnow" doc:"Default: from the file name and content."`
	Map       string `query:"map" doc:"Column mapping, e.g. Customer ID=user_id,E-mail=email,Ctry=traits.country."`
	MaxErrors int    `query:"max_errors" default:"100" doc:"Bad lines to skip before giving up; -1 for no limit."`
	TimeZone  string `query:"time_zone" doc:"IANA zone of times written without one; default UTC."`
	FileName  string `query:"file_name" maxLength:"255" doc:"The file's name, for the record (and to tell NDJSON from CSV)."`

	// body is the request body, read as it arrives: a RawBody []byte
	// would hold the whole upload (up to 512 MiB, and twice that while
	// huma's buffer grows) in memory.
	body io.Reader
	hctx huma.Context
}

// Resolve keeps the request's body to stream it.
func (in *createImportInput) Resolve(ctx huma.Context) []error {
	in.body, in.hctx = ctx.BodyReader(), ctx
	return nil
}

// uploadReader passes an upload through and fails it, ETOOLARGE, once it
// is over MaxImportBytes.
type uploadReader struct {
	r    io.Reader
	left int64
}

func (u *uploadReader) Read(p []byte) (int, error) {
	if u.left < 0 {
		return 0, u.tooLarge()
	}
	if int64(len(p)) > u.left+1 {
		p = p[:u.left+1] // one byte more tells a file of exactly the limit from a larger one
	}
	n, err := u.r.Read(p)
	u.left -= int64(n)
	if u.left < 0 {
		return n, u.tooLarge()
	}
	return n, err
}

func (u *uploadReader) tooLarge() error {
	return touchbase.Errorf(touchbase.ETOOLARGE, "the file is larger than 512 MiB: gzip it, or import it with the CLI")
}

func (s *Server) createImport(ctx context.Context, k *touchbase.Key, in *createImportInput) (*output[*touchbase.Import], error) {
	if s.svc.Importer == nil {
		return nil, touchbase.Errorf(touchbase.EUNAVAILABLE, "this server does not run imports")
	}
	if _, w := humago.Unwrap(in.hctx); w != nil {
		// Best effort: a writer that cannot (a test's recorder) keeps the
		// server's timeout.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTimeout))
	}
	maxErrors := in.MaxErrors
	if maxErrors == 0 {
		maxErrors = 100
	}
	im := &touchbase.Import{
		WorkspaceID: k.WorkspaceID, Kind: touchbase.ImportKind(in.Kind), FileName: in.FileName,
		Options: touchbase.ImportOptions{Format: in.Format, Map: in.Map, MaxErrors: maxErrors, TimeZone: in.TimeZone},
	}
	if im.FileName == "" {
		im.FileName = "upload"
	}
	if err := s.svc.Importer.Submit(ctx, im, &uploadReader{r: in.body, left: MaxImportBytes}); err != nil {
		return nil, err
	}
	return &output[*touchbase.Import]{Body: im}, nil
}

type listImportsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"1000" default:"50"`
}

type importList struct {
	Items []*touchbase.Import `json:"items"`
}

func (s *Server) listImports(ctx context.Context, k *touchbase.Key, in *listImportsInput) (*output[*importList], error) {
	items, err := s.svc.Imports.ListImports(ctx, k.WorkspaceID, in.Limit)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []*touchbase.Import{}
	}
	return &output[*importList]{Body: &importList{Items: items}}, nil
}

type importIDInput struct {
	ID int64 `path:"id" doc:"The import's id."`
}

func (s *Server) getImport(ctx context.Context, k *touchbase.Key, in *importIDInput) (*output[*touchbase.Import], error) {
	im, err := s.svc.Imports.FindImport(ctx, k.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	return &output[*touchbase.Import]{Body: im}, nil
}
