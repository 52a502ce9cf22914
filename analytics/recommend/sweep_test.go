package recommend_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/analytics/recommend"
)

var sweep = flag.Bool("sweep", false, "run TestOnlineRetailSweep, which compares training and weighting choices (about a minute)")

// TestOnlineRetailSweep is how the defaults were chosen: it changes one
// choice at a time from the defaults, trains and evaluates on Online Retail,
// and logs one table (docs/analytics.md). Choices are judged on the
// validation columns; the test columns are for information. Run it with
//
//	go test ./analytics/recommend/ -run Sweep -v -args -sweep
func TestOnlineRetailSweep(t *testing.T) {
	if !*sweep {
		t.Skip("skipping: run with -args -sweep")
	}
	d := loadRetail(t)
	// Choices are made on a validation split inside the training period,
	// so that the test period stays unseen: train on 2010-12 to 2011-06,
	// validate on 2011-07 to 2011-09.
	var v retail
	for _, p := range d.train {
		if p.Time.Before(time.Date(2011, 7, 1, 0, 0, 0, 0, time.UTC)) {
			v.train = append(v.train, p)
		} else {
			v.test = append(v.test, p)
		}
	}
	hv, ht := newHoldout(v), newHoldout(d)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d validation customers, %d test customers. Hit rate and recall count products new to the customer; "+
		"the last two columns let the model recommend bought products again (IncludeRepeats unless the row says otherwise) and count every purchase.\n",
		len(hv.customers), len(ht.customers))
	fmt.Fprintf(&b, "\n| choice | validation hit@10 | validation recall@10 | test hit@10 | test recall@10 | validation hit@10 with repeats | test hit@10 with repeats |\n|---|---|---|---|---|---|---|\n")
	row := func(name string, to recommend.TrainOptions, o recommend.Options) {
		t.Helper()
		mv, err := recommend.Train(v.train, to)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := recommend.Train(d.train, to)
		if err != nil {
			t.Fatal(err)
		}
		xv, xt := hv.score(newProducts, modelRecs(mv, o)), ht.score(newProducts, modelRecs(mt, o))
		if o.Repeats == recommend.ExcludeBought {
			o.Repeats = recommend.IncludeRepeats
		}
		rv, rt := hv.score(allProducts, modelRecs(mv, o)), ht.score(allProducts, modelRecs(mt, o))
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", name,
			xv.hitRate, xv.recall, xt.hitRate, xt.recall, rv.hitRate, rt.hitRate)
	}
	// One choice at a time, from the defaults.
	def, none := recommend.TrainOptions{}, recommend.Options{}
	row("defaults", def, none)
	for _, a := range []float64{0, 0.25, 0.5, 0.75, 1} {
		row(fmt.Sprintf("similarity: conditional, alpha %g", a), recommend.TrainOptions{Similarity: recommend.Conditional, Alpha: a}, none)
	}
	row("similarity: jaccard", recommend.TrainOptions{Similarity: recommend.Jaccard}, none)
	row("basis: order", recommend.TrainOptions{Basis: recommend.ByOrder}, none)
	for _, k := range []int{5, 10, 50, 100} {
		row(fmt.Sprintf("neighbours used: %d", k), def, recommend.Options{Neighbours: k})
	}
	for _, k := range []int{50, 200, 500} {
		row(fmt.Sprintf("max basket items: %d", k), recommend.TrainOptions{MaxBasketItems: k}, none)
	}
	row("max basket items: no cap", recommend.TrainOptions{MaxBasketItems: -1}, none)
	for _, k := range []int{1, 3, 5} {
		row(fmt.Sprintf("min count: %d", k), recommend.TrainOptions{MinCount: k}, none)
	}
	for _, w := range []struct {
		name string
		w    recommend.Weighting
	}{{"once", recommend.WeightOnce}, {"orders", recommend.WeightOrders}, {"log quantity", recommend.WeightLogQuantity}} {
		row("weighting: "+w.name, def, recommend.Options{Weighting: w.w})
	}
	row("half-life: no decay", def, recommend.Options{HalfLife: -1})
	for _, hl := range []time.Duration{30, 90, 365} {
		row(fmt.Sprintf("half-life: %dd", hl), def, recommend.Options{HalfLife: hl * 24 * time.Hour})
	}
	for _, rw := range []float64{1, 4, 8, 16, 64} {
		row(fmt.Sprintf("repeat weight: %g", rw), def, recommend.Options{RepeatWeight: rw})
	}
	for _, rate := range []float64{0.2, 0.3, 0.4, 0.5} {
		row(fmt.Sprintf("frequent repeats only, min rate %g", rate), def,
			recommend.Options{Repeats: recommend.IncludeFrequentRepeats, MinRepeatRate: rate})
	}
	t.Log(b.String())
}
