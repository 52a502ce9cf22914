package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.Ingester = (*Store)(nil)

// Ingest stores msgs in one transaction: it drops messageIds already stored,
// drops messages naming an erased customer's identifier, resolves every
// message to one customer (creating and merging profiles), writes the
// events, applies e-commerce changes to orders and products, and brings the
// touched customers' traits and built-in features up to date.
//
// Work is batched per workspace: a fixed number of statements per call
// plus one per touched customer, never one round trip per event.
func (s *Store) Ingest(ctx context.Context, msgs []touchbase.Message) (touchbase.IngestResult, error) {
	res := touchbase.IngestResult{}
	if len(msgs) == 0 {
		return res, nil
	}
	statuses := make([]touchbase.IngestStatus, len(msgs))

	// Group by workspace, keeping each workspace's messages in order.
	byWS := map[int64][]int{}
	for i := range msgs {
		byWS[msgs[i].WorkspaceID] = append(byWS[msgs[i].WorkspaceID], i)
	}
	wss := make([]int64, 0, len(byWS))
	for ws := range byWS {
		wss = append(wss, ws)
	}
	slices.Sort(wss) // a fixed lock order across nodes

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("ingest: begin: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	for _, ws := range wss {
		if s.d.dollar {
			// Serialise ingestion per workspace across touchbase nodes, so
			// identity resolution sees a stable picture.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", ws); err != nil {
				return res, fmt.Errorf("ingest: lock workspace %d: %w", ws, err)
			}
		}
		b := &ingestBatch{s: s, tx: tx, ws: ws, now: now}
		if err := b.run(ctx, msgs, byWS[ws], statuses); err != nil {
			return res, fmt.Errorf("ingest workspace %d: %w", ws, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("ingest: commit: %w", err)
	}
	res.Statuses = make([]touchbase.IngestStatus, 0, len(msgs))
	for _, st := range statuses {
		res.Add(st)
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

	rawTraits   string // as loaded; decoded on first use
	traits      map[string]any
	traitsDirty bool

	firstSeen, lastSeen int64 // 0 = unknown
	events              int
	ordersDirty         bool
	dirty               bool
	createdAt           int64

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
	s   *Store
	tx  *sql.Tx
	ws  int64
	now int64

	ids      map[identKey]int64   // identifier -> customer (follow via find)
	custs    map[int64]*custState // touched customers by id
	order    []int64              // touched customer ids in first-touch order
	redirect map[int64]int64      // merged-away customer -> the one it merged into
	nextTemp int64

	newIdents []identRow
	events    []eventRow
	merges    []int64 // real customers merged away, in order
	orders    []orderRow
	products  map[string]touchbase.Product
	prodOrder []string
}

type identRow struct {
	key  identKey
	cust int64
}

type eventRow struct {
	cust int64
	m    *touchbase.Message
}

type orderRow struct {
	cust   int64
	change *touchbase.OrderChange
}

func (b *ingestBatch) run(ctx context.Context, msgs []touchbase.Message, idx []int, statuses []touchbase.IngestStatus) error {
	live, err := b.dedupe(ctx, msgs, idx, statuses)
	if err != nil {
		return err
	}
	if live, err = b.suppress(ctx, msgs, live, statuses); err != nil {
		return err
	}
	if len(live) == 0 {
		return nil
	}
	b.ids = map[identKey]int64{}
	b.custs = map[int64]*custState{}
	b.redirect = map[int64]int64{}
	b.products = map[string]touchbase.Product{}
	if err := b.lookupIdentities(ctx, msgs, live); err != nil {
		return err
	}
	for _, i := range live {
		if err := b.apply(ctx, &msgs[i]); err != nil {
			return err
		}
	}
	return b.write(ctx)
}

// dedupe marks messages whose messageId is stored already, or repeated
// earlier in the call, as duplicates and returns the rest.
func (b *ingestBatch) dedupe(ctx context.Context, msgs []touchbase.Message, idx []int, statuses []touchbase.IngestStatus) ([]int, error) {
	seen := make(map[string]bool, len(idx))
	ids := make([]any, 0, len(idx))
	for _, i := range idx {
		id := msgs[i].MessageID
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
		id := msgs[i].MessageID
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

// identKeys returns a message's identifiers, most trusted first.
func identKeys(m *touchbase.Message) []identKey {
	keys := make([]identKey, 0, 4)
	if m.UserID != "" {
		keys = append(keys, identKey{touchbase.IdentityUserID, m.UserID})
	}
	if m.Email != "" {
		keys = append(keys, identKey{touchbase.IdentityEmail, m.Email})
	}
	if m.Phone != "" {
		keys = append(keys, identKey{touchbase.IdentityPhone, m.Phone})
	}
	if m.AnonymousID != "" {
		keys = append(keys, identKey{touchbase.IdentityAnonymousID, m.AnonymousID})
	}
	return keys
}

// aliasKeys are the identifiers alias's previousId may be: a user id or an
// anonymous id.
func aliasKeys(m *touchbase.Message) []identKey {
	if m.Type != touchbase.EventAlias || m.PreviousID == "" {
		return nil
	}
	return []identKey{{touchbase.IdentityUserID, m.PreviousID}, {touchbase.IdentityAnonymousID, m.PreviousID}}
}

// suppress drops messages that carry an identifier of an erased customer.
func (b *ingestBatch) suppress(ctx context.Context, msgs []touchbase.Message, live []int, statuses []touchbase.IngestStatus) ([]int, error) {
	var has int
	err := b.tx.QueryRowContext(ctx, b.s.d.q("SELECT count(*) FROM (SELECT 1 FROM suppressed_identities WHERE workspace_id = ? LIMIT 1) x"), b.ws).Scan(&has)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	if has == 0 {
		return live, nil
	}
	hashes := map[string]bool{}
	var args []any
	for _, i := range live {
		for _, k := range append(identKeys(&msgs[i]), aliasKeys(&msgs[i])...) {
			h := string(k.kind) + ":" + suppressionHash(k.value)
			if _, ok := hashes[h]; !ok {
				hashes[h] = false
				args = append(args, suppressionHash(k.value))
			}
		}
	}
	err = b.s.queryIn(ctx, b.tx, "SELECT kind, value_hash FROM suppressed_identities WHERE workspace_id = ? AND value_hash IN (%s)", []any{b.ws}, args, func(rows *sql.Rows) error {
		var kind, h string
		if err := rows.Scan(&kind, &h); err != nil {
			return err
		}
		hashes[kind+":"+h] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	out := live[:0:0]
next:
	for _, i := range live {
		for _, k := range append(identKeys(&msgs[i]), aliasKeys(&msgs[i])...) {
			if hashes[string(k.kind)+":"+suppressionHash(k.value)] {
				statuses[i] = touchbase.IngestSuppressed
				continue next
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// lookupIdentities loads every identifier the messages name, and the
// customers they point to.
func (b *ingestBatch) lookupIdentities(ctx context.Context, msgs []touchbase.Message, live []int) error {
	byKind := map[touchbase.IdentityKind][]any{}
	seen := map[identKey]bool{}
	for _, i := range live {
		for _, k := range append(identKeys(&msgs[i]), aliasKeys(&msgs[i])...) {
			if !seen[k] {
				seen[k] = true
				byKind[k.kind] = append(byKind[k.kind], k.value)
			}
		}
	}
	var custIDs []any
	for _, kind := range touchbase.IdentityKinds {
		values := byKind[kind]
		if len(values) == 0 {
			continue
		}
		err := b.s.queryIn(ctx, b.tx, "SELECT value, customer_id FROM identities WHERE workspace_id = ? AND kind = ? AND value IN (%s)", []any{b.ws, string(kind)}, values, func(rows *sql.Rows) error {
			var v string
			var c int64
			if err := rows.Scan(&v, &c); err != nil {
				return err
			}
			if _, ok := b.custs[c]; !ok {
				b.custs[c] = nil // loaded below
				custIDs = append(custIDs, c)
			}
			b.ids[identKey{kind, v}] = c
			return nil
		})
		if err != nil {
			return fmt.Errorf("look up identities: %w", err)
		}
	}
	return b.loadCustomers(ctx, custIDs)
}

func (b *ingestBatch) loadCustomers(ctx context.Context, ids []any) error {
	err := b.s.queryIn(ctx, b.tx, "SELECT id, user_id, email, phone, traits, first_seen_at, last_seen_at, events, created_at FROM customers WHERE workspace_id = ? AND id IN (%s)", []any{b.ws}, ids, func(rows *sql.Rows) error {
		c := &custState{}
		var userID, email, phone sql.NullString
		var first, last sql.NullInt64
		if err := rows.Scan(&c.id, &userID, &email, &phone, &c.rawTraits, &first, &last, &c.events, &c.createdAt); err != nil {
			return err
		}
		c.userID, c.email, c.phone = userID.String, email.String, phone.String
		c.stored.userID, c.stored.email, c.stored.phone = c.userID, c.email, c.phone
		c.storedCreatedAt = c.createdAt
		c.firstSeen, c.lastSeen = first.Int64, last.Int64
		b.custs[c.id] = c
		return nil
	})
	if err != nil {
		return fmt.Errorf("load customers: %w", err)
	}
	for _, id := range ids {
		if b.custs[id.(int64)] == nil {
			// An identity pointing at a missing customer: a bug or a hand
			// edit. Forget the identity; the message makes a new profile.
			delete(b.custs, id.(int64))
			for k, c := range b.ids {
				if c == id.(int64) {
					delete(b.ids, k)
				}
			}
		}
	}
	return nil
}

// find follows merges to the customer that survives.
func (b *ingestBatch) find(id int64) int64 {
	root := id
	for {
		next, ok := b.redirect[root]
		if !ok {
			break
		}
		root = next
	}
	for id != root { // path compression
		next := b.redirect[id]
		b.redirect[id] = root
		id = next
	}
	return root
}

func (b *ingestBatch) cust(id int64) *custState {
	c := b.custs[id]
	if !c.dirty {
		c.dirty = true
		b.order = append(b.order, id)
	}
	return c
}

func (b *ingestBatch) newCustomer() int64 {
	b.nextTemp--
	b.custs[b.nextTemp] = &custState{id: b.nextTemp, isNew: true, rawTraits: "{}", createdAt: b.now}
	return b.nextTemp
}

// apply resolves m to a customer and records what it changes.
func (b *ingestBatch) apply(ctx context.Context, m *touchbase.Message) error {
	target := b.resolve(m)
	c := b.cust(target)
	ts := m.Timestamp.UnixMilli()
	if c.firstSeen == 0 || ts < c.firstSeen {
		c.firstSeen = ts
	}
	if ts > c.lastSeen {
		c.lastSeen = ts
	}
	c.events++
	if len(m.Traits) > 0 {
		if err := b.mergeTraits(c, m.Traits, true); err != nil {
			return err
		}
	}
	if m.Email != "" && b.find(b.ids[identKey{touchbase.IdentityEmail, m.Email}]) == target {
		c.email = m.Email
	}
	if m.Phone != "" && b.find(b.ids[identKey{touchbase.IdentityPhone, m.Phone}]) == target {
		c.phone = m.Phone
	}
	b.events = append(b.events, eventRow{cust: target, m: m})
	if m.Order != nil {
		b.orders = append(b.orders, orderRow{cust: target, change: m.Order})
		c.ordersDirty = true
	}
	for _, p := range m.Products {
		if p.ProductID == "" {
			continue
		}
		old, ok := b.products[p.ProductID]
		if !ok {
			b.prodOrder = append(b.prodOrder, p.ProductID)
		}
		b.products[p.ProductID] = mergeProduct(old, p)
	}
	return nil
}

// resolve finds or creates the customer m belongs to, merging profiles that
// m proves are one person. The rules, deterministic given the order of
// messages:
//   - every identifier m names is looked up; the customer of the most
//     trusted one found (user_id, email, phone, anonymous_id, then alias's
//     previousId) is the target;
//   - a user id is the strongest claim: if m's user id is unknown and the
//     target already has another user id, m is a different person and gets
//     a new profile;
//   - every other customer found is merged with the target unless both have
//     user ids (two known people are never merged); the survivor is the
//     one with a user id, else the oldest;
//   - identifiers not found are attached to the target.
func (b *ingestBatch) resolve(m *touchbase.Message) int64 {
	keys := identKeys(m)
	var found []int64
	add := func(k identKey) bool {
		c, ok := b.ids[k]
		if !ok {
			return false
		}
		c = b.find(c)
		if !slices.Contains(found, c) {
			found = append(found, c)
		}
		return true
	}
	userKnown := false
	for _, k := range keys {
		if add(k) && k.kind == touchbase.IdentityUserID {
			userKnown = true
		}
	}
	aliasFound := false
	for _, k := range aliasKeys(m) {
		if add(k) {
			aliasFound = true
			break
		}
	}

	var target int64
	switch {
	case len(found) == 0:
		target = b.newCustomer()
	case m.UserID != "" && !userKnown && b.custs[found[0]].userID != "":
		target = b.newCustomer()
	default:
		target = found[0]
	}
	if t := b.custs[target]; t.isNew && t.userID == "" {
		// Known before any merge decision: a new profile for a user id
		// must not be merged into another known person.
		t.userID = m.UserID
	}
	for _, c := range found {
		if c == target || b.find(c) == b.find(target) {
			continue
		}
		target = b.merge(c, b.find(target))
	}
	t := b.custs[target]
	for _, k := range keys {
		if _, ok := b.ids[k]; ok {
			continue
		}
		if k.kind == touchbase.IdentityUserID {
			if t.userID != "" && t.userID != k.value {
				continue
			}
			t.userID = k.value
		}
		b.ids[k] = target
		b.newIdents = append(b.newIdents, identRow{key: k, cust: target})
	}
	if m.Type == touchbase.EventAlias && m.PreviousID != "" && !aliasFound {
		k := identKey{touchbase.IdentityAnonymousID, m.PreviousID}
		b.ids[k] = target
		b.newIdents = append(b.newIdents, identRow{key: k, cust: target})
	}
	return target
}

// age orders customers for choosing a survivor: existing ones by id, then
// new ones in creation order.
func age(id int64) int64 {
	if id < 0 {
		return math.MaxInt64/2 - id
	}
	return id
}

// merge merges customers a and b (unless both have user ids, when it
// returns b unchanged) and returns the survivor.
func (b *ingestBatch) merge(x, y int64) int64 {
	cx, cy := b.custs[x], b.custs[y]
	if cx.userID != "" && cy.userID != "" && cx.userID != cy.userID {
		return y
	}
	survivor, gone := cx, cy
	switch {
	case cy.userID != "" && cx.userID == "":
		survivor, gone = cy, cx
	case (cx.userID == "") == (cy.userID == "") && age(y) < age(x):
		survivor, gone = cy, cx
	}
	s := b.cust(survivor.id)
	if s.userID == "" {
		s.userID = gone.userID
	}
	if s.email == "" {
		s.email = gone.email
	}
	if s.phone == "" {
		s.phone = gone.phone
	}
	if gone.firstSeen != 0 && (s.firstSeen == 0 || gone.firstSeen < s.firstSeen) {
		s.firstSeen = gone.firstSeen
	}
	if gone.lastSeen > s.lastSeen {
		s.lastSeen = gone.lastSeen
	}
	s.events += gone.events
	if gone.createdAt != 0 && gone.createdAt < s.createdAt {
		s.createdAt = gone.createdAt
	}
	// The survivor's traits win; the other's fill the gaps.
	if gt, err := gone.decodedTraits(); err == nil && len(gt) > 0 {
		_ = b.mergeTraits(s, gt, false)
	}
	s.ordersDirty = true
	b.redirect[gone.id] = survivor.id
	if gone.dirty {
		gone.dirty = false
	}
	if !gone.isNew {
		b.merges = append(b.merges, gone.id)
	}
	return survivor.id
}

func (c *custState) decodedTraits() (map[string]any, error) {
	if c.traits == nil {
		c.traits = map[string]any{}
		if c.rawTraits != "" && c.rawTraits != "{}" {
			if err := json.Unmarshal([]byte(c.rawTraits), &c.traits); err != nil {
				return nil, fmt.Errorf("customer %d traits: %w", c.id, err)
			}
		}
	}
	return c.traits, nil
}

// mergeTraits sets traits on c. With overwrite false, only traits c lacks
// are set. A nil value removes the trait.
func (b *ingestBatch) mergeTraits(c *custState, traits map[string]any, overwrite bool) error {
	t, err := c.decodedTraits()
	if err != nil {
		return err
	}
	for k, v := range traits {
		if _, has := t[k]; has && !overwrite {
			continue
		}
		if v == nil {
			delete(t, k)
		} else {
			t[k] = v
		}
		c.traitsDirty = true
	}
	return nil
}

// mergeProduct overlays the fields p has on old.
func mergeProduct(old, p touchbase.Product) touchbase.Product {
	if old.ProductID == "" {
		return p
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&old.SKU, p.SKU)
	set(&old.Name, p.Name)
	set(&old.Category, p.Category)
	set(&old.Brand, p.Brand)
	set(&old.Variant, p.Variant)
	set(&old.Currency, p.Currency)
	set(&old.URL, p.URL)
	set(&old.ImageURL, p.ImageURL)
	if p.Price != 0 {
		old.Price = p.Price
	}
	return old
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
