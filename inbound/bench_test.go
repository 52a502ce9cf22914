package inbound_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchbase/touchbase/inbound"
)

// analyticsGoBatch returns a /v1/batch body of n track events shaped like
// what analytics-go sends from a store's backend: ids, an RFC 3339 nano
// timestamp, e-commerce-ish properties, a per-event context, and the
// batch-level library context. Each event is about 600 bytes.
func analyticsGoBatch(n int, batchContext bool) []byte {
	var b strings.Builder
	b.WriteString(`{"messageId":"8f1a6c1e-2b7d-4a43-9c1e-5d1f0e2a3b4c","sentAt":"2024-05-31T09:00:05.564648284Z","batch":[`)
	events := []string{"Product Viewed", "Product Added", "Checkout Started", "Signed In", "Order Completed"}
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		ev := events[i%len(events)]
		props := fmt.Sprintf(`{"product_id":"sku-%05d","name":"Organic Cotton T-Shirt","category":"Apparel/Tops","brand":"Acme","variant":"navy/M","price":%d.99,"quantity":%d,"currency":"EUR","position":%d,"url":"https://shop.example.com/p/sku-%05d"}`,
			i%977, 10+i%40, 1+i%3, i%24, i%977)
		if ev == "Order Completed" {
			props = fmt.Sprintf(`{"order_id":"ord-%06d","total":%d.50,"revenue":%d.00,"shipping":4.9,"tax":3.1,"currency":"EUR","products":[{"product_id":"sku-%05d","sku":"SKU%05d","name":"Organic Cotton T-Shirt","price":19.99,"quantity":2}]}`,
				i, 40+i%50, 35+i%50, i%977, i%977)
		}
		fmt.Fprintf(&b, `{"type":"track","messageId":"%08x-b303-4a08-80bd-61efd3a026a4","userId":"user-%06d","event":%q,"timestamp":"2024-05-31T09:00:0%d.%09dZ","properties":%s,"context":{"ip":"203.0.113.%d","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15","locale":"de-DE","page":{"path":"/p/sku-%05d","referrer":"https://www.google.com/"}}}`,
			i, i%5000, ev, i%5, i*7919%1000000000, props, i%250, i%977)
	}
	b.WriteString(`]`)
	if batchContext {
		b.WriteString(`,"context":{"library":{"name":"analytics-go","version":"3.0.0"}}`)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

func BenchmarkParseBatch(b *testing.B) {
	for _, bc := range []struct {
		name         string
		batchContext bool
	}{{"analytics-go", true}, {"no-batch-context", false}} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 250
			body := analyticsGoBatch(n, bc.batchContext)
			now := time.Date(2024, 5, 31, 9, 0, 6, 0, time.UTC)
			if req, err := inbound.Parse("batch", body, now); err != nil || len(req.Inbounds) != n {
				b.Fatalf("Parse: %v, %+v", err, req.Rejected)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				if _, err := inbound.Parse("batch", body, now); err != nil {
					b.Fatal(err)
				}
			}
			cpu = cpuTime() - cpu
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/event")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() { inbound.Parse("batch", body, now) }))/n, "allocs/event")
			b.ReportMetric(float64(len(body))/n, "bytes/event")
		})
	}
}

func BenchmarkParseTrack(b *testing.B) {
	body := []byte(`{"userId":"user-1","event":"Product Viewed","timestamp":"2024-05-31T09:00:01.562468142Z","properties":{"product_id":"p-1","name":"Mug","category":"Kitchen","price":12.5,"currency":"EUR"},"context":{"ip":"203.0.113.9","library":{"name":"analytics.js","version":"2.11.1"}}}`)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inbound.Parse("track", body, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIdentify(b *testing.B) {
	body := []byte(`{"userId":"user-1","traits":{"email":"ann.lee@example.com","firstName":"Ann","lastName":"Lee","birthday":"1990-05-17","createdAt":"2023-07-14T08:30:00+02:00","plan":"gold","logins":12,"address":{"city":"Lyon","country":"FR"}},"timestamp":"2024-05-31T09:00:00.562Z"}`)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inbound.Parse("identify", body, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONBatch is the yardstick: encoding/json decoding the
// same body into structs that keep properties and context raw, which does
// much less than Parse (no validation, no skew correction, no merge, no
// e-commerce).
func BenchmarkEncodingJSONBatch(b *testing.B) {
	const n = 250
	body := analyticsGoBatch(n, true)
	type event struct {
		Type, MessageID, UserID, AnonymousID, Event, Timestamp string
		Properties, Context                                    json.RawMessage
	}
	var env struct {
		SentAt  string
		Context json.RawMessage
		Batch   []event
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		env.Batch = nil
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/event")
}
