package inbound_test

import (
	"reflect"
	"testing"
)

func TestTraits(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, event string
		wantTraits            map[string]any
		wantEmail, wantPhone  string
	}{
		{
			name:       "identify traits keep their JSON types",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"plan":"gold","age":34,"vip":true,"score":0.5,"tags":["a","b"],"address":{"city":"Lyon"},"nothing":null}}`,
			wantTraits: map[string]any{"plan": "gold", "age": 34.0, "vip": true, "score": 0.5, "tags": []any{"a", "b"}, "address": map[string]any{"city": "Lyon"}, "nothing": nil},
		},
		{
			name:       "email and phone are trimmed and become identifiers",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"email":"  Ann.Lee@Example.COM ","phone":" +33 (6) 12-34-56-78\n"}}`,
			wantTraits: map[string]any{"email": "Ann.Lee@Example.COM", "phone": "+33 (6) 12-34-56-78"},
			wantEmail:  "ann.lee@example.com", wantPhone: "+33612345678",
		},
		{
			name:       "not an email: kept as a trait, no identifier",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"email":"n/a","phone":"12"}}`,
			wantTraits: map[string]any{"email": "n/a", "phone": "12"},
		},
		{
			name:       "email of the wrong type is no identifier",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"email":42}}`,
			wantTraits: map[string]any{"email": 42.0},
		},
		{
			name:     "birthdays become dates as written",
			endpoint: "identify",
			event:    `{"userId":"u","traits":{"birthday":"1990-05-17T00:00:00.000+02:00","dob":"1985-01-02","date_of_birth":"1970-12-31T23:00:00Z","birthDate":"17/05/1990"}}`,
			wantTraits: map[string]any{"birthday": "1990-05-17", "dob": "1985-01-02", "date_of_birth": "1970-12-31",
				"birthDate": "17/05/1990"},
		},
		{
			name:     "instant traits become RFC 3339 UTC",
			endpoint: "identify",
			event:    `{"userId":"u","traits":{"createdAt":"2024-03-01T12:34:56.789+01:00","created_at":"2024-03-01T12:00:00-0500","signup_date":"2023-07-14","lastLoginAt":" 2024-01-01t00:00:00z ","updated_at":"soon","createdAtMillis":1700000000000}}`,
			wantTraits: map[string]any{"createdAt": "2024-03-01T11:34:56.789Z", "created_at": "2024-03-01T17:00:00Z", "signup_date": "2023-07-14",
				"lastLoginAt": "2024-01-01T00:00:00Z", "updated_at": "soon", "createdAtMillis": 1.7e12},
		},
		{
			name:       "dates in other traits are left alone",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"plan_start":"2024-03-01T12:34:56+01:00","nested":{"createdAt":"2024-03-01T12:34:56+01:00"}}}`,
			wantTraits: map[string]any{"plan_start": "2024-03-01T12:34:56+01:00", "nested": map[string]any{"createdAt": "2024-03-01T12:34:56+01:00"}},
		},
		{
			name:       "reserved-trait spellings are kept as sent",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"firstName":"Ann","last_name":"Lee","Name":"Ann Lee"}}`,
			wantTraits: map[string]any{"firstName": "Ann", "last_name": "Lee", "Name": "Ann Lee"},
		},
		{
			name:       "identify takes the email from context.traits when traits lack it",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"plan":"gold"},"context":{"traits":{"email":"ctx@example.com","phone":"+1 555 0100"}}}`,
			wantTraits: map[string]any{"plan": "gold"},
			wantEmail:  "ctx@example.com", wantPhone: "+15550100",
		},
		{
			name:       "identify traits win over context.traits",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"email":"own@example.com"},"context":{"traits":{"email":"ctx@example.com"}}}`,
			wantTraits: map[string]any{"email": "own@example.com"},
			wantEmail:  "own@example.com",
		},
		{
			name:       "identify without traits uses context.traits",
			endpoint:   "identify",
			event:      `{"userId":"u","context":{"traits":{"email":"ctx@example.com","plan":"free"}}}`,
			wantTraits: map[string]any{"email": "ctx@example.com", "plan": "free"},
			wantEmail:  "ctx@example.com",
		},
		{
			name:       "track takes context.traits",
			endpoint:   "track",
			event:      `{"anonymousId":"a","event":"X","context":{"ip":"1.2.3.4","traits":{"email":"T@Example.com","birthday":"2000-02-29"}}}`,
			wantTraits: map[string]any{"email": "T@Example.com", "birthday": "2000-02-29"},
			wantEmail:  "t@example.com",
		},
		{
			name:       "page and alias too",
			endpoint:   "alias",
			event:      `{"userId":"u","previousId":"a","context":{"traits":{"phone":"+44 20 7946 0000"}}}`,
			wantTraits: map[string]any{"phone": "+44 20 7946 0000"},
			wantPhone:  "+442079460000",
		},
		{
			name:     "track properties are not traits",
			endpoint: "track",
			event:    `{"userId":"u","event":"X","properties":{"email":"p@example.com"}}`,
		},
		{
			name:     "empty traits are none",
			endpoint: "identify",
			event:    `{"userId":"u","traits":{}}`,
		},
		{
			name:     "null context.traits are none",
			endpoint: "track",
			event:    `{"userId":"u","event":"X","context":{"traits":null}}`,
		},
		{
			name:       "escaped keys and values",
			endpoint:   "identify",
			event:      `{"userId":"u","traits":{"\u0065mail":"a\u0040b.co","na\u00efve":"\ud83d\ude00"}}`,
			wantTraits: map[string]any{"email": "a@b.co", "naïve": "😀"},
			wantEmail:  "a@b.co",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := one(t, tc.endpoint, tc.event)
			if !reflect.DeepEqual(m.Traits, tc.wantTraits) {
				t.Errorf("traits %#v\nwant %#v", m.Traits, tc.wantTraits)
			}
			if m.Email != tc.wantEmail || m.Phone != tc.wantPhone {
				t.Errorf("email %q, phone %q; want %q, %q", m.Email, m.Phone, tc.wantEmail, tc.wantPhone)
			}
		})
	}
}
