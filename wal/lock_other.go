//go:build !unix

package wal

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens dir/lock. Without flock, nothing stops a second process:
// run one touchbase per data directory.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ingestion log: %w", err)
	}
	return f, nil
}
