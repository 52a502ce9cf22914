package analytics

import (
	"context"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/analytics/basket"
	"github.com/touchbase/touchbase/analytics/recommend"
)

// catalogTTL is how long a workspace's catalog serves recommendations
// before it is read again: new orders change them slowly.
const catalogTTL = time.Hour

// popularWindow is the period whose purchases make a product popular for
// the fallback: what sells now, not what sold two years ago.
const popularWindow = 90 * 24 * time.Hour

// catalog is a workspace's orders as the product analyses read them:
// one basket per order, the recommendation model trained on the
// customers' histories, and who is in which cluster (whose popular
// products fill a customer's list when co-occurrence gives too few).
type catalog struct {
	at        time.Time
	baskets   *basket.Transactions
	counts    []int // baskets holding each item
	model     *recommend.Model
	customers int              // distinct customers with orders
	cluster   map[int64]int    // customer -> cluster
	peers     map[int][]int64  // cluster -> customers
	popular   map[int][]string // cluster -> its popular products, filled lazily
}

// catalog returns workspace ws's catalog, read again when older than
// catalogTTL or when fresh asks for it.
func (r *Runner) catalog(ctx context.Context, ws int64, fresh bool) (*catalog, error) {
	r.mu.Lock()
	c := r.catalogs[ws]
	r.mu.Unlock()
	if c != nil && !fresh && time.Since(c.at) < catalogTTL {
		return c, nil
	}
	c, err := r.readCatalog(ctx, ws)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.catalogs[ws] = c
	r.mu.Unlock()
	return c, nil
}

func (r *Runner) readCatalog(ctx context.Context, ws int64) (*catalog, error) {
	c := &catalog{at: time.Now(), cluster: map[int64]int{}, peers: map[int][]int64{}, popular: map[int][]string{}}
	bb := basket.NewBuilder(basket.NewItems())
	rb := recommend.NewBuilder(recommend.TrainOptions{})
	var (
		order    int64 = -1
		o        recommend.Order
		products []string
		seen     = map[int64]bool{}
	)
	flush := func() {
		if len(products) > 0 {
			bb.Add(products...)
		}
		if o.Customer != 0 && len(o.Items) > 0 {
			rb.AddOrder(o)
		}
		products, o.Items = products[:0], o.Items[:0]
	}
	err := r.st.ScanOrderLines(ctx, ws, func(l touchbase.OrderLine) error {
		if l.OrderID != order {
			flush()
			order = l.OrderID
			o.Customer, o.Time = l.CustomerID, time.UnixMilli(l.PlacedAt)
		}
		products = append(products, l.ProductID)
		o.Items = append(o.Items, recommend.Item{Product: l.ProductID, Quantity: l.Quantity})
		if l.CustomerID != 0 && !seen[l.CustomerID] {
			seen[l.CustomerID] = true
			c.customers++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	flush()
	c.baskets = bb.Transactions()
	c.counts = c.baskets.ItemCounts()
	if c.model, err = rb.Build(); err != nil {
		return nil, err
	}
	clusters, err := r.st.CustomerClusters(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, cs := range clusters {
		c.cluster[cs.CustomerID] = cs.Cluster
		c.peers[cs.Cluster] = append(c.peers[cs.Cluster], cs.CustomerID)
	}
	return c, nil
}

// RecommendForCustomer recommends up to n products to customer id of
// workspace ws: bought with what they bought (item-to-item
// co-occurrence, weighted by how often and how recently they bought
// each), leaving out what they have, topped up with what customers of
// their cluster buy lately, then with what everyone buys.
func (r *Runner) RecommendForCustomer(ctx context.Context, ws, id int64, n int) ([]Recommendation, error) {
	c, err := r.catalog(ctx, ws, false)
	if err != nil {
		return nil, err
	}
	opts := recommend.Options{}
	if k, ok := c.cluster[id]; ok {
		r.mu.Lock()
		pop, ok := c.popular[k]
		if !ok {
			since := c.model.Stats().End.Add(-popularWindow)
			for _, s := range c.model.Popular(50, recommend.PopularOptions{Customers: c.peers[k], Since: since}) {
				pop = append(pop, s.Product)
			}
			c.popular[k] = pop
		}
		r.mu.Unlock()
		opts.Fallback = pop
	}
	recs := c.model.ForCustomer(id, n, opts)
	out := make([]Recommendation, len(recs))
	var because []string
	for i, rec := range recs {
		out[i] = Recommendation{ProductID: rec.Product, Score: rec.Score}
		because = append(because, rec.Because)
	}
	if err := r.describe(ctx, ws, out, because, func(i int, because string) string {
		switch recs[i].Reason {
		case recommend.BoughtWith:
			return "bought with " + because
		case recommend.BuyAgain:
			return "bought it before, and people buy it again"
		case recommend.Fallback:
			return "popular with similar customers"
		}
		return "popular"
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// SimilarProducts returns up to n products bought by the customers who
// bought productID ("customers who bought this also bought").
func (r *Runner) SimilarProducts(ctx context.Context, ws int64, productID string, n int) ([]Recommendation, error) {
	c, err := r.catalog(ctx, ws, false)
	if err != nil {
		return nil, err
	}
	sim := c.model.Similar(productID, n)
	out := make([]Recommendation, len(sim))
	for i, s := range sim {
		out[i] = Recommendation{ProductID: s.Product, Score: s.Score}
	}
	err = r.describe(ctx, ws, out, nil, func(int, string) string { return "bought by the same customers" })
	return out, err
}

// BoughtTogether returns up to n products most often in the same orders
// as productID, by lift, with the rule {productID} => {product}'s
// figures. A pair must be in at least 3 orders and in 2% of the
// product's: rarer pairs have a high lift by chance.
func (r *Runner) BoughtTogether(ctx context.Context, ws int64, productID string, n int) ([]Recommendation, error) {
	c, err := r.catalog(ctx, ws, false)
	if err != nil {
		return nil, err
	}
	item, ok := c.baskets.Items().ID(productID)
	if !ok {
		return nil, nil
	}
	minCount := max(3, c.counts[item]/50)
	comps, err := basket.TogetherWith(c.baskets, item, basket.TogetherOptions{MinCount: minCount, TopN: n})
	if err != nil {
		return nil, err
	}
	out := make([]Recommendation, len(comps))
	for i, cp := range comps {
		out[i] = Recommendation{ProductID: c.baskets.Items().Name(cp.Item), Score: cp.Lift,
			Support: cp.Support, Confidence: cp.Confidence, Lift: cp.Lift}
	}
	err = r.describe(ctx, ws, out, nil, func(int, string) string { return "in the same orders" })
	return out, err
}

// describe fills in the recommendations' product details from the
// catalogue, and their reasons from reason(i, name of because[i]).
func (r *Runner) describe(ctx context.Context, ws int64, recs []Recommendation, because []string, reason func(i int, because string) string) error {
	ids := make([]string, 0, 2*len(recs))
	for i := range recs {
		ids = append(ids, recs[i].ProductID)
	}
	ids = append(ids, because...)
	ps, err := r.st.FindProducts(ctx, ws, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]*touchbase.Product, len(ps))
	for _, p := range ps {
		byID[p.ProductID] = p
	}
	for i := range recs {
		rec := &recs[i]
		if p := byID[rec.ProductID]; p != nil {
			rec.Name, rec.Category, rec.Price, rec.URL, rec.ImageURL = p.Name, p.Category, p.Price, p.URL, p.ImageURL
		}
		b := ""
		if i < len(because) {
			b = because[i]
			if p := byID[b]; p != nil && p.Name != "" {
				b = p.Name
			}
		}
		rec.Reason = reason(i, b)
	}
	return nil
}
