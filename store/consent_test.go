package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// TestMigrationBackfillsConsents: migration 00012 records a consent for
// every consent trait stored before it, as of the profile's last change,
// keeps what is recorded already when it runs again, and leaves customers
// without the traits without consents.
func TestMigrationBackfillsConsents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ws := storetest.Workspace(t, s, "shop")
		at := storetest.Epoch.Add(time.Hour)
		insert := func(userID string, traits map[string]any) int64 {
			return storetest.InsertCustomer(t, s, &touchbase.Customer{WorkspaceID: ws.ID, UserID: userID, Traits: traits, UpdatedAt: at})
		}
		sub := insert("sub", map[string]any{"email_consent": "subscribed", "sms_consent": "unsubscribed"})
		not := insert("not", map[string]any{"email_consent": "not_subscribed", "sms_consent": true})
		none := insert("none", map[string]any{"plan": "gold"})
		// Set before the migration runs again: it stays.
		kept := insert("kept", map[string]any{"email_consent": "subscribed"})
		s.Now = func() time.Time { return storetest.Epoch.Add(2 * time.Hour) }
		if _, err := s.SetConsent(ctx, ws.ID, touchbase.Consent{CustomerID: kept, Channel: touchbase.ChannelEmail,
			State: touchbase.ConsentUnsubscribed, Source: touchbase.ConsentFromConsole}); err != nil {
			t.Fatal(err)
		}
		storetest.Exec(t, s, `UPDATE customers SET traits = '{"email_consent": "subscribed"}' WHERE id = ?`, kept)

		storetest.Remigrate(t, s, 12)
		storetest.Remigrate(t, s, 12) // and again over its own result

		consent := func(ch touchbase.Channel, st touchbase.ConsentState) touchbase.Consent {
			return touchbase.Consent{Channel: ch, State: st, Source: touchbase.ConsentFromTrait, At: at}
		}
		for _, tc := range []struct {
			id   int64
			want []touchbase.Consent
		}{
			{sub, []touchbase.Consent{consent(touchbase.ChannelEmail, touchbase.ConsentSubscribed), consent(touchbase.ChannelSMS, touchbase.ConsentUnsubscribed)}},
			{not, []touchbase.Consent{consent(touchbase.ChannelEmail, touchbase.ConsentUnknown), consent(touchbase.ChannelSMS, touchbase.ConsentUnknown)}},
			{none, []touchbase.Consent{}},
			{kept, []touchbase.Consent{{Channel: touchbase.ChannelEmail, State: touchbase.ConsentUnsubscribed, Source: touchbase.ConsentFromConsole,
				At: storetest.Epoch.Add(2 * time.Hour)}}},
		} {
			for i := range tc.want {
				tc.want[i].CustomerID = tc.id
			}
			cs, err := s.ListConsents(ctx, ws.ID, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			got := []touchbase.Consent{}
			for _, c := range cs {
				got = append(got, *c)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("consents of %d after the migration\n got %+v\nwant %+v", tc.id, got, tc.want)
			}
		}
	})
}
