// Package wal is ingestion's write-ahead log and the writer that makes
// ingestion durable by group commit. Writer acknowledges a request once it
// is flushed to the Log (or, without a Log, committed to the store), and
// applies the Log to the store behind in large commits, deriving each
// request's inbounds again from its logged body with inbound.Parse.
// Writer.Forget takes an erased customer's requests out of the log.
package wal

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/touchbase/touchbase"
)

// Log is the ingestion log: accepted requests, appended to a series of
// files and flushed to disk before they are acknowledged, and read back in
// order by whoever applies them to the store. Acknowledging from the log lets a
// 200 cost one sequential write and one fsync per group of requests, while
// the store's index updates run behind in large batches.
//
// A record is one request: a 16-byte header (payload length, CRC-32C of
// sequence number and payload, sequence number, all little-endian) and the
// payload (workspace, arrival time, endpoint, body). The endpoint's 16-bit
// length has its top bit set when the request came with a public write key
// (Entry.Public); records written before that flag existed have it
// clear, and are applied with the full rights they were accepted with.
// Files are named by their first record's sequence number (SEQ.log) and
// rolled at the size Open was given (fileBytes); a file goes once every
// record in it is applied. The applied position is kept in the file
// "applied" beside them.
//
// A crash can leave a torn record at the end of the last file: one whose
// write was never acknowledged. Open cuts it off.
type Log struct {
	dir       string
	fileBytes int64
	lock      *os.File // held for the Log's life: one process appends

	mu        sync.Mutex
	files     []logFile // oldest first; the last is the one appended to
	active    *os.File
	size      int64         // of the active file
	next      uint64        // the sequence number the next record gets
	applied   uint64        // every record up to this one is applied
	w         *bufio.Writer // Append's, over the active file
	appended  chan struct{} // closed and replaced when records are appended
	roll      bool          // start a new file at the next Append (SkipCorrupt, Rotate)
	appending bool          // an Append writes to active without the lock

	reader logReader
}

// logFile is one of the files the log rotates through (DIR/SEQ.log, SEQ
// its first record's sequence number).
type logFile struct {
	first uint64 // sequence number of its first record
	path  string
	size  int64
}

// Entry is one logged request.
type Entry struct {
	Seq         uint64
	WorkspaceID int64
	Endpoint    string
	ReceivedAt  time.Time
	Body        []byte
	// Public says the request came with a public write key.
	Public bool
}

// DefaultFileBytes is the size at which a file is rolled.
const DefaultFileBytes = 64 << 20

const (
	headerBytes = 16
	// maxRecordBytes bounds a record's payload when reading, so that a
	// corrupt length cannot ask for gigabytes.
	maxRecordBytes = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// recordSum is a record's checksum: CRC-32C of its sequence number (the
// header's last 8 bytes) and then its payload, given in as many parts as
// it is at hand.
func recordSum(h []byte, payload ...[]byte) uint32 {
	sum := crc32.Checksum(h[8:16], crcTable)
	for _, p := range payload {
		sum = crc32.Update(sum, crcTable, p)
	}
	return sum
}

// Open opens (creating if need be) the log in dir. fileBytes <= 0
// means DefaultFileBytes.
func Open(dir string, fileBytes int64) (*Log, error) {
	if fileBytes <= 0 {
		fileBytes = DefaultFileBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ingestion log: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, fileBytes: fileBytes, lock: lock, appended: make(chan struct{})}
	if err := l.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	l.reader.l = l
	return l, nil
}

// recover lists the files, drops those wholly applied, and cuts a torn
// record off the end of the last one.
func (l *Log) recover() error {
	if b, err := os.ReadFile(filepath.Join(l.dir, "applied")); err == nil {
		v, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			return fmt.Errorf("ingestion log: %s: %q is not a sequence number", filepath.Join(l.dir, "applied"), b)
		}
		l.applied = v
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ingestion log: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(l.dir, "*.log"))
	if err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	for _, p := range names {
		first, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(p), ".log"), 10, 64)
		if err != nil {
			continue // not ours
		}
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("ingestion log: %w", err)
		}
		l.files = append(l.files, logFile{first: first, path: p, size: fi.Size()})
	}
	slices.SortFunc(l.files, func(a, b logFile) int { return cmp.Compare(a.first, b.first) })

	l.next = l.applied + 1
	if n := len(l.files); n > 0 {
		last := &l.files[n-1]
		next, good, err := scanFile(last.path, last.first)
		if err != nil {
			return err
		}
		if good < last.size {
			// A write cut short by a crash: it was never acknowledged.
			if err := os.Truncate(last.path, good); err != nil {
				return fmt.Errorf("ingestion log: cut torn record off %s: %w", last.path, err)
			}
			last.size = good
		}
		l.next = max(l.next, next)
	}
	// Files wholly applied go; the reader starts at the first record
	// not applied.
	l.dropApplied()
	return nil
}

// scanFile reads a file's records, checking each, and returns the
// sequence number after its last whole record and the offset where that
// record ends. Where a record is not whole, the file ends there (a
// torn write), unless whole records with later numbers follow: that is
// damage in the middle, which reading reports (see SkipCorrupt), and
// those records were acknowledged, so they stay.
func scanFile(path string, first uint64) (next uint64, good int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("ingestion log: %w", err)
	}
	next = first
	var off int64
	for {
		if n := recordAt(b, off, next); n > 0 {
			off += n
			next++
			good = off
			continue
		}
		s, at := findRecord(b, off+1, next, math.MaxUint64)
		if at < 0 {
			return next, good, nil
		}
		off, next = at, s
	}
}

// recordAt returns the size of the whole record numbered want at off in
// b (0 when there is none).
func recordAt(b []byte, off int64, want uint64) int64 {
	if off < 0 || off+headerBytes > int64(len(b)) {
		return 0
	}
	h := b[off : off+headerBytes]
	if binary.LittleEndian.Uint64(h[8:16]) != want {
		return 0
	}
	n := int64(binary.LittleEndian.Uint32(h[0:4]))
	if n > maxRecordBytes || off+headerBytes+n > int64(len(b)) {
		return 0
	}
	payload := b[off+headerBytes : off+headerBytes+n]
	if recordSum(h, payload) != binary.LittleEndian.Uint32(h[4:8]) {
		return 0
	}
	return headerBytes + n
}

// findRecord returns the first whole record in b at or after offset from
// numbered between lo and hi: its number and offset (at < 0: none).
func findRecord(b []byte, from int64, lo, hi uint64) (seq uint64, at int64) {
	for p := max(from, 0); p+headerBytes <= int64(len(b)); p++ {
		s := binary.LittleEndian.Uint64(b[p+8 : p+16])
		if s >= lo && s <= hi && recordAt(b, p, s) > 0 {
			return s, p
		}
	}
	return 0, -1
}

// readRecord reads one record into buf's storage; n is its size on disk.
func readRecord(r *bufio.Reader, buf []byte) (seq uint64, payload []byte, n int, err error) {
	var h [headerBytes]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, 0, err
	}
	size := binary.LittleEndian.Uint32(h[0:4])
	sum := binary.LittleEndian.Uint32(h[4:8])
	seq = binary.LittleEndian.Uint64(h[8:16])
	if size > maxRecordBytes {
		return 0, nil, 0, fmt.Errorf("record %d claims %d bytes", seq, size)
	}
	payload = slices.Grow(buf[:0], int(size))[:size]
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, 0, err
	}
	if recordSum(h[:], payload) != sum {
		return 0, nil, 0, fmt.Errorf("record %d: checksum mismatch", seq)
	}
	return seq, payload, headerBytes + int(size), nil
}

// writeRecord writes one record to w: the header, then the payload
// (workspace, arrival time, endpoint, body), through w's fixed buffer: a
// flush of many requests needs no buffer of its size (whose allocation
// and first touch of fresh pages cost more than the write). It returns
// the record's size.
func writeRecord(w *bufio.Writer, seq uint64, e *Entry) (int, error) {
	var stack [64]byte
	pre := binary.LittleEndian.AppendUint64(stack[:0], uint64(e.WorkspaceID))
	pre = binary.LittleEndian.AppendUint64(pre, uint64(e.ReceivedAt.UnixNano()))
	n := uint16(len(e.Endpoint)) // endpoint names are a few bytes
	if e.Public {
		n |= publicFlag
	}
	pre = binary.LittleEndian.AppendUint16(pre, n)
	pre = append(pre, e.Endpoint...)
	var h [headerBytes]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(pre)+len(e.Body)))
	binary.LittleEndian.PutUint64(h[8:16], seq)
	binary.LittleEndian.PutUint32(h[4:8], recordSum(h[:], pre, e.Body))
	w.Write(h[:])
	w.Write(pre)
	_, err := w.Write(e.Body) // a bufio.Writer keeps its first error
	return headerBytes + len(pre) + len(e.Body), err
}

// publicFlag marks, in a record's endpoint length, a request that came
// with a public write key.
const publicFlag = 1 << 15

func decodeEntry(seq uint64, payload []byte) (Entry, error) {
	if len(payload) < 18 {
		return Entry{}, fmt.Errorf("record %d: %d bytes is too short", seq, len(payload))
	}
	e := Entry{
		Seq:         seq,
		WorkspaceID: int64(binary.LittleEndian.Uint64(payload[0:8])),
		ReceivedAt:  time.Unix(0, int64(binary.LittleEndian.Uint64(payload[8:16]))).UTC(),
	}
	flagged := binary.LittleEndian.Uint16(payload[16:18])
	e.Public = flagged&publicFlag != 0
	n := int(flagged &^ publicFlag)
	if len(payload) < 18+n {
		return Entry{}, fmt.Errorf("record %d: endpoint overruns the record", seq)
	}
	e.Endpoint = string(payload[18 : 18+n])
	e.Body = payload[18+n:]
	return e, nil
}

// Append writes entries as consecutive records, flushes them to disk, and
// returns the sequence number of the last. Once it returns, the entries
// survive a crash. When the file system has no room, it returns ENOROOM
// and none of the entries is kept. One goroutine appends; the write and the fsync run
// without the lock, so that readers of the log's state never wait for the
// disk.
func (l *Log) Append(entries []Entry) (uint64, error) {
	l.mu.Lock()
	if l.roll && l.active != nil {
		l.active.Close() // SkipCorrupt wants a new file
		l.active = nil
	}
	if l.active == nil {
		if err := l.openActive(); err != nil {
			l.mu.Unlock()
			return 0, noRoom(err)
		}
	}
	f, first := l.active, l.next
	l.appending = true
	l.mu.Unlock()

	if l.w == nil {
		l.w = bufio.NewWriterSize(f, 1<<20)
	}
	l.w.Reset(f)
	seq := first
	var written int64
	var err error
	for i := 0; i < len(entries) && err == nil; i++ {
		var n int
		n, err = writeRecord(l.w, seq, &entries[i])
		written += int64(n)
		seq++
	}
	if err == nil {
		err = l.w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	l.appending = false
	if err != nil {
		// Whatever part of the group reached the file was never
		// acknowledged: cut it off, and reopen at the last good size
		// next time.
		l.abandonActive()
		return 0, noRoom(fmt.Errorf("ingestion log: write: %w", err))
	}
	l.size += written
	l.files[len(l.files)-1].size = l.size
	l.next = seq
	close(l.appended)
	l.appended = make(chan struct{})
	if l.size >= l.fileBytes || l.roll {
		l.active.Close()
		l.active = nil // the next Append starts a file
	}
	return seq - 1, nil
}

// openActive opens the file to append to: the last one if it has room,
// else a new one named by the next sequence number.
func (l *Log) openActive() error {
	if n := len(l.files); n > 0 && l.files[n-1].size < l.fileBytes && !l.roll {
		last := l.files[n-1]
		f, err := os.OpenFile(last.path, os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("ingestion log: %w", err)
		}
		if _, err := f.Seek(last.size, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("ingestion log: %w", err)
		}
		l.active, l.size = f, last.size
		return nil
	}
	l.roll = false
	p := filepath.Join(l.dir, fmt.Sprintf("%020d.log", l.next))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	l.files = append(l.files, logFile{first: l.next, path: p})
	l.active, l.size = f, 0
	return nil
}

// abandonActive closes the active file after a failed write and cuts
// it back to its last acknowledged record.
func (l *Log) abandonActive() {
	l.active.Close()
	l.active = nil
	last := l.files[len(l.files)-1]
	os.Truncate(last.path, last.size)
}

// Rotate ends the active file: the next Append starts a new one, and
// the file goes, like those before it, as soon as every record in it is
// applied (at once when they all are). Erasure calls it, so that applied
// records do not stay behind in a file that is still appended to (and
// kept until it reaches the log's file size). Call it from the goroutine that
// reads the log, or while nobody does: it closes the reader's file, so
// that a removed file's space is freed at once.
func (l *Log) Rotate() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll = true
	if l.active != nil && !l.appending {
		// An Append under way closes it itself (roll).
		l.active.Close()
		l.active = nil
	}
	l.reader.closeFile()
	l.dropApplied()
}

// Holds reports whether a file of the log still holds record seq (or
// an earlier one).
func (l *Log) Holds(seq uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.files) > 0 && l.files[0].first <= seq
}

// Appended returns the sequence number of the last record appended (0
// when there has been none), and a channel closed at the next Append.
func (l *Log) Appended() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next - 1, l.appended
}

// Applied returns the sequence number up to which every record is
// applied.
func (l *Log) Applied() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.applied
}

// Backlog returns the bytes of records appended and not yet applied
// (counting whole files: an upper bound within one file).
func (l *Log) Backlog() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, f := range l.files {
		n += f.size
	}
	return n
}

// SetApplied records that every record up to seq is applied, and removes
// the files that holds wholly. The position is written without fsync:
// after a crash, an older position only means applying some records
// again, which the store's messageId deduplication makes harmless.
func (l *Log) SetApplied(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq <= l.applied {
		return nil
	}
	l.applied = seq
	tmp := filepath.Join(l.dir, "applied.tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, "applied")); err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	l.dropApplied()
	return nil
}

// dropApplied removes files every record of which is applied, except
// the one being appended to. l.mu is held (or l is not shared yet).
func (l *Log) dropApplied() {
	for len(l.files) > 1 && l.files[1].first <= l.applied+1 {
		os.Remove(l.files[0].path)
		l.files = l.files[1:]
	}
	if len(l.files) == 1 && l.active == nil && l.files[0].first <= l.applied && l.next == l.applied+1 {
		// Wholly applied and not being appended to: the next Append
		// starts a fresh file.
		os.Remove(l.files[0].path)
		l.files = l.files[:0]
	}
}

// Read returns the records after the last one Read returned (at first,
// after the applied position), up to the last appended, stopping once
// their bodies add up to maxBytes (at least one record is returned when
// there is one). The entries' bodies stay valid until the next Read.
func (l *Log) Read(maxBytes int) ([]Entry, error) {
	return l.reader.read(maxBytes)
}

// logReader reads records in order across files. Only the applier
// calls it, from one goroutine.
type logReader struct {
	l    *Log
	next uint64 // the sequence number wanted next; 0 before the first read
	f    *os.File
	r    *bufio.Reader
	file uint64 // first sequence number of the open file
	off  int64  // where the next record starts in the open file
	done uint64 // first sequence number of the file read to its end
	bufs [][]byte

	// bad is where the last read failed on the log's content: the
	// record wanted, its file and offset (bad.seq 0: none).
	bad struct {
		seq, file uint64
		off       int64
	}
}

// ErrCorrupt marks a read that failed on the log's content (a checksum,
// a sequence number or a length that is not what it must be) rather than
// on the file system: reading again finds the same.
var ErrCorrupt = errors.New("corrupt record")

func (rd *logReader) read(maxBytes int) ([]Entry, error) {
	rd.l.mu.Lock()
	last := rd.l.next - 1
	if rd.next == 0 {
		rd.next = rd.l.applied + 1
	}
	files := slices.Clone(rd.l.files)
	rd.l.mu.Unlock()

	var out []Entry
	total := 0
	for rd.next <= last && (total < maxBytes || len(out) == 0) {
		if err := rd.position(files); err != nil {
			return out, err
		}
		k := len(out)
		if k == len(rd.bufs) {
			rd.bufs = append(rd.bufs, nil)
		}
		seq, payload, n, err := readRecord(rd.r, rd.bufs[k])
		if err == io.EOF {
			// The end of a rolled file: go on in the next one.
			rd.done = rd.file
			rd.closeFile()
			continue
		}
		if err == nil && seq > rd.next {
			err = fmt.Errorf("record %d where %d was expected", seq, rd.next)
		}
		var e Entry
		if err == nil && seq == rd.next {
			e, err = decodeEntry(seq, payload)
		}
		if err != nil {
			// Whatever went wrong within a record that was flushed
			// whole is the content's fault, a read error excepted.
			var pe *os.PathError
			if !errors.As(err, &pe) {
				rd.bad.seq, rd.bad.file, rd.bad.off = rd.next, rd.file, rd.off
				err = fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			// Start over from the file's beginning next time.
			file := rd.file
			rd.closeFile()
			return out, fmt.Errorf("ingestion log: file %d: %w", file, err)
		}
		rd.off += int64(n)
		rd.bufs[k] = payload
		if seq < rd.next {
			continue // before the applied position
		}
		out = append(out, e)
		total += len(e.Body)
		rd.next++
	}
	return out, nil
}

// position opens the file holding rd.next if none is open: the last one
// starting at or before it.
func (rd *logReader) position(files []logFile) error {
	if rd.f != nil {
		return nil
	}
	i := len(files) - 1
	for i >= 0 && files[i].first > rd.next {
		i--
	}
	if i < 0 || files[i].first == rd.done {
		return fmt.Errorf("ingestion log: no file holds record %d", rd.next)
	}
	return rd.open(files[i], 0)
}

// SkipCorrupt moves reading past the damage that made the last Read fail
// with ErrCorrupt: to the first whole record after it in the same file
// (found by its header, sequence number and checksum), else to the next
// file, else (the damage is in the file being appended to) to the
// next record appended, in a new file. The damaged file is kept as
// failed/SEQ.log for an operator. It returns the records skipped, which
// never reach the store (to < from when none were), and where the copy
// is.
func (l *Log) SkipCorrupt() (from, to uint64, saved string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rd := &l.reader
	bad := rd.bad
	if bad.seq == 0 || bad.seq != rd.next {
		return 0, 0, "", errors.New("ingestion log: no corrupt record to skip")
	}
	i := slices.IndexFunc(l.files, func(f logFile) bool { return f.first == bad.file })
	if i < 0 {
		return 0, 0, "", fmt.Errorf("ingestion log: file %d is gone", bad.file)
	}
	file := l.files[i]
	dir := filepath.Join(l.dir, "failed")
	saved = filepath.Join(dir, filepath.Base(file.path))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, "", fmt.Errorf("ingestion log: %w", err)
	}
	if err := os.Link(file.path, saved); err != nil && !errors.Is(err, os.ErrExist) {
		return 0, 0, "", fmt.Errorf("ingestion log: keep %s: %w", file.path, err)
	}
	last := l.next - 1
	resume, at := resync(file, bad.off, bad.seq, last)
	switch {
	case at >= 0:
		// Go on in this file, from the record found.
	case i+1 < len(l.files):
		resume = l.files[i+1].first
	default:
		// The damage is in the active file, and nothing whole
		// follows it: appending goes on in a new file (after the
		// Append running, if one is, whose records resync finds).
		l.roll = true
		resume = l.next
	}
	rd.closeFile()
	rd.bad.seq = 0
	rd.next = resume
	if at >= 0 {
		if err := rd.open(file, at); err != nil {
			return 0, 0, "", err
		}
	}
	return bad.seq, resume - 1, saved, nil
}

// resync looks in file, after the damage at off (where record bad was
// wanted), for the first whole record numbered bad or later (and at most
// last), and returns its sequence number and offset (at < 0: none).
func resync(file logFile, off int64, bad, last uint64) (seq uint64, at int64) {
	b, err := os.ReadFile(file.path)
	if err != nil {
		return 0, -1
	}
	if file.size > 0 && file.size < int64(len(b)) {
		b = b[:file.size]
	}
	return findRecord(b, off+1, bad, last)
}

// open opens file for reading at offset off.
func (rd *logReader) open(file logFile, off int64) error {
	f, err := os.Open(file.path)
	if err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("ingestion log: %w", err)
	}
	rd.f, rd.file, rd.off = f, file.first, off
	if rd.r == nil {
		rd.r = bufio.NewReaderSize(f, 1<<20)
	} else {
		rd.r.Reset(f)
	}
	return nil
}

func (rd *logReader) closeFile() {
	if rd.f != nil {
		rd.f.Close()
		rd.f = nil
	}
}

// Close closes the log's files.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active != nil {
		l.active.Close()
		l.active = nil
	}
	l.reader.closeFile()
	return l.lock.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ingestion log: fsync %s: %w", dir, err)
	}
	return nil
}

// noRoom puts ENOROOM in front of err when the file system had no room
// for the write (ENOSPC, or EDQUOT: a quota), so that the server answers
// 503 with Retry-After rather than 500.
func noRoom(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", touchbase.Errorf(touchbase.ENOROOM,
			"the ingestion log's disk is full: nothing was stored; retry once there is room"), err)
	}
	return err
}

// ErrLocked is returned by Open when another process holds the log.
var ErrLocked = errors.New("ingestion log locked")
