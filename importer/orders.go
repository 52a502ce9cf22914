package importer

import (
	"fmt"
	"hash/maphash"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

// orderLine is one row of an orders file: a line item and the order and
// person it belongs to.
type orderLine struct {
	line        int
	orderID     string
	status      string // "", completed, cancelled, refunded
	refundOf    string // the order a refund is of, when not orderID
	userID      string
	anonymousID string
	messageID   string
	timestamp   []byte // JSON string, nil when absent
	item        *object
	// Order-level members (the first line's win), created on demand.
	traitsObj, propsObj, contextObj *object
	columns                         map[string]string
}

func (l *orderLine) traits() *object {
	if l.traitsObj == nil {
		l.traitsObj = &object{}
	}
	return l.traitsObj
}

func (l *orderLine) props() *object {
	if l.propsObj == nil {
		l.propsObj = &object{}
	}
	return l.propsObj
}

func (l *orderLine) context() *object {
	if l.contextObj == nil {
		l.contextObj = &object{}
	}
	return l.contextObj
}

// openOrder is an order whose lines are still being read.
type openOrder struct {
	first *orderLine // order-level fields come from the first line
	last  int        // the last line read of it
	items [][]byte
}

// orderWindow is how many lines apart an order's lines may be. Files are
// written order by order, but exports assembled from several files
// interleave a few lines (the Online Retail file does once, six lines
// apart); an order whose line comes later than this is an error.
const orderWindow = 10000

// orderGrouper assembles order lines into order inbounds. It keeps orders
// open until orderWindow lines have passed without one of their lines, and
// remembers (by hash) the orders it closed, to catch a late line.
type orderGrouper struct {
	open   map[string]*openOrder
	queue  []*openOrder // open orders, oldest first line first
	closed map[uint64]int
	seed   maphash.Seed
	ready  []record
	line   int
}

func newOrderGrouper() *orderGrouper {
	return &orderGrouper{open: map[string]*openOrder{}, closed: map[uint64]int{}, seed: maphash.MakeSeed()}
}

// add takes a line; the orders it closes wait for pop. A line without an
// order id is an order of its own, keyed (by inbound) by its messageId, as
// an Order Completed without order_id is.
func (g *orderGrouper) add(l *orderLine) error {
	g.line = l.line
	if l.orderID == "" && l.refundOf == "" {
		items := [][]byte{l.item.json()}
		if l.status == "refunded" {
			// Placed, then refunded (as close does): the refund names the
			// order by the messageId that keys it.
			placed := orderRecord(l, items, "completed")
			g.ready = append(g.ready, placed)
			l.refundOf = l.messageID
			if l.refundOf == "" {
				l.refundOf = inbound.DerivedMessageID(placed.body)
			}
		}
		g.ready = append(g.ready, orderRecord(l, items, l.status))
		return nil
	}
	if o, ok := g.open[l.orderID]; ok {
		if err := o.conflict(l); err != nil {
			return err
		}
		o.items = append(o.items, l.item.json())
		o.last = l.line
	} else {
		h := maphash.String(g.seed, l.orderID)
		if at, ok := g.closed[h]; ok {
			return &touchbase.LineError{Line: l.line, Column: l.columns["properties.order_id"],
				Message: fmt.Sprintf("order %q was already complete (its lines end near line %d): an order's lines must be within %d lines of each other", l.orderID, at, orderWindow)}
		}
		o := &openOrder{first: l, last: l.line, items: [][]byte{l.item.json()}}
		g.open[l.orderID] = o
		g.queue = append(g.queue, o)
	}
	// Close the orders whose last line is out of the window.
	for len(g.queue) > 0 && g.queue[0].last < g.line-orderWindow {
		o := g.queue[0]
		g.queue = g.queue[1:]
		g.close(o)
	}
	return nil
}

// pop returns an order closed earlier and not yet returned.
func (g *orderGrouper) pop() (record, bool) {
	if len(g.ready) == 0 {
		return record{}, false
	}
	rec := g.ready[0]
	g.ready = g.ready[1:]
	return rec, true
}

// flush closes the next open order at the end of the file.
func (g *orderGrouper) flush() (record, bool) {
	if rec, ok := g.pop(); ok {
		return rec, true
	}
	if len(g.queue) == 0 {
		return record{}, false
	}
	o := g.queue[0]
	g.queue = g.queue[1:]
	g.close(o)
	return g.pop()
}

// close makes an order's records ready.
func (g *orderGrouper) close(o *openOrder) {
	delete(g.open, o.first.orderID)
	g.closed[maphash.String(g.seed, o.first.orderID)] = o.last
	rec := orderRecord(o.first, o.items, o.first.status)
	if o.first.status == "refunded" && o.first.refundOf == "" {
		// A row of an orders export whose status is refunded is an order
		// that was placed and then refunded: on its own, Order Refunded
		// of an order touchbase never saw is only an event, and the
		// order, its items and its revenue would be lost.
		g.ready = append(g.ready, orderRecord(o.first, o.items, "completed"))
	}
	g.ready = append(g.ready, rec)
}

// conflict reports a line that names another person than the order's
// first line.
func (o *openOrder) conflict(l *orderLine) error {
	f := o.first
	if l.userID != "" && f.userID != "" && l.userID != f.userID {
		return &touchbase.LineError{Line: l.line, Column: l.columns["userId"],
			Message: fmt.Sprintf("order %q belongs to user %q (line %d), not %q", l.orderID, f.userID, f.line, l.userID)}
	}
	return nil
}

// orderRecord makes an order's inbound: Order Completed (or Cancelled or
// Refunded, by status) with its lines as products.
func orderRecord(f *orderLine, items [][]byte, status string) record {
	event := "Order Completed"
	switch status {
	case "cancelled", "canceled":
		event = "Order Cancelled"
	case "refunded":
		event = "Order Refunded"
	}
	in := &object{}
	in.setString("type", "track")
	in.setString("event", event)
	if f.userID != "" {
		in.setString("userId", f.userID)
	}
	if f.anonymousID != "" {
		in.setString("anonymousId", f.anonymousID)
	}
	if f.messageID != "" {
		id := f.messageID
		if event == "Order Refunded" {
			// The refund of a line whose status is refunded follows the
			// order's Order Completed, which has the line's messageId.
			id += "-refund"
		}
		in.setString("messageId", id)
	}
	if f.timestamp != nil {
		in.set([]string{"timestamp"}, f.timestamp)
	}
	props := &object{}
	if f.refundOf != "" {
		props.setString("order_id", f.refundOf)
	} else if f.orderID != "" {
		props.setString("order_id", f.orderID)
	}
	if f.propsObj != nil {
		for i, k := range f.propsObj.keys {
			props.set([]string{k}, f.propsObj.vals[i].json())
		}
	}
	n := 0
	for _, it := range items {
		n += len(it) + 1
	}
	products := make([]byte, 0, n+2)
	products = append(products, '[')
	for i, it := range items {
		if i > 0 {
			products = append(products, ',')
		}
		products = append(products, it...)
	}
	products = append(products, ']')
	props.set([]string{"products"}, products)
	in.set([]string{"properties"}, props.json())
	ctx := f.contextObj
	if f.traitsObj != nil {
		if ctx == nil {
			ctx = &object{}
		}
		ctx.set([]string{"traits"}, f.traitsObj.json())
	}
	if ctx != nil {
		in.set([]string{"context"}, ctx.json())
	}
	return record{line: f.line, body: in.json(), columns: f.columns}
}
