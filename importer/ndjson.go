package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/ingest"
)

// ndjsonSource reads one Segment message per line; blank lines are
// allowed.
type ndjsonSource struct {
	r    *bufio.Reader
	line int
}

func newNDJSONSource(r *bufio.Reader) *ndjsonSource { return &ndjsonSource{r: r} }

func (s *ndjsonSource) lines() int     { return s.line }
func (s *ndjsonSource) skipped() int64 { return 0 }

func (s *ndjsonSource) next() (record, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			return record{}, err
		}
		s.line++
		if s.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return record{line: s.line, body: line}, nil
	}
}

// readLine returns the next line without its end, in a buffer of its own;
// a line over ingest.MaxRecordBytes is a line error (and is skipped).
func (s *ndjsonSource) readLine() ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		if !tooLong && len(buf)+len(chunk) > ingest.MaxRecordBytes {
			tooLong, buf = true, nil // read on to the end of the line
		}
		if !tooLong {
			buf = append(buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil && err != io.EOF:
			return nil, fmt.Errorf("read: %w", err)
		case err == io.EOF && len(buf) == 0 && !tooLong:
			return nil, io.EOF
		case tooLong:
			s.line++
			return nil, &touchbase.LineError{Line: s.line, Message: fmt.Sprintf("line is longer than %d bytes", ingest.MaxRecordBytes)}
		}
		return bytes.TrimRight(buf, "\r\n"), nil
	}
}
