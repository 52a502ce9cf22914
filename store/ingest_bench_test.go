package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/storetest"
)

// benchContext is what analytics-go puts in every message's context.
var benchContext = json.RawMessage(`{"library":{"name":"analytics-go","version":"3.3.0"},"ip":"203.0.113.7","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36","locale":"en-GB","timezone":"Europe/London","page":{"path":"/products/blue-mug","url":"https://shop.example.com/products/blue-mug","referrer":"https://www.google.com/"}}`)

var benchProps = json.RawMessage(`{"product_id":"sku-1042","name":"Blue Mug","category":"Kitchen","brand":"Acme","price":12.5,"currency":"GBP","quantity":1,"position":3,"url":"https://shop.example.com/products/blue-mug","image_url":"https://cdn.example.com/blue-mug.jpg"}`)

// BenchmarkIngest measures the store's side of durable ingestion: commits of
// 2,500 track events (ten 250-event requests sharing a group commit) from a
// population of 50,000 customers. Reported as events/s.
func BenchmarkIngest(b *testing.B) {
	for _, be := range storetest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			s := be.Open(b)
			benchIngest(b, s, 2500)
		})
	}
}

func benchIngest(b *testing.B, s *store.Store, batch int) {
	ctx := context.Background()
	var ws int64
	if err := s.DB().QueryRow(rebind(s, "INSERT INTO workspaces (name, created_at) VALUES (?, ?) RETURNING id"), "bench", 0).Scan(&ws); err != nil {
		b.Fatal(err)
	}
	ins := make([]touchbase.Inbound, batch)
	seq := 0
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ins {
			seq++
			user := seq * 7919 % 50000
			ts := time.Unix(1700000000+int64(seq), 0)
			ins[j] = touchbase.Inbound{
				WorkspaceID: ws, MessageID: fmt.Sprintf("bench-%d", seq), Type: touchbase.EventTrack,
				Event: "Product Viewed", UserID: fmt.Sprintf("user-%d", user),
				Timestamp: ts, ReceivedAt: ts, Properties: benchProps, Context: benchContext,
			}
		}
		if _, err := s.Ingest(ctx, ins); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
}
