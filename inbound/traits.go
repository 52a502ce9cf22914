package inbound

import (
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

// Traits. Inbound.Traits holds the decoded traits with the JSON types as
// sent (numbers are float64, objects map[string]any, ...), with these
// normalisations of top-level traits only:
//
//   - email and phone: surrounding white space is trimmed (the identifiers
//     Inbound.Email and Inbound.Phone are normalised further, by
//     touchbase.NormalizeEmail and NormalizePhone);
//   - date traits, whose values are strings that parse as ISO-8601 (see
//     parseTime):
//   - birthdays (birthday, birthdate, birth_date, date_of_birth, dob,
//     anniversary, in any case, with or without _ or -) are dates: they
//     become "YYYY-MM-DD", taking the date as written, not converted to
//     UTC (a birthday is a day, not an instant);
//   - instants (createdAt, created_at, signup_date, last_login_at, ...: a
//     name ending in "At", "_at" or "date", in any case) become RFC 3339 in
//     UTC ("2024-03-01T11:34:56Z", with the fraction when there is one);
//     a bare date stays "YYYY-MM-DD".
//
// Strings that do not parse as a date are left as sent; so are traits of
// other types. Reserved-trait spellings (firstName, first_name, ...) are
// kept as sent: no renaming.

type dateKind uint8

const (
	notDate     dateKind = iota
	dayDate              // a calendar day, such as a birthday
	instantDate          // a point in time, such as createdAt
)

// traitDateKind says how a trait named key is normalised.
func traitDateKind(key string) dateKind {
	var b [32]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '_' || c == '-' {
			continue
		}
		if n == len(b) {
			break
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	switch string(b[:n]) {
	case "birthday", "birthdate", "dateofbirth", "dob", "anniversary":
		return dayDate
	}
	if strings.HasSuffix(key, "At") || strings.HasSuffix(strings.ToLower(key), "_at") ||
		strings.HasSuffix(string(b[:n]), "date") {
		return instantDate
	}
	return notDate
}

// normalizeTraits applies the rules above to t in place.
func normalizeTraits(t map[string]any) {
	for k, v := range t {
		s, ok := v.(string)
		if !ok {
			continue
		}
		switch k {
		case "email", "phone":
			if trimmed := strings.TrimSpace(s); trimmed != s {
				t[k] = trimmed
			}
			continue
		}
		kind := traitDateKind(k)
		if kind == notDate {
			continue
		}
		if norm, ok := normalizeDate(s, kind); ok {
			t[k] = norm
		}
	}
}

// normalizeDate formats s, a date or date-time, by kind.
func normalizeDate(s string, kind dateKind) (string, bool) {
	s = strings.TrimSpace(s)
	tm, dateOnly, err := parseTime([]byte(s))
	if err != nil {
		return "", false
	}
	if kind == dayDate || dateOnly {
		// The date as written: the first ten bytes of an ISO-8601 string.
		return s[:10], true
	}
	return tm.UTC().Format(time.RFC3339Nano), true
}

// identifiers sets in.Email and in.Phone from the traits, when they hold
// usable values and in has none yet.
func identifiers(in *touchbase.Inbound, traits map[string]any) {
	if in.Email == "" {
		if s, ok := traits["email"].(string); ok && len(s) <= maxEmailBytes {
			in.Email = touchbase.NormalizeEmail(s)
		}
	}
	if in.Phone == "" {
		if s, ok := traits["phone"].(string); ok && len(s) <= maxPhoneBytes {
			in.Phone = touchbase.NormalizePhone(s)
		}
	}
}

// Limits on identifiers: longer values are not identifiers of a person and
// would not fit an index (PostgreSQL's B-tree entries stop near 2.7 KB).
const (
	maxEmailBytes = 254 // RFC 5321's limit on a path
	maxPhoneBytes = 64
)
