package audience_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/audience"
)

func TestWriteCSV(t *testing.T) {
	cs := map[int64]*touchbase.Customer{
		1: {ID: 1, UserID: "u1", Email: "Ann@Example.com", Phone: "+49 30 1234"},
		2: {ID: 2, UserID: "u2"},
		3: {ID: 3, UserID: "=1+1", Email: "=x@evil.example", Phone: "+491701234567"},
	}
	load := func(ids []int64) ([]*touchbase.Customer, error) {
		var out []*touchbase.Customer
		for _, id := range ids {
			out = append(out, cs[id])
		}
		return out, nil
	}
	var b strings.Builder
	if err := audience.WriteCSV(context.Background(), &b, []int64{1, 2, 3}, true, load); err != nil {
		t.Fatal(err)
	}
	// sha256("ann@example.com") and sha256("+49301234"): normalised first.
	// A phone with spaces is not a plain number: a spreadsheet would read
	// "+49 30 1234" as a formula, so it gets the quote; customer 3's
	// formulas do too, its E.164 phone does not, and its hashes are of the
	// stored values ("=x@evil.example", "+491701234567").
	want := "id,user_id,email,phone,email_sha256,phone_sha256\n" +
		"1,u1,Ann@Example.com,'+49 30 1234,71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476," +
		"ea2cc1c44d3363677eea2f6e6ea22d82bacda7267b8aaa3b3faa3def7d289c71\n" +
		"2,u2,,,,\n" +
		"3,'=1+1,'=x@evil.example,+491701234567," + hash("=x@evil.example") + "," + hash("+491701234567") + "\n"
	if got := b.String(); got != want {
		t.Errorf("export:\n%s\nwant:\n%s", got, want)
	}
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      audience.Identifiers
		err       string
	}{
		{"each row its first identifier", "\uFEFFEmail,User_ID,id\nann@example.com,u1,\n,u2,\n,,7\n", audience.Identifiers{
			CustomerIDs: []int64{7}, UserIDs: []string{"u1", "u2"}, Emails: nil}, ""},
		{"customer_id is id", "customer_id\n3\n", audience.Identifiers{CustomerIDs: []int64{3}}, ""},
		{"no known column", "name\nAnn\n", audience.Identifiers{}, "the header names no column"},
		{"a bad id", "id\nseven\n", audience.Identifiers{}, `line 2: id "seven"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := audience.ReadCSV(tc.csv, audience.Identifiers{})
			if tc.err != "" {
				if err == nil || touchbase.ErrorCode(err) != touchbase.EINVALID || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want EINVALID with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.CustomerIDs) != len(tc.want.CustomerIDs) || len(got.UserIDs) != len(tc.want.UserIDs) || len(got.Emails) != len(tc.want.Emails) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
