package server

import (
	"errors"
	"net/http"

	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

// signIn starts the authorization code flow: the attempt (state, nonce, PKCE
// verifier) stays on the server, bound to this browser by a short-lived cookie.
func (s *Server) signIn(c *gin.Context) {
	token, redirect, err := s.login.Begin(c.Request.Context(), s.sessions)
	if err != nil {
		s.log.Error("begin sign-in", "err", err, "request_id", c.GetString(ctxRequestID))
		s.renderError(c, http.StatusServiceUnavailable)
		return
	}
	s.setCookie(c, s.loginCookieName(), token, 15*60)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, redirect)
}

// authCallback finishes the flow and starts a new session, ending any old one.
func (s *Server) authCallback(c *gin.Context) {
	ctx := c.Request.Context()
	attempt, _ := c.Cookie(s.loginCookieName())
	s.setCookie(c, s.loginCookieName(), "", -1)
	c.Header("Cache-Control", "no-store")

	id, rawIDToken, err := s.login.Complete(ctx, s.sessions, attempt, c.Request.URL.Query())
	var noAccess *auth.NoAccessError
	switch {
	case errors.As(err, &noAccess):
		s.log.Warn("sign-in refused: no recognised role or organisation", "request_id", c.GetString(ctxRequestID))
		s.render(c, http.StatusForbidden, "no-access", "You do not have access to this service", nil)
		return
	case errors.Is(err, auth.ErrLoginFailed):
		s.log.Warn("sign-in failed", "reason", err.Error(), "request_id", c.GetString(ctxRequestID))
		s.render(c, http.StatusBadRequest, "sign-in-failed", "Sign in did not work", nil)
		return
	case err != nil:
		s.log.Error("sign-in", "err", err, "request_id", c.GetString(ctxRequestID))
		s.renderError(c, http.StatusServiceUnavailable)
		return
	}
	if old, err := c.Cookie(s.sessionCookieName()); err == nil {
		if err := s.sessions.End(ctx, old); err != nil {
			s.log.Error("end previous session", "err", err, "request_id", c.GetString(ctxRequestID))
		}
	}
	token, _, err := s.sessions.Create(ctx, id, rawIDToken)
	if err != nil {
		s.log.Error("create session", "err", err, "request_id", c.GetString(ctxRequestID))
		s.renderError(c, http.StatusServiceUnavailable)
		return
	}
	// No Max-Age: the cookie ends with the browser; the server enforces the lifetimes.
	s.setCookie(c, s.sessionCookieName(), token, 0)
	s.log.Info("signed in", "role", string(id.PrimaryRole()), "org", id.Org, "request_id", c.GetString(ctxRequestID))
	home, ok := homePaths[id.PrimaryRole()]
	if !ok {
		home = "/"
	}
	c.Redirect(http.StatusSeeOther, home)
}

// signOut ends the session here, then asks the provider to end its own.
func (s *Server) signOut(c *gin.Context) {
	ctx := c.Request.Context()
	sess := session(c)
	token := c.GetString(ctxToken)
	if err := s.sessions.End(ctx, token); err != nil {
		s.log.Error("end session", "err", err, "request_id", c.GetString(ctxRequestID))
		s.renderError(c, http.StatusServiceUnavailable)
		return
	}
	s.setCookie(c, s.sessionCookieName(), "", -1)
	c.Header("Cache-Control", "no-store")
	signedOut := s.cfg.BaseURL + "/signed-out"
	if u := s.login.LogoutURL(ctx, sess.IDToken, signedOut); u != "" {
		c.Redirect(http.StatusSeeOther, u)
		return
	}
	c.Redirect(http.StatusSeeOther, "/signed-out")
}
