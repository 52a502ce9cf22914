package engine

import (
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase/segment"
)

// monthDays is a set of (month, day) pairs.
type monthDays [13][32]bool

// withinNext is "x within next Nd": the month and day of x fall on the
// as-of date, taken in the customer's time zone, or one of the N-1 days
// after it. x is a string starting with a valid YYYY-MM-DD (any string
// column, traits in practice); a time feature or aggregate counts by its
// date in UTC.
func (e *evaluation) withinNext(n *segment.Node, left operand, u *roaring.Bitmap) (*roaring.Bitmap, error) {
	w, err := e.withinNextTest(n, left, u)
	if err != nil {
		return nil, err
	}
	return rows(u, len(e.ix.ids), w.test), nil
}

// withinTest is withinNext's test; see withinNextTest.
type withinTest struct {
	e    *evaluation
	days int
	c    *column
	tzc  *column
	// Month and day by dictionary id, computed once per distinct string:
	// 0 not yet, 1 none, else month*32+day; nil when u is too small for
	// the table to pay.
	md      []uint16
	zones   []*time.Location // by the timezone column's dictionary id
	windows map[*time.Location]*monthDays
}

// withinNextTest returns withinNext's test of customer i (of rank k in u).
// u only sizes its tables: nil for a test of one customer, which takes
// the windows the index keeps (see Index.window) and allocates nothing.
func (e *evaluation) withinNextTest(n *segment.Node, left operand, u *roaring.Bitmap) (withinTest, error) {
	d, err := n.Within.Std()
	if err != nil {
		return withinTest{}, err
	}
	if d%(24*time.Hour) != 0 {
		return withinTest{}, fmt.Errorf("within next %s: want whole days", n.Within)
	}
	if left.col == nil {
		return withinTest{}, fmt.Errorf("within next needs a field")
	}
	w := withinTest{e: e, days: int(d / (24 * time.Hour)), c: left.col, tzc: e.ix.traitCols["timezone"]} // ensureTraits builds it
	c, tzc := w.c, w.tzc
	if u != nil {
		if c.dict != nil && memoWorthIt(u, len(c.dict.strs)) {
			w.md = make([]uint16, len(c.dict.strs))
		}
		if tzc != nil && tzc.dict != nil && memoWorthIt(u, len(tzc.dict.strs)) {
			w.zones = make([]*time.Location, len(tzc.dict.strs))
		}
		w.windows = map[*time.Location]*monthDays{}
	}
	return w, nil
}

func (w *withinTest) test(i uint32, k int) bool {
	c, tzc, md, zones, e := w.c, w.tzc, w.md, w.zones, w.e
	var m, day int
	p := c.at(i, k)
	switch c.kinds[p] {
	case kString:
		id := c.vals[p]
		if md == nil {
			_, mm, dd, ok := parseDate(c.dict.strs[id])
			if !ok {
				return false
			}
			m, day = mm, dd
			break
		}
		if md[id] == 0 {
			md[id] = 1
			if _, mm, dd, ok := parseDate(c.dict.strs[id]); ok {
				md[id] = uint16(mm*32 + dd)
			}
		}
		if md[id] == 1 {
			return false
		}
		m, day = int(md[id]/32), int(md[id]%32)
	case kTime:
		t := time.UnixMilli(int64(c.vals[p])).UTC()
		m, day = int(t.Month()), t.Day()
	default:
		return false
	}
	loc := time.UTC
	if tzc != nil && tzc.kinds[i] == kString {
		id := tzc.vals[i]
		switch {
		case zones == nil:
			loc = e.ix.location(tzc.dict.strs[id])
		case zones[id] == nil:
			zones[id] = e.ix.location(tzc.dict.strs[id])
			loc = zones[id]
		default:
			loc = zones[id]
		}
	}
	if w.windows == nil {
		return e.ix.window(loc, e.asOfTime, w.days)[m][day]
	}
	win, ok := w.windows[loc]
	if !ok {
		win = window(e.asOfTime.In(loc), w.days)
		w.windows[loc] = win
	}
	return win[m][day]
}

// windowKey identifies a window the index keeps: a zone, an instant, a
// number of days.
type windowKey struct {
	loc  *time.Location
	asOf int64 // Unix nanoseconds
	days int
}

// window returns the month-days of as-of's date in loc and the days-1
// days after, kept for the next customers: an event's customer is tested
// alone, and building the window each time was most of its allocations.
// The windows of an instant no longer asked for are dropped.
func (ix *Index) window(loc *time.Location, asOf time.Time, days int) *monthDays {
	k := windowKey{loc, asOf.UnixNano(), days}
	ix.tzMu.Lock()
	defer ix.tzMu.Unlock()
	w, ok := ix.windows[k]
	if !ok {
		if ix.windows == nil || len(ix.windows) >= 1024 {
			ix.windows = map[windowKey]*monthDays{}
		}
		w = window(asOf.In(loc), days)
		ix.windows[k] = w
	}
	return w
}

// window returns the month-days of the date of t and the days-1 days
// after it. 29 February is in it when 28 February of a year that is not a
// leap year is.
func window(t time.Time, days int) *monthDays {
	var w monthDays
	y, m, d := t.Date()
	// Past two years every month-day is in, 29 February included.
	for k := range min(days, 800) {
		date := time.Date(y, m, d+k, 12, 0, 0, 0, time.UTC)
		w[date.Month()][date.Day()] = true
		if date.Month() == time.February && date.Day() == 28 && !leap(date.Year()) {
			w[2][29] = true
		}
	}
	return &w
}
