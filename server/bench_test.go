package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server"
	"github.com/touchbase/touchbase/storetest"
	"github.com/touchbase/touchbase/wal"
)

// batchTemplate returns a /v1/batch body of n analytics-go-shaped track
// events whose messageIds start with the placeholder PFX (replaced per
// request so that nothing is a duplicate).
func batchTemplate(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","messageId":"PFX-%d","userId":"user-%d","event":"Product Viewed",`+
			`"properties":{"product_id":"sku-%d","name":"Product %d","category":"Gadgets","price":19.99,"currency":"EUR","position":%d},`+
			`"context":{"library":{"name":"analytics-go","version":"3.0.0"},"ip":"203.0.113.7","userAgent":"Mozilla/5.0"},`+
			`"timestamp":"2024-05-01T12:00:00.000Z"}`, i, i%1000, i%50, i%50, i)
	}
	b.WriteString(`],"context":{"library":{"name":"analytics-go","version":"3.0.0"}},"sentAt":"2024-05-01T12:00:00.100Z"}`)
	return b.Bytes()
}

// BenchmarkIngestBatch measures durable ingestion through a real server on
// loopback: concurrent clients post batches of 250 events to /v1/batch and
// each 200 means committed. It reports events/s and the p50/p99 request
// latency. Clients and server share the machine, as in the figures.
func BenchmarkIngestBatch(b *testing.B) {
	const perBatch = 250
	tmpl := batchTemplate(perBatch)
	for _, be := range storetest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			s := be.Open(b)
			ctx := context.Background()
			ws, err := s.CreateWorkspace(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			_, key, err := s.CreateKey(ctx, ws.ID, touchbase.KeyWrite, "", "bench")
			if err != nil {
				b.Fatal(err)
			}
			var srv *server.Server
			w := wal.NewWriter(s, wal.WriterConfig{OnCommit: func(st wal.CommitStats) { srv.ObserveCommit(st) }})
			srv = server.New(server.Config{RateLimit: 1 << 30}, server.Services{
				Workspaces: s, Users: s, Keys: s, Customers: s, Events: s, Orders: s, Stats: s, Imports: s, IngestQueue: w,
			})
			if err := w.Open(ctx); err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			if err := srv.Open(ctx); err != nil {
				b.Fatal(err)
			}
			defer srv.Close(ctx)
			url := "http://" + srv.Addr() + "/v1/batch"
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}

			var seq atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetBytes(int64(len(tmpl)))
			b.SetParallelism(4) // 4 x GOMAXPROCS clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					body := bytes.ReplaceAll(tmpl, []byte("PFX"), []byte(strconv.FormatInt(seq.Add(1), 36)))
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.SetBasicAuth(key, "")
					req.Header.Set("Content-Type", "application/json")
					start := time.Now()
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					mine = append(mine, time.Since(start))
					if res.StatusCode != 200 {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat)*perBatch)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
