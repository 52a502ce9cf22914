package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
)

// base is what the layout needs on every page.
type base struct {
	Title       string
	Nav         string
	SignedIn    bool
	CSRF        string
	HXHeaders   string
	Member      *touchbase.Member
	Workspace   *touchbase.Workspace
	Memberships []*touchbase.Membership
	Version     string
	CanEdit     bool
	// HasSegments shows the segment pages in the navigation.
	HasSegments bool
	// HasInsights shows the Insights pages in the navigation.
	HasInsights bool
	// HasSettings shows the settings page (owners and admins).
	HasSettings bool
	loc         *time.Location
	currency    string
}

// base returns the layout's data for rq (nil when signed out).
func (h *Handler) base(rq *request, title, nav string) base {
	b := base{Title: title, Nav: nav, Version: h.cfg.Version, loc: time.UTC, currency: "USD", HasSegments: h.segmentsOn(),
		HasInsights: h.insightsOn()}
	if rq == nil {
		return b
	}
	b.SignedIn = true
	b.CSRF, b.HXHeaders = rq.csrf, hxHeaders(rq.csrf)
	b.Member, b.Workspace, b.Memberships = rq.member, rq.ws, rq.memberships
	b.CanEdit = rq.member.Role.AtLeast(touchbase.RoleMarketer)
	b.HasSettings = h.settingsOn() && rq.member.Role.AtLeast(touchbase.RoleAdmin)
	b.loc = location(rq.ws)
	if c := rq.ws.Settings.Currency; c != "" {
		b.currency = c
	}
	return b
}

// location is the workspace's time zone, UTC when unset or unknown.
func location(ws *touchbase.Workspace) *time.Location {
	if ws == nil || ws.Settings.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(ws.Settings.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Loc is the workspace's time zone, for templates.
func (b base) Loc() *time.Location { return b.loc }

// Currency is the workspace's currency code.
func (b base) Currency() string { return b.currency }

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":   h.asset,
		"num":     formatInt,
		"money":   formatMoney,
		"decimal": formatDecimal,
		"rel":     func(t time.Time) string { return relTime(t, h.cfg.Now()) },
		"exact":   exactTime,
		"ago":     h.ago,
		"deref":   func(t *time.Time) time.Time { return *t },
		"value":   traitValue,
		"sorted":  sortedTraits,
		"json":    compactJSON,
		"name":    displayName,
		"initial": initial,
		"pct":     percent,
		"share":   share,
		"fixed":   func(f float64, decimals int) string { return strconv.FormatFloat(f, 'f', decimals, 64) },
		"day":     func(t time.Time, loc *time.Location) string { return t.In(loc).Format("Mon 2 Jan 2006") },
		"add":     func(a, b int) int { return a + b },
		"join":    strings.Join,
		"int64":   func(i int) int64 { return int64(i) },
		// lineTable is what the "line-table" template shows: a table id
		// and an import's bad lines or warnings.
		"lineTable": func(id string, lines []touchbase.LineError) any {
			return struct {
				ID    string
				Lines []touchbase.LineError
			}{id, lines}
		},
		"letter": func(s string) string {
			for _, r := range s {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"clvTable": func(rows []clvRow, id, currency string) clvTable {
			return clvTable{Rows: rows, ID: id, currency: currency}
		},
		// pctnum writes a fraction as a form's percentage: 0.2 -> 20.
		"pctnum": func(f float64) string { return strconv.FormatFloat(math.Round(f*1e8)/1e6, 'f', -1, 64) },
		"explainNode": func(x *engine.Explanation, loc *time.Location) explainNode {
			return explainNode{X: x, Loc: loc}
		},
		"operandValue": func(v any, loc *time.Location) string { return operandValue(v, loc, h.cfg.Now()) },
	}
}

// formatInt writes n with thousands separators: 1234567 -> 1,234,567.
func formatInt(n any) string {
	var v int64
	switch x := n.(type) {
	case int:
		v = int64(x)
	case int64:
		v = x
	case float64:
		return formatFloatInt(x)
	case *float64: // a score, which may be unset
		if x != nil {
			return formatFloatInt(*x)
		}
	case *int:
		if x != nil {
			v = int64(*x)
		}
	}
	return humanize.Comma(v)
}

// formatFloatInt is formatInt of a float: rounded, "n/a" when not finite,
// and never wrapped past int64.
func formatFloatInt(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "n/a"
	case math.Abs(f) >= 1e18:
		return humanize.Commaf(math.Round(f))
	}
	return humanize.Comma(int64(math.Round(f)))
}

// formatDecimal writes f with two decimals and thousands separators.
// Amounts are bounded where they enter (touchbase.MaxNumber), but their
// sums may pass what int64 cents hold (9.2e16): those are written in whole
// units. A number that is not finite is written "n/a", never wrapped.
func formatDecimal(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "n/a"
	case math.Abs(f) >= 1e15:
		return humanize.Commaf(math.Round(f))
	}
	neg := f < 0
	cents := int64(math.Round(math.Abs(f) * 100))
	s := formatInt(cents/100) + "." + fmt.Sprintf("%02d", cents%100)
	if neg && cents != 0 {
		return "-" + s
	}
	return s
}

var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "CHF": "CHF "}

// formatMoney writes f in the currency: $1,234.50, or 1,234.50 SEK for a
// currency without a symbol here.
func formatMoney(f float64, currency string) string {
	d := formatDecimal(f)
	if d == "n/a" {
		return d
	}
	sym, ok := currencySymbols[strings.ToUpper(currency)]
	if !ok {
		if currency == "" {
			return d
		}
		return d + " " + currency
	}
	if strings.HasPrefix(d, "-") {
		return "-" + sym + d[1:]
	}
	return sym + d
}

// relTime says how long ago (or in how long) t is from now, roughly.
func relTime(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		s = plural(int(d/(24*time.Hour)), "day")
	case d < 365*24*time.Hour:
		s = plural(int(d/(30*24*time.Hour)), "month")
	default:
		s = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// ago shows t relative to now, with the exact time (in the workspace's
// zone) in the title and the machine-readable one in datetime. Every value
// is escaped here, which is what makes returning template.HTML safe.
func (h *Handler) ago(t time.Time, loc *time.Location) template.HTML {
	return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `" title="` +
		template.HTMLEscapeString(exactTime(t, loc)) + `">` + template.HTMLEscapeString(relTime(t, h.cfg.Now())) + `</time>`)
}

// exactTime is t in loc, to the second, with the zone.
func exactTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2 Jan 2006, 15:04:05 MST")
}

// traitValue shows a trait's value: strings as they are, anything else as
// JSON.
func traitValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// trait is one trait for a table.
type trait struct {
	Key   string
	Value any
}

// sortedTraits lists traits by name.
func sortedTraits(m map[string]any) []trait {
	out := make([]trait, 0, len(m))
	for k, v := range m {
		out = append(out, trait{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// compactJSON shows raw JSON on one line, cut at 400 bytes.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// displayName is what people call a customer: their name, else email,
// user id or phone, else their number.
func displayName(c *touchbase.Customer) string {
	if n, ok := c.Traits["name"].(string); ok && strings.TrimSpace(n) != "" {
		return strings.TrimSpace(n)
	}
	first, _ := c.Traits["first_name"].(string)
	last, _ := c.Traits["last_name"].(string)
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	for _, s := range []string{c.Email, c.UserID, c.Phone} {
		if s != "" {
			return s
		}
	}
	return "Customer #" + strconv.FormatInt(c.ID, 10)
}

// initial is the avatar letter of a customer.
func initial(c *touchbase.Customer) string {
	for _, r := range displayName(c) {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// percent is part of whole as a whole percentage ("–" of nothing).
func percent(part, whole int64) string {
	if whole == 0 {
		return "–"
	}
	return strconv.FormatInt(int64(math.Round(float64(part)*100/float64(whole))), 10) + "%"
}

// explainNode is one clause of an explanation with the time zone its
// values are shown in: a template calls itself on its children with it.
type explainNode struct {
	X   *engine.Explanation
	Loc *time.Location
}

// operandValue shows a value an explanation used: "not set", strings
// quoted (so that "" and "0" read as strings), times (which the engine
// gives in RFC 3339) in the workspace's zone and relative to now.
func operandValue(v any, loc *time.Location, now time.Time) string {
	switch x := v.(type) {
	case nil:
		return "not set"
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) >= len("2006-01-02T15:04:05Z") {
			return t.In(loc).Format("2 Jan 2006, 15:04 MST") + " (" + relTime(t, now) + ")"
		}
		return strconv.Quote(x)
	}
	return traitValue(v)
}
