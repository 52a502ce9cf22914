package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/idrange"
	"github.com/touchbase/touchbase/segment"
)

// aggMode is what a series keeps of each matching event.
type aggMode uint8

const (
	modeEvents   aggMode = iota // count, first, last: the timestamp
	modeNumbers                 // sum, avg, min, max: events whose property is a number, and the number
	modeDistinct                // distinct: events whose property is a scalar, and its id
)

// seriesKey identifies a series: aggregates that differ only in their
// window, or in their function within one mode, share it.
type seriesKey struct {
	event string
	where string // the Where tree as JSON; "" for none
	prop  string
	mode  aggMode
}

func modeOf(f segment.AggFunc) aggMode {
	switch f {
	case segment.AggSum, segment.AggAvg, segment.AggMin, segment.AggMax:
		return modeNumbers
	case segment.AggDistinct:
		return modeDistinct
	}
	return modeEvents
}

func keyOf(a *segment.Aggregate) (seriesKey, error) {
	k := seriesKey{event: a.Event, mode: modeOf(a.Func)}
	switch a.Func {
	case segment.AggCount, segment.AggSum, segment.AggAvg, segment.AggMin, segment.AggMax,
		segment.AggDistinct, segment.AggFirst, segment.AggLast:
	default:
		return k, fmt.Errorf("unknown aggregate function %q", a.Func)
	}
	if a.Func.NeedsProperty() {
		if a.Property == "" {
			return k, fmt.Errorf("%s(%q) needs a property", a.Func, a.Event)
		}
		k.prop = a.Property
	}
	if a.Where != nil {
		b, err := json.Marshal(a.Where)
		if err != nil {
			return k, fmt.Errorf("%s(%q): where: %w", a.Func, a.Event, err)
		}
		k.where = string(b)
	}
	return k, nil
}

// keyMemo remembers the series keys of aggregates with a where clause,
// whose key is the clause as JSON: an event's customer evaluates the same
// aggregates again and again, and encoding the clause each time was most
// of the real-time path's allocations. Evaluations share the index's read
// lock, hence the sync.Map. The memo holds its aggregates (so no other
// takes their address) and is emptied past memoMax of them.
type keyMemo struct {
	m sync.Map // *segment.Aggregate -> seriesKey
	n atomic.Int64
}

const memoMax = 4096

func (km *keyMemo) of(a *segment.Aggregate) (seriesKey, error) {
	if a.Where == nil {
		return keyOf(a)
	}
	if k, ok := km.m.Load(a); ok {
		return k.(seriesKey), nil
	}
	k, err := keyOf(a)
	if err != nil {
		return k, err
	}
	if km.n.Add(1) > memoMax {
		km.m.Clear()
		km.n.Store(1)
	}
	km.m.Store(a, k)
	return k, nil
}

// series is, per customer, the timestamps (ascending) and values of the
// events an aggregate looks at, so that any as-of instant and window is
// answered exactly by binary search. The bulk lives in one compressed
// sparse row layout built by back-fill; a customer who receives events
// afterwards moves to tail, where their list is kept whole, until a fold
// (Index.maybeFold) makes a new bulk of the old one and the tail, in the
// background: meanwhile that tail is frozen, read but never changed, and
// a new tail takes the changes.
type series struct {
	key   seriesKey
	where func(map[string]any) bool // nil: all events
	// whereNode is where's tree, for the properties it reads.
	whereNode *segment.Node
	path      []string // the property's path

	off []uint32  // customer i's points are [off[i], off[i+1])
	ts  []int64   // Unix milliseconds
	val []float64 // modeNumbers: the number; modeDistinct: the value's id; nil in modeEvents

	tail   map[uint32]*points
	frozen map[uint32]*points // the tail being folded, nil when none is
	// gen changes with every new bulk and every fold started, so that a
	// fold finishing late does not replace a newer bulk.
	gen uint64

	// has holds the customers with points (or had some: a superset), so
	// that a test false over no events visits only them.
	has *roaring.Bitmap

	distinct   map[distinctKey]uint32
	distinctMu sync.Mutex
}

type points struct {
	ts  []int64
	val []float64
}

// distinctKey is a scalar property value for distinct: strings, numbers
// (numberKey) and booleans are distinct from one another by kind.
type distinctKey struct {
	k kind
	s string
	n uint64
}

func newSeries(k seriesKey, a *segment.Aggregate, n int) (*series, error) {
	s := &series{key: k, off: make([]uint32, n+1), tail: map[uint32]*points{}, has: roaring.New()}
	if a.Where != nil {
		w, err := compileWhere(a.Where)
		if err != nil {
			return nil, fmt.Errorf("%s(%q) where: %w", a.Func, a.Event, err)
		}
		s.where, s.whereNode = w, a.Where
	}
	if k.prop != "" {
		s.path = strings.Split(k.prop, ".")
	}
	if k.mode == modeDistinct {
		s.distinct = map[distinctKey]uint32{}
	}
	return s, nil
}

// needsProps says whether matching an event needs its properties decoded.
func (s *series) needsProps() bool { return s.where != nil || s.key.mode != modeEvents }

// accept says whether the series keeps an event, and its value.
func (s *series) accept(props map[string]any) (float64, bool) {
	if s.where != nil && !s.where(props) {
		return 0, false
	}
	switch s.key.mode {
	case modeNumbers:
		n, ok := lookup(props, s.path).(float64)
		return n, ok
	case modeDistinct:
		v := fromJSON(lookup(props, s.path))
		var dk distinctKey
		switch v.k {
		case kString:
			dk = distinctKey{k: kString, s: v.s}
		case kNumber:
			dk = distinctKey{k: kNumber, n: numberKey(v.n)}
		case kBool:
			dk = distinctKey{k: kBool}
			if v.b {
				dk.n = 1
			}
		default:
			return 0, false
		}
		s.distinctMu.Lock() // back-fill's workers share the dictionary
		id, ok := s.distinct[dk]
		if !ok {
			id = uint32(len(s.distinct))
			s.distinct[dk] = id
		}
		s.distinctMu.Unlock()
		return float64(id), true
	}
	return 0, true
}

func (s *series) grow(n int) {
	for len(s.off) < n+1 {
		s.off = append(s.off, s.off[len(s.off)-1])
	}
}

// points returns customer i's timestamps and values.
func (s *series) points(i uint32) ([]int64, []float64) {
	if len(s.tail) > 0 {
		if p, ok := s.tail[i]; ok {
			return p.ts, p.val
		}
	}
	if s.frozen != nil {
		if p, ok := s.frozen[i]; ok {
			return p.ts, p.val
		}
	}
	lo, hi := s.off[i], s.off[i+1]
	if s.val == nil {
		return s.ts[lo:hi], nil
	}
	return s.ts[lo:hi], s.val[lo:hi]
}

// insert adds one event to customer i's list, in timestamp order.
func (s *series) insert(i uint32, ts int64, v float64) {
	p, ok := s.tail[i]
	if !ok {
		bts, bval := s.points(i)
		p = &points{ts: slices.Clone(bts), val: slices.Clone(bval)}
		s.tail[i] = p
	}
	at := firstAfter(p.ts, ts)
	p.ts = slices.Insert(p.ts, at, ts)
	s.has.Add(i)
	if s.key.mode != modeEvents {
		p.val = slices.Insert(p.val, at, v)
	}
}

// clear empties customer i's list.
func (s *series) clear(i uint32) {
	if int(i) < len(s.off)-1 {
		s.tail[i] = &points{}
	}
}

// foldMin is the fewest customers a tail holds before a fold; a fold
// starts once the tail also holds a sixteenth of the customers.
const foldMin = 4096

// maybeFold starts folding s's tail into its bulk when the tail is big and
// no fold of s is under way. Called with the write lock held.
func (ix *Index) maybeFold(s *series) {
	if s.frozen != nil || len(s.tail) <= ix.foldMin || len(s.tail) <= (len(s.off)-1)/16 {
		return
	}
	s.frozen, s.tail = s.tail, map[uint32]*points{}
	s.gen++
	gen, off, ts, val, frozen := s.gen, s.off, s.ts, s.val, s.frozen
	withVal := s.key.mode != modeEvents
	ix.folds.Add(1)
	go func() {
		defer ix.folds.Done()
		// The bulk and the frozen tail are not changed while this runs:
		// new customers only append to off, beyond what it reads.
		nOff, nTS, nVal := fold(off, ts, val, frozen, withVal)
		ix.mu.Lock()
		defer ix.mu.Unlock()
		if s.gen != gen {
			return // a back-fill made a new bulk meanwhile
		}
		// Customers added meanwhile have no points in the bulk.
		for len(nOff) < len(s.off) {
			nOff = append(nOff, uint32(len(nTS)))
		}
		s.off, s.ts, s.val, s.frozen = nOff, nTS, nVal, nil
		ix.folded++
	}()
}

// fold returns a new bulk: the customers of off (with ts and val) with
// the lists of tail in place of theirs. The bulk between two customers of
// the tail is copied in one piece, into arrays sized once; only the
// offsets are rewritten one by one.
func fold(off []uint32, ts []int64, val []float64, tail map[uint32]*points, withVal bool) ([]uint32, []int64, []float64) {
	n := len(off) - 1
	keys := make([]uint32, 0, len(tail))
	total := len(ts)
	for i, p := range tail {
		keys = append(keys, i)
		total += len(p.ts) - int(off[i+1]-off[i])
	}
	slices.Sort(keys)
	nOff := make([]uint32, n+1)
	nTS := make([]int64, 0, total)
	var nVal []float64
	if withVal {
		nVal = make([]float64, 0, total)
	}
	// bulk copies customers [from, to) of the bulk; their offsets move by
	// where they land less where they were (modulo 2^32, which the
	// offsets' final values fit).
	bulk := func(from, to uint32) {
		lo, hi := off[from], off[to]
		shift := uint32(len(nTS)) - lo
		nTS = append(nTS, ts[lo:hi]...)
		if withVal {
			nVal = append(nVal, val[lo:hi]...)
		}
		for j := from; j < to; j++ {
			nOff[j+1] = off[j+1] + shift
		}
	}
	next := uint32(0) // the first customer not placed yet
	for _, k := range keys {
		bulk(next, k)
		p := tail[k]
		nTS = append(nTS, p.ts...)
		if withVal {
			nVal = append(nVal, p.val...)
		}
		nOff[k+1] = uint32(len(nTS))
		next = k + 1
	}
	bulk(next, uint32(n))
	return nOff, nTS, nVal
}

// entry is one event kept by a series during back-fill.
type entry struct {
	i  uint32
	ts int64
	v  float64
}

// backfill fills ss (new series, or all on Load) from the source.
//
// The events are read in id ranges, by as many goroutines as there are
// cores, each range in a read transaction of its own: the database's
// stepping through the rows is most of a back-fill, and one reader keeps
// one core busy. Each range's entries are kept apart and built in range
// order, so that every customer's points come in id order as from one
// scan.
func (ix *Index) backfill(ctx context.Context, ss []*series) error {
	if len(ss) == 0 {
		return nil
	}
	if ix.src == nil {
		return fmt.Errorf("engine: aggregates need the index loaded first")
	}
	byName := map[string][]*series{}
	for _, s := range ss {
		byName[s.key.event] = append(byName[s.key.event], s)
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	slices.Sort(names)
	idx := map[*series]int{}
	for j, s := range ss {
		idx[s] = j
	}
	keys := map[string][]string{}
	for name, ss := range byName {
		keys[name] = propKeys(ss)
	}
	ranges := idrange.Split(1, ix.upTo, ix.backfillMin)
	// entries[r][j] are range r's entries of series ss[j].
	entries := make([][][]entry, len(ranges))
	err := idrange.Each(ctx, len(ranges), func(ctx context.Context, r int) error {
		scratch := map[string]any{} // each event's properties, in turn
		es := make([][]entry, len(ss))
		err := ix.src.ScanEvents(ctx, ix.ws, names, ranges[r].After, ranges[r].UpTo, func(ev touchbase.EventRow) error {
			i, ok := ix.pos[ev.CustomerID]
			if !ok {
				return nil // a customer created since Load: ApplyCustomer and ApplyEvent bring them
			}
			var props map[string]any
			decoded := false
			for _, s := range byName[ev.Event] {
				if s.needsProps() && !decoded {
					props, decoded = decodeKeys(ev.Properties, keys[ev.Event], scratch), true
				}
				if v, ok := s.accept(props); ok {
					j := idx[s]
					es[j] = append(es[j], entry{i, ev.Timestamp, v})
				}
			}
			return nil
		})
		entries[r] = es
		return err
	})
	if err != nil {
		return fmt.Errorf("back-fill aggregates: %w", err)
	}
	parts := make([][]entry, len(ranges))
	for j, s := range ss {
		for r := range ranges {
			parts[r], entries[r][j] = entries[r][j], nil
		}
		s.build(parts, len(ix.ids))
	}
	return nil
}

// defaultBackfillMin is the fewest event ids a back-fill range spans:
// below it, one more read transaction costs more than the cores save.
const defaultBackfillMin = 1 << 16

// build makes the bulk from the entries of parts, in any order: each customer's are
// placed by counting (stable, so that events of equal timestamps keep
// their order), then sorted by timestamp where they are not already, which
// in id order (the source's) they almost always are.
func (s *series) build(parts [][]entry, n int) {
	total := 0
	for _, es := range parts {
		total += len(es)
	}
	s.off = make([]uint32, n+1)
	s.ts = make([]int64, total)
	s.val = nil
	if s.key.mode != modeEvents {
		s.val = make([]float64, total)
	}
	for _, es := range parts {
		for _, e := range es {
			s.off[e.i+1]++
		}
	}
	var with []uint32
	for i := 1; i <= n; i++ {
		if s.off[i] > 0 {
			with = append(with, uint32(i-1))
		}
		s.off[i] += s.off[i-1]
	}
	next := slices.Clone(s.off[:n])
	for _, es := range parts {
		for _, e := range es {
			p := next[e.i]
			next[e.i]++
			s.ts[p] = e.ts
			if s.val != nil {
				s.val[p] = e.v
			}
		}
	}
	for _, i := range with {
		lo, hi := s.off[i], s.off[i+1]
		if !slices.IsSorted(s.ts[lo:hi]) {
			s.sortPoints(lo, hi)
		}
	}
	s.has = roaring.New()
	s.has.AddMany(with)
	s.tail, s.frozen = map[uint32]*points{}, nil
	s.gen++
}

// sortPoints sorts the bulk's points [lo, hi) by timestamp, stably.
func (s *series) sortPoints(lo, hi uint32) {
	type point struct {
		ts int64
		v  float64
	}
	ps := make([]point, hi-lo)
	for k := range ps {
		ps[k].ts = s.ts[lo+uint32(k)]
		if s.val != nil {
			ps[k].v = s.val[lo+uint32(k)]
		}
	}
	slices.SortStableFunc(ps, func(a, b point) int { return cmpOrdered(a.ts, b.ts) })
	for k, p := range ps {
		s.ts[lo+uint32(k)] = p.ts
		if s.val != nil {
			s.val[lo+uint32(k)] = p.v
		}
	}
}

func decodeProps(raw json.RawMessage) map[string]any {
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil // not an object: no properties
		}
	}
	return m
}

// column computes an aggregate for the customers of u at as-of, over the
// window [from, asOf] (from is math.MinInt64 for all time), as a column
// ranked by u.
func (s *series) column(f segment.AggFunc, from, asOf int64, u *roaring.Bitmap) *column {
	m := int(u.GetCardinality())
	c := &column{kinds: make([]kind, m), vals: make([]uint64, m), ranked: true}
	ag := aggregator{s: s, f: f, from: from, asOf: asOf}
	k := aggKind(f)
	forEach(u, func(i uint32, p int) {
		x, ok := ag.value(i)
		switch {
		case !ok:
		case k == kTime:
			c.kinds[p], c.vals[p] = kTime, uint64(int64(x))
		default:
			c.kinds[p], c.vals[p] = kNumber, math.Float64bits(x)
		}
	})
	return c
}

// firstAfter returns the index of the first timestamp after t in the
// ascending ts (len(ts) when none is): sort.Search without its closure.
func firstAfter(ts []int64, t int64) int {
	lo, hi := 0, len(ts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts[m] <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// ApplyEvent adds an event to the aggregates the index keeps. An event of
// a customer the index does not know yet is kept for when ApplyCustomer
// brings their profile.
//
// An event with an id at most the last one applied or back-filled is
// skipped: the aggregates hold it already.
func (ix *Index) ApplyEvent(ev touchbase.EventRow) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ev.ID != 0 {
		if ev.ID <= ix.upTo {
			return
		}
		ix.upTo = ev.ID
	}
	ix.names.event(ev.Event)
	ss := ix.byEvent[ev.Event]
	if len(ss) == 0 {
		return
	}
	i, ok := ix.pos[ev.CustomerID]
	if !ok {
		i = ix.add(ev.CustomerID)
	}
	var props map[string]any
	decoded := false
	for _, s := range ss {
		if s.needsProps() && !decoded {
			if ix.props == nil {
				ix.props = map[string]any{}
			}
			props, decoded = decodeKeys(ev.Properties, ix.propKeys[ev.Event], ix.props), true
		}
		if v, ok := s.accept(props); ok {
			s.insert(i, ev.Timestamp, v)
			ix.maybeFold(s)
		}
	}
	ix.track.touchEvent(i, ev.Event)
}
