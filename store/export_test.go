package store

// SetScanMin sets the fewest ids a range of a scan on all cores spans, so
// that small test stores are read in several ranges at once.
func (s *Store) SetScanMin(n int64) { s.scanMin = n }
