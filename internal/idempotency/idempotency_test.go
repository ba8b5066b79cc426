package idempotency_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/idempotency"
	"github.com/department/safeguarding-portal/internal/store/storetest"
)

func TestKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	keys := idempotency.New(storetest.Database(t))
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	keys.Now = func() time.Time { return now }
	body := idempotency.Hash("POST", "/api/v1/incidents", []byte(`{"a":1}`))
	other := idempotency.Hash("POST", "/api/v1/incidents", []byte(`{"a":2}`))

	claim, resp, err := keys.Begin(ctx, "northgate", "k1", body)
	if err != nil || claim == nil || resp != nil || claim.TakenOver {
		t.Fatalf("first Begin: %+v %+v %v", claim, resp, err)
	}
	if _, _, err := keys.Begin(ctx, "northgate", "k1", body); !errors.Is(err, idempotency.ErrInProgress) {
		t.Errorf("while running: %v, want ErrInProgress", err)
	}
	if _, _, err := keys.Begin(ctx, "northgate", "k1", other); !errors.Is(err, idempotency.ErrMismatch) {
		t.Errorf("another body: %v, want ErrMismatch", err)
	}
	// Another partner's identical key is a different key.
	if c, _, err := keys.Begin(ctx, "brightwell", "k1", other); err != nil || c == nil || c.ResourceID == claim.ResourceID {
		t.Errorf("another partner's key: %+v %v", c, err)
	}
	want := idempotency.Response{Status: 201, Location: "/api/v1/incidents/x", Body: []byte(`{"id":"x"}`)}
	if err := keys.Finish(ctx, claim, want); err != nil {
		t.Fatal(err)
	}
	c, got, err := keys.Begin(ctx, "northgate", "k1", body)
	if err != nil || c != nil || got == nil || got.Status != 201 || got.Location != want.Location || string(got.Body) != string(want.Body) {
		t.Errorf("replay: %+v %+v %v", c, got, err)
	}
	if _, _, err := keys.Begin(ctx, "northgate", "k1", other); !errors.Is(err, idempotency.ErrMismatch) {
		t.Errorf("another body after finishing: %v, want ErrMismatch", err)
	}
}

// A first request whose process died is taken over by a retry after its
// lease, which must create the same resource, not another.
func TestTakeOverAfterLeaseAndRelease(t *testing.T) {
	ctx := context.Background()
	keys := idempotency.New(storetest.Database(t))
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	keys.Now = func() time.Time { return now }
	h := idempotency.Hash("POST", "/p", []byte("x"))
	first, _, err := keys.Begin(ctx, "p", "k", h)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(keys.Lease - time.Second)
	if _, _, err := keys.Begin(ctx, "p", "k", h); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("within the lease: %v", err)
	}
	now = now.Add(2 * time.Second)
	retry, _, err := keys.Begin(ctx, "p", "k", h)
	if err != nil || retry == nil || !retry.TakenOver || retry.ResourceID != first.ResourceID {
		t.Fatalf("after the lease: %+v %v, want a takeover of %v", retry, err, first.ResourceID)
	}
	if _, _, err := keys.Begin(ctx, "p", "k", h); !errors.Is(err, idempotency.ErrInProgress) {
		t.Errorf("a second retry while the first retry runs: %v", err)
	}
	if err := keys.Release(ctx, retry); err != nil {
		t.Fatal(err)
	}
	fresh, _, err := keys.Begin(ctx, "p", "k", idempotency.Hash("POST", "/p", []byte("y")))
	if err != nil || fresh == nil || fresh.TakenOver {
		t.Errorf("after release a new request may use the key: %+v %v", fresh, err)
	}
}

func TestConcurrentBeginsClaimOnce(t *testing.T) {
	ctx := context.Background()
	keys := idempotency.New(storetest.Database(t))
	h := idempotency.Hash("POST", "/p", []byte("x"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	claims, inProgress := 0, 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := keys.Begin(ctx, "p", "same", h)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case c != nil:
				claims++
			case errors.Is(err, idempotency.ErrInProgress):
				inProgress++
			default:
				t.Errorf("Begin: %v", err)
			}
		}()
	}
	wg.Wait()
	if claims != 1 || inProgress != 31 {
		t.Errorf("%d claims and %d in progress, want 1 and 31", claims, inProgress)
	}
}

func TestExpire(t *testing.T) {
	ctx := context.Background()
	keys := idempotency.New(storetest.Database(t))
	if err := keys.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	keys.Now = func() time.Time { return now }
	if _, _, err := keys.Begin(ctx, "p", "old-key", "h"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(keys.Keep - time.Minute)
	if n, err := keys.Expire(ctx); err != nil || n != 0 {
		t.Fatalf("before its day: expired %d (%v)", n, err)
	}
	now = now.Add(2 * time.Minute)
	if n, err := keys.Expire(ctx); err != nil || n != 1 {
		t.Fatalf("after its day: expired %d (%v), want 1", n, err)
	}
	if c, _, err := keys.Begin(ctx, "p", "old-key", "another"); err != nil || c == nil {
		t.Errorf("an expired key is free again: %v", err)
	}
}
