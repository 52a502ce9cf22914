package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/touchbase/touchbase/demo"
)

// The tests read the generated NDJSON back with encoding/json and compute
// every figure from it, independently of the generator's own bookkeeping.

// testEnd fixes the end of the history, so that the tests see the same
// store whatever day they run.
var testEnd = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// smallStore is the store most tests examine: big enough for the shares to
// be stable, small enough to generate in well under a second.
var smallStore = demo.Config{Customers: 2000, Seed: 7, End: testEnd}

type product struct {
	ProductID string  `json:"product_id"`
	SKU       string  `json:"sku"`
	Name      string  `json:"name"`
	Category  string  `json:"category"`
	Brand     string  `json:"brand"`
	Price     float64 `json:"price"`
	Quantity  float64 `json:"quantity"`
}

// message is what the tests read of a generated line.
type message struct {
	Type        string    `json:"type"`
	MessageID   string    `json:"messageId"`
	UserID      string    `json:"userId"`
	AnonymousID string    `json:"anonymousId"`
	Event       string    `json:"event"`
	Name        string    `json:"name"`
	Timestamp   time.Time `json:"timestamp"`
	Properties  struct {
		product
		OrderID  string    `json:"order_id"`
		CartID   string    `json:"cart_id"`
		Revenue  float64   `json:"revenue"`
		Total    float64   `json:"total"`
		Subtotal float64   `json:"subtotal"`
		Tax      float64   `json:"tax"`
		Shipping float64   `json:"shipping"`
		Discount float64   `json:"discount"`
		Currency string    `json:"currency"`
		Products []product `json:"products"`
	} `json:"properties"`
	Traits  map[string]any `json:"traits"`
	Context struct {
		Timezone string `json:"timezone"`
		Locale   string `json:"locale"`
	} `json:"context"`

	person int // index of the person, after linking ids
}

// history is a generated store read back.
type history struct {
	raw     []byte
	sum     demo.Summary
	msgs    []message
	persons int // distinct people, linking user ids and anonymous ids
}

// generate runs Generate and fails the test on error.
func generate(t testing.TB, cfg demo.Config) ([]byte, demo.Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := demo.Generate(context.Background(), cfg, &buf)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return buf.Bytes(), sum
}

var (
	smallOnce sync.Once
	small     *history
	smallErr  error
)

// smallHistory returns smallStore read back, generated once per test
// binary (the tests only read it).
func smallHistory(t *testing.T) *history {
	t.Helper()
	smallOnce.Do(func() {
		var buf bytes.Buffer
		sum, err := demo.Generate(context.Background(), smallStore, &buf)
		if err != nil {
			smallErr = err
			return
		}
		small, smallErr = readHistory(buf.Bytes(), sum)
	})
	if smallErr != nil {
		t.Fatal(smallErr)
	}
	return small
}

func readHistory(raw []byte, sum demo.Summary) (*history, error) {
	h := &history{raw: raw, sum: sum}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, err
		}
		h.msgs = append(h.msgs, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// People: a message naming both ids says they are one person.
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		p, ok := parent[k]
		if !ok || p == k {
			parent[k] = k
			return k
		}
		r := find(p)
		parent[k] = r
		return r
	}
	for _, m := range h.msgs {
		if m.UserID != "" && m.AnonymousID != "" {
			parent[find("a:"+m.AnonymousID)] = find("u:" + m.UserID)
		}
	}
	ids := map[string]int{}
	for i := range h.msgs {
		m := &h.msgs[i]
		k := "u:" + m.UserID
		if m.UserID == "" {
			k = "a:" + m.AnonymousID
		}
		root := find(k)
		id, ok := ids[root]
		if !ok {
			id = len(ids)
			ids[root] = id
		}
		m.person = id
	}
	h.persons = len(ids)
	return h, nil
}

// byPerson returns each person's messages in file order.
func (h *history) byPerson() [][]*message {
	out := make([][]*message, h.persons)
	for i := range h.msgs {
		m := &h.msgs[i]
		out[m.person] = append(out[m.person], m)
	}
	return out
}

// visits splits one person's messages into visits: runs of messages less
// than 30 minutes apart, the usual web analytics definition. Messages from
// the shop's backend (no anonymous id) are left out.
func visits(msgs []*message) [][]*message {
	var out [][]*message
	var last time.Time
	for _, m := range msgs {
		if m.AnonymousID == "" {
			continue
		}
		if len(out) == 0 || m.Timestamp.Sub(last) > 30*time.Minute {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], m)
		last = m.Timestamp
	}
	return out
}

// topShare returns the share of the total held by the largest frac of
// values.
func topShare(values []float64, frac float64) float64 {
	sorted := append([]float64(nil), values...)
	sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
	n := int(float64(len(sorted))*frac + 0.5)
	var top, all float64
	for i, v := range sorted {
		all += v
		if i < n {
			top += v
		}
	}
	return top / all
}
