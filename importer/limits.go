package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

// The limits of what an import reads. Whatever a file holds, they bound
// the memory an import takes (a reader holds one line whole, and copies a
// field into an inbound and, when it is bad, into the error report) and the
// work it can make (the decompressed size: a 2 MB gzip can inflate to
// 2 GB), while staying far above what any store's export holds.
const (
	// MaxLineBytes bounds one line of every format, its line end
	// included: a CSV record with the line ends inside its quotes, an
	// NDJSON record, a CDNOW purchase. A line is no longer than the
	// record it becomes (inbound.MaxRecordBytes: an order of a few thousand
	// lines), and past it a CSV reader cannot tell a record from a quote
	// left open, so a longer line stops the import.
	MaxLineBytes = inbound.MaxRecordBytes
	// MaxFieldBytes bounds one imported field as written in the file: a
	// CSV cell of a column that is imported (ignored columns are bound by
	// the line only), a CDNOW field, a string in an NDJSON record. Twice
	// what /v1 allows a whole event (32 KB); a longer field is a bad row,
	// reported and skipped: a segment's engine keeps trait values in
	// memory, and no name, address, note or description is that long.
	MaxFieldBytes = 64 << 10
	// DefaultMaxBytes bounds what one import's file may hold once
	// decompressed (ImportOptions.MaxBytes, import_max_bytes): 64 GiB,
	// some hundred million events of NDJSON, hours of importing (about 4 MB/s
	// into SQLite, BenchmarkImportOrders).
	DefaultMaxBytes = 64 << 30
)

// Errors of limitReader, made into a user's error by limitError.
var (
	errLineTooLong = errors.New("line too long")
	errFileTooBig  = errors.New("file too big")
)

// limitReader is the one place the line and size limits are enforced: it
// sits between the decompressed file and the buffered reader a source
// reads, and hands out no more than MaxLineBytes past the start of the
// line being read, nor more than max in all. A source tells it where each
// line ends (lineAt); what it has read ahead within the bound is fine.
// Reading past a bound is an error, so neither encoding/csv (which holds
// a record whole, however many lines its quotes span) nor a line reader
// ever buffers more than MaxLineBytes, whatever the file holds.
type limitReader struct {
	r         io.Reader
	read      int64 // bytes handed out so far
	lineStart int64 // offset of the line being read
	max       int64 // bytes in all
}

func newLimitReader(r io.Reader, max int64) *limitReader {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	return &limitReader{r: r, max: max}
}

// lineAt says that the line being read starts at offset (the bytes the
// source has consumed so far).
func (l *limitReader) lineAt(offset int64) { l.lineStart = offset }

func (l *limitReader) Read(p []byte) (int, error) {
	room := l.lineStart + MaxLineBytes - l.read
	if l.max-l.read < room {
		room = l.max - l.read
	}
	if room <= 0 {
		// At a bound: EOF if the file ends here, else the bound's error.
		var one [1]byte
		n, err := io.ReadFull(l.r, one[:])
		if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return 0, io.EOF
		}
		if n == 0 {
			return 0, err
		}
		if l.read >= l.max {
			return 0, errFileTooBig
		}
		return 0, errLineTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

// limitError turns a bound limitReader hit into what the user reads: the
// limit, its value and the line the import stops at (the lines before it
// were imported). It returns nil for other errors.
func limitError(err error, line int, max int64) error {
	switch {
	case errors.Is(err, errLineTooLong):
		return touchbase.Errorf(touchbase.EINVALID, "line %d is longer than %s, the limit of a line: the import stops there (the lines before it are imported)", line, size(MaxLineBytes))
	case errors.Is(err, errFileTooBig):
		return touchbase.Errorf(touchbase.EINVALID, "the file holds more than %s once decompressed, the limit of one import (import_max_bytes): the import stops at line %d (the lines before it are imported); split the file, or raise the limit", size(max), line)
	}
	return nil
}

// fieldError is the line error of a field over MaxFieldBytes.
func fieldError(line int, column string, n int) *touchbase.LineError {
	return &touchbase.LineError{Line: line, Column: column,
		Message: fmt.Sprintf("is %d bytes long, more than %s, the limit of a field", n, size(MaxFieldBytes))}
}

// size writes a byte count the way the limits are documented: "4 MiB"
// when it is a whole number of KiB, MiB, GiB or TiB, else in bytes.
func size(n int64) string {
	for _, u := range []struct {
		name  string
		bytes int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.bytes && n%u.bytes == 0 {
			return strconv.FormatInt(n/u.bytes, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// lineReader reads the line-based formats (NDJSON, CDNOW) one line at a
// time through a limitReader.
type lineReader struct {
	r      *bufio.Reader
	lim    *limitReader
	offset int64 // bytes consumed
}

// next returns the next line without its end, in a buffer of its own;
// io.EOF at the end of the file, and the limitReader's error (which
// limitError explains) for a line over the bound.
func (l *lineReader) next() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		l.offset += int64(len(buf))
		l.lim.lineAt(l.offset)
		switch {
		case err == io.EOF && len(buf) == 0:
			return nil, io.EOF
		case err != nil && err != io.EOF:
			return nil, fmt.Errorf("read: %w", err)
		}
		return bytes.TrimRight(buf, "\r\n"), nil
	}
}

// longestString is the length of the longest string (key or value) in a
// JSON text, as written (escapes count as written); a string left open
// counts to the end.
func longestString(b []byte) int {
	longest := 0
	for {
		i := bytes.IndexByte(b, '"')
		if i < 0 {
			return longest
		}
		b = b[i+1:]
		n := 0 // the string is b[:n] once its closing quote is found
		for {
			j := bytes.IndexByte(b[n:], '"')
			if j < 0 {
				return max(longest, len(b))
			}
			n += j
			k := n // an odd number of backslashes before it escapes the quote
			for k > 0 && b[k-1] == '\\' {
				k--
			}
			if (n-k)%2 == 0 {
				break
			}
			n++
		}
		longest = max(longest, n)
		b = b[n+1:]
	}
}

// isLimit reports whether err is a bound of limitReader.
func isLimit(err error) bool {
	return errors.Is(err, errLineTooLong) || errors.Is(err, errFileTooBig)
}

// maxMessageBytes bounds the column and message of a line error as kept:
// messages quote the file's values (a field of up to MaxFieldBytes), and
// an import keeps a thousand line errors.
const maxMessageBytes = 512

// clip shortens s to about maxMessageBytes, keeping its start and end
// (where messages say what is wrong: `"yyy..." is not a number`).
func clip(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	const keep = maxMessageBytes/2 - 8
	head, tail := keep, len(s)-keep
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + " [...] " + s[tail:]
}
