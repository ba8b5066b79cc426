package server

import (
	"net/http"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

// page is what the layout needs around every page's own data.
type page struct {
	Title     string
	User      *auth.Identity
	OrgName   string
	CSRFToken string
	Nav       []navItem
	HomeHref  string
	// Refresh is how many seconds until the page reloads itself; 0 never.
	Refresh int
	Data    any
}

type navItem struct {
	Href   string
	Text   string
	Active bool
}

// NavItems turns the navigation into govukServiceNavigation's params.
func (p page) NavItems() []map[string]any {
	items := make([]map[string]any, 0, len(p.Nav))
	for _, n := range p.Nav {
		items = append(items, map[string]any{"href": n.Href, "text": n.Text, "active": n.Active})
	}
	return items
}

// extraNav are the pages beyond each role's home that earn a navigation link.
var extraNav = []struct {
	action     access.Action
	href, text string
}{
	{access.ViewReports, "/reports", "Reports"},
	{access.ManageSessions, "/sessions", "Sessions"},
	{access.ViewAudit, "/audit", "Audit trail"},
}

// render writes a full page; a template failure becomes a 500 page, not half a page.
func (s *Server) render(c *gin.Context, status int, name, title string, data any) {
	p := page{Title: title, Data: data, HomeHref: "/"}
	// A page still waiting on work done elsewhere says so by its data.
	if r, ok := data.(interface{ RefreshAfter() int }); ok {
		p.Refresh = r.RefreshAfter()
	}
	if sess := session(c); sess != nil {
		id := sess.Identity
		p.User = &id
		p.CSRFToken = sess.CSRFToken
		p.OrgName = s.orgName(c, id.Org)
		for _, r := range id.Roles {
			if href, ok := homePaths[r]; ok {
				p.Nav = append(p.Nav, navItem{Href: href, Text: homeTitles[r], Active: c.Request.URL.Path == href})
			}
		}
		who := access.PersonPrincipal(id, access.Scope{})
		for _, extra := range extraNav {
			if who.May(extra.action) {
				path := c.Request.URL.Path
				p.Nav = append(p.Nav, navItem{Href: extra.href, Text: extra.text, Active: path == extra.href || strings.HasPrefix(path, extra.href+"/")})
			}
		}
		p.HomeHref = homePaths[id.PrimaryRole()]
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := s.views.Render(c.Writer, name, p); err != nil {
		s.log.Error("render page", "page", name, "err", err, "request_id", c.GetString(ctxRequestID))
		if name != "error" {
			s.renderError(c, http.StatusInternalServerError)
		}
	}
}

const departmentName = "Department for Customer Services"

func (s *Server) orgName(c *gin.Context, org string) string {
	if org == auth.DepartmentOrg {
		return departmentName
	}
	p, err := s.partners.Get(c.Request.Context(), access.PartnerScope(org), org)
	if err != nil {
		return org
	}
	return p.Name
}

type errorPage struct {
	Status    int
	Heading   string
	Body      string
	RequestID string
}

var errorPages = map[int]errorPage{
	http.StatusNotFound:              {Heading: "Page not found", Body: "If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address."},
	http.StatusForbidden:             {Heading: "You do not have access to this page", Body: "Your account does not allow you to see this page. If you think it should, contact your organisation's portal administrator."},
	http.StatusMethodNotAllowed:      {Heading: "Page not found", Body: "This page cannot be used that way."},
	http.StatusInternalServerError:   {Heading: "Sorry, there is a problem with the service", Body: "Try again later. Nothing you entered has been saved unless you were told it was."},
	http.StatusServiceUnavailable:    {Heading: "Sorry, the service is unavailable", Body: "Try again in a few minutes."},
	http.StatusBadRequest:            {Heading: "Sorry, there is a problem", Body: "The request could not be understood. Go back and try again."},
	http.StatusRequestEntityTooLarge: {Heading: "The file or form is too large", Body: "Go back and send less at once."},
	http.StatusGone:                  {Heading: "This file has been deleted", Body: "The evidence was verified and then deleted at the end of its retention period, as the DBS code of practice expects. The record of the check and the file's fingerprint are kept."},
}

// renderError shows the GOV.UK error page for status.
func (s *Server) renderError(c *gin.Context, status int) {
	e, ok := errorPages[status]
	if !ok {
		e = errorPages[http.StatusInternalServerError]
	}
	e.Status = status
	e.RequestID = c.GetString(ctxRequestID)
	c.Header("Cache-Control", "no-store")
	s.render(c, status, "error", e.Heading, e)
}
