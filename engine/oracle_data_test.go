package engine_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// oracleAsOf is the instant the differential test evaluates at: not on a
// second, minute or day boundary, so that off-by-one windows show.
var oracleAsOf = time.Date(2026, 6, 15, 12, 34, 56, 789_000_000, time.UTC)

// oracleEvents are the event names of the generated store, with the
// properties their events carry.
var oracleEvents = []string{"Order Completed", "Product Viewed", "Checkout Started", "Email Opened"}

// oracleData is what the generator wrote, for drawing literals near it.
type oracleData struct {
	ws     int64
	values map[string][]segment.Value // by field or property name
}

// seedOracle fills a fresh workspace of s with n customers whose traits
// take every JSON type (and none), whose features are set and unset, and
// whose events fall inside, outside and exactly on the edges of windows
// around oracleAsOf, some after it.
func seedOracle(t testing.TB, s *store.Store, r *rand.Rand, n int) *oracleData {
	t.Helper()
	d := &oracleData{ws: storetest.Workspace(t, s, "oracle").ID, values: map[string][]segment.Value{}}
	note := func(name string, v segment.Value) { d.values[name] = append(d.values[name], v) }
	pick := func(xs ...any) any { return xs[r.IntN(len(xs))] }
	ms := func(t time.Time) segment.Value { return segment.Value{Type: segment.TypeTime, Time: t.UnixMilli()} }
	// Instants near as-of: on window edges (as-of minus whole hours, days
	// and weeks), a millisecond either side, and anywhere in 400 days.
	instant := func() time.Time {
		switch r.IntN(4) {
		case 0:
			unit := pick(time.Hour, 24*time.Hour, 7*24*time.Hour).(time.Duration)
			return oracleAsOf.Add(-time.Duration(r.IntN(60)) * unit)
		case 1:
			unit := pick(time.Hour, 24*time.Hour).(time.Duration)
			return oracleAsOf.Add(-time.Duration(r.IntN(60))*unit + time.Duration(r.IntN(3)-1)*time.Millisecond)
		case 2:
			return oracleAsOf.Add(time.Duration(r.IntN(30*24)) * time.Hour) // after as-of
		}
		return oracleAsOf.Add(-time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
	}
	for i := range n {
		traits := map[string]any{}
		set := func(name string, v any) {
			if v == nil && r.IntN(2) == 0 {
				return // missing rather than null
			}
			traits[name] = v
		}
		set("country", pick("DE", "FR", "GB", "de", "", 5.0, nil, true))
		set("age", pick(18.0, 25.0, 34.0, 34.5, 60.0, "30", nil))
		set("plan", pick("gold", "platinum", "free", "gold ", "Gold", nil))
		set("vip", pick(true, false, "true", nil))
		set("score", float64(r.IntN(40))/4-2)
		set("tags", pick([]any{"a", "b"}, []any{"vip"}, []any{}, []any{1.0, "a"}, "vip", nil))
		set("address", pick(map[string]any{"city": "Berlin"}, map[string]any{"city": "Paris", "zip": 75001.0}, map[string]any{}, nil))
		set("name", pick("Ann", "Änne", `Bob "the" Builder`, "ann", "", nil))
		bday := oracleAsOf.AddDate(-30, 0, r.IntN(20)-3)
		set("birthday", pick(bday.Format(time.DateOnly), "1992-02-29", "1990-06-15", "1990-06-14", "2023-02-30", "15/06/1990", bday.Format(time.DateOnly)+"T00:00:00Z", nil))
		signup := instant()
		set("signup_at", pick(signup.Format(time.RFC3339), signup.Format("2006-01-02T15:04:05.000Z"), signup.Format("2006-01-02T15:04:05.123456789Z"),
			signup.Format(time.DateOnly), signup.Format("2006-01-02T15:04:05+02:00"), "2026-13-01T00:00:00Z", "yesterday", nil))
		set("timezone", pick("Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata", "UTC", "Mars/Olympus", nil))
		c := &touchbase.Customer{WorkspaceID: d.ws, UserID: fmt.Sprintf("u%03d", i), Traits: traits}
		if r.IntN(3) > 0 {
			c.Email = fmt.Sprintf("c%d@example.com", i)
		}
		f := &c.Features
		f.Orders = r.IntN(5)
		f.Revenue = float64(r.IntN(2000)) / 2
		f.Events = r.IntN(50)
		f.Refunds = r.IntN(2)
		f.RefundTotal = float64(r.IntN(40)) / 4
		if f.Orders > 0 {
			first, last := instant(), instant()
			if last.Before(first) {
				first, last = last, first
			}
			f.FirstOrderAt, f.LastOrderAt = &first, &last
		}
		if r.IntN(5) > 0 {
			first, last := instant(), instant()
			f.FirstSeenAt, f.LastSeenAt = &first, &last
		}
		c.CreatedAt = instant()
		storetest.InsertCustomer(t, s, c)
		if r.IntN(3) > 0 {
			// Scores, as the analyses write them, some not computed.
			maybeF := func(v float64) any {
				if r.IntN(5) == 0 {
					return nil
				}
				return v
			}
			rs, fs, mscore := 1+r.IntN(5), 1+r.IntN(5), 1+r.IntN(5)
			group := pick("Champions", "At Risk", "Lost", "Cannot Lose Them").(string)
			cluster := r.IntN(4)
			pAlive, clv := float64(r.IntN(11))/10, float64(r.IntN(100))*5
			risk := pick("low", "medium", "high").(string)
			next := instant()
			storetest.Exec(t, s, `INSERT INTO customer_scores (workspace_id, customer_id, rfm_recency, rfm_frequency, rfm_monetary, rfm_r, rfm_f, rfm_m,
				rfm_segment, cluster, p_alive, expected_purchases, predicted_clv, churn_risk, next_order_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.ws, c.ID, maybeF(float64(r.IntN(400))), maybeF(float64(r.IntN(9))), maybeF(float64(r.IntN(900))/3), rs, fs, mscore,
				group, cluster, maybeF(pAlive), maybeF(float64(r.IntN(30))/10), maybeF(clv), risk, next.UnixMilli(), 1)
			note("rfm.segment", segment.String(group))
			note("rfm.score", segment.String(fmt.Sprintf("%d%d%d", rs, fs, mscore)))
			note("rfm.r", segment.Number(float64(rs)))
			note("cluster", segment.Number(float64(cluster)))
			note("p_alive", segment.Number(pAlive))
			note("predicted_clv", segment.Number(clv))
			note("churn_risk", segment.String(risk))
			note("next_order_at", ms(next))
		}
		for name, v := range traits {
			switch v := v.(type) {
			case string:
				note(name, segment.String(v))
				if tm, err := segment.ParseTime(v); err == nil {
					note(name, segment.Value{Type: segment.TypeTime, Str: v, Time: tm})
				}
			case float64:
				note(name, segment.Number(v))
			case bool:
				note(name, segment.Bool(v))
			}
		}
		note("revenue", segment.Number(f.Revenue))
		note("orders", segment.Number(float64(f.Orders)))
		if f.LastOrderAt != nil {
			note("last_order_at", ms(*f.LastOrderAt))
		}
		for range r.IntN(12) {
			name := oracleEvents[r.IntN(len(oracleEvents))]
			props := map[string]any{}
			maybe := func(k string, v any) {
				if v != nil || r.IntN(2) == 0 {
					props[k] = v
				}
			}
			maybe("revenue", pick(float64(r.IntN(400))/4, 10.0, "10", nil))
			maybe("category", pick("Gadgets", "Books", "gadgets", 7.0, nil))
			maybe("quantity", pick(1.0, 2.0, 2.5, true, nil))
			maybe("product", pick(map[string]any{"brand": "Acme"}, map[string]any{"brand": "Zeta", "price": 12.5}, nil))
			ts := instant()
			var raw json.RawMessage
			if r.IntN(10) > 0 {
				raw, _ = json.Marshal(props)
			}
			storetest.InsertEvent(t, s, &touchbase.Event{WorkspaceID: d.ws, CustomerID: c.ID, Event: name, Timestamp: ts, Properties: raw})
			for k, v := range props {
				switch v := v.(type) {
				case string:
					note(k, segment.String(v))
				case float64:
					note(k, segment.Number(v))
				}
			}
		}
	}
	return d
}
