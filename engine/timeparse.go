package engine

import "time"

// parseDate reads a valid calendar date YYYY-MM-DD at the start of s.
// time.Parse is not used: it accepts signs in the year and is slow for a
// test run on every distinct string of a column.
func parseDate(s string) (y, m, d int, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// parseTime reads a string as a time when it is in one of the forms
// ingestion writes dates in: YYYY-MM-DD (midnight UTC),
// YYYY-MM-DDTHH:MM:SSZ, or YYYY-MM-DDTHH:MM:SS.fZ with 1 to 9 fraction
// digits, truncated to the millisecond. It returns Unix milliseconds.
func parseTime(s string) (int64, bool) {
	y, m, d, ok := parseDate(s)
	if !ok {
		return 0, false
	}
	if len(s) == 10 {
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).UnixMilli(), true
	}
	if len(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	hh, ok1 := digits(s[11:13])
	mm, ok2 := digits(s[14:16])
	ss, ok3 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	ms := 0
	if frac := s[19 : len(s)-1]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, false
		}
		f := frac[1:]
		if _, ok := digits(f); !ok {
			return 0, false
		}
		for i := 0; i < 3; i++ {
			ms *= 10
			if i < len(f) {
				ms += int(f[i] - '0')
			}
		}
	}
	return time.Date(y, time.Month(m), d, hh, mm, ss, ms*1e6, time.UTC).UnixMilli(), true
}

// digits parses a run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if leap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
