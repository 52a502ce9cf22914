package engine

import (
	"context"
	"slices"

	"github.com/touchbase/touchbase/segment"
)

// Names the index has seen, for "did you mean": the top-level trait names
// of its customers and the names of the events it was given. They are
// collected as profiles and events arrive, not by scanning, and only grow
// until the next Load.
type names struct {
	traits map[string]struct{}
	events map[string]struct{}
	// stored says the store's event names were read (once per Load).
	stored bool
}

func (n *names) trait(name string) {
	if n.traits == nil {
		n.traits = map[string]struct{}{}
	}
	n.traits[name] = struct{}{}
}

// traitBytes is trait without a string for a name already seen.
func (n *names) traitBytes(name []byte) {
	if _, ok := n.traits[string(name)]; !ok {
		n.trait(string(name))
	}
}

func (n *names) event(name string) {
	if n.events == nil {
		n.events = map[string]struct{}{}
	}
	n.events[name] = struct{}{}
}

// eventNamer is a store that can list a workspace's event names;
// *store.Store is one.
type eventNamer interface {
	EventNames(ctx context.Context, workspaceID int64) ([]string, error)
}

// noteStoredEvents reads the names of the events the workspace has, the
// first time a vocabulary is asked for (it scans the events, so not at
// Load); the index sees later ones as they arrive. Called with sp.mu held.
func (e *Engine) noteStoredEvents(ctx context.Context, sp *space) error {
	st, ok := e.st.(eventNamer)
	if !ok || sp.ix.eventNamesRead() {
		return nil
	}
	names, err := st.EventNames(ctx, sp.ws)
	if err != nil {
		return err
	}
	sp.ix.NoteEvents(names)
	return nil
}

func (ix *Index) eventNamesRead() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.names.stored
}

// NoteEvents adds event names the workspace uses (the store's list at
// start; the index sees the others as they arrive).
func (ix *Index) NoteEvents(events []string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range events {
		ix.names.event(e)
	}
	ix.names.stored = true
}

// vocabulary returns the trait and event names seen.
func (ix *Index) vocabulary() segment.Vocabulary {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var v segment.Vocabulary
	for t := range ix.names.traits {
		v.Traits = append(v.Traits, t)
	}
	for e := range ix.names.events {
		v.Events = append(v.Events, e)
	}
	slices.Sort(v.Traits)
	slices.Sort(v.Events)
	return v
}

// LastEventID returns the id of the last event the index holds (applied
// or back-filled): where following the events table goes on from.
func (ix *Index) LastEventID() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.upTo
}
