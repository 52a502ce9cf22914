package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/storetest"
)

// TestBuyerTotalsInRanges reads a workspace's buyers, its customers'
// ids interleaved with another workspace's, in ranges of a few ids on all
// cores, and demands what one range reads.
func TestBuyerTotalsInRanges(t *testing.T) {
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := be.Open(t)
			a, b := storetest.Workspace(t, s, "a").ID, storetest.Workspace(t, s, "b").ID
			for i := range 200 {
				ws := a
				if i%3 == 0 {
					ws = b
				}
				c := &touchbase.Customer{WorkspaceID: ws, UserID: fmt.Sprintf("u%d", i)}
				if i%4 != 0 { // buyers, and some who never ordered
					last := time.Date(2026, 1, 1+i%28, 0, 0, 0, 0, time.UTC)
					c.Features = touchbase.Features{Orders: 1 + i%5, Revenue: float64(i) * 1.5, FirstOrderAt: &last, LastOrderAt: &last}
				}
				storetest.InsertCustomer(t, s, c)
			}
			whole, err := s.BuyerTotals(ctx, a, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			s.SetScanMin(3)
			ranged, err := s.BuyerTotals(ctx, a, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(whole) < 90 || !slices.Equal(ranged, whole) {
				t.Errorf("%d buyers read in ranges, %d in one: they differ", len(ranged), len(whole))
			}
			if !slices.IsSortedFunc(ranged, func(x, y touchbase.BuyerTotals) int { return int(x.CustomerID - y.CustomerID) }) {
				t.Error("buyers read in ranges are not in id order")
			}
		})
	}
}
