package clv

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Transaction is one purchase by one customer. Refunds should be netted into
// the purchase they refund rather than passed as negative transactions,
// because every transaction counts as a purchase occasion. Guest orders
// (no customer) should be left out: they are not one customer.
type Transaction struct {
	Customer int64
	At       time.Time
	Amount   float64
}

// Options say how to turn transactions into summaries.
type Options struct {
	// CalibrationEnd is the last day of the calibration period: any instant
	// of that day will do, and purchases on that day count. T is measured
	// from the first purchase day to this day, as lifetimes and the papers
	// measure it, so a customer who first bought on this day has T = 0.
	CalibrationEnd time.Time
	// HoldoutEnd, when not zero, is the last day of a holdout period that
	// starts the day after CalibrationEnd; purchases in it fill the
	// Holdout fields of Summary so that a fit can be checked against what
	// happened next (BGNBD.CompareHoldout).
	HoldoutEnd time.Time
	// Unit is the unit of time of every duration in and out of the models,
	// usually 24h or 7*24h. It must be positive.
	Unit time.Duration
	// Location decides where a calendar day starts; nil means UTC. Use the
	// store's time zone so that a late-evening order and a next-morning
	// order are two purchase days, as the customer lived them.
	Location *time.Location
}

// Summary is one customer's purchase history reduced to what the models
// use. All durations are in Options.Unit; see the package documentation for
// the definitions.
type Summary struct {
	Customer int64
	// Frequency is x: the number of repeat purchase days in the
	// calibration period.
	Frequency int
	// Recency is t_x: the time from the first to the last purchase day.
	Recency float64
	// T is the time from the first purchase day to the calibration end.
	T float64
	// Monetary is the mean value of the repeat purchase days (same-day
	// amounts summed); 0 when Frequency is 0.
	Monetary float64
	// HoldoutFrequency is the number of purchase days in the holdout
	// period (all of them are repeat purchases).
	HoldoutFrequency int
	// HoldoutMonetary is the mean value of the holdout purchase days; 0
	// when there are none.
	HoldoutMonetary float64
}

// clock holds Options resolved to day numbers.
type clock struct {
	loc      *time.Location
	utc      bool
	endDay   int64 // last calibration day
	lastDay  int64 // last day that matters: holdout end, else endDay
	dayUnits float64
	origin   time.Time // start of endDay
	unit     time.Duration
}

func (o Options) clock() (clock, error) {
	if o.CalibrationEnd.IsZero() {
		return clock{}, errors.New("clv: options: the calibration end is not set")
	}
	if o.Unit <= 0 {
		return clock{}, fmt.Errorf("clv: options: unit %v is not positive", o.Unit)
	}
	c := clock{loc: o.Location, unit: o.Unit}
	if c.loc == nil {
		c.loc = time.UTC
	}
	c.utc = c.loc == time.UTC
	c.endDay = c.day(o.CalibrationEnd)
	c.lastDay = c.endDay
	if !o.HoldoutEnd.IsZero() {
		c.lastDay = c.day(o.HoldoutEnd)
		if c.lastDay <= c.endDay {
			return clock{}, fmt.Errorf("clv: options: holdout end %s is not after calibration end %s",
				o.HoldoutEnd.Format(time.DateOnly), o.CalibrationEnd.Format(time.DateOnly))
		}
	}
	c.dayUnits = float64(24*time.Hour) / float64(o.Unit)
	y, m, d := o.CalibrationEnd.In(c.loc).Date()
	c.origin = time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	return c, nil
}

// day is the number of the calendar day of t in c.loc, counted from 1970.
func (c *clock) day(t time.Time) int64 {
	s := t.Unix()
	if !c.utc {
		_, off := t.In(c.loc).Zone()
		s += int64(off)
	}
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// HoldoutLength is the length of the holdout period in units, 0 when there
// is none: the t to pass to BGNBD.CompareHoldout.
func (o Options) HoldoutLength() (float64, error) {
	c, err := o.clock()
	if err != nil {
		return 0, err
	}
	return float64(c.lastDay-c.endDay) * c.dayUnits, nil
}

// TimeAt is the instant t units after the start of the calibration end
// day, the origin of every prediction (T is measured to that day): it turns
// Prediction.NextOrder into a date.
func (o Options) TimeAt(t float64) (time.Time, error) {
	c, err := o.clock()
	if err != nil {
		return time.Time{}, err
	}
	return c.origin.Add(time.Duration(math.Round(t * float64(c.unit)))), nil
}

// dayRow is a transaction reduced to what summarising needs.
type dayRow struct {
	cust int64
	day  int64
	amt  float64
}

// rows abstracts over the caller's slice (when it is already in order) and
// a sorted copy, so that ordered input is summarised without a copy.
type rows interface {
	len() int
	at(i int) dayRow
	cust(i int) int64
}

type txRows struct {
	tx []Transaction
	c  *clock
}

func (r txRows) len() int         { return len(r.tx) }
func (r txRows) cust(i int) int64 { return r.tx[i].Customer }
func (r txRows) at(i int) dayRow {
	t := &r.tx[i]
	return dayRow{cust: t.Customer, day: r.c.day(t.At), amt: t.Amount}
}

type sortedRows []dayRow

func (r sortedRows) len() int         { return len(r) }
func (r sortedRows) cust(i int) int64 { return r[i].cust }
func (r sortedRows) at(i int) dayRow  { return r[i] }

// Summarize reduces transactions to one Summary per customer, ordered by
// customer. Customers whose first purchase is after the calibration end are
// left out: they were not customers yet. It does not modify tx; when tx is
// already ordered by customer and time (as a query ordered by customer and
// date returns it) it makes no copy, otherwise it sorts a compact copy, so
// it is O(n log n) either way.
func Summarize(tx []Transaction, o Options) ([]Summary, error) {
	c, err := o.clock()
	if err != nil {
		return nil, err
	}
	ordered := true
	for i := range tx {
		if a := tx[i].Amount; math.IsNaN(a) || math.IsInf(a, 0) {
			return nil, fmt.Errorf("clv: transaction %d (customer %d): amount %v is not a number", i, tx[i].Customer, a)
		}
		if ordered && i > 0 {
			p, t := &tx[i-1], &tx[i]
			ordered = p.Customer < t.Customer || p.Customer == t.Customer && c.day(p.At) <= c.day(t.At)
		}
	}
	if ordered {
		return summarize(txRows{tx: tx, c: &c}, &c), nil
	}
	rs := make([]dayRow, 0, len(tx))
	for i := range tx {
		r := dayRow{cust: tx[i].Customer, day: c.day(tx[i].At), amt: tx[i].Amount}
		if r.day <= c.lastDay {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b dayRow) int {
		if a.cust != b.cust {
			return cmp.Compare(a.cust, b.cust)
		}
		return cmp.Compare(a.day, b.day)
	})
	return summarize(sortedRows(rs), &c), nil
}

// summarize walks rows ordered by customer and day, one customer at a time.
func summarize[R rows](r R, c *clock) []Summary {
	n := r.len()
	// Count the customers first: growing a slice of a million summaries
	// by appending costs more in copying than the summarising itself.
	customers := 0
	for i := range n {
		if i == 0 || r.cust(i) != r.cust(i-1) {
			customers++
		}
	}
	out := make([]Summary, 0, customers)
	for i := 0; i < n; {
		first := r.at(i)
		j := i + 1
		for j < n && r.cust(j) == first.cust {
			j++
		}
		if first.day <= c.endDay {
			out = append(out, summarizeCustomer(r, i, j, c))
		}
		i = j
	}
	return out
}

// summarizeCustomer summarises rows [i, j), all of one customer, the first
// of which is on or before the calibration end.
func summarizeCustomer[R rows](r R, i, j int, c *clock) Summary {
	first := r.at(i)
	s := Summary{Customer: first.cust}
	var (
		calDays, holdDays int
		lastCal           = first.day
		repeat, hold      float64
	)
	add := func(day int64, amt float64) {
		switch {
		case day <= c.endDay:
			calDays++
			lastCal = day
			if calDays > 1 {
				repeat += amt
			}
		case day <= c.lastDay:
			holdDays++
			hold += amt
		}
	}
	day, amt := first.day, first.amt
	for k := i + 1; k < j; k++ {
		t := r.at(k)
		if t.day == day {
			amt += t.amt
			continue
		}
		add(day, amt)
		day, amt = t.day, t.amt
	}
	add(day, amt)

	s.Frequency = calDays - 1
	s.Recency = float64(lastCal-first.day) * c.dayUnits
	s.T = float64(c.endDay-first.day) * c.dayUnits
	if s.Frequency > 0 {
		s.Monetary = repeat / float64(s.Frequency)
	}
	s.HoldoutFrequency = holdDays
	if holdDays > 0 {
		s.HoldoutMonetary = hold / float64(holdDays)
	}
	return s
}
