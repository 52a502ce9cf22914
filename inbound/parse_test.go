package inbound_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

var received = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// mustParse parses body and fails on a whole-body error.
func mustParse(t *testing.T, endpoint, body string) *inbound.Request {
	t.Helper()
	req, err := inbound.Parse(endpoint, []byte(body), received)
	if err != nil {
		t.Fatalf("Parse(%s, %s): %v (%v)", endpoint, body, err, fields(err))
	}
	return req
}

// one parses a single valid event sent to its endpoint.
func one(t *testing.T, endpoint, event string) touchbase.Inbound {
	t.Helper()
	req := mustParse(t, endpoint, event)
	if len(req.Inbounds) != 1 || len(req.Rejected) != 0 {
		t.Fatalf("Parse(%s, %s) = %d inbounds, rejected %v", endpoint, event, len(req.Inbounds), req.Rejected)
	}
	return req.Inbounds[0]
}

func fields(err error) []touchbase.FieldError {
	var e *touchbase.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// invalidEvents are events with one thing wrong, each sent alone to its
// endpoint and as the second member of a batch.
var invalidEvents = []struct {
	name     string
	endpoint string
	event    string
	field    string
	message  string // a substring of the field error's message
}{
	{"no user id or anonymous id", "track", `{"type":"track","event":"X"}`, "userId", "userId or anonymousId is required"},
	{"empty ids count as none", "track", `{"type":"track","event":"X","userId":"","anonymousId":null}`, "userId", "userId or anonymousId is required"},
	{"user id an object", "track", `{"type":"track","event":"X","userId":{"id":1}}`, "userId", "userId must be a string or a number, not an object"},
	{"user id a boolean", "identify", `{"type":"identify","userId":true}`, "userId", "userId must be a string or a number, not a boolean"},
	{"anonymous id an array", "page", `{"type":"page","anonymousId":["a"]}`, "anonymousId", "anonymousId must be a string or a number, not an array"},
	{"user id too long", "track", `{"type":"track","event":"X","userId":"` + strings.Repeat("u", 1025) + `"}`, "userId", "userId is 1025 bytes; the limit is 1024"},
	{"track without event", "track", `{"type":"track","userId":"u1"}`, "event", "event is required for track"},
	{"track with null event", "track", `{"type":"track","userId":"u1","event":null}`, "event", "event is required for track"},
	{"track event a number", "track", `{"type":"track","userId":"u1","event":42}`, "event", "event must be a string, not a number"},
	{"track event empty", "track", `{"type":"track","userId":"u1","event":""}`, "event", "event must not be empty"},
	{"track event blank", "track", `{"type":"track","userId":"u1","event":"  "}`, "event", "event must not be empty"},
	{"properties a string", "track", `{"type":"track","userId":"u1","event":"X","properties":"{}"}`, "properties", "properties must be an object, not a string"},
	{"properties an array", "screen", `{"type":"screen","userId":"u1","properties":[1]}`, "properties", "properties must be an object, not an array"},
	{"context a number", "track", `{"type":"track","userId":"u1","event":"X","context":7}`, "context", "context must be an object, not a number"},
	{"context.traits a string", "track", `{"type":"track","userId":"u1","event":"X","context":{"traits":"vip"}}`, "context.traits", "context.traits must be an object, not a string"},
	{"identify traits an array", "identify", `{"type":"identify","userId":"u1","traits":["a"]}`, "traits", "traits must be an object, not an array"},
	{"identify trait out of range", "identify", `{"type":"identify","userId":"u1","traits":{"score":1e999}}`, "traits.score", "traits.score is 1e999: numbers must be between -9007199254740991 and 9007199254740991"},
	{"context number out of range", "page", `{"type":"page","userId":"u1","context":{"screen":{"density":-2E+308}}}`, "context.screen.density", "context.screen.density is -2E+308: numbers must be between"},
	{"huge integer in properties", "track", `{"type":"track","userId":"u1","event":"X","properties":{"n":[1.5e3,` + strings.Repeat("9", 400) + `]}}`, "properties.n[1]", "properties.n[1] is 99999"},
	{"group traits a number", "group", `{"type":"group","userId":"u1","groupId":"g","traits":1}`, "traits", "traits must be an object, not a number"},
	{"group without group id", "group", `{"type":"group","userId":"u1"}`, "groupId", "groupId is required for group"},
	{"group id an object", "group", `{"type":"group","userId":"u1","groupId":{}}`, "groupId", "groupId must be a string or a number"},
	{"alias without previous id", "alias", `{"type":"alias","userId":"u1"}`, "previousId", "previousId is required for alias"},
	{"alias with anonymous id only", "alias", `{"type":"alias","anonymousId":"a1","previousId":"p"}`, "userId", "userId is required for alias"},
	{"page name a number", "page", `{"type":"page","userId":"u1","name":3}`, "name", "name must be a string, not a number"},
	{"page category an object", "page", `{"type":"page","userId":"u1","category":{}}`, "category", "category must be a string, not an object"},
	{"timestamp a number", "track", `{"type":"track","userId":"u1","event":"X","timestamp":1717243200}`, "timestamp", "timestamp must be an ISO-8601 date-time string"},
	{"timestamp words", "track", `{"type":"track","userId":"u1","event":"X","timestamp":"yesterday"}`, "timestamp", `timestamp "yesterday" is not an ISO-8601 date-time`},
	{"timestamp 30 February", "track", `{"type":"track","userId":"u1","event":"X","timestamp":"2024-02-30T10:00:00Z"}`, "timestamp", "is not an ISO-8601 date-time"},
	{"originalTimestamp bad", "track", `{"type":"track","userId":"u1","event":"X","originalTimestamp":"2024-06-01T25:00:00Z"}`, "originalTimestamp", "originalTimestamp \"2024-06-01T25:00:00Z\" is not"},
	{"sentAt bad", "track", `{"type":"track","userId":"u1","event":"X","sentAt":false}`, "sentAt", "sentAt must be an ISO-8601 date-time string"},
	{"messageId too long", "track", `{"type":"track","userId":"u1","event":"X","messageId":"` + strings.Repeat("m", 201) + `"}`, "messageId", "messageId is 201 bytes; the limit is 200"},
	{"messageId an object", "track", `{"type":"track","userId":"u1","event":"X","messageId":{}}`, "messageId", "messageId must be a string, not an object"},
	{"type a number", "track", `{"type":1,"userId":"u1","event":"X"}`, "type", "type must be a string, not a number"},
	{"invalid UTF-8 in properties", "track", "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"X\",\"properties\":{\"name\":\"caf\xe9\"}}", "properties", "properties contains invalid UTF-8"},
	{"invalid UTF-8 in the user id", "identify", "{\"type\":\"identify\",\"userId\":\"\xff\xfe\"}", "userId", "userId contains invalid UTF-8"},
	{"invalid UTF-8 in a key", "track", "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"X\",\"\xc3\":1}", "", "event contains invalid UTF-8"},
	{"overlong UTF-8 encoding", "track", "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"\xc0\xaf\"}", "event", "event contains invalid UTF-8"},
	{"UTF-16 surrogate encoded in UTF-8", "track", "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"\xed\xa0\x80\"}", "event", "event contains invalid UTF-8"},
	{"order_id an object", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":{"id":1}}}`, "properties.order_id", "properties.order_id must be a string, not an object"},
	{"revenue a boolean", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","revenue":true}}`, "properties.revenue", "properties.revenue must be a number, not a boolean"},
	{"total not numeric", "track", `{"type":"track","userId":"u1","event":"Order Updated","properties":{"order_id":"o1","total":"$12"}}`, "properties.total", `properties.total must be a number, got the string "$12"`},
	{"products not an array", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":{"sku":"a"}}}`, "properties.products", "properties.products must be an array, not an object"},
	{"product not an object", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"sku":"a"},"b"]}}`, "properties.products[1]", "properties.products[1] must be an object, not a string"},
	{"third product's price", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"price":1},{"price":2},{"price":"free"}]}}`, "properties.products[2].price", `properties.products[2].price must be a number, got the string "free"`},
	{"negative quantity", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"price":1,"quantity":-2}]}}`, "properties.products[0].quantity", "properties.products[0].quantity must not be negative"},
	{"product name an array", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"name":["x"]}]}}`, "properties.products[0].name", "properties.products[0].name must be a string, not an array"},
	{"long key in an error path", "identify", `{"type":"identify","userId":"u1","traits":{"` + strings.Repeat("k", 5000) + `":1e999}}`, "traits." + strings.Repeat("k", 249) + "...", "is 1e999: numbers must be between"},
	// Finite but beyond touchbase.MaxNumber: two of them would sum to +Inf.
	{"revenue that would overflow a sum", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","revenue":1e308}}`, "properties.revenue", "properties.revenue is 1e308: numbers must be between -9007199254740991 and 9007199254740991"},
	{"revenue as a string", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","revenue":"1e308"}}`, "properties.revenue", `properties.revenue is "1e308": numbers must be between`},
	{"total as a long string", "track", `{"type":"track","userId":"u1","event":"Order Refunded","properties":{"order_id":"o1","total":"-90071992547409920"}}`, "properties.total", `properties.total is "-90071992547409920": numbers must be between`},
	{"price beyond the bound", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"price":9007199254740992}]}}`, "properties.products[0].price", "properties.products[0].price is 9007199254740992: numbers must be between"},
	{"price times quantity", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"price":1e10,"quantity":"1e10"}]}}`, "properties.products[0]", "properties.products[0]: price × quantity is 1e+20: amounts, like numbers must be between"},
	{"products adding up", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"price":5e15},{"price":5e15}]}}`, "properties.products", "price × quantity adds up to 1e+16 by products[1]"},
	{"any property", "track", `{"type":"track","userId":"u1","event":"Viewed","properties":{"a":{"b":[1,-12345678901234567]}}}`, "properties.a.b[1]", "properties.a.b[1] is -12345678901234567: numbers must be between"},
	{"a trait", "identify", `{"type":"identify","userId":"u1","traits":{"points":1e16}}`, "traits.points", "traits.points is 1e16: numbers must be between"},
	{"a context trait", "track", `{"type":"track","userId":"u1","event":"X","context":{"traits":{"ltv":2e20}}}`, "context.traits.ltv", "context.traits.ltv is 2e20: numbers must be between"},
	{"price out of range", "track", `{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1","products":[{"price":1e999}]}}`, "properties.products[0].price", "properties.products[0].price is 1e999: numbers must be between -9007199254740991 and 9007199254740991"},
}

func TestInvalidEventSentAlone(t *testing.T) {
	for _, tc := range invalidEvents {
		t.Run(tc.name, func(t *testing.T) {
			req, err := inbound.Parse(tc.endpoint, []byte(tc.event), received)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", req)
			}
			var e *touchbase.Error
			if !errors.As(err, &e) || e.Code != touchbase.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			if len(e.Fields) != 1 {
				t.Fatalf("Fields = %v, want one", e.Fields)
			}
			fe := e.Fields[0]
			if fe.Index != 0 || fe.Field != tc.field || !strings.Contains(fe.Message, tc.message) {
				t.Fatalf("field error %+v, want index 0, field %q, message containing %q", fe, tc.field, tc.message)
			}
			if want := "invalid " + tc.endpoint + " event: "; !strings.HasPrefix(e.Message, want) || !strings.Contains(e.Message, tc.message) {
				t.Fatalf("message %q, want %q + the field's message", e.Message, want)
			}
		})
	}
}

func TestInvalidEventInBatch(t *testing.T) {
	for _, tc := range invalidEvents {
		t.Run(tc.name, func(t *testing.T) {
			good := `{"type":"track","userId":"ok","event":"Fine"}`
			body := `{"batch":[` + good + `,` + tc.event + `,` + good + `]}`
			req := mustParse(t, "batch", body)
			if len(req.Inbounds) != 2 || req.Inbounds[0].UserID != "ok" || req.Inbounds[1].UserID != "ok" {
				t.Fatalf("kept %d inbounds, want the 2 valid ones", len(req.Inbounds))
			}
			if len(req.Rejected) != 1 {
				t.Fatalf("Rejected = %v, want one", req.Rejected)
			}
			fe := req.Rejected[0]
			if fe.Index != 1 || fe.Field != tc.field || !strings.Contains(fe.Message, tc.message) {
				t.Fatalf("rejected %+v, want index 1, field %q, message containing %q", fe, tc.field, tc.message)
			}
		})
	}
}

func TestBatchOnlyRejections(t *testing.T) {
	big := `{"type":"track","userId":"u1","event":"X","properties":{"pad":"` + strings.Repeat("x", inbound.MaxEventBytes) + `"}}`
	for _, tc := range []struct {
		name, member, field, message string
	}{
		{"no type", `{"userId":"u1","event":"X"}`, "type", "type is required: one of identify, track, page, screen, group, alias"},
		{"null type", `{"type":null,"userId":"u1","event":"X"}`, "type", "type is required"},
		{"unknown type", `{"type":"purchase","userId":"u1"}`, "type", `type "purchase" is not one of identify, track, page, screen, group, alias`},
		{"type in the wrong case", `{"type":"Track","userId":"u1","event":"X"}`, "type", `type "Track" is not one of`},
		{"not an object", `"track"`, "", "event must be a JSON object, not a string"},
		{"null member", `null`, "", "event must be a JSON object, not null"},
		{"array member", `[{"type":"track"}]`, "", "event must be a JSON object, not an array"},
		{"over 32 KB", big, "", fmt.Sprintf("event is %d bytes; the limit is 32768", len(big))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := mustParse(t, "batch", `{"batch":[`+tc.member+`]}`)
			if len(req.Inbounds) != 0 || len(req.Rejected) != 1 {
				t.Fatalf("inbounds %d, rejected %v", len(req.Inbounds), req.Rejected)
			}
			if fe := req.Rejected[0]; fe.Index != 0 || fe.Field != tc.field || !strings.Contains(fe.Message, tc.message) {
				t.Fatalf("rejected %+v, want field %q, message containing %q", fe, tc.field, tc.message)
			}
		})
	}
}

func TestBodyErrors(t *testing.T) {
	ev := `{"type":"track","userId":"u1","event":"X"}`
	for _, tc := range []struct {
		name, endpoint, body string
		code                 string
		message              string // the whole message, or a prefix when it ends in "..."
		field                string // the field named in Fields, if any
	}{
		{"unknown endpoint", "purchase", ev, touchbase.EINVALID, `unknown endpoint "purchase": use batch, import, identify, track, page, screen, group or alias`, ""},
		{"empty body", "track", "", touchbase.EINVALID, "body is empty", ""},
		{"blank body", "batch", " \n", touchbase.EINVALID, "body is empty", ""},
		{"not JSON", "track", "userId=u1", touchbase.EINVALID, "body is not valid JSON: invalid character 'u' looking for beginning of value at byte 1", ""},
		{"truncated", "track", `{"type":"track","userId":"u1"`, touchbase.EINVALID, "body is not valid JSON: unexpected end of JSON input at byte 29", ""},
		{"broken batch member", "batch", `{"batch":[{"type":"track",}]}`, touchbase.EINVALID, "body is not valid JSON: invalid character '}' looking for beginning of object key string at byte 27", ""},
		{"trailing garbage", "batch", `{"batch":[` + ev + `]} x`, touchbase.EINVALID, "body is not valid JSON: invalid character 'x' after top-level value at byte ...", ""},
		{"two objects", "track", ev + ev, touchbase.EINVALID, "body is not valid JSON: invalid character '{' after top-level value at byte ...", ""},
		{"array body", "track", `[` + ev + `]`, touchbase.EINVALID, "body must be a JSON object, not an array", ""},
		{"string body", "batch", `"batch"`, touchbase.EINVALID, "body must be a JSON object, not a string", ""},
		{"no batch", "batch", `{"writeKey":"k"}`, touchbase.EINVALID, `batch is missing: the body must hold a "batch" array of events`, "batch"},
		{"empty object", "import", `{}`, touchbase.EINVALID, `batch is missing...`, "batch"},
		{"batch an object", "batch", `{"batch":` + ev + `}`, touchbase.EINVALID, "batch must be an array, not an object", "batch"},
		{"batch null", "batch", `{"batch":null}`, touchbase.EINVALID, "batch must be an array, not null", "batch"},
		{"batch empty", "batch", `{"batch":[]}`, touchbase.EINVALID, "batch is empty", "batch"},
		{"batch context not an object", "batch", `{"batch":[` + ev + `],"context":"web"}`, touchbase.EINVALID, "context must be an object, not a string", "context"},
		{"batch context with invalid UTF-8", "batch", "{\"batch\":[" + ev + "],\"context\":{\"ip\":\"\xff\"}}", touchbase.EINVALID, "context contains invalid UTF-8", "context"},
		{"batch context with a number beyond the bound", "batch", `{"batch":[` + ev + `],"context":{"app":{"build":90071992547409910}}}`, touchbase.EINVALID, "context.app.build is 90071992547409910: numbers must be between -9007199254740991 and 9007199254740991", "context.app.build"},
		{"batch context with a number out of range", "batch", `{"batch":[` + ev + `],"context":{"app":{"build":1e400}}}`, touchbase.EINVALID, "context.app.build is 1e400: numbers must be between -9007199254740991 and 9007199254740991", "context.app.build"},
		{"batch sentAt not a date", "batch", `{"batch":[` + ev + `],"sentAt":"now"}`, touchbase.EINVALID, `sentAt "now" is not an ISO-8601 date-time`, "sentAt"},
		{"batch sentAt a number", "batch", `{"batch":[` + ev + `],"sentAt":1}`, touchbase.EINVALID, `sentAt must be a string, not a number`, "sentAt"},
		{"writeKey a number", "batch", `{"batch":[` + ev + `],"writeKey":123}`, touchbase.EINVALID, "writeKey must be a string, not a number", "writeKey"},
		{"single writeKey an object", "track", `{"type":"track","userId":"u1","event":"X","writeKey":{}}`, touchbase.EINVALID, "writeKey must be a string, not an object", "writeKey"},
		{"batch over 500 KB", "batch", `{"batch":[` + strings.Repeat(" ", inbound.MaxBatchBytes) + `]}`, touchbase.ETOOLARGE, fmt.Sprintf("body is %d bytes; the limit for a batch is 512000", inbound.MaxBatchBytes+12), ""},
		{"event over 32 KB", "identify", `{"userId":"u1","traits":{"bio":"` + strings.Repeat("x", inbound.MaxEventBytes) + `"}}`, touchbase.ETOOLARGE, fmt.Sprintf("body is %d bytes; the limit for one event is 32768", inbound.MaxEventBytes+35), ""},
		{"type mismatch", "identify", ev, touchbase.EINVALID, `invalid identify event: type "track" does not match the endpoint /v1/identify`, "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := inbound.Parse(tc.endpoint, []byte(tc.body), received)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", req)
			}
			var e *touchbase.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *touchbase.Error", err)
			}
			if e.Code != tc.code {
				t.Fatalf("code %s, want %s (%s)", e.Code, tc.code, e.Message)
			}
			if want, ok := strings.CutSuffix(tc.message, "..."); ok {
				if !strings.HasPrefix(e.Message, want) {
					t.Fatalf("message %q, want a prefix %q", e.Message, want)
				}
			} else if e.Message != tc.message {
				t.Fatalf("message %q, want %q", e.Message, tc.message)
			}
			if tc.field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != tc.field) {
				t.Fatalf("fields %+v, want one naming %q", e.Fields, tc.field)
			}
		})
	}
}

func TestBatchEventLimit(t *testing.T) {
	ev := `{"type":"track","userId":"u1","event":"X"}`
	n := inbound.MaxBatchEvents + 3
	body := `{"batch":[` + strings.Repeat(ev+",", n-1) + ev + `]}`
	req := mustParse(t, "batch", body)
	if len(req.Inbounds) != inbound.MaxBatchEvents || len(req.Rejected) != 3 {
		t.Fatalf("inbounds %d, rejected %d", len(req.Inbounds), len(req.Rejected))
	}
	for i, fe := range req.Rejected {
		if fe.Index != inbound.MaxBatchEvents+i || !strings.Contains(fe.Message, "the limit is 2500") {
			t.Fatalf("rejected[%d] = %+v", i, fe)
		}
	}
}

func TestTypes(t *testing.T) {
	for _, tc := range []struct {
		endpoint, event string
		want            touchbase.EventType
	}{
		{"track", `{"userId":"u","event":"E"}`, touchbase.EventTrack},
		{"track", `{"type":"track","userId":"u","event":"E"}`, touchbase.EventTrack},
		{"identify", `{"userId":"u"}`, touchbase.EventIdentify},
		{"page", `{"anonymousId":"a"}`, touchbase.EventPage},
		{"screen", `{"anonymousId":"a","type":"screen"}`, touchbase.EventScreen},
		{"group", `{"userId":"u","groupId":"g"}`, touchbase.EventGroup},
		{"alias", `{"userId":"u","previousId":"a"}`, touchbase.EventAlias},
	} {
		if got := one(t, tc.endpoint, tc.event).Type; got != tc.want {
			t.Errorf("%s %s: type %q, want %q", tc.endpoint, tc.event, got, tc.want)
		}
	}
	req := mustParse(t, "import", `{"batch":[{"type":"identify","userId":"u"},{"type":"alias","userId":"u","previousId":"a"},{"type":"group","userId":"u","groupId":7},{"type":"screen","userId":"u","name":"Home"}]}`)
	if len(req.Inbounds) != 4 {
		t.Fatalf("import: %d inbounds, rejected %v", len(req.Inbounds), req.Rejected)
	}
	if m := req.Inbounds[2]; m.GroupID != "7" {
		t.Errorf("group id %q, want 7", m.GroupID)
	}
	if m := req.Inbounds[1]; m.PreviousID != "a" || m.UserID != "u" {
		t.Errorf("alias %+v", m)
	}
	if m := req.Inbounds[3]; m.Event != "Home" {
		t.Errorf("screen event %q, want Home", m.Event)
	}
}

func TestIdentifiers(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"string", `"user-1"`, "user-1"},
		{"escaped string", `"caf\u00e9"`, "café"},
		{"integer", `12345`, "12345"},
		{"negative integer", `-7`, "-7"},
		{"integer beyond float64's precision", `12345678901234567890123`, "12345678901234567890123"},
		{"exponent", `1e3`, "1000"},
		{"trailing zero fraction", `12.50`, "12.5"},
		{"integral float", `42.0`, "42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := one(t, "identify", `{"userId":`+tc.raw+`,"anonymousId":`+tc.raw+`}`)
			if m.UserID != tc.want || m.AnonymousID != tc.want {
				t.Fatalf("userId %q, anonymousId %q, want %q", m.UserID, m.AnonymousID, tc.want)
			}
		})
	}
	m := one(t, "track", `{"anonymousId":"a1","userId":null,"event":"X"}`)
	if m.UserID != "" || m.AnonymousID != "a1" {
		t.Fatalf("null userId: %+v", m)
	}
}

func TestMessageID(t *testing.T) {
	m := one(t, "track", `{"userId":"u","event":"X","messageId":"abc-123"}`)
	if m.MessageID != "abc-123" {
		t.Fatalf("messageId %q, want the sender's", m.MessageID)
	}
	if m := one(t, "track", `{"userId":"u","event":"X","messageId":987}`); m.MessageID != "987" {
		t.Fatalf("numeric messageId %q", m.MessageID)
	}
	if m := one(t, "track", `{"userId":"u","event":"X","messageId":"`+strings.Repeat("m", 200)+`"}`); len(m.MessageID) != 200 {
		t.Fatalf("200-byte messageId not kept whole: %d", len(m.MessageID))
	}

	ev := `{"type":"track","userId":"u","event":"X","timestamp":"2024-05-01T10:00:00Z"}`
	a := one(t, "track", ev).MessageID
	b := one(t, "track", ev).MessageID
	if a != b || !strings.HasPrefix(a, "tb-") || len(a) != 35 {
		t.Fatalf("derived ids %q and %q: want equal, tb- and 32 hex digits", a, b)
	}
	// The same event resent in a batch (another sentAt) gets the same id;
	// a different event gets another.
	req := mustParse(t, "batch", `{"sentAt":"2024-05-01T10:00:09Z","batch":[`+ev+`,`+strings.Replace(ev, `"X"`, `"Y"`, 1)+`,{"type":"track","userId":"u","event":"X","messageId":""}]}`)
	if got := req.Inbounds[0].MessageID; got != a {
		t.Fatalf("resent event id %q, want %q", got, a)
	}
	if got := req.Inbounds[1].MessageID; got == a || !strings.HasPrefix(got, "tb-") {
		t.Fatalf("other event id %q", got)
	}
	if got := req.Inbounds[2].MessageID; !strings.HasPrefix(got, "tb-") {
		t.Fatalf("empty messageId not replaced: %q", got)
	}
}

func TestWriteKey(t *testing.T) {
	if req := mustParse(t, "batch", `{"writeKey":"wk_1","batch":[{"type":"track","userId":"u","event":"X"}]}`); req.WriteKey != "wk_1" {
		t.Fatalf("batch writeKey %q", req.WriteKey)
	}
	if req := mustParse(t, "track", `{"writeKey":"wk_2","userId":"u","event":"X"}`); req.WriteKey != "wk_2" {
		t.Fatalf("single writeKey %q", req.WriteKey)
	}
	if req := mustParse(t, "track", `{"userId":"u","event":"X"}`); req.WriteKey != "" {
		t.Fatalf("absent writeKey %q", req.WriteKey)
	}
}

func TestTimestamps(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	// received is 2024-06-01T12:00:00Z.
	for _, tc := range []struct {
		name, body, want string
	}{
		{"nothing: receivedAt", `{"batch":[{"type":"track","userId":"u","event":"X"}]}`, "2024-06-01T12:00:00Z"},
		{"timestamp without sentAt: as sent", `{"batch":[{"type":"track","userId":"u","event":"X","timestamp":"2019-03-04T05:06:07.890+02:00"}]}`, "2019-03-04T03:06:07.89Z"},
		{"originalTimestamp without sentAt", `{"batch":[{"type":"track","userId":"u","event":"X","originalTimestamp":"2024-05-31T00:00:00Z"}]}`, "2024-05-31T00:00:00Z"},
		{"timestamp wins over originalTimestamp", `{"batch":[{"type":"track","userId":"u","event":"X","timestamp":"2024-05-30T00:00:00Z","originalTimestamp":"2024-05-31T00:00:00Z"}]}`, "2024-05-30T00:00:00Z"},
		{"batch sentAt corrects a slow client clock", `{"sentAt":"2024-06-01T11:00:00Z","batch":[{"type":"track","userId":"u","event":"X","timestamp":"2024-06-01T10:59:30Z"}]}`, "2024-06-01T11:59:30Z"},
		{"batch sentAt corrects a fast client clock", `{"sentAt":"2024-06-02T12:00:00.000+00:00","batch":[{"type":"track","userId":"u","event":"X","originalTimestamp":"2024-06-02T11:00:00Z"}]}`, "2024-06-01T11:00:00Z"},
		{"event sentAt wins over the batch's", `{"sentAt":"2024-06-01T11:00:00Z","batch":[{"type":"track","userId":"u","event":"X","timestamp":"2024-06-01T10:00:00Z","sentAt":"2024-06-01T10:00:10Z"}]}`, "2024-06-01T11:59:50Z"},
		{"sentAt without timestamp: receivedAt", `{"sentAt":"2024-06-01T11:00:00Z","batch":[{"type":"track","userId":"u","event":"X"}]}`, "2024-06-01T12:00:00Z"},
		{"event after its sentAt: clamped", `{"sentAt":"2024-06-01T11:00:00Z","batch":[{"type":"track","userId":"u","event":"X","timestamp":"2024-06-01T11:05:00Z"}]}`, "2024-06-01T12:00:00Z"},
		{"null sentAt is absent", `{"sentAt":null,"batch":[{"type":"track","userId":"u","event":"X","timestamp":"2024-01-01T00:00:00Z"}]}`, "2024-01-01T00:00:00Z"},
		{"zero time is absent (Go SDKs' unset time.Time)", `{"batch":[{"type":"track","userId":"u","event":"X","timestamp":"0001-01-01T00:00:00Z"}]}`, "2024-06-01T12:00:00Z"},
		{"single event with its own sentAt", `{"type":"track","userId":"u","event":"X","timestamp":"2030-01-01T00:00:00Z","sentAt":"2030-01-01T00:00:01Z"}`, "2024-06-01T11:59:59Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := "batch"
			if !strings.HasPrefix(tc.body, `{"batch"`) && !strings.Contains(tc.body, `"batch":[`) {
				endpoint = "track"
			}
			m := one(t, endpoint, tc.body)
			if !m.Timestamp.Equal(at(tc.want)) || m.Timestamp.Location() != time.UTC {
				t.Fatalf("timestamp %v, want %s", m.Timestamp, tc.want)
			}
			if !m.ReceivedAt.Equal(received) {
				t.Fatalf("receivedAt %v", m.ReceivedAt)
			}
		})
	}
	// receivedAt in another zone comes out in UTC.
	req, err := inbound.Parse("track", []byte(`{"userId":"u","event":"X"}`), received.In(time.FixedZone("X", 3600)))
	if err != nil || req.Inbounds[0].ReceivedAt.Location() != time.UTC || req.Inbounds[0].Timestamp.Location() != time.UTC {
		t.Fatalf("Parse: %v, %+v", err, req)
	}
}

func TestProperties(t *testing.T) {
	props := `{ "plan" : "gold", "nested": {"a": [1, 2.50, "x"]}, "unicode": "\u00e9t\u00e9" }`
	m := one(t, "track", `{"userId":"u","event":"X","properties":`+props+`}`)
	if string(m.Properties) != props {
		t.Fatalf("properties %s, want them as sent", m.Properties)
	}
	if m := one(t, "track", `{"userId":"u","event":"X","properties":null}`); m.Properties != nil {
		t.Fatalf("null properties = %s", m.Properties)
	}
	if m := one(t, "track", `{"userId":"u","event":"X"}`); m.Properties != nil || m.Context != nil || m.Traits != nil {
		t.Fatalf("absent properties %s, context %s, traits %v", m.Properties, m.Context, m.Traits)
	}
	// identify and group keep their traits as the raw properties.
	traits := `{"email":" Ann@Example.com ","plan":"gold"}`
	if m := one(t, "identify", `{"userId":"u","traits":`+traits+`}`); string(m.Properties) != traits {
		t.Fatalf("identify properties %s", m.Properties)
	}
	g := one(t, "group", `{"userId":"u","groupId":"acme","traits":{"name":"Acme","email":"billing@acme.test"}}`)
	if string(g.Properties) != `{"name":"Acme","email":"billing@acme.test"}` || g.Email != "" || g.Traits != nil {
		t.Fatalf("group: properties %s, email %q (a group's email is not the user's), traits %v", g.Properties, g.Email, g.Traits)
	}
	// integrations and unknown fields are accepted and ignored.
	one(t, "track", `{"userId":"u","event":"X","integrations":{"All":false,"Mixpanel":true},"channel":"server","version":2}`)
}

func TestPageAndScreenNames(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, event, wantEvent, wantProps string
	}{
		{"page name and category join properties", "page", `{"userId":"u","name":"Shoes","category":"Catalog","properties":{"url":"https://x.test/shoes"}}`, "Shoes", `{"url":"https://x.test/shoes","name":"Shoes","category":"Catalog"}`},
		{"page without properties", "page", `{"userId":"u","name":"Home"}`, "Home", `{"name":"Home"}`},
		{"page with empty properties", "page", `{"userId":"u","category":"Docs","properties":{ }}`, "", `{"category":"Docs"}`},
		{"page properties' own name wins", "page", `{"userId":"u","name":"Top","properties":{"name":"Inner","path":"/"}}`, "Top", `{"name":"Inner","path":"/"}`},
		{"page name from properties", "page", `{"userId":"u","properties":{"name":"Pricing"}}`, "Pricing", `{"name":"Pricing"}`},
		{"page without any name", "page", `{"userId":"u","properties":{"path":"/"}}`, "", `{"path":"/"}`},
		{"screen name", "screen", `{"userId":"u","name":"Cart","properties":{"items":2}}`, "Cart", `{"items":2}`},
		{"screen name from properties", "screen", `{"userId":"u","properties":{"name":"Cart"}}`, "Cart", `{"name":"Cart"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := one(t, tc.endpoint, tc.event)
			if m.Event != tc.wantEvent {
				t.Errorf("event %q, want %q", m.Event, tc.wantEvent)
			}
			if string(m.Properties) != tc.wantProps {
				t.Errorf("properties %s, want %s", m.Properties, tc.wantProps)
			}
			if !json.Valid(m.Properties) {
				t.Errorf("properties %s are not JSON", m.Properties)
			}
		})
	}
}

func TestBatchContext(t *testing.T) {
	body := `{"context":{"library":{"name":"analytics-go","version":"3.3.0"},"ip":"10.0.0.1","locale":"en-US"},"batch":[
		{"type":"track","userId":"u","event":"A"},
		{"type":"track","userId":"u","event":"B","context":{"ip":"192.0.2.7","page":{"path":"/x"}}},
		{"type":"track","userId":"u","event":"C","context":{}},
		{"type":"track","userId":"u","event":"D","context":null},
		{"type":"track","userId":"u","event":"E","context":{"library":{"name":"mine"}, "ip":"192.0.2.8","locale":"de-DE"}}
	]}`
	req := mustParse(t, "batch", body)
	want := []map[string]any{
		{"library": map[string]any{"name": "analytics-go", "version": "3.3.0"}, "ip": "10.0.0.1", "locale": "en-US"},
		{"library": map[string]any{"name": "analytics-go", "version": "3.3.0"}, "ip": "192.0.2.7", "locale": "en-US", "page": map[string]any{"path": "/x"}},
		{"library": map[string]any{"name": "analytics-go", "version": "3.3.0"}, "ip": "10.0.0.1", "locale": "en-US"},
		{"library": map[string]any{"name": "analytics-go", "version": "3.3.0"}, "ip": "10.0.0.1", "locale": "en-US"},
		{"library": map[string]any{"name": "mine"}, "ip": "192.0.2.8", "locale": "de-DE"},
	}
	if len(req.Inbounds) != len(want) {
		t.Fatalf("%d inbounds, rejected %v", len(req.Inbounds), req.Rejected)
	}
	for i, m := range req.Inbounds {
		var got map[string]any
		if err := json.Unmarshal(m.Context, &got); err != nil {
			t.Fatalf("event %s: context %s: %v", m.Event, m.Context, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("event %s: context %v, want %v", m.Event, got, want[i])
		}
	}
	// A null or empty batch context changes nothing.
	for _, ctx := range []string{`null`, `{}`} {
		req := mustParse(t, "batch", `{"context":`+ctx+`,"batch":[{"type":"track","userId":"u","event":"A","context":{"ip":"1.2.3.4"}},{"type":"track","userId":"u","event":"B"}]}`)
		if string(req.Inbounds[0].Context) != `{"ip":"1.2.3.4"}` || req.Inbounds[1].Context != nil {
			t.Errorf("batch context %s: contexts %s and %s", ctx, req.Inbounds[0].Context, req.Inbounds[1].Context)
		}
	}
	// Identifiers in the batch's context.traits reach every event.
	req = mustParse(t, "batch", `{"context":{"traits":{"email":"Batch@Example.com"}},"batch":[{"type":"track","userId":"u","event":"A"},{"type":"track","userId":"u","event":"B","context":{"traits":{"email":"own@example.com"}}}]}`)
	if req.Inbounds[0].Email != "batch@example.com" || req.Inbounds[1].Email != "own@example.com" {
		t.Errorf("emails %q, %q", req.Inbounds[0].Email, req.Inbounds[1].Email)
	}
}

func TestParseDoesNotKeepBody(t *testing.T) {
	body := []byte(`{"batch":[{"type":"track","userId":"u","event":"X","properties":{"a":1},"context":{"ip":"1.1.1.1"}}]}`)
	req, err := inbound.Parse("batch", body, received)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'z'
	}
	m := req.Inbounds[0]
	if string(m.Properties) != `{"a":1}` || string(m.Context) != `{"ip":"1.1.1.1"}` {
		t.Fatalf("inbounds changed with the caller's buffer: %s %s", m.Properties, m.Context)
	}
}

// TestNULIsReplaced sends U+0000 in every kind of string: each becomes
// U+FFFD and the events are kept, raw JSON and decoded values alike.
func TestNULIsReplaced(t *testing.T) {
	body := `{"batch":[
		{"type":"track","userId":"u\u0000","event":"Vi\u0000ewed","messageId":"m\u0000","properties":{"v":"a\u0000b","k\u0000":1,"deep":[{"x":"\u0000"}]},"context":{"c":"\u0000"}},
		{"type":"identify","userId":"u2","traits":{"name":"A\u0000da","email":"ada\u0000@example.com"}},
		{"type":"track","userId":"u3","event":"Fine","properties":{"escaped":"\\u0000 stays text","pair":"\ud83d\ude00","lone":"\ud83d!"}}
	],"context":{"batch":"\u0000"}}`
	sent := []byte(body)
	req, err := inbound.Parse("batch", sent, received)
	if err != nil || len(req.Inbounds) != 3 || len(req.Rejected) != 0 {
		t.Fatalf("Parse: %v; rejected %v", err, req.Rejected)
	}
	tr, id, fine := req.Inbounds[0], req.Inbounds[1], req.Inbounds[2]
	if tr.UserID != "u\uFFFD" || tr.Event != "Vi\uFFFDewed" || tr.MessageID != "m\uFFFD" {
		t.Errorf("user %q, event %q, messageId %q", tr.UserID, tr.Event, tr.MessageID)
	}
	for _, raw := range [][]byte{tr.Properties, tr.Context, id.Properties} {
		if strings.Contains(string(raw), `\u0000`) || !json.Valid(raw) {
			t.Errorf("raw JSON %s holds \\u0000", raw)
		}
	}
	var props map[string]any
	if err := json.Unmarshal(tr.Properties, &props); err != nil || props["v"] != "a\uFFFDb" || props["k\uFFFD"] != 1.0 {
		t.Errorf("properties %s decode to %v (%v)", tr.Properties, props, err)
	}
	if !strings.Contains(string(tr.Context), `"batch":"\ufffd"`) {
		t.Errorf("context %s: the batch's context is not mended", tr.Context)
	}
	if id.Traits["name"] != "A\uFFFDda" || id.Email != "ada\uFFFD@example.com" {
		t.Errorf("traits %v, email %q", id.Traits, id.Email)
	}
	if want := `{"escaped":"\\u0000 stays text","pair":"\ud83d\ude00","lone":"\ufffd!"}`; string(fine.Properties) != want {
		t.Errorf("properties %s, want %s", fine.Properties, want)
	}
	// The body sent is not changed: the server logs it as received.
	if string(sent) != body {
		t.Error("Parse changed the caller's body")
	}
}

// TestNumbersAtTheBound keeps the numbers within ±touchbase.MaxNumber, of
// every spelling, and numeric identifiers of any length.
func TestNumbersAtTheBound(t *testing.T) {
	m := one(t, "track", `{"userId":123456789012345678901234,"event":"Order Completed","properties":{"order_id":"o1","revenue":9007199254740991,
		"small":-9007199254740991,"frac":1.5e-7,"exp":9.007199254740991E15,"zeros":0.000000000000000001,"long":1234567890.12345678901234,
		"products":[{"price":"9007199254740991"},{"price":-9007199254740991}]}}`)
	if m.UserID != "123456789012345678901234" || m.Order == nil || m.Order.Order.Revenue != touchbase.MaxNumber {
		t.Fatalf("user %q, order %+v", m.UserID, m.Order)
	}
}

// TestTimestampBounds: event times, after the clock-skew correction, are
// from the Unix epoch to a day after arrival (received is
// 2024-06-01T12:00:00Z); the error names the field, the range and what was
// given. Date traits are not event times.
func TestTimestampBounds(t *testing.T) {
	const rangeText = "event times must be from 1970-01-01T00:00:00Z to a day after the event arrives (here up to 2024-06-02T12:00:00Z)"
	for _, tc := range []struct {
		name, body, field, message string
	}{
		{"before the epoch", `{"userId":"u","event":"X","timestamp":"1969-12-31T23:59:59.999Z"}`, "timestamp",
			`timestamp "1969-12-31T23:59:59.999Z" is out of range: ` + rangeText},
		{"1950", `{"userId":"u","event":"X","originalTimestamp":"1950-06-01"}`, "originalTimestamp", `originalTimestamp "1950-06-01" is out of range`},
		{"year 1, not Go's zero time", `{"userId":"u","event":"X","timestamp":"0001-01-01T00:00:01Z"}`, "timestamp", `timestamp "0001-01-01T00:00:01Z" is out of range`},
		{"year 9999", `{"userId":"u","event":"X","timestamp":"9999-12-31T23:59:59Z"}`, "timestamp", `timestamp "9999-12-31T23:59:59Z" is out of range: ` + rangeText},
		{"two days ahead", `{"userId":"u","event":"X","timestamp":"2024-06-03T12:00:00Z"}`, "timestamp", "is out of range"},
		{"corrected to before the epoch", `{"userId":"u","event":"X","timestamp":"1990-01-01T00:00:00Z","sentAt":"2070-01-01T00:00:00Z"}`, "timestamp",
			`timestamp "1990-01-01T00:00:00Z" with sentAt 2070-01-01T00:00:00Z puts the event at 1944-06-01T12:00:00Z: ` + rangeText},
		{"sentAt of year 9999", `{"userId":"u","event":"X","timestamp":"2024-06-01T11:00:00Z","sentAt":"9999-01-01T00:00:00Z"}`, "timestamp", "with sentAt 9999-01-01T00:00:00Z puts the event at 1732-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inbound.Parse("track", []byte(tc.body), received)
			fs := fields(err)
			if len(fs) != 1 || fs[0].Field != tc.field || !strings.Contains(fs[0].Message, tc.message) {
				t.Fatalf("Parse = %v (%+v), want %s: %s", err, fs, tc.field, tc.message)
			}
		})
	}
	for _, tc := range []struct{ name, body, want string }{
		{"the epoch itself", `{"userId":"u","event":"X","timestamp":"1970-01-01T00:00:00Z"}`, "1970-01-01T00:00:00Z"},
		{"CDNOW's 1997", `{"userId":"u","event":"X","timestamp":"1997-01-01"}`, "1997-01-01T00:00:00Z"},
		{"a day ahead", `{"userId":"u","event":"X","timestamp":"2024-06-02T12:00:00Z"}`, "2024-06-02T12:00:00Z"},
		{"a fast clock corrected", `{"userId":"u","event":"X","timestamp":"2099-01-01T00:00:00Z","sentAt":"2099-01-01T00:00:10Z"}`, "2024-06-01T11:59:50Z"},
		{"Go's zero time is not set", `{"userId":"u","event":"X","timestamp":"0001-01-01T00:00:00Z"}`, "2024-06-01T12:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m := one(t, "track", tc.body); m.Timestamp.Format(time.RFC3339Nano) != tc.want {
				t.Fatalf("timestamp %v, want %s", m.Timestamp, tc.want)
			}
		})
	}
	m := one(t, "identify", `{"userId":"u","traits":{"birthday":"1950-03-04","created_at":"1960-01-01T00:00:00Z"}}`)
	if m.Traits["birthday"] != "1950-03-04" || m.Traits["created_at"] != "1960-01-01T00:00:00Z" {
		t.Fatalf("date traits %v", m.Traits)
	}
	// In a file, Go's zero time is what the file says: out of range.
	_, err := inbound.ParseRecord([]byte(`{"type":"track","userId":"u","event":"X","timestamp":"0001-01-01T00:00:00Z"}`), received)
	if fs := fields(err); len(fs) != 1 || fs[0].Field != "timestamp" || !strings.Contains(fs[0].Message, "out of range") {
		t.Fatalf("ParseRecord of year 1 = %v", err)
	}
}
