package basket

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxLine bounds one basket's line; a longer line is more likely a file in
// the wrong format than a basket.
const maxLine = 64 << 20

// ParseBaskets reads one basket per line with items separated by commas,
// the format of the arules "Groceries" file (groceries.csv): no header.
//
// It reads the same baskets as arules' read.transactions(file, format =
// "basket", sep = ","), so that support and lift agree with R on the same
// file:
//
//   - spaces, tabs, CR and LF around an item are trimmed, and items that
//     are empty after trimming are skipped ("a,,b" is {a, b});
//   - an item repeated in a line counts once;
//   - a blank line is an empty basket: it holds no item but counts in the
//     number of baskets, which is the denominator of every support (arules
//     does the same; remove blank lines first when they are not orders);
//   - an item may be quoted with double quotes to hold a comma
//     ("Bread, whole grain"), a quote inside being doubled (""), as in CSV.
//     arules also treats single quotes as quotes; here they are ordinary
//     characters, because product names contain apostrophes.
//
// A UTF-8 byte order mark at the start is ignored. Errors name the line:
// invalid UTF-8, an unterminated quote, text after a closing quote, a line
// longer than 64 MiB, or the reader's own error.
func ParseBaskets(r io.Reader) (*Transactions, error) {
	b := NewBuilder(nil)
	if err := b.readBaskets(r); err != nil {
		return nil, err
	}
	return b.Transactions(), nil
}

// readBaskets adds the baskets of r, one a line.
func (b *Builder) readBaskets(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var quoted []byte // buffer for quoted items, reused across lines
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\ufeff"))
		}
		if !utf8.Valid(text) {
			return fmt.Errorf("basket: line %d: invalid UTF-8", line)
		}
		var err error
		quoted, err = b.addLine(text, quoted)
		if err != nil {
			return fmt.Errorf("basket: line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("basket: line %d: longer than %d MiB: %w", line+1, maxLine>>20, err)
		}
		return fmt.Errorf("basket: read line %d: %w", line+1, err)
	}
	return nil
}

var (
	errUnterminated = errors.New("quoted item not terminated")
	errAfterQuote   = errors.New("text after the closing quote of an item")
)

// addLine adds the basket of one line; quoted is scratch space, returned
// for reuse. On error nothing is added.
func (b *Builder) addLine(line, quoted []byte) ([]byte, error) {
	start := len(b.ids)
	for i := 0; ; {
		j := i
		for j < len(line) && isTrimmed(line[j]) {
			j++
		}
		if j < len(line) && line[j] == '"' {
			var k int
			var err error
			quoted, k, err = unquote(line, j, quoted[:0])
			if err != nil {
				b.ids = b.ids[:start]
				return quoted, err
			}
			b.addItem(quoted)
			if k == len(line) {
				break
			}
			i = k + 1 // past the comma
			continue
		}
		end := bytes.IndexByte(line[i:], ',')
		if end < 0 {
			b.addItem(line[i:])
			break
		}
		b.addItem(line[i : i+end])
		i += end + 1
	}
	b.close()
	return quoted, nil
}

// unquote reads the quoted item whose opening quote is at line[open] into
// buf; k is where the item ends: len(line) or the index of its comma.
func unquote(line []byte, open int, buf []byte) (_ []byte, k int, _ error) {
	k = open + 1
	for {
		q := bytes.IndexByte(line[k:], '"')
		if q < 0 {
			return buf, 0, errUnterminated
		}
		buf = append(buf, line[k:k+q]...)
		k += q + 1
		if k < len(line) && line[k] == '"' { // "" is a literal quote
			buf = append(buf, '"')
			k++
			continue
		}
		break
	}
	for k < len(line) && isTrimmed(line[k]) {
		k++
	}
	if k < len(line) && line[k] != ',' {
		return buf, 0, errAfterQuote
	}
	return buf, k, nil
}

// addItem interns one item of the basket being added, trimmed as R's
// trimws() does; empty items are skipped.
func (b *Builder) addItem(item []byte) {
	for len(item) > 0 && isTrimmed(item[0]) {
		item = item[1:]
	}
	for len(item) > 0 && isTrimmed(item[len(item)-1]) {
		item = item[:len(item)-1]
	}
	if len(item) > 0 {
		b.ids = append(b.ids, b.items.internBytes(item))
	}
}

// isTrimmed reports the characters R's trimws() removes: [ \t\r\n].
func isTrimmed(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
