package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/touchbase/touchbase"
)

// applyOrders applies the batch's e-commerce changes in inbound order. A
// customer whose orders change, including one an order moves away from, has
// its order features recomputed by saveCustomers.
//
//   - Order Completed creates the order or replaces its amounts and items
//     (an order resent by the store); a refunded or cancelled order keeps
//     its status.
//   - Order Updated does the same but never changes the status.
//   - Order Refunded adds the refunded amount (all that is left when the
//     event gives none) and marks the order refunded or partially refunded.
//     A refund of an order touchbase never saw is kept as an event only.
//   - Order Cancelled marks the order cancelled (creating it, cancelled, if
//     unknown); cancelled orders count in no feature.
//
// A public inbound (touchbase.Inbound.Public: a browser's write key) may
// create an order for the customer it resolves to, and change an order
// only when the order is that customer's: its change to a guest order or
// to another customer's (which would refund, cancel or rewrite it, or move
// it to the sender) is refused and counted; its event is stored all the
// same.
//
// The changes are worked out in memory, from one lookup of the orders the
// batch names, and written with a fixed number of statements (plus one
// update per order that existed before): an import of orders is this loop.
func (b *ingestBatch) applyOrders(ctx context.Context) error {
	if len(b.orders) == 0 {
		return nil
	}
	states, err := b.loadOrders(ctx)
	if err != nil {
		return err
	}
	var touched []*orderState
	for _, o := range b.orders {
		st := states[o.change.Order.OrderID]
		if st == nil {
			st = &orderState{orderID: o.change.Order.OrderID}
			states[st.orderID] = st
		}
		cust := b.find(o.cust)
		if o.public && st.known() && st.customer != cust {
			b.refusedOrders++
			continue
		}
		if err := b.applyOrder(ctx, st, cust, o.change); err != nil {
			return fmt.Errorf("order %q: %w", st.orderID, err)
		}
		if (st.isNew || st.dirty) && !st.touched {
			st.touched = true
			touched = append(touched, st)
		}
	}
	return b.writeOrders(ctx, touched)
}

// orderState is an order as the batch leaves it.
type orderState struct {
	orderID                                                     string
	id                                                          int64 // 0 until a new order is written
	stored                                                      bool  // it existed before the batch
	isNew                                                       bool  // the batch creates it
	dirty                                                       bool  // a stored order the batch changes
	touched                                                     bool  // listed for writing
	customer                                                    int64 // 0 for none (a guest order)
	status                                                      touchbase.OrderStatus
	revenue, total, subtotal, shipping, tax, discount, refunded float64
	currency, coupon                                            string
	placed                                                      int64
	items                                                       []touchbase.OrderItem
	replaceItems                                                bool // items to (re)write
}

func (st *orderState) known() bool { return st.stored || st.isNew }

// loadOrders reads the stored orders the batch names.
func (b *ingestBatch) loadOrders(ctx context.Context) (map[string]*orderState, error) {
	states := make(map[string]*orderState, len(b.orders))
	ids := make([]any, 0, len(b.orders))
	for _, o := range b.orders {
		id := o.change.Order.OrderID
		if _, ok := states[id]; !ok {
			states[id] = nil
			ids = append(ids, id)
		}
	}
	clear(states)
	err := b.s.queryIn(ctx, b.tx, `SELECT order_id, id, customer_id, status, revenue, total, subtotal, shipping, tax, discount, refunded,
		currency, coupon, placed_at FROM orders WHERE workspace_id = ? AND order_id IN (%s)`, []any{b.ws}, ids, func(rows *sql.Rows) error {
		st := &orderState{stored: true}
		var cust sql.NullInt64
		var status string
		if err := rows.Scan(&st.orderID, &st.id, &cust, &status, &st.revenue, &st.total, &st.subtotal, &st.shipping, &st.tax,
			&st.discount, &st.refunded, &st.currency, &st.coupon, &st.placed); err != nil {
			return err
		}
		st.customer, st.status = cust.Int64, touchbase.OrderStatus(status)
		states[st.orderID] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load orders: %w", err)
	}
	return states, nil
}

// applyOrder applies one change to an order's state.
func (b *ingestBatch) applyOrder(ctx context.Context, st *orderState, cust int64, ch *touchbase.OrderChange) error {
	o := &ch.Order
	exists := st.known()
	if exists && st.customer != 0 && st.customer != cust {
		if err := b.markOrdersDirty(ctx, st.customer); err != nil {
			return err
		}
	}
	if exists && cust != 0 {
		b.cust(b.find(cust)).ordersRecount = true
	}
	switch ch.Kind {
	case touchbase.OrderChangeRefunded:
		if !exists {
			return nil
		}
		amount := ch.RefundAmount
		if amount <= 0 {
			amount = st.revenue - st.refunded
		}
		st.refunded += amount
		if st.status != touchbase.OrderCancelled {
			st.status = touchbase.OrderPartiallyRefunded
			if st.refunded >= st.revenue-0.005 {
				st.status = touchbase.OrderRefunded
			}
		}
		st.dirty = true
		return nil
	case touchbase.OrderChangeCancelled:
		if exists {
			st.status, st.dirty = touchbase.OrderCancelled, true
			return nil
		}
		b.createOrder(st, cust, o, touchbase.OrderCancelled)
		return nil
	}
	// Completed, updated.
	if !exists {
		b.createOrder(st, cust, o, touchbase.OrderCompleted)
		if cust != 0 {
			b.cust(b.find(cust)).added.add(st)
		}
		return nil
	}
	// Resent or updated: new amounts, the first placement time stays. A
	// partial update (Order Updated) keeps the stored value of every
	// amount it gives as zero and of every text it leaves empty: an event
	// cannot say "not given" otherwise.
	st.customer, st.dirty = cust, true
	if ch.Kind == touchbase.OrderChangeUpdated {
		for _, f := range []struct {
			dst *float64
			v   float64
		}{{&st.revenue, o.Revenue}, {&st.total, o.Total}, {&st.subtotal, o.Subtotal}, {&st.shipping, o.Shipping}, {&st.tax, o.Tax}, {&st.discount, o.Discount}} {
			if f.v != 0 {
				*f.dst = f.v
			}
		}
		if o.Currency != "" {
			st.currency = o.Currency
		}
		if o.Coupon != "" {
			st.coupon = o.Coupon
		}
	} else {
		st.setAmounts(o)
	}
	if len(o.Items) > 0 {
		st.items, st.replaceItems = o.Items, true
	}
	return nil
}

// createOrder makes st a new order.
func (b *ingestBatch) createOrder(st *orderState, cust int64, o *touchbase.Order, status touchbase.OrderStatus) {
	st.isNew, st.customer, st.status = true, cust, status
	st.setAmounts(o)
	st.placed = b.now
	if !o.PlacedAt.IsZero() { // an order at the Unix epoch is placed at 0
		st.placed = o.PlacedAt.UnixMilli()
	}
	st.items, st.replaceItems = o.Items, true
}

// setAmounts takes all of o's amounts and texts.
func (st *orderState) setAmounts(o *touchbase.Order) {
	st.revenue, st.total, st.subtotal, st.shipping, st.tax, st.discount = o.Revenue, o.Total, o.Subtotal, o.Shipping, o.Tax, o.Discount
	st.currency, st.coupon = o.Currency, o.Coupon
}

// writeOrders writes the orders the batch created or changed, and their
// items.
func (b *ingestBatch) writeOrders(ctx context.Context, touched []*orderState) error {
	var created []*orderState
	for _, st := range touched {
		if st.isNew {
			created = append(created, st)
		}
	}
	if err := b.allocateOrderIDs(ctx, created); err != nil {
		return err
	}
	custArg := func(st *orderState) any {
		if st.customer > 0 {
			return st.customer
		}
		return nil
	}
	var replaced []any
	nItems := 0
	for _, st := range touched {
		if st.replaceItems {
			nItems += len(st.items)
		}
	}
	// Sized once: growing them by doubling was a tenth of an import's
	// store time.
	inserts := make([]any, 0, len(created)*len(orderCols))
	items := make([]any, 0, nItems*len(orderItemCols))
	for _, st := range touched {
		if st.isNew {
			inserts = append(inserts, st.id, b.ws, st.orderID, custArg(st), string(st.status), st.revenue, st.total, st.subtotal,
				st.shipping, st.tax, st.discount, st.refunded, st.currency, st.coupon, st.placed, b.now)
		} else {
			_, err := b.tx.ExecContext(ctx, b.s.d.q(`UPDATE orders SET customer_id = ?, status = ?, revenue = ?, total = ?, subtotal = ?, shipping = ?,
				tax = ?, discount = ?, refunded = ?, currency = ?, coupon = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`),
				custArg(st), string(st.status), st.revenue, st.total, st.subtotal, st.shipping, st.tax, st.discount, st.refunded,
				st.currency, st.coupon, b.now, b.ws, st.id)
			if err != nil {
				return fmt.Errorf("update order %q: %w", st.orderID, err)
			}
			if st.replaceItems {
				replaced = append(replaced, st.id)
			}
		}
		if st.replaceItems {
			for i, it := range st.items {
				items = append(items, b.ws, st.id, i+1, it.ProductID, it.SKU, it.Name, it.Category, it.Brand, it.Variant, it.Price, it.Quantity)
			}
		}
	}
	if len(replaced) > 0 {
		err := b.s.queryIn(ctx, b.tx, "DELETE FROM order_items WHERE workspace_id = ? AND order_id IN (%s)", []any{b.ws}, replaced, nil)
		if err != nil {
			return fmt.Errorf("replace order items: %w", err)
		}
	}
	if b.s.d.dollar && len(inserts)/len(orderCols) >= copyMinRows {
		if err := b.copyRows(ctx, "orders", orderCols, inserts); err != nil {
			return err
		}
	} else if err := b.s.insertRows(ctx, b.tx, &insertOrders, inserts); err != nil {
		return err
	}
	if b.s.d.dollar && len(items)/len(orderItemCols) >= copyMinRows {
		return b.copyRows(ctx, "order_items", orderItemCols, items)
	}
	return b.s.insertRows(ctx, b.tx, &insertOrderItems, items)
}

// copyMinRows is where COPY starts to beat a multi-row INSERT on
// PostgreSQL.
const copyMinRows = 64

var (
	orderCols = []string{"id", "workspace_id", "order_id", "customer_id", "status", "revenue", "total", "subtotal", "shipping",
		"tax", "discount", "refunded", "currency", "coupon", "placed_at", "updated_at"}
	orderItemCols = []string{"workspace_id", "order_id", "line", "product_id", "sku", "name", "category", "brand", "variant", "price", "quantity"}
	insertOrders  = rowsSQL{head: insertHead("orders", orderCols), cols: len(orderCols), sqliteRows: 32}
)

// allocateOrderIDs gives new orders their ids.
func (b *ingestBatch) allocateOrderIDs(ctx context.Context, created []*orderState) error {
	if len(created) == 0 {
		return nil
	}
	if b.s.d.dollar {
		i := 0
		err := queryRows(ctx, b.tx, "SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, $1)", []any{len(created)}, func(rows *sql.Rows) error {
			if i >= len(created) {
				return fmt.Errorf("more ids than orders")
			}
			i++
			return rows.Scan(&created[i-1].id)
		})
		if err == nil && i != len(created) {
			err = fmt.Errorf("%d ids for %d orders", i, len(created))
		}
		if err != nil {
			return fmt.Errorf("allocate order ids: %w", err)
		}
		return nil
	}
	// One writer holds the database, so the next ids are ours; the sequence
	// row (AUTOINCREMENT) keeps the ids of deleted orders from coming back.
	var next int64
	err := b.tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'orders'), 0),
		coalesce((SELECT max(id) FROM orders), 0))`).Scan(&next)
	if err != nil {
		return fmt.Errorf("allocate order ids: %w", err)
	}
	for _, st := range created {
		next++
		st.id = next
	}
	return nil
}

// markOrdersDirty makes a customer outside the batch's plan (one an order
// moved away from) get its order features recomputed.
func (b *ingestBatch) markOrdersDirty(ctx context.Context, id int64) error {
	if _, ok := b.custs[id]; !ok {
		if found, err := b.loadCustomer(ctx, id); err != nil || !found {
			return err
		}
	}
	c := b.cust(b.find(id))
	c.ordersDirty, c.ordersRecount = true, true
	return nil
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
