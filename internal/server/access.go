package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

const ctxPrincipal = "principal"

// maxBodyBytes caps every request body before anything parses it; routes
// that take uploads raise it for themselves.
const maxBodyBytes = 1 << 20

func (s *Server) capBody(c *gin.Context) {
	if c.Request.Body != nil {
		limit := int64(maxBodyBytes)
		switch c.FullPath() {
		case importUploadRoute, completionsUploadRoute:
			limit = maxImportBytes + 64<<10 // the file and the multipart framing around it
		case trainingUploadRoute, vettingUploadRoute, ownTrainingUploadRoute, incidentUpdateRoute, incidentRespondRoute:
			limit = s.evidenceMaxBytes() + 64<<10
		case inspectionCompleteRoute, actionRespondRoute:
			limit = s.oversightUploadBytes()
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// scopeFor works out what a signed-in person can reach. Partner people reach
// their own organisation; contract managers the contracts assigned to them;
// safeguarding leads and auditors everything.
func (s *Server) scopeFor(c *gin.Context, id auth.Identity) (access.Scope, error) {
	switch {
	case id.Has(auth.SafeguardingLead) || id.Has(auth.Auditor):
		return access.Everything(), nil
	case id.Has(auth.ContractManager):
		managed, err := s.partners.ManagedBy(c.Request.Context(), id.Subject)
		if err != nil {
			return access.Scope{}, fmt.Errorf("work out contract manager's scope: %w", err)
		}
		return access.ContractsScope(managed), nil
	case id.Org != auth.DepartmentOrg:
		return access.PartnerScope(id.Org), nil
	}
	return access.Scope{}, nil
}

// loadPrincipal turns the session into the caller the policy judges.
func (s *Server) loadPrincipal(c *gin.Context) {
	sess := session(c)
	if sess == nil {
		c.Next()
		return
	}
	scope, err := s.scopeFor(c, sess.Identity)
	if err != nil {
		s.fail(c, "load principal", err)
		c.Abort()
		return
	}
	c.Set(ctxPrincipal, access.PersonPrincipal(sess.Identity, scope))
	c.Next()
}

func principal(c *gin.Context) access.Principal {
	if v, ok := c.Get(ctxPrincipal); ok {
		return v.(access.Principal)
	}
	return access.Principal{}
}

// allow opens a page only to callers the policy lets take action at all;
// which partner's data they then reach is the scope's business.
func (s *Server) allow(action access.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).May(action) {
			s.renderError(c, http.StatusForbidden)
			c.Abort()
			return
		}
		c.Next()
	}
}

// actor is the caller as the audit trail records them.
func actor(c *gin.Context) audit.Actor {
	p := principal(c)
	if p.Kind == "" {
		if sess := session(c); sess != nil {
			p = access.PersonPrincipal(sess.Identity, access.Scope{})
		}
	}
	a := audit.Actor{Kind: p.Kind, Subject: p.Subject, Issuer: p.Issuer, Org: p.Org}
	for _, r := range p.Roles {
		a.Roles = append(a.Roles, string(r))
	}
	if a.Kind == "" {
		a.Kind = "anonymous"
	}
	return a
}

// event starts an audit event for this request.
func event(c *gin.Context, action, resource, partnerID, outcome string) audit.Event {
	return audit.Event{
		Actor:     actor(c),
		Action:    action,
		Resource:  resource,
		PartnerID: partnerID,
		Outcome:   outcome,
		ClientIP:  c.ClientIP(),
		RequestID: c.GetString(ctxRequestID),
	}
}

// record appends an audit event. Personal data is shown only once its viewing
// is on record, so a failure here must stop the page.
func (s *Server) record(c *gin.Context, e audit.Event) error {
	if _, err := s.trail.Record(c.Request.Context(), e); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

// limitSignIn bounds sign-in attempts per client IP.
func (s *Server) limitSignIn(c *gin.Context) {
	if ok, retry := s.signInLimit.Allow(c.ClientIP()); !ok {
		c.Header("Retry-After", strconv.Itoa(int(retry.Seconds())))
		s.render(c, http.StatusTooManyRequests, "error", "Too many attempts", errorPage{
			Status:    http.StatusTooManyRequests,
			Heading:   "Too many sign-in attempts",
			Body:      "Wait a minute, then try again.",
			RequestID: c.GetString(ctxRequestID),
		})
		c.Abort()
		return
	}
	c.Next()
}

var errNotInScope = errors.New("not within the caller's scope")

// evidenceMaxBytes is the largest evidence file accepted.
func (s *Server) evidenceMaxBytes() int64 { return int64(s.cfg.Evidence.MaxMB) << 20 }
