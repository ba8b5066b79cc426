package server

import (
	"net/http"

	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// staffHome shows a partner staff member their own roster record.
func (s *Server) staffHome(c *gin.Context) {
	id := session(c).Identity
	member, err := s.staff.ByEmail(c.Request.Context(), id.Org, id.Email)
	if err != nil {
		s.fail(c, "load own staff record", err)
		return
	}
	s.render(c, http.StatusOK, "home-staff", "Your record", struct{ Member *staff.Member }{member})
}

// officerHome shows a partner compliance officer their organisation at a glance.
func (s *Server) officerHome(c *gin.Context) {
	ctx := c.Request.Context()
	org := session(c).Identity.Org
	p, err := s.partners.Get(ctx, org)
	if err != nil {
		s.fail(c, "load own partner", err)
		return
	}
	contracts, err := s.partners.Contracts(ctx, org)
	if err != nil {
		s.fail(c, "load own contracts", err)
		return
	}
	active, err := s.staff.CountActive(ctx, org)
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
	partners, err := s.partners.List(c.Request.Context())
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(partners))
	for _, p := range partners {
		names[p.ID] = p.Name
	}
	rows := make([]contractRow, len(contracts))
	for i, ct := range contracts {
		rows[i] = contractRow{Contract: ct, PartnerName: names[ct.PartnerID]}
	}
	return rows, nil
}

// managerHome lists the contracts assigned to a contract manager.
func (s *Server) managerHome(c *gin.Context) {
	contracts, err := s.partners.ManagedContracts(c.Request.Context(), session(c).Identity.Subject)
	if err != nil {
		s.fail(c, "load managed contracts", err)
		return
	}
	s.contractsPage(c, "home-manager", "Your contracts", contracts)
}

// leadHome lists every contract: safeguarding leads see the whole portfolio.
func (s *Server) leadHome(c *gin.Context) {
	contracts, err := s.partners.AllContracts(c.Request.Context())
	if err != nil {
		s.fail(c, "load contracts", err)
		return
	}
	s.contractsPage(c, "home-lead", "Portfolio", contracts)
}

// auditorHome gives auditors a read-only view of the portfolio.
func (s *Server) auditorHome(c *gin.Context) {
	contracts, err := s.partners.AllContracts(c.Request.Context())
	if err != nil {
		s.fail(c, "load contracts", err)
		return
	}
	s.contractsPage(c, "home-auditor", "Oversight", contracts)
}

func (s *Server) contractsPage(c *gin.Context, name, title string, contracts []partner.Contract) {
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
