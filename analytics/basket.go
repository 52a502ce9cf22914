package analytics

import (
	"context"
	"io"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics/basket"
)

// MineBaskets is a basket analysis of a plain basket file, without a
// store: one transaction per line, items separated by commas (the
// format of groceries.csv). p's basket thresholds apply; MaxRules below 0
// keeps every rule.
func MineBaskets(r io.Reader, p Params) (*BasketResult, error) {
	if err := p.resolve(touchbase.AnalysisBasket, nil); err != nil {
		return nil, err
	}
	t, err := basket.ParseBaskets(r)
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "%v", err)
	}
	return mineRules(t, p)
}

// runBasket mines the rules among the products of the orders (each order
// one basket, guest orders included: what is bought together does not
// depend on who bought it).
func (r *Runner) runBasket(ctx context.Context, run *touchbase.AnalysisRun, p Params, progress Progress) (*BasketResult, error) {
	progress("reading orders", 0, 0)
	cat, err := r.catalog(ctx, run.WorkspaceID, true)
	if err != nil {
		return nil, err
	}
	if cat.baskets.Len() == 0 {
		return nil, errNoData
	}
	progress("mining rules", 0, 0)
	res, err := mineRules(cat.baskets, p)
	if err != nil {
		return nil, err
	}
	progress("naming products", 0, 0)
	ids := map[string]bool{}
	for _, rule := range res.Rules {
		for _, id := range rule.Antecedent {
			ids[id] = true
		}
		ids[rule.Consequent[0]] = true
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	ps, err := r.st.FindProducts(ctx, run.WorkspaceID, list)
	if err != nil {
		return nil, err
	}
	res.Names = map[string]string{}
	for _, pr := range ps {
		if pr.Name != "" {
			res.Names[pr.ProductID] = pr.Name
		}
	}
	run.Customers = cat.customers
	return res, nil
}

// mineRules runs FP-Growth over t with p's thresholds.
func mineRules(t *basket.Transactions, p Params) (*BasketResult, error) {
	res, err := basket.Mine(t, basket.Options{MinSupport: p.MinSupport, MinConfidence: p.MinConfidence, MinLen: p.MinLen, MaxRules: max(p.MaxRules, 0)})
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "%v", err)
	}
	items := t.Items()
	out := &BasketResult{
		Orders: res.Baskets, Products: items.Len(), MinSupport: p.MinSupport, MinConfidence: p.MinConfidence, MinLen: p.MinLen,
		Found: res.AllRules, Rules: make([]Rule, len(res.Rules)),
	}
	for i, rule := range res.Rules {
		ante := items.Names(rule.Antecedent)
		if ante == nil {
			ante = []string{}
		}
		out.Rules[i] = Rule{
			Antecedent: ante, Consequent: []string{items.Name(rule.Consequent)},
			Support: rule.Support, Confidence: rule.Confidence, Lift: rule.Lift, Count: rule.Count,
		}
	}
	return out, nil
}
