package segment

import (
	"slices"
	"strings"
	"time"
)

// Trait and property times are strings in the forms ingestion writes.
// Neither database parses them the way the language does (SQLite's date
// functions take other forms and normalise 30 February; PostgreSQL's raise
// errors), so traitTime matches the form exactly and computes Unix ms with
// integer arithmetic that is the same in both.
//
// The rule, which the engine implements too: the string is exactly
// YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.fZ with 1 to 9
// fraction digits (ASCII digits, upper-case T and Z), month 1-12, day
// within the month (proleptic Gregorian, leap years included, year 0000
// allowed), hour 0-23, minute and second 0-59; the fraction is truncated
// to the millisecond. Anything else is not a time.

// sqliteDate is the GLOB pattern of YYYY-MM-DD.
const sqliteDate = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"

// pgTime captures the fields of a time string; the fraction is group 7.
const pgTime = `^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.]([0-9]{1,9}))?Z)?$`

// traitTime returns the Unix ms of the time string s (a SQL text that may
// be NULL), NULL when s is not a time. The fields are read once, in a
// subquery p (y, mo, d, h, mi, s, f), from s bound once as t.v.
func (c *compiler) traitTime(s string) string {
	var fields string
	if c.o.Dialect == Postgres {
		// regexp_match yields NULL when s does not match, so every cast
		// sees digits or NULL and none can raise an error.
		fields = "SELECT CAST(t.m[1] AS bigint) AS y, CAST(t.m[2] AS bigint) AS mo, CAST(t.m[3] AS bigint) AS d, " +
			"CAST(COALESCE(t.m[4], '0') AS bigint) AS h, CAST(COALESCE(t.m[5], '0') AS bigint) AS mi, " +
			"CAST(COALESCE(t.m[6], '0') AS bigint) AS s, CAST(substr(COALESCE(t.m[7], '') || '000', 1, 3) AS bigint) AS f " +
			"FROM (SELECT regexp_match(" + s + ", '" + pgTime + "') AS m) t"
	} else {
		// GLOB is case-sensitive and anchored; SQLite's CAST of a
		// substring past the end ('') is 0.
		shape := "(t.v GLOB '" + sqliteDate + "' OR t.v GLOB '" + sqliteDate + "T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z' OR " +
			"(length(t.v) BETWEEN 22 AND 30 AND t.v GLOB '" + sqliteDate + "T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].*Z' " +
			"AND substr(t.v, 21, length(t.v) - 21) NOT GLOB '*[^0-9]*'))"
		fields = "SELECT CAST(substr(t.v, 1, 4) AS INTEGER) AS y, CAST(substr(t.v, 6, 2) AS INTEGER) AS mo, " +
			"CAST(substr(t.v, 9, 2) AS INTEGER) AS d, CAST(substr(t.v, 12, 2) AS INTEGER) AS h, " +
			"CAST(substr(t.v, 15, 2) AS INTEGER) AS mi, CAST(substr(t.v, 18, 2) AS INTEGER) AS s, " +
			"CASE WHEN length(t.v) > 21 THEN CAST(substr(substr(t.v, 21, length(t.v) - 21) || '000', 1, 3) AS INTEGER) ELSE 0 END AS f " +
			"FROM (SELECT " + s + " AS v) t WHERE typeof(t.v) = 'text' AND " + shape
	}
	valid := "p.mo BETWEEN 1 AND 12 AND p.d BETWEEN 1 AND " + daysInMonth("p.y", "p.mo") +
		" AND p.h <= 23 AND p.mi <= 59 AND p.s <= 59"
	ms := "(" + daysFromCivil("p.y", "p.mo", "p.d") + ") * 86400000 + p.h * 3600000 + p.mi * 60000 + p.s * 1000 + p.f"
	return "(SELECT CASE WHEN " + valid + " THEN " + ms + " END FROM (" + fields + ") p)"
}

// isLeap is the Gregorian leap-year test on the integer SQL y.
func isLeap(y string) string {
	return "(" + y + " % 4 = 0 AND (" + y + " % 100 <> 0 OR " + y + " % 400 = 0))"
}

func daysInMonth(y, m string) string {
	return "CASE WHEN " + m + " = 2 THEN CASE WHEN " + isLeap(y) + " THEN 29 ELSE 28 END " +
		"WHEN " + m + " IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
}

// daysFromCivil is the number of days from 1970-01-01 to the date y-m-d
// (Howard Hinnant's days_from_civil). The year is moved on by one 400-year
// cycle (146097 days) so that every division is of non-negative numbers,
// where SQL's truncating division is floor division.
func daysFromCivil(y, m, d string) string {
	yy := "(" + y + " + 400 - CASE WHEN " + m + " <= 2 THEN 1 ELSE 0 END)"
	yoe := "(" + yy + " % 400)"
	return "(" + yy + " / 400) * 146097 + " + yoe + " * 365 + " + yoe + " / 4 - " + yoe + " / 100 + " +
		"(153 * ((" + m + " + 9) % 12) + 2) / 5 + " + d + " - 1 - 865565"
}

// withinNext compiles "x within next Nd": x's month and day fall on
// as-of's date in the customer's time zone or one of the N-1 days after.
// x's date is, for a string (a trait, a property or a string feature), its
// first ten characters when they are a valid YYYY-MM-DD date, whatever
// follows; for a time (a time feature, first, last), its UTC date. Other
// types never hold.
func (c *compiler) withinNext(x value, within Duration) (string, error) {
	d, err := within.Std()
	if err != nil || d%(24*time.Hour) != 0 {
		return "", invalid("within next %q: want whole days, such as 7d", within)
	}
	days := int(d / (24 * time.Hour))
	if x.typ == TypeTime {
		return nn(c.monthDayIn(c.utcMonthDay(x.sql), days)), nil
	}
	xs, ok := c.typed(x, TypeString)
	if !ok {
		return sqlFalse, nil
	}
	md := "substr(" + xs + ", 6, 5)"
	// The date must be real; only 29 February needs checking, as the
	// month-days monthDayIn lists are all real ones. The CASE keeps
	// PostgreSQL's cast of the year away from strings that are not dates.
	shape := xs + " GLOB '" + sqliteDate + "*'"
	year := "CAST(substr(" + xs + ", 1, 4) AS INTEGER)"
	if c.o.Dialect == Postgres {
		shape = xs + " ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'"
		year = "CAST(substr(" + xs + ", 1, 4) AS bigint)"
	}
	return nn("CASE WHEN " + shape + " THEN " + c.monthDayIn(md, days) +
		" AND (" + md + " <> '02-29' OR " + isLeap(year) + ") ELSE FALSE END"), nil
}

// utcMonthDay is the MM-DD of the UTC date of the Unix ms ms.
func (c *compiler) utcMonthDay(ms string) string {
	day := "((" + ms + ") - (((" + ms + ") % 86400000) + 86400000) % 86400000)" // floor to midnight
	if c.o.Dialect == Postgres {
		return "to_char(DATE '1970-01-01' + CAST(" + day + " / 86400000 AS integer), 'MM-DD')"
	}
	return "strftime('%m-%d', " + day + " / 1000, 'unixepoch')"
}

// monthDayIn tests that the MM-DD text md is among the days days from
// as-of's date in the customer's time zone. The dates are computed here
// with Go's zone data, one per distinct local date of the workspace's
// zones; the CASE picks the customer's by the timezone trait.
func (c *compiler) monthDayIn(md string, days int) string {
	utc := dateOf(c.o.AsOf, time.UTC)
	var dates []string // local dates other than UTC's, in order
	zones := map[string][]string{}
	for _, z := range c.o.TimeZones {
		date := dateOf(c.o.AsOf, zoneOf(z))
		if date == utc {
			continue
		}
		if _, ok := zones[date]; !ok {
			dates = append(dates, date)
		}
		zones[date] = append(zones[date], z)
	}
	slices.Sort(dates)
	fn := "instr"
	if c.o.Dialect == Postgres {
		fn = "strpos"
	}
	in := func(date string) string {
		return fn + "(" + c.text(monthDays(date, days)) + ", ',' || " + md + " || ',') > 0"
	}
	if len(dates) == 0 {
		return in(utc)
	}
	tz, _ := c.typed(value{typ: TypeAny, json: c.jsonPath("c.traits", []string{"timezone"})}, TypeString)
	var b strings.Builder
	b.WriteString("CASE")
	for _, date := range dates {
		ps := make([]string, len(zones[date]))
		for i, z := range zones[date] {
			ps[i] = c.text(z)
		}
		b.WriteString(" WHEN " + tz + " IN (" + strings.Join(ps, ", ") + ") THEN " + in(date))
	}
	b.WriteString(" ELSE " + in(utc) + " END")
	return b.String()
}

// zoneOf loads an IANA zone; a name Go does not know is UTC, and so is
// "Local", which would be the server's zone.
func zoneOf(name string) *time.Location {
	if name == "" || name == "Local" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

func dateOf(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.DateOnly)
}

// monthDays lists, as ",MM-DD,MM-DD,", the month-days of the days days
// from date (YYYY-MM-DD): a 28 February in a year that is not a leap year
// brings 02-29 along. 366 days hold every month-day.
func monthDays(date string, days int) string {
	start, _ := time.Parse(time.DateOnly, date) // dateOf wrote it
	days = min(days, 366)
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString(",")
	add := func(md string) {
		if !seen[md] {
			seen[md] = true
			b.WriteString(md + ",")
		}
	}
	for i := range days {
		t := start.AddDate(0, 0, i)
		add(t.Format("01-02"))
		if t.Month() == time.February && t.Day() == 28 && time.Date(t.Year(), time.February, 29, 0, 0, 0, 0, time.UTC).Day() != 29 {
			add("02-29")
		}
	}
	return b.String()
}
