package server

import (
	"context"
	"time"

	"github.com/department/safeguarding-portal/internal/performance"
)

// DetectPerformance brings assessments up to date and runs the performance
// detection the background loop runs, so tests need not wait for it.
func (s *Server) DetectPerformance(ctx context.Context, now time.Time) (int, error) {
	if _, err := s.upkeep.ReassessAll(ctx, false); err != nil {
		return 0, err
	}
	d := &performance.Detector{Failures: s.performance, Partners: s.partners, Incidents: s.incidents, Oversight: s.oversight, Staff: s.staff}
	return d.Detect(ctx, now)
}
