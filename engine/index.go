// Package engine evaluates segments in memory, column by column, for one
// workspace: each customer has a dense index, each feature and each trait
// a segment names is a column over all customers, each event aggregate a
// segment names is a per-customer series of (timestamp, value) kept up to
// date as events arrive, and a condition evaluates to a bitmap of dense
// indexes. docs/segments.md is the contract it implements; the SQL
// compiler in package segment is its oracle.
package engine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Source is where the index is back-filled from: the store.
type Source interface {
	// ScanCustomers calls fn with each customer of the workspace, with
	// features; c.Traits is not read: traits is the customer's traits as a
	// JSON object (empty or null for none), valid until fn returns.
	ScanCustomers(ctx context.Context, workspaceID int64, fn func(c *touchbase.Customer, traits []byte) error) error
	// ScanEvents calls fn with each event of the workspace whose name is
	// one of names and whose id is in (after, upTo], in id order (events
	// of equal timestamps count in that order); ev.Properties is valid
	// until fn returns. Back-fill calls it from several goroutines at
	// once, for disjoint ranges.
	ScanEvents(ctx context.Context, workspaceID int64, names []string, after, upTo int64, fn func(touchbase.EventRow) error) error
	// LastEventID returns the id of the workspace's latest event.
	LastEventID(ctx context.Context, workspaceID int64) (int64, error)
}

// Index is one workspace's customers in columns. It is safe for concurrent
// use: evaluations share a read lock, changes take the write lock.
type Index struct {
	reg *segment.Registry

	mu  sync.RWMutex
	src Source
	ws  int64

	ids  []int64          // dense index -> customer id
	pos  map[int64]uint32 // customer id -> dense index
	live *roaring.Bitmap  // the universe: customers with a profile
	// traits holds each customer's traits as compact JSON (none: no
	// traits), to build a trait column the first time a segment names the
	// trait. Decoded maps would cost ten times the memory.
	traits traitArena

	features []featureColumn
	// volatile are the features that change with most events, stable the
	// others; prints holds, per customer, a fingerprint of the stable
	// ones and the traits (see setCustomer), 0 for none yet, and sigs a
	// byte of each one's fingerprint, len(stable)+1 bytes a customer.
	volatile, stable []featureColumn
	prints           []uint64
	sigs             []byte
	// sigMask is what sigs keep of a fingerprint's byte: all of it (a
	// test keeps one bit, so that the bytes miss half the changes).
	sigMask byte
	// seed and seed64 key the fingerprints (random per index).
	seed   maphash.Seed
	seed64 uint64
	// sums is scratch of setCustomer: the fingerprints of the stable
	// features' new values and of the traits.
	sums []uint64

	byFeature map[string]*column
	traitCols map[string]*column // by path, without "traits."

	series  map[seriesKey]*series
	byEvent map[string][]*series
	// propKeys are the top-level properties byEvent's series read, by
	// event name: all that ApplyEvent decodes.
	propKeys map[string][]string

	// upTo is the id of the last event the aggregates hold: back-fills
	// read up to it and ApplyEvent moves it on, so that no event counts
	// twice however back-fills and applied events interleave.
	upTo int64

	names names

	// lists are the members of static segments, by name, for "in segment".
	lists map[string]*roaring.Bitmap

	tzMu sync.Mutex
	tz   map[string]*time.Location // nil value: not a known zone
	// windows are within next's month-days by zone and instant (see
	// window), under tzMu too.
	windows map[windowKey]*monthDays

	track tracker

	// Scratch of the real-time path, under mu's write lock: the traits
	// encoded (and their keys), an event's properties, the evaluation of
	// one customer.
	enc     []byte
	encKeys []string
	props   map[string]any
	oneEval evaluation

	keys keyMemo

	// splitMin is the universe size from which evaluations run on all
	// cores (defaultSplitMin; tests lower it to exercise the parts).
	splitMin int
	// backfillMin is the fewest event ids a back-fill range spans
	// (defaultBackfillMin; tests lower it to exercise the ranges).
	backfillMin int64
	// foldMin is the fewest customers a series' tail holds before it is
	// folded into its bulk (the constant foldMin; tests lower it), and
	// folds the folds under way.
	foldMin int
	folds   sync.WaitGroup
	folded  int // folds finished (for tests)
}

type featureColumn struct {
	f   *segment.Feature
	col *column
}

// NewIndex returns an empty index whose features are reg's.
func NewIndex(reg *segment.Registry) *Index {
	ix := &Index{reg: reg, tz: map[string]*time.Location{}, splitMin: defaultSplitMin, backfillMin: defaultBackfillMin, foldMin: foldMin,
		sigMask: 0xff, seed: maphash.MakeSeed()}
	ix.seed64 = maphash.String(ix.seed, "")
	ix.reset()
	ix.traitCols = map[string]*column{}
	ix.series = map[seriesKey]*series{}
	ix.byEvent = map[string][]*series{}
	ix.propKeys = map[string][]string{}
	ix.track.init()
	return ix
}

// reset forgets the customers, keeping which traits and aggregates are
// kept so that Load rebuilds them.
func (ix *Index) reset() {
	ix.ids = nil
	ix.pos = map[int64]uint32{}
	ix.live = roaring.New()
	ix.traits.reset()
	ix.prints, ix.sigs = nil, nil
	ix.features, ix.volatile, ix.stable = nil, nil, nil
	ix.byFeature = map[string]*column{}
	for _, name := range ix.reg.Names() {
		f, _ := ix.reg.Lookup(name)
		col := newColumn(0)
		fc := featureColumn{f, col}
		ix.features = append(ix.features, fc)
		if f.Volatile {
			ix.volatile = append(ix.volatile, fc)
		} else {
			ix.stable = append(ix.stable, fc)
		}
		ix.byFeature[name] = col
	}
}

// Load reads workspace ws from src: every customer's features and traits,
// and the events of the aggregates and the trait columns the index keeps
// already (none on a new index). The index remembers src to back-fill the
// aggregates that Prepare adds later. Segments tracked by Register are
// re-evaluated for every customer at the next Changes.
func (ix *Index) Load(ctx context.Context, src Source, ws int64) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.src, ix.ws = src, ws
	ix.reset()
	// The events up to here are the back-fill's; their customers are
	// committed already, so the scan below sees them.
	upTo, err := src.LastEventID(ctx, ws)
	if err != nil {
		return fmt.Errorf("load workspace %d: %w", ws, err)
	}
	ix.upTo = upTo
	err = src.ScanCustomers(ctx, ws, ix.loadCustomer)
	if err != nil {
		return fmt.Errorf("load workspace %d: %w", ws, err)
	}
	keys := make([]string, 0, len(ix.traitCols))
	for k := range ix.traitCols {
		keys = append(keys, k)
	}
	ix.traitCols = map[string]*column{}
	ix.buildTraits(keys)
	var all []*series
	for _, s := range ix.series {
		all = append(all, s)
	}
	if err := ix.backfill(ctx, all); err != nil {
		return err
	}
	ix.track.dirtyAll()
	return nil
}

// ReloadProfiles reads every customer's profile (features, scores and
// traits) from the store again: after the analyses rewrote the scores,
// which reach the index through no event. Segments tracked by Register
// are re-evaluated for every customer at the next Changes.
func (ix *Index) ReloadProfiles(ctx context.Context) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.src == nil {
		return nil // never loaded: nothing to reload
	}
	if err := ix.src.ScanCustomers(ctx, ix.ws, ix.loadCustomer); err != nil {
		return fmt.Errorf("reload workspace %d: %w", ix.ws, err)
	}
	ix.track.dirtyAll()
	return nil
}

// add gives customer id the next dense index; the customer is not live
// (in the universe) until their profile is applied.
func (ix *Index) add(id int64) uint32 {
	i := uint32(len(ix.ids))
	ix.ids = append(ix.ids, id)
	ix.pos[id] = i
	ix.traits.grow(len(ix.ids))
	ix.prints = append(ix.prints, 0)
	ix.sigs = append(ix.sigs, make([]byte, len(ix.stable)+1)...)
	n := len(ix.ids)
	for _, fc := range ix.features {
		fc.col.grow(n)
	}
	for _, c := range ix.traitCols {
		c.grow(n)
	}
	for _, s := range ix.series {
		s.grow(n)
	}
	return i
}

// ApplyCustomer sets a new or changed profile: its features and traits.
func (ix *Index) ApplyCustomer(c *touchbase.Customer) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	i := ix.applyCustomer(c)
	ix.track.touchProfile(i)
}

func (ix *Index) applyCustomer(c *touchbase.Customer) uint32 {
	for k := range c.Traits {
		ix.names.trait(k)
	}
	var b []byte
	if len(c.Traits) > 0 {
		var ok bool
		ix.enc, ix.encKeys, ok = appendTraits(ix.enc[:0], c.Traits, ix.encKeys)
		b = ix.enc
		if !ok {
			// Marshalling also normalises what the caller built (ints,
			// nested Go types) to what the store returns: JSON's types.
			b, _ = json.Marshal(c.Traits) // nil on error: no traits
		}
	}
	return ix.setCustomer(c, b)
}

// sum returns the fingerprint of value v of stable feature f: a keyed
// 64-bit hash. For one feature and kind it is a bijection of the value's
// bits (a string's: a seeded hash of it), so two values differ in it
// unless two strings collide, a chance of 2^-64; the features' keys keep
// changes to several features from cancelling out in their exclusive or
// but for a chance as small.
func (ix *Index) sum(f int, v scalar) uint64 {
	x := v.bits()
	if v.k == kString {
		x = maphash.String(ix.seed, v.s)
	}
	return ix.mixSum(f, v.k, x)
}

// sumValue is sum(f, literal(v)) (of scalar{} when !ok), without
// making the scalar: it runs for every stable feature of every event's
// profile.
func (ix *Index) sumValue(f int, v segment.Value, ok bool) uint64 {
	if ok {
		switch v.Type {
		case segment.TypeString:
			return ix.mixSum(f, kString, maphash.String(ix.seed, v.Str))
		case segment.TypeNumber:
			return ix.mixSum(f, kNumber, math.Float64bits(v.Num))
		case segment.TypeBool:
			if v.Bool {
				return ix.mixSum(f, kBool, 1)
			}
			return ix.mixSum(f, kBool, 0)
		case segment.TypeTime:
			return ix.mixSum(f, kTime, uint64(v.Time))
		}
	}
	return ix.mixSum(f, kUnset, 0)
}

// sumTraits is sum for the traits, whose JSON is b (feature number
// len(ix.stable)).
func (ix *Index) sumTraits(b []byte) uint64 {
	return ix.mixSum(len(ix.stable), kString, maphash.Bytes(ix.seed, b))
}

// mixSum is the fingerprint of feature f's value of kind k and 64 bits x.
func (ix *Index) mixSum(f int, k kind, x uint64) uint64 {
	return mix64(mix64(x^ix.seed64^uint64(f+1)*0x9e3779b97f4a7c15) + uint64(k))
}

// mix64 is splitmix64's finaliser: a bijection of 64 bits, each input
// bit moving about half of the output's.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// profileSums sets ix.sums to the fingerprints of c's stable features
// and of traits b, and returns the profile's fingerprint: the exclusive
// or of them all.
func (ix *Index) profileSums(c *touchbase.Customer, b []byte) uint64 {
	ix.sums = ix.sums[:0]
	var p uint64
	for f, fc := range ix.stable {
		v, ok := fc.f.Get(c)
		h := ix.sumValue(f, v, ok)
		ix.sums = append(ix.sums, h)
		p ^= h
	}
	h := ix.sumTraits(b)
	ix.sums = append(ix.sums, h)
	return p ^ h
}

// stableValue is c's value of feature fc as a column holds it.
func stableValue(fc featureColumn, c *touchbase.Customer) scalar {
	if v, ok := fc.f.Get(c); ok {
		return literal(v)
	}
	return scalar{}
}

// loadCustomer is applyCustomer for a customer of the store, whose traits
// come as the JSON the store holds (see Source.ScanCustomers). A flat
// object (scalars only, strings without escapes: what traits almost
// always are) is kept as it is: it decodes to what its re-encoding would.
// Anything else takes applyCustomer's way, decoded as the store would
// decode it, so that the traits are the same either way.
func (ix *Index) loadCustomer(c *touchbase.Customer, traits []byte) error {
	if len(traits) == 0 {
		ix.setCustomer(c, nil)
		return nil
	}
	n, ok := flatKeys(traits, ix.names.traitBytes)
	if !ok {
		var m map[string]any
		if err := json.Unmarshal(traits, &m); err != nil {
			return fmt.Errorf("customer %d traits: %w", c.ID, err)
		}
		c.Traits = m
		ix.applyCustomer(c)
		return nil
	}
	if n == 0 {
		traits = nil
	}
	ix.setCustomer(c, traits)
	return nil
}

// setCustomer sets customer c's features, and traits b (compact JSON of a
// non-empty object, or nil).
func (ix *Index) setCustomer(c *touchbase.Customer, b []byte) uint32 {
	i, ok := ix.pos[c.ID]
	if !ok {
		i = ix.add(c.ID)
	}
	if ix.live.CheckedAdd(i) {
		ix.track.universe = true
	}
	t := &ix.track
	for _, fc := range ix.volatile {
		v, ok := fc.f.Get(c)
		if fc.col.setFeature(i, v, ok) {
			t.markChanged(fc.col)
		}
	}
	// The rest of the profile mostly stays from one event to the next:
	// checked at once by its fingerprint, it costs one read of the
	// index's memory instead of one per column (each a cache miss for a
	// customer an event made current).
	// Bit 0 set, so that a fingerprint is never a new customer's 0; the
	// exclusive or below then compares the other 63.
	p := ix.profileSums(c, b) | 1
	if p == ix.prints[i] {
		return i
	}
	// Something changed: what, a byte of each fingerprint tells (one
	// more read), for sure where it differs. Where it does not, the value
	// is the same but for a chance of 1 in 256, which the whole
	// fingerprint rules out: the old one with the changed values'
	// fingerprints swapped for the new must be the new one. An order
	// changes four of the columns; the others need not be read.
	n := len(ix.stable)
	row := ix.sigs[int(i)*(n+1) : int(i)*(n+1)+n+1]
	acc, traits := ix.prints[i], false
	for f, h := range ix.sums {
		sig := byte(h>>56) & ix.sigMask
		if sig == row[f] {
			continue
		}
		row[f] = sig
		if f == n {
			acc ^= ix.sumTraits(ix.traits.get(i)) ^ h
			traits = true
			continue
		}
		col := ix.stable[f].col
		acc ^= ix.sum(f, col.get(int(i))) ^ h
		if col.set(i, stableValue(ix.stable[f], c)) {
			t.markChanged(col)
		}
	}
	if acc|1 != p {
		// A change the bytes did not show, or no fingerprint yet (a new
		// customer's is 0): every column.
		for f, fc := range ix.stable {
			row[f] = byte(ix.sums[f]>>56) & ix.sigMask
			if fc.col.set(i, stableValue(fc, c)) {
				t.markChanged(fc.col)
			}
		}
		row[n] = byte(ix.sums[n]>>56) & ix.sigMask
		traits = !bytes.Equal(b, ix.traits.get(i))
	}
	ix.prints[i] = p
	if !traits {
		// Unchanged (an event's customer, mostly): the trait columns hold
		// these traits already, so they need no decoding.
		return i
	}
	ix.traits.set(i, b)
	if len(ix.traitCols) > 0 {
		m := decodeTraits(b)
		for key, col := range ix.traitCols {
			if col.set(i, fromJSON(lookup(m, strings.Split(key, ".")))) {
				t.markChanged(col)
			}
		}
	}
	return i
}

// SetList sets the members of a static segment (a list), which "in
// segment" then names; tracked segments are re-evaluated at the next
// Changes. Unknown customers are left out.
func (ix *Index) SetList(name string, ids []int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	bm := roaring.New()
	for _, id := range ids {
		if i, ok := ix.pos[id]; ok {
			bm.Add(i)
		}
	}
	if ix.lists == nil {
		ix.lists = map[string]*roaring.Bitmap{}
	}
	if old, ok := ix.lists[name]; ok && old.Equals(bm) {
		return
	}
	ix.lists[name] = bm
	ix.track.dirtyAll()
}

// DropList forgets a static segment.
func (ix *Index) DropList(name string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	delete(ix.lists, name)
	ix.track.dirtyAll()
}

// MergeCustomer moves customer gone's events into customer into's
// aggregates and forgets gone, as ingestion's merge of two profiles moves
// the events in the store. into's profile comes by ApplyCustomer.
func (ix *Index) MergeCustomer(gone, into int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	gi, ok := ix.pos[gone]
	if !ok {
		return
	}
	ii, ok := ix.pos[into]
	if !ok {
		ii = ix.add(into)
	}
	for _, s := range ix.series {
		ts, val := s.points(gi)
		ts, val = slices.Clone(ts), slices.Clone(val)
		for k, t := range ts {
			var v float64
			if val != nil {
				v = val[k]
			}
			s.insert(ii, t, v)
		}
		ix.maybeFold(s)
	}
	ix.track.touchUniverse(ii)
	ix.removeCustomer(gone)
}

// RemoveCustomer forgets a customer (erased, or merged into another).
// Segments tracked by Register report them leaving at the next Changes.
func (ix *Index) RemoveCustomer(id int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeCustomer(id)
}

func (ix *Index) removeCustomer(id int64) {
	i, ok := ix.pos[id]
	if !ok {
		return
	}
	delete(ix.pos, id)
	ix.live.Remove(i)
	ix.traits.set(i, nil)
	ix.prints[i] = 0
	for _, fc := range ix.features {
		fc.col.set(i, scalar{})
	}
	for _, c := range ix.traitCols {
		c.set(i, scalar{})
	}
	for _, s := range ix.series {
		s.clear(i)
	}
	// The dense index is not reused: ids[i] stays, so that Changes can
	// still name who left.
	ix.track.touchUniverse(i)
}

func decodeTraits(b []byte) map[string]any {
	var m map[string]any
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m) // written by json.Marshal above
	}
	return m
}

// traitKey returns the trait path a field names, or "" when it names a
// registered feature. docs/segments.md: a feature's name wins; any other
// name is a trait, "traits.plan" or "plan".
func (ix *Index) traitKey(field string) string {
	if _, ok := ix.byFeature[field]; ok {
		return ""
	}
	if _, ok := ix.reg.Lookup(field); ok {
		return "" // registered after Load; column reports the error
	}
	if k, ok := strings.CutPrefix(field, "traits."); ok {
		return k
	}
	return field
}

// buildTraits builds the trait columns for keys that have none, decoding
// each customer's traits once for all of them.
func (ix *Index) buildTraits(keys []string) {
	type want struct {
		path []string
		col  *column
	}
	var ws []want
	for _, k := range keys {
		if _, ok := ix.traitCols[k]; ok || k == "" {
			continue
		}
		ws = append(ws, want{strings.Split(k, "."), newColumn(len(ix.ids))})
		ix.traitCols[k] = ws[len(ws)-1].col
	}
	if len(ws) == 0 {
		return
	}
	for i := range ix.traits.spans {
		b := ix.traits.get(uint32(i))
		if b == nil {
			continue
		}
		m := decodeTraits(b)
		for _, w := range ws {
			w.col.set(uint32(i), fromJSON(lookup(m, w.path)))
		}
	}
}

// Count returns the number of customers in bm.
func Count(bm *roaring.Bitmap) uint64 { return bm.GetCardinality() }

// Members returns the ids of the customers in bm, a result of Evaluate,
// in ascending order.
func (ix *Index) Members(bm *roaring.Bitmap) []int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]int64, 0, bm.GetCardinality())
	it := bm.Iterator()
	for it.HasNext() {
		if i := it.Next(); int(i) < len(ix.ids) {
			out = append(out, ix.ids[i])
		}
	}
	slices.SortFunc(out, cmp.Compare)
	return out
}

// Len returns the number of customers with a profile.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return int(ix.live.GetCardinality())
}

// location returns the time zone a timezone trait names; UTC for a name
// time.LoadLocation does not know. Loaded zones are cached: loading reads
// the zone database.
func (ix *Index) location(name string) *time.Location {
	ix.tzMu.Lock()
	defer ix.tzMu.Unlock()
	loc, ok := ix.tz[name]
	if !ok {
		// "" and "Local" are not IANA names: LoadLocation would take them
		// for UTC and the machine's zone.
		if name != "" && name != "Local" {
			if l, err := time.LoadLocation(name); err == nil {
				loc = l
			}
		}
		ix.tz[name] = loc
	}
	if loc == nil {
		return time.UTC
	}
	return loc
}
