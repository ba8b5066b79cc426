package apiauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// A throttled fetch must look like "keys unchanged", not like a failure:
// RemoteKeySet would otherwise refuse good tokens of callers that missed its
// cache while another fetch was under way.
func TestJWKSThrottleReplaysLastGoodKeys(t *testing.T) {
	var hits atomic.Int32
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := hits.Add(1)
		w.WriteHeader(int(status.Load()))
		_, _ = io.WriteString(w, `{"keys":[],"n":`+strconv.Itoa(int(n))+`}`)
	}))
	t.Cleanup(srv.Close)

	now := time.Now()
	th := &jwksThrottle{next: http.DefaultTransport, now: func() time.Time { return now }}
	c := &http.Client{Transport: th}
	get := func() (int, string) {
		t.Helper()
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	if code, body := get(); code != 200 || body != `{"keys":[],"n":1}` {
		t.Fatalf("first fetch: %d %s", code, body)
	}
	if code, body := get(); code != 200 || body != `{"keys":[],"n":1}` || hits.Load() != 1 {
		t.Errorf("throttled fetch: %d %s after %d hits, want the first response replayed", code, body, hits.Load())
	}

	// A failed fetch is passed on but does not replace the good keys.
	now = now.Add(jwksMinRefresh)
	status.Store(http.StatusInternalServerError)
	if code, _ := get(); code != http.StatusInternalServerError {
		t.Errorf("failed fetch: status %d, want 500", code)
	}
	if code, body := get(); code != 200 || body != `{"keys":[],"n":1}` || hits.Load() != 2 {
		t.Errorf("throttled after a failure: %d %s after %d hits, want the good response", code, body, hits.Load())
	}

	now = now.Add(jwksMinRefresh)
	status.Store(http.StatusOK)
	if code, body := get(); code != 200 || body != `{"keys":[],"n":3}` {
		t.Errorf("fetch after the interval: %d %s, want a fresh response", code, body)
	}
}

func TestJWKSThrottleWithoutGoodKeys(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	now := time.Now()
	c := &http.Client{Transport: &jwksThrottle{next: http.DefaultTransport, now: func() time.Time { return now }}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := c.Get(srv.URL); err == nil {
		t.Error("throttled fetch with no good keys succeeded")
	}
}
