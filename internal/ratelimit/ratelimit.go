// Package ratelimit limits how often each key (a client IP for sign-in
// attempts, a client ID for API calls) may act, with a token bucket per key
// held in memory. Limits are per process: with several replicas each allows
// the full rate.
package ratelimit

import (
	"fmt"
	"sync"
	"time"
)

// minSweepSize keeps small maps from being swept on every insertion.
const minSweepSize = 1024

// Limiter is a set of token buckets, one per key. It is safe for concurrent
// use.
//
// Each bucket is stored as the time at which it will be full again (the
// generic cell rate algorithm): one time.Time per key, refilled by the
// passage of time alone. A bucket that is full holds no information, so it is
// deleted; memory is proportional to the keys active within the last
// burst × interval, not to every key ever seen.
type Limiter struct {
	interval time.Duration // time to earn one token
	capacity time.Duration // interval × burst: how far ahead a bucket may be drained
	now      func() time.Time

	mu        sync.Mutex
	full      map[string]time.Time // when each key's bucket is full again
	nextSweep time.Time
	sweepSize int // sweep early once the map grows past this
}

// New allows each key rate actions per period, and up to burst at once after
// a quiet spell. It panics unless all three are positive: limits come from
// validated configuration, so anything else is a programming error.
func New(rate int, per time.Duration, burst int) *Limiter {
	if rate <= 0 || per <= 0 || burst <= 0 {
		panic(fmt.Sprintf("ratelimit: New(%d, %v, %d): rate, period and burst must be positive", rate, per, burst))
	}
	interval := per / time.Duration(rate)
	if interval <= 0 {
		interval = 1 // more than a billion a second is as good as no limit
	}
	return &Limiter{
		interval:  interval,
		capacity:  interval * time.Duration(burst),
		now:       time.Now,
		full:      make(map[string]time.Time),
		sweepSize: minSweepSize,
	}
}

// Allow takes a token from key's bucket. When the bucket is empty it reports
// how long until a token is available, in whole seconds and at least one, as
// Retry-After needs.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)

	full, seen := l.full[key]
	if !seen || full.Before(now) {
		full = now
	}
	next := full.Add(l.interval)
	if wait := next.Sub(now) - l.capacity; wait > 0 {
		// Rounded up: retrying after a rounded-down wait would be refused.
		return false, (wait + time.Second - 1).Truncate(time.Second)
	}
	l.full[key] = next
	return true, 0
}

// sweep deletes buckets that have filled up again. It runs once per
// capacity, or sooner when the map has doubled since the last sweep, so its
// cost is spread over the insertions that made it necessary. Callers hold
// l.mu.
func (l *Limiter) sweep(now time.Time) {
	if now.Before(l.nextSweep) && len(l.full) < l.sweepSize {
		return
	}
	for key, full := range l.full {
		if !full.After(now) {
			delete(l.full, key)
		}
	}
	l.nextSweep = now.Add(l.capacity)
	l.sweepSize = max(minSweepSize, 2*len(l.full))
}
