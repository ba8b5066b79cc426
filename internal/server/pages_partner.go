package server

import (
	"errors"
	"net/http"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/gin-gonic/gin"
)

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
	active, err := s.staff.CountActive(ctx, scope, id)
	if err != nil {
		s.fail(c, "count partner's staff", err)
		return
	}
	s.render(c, http.StatusOK, "partner", org.Name, struct {
		Partner     partner.Partner
		Contracts   []partner.Contract
		ActiveStaff int64
		CanSeeStaff bool
		CanManage   bool
		Saved       bool
	}{org, contracts, active, p.MayOn(access.ViewStaff, id), p.MayOn(access.ManageContracts, id), c.Query("saved") == "1"})
}
