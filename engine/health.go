package engine

import (
	"context"
	"fmt"
	"slices"
)

// Health reports whether the background loop keeps every workspace it
// loaded up to date: an error names a workspace whose last load or sync
// failed (it is retried on the next notification or tick, and the error
// goes away when that works). An engine used synchronously, without Open,
// is always healthy: its callers get their errors themselves.
func (e *Engine) Health(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.failures) == 0 {
		return nil
	}
	ws := make([]int64, 0, len(e.failures))
	for id := range e.failures {
		ws = append(ws, id)
	}
	slices.Sort(ws)
	err := fmt.Errorf("workspace %d: %w", ws[0], e.failures[ws[0]])
	if len(ws) > 1 {
		err = fmt.Errorf("%w (and %d more workspaces)", err, len(ws)-1)
	}
	return err
}

// noteHealth records the outcome of the loop's last load or sync of
// workspace ws.
func (e *Engine) noteHealth(ws int64, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		delete(e.failures, ws)
		return
	}
	if e.failures == nil {
		e.failures = map[int64]error{}
	}
	e.failures[ws] = err
}
