package inbound_test

import (
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/inbound"
)

func TestParseRecord(t *testing.T) {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	bigOrder := `{"type":"track","event":"Order Completed","userId":"u1","properties":{"order_id":"o1","products":[` +
		strings.TrimSuffix(strings.Repeat(`{"product_id":"p","name":"`+strings.Repeat("x", 200)+`","price":1,"quantity":1},`, 300), ",") + `]}}`
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, m touchbase.Inbound)
		field string // the field an error names; "" for success
	}{
		{name: "EmailOnlyIdentify", body: `{"type":"identify","traits":{"email":" Ann@Example.com "}}`, check: func(t *testing.T, m touchbase.Inbound) {
			if m.Email != "ann@example.com" || m.Guest {
				t.Fatalf("email %q guest %v", m.Email, m.Guest)
			}
		}},
		{name: "GuestOrder", body: `{"type":"track","event":"Order Completed","properties":{"order_id":"9","total":5}}`, check: func(t *testing.T, m touchbase.Inbound) {
			if !m.Guest || m.Order == nil || m.Order.Order.OrderID != "9" {
				t.Fatalf("guest %v order %+v", m.Guest, m.Order)
			}
		}},
		{name: "BiggerThanAnEvent", body: bigOrder, check: func(t *testing.T, m touchbase.Inbound) {
			if len(m.Order.Order.Items) != 300 {
				t.Fatalf("%d items", len(m.Order.Order.Items))
			}
		}},
		{name: "NobodyTracks", body: `{"type":"track","event":"Viewed"}`, field: "userId"},
		{name: "BadAmount", body: `{"type":"track","event":"Order Completed","userId":"u","properties":{"order_id":"1","total":"ten"}}`, field: "properties.total"},
		{name: "NoType", body: `{"userId":"u"}`, field: "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := inbound.ParseRecord([]byte(tt.body), at)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, m)
				return
			}
			te, ok := err.(*touchbase.Error)
			if !ok || te.Code != touchbase.EINVALID || len(te.Fields) != 1 || te.Fields[0].Field != tt.field {
				t.Fatalf("err %v; want EINVALID naming %s", err, tt.field)
			}
		})
	}
	if len(bigOrder) <= inbound.MaxEventBytes {
		t.Fatal("the big order is not bigger than an event")
	}
}
