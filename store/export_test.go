package store

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// SetScanMin sets the fewest ids a range of a scan on all cores spans, so
// that small test stores are read in several ranges at once.
func (s *Store) SetScanMin(n int64) { s.scanMin = n }

// MigrateTo moves the schema to version, down or up, as an older or newer
// touchbase would leave it.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	fsys, err := fs.Sub(migrations, "migrations/"+s.d.name)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(s.d.goose, s.db, fsys)
	if err != nil {
		return err
	}
	if cur, err := p.GetDBVersion(ctx); err != nil {
		return err
	} else if cur > version {
		_, err = p.DownTo(ctx, version)
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
