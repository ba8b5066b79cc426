package server

import (
	"net/http"
	"slices"
	"time"

	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"

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

// officerHome shows a partner compliance officer their organisation at a
// glance: each contract's rating as the department sees it, what the
// department is waiting for (actions and information requests), and what
// its latest inspections found.
func (s *Server) officerHome(c *gin.Context) {
	ctx := c.Request.Context()
	scope := principal(c).Scope
	org := session(c).Identity.Org
	p, err := s.partners.Get(ctx, scope, org)
	if err != nil {
		s.fail(c, "load own partner", err)
		return
	}
	active, err := s.staff.CountActive(ctx, scope, org)
	if err != nil {
		s.fail(c, "count own staff", err)
		return
	}
	rows, _, _, err := s.dashboardRows(c)
	if err != nil {
		s.fail(c, "rate own contracts", err)
		return
	}
	// The dashboard's read leaves findings out; a partner has a few contracts.
	for i := range rows {
		if in := rows[i].Inspection; in != nil {
			full, err := s.oversight.GetInspection(ctx, scope, in.ID.Hex())
			if err != nil {
				s.fail(c, "read inspection findings", err)
				return
			}
			rows[i].Inspection = &full
		}
	}
	var toDo []oversight.Action
	for _, status := range []string{oversight.Open, oversight.Returned} {
		as, _, err := s.oversight.ListActions(ctx, scope, oversight.ActionFilter{Status: status}, 1, officerHomeList)
		if err != nil {
			s.fail(c, "list own actions", err)
			return
		}
		toDo = append(toDo, as...)
	}
	slices.SortFunc(toDo, func(a, b oversight.Action) int { return a.DueOn.Compare(b.DueOn) })
	requests, requestsTotal, err := s.incidents.Search(ctx, scope, incident.Filter{Status: incident.InformationRequested}, 1, officerHomeList)
	if err != nil {
		s.fail(c, "list information requests", err)
		return
	}
	var suspended []dashboardRow
	for _, r := range rows {
		if r.Contract.Status == partner.Suspended {
			suspended = append(suspended, r)
		}
	}
	s.render(c, http.StatusOK, "home-officer", "Your organisation", struct {
		Partner       partner.Partner
		ActiveStaff   int64
		Contracts     []dashboardRow
		Suspended     []dashboardRow
		Actions       []oversight.Action
		Requests      []incident.Incident
		RequestsTotal int64
		MoreRequests  bool
		Now           time.Time
	}{p, active, rows, suspended, toDo, requests, requestsTotal, requestsTotal > int64(len(requests)), time.Now()})
}

// officerHomeList bounds each list on the officer's home page; each links
// to the whole list.
const officerHomeList = 10

// fail logs an unexpected error with context and shows the 500 page.
func (s *Server) fail(c *gin.Context, what string, err error) {
	s.log.Error(what, "err", err, "request_id", c.GetString(ctxRequestID))
	s.renderError(c, http.StatusInternalServerError)
}
