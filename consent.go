package touchbase

import (
	"context"
	"time"
)

// Channel is a way to reach people.
type Channel string

// Channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	// ChannelWebhook calls the store's own systems, not a person: it needs
	// no consent, and none is recorded for it.
	ChannelWebhook Channel = "webhook"
)

// ConsentChannels are the channels that need a person's consent for
// marketing, in the order the console shows them.
var ConsentChannels = []Channel{ChannelEmail, ChannelSMS}

// NeedsConsent reports whether marketing over c needs the recipient's
// consent: whether c is one of ConsentChannels.
func (c Channel) NeedsConsent() bool {
	for _, v := range ConsentChannels {
		if c == v {
			return true
		}
	}
	return false
}

// Topic narrows a consent to one kind of marketing on a channel
// ("newsletter", "offers"). The empty topic is all marketing on the
// channel; a topic's consent refines it and never widens it (an
// unsubscribe from the channel stops every topic).
type Topic string

// MaxTopicLen is the longest topic, in bytes.
const MaxTopicLen = 64

// Valid reports whether t is empty or 1 to MaxTopicLen lower-case ASCII
// letters, digits, '_', '-' and '.': a name a preference page and a
// List-Unsubscribe link can carry as it is.
func (t Topic) Valid() bool {
	if len(t) > MaxTopicLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ConsentState is what a customer said about marketing on a channel.
type ConsentState string

// Consent states. Unknown is also the state of every channel and topic
// nothing is recorded for; for sending it is no consent.
const (
	ConsentSubscribed   ConsentState = "subscribed"
	ConsentUnsubscribed ConsentState = "unsubscribed"
	ConsentUnknown      ConsentState = "unknown"
)

// ConsentStates are the states, in the order the console offers them.
var ConsentStates = []ConsentState{ConsentSubscribed, ConsentUnsubscribed, ConsentUnknown}

// Valid reports whether s is one of ConsentStates.
func (s ConsentState) Valid() bool {
	return s == ConsentSubscribed || s == ConsentUnsubscribed || s == ConsentUnknown
}

// ConsentSource says where a recorded consent came from.
type ConsentSource string

// Consent sources. Others will come (an unsubscribe link, the preference
// centre); a source is a short label, not a closed set.
const (
	// ConsentFromTrait is the trait email_consent or sms_consent, set by
	// ingestion (an identify call), an import or a trait update.
	ConsentFromTrait   ConsentSource = "trait"
	ConsentFromConsole ConsentSource = "console"
	ConsentFromAPI     ConsentSource = "api"
	ConsentFromImport  ConsentSource = "import"
)

// MaxConsentSourceLen is the longest source, in bytes.
const MaxConsentSourceLen = 64

// Consent is a customer's recorded permission for marketing on one channel
// and topic. At is when the state last changed: stating the same state
// again keeps the source and time it was first recorded with.
type Consent struct {
	CustomerID int64         `json:"customer_id"`
	Channel    Channel       `json:"channel"`
	Topic      Topic         `json:"topic"`
	State      ConsentState  `json:"state"`
	Source     ConsentSource `json:"source"`
	At         time.Time     `json:"at"`
}

// Consent traits. Stores send consent as traits, and segments read them
// (`email_consent = "subscribed"`), so they stay: each is an input to the
// channel's consent (topic "") and follows it when the consent is set
// otherwise. Only "subscribed" and "unsubscribed" mean what they say;
// any other value, "not_subscribed" included, and removing the trait,
// record unknown.
const (
	TraitEmailConsent = "email_consent"
	TraitSMSConsent   = "sms_consent"
)

// ConsentTrait returns the trait that holds c's consent, or "" for a
// channel without one.
func ConsentTrait(c Channel) string {
	switch c {
	case ChannelEmail:
		return TraitEmailConsent
	case ChannelSMS:
		return TraitSMSConsent
	}
	return ""
}

// ConsentFromTraitValue is the state a consent trait's value records
// (nil for a removed trait).
func ConsentFromTraitValue(v any) ConsentState {
	switch v {
	case string(ConsentSubscribed):
		return ConsentSubscribed
	case string(ConsentUnsubscribed):
		return ConsentUnsubscribed
	}
	return ConsentUnknown
}

// TraitValue is the value a consent trait takes to follow s: the state's
// name, or nil (no trait) for unknown, so that ConsentFromTraitValue gives
// s back.
func (s ConsentState) TraitValue() any {
	if s == ConsentSubscribed || s == ConsentUnsubscribed {
		return string(s)
	}
	return nil
}

// ConsentService records and reads customers' consent. Each change is
// recorded only when it changes the state (see Consent.At).
type ConsentService interface {
	// ListConsents returns what is recorded for the customer, by channel
	// then topic; a channel or topic not listed is unknown. ENOTFOUND for
	// a customer not in the workspace.
	ListConsents(ctx context.Context, workspaceID, customerID int64) ([]*Consent, error)
	// SetConsent records c (CustomerID, Channel, Topic, State, Source) as
	// of now, and returns what is recorded. A channel-wide consent (topic
	// "") of a channel with a consent trait sets the trait too, in the
	// same transaction, so that segments over it agree. EINVALID for a
	// channel that needs no consent, a bad topic, state or source;
	// ENOTFOUND for a customer not in the workspace.
	SetConsent(ctx context.Context, workspaceID int64, c Consent) (*Consent, error)
	// ChannelConsents returns what is recorded for one channel and topic
	// for those of customerIDs that have a record, in no particular
	// order; the others are unknown. EINVALID for a channel that needs no
	// consent or a bad topic.
	ChannelConsents(ctx context.Context, workspaceID int64, channel Channel, topic Topic, customerIDs []int64) ([]*Consent, error)
}
