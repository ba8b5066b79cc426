package server

import (
	"net/http"
	"strings"

	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/gin-gonic/gin"
)

// routes is the map of the product: every route, and who may use it.
func (s *Server) routes() error {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Trust no proxy unless configured, or X-Forwarded-For could forge client IPs.
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return err
	}
	r.HandleMethodNotAllowed = true
	r.Use(requestID, s.recoverPanic, s.securityHeaders, s.metrics.observe, s.accessLog)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics.handler())
	r.GET("/assets/:version/*file", s.asset)
	if s.devIdP != nil {
		// The development provider is its own application with its own forms;
		// the portal's session and CSRF checks do not apply to it.
		r.Any("/dev-idp/*path", gin.WrapH(s.devIdP))
	}

	pages := r.Group("/", s.loadSession, s.checkCSRF)
	pages.GET("/", s.start)
	pages.GET("/cookies", s.cookies)
	pages.GET("/accessibility", s.accessibility)
	pages.GET("/sign-in", s.signIn)
	pages.GET("/auth/callback", s.authCallback)
	pages.GET("/signed-out", s.signedOut)
	pages.POST("/sign-out", s.signOut)

	private := pages.Group("/", s.requireSignIn, noStore)
	private.GET("/my-record", s.requireRole(auth.PartnerStaff), s.staffHome)
	private.GET("/organisation", s.requireRole(auth.PartnerComplianceOfficer), s.officerHome)
	private.GET("/contracts", s.requireRole(auth.ContractManager), s.managerHome)
	private.GET("/portfolio", s.requireRole(auth.SafeguardingLead), s.leadHome)
	private.GET("/oversight", s.requireRole(auth.Auditor), s.auditorHome)

	r.NoRoute(s.loadSession, func(c *gin.Context) { s.renderError(c, http.StatusNotFound) })
	r.NoMethod(s.loadSession, func(c *gin.Context) { s.renderError(c, http.StatusMethodNotAllowed) })
	s.engine = r
	return nil
}

// homePaths is each role's landing page.
var homePaths = map[auth.Role]string{
	auth.PartnerStaff:             "/my-record",
	auth.PartnerComplianceOfficer: "/organisation",
	auth.ContractManager:          "/contracts",
	auth.SafeguardingLead:         "/portfolio",
	auth.Auditor:                  "/oversight",
}

var homeTitles = map[auth.Role]string{
	auth.PartnerStaff:             "Your record",
	auth.PartnerComplianceOfficer: "Your organisation",
	auth.ContractManager:          "Your contracts",
	auth.SafeguardingLead:         "Portfolio",
	auth.Auditor:                  "Oversight",
}

func (s *Server) healthz(c *gin.Context) { c.String(http.StatusOK, "ok\n") }

func (s *Server) readyz(c *gin.Context) {
	if err := s.store.Ping(c.Request.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		c.String(http.StatusServiceUnavailable, "store unreachable\n")
		return
	}
	c.String(http.StatusOK, "ready\n")
}

func (s *Server) asset(c *gin.Context) {
	if c.Param("version") != s.views.Assets.Version ||
		!s.views.Assets.ServeHTTP(c.Writer, c.Request, strings.TrimPrefix(c.Param("file"), "/")) {
		c.Header("Cache-Control", "no-store")
		c.String(http.StatusNotFound, "not found\n")
	}
}
