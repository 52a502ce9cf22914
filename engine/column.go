package engine

import (
	"math"

	"github.com/touchbase/touchbase/segment"
)

// dict encodes a column's strings as small integers, so that a test on
// strings runs once per distinct string rather than once per customer.
// Entries are never removed: a string no customer holds any more costs its
// bytes until the next Load.
type dict struct {
	ids  map[string]uint32
	strs []string
}

func newDict() *dict { return &dict{ids: map[string]uint32{}} }

func (d *dict) id(s string) uint32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	id := uint32(len(d.strs))
	d.ids[s] = id
	d.strs = append(d.strs, s)
	return id
}

// column is one value per customer, by dense index: a kind tag and 8 bytes
// whose meaning the kind gives (see kind). Features and traits are columns,
// and so is an aggregate computed at an as-of instant. One layout for all
// keeps the test loops to one per operator; a feature of one type spends
// the tag byte on being set or not, which is its "set" bitmap.
type column struct {
	kinds []kind
	vals  []uint64
	dict  *dict // nil when the column holds no strings
	// arrays holds the elements of the customers whose value is an array
	// (rare in traits, so a map rather than a slot per customer).
	arrays map[uint32][]any
	// ranked says the column holds the values of one universe's customers
	// only, the k-th member's at k: an aggregate computed for an
	// evaluation costs its universe's size, not the workspace's (one
	// customer's, when an event arrives). Its readers walk that universe.
	ranked bool
	// changed says a customer's value changed since Changes last ran:
	// only the tracked segments that read a changed column are evaluated
	// again for a new profile.
	changed bool
}

// at returns where customer i's value is: i, or k, the rank of i in the
// universe a ranked column was computed for.
func (c *column) at(i uint32, k int) int {
	if c.ranked {
		return k
	}
	return int(i)
}

func newColumn(n int) *column {
	return &column{kinds: make([]kind, n), vals: make([]uint64, n), dict: newDict()}
}

// grow makes room for customers up to index n-1.
func (c *column) grow(n int) {
	for len(c.kinds) < n {
		c.kinds = append(c.kinds, kUnset)
		c.vals = append(c.vals, 0)
	}
}

// get returns the value at p (see at) as a scalar.
func (c *column) get(p int) scalar {
	v := c.vals[p]
	switch c.kinds[p] {
	case kString:
		return scalar{k: kString, s: c.dict.strs[v]}
	case kNumber:
		return scalar{k: kNumber, n: math.Float64frombits(v)}
	case kBool:
		return scalar{k: kBool, b: v == 1}
	case kTime:
		return scalar{k: kTime, t: int64(v)}
	case kObject:
		return scalar{k: kObject}
	case kArray:
		return scalar{k: kArray, arr: c.arrays[uint32(p)]}
	}
	return scalar{}
}

// set stores customer i's value and reports whether it changed (an
// array always does).
func (c *column) set(i uint32, s scalar) bool {
	oldKind, oldVal := c.kinds[i], c.vals[i]
	if oldKind == kArray {
		delete(c.arrays, i)
	}
	var v uint64
	switch s.k {
	case kString:
		// The same string again (a profile's email, on every event)
		// needs no hashing nor a probe of a dictionary as big as the
		// customers.
		if oldKind == kString && c.dict.strs[oldVal] == s.s {
			v = oldVal
		} else {
			v = uint64(c.dict.id(s.s))
		}
	case kNumber, kBool, kTime:
		v = s.bits()
	case kArray:
		if c.arrays == nil {
			c.arrays = map[uint32][]any{}
		}
		c.arrays[i] = s.arr
	}
	c.kinds[i], c.vals[i] = s.k, v
	return oldKind != s.k || oldVal != v || s.k == kArray
}

// setFeature stores a registered feature's value for customer i and
// reports whether it changed.
func (c *column) setFeature(i uint32, v segment.Value, ok bool) bool {
	if !ok {
		return c.set(i, scalar{})
	}
	return c.set(i, literal(v))
}
