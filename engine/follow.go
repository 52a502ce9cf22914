package engine

import (
	"context"
	"encoding/json"

	"github.com/touchbase/touchbase"
)

// follower is what an index follows the events table with: the events
// after the last one it holds, and the profiles they touched. Store and
// ViewStore are followers.
type follower interface {
	EventsAfter(ctx context.Context, workspaceID, after int64, limit int) ([]touchbase.EventRow, error)
	FindCustomers(ctx context.Context, workspaceID int64, ids []int64) ([]*touchbase.Customer, error)
}

// followEvents applies to ix the events of workspace ws committed since
// the last one it holds, in batches of tailBatch.
func followEvents(ctx context.Context, st follower, ws int64, ix *Index) error {
	for {
		evs, err := st.EventsAfter(ctx, ws, ix.LastEventID(), tailBatch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		if err := applyEvents(ctx, st, ws, ix, evs); err != nil {
			return err
		}
		if len(evs) < tailBatch {
			return nil
		}
	}
}

// applyEvents feeds one batch of events to the index: first the profiles
// they touched (as they are now), merges, then the events.
func applyEvents(ctx context.Context, st follower, ws int64, ix *Index, evs []touchbase.EventRow) error {
	seen := map[int64]bool{}
	var ids []int64
	for _, ev := range evs {
		if !seen[ev.CustomerID] {
			seen[ev.CustomerID] = true
			ids = append(ids, ev.CustomerID)
		}
	}
	cs, err := st.FindCustomers(ctx, ws, ids)
	if err != nil {
		return err
	}
	found := map[int64]bool{}
	for _, c := range cs {
		found[c.ID] = true
		ix.ApplyCustomer(c)
	}
	for _, ev := range evs {
		if ev.Event == touchbase.EventCustomersMerged {
			var m struct {
				Gone int64 `json:"merged_customer_id"`
				Into int64 `json:"customer_id"`
			}
			if json.Unmarshal(ev.Properties, &m) == nil && m.Gone != 0 && m.Into != 0 {
				ix.MergeCustomer(m.Gone, m.Into)
			}
		}
		if !found[ev.CustomerID] {
			continue // erased (or merged away) since: their events are gone
		}
		ix.ApplyEvent(ev)
	}
	for _, id := range ids {
		if !found[id] {
			ix.RemoveCustomer(id)
		}
	}
	return nil
}
