// Package ingest turns Segment HTTP Tracking API requests into validated
// touchbase.Messages (Parse) and writes them durably with group commit
// (Writer).
package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
)

// Limits, as Segment's HTTP Tracking API sets them.
const (
	MaxEventBytes     = 32 << 10  // one event, and the body of a single-event endpoint
	MaxBatchBytes     = 500 << 10 // one batch body (after gzip decoding)
	MaxBatchEvents    = 2500      // events in one batch; later ones are rejected
	MaxMessageIDBytes = 200       // a messageId
)

// Request is one decoded body.
type Request struct {
	// WriteKey is "writeKey" from the body, if any (the server prefers the
	// Basic-auth user name).
	WriteKey string
	// Messages are the valid events, in order, with WorkspaceID 0 (the
	// server sets it).
	Messages []touchbase.Message
	// Rejected has one entry per invalid batch member: Index is its
	// position in the batch, Field the JSON path of the offending field
	// ("" for the whole event) and Message what is wrong.
	Rejected []touchbase.FieldError
}

// Parse decodes a body sent to /v1/<endpoint>. "batch" and "import" take
// {"batch": [...], "context": {...}, "sentAt": ..., "writeKey": ...};
// "identify", "track", "page", "screen", "group" and "alias" take one
// message whose type is the endpoint. receivedAt is the server's clock at
// arrival.
//
// Problems with the whole body are a *touchbase.Error: ETOOLARGE for a body
// over MaxBatchBytes (MaxEventBytes for a single event), EINVALID for
// anything else (not JSON, no batch array, an empty batch, an unknown
// endpoint); their Fields, when a field is to blame, have Index -1. An
// invalid event sent to a single-event endpoint is an EINVALID error with
// one FieldError (Index 0) naming the field; an invalid batch member goes
// to Request.Rejected and the others are kept.
//
// Parse does not keep body: the messages' raw Properties and Context point
// into one copy of it.
func Parse(endpoint string, body []byte, receivedAt time.Time) (*Request, error) {
	p := parser{receivedAt: receivedAt.UTC()}
	switch endpoint {
	case "batch", "import":
		if len(body) > MaxBatchBytes {
			return nil, touchbase.Errorf(touchbase.ETOOLARGE, "body is %d bytes; the limit for a batch is %d", len(body), MaxBatchBytes)
		}
		return p.batch(body)
	}
	typ, ok := eventType([]byte(endpoint))
	if !ok {
		return nil, touchbase.Errorf(touchbase.EINVALID, "unknown endpoint %q: use batch, import, identify, track, page, screen, group or alias", endpoint)
	}
	if len(body) > MaxEventBytes {
		return nil, touchbase.Errorf(touchbase.ETOOLARGE, "body is %d bytes; the limit for one event is %d", len(body), MaxEventBytes)
	}
	p.endpoint = typ
	return p.single(body)
}

// parser holds what the events of one body share.
type parser struct {
	body       []byte              // Parse's copy of the body
	endpoint   touchbase.EventType // the single-event endpoint; "" for batches
	receivedAt time.Time
	sentAt     time.Time // the batch's sentAt, zero when absent
	context    []byte    // the batch's context object, nil when absent
	ctxMembers []member  // context's members
	ctxTraits  []byte    // context.traits, nil when absent
}

// rawEvent locates the fields of one event that Parse reads, as spans of
// the body (compact, since a batch holds up to 2,500 of them).
type rawEvent struct {
	raw       span
	notObject bool
	bigNumber bool // it may hold a number beyond float64's range

	typ, messageID, userID, anonymousID, previousID, groupID span
	event, name, category                                    span
	timestamp, originalTimestamp, sentAt                     span
	properties, traits, context                              span
	writeKey                                                 span
}

// span is data[start:end] of the body; the zero span is an absent field
// (no JSON value is empty).
type span struct{ start, end uint32 }

func spanOf(start, end int) span { return span{uint32(start), uint32(end)} }

func (s span) of(body []byte) []byte {
	if s.end == 0 {
		return nil
	}
	return body[s.start:s.end]
}

func (ev *rawEvent) set(key string, v span) {
	switch key {
	case "type":
		ev.typ = v
	case "messageId":
		ev.messageID = v
	case "userId":
		ev.userID = v
	case "anonymousId":
		ev.anonymousID = v
	case "previousId":
		ev.previousID = v
	case "groupId":
		ev.groupID = v
	case "event":
		ev.event = v
	case "name":
		ev.name = v
	case "category":
		ev.category = v
	case "timestamp":
		ev.timestamp = v
	case "originalTimestamp":
		ev.originalTimestamp = v
	case "sentAt":
		ev.sentAt = v
	case "properties":
		ev.properties = v
	case "traits":
		ev.traits = v
	case "context":
		ev.context = v
	case "writeKey":
		ev.writeKey = v
	}
}

// eventFields are an event's raw field values; nil when absent.
type eventFields struct {
	raw                                                      []byte
	typ, messageID, userID, anonymousID, previousID, groupID []byte
	event, name, category                                    []byte
	timestamp, originalTimestamp, sentAt                     []byte
	properties, traits, context                              []byte
}

func (ev *rawEvent) fields(body []byte) eventFields {
	return eventFields{
		raw: ev.raw.of(body),
		typ: ev.typ.of(body), messageID: ev.messageID.of(body), userID: ev.userID.of(body),
		anonymousID: ev.anonymousID.of(body), previousID: ev.previousID.of(body), groupID: ev.groupID.of(body),
		event: ev.event.of(body), name: ev.name.of(body), category: ev.category.of(body),
		timestamp: ev.timestamp.of(body), originalTimestamp: ev.originalTimestamp.of(body), sentAt: ev.sentAt.of(body),
		properties: ev.properties.of(body), traits: ev.traits.of(body), context: ev.context.of(body),
	}
}

// readEvent reads the object at s.pos (which is '{'), at nesting depth
// depth, into ev.
func readEvent(s *scanner, ev *rawEvent, depth int) error {
	if depth > maxDepth {
		return &syntaxError{msg: "exceeded max depth", off: s.pos}
	}
	start := s.pos
	s.big = false
	defer func() { ev.bigNumber = s.big }()
	s.pos++
	s.ws()
	if s.peek() == '}' {
		s.pos++
		ev.raw = spanOf(start, s.pos)
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.errorf("looking for beginning of object key string")
		}
		ks := s.pos
		esc, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[ks+1 : s.pos-1]
		s.ws()
		if s.peek() != ':' {
			return s.errorf("after object key")
		}
		s.pos++
		s.ws()
		vs := s.pos
		if err := s.skip(depth); err != nil {
			return err
		}
		if esc {
			ev.set(unescape(key), spanOf(vs, s.pos))
		} else {
			ev.set(string(key), spanOf(vs, s.pos))
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
			s.ws()
		case '}':
			s.pos++
			ev.raw = spanOf(start, s.pos)
			return nil
		default:
			return s.errorf("after object key:value pair")
		}
	}
}

// bodyError turns a syntax error into the error Parse returns.
func bodyError(err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return touchbase.Errorf(touchbase.EINVALID, "body is not valid JSON: %s", se.Error())
	}
	return err
}

// notObject returns the error for a body that is not a JSON object, or its
// syntax error when it is not JSON at all.
func notObject(s *scanner) error {
	if len(s.data) == 0 || s.pos >= len(s.data) {
		return touchbase.Errorf(touchbase.EINVALID, "body is empty")
	}
	start := s.pos
	if err := s.skip(0); err != nil {
		return bodyError(err)
	}
	if err := s.end(); err != nil {
		return bodyError(err)
	}
	return touchbase.Errorf(touchbase.EINVALID, "body must be a JSON object, not %s", jsonKind(s.data[start:s.pos]))
}

func (p *parser) single(body []byte) (*Request, error) {
	body = append([]byte(nil), body...)
	p.body = body
	s := scanner{data: body}
	s.ws()
	if s.peek() != '{' {
		return nil, notObject(&s)
	}
	var ev rawEvent
	if err := readEvent(&s, &ev, 1); err != nil {
		return nil, bodyError(err)
	}
	if err := s.end(); err != nil {
		return nil, bodyError(err)
	}
	req := &Request{Messages: make([]touchbase.Message, 1)}
	if fe := p.event(&ev, &req.Messages[0]); fe != nil {
		fe.Index = 0
		return nil, &touchbase.Error{
			Code:    touchbase.EINVALID,
			Message: fmt.Sprintf("invalid %s event: %s", p.endpoint, fe.Message),
			Fields:  []touchbase.FieldError{*fe},
		}
	}
	if wk := ev.writeKey.of(body); wk != nil {
		wk, err := envelopeString(wk, "writeKey")
		if err != nil {
			return nil, err
		}
		req.WriteKey = wk
	}
	return req, nil
}

func (p *parser) batch(body []byte) (*Request, error) {
	body = append([]byte(nil), body...)
	p.body = body
	s := scanner{data: body}
	s.ws()
	if s.peek() != '{' {
		return nil, notObject(&s)
	}
	var (
		events                    []rawEvent
		haveBatch                 bool
		writeKey, sentAt, context []byte
		err                       error
	)
	// Size the events for the batch at once: each member has a "type",
	// and counting them is far cheaper than growing the slice.
	events = make([]rawEvent, 0, min(bytes.Count(body, []byte(`"type"`)), MaxBatchEvents)+1)
	s.pos++
	s.ws()
	for first := true; ; first = false {
		if s.peek() == '}' && first {
			s.pos++
			break
		}
		if s.peek() != '"' {
			return nil, bodyError(s.errorf("looking for beginning of object key string"))
		}
		ks := s.pos
		esc, err := s.str()
		if err != nil {
			return nil, bodyError(err)
		}
		key := string(body[ks+1 : s.pos-1])
		if esc {
			key = unescape(body[ks+1 : s.pos-1])
		}
		s.ws()
		if s.peek() != ':' {
			return nil, bodyError(s.errorf("after object key"))
		}
		s.pos++
		s.ws()
		if key == "batch" {
			if s.peek() != '[' {
				v, err := s.value()
				if err != nil {
					return nil, bodyError(err)
				}
				return nil, envelopeError("batch", "batch must be an array, not %s", jsonKind(v))
			}
			haveBatch = true
			if events, err = readBatch(&s, events[:0]); err != nil {
				return nil, bodyError(err)
			}
		} else {
			v, err := s.value()
			if err != nil {
				return nil, bodyError(err)
			}
			switch key {
			case "writeKey":
				writeKey = v
			case "sentAt":
				sentAt = v
			case "context":
				context = v
			}
		}
		s.ws()
		if c := s.peek(); c == ',' {
			s.pos++
			s.ws()
			continue
		} else if c == '}' {
			s.pos++
			break
		}
		return nil, bodyError(s.errorf("after object key:value pair"))
	}
	if err := s.end(); err != nil {
		return nil, bodyError(err)
	}

	req := &Request{}
	if writeKey != nil {
		if req.WriteKey, err = envelopeString(writeKey, "writeKey"); err != nil {
			return nil, err
		}
	}
	if sentAt != nil && !isNull(sentAt) {
		str, err := envelopeString(sentAt, "sentAt")
		if err != nil {
			return nil, err
		}
		t, _, perr := parseTime([]byte(str))
		if perr != nil {
			return nil, envelopeError("sentAt", "sentAt %s is not an ISO-8601 date-time", clip(sentAt))
		}
		p.sentAt = t
	}
	if context != nil && !isNull(context) {
		if context[0] != '{' {
			return nil, envelopeError("context", "context must be an object, not %s", jsonKind(context))
		}
		if !utf8.Valid(context) {
			return nil, envelopeError("context", "context contains invalid UTF-8")
		}
		if outOfRange(context) != nil {
			f, n := numberPath(context, "context", 0)
			f = shortPath(f)
			return nil, envelopeError(f, "%s is %s, beyond the range of a 64-bit float", f, clip(n))
		}
		if !emptyObject(context) {
			p.context = context
			it := newObjectIter(context)
			var m member
			for it.next(&m) {
				p.ctxMembers = append(p.ctxMembers, m)
				if m.is("traits") {
					p.ctxTraits = m.value
				}
			}
		}
	}
	if !haveBatch {
		return nil, envelopeError("batch", "batch is missing: the body must hold a \"batch\" array of events")
	}
	if len(events) == 0 {
		return nil, envelopeError("batch", "batch is empty")
	}

	req.Messages = make([]touchbase.Message, 0, len(events))
	for i := range events {
		if i >= MaxBatchEvents {
			req.Rejected = append(req.Rejected, touchbase.FieldError{Index: i, Field: "",
				Message: fmt.Sprintf("batch has %d events; the limit is %d", len(events), MaxBatchEvents)})
			continue
		}
		req.Messages = append(req.Messages, touchbase.Message{})
		msg := &req.Messages[len(req.Messages)-1]
		if fe := p.event(&events[i], msg); fe != nil {
			req.Messages = req.Messages[:len(req.Messages)-1]
			fe.Index = i
			req.Rejected = append(req.Rejected, *fe)
		}
	}
	return req, nil
}

// readBatch reads the array at s.pos into events.
func readBatch(s *scanner, events []rawEvent) ([]rawEvent, error) {
	s.pos++ // [
	s.ws()
	if s.peek() == ']' {
		s.pos++
		return events, nil
	}
	for {
		events = append(events, rawEvent{})
		ev := &events[len(events)-1]
		if s.peek() == '{' {
			if err := readEvent(s, ev, 3); err != nil {
				return nil, err
			}
		} else {
			start := s.pos
			if err := s.skip(2); err != nil {
				return nil, err
			}
			ev.raw, ev.notObject = spanOf(start, s.pos), true
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
			s.ws()
		case ']':
			s.pos++
			return events, nil
		default:
			return nil, s.errorf("after array element")
		}
	}
}

func envelopeError(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &touchbase.Error{Code: touchbase.EINVALID, Message: msg,
		Fields: []touchbase.FieldError{{Index: -1, Field: field, Message: msg}}}
}

func envelopeString(raw []byte, field string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", envelopeError(field, "%s must be a string, not %s", field, jsonKind(raw))
	}
	if !utf8.Valid(raw) {
		return "", envelopeError(field, "%s contains invalid UTF-8", field)
	}
	return unquote(raw), nil
}

// event validates one event and fills msg, or says what is wrong with it.
func (p *parser) event(ev *rawEvent, msg *touchbase.Message) *touchbase.FieldError {
	e := ev.fields(p.body)
	if n := len(e.raw); n > MaxEventBytes {
		return fieldError("", "event is %d bytes; the limit is %d", n, MaxEventBytes)
	}
	if ev.notObject {
		return fieldError("", "event must be a JSON object, not %s", jsonKind(e.raw))
	}
	if !utf8.Valid(e.raw) {
		if f := shortPath(badUTF8Field(e.raw)); f != "" {
			return fieldError(f, "%s contains invalid UTF-8", f)
		}
		return fieldError("", "event contains invalid UTF-8")
	}
	if ev.bigNumber {
		// Stored JSON must stay decodable by everyone who reads it later.
		it := newObjectIter(e.raw)
		var m member
		for it.next(&m) {
			if f, n := numberPath(m.value, m.name(), 0); n != nil {
				f = shortPath(f)
				return fieldError(f, "%s is %s, beyond the range of a 64-bit float", f, clip(n))
			}
		}
	}

	// Type.
	typ := p.endpoint
	if present(e.typ) {
		if e.typ[0] != '"' {
			return fieldError("type", "type must be a string, not %s", jsonKind(e.typ))
		}
		t, ok := eventType(e.typ[1 : len(e.typ)-1])
		switch {
		case p.endpoint != "" && t != p.endpoint:
			return fieldError("type", "type %s does not match the endpoint /v1/%s", clip(e.typ), p.endpoint)
		case !ok:
			return fieldError("type", "type %s is not one of identify, track, page, screen, group, alias", clip(e.typ))
		}
		typ = t
	} else if typ == "" {
		return fieldError("type", "type is required: one of identify, track, page, screen, group, alias")
	}
	msg.Type = typ
	msg.ReceivedAt = p.receivedAt

	// Identifiers.
	var fe *touchbase.FieldError
	if msg.UserID, fe = idField(e.userID, "userId"); fe != nil {
		return fe
	}
	if msg.AnonymousID, fe = idField(e.anonymousID, "anonymousId"); fe != nil {
		return fe
	}
	if msg.UserID == "" && msg.AnonymousID == "" {
		return fieldError("userId", "userId or anonymousId is required")
	}
	if present(e.messageID) {
		id, ok := idValue(e.messageID)
		if !ok {
			return fieldError("messageId", "messageId must be a string, not %s", jsonKind(e.messageID))
		}
		if len(id) > MaxMessageIDBytes {
			return fieldError("messageId", "messageId is %d bytes; the limit is %d", len(id), MaxMessageIDBytes)
		}
		msg.MessageID = id
	}
	if msg.MessageID == "" {
		msg.MessageID = derivedMessageID(e.raw)
	}

	// What each type requires.
	switch typ {
	case touchbase.EventTrack:
		if !present(e.event) {
			return fieldError("event", "event is required for track: the name of what the user did")
		}
		if e.event[0] != '"' {
			return fieldError("event", "event must be a string, not %s", jsonKind(e.event))
		}
		msg.Event = unquote(e.event)
		if strings.TrimSpace(msg.Event) == "" {
			return fieldError("event", "event must not be empty")
		}
	case touchbase.EventPage, touchbase.EventScreen:
		if msg.Event, fe = stringField(e.name, "name"); fe != nil {
			return fe
		}
		if typ == touchbase.EventPage {
			if _, fe = stringField(e.category, "category"); fe != nil {
				return fe
			}
		}
	case touchbase.EventGroup:
		if msg.GroupID, fe = idField(e.groupID, "groupId"); fe != nil {
			return fe
		}
		if msg.GroupID == "" {
			return fieldError("groupId", "groupId is required for group")
		}
	case touchbase.EventAlias:
		if msg.PreviousID, fe = idField(e.previousID, "previousId"); fe != nil {
			return fe
		}
		if msg.PreviousID == "" {
			return fieldError("previousId", "previousId is required for alias")
		}
		if msg.UserID == "" {
			return fieldError("userId", "userId is required for alias")
		}
	}

	// Time.
	ts, fe := timeField(e.timestamp, "timestamp")
	if fe != nil {
		return fe
	}
	orig, fe := timeField(e.originalTimestamp, "originalTimestamp")
	if fe != nil {
		return fe
	}
	sentAt, fe := timeField(e.sentAt, "sentAt")
	if fe != nil {
		return fe
	}
	if ts.IsZero() {
		ts = orig
	}
	if sentAt.IsZero() {
		sentAt = p.sentAt
	}
	msg.Timestamp = eventTime(ts, sentAt, p.receivedAt)

	// Properties (or traits) and context.
	propsName, propsRaw := "properties", e.properties
	if typ == touchbase.EventIdentify || typ == touchbase.EventGroup {
		propsName, propsRaw = "traits", e.traits
	}
	var props, ctx, ctxTraits []byte
	if typ != touchbase.EventAlias {
		if props, fe = objectField(propsRaw, propsName); fe != nil {
			return fe
		}
	}
	if ctx, fe = objectField(e.context, "context"); fe != nil {
		return fe
	}
	if typ == touchbase.EventPage || typ == touchbase.EventScreen {
		if msg.Event == "" && props != nil {
			msg.Event = propertyString(props, "name")
		}
		if typ == touchbase.EventPage {
			props = mergePageProperties(props, e.name, e.category)
		}
	}
	msg.Properties = props
	msg.Context, ctxTraits = p.mergeContext(ctx)

	// Traits and the identifiers in them.
	if ctxTraits, fe = objectField(ctxTraits, "context.traits"); fe != nil {
		return fe
	}
	if typ == touchbase.EventIdentify && props != nil {
		t, fe := decodeTraits(props, "traits")
		if fe != nil {
			return fe
		}
		msg.Traits = t
		identifiers(msg, t)
		if (msg.Email == "" || msg.Phone == "") && ctxTraits != nil {
			ct, fe := decodeTraits(ctxTraits, "context.traits")
			if fe != nil {
				return fe
			}
			identifiers(msg, ct)
		}
	} else if ctxTraits != nil {
		t, fe := decodeTraits(ctxTraits, "context.traits")
		if fe != nil {
			return fe
		}
		msg.Traits = t
		identifiers(msg, t)
	}

	if typ == touchbase.EventTrack {
		if fe := ecommerce(msg, props); fe != nil {
			return fe
		}
	}
	return nil
}

// eventType returns the type named by b (without quotes).
func eventType(b []byte) (touchbase.EventType, bool) {
	switch string(b) {
	case "identify":
		return touchbase.EventIdentify, true
	case "track":
		return touchbase.EventTrack, true
	case "page":
		return touchbase.EventPage, true
	case "screen":
		return touchbase.EventScreen, true
	case "group":
		return touchbase.EventGroup, true
	case "alias":
		return touchbase.EventAlias, true
	}
	return touchbase.EventType(b), false
}

// derivedMessageID identifies an event sent without a messageId by its
// bytes, so that an SDK resending the same event is deduplicated.
func derivedMessageID(raw []byte) string {
	sum := sha256.Sum256(raw)
	var b [3 + 32]byte
	copy(b[:], "tb-")
	hex.Encode(b[3:], sum[:16])
	return string(b[:])
}

// present reports whether a field was sent with a value other than null.
func present(raw []byte) bool { return raw != nil && !isNull(raw) }

func isNull(raw []byte) bool { return len(raw) == 4 && raw[0] == 'n' }

func emptyObject(raw []byte) bool {
	it := newObjectIter(raw)
	var m member
	return !it.next(&m)
}

// idValue reads an identifier: a string, or a number as its decimal form
// (some SDKs send numeric user ids); null is "".
func idValue(raw []byte) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		return unquote(raw), true
	case c == 'n':
		return "", true
	case c == '-' || (c >= '0' && c <= '9'):
		integer := true
		for i, d := range raw {
			if !(d >= '0' && d <= '9') && !(i == 0 && d == '-') {
				integer = false
				break
			}
		}
		if integer {
			return string(raw), true
		}
		// 1e3 or 12.0: the decimal form of the value.
		f, err := strconv.ParseFloat(string(raw), 64)
		if err == nil && math.Abs(f) < 1e21 {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return string(raw), true
	}
	return "", false
}

func idField(raw []byte, name string) (string, *touchbase.FieldError) {
	if raw == nil {
		return "", nil
	}
	id, ok := idValue(raw)
	if !ok {
		return "", fieldError(name, "%s must be a string or a number, not %s", name, jsonKind(raw))
	}
	if len(id) > maxIDBytes {
		return "", fieldError(name, "%s is %d bytes; the limit is %d", name, len(id), maxIDBytes)
	}
	return id, nil
}

func stringField(raw []byte, name string) (string, *touchbase.FieldError) {
	if !present(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", fieldError(name, "%s must be a string, not %s", name, jsonKind(raw))
	}
	return unquote(raw), nil
}

func timeField(raw []byte, name string) (time.Time, *touchbase.FieldError) {
	if !present(raw) {
		return time.Time{}, nil
	}
	if raw[0] != '"' {
		return time.Time{}, fieldError(name, "%s must be an ISO-8601 date-time string such as \"2024-03-01T12:34:56.789Z\", not %s", name, jsonKind(raw))
	}
	t, _, err := parseTime(raw[1 : len(raw)-1])
	if err != nil {
		return time.Time{}, fieldError(name, "%s %s is not an ISO-8601 date-time such as \"2024-03-01T12:34:56.789Z\"", name, clip(raw))
	}
	return t, nil
}

func objectField(raw []byte, name string) ([]byte, *touchbase.FieldError) {
	if !present(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fieldError(name, "%s must be an object, not %s", name, jsonKind(raw))
	}
	return raw, nil
}

// propertyString returns the string property key of obj, or "".
func propertyString(obj []byte, key string) string {
	var s string
	it := newObjectIter(obj)
	var m member
	for it.next(&m) {
		if m.is(key) {
			s = ""
			if m.value[0] == '"' {
				s = unquote(m.value)
			}
		}
	}
	return s
}

// mergePageProperties adds page's top-level name and category to its
// properties, as analytics.js does, unless the properties have them.
func mergePageProperties(props, name, category []byte) []byte {
	name, category = nonEmptyString(name), nonEmptyString(category)
	if name == nil && category == nil {
		return props
	}
	hasMembers := false
	if props != nil {
		it := newObjectIter(props)
		var m member
		for it.next(&m) {
			hasMembers = true
			if m.is("name") {
				name = nil
			} else if m.is("category") {
				category = nil
			}
		}
		if name == nil && category == nil {
			return props
		}
	}
	out := make([]byte, 0, len(props)+len(name)+len(category)+24)
	if props != nil {
		out = append(out, trimObjectEnd(props)...)
	} else {
		out = append(out, '{')
	}
	for _, f := range [...]struct {
		key string
		v   []byte
	}{{"name", name}, {"category", category}} {
		if f.v == nil {
			continue
		}
		if hasMembers {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, f.key...)
		out = append(out, `":`...)
		out = append(out, f.v...)
		hasMembers = true
	}
	return append(out, '}')
}

func nonEmptyString(raw []byte) []byte {
	if len(raw) > 2 && raw[0] == '"' {
		return raw
	}
	return nil
}

// trimObjectEnd returns obj without its closing brace and the white space
// before it.
func trimObjectEnd(obj []byte) []byte {
	i := len(obj) - 1 // '}'
	for i > 0 {
		switch obj[i-1] {
		case ' ', '\t', '\n', '\r':
			i--
			continue
		}
		break
	}
	return obj[:i]
}

// mergeContext puts the batch's context under the event's: each top-level
// key of the batch context that the event's context lacks is added (the
// event's value wins; objects are not merged deeper), as Segment does. It
// also returns the merged context's traits (nil when absent).
func (p *parser) mergeContext(own []byte) (merged, traits []byte) {
	if own == nil {
		return p.context, p.ctxTraits
	}
	var keysBuf [16]member
	keys := keysBuf[:0]
	it := newObjectIter(own)
	var m member
	for it.next(&m) {
		if m.is("traits") {
			traits = m.value
		}
		if p.context != nil {
			keys = append(keys, m)
		}
	}
	if p.context == nil {
		return own, traits
	}
	if len(keys) == 0 {
		return p.context, p.ctxTraits
	}
	if traits == nil {
		traits = p.ctxTraits
	}
	out := make([]byte, 0, len(own)+len(p.context))
	out = append(out, trimObjectEnd(own)...)
	for i := range p.ctxMembers {
		bm := &p.ctxMembers[i]
		if hasKey(keys, bm) {
			continue
		}
		out = append(out, ',')
		out = append(out, bm.whole...)
	}
	return append(out, '}'), traits
}

func hasKey(keys []member, m *member) bool {
	for i := range keys {
		k := &keys[i]
		if !k.escaped && !m.escaped {
			if string(k.key) == string(m.key) {
				return true
			}
		} else if k.name() == m.name() {
			return true
		}
	}
	return false
}

// decodeTraits decodes a traits object and normalises it; nil when empty.
func decodeTraits(raw []byte, name string) (map[string]any, *touchbase.FieldError) {
	v, err := decode(raw)
	if err != nil {
		return nil, fieldError(name, "%s: %v", name, err)
	}
	t, _ := v.(map[string]any)
	if len(t) == 0 {
		return nil, nil
	}
	normalizeTraits(t)
	return t, nil
}

// badUTF8Field names the top-level field of an event that holds invalid
// UTF-8, or "".
func badUTF8Field(raw []byte) string {
	it := newObjectIter(raw)
	var m member
	for it.next(&m) {
		if !utf8.Valid(m.whole) {
			if utf8.Valid(m.key) {
				return m.name()
			}
			return ""
		}
	}
	return ""
}

func fieldError(field, format string, args ...any) *touchbase.FieldError {
	msg := fmt.Sprintf(format, args...)
	field = shortPath(field)
	if len(msg) > 4*maxFieldPath {
		msg = clipTo([]byte(msg), 4*maxFieldPath)
	}
	return &touchbase.FieldError{Field: field, Message: msg}
}

// maxFieldPath bounds the field paths in errors (keys can be long).
const maxFieldPath = 256

// shortPath returns a field path fit for an error message.
func shortPath(path string) string {
	if len(path) <= maxFieldPath {
		return path
	}
	return clipTo([]byte(path), maxFieldPath)
}

// jsonKind names the kind of a raw JSON value, for messages.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// clip returns raw for a message, shortened when long.
func clip(raw []byte) string { return clipTo(raw, 64) }

// clipTo returns raw as valid UTF-8, cut to about max bytes.
func clipTo(raw []byte, max int) string {
	if len(raw) <= max {
		return strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	return strings.ToValidUTF8(string(raw[:cut]), "\uFFFD") + "..."
}
