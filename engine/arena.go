package engine

// traitArena holds every customer's traits as compact JSON in one byte
// slice, with each customer's span in a slice of scalars. A million small
// []byte (what it replaces) are a million pointers that every garbage
// collection cycle marks, and the cycle's mark assists then slow down the
// real-time path; the arena is two pointer-free objects, which a cycle
// does not look into.
//
// A customer whose traits change gets a new span at the end; the old one
// is dead until a compaction, which happens when the arena has to grow
// while a quarter or more of it is dead, so that the arena stays within
// about twice its live bytes.
type traitArena struct {
	buf   []byte
	spans []traitSpan // by dense index
	dead  int         // bytes of buf no span points into
}

// traitSpan is where a customer's traits are in buf; n == 0: none.
type traitSpan struct {
	off int
	n   int
}

// grow makes room for customers up to index n-1, without traits.
func (a *traitArena) grow(n int) {
	for len(a.spans) < n {
		a.spans = append(a.spans, traitSpan{})
	}
}

// get returns customer i's traits, nil for none. The bytes are valid
// until the next set.
func (a *traitArena) get(i uint32) []byte {
	s := a.spans[i]
	if s.n == 0 {
		return nil
	}
	return a.buf[s.off : s.off+s.n : s.off+s.n]
}

// set stores customer i's traits (nil or empty: none).
func (a *traitArena) set(i uint32, b []byte) {
	a.dead += a.spans[i].n
	a.spans[i] = traitSpan{}
	if len(b) == 0 {
		return
	}
	if len(a.buf)+len(b) > cap(a.buf) && a.dead >= len(a.buf)/4 && a.dead > 0 {
		a.compact(len(b))
	}
	a.spans[i] = traitSpan{off: len(a.buf), n: len(b)}
	a.buf = append(a.buf, b...)
}

// compact copies the live spans into a new buffer with room for extra
// more bytes and as many again, in dense index order.
func (a *traitArena) compact(extra int) {
	live := len(a.buf) - a.dead
	buf := make([]byte, 0, 2*(live+extra))
	for i, s := range a.spans {
		if s.n == 0 {
			continue
		}
		a.spans[i].off = len(buf)
		buf = append(buf, a.buf[s.off:s.off+s.n]...)
	}
	a.buf, a.dead = buf, 0
}

// reset forgets every customer's traits.
func (a *traitArena) reset() { *a = traitArena{} }
