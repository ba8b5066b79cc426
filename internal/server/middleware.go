package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

const (
	ctxRequestID = "request_id"
	ctxSession   = "session"
	ctxToken     = "session_token"
)

// requestID tags every request so a person's report, the logs and (later) the
// audit trail can be matched. Incoming IDs are ignored: clients could forge them.
func requestID(c *gin.Context) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// accessLog logs the path without its query string: the OIDC callback's code
// and state must never reach the logs.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.String("route", c.FullPath()),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", time.Since(start)),
		slog.String("request_id", c.GetString(ctxRequestID)),
	)
}

// recoverPanic answers a GOV.UK error page and logs the panic without the
// request's headers, which hold session cookies.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.log.Error("panic serving request", "panic", r, "route", c.FullPath(), "request_id", c.GetString(ctxRequestID))
			if !c.Writer.Written() {
				s.renderError(c, http.StatusInternalServerError)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// securityHeaders applies to every response. The CSP allows no inline script or
// style at all; forms may post only here and, for sign-out, to the provider.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action "+s.formAction+"; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.cfg.SecureCookies() {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	c.Next()
}

// formAction lists where forms may post: here, and the providers' end-session
// endpoints, which sign-out redirects to.
func formAction(base string, providers *auth.Providers) string {
	sources := []string{"'self'"}
	for _, l := range providers.List() {
		if u, err := url.Parse(l.Issuer()); err == nil && !strings.HasPrefix(l.Issuer(), base) {
			if src := u.Scheme + "://" + u.Host; !slices.Contains(sources, src) {
				sources = append(sources, src)
			}
		}
	}
	return strings.Join(sources, " ")
}

// noStore keeps pages with personal data out of every cache.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

func (s *Server) sessionCookieName() string {
	if s.cfg.SecureCookies() {
		return "__Host-portal_session"
	}
	return "portal_session"
}

func (s *Server) loginCookieName() string {
	if s.cfg.SecureCookies() {
		return "__Host-portal_login"
	}
	return "portal_login"
}

// setCookie writes a host-only, HttpOnly, SameSite=Lax cookie; Lax so that it
// survives the top-level redirect back from the identity provider.
func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
}

// loadSession attaches the signed-in person's session, if any.
func (s *Server) loadSession(c *gin.Context) {
	token, err := c.Cookie(s.sessionCookieName())
	if err == nil && token != "" {
		sess, err := s.sessions.Lookup(c.Request.Context(), token)
		switch {
		case err == nil:
			c.Set(ctxSession, sess)
			c.Set(ctxToken, token)
		case errors.Is(err, auth.ErrNoSession):
			s.setCookie(c, s.sessionCookieName(), "", -1)
		default:
			s.log.Error("load session", "err", err, "request_id", c.GetString(ctxRequestID))
			s.renderError(c, http.StatusServiceUnavailable)
			c.Abort()
			return
		}
	}
	c.Next()
}

func session(c *gin.Context) *auth.Session {
	if v, ok := c.Get(ctxSession); ok {
		return v.(*auth.Session)
	}
	return nil
}

// checkCSRF refuses state-changing requests that do not carry the session's
// token, or that come from another origin.
func (s *Server) checkCSRF(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" && origin != s.cfg.BaseURL {
		s.renderError(c, http.StatusForbidden)
		c.Abort()
		return
	}
	// Read the form here, where a failure can be told apart from a missing
	// token: a body cut off at the size cap, or by the client, is not an
	// attack, and the person should be told what to do.
	if err := readForm(c); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderTooLarge(c)
		} else {
			s.renderError(c, http.StatusBadRequest)
		}
		c.Abort()
		return
	}
	sess := session(c)
	if sess == nil || subtle.ConstantTimeCompare([]byte(c.PostForm("csrf_token")), []byte(sess.CSRFToken)) != 1 {
		s.renderError(c, http.StatusForbidden)
		c.Abort()
		return
	}
	c.Next()
}

// readForm parses the request's form, multipart or not.
func readForm(c *gin.Context) error {
	if strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		return c.Request.ParseMultipartForm(multipartMemory)
	}
	return c.Request.ParseForm()
}

// multipartMemory is how much of an upload is held in memory; the rest goes
// to a temporary file until the request ends.
const multipartMemory = 32 << 20

// renderTooLarge says how large a file may be, on the page the too-large
// form was sent to.
func (s *Server) renderTooLarge(c *gin.Context) {
	e := errorPages[http.StatusRequestEntityTooLarge]
	switch c.FullPath() {
	case importUploadRoute, completionsUploadRoute:
		e.Body = "The selected file must be smaller than 20 MB. Go back and choose a smaller file, or split it into several files."
	case trainingUploadRoute, vettingUploadRoute, ownTrainingUploadRoute:
		e.Body = fmt.Sprintf("The selected file must be smaller than %d MB. Go back and choose a smaller file: "+
			"a scan at a lower resolution, or a PDF saved at a smaller size.", s.evidenceMaxBytes()>>20)
	case inspectionCompleteRoute, actionRespondRoute:
		e.Body = fmt.Sprintf("Each file must be smaller than %d MB, and you can send up to %d at once. Go back and choose smaller or fewer files.",
			s.evidenceMaxBytes()>>20, maxUploadFiles)
	}
	e.Status = http.StatusRequestEntityTooLarge
	e.RequestID = c.GetString(ctxRequestID)
	c.Header("Cache-Control", "no-store")
	s.render(c, e.Status, "error", e.Heading, e)
}

// requireSignIn sends people without a session to the start page.
func (s *Server) requireSignIn(c *gin.Context) {
	if session(c) == nil {
		c.Redirect(http.StatusSeeOther, "/")
		c.Abort()
		return
	}
	c.Next()
}

// requireRole lets through only people holding one of roles.
func (s *Server) requireRole(roles ...auth.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		sess := session(c)
		if sess == nil {
			c.Redirect(http.StatusSeeOther, "/")
			c.Abort()
			return
		}
		for _, r := range roles {
			if sess.Identity.Has(r) {
				c.Next()
				return
			}
		}
		s.renderError(c, http.StatusForbidden)
		c.Abort()
	}
}
