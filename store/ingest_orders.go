package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/touchbase/touchbase"
)

// applyOrders applies the batch's e-commerce changes in message order. A
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
func (b *ingestBatch) applyOrders(ctx context.Context) error {
	for _, o := range b.orders {
		cust := b.find(o.cust)
		if err := b.applyOrder(ctx, cust, o.change); err != nil {
			return fmt.Errorf("order %q: %w", o.change.Order.OrderID, err)
		}
	}
	return nil
}

type storedOrder struct {
	id       int64
	customer sql.NullInt64
	status   touchbase.OrderStatus
	revenue  float64
	refunded float64
}

func (b *ingestBatch) applyOrder(ctx context.Context, cust int64, ch *touchbase.OrderChange) error {
	o := &ch.Order
	var old storedOrder
	err := b.tx.QueryRowContext(ctx, b.s.d.q("SELECT id, customer_id, status, revenue, refunded FROM orders WHERE workspace_id = ? AND order_id = ?"), b.ws, o.OrderID).
		Scan(&old.id, &old.customer, &old.status, &old.revenue, &old.refunded)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if exists && old.customer.Valid && old.customer.Int64 != cust {
		if err := b.markOrdersDirty(ctx, old.customer.Int64); err != nil {
			return err
		}
	}

	switch ch.Kind {
	case touchbase.OrderChangeRefunded:
		if !exists {
			return nil
		}
		amount := ch.RefundAmount
		if amount <= 0 {
			amount = old.revenue - old.refunded
		}
		refunded := old.refunded + amount
		status := touchbase.OrderPartiallyRefunded
		if refunded >= old.revenue-0.005 {
			status = touchbase.OrderRefunded
		}
		if old.status == touchbase.OrderCancelled {
			status = old.status
		}
		_, err := b.tx.ExecContext(ctx, b.s.d.q("UPDATE orders SET refunded = ?, status = ?, updated_at = ? WHERE workspace_id = ? AND id = ?"),
			refunded, string(status), b.now, b.ws, old.id)
		return err
	case touchbase.OrderChangeCancelled:
		if exists {
			_, err := b.tx.ExecContext(ctx, b.s.d.q("UPDATE orders SET status = ?, updated_at = ? WHERE workspace_id = ? AND id = ?"),
				string(touchbase.OrderCancelled), b.now, b.ws, old.id)
			return err
		}
		return b.upsertOrder(ctx, cust, o, touchbase.OrderCancelled, nil, false)
	default: // completed, updated
		status := touchbase.OrderCompleted
		if exists && old.status != touchbase.OrderCompleted {
			status = old.status
		}
		var oldPtr *storedOrder
		if exists {
			oldPtr = &old
		}
		return b.upsertOrder(ctx, cust, o, status, oldPtr, ch.Kind == touchbase.OrderChangeUpdated)
	}
}

// upsertOrder writes o with the given status and replaces its items (when
// the event lists any, or when the order is new). A partial update (Order
// Updated) keeps the stored value of every amount it gives as zero and of
// every text it leaves empty: an event cannot say "not given" otherwise.
func (b *ingestBatch) upsertOrder(ctx context.Context, cust int64, o *touchbase.Order, status touchbase.OrderStatus, old *storedOrder, partial bool) error {
	placed := ms(o.PlacedAt)
	if placed == 0 {
		placed = b.now
	}
	var custArg any
	if cust > 0 {
		custArg = cust
	}
	var id int64
	if old == nil {
		err := b.tx.QueryRowContext(ctx, b.s.d.q(`INSERT INTO orders (workspace_id, order_id, customer_id, status, revenue, total, subtotal, shipping, tax, discount, refunded,
			currency, coupon, placed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id`),
			b.ws, o.OrderID, custArg, string(status), o.Revenue, o.Total, o.Subtotal, o.Shipping, o.Tax, o.Discount,
			o.Currency, o.Coupon, placed, b.now).Scan(&id)
		if err != nil {
			return err
		}
	} else {
		// Resent or updated: new amounts, the first placement time stays.
		id = old.id
		q := `UPDATE orders SET customer_id = ?, status = ?, revenue = ?, total = ?, subtotal = ?, shipping = ?, tax = ?,
			discount = ?, currency = ?, coupon = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`
		args := []any{custArg, string(status), o.Revenue, o.Total, o.Subtotal, o.Shipping, o.Tax, o.Discount, o.Currency, o.Coupon, b.now, b.ws, id}
		if partial {
			q = `UPDATE orders SET customer_id = ?, status = ?,
				revenue = CASE WHEN ? <> 0 THEN ? ELSE revenue END, total = CASE WHEN ? <> 0 THEN ? ELSE total END,
				subtotal = CASE WHEN ? <> 0 THEN ? ELSE subtotal END, shipping = CASE WHEN ? <> 0 THEN ? ELSE shipping END,
				tax = CASE WHEN ? <> 0 THEN ? ELSE tax END, discount = CASE WHEN ? <> 0 THEN ? ELSE discount END,
				currency = CASE WHEN ? <> '' THEN ? ELSE currency END, coupon = CASE WHEN ? <> '' THEN ? ELSE coupon END,
				updated_at = ? WHERE workspace_id = ? AND id = ?`
			args = []any{custArg, string(status), o.Revenue, o.Revenue, o.Total, o.Total, o.Subtotal, o.Subtotal, o.Shipping, o.Shipping,
				o.Tax, o.Tax, o.Discount, o.Discount, o.Currency, o.Currency, o.Coupon, o.Coupon, b.now, b.ws, id}
		}
		if _, err := b.tx.ExecContext(ctx, b.s.d.q(q), args...); err != nil {
			return err
		}
		if len(o.Items) == 0 {
			return nil
		}
		if _, err := b.tx.ExecContext(ctx, b.s.d.q("DELETE FROM order_items WHERE workspace_id = ? AND order_id = ?"), b.ws, id); err != nil {
			return err
		}
	}
	args := make([]any, 0, len(o.Items)*11)
	for i, it := range o.Items {
		args = append(args, b.ws, id, i+1, it.ProductID, it.SKU, it.Name, it.Category, it.Brand, it.Variant, it.Price, it.Quantity)
	}
	return b.s.insertRows(ctx, b.tx, &insertOrderItems, args)
}

// markOrdersDirty makes a customer outside the batch's plan (one an order
// moved away from) get its order features recomputed.
func (b *ingestBatch) markOrdersDirty(ctx context.Context, id int64) error {
	if _, ok := b.custs[id]; !ok {
		if found, err := b.loadCustomer(ctx, id); err != nil || !found {
			return err
		}
	}
	b.cust(b.find(id)).ordersDirty = true
	return nil
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
