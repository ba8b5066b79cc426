package server

import (
	"net/http"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// staffHome shows a partner staff member their own roster record.
func (s *Server) staffHome(c *gin.Context) {
	p := principal(c)
	member, err := s.staff.ByEmail(c.Request.Context(), p.Scope, p.Org, session(c).Identity.Email)
	if err != nil {
		s.fail(c, "load own staff record", err)
		return
	}
	if member != nil {
		if err := s.record(c, event(c, "staff.view", "staff/"+member.ID.Hex(), member.PartnerID, audit.Success)); err != nil {
			s.fail(c, "audit own record view", err)
			return
		}
	}
	var recs personRecords
	if member != nil {
		var ok bool
		if recs, ok = s.loadPersonRecords(c, *member); !ok {
			return
		}
	}
	s.render(c, http.StatusOK, "home-staff", "Your record", struct {
		Member   *staff.Member
		Records  personRecords
		Saved    string
		Evidence string
	}{member, recs, c.Query("saved"), "/my-record/evidence/"})
}

// officerHome shows a partner compliance officer their organisation at a glance.
func (s *Server) officerHome(c *gin.Context) {
	ctx := c.Request.Context()
	scope := principal(c).Scope
	p, err := s.partners.Get(ctx, scope, session(c).Identity.Org)
	if err != nil {
		s.fail(c, "load own partner", err)
		return
	}
	contracts, err := s.partners.Contracts(ctx, scope)
	if err != nil {
		s.fail(c, "load own contracts", err)
		return
	}
	active, err := s.staff.CountActive(ctx, scope, session(c).Identity.Org)
	if err != nil {
		s.fail(c, "count own staff", err)
		return
	}
	s.render(c, http.StatusOK, "home-officer", "Your organisation", struct {
		Partner     partner.Partner
		Contracts   []partner.Contract
		ActiveStaff int64
	}{p, contracts, active})
}

type contractRow struct {
	partner.Contract
	PartnerName string
}

func (s *Server) contractRows(c *gin.Context, contracts []partner.Contract) ([]contractRow, error) {
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		return nil, err
	}
	rows := make([]contractRow, len(contracts))
	for i, ct := range contracts {
		rows[i] = contractRow{Contract: ct, PartnerName: names[ct.PartnerID]}
	}
	return rows, nil
}

// managerHome lists the contracts assigned to a contract manager.
func (s *Server) managerHome(c *gin.Context) {
	s.contractsPage(c, "home-manager", "Your contracts")
}

// leadHome lists every contract: safeguarding leads see the whole portfolio.
func (s *Server) leadHome(c *gin.Context) { s.contractsPage(c, "home-lead", "Portfolio") }

// auditorHome gives auditors a read-only view of the portfolio.
func (s *Server) auditorHome(c *gin.Context) { s.contractsPage(c, "home-auditor", "Oversight") }

// contractsPage lists the contracts within the caller's scope.
func (s *Server) contractsPage(c *gin.Context, name, title string) {
	contracts, err := s.partners.Contracts(c.Request.Context(), principal(c).Scope)
	if err != nil {
		s.fail(c, "load contracts", err)
		return
	}
	rows, err := s.contractRows(c, contracts)
	if err != nil {
		s.fail(c, "load partners", err)
		return
	}
	s.render(c, http.StatusOK, name, title, struct{ Contracts []contractRow }{rows})
}

// fail logs an unexpected error with context and shows the 500 page.
func (s *Server) fail(c *gin.Context, what string, err error) {
	s.log.Error(what, "err", err, "request_id", c.GetString(ctxRequestID))
	s.renderError(c, http.StatusInternalServerError)
}
