package touchbase

import (
	"context"
	"fmt"
	"io"
	"time"
)

// ImportKind is what an import file holds.
type ImportKind string

// Import kinds.
const (
	ImportCustomers ImportKind = "customers" // one person per row: identify
	ImportOrders    ImportKind = "orders"    // one order line per row, grouped by order id
	ImportProducts  ImportKind = "products"  // the catalogue
	ImportEvents    ImportKind = "events"    // one event per row: track (or the row's type)
)

// ImportKinds are the kinds, in the order the CLI lists them.
var ImportKinds = []ImportKind{ImportCustomers, ImportOrders, ImportProducts, ImportEvents}

// Valid reports whether k is a known kind.
func (k ImportKind) Valid() bool {
	for _, v := range ImportKinds {
		if k == v {
			return true
		}
	}
	return false
}

// ImportStatus is where an import stands.
type ImportStatus string

// Import statuses. An import found running when touchbase starts was
// interrupted: it is run again from the start, which imports nothing twice.
const (
	ImportQueued  ImportStatus = "queued"
	ImportRunning ImportStatus = "running"
	ImportDone    ImportStatus = "done"
	ImportFailed  ImportStatus = "failed"
)

// LineError is one record of an import file that could not be imported,
// or (as a warning) one that was imported otherwise than it was written.
type LineError struct {
	Line    int    `json:"line"`             // 1-based line of the file (the header is line 1)
	Column  string `json:"column,omitempty"` // the CSV column, or the JSON field
	Message string `json:"message"`
}

// Error makes a LineError an error: "line 12, column Price: ...".
func (e *LineError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, %s: %s", e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// ImportOptions say how to read a file.
type ImportOptions struct {
	// Format is csv, ndjson, online-retail or cdnow; "" guesses from the
	// file name and content.
	Format string `json:"format,omitempty"`
	// Map maps CSV columns onto message fields: "Customer ID=user_id,
	// Ctry=traits.country,ts=timestamp" (see docs/import.md).
	Map string `json:"map,omitempty"`
	// MaxErrors is how many bad records to skip before giving up; 0 means
	// the default (100), negative means no limit.
	MaxErrors int `json:"max_errors,omitempty"`
	// TimeZone is the IANA zone of times written without one ("" is UTC).
	TimeZone string `json:"time_zone,omitempty"`
	// MaxBytes bounds what the file may hold once decompressed; 0 means
	// the default (64 GiB). It is the operator's (the import_max_bytes
	// setting), set by whoever runs the import, never by the uploader,
	// and not recorded.
	MaxBytes int64 `json:"-"`
}

// ImportCounts are what an import did so far.
type ImportCounts struct {
	BytesRead  int64 `json:"bytes_read"`
	Lines      int64 `json:"lines"`      // file lines read
	Records    int64 `json:"records"`    // inbounds (or products) made of them
	Stored     int64 `json:"stored"`     // new events, or products written
	Duplicates int64 `json:"duplicates"` // records already imported before
	Erased     int64 `json:"erased"`     // records naming an erased customer
	Skipped    int64 `json:"skipped"`    // lines that are not data (stock adjustments...)
	Errors     int64 `json:"errors"`     // bad records, skipped
	// Warnings counts records that were imported, but not as written: an
	// order without an order_id keyed by its messageId, an order event
	// that names no order kept as an event only.
	Warnings int64 `json:"warnings"`
}

// Import is one run of an import file into a workspace.
type Import struct {
	ID          int64         `json:"id"`
	WorkspaceID int64         `json:"workspace_id"`
	Kind        ImportKind    `json:"kind"`
	FileName    string        `json:"file_name"`
	Size        int64         `json:"size"` // bytes, 0 when unknown (stdin)
	Options     ImportOptions `json:"options"`
	Status      ImportStatus  `json:"status"`
	ImportCounts
	// LineErrors are the first bad records (at most MaxLineErrors).
	LineErrors []LineError `json:"line_errors"`
	// LineWarnings are the first warnings (at most MaxLineErrors), with
	// the line of each.
	LineWarnings []LineError `json:"line_warnings"`
	// Error says why a failed import stopped.
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Seq is the import's position in the change feed once it finished
	// (0 before; set by ChangeFeed.ImportsAfter).
	Seq int64 `json:"-"`
}

// MaxLineErrors is how many line errors, and how many warnings, an Import
// keeps.
const MaxLineErrors = 1000

// ImportSubmitter runs uploaded imports in the background, for the API
// and the console alike; an *importer.Runner is one.
type ImportSubmitter interface {
	// Submit records im, saves body and queues it. EINVALID for a bad
	// kind, format or mapping; EUNAVAILABLE when too many wait.
	Submit(ctx context.Context, im *Import, body io.Reader) error
}

// ImportService records imports.
type ImportService interface {
	// CreateImport stores a new import (its ID and CreatedAt are set).
	// EINVALID for a bad kind.
	CreateImport(ctx context.Context, im *Import) error
	// UpdateImport saves an import's status, counts and errors. Its commit
	// is durable, and so makes everything committed before it durable.
	// ENOTFOUND.
	UpdateImport(ctx context.Context, im *Import) error
	// FindImport returns ENOTFOUND.
	FindImport(ctx context.Context, workspaceID, id int64) (*Import, error)
	// ListImports returns the workspace's latest imports, newest first.
	ListImports(ctx context.Context, workspaceID int64, limit int) ([]*Import, error)
	// ListImportsByStatus returns every workspace's imports in status,
	// oldest first (to resume interrupted ones at start).
	ListImportsByStatus(ctx context.Context, status ImportStatus) ([]*Import, error)
}
