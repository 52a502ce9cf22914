package inbound_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

var fuzzEndpoints = []string{"batch", "import", "identify", "track", "page", "screen", "group", "alias", "nope"}

func FuzzParse(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "analytics-go-batch.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), golden)
	for i, tc := range invalidEvents {
		f.Add(uint8(i%8), []byte(tc.event))
		f.Add(uint8(0), []byte(`{"batch":[`+tc.event+`],"sentAt":"2024-06-01T11:00:00Z","context":{"ip":"1.2.3.4"}}`))
	}
	for _, s := range []string{
		`{"userId":"u","event":"E","timestamp":"2024-06-01T00:00:00Z","sentAt":"2024-06-01T00:00:01Z","context":{"traits":{"email":"a@b.co"}}}`,
		`{"userId":1e3,"traits":{"birthday":"1990-01-01","createdAt":"2024-01-01T00:00:00+01:00"}}`,
		`{"batch":[{"type":"page","anonymousId":"a","name":"N","category":"C","properties":{}}],"context":{"library":{}}}`,
		`{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"order_id":1,"products":[{"sku":"s","price":"1.5","quantity":2}]}}]}`,
		`{"batch":[{"type":"track","userId":"u","event":"Cart Viewed","properties":{"products":[{"product_id":"p"}]}}]}`,
		`{"batch":[]}`, `{}`, `[]`, ``, `{"batch":[1,null,"x",{}]}`,
	} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(3), []byte(s))
	}
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		endpoint := fuzzEndpoints[int(ep)%len(fuzzEndpoints)]
		req, err := inbound.Parse(endpoint, body, received)
		if err != nil {
			var e *touchbase.Error
			if !errors.As(err, &e) || (e.Code != touchbase.EINVALID && e.Code != touchbase.ETOOLARGE) || e.Message == "" {
				t.Fatalf("error %v is not an EINVALID or ETOOLARGE *touchbase.Error", err)
			}
			if strings.HasPrefix(e.Message, "body is not valid JSON") && json.Valid(body) {
				t.Fatalf("valid JSON refused as invalid: %v", err)
			}
			if !utf8.ValidString(e.Message) {
				t.Fatalf("error message is not UTF-8: %q", e.Message)
			}
			for _, fe := range e.Fields {
				if !utf8.ValidString(fe.Message) || !utf8.ValidString(fe.Field) {
					t.Fatalf("field error is not UTF-8: %+v", fe)
				}
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON accepted")
		}
		single := endpoint != "batch" && endpoint != "import"
		if single && (len(req.Inbounds) != 1 || len(req.Rejected) != 0) {
			t.Fatalf("single event: %d inbounds, %d rejected", len(req.Inbounds), len(req.Rejected))
		}
		var env struct{ Batch []json.RawMessage }
		members := 1
		if !single {
			if json.Unmarshal(body, &env) == nil {
				members = len(env.Batch)
			} else {
				members = -1 // encoding/json cannot tell (the batch holds a value it refuses)
			}
		}
		if members >= 0 && len(req.Inbounds)+len(req.Rejected) != members {
			t.Fatalf("%d inbounds + %d rejected, want %d members", len(req.Inbounds), len(req.Rejected), members)
		}
		last := -1
		for _, fe := range req.Rejected {
			if fe.Index <= last || (members >= 0 && fe.Index >= members) || fe.Message == "" {
				t.Fatalf("rejected %+v out of order or range (%d members)", fe, members)
			}
			last = fe.Index
		}
		for _, m := range req.Inbounds {
			if !m.Type.Valid() || m.MessageID == "" || len(m.MessageID) > inbound.MaxMessageIDBytes || m.Timestamp.IsZero() || !m.ReceivedAt.Equal(received) {
				t.Fatalf("incomplete inbound %+v", m)
			}
			if m.UserID == "" && m.AnonymousID == "" {
				t.Fatalf("inbound without an identity %+v", m)
			}
			for _, raw := range [][]byte{m.Properties, m.Context} {
				if raw == nil {
					continue
				}
				var obj map[string]any
				if err := json.Unmarshal(raw, &obj); err != nil || !utf8.Valid(raw) {
					t.Fatalf("raw %s is not a JSON object: %v", raw, err)
				}
			}
			if m.Order != nil && (m.Order.Order.OrderID == "" || m.Type != touchbase.EventTrack) {
				t.Fatalf("order without id %+v", m.Order)
			}
			for _, p := range m.Products {
				if p.ProductID == "" {
					t.Fatalf("product without id %+v", p)
				}
			}
		}
	})
}
