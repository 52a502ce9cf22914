package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode"

	"github.com/touchbase/touchbase"
)

var _ touchbase.ConsentService = (*Store)(nil)

// This file is consent: the consents table, the service over it, and how
// the consent traits (touchbase.TraitEmailConsent, TraitSMSConsent) feed
// it wherever traits are set: ingestion and imports (the batch methods
// below), UpdateTraits, and merges of profiles. The traits stay stored
// as they are sent, for segments; whenever the consent ends up other than
// its trait says (set in the console, or a trait older than the recorded
// consent), the trait follows the consent in the same transaction.

const consentColumns = "customer_id, channel, topic, state, source, at"

// consentRow is one consent as stored or planned. In a batch, cust may be
// a temporary or merged-away id until resolveConsents follows it.
type consentRow struct {
	cust    int64
	channel touchbase.Channel
	topic   touchbase.Topic
	state   touchbase.ConsentState
	source  touchbase.ConsentSource
	at      int64 // Unix ms
}

type consentKey struct {
	cust    int64
	channel touchbase.Channel
	topic   touchbase.Topic
}

func (r *consentRow) key() consentKey { return consentKey{r.cust, r.channel, r.topic} }

func (r *consentRow) args(ws int64) []any {
	return []any{ws, r.cust, string(r.channel), string(r.topic), string(r.state), string(r.source), r.at}
}

func (r *consentRow) consent() *touchbase.Consent {
	return &touchbase.Consent{CustomerID: r.cust, Channel: r.channel, Topic: r.topic, State: r.state, Source: r.source,
		At: time.UnixMilli(r.at).UTC()}
}

func scanConsent(rows interface{ Scan(...any) error }) (consentRow, error) {
	var r consentRow
	var channel, topic, state, source string
	if err := rows.Scan(&r.cust, &channel, &topic, &state, &source, &r.at); err != nil {
		return r, err
	}
	r.channel, r.topic, r.state, r.source = touchbase.Channel(channel), touchbase.Topic(topic), touchbase.ConsentState(state), touchbase.ConsentSource(source)
	return r, nil
}

var (
	// setConsents records acts of now (the console, the API, a trait
	// update). The state changes, or nothing does: a consent stated again
	// keeps the time and source it was first recorded with.
	setConsents = rowsSQL{
		head: "INSERT INTO consents (workspace_id, customer_id, channel, topic, state, source, at) VALUES",
		cols: 7,
		suffix: ` ON CONFLICT (workspace_id, customer_id, channel, topic) DO UPDATE SET state = excluded.state, source = excluded.source, at = excluded.at
			WHERE consents.state <> excluded.state`,
	}
	// mergeConsents records consents of a time of their own (an event's,
	// a merged-away profile's): the newer wins, so that a late or
	// replayed event cannot undo a later unsubscribe.
	mergeConsents = rowsSQL{
		head: setConsents.head,
		cols: 7,
		suffix: ` ON CONFLICT (workspace_id, customer_id, channel, topic) DO UPDATE SET state = excluded.state, source = excluded.source, at = excluded.at
			WHERE consents.state <> excluded.state AND consents.at <= excluded.at`,
	}
)

// checkConsent validates what SetConsent records.
func checkConsent(c *touchbase.Consent) error {
	bad := func(field, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return &touchbase.Error{Code: touchbase.EINVALID, Message: field + ": " + msg,
			Fields: []touchbase.FieldError{{Index: -1, Field: field, Message: msg}}}
	}
	switch {
	case !c.Channel.NeedsConsent():
		return bad("channel", "%q is not a channel that needs consent (email, sms)", c.Channel)
	case !c.Topic.Valid():
		return bad("topic", "%q is not a topic: up to %d lower-case letters, digits, '_', '-' and '.'", c.Topic, touchbase.MaxTopicLen)
	case !c.State.Valid():
		return bad("state", "%q is not subscribed, unsubscribed or unknown", c.State)
	case c.Source == "" || len(c.Source) > touchbase.MaxConsentSourceLen:
		return bad("source", "a source is 1 to %d bytes", touchbase.MaxConsentSourceLen)
	}
	for _, r := range c.Source {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return bad("source", "%q has a control character", c.Source)
		}
	}
	return nil
}

// ListConsents returns what is recorded for the customer, by channel then
// topic. ENOTFOUND for a customer not in the workspace.
func (s *Store) ListConsents(ctx context.Context, workspaceID, customerID int64) ([]*touchbase.Consent, error) {
	var out []*touchbase.Consent
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.customerTraits(ctx, tx, workspaceID, customerID, false); err != nil {
			return err
		}
		var err error
		out, err = s.consentsOf(ctx, tx, workspaceID, customerID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// consentsOf reads a customer's consents in tx (never nil).
func (s *Store) consentsOf(ctx context.Context, tx *sql.Tx, workspaceID, customerID int64) ([]*touchbase.Consent, error) {
	out := []*touchbase.Consent{}
	err := queryRows(ctx, tx, s.d.q("SELECT "+consentColumns+" FROM consents WHERE workspace_id = ? AND customer_id = ? ORDER BY channel, topic"),
		[]any{workspaceID, customerID}, func(rows *sql.Rows) error {
			r, err := scanConsent(rows)
			if err != nil {
				return err
			}
			out = append(out, r.consent())
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("consents of customer %d: %w", customerID, err)
	}
	return out, nil
}

// customerTraits returns a customer's traits as stored, or ENOTFOUND;
// lock locks the row (on PostgreSQL) for a read-modify-write.
func (s *Store) customerTraits(ctx context.Context, tx *sql.Tx, workspaceID, id int64, lock bool) (string, error) {
	q := "SELECT traits FROM customers WHERE workspace_id = ? AND id = ?"
	if lock && s.d.dollar {
		q += " FOR UPDATE"
	}
	var raw string
	err := tx.QueryRowContext(ctx, s.d.q(q), workspaceID, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "", touchbase.Errorf(touchbase.ENOTFOUND, "customer %d not found", id)
	} else if err != nil {
		return "", fmt.Errorf("find customer %d: %w", id, err)
	}
	return raw, nil
}

// SetConsent records c as of now: its state, with source and time when
// the state changes, and the channel's consent trait when c is
// channel-wide and the trait says otherwise. Returns what is recorded;
// EINVALID, ENOTFOUND.
func (s *Store) SetConsent(ctx context.Context, workspaceID int64, c touchbase.Consent) (*touchbase.Consent, error) {
	if err := checkConsent(&c); err != nil {
		return nil, err
	}
	var out *touchbase.Consent
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		raw, err := s.customerTraits(ctx, tx, workspaceID, c.CustomerID, true)
		if err != nil {
			return err
		}
		now := s.now()
		r := consentRow{cust: c.CustomerID, channel: c.Channel, topic: c.Topic, state: c.State, source: c.Source, at: now}
		if err := s.insertRows(ctx, tx, &setConsents, r.args(workspaceID)); err != nil {
			return fmt.Errorf("set consent of customer %d: %w", c.CustomerID, err)
		}
		if trait := touchbase.ConsentTrait(c.Channel); trait != "" && c.Topic == "" {
			if err := s.followConsent(ctx, tx, workspaceID, c.CustomerID, raw, trait, c.State, now); err != nil {
				return err
			}
		}
		r, err = scanConsent(tx.QueryRowContext(ctx, s.d.q("SELECT "+consentColumns+
			" FROM consents WHERE workspace_id = ? AND customer_id = ? AND channel = ? AND topic = ?"),
			workspaceID, c.CustomerID, string(c.Channel), string(c.Topic)))
		if err != nil {
			return fmt.Errorf("set consent of customer %d: %w", c.CustomerID, err)
		}
		out = r.consent()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// followConsent makes the customer's consent trait (stored traits raw)
// say state, unless it does already: "not_subscribed" stays for unknown.
func (s *Store) followConsent(ctx context.Context, tx *sql.Tx, workspaceID, id int64, raw, trait string, state touchbase.ConsentState, now int64) error {
	traits := map[string]any{}
	if err := json.Unmarshal([]byte(raw), &traits); err != nil {
		return fmt.Errorf("customer %d traits: %w", id, err)
	}
	if traits == nil { // the JSON was null
		traits = map[string]any{}
	}
	if !setConsentTrait(traits, trait, state) {
		return nil
	}
	b, err := json.Marshal(traits)
	if err != nil {
		return fmt.Errorf("customer %d traits: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, s.d.q("UPDATE customers SET traits = ?, updated_at = ? WHERE workspace_id = ? AND id = ?"),
		string(b), now, workspaceID, id); err != nil {
		return fmt.Errorf("update traits of %d: %w", id, err)
	}
	return nil
}

// setConsentTrait makes traits[trait] say state and reports whether that
// changed it.
func setConsentTrait(traits map[string]any, trait string, state touchbase.ConsentState) bool {
	if touchbase.ConsentFromTraitValue(traits[trait]) == state {
		return false
	}
	if v := state.TraitValue(); v != nil {
		traits[trait] = v
	} else {
		delete(traits, trait)
	}
	return true
}

// traitConsents records, as of now, the consents that UpdateTraits's
// traits set, in its transaction.
func (s *Store) traitConsents(ctx context.Context, tx *sql.Tx, workspaceID, id int64, traits map[string]any, now int64) error {
	var args []any
	for _, ch := range touchbase.ConsentChannels {
		if v, ok := traits[touchbase.ConsentTrait(ch)]; ok {
			r := consentRow{cust: id, channel: ch, state: touchbase.ConsentFromTraitValue(v), source: touchbase.ConsentFromTrait, at: now}
			args = append(args, r.args(workspaceID)...)
		}
	}
	if err := s.insertRows(ctx, tx, &setConsents, args); err != nil {
		return fmt.Errorf("consent of customer %d: %w", id, err)
	}
	return nil
}

// ChannelConsents returns what is recorded for one channel and topic for
// those of customerIDs that have a record. EINVALID for a channel that
// needs no consent or a bad topic.
func (s *Store) ChannelConsents(ctx context.Context, workspaceID int64, channel touchbase.Channel, topic touchbase.Topic, customerIDs []int64) ([]*touchbase.Consent, error) {
	if err := checkConsent(&touchbase.Consent{Channel: channel, Topic: topic, State: touchbase.ConsentUnknown, Source: "-"}); err != nil {
		return nil, err
	}
	out := []*touchbase.Consent{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	ids := make([]any, len(customerIDs))
	for i, id := range customerIDs {
		ids[i] = id
	}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return s.queryIn(ctx, tx, "SELECT "+consentColumns+" FROM consents WHERE workspace_id = ? AND channel = ? AND topic = ? AND customer_id IN (%s)",
			[]any{workspaceID, string(channel), string(topic)}, ids, func(rows *sql.Rows) error {
				r, err := scanConsent(rows)
				if err != nil {
					return err
				}
				out = append(out, r.consent())
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("consents for %s: %w", channel, err)
	}
	return out, nil
}

// The ingestion batch's part. apply plans a row for every consent trait a
// message sets (planConsents); applyMerges carries the rows of profiles
// merged away over to their survivors (carryConsents) before deleting
// them; resolveConsents decides, per customer, channel and topic, what
// the batch leaves recorded, and makes the consent traits follow; and
// writeConsents writes the rows once the customers exist. A batch whose
// messages set no consent trait and merge nobody does none of it.

// planConsents plans the consents that traits, set on cust by a message
// of time ts, record.
func (b *ingestBatch) planConsents(cust int64, traits map[string]any, ts time.Time) {
	for _, ch := range touchbase.ConsentChannels {
		v, ok := traits[touchbase.ConsentTrait(ch)]
		if !ok {
			continue
		}
		// A clock ahead (or a timestamp made up) must not record a
		// consent from the future, which no later change could undo.
		at := min(ts.UnixMilli(), b.now)
		b.consents = append(b.consents, consentRow{cust: cust, channel: ch, state: touchbase.ConsentFromTraitValue(v),
			source: touchbase.ConsentFromTrait, at: at})
	}
}

// carryConsents plans the stored consents of the profiles the batch
// merges away for their survivors, with the time and source they have:
// the newer of a channel's two consents wins.
func (b *ingestBatch) carryConsents(ctx context.Context) error {
	if len(b.merges) == 0 {
		return nil
	}
	ids := make([]any, len(b.merges))
	for i, id := range b.merges {
		ids[i] = id
	}
	err := b.s.queryIn(ctx, b.tx, "SELECT "+consentColumns+" FROM consents WHERE workspace_id = ? AND customer_id IN (%s)", []any{b.ws}, ids,
		func(rows *sql.Rows) error {
			r, err := scanConsent(rows)
			if err != nil {
				return err
			}
			b.consents = append(b.consents, r)
			return nil
		})
	if err != nil {
		return fmt.Errorf("consents of merged customers: %w", err)
	}
	return nil
}

// resolveConsents decides what the planned consents leave recorded, per
// customer, channel and topic: of the stored row and the planned ones, the
// newest state wins, with the time it began; a plan older than the stored
// row loses. The channel's consent trait then follows, before the
// customers are saved. It leaves in b.consents the rows to write.
func (b *ingestBatch) resolveConsents(ctx context.Context) error {
	if len(b.consents) == 0 {
		return nil
	}
	byKey := map[consentKey][]consentRow{}
	var keys []consentKey // first planned first: a stable write order
	var ids []any
	seen := map[int64]bool{}
	for _, p := range b.consents {
		p.cust = b.find(p.cust)
		k := p.key()
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], p)
		if !seen[p.cust] {
			seen[p.cust] = true
			ids = append(ids, p.cust)
		}
	}
	stored := map[consentKey]consentRow{}
	err := b.s.queryIn(ctx, b.tx, "SELECT "+consentColumns+" FROM consents WHERE workspace_id = ? AND customer_id IN (%s)", []any{b.ws}, ids,
		func(rows *sql.Rows) error {
			r, err := scanConsent(rows)
			if err != nil {
				return err
			}
			stored[r.key()] = r
			return nil
		})
	if err != nil {
		return fmt.Errorf("consents: %w", err)
	}
	b.consents = b.consents[:0]
	for _, k := range keys {
		plans := byKey[k]
		slices.SortStableFunc(plans, func(x, y consentRow) int { return cmp.Compare(x.at, y.at) })
		cur, has := stored[k]
		changed := false
		for _, p := range plans {
			if has && (p.at < cur.at || p.state == cur.state) {
				continue
			}
			cur, has, changed = p, true, true
		}
		if changed {
			b.consents = append(b.consents, cur)
		}
		trait := touchbase.ConsentTrait(k.channel)
		c := b.custs[k.cust]
		if trait == "" || k.topic != "" || c == nil {
			continue
		}
		t, err := b.traitsOf(ctx, c)
		if err != nil {
			return err
		}
		if setConsentTrait(t, trait, cur.state) {
			b.cust(c.id).traitsDirty = true
		}
	}
	return nil
}

// writeConsents writes what resolveConsents left, after saveCustomers:
// the customers they name exist by then.
func (b *ingestBatch) writeConsents(ctx context.Context) error {
	if len(b.consents) == 0 {
		return nil
	}
	args := make([]any, 0, len(b.consents)*mergeConsents.cols)
	for i := range b.consents {
		args = append(args, b.consents[i].args(b.ws)...)
	}
	return b.s.insertRows(ctx, b.tx, &mergeConsents, args)
}
