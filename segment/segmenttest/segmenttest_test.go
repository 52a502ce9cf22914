package segmenttest_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/segment/segmenttest"
)

// walk calls f on every node of n, those of where clauses included.
func walk(n *segment.Node, f func(*segment.Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, a := range n.Args {
		walk(a, f)
	}
	for _, o := range []*segment.Operand{n.Left, n.Right} {
		if o != nil && o.Agg != nil {
			walk(o.Agg.Where, f)
		}
	}
}

// TestRandomNodeCovers checks that the trees are valid and cover the
// language, with the awkward cases the text form must survive.
func TestRandomNodeCovers(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	seen := map[string]bool{}
	for range 3000 {
		n := segmenttest.RandomNode(r, segmenttest.Options{})
		if err := segment.Check(n, nil); err != nil {
			t.Fatalf("Check(%s): %v", segment.Format(n), err)
		}
		text := segment.Format(n)
		for _, s := range []string{"`", `\"`, `\\`, `\n`, "1e+21", "-0.5", "T", "+01:00", "🎉", "ünï"} {
			if strings.Contains(text, s) {
				seen["text "+s] = true
			}
		}
		walk(n, func(n *segment.Node) {
			seen["op "+string(n.Op)] = true
			for _, o := range []*segment.Operand{n.Left, n.Right} {
				switch {
				case o == nil:
				case o.Field != "":
					seen["field"] = true
				case o.Value != nil:
					seen["value "+o.Value.Type.String()] = true
				case o.Ago != "":
					seen["ago"] = true
				case o.Agg != nil:
					seen["agg "+string(o.Agg.Func)] = true
					seen["agg where"] = seen["agg where"] || o.Agg.Where != nil
					seen["agg within"] = seen["agg within"] || o.Agg.Within != ""
				}
			}
			for _, v := range n.Values {
				seen["value "+v.Type.String()] = true
			}
		})
	}
	want := []string{"text `", `text \"`, `text \\`, `text \n`, "text 1e+21", "text -0.5", "text T", "text +01:00", "text 🎉", "text ünï",
		"field", "value string", "value number", "value boolean", "value time", "ago", "agg where", "agg within"}
	for _, op := range []string{"and", "or", "not", "=", "!=", "<", "<=", ">", ">=", "in", "not in", "between",
		"contains", "starts with", "is set", "is not set", "within next", "in segment"} {
		want = append(want, "op "+op)
	}
	for _, f := range []string{"count", "sum", "avg", "min", "max", "distinct", "first", "last"} {
		want = append(want, "agg "+f)
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no tree has %s", w)
		}
	}
}

func TestRandomNodeDeterministic(t *testing.T) {
	draw := func() string {
		r := rand.New(rand.NewPCG(1, 1))
		var b strings.Builder
		for range 50 {
			j, err := json.Marshal(segmenttest.RandomNode(r, segmenttest.Options{}))
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
		}
		return b.String()
	}
	if first, second := draw(), draw(); first != second {
		t.Error("the same seed drew different trees")
	}
}

// TestRandomNodeVocabulary checks that trees over a given vocabulary use
// only its names, are valid with the registry, and draw literals from the
// candidate values.
func TestRandomNodeVocabulary(t *testing.T) {
	reg := segment.NewRegistry()
	o := segmenttest.Options{
		Depth:      2,
		Fields:     []segmenttest.FieldSpec{{Name: "orders", Type: segment.TypeNumber}, {Name: "last_order_at", Type: segment.TypeTime}, {Name: "country"}, {Name: "birthday"}},
		Events:     []string{"Order Completed"},
		Properties: []segmenttest.FieldSpec{{Name: "revenue", Type: segment.TypeNumber}},
		Values: map[string][]segment.Value{
			"country":  {segment.String("DE"), segment.String("FR")},
			"birthday": {segment.String("1990-02-28")},
		},
	}
	r := rand.New(rand.NewPCG(5, 6))
	var near, countryLiterals int
	for range 2000 {
		n := segmenttest.RandomNode(r, o)
		if err := segment.Check(n, reg); err != nil {
			t.Fatalf("Check(%s): %v", segment.Format(n), err)
		}
		walk(n, func(n *segment.Node) {
			if n.Op == segment.OpInSegment {
				t.Fatalf("in segment without Segments: %s", segment.Format(n))
			}
			for _, op := range []*segment.Operand{n.Left, n.Right} {
				switch {
				case op == nil:
				case op.Field != "" && !slices.ContainsFunc(o.Fields, func(f segmenttest.FieldSpec) bool { return f.Name == op.Field }) && op.Field != "revenue":
					t.Fatalf("field %q is not in the vocabulary", op.Field)
				case op.Agg != nil && op.Agg.Event != "Order Completed":
					t.Fatalf("event %q is not in the vocabulary", op.Agg.Event)
				}
			}
			if n.Left != nil && n.Left.Field == "country" && n.Right != nil && n.Right.Value != nil {
				countryLiterals++
				if s := n.Right.Value.Str; s == "DE" || s == "FR" {
					near++
				}
			}
		})
	}
	if countryLiterals < 20 || near*5 < countryLiterals*2 {
		t.Errorf("%d of %d literals compared with country are candidate values, want 40%% or more", near, countryLiterals)
	}
}

func TestShrink(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		n := segmenttest.RandomNode(r, segmenttest.Options{})
		before := segment.Format(n)
		for _, c := range segmenttest.Shrink(n) {
			if err := segment.Check(c, nil); err != nil {
				t.Fatalf("Shrink(%s) gave %s: %v", before, segment.Format(c), err)
			}
			if segment.Format(c) == before {
				t.Fatalf("Shrink(%s) gave the tree itself", before)
			}
		}
		if segment.Format(n) != before {
			t.Fatalf("Shrink changed its argument: %s became %s", before, segment.Format(n))
		}
	}
}

func TestMinimize(t *testing.T) {
	tests := []struct {
		name  string
		fails func(*segment.Node) bool
		want  string
	}{
		{"a segment reference", func(n *segment.Node) bool { return strings.Contains(segment.Format(n), `in segment "vip"`) }, `in segment "vip"`},
		{"a where in a sum", func(n *segment.Node) bool {
			found := false
			walk(n, func(n *segment.Node) {
				if n.Left != nil && n.Left.Agg != nil && n.Left.Agg.Where != nil && n.Left.Agg.Func == segment.AggSum {
					found = true
				}
			})
			return found
		}, `sum("`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 12))
			var n *segment.Node
			for n == nil || !tt.fails(n) || len(segment.Format(n)) < 150 {
				n = segmenttest.RandomNode(r, segmenttest.Options{Depth: 4})
			}
			small := segmenttest.Minimize(n, tt.fails)
			text := segment.Format(small)
			if !tt.fails(small) || !strings.HasPrefix(text, tt.want) || len(text) > 80 {
				t.Errorf("Minimize(%s) = %s, want a short tree starting %s", segment.Format(n), text, tt.want)
			}
			for _, c := range segmenttest.Shrink(small) {
				if tt.fails(c) {
					t.Errorf("Minimize stopped at %s, but %s fails too", text, segment.Format(c))
				}
			}
			t.Logf("%s", text)
		})
	}
}
