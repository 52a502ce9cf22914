package loadgen

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"sync/atomic"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
)

// Pool holds the pre-generated batch templates of a run and hands out
// request bodies with fresh identifiers. It is safe for concurrent use.
type Pool struct {
	w         Workload
	templates []template
	nonce     uint64        // random per pool: ids differ between runs
	ids       atomic.Uint64 // counter behind messageIds and order ids
	turn      atomic.Uint64 // round robin over templates
	bytes     int
}

// template is one encoded batch and the offsets of the values Fill
// overwrites.
type template struct {
	body    []byte
	batchID int
	sentAt  int
	events  []slots
}

// slots are the offsets of one event's per-send values; -1 when absent.
type slots struct{ msg, user, anon, order int32 }

// NewPool generates w.Bodies batch templates of w.BatchSize events each.
// start is the time the events pretend to happen around.
func NewPool(w Workload, start time.Time) (*Pool, error) {
	w = w.withDefaults()
	if w.Users > 10000000 {
		return nil, fmt.Errorf("loadgen: %d users: the userId format holds at most 10,000,000", w.Users)
	}
	rng := mrand.New(mrand.NewPCG(w.Seed, w.Seed^0x9e3779b97f4a7c15))
	g := &eventGen{rng: rng, products: catalogue(rng, w.Products), start: start}

	// The mix as a lookup table of 100 entries.
	var table []string
	for _, m := range Mix {
		for range m.Percent {
			table = append(table, m.Event)
		}
	}
	if len(table) != 100 {
		return nil, fmt.Errorf("loadgen: the event mix adds up to %d%%, not 100%%", len(table))
	}

	p := &Pool{w: w, nonce: randomUint64()}
	p.ids.Store(randomUint64() >> 24) // a random start: no all-zero ids
	for b := 0; b < w.Bodies; b++ {
		msgs := make([]analytics.Message, w.BatchSize)
		for i := range msgs {
			ident := identUserAndAnon
			switch r := rng.IntN(100); {
			case r >= 85:
				ident = identAnon
			case r >= 60:
				ident = identUser
			}
			msgs[i] = g.message(table[rng.IntN(len(table))], ident, b*w.BatchSize+i)
		}
		body, err := encodeBatch(msgs, start)
		if err != nil {
			return nil, err
		}
		t, err := newTemplate(body, w.BatchSize)
		if err != nil {
			return nil, fmt.Errorf("loadgen: template %d: %w", b, err)
		}
		p.templates = append(p.templates, t)
		p.bytes += len(body)
	}
	return p, nil
}

// BatchSize is the number of events in every body.
func (p *Pool) BatchSize() int { return p.w.BatchSize }

// Workload is the pool's workload, defaults filled in.
func (p *Pool) Workload() Workload { return p.w }

// AvgBodyBytes is the mean size of a body.
func (p *Pool) AvgBodyBytes() int { return p.bytes / len(p.templates) }

// newTemplate finds the per-send values in an encoded batch.
func newTemplate(body []byte, events int) (template, error) {
	type hit struct {
		off  int
		kind byte
	}
	var hits []hit
	find := func(key string, width int, kind byte) {
		pat := []byte(`"` + key + `":"`)
		for i := 0; ; {
			j := bytes.Index(body[i:], pat)
			if j < 0 {
				return
			}
			off := i + j + len(pat)
			hits = append(hits, hit{off, kind})
			i = off + width
		}
	}
	find("messageId", len(placeholderUUID), 'm')
	find("userId", len(placeholderUser), 'u')
	find("anonymousId", len(placeholderUUID), 'a')
	find("order_id", len(placeholderOrder), 'o')
	find("sentAt", len(sentAtLayout), 's')
	sort.Slice(hits, func(i, j int) bool { return hits[i].off < hits[j].off })

	t := template{body: body, batchID: -1, sentAt: -1}
	check := func(off int, want string) error {
		if off+len(want) > len(body) || string(body[off:off+len(want)]) != want {
			return fmt.Errorf("value at %d is not the placeholder %q", off, want)
		}
		return nil
	}
	batchStart := bytes.Index(body, []byte(`"batch":[`))
	for _, h := range hits {
		var err error
		switch {
		case h.kind == 's':
			t.sentAt = h.off
		case h.kind == 'm' && h.off < batchStart:
			t.batchID, err = h.off, check(h.off, placeholderUUID)
		case h.kind == 'm':
			t.events = append(t.events, slots{msg: int32(h.off), user: -1, anon: -1, order: -1})
			err = check(h.off, placeholderUUID)
		case len(t.events) == 0:
			err = fmt.Errorf("%c field at %d before the first event", h.kind, h.off)
		case h.kind == 'u':
			t.events[len(t.events)-1].user, err = int32(h.off), check(h.off, placeholderUser)
		case h.kind == 'a':
			t.events[len(t.events)-1].anon, err = int32(h.off), check(h.off, placeholderUUID)
		case h.kind == 'o':
			t.events[len(t.events)-1].order, err = int32(h.off), check(h.off, placeholderOrder)
		}
		if err != nil {
			return t, err
		}
	}
	switch {
	case t.batchID < 0 || t.sentAt < 0:
		return t, fmt.Errorf("no batch messageId or sentAt")
	case len(t.events) != events:
		return t, fmt.Errorf("found %d events, want %d", len(t.events), events)
	}
	if t.sentAt+len(sentAtLayout) > len(body) {
		return t, fmt.Errorf("sentAt at %d runs past the body", t.sentAt)
	}
	if _, err := time.Parse(sentAtLayout, string(body[t.sentAt:t.sentAt+len(sentAtLayout)])); err != nil {
		return t, fmt.Errorf("sentAt is not fixed-width: %w", err)
	}
	return t, nil
}

// sentAtLayout is RFC 3339 with all nine fraction digits, in UTC.
const sentAtLayout = "2006-01-02T15:04:05.000000000Z"

// Fill appends to dst[:0] the next body: a template with fresh messageIds
// (UUID v4, unique within the pool), a visitor drawn from the population
// for each event (userId and anonymousId consistent with each other),
// fresh order ids, and sentAt = now. It returns the body and its number of
// events.
func (p *Pool) Fill(dst []byte, rng *mrand.Rand, now time.Time) ([]byte, int) {
	t := &p.templates[p.turn.Add(1)%uint64(len(p.templates))]
	dst = append(dst[:0], t.body...)
	n := uint64(len(t.events))
	first := p.ids.Add(n+1) - n - 1 // n+1 ids: the batch's and each event's
	putUUID(dst[t.batchID:], p.nonce, first)
	copy(dst[t.sentAt:], now.UTC().Format(sentAtLayout))
	for i, s := range t.events {
		id := first + 1 + uint64(i)
		putUUID(dst[s.msg:], p.nonce, id)
		v := uint64(rng.IntN(p.w.Users))
		if s.user >= 0 {
			putUser(dst[s.user:], v)
		}
		if s.anon >= 0 {
			putUUID(dst[s.anon:], p.nonce^0x5bd1e9955bd1e995, v|1<<61) // visitor's anonymousId: stable within the pool
		}
		if s.order >= 0 {
			putHex(dst[s.order:s.order+16], mix64(p.nonce^id))
		}
	}
	return dst, int(n)
}

const hexDigits = "0123456789abcdef"

func putHex(dst []byte, x uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexDigits[x&15]
		x >>= 4
	}
}

// putUUID writes a version 4 UUID (36 bytes) made from hi and a 62-bit
// counter. The counter goes through a bijection so that ids look random
// (as uuid.NewString's do, which matters to the database's unique index)
// yet never repeat within a pool.
func putUUID(dst []byte, hi, counter uint64) {
	hi = mix64(hi)&^0xf000 | 0x4000 // version 4
	lo := mix62(counter) | 2<<62    // variant 10
	putHex(dst[0:8], hi>>32)
	dst[8] = '-'
	putHex(dst[9:13], hi>>16)
	dst[13] = '-'
	putHex(dst[14:18], hi)
	dst[18] = '-'
	putHex(dst[19:23], lo>>48)
	dst[23] = '-'
	putHex(dst[24:36], lo)
}

// putUser writes user-NNNNNNN.
func putUser(dst []byte, v uint64) {
	for i := 11; i >= 5; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// UserID is the userId of visitor v, as Fill writes it.
func UserID(v int) string { b := []byte(placeholderUser); putUser(b, uint64(v)); return string(b) }

const mask62 = 1<<62 - 1

// mix62 is a bijection on [0, 2^62): xor-shifts and odd multiplications
// modulo 2^62 are each invertible.
func mix62(x uint64) uint64 {
	x &= mask62
	x ^= x >> 31
	x = x * 0x7fb5d329728ea185 & mask62
	x ^= x >> 27
	x = x * 0x81dadef4bc2dd44d & mask62
	x ^= x >> 33
	return x
}

// mix64 is splitmix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func randomUint64() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("loadgen: crypto/rand: " + err.Error())
	}
	return binary.LittleEndian.Uint64(b[:])
}
