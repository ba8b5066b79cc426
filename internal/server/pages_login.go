package server

import (
	"errors"
	"net/http"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

// signIn sends people straight to the only provider, or lets them choose.
func (s *Server) signIn(c *gin.Context) {
	providers := s.providers.List()
	if len(providers) == 1 {
		s.beginSignIn(c, providers[0])
		return
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, "sign-in-choose", "How do you want to sign in?", struct{ Providers []*auth.Login }{providers})
}

// signInWith starts sign-in through the provider the chooser links to.
func (s *Server) signInWith(c *gin.Context) {
	l, ok := s.providers.Get(c.Param("provider"))
	if !ok {
		s.renderError(c, http.StatusNotFound)
		return
	}
	s.beginSignIn(c, l)
}

// beginSignIn starts the authorization code flow: the attempt (state, nonce,
// PKCE verifier) stays on the server, bound to this browser by a short-lived cookie.
func (s *Server) beginSignIn(c *gin.Context, l *auth.Login) {
	token, redirect, err := l.Begin(c.Request.Context(), s.sessions)
	if err != nil {
		s.log.Error("begin sign-in", "provider", l.ID(), "err", err, "request_id", c.GetString(ctxRequestID))
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

	id, rawIDToken, err := s.providers.Complete(ctx, s.sessions, attempt, c.Request.URL.Query())
	if err == nil {
		err = s.knownOrganisation(c, id)
	}
	if noAccess := (*auth.NoAccessError)(nil); errors.As(err, &noAccess) {
		id.Subject, id.Issuer = noAccess.Subject, noAccess.Issuer
		if noAccess.Subject == "" {
			noAccess.Subject, noAccess.Issuer = id.Subject, id.Issuer
		}
	}
	var noAccess *auth.NoAccessError
	switch {
	case errors.As(err, &noAccess):
		s.log.Warn("sign-in refused: no recognised role or organisation", "request_id", c.GetString(ctxRequestID))
		e := event(c, "sign_in", "session", "", audit.Denied)
		e.Actor = audit.Actor{Kind: "person", Subject: id.Subject, Issuer: id.Issuer}
		e.Detail = "no recognised role or organisation"
		if err := s.record(c, e); err != nil {
			s.fail(c, "audit refused sign-in", err)
			return
		}
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
	token, sess, err := s.sessions.Create(ctx, id, rawIDToken)
	if err != nil {
		s.log.Error("create session", "err", err, "request_id", c.GetString(ctxRequestID))
		s.renderError(c, http.StatusServiceUnavailable)
		return
	}
	c.Set(ctxSession, sess)
	if err := s.people.Seen(ctx, id); err != nil {
		// Only escalation e-mail needs it, and it falls back to the configured addresses.
		s.log.Error("remember department person", "err", err, "request_id", c.GetString(ctxRequestID))
	}
	e := event(c, "sign_in", "session/"+sess.Ref, "", audit.Success)
	if id.Org != auth.DepartmentOrg {
		e.PartnerID = id.Org
	}
	e.Detail = "through " + id.Provider
	if err := s.record(c, e); err != nil {
		// No session may exist that the trail does not know about.
		_ = s.sessions.End(ctx, token)
		s.fail(c, "audit sign-in", err)
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

// knownOrganisation refuses people whose organisation is neither the
// department nor a partner the portal holds.
func (s *Server) knownOrganisation(c *gin.Context, id auth.Identity) error {
	if id.Org == auth.DepartmentOrg {
		return nil
	}
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		return err
	}
	if _, ok := names[id.Org]; !ok {
		return &auth.NoAccessError{Rejected: []string{"unknown organisation"}}
	}
	return nil
}

// signOut ends the session here, then asks the provider to end its own.
func (s *Server) signOut(c *gin.Context) {
	ctx := c.Request.Context()
	sess := session(c)
	token := c.GetString(ctxToken)
	e := event(c, "sign_out", "session/"+sess.Ref, "", audit.Success)
	if sess.Identity.Org != auth.DepartmentOrg {
		e.PartnerID = sess.Identity.Org
	}
	if err := s.record(c, e); err != nil {
		s.fail(c, "audit sign-out", err)
		return
	}
	if err := s.sessions.End(ctx, token); err != nil {
		s.log.Error("end session", "err", err, "request_id", c.GetString(ctxRequestID))
		s.renderError(c, http.StatusServiceUnavailable)
		return
	}
	s.setCookie(c, s.sessionCookieName(), "", -1)
	c.Header("Cache-Control", "no-store")
	signedOut := s.cfg.BaseURL + "/signed-out"
	if l, ok := s.providers.Get(sess.Identity.Provider); ok {
		if u := l.LogoutURL(ctx, sess.IDToken, signedOut); u != "" {
			c.Redirect(http.StatusSeeOther, u)
			return
		}
	}
	c.Redirect(http.StatusSeeOther, "/signed-out")
}
