//go:build !(linux || darwin || freebsd)

package store

// freeBytes is unknown here: an I/O error of SQLite is not taken for a
// full disk (SQLITE_FULL still is).
func freeBytes(dir string) (int64, bool) { return 0, false }
