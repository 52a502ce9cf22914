package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/touchbase/touchbase"
)

// TestErrorReportFormulas: the --error-report CSV quotes the file's own
// values in its messages, so a spreadsheet must read them as text.
func TestErrorReportFormulas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "errors.csv")
	err := writeErrorReport(path, []touchbase.LineError{
		{Line: 2, Column: "=HYPERLINK(\"https://evil.example\")", Message: "=cmd|'/C calc'!A0 is not a number"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "line,column,message\n2,\"'=HYPERLINK(\"\"https://evil.example\"\")\",'=cmd|'/C calc'!A0 is not a number\n"
	if string(b) != want {
		t.Errorf("report %q, want %q", b, want)
	}
}
