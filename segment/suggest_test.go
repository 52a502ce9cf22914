package segment_test

import (
	"slices"
	"testing"

	"github.com/touchbase/touchbase/segment"
)

func TestSuggest(t *testing.T) {
	v := segment.Vocabulary{
		Traits:     []string{"country", "plan", "address", "birthday", "Age"},
		Events:     []string{"Order Completed", "Product Viewed", "Checkout Started"},
		Properties: []string{"revenue", "category", "product"},
		Segments:   []string{"vip", "churn risk"},
	}
	tests := []struct {
		name, text string
		v          segment.Vocabulary
		want       []string // Error() of each, "warning: " before warnings
	}{
		{"all known", `country = "DE" and orders > 1 and traits.plan = "gold" and address.city = "Berlin" and in segment "vip" and ` +
			`sum("Order Completed".revenue where product.brand = "x") > 1`, v, nil},
		{"misspelt trait", `countyr = "DE"`, v, []string{`warning: line 1, column 1: unknown field "countyr": did you mean "country"?`}},
		{"misspelt feature", `ordres > 1`, v, []string{`warning: line 1, column 1: unknown field "ordres": did you mean "orders"?`}},
		{"wrong case", `age > 18`, v, []string{`warning: line 1, column 1: unknown field "age": did you mean "Age"?`}},
		{"traits prefix", `traits.paln = "gold"`, v, []string{`warning: line 1, column 1: unknown field "traits.paln": did you mean "traits.plan"?`}},
		{"nothing close", `favourite_colour = "red"`, v,
			[]string{`warning: line 1, column 1: unknown field "favourite_colour": no feature or trait in this workspace has that name`}},
		{"misspelt event", `count("Order Complted") > 1`, v, []string{`warning: line 1, column 1: unknown event "Order Complted": did you mean "Order Completed"?`}},
		{"misspelt property and where", `sum("Order Completed".revenu where catgory = "x") > 1`, v, []string{
			`warning: line 1, column 1: unknown property "revenu": did you mean "revenue"?`,
			`warning: line 1, column 36: unknown property "catgory": did you mean "category"?`,
		}},
		{"unknown segment is an error", `x = 1 or in segment "vpi"`, v, []string{`warning: line 1, column 1: unknown field "x": no feature or trait in this workspace has that name`, `line 1, column 10: unknown segment "vpi": did you mean "vip"?`}},
		{"no vocabulary, no warnings", `countyr = "DE" and count("Order Complted") > 1 and in segment "vpi"`, segment.Vocabulary{}, nil},
	}
	reg := segment.NewRegistry()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := segment.Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range segment.Suggest(n, reg, tt.v) {
				s := e.Error()
				if e.Warning {
					s = "warning: " + s
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Suggest:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
