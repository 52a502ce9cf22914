package inbound

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/internal/jsonscan"
)

// event validates one event into the inbound, or says what is wrong with it.
func (p *parser) event(ev *rawEvent, in *touchbase.Inbound) *touchbase.FieldError {
	e := ev.fields(p.body)
	if limit := p.maxEventBytes(); len(e.raw) > limit {
		return fieldError("", "event is %d bytes; the limit is %d", len(e.raw), limit)
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
		// The numbers stored (properties, traits, context) must stay
		// summable (see touchbase.MaxNumber), and so decodable by everyone
		// who reads them later. Identifiers keep a number's literal as
		// their text, so a numeric userId may be any length.
		it := jsonscan.NewObjectIter(e.raw)
		var m jsonscan.Member
		for it.Next(&m) {
			if !m.Is("properties") && !m.Is("traits") && !m.Is("context") {
				continue
			}
			if f, n := jsonscan.NumberPath(m.Value, m.Name(), 0); n != nil {
				f = shortPath(f)
				return fieldError(f, "%s is %s: %s", f, clip(n), touchbase.NumberRange)
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
	in.Type = typ
	in.ReceivedAt = p.receivedAt

	// Identifiers.
	var fe *touchbase.FieldError
	if in.UserID, fe = idField(e.userID, "userId"); fe != nil {
		return fe
	}
	if in.AnonymousID, fe = idField(e.anonymousID, "anonymousId"); fe != nil {
		return fe
	}
	if in.UserID == "" && in.AnonymousID == "" && !p.record {
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
		in.MessageID = id
	}
	if in.MessageID == "" {
		in.MessageID = DerivedMessageID(e.raw)
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
		in.Event = jsonscan.Unquote(e.event)
		if strings.TrimSpace(in.Event) == "" {
			return fieldError("event", "event must not be empty")
		}
	case touchbase.EventPage, touchbase.EventScreen:
		if in.Event, fe = stringField(e.name, "name"); fe != nil {
			return fe
		}
		if typ == touchbase.EventPage {
			if _, fe = stringField(e.category, "category"); fe != nil {
				return fe
			}
		}
	case touchbase.EventGroup:
		if in.GroupID, fe = idField(e.groupID, "groupId"); fe != nil {
			return fe
		}
		if in.GroupID == "" {
			return fieldError("groupId", "groupId is required for group")
		}
	case touchbase.EventAlias:
		if in.PreviousID, fe = idField(e.previousID, "previousId"); fe != nil {
			return fe
		}
		if in.PreviousID == "" {
			return fieldError("previousId", "previousId is required for alias")
		}
		if in.UserID == "" {
			return fieldError("userId", "userId is required for alias")
		}
	}

	// Time.
	ts, fe := p.timeField(e.timestamp, "timestamp")
	if fe != nil {
		return fe
	}
	orig, fe := p.timeField(e.originalTimestamp, "originalTimestamp")
	if fe != nil {
		return fe
	}
	sentAt, fe := p.timeField(e.sentAt, "sentAt")
	if fe != nil {
		return fe
	}
	baseName, baseRaw := "timestamp", e.timestamp
	if ts.IsZero() {
		ts, baseName, baseRaw = orig, "originalTimestamp", e.originalTimestamp
	}
	if sentAt.IsZero() {
		sentAt = p.sentAt
	}
	in.Timestamp = eventTime(ts, sentAt, p.receivedAt)
	if !eventTimeInRange(in.Timestamp, p.receivedAt) {
		// Only a given time gets here: receivedAt is in range.
		if !sentAt.IsZero() {
			return fieldError(baseName, "%s %s with sentAt %s puts the event at %s: %s (here up to %s)", baseName, clip(baseRaw),
				sentAt.Format(time.RFC3339Nano), in.Timestamp.Format(time.RFC3339Nano), eventTimeRange, latestEventTime(p.receivedAt))
		}
		return fieldError(baseName, "%s %s is out of range: %s (here up to %s)", baseName, clip(baseRaw), eventTimeRange, latestEventTime(p.receivedAt))
	}

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
		if in.Event == "" && props != nil {
			in.Event = propertyString(props, "name")
		}
		if typ == touchbase.EventPage {
			props = mergePageProperties(props, e.name, e.category)
		}
	}
	in.Properties = props
	in.Context, ctxTraits = p.mergeContext(ctx)

	// Traits and the identifiers in them.
	if ctxTraits, fe = objectField(ctxTraits, "context.traits"); fe != nil {
		return fe
	}
	if typ == touchbase.EventIdentify && props != nil {
		t, fe := decodeTraits(props, "traits")
		if fe != nil {
			return fe
		}
		in.Traits = t
		identifiers(in, t)
		if (in.Email == "" || in.Phone == "") && ctxTraits != nil {
			ct, fe := decodeTraits(ctxTraits, "context.traits")
			if fe != nil {
				return fe
			}
			identifiers(in, ct)
		}
	} else if ctxTraits != nil {
		t, fe := decodeTraits(ctxTraits, "context.traits")
		if fe != nil {
			return fe
		}
		in.Traits = t
		identifiers(in, t)
	}

	if typ == touchbase.EventTrack {
		if fe := ecommerce(in, props); fe != nil {
			return fe
		}
	}
	if in.UserID == "" && in.AnonymousID == "" && in.Email == "" && in.Phone == "" {
		// Only records get here: an imported order event without anyone's
		// identifier is a guest checkout (one without order_id, an event
		// nobody's); anything else needs a person.
		if _, order := orderKind(in.Event); !order || typ != touchbase.EventTrack {
			return fieldError("userId", "userId, anonymousId, email or phone is required")
		}
		in.Guest = true
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

// DerivedMessageID is the messageId of an event sent without one: it
// identifies the event by its bytes, so that an SDK resending the same
// event (or an import the same record) is deduplicated.
func DerivedMessageID(raw []byte) string {
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
	it := jsonscan.NewObjectIter(raw)
	var m jsonscan.Member
	return !it.Next(&m)
}

// idValue reads an identifier: a string, or a number as its decimal form
// (some SDKs send numeric user ids); null is "".
func idValue(raw []byte) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		return jsonscan.Unquote(raw), true
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
	return jsonscan.Unquote(raw), nil
}

// timeField reads a time field; the zero time when absent. On /v1,
// 0001-01-01T00:00:00Z is absent too: it is Go's zero time.Time, which Go
// SDKs send for a time never set. An imported record means what it
// writes, and that is out of range.
func (p *parser) timeField(raw []byte, name string) (time.Time, *touchbase.FieldError) {
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
	if t.IsZero() && p.record {
		return time.Time{}, fieldError(name, "%s %s is out of range: %s", name, clip(raw), eventTimeRange)
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
	it := jsonscan.NewObjectIter(obj)
	var m jsonscan.Member
	for it.Next(&m) {
		if m.Is(key) {
			s = ""
			if m.Value[0] == '"' {
				s = jsonscan.Unquote(m.Value)
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
		it := jsonscan.NewObjectIter(props)
		var m jsonscan.Member
		for it.Next(&m) {
			hasMembers = true
			if m.Is("name") {
				name = nil
			} else if m.Is("category") {
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
	var keysBuf [16]jsonscan.Member
	keys := keysBuf[:0]
	it := jsonscan.NewObjectIter(own)
	var m jsonscan.Member
	for it.Next(&m) {
		if m.Is("traits") {
			traits = m.Value
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
		out = append(out, bm.Whole...)
	}
	return append(out, '}'), traits
}

func hasKey(keys []jsonscan.Member, m *jsonscan.Member) bool {
	for i := range keys {
		k := &keys[i]
		if !k.Escaped && !m.Escaped {
			if string(k.Key) == string(m.Key) {
				return true
			}
		} else if k.Name() == m.Name() {
			return true
		}
	}
	return false
}

// decodeTraits decodes a traits object and normalises it; nil when empty.
func decodeTraits(raw []byte, name string) (map[string]any, *touchbase.FieldError) {
	v, err := jsonscan.Decode(raw)
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
	it := jsonscan.NewObjectIter(raw)
	var m jsonscan.Member
	for it.Next(&m) {
		if !utf8.Valid(m.Whole) {
			if utf8.Valid(m.Key) {
				return m.Name()
			}
			return ""
		}
	}
	return ""
}
