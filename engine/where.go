package engine

import (
	"fmt"
	"strings"

	"github.com/touchbase/touchbase/segment"
)

// pred is a test of one event's properties.
type pred func(props map[string]any) bool

// compileWhere turns an aggregate's where into a test of one event's
// decoded properties, with the leaf rules of a segment's conditions. Its
// names are properties and its operands literals or properties: what
// depends on the as-of instant or the customer (ago, within next,
// aggregates, segments) has no meaning for one event and is an error.
func compileWhere(n *segment.Node) (pred, error) {
	switch n.Op {
	case segment.OpAnd, segment.OpOr:
		if len(n.Args) < 2 {
			return nil, fmt.Errorf("%s needs two or more conditions", n.Op)
		}
		ps := make([]pred, len(n.Args))
		for k, a := range n.Args {
			p, err := compileWhere(a)
			if err != nil {
				return nil, err
			}
			ps[k] = p
		}
		if n.Op == segment.OpAnd {
			return func(m map[string]any) bool {
				for _, p := range ps {
					if !p(m) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(m map[string]any) bool {
			for _, p := range ps {
				if p(m) {
					return true
				}
			}
			return false
		}, nil
	case segment.OpNot:
		if len(n.Args) != 1 {
			return nil, fmt.Errorf("not needs one condition")
		}
		p, err := compileWhere(n.Args[0])
		if err != nil {
			return nil, err
		}
		return func(m map[string]any) bool { return !p(m) }, nil
	}
	left, err := propOperand(n.Left)
	if err != nil {
		return nil, err
	}
	switch n.Op {
	case segment.OpEq, segment.OpNe, segment.OpLt, segment.OpLe, segment.OpGt, segment.OpGe:
		right, err := propOperand(n.Right)
		if err != nil {
			return nil, err
		}
		op := n.Op
		return func(m map[string]any) bool { return compare(op, left(m), right(m)) }, nil
	case segment.OpContains, segment.OpStartsWith:
		if n.Right == nil || n.Right.Value == nil {
			return nil, fmt.Errorf("%s needs a literal", n.Op)
		}
		lit := literal(*n.Right.Value)
		if n.Op == segment.OpContains {
			return func(m map[string]any) bool { return contains(left(m), lit) }, nil
		}
		return func(m map[string]any) bool { return startsWith(left(m), lit) }, nil
	case segment.OpIn, segment.OpNotIn, segment.OpBetween:
		lits, err := literals(n)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case segment.OpIn:
			return func(m map[string]any) bool { return inList(left(m), lits) }, nil
		case segment.OpNotIn:
			return func(m map[string]any) bool { return notInList(left(m), lits) }, nil
		}
		return func(m map[string]any) bool { return between(left(m), lits[0], lits[1]) }, nil
	case segment.OpIsSet:
		return func(m map[string]any) bool { return left(m).k != kUnset }, nil
	case segment.OpIsNotSet:
		return func(m map[string]any) bool { return left(m).k == kUnset }, nil
	}
	return nil, fmt.Errorf("%q cannot test an event's properties", n.Op)
}

// propOperand returns how to read an operand from an event's properties.
func propOperand(o *segment.Operand) (func(map[string]any) scalar, error) {
	switch {
	case o == nil:
		return nil, fmt.Errorf("missing operand")
	case o.Field != "":
		path := strings.Split(o.Field, ".")
		return func(m map[string]any) scalar { return fromJSON(lookup(m, path)) }, nil
	case o.Value != nil:
		v := literal(*o.Value)
		return func(map[string]any) scalar { return v }, nil
	}
	return nil, fmt.Errorf("an event's properties are compared with literals, not with aggregates or instants")
}

// literals returns a node's Values, checking their number for the op.
func literals(n *segment.Node) ([]scalar, error) {
	return appendLiterals(nil, n)
}

// appendLiterals is literals appending to dst (a customer's test passes
// an array on its stack).
func appendLiterals(dst []scalar, n *segment.Node) ([]scalar, error) {
	if len(n.Values) == 0 || (n.Op == segment.OpBetween && len(n.Values) != 2) {
		return nil, fmt.Errorf("%s: wrong number of values (%d)", n.Op, len(n.Values))
	}
	for _, v := range n.Values {
		dst = append(dst, literal(v))
	}
	return dst, nil
}

// between is "a between lo and hi": lo <= a and a <= hi.
func between(a, lo, hi scalar) bool {
	return compare(segment.OpGe, a, lo) && compare(segment.OpLe, a, hi)
}
