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
	test, err := e.withinNextTest(n, left, u)
	if err != nil {
		return nil, err
	}
	return rows(u, len(e.ix.ids), test), nil
}

// withinNextTest returns withinNext's test of customer i (of rank k in u).
// u only sizes its tables: nil for a test of one customer.
func (e *evaluation) withinNextTest(n *segment.Node, left operand, u *roaring.Bitmap) (func(i uint32, k int) bool, error) {
	d, err := n.Within.Std()
	if err != nil {
		return nil, err
	}
	if d%(24*time.Hour) != 0 {
		return nil, fmt.Errorf("within next %s: want whole days", n.Within)
	}
	days := int(d / (24 * time.Hour))
	if left.col == nil {
		return nil, fmt.Errorf("within next needs a field")
	}
	c := left.col
	tzc := e.ix.traitCols["timezone"] // ensureTraits builds it
	// Month and day by dictionary id, computed once per distinct string:
	// 0 not yet, 1 none, else month*32+day; nil when u is too small for
	// the table to pay.
	var md []uint16
	if u != nil && c.dict != nil && memoWorthIt(u, len(c.dict.strs)) {
		md = make([]uint16, len(c.dict.strs))
	}
	var zones []*time.Location // by the timezone column's dictionary id
	if u != nil && tzc != nil && tzc.dict != nil && memoWorthIt(u, len(tzc.dict.strs)) {
		zones = make([]*time.Location, len(tzc.dict.strs))
	}
	windows := map[*time.Location]*monthDays{}
	return func(i uint32, k int) bool {
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
		w, ok := windows[loc]
		if !ok {
			w = window(e.asOfTime.In(loc), days)
			windows[loc] = w
		}
		return w[m][day]
	}, nil
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
