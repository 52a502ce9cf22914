package engine

import (
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
}

func (n *names) trait(name string) {
	if n.traits == nil {
		n.traits = map[string]struct{}{}
	}
	n.traits[name] = struct{}{}
}

func (n *names) event(name string) {
	if n.events == nil {
		n.events = map[string]struct{}{}
	}
	n.events[name] = struct{}{}
}

// NoteEvents adds event names the workspace uses (the store's list at
// start; the index sees the others as they arrive).
func (ix *Index) NoteEvents(events []string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, e := range events {
		ix.names.event(e)
	}
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
