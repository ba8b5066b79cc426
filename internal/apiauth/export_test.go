package apiauth

import "time"

const (
	JWKSMinRefresh      = jwksMinRefresh
	DiscoveryRetryAfter = discoveryRetryAfter
	MaxTokenBytes       = maxTokenBytes
)

// SetClock replaces the verifier's clock; call it before the first Verify.
func (v *Verifier) SetClock(now func() time.Time) { v.now = now }
