package server

import (
	"errors"
	"net/http"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// rosterPreview bounds the staff list on a partner's page until the roster
// has its own paginated pages.
const rosterPreview = 50

// partnerPage shows one partner: its contracts and its roster. Another
// partner's page is simply not found, never refused, so IDs reveal nothing.
func (s *Server) partnerPage(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	id := c.Param("partner")
	if !p.MayOn(access.ViewPartner, id) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	scope := p.Scope.Within(id)
	org, err := s.partners.Get(ctx, scope, id)
	if errors.Is(err, partner.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(c, "load partner", err)
		return
	}
	contracts, err := s.partners.Contracts(ctx, scope)
	if err != nil {
		s.fail(c, "load partner's contracts", err)
		return
	}
	active, err := s.staff.CountActive(ctx, scope)
	if err != nil {
		s.fail(c, "count partner's staff", err)
		return
	}
	var members []staff.Member
	if p.MayOn(access.ViewStaff, id) {
		if members, err = s.staff.List(ctx, scope, rosterPreview); err != nil {
			s.fail(c, "list partner's staff", err)
			return
		}
		if err := s.record(c, event(c, "staff.list", "partner/"+id+"/staff", id, audit.Success)); err != nil {
			s.fail(c, "audit roster view", err)
			return
		}
	}
	s.render(c, http.StatusOK, "partner", org.Name, struct {
		Partner     partner.Partner
		Contracts   []partner.Contract
		ActiveStaff int64
		Staff       []staff.Member
	}{org, contracts, active, members})
}

// staffRecord shows one person on a roster. Viewing it is recorded.
func (s *Server) staffRecord(c *gin.Context) {
	p := principal(c)
	m, err := s.staff.Get(c.Request.Context(), p.Scope, c.Param("staffID"))
	if errors.Is(err, staff.ErrNotFound) {
		// Out of scope and nonexistent look the same; the attempt is still on record.
		if err := s.record(c, event(c, "staff.view", "staff/"+c.Param("staffID"), "", audit.Denied)); err != nil {
			s.fail(c, "audit refused staff view", err)
			return
		}
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(c, "load staff member", err)
		return
	}
	if !p.MayOn(access.ViewStaff, m.PartnerID) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err := s.record(c, event(c, "staff.view", "staff/"+m.ID.Hex(), m.PartnerID, audit.Success)); err != nil {
		s.fail(c, "audit staff view", err)
		return
	}
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		s.fail(c, "load partner names", err)
		return
	}
	s.render(c, http.StatusOK, "staff-record", m.Name, struct {
		Member      staff.Member
		PartnerName string
	}{m, names[m.PartnerID]})
}
