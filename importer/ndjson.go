package importer

import (
	"bufio"
	"bytes"
)

// ndjsonSource reads one Segment call per line; blank lines are
// allowed.
type ndjsonSource struct {
	r    lineReader
	line int
}

func newNDJSONSource(r *bufio.Reader, lim *limitReader) *ndjsonSource {
	return &ndjsonSource{r: lineReader{r: r, lim: lim}}
}

func (s *ndjsonSource) lines() int     { return s.line }
func (s *ndjsonSource) skipped() int64 { return 0 }

func (s *ndjsonSource) next() (record, error) {
	for {
		line, err := s.r.next()
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
		// Only a line longer than the field limit can hold a longer string.
		if len(line) > MaxFieldBytes {
			if n := longestString(line); n > MaxFieldBytes {
				le := fieldError(s.line, "", n)
				le.Message = "a string " + le.Message
				return record{}, le
			}
		}
		return record{line: s.line, body: line}, nil
	}
}
