package inbound

import (
	"errors"
	"time"
)

// Timestamps. Segment's timestamps are ISO-8601 strings; the SDKs send a
// few shapes of them, all accepted by parseTime:
//
//	2024-03-01T12:34:56Z                 RFC 3339
//	2024-03-01T12:34:56.789123456+01:00  any number of fraction digits
//	2024-03-01T12:34:56.000-0700         offset without a colon (Java, .NET)
//	2024-03-01T12:34:56+01               offset hours only
//	2024-03-01T12:34:56.123456           no zone (Python's naive isoformat): UTC
//	2024-03-01T12:34                     no seconds
//	2024-03-01                           a date alone: midnight UTC
//
// 't', 'z' and a space in place of 'T' are accepted too (RFC 3339 allows
// them). The result is in UTC.

var errTime = errors.New("not an ISO-8601 date-time")

// parseTime parses one of the shapes above. dateOnly reports that s was a
// bare date.
func parseTime(s []byte) (t time.Time, dateOnly bool, err error) {
	// YYYY-MM-DD
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false, errTime
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return time.Time{}, false, errTime
	}
	if len(s) == 10 {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true, nil
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false, errTime
	}
	// hh:mm[:ss[.fff]]
	r := s[11:]
	if len(r) < 5 || r[2] != ':' {
		return time.Time{}, false, errTime
	}
	hour, ok1 := digits(r[0:2])
	minute, ok2 := digits(r[3:5])
	if !ok1 || !ok2 || hour > 23 || minute > 59 {
		return time.Time{}, false, errTime
	}
	r = r[5:]
	sec, nsec := 0, 0
	if len(r) > 0 && r[0] == ':' {
		if len(r) < 3 {
			return time.Time{}, false, errTime
		}
		var ok bool
		if sec, ok = digits(r[1:3]); !ok || sec > 59 {
			return time.Time{}, false, errTime
		}
		r = r[3:]
		if len(r) > 0 && (r[0] == '.' || r[0] == ',') {
			i := 1
			scale := 100000000
			for i < len(r) && r[i] >= '0' && r[i] <= '9' {
				nsec += int(r[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == 1 {
				return time.Time{}, false, errTime
			}
			r = r[i:]
		}
	}
	// zone
	offset := 0
	switch {
	case len(r) == 0:
		// no zone: UTC
	case len(r) == 1 && (r[0] == 'Z' || r[0] == 'z'):
	case r[0] == '+' || r[0] == '-':
		z := r[1:]
		var h, m int
		var ok bool
		switch {
		case len(z) == 2:
			h, ok = digits(z)
		case len(z) == 4:
			h, ok = digits(z[:2])
			if ok {
				m, ok = digits(z[2:])
			}
		case len(z) == 5 && z[2] == ':':
			h, ok = digits(z[:2])
			if ok {
				m, ok = digits(z[3:])
			}
		}
		if !ok || h > 23 || m > 59 {
			return time.Time{}, false, errTime
		}
		offset = h*3600 + m*60
		if r[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false, errTime
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), false, nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Event times must fall from the Unix epoch to MaxEventAhead after the
// event arrives, after the clock-skew correction (eventTime). No
// e-commerce event happened before 1970 (the histories imports bring go
// back to CDNOW's 1997), and one from the future is a clock that is wrong:
// a naive local time read as UTC is at most 14 hours ahead (UTC+14), so a
// day lets every time zone through, while the year 9999 of a broken clock
// would otherwise sit in every "last seen" and "within 30d" for good.
// Date traits (a birthday in 1950) are not event times: no bound.
const MaxEventAhead = 24 * time.Hour

// eventTimeRange says the bound, for errors.
const eventTimeRange = "event times must be from 1970-01-01T00:00:00Z to a day after the event arrives"

// eventTimeInRange reports whether t is a time an event may have.
func eventTimeInRange(t, receivedAt time.Time) bool {
	return t.Unix() >= 0 && !t.After(receivedAt.Add(MaxEventAhead))
}

// latestEventTime is the latest time an event arriving at receivedAt may
// have, for errors.
func latestEventTime(receivedAt time.Time) string {
	return receivedAt.Add(MaxEventAhead).UTC().Format(time.RFC3339)
}

// eventTime applies Segment's clock-skew correction. base is the event's
// timestamp (or originalTimestamp) and sentAt the client's clock when it
// sent the request, both by the client's clock; receivedAt is ours.
//
//   - With sentAt, the event happened (sentAt - base) before it was sent,
//     and it was sent at receivedAt by our clock: receivedAt - (sentAt -
//     base). Without base, it happened when it was sent: receivedAt.
//   - Without sentAt, base is trusted as is (imports of history), and
//     receivedAt stands in when there is none.
//
// A corrected time after receivedAt (the client claims the event happened
// after it sent it) is clamped to receivedAt: no event arrives before it
// happens.
func eventTime(base, sentAt, receivedAt time.Time) time.Time {
	var t time.Time
	switch {
	case !sentAt.IsZero() && !base.IsZero():
		// d < 0 means the event came after sending: clamp. (Negating a
		// saturated negative Duration would overflow, too.)
		if d := sentAt.Sub(base); d > 0 {
			t = receivedAt.Add(-d)
		} else {
			t = receivedAt
		}
	case !base.IsZero():
		t = base
	default:
		t = receivedAt
	}
	if t.IsZero() {
		// Extreme inputs saturate Sub; never hand out the zero time.
		t = receivedAt
	}
	return t.UTC()
}
