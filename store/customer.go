package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
)

var _ touchbase.CustomerService = (*Store)(nil)

const customerColumns = `c.id, c.workspace_id, c.user_id, c.email, c.phone, c.traits, c.orders, c.revenue,
	c.first_order_at, c.last_order_at, c.first_seen_at, c.last_seen_at, c.refunds, c.refund_total, c.events, c.created_at, c.updated_at,
	s.rfm_recency, s.rfm_frequency, s.rfm_monetary, s.rfm_r, s.rfm_f, s.rfm_m, s.rfm_segment, s.cluster,
	s.p_alive, s.expected_purchases, s.predicted_clv, s.churn_risk, s.next_order_at, s.updated_at`

// customersWithScores is what customerColumns are selected from: each
// customer with the scores the analyses last computed for them.
const customersWithScores = `customers c LEFT JOIN customer_scores s ON s.workspace_id = c.workspace_id AND s.customer_id = c.id`

// FindCustomer returns the customer with their identities, or ENOTFOUND.
func (s *Store) FindCustomer(ctx context.Context, workspaceID, id int64) (*touchbase.Customer, error) {
	var c *touchbase.Customer
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.findCustomer(ctx, tx, workspaceID, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// findCustomer reads a customer and their identities in tx; lock locks the
// customer's row (on PostgreSQL) for a read-modify-write.
func (s *Store) findCustomer(ctx context.Context, tx *sql.Tx, workspaceID, id int64, lock bool) (*touchbase.Customer, error) {
	suffix := ""
	if lock && s.d.dollar {
		suffix = " FOR UPDATE OF c" // not the scores: they are outer-joined
	}
	c, err := scanCustomer(tx.QueryRowContext(ctx, s.d.q("SELECT "+customerColumns+" FROM "+customersWithScores+" WHERE c.workspace_id = ? AND c.id = ?"+suffix),
		workspaceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "customer %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find customer %d: %w", id, err)
	}
	// Most trusted kind first, as identity resolution ranks them.
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT kind, value, created_at FROM identities WHERE workspace_id = ? AND customer_id = ?
		ORDER BY CASE kind WHEN 'user_id' THEN 0 WHEN 'email' THEN 1 WHEN 'phone' THEN 2 ELSE 3 END, created_at, value`), workspaceID, id)
	if err != nil {
		return nil, fmt.Errorf("customer %d identities: %w", id, err)
	}
	defer rows.Close()
	c.Identities = []touchbase.Identity{}
	for rows.Next() {
		var (
			ident   touchbase.Identity
			kind    string
			created int64
		)
		if err := rows.Scan(&kind, &ident.Value, &created); err != nil {
			return nil, fmt.Errorf("customer %d identities: %w", id, err)
		}
		ident.Kind = touchbase.IdentityKind(kind)
		ident.CreatedAt = time.UnixMilli(created).UTC()
		c.Identities = append(c.Identities, ident)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customer %d identities: %w", id, err)
	}
	return c, nil
}

// customerSort is how ListCustomers orders and pages by one CustomerSort.
type customerSort struct {
	col      string // the sort column; "" for CustomerSortID
	nullable bool   // NULLs sort last
	float    bool   // the cursor value is a float, else an integer
	value    func(c *touchbase.Customer) (v string, null bool)
}

var customerSorts = map[touchbase.CustomerSort]customerSort{
	touchbase.CustomerSortID: {},
	touchbase.CustomerSortLastSeen: {col: "c.last_seen_at", nullable: true, value: func(c *touchbase.Customer) (string, bool) {
		if c.Features.LastSeenAt == nil {
			return "", true
		}
		return strconv.FormatInt(c.Features.LastSeenAt.UnixMilli(), 10), false
	}},
	touchbase.CustomerSortRevenue: {col: "c.revenue", float: true, value: func(c *touchbase.Customer) (string, bool) {
		return strconv.FormatFloat(c.Features.Revenue, 'g', -1, 64), false
	}},
	touchbase.CustomerSortOrders: {col: "c.orders", value: func(c *touchbase.Customer) (string, bool) {
		return strconv.Itoa(c.Features.Orders), false
	}},
	touchbase.CustomerSortCreated: {col: "c.created_at", value: func(c *touchbase.Customer) (string, bool) {
		return strconv.FormatInt(c.CreatedAt.UnixMilli(), 10), false
	}},
}

// ListCustomers returns one page of customers and the cursor of the next
// ("" at the end). Identities are not included (FindCustomer has them).
// Filters on identifiers go through the identities table, so a customer is
// found by any of their emails, not only the primary one. A Trait without
// TraitValue matches customers who have the trait at all. The default sort
// is by id. EINVALID for a bad cursor, sort, identifier or limit.
func (s *Store) ListCustomers(ctx context.Context, workspaceID int64, f touchbase.CustomerFilter) ([]*touchbase.Customer, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	sortName := f.Sort
	if sortName == "" {
		sortName = touchbase.CustomerSortID
	}
	sort, ok := customerSorts[sortName]
	if !ok {
		return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("sort %q is not id, last_seen, revenue, orders or created", f.Sort),
			Fields: []touchbase.FieldError{{Index: -1, Field: "sort", Message: "unknown sort"}}}
	}
	where := []string{"c.workspace_id = ?"}
	args := []any{workspaceID}

	idents := []struct {
		kind      touchbase.IdentityKind
		field     string
		raw, norm string
	}{
		{touchbase.IdentityUserID, "user_id", f.UserID, f.UserID},
		{touchbase.IdentityEmail, "email", f.Email, touchbase.NormalizeEmail(f.Email)},
		{touchbase.IdentityPhone, "phone", f.Phone, touchbase.NormalizePhone(f.Phone)},
		{touchbase.IdentityAnonymousID, "anonymous_id", f.AnonymousID, f.AnonymousID},
	}
	for _, id := range idents {
		if id.raw == "" {
			continue
		}
		if id.norm == "" {
			return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("%s filter %q is not a valid %s", id.field, id.raw, id.field),
				Fields: []touchbase.FieldError{{Index: -1, Field: id.field, Message: "not valid"}}}
		}
		where = append(where, "c.id IN (SELECT i.customer_id FROM identities i WHERE i.workspace_id = ? AND i.kind = ? AND i.value = ?)")
		args = append(args, workspaceID, string(id.kind), id.norm)
	}

	if q := strings.TrimSpace(f.Query); q != "" {
		like := s.ilike() + ` ? ESCAPE '\'`
		cols := []string{"c.email", "c.user_id", "c.phone", "c.traits ->> 'first_name'", "c.traits ->> 'last_name'", "c.traits ->> 'name'",
			"coalesce(c.traits ->> 'first_name', '') || ' ' || coalesce(c.traits ->> 'last_name', '')"}
		var ors []string
		p := likePattern(q)
		for _, col := range cols {
			ors = append(ors, col+" "+like)
			args = append(args, p)
		}
		// "+49 (151) 234" finds +49151234... too.
		if ph := touchbase.NormalizePhone(q); ph != "" && ph != q {
			ors = append(ors, "c.phone "+like)
			args = append(args, likePattern(ph))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}

	if f.Trait != "" {
		cond, targs, err := s.traitCondition(f.Trait, f.TraitValue)
		if err != nil {
			return nil, "", err
		}
		where = append(where, cond)
		args = append(args, targs...)
	} else if f.TraitValue != "" {
		return nil, "", &touchbase.Error{Code: touchbase.EINVALID, Message: "trait_value needs trait: which trait should equal it?",
			Fields: []touchbase.FieldError{{Index: -1, Field: "trait", Message: "required with trait_value"}}}
	}
	if f.MinOrders < 0 {
		return nil, "", touchbase.Errorf(touchbase.EINVALID, "min_orders %d is negative", f.MinOrders)
	} else if f.MinOrders > 0 {
		where = append(where, "c.orders >= ?")
		args = append(args, f.MinOrders)
	}
	if !f.SeenSince.IsZero() {
		where = append(where, "c.last_seen_at >= ?")
		args = append(args, f.SeenSince.UnixMilli())
	}

	kind := "customers:" + string(sortName)
	var cur *pageCursor
	if f.After != "" {
		c, err := decodeCursor(f.After, kind)
		if err != nil {
			return nil, "", err
		}
		cur = &c
	}

	// A page is one query, except on a sort with NULLs (last_seen): there
	// the non-NULL values come first, then the NULLs by id, each an index
	// range of its own. One query with "OR col IS NULL" in the keyset
	// condition would make the database walk the index from the top on
	// every page.
	type part struct {
		where []string
		args  []any
		order string
	}
	var parts []part
	switch {
	case sort.col == "":
		p := part{where: where, args: args, order: "c.id"}
		if cur != nil {
			p.where = append(slices.Clip(p.where), "c.id > ?")
			p.args = append(slices.Clip(p.args), cur.id)
		}
		parts = append(parts, p)
	case sort.nullable && cur != nil && cur.val == "":
		// Past the non-NULL values already.
	default:
		p := part{where: where, args: args, order: sort.col + " DESC, c.id DESC"}
		if sort.nullable {
			p.where = append(slices.Clip(p.where), sort.col+" IS NOT NULL")
		}
		if cur != nil {
			var v any
			if sort.float {
				v, err = cur.float()
			} else {
				v, err = cur.int()
			}
			if err != nil {
				return nil, "", err
			}
			p.where = append(slices.Clip(p.where), "("+sort.col+", c.id) < (?, ?)")
			p.args = append(slices.Clip(p.args), v, cur.id)
		}
		parts = append(parts, p)
	}
	if sort.nullable {
		p := part{where: append(slices.Clip(where), sort.col+" IS NULL"), args: args, order: "c.id DESC"}
		if cur != nil && cur.val == "" {
			p.where = append(p.where, "c.id < ?")
			p.args = append(slices.Clip(p.args), cur.id)
		}
		parts = append(parts, p)
	}

	cs := []*touchbase.Customer{}
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		for _, p := range parts {
			if len(cs) > limit {
				break
			}
			rows, err := tx.QueryContext(ctx, s.d.q("SELECT "+customerColumns+" FROM "+customersWithScores+" WHERE "+strings.Join(p.where, " AND ")+
				" ORDER BY "+p.order+" LIMIT ?"), append(slices.Clip(p.args), limit+1-len(cs))...)
			if err != nil {
				return fmt.Errorf("list customers: %w", err)
			}
			for rows.Next() {
				c, err := scanCustomer(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("list customers: %w", err)
				}
				cs = append(cs, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("list customers: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(cs) > limit {
		cs = cs[:limit]
		last := cs[limit-1]
		var v string
		if sort.value != nil {
			v, _ = sort.value(last)
		}
		next = encodeCursor(kind, v, last.ID)
	}
	return cs, next, nil
}

// traitCondition is the WHERE condition for "trait equals value" (compared
// as text: true and false as those words, numbers as written), or for
// "trait is set" when value is empty.
func (s *Store) traitCondition(trait, value string) (string, []any, error) {
	if strings.ContainsAny(trait, `"\`) {
		return "", nil, &touchbase.Error{Code: touchbase.EINVALID, Message: fmt.Sprintf("trait name %q may not contain quotes or backslashes", trait),
			Fields: []touchbase.FieldError{{Index: -1, Field: "trait", Message: "bad trait name"}}}
	}
	if s.d.dollar {
		if value == "" {
			return "c.traits ->> ? IS NOT NULL", []any{trait}, nil
		}
		return "c.traits ->> ? = ?", []any{trait, value}, nil
	}
	// SQLite reads a plain label after ->> as a path ("a.b" would be
	// nested): quote it. Its ->> also returns SQL values (1 for true, an
	// integer for 42) where PostgreSQL returns text: spell them as text.
	path := `$."` + trait + `"`
	if value == "" {
		return "c.traits ->> ? IS NOT NULL", []any{path}, nil
	}
	return "(CASE json_type(c.traits, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(c.traits ->> ? AS TEXT) END) = ?",
		[]any{path, path, value}, nil
}

// UpdateTraits merges traits into the profile: a nil value removes the
// trait, any other replaces it. It bumps updated_at and returns the
// customer with identities. As ingestion does, U+0000 in names and strings
// becomes U+FFFD, and a consent trait records the channel's consent.
// Returns ENOTFOUND, and EINVALID for an empty trait name,
// a value that is not JSON or a number beyond ±touchbase.MaxNumber.
func (s *Store) UpdateTraits(ctx context.Context, workspaceID, id int64, traits map[string]any) (*touchbase.Customer, error) {
	var bad []touchbase.FieldError
	checked := make(map[string]any, len(traits))
	for k, v := range traits {
		if strings.TrimSpace(k) == "" {
			bad = append(bad, touchbase.FieldError{Index: -1, Field: "traits", Message: "trait names must not be empty"})
			continue
		}
		k = withoutNUL(k)
		if v == nil {
			checked[k] = nil
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			bad = append(bad, touchbase.FieldError{Index: -1, Field: "traits." + k, Message: "not a JSON value"})
			continue
		}
		// As JSON decodes it, so that every Go number is one float64.
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("update traits of %d: %w", id, err)
		}
		var fe *touchbase.FieldError
		if checked[k], fe = traitValue(v, "traits."+k); fe != nil {
			bad = append(bad, *fe)
		}
	}
	if len(bad) > 0 {
		return nil, &touchbase.Error{Code: touchbase.EINVALID, Message: "invalid traits: " + bad[0].Field + ": " + bad[0].Message, Fields: bad}
	}
	traits = checked
	var c *touchbase.Customer
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = s.findCustomer(ctx, tx, workspaceID, id, true); err != nil {
			return err
		}
		if len(traits) == 0 {
			return nil
		}
		for k, v := range traits {
			if v == nil {
				delete(c.Traits, k)
			} else {
				c.Traits[k] = v
			}
		}
		raw, err := json.Marshal(c.Traits)
		if err != nil {
			return fmt.Errorf("update traits of %d: %w", id, err)
		}
		// Read back what was stored, so the caller sees the traits as any
		// later read will (numbers as float64).
		c.Traits = map[string]any{}
		if err := json.Unmarshal(raw, &c.Traits); err != nil {
			return fmt.Errorf("update traits of %d: %w", id, err)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, s.d.q("UPDATE customers SET traits = ?, updated_at = ? WHERE workspace_id = ? AND id = ?"),
			string(raw), now, workspaceID, id); err != nil {
			return fmt.Errorf("update traits of %d: %w", id, err)
		}
		c.UpdatedAt = time.UnixMilli(now).UTC()
		return s.traitConsents(ctx, tx, workspaceID, id, traits, now)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// traitValue returns v, a decoded JSON value, with U+0000 replaced in its
// strings and keys, or an error naming the path of its first number beyond
// ±touchbase.MaxNumber.
func traitValue(v any, path string) (any, *touchbase.FieldError) {
	switch x := v.(type) {
	case float64:
		if !touchbase.NumberInRange(x) {
			return nil, &touchbase.FieldError{Index: -1, Field: path, Message: fmt.Sprintf("%g: %s", x, touchbase.NumberRange)}
		}
	case string:
		return withoutNUL(x), nil
	case []any:
		for i := range x {
			var fe *touchbase.FieldError
			if x[i], fe = traitValue(x[i], path+"["+strconv.Itoa(i)+"]"); fe != nil {
				return nil, fe
			}
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			e, fe := traitValue(e, path+"."+k)
			if fe != nil {
				return nil, fe
			}
			m[withoutNUL(k)] = e
		}
		return m, nil
	}
	return v, nil
}

// withoutNUL replaces U+0000, which PostgreSQL's text and jsonb cannot
// hold, with U+FFFD, as ingestion does.
func withoutNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// EraseCustomer carries out a GDPR erasure in one transaction: it records
// the SHA-256 of each of the customer's identifiers as erased (so
// ingestion drops late events that carry them instead of recreating the
// person), deletes their identities, events and profile, and detaches
// their orders, which the store's books still need. Then it removes the
// copies the database keeps of what it deleted (see scrub). Returns
// ENOTFOUND; EUNAVAILABLE when the rows are erased but a copy could not
// be removed yet.
func (s *Store) EraseCustomer(ctx context.Context, workspaceID, id int64) error {
	if s.cache != nil {
		defer s.cache.forgetCustomer(workspaceID, id)
	}
	if err := s.eraseCustomer(ctx, workspaceID, id); err != nil {
		return err
	}
	return s.scrub(ctx, id)
}

func (s *Store) eraseCustomer(ctx context.Context, workspaceID, id int64) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		c, err := s.findCustomer(ctx, tx, workspaceID, id, true)
		if err != nil {
			return err
		}
		type kv struct{ kind, value string }
		seen := map[kv]bool{}
		var idents []kv
		add := func(kind touchbase.IdentityKind, value string) {
			k := kv{string(kind), value}
			if value != "" && !seen[k] {
				seen[k] = true
				idents = append(idents, k)
			}
		}
		for _, ident := range c.Identities {
			add(ident.Kind, ident.Value)
		}
		// The primary identifiers are identities too; this is belt and braces.
		add(touchbase.IdentityUserID, c.UserID)
		add(touchbase.IdentityEmail, c.Email)
		add(touchbase.IdentityPhone, c.Phone)
		now := s.now()
		for _, k := range idents {
			if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO erased_identities (workspace_id, kind, value_hash, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (workspace_id, kind, value_hash) DO NOTHING`), workspaceID, k.kind, erasedHash(k.value), now); err != nil {
				return fmt.Errorf("erase customer %d: remember identifier as erased: %w", id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.q(identitiesOfCustomer("DELETE FROM identities")), workspaceID, workspaceID, id); err != nil {
			return fmt.Errorf("erase customer %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.d.q(leaveSegments), workspaceID, workspaceID, id); err != nil {
			return fmt.Errorf("erase customer %d: %w", id, err)
		}
		for _, stmt := range []string{
			"DELETE FROM segment_members WHERE workspace_id = ? AND customer_id = ?",
			"DELETE FROM membership_changes WHERE workspace_id = ? AND customer_id = ?",
			"DELETE FROM customer_scores WHERE workspace_id = ? AND customer_id = ?",
			"DELETE FROM events WHERE workspace_id = ? AND customer_id = ?",
			"UPDATE orders SET customer_id = NULL WHERE workspace_id = ? AND customer_id = ?",
			// Their consents go with the row (ON DELETE CASCADE).
			"DELETE FROM customers WHERE workspace_id = ? AND id = ?",
		} {
			if _, err := tx.ExecContext(ctx, s.d.q(stmt), workspaceID, id); err != nil {
				return fmt.Errorf("erase customer %d: %w", id, err)
			}
		}
		return nil
	})
}

// ExportCustomer returns the customer with identities, all their events
// (oldest first), consents and orders (oldest first, with items), read
// from one snapshot. Returns ENOTFOUND.
func (s *Store) ExportCustomer(ctx context.Context, workspaceID, id int64) (*touchbase.CustomerExport, error) {
	x := &touchbase.CustomerExport{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if x.Customer, err = s.findCustomer(ctx, tx, workspaceID, id, false); err != nil {
			return err
		}
		if x.Events, err = s.customerEvents(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if x.Consents, err = s.consentsOf(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		x.Orders, err = s.customerOrders(ctx, tx, workspaceID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// FindCustomers returns the customers with the given ids that exist, in
// the order of ids, without their identities: a page of a segment's
// members, or the customers an ingest touched.
func (s *Store) FindCustomers(ctx context.Context, workspaceID int64, ids []int64) ([]*touchbase.Customer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	byID := make(map[int64]*touchbase.Customer, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		return s.queryIn(ctx, tx, "SELECT "+customerColumns+" FROM "+customersWithScores+" WHERE c.workspace_id = ? AND c.id IN (%s)", []any{workspaceID}, args,
			func(rows *sql.Rows) error {
				c, err := scanCustomer(rows)
				if err != nil {
					return err
				}
				byID[c.ID] = c
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
	}
	out := make([]*touchbase.Customer, 0, len(byID))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
			delete(byID, id) // an id given twice comes back once
		}
	}
	return out, nil
}

func scanCustomer(row interface{ Scan(...any) error }) (*touchbase.Customer, error) {
	var traits []byte
	c, err := scanCustomerTraits(row, &traits)
	if err != nil {
		return nil, err
	}
	c.Traits = map[string]any{}
	if len(traits) > 0 {
		if err := json.Unmarshal(traits, &c.Traits); err != nil {
			return nil, fmt.Errorf("customer %d traits: %w", c.ID, err)
		}
		if c.Traits == nil { // the JSON was null
			c.Traits = map[string]any{}
		}
	}
	return c, nil
}

// scanCustomerTraits scans a row of customerColumns, leaving c.Traits nil
// and the traits column, as stored, in traits (a *[]byte, or a
// *sql.RawBytes for rows).
func scanCustomerTraits(row interface{ Scan(...any) error }, traits any) (*touchbase.Customer, error) {
	var (
		c                                     touchbase.Customer
		userID, email, phone                  sql.NullString
		firstOrder, lastOrder, first, lastSee sql.NullInt64
		created, updated                      int64
		recency, frequency, monetary          sql.NullFloat64
		r, fs, m, cluster                     sql.NullInt64
		group, risk                           sql.NullString
		pAlive, expected, clv                 sql.NullFloat64
		nextOrder, scored                     sql.NullInt64
	)
	f := &c.Features
	if err := row.Scan(&c.ID, &c.WorkspaceID, &userID, &email, &phone, traits, &f.Orders, &f.Revenue,
		&firstOrder, &lastOrder, &first, &lastSee, &f.Refunds, &f.RefundTotal, &f.Events, &created, &updated,
		&recency, &frequency, &monetary, &r, &fs, &m, &group, &cluster, &pAlive, &expected, &clv, &risk, &nextOrder, &scored); err != nil {
		return nil, err
	}
	sc := &c.Scores
	sc.Recency, sc.Frequency, sc.Monetary = nullFloat(recency), nullFloat(frequency), nullFloat(monetary)
	sc.R, sc.F, sc.M, sc.Cluster = nullIntPtr(r), nullIntPtr(fs), nullIntPtr(m), nullIntPtr(cluster)
	sc.RFMGroup, sc.ChurnRisk = group.String, risk.String
	sc.PAlive, sc.ExpectedPurchases, sc.PredictedCLV = nullFloat(pAlive), nullFloat(expected), nullFloat(clv)
	sc.NextOrderAt, sc.UpdatedAt = fromMillis(nextOrder), fromMillis(scored)
	c.UserID, c.Email, c.Phone = userID.String, email.String, phone.String
	if f.Orders > 0 {
		f.AOV = f.Revenue / float64(f.Orders)
	}
	f.FirstOrderAt, f.LastOrderAt = fromMillis(firstOrder), fromMillis(lastOrder)
	f.FirstSeenAt, f.LastSeenAt = fromMillis(first), fromMillis(lastSee)
	c.CreatedAt = time.UnixMilli(created).UTC()
	c.UpdatedAt = time.UnixMilli(updated).UTC()
	return &c, nil
}

// nullFloat is v's value, or nil when it is NULL.
func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

// nullIntPtr is v's value as an int, or nil when it is NULL.
func nullIntPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}
