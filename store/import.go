package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.ImportService = (*Store)(nil)

const importCols = "id, workspace_id, kind, file_name, size, options, status, counts, line_errors, line_warnings, error, created_at, started_at, finished_at"

// CreateImport stores a new import; EINVALID for a bad kind.
func (s *Store) CreateImport(ctx context.Context, im *touchbase.Import) error {
	if !im.Kind.Valid() {
		return touchbase.Errorf(touchbase.EINVALID, "import kind %q is not one of customers, orders, products, events", im.Kind)
	}
	if im.Status == "" {
		im.Status = touchbase.ImportQueued
	}
	im.CreatedAt = timeOf(s.now())
	opts, counts, errs, warns, err := importJSON(im)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO imports (workspace_id, kind, file_name, size, options, status, counts, line_errors, line_warnings,
			error, created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			im.WorkspaceID, string(im.Kind), im.FileName, im.Size, opts, string(im.Status), counts, errs, warns, im.Error,
			ms(im.CreatedAt), nullTimePtr(im.StartedAt), nullTimePtr(im.FinishedAt)).Scan(&im.ID)
		if err != nil {
			return fmt.Errorf("create import: %w", err)
		}
		return nil
	})
}

// UpdateImport saves the import's status, counts and errors, durably; an
// import done or failed goes on the change feed.
func (s *Store) UpdateImport(ctx context.Context, im *touchbase.Import) error {
	opts, counts, errs, warns, err := importJSON(im)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE imports SET file_name = ?, size = ?, options = ?, status = ?, counts = ?, line_errors = ?,
			line_warnings = ?, error = ?, started_at = ?, finished_at = ? WHERE workspace_id = ? AND id = ?`),
			im.FileName, im.Size, opts, string(im.Status), counts, errs, warns, im.Error,
			nullTimePtr(im.StartedAt), nullTimePtr(im.FinishedAt), im.WorkspaceID, im.ID)
		if err != nil {
			return fmt.Errorf("update import %d: %w", im.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return touchbase.Errorf(touchbase.ENOTFOUND, "import %d not found", im.ID)
		}
		if (im.Status == touchbase.ImportDone || im.Status == touchbase.ImportFailed) && im.FinishedAt != nil {
			return s.appendFeed(ctx, tx, im.WorkspaceID, feedImport, im.ID, ms(*im.FinishedAt))
		}
		return nil
	})
}

// FindImport returns ENOTFOUND.
func (s *Store) FindImport(ctx context.Context, workspaceID, id int64) (*touchbase.Import, error) {
	var im *touchbase.Import
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		im, err = scanImport(tx.QueryRowContext(ctx, s.d.q("SELECT "+importCols+" FROM imports WHERE workspace_id = ? AND id = ?"), workspaceID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return touchbase.Errorf(touchbase.ENOTFOUND, "import %d not found", id)
		}
		return err
	})
	return im, err
}

// ListImports returns the latest imports, newest first (limit 50 when <= 0).
func (s *Store) ListImports(ctx context.Context, workspaceID int64, limit int) ([]*touchbase.Import, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	return s.listImports(ctx, "SELECT "+importCols+" FROM imports WHERE workspace_id = ? ORDER BY id DESC LIMIT ?", workspaceID, limit)
}

// ListImportsByStatus returns every workspace's imports in status, oldest first.
func (s *Store) ListImportsByStatus(ctx context.Context, status touchbase.ImportStatus) ([]*touchbase.Import, error) {
	return s.listImports(ctx, "SELECT "+importCols+" FROM imports WHERE status = ? ORDER BY id", string(status))
}

func (s *Store) listImports(ctx context.Context, q string, args ...any) ([]*touchbase.Import, error) {
	var out []*touchbase.Import
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, s.d.q(q), args, func(rows *sql.Rows) error {
			im, err := scanImport(rows)
			if err != nil {
				return err
			}
			out = append(out, im)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return out, nil
}

func importJSON(im *touchbase.Import) (opts, counts, errs, warns string, err error) {
	lines := func(ls []touchbase.LineError) []touchbase.LineError {
		if ls == nil {
			return []touchbase.LineError{}
		}
		return ls[:min(len(ls), touchbase.MaxLineErrors)]
	}
	for _, v := range []struct {
		dst *string
		val any
	}{{&opts, im.Options}, {&counts, im.ImportCounts}, {&errs, lines(im.LineErrors)}, {&warns, lines(im.LineWarnings)}} {
		b, err := json.Marshal(v.val)
		if err != nil {
			return "", "", "", "", fmt.Errorf("import %d: %w", im.ID, err)
		}
		*v.dst = string(b)
	}
	return opts, counts, errs, warns, nil
}

func scanImport(row interface{ Scan(...any) error }) (*touchbase.Import, error) {
	im := &touchbase.Import{}
	var kind, status, opts, counts, errs, warns string
	var created int64
	var started, finished sql.NullInt64
	if err := row.Scan(&im.ID, &im.WorkspaceID, &kind, &im.FileName, &im.Size, &opts, &status, &counts, &errs, &warns, &im.Error,
		&created, &started, &finished); err != nil {
		return nil, err
	}
	im.Kind, im.Status, im.CreatedAt = touchbase.ImportKind(kind), touchbase.ImportStatus(status), timeOf(created)
	if started.Valid {
		t := timeOf(started.Int64)
		im.StartedAt = &t
	}
	if finished.Valid {
		t := timeOf(finished.Int64)
		im.FinishedAt = &t
	}
	for _, v := range []struct {
		src string
		dst any
	}{{opts, &im.Options}, {counts, &im.ImportCounts}, {errs, &im.LineErrors}, {warns, &im.LineWarnings}} {
		if err := json.Unmarshal([]byte(v.src), v.dst); err != nil {
			return nil, fmt.Errorf("import %d: %w", im.ID, err)
		}
	}
	return im, nil
}

func nullTimePtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// UpsertProducts writes products to the catalogue (an import of it): a
// field left empty (or a zero price) keeps the stored value, a link that is
// not an http(s) URL is left out (touchbase.WebLink), and the products are
// trusted from then on: public write keys can no longer change them.
// EINVALID for a product without an id.
func (s *Store) UpsertProducts(ctx context.Context, workspaceID int64, ps []touchbase.Product) error {
	now := s.now()
	// One row per product: an upsert may not touch a row twice.
	merged := map[string]touchbase.Product{}
	var order []string
	for i, p := range ps {
		if p.ProductID == "" {
			return touchbase.Errorf(touchbase.EINVALID, "product %d has no product_id", i)
		}
		old, ok := merged[p.ProductID]
		if !ok {
			order = append(order, p.ProductID)
		}
		merged[p.ProductID] = mergeProduct(old, p)
	}
	args := make([]any, 0, len(order)*len(productCols))
	for _, id := range order {
		p := merged[id]
		args = append(args, workspaceID, p.ProductID, p.SKU, p.Name, p.Category, p.Brand, p.Variant, p.Price, p.Currency,
			touchbase.WebLink(p.URL), touchbase.WebLink(p.ImageURL), now, now, 1)
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertRows(ctx, tx, &upsertProducts, args) })
	if s.cache != nil {
		// Whatever happened, the cache no longer knows the stored rows.
		s.cache.forgetProducts()
	}
	if err != nil {
		return fmt.Errorf("upsert products: %w", err)
	}
	return nil
}
