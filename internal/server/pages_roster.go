package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// reachablePartner is the :partner of the path if the caller may take action
// on it; otherwise the page is not found, so IDs reveal nothing.
func (s *Server) reachablePartner(c *gin.Context, action access.Action) (partner.Partner, bool) {
	p := principal(c)
	id := c.Param("partner")
	if !p.MayOn(action, id) {
		s.notReachable(c, action, "partner", id)
		return partner.Partner{}, false
	}
	org, err := s.partners.Get(c.Request.Context(), p.Scope, id)
	if errors.Is(err, partner.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return partner.Partner{}, false
	}
	if err != nil {
		s.fail(c, "load partner", err)
		return partner.Partner{}, false
	}
	return org, true
}

// rosterPage lists a partner's staff: searched, filtered and a page at a time.
func (s *Server) rosterPage(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.ViewStaff)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	scope := principal(c).Scope
	page, _ := strconv.Atoi(c.Query("page"))
	q := staff.Query{
		Search:   c.Query("q"),
		Category: c.Query("category"),
		Site:     c.Query("site"),
		Status:   c.DefaultQuery("status", staff.StatusActive),
		Page:     page,
	}
	list, err := s.staff.List(ctx, scope, org.ID, q)
	if err != nil {
		s.fail(c, "list roster", err)
		return
	}
	sites, err := s.staff.Sites(ctx, scope, org.ID)
	if err != nil {
		s.fail(c, "list roster sites", err)
		return
	}
	if err := s.record(c, event(c, "staff.list", "partner/"+org.ID+"/staff", org.ID, audit.Success)); err != nil {
		s.fail(c, "audit roster view", err)
		return
	}
	params := url.Values{}
	for k, v := range map[string]string{"q": q.Search, "category": q.Category, "site": q.Site, "status": q.Status} {
		if v != "" {
			params.Set(k, v)
		}
	}
	s.render(c, http.StatusOK, "roster", org.Name+": staff", struct {
		Partner    partner.Partner
		Query      staff.Query
		List       staff.Page
		Sites      []string
		Categories []string
		Pagination map[string]any
		CanEdit    bool
		Export     string
	}{
		Partner: org, Query: q, List: list, Sites: sites, Categories: staff.Categories,
		Pagination: pagination("/partners/"+org.ID+"/staff", params, list.Page, list.Pages),
		CanEdit:    principal(c).MayOn(access.EditStaff, org.ID),
		Export:     "/partners/" + org.ID + "/staff.csv",
	})
}

// pagination is govukPagination's params for a list of pages, keeping the filters.
func pagination(path string, params url.Values, current, pages int) map[string]any {
	if pages <= 1 {
		return nil
	}
	href := func(n int) string {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		return path + "?" + q.Encode()
	}
	var items []any
	last := 0
	for n := 1; n <= pages; n++ {
		// First, last and two either side of the current page; ellipses between.
		if n != 1 && n != pages && (n < current-2 || n > current+2) {
			continue
		}
		if last != 0 && n > last+1 {
			items = append(items, map[string]any{"ellipsis": true})
		}
		items = append(items, map[string]any{"number": strconv.Itoa(n), "href": href(n), "current": n == current})
		last = n
	}
	p := map[string]any{"items": items}
	if current > 1 {
		p["previous"] = map[string]any{"href": href(current - 1)}
	}
	if current < pages {
		p["next"] = map[string]any{"href": href(current + 1)}
	}
	return p
}

// reachableMember is the :staffID on the :partner's roster, if the caller may
// take action on it; otherwise the page is not found.
func (s *Server) reachableMember(c *gin.Context, action access.Action) (partner.Partner, staff.Member, bool) {
	org, ok := s.reachablePartner(c, action)
	if !ok {
		return org, staff.Member{}, false
	}
	m, err := s.staff.Get(c.Request.Context(), principal(c).Scope, org.ID, c.Param("staffID"))
	if errors.Is(err, staff.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return org, m, false
	}
	if err != nil {
		s.fail(c, "load staff member", err)
		return org, m, false
	}
	return org, m, true
}

// staffRecord shows one person on a roster. Viewing it is recorded.
func (s *Server) staffRecord(c *gin.Context) {
	org, m, ok := s.reachableMember(c, access.ViewStaff)
	if !ok {
		return
	}
	if err := s.record(c, event(c, "staff.view", "staff/"+m.ID.Hex(), m.PartnerID, audit.Success)); err != nil {
		s.fail(c, "audit staff view", err)
		return
	}
	recs, ok := s.loadPersonRecords(c, m)
	if !ok {
		return
	}
	p := principal(c)
	s.render(c, http.StatusOK, "staff-record", m.Name, struct {
		Member      staff.Member
		Partner     partner.Partner
		CanEdit     bool
		CanEvidence bool
		Saved       string
		Records     personRecords
		Evidence    string
	}{m, org, p.MayOn(access.EditStaff, org.ID), p.MayOn(access.ViewEvidence, org.ID), c.Query("saved"), recs, "/partners/" + org.ID + "/evidence/"})
}

// rosterCSV exports the partner's whole roster, leavers included.
func (s *Server) rosterCSV(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.ViewStaff)
	if !ok {
		return
	}
	if err := s.record(c, event(c, "staff.export", "partner/"+org.ID+"/staff", org.ID, audit.Success)); err != nil {
		s.fail(c, "audit roster export", err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+org.ID+`-staff.csv"`)
	c.Status(http.StatusOK)
	out := rostercsv.NewExporter(c.Writer)
	err := s.staff.Each(c.Request.Context(), principal(c).Scope, org.ID, func(m staff.Member) error {
		return out.Write(rostercsv.ExportRow{
			StaffNumber: m.StaffNumber, Name: m.Name, Email: m.Email, RoleTitle: m.RoleTitle, Category: m.Category,
			Sites: m.Sites, StartDate: m.StartDate, LeavingDate: m.LeavingDate, Active: m.Active,
		})
	})
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		// Headers are gone; a truncated file and the log are all that is left.
		s.log.Error("write roster CSV", "err", err, "request_id", c.GetString(ctxRequestID))
	}
}

// rosterTemplate is the CSV template officers fill in or match their HR export to.
func (s *Server) rosterTemplate(c *gin.Context) {
	c.Header("Content-Disposition", `attachment; filename="staff-roster-template.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", rostercsv.Template())
}
