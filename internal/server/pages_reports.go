package server

import "time"

// reportLoop generates the governance reports people ask for, one at a
// time, off the request path: a portfolio report reads every roster.
func (s *Server) reportLoop() {
	defer s.background.Done()
	if err := s.reports.EnsureIndexes(s.backgroundCtx); err != nil && s.backgroundCtx.Err() == nil {
		s.log.Error("report archive indexes not made", "err", err)
	}
	s.reports.Run(s.backgroundCtx, 5*time.Second)
}
