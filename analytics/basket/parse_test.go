package basket_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/touchbase/touchbase/analytics/basket"
)

// baskets renders parsed baskets as item names, in id order.
func baskets(tx *basket.Transactions) [][]string {
	out := make([][]string, tx.Len())
	for i := range out {
		out[i] = tx.Items().Names(tx.At(i))
	}
	return out
}

func TestParseBaskets(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want [][]string
	}{
		{"groceries lines", "citrus fruit,semi-finished bread\nwhole milk\n",
			[][]string{{"citrus fruit", "semi-finished bread"}, {"whole milk"}}},
		{"no final newline", "a,b\nc", [][]string{{"a", "b"}, {"c"}}},
		// groceries.csv has "cream cheese " with a trailing space.
		{"spaces trimmed", "  cream cheese , yogurt\t\n", [][]string{{"cream cheese", "yogurt"}}},
		{"CRLF", "a,b\r\nc\r\n", [][]string{{"a", "b"}, {"c"}}},
		{"empty items skipped", "a,,b, ,\n", [][]string{{"a", "b"}}},
		{"repeated item once", "a,b,a\n", [][]string{{"a", "b"}}},
		{"blank line is an empty basket", "a\n\nb\n", [][]string{{"a"}, {}, {"b"}}},
		{"only commas is an empty basket", "a\n , ,\n", [][]string{{"a"}, {}}},
		{"empty input", "", [][]string{}},
		{"quoted comma", `"Bread, whole grain",milk` + "\n", [][]string{{"Bread, whole grain", "milk"}}},
		{"doubled quote", `"12"" pizza" , "x"` + "\n", [][]string{{`12" pizza`, "x"}}},
		{"quote inside an item is a character", `Children's book,a"b` + "\n", [][]string{{"Children's book", `a"b`}}},
		{"byte order mark", "\ufeffa,b\n", [][]string{{"a", "b"}}},
		{"UTF-8 names", "crème fraîche,Äpfel\n", [][]string{{"crème fraîche", "Äpfel"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := basket.ParseBaskets(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			got := baskets(tx)
			if !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseBasketsErrors(t *testing.T) {
	readErr := errors.New("disk on fire")
	for _, c := range []struct {
		name string
		in   string
		msg  string
	}{
		{"unterminated quote", "a\nb\n\"c,d\n", "line 3: quoted item not terminated"},
		{"text after closing quote", "\"a\"b,c\n", "line 1: text after the closing quote"},
		{"invalid UTF-8", "a\nb\xff\n", "line 2: invalid UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := basket.ParseBaskets(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want one containing %q", err, c.msg)
			}
		})
	}
	t.Run("reader error", func(t *testing.T) {
		_, err := basket.ParseBaskets(iotest.ErrReader(readErr))
		if !errors.Is(err, readErr) || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("error %v, want %v wrapped, naming line 1", err, readErr)
		}
	})
}
