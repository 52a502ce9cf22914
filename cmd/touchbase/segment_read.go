package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/audience"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
)

// segmentReader answers the read-only segment commands (count, members,
// export, explain, list): from the data directory (localReader), or from
// the server running on it or named by --server (remoteReader). The
// commands print what it returns, so that both modes print the same.
type segmentReader interface {
	// findSegment returns the stored segment named name, or ENOTFOUND.
	findSegment(ctx context.Context, name string) (*touchbase.Segment, error)
	listSegments(ctx context.Context) ([]*touchbase.Segment, error)
	// vocabulary returns the names definition n may use (traits,
	// segments), read as n would be evaluated.
	vocabulary(ctx context.Context, n *segment.Node) (segment.Vocabulary, error)
	count(ctx context.Context, q segmentQuery) (int, error)
	// eachMember calls fn with the members, a page at a time, by id.
	eachMember(ctx context.Context, q segmentQuery, fn func([]*touchbase.Customer) error) error
	export(ctx context.Context, q segmentQuery, hashed bool, w io.Writer) error
	// findCustomer resolves a customer id, user id or email (see
	// findCustomerID).
	findCustomer(ctx context.Context, arg string) (int64, error)
	explain(ctx context.Context, q segmentQuery, customerID int64) (*engine.Explanation, error)
	Close() error
}

// segmentQuery is what a read command asks about: a stored segment, or a
// definition given on the command line, as of an instant (zero: now).
type segmentQuery struct {
	seg  *touchbase.Segment // nil for a definition
	n    *segment.Node      // the definition; nil for a list
	asOf time.Time
}

// resolveQuery takes a segment's name, or else a definition, which must
// name only fields and segments the workspace has (checkNames).
func resolveQuery(ctx context.Context, r segmentReader, arg string, asOf time.Time) (segmentQuery, error) {
	q := segmentQuery{asOf: asOf}
	seg, err := r.findSegment(ctx, arg)
	if err == nil {
		q.seg = seg
		if seg.Kind == touchbase.SegmentDynamic {
			q.n, err = engine.Definition(seg)
		}
		return q, err
	}
	if touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
		return q, err
	}
	if q.n, err = parseDefinition(arg); err != nil {
		return q, err
	}
	voc, err := r.vocabulary(ctx, q.n)
	if err != nil {
		return q, err
	}
	return q, checkNames(q.n, newRegistry(), voc)
}

// checkNames refuses a definition that names a field no feature and no
// trait of the workspace has, or a segment it does not have: "revenu > 3"
// would count nobody, and a count of 0 reads like an answer. Unknown
// events and properties are let through: an event may not have happened
// yet. It is the CLI's one check of names, in both modes, until the
// shared segment workflow's replaces it.
func checkNames(n *segment.Node, reg *segment.Registry, voc segment.Vocabulary) error {
	voc.Events, voc.Properties = nil, nil // nil: not checked
	problems := segment.Suggest(n, reg, voc)
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Error()
	}
	return touchbase.Errorf(touchbase.EINVALID, "%s", strings.Join(msgs, "; "))
}

// localReader answers from the store in the data directory, through an
// engine.View: it reads what the question needs and records nothing.
type localReader struct {
	st   *store.Store
	ws   int64
	view *engine.View
}

// openLocalReader opens the configured database, which must exist: a
// read creates neither a database nor a workspace.
func (a *app) openLocalReader(ctx context.Context, workspace string) (*localReader, error) {
	if path, ok := sqlitePath(a.cfg.DB); ok {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, touchbase.Errorf(touchbase.ENOTFOUND,
				"there is no database at %s: import data or start `touchbase serve` first (or give --data or --db)", path)
		}
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := a.workspace(ctx, st, workspace)
	if err != nil {
		st.Close()
		return nil, err
	}
	view := engine.NewView(st, newRegistry(), ws.ID, engine.ViewConfig{Logger: a.log})
	return &localReader{st: st, ws: ws.ID, view: view}, nil
}

// sqlitePath returns the file of a SQLite DSN, as store.Open reads it;
// false for PostgreSQL.
func sqlitePath(dsn string) (string, bool) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "", false
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path, true
}

func (r *localReader) Close() error { return r.st.Close() }

func (r *localReader) findSegment(ctx context.Context, name string) (*touchbase.Segment, error) {
	return r.st.FindSegmentByName(ctx, r.ws, name)
}

func (r *localReader) listSegments(ctx context.Context) ([]*touchbase.Segment, error) {
	return r.st.ListSegments(ctx, r.ws)
}

func (r *localReader) vocabulary(ctx context.Context, n *segment.Node) (segment.Vocabulary, error) {
	// Loaded for n first, so that the names are those of the index the
	// answer comes from.
	if err := r.view.Load(ctx, n); err != nil {
		return segment.Vocabulary{}, err
	}
	return r.view.Vocabulary(ctx)
}

// ids returns the members' ids: a definition's evaluated, a list's as
// stored.
func (r *localReader) ids(ctx context.Context, q segmentQuery) ([]int64, error) {
	if q.n == nil {
		return r.st.SegmentMembers(ctx, r.ws, q.seg.ID)
	}
	return r.view.Members(ctx, q.n, q.asOf)
}

func (r *localReader) count(ctx context.Context, q segmentQuery) (int, error) {
	ids, err := r.ids(ctx, q)
	return len(ids), err
}

func (r *localReader) eachMember(ctx context.Context, q segmentQuery, fn func([]*touchbase.Customer) error) error {
	ids, err := r.ids(ctx, q)
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		page := ids[:min(memberPage, len(ids))]
		ids = ids[len(page):]
		cs, err := r.st.FindCustomers(ctx, r.ws, page)
		if err != nil {
			return err
		}
		if err := fn(cs); err != nil {
			return err
		}
	}
	return nil
}

// memberPage is how many members the members command reads at a time.
const memberPage = 1000

func (r *localReader) export(ctx context.Context, q segmentQuery, hashed bool, w io.Writer) error {
	ids, err := r.ids(ctx, q)
	if err != nil {
		return err
	}
	return audience.WriteCSV(ctx, w, ids, hashed, func(page []int64) ([]*touchbase.Customer, error) {
		return r.st.FindCustomers(ctx, r.ws, page)
	})
}

func (r *localReader) findCustomer(ctx context.Context, arg string) (int64, error) {
	return findCustomerID(ctx, storeLookup(ctx, r.st, r.ws), arg)
}

// storeLookup finds workspace ws's customers in st.
func storeLookup(ctx context.Context, st *store.Store, ws int64) customerLookup {
	return customerLookup{
		byFilter: func(f touchbase.CustomerFilter) ([]*touchbase.Customer, error) {
			cs, _, err := st.ListCustomers(ctx, ws, f)
			return cs, err
		},
		byID: func(id int64) error {
			_, err := st.FindCustomer(ctx, ws, id)
			return err
		},
	}
}

func (r *localReader) explain(ctx context.Context, q segmentQuery, customerID int64) (*engine.Explanation, error) {
	return r.view.Explain(ctx, q.n, customerID, q.asOf)
}
