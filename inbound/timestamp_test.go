package inbound

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	for _, tc := range []struct {
		name, in string
		want     string // RFC 3339 in UTC; "" when in must be refused
		dateOnly bool
	}{
		{"rfc3339 Z", "2024-03-01T12:34:56Z", "2024-03-01T12:34:56Z", false},
		{"millis Z (analytics.js)", "2024-03-01T12:34:56.789Z", "2024-03-01T12:34:56.789Z", false},
		{"nanos with offset (analytics-go)", "2024-03-01T12:34:56.123456789+01:00", "2024-03-01T11:34:56.123456789Z", false},
		{"micros negative offset", "2024-03-01T12:34:56.123456-05:30", "2024-03-01T18:04:56.123456Z", false},
		{"offset without colon (java)", "2024-03-01T12:34:56.000-0700", "2024-03-01T19:34:56Z", false},
		{"offset hours only", "2024-03-01T12:34:56+02", "2024-03-01T10:34:56Z", false},
		{"no zone means UTC (python naive)", "2024-03-01T12:34:56.5", "2024-03-01T12:34:56.5Z", false},
		{"no seconds", "2024-03-01T12:34Z", "2024-03-01T12:34:00Z", false},
		{"lower case t and z", "2024-03-01t12:34:56z", "2024-03-01T12:34:56Z", false},
		{"space separator", "2024-03-01 12:34:56+00:00", "2024-03-01T12:34:56Z", false},
		{"more than nine fraction digits", "2024-03-01T12:34:56.1234567891Z", "2024-03-01T12:34:56.123456789Z", false},
		{"offset crosses the date", "2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z", false},
		{"date alone", "2024-02-29", "2024-02-29T00:00:00Z", true},
		{"29 February in a common year", "2023-02-29", "", false},
		{"30 February", "2024-02-30T00:00:00Z", "", false},
		{"month 13", "2024-13-01T00:00:00Z", "", false},
		{"hour 24", "2024-03-01T24:00:00Z", "", false},
		{"second 60", "2024-03-01T23:59:60Z", "", false},
		{"offset minutes 60", "2024-03-01T12:00:00+01:60", "", false},
		{"empty fraction", "2024-03-01T12:00:00.Z", "", false},
		{"trailing garbage", "2024-03-01T12:00:00Zjunk", "", false},
		{"unix seconds as string", "1709296496", "", false},
		{"words", "yesterday", "", false},
		{"slashes", "2024/03/01", "", false},
		{"empty", "", "", false},
		{"short date", "2024-3-1", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dateOnly, err := parseTime([]byte(tc.in))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("parseTime(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTime(%q): %v", tc.in, err)
			}
			if !got.Equal(utc(tc.want)) || got.Location() != time.UTC || dateOnly != tc.dateOnly {
				t.Fatalf("parseTime(%q) = %v (date only %v), want %s (%v)", tc.in, got, dateOnly, tc.want, tc.dateOnly)
			}
		})
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-03-01T12:34:56.789Z", "2024-03-01T12:34:56+01:00", "2024-02-29", "2024-03-01 12:34"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _, err := parseTime([]byte(s))
		if err != nil {
			return
		}
		// Whatever parseTime accepts in RFC 3339 form, time.Parse agrees on.
		if want, err := time.Parse(time.RFC3339Nano, s); err == nil && !want.Equal(got) {
			t.Fatalf("parseTime(%q) = %v, time.Parse = %v", s, got, want)
		}
	})
}

func TestEventTime(t *testing.T) {
	recv := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return recv.Add(d) }
	var zero time.Time
	for _, tc := range []struct {
		name               string
		base, sentAt, want time.Time
	}{
		{"no sentAt: base as sent", at(-72 * time.Hour), zero, at(-72 * time.Hour)},
		{"no sentAt, future base kept (imports)", at(time.Hour), zero, at(time.Hour)},
		{"nothing: receivedAt", zero, zero, recv},
		{"sentAt without base: receivedAt", zero, at(-time.Hour), recv},
		{"client clock one hour behind", at(-time.Hour - 5*time.Second), at(-time.Hour), at(-5 * time.Second)},
		{"client clock one day ahead", at(24*time.Hour - 90*time.Second), at(24 * time.Hour), at(-90 * time.Second)},
		{"offline queue: event a week before sending", at(-7 * 24 * time.Hour), at(0), at(-7 * 24 * time.Hour)},
		{"event after sentAt is clamped to receivedAt", at(10 * time.Second), at(0), recv},
		{"base equals sentAt", at(-3 * time.Hour), at(-3 * time.Hour), recv},
		{"extreme gap saturates, never zero", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), recv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := eventTime(tc.base, tc.sentAt, recv)
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Fatalf("eventTime = %v, want %v", got, tc.want)
			}
		})
	}
	// A gap beyond time.Duration's range saturates; the result must still
	// be a real instant before receivedAt.
	got := eventTime(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), recv)
	if got.IsZero() || got.After(recv) {
		t.Fatalf("saturated eventTime = %v", got)
	}
}
