package ui

import (
	"math"
	"testing"
)

// TestFormatLargeAndNonFinite: sums of bounded amounts can pass what int64
// cents hold, and a value stored before the bounds may not be finite:
// neither is ever written as a wrapped integer.
func TestFormatLargeAndNonFinite(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{formatMoney(1234.5, "USD"), "$1,234.50"},
		{formatMoney(-0.004, "USD"), "$0.00"},
		{formatMoney(9007199254740991*11, "USD"), "$99,079,191,802,150,900"},
		{formatMoney(-2e17, "EUR"), "-€200,000,000,000,000,000"},
		{formatMoney(math.Inf(1), "USD"), "n/a"},
		{formatMoney(math.NaN(), ""), "n/a"},
		{formatInt(1e19), "10,000,000,000,000,000,000"},
		{formatInt(math.Inf(-1)), "n/a"},
		{formatInt(12.6), "13"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
