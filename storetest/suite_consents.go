package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

// consentNow is the store's clock in the consent tests.
var consentNow = Epoch.Add(100 * time.Hour)

// testConsents covers the consent service: setting and listing, the
// consent traits as inputs (trait updates and ingestion), merges of
// profiles, erasure, and workspace isolation.
func testConsents(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixedClock(s, consentNow)
	w := Workspace(t, s, "shop")
	other := Workspace(t, s, "other")
	seq := 0
	// ingest sends one identify (or, without traits, a track) per call,
	// so that each is stored before the next.
	ingest := func(ws int64, userID, anonID string, traits map[string]any, at time.Time) {
		t.Helper()
		seq++
		m := touchbase.Inbound{WorkspaceID: ws, MessageID: fmt.Sprintf("consent-%d", seq), Type: touchbase.EventIdentify,
			UserID: userID, AnonymousID: anonID, Traits: traits, Timestamp: at, ReceivedAt: at}
		if traits == nil {
			m.Type, m.Event = touchbase.EventTrack, "Visited"
		}
		if _, err := s.Ingest(ctx, []touchbase.Inbound{m}); err != nil {
			t.Fatalf("ingest: %v", err)
		}
	}
	byUser := func(ws int64, userID string) *touchbase.Customer {
		t.Helper()
		cs, _, err := s.ListCustomers(ctx, ws, touchbase.CustomerFilter{UserID: userID})
		must(t, err)
		if len(cs) != 1 {
			t.Fatalf("%d customers with user id %s", len(cs), userID)
		}
		return cs[0]
	}
	list := func(ws, id int64) []touchbase.Consent {
		t.Helper()
		cs, err := s.ListConsents(ctx, ws, id)
		must(t, err)
		out := []touchbase.Consent{}
		for _, c := range cs {
			out = append(out, *c)
		}
		return out
	}
	wantConsents := func(t *testing.T, ws, id int64, want ...touchbase.Consent) {
		t.Helper()
		if want == nil {
			want = []touchbase.Consent{}
		}
		for i := range want {
			want[i].CustomerID = id
		}
		if got := list(ws, id); !reflect.DeepEqual(got, want) {
			t.Errorf("consents of %d\n got %+v\nwant %+v", id, got, want)
		}
	}
	trait := func(t *testing.T, ws, id int64, name string) any {
		t.Helper()
		c, err := s.FindCustomer(ctx, ws, id)
		must(t, err)
		return c.Traits[name]
	}
	email, sms := touchbase.ChannelEmail, touchbase.ChannelSMS
	sub, unsub, unknown := touchbase.ConsentSubscribed, touchbase.ConsentUnsubscribed, touchbase.ConsentUnknown
	fromTrait, fromConsole := touchbase.ConsentFromTrait, touchbase.ConsentFromConsole

	t.Run("set and list", func(t *testing.T) {
		c := &touchbase.Customer{WorkspaceID: w.ID, UserID: "set-1", Traits: map[string]any{"email_consent": "not_subscribed"}}
		InsertCustomer(t, s, c)
		wantConsents(t, w.ID, c.ID)

		// Unknown over "not_subscribed": the trait says so already and stays.
		got, err := s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: email, State: unknown, Source: fromConsole})
		must(t, err)
		if want := (touchbase.Consent{CustomerID: c.ID, Channel: email, State: unknown, Source: fromConsole, At: consentNow}); *got != want {
			t.Errorf("SetConsent = %+v, want %+v", got, want)
		}
		if v := trait(t, w.ID, c.ID, "email_consent"); v != "not_subscribed" {
			t.Errorf("email_consent = %v after unknown, want not_subscribed kept", v)
		}

		later := consentNow.Add(time.Hour)
		fixedClock(s, later)
		defer fixedClock(s, consentNow)
		_, err = s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: email, State: sub, Source: touchbase.ConsentFromAPI})
		must(t, err)
		if v := trait(t, w.ID, c.ID, "email_consent"); v != "subscribed" {
			t.Errorf("email_consent = %v, want the trait to follow: subscribed", v)
		}
		// The same state again keeps when and whence it began.
		fixedClock(s, later.Add(time.Hour))
		again, err := s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: email, State: sub, Source: fromConsole})
		must(t, err)
		if again.Source != touchbase.ConsentFromAPI || !again.At.Equal(later) {
			t.Errorf("subscribed again: %+v, want the api's of %v", again, later)
		}
		// A topic refines the channel; it has no trait.
		_, err = s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: email, Topic: "offers", State: unsub, Source: fromConsole})
		must(t, err)
		_, err = s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: sms, State: unsub, Source: fromConsole})
		must(t, err)
		wantConsents(t, w.ID, c.ID,
			touchbase.Consent{Channel: email, State: sub, Source: touchbase.ConsentFromAPI, At: later},
			touchbase.Consent{Channel: email, Topic: "offers", State: unsub, Source: fromConsole, At: later.Add(time.Hour)},
			touchbase.Consent{Channel: sms, State: unsub, Source: fromConsole, At: later.Add(time.Hour)})
		if v := trait(t, w.ID, c.ID, "email_consent"); v != "subscribed" {
			t.Errorf("email_consent = %v after a topic's unsubscribe, want subscribed", v)
		}
		if v := trait(t, w.ID, c.ID, "sms_consent"); v != "unsubscribed" {
			t.Errorf("sms_consent = %v, want unsubscribed", v)
		}
		// Unknown removes a trait that said otherwise.
		_, err = s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: sms, State: unknown, Source: fromConsole})
		must(t, err)
		if v := trait(t, w.ID, c.ID, "sms_consent"); v != nil {
			t.Errorf("sms_consent = %v after unknown, want none", v)
		}

		cs, err := s.ChannelConsents(ctx, w.ID, email, "", []int64{c.ID, c.ID + 1000})
		must(t, err)
		if len(cs) != 1 || cs[0].CustomerID != c.ID || cs[0].State != sub {
			t.Errorf("ChannelConsents(email) = %+v", cs)
		}
		cs, err = s.ChannelConsents(ctx, w.ID, email, "offers", []int64{c.ID})
		must(t, err)
		if len(cs) != 1 || cs[0].State != unsub {
			t.Errorf("ChannelConsents(email, offers) = %+v", cs)
		}
		_, err = s.ChannelConsents(ctx, w.ID, touchbase.ChannelWebhook, "", []int64{c.ID})
		wantCode(t, err, touchbase.EINVALID)

		for name, bad := range map[string]touchbase.Consent{
			"webhook":     {Channel: touchbase.ChannelWebhook, State: sub, Source: fromConsole},
			"no channel":  {State: sub, Source: fromConsole},
			"topic":       {Channel: email, Topic: "Offers!", State: sub, Source: fromConsole},
			"long topic":  {Channel: email, Topic: touchbase.Topic(fmt.Sprintf("%065d", 0)), State: sub, Source: fromConsole},
			"state":       {Channel: email, State: "not_subscribed", Source: fromConsole},
			"no source":   {Channel: email, State: sub},
			"bad source":  {Channel: email, State: sub, Source: "a\nb"},
			"long source": {Channel: email, State: sub, Source: touchbase.ConsentSource(fmt.Sprintf("%065d", 0))},
		} {
			bad.CustomerID = c.ID
			_, err := s.SetConsent(ctx, w.ID, bad)
			if touchbase.ErrorCode(err) != touchbase.EINVALID {
				t.Errorf("%s: SetConsent(%+v) = %v, want EINVALID", name, bad, err)
			}
		}
		_, err = s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID + 1000, Channel: email, State: sub, Source: fromConsole})
		wantCode(t, err, touchbase.ENOTFOUND)
		_, err = s.ListConsents(ctx, w.ID, c.ID+1000)
		wantCode(t, err, touchbase.ENOTFOUND)

		x, err := s.ExportCustomer(ctx, w.ID, c.ID)
		must(t, err)
		if len(x.Consents) != 3 {
			t.Errorf("export has %d consents, want 3: %+v", len(x.Consents), x.Consents)
		}
	})

	t.Run("trait update", func(t *testing.T) {
		c := &touchbase.Customer{WorkspaceID: w.ID, UserID: "traits-1"}
		InsertCustomer(t, s, c)
		_, err := s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"email_consent": "subscribed", "sms_consent": "not_subscribed", "plan": "gold"})
		must(t, err)
		wantConsents(t, w.ID, c.ID,
			touchbase.Consent{Channel: email, State: sub, Source: fromTrait, At: consentNow},
			touchbase.Consent{Channel: sms, State: unknown, Source: fromTrait, At: consentNow})
		fixedClock(s, consentNow.Add(time.Minute))
		defer fixedClock(s, consentNow)
		// Other traits leave consent alone; removing the trait is unknown.
		_, err = s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"plan": "silver"})
		must(t, err)
		_, err = s.UpdateTraits(ctx, w.ID, c.ID, map[string]any{"email_consent": nil})
		must(t, err)
		wantConsents(t, w.ID, c.ID,
			touchbase.Consent{Channel: email, State: unknown, Source: fromTrait, At: consentNow.Add(time.Minute)},
			touchbase.Consent{Channel: sms, State: unknown, Source: fromTrait, At: consentNow})
	})

	t.Run("ingestion", func(t *testing.T) {
		ingest(w.ID, "in-1", "", map[string]any{"email_consent": "subscribed", "sms_consent": true}, Epoch.Add(time.Hour))
		c := byUser(w.ID, "in-1")
		wantConsents(t, w.ID, c.ID,
			touchbase.Consent{Channel: email, State: sub, Source: fromTrait, At: Epoch.Add(time.Hour)},
			touchbase.Consent{Channel: sms, State: unknown, Source: fromTrait, At: Epoch.Add(time.Hour)})

		// The console's unsubscribe (now) is newer than an event that
		// arrives late saying subscribed: the consent stays, and the
		// trait follows it back.
		_, err := s.SetConsent(ctx, w.ID, touchbase.Consent{CustomerID: c.ID, Channel: email, State: unsub, Source: fromConsole})
		must(t, err)
		ingest(w.ID, "in-1", "", map[string]any{"email_consent": "subscribed", "first_name": "Ada"}, Epoch.Add(50*time.Hour))
		if cs := list(w.ID, c.ID); cs[0].State != unsub || cs[0].Source != fromConsole {
			t.Errorf("email after a late subscribe: %+v, want the console's unsubscribe", cs[0])
		}
		if v := trait(t, w.ID, c.ID, "email_consent"); v != "unsubscribed" {
			t.Errorf("email_consent = %v, want unsubscribed (following the consent)", v)
		}
		if v := trait(t, w.ID, c.ID, "first_name"); v != "Ada" {
			t.Errorf("first_name = %v: the late event's other traits are kept", v)
		}
		// An event from the future is recorded as of now.
		ingest(w.ID, "in-1", "", map[string]any{"email_consent": "subscribed"}, consentNow.Add(24*time.Hour))
		if cs := list(w.ID, c.ID); cs[0].State != sub || !cs[0].At.Equal(consentNow) {
			t.Errorf("email after a subscribe from the future: %+v, want subscribed at %v", cs[0], consentNow)
		}
		// A batch without consent traits changes nothing.
		ingest(w.ID, "in-1", "", nil, consentNow)
		if cs := list(w.ID, c.ID); cs[0].State != sub || !cs[0].At.Equal(consentNow) {
			t.Errorf("email after a track: %+v", cs[0])
		}
	})

	t.Run("newer wins in a batch", func(t *testing.T) {
		// The later message of the batch is the older event.
		seq++
		msgs := []touchbase.Inbound{
			{WorkspaceID: w.ID, MessageID: fmt.Sprintf("consent-%d-a", seq), Type: touchbase.EventIdentify, UserID: "batch-1",
				Traits: map[string]any{"email_consent": "subscribed"}, Timestamp: Epoch.Add(40 * time.Hour), ReceivedAt: Epoch.Add(40 * time.Hour)},
			{WorkspaceID: w.ID, MessageID: fmt.Sprintf("consent-%d-b", seq), Type: touchbase.EventIdentify, UserID: "batch-1",
				Traits: map[string]any{"email_consent": "unsubscribed"}, Timestamp: Epoch.Add(35 * time.Hour), ReceivedAt: Epoch.Add(35 * time.Hour)},
		}
		_, err := s.Ingest(ctx, msgs)
		must(t, err)
		c := byUser(w.ID, "batch-1")
		wantConsents(t, w.ID, c.ID, touchbase.Consent{Channel: email, State: sub, Source: fromTrait, At: Epoch.Add(40 * time.Hour)})
		if v := trait(t, w.ID, c.ID, "email_consent"); v != "subscribed" {
			t.Errorf("email_consent = %v, want subscribed (the newer event)", v)
		}
	})

	t.Run("merge", func(t *testing.T) {
		ingest(w.ID, "merge-1", "", map[string]any{"email_consent": "subscribed"}, Epoch.Add(5*time.Hour))
		ingest(w.ID, "merge-1", "", map[string]any{"sms_consent": "subscribed"}, Epoch.Add(20*time.Hour))
		ingest(w.ID, "", "anon-merge", map[string]any{"sms_consent": "unsubscribed"}, Epoch.Add(time.Hour))
		ingest(w.ID, "", "anon-merge", map[string]any{"email_consent": "unsubscribed"}, Epoch.Add(10*time.Hour))
		known := byUser(w.ID, "merge-1")
		anon, _, err := s.ListCustomers(ctx, w.ID, touchbase.CustomerFilter{AnonymousID: "anon-merge"})
		must(t, err)
		if len(anon) != 1 || anon[0].ID == known.ID {
			t.Fatalf("the anonymous profile: %+v", anon)
		}
		// One event names both: the anonymous profile merges into the known one.
		ingest(w.ID, "merge-1", "anon-merge", nil, Epoch.Add(30*time.Hour))
		if got := byUser(w.ID, "merge-1"); got.ID != known.ID {
			t.Fatalf("survivor %d, want %d", got.ID, known.ID)
		}
		wantConsents(t, w.ID, known.ID,
			touchbase.Consent{Channel: email, State: unsub, Source: fromTrait, At: Epoch.Add(10 * time.Hour)},
			touchbase.Consent{Channel: sms, State: sub, Source: fromTrait, At: Epoch.Add(20 * time.Hour)})
		if v := trait(t, w.ID, known.ID, "email_consent"); v != "unsubscribed" {
			t.Errorf("email_consent = %v, want unsubscribed: the merged profile's newer consent", v)
		}
		if v := trait(t, w.ID, known.ID, "sms_consent"); v != "subscribed" {
			t.Errorf("sms_consent = %v, want subscribed", v)
		}
		if n := QueryInt(t, s, "SELECT count(*) FROM consents WHERE workspace_id = ? AND customer_id = ?", w.ID, anon[0].ID); n != 0 {
			t.Errorf("%d consents left on the merged-away profile", n)
		}
	})

	t.Run("erase", func(t *testing.T) {
		ingest(w.ID, "erase-1", "", map[string]any{"email_consent": "subscribed", "sms_consent": "subscribed"}, Epoch)
		c := byUser(w.ID, "erase-1")
		keep := byUser(w.ID, "in-1")
		before := len(list(w.ID, keep.ID))
		must(t, s.EraseCustomer(ctx, w.ID, c.ID))
		if n := QueryInt(t, s, "SELECT count(*) FROM consents WHERE customer_id = ?", c.ID); n != 0 {
			t.Errorf("%d consents left of an erased customer", n)
		}
		if n := len(list(w.ID, keep.ID)); n != before {
			t.Errorf("another customer's consents: %d, want %d", n, before)
		}
	})

	t.Run("workspaces", func(t *testing.T) {
		a := byUser(w.ID, "in-1")
		before := list(w.ID, a.ID)
		_, err := s.ListConsents(ctx, other.ID, a.ID)
		wantCode(t, err, touchbase.ENOTFOUND)
		_, err = s.SetConsent(ctx, other.ID, touchbase.Consent{CustomerID: a.ID, Channel: email, State: unsub, Source: fromConsole})
		wantCode(t, err, touchbase.ENOTFOUND)
		cs, err := s.ChannelConsents(ctx, other.ID, email, "", []int64{a.ID})
		must(t, err)
		if len(cs) != 0 {
			t.Errorf("A's consents through B: %+v", cs)
		}
		if after := list(w.ID, a.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("A's consents changed through B:\nbefore %+v\n after %+v", before, after)
		}
		// The database itself refuses a consent naming another
		// workspace's customer.
		_, err = s.DB().ExecContext(ctx, placeholders(s, "INSERT INTO consents (workspace_id, customer_id, channel, topic, state, source, at) VALUES (?, ?, 'email', '', 'subscribed', 'test', 0)"),
			other.ID, a.ID)
		if err == nil {
			t.Error("a consent of workspace B for A's customer was stored")
		}
	})
}
