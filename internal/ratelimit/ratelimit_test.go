package ratelimit_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/ratelimit"
)

// fakeClock only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newLimiter(rate int, per time.Duration, burst int) (*ratelimit.Limiter, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	l := ratelimit.New(rate, per, burst)
	l.SetClock(clock.Now)
	return l, clock
}

// allowN calls Allow n times and reports how many were allowed and the
// retryAfter of the last refusal.
func allowN(l *ratelimit.Limiter, key string, n int) (allowed int, retryAfter time.Duration) {
	for range n {
		ok, ra := l.Allow(key)
		if ok {
			allowed++
			if ra != 0 {
				panic(fmt.Sprintf("allowed with retryAfter %v", ra))
			}
		} else {
			retryAfter = ra
		}
	}
	return allowed, retryAfter
}

func TestBurstThenRate(t *testing.T) {
	l, clock := newLimiter(10, time.Minute, 3) // one token every 6 s

	if n, ra := allowN(l, "198.51.100.7", 5); n != 3 || ra != 6*time.Second {
		t.Fatalf("fresh key: %d allowed, retry after %v; want 3 and 6s", n, ra)
	}

	clock.Advance(5 * time.Second)
	if n, ra := allowN(l, "198.51.100.7", 1); n != 0 || ra != time.Second {
		t.Errorf("1 s before the next token: %d allowed, retry after %v; want 0 and 1s", n, ra)
	}
	clock.Advance(time.Second)
	if n, _ := allowN(l, "198.51.100.7", 2); n != 1 {
		t.Errorf("after one interval: %d allowed, want 1", n)
	}

	// A long quiet spell refills to the burst, not beyond.
	clock.Advance(time.Hour)
	if n, _ := allowN(l, "198.51.100.7", 10); n != 3 {
		t.Errorf("after an hour: %d allowed, want 3", n)
	}

	// Sustained, it allows the rate: 10 a minute.
	allowed := 0
	for range 60 {
		clock.Advance(time.Second)
		n, _ := allowN(l, "198.51.100.7", 1)
		allowed += n
	}
	if allowed != 10 {
		t.Errorf("one request a second for a minute: %d allowed, want 10", allowed)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		rate       int
		per        time.Duration
		elapsed    time.Duration // after draining the bucket
		retryAfter time.Duration
	}{
		{"whole seconds", 1, 4 * time.Second, 0, 4 * time.Second},
		{"fraction rounds up", 2, 3 * time.Second, 0, 2 * time.Second},                                // 1.5 s
		{"remaining fraction rounds up", 2, 3 * time.Second, 200 * time.Millisecond, 2 * time.Second}, // 1.3 s
		{"exact second", 2, 3 * time.Second, 500 * time.Millisecond, time.Second},
		{"under a second is one", 100, time.Second, 0, time.Second}, // 10 ms
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clock := newLimiter(tt.rate, tt.per, 1)
			if ok, _ := l.Allow("k"); !ok {
				t.Fatal("first request refused")
			}
			clock.Advance(tt.elapsed)
			ok, ra := l.Allow("k")
			if ok || ra != tt.retryAfter {
				t.Fatalf("Allow = %v, %v; want false, %v", ok, ra, tt.retryAfter)
			}
			// Waiting as told is always enough.
			clock.Advance(ra)
			if ok, ra := l.Allow("k"); !ok {
				t.Errorf("refused again after waiting retryAfter (now %v)", ra)
			}
		})
	}
}

func TestKeysAreIndependent(t *testing.T) {
	l, _ := newLimiter(1, time.Minute, 2)
	if n, _ := allowN(l, "northgate-system", 5); n != 2 {
		t.Fatalf("northgate: %d allowed, want 2", n)
	}
	if n, _ := allowN(l, "brightwell-system", 5); n != 2 {
		t.Errorf("brightwell after northgate was limited: %d allowed, want 2", n)
	}
}

func TestIdleKeysAreEvicted(t *testing.T) {
	l, clock := newLimiter(10, time.Minute, 10) // interval 6 s, full after at most a minute

	for i := range 5000 {
		l.Allow(fmt.Sprint("10.0.", i/256, ".", i%256))
	}
	if got := l.Keys(); got != 5000 {
		t.Fatalf("%d keys held, want 5000 (none is idle yet)", got)
	}
	// Each used one token, so each bucket is full again after 6 s; the
	// sweep is due once a minute has passed.
	clock.Advance(time.Minute)
	l.Allow("198.51.100.7")
	if got := l.Keys(); got != 1 {
		t.Errorf("%d keys held after they went idle, want 1", got)
	}

	// A burst of new keys triggers a sweep before the minute is up.
	for i := range 2000 {
		l.Allow(fmt.Sprint("old-", i))
	}
	clock.Advance(7 * time.Second)
	for i := range 2100 {
		l.Allow(fmt.Sprint("new-", i))
	}
	if got := l.Keys(); got != 2100 {
		t.Errorf("%d keys held, want 2100: the idle ones gone, the new ones kept", got)
	}
}

func TestEvictionKeepsLimits(t *testing.T) {
	l, clock := newLimiter(1, time.Minute, 2)
	allowN(l, "k", 2)
	for i := range 3000 { // enough to force sweeps
		l.Allow(fmt.Sprint("other-", i))
	}
	if n, ra := allowN(l, "k", 1); n != 0 || ra != time.Minute {
		t.Errorf("drained key after sweeps: %d allowed, retry after %v; want 0 and 1m", n, ra)
	}
	clock.Advance(2 * time.Minute)
	for i := range 3000 {
		l.Allow(fmt.Sprint("later-", i))
	}
	if n, _ := allowN(l, "k", 3); n != 2 {
		t.Errorf("refilled key after eviction: %d allowed, want 2", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	l, _ := newLimiter(1, time.Hour, 100)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprint(g, "-", i))
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 100 {
		t.Errorf("%d allowed on the shared key, want exactly the burst of 100", got)
	}
}

func TestNewPanicsOnNonsense(t *testing.T) {
	for _, args := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {-1, 1, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New%v did not panic", args)
				}
			}()
			ratelimit.New(args[0], time.Duration(args[1])*time.Second, args[2])
		}()
	}
}

func BenchmarkAllow(b *testing.B) {
	l := ratelimit.New(600, time.Minute, 600)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("client-", i)
	}
	i := 0
	for b.Loop() {
		l.Allow(keys[i%len(keys)])
		i++
	}
}
