package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.Ingester = (*Store)(nil)

// Ingest stores ins in one transaction: it drops messageIds already stored,
// drops inbounds naming an erased customer's identifier, resolves every
// inbound to one customer (creating and merging profiles), writes the
// events, applies e-commerce changes to orders and products, and brings the
// touched customers' traits and built-in features up to date.
//
// Work is batched per workspace: a fixed number of statements per call
// plus one per touched customer, never one round trip per event.
//
// A full disk (or tablespace) is ENOROOM, a database out of connections or
// unreachable EUNAVAILABLE: nothing of ins is stored then, and the same
// call succeeds once the condition passes.
func (s *Store) Ingest(ctx context.Context, ins []touchbase.Inbound) (touchbase.IngestResult, error) {
	res, err := s.ingest(ctx, ins, false)
	return res, s.condition(err)
}

// IngestBulk is Ingest for bulk loads (imports, the demo store), whose
// commits are not flushed to disk before it returns (synchronous=NORMAL on
// SQLite, synchronous_commit off on PostgreSQL): a crash may lose the last
// calls' work, never corrupt the database, and an import makes that good by
// running again. The next durable commit, of any kind, makes all of it
// durable: both databases write their logs in order.
func (s *Store) IngestBulk(ctx context.Context, ins []touchbase.Inbound) (touchbase.IngestResult, error) {
	res, err := s.ingest(ctx, ins, true)
	return res, s.condition(err)
}

func (s *Store) ingest(ctx context.Context, ins []touchbase.Inbound, bulk bool) (touchbase.IngestResult, error) {
	res := touchbase.IngestResult{}
	if len(ins) == 0 {
		return res, nil
	}
	statuses := make([]touchbase.IngestStatus, len(ins))

	// Group by workspace, keeping each workspace's inbounds in order.
	byWS := map[int64][]int{}
	for i := range ins {
		byWS[ins[i].WorkspaceID] = append(byWS[ins[i].WorkspaceID], i)
	}
	wss := make([]int64, 0, len(byWS))
	for ws := range byWS {
		wss = append(wss, ws)
	}
	slices.Sort(wss) // a fixed lock order across nodes

	// A dedicated connection: on PostgreSQL, events go in by COPY on the
	// transaction's own connection.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("ingest: connection: %w", err)
	}
	defer conn.Close()
	if bulk && !s.d.dollar {
		// Per connection, and this is the writer: put it back for the
		// durable paths before the connection goes back to the pool.
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			return res, fmt.Errorf("ingest: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); err != nil {
				// Never hand out a writer that acknowledges before the disk.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("ingest: begin: %w", err)
	}
	defer tx.Rollback()
	if bulk && s.d.dollar {
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return res, fmt.Errorf("ingest: %w", err)
		}
	}
	var gen int64
	if s.cache != nil {
		if gen, err = s.cache.begin(ctx, tx); err != nil {
			return res, err
		}
	}
	if s.d.dollar {
		// Every join here matches a batch against its rows by key: index
		// probes are right however young the table's statistics are (the
		// planner would hash-join whole tables it believes tiny).
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"); err != nil {
			return res, fmt.Errorf("ingest: %w", err)
		}
	}
	now := s.now()
	batches := make([]*ingestBatch, 0, len(wss))
	for _, ws := range wss {
		if s.d.dollar {
			// Serialise ingestion per workspace across touchbase nodes, so
			// identity resolution sees a stable picture.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", ws); err != nil {
				return res, fmt.Errorf("ingest: lock workspace %d: %w", ws, err)
			}
		}
		b := &ingestBatch{s: s, conn: conn, tx: tx, ws: ws, now: now}
		if err := b.run(ctx, ins, byWS[ws], statuses); err != nil {
			return res, fmt.Errorf("ingest workspace %d: %w", ws, err)
		}
		batches = append(batches, b)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("ingest: commit: %w", err)
	}
	s.changed.fire()
	s.analyze.wrote(len(ins))
	if s.cache != nil {
		for _, b := range batches {
			if b.ids != nil {
				s.cache.committed(b, gen)
			}
		}
	}
	res.Statuses = make([]touchbase.IngestStatus, 0, len(ins))
	for _, st := range statuses {
		res.Add(st)
	}
	for _, b := range batches {
		res.RefusedOrders += b.refusedOrders
		res.RefusedProducts += b.refusedProducts
	}
	return res, nil
}

// identKey is one identifier.
type identKey struct {
	kind  touchbase.IdentityKind
	value string
}

// custState is a customer touched by a batch. New customers have negative
// ids until write time.
type custState struct {
	id     int64
	isNew  bool
	userID string
	email  string
	phone  string

	traits      map[string]any // nil until loaded (new customers start empty)
	traitsDirty bool

	firstSeen, lastSeen int64 // unseen = unknown (0 is the Unix epoch)
	events              int
	// ordersDirty says the order features change. They are counted again
	// from the orders table when ordersRecount says an order changed or
	// moved, or profiles merged; otherwise the batch only added orders,
	// and added is what they add: an import of a customer's hundredth
	// order does not read the other ninety-nine.
	ordersDirty   bool
	ordersRecount bool
	added         orderFeatures
	dirty         bool
	createdAt     int64

	// stored holds the identifier columns as loaded, to tell a customer
	// whose only change is activity (the common case) from one that needs
	// a full update.
	stored          struct{ userID, email, phone string }
	storedCreatedAt int64
}

// onlySeen reports whether the customer's only changes are its seen times
// and event count.
func (c *custState) onlySeen() bool {
	return !c.traitsDirty && !c.ordersDirty && c.createdAt == c.storedCreatedAt &&
		c.userID == c.stored.userID && c.email == c.stored.email && c.phone == c.stored.phone
}

// ingestBatch is the state of one workspace's part of an Ingest call.
type ingestBatch struct {
	s    *Store
	conn *sql.Conn // tx's connection
	tx   *sql.Tx
	ws   int64
	now  int64

	ids      map[identKey]int64   // identifier -> customer (follow via find)
	custs    map[int64]*custState // touched customers by id
	order    []int64              // touched customer ids in first-touch order
	redirect map[int64]int64      // merged-away customer -> the one it merged into
	nextTemp int64

	newIdents []identRow
	events    []eventRow
	merges    []int64 // real customers merged away, in order
	orders    []orderRow
	products  map[string]batchProduct
	prodOrder []string

	// What public inbounds (touchbase.Inbound.Public) were refused.
	refusedOrders   int
	refusedProducts int
	// refusedIDs are the products whose public change the database
	// refused: the ingest cache must not believe them written.
	refusedIDs []string

	// consents are planned, then to write (consent.go).
	consents []consentRow
}

// batchProduct is a product as the batch will write it, and whether a
// trusted inbound (a server key's, an import's) defined it.
type batchProduct struct {
	touchbase.Product
	trusted bool
}

type identRow struct {
	key  identKey
	cust int64
}

type eventRow struct {
	cust int64
	in   *touchbase.Inbound
}

type orderRow struct {
	cust   int64
	change *touchbase.OrderChange
	public bool // from a public write key
}

func (b *ingestBatch) run(ctx context.Context, ins []touchbase.Inbound, idx []int, statuses []touchbase.IngestStatus) error {
	live, err := b.dedupe(ctx, ins, idx, statuses)
	if err != nil {
		return err
	}
	if live, err = b.dropErased(ctx, ins, live, statuses); err != nil {
		return err
	}
	if len(live) == 0 {
		return nil
	}
	b.ids = map[identKey]int64{}
	b.custs = map[int64]*custState{}
	b.redirect = map[int64]int64{}
	b.products = map[string]batchProduct{}
	if err := b.lookupIdentities(ctx, ins, live); err != nil {
		return err
	}
	for _, i := range live {
		if err := b.apply(ctx, &ins[i]); err != nil {
			return err
		}
	}
	return b.write(ctx)
}

// dedupe marks messages whose messageId is stored already, or repeated
// earlier in the call, as duplicates and returns the rest.
func (b *ingestBatch) dedupe(ctx context.Context, ins []touchbase.Inbound, idx []int, statuses []touchbase.IngestStatus) ([]int, error) {
	seen := make(map[string]bool, len(idx))
	ids := make([]any, 0, len(idx))
	for _, i := range idx {
		id := ins[i].MessageID
		if !seen[id] {
			seen[id] = false
			ids = append(ids, id)
		}
	}
	stored := map[string]bool{}
	err := b.s.queryIn(ctx, b.tx, "SELECT message_id FROM events WHERE workspace_id = ? AND message_id IN (%s)", []any{b.ws}, ids, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		stored[id] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dedupe: %w", err)
	}
	live := idx[:0:0]
	for _, i := range idx {
		id := ins[i].MessageID
		if stored[id] || seen[id] {
			statuses[i] = touchbase.IngestDuplicate
			continue
		}
		seen[id] = true
		statuses[i] = touchbase.IngestStored
		live = append(live, i)
	}
	return live, nil
}

// identKeys returns an inbound's identifiers, most trusted first.
func identKeys(in *touchbase.Inbound) []identKey {
	keys := make([]identKey, 0, 4)
	if in.UserID != "" {
		keys = append(keys, identKey{touchbase.IdentityUserID, in.UserID})
	}
	if in.Email != "" {
		keys = append(keys, identKey{touchbase.IdentityEmail, in.Email})
	}
	if in.Phone != "" {
		keys = append(keys, identKey{touchbase.IdentityPhone, in.Phone})
	}
	if in.AnonymousID != "" {
		keys = append(keys, identKey{touchbase.IdentityAnonymousID, in.AnonymousID})
	}
	return keys
}

// aliasKeys are the identifiers alias's previousId may be: a user id or an
// anonymous id.
func aliasKeys(in *touchbase.Inbound) []identKey {
	if in.Type != touchbase.EventAlias || in.PreviousID == "" {
		return nil
	}
	return []identKey{{touchbase.IdentityUserID, in.PreviousID}, {touchbase.IdentityAnonymousID, in.PreviousID}}
}

// dropErased drops inbounds that carry an identifier of an erased customer.
func (b *ingestBatch) dropErased(ctx context.Context, ins []touchbase.Inbound, live []int, statuses []touchbase.IngestStatus) ([]int, error) {
	var has int
	err := b.tx.QueryRowContext(ctx, b.s.d.q("SELECT count(*) FROM (SELECT 1 FROM erased_identities WHERE workspace_id = ? LIMIT 1) x"), b.ws).Scan(&has)
	if err != nil {
		return nil, fmt.Errorf("erased identities: %w", err)
	}
	if has == 0 {
		return live, nil
	}
	hashes := map[string]bool{}
	var args []any
	for _, i := range live {
		for _, k := range append(identKeys(&ins[i]), aliasKeys(&ins[i])...) {
			h := string(k.kind) + ":" + erasedHash(k.value)
			if _, ok := hashes[h]; !ok {
				hashes[h] = false
				args = append(args, erasedHash(k.value))
			}
		}
	}
	err = b.s.queryIn(ctx, b.tx, "SELECT kind, value_hash FROM erased_identities WHERE workspace_id = ? AND value_hash IN (%s)", []any{b.ws}, args, func(rows *sql.Rows) error {
		var kind, h string
		if err := rows.Scan(&kind, &h); err != nil {
			return err
		}
		hashes[kind+":"+h] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("erased identities: %w", err)
	}
	out := live[:0:0]
next:
	for _, i := range live {
		for _, k := range append(identKeys(&ins[i]), aliasKeys(&ins[i])...) {
			if hashes[string(k.kind)+":"+erasedHash(k.value)] {
				statuses[i] = touchbase.IngestErased
				continue next
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// customerCols are the customer columns the batch needs, traits aside:
// traits are loaded only for the customers whose traits change.
const customerCols = "c.id, c.user_id, c.email, c.phone, c.first_seen_at, c.last_seen_at, c.events, c.created_at"

// lookupIdentities loads every identifier the inbounds name with the
// customer each points to, in one query per identifier kind, then the
// traits of the customers that may need them.
func (b *ingestBatch) lookupIdentities(ctx context.Context, ins []touchbase.Inbound, live []int) error {
	byKind := map[touchbase.IdentityKind][]any{}
	seen := map[identKey]bool{}
	for _, i := range live {
		for _, k := range append(identKeys(&ins[i]), aliasKeys(&ins[i])...) {
			if !seen[k] {
				seen[k] = true
				byKind[k.kind] = append(byKind[k.kind], k.value)
			}
		}
	}
	for _, kind := range touchbase.IdentityKinds {
		values := b.fromCache(kind, byKind[kind])
		if len(values) == 0 {
			continue
		}
		q := "SELECT i.value, " + customerCols + ` FROM identities i
			JOIN customers c ON c.workspace_id = i.workspace_id AND c.id = i.customer_id
			WHERE i.workspace_id = ? AND i.kind = ? AND i.value IN (%s)`
		if b.s.d.dollar {
			// One index probe per listed value, whatever the statistics say:
			// a plain join, planned on a young table's statistics ("one
			// row"), hash-joined every identity of the workspace. LIMIT 1
			// (values are unique) keeps the planner from flattening it.
			q = `SELECT v.value, x.* FROM unnest(?::text[]) AS v (value), LATERAL (
				SELECT ` + customerCols + ` FROM identities i
				JOIN customers c ON c.workspace_id = i.workspace_id AND c.id = i.customer_id
				WHERE i.workspace_id = ? AND i.kind = ? AND i.value = v.value LIMIT 1) x`
		}
		scan := func(rows *sql.Rows) error {
			var v string
			c, err := scanCustState(rows, &v)
			if err != nil {
				return err
			}
			if _, ok := b.custs[c.id]; !ok {
				b.custs[c.id] = c
			}
			b.ids[identKey{kind, v}] = c.id
			return nil
		}
		var err error
		if b.s.d.dollar {
			err = queryRows(ctx, b.tx, b.s.d.q(q), []any{pgArray(values), b.ws, string(kind)}, scan)
		} else {
			err = b.s.queryIn(ctx, b.tx, q, []any{b.ws, string(kind)}, values, scan)
		}
		if err != nil {
			return fmt.Errorf("look up identities: %w", err)
		}
	}
	// Prefetch traits where an inbound sets some or may merge profiles.
	var want []any
	wanted := map[int64]bool{}
	for _, i := range live {
		in := &ins[i]
		keys := append(identKeys(in), aliasKeys(in)...)
		if len(in.Traits) == 0 && len(keys) < 2 {
			continue
		}
		for _, k := range keys {
			if c, ok := b.ids[k]; ok && !wanted[c] {
				wanted[c] = true
				want = append(want, c)
			}
		}
	}
	return b.loadTraits(ctx, want)
}

// fromCache resolves the values of one kind that the identity cache knows,
// and returns the others.
func (b *ingestBatch) fromCache(kind touchbase.IdentityKind, values []any) []any {
	if b.s.cache == nil {
		return values
	}
	miss := values[:0]
	for _, v := range values {
		k := identKey{kind, v.(string)}
		id, snap, ok := b.s.cache.lookup(b.ws, k)
		if !ok {
			miss = append(miss, v)
			continue
		}
		if _, loaded := b.custs[id]; !loaded {
			b.custs[id] = &custState{
				id: id, userID: snap.userID, email: snap.email, phone: snap.phone,
				firstSeen: snap.firstSeen, lastSeen: snap.lastSeen, events: snap.events, createdAt: snap.createdAt,
				storedCreatedAt: snap.createdAt,
			}
			b.custs[id].stored.userID, b.custs[id].stored.email, b.custs[id].stored.phone = snap.userID, snap.email, snap.phone
		}
		b.ids[k] = id
	}
	return miss
}

// scanCustState scans customerCols, after the given leading columns.
func scanCustState(rows *sql.Rows, lead ...any) (*custState, error) {
	c := &custState{}
	var userID, email, phone sql.NullString
	var first, last sql.NullInt64
	dest := append(lead, &c.id, &userID, &email, &phone, &first, &last, &c.events, &c.createdAt)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	c.userID, c.email, c.phone = userID.String, email.String, phone.String
	c.stored.userID, c.stored.email, c.stored.phone = c.userID, c.email, c.phone
	c.storedCreatedAt = c.createdAt
	c.firstSeen, c.lastSeen = seenMillis(first), seenMillis(last)
	return c, nil
}

// loadCustomer loads one customer the batch has not touched yet; false when
// it does not exist.
func (b *ingestBatch) loadCustomer(ctx context.Context, id int64) (bool, error) {
	rows, err := b.tx.QueryContext(ctx, b.s.d.q("SELECT "+customerCols+" FROM customers c WHERE c.workspace_id = ? AND c.id = ?"), b.ws, id)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	c, err := scanCustState(rows)
	if err != nil {
		return false, err
	}
	b.custs[id] = c
	return true, nil
}

// loadTraits loads the stored traits of the given customers.
func (b *ingestBatch) loadTraits(ctx context.Context, ids []any) error {
	err := b.s.queryIn(ctx, b.tx, "SELECT id, traits FROM customers WHERE workspace_id = ? AND id IN (%s)", []any{b.ws}, ids, func(rows *sql.Rows) error {
		var id int64
		var raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return err
		}
		if c := b.custs[id]; c != nil && c.traits == nil {
			if err := c.setTraits(raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load traits: %w", err)
	}
	return nil
}

// nullString maps "" to NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rawJSON maps an absent JSON value to NULL.
func rawJSON(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return string(r)
}

// ms converts an instant to Unix milliseconds (0 for the zero time).
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
