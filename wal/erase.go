package wal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

// Forget removes from the ingestion log every copy of what a customer the
// store has just erased sent: the requests logged before the call, once
// applied (the store drops what names an erased identifier, so they are
// applied without them), and the events in failed/ that name one of ids in
// workspace ws. It returns once they are gone, or EUNAVAILABLE when ctx
// ends first with part of the backlog unapplied: those files go by
// themselves once it is, having been rotated. Without a Log there is
// nothing to remove.
//
// The active file is rotated first: left alone, it would keep applied
// requests until it reached the log's file size (64 MiB of traffic later).
func (w *Writer) Forget(ctx context.Context, ws int64, ids []touchbase.Identity) error {
	l := w.cfg.Log
	if l == nil {
		return nil
	}
	target, _ := l.Appended()
	select {
	case w.rotate <- struct{}{}:
	default: // one is pending already, and runs after this call
	}
	var wait error
	stopped := w.applier
	for {
		w.applyMu.Lock()
		progress := w.progress
		w.applyMu.Unlock()
		if !l.Holds(target) {
			break
		}
		select {
		case <-progress:
		case <-stopped:
			// Nobody reads the log any more: rotate it here, which
			// removes what is applied; the rest waits for the next
			// start.
			l.Rotate()
			stopped = nil
			if l.Holds(target) {
				wait = touchbase.Errorf(touchbase.EUNAVAILABLE,
					"the customer is erased from the database, but ingestion stopped before the requests logged before the erasure were applied: "+
						"the ingestion log keeps them (with anything of the customer's) until the next start applies them")
			}
		case <-ctx.Done():
			n, _ := w.Lag()
			wait = touchbase.Errorf(touchbase.EUNAVAILABLE,
				"the customer is erased from the database, but %d requests logged before the erasure are not applied yet: "+
					"the ingestion log keeps them (with anything of the customer's) until they are, then removes them", n)
		}
		if wait != nil {
			break
		}
	}
	// Set aside while the backlog was applied, too.
	if err := l.forgetFailed(ws, newIdentitySet(ids)); err != nil {
		return err
	}
	return wait
}

// identitySet is a customer's identifiers, to recognise what they sent.
type identitySet struct {
	byKind map[touchbase.IdentityKind]map[string]bool
	raw    [][]byte // every value, lower-cased, to find them in bytes that do not parse
}

func newIdentitySet(ids []touchbase.Identity) *identitySet {
	s := &identitySet{byKind: map[touchbase.IdentityKind]map[string]bool{}}
	for _, id := range ids {
		if id.Value == "" {
			continue
		}
		if s.byKind[id.Kind] == nil {
			s.byKind[id.Kind] = map[string]bool{}
		}
		s.byKind[id.Kind][id.Value] = true
		s.raw = append(s.raw, []byte(strings.ToLower(id.Value)))
	}
	return s
}

func (s *identitySet) has(kind touchbase.IdentityKind, v string) bool {
	return v != "" && s.byKind[kind][v]
}

// names reports whether the inbound carries one of the identifiers, as the
// store's erasure check sees them (alias's previousId as a user or
// anonymous id).
func (s *identitySet) names(in *touchbase.Inbound) bool {
	return s.has(touchbase.IdentityUserID, in.UserID) || s.has(touchbase.IdentityAnonymousID, in.AnonymousID) ||
		s.has(touchbase.IdentityEmail, in.Email) || s.has(touchbase.IdentityPhone, in.Phone) ||
		s.has(touchbase.IdentityUserID, in.PreviousID) || s.has(touchbase.IdentityAnonymousID, in.PreviousID)
}

// mentions reports whether b holds one of the values as it stands (case
// aside): for events that do not parse, or parse as rejected.
func (s *identitySet) mentions(b []byte) bool {
	lower := bytes.ToLower(b)
	for _, v := range s.raw {
		if bytes.Contains(lower, v) {
			return true
		}
	}
	return false
}

// namedIn reports whether a request body names the customer.
func (s *identitySet) namedIn(endpoint string, body []byte, at time.Time) bool {
	if s.mentions(body) {
		return true
	}
	req, err := inbound.Parse(endpoint, body, at)
	if err != nil || req == nil {
		return false
	}
	for i := range req.Inbounds {
		if s.names(&req.Inbounds[i]) {
			return true
		}
	}
	return false
}

// setAsideEntry is the shape of failed/SEQ.json (see Writer.setAside).
type setAsideEntry struct {
	WorkspaceID int64     `json:"workspace_id"`
	Endpoint    string    `json:"endpoint"`
	ReceivedAt  time.Time `json:"received_at"`
	Body        string    `json:"body"`
}

// forgetFailed rewrites the requests set aside in failed/ without the
// events of workspace ws that name the customer (removing a file left with
// none), and removes the damaged files kept there that name them: what
// is whole in those was applied, and what is not cannot be told apart.
func (l *Log) forgetFailed(ws int64, ids *identitySet) error {
	if len(ids.raw) == 0 {
		return nil
	}
	dir := filepath.Join(l.dir, "failed")
	names, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("ingestion log: %w", err)
	}
	for _, de := range names {
		p := filepath.Join(dir, de.Name())
		var err error
		switch filepath.Ext(de.Name()) {
		case ".json":
			err = forgetSetAside(p, ws, ids)
		case ".log":
			err = forgetDamaged(p, ws, ids)
		}
		if err != nil {
			return fmt.Errorf("ingestion log: erase from %s: %w", p, err)
		}
	}
	return nil
}

func forgetSetAside(path string, ws int64, ids *identitySet) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var e setAsideEntry
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &e) != nil || json.Unmarshal(b, &fields) != nil {
		// Not ours to read: go by its bytes.
		if ids.mentions(b) {
			return os.Remove(path)
		}
		return nil
	}
	if e.WorkspaceID != ws && !ids.mentions(b) {
		return nil
	}
	body, keep := []byte(e.Body), true
	if e.WorkspaceID == ws {
		body, keep = withoutCustomer(e.Endpoint, body, e.ReceivedAt, ids)
	} else {
		keep = false // another workspace's request that holds the values
	}
	switch {
	case !keep:
		return os.Remove(path)
	case bytes.Equal(body, []byte(e.Body)):
		return nil
	}
	fields["body"], _ = json.Marshal(string(body))
	out, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return writeFileSync(path, out)
}

// withoutCustomer returns body without the events that name the customer,
// and false when nothing is left. A batch loses just those events; any
// other request is one event.
func withoutCustomer(endpoint string, body []byte, at time.Time, ids *identitySet) ([]byte, bool) {
	if endpoint != "batch" && endpoint != "import" {
		return body, !ids.namedIn(endpoint, body, at)
	}
	var top map[string]json.RawMessage
	var events []json.RawMessage
	if json.Unmarshal(body, &top) != nil || json.Unmarshal(top["batch"], &events) != nil {
		return body, !ids.mentions(body)
	}
	kept := events[:0:0]
	for _, ev := range events {
		// Parsed as part of its batch (whose context and sentAt it
		// shares), alone.
		top["batch"], _ = json.Marshal([]json.RawMessage{ev})
		one, _ := json.Marshal(top)
		if !ids.namedIn(endpoint, one, at) {
			kept = append(kept, ev)
		}
	}
	switch {
	case len(kept) == len(events):
		return body, true
	case len(kept) == 0:
		return nil, false
	}
	top["batch"], _ = json.Marshal(kept)
	out, _ := json.Marshal(top)
	return out, true
}

// forgetDamaged removes a damaged file kept in failed/ when any of its
// records, or its damaged bytes, name the customer.
func forgetDamaged(path string, ws int64, ids *identitySet) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	named := ids.mentions(b)
	// Its records, read as recovery reads a file: in order from the
	// number in its name, past the damage to the next whole one.
	next, _ := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".log"), 10, 64)
	for off := int64(0); !named; {
		n := recordAt(b, off, next)
		if n == 0 {
			s, at := findRecord(b, off+1, next, math.MaxUint64)
			if at < 0 {
				break
			}
			off, next = at, s
			continue
		}
		if e, err := decodeEntry(next, b[off+headerBytes:off+n]); err == nil && e.WorkspaceID == ws {
			named = ids.namedIn(e.Endpoint, e.Body, e.ReceivedAt)
		}
		off += n
		next++
	}
	if !named {
		return nil
	}
	return os.Remove(path)
}
