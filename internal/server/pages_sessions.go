package server

import (
	"errors"
	"net/http"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

// sessionsPage lets safeguarding leads see who is signed in, and end any
// session: the way to shut out a leaver or a compromised account at once.
func (s *Server) sessionsPage(c *gin.Context) {
	sessions, err := s.sessions.Active(c.Request.Context())
	if err != nil {
		s.fail(c, "list sessions", err)
		return
	}
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		s.fail(c, "load partner names", err)
		return
	}
	if err := s.record(c, event(c, "sessions.view", "sessions", "", audit.Success)); err != nil {
		s.fail(c, "audit sessions view", err)
		return
	}
	type row struct {
		auth.Session
		OrgName string
		Own     bool
	}
	rows := make([]row, len(sessions))
	own := session(c).Ref
	for i, ss := range sessions {
		org := names[ss.Identity.Org]
		if ss.Identity.Org == auth.DepartmentOrg {
			org = departmentName
		}
		rows[i] = row{Session: ss, OrgName: org, Own: ss.Ref == own}
	}
	s.render(c, http.StatusOK, "sessions", "Active sessions", struct {
		Sessions []row
		Ended    string
	}{rows, c.Query("ended")})
}

// endSession ends another person's session on the server: their next request
// finds no session, whatever their browser still holds. The event is recorded
// first, so the change can never exist without it.
func (s *Server) endSession(c *gin.Context) {
	ref := c.Param("ref")
	target, err := s.sessions.ByRef(c.Request.Context(), ref)
	if errors.Is(err, auth.ErrNoSession) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(c, "find session", err)
		return
	}
	id := target.Identity
	e := event(c, "session.end", "session/"+ref, "", audit.Success)
	if id.Org != auth.DepartmentOrg {
		e.PartnerID = id.Org
	}
	// Whose session it was is on record already: the sign_in event of the same resource.
	if err := s.record(c, e); err != nil {
		s.fail(c, "audit session end", err)
		return
	}
	if err := s.sessions.EndByRef(c.Request.Context(), ref); err != nil {
		e.Outcome = audit.Failed
		if rerr := s.record(c, e); rerr != nil {
			s.log.Error("audit failed session end", "err", rerr, "request_id", c.GetString(ctxRequestID))
		}
		s.fail(c, "end session", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/sessions?ended=1")
}
