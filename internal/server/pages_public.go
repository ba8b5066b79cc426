package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// start is the service's front door; signed-in people go straight to their home page.
func (s *Server) start(c *gin.Context) {
	if sess := session(c); sess != nil {
		if home, ok := homePaths[sess.Identity.PrimaryRole()]; ok {
			c.Redirect(http.StatusSeeOther, home)
			return
		}
	}
	s.render(c, http.StatusOK, "start", "", nil)
}

func (s *Server) cookies(c *gin.Context) {
	s.render(c, http.StatusOK, "cookies", "Cookies", struct{ SessionCookie, LoginCookie string }{s.sessionCookieName(), s.loginCookieName()})
}

func (s *Server) accessibility(c *gin.Context) {
	s.render(c, http.StatusOK, "accessibility", "Accessibility statement", nil)
}

func (s *Server) signedOut(c *gin.Context) {
	s.render(c, http.StatusOK, "signed-out", "You have signed out", nil)
}
