package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/touchbase/touchbase"
)

// ingestCache remembers, between Ingest calls, which customer each
// identifier points to and that customer's columns, so that a steady stream
// of events from known customers needs no lookup queries (looking them up
// was a quarter of the ingestion path's cost on SQLite), and the catalogue
// rows as last written, so that unchanged products are not rewritten.
//
// It is used only on SQLite, where this process is the one writer: Ingest
// checks PRAGMA data_version, which changes when another connection (a CLI
// in another process) commits, and drops the cache then. The cache is
// filled only after a commit succeeds, so a rolled-back batch leaves no
// trace. Writes outside Ingest that delete customers call forgetCustomer;
// raw SQL through Store.DB() (tests' seed helpers) is invisible to it.
//
// Memory is bounded by keeping two generations: lookups promote entries
// from the old one, and when the new one is full the old one is dropped.
type ingestCache struct {
	mu          sync.Mutex
	max         int // entries per generation
	ids, oldIDs map[cacheIdent]int64
	custs       map[cacheCust]custSnapshot
	oldCusts    map[cacheCust]custSnapshot
	// products holds the catalogue rows as last written, so that the
	// stream of product events that change nothing writes nothing.
	products    map[cacheProduct]touchbase.Product
	dataVersion int64
	// gen counts forgetCustomer calls: a batch that began before one must
	// not write its view back (it may hold the forgotten customer).
	gen int64
}

type cacheIdent struct {
	ws  int64
	key identKey
}

type cacheCust struct{ ws, id int64 }

type cacheProduct struct {
	ws int64
	id string
}

// custSnapshot is what the batch loads of a customer (traits aside).
type custSnapshot struct {
	userID, email, phone string
	firstSeen, lastSeen  int64
	events               int
	createdAt            int64
}

func newIngestCache(max int) *ingestCache {
	c := &ingestCache{max: max}
	c.reset()
	return c
}

func (c *ingestCache) reset() {
	c.ids, c.oldIDs = map[cacheIdent]int64{}, map[cacheIdent]int64{}
	c.custs, c.oldCusts = map[cacheCust]custSnapshot{}, map[cacheCust]custSnapshot{}
	c.products = map[cacheProduct]touchbase.Product{}
}

// productUnchanged reports whether writing p would leave the stored row as
// it is (the upsert keeps stored values for fields p leaves empty).
func (c *ingestCache) productUnchanged(ws int64, p touchbase.Product) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.products[cacheProduct{ws, p.ProductID}]
	return ok && mergeProduct(old, p) == old
}

// begin drops the cache when another connection changed the database since
// the last call, and returns the generation to pass to committed. It runs
// inside the ingest transaction.
func (c *ingestCache) begin(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("data version: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.dataVersion {
		c.reset()
		c.dataVersion = v
	}
	return c.gen, nil
}

// lookup returns the customer k points to, and its snapshot.
func (c *ingestCache) lookup(ws int64, k identKey) (int64, custSnapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ik := cacheIdent{ws, k}
	id, ok := c.ids[ik]
	if !ok {
		if id, ok = c.oldIDs[ik]; !ok {
			return 0, custSnapshot{}, false
		}
		c.ids[ik] = id
	}
	ck := cacheCust{ws, id}
	snap, ok := c.custs[ck]
	if !ok {
		if snap, ok = c.oldCusts[ck]; !ok {
			return 0, custSnapshot{}, false
		}
		c.custs[ck] = snap
	}
	c.roll()
	return id, snap, true
}

// roll starts a new generation when the current one is full.
func (c *ingestCache) roll() {
	if len(c.ids) > c.max || len(c.custs) > c.max {
		c.oldIDs, c.ids = c.ids, map[cacheIdent]int64{}
		c.oldCusts, c.custs = c.custs, map[cacheCust]custSnapshot{}
	}
}

// forgetCustomer makes every identifier of the customer a miss. Call it
// after committing a change to the customer made outside Ingest.
func (c *ingestCache) forgetCustomer(ws, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.custs, cacheCust{ws, id})
	delete(c.oldCusts, cacheCust{ws, id})
}

// forgetProducts drops the catalogue rows. Call it after writing products
// outside Ingest.
func (c *ingestCache) forgetProducts() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.products = map[cacheProduct]touchbase.Product{}
}

// committed records a committed batch's final state; gen is what begin
// returned.
func (c *ingestCache) committed(b *ingestBatch, gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		c.reset()
		return
	}
	for _, gone := range b.merges {
		delete(c.custs, cacheCust{b.ws, gone})
		delete(c.oldCusts, cacheCust{b.ws, gone})
	}
	for k, id := range b.ids {
		c.ids[cacheIdent{b.ws, k}] = b.find(id)
	}
	if len(c.products) > c.max {
		c.products = map[cacheProduct]touchbase.Product{}
	}
	for _, id := range b.prodOrder {
		k := cacheProduct{b.ws, id}
		c.products[k] = mergeProduct(c.products[k], b.products[id].Product)
	}
	for _, id := range b.refusedIDs {
		// The database kept its row: what it holds is unknown here.
		delete(c.products, cacheProduct{b.ws, id})
	}
	for _, id := range b.order {
		if b.find(id) != id {
			continue
		}
		cs := b.custs[id]
		c.custs[cacheCust{b.ws, id}] = custSnapshot{
			userID: cs.userID, email: cs.email, phone: cs.phone,
			firstSeen: cs.firstSeen, lastSeen: cs.lastSeen, events: cs.events, createdAt: cs.createdAt,
		}
	}
	c.roll()
}
