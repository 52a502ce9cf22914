package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/touchbase/touchbase"
)

// This file is identity resolution: which customer each inbound belongs
// to, when two profiles are one person, and how their traits combine.

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
	b.custs[b.nextTemp] = &custState{id: b.nextTemp, isNew: true, traits: map[string]any{}, createdAt: b.now,
		firstSeen: unseen, lastSeen: unseen}
	return b.nextTemp
}

// apply resolves the inbound to a customer and records what it changes.
func (b *ingestBatch) apply(ctx context.Context, in *touchbase.Inbound) error {
	if in.Guest {
		// A guest checkout: the order and its products, nobody's profile.
		b.events = append(b.events, eventRow{cust: 0, in: in})
		if in.Order != nil {
			b.orders = append(b.orders, orderRow{cust: 0, change: in.Order, public: in.Public})
		}
		b.addProducts(in.Products, !in.Public)
		return nil
	}
	target, err := b.resolve(ctx, in)
	if err != nil {
		return err
	}
	c := b.cust(target)
	ts := in.Timestamp.UnixMilli()
	if c.firstSeen == unseen || ts < c.firstSeen {
		c.firstSeen = ts
	}
	if ts > c.lastSeen {
		c.lastSeen = ts
	}
	c.events++
	if len(in.Traits) > 0 {
		if err := b.mergeTraits(ctx, c, in.Traits, true); err != nil {
			return err
		}
		b.planConsents(target, in.Traits, in.Timestamp)
	}
	if in.Email != "" && b.find(b.ids[identKey{touchbase.IdentityEmail, in.Email}]) == target {
		c.email = in.Email
	}
	if in.Phone != "" && b.find(b.ids[identKey{touchbase.IdentityPhone, in.Phone}]) == target {
		c.phone = in.Phone
	}
	b.events = append(b.events, eventRow{cust: target, in: in})
	if in.Order != nil {
		b.orders = append(b.orders, orderRow{cust: target, change: in.Order, public: in.Public})
		c.ordersDirty = true
	}
	b.addProducts(in.Products, !in.Public)
	return nil
}

// addProducts plans catalogue updates; trusted says they come from a
// server key or an import. A public inbound cannot change what a trusted
// one of the same batch defined, nor add to it: a trusted definition
// starts afresh from the stored row. Whether a public change may reach a
// stored product is the database's decision (upsertPublicProducts).
func (b *ingestBatch) addProducts(ps []touchbase.Product, trusted bool) {
	for _, p := range ps {
		if p.ProductID == "" {
			continue
		}
		p.URL, p.ImageURL = touchbase.WebLink(p.URL), touchbase.WebLink(p.ImageURL)
		old, ok := b.products[p.ProductID]
		switch {
		case !ok:
			b.prodOrder = append(b.prodOrder, p.ProductID)
		case old.trusted && !trusted:
			if mergeProduct(old.Product, p) != old.Product {
				b.refusedProducts++
			}
			continue
		case trusted && !old.trusted:
			old = batchProduct{}
		}
		b.products[p.ProductID] = batchProduct{Product: mergeProduct(old.Product, p), trusted: trusted}
	}
}

// resolve finds or creates the customer the inbound belongs to, merging
// profiles that it proves are one person. The rules, deterministic given the
// order of inbounds:
//   - every identifier it names is looked up; the customer of the most
//     trusted one found (user_id, email, phone, anonymous_id, then alias's
//     previousId) is the target;
//   - a user id is the strongest claim: if its user id is unknown and the
//     target already has another user id, it is a different person and gets
//     a new profile;
//   - every other customer found is merged with the target unless both have
//     user ids (two known people are never merged); the survivor is the
//     one with a user id, else the oldest;
//   - identifiers not found are attached to the target.
func (b *ingestBatch) resolve(ctx context.Context, in *touchbase.Inbound) (int64, error) {
	keys := identKeys(in)
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
	for _, k := range aliasKeys(in) {
		if add(k) {
			aliasFound = true
			break
		}
	}

	var target int64
	switch {
	case len(found) == 0:
		target = b.newCustomer()
	case in.UserID != "" && !userKnown && b.custs[found[0]].userID != "":
		target = b.newCustomer()
	default:
		target = found[0]
	}
	if t := b.custs[target]; t.isNew && t.userID == "" {
		// Known before any merge decision: a new profile for a user id
		// must not be merged into another known person.
		t.userID = in.UserID
	}
	for _, c := range found {
		if c == target || b.find(c) == b.find(target) {
			continue
		}
		var err error
		if target, err = b.merge(ctx, c, b.find(target)); err != nil {
			return 0, err
		}
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
	if in.Type == touchbase.EventAlias && in.PreviousID != "" && !aliasFound {
		k := identKey{touchbase.IdentityAnonymousID, in.PreviousID}
		b.ids[k] = target
		b.newIdents = append(b.newIdents, identRow{key: k, cust: target})
	}
	return target, nil
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
func (b *ingestBatch) merge(ctx context.Context, x, y int64) (int64, error) {
	cx, cy := b.custs[x], b.custs[y]
	if cx.userID != "" && cy.userID != "" && cx.userID != cy.userID {
		return y, nil
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
	if gone.firstSeen != unseen && (s.firstSeen == unseen || gone.firstSeen < s.firstSeen) {
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
	gt, err := b.traitsOf(ctx, gone)
	if err != nil {
		return 0, err
	}
	if err := b.mergeTraits(ctx, s, gt, false); err != nil {
		return 0, err
	}
	s.ordersDirty, s.ordersRecount = true, true
	b.redirect[gone.id] = survivor.id
	if gone.dirty {
		gone.dirty = false
	}
	if !gone.isNew {
		b.merges = append(b.merges, gone.id)
	}
	return survivor.id, nil
}

func (c *custState) setTraits(raw string) error {
	c.traits = map[string]any{}
	if raw != "" && raw != "{}" {
		if err := json.Unmarshal([]byte(raw), &c.traits); err != nil {
			return fmt.Errorf("customer %d traits: %w", c.id, err)
		}
	}
	return nil
}

// traitsOf returns c's traits, loading them if the prefetch did not.
func (b *ingestBatch) traitsOf(ctx context.Context, c *custState) (map[string]any, error) {
	if c.traits == nil {
		if err := b.loadTraits(ctx, []any{c.id}); err != nil {
			return nil, err
		}
		if c.traits == nil {
			return nil, fmt.Errorf("customer %d vanished", c.id)
		}
	}
	return c.traits, nil
}

// mergeTraits sets traits on c. With overwrite false, only traits c lacks
// are set. A nil value removes the trait.
func (b *ingestBatch) mergeTraits(ctx context.Context, c *custState, traits map[string]any, overwrite bool) error {
	t, err := b.traitsOf(ctx, c)
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
