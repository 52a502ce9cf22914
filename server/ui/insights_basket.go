package ui

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/touchbase/touchbase/analytics"
)

// rulesPage is how many rules one page of the basket table shows.
const rulesPage = 50

// basketSorts are the columns rules sort by (all descending), the first
// the default: the run keeps its rules by lift.
var basketSorts = []string{"lift", "confidence", "support", "count"}

// basketView is a basket run's rules, filtered, sorted and paged as the
// query asks: filters apply on the server, so a link shows the same rules.
type basketView struct {
	Res *analytics.BasketResult
	// The filter form's values: minimum lift, minimum confidence in
	// percent, a product search, the sort column.
	Lift, Confidence, Q, Sort string
	// Error is why a filter could not be used; the rules are unfiltered.
	Error    string
	Filtered bool
	Rules    []ruleView
	Matching int
	Page     int
	Pages    int
	path     string
}

type ruleView struct {
	analytics.Rule
	If, Then []string // product names, or ids without a name
}

func newBasketView(res *analytics.BasketResult, q url.Values, st *runState) *basketView {
	v := &basketView{Res: res, Lift: strings.TrimSpace(q.Get("lift")), Confidence: strings.TrimSpace(q.Get("confidence")),
		Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Page: 1, path: st.In.URL()}
	if st.Older {
		v.path = st.RunURL(st.Run.ID)
	}
	if !slices.Contains(basketSorts, v.Sort) {
		v.Sort = ""
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 {
		v.Page = p
	}
	var minLift, minConf float64
	if v.Lift != "" {
		f, err := strconv.ParseFloat(v.Lift, 64)
		if err != nil || f < 0 {
			v.Error = "Minimum lift must be a number, 0 or more (1 is what chance gives)."
		}
		minLift = f
	}
	if v.Confidence != "" {
		f, err := strconv.ParseFloat(strings.TrimSuffix(v.Confidence, "%"), 64)
		if err != nil || f < 0 || f > 100 {
			v.Error = "Minimum confidence must be a percentage from 0 to 100."
		}
		minConf = f / 100
	}
	if v.Error != "" {
		minLift, minConf = 0, 0
	}
	v.Filtered = v.Lift != "" || v.Confidence != "" || v.Q != ""
	needle := strings.ToLower(v.Q)
	name := func(id string) string {
		if n := res.Names[id]; n != "" {
			return n
		}
		return id
	}
	matches := func(ids []string) bool {
		for _, id := range ids {
			if strings.Contains(strings.ToLower(id), needle) || strings.Contains(strings.ToLower(res.Names[id]), needle) {
				return true
			}
		}
		return false
	}
	var rules []analytics.Rule
	for _, r := range res.Rules {
		// A tiny tolerance: a rule shown as "lift 2.00" must pass "2".
		if r.Lift < minLift-1e-9 || r.Confidence < minConf-1e-9 {
			continue
		}
		if needle != "" && !matches(r.Antecedent) && !matches(r.Consequent) {
			continue
		}
		rules = append(rules, r)
	}
	key := func(r analytics.Rule) float64 {
		switch v.Sort {
		case "confidence":
			return r.Confidence
		case "support":
			return r.Support
		case "count":
			return float64(r.Count)
		}
		return r.Lift
	}
	slices.SortStableFunc(rules, func(a, b analytics.Rule) int { return cmp.Compare(key(b), key(a)) })
	v.Matching = len(rules)
	v.Pages = max(1, (len(rules)+rulesPage-1)/rulesPage)
	v.Page = min(v.Page, v.Pages)
	for _, r := range rules[(v.Page-1)*rulesPage : min(len(rules), v.Page*rulesPage)] {
		rv := ruleView{Rule: r}
		for _, id := range r.Antecedent {
			rv.If = append(rv.If, name(id))
		}
		for _, id := range r.Consequent {
			rv.Then = append(rv.Then, name(id))
		}
		v.Rules = append(v.Rules, rv)
	}
	return v
}

// query returns the rules' URL with the changes given ("" removes); a
// change of filter or sort starts from the first page.
func (v *basketView) query(changes ...string) string {
	q := url.Values{}
	set := func(k, val string) {
		if val != "" {
			q.Set(k, val)
		}
	}
	set("lift", v.Lift)
	set("confidence", v.Confidence)
	set("q", v.Q)
	set("sort", v.Sort)
	for i := 0; i+1 < len(changes); i += 2 {
		q.Del(changes[i])
		set(changes[i], changes[i+1])
	}
	u, _ := url.Parse(v.path)
	for k, vals := range u.Query() {
		q[k] = vals // ?run= of an older run
	}
	if len(q) == 0 {
		return u.Path
	}
	return u.Path + "?" + q.Encode()
}

// SortURL is the rules sorted by s.
func (v *basketView) SortURL(s string) string {
	if s == basketSorts[0] {
		s = ""
	}
	return v.query("sort", s)
}

// AriaSort is the aria-sort of a column header.
func (v *basketView) AriaSort(s string) string {
	cur := v.Sort
	if cur == "" {
		cur = basketSorts[0]
	}
	if cur == s {
		return "descending"
	}
	return "none"
}

// PageURL is page n of the rules.
func (v *basketView) PageURL(n int) string {
	if n <= 1 {
		return v.query()
	}
	return v.query("page", strconv.Itoa(n))
}

// First is the number of the page's first rule.
func (v *basketView) First() int { return (v.Page-1)*rulesPage + 1 }

// Last is the number of the page's last rule.
func (v *basketView) Last() int { return v.First() + len(v.Rules) - 1 }

// Path is where the filter form submits: the page itself (a GET form
// drops the action's query, so RunID goes in a field of its own).
func (v *basketView) Path() string {
	u, _ := url.Parse(v.path)
	return u.Path
}

// RunID is the ?run= the form keeps, or "".
func (v *basketView) RunID() string {
	u, _ := url.Parse(v.path)
	return u.Query().Get("run")
}
