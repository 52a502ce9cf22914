package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/touchbase/touchbase"
)

// write turns the batch's plan into SQL: ids for new customers, merges,
// identities, events, orders, products, one upsert per touched customer,
// and consents.
func (b *ingestBatch) write(ctx context.Context) error {
	if err := b.allocateIDs(ctx); err != nil {
		return err
	}
	// Before applyMerges deletes the merged-away customers, and their
	// consents with them (ON DELETE CASCADE).
	if err := b.carryConsents(ctx); err != nil {
		return err
	}
	if err := b.applyMerges(ctx); err != nil {
		return err
	}
	if err := b.resolveConsents(ctx); err != nil {
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
	if err := b.saveCustomers(ctx); err != nil {
		return err
	}
	return b.writeConsents(ctx)
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
		for _, st := range []struct {
			q    string
			args []any
		}{
			{"UPDATE events SET customer_id = ? WHERE workspace_id = ? AND customer_id = ?", []any{to, b.ws, gone}},
			{identitiesOfCustomer("UPDATE identities SET customer_id = ?"), []any{to, b.ws, b.ws, gone}},
			{"UPDATE orders SET customer_id = ? WHERE workspace_id = ? AND customer_id = ?", []any{to, b.ws, gone}},
			{"DELETE FROM customers WHERE workspace_id = ? AND id = ?", []any{b.ws, gone}},
			// The engine records the survivor's memberships afresh.
			{leaveSegments, []any{b.ws, b.ws, gone}},
			{"DELETE FROM segment_members WHERE workspace_id = ? AND customer_id = ?", []any{b.ws, gone}},
			// The survivor's scores stand until the next run scores the
			// merged history.
			{"DELETE FROM customer_scores WHERE workspace_id = ? AND customer_id = ?", []any{b.ws, gone}},
		} {
			if _, err := b.tx.ExecContext(ctx, b.s.d.q(st.q), st.args...); err != nil {
				return fmt.Errorf("merge customer %d into %d: %w", gone, to, err)
			}
		}
		props, _ := json.Marshal(map[string]any{"merged_customer_id": gone, "customer_id": to})
		b.events = append(b.events, eventRow{cust: to, in: &touchbase.Inbound{
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

// identitiesOfCustomer completes an UPDATE or DELETE of identities with a
// WHERE taking (workspace_id, customer_id). Written plainly, SQLite scans
// the workspace's whole primary key (every identity) instead of the
// customer index; selecting the keys through the index first does not.
func identitiesOfCustomer(head string) string {
	return head + ` WHERE workspace_id = ? AND (kind, value) IN
		(SELECT kind, value FROM identities WHERE workspace_id = ? AND customer_id = ?)`
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
	return b.s.insertRows(ctx, b.tx, &insertIdentities, args)
}

func (b *ingestBatch) insertEvents(ctx context.Context) error {
	if len(b.events) == 0 {
		return nil
	}
	args := make([]any, 0, len(b.events)*11)
	for _, e := range b.events {
		in := e.in
		args = append(args, b.ws, b.find(e.cust), in.MessageID, string(in.Type), in.Event, in.UserID, in.AnonymousID,
			ms(in.Timestamp), ms(in.ReceivedAt), rawJSON(in.Properties), rawJSON(in.Context))
	}
	if b.s.d.dollar {
		// COPY: a third of the cost of a multi-row INSERT on PostgreSQL.
		// It has no ON CONFLICT, and needs none: dedupe ran under the
		// workspace's advisory lock, in this transaction.
		return b.copyRows(ctx, "events", eventCols, args)
	}
	return b.s.insertRows(ctx, b.tx, &insertEvents, args)
}

var eventCols = []string{"workspace_id", "customer_id", "message_id", "type", "event", "user_id", "anonymous_id", "timestamp", "received_at", "properties", "context"}

// copyRows loads rows (len(cols) values each) into table with COPY, inside
// the batch's transaction (PostgreSQL only).
func (b *ingestBatch) copyRows(ctx context.Context, table string, cols []string, args []any) error {
	return copyIn(ctx, b.conn, table, cols, args)
}

// copyIn loads rows (len(cols) values each) into table with COPY on conn,
// inside the transaction open on it (PostgreSQL only).
func copyIn(ctx context.Context, conn *sql.Conn, table string, cols []string, args []any) error {
	n := len(cols)
	rows := make([][]any, 0, len(args)/n)
	for i := 0; i+n <= len(args); i += n {
		rows = append(rows, args[i:i+n])
	}
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy: connection is a %T, not pgx", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return nil
}

// upsertProducts writes the batch's catalogue changes: trusted ones as
// they are, public ones only where no trusted source defined the product
// (or where they change nothing), counting the others as refused.
func (b *ingestBatch) upsertProducts(ctx context.Context) error {
	if len(b.prodOrder) == 0 {
		return nil
	}
	nTrusted := 0
	for _, id := range b.prodOrder {
		if b.products[id].trusted {
			nTrusted++
		}
	}
	// Sized once, as the other bulk rows are.
	n := len(productCols)
	trusted := make([]any, 0, nTrusted*n)
	public := make([]any, 0, (len(b.prodOrder)-nTrusted)*n)
	for _, id := range b.prodOrder {
		p := b.products[id]
		if b.s.cache != nil && b.s.cache.productUnchanged(b.ws, p.Product) {
			continue
		}
		if p.trusted {
			trusted = append(trusted, b.ws, p.ProductID, p.SKU, p.Name, p.Category, p.Brand, p.Variant, p.Price, p.Currency, p.URL, p.ImageURL, b.now, b.now, 1)
		} else {
			public = append(public, b.ws, p.ProductID, p.SKU, p.Name, p.Category, p.Brand, p.Variant, p.Price, p.Currency, p.URL, p.ImageURL, b.now, b.now, 0)
		}
	}
	if err := b.s.insertRows(ctx, b.tx, &upsertProducts, trusted); err != nil {
		return err
	}
	return b.upsertPublicProducts(ctx, public)
}

// upsertPublicProducts runs upsertPublic over rows (productCols values
// each) and counts the rows the database refused. SQLite runs a row at a
// time and so knows which; PostgreSQL counts them per statement, and has
// no ingest cache that would need to know.
func (b *ingestBatch) upsertPublicProducts(ctx context.Context, rows []any) error {
	if len(rows) == 0 {
		return nil
	}
	n := upsertPublic.cols
	if !b.s.d.dollar {
		q := b.s.sqliteSQL(&upsertPublic)
		var st *sql.Stmt
		if p, ok := b.s.stmts.Load(q); ok {
			st = b.tx.StmtContext(ctx, p.(*sql.Stmt))
		} else {
			var err error
			if st, err = b.tx.PrepareContext(ctx, q); err != nil {
				return fmt.Errorf("products: %w", err)
			}
			defer st.Close()
		}
		for ; len(rows) > 0; rows = rows[n:] {
			res, err := st.ExecContext(context.WithoutCancel(ctx), rows[:n]...)
			if err != nil {
				return fmt.Errorf("products: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				b.refusedProducts++
				b.refusedIDs = append(b.refusedIDs, rows[1].(string))
			}
		}
		return nil
	}
	for len(rows) > 0 {
		k := len(rows) / n
		for _, size := range chunkSizes { // as insertRows: a few prepared shapes
			if size <= upsertPublic.maxRows() && k >= size {
				k = size
				break
			}
		}
		res, err := b.tx.ExecContext(ctx, b.s.tupleSQL(&upsertPublic, k), rows[:k*n]...)
		if err != nil {
			return fmt.Errorf("products: %w", err)
		}
		written, _ := res.RowsAffected()
		b.refusedProducts += k - int(written)
		rows = rows[k*n:]
	}
	return nil
}

// saveCustomers inserts new customers and updates touched ones, with their
// order features recomputed from the orders table when orders changed.
func (b *ingestBatch) saveCustomers(ctx context.Context) error {
	var dirtyOrders []any
	for _, id := range b.order {
		if c := b.custs[id]; c.dirty && c.ordersDirty && c.ordersRecount && b.find(id) == id {
			dirtyOrders = append(dirtyOrders, id)
		}
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

	var inserts, updates, seen []any
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
		f := feats[id]
		ordersDirty := 0
		switch {
		case !c.ordersDirty:
		case c.ordersRecount:
			ordersDirty = 1
		default:
			ordersDirty, f = 2, &c.added // added to the stored ones (none when new)
		}
		if f == nil {
			f = &orderFeatures{}
		}
		if c.isNew {
			if traits == nil {
				traits = "{}"
			}
			inserts = append(inserts, id, b.ws, nullString(c.userID), nullString(c.email), nullString(c.phone), traits,
				f.orders, f.revenue, f.firstOrder, f.lastOrd, nullSeen(c.firstSeen), nullSeen(c.lastSeen), f.refunds, f.refundSum,
				c.events, c.createdAt, b.now)
			continue
		}
		if c.onlySeen() {
			seen = append(seen, b.ws, id, nullSeen(c.firstSeen), nullSeen(c.lastSeen), c.events, b.now)
			continue
		}
		updates = append(updates, b.ws, id, nullString(c.userID), nullString(c.email), nullString(c.phone), traits,
			nullSeen(c.firstSeen), nullSeen(c.lastSeen), c.events, c.createdAt,
			ordersDirty, f.orders, f.revenue, f.firstOrder, f.lastOrd, f.refunds, f.refundSum, b.now)
	}
	if err := b.s.insertRows(ctx, b.tx, &insertCustomers, inserts); err != nil {
		return err
	}
	if err := b.s.insertRows(ctx, b.tx, &updateSeen, seen); err != nil {
		return err
	}
	return b.s.insertRows(ctx, b.tx, &updateCustomers, updates)
}

// The ingestion path's bulk statements; Open prepares them on SQLite.
var (
	insertIdentities = rowsSQL{
		head:   "INSERT INTO identities (workspace_id, kind, value, customer_id, created_at) VALUES",
		cols:   5,
		suffix: " ON CONFLICT (workspace_id, kind, value) DO UPDATE SET customer_id = excluded.customer_id",
	}
	insertEvents = rowsSQL{
		head:   insertHead("events", eventCols),
		cols:   len(eventCols),
		suffix: " ON CONFLICT (workspace_id, message_id) DO NOTHING",
	}
	productCols = []string{"workspace_id", "product_id", "sku", "name", "category", "brand", "variant", "price", "currency",
		"url", "image_url", "created_at", "updated_at", "trusted"}
	// mergeProductCols keeps the stored value of every field the new row
	// leaves empty (or, for the price, zero). A public row that changes
	// nothing of a trusted product leaves its updated_at too.
	mergeProductCols = `
			sku = CASE WHEN excluded.sku <> '' THEN excluded.sku ELSE products.sku END,
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE products.name END,
			category = CASE WHEN excluded.category <> '' THEN excluded.category ELSE products.category END,
			brand = CASE WHEN excluded.brand <> '' THEN excluded.brand ELSE products.brand END,
			variant = CASE WHEN excluded.variant <> '' THEN excluded.variant ELSE products.variant END,
			currency = CASE WHEN excluded.currency <> '' THEN excluded.currency ELSE products.currency END,
			url = CASE WHEN excluded.url <> '' THEN excluded.url ELSE products.url END,
			image_url = CASE WHEN excluded.image_url <> '' THEN excluded.image_url ELSE products.image_url END,
			price = CASE WHEN excluded.price <> 0 THEN excluded.price ELSE products.price END,
			updated_at = CASE WHEN products.trusted > excluded.trusted THEN products.updated_at ELSE excluded.updated_at END`
	// upsertProducts writes trusted products (a server key's, an
	// import's): a field the event leaves out keeps its stored value, and
	// the product is trusted from then on.
	upsertProducts = rowsSQL{
		head:   insertHead("products", productCols),
		cols:   len(productCols),
		suffix: ` ON CONFLICT (workspace_id, product_id) DO UPDATE SET ` + mergeProductCols + `, trusted = 1`,
	}
	// upsertPublic writes the products of public inbounds: new ones, as
	// untrusted, and changes to untrusted ones. A trusted product is left
	// as it is, and the row counts as not written when the inbound would
	// have changed it.
	upsertPublic = rowsSQL{
		head: insertHead("products", productCols),
		cols: len(productCols),
		suffix: ` ON CONFLICT (workspace_id, product_id) DO UPDATE SET ` + mergeProductCols + `
			WHERE products.trusted = 0 OR NOT (
				(excluded.sku <> '' AND excluded.sku <> products.sku) OR
				(excluded.name <> '' AND excluded.name <> products.name) OR
				(excluded.category <> '' AND excluded.category <> products.category) OR
				(excluded.brand <> '' AND excluded.brand <> products.brand) OR
				(excluded.variant <> '' AND excluded.variant <> products.variant) OR
				(excluded.currency <> '' AND excluded.currency <> products.currency) OR
				(excluded.url <> '' AND excluded.url <> products.url) OR
				(excluded.image_url <> '' AND excluded.image_url <> products.image_url) OR
				(excluded.price <> 0 AND excluded.price <> products.price))`,
	}
	insertCustomers = rowsSQL{
		head: `INSERT INTO customers (id, workspace_id, user_id, email, phone, traits, orders, revenue,
			first_order_at, last_order_at, first_seen_at, last_seen_at, refunds, refund_total, events, created_at, updated_at) VALUES`,
		cols: 17,
	}
	insertOrderItems = rowsSQL{
		head:       insertHead("order_items", orderItemCols),
		cols:       len(orderItemCols),
		sqliteRows: 32,
	}
	// updateCustomers writes many customers' new state in one statement
	// (UPDATE ... FROM a VALUES list). A NULL traits keeps the stored traits;
	// orders_dirty = 0 keeps the stored order features, 1 replaces them,
	// and 2 adds orders to them (orders, revenue, first and last order;
	// refunds stay).
	updateCustomers = rowsSQL{
		head: `WITH v (workspace_id, id, user_id, email, phone, traits, first_seen_at, last_seen_at, events, created_at,
			orders_dirty, orders, revenue, first_order_at, last_order_at, refunds, refund_total, updated_at) AS (VALUES `,
		cols: 18,
		suffix: `) UPDATE customers SET user_id = v.user_id, email = v.email, phone = v.phone,
			traits = coalesce(v.traits, customers.traits), first_seen_at = v.first_seen_at, last_seen_at = v.last_seen_at,
			events = v.events, created_at = v.created_at, updated_at = v.updated_at,
			orders = CASE v.orders_dirty WHEN 1 THEN v.orders WHEN 2 THEN customers.orders + v.orders ELSE customers.orders END,
			revenue = CASE v.orders_dirty WHEN 1 THEN v.revenue WHEN 2 THEN customers.revenue + v.revenue ELSE customers.revenue END,
			first_order_at = CASE WHEN v.orders_dirty = 1 OR (v.orders_dirty = 2 AND (customers.first_order_at IS NULL OR v.first_order_at < customers.first_order_at))
				THEN v.first_order_at ELSE customers.first_order_at END,
			last_order_at = CASE WHEN v.orders_dirty = 1 OR (v.orders_dirty = 2 AND (customers.last_order_at IS NULL OR v.last_order_at > customers.last_order_at))
				THEN v.last_order_at ELSE customers.last_order_at END,
			refunds = CASE WHEN v.orders_dirty = 1 THEN v.refunds ELSE customers.refunds END,
			refund_total = CASE WHEN v.orders_dirty = 1 THEN v.refund_total ELSE customers.refund_total END
			FROM v WHERE customers.workspace_id = v.workspace_id AND customers.id = v.id`,
		pgTypes: []string{"bigint", "bigint", "text", "text", "text", "jsonb", "bigint", "bigint", "integer", "bigint",
			"integer", "integer", "double precision", "bigint", "bigint", "integer", "double precision", "bigint"},
		sqliteRow: `UPDATE customers SET user_id = ?3, email = ?4, phone = ?5, traits = coalesce(?6, traits),
			first_seen_at = ?7, last_seen_at = ?8, events = ?9, created_at = ?10, updated_at = ?18,
			orders = CASE ?11 WHEN 1 THEN ?12 WHEN 2 THEN orders + ?12 ELSE orders END,
			revenue = CASE ?11 WHEN 1 THEN ?13 WHEN 2 THEN revenue + ?13 ELSE revenue END,
			first_order_at = CASE WHEN ?11 = 1 OR (?11 = 2 AND (first_order_at IS NULL OR ?14 < first_order_at)) THEN ?14 ELSE first_order_at END,
			last_order_at = CASE WHEN ?11 = 1 OR (?11 = 2 AND (last_order_at IS NULL OR ?15 > last_order_at)) THEN ?15 ELSE last_order_at END,
			refunds = CASE WHEN ?11 = 1 THEN ?16 ELSE refunds END, refund_total = CASE WHEN ?11 = 1 THEN ?17 ELSE refund_total END
			WHERE workspace_id = ?1 AND id = ?2`,
	}

	// updateSeen is updateCustomers for customers whose only change is
	// activity: it touches one index instead of five.
	updateSeen = rowsSQL{
		head: "WITH v (workspace_id, id, first_seen_at, last_seen_at, events, updated_at) AS (VALUES ",
		cols: 6,
		suffix: `) UPDATE customers SET first_seen_at = v.first_seen_at, last_seen_at = v.last_seen_at, events = v.events,
			updated_at = v.updated_at FROM v WHERE customers.workspace_id = v.workspace_id AND customers.id = v.id`,
		pgTypes:   []string{"bigint", "bigint", "bigint", "bigint", "integer", "bigint"},
		sqliteRow: "UPDATE customers SET first_seen_at = ?3, last_seen_at = ?4, events = ?5, updated_at = ?6 WHERE workspace_id = ?1 AND id = ?2",
	}

	ingestRows = []*rowsSQL{&updateSeen, &insertIdentities, &insertEvents, &upsertProducts, &upsertPublic, &insertCustomers, &insertOrderItems, &updateCustomers}
)

// orderFeatures are a customer's order features, counted from the
// orders table or (added) what a batch's new orders add to them.
type orderFeatures struct {
	orders, refunds     int
	revenue, refundSum  float64
	firstOrder, lastOrd sql.NullInt64
}

// add counts new order st, which no feature counts yet.
func (f *orderFeatures) add(st *orderState) {
	f.orders++
	f.revenue += st.revenue - st.refunded
	if !f.firstOrder.Valid || st.placed < f.firstOrder.Int64 {
		f.firstOrder = sql.NullInt64{Int64: st.placed, Valid: true}
	}
	if !f.lastOrd.Valid || st.placed > f.lastOrd.Int64 {
		f.lastOrd = sql.NullInt64{Int64: st.placed, Valid: true}
	}
}

// unseen is a seen time that is not known: no time at all, where 0 would
// be the Unix epoch (an event at 1970-01-01T00:00:00Z lost its customer's
// last_seen_at to that once).
const unseen = math.MinInt64

// nullSeen is a seen time as a column value: NULL when unseen.
func nullSeen(v int64) any {
	if v == unseen {
		return nil
	}
	return v
}

// seenMillis is a seen time read from its column.
func seenMillis(v sql.NullInt64) int64 {
	if !v.Valid {
		return unseen
	}
	return v.Int64
}

// rowsSQL is a statement that takes many rows: head, then one
// "(?, ...)" tuple per row, then suffix. pgTypes, when set, casts each value
// on PostgreSQL (a VALUES list outside INSERT has no column types there).
//
// On SQLite rows go one at a time through a prepared single-row statement
// (sqliteRow, or head with one tuple): there are no round trips to save
// in-process, and a multi-row statement makes SQLite keep a statement
// journal, copying every page the transaction already changed, which cost
// more than the inserts themselves.
type rowsSQL struct {
	head      string
	cols      int
	suffix    string
	pgTypes   []string
	sqliteRow string // SQLite's single-row form, when head+tuple+suffix will not do
	// sqliteRows, when above 1, is how many rows go in one statement on
	// SQLite: for plain appends (orders, their items), where there is no
	// conflict clause and the binding per statement is what costs.
	sqliteRows int
}

// insertHead is the head of a rowsSQL that inserts cols into table, for
// tables that are also loaded by COPY with the same columns.
func insertHead(table string, cols []string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES"
}

// maxRows keeps a statement under both engines' parameter limits.
func (r *rowsSQL) maxRows() int { return 30000 / r.cols }

// sqliteSQL is the single-row statement SQLite runs for r.
func (s *Store) sqliteSQL(r *rowsSQL) string {
	if r.sqliteRow != "" {
		return r.sqliteRow
	}
	return s.tupleSQL(r, 1)
}

// chunkSizes are the only row counts PostgreSQL statements are built for,
// so that a few prepared statements serve every batch.
var chunkSizes = []int{1000, 256, 64, 16, 4, 1}

// insertRows runs r over args (r.cols values per row).
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, r *rowsSQL, args []any) error {
	if len(args)%r.cols != 0 {
		return errors.New("insertRows: argument count is not a multiple of the column count")
	}
	if len(args) == 0 {
		return nil
	}
	table := strings.Fields(r.head)[2] // the table name, or "(" for updates
	if !s.d.dollar {
		q := s.sqliteSQL(r)
		var st *sql.Stmt
		if p, ok := s.stmts.Load(q); ok {
			st = tx.StmtContext(ctx, p.(*sql.Stmt))
		} else {
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			defer st.Close()
		}
		// Without a Done channel, the driver does not start a goroutine
		// per statement to watch it; the transaction is short anyway.
		exec := context.WithoutCancel(ctx)
		if n := r.sqliteRows; n > 1 && len(args) >= n*r.cols {
			multi, err := tx.PrepareContext(ctx, s.tupleSQL(r, n))
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			defer multi.Close()
			for ; len(args) >= n*r.cols; args = args[n*r.cols:] {
				if _, err := multi.ExecContext(exec, args[:n*r.cols]...); err != nil {
					return fmt.Errorf("%s: %w", table, err)
				}
			}
		}
		for ; len(args) > 0; args = args[r.cols:] {
			if _, err := st.ExecContext(exec, args[:r.cols]...); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	}
	for len(args) > 0 {
		n := len(args) / r.cols
		for _, size := range chunkSizes {
			if size <= r.maxRows() && n >= size {
				n = size
				break
			}
		}
		if _, err := tx.ExecContext(ctx, s.tupleSQL(r, n), args[:n*r.cols]...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		args = args[n*r.cols:]
	}
	return nil
}

var tupleCache sync.Map // string key -> built SQL

func (s *Store) tupleSQL(r *rowsSQL, rows int) string {
	key := fmt.Sprintf("%s|%d|%p", s.d.name, rows, r)
	if q, ok := tupleCache.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(r.head)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", r.cols), ", ") + ")"
	if s.d.dollar && len(r.pgTypes) == r.cols {
		ps := make([]string, r.cols)
		for i, t := range r.pgTypes {
			ps[i] = "?::" + t
		}
		tuple = "(" + strings.Join(ps, ", ") + ")"
	}
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(r.suffix)
	q := s.d.q(b.String())
	tupleCache.Store(key, q)
	return q
}

// queryIn runs query, whose "IN (%s)" takes values, calling scan for every
// row; fixed are the arguments before the list. On SQLite the list is
// spelt out in chunks; on PostgreSQL it is one array parameter
// (= ANY(?)), which plans once however long the list.
func (s *Store) queryIn(ctx context.Context, tx *sql.Tx, query string, fixed []any, values []any, scan func(*sql.Rows) error) error {
	if len(values) == 0 {
		return nil
	}
	if s.d.dollar {
		return queryRows(ctx, tx, s.d.q(strings.Replace(query, "IN (%s)", "= ANY(?)", 1)), append(slices.Clip(fixed), pgArray(values)), scan)
	}
	const chunk = 1000
	for len(values) > 0 {
		n := min(len(values), chunk)
		q := s.d.q(fmt.Sprintf(query, strings.TrimSuffix(strings.Repeat("?, ", n), ", ")))
		if err := queryRows(ctx, tx, q, append(slices.Clip(fixed), values[:n]...), scan); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// pgArray turns a list of strings or int64s into the typed slice pgx sends
// as a PostgreSQL array.
func pgArray(values []any) any {
	if _, ok := values[0].(string); ok {
		out := make([]string, len(values))
		for i, v := range values {
			out[i] = v.(string)
		}
		return out
	}
	out := make([]int64, len(values))
	for i, v := range values {
		out[i] = v.(int64)
	}
	return out
}

func queryRows(ctx context.Context, tx *sql.Tx, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
