package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/touchbase/touchbase"
)

// write turns the batch's plan into SQL: ids for new customers, merges,
// identities, events, orders, products, and one upsert per touched
// customer.
func (b *ingestBatch) write(ctx context.Context) error {
	if err := b.allocateIDs(ctx); err != nil {
		return err
	}
	if err := b.applyMerges(ctx); err != nil {
		return err
	}
	if err := b.insertIdentities(ctx); err != nil {
		return err
	}
	if err := b.insertEvents(ctx); err != nil {
		return err
	}
	if err := b.applyOrders(ctx); err != nil {
		return err
	}
	if err := b.upsertProducts(ctx); err != nil {
		return err
	}
	return b.saveCustomers(ctx)
}

// allocateIDs gives new customers their real ids in one statement, and
// renames them everywhere the plan refers to them.
func (b *ingestBatch) allocateIDs(ctx context.Context) error {
	var temps []int64
	for _, id := range b.order {
		if c := b.custs[id]; id < 0 && c.dirty {
			temps = append(temps, id)
		}
	}
	if len(temps) == 0 {
		return nil
	}
	real := make([]int64, 0, len(temps))
	if b.s.d.dollar {
		rows, err := b.tx.QueryContext(ctx, "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, $1)", len(temps))
		if err != nil {
			return fmt.Errorf("allocate customer ids: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("allocate customer ids: %w", err)
			}
			real = append(real, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("allocate customer ids: %w", err)
		}
	} else {
		// One writer holds the database, so the next ids are ours; the
		// sequence row (AUTOINCREMENT) keeps erased ids from coming back.
		var next int64
		err := b.tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'customers'), 0),
			coalesce((SELECT max(id) FROM customers), 0))`).Scan(&next)
		if err != nil {
			return fmt.Errorf("allocate customer ids: %w", err)
		}
		for range temps {
			next++
			real = append(real, next)
		}
	}
	rename := make(map[int64]int64, len(temps))
	for i, t := range temps {
		rename[t] = real[i]
	}
	// Every temp id, including ones merged away, resolves through find; so
	// renaming the survivors and pointing the redirect map at them suffices.
	for t, r := range rename {
		c := b.custs[t]
		delete(b.custs, t)
		c.id = r
		b.custs[r] = c
		b.redirect[t] = r
	}
	for i, id := range b.order {
		if r, ok := rename[id]; ok {
			b.order[i] = r
		}
	}
	return nil
}

// applyMerges moves everything of each merged-away customer to its
// survivor, deletes it, and records the merge on the survivor's timeline.
func (b *ingestBatch) applyMerges(ctx context.Context) error {
	for _, gone := range b.merges {
		to := b.find(gone)
		for _, q := range []string{
			"UPDATE events SET customer_id = ? WHERE workspace_id = ? AND customer_id = ?",
			"UPDATE identities SET customer_id = ? WHERE workspace_id = ? AND customer_id = ?",
			"UPDATE orders SET customer_id = ? WHERE workspace_id = ? AND customer_id = ?",
		} {
			if _, err := b.tx.ExecContext(ctx, b.s.d.q(q), to, b.ws, gone); err != nil {
				return fmt.Errorf("merge customer %d into %d: %w", gone, to, err)
			}
		}
		if _, err := b.tx.ExecContext(ctx, b.s.d.q("DELETE FROM customers WHERE workspace_id = ? AND id = ?"), b.ws, gone); err != nil {
			return fmt.Errorf("merge customer %d into %d: %w", gone, to, err)
		}
		props, _ := json.Marshal(map[string]any{"merged_customer_id": gone, "customer_id": to})
		b.events = append(b.events, eventRow{cust: to, m: &touchbase.Message{
			MessageID:  fmt.Sprintf("tb-merge-%d-%d", gone, to),
			Type:       touchbase.EventTrack,
			Event:      touchbase.EventCustomersMerged,
			Properties: props,
			Timestamp:  timeOf(b.now),
			ReceivedAt: timeOf(b.now),
		}})
	}
	return nil
}

func (b *ingestBatch) insertIdentities(ctx context.Context) error {
	if len(b.newIdents) == 0 {
		return nil
	}
	args := make([]any, 0, len(b.newIdents)*5)
	for _, r := range b.newIdents {
		args = append(args, b.ws, string(r.key.kind), r.key.value, b.find(r.cust), b.now)
	}
	// DO UPDATE, not NOTHING: a merge earlier in the batch may have moved
	// the customer an identity row was planned for.
	return b.s.insertRows(ctx, b.tx, "INSERT INTO identities (workspace_id, kind, value, customer_id, created_at) VALUES",
		5, args, " ON CONFLICT (workspace_id, kind, value) DO UPDATE SET customer_id = excluded.customer_id")
}

func (b *ingestBatch) insertEvents(ctx context.Context) error {
	if len(b.events) == 0 {
		return nil
	}
	args := make([]any, 0, len(b.events)*11)
	for _, e := range b.events {
		m := e.m
		args = append(args, b.ws, b.find(e.cust), m.MessageID, string(m.Type), m.Event, m.UserID, m.AnonymousID,
			ms(m.Timestamp), ms(m.ReceivedAt), rawJSON(m.Properties), rawJSON(m.Context))
	}
	return b.s.insertRows(ctx, b.tx, "INSERT INTO events (workspace_id, customer_id, message_id, type, event, user_id, anonymous_id, timestamp, received_at, properties, context) VALUES",
		11, args, " ON CONFLICT (workspace_id, message_id) DO NOTHING")
}

func (b *ingestBatch) upsertProducts(ctx context.Context) error {
	if len(b.prodOrder) == 0 {
		return nil
	}
	args := make([]any, 0, len(b.prodOrder)*13)
	for _, id := range b.prodOrder {
		p := b.products[id]
		args = append(args, b.ws, p.ProductID, p.SKU, p.Name, p.Category, p.Brand, p.Variant, p.Price, p.Currency, p.URL, p.ImageURL, b.now, b.now)
	}
	keep := func(col string) string {
		return fmt.Sprintf("%[1]s = CASE WHEN excluded.%[1]s <> '' THEN excluded.%[1]s ELSE products.%[1]s END", col)
	}
	var set []string
	for _, col := range []string{"sku", "name", "category", "brand", "variant", "currency", "url", "image_url"} {
		set = append(set, keep(col))
	}
	set = append(set, "price = CASE WHEN excluded.price <> 0 THEN excluded.price ELSE products.price END", "updated_at = excluded.updated_at")
	return b.s.insertRows(ctx, b.tx, "INSERT INTO products (workspace_id, product_id, sku, name, category, brand, variant, price, currency, url, image_url, created_at, updated_at) VALUES",
		13, args, " ON CONFLICT (workspace_id, product_id) DO UPDATE SET "+strings.Join(set, ", "))
}

// saveCustomers inserts new customers and updates touched ones, with their
// order features recomputed from the orders table when orders changed.
func (b *ingestBatch) saveCustomers(ctx context.Context) error {
	var dirtyOrders []any
	for _, id := range b.order {
		if c := b.custs[id]; c.dirty && c.ordersDirty && b.find(id) == id {
			dirtyOrders = append(dirtyOrders, id)
		}
	}
	type orderFeatures struct {
		orders, refunds     int
		revenue, refundSum  float64
		firstOrder, lastOrd sql.NullInt64
	}
	feats := map[int64]*orderFeatures{}
	err := b.s.queryIn(ctx, b.tx, `SELECT customer_id, count(*), coalesce(sum(revenue - refunded), 0), min(placed_at), max(placed_at),
		coalesce(sum(CASE WHEN refunded > 0 THEN 1 ELSE 0 END), 0), coalesce(sum(refunded), 0)
		FROM orders WHERE workspace_id = ? AND status <> 'cancelled' AND customer_id IN (%s) GROUP BY customer_id`,
		[]any{b.ws}, dirtyOrders, func(rows *sql.Rows) error {
			var id int64
			f := &orderFeatures{}
			if err := rows.Scan(&id, &f.orders, &f.revenue, &f.firstOrder, &f.lastOrd, &f.refunds, &f.refundSum); err != nil {
				return err
			}
			feats[id] = f
			return nil
		})
	if err != nil {
		return fmt.Errorf("order features: %w", err)
	}

	var inserts []any
	for _, id := range b.order {
		c := b.custs[id]
		if !c.dirty || b.find(id) != id {
			continue
		}
		traits := any(nil)
		if c.traitsDirty {
			raw, err := json.Marshal(c.traits)
			if err != nil {
				return fmt.Errorf("customer %d traits: %w", id, err)
			}
			traits = string(raw)
		}
		if c.isNew {
			f := feats[id]
			if f == nil {
				f = &orderFeatures{}
			}
			if traits == nil {
				traits = "{}"
			}
			inserts = append(inserts, id, b.ws, nullString(c.userID), nullString(c.email), nullString(c.phone), traits,
				f.orders, f.revenue, f.firstOrder, f.lastOrd, nullInt(c.firstSeen), nullInt(c.lastSeen), f.refunds, f.refundSum,
				c.events, c.createdAt, b.now)
			continue
		}
		q := "UPDATE customers SET user_id = ?, email = ?, phone = ?, traits = coalesce(?, traits), first_seen_at = ?, last_seen_at = ?, events = ?, created_at = ?, updated_at = ?"
		args := []any{nullString(c.userID), nullString(c.email), nullString(c.phone), traits, nullInt(c.firstSeen), nullInt(c.lastSeen), c.events, c.createdAt, b.now}
		if c.ordersDirty {
			f := feats[id]
			if f == nil {
				f = &orderFeatures{}
			}
			q += ", orders = ?, revenue = ?, first_order_at = ?, last_order_at = ?, refunds = ?, refund_total = ?"
			args = append(args, f.orders, f.revenue, f.firstOrder, f.lastOrd, f.refunds, f.refundSum)
		}
		q += " WHERE workspace_id = ? AND id = ?"
		args = append(args, b.ws, id)
		if b.s.d.dollar && c.traitsDirty {
			q = strings.Replace(q, "coalesce(?, traits)", "coalesce(?::jsonb, traits)", 1)
		}
		if _, err := b.tx.ExecContext(ctx, b.s.d.q(q), args...); err != nil {
			return fmt.Errorf("update customer %d: %w", id, err)
		}
	}
	return b.s.insertRows(ctx, b.tx, `INSERT INTO customers (id, workspace_id, user_id, email, phone, traits, orders, revenue,
		first_order_at, last_order_at, first_seen_at, last_seen_at, refunds, refund_total, events, created_at, updated_at) VALUES`, 17, inserts, "")
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// insertRows runs head followed by as many "(?, ...)" tuples as args holds
// (cols values each) and suffix, in chunks that stay under both engines'
// parameter limits.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, args []any, suffix string) error {
	if len(args) == 0 {
		return nil
	}
	if len(args)%cols != 0 {
		return errors.New("insertRows: argument count is not a multiple of the column count")
	}
	maxRows := 30000 / cols
	if maxRows > 1000 {
		maxRows = 1000
	}
	for len(args) > 0 {
		n := min(len(args)/cols, maxRows)
		q := s.tupleSQL(head, cols, n, suffix)
		if _, err := tx.ExecContext(ctx, q, args[:n*cols]...); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(head)[2], err)
		}
		args = args[n*cols:]
	}
	return nil
}

var tupleCache sync.Map // string key -> built SQL

func (s *Store) tupleSQL(head string, cols, rows int, suffix string) string {
	key := fmt.Sprintf("%s|%d|%d|%s|%s", s.d.name, cols, rows, head, suffix)
	if q, ok := tupleCache.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(suffix)
	q := s.d.q(b.String())
	tupleCache.Store(key, q)
	return q
}

// queryIn runs query, whose %s is replaced by an IN list, for values in
// chunks, calling scan for every row. fixed are the arguments before the
// list.
func (s *Store) queryIn(ctx context.Context, tx *sql.Tx, query string, fixed []any, values []any, scan func(*sql.Rows) error) error {
	const chunk = 1000
	for len(values) > 0 {
		n := min(len(values), chunk)
		q := s.d.q(fmt.Sprintf(query, strings.TrimSuffix(strings.Repeat("?, ", n), ", ")))
		args := append(slices.Clip(fixed), values[:n]...)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}
