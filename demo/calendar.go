package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// The calendar says how busy the shop is on each day of the history: a
// seasonal curve (a summer dip, Valentine's week, Black Friday to Cyber
// Monday, the weeks before Christmas), a weekly cycle (Sundays and Mondays
// busy, Saturdays quiet) and, for acquisition only, growth: a shop that
// gains more new customers each month than the month before. Days are
// calendar dates in each customer's own time zone, and hours follow a
// daily curve in that zone, so the cycles look right wherever people are.

// weekdayFactor is the relative traffic of each day of the week, from
// Sunday.
var weekdayFactor = [7]float64{1.12, 1.10, 1.04, 1.0, 0.97, 0.9, 0.82}

// hourWeight is the relative traffic of each local hour: quiet nights, a
// lunch bump, the evening peak on the sofa.
var hourWeight = [24]float64{0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.5, 0.9, 1.2, 1.4, 1.5, 1.6,
	1.9, 1.8, 1.5, 1.5, 1.6, 1.8, 2.0, 2.4, 2.7, 2.6, 1.9, 1.1}

// monthFactor is the seasonal level of each month, from January.
var monthFactor = [12]float64{0.85, 0.9, 0.95, 0.95, 1.0, 0.92, 0.84, 0.85, 0.95, 1.0, 1.25, 1.2}

// acquisitionGrowth is how many times more people the shop acquires on the
// last day of the history than on the first.
const acquisitionGrowth = 2.2

type calendar struct {
	start  time.Time // the first day, midnight UTC
	end    time.Time // the end of the history (exclusive)
	days   int
	factor []float64 // traffic of each date (season x weekday)
	max    float64   // the largest factor
	cumAcq []float64 // cumulative acquisition intensity by date
	cumHr  []float64 // cumulative hourWeight
}

func newCalendar(end time.Time, days int) *calendar {
	c := &calendar{end: end, days: days}
	c.start = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days)
	if !end.Equal(time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)) {
		c.start = c.start.AddDate(0, 0, 1) // a partial last day counts
	}
	c.factor = make([]float64, days)
	c.cumAcq = make([]float64, days)
	sum := 0.0
	for d := range days {
		date := c.start.AddDate(0, 0, d)
		f := season(date) * weekdayFactor[date.Weekday()]
		c.factor[d] = f
		c.max = max(c.max, f)
		// Promotions acquire people more than they bring back old ones.
		acq := math.Pow(f, 1.5) * math.Pow(acquisitionGrowth, float64(d)/float64(days))
		sum += acq
		c.cumAcq[d] = sum
	}
	c.cumHr = make([]float64, 24)
	s := 0.0
	for h, w := range hourWeight {
		s += w
		c.cumHr[h] = s
	}
	return c
}

// season is the seasonal level of a date (its weekday aside).
func season(date time.Time) float64 {
	y, m, d := date.Date()
	fromBF := int(date.Sub(time.Date(y, time.November, blackFriday(y), 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	switch {
	case fromBF == 0:
		return 3.0 // Black Friday
	case fromBF == 3:
		return 2.6 // Cyber Monday
	case fromBF >= -4 && fromBF <= 3:
		return 2.2 // the week of deals around them
	case m == time.December && d <= 18:
		return 1.7 // Christmas shopping, until the last posting days
	case m == time.December && d <= 24:
		return 1.15
	case m == time.December && d == 25:
		return 0.6
	case m == time.February && d >= 7 && d <= 13:
		return 1.15 // Valentine's
	}
	return monthFactor[m-1]
}

// blackFriday returns the day of November that is Black Friday in year y:
// the day after the fourth Thursday.
func blackFriday(y int) int {
	first := time.Date(y, time.November, 1, 0, 0, 0, 0, time.UTC).Weekday()
	thursday := 1 + (int(time.Thursday)-int(first)+7)%7
	return thursday + 21 + 1
}

// acquisitionDay draws the date on which a new person first visits.
func (c *calendar) acquisitionDay(rng *rand.Rand) int { return pick(rng, c.cumAcq) }

// at returns a random instant on day d in loc, its hour drawn from the
// daily curve.
func (c *calendar) at(rng *rand.Rand, d int, loc *time.Location) time.Time {
	date := c.start.AddDate(0, 0, d)
	h := pick(rng, c.cumHr)
	sec := rng.IntN(3600)
	ms := rng.IntN(1000)
	return time.Date(date.Year(), date.Month(), date.Day(), h, sec/60, sec%60, ms*1e6, loc)
}

// day returns the index of t's local date in loc (negative before the
// history, >= days after it).
func (c *calendar) day(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(c.start) / (24 * time.Hour))
}

// busy returns the traffic factor of day d relative to the busiest day.
func (c *calendar) busy(d int) float64 {
	if d < 0 || d >= c.days {
		return 0
	}
	return c.factor[d] / c.max
}
