package importer

import (
	"testing"
	"time"
)

// TestTimeParser reads every layout, one after another in one parser (as a
// file mixing formats would), so that remembering the last layout that
// worked never changes what a time reads as.
func TestTimeParser(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	at := func(y int, mo time.Month, d, h, mi, s int, loc *time.Location) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, loc)
	}
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2024-03-01T12:30:00Z", at(2024, 3, 1, 12, 30, 0, time.UTC)},
		{"2024-03-01T12:30:00", at(2024, 3, 1, 12, 30, 0, berlin)},
		{"2024-03-01 12:30:00", at(2024, 3, 1, 12, 30, 0, berlin)},
		{"2024-03-01 12:30:00+02:00", at(2024, 3, 1, 10, 30, 0, time.UTC)},
		{"2024-03-01 12:30", at(2024, 3, 1, 12, 30, 0, berlin)},
		{"2024-03-01", at(2024, 3, 1, 0, 0, 0, berlin)},
		{"20240301", at(2024, 3, 1, 0, 0, 0, berlin)},
		{"2024/03/01 12:30:00", at(2024, 3, 1, 12, 30, 0, berlin)},
		{"2024/03/01", at(2024, 3, 1, 0, 0, 0, berlin)},
		{"3/1/2024 12:30:00", at(2024, 3, 1, 12, 30, 0, berlin)},
		{"12/1/2010 8:26", at(2010, 12, 1, 8, 26, 0, berlin)},
		{"3/1/2024", at(2024, 3, 1, 0, 0, 0, berlin)},
		{"01.03.2024 12:30:00", at(2024, 3, 1, 12, 30, 0, berlin)},
		{"01.03.2024", at(2024, 3, 1, 0, 0, 0, berlin)},
		{"Fri, 01 Mar 2024 12:30:00 +0000", at(2024, 3, 1, 12, 30, 0, time.UTC)},
		{"1709296200", at(2024, 3, 1, 12, 30, 0, time.UTC)},
		{"1709296200000", at(2024, 3, 1, 12, 30, 0, time.UTC)},
	}
	p := &timeParser{loc: berlin}
	for round := range 3 {
		for i := range cases {
			c := cases[(i*7+round)%len(cases)] // a different order each round
			got, err := p.parse(c.in)
			if err != nil || !got.Equal(c.want) {
				t.Errorf("parse(%q) after layout %d = %v, %v; want %v", c.in, p.last, got, err, c.want)
			}
		}
	}
	for _, bad := range []string{"", "yesterday", "2024-13-01", "32.01.2024", "-5"} {
		if got, err := p.parse(bad); err == nil {
			t.Errorf("parse(%q) = %v, want an error", bad, got)
		}
	}
}
