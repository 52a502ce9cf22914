package demo_test

import (
	"strings"
	"testing"
	"time"
)

// figures are the store's shape, computed from the messages alone.
type figures struct {
	buyers        int
	repeatShare   float64 // buyers with two orders or more
	topDecile     float64 // revenue share of the top 10% of buyers
	cartVisits    int
	abandoned     float64 // visits with Product Added and no order
	lapsed        float64 // people with no activity in the last 180 days
	optIn         float64 // sign-ups subscribed to email
	unsubscribes  int
	birthdays     float64 // sign-ups with a birthday
	refunds       float64 // Order Refunded per order
	cancels       float64 // Order Cancelled per order
	satRatio      float64 // Saturday's visits over the mean day's
	sunMonRatio   float64 // Sunday's and Monday's visits over the mean day's
	holidayRatio  float64 // Nov-Dec daily events over the last year's mean
	summerRatio   float64 // Jul-Aug daily events over the last year's mean
	bfRatio       float64 // daily events from Black Friday to Cyber Monday 2024 over the year's mean
	countries     map[string]int
	zones         map[string]int
	viewedTop10   float64 // share of Product Viewed of the top 10% of products
	orderNoView   int     // orders none of whose products the person viewed before
	orders        int
	eventsPerDay  float64
	anonymousOnly float64 // people who never identify
}

func computeFigures(t *testing.T, h *history) figures {
	t.Helper()
	f := figures{countries: map[string]int{}, zones: map[string]int{}}
	end := h.sum.Last.Add(time.Second)
	yearAgo := testEnd.AddDate(-1, 0, 0)
	var weekday [7]int
	var visitsTotal int
	var yearEvents, holidayEvents, summerEvents, bfEvents int
	bfStart := time.Date(2024, time.November, 29, 0, 0, 0, 0, time.UTC) // Black Friday 2024
	bfEnd := bfStart.AddDate(0, 0, 4)                                   // through Cyber Monday
	var holidayDays, summerDays int
	for d := yearAgo; d.Before(testEnd); d = d.AddDate(0, 0, 1) {
		switch d.Month() {
		case time.November, time.December:
			holidayDays++
		case time.July, time.August:
			summerDays++
		}
	}
	var signups, subscribed, withBirthday, refunds, cancels, anonOnly, lapsed int
	views := map[string]int{}
	var revenues []float64
	for _, msgs := range h.byPerson() {
		loc := time.UTC
		if tz := msgs[0].Context.Timezone; tz != "" {
			l, err := time.LoadLocation(tz)
			if err != nil {
				t.Fatalf("time zone %q: %v", tz, err)
			}
			loc = l
			f.zones[tz]++
		}
		hasUser := false
		viewed := map[string]bool{}
		var revenue float64
		orders := 0
		last := msgs[0].Timestamp
		for _, m := range msgs {
			if m.UserID != "" {
				hasUser = true
			}
			if m.Timestamp.After(last) {
				last = m.Timestamp
			}
			if !m.Timestamp.Before(yearAgo) {
				yearEvents++
				local := m.Timestamp.In(loc)
				if day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC); !day.Before(bfStart) && day.Before(bfEnd) {
					bfEvents++
				}
				switch local.Month() {
				case time.November, time.December:
					holidayEvents++
				case time.July, time.August:
					summerEvents++
				}
			}
			switch {
			case m.Type == "identify" && m.Traits["first_name"] != nil:
				signups++
				if m.Traits["email_consent"] == "subscribed" {
					subscribed++
				}
				if c, ok := m.Traits["country"].(string); ok {
					f.countries[c]++
				}
				if b, ok := m.Traits["birthday"].(string); ok {
					born, err := time.Parse(time.DateOnly, b)
					if err != nil {
						t.Errorf("birthday %q: %v", b, err)
					} else if age := testEnd.Sub(born).Hours() / 24 / 365.25; age < 18 || age > 90 {
						t.Errorf("birthday %q: age %.0f", b, age)
					}
					withBirthday++
				}
			case m.Type == "identify" && m.Traits["email_consent"] == "unsubscribed":
				f.unsubscribes++
			case m.Event == "Product Viewed":
				viewed[m.Properties.ProductID] = true
				views[m.Properties.ProductID]++
			case m.Event == "Order Completed":
				orders++
				f.orders++
				revenue += m.Properties.Revenue
				seen := false
				for _, p := range m.Properties.Products {
					seen = seen || viewed[p.ProductID]
				}
				if !seen {
					f.orderNoView++
				}
			case m.Event == "Order Refunded":
				refunds++
			case m.Event == "Order Cancelled":
				cancels++
			}
		}
		if !hasUser {
			anonOnly++
		}
		if end.Sub(last) > 180*24*time.Hour {
			lapsed++
		}
		if orders > 0 {
			f.buyers++
			revenues = append(revenues, revenue)
			if orders > 1 {
				f.repeatShare++
			}
		}
		var abandoned int
		for _, v := range visits(msgs) {
			visitsTotal++
			weekday[v[0].Timestamp.In(loc).Weekday()]++
			var added, ordered bool
			for _, m := range v {
				added = added || m.Event == "Product Added"
				ordered = ordered || m.Event == "Order Completed"
			}
			if added {
				f.cartVisits++
				if !ordered {
					abandoned++
				}
			}
		}
		f.abandoned += float64(abandoned)
	}
	f.repeatShare /= float64(f.buyers)
	f.topDecile = topShare(revenues, 0.1)
	f.abandoned /= float64(f.cartVisits)
	f.lapsed = float64(lapsed) / float64(h.persons)
	f.optIn = float64(subscribed) / float64(signups)
	f.birthdays = float64(withBirthday) / float64(signups)
	f.refunds = float64(refunds) / float64(f.orders)
	f.cancels = float64(cancels) / float64(f.orders)
	f.anonymousOnly = float64(anonOnly) / float64(h.persons)
	mean := float64(visitsTotal) / 7
	f.satRatio = float64(weekday[time.Saturday]) / mean
	f.sunMonRatio = float64(weekday[time.Sunday]+weekday[time.Monday]) / 2 / mean
	perDay := float64(yearEvents) / 365
	f.holidayRatio = float64(holidayEvents) / float64(holidayDays) / perDay
	f.summerRatio = float64(summerEvents) / float64(summerDays) / perDay
	f.bfRatio = float64(bfEvents) / 4 / perDay
	var counts []float64
	for _, n := range views {
		counts = append(counts, float64(n))
	}
	f.viewedTop10 = topShare(counts, 0.1)
	f.eventsPerDay = perDay
	return f
}

// TestRealism checks that the store has the shape of a real one. The
// bounds are wide enough for any seed's chance variation at 2,000
// customers and narrow enough to fail when a mechanism is missing.
func TestRealism(t *testing.T) {
	h := smallHistory(t)
	f := computeFigures(t, h)
	t.Logf("%+v", f)
	cases := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"share of buyers who buy again", f.repeatShare, 0.35, 0.65},
		{"revenue share of the top 10% of buyers", f.topDecile, 0.35, 0.75},
		{"share of carts abandoned", f.abandoned, 0.60, 0.80},
		{"share of people inactive for 180 days", f.lapsed, 0.30, 0.80},
		{"share of sign-ups opted in to email", f.optIn, 0.42, 0.62},
		{"share of sign-ups with a birthday", f.birthdays, 0.70, 0.92},
		{"refunds per order", f.refunds, 0.01, 0.08},
		{"cancellations per order", f.cancels, 0.0005, 0.02},
		{"Saturday's visits over the mean day's", f.satRatio, 0.6, 0.9},
		{"Sunday's and Monday's visits over the mean day's", f.sunMonRatio, 1.05, 1.3},
		{"November-December daily events over the year's mean", f.holidayRatio, 1.2, 2.5},
		{"July-August daily events over the year's mean", f.summerRatio, 0.4, 0.95},
		{"Black Friday to Cyber Monday daily events over the year's mean", f.bfRatio, 1.8, 5},
		{"share of Product Viewed of the top 10% of products", f.viewedTop10, 0.4, 0.85},
		{"share of people who never identify", f.anonymousOnly, 0.15, 0.35},
		{"buyers", float64(f.buyers), 300, 1200},
		{"unsubscribes", float64(f.unsubscribes), 10, 400},
		{"countries", float64(len(f.countries)), 8, 20},
		{"time zones", float64(len(f.zones)), 12, 40},
		{"orders bought without a Product Viewed of any of their products", float64(f.orderNoView), 0, 0},
	}
	for _, c := range cases {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: %.3f, want between %.3f and %.3f", c.name, c.got, c.min, c.max)
		}
	}
	// The largest market is the shop's own.
	for c, n := range f.countries {
		if n > f.countries["US"] {
			t.Errorf("%s has %d sign-ups, more than the US's %d", c, n, f.countries["US"])
		}
	}
}

// TestIdentifiers checks that ids and addresses are unique and can reach
// nobody.
func TestIdentifiers(t *testing.T) {
	h := smallHistory(t)
	ids := map[string]bool{}
	emails := map[string]string{}
	phones := map[string]string{}
	for _, m := range h.msgs {
		if ids[m.MessageID] {
			t.Fatalf("messageId %q repeats", m.MessageID)
		}
		ids[m.MessageID] = true
		if e, ok := m.Traits["email"].(string); ok {
			domain := e[strings.LastIndexByte(e, '@')+1:]
			if domain != "example.com" && domain != "example.net" && domain != "example.org" {
				t.Errorf("email %q: not a reserved domain", e)
			}
			if u, ok := emails[e]; ok && u != m.UserID {
				t.Errorf("email %q belongs to %s and %s", e, u, m.UserID)
			}
			emails[e] = m.UserID
		}
		if p, ok := m.Traits["phone"].(string); ok {
			if !strings.HasPrefix(p, "+1555") || len(p) != 12 {
				t.Errorf("phone %q: not in the 555 area code", p)
			}
			if u, ok := phones[p]; ok && u != m.UserID {
				t.Errorf("phone %q belongs to %s and %s", p, u, m.UserID)
			}
			phones[p] = m.UserID
		}
	}
	if len(emails) != h.sum.Identified {
		t.Errorf("%d distinct emails, want one per identified customer (%d)", len(emails), h.sum.Identified)
	}
	if len(phones) == 0 {
		t.Error("nobody has a phone number")
	}
}
