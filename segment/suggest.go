package segment

import (
	"fmt"
	"strings"
)

// Vocabulary is the names a workspace actually has, for Suggest. A nil
// list means the names of that kind are not known, and are not checked.
type Vocabulary struct {
	Traits     []string // trait names, or dot paths into them ("address.city")
	Events     []string // event names, as aggregates name them
	Properties []string // event property names, or dot paths into them
	Segments   []string // segment names
}

// Suggest returns what is probably a typo in a tree Check accepts, in
// the order of the tree: a field that is neither a feature in reg nor
// one of v's traits, an aggregate's event that is not one of v's events,
// a property that is not one of v's properties, and an in segment
// of a segment that is not one of v's. Each comes with the closest known
// name as its Suggestion when one is close enough.
//
// Unknown fields, events and properties are warnings (Warning set): traits
// are open and an event may not have happened yet. An unknown segment is
// an error, since the segment could never be evaluated.
func Suggest(n *Node, reg *Registry, v Vocabulary) []*Error {
	s := suggester{reg: reg, v: v}
	if reg != nil {
		s.features = reg.Names()
	}
	s.node(n, false)
	return s.out
}

type suggester struct {
	reg      *Registry
	features []string
	v        Vocabulary
	out      []*Error
}

func (s *suggester) add(n *Node, warning bool, suggestion, format string, args ...any) {
	s.out = append(s.out, &Error{Pos: n.Pos, Msg: fmt.Sprintf(format, args...), Suggestion: suggestion, Warning: warning})
}

func (s *suggester) node(n *Node, where bool) {
	if n == nil {
		return
	}
	for _, a := range n.Args {
		s.node(a, where)
	}
	s.operand(n, n.Left, where)
	s.operand(n, n.Right, where)
	if n.Op == OpInSegment && s.v.Segments != nil && !contains(s.v.Segments, n.Segment) {
		s.add(n, false, closest(n.Segment, s.v.Segments), "unknown segment %s", quote(n.Segment))
	}
}

func (s *suggester) operand(n *Node, o *Operand, where bool) {
	switch {
	case o == nil:
	case o.Field != "" && where:
		s.property(n, o.Field)
	case o.Field != "":
		s.field(n, o.Field)
	case o.Agg != nil:
		a := o.Agg
		if s.v.Events != nil && !contains(s.v.Events, a.Event) {
			s.add(n, true, closest(a.Event, s.v.Events), "unknown event %s", quote(a.Event))
		}
		if a.Property != "" {
			s.property(n, a.Property)
		}
		s.node(a.Where, true)
	}
}

// field warns about a field that is neither a feature nor a known trait.
func (s *suggester) field(n *Node, field string) {
	if s.reg != nil {
		if _, ok := s.reg.Lookup(field); ok {
			return
		}
	}
	if s.v.Traits == nil {
		return
	}
	trait, prefixed := strings.CutPrefix(field, "traits.")
	if hasPath(s.v.Traits, trait) {
		return
	}
	var guess string
	if prefixed {
		if g := closest(trait, s.v.Traits); g != "" {
			guess = "traits." + g
		}
	} else {
		guess = closest(field, append(append([]string(nil), s.features...), s.v.Traits...))
	}
	if guess != "" {
		s.add(n, true, guess, "unknown field %s", quote(field))
		return
	}
	s.add(n, true, "", "unknown field %s: no feature or trait in this workspace has that name", quote(field))
}

func (s *suggester) property(n *Node, prop string) {
	if s.v.Properties == nil || hasPath(s.v.Properties, prop) {
		return
	}
	s.add(n, true, closest(prop, s.v.Properties), "unknown property %s", quote(prop))
}

// hasPath reports whether path or one of its leading parts is in names:
// a known trait "address" makes "address.city" known too.
func hasPath(names []string, path string) bool {
	for p := path; ; {
		if contains(names, p) {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// closest returns the candidate nearest to word, ignoring case, within a
// distance that grows with the word (a third of its length, 1 to 3; 0 for
// one character, which is one edit from any other), or "" when none is
// that close. Ties go to the first in sorted order.
func closest(word string, candidates []string) string {
	w := []rune(strings.ToLower(word))
	limit := min(3, max(1, len(w)/3))
	if len(w) == 1 {
		limit = 0
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == word {
			continue
		}
		d := distance(w, []rune(strings.ToLower(c)))
		if d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: Levenshtein's, plus
// the swap of two neighbours, the commonest typo ("countyr").
func distance(a, b []rune) int {
	if len(a) == 0 || len(b) == 0 {
		return max(len(a), len(b))
	}
	// Three rows: the one before the previous is needed for swaps.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
