package main

import (
	"fmt"

	"github.com/touchbase/touchbase/segment"
)

// definition is one segment of the suite: a name and the text a person
// would type.
type definition struct {
	Name string `json:"name"`
	Text string `json:"text"`
	What string `json:"what"`
}

// suite is the issue's list of segments, in the segment language. "RFM
// champions" stands in for rfm.segment = "Champions" (the RFM feature comes
// with the analytics): recent, frequent and high-spending buyers written out
// as aggregates.
var suite = []definition{
	{"de-subscribed", `country = "DE" and email_subscribed = true`, "trait filter"},
	{"ordered-90d", `count("Order Completed", within 90d) >= 1`, "orders in the last 90 days"},
	{"revenue-1000", `sum("Order Completed".revenue) > 1000`, "revenue all time"},
	{"browse-abandon", `count("Product Viewed" where category = "Electronics", within 30d) >= 2 and count("Order Completed", within 30d) = 0`,
		"browse abandonment: views in a category in 30 days and no order"},
	{"cart-abandon", `last("Checkout Started") > 1d ago and not (last("Order Completed") > last("Checkout Started"))`,
		"cart abandonment: checkout in the last day and no later order"},
	{"win-back", `count("Order Completed") >= 3 and count("Order Completed", within 180d) = 0`, "win-back: 3+ orders, none in 180 days"},
	{"birthday-7d", `birthday within next 7d`, "birthday in the next 7 days"},
	{"email-30d", `count("Email Opened", within 30d) >= 1 or count("Email Link Clicked", within 30d) >= 1`, "email engagement in 30 days"},
	{"email-60d", `email_subscribed = true and count("Email Link Clicked", within 60d) >= 2`, "email engagement in 60 days"},
	{"rfm-champions", `count("Order Completed", within 90d) >= 3 and sum("Order Completed".revenue, within 365d) > 500 and last("Order Completed") > 30d ago`,
		"RFM champions, written out (for rfm.segment = \"Champions\")"},
	{"nested", `(country in ("US", "GB", "CA") or timezone starts with "Europe/") and not (email_subscribed = false) and (orders >= 2 or count("Product Added", within 14d) >= 3) and not (revenue > 5000)`,
		"nested and/or/not of several"},
	{"lapsed-features", `orders >= 2 and revenue > 300 and last_order_at < 180d ago`, "built-in features only"},
}

// parsed is the suite parsed with segment.Parse.
func parseSuite() ([]*segment.Node, error) {
	out := make([]*segment.Node, len(suite))
	for i, d := range suite {
		n, err := segment.Parse(d.Text)
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", d.Name, err)
		}
		out[i] = n
	}
	return out, nil
}
