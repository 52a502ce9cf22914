package segment

import (
	"slices"
	"strings"
)

// Refs returns the names of the segments n refers to with in segment,
// sorted, each once.
func Refs(n *Node) []string {
	var names []string
	for _, r := range refNodes(n, nil) {
		names = append(names, r.Segment)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// refNodes appends n's in segment nodes, in the order of the text.
func refNodes(n *Node, out []*Node) []*Node {
	if n == nil {
		return out
	}
	if n.Op == OpInSegment {
		return append(out, n)
	}
	for _, a := range n.Args {
		out = refNodes(a, out)
	}
	return out
}

// CheckCycles reports, as an *Error, a segment named name with condition
// n that refers to itself directly or through other segments, or to a
// segment lookup does not know; the message names the path of references.
// A cycle would make membership undefined; checking when a segment is
// saved keeps every stored set of segments free of them.
func CheckCycles(name string, n *Node, lookup func(name string) (*Node, bool)) error {
	c := &cycles{root: name, lookup: lookup, done: map[string]bool{}}
	for _, r := range refNodes(n, nil) {
		if msg := c.visit(r.Segment, nil); msg != "" {
			return &Error{Pos: r.Pos, Msg: msg}
		}
	}
	return nil
}

type cycles struct {
	root   string
	lookup func(string) (*Node, bool)
	done   map[string]bool // segments whose references are all fine
}

// visit follows the reference to seg, reached from root through via, and
// returns what is wrong, or "".
func (c *cycles) visit(seg string, via []string) string {
	chain := append(slices.Clip(via), seg)
	switch {
	case seg == c.root && len(via) == 0:
		return "segment " + quote(c.root) + " refers to itself"
	case seg == c.root:
		return "segment " + quote(c.root) + " refers to itself through " + arrows(chain)
	case slices.Contains(via, seg):
		return "segment " + quote(c.root) + " refers to a cycle: " + arrows(append([]string{c.root}, chain...))
	case c.done[seg]:
		return ""
	}
	n, ok := c.lookup(seg)
	if !ok {
		if len(via) == 0 {
			return "segment " + quote(c.root) + " refers to unknown segment " + quote(seg)
		}
		return "segment " + quote(c.root) + " refers to unknown segment " + quote(seg) + " through " + arrows(chain)
	}
	for _, r := range refNodes(n, nil) {
		if msg := c.visit(r.Segment, chain); msg != "" {
			return msg
		}
	}
	c.done[seg] = true
	return ""
}

// arrows writes names as "a" -> "b".
func arrows(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, " -> ")
}
