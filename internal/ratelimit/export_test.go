package ratelimit

import "time"

// SetClock replaces the limiter's clock; call it before the first Allow.
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Keys is the number of buckets held.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.full)
}
