package segment_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/segment/segmenttest"
)

// zeroPos clears the positions Parse records, which trees from JSON or
// from RandomNode do not have.
func zeroPos(n *segment.Node) *segment.Node {
	if n == nil {
		return nil
	}
	n.Pos = segment.Pos{}
	for _, a := range n.Args {
		zeroPos(a)
	}
	for _, o := range []*segment.Operand{n.Left, n.Right} {
		if o != nil && o.Agg != nil {
			zeroPos(o.Agg.Where)
		}
	}
	return n
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// builtinOptions draws trees over the built-in features, so that Check
// with the registry holds too.
func builtinOptions() segmenttest.Options {
	reg := segment.NewRegistry()
	var o segmenttest.Options
	for _, name := range reg.Names() {
		f, _ := reg.Lookup(name)
		o.Fields = append(o.Fields, segmenttest.FieldSpec{Name: name, Type: f.Type})
	}
	o.Fields = append(o.Fields, segmenttest.FieldSpec{Name: "birthday"}, segmenttest.FieldSpec{Name: "country"})
	o.Values = map[string][]segment.Value{
		"country":  {segment.String("DE"), segment.String("FR")},
		"orders":   {segment.Number(0), segment.Number(2)},
		"birthday": {segment.String("1990-02-28")},
	}
	return o
}

// TestRoundTrip checks, over random trees, that Check accepts them, that
// Parse(Format(t)) is t, that Format is idempotent and that JSON keeps
// the tree.
func TestRoundTrip(t *testing.T) {
	reg := segment.NewRegistry()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 6000 {
		opts, withReg := segmenttest.Options{}, (*segment.Registry)(nil)
		if i%3 == 2 {
			opts, withReg = builtinOptions(), reg
		}
		tree := segmenttest.RandomNode(r, opts)
		if err := segment.Check(tree, withReg); err != nil {
			t.Fatalf("tree %d: Check: %v\n%s\n%s", i, err, segment.Format(tree), mustJSON(t, tree))
		}
		text := segment.Format(tree)
		back, err := segment.Parse(text)
		if err != nil {
			t.Fatalf("tree %d: Parse(%s): %v\n%s", i, text, err, mustJSON(t, tree))
		}
		if !reflect.DeepEqual(zeroPos(back), tree) {
			t.Fatalf("tree %d: Parse(Format(t)) != t\ntext %s\nwant %s\ngot  %s", i, text, mustJSON(t, tree), mustJSON(t, back))
		}
		if again := segment.Format(back); again != text {
			t.Fatalf("tree %d: Format not idempotent:\n%s\n%s", i, text, again)
		}
		var fromJSON segment.Node
		if err := json.Unmarshal([]byte(mustJSON(t, tree)), &fromJSON); err != nil {
			t.Fatalf("tree %d: JSON: %v", i, err)
		}
		if !reflect.DeepEqual(&fromJSON, tree) {
			t.Fatalf("tree %d: JSON round trip differs\nwant %s\ngot  %s", i, mustJSON(t, tree), mustJSON(t, &fromJSON))
		}
	}
}

// FuzzParse checks that Parse does not panic, and that whatever it
// accepts is valid and comes back the same through Format and JSON.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`orders >= 2 and last_order_at < 180d ago`,
		`count("Product Viewed" where category = "Gadgets", within 30d) >= 3`,
		`sum("Order Completed".revenue, within 365d) > 1000 or not (a and b)`,
		"`first name`.`a``b` in (\"\\u00e9\\ud83c\\udf89\", -0.5, 1e21, 2026-01-01T09:30:00+01:00) # c",
		`birthday within next 7d and in segment "vip" and x is not set and y starts with "a"`,
		`x between 2026-01-01 and 2026-02-01 and email contains "@"`,
		`x = "unterminated`, `count("x" where y = 1`, `(((`, `1e999`,
	} {
		f.Add(s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(segment.Format(segmenttest.RandomNode(r, segmenttest.Options{})))
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, err := segment.Parse(text)
		if err != nil {
			var e *segment.Error
			if !errors.As(err, &e) || e.Pos.Line < 1 || e.Pos.Offset > len(text) {
				t.Fatalf("Parse(%q): error %#v", text, err)
			}
			return
		}
		if err := segment.Check(n, nil); err != nil {
			t.Fatalf("Parse(%q) returned a tree Check rejects: %v", text, err)
		}
		canon := segment.Format(n)
		back, err := segment.Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) then Parse(Format) = %q: %v", text, canon, err)
		}
		if !reflect.DeepEqual(zeroPos(back), zeroPos(n)) {
			t.Fatalf("Parse(%q): Format %q parses to another tree:\n%s\n%s", text, canon, mustJSON(t, n), mustJSON(t, back))
		}
		if again := segment.Format(back); again != canon {
			t.Fatalf("Format not idempotent: %q then %q", canon, again)
		}
		var fromJSON segment.Node
		if err := json.Unmarshal([]byte(mustJSON(t, n)), &fromJSON); err != nil || !reflect.DeepEqual(&fromJSON, n) {
			t.Fatalf("Parse(%q): JSON round trip: %v\n%s", text, err, mustJSON(t, n))
		}
	})
}
