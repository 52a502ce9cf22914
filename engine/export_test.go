package engine

// SetSplitMin sets the universe size from which evaluations are cut in
// parts run on all cores, so that small test stores exercise the parts.
func (ix *Index) SetSplitMin(n int) { ix.splitMin = n }
