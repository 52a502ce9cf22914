package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/segment"
)

// Explanation says why a customer is or is not in a segment: the
// condition's tree, each node with whether it holds for the customer and
// the customer's values of the operands it compares.
type Explanation struct {
	Holds    bool           `json:"holds"`
	Clause   string         `json:"clause" doc:"The condition, as text."`
	Values   []OperandValue `json:"values,omitempty" doc:"The customer's values of the operands the condition compares."`
	Children []*Explanation `json:"children,omitempty" doc:"The conditions it is made of (and, or, not, a segment's definition)."`
}

// OperandValue is one operand and the customer's value of it; Value is nil
// when it is not set.
type OperandValue struct {
	Operand string `json:"operand"`
	Value   any    `json:"value"`
}

// String writes the explanation as an indented tree, one clause a line:
// ✓ holds, ✗ does not, with the values used.
func (x *Explanation) String() string {
	var b strings.Builder
	x.write(&b, 0)
	return b.String()
}

func (x *Explanation) write(b *strings.Builder, depth int) {
	mark := "✗"
	if x.Holds {
		mark = "✓"
	}
	fmt.Fprintf(b, "%s%s %s", strings.Repeat("  ", depth), mark, x.Clause)
	for i, v := range x.Values {
		sep := ", "
		if i == 0 {
			sep = "    ("
		}
		val := "not set"
		if v.Value != nil {
			val = fmt.Sprint(v.Value)
			if s, ok := v.Value.(string); ok {
				val = fmt.Sprintf("%q", s)
			}
		}
		fmt.Fprintf(b, "%s%s = %s", sep, v.Operand, val)
	}
	if len(x.Values) > 0 {
		b.WriteString(")")
	}
	b.WriteString("\n")
	for _, c := range x.Children {
		c.write(b, depth+1)
	}
}

// Explain says, node by node, why customer customerID is or is not a
// member of n as of asOf (now when zero). ENOTFOUND for a customer the
// workspace does not have.
func (e *Engine) Explain(ctx context.Context, ws int64, n *segment.Node, customerID int64, asOf time.Time) (*Explanation, error) {
	var x *Explanation
	err := e.withPrepared(ctx, ws, n, asOf, func(sp *space, asOf time.Time) error {
		var err error
		x, err = sp.ix.Explain(n, customerID, asOf, sp.refs)
		return err
	})
	return x, err
}

// Explain is Engine.Explain on the index (prepared for n).
func (ix *Index) Explain(n *segment.Node, customerID int64, asOf time.Time, refs func(string) (*segment.Node, error)) (*Explanation, error) {
	if err := ix.ensureTraits(n, refs); err != nil {
		return nil, invalid(err)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	i, ok := ix.pos[customerID]
	if !ok || !ix.live.Contains(i) {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "customer %d not found", customerID)
	}
	e := &evaluation{ix: ix, asOf: asOf.UnixMilli(), asOfTime: asOf, refs: refs}
	u := roaring.BitmapOf(i)
	x, err := e.explain(n, i, u)
	if err != nil {
		return nil, invalid(err)
	}
	return x, nil
}

// explain explains n for the one customer i (u is {i}); the verdict is the
// evaluator's own, so an explanation cannot disagree with membership.
func (e *evaluation) explain(n *segment.Node, i uint32, u *roaring.Bitmap) (*Explanation, error) {
	r, err := e.node(n, u)
	if err != nil {
		return nil, err
	}
	x := &Explanation{Holds: r.Contains(i), Clause: segment.Format(n)}
	switch n.Op {
	case segment.OpAnd, segment.OpOr, segment.OpNot:
		for _, a := range n.Args {
			c, err := e.explain(a, i, u)
			if err != nil {
				return nil, err
			}
			x.Children = append(x.Children, c)
		}
		return x, nil
	case segment.OpInSegment:
		if _, ok := e.ix.lists[n.Segment]; ok {
			return x, nil // a list: the verdict is all there is
		}
		sub, err := e.expand(n.Segment)
		if err != nil {
			return nil, err
		}
		e.stack = append(e.stack, n.Segment)
		c, err := e.explain(sub, i, u)
		e.stack = e.stack[:len(e.stack)-1]
		if err != nil {
			return nil, err
		}
		x.Children = []*Explanation{c}
		return x, nil
	}
	for _, o := range []*segment.Operand{n.Left, n.Right} {
		if o == nil || o.Value != nil {
			continue // a literal explains itself
		}
		v, err := e.operand(o, u)
		if err != nil {
			return nil, err
		}
		s := v.lit
		if v.col != nil {
			p := int(i)
			if v.col.ranked {
				p = int(u.Rank(i)) - 1
			}
			s = v.col.get(p)
		}
		x.Values = append(x.Values, OperandValue{Operand: formatOperand(o), Value: s.explained()})
	}
	return x, nil
}

// formatOperand writes one operand as the text form does.
func formatOperand(o *segment.Operand) string {
	// The operand alone is not a condition; format it inside one and cut.
	text := segment.Format(&segment.Node{Op: segment.OpIsSet, Left: o})
	return strings.TrimSuffix(text, " is set")
}

// explained returns the value as JSON shows it: times in RFC 3339, nil when
// not set.
func (s scalar) explained() any {
	switch s.k {
	case kString:
		return s.s
	case kNumber:
		return s.n
	case kBool:
		return s.b
	case kTime:
		return time.UnixMilli(s.t).UTC().Format(time.RFC3339Nano)
	case kObject:
		return map[string]any{}
	case kArray:
		return s.arr
	}
	return nil
}
