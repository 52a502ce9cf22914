package rfm

import "fmt"

// Group is one of the eleven named RFM groups. The zero value, None, is
// the group of a customer who never ordered, who has no RFM scores.
type Group uint8

// The groups, in the order the console lists them (best first). Their
// names are stable: segments compare against them (rfm.segment = "At Risk").
const (
	None Group = iota
	Champions
	LoyalCustomers
	PotentialLoyalists
	NewCustomers
	Promising
	NeedAttention
	AboutToSleep
	AtRisk
	CannotLoseThem
	Hibernating
	Lost
)

// NumGroups is the number of named groups; Groups returns them.
const NumGroups = 11

// groupInfo is the fixed text of each group, indexed by Group.
var groupInfo = [NumGroups + 1]struct{ name, description, action string }{
	None: {"", "Never ordered: no RFM scores.", ""},
	Champions: {"Champions",
		"Bought recently, buy often and spend the most.",
		"Reward them: early access, loyalty perks, ask for reviews and referrals."},
	LoyalCustomers: {"Loyal Customers",
		"Buy often and spend well, and still buy.",
		"Upsell higher-value products; invite them to the loyalty programme."},
	PotentialLoyalists: {"Potential Loyalists",
		"Recent customers with average frequency and spend.",
		"Offer a membership or loyalty programme; recommend related products."},
	NewCustomers: {"New Customers",
		"Bought very recently, once and for little.",
		"Welcome them: onboarding, a good first experience, a reason to come back."},
	Promising: {"Promising",
		"Recent shoppers who have not bought much yet.",
		"Build the habit: brand awareness, free trials, a second-order offer."},
	NeedAttention: {"Need Attention",
		"Average recency, frequency and spend, starting to slip.",
		"Reactivate with limited-time offers based on their history."},
	AboutToSleep: {"About To Sleep",
		"Below-average recency, frequency and spend.",
		"Share popular products and discounts before they are lost."},
	AtRisk: {"At Risk",
		"Used to buy often and spend well, but not for a long time.",
		"Win them back: personalised emails, renewals, helpful resources."},
	CannotLoseThem: {"Cannot Lose Them",
		"Were among the best customers, but have not bought for a long time.",
		"Win them back at any cost: talk to them, new products, strong offers."},
	Hibernating: {"Hibernating",
		"Last bought long ago, rarely and for little.",
		"Offer other relevant products and special discounts; recreate brand value."},
	Lost: {"Lost",
		"Lowest recency, frequency and spend, or no order in the period.",
		"Revive interest with an outreach campaign; otherwise ignore."},
}

// String returns the group's stable name ("At Risk"), or "" for None.
func (g Group) String() string {
	if int(g) < len(groupInfo) {
		return groupInfo[g].name
	}
	return fmt.Sprintf("Group(%d)", uint8(g))
}

// Description says in one sentence who is in the group, for the console.
func (g Group) Description() string {
	if int(g) < len(groupInfo) {
		return groupInfo[g].description
	}
	return ""
}

// Action is what stores usually do with the group, for the console.
func (g Group) Action() string {
	if int(g) < len(groupInfo) {
		return groupInfo[g].action
	}
	return ""
}

// MarshalText writes the group's name, so JSON carries "At Risk", not 8.
func (g Group) MarshalText() ([]byte, error) {
	if g > Lost {
		return nil, fmt.Errorf("rfm: invalid group %d", uint8(g))
	}
	return []byte(g.String()), nil
}

// UnmarshalText reads a group's name, as ParseGroup does.
func (g *Group) UnmarshalText(b []byte) error {
	v, err := ParseGroup(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// ParseGroup returns the group with the given name, exactly as String
// writes it ("" is None).
func ParseGroup(name string) (Group, error) {
	for g := range groupInfo {
		if groupInfo[g].name == name {
			return Group(g), nil
		}
	}
	return None, fmt.Errorf("rfm: unknown group %q", name)
}

// Groups returns the eleven named groups, best first.
func Groups() []Group {
	gs := make([]Group, NumGroups)
	for i := range gs {
		gs[i] = Group(i + 1)
	}
	return gs
}

// grid maps (R, FM) scores to groups: grid[r-1][fm-1]. See Grid.
var grid = [5][5]Group{
	{Lost, Lost, AtRisk, AtRisk, CannotLoseThem},                                        // R=1
	{Hibernating, Hibernating, AtRisk, AtRisk, CannotLoseThem},                          // R=2
	{AboutToSleep, AboutToSleep, NeedAttention, LoyalCustomers, LoyalCustomers},         // R=3
	{Promising, PotentialLoyalists, PotentialLoyalists, LoyalCustomers, LoyalCustomers}, // R=4
	{NewCustomers, PotentialLoyalists, PotentialLoyalists, Champions, Champions},        // R=5
}

// Grid returns the rule table: Grid()[r-1][fm-1] is the group of the
// customers with recency score r and FM score fm. It is the widely used
// recency × frequency segment map (the one behind Putler's eleven segments
// and the common open-source RFM notebooks), read with FM, the rounded
// mean of F and M, in place of F so that spend counts, and with its
// Hibernating corner split at R=1 into Lost:
//
//	R\FM   1               2                    3                    4                5
//	5      New Customers   Potential Loyalists  Potential Loyalists  Champions        Champions
//	4      Promising       Potential Loyalists  Potential Loyalists  Loyal Customers  Loyal Customers
//	3      About To Sleep  About To Sleep       Need Attention       Loyal Customers  Loyal Customers
//	2      Hibernating     Hibernating          At Risk              At Risk          Cannot Lose Them
//	1      Lost            Lost                 At Risk              At Risk          Cannot Lose Them
func Grid() [5][5]Group { return grid }

// GroupOf returns the group of recency score r and FM score fm, both 1-5,
// and None when either is out of range.
func GroupOf(r, fm int) Group {
	if r < 1 || r > 5 || fm < 1 || fm > 5 {
		return None
	}
	return grid[r-1][fm-1]
}

// FM combines the frequency and monetary scores into the grid's column:
// their mean rounded half up, so F=1, M=2 gives 2.
func FM(f, m int) int { return (f + m + 1) / 2 }
