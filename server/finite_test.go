package server

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
)

// TestCheckFinite names the place of a number JSON cannot hold in an
// operation's output, as encoding/json would write the path.
func TestCheckFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		name string
		out  any
		want string // "" for no error
	}{
		{"finite", &output[*touchbase.Stats]{Body: &touchbase.Stats{Revenue: 1e300}}, ""},
		{"stats", &output[*touchbase.Stats]{Body: &touchbase.Stats{Revenue: inf}}, "the response holds +Inf at revenue, which JSON cannot hold"},
		{"in a page", &output[*Page[*touchbase.Customer]]{Body: newPage([]*touchbase.Customer{{}, {Traits: map[string]any{"score": []any{1.0, -inf}}}}, "")},
			"the response holds -Inf at items[1].traits.score[1], which JSON cannot hold"},
		{"feature", &output[*touchbase.Customer]{Body: &touchbase.Customer{Features: touchbase.Features{AOV: nan}}}, "features.aov"},
		{"raw JSON holds none", &output[json.RawMessage]{Body: json.RawMessage(`{"x":1}`)}, ""},
		{"nil", (*output[*touchbase.Stats])(nil), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkFinite(c.out)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("checkFinite = %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("checkFinite = %v, want %q", err, c.want)
			}
		})
	}
}
