package server

import (
	"net/http"

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
	Data      any
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

// render writes a full page; a template failure becomes a 500 page, not half a page.
func (s *Server) render(c *gin.Context, status int, name, title string, data any) {
	p := page{Title: title, Data: data, HomeHref: "/"}
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

func (s *Server) orgName(c *gin.Context, org string) string {
	if org == auth.DepartmentOrg {
		return "Department for Customer Services"
	}
	p, err := s.partners.Get(c.Request.Context(), org)
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
	http.StatusNotFound:            {Heading: "Page not found", Body: "If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address."},
	http.StatusForbidden:           {Heading: "You do not have access to this page", Body: "Your account does not allow you to see this page. If you think it should, contact your organisation's portal administrator."},
	http.StatusMethodNotAllowed:    {Heading: "Page not found", Body: "This page cannot be used that way."},
	http.StatusInternalServerError: {Heading: "Sorry, there is a problem with the service", Body: "Try again later. Nothing you entered has been saved unless you were told it was."},
	http.StatusServiceUnavailable:  {Heading: "Sorry, the service is unavailable", Body: "Try again in a few minutes."},
	http.StatusBadRequest:          {Heading: "Sorry, there is a problem", Body: "The request could not be understood. Go back and try again."},
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
