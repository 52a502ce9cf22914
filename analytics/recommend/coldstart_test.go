package recommend_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/recommend"
)

// coldStart evaluates the fallbacks on the customers whose first purchase
// is in the test period, who get nothing but fallbacks: overall popularity
// against popularity in their segment (here, their country) and in the
// last 90 days of training. It is part of TestOnlineRetailEvaluation, which
// parses the data once.
func coldStart(t *testing.T, d retail, h holdout, m *recommend.Model) {
	var newcomers []int64
	for c := range h.tested {
		if h.trained[c] == nil {
			newcomers = append(newcomers, c)
		}
	}
	slices.Sort(newcomers)
	h.customers = newcomers

	members := make(map[string][]int64) // country -> training customers
	for c := range h.trained {
		members[d.country[c]] = append(members[d.country[c]], c)
	}
	for _, ids := range members {
		slices.Sort(ids)
	}
	recent := m.Stats().End.Add(-90 * 24 * time.Hour)
	recentPopular := m.Popular(10, recommend.PopularOptions{Since: recent})
	// perCountry computes a segment's list once, as a caller would.
	perCountry := func(popular func(country string) []recommend.Scored) func(int64) []recommend.Scored {
		lists := make(map[string][]recommend.Scored)
		return func(c int64) []recommend.Scored {
			country := d.country[c]
			if _, ok := lists[country]; !ok {
				lists[country] = popular(country)
			}
			return lists[country]
		}
	}
	fallback := func(popular func(c int64) []recommend.Scored) func(int64) []string {
		return func(c int64) []string {
			var out []string
			for _, r := range m.ForCustomer(c, 10, recommend.Options{Fallback: recommend.Products(popular(c))}) {
				out = append(out, r.Product)
			}
			return out
		}
	}
	rows := []struct {
		name string
		recs func(int64) []string
	}{
		{"overall popularity (no fallback given)", fallback(func(int64) []recommend.Scored { return nil })},
		{"popularity in the last 90 days", fallback(func(int64) []recommend.Scored { return recentPopular })},
		{"popularity in the segment (country)", fallback(perCountry(func(country string) []recommend.Scored {
			return m.Popular(10, recommend.PopularOptions{Customers: members[country]})
		}))},
		{"popularity in the segment, last 90 days", fallback(perCountry(func(country string) []recommend.Scored {
			return m.Popular(10, recommend.PopularOptions{Customers: members[country], Since: recent})
		}))},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| fallback for new customers | customers | hit rate@10 | precision@10 | recall@10 |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		x := h.score(allProducts, r.recs)
		fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f | %.3f |\n", r.name, x.customers, x.hitRate, x.precision, x.recall)
	}
	t.Log(b.String())
}
