package segment_test

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/storetest"
)

// refTime is the language's rule for a string that is a time, written
// plainly in Go: the reference both the SQL and the engine must match.
func refTime(s string) (int64, bool) {
	m := regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z)?$`).FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	y, mo, d, h, mi, sec := n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6])
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	ms := n((m[7] + "000")[:3])
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC).UnixMilli() + int64(ms), true
}

// refDate is the rule for within next: the first ten characters are a
// valid YYYY-MM-DD date, whatever follows.
func refDate(s string) bool {
	if len(s) < 10 {
		return false
	}
	if !regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`).MatchString(s) {
		return false
	}
	_, ok := refTime(s[:10])
	return ok
}

func daysIn(y, m int) int { return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() }

var timeStrings = []string{
	"2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-02-29", "0000-01-01", "1582-10-10",
	"9999-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00.0005Z",
	"2024-06-01T10:00:00.5Z", "2024-06-01T10:00:00.05Z", "2024-06-01T10:00:00.123456Z",
	"2024-06-01T10:00:00.Z", "2024-06-01T10:00:00.1234567890Z", "2024-06-01t10:00:00Z", "2024-06-01T10:00:00z",
	"2024-06-01T10:00Z", "2024-06-01T10:00:00+00:00", "2024-06-01T10:00:00", " 2024-06-01", "2024-06-01 ",
	"2024-6-01", "2024-04-31", "2024-04-30", "2024-00-10", "2024-06-00", "2024-12-31T23:60:00Z",
	"2024-12-31T23:59:60Z", "2024-06-01T24:00:00Z", "２０２４-06-01", "2024-06-01\n", "", "2024-06-01T10:00:00.1x3Z",
	"2024-06-01Tab:00:00Z", "1990-02-27 birthday", "2023-02-29 x", "2024-02-29T99", "-2024-06-01",
}

// TestCompileSQLTraitTimes checks the SQL's reading of time strings, and
// of dates for within next, against refTime and refDate.
func TestCompileSQLTraitTimes(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			f := &fixture{s: s, users: map[int64]string{}}
			if s.Dialect() == "postgres" {
				f.dialect = segment.Postgres
			}
			f.ws = storetest.Workspace(t, s, "times").ID
			for i, str := range timeStrings {
				user := strconv.Itoa(i)
				id := storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: f.ws, UserID: user,
					Traits: map[string]any{"t": str}})
				f.users[id] = user
			}
			field := &segment.Operand{Field: "t"}
			var times, dates []string
			for i, str := range timeStrings {
				if _, ok := refTime(str); ok {
					times = append(times, strconv.Itoa(i))
				}
				if refDate(str) {
					dates = append(dates, strconv.Itoa(i))
				}
			}
			// Every time is after the earliest instant; nothing else is.
			early := segment.Value{Type: segment.TypeTime, Time: math.MinInt64 / 2}
			got := f.membersOf(t, &segment.Node{Op: segment.OpGt, Left: field, Right: &segment.Operand{Value: &early}})
			if !slices.Equal(got, times) {
				t.Errorf("times: got %v, want %v", got, times)
			}
			// Each time is the instant refTime says.
			for i, str := range timeStrings {
				ms, ok := refTime(str)
				if !ok {
					continue
				}
				v := segment.Value{Type: segment.TypeTime, Time: ms}
				got := f.membersOf(t, &segment.Node{Op: segment.OpEq, Left: field, Right: &segment.Operand{Value: &v}})
				if !slices.Contains(got, strconv.Itoa(i)) {
					t.Errorf("%q = %d: got %v", str, ms, got)
				}
			}
			// A year from any day holds every month-day.
			got = f.membersOf(t, &segment.Node{Op: segment.OpWithinNext, Left: field, Within: "366d"})
			if !slices.Equal(got, dates) {
				t.Errorf("dates: got %v, want %v", got, dates)
			}
		})
	}
}
