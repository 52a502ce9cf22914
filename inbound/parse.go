// Package inbound is the Segment spec as touchbase reads it: it turns the
// bodies of Segment HTTP Tracking API requests (Parse) and the records of
// import files (ParseRecord) into validated, normalised touchbase.Inbounds,
// one per Segment call. It holds the spec's limits, its clock-skew
// correction, trait normalisation, the E-commerce Spec v2 orders and
// products an event carries, and the messageId derived for events sent
// without one (DerivedMessageID). It does no I/O: package wal makes what it
// accepts durable, and the store makes inbounds events.
package inbound

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/jsonscan"
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
	// Inbounds are the valid events, in order, with WorkspaceID 0 (the
	// server sets it).
	Inbounds []touchbase.Inbound
	// Rejected has one entry per invalid batch member: Index is its
	// position in the batch, Field the JSON path of the offending field
	// ("" for the whole event) and Message what is wrong.
	Rejected []touchbase.FieldError
}

// Parse decodes a body sent to /v1/<endpoint>. "batch" and "import" take
// {"batch": [...], "context": {...}, "sentAt": ..., "writeKey": ...};
// "identify", "track", "page", "screen", "group" and "alias" take one
// event whose type is the endpoint. receivedAt is the server's clock at
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
// Parse does not keep body: the inbounds' raw Properties and Context point
// into one copy of it. In that copy, \u0000 and lone UTF-16 surrogates in
// strings (keys and values, anywhere) become \ufffd, U+FFFD: no database
// can store them alike, and the event is kept (see jsonscan.Scanner.Mend).
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
	// record relaxes /v1's rules for imported records (see ParseRecord).
	record     bool
	body       []byte              // Parse's copy of the body
	endpoint   touchbase.EventType // the single-event endpoint; "" for batches
	receivedAt time.Time
	sentAt     time.Time         // the batch's sentAt, zero when absent
	context    []byte            // the batch's context object, nil when absent
	ctxMembers []jsonscan.Member // context's members
	ctxTraits  []byte            // context.traits, nil when absent
}

// rawEvent locates the fields of one event that Parse reads, as spans of
// the body (compact, since a batch holds up to 2,500 of them).
type rawEvent struct {
	raw       span
	notObject bool
	bigNumber bool // it may hold a number beyond ±touchbase.MaxNumber

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
func readEvent(s *jsonscan.Scanner, ev *rawEvent, depth int) error {
	if depth > jsonscan.MaxDepth {
		return &jsonscan.SyntaxError{Msg: "exceeded max depth", Off: s.Pos}
	}
	start := s.Pos
	s.Big = false
	defer func() { ev.bigNumber = s.Big }()
	s.Pos++
	s.SkipSpace()
	if s.Peek() == '}' {
		s.Pos++
		ev.raw = spanOf(start, s.Pos)
		return nil
	}
	for {
		if s.Peek() != '"' {
			return s.Unexpected("looking for beginning of object key string")
		}
		ks := s.Pos
		esc, err := s.SkipString()
		if err != nil {
			return err
		}
		key := s.Data[ks+1 : s.Pos-1]
		s.SkipSpace()
		if s.Peek() != ':' {
			return s.Unexpected("after object key")
		}
		s.Pos++
		s.SkipSpace()
		vs := s.Pos
		if err := s.Skip(depth); err != nil {
			return err
		}
		if esc {
			ev.set(jsonscan.Unescape(key), spanOf(vs, s.Pos))
		} else {
			ev.set(string(key), spanOf(vs, s.Pos))
		}
		s.SkipSpace()
		switch s.Peek() {
		case ',':
			s.Pos++
			s.SkipSpace()
		case '}':
			s.Pos++
			ev.raw = spanOf(start, s.Pos)
			return nil
		default:
			return s.Unexpected("after object key:value pair")
		}
	}
}

// bodyError turns a syntax error into the error Parse returns.
func bodyError(err error) error {
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		return touchbase.Errorf(touchbase.EINVALID, "body is not valid JSON: %s", se.Error())
	}
	return err
}

// notObject returns the error for a body that is not a JSON object, or its
// syntax error when it is not JSON at all.
func notObject(s *jsonscan.Scanner) error {
	if len(s.Data) == 0 || s.Pos >= len(s.Data) {
		return touchbase.Errorf(touchbase.EINVALID, "body is empty")
	}
	start := s.Pos
	if err := s.Skip(0); err != nil {
		return bodyError(err)
	}
	if err := s.End(); err != nil {
		return bodyError(err)
	}
	return touchbase.Errorf(touchbase.EINVALID, "body must be a JSON object, not %s", jsonKind(s.Data[start:s.Pos]))
}

func (p *parser) single(body []byte) (*Request, error) {
	body = append([]byte(nil), body...)
	p.body = body
	s := jsonscan.Scanner{Data: body, Mend: true}
	s.SkipSpace()
	if s.Peek() != '{' {
		return nil, notObject(&s)
	}
	var ev rawEvent
	if err := readEvent(&s, &ev, 1); err != nil {
		return nil, bodyError(err)
	}
	if err := s.End(); err != nil {
		return nil, bodyError(err)
	}
	req := &Request{Inbounds: make([]touchbase.Inbound, 1)}
	if fe := p.event(&ev, &req.Inbounds[0]); fe != nil {
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
	s := jsonscan.Scanner{Data: body, Mend: true}
	s.SkipSpace()
	if s.Peek() != '{' {
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
	s.Pos++
	s.SkipSpace()
	for first := true; ; first = false {
		if s.Peek() == '}' && first {
			s.Pos++
			break
		}
		if s.Peek() != '"' {
			return nil, bodyError(s.Unexpected("looking for beginning of object key string"))
		}
		ks := s.Pos
		esc, err := s.SkipString()
		if err != nil {
			return nil, bodyError(err)
		}
		key := string(body[ks+1 : s.Pos-1])
		if esc {
			key = jsonscan.Unescape(body[ks+1 : s.Pos-1])
		}
		s.SkipSpace()
		if s.Peek() != ':' {
			return nil, bodyError(s.Unexpected("after object key"))
		}
		s.Pos++
		s.SkipSpace()
		if key == "batch" {
			if s.Peek() != '[' {
				v, err := s.Value()
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
			v, err := s.Value()
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
		s.SkipSpace()
		if c := s.Peek(); c == ',' {
			s.Pos++
			s.SkipSpace()
			continue
		} else if c == '}' {
			s.Pos++
			break
		}
		return nil, bodyError(s.Unexpected("after object key:value pair"))
	}
	if err := s.End(); err != nil {
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
		if jsonscan.OutOfRange(context) != nil {
			f, n := jsonscan.NumberPath(context, "context", 0)
			f = shortPath(f)
			return nil, envelopeError(f, "%s is %s: %s", f, clip(n), touchbase.NumberRange)
		}
		if !emptyObject(context) {
			p.context = context
			it := jsonscan.NewObjectIter(context)
			var m jsonscan.Member
			for it.Next(&m) {
				p.ctxMembers = append(p.ctxMembers, m)
				if m.Is("traits") {
					p.ctxTraits = m.Value
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

	req.Inbounds = make([]touchbase.Inbound, 0, len(events))
	for i := range events {
		if i >= MaxBatchEvents {
			req.Rejected = append(req.Rejected, touchbase.FieldError{Index: i, Field: "",
				Message: fmt.Sprintf("batch has %d events; the limit is %d", len(events), MaxBatchEvents)})
			continue
		}
		req.Inbounds = append(req.Inbounds, touchbase.Inbound{})
		in := &req.Inbounds[len(req.Inbounds)-1]
		if fe := p.event(&events[i], in); fe != nil {
			req.Inbounds = req.Inbounds[:len(req.Inbounds)-1]
			fe.Index = i
			req.Rejected = append(req.Rejected, *fe)
		}
	}
	return req, nil
}

// readBatch reads the array at s.pos into events.
func readBatch(s *jsonscan.Scanner, events []rawEvent) ([]rawEvent, error) {
	s.Pos++ // [
	s.SkipSpace()
	if s.Peek() == ']' {
		s.Pos++
		return events, nil
	}
	for {
		events = append(events, rawEvent{})
		ev := &events[len(events)-1]
		if s.Peek() == '{' {
			if err := readEvent(s, ev, 3); err != nil {
				return nil, err
			}
		} else {
			start := s.Pos
			if err := s.Skip(2); err != nil {
				return nil, err
			}
			ev.raw, ev.notObject = spanOf(start, s.Pos), true
		}
		s.SkipSpace()
		switch s.Peek() {
		case ',':
			s.Pos++
			s.SkipSpace()
		case ']':
			s.Pos++
			return events, nil
		default:
			return nil, s.Unexpected("after array element")
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
	return jsonscan.Unquote(raw), nil
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
