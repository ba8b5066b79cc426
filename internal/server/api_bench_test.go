package server_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BenchmarkNotifyAgainstRawInsert measures the partner API's notify at 32
// concurrent clients (token check, rate limit, idempotency key, schema and
// rule checks, clocks, audited insert, response) against raw InsertOne of
// the same stored document on the same store in the same run, and reports
// both rates, their ratio and both p50 and p99 latencies. Run with
// go test -run '^$' -bench NotifyAgainstRawInsert -benchtime 2000x ./internal/server/
func BenchmarkNotifyAgainstRawInsert(b *testing.B) {
	const clients = 32
	// The per-client call limit would measure itself, not the server.
	p := portaltest.StartWith(b, portaltest.Options{Env: map[string]string{"PORTAL_API_PER_MINUTE": "1000000"}})
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = clients
	token := portaltest.APIToken(b, p.URL, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")
	body := notice(b, nil)
	// One stored incident, as the API writes it, to insert raw.
	resp, created := apiClient{b, p.URL, token}.do(http.MethodPost, "/api/v1/incidents", newKey(), body)
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("notify: %d %s", resp.StatusCode, created)
	}
	var stored incident.Incident
	if err := p.App.Store.DB.Collection("incidents").FindOne(context.Background(), bson.D{}).Decode(&stored); err != nil {
		b.Fatal(err)
	}

	run := func(n int, do func() error) (time.Duration, []time.Duration) {
		var next atomic.Int64
		lat := make([]time.Duration, n)
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					t0 := time.Now()
					if err := do(); err != nil {
						b.Error(err)
						return
					}
					lat[i] = time.Since(t0)
				}
			}()
		}
		wg.Wait()
		return time.Since(start), lat
	}

	b.ResetTimer()
	apiTook, lat := run(b.N, func() error {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/v1/incidents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", newKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Errorf("notify: %d", resp.StatusCode)
		}
		return nil
	})
	b.StopTimer()
	// The raw collection has the incidents' indexes: maintaining them is part
	// of storing an incident, whoever stores it.
	raw := p.App.Store.DB.Collection("bench_raw_incidents")
	specs, err := p.App.Store.DB.Collection("incidents").Indexes().ListSpecifications(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range specs {
		if spec.Name == "_id_" {
			continue
		}
		opts := options.Index().SetName(spec.Name)
		if spec.Unique != nil && *spec.Unique {
			opts.SetUnique(true)
		}
		if _, err := raw.Indexes().CreateOne(context.Background(), mongo.IndexModel{Keys: spec.KeysDocument, Options: opts}); err != nil {
			b.Fatal(err)
		}
	}
	rawTook, rawLat := run(b.N, func() error {
		// Fresh values where the indexes demand unique ones, as the API draws.
		doc := stored
		doc.ID = bson.NewObjectID()
		doc.Reference, doc.IdempotencyKey = doc.ID.Hex(), newKey()
		_, err := raw.InsertOne(context.Background(), doc)
		return err
	})
	slices.Sort(lat)
	slices.Sort(rawLat)
	apiRate := float64(b.N) / apiTook.Seconds()
	rawRate := float64(b.N) / rawTook.Seconds()
	b.ReportMetric(apiRate, "api-notify/s")
	b.ReportMetric(rawRate, "raw-insert/s")
	b.ReportMetric(apiRate/rawRate, "api/raw")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(rawLat[len(rawLat)/2].Microseconds())/1000, "raw-p50-ms")
	b.ReportMetric(float64(rawLat[len(rawLat)*99/100].Microseconds())/1000, "raw-p99-ms")
}
