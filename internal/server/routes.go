package server

import (
	"net/http"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
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
	r.Use(s.everyRequest()...)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics.handler())
	r.GET("/assets/:version/*file", s.asset)
	if s.devIdP != nil {
		// The development provider is its own application with its own forms;
		// the portal's session and CSRF checks do not apply to it.
		r.Any("/dev-idp/*path", gin.WrapH(s.devIdP))
	}

	// The API: bearer tokens, never cookies, so no CSRF; errors as problem+json.
	r.GET("/api/v1/openapi.json", apiOpenAPI)
	api := r.Group("/api/v1", noStore, s.apiAuth)
	api.GET("/contracts", s.apiAllow(access.ViewContracts, "incidents:read"), s.apiContracts)
	api.POST("/incidents", s.apiAllow(access.CreateIncident, "incidents:write"), s.apiNotify)
	api.GET("/incidents", s.apiAllow(access.ViewIncidents, "incidents:read"), s.apiListIncidents)
	api.GET("/incidents/:id", s.apiAllow(access.ViewIncidents, "incidents:read"), s.apiGetIncident)
	api.POST("/incidents/:id/updates", s.apiAllow(access.CreateIncident, "incidents:write"), s.apiAddUpdate)
	api.POST("/incidents/:id/responses", s.apiAllow(access.CreateIncident, "incidents:write"), s.apiRespond)

	pages := r.Group("/", s.pageChecks()...)
	pages.GET("/", s.start)
	pages.GET("/cookies", s.cookies)
	pages.GET("/accessibility", s.accessibility)
	pages.GET("/sign-in", s.limitSignIn, s.signIn)
	pages.GET("/sign-in/:provider", s.limitSignIn, s.signInWith)
	pages.GET("/auth/callback", s.limitSignIn, s.authCallback)
	pages.GET("/signed-out", s.signedOut)
	pages.POST("/sign-out", s.signOut)

	private := pages.Group("/", s.signedInChecks()...)
	private.GET("/my-record", s.requireRole(auth.PartnerStaff), s.staffHome)
	private.GET("/organisation", s.requireRole(auth.PartnerComplianceOfficer), s.officerHome)
	private.GET("/contracts", s.requireRole(auth.ContractManager), s.dashboard("home-manager", "Your contracts"))
	private.GET("/portfolio", s.requireRole(auth.SafeguardingLead), s.dashboard("home-lead", "Portfolio"))
	private.GET("/oversight", s.requireRole(auth.Auditor), s.dashboard("home-auditor", "Oversight"))
	private.GET("/dashboard.csv", s.allow(access.ViewPortfolio), s.dashboardCSV)
	private.GET("/partners/:partner", s.allow(access.ViewPartner), s.partnerPage)
	private.GET("/partners/:partner/staff", s.allow(access.ViewStaff), s.rosterPage)
	private.GET("/partners/:partner/staff.csv", s.allow(access.ViewStaff), s.rosterCSV)
	private.GET("/partners/:partner/staff/:staffID", s.allow(access.ViewStaff), s.staffRecord)
	private.GET("/partners/:partner/staff/new", s.allow(access.EditStaff), s.newStaff)
	private.POST("/partners/:partner/staff/new", s.allow(access.EditStaff), s.newStaff)
	private.GET("/partners/:partner/staff/:staffID/edit", s.allow(access.EditStaff), s.editStaff)
	private.POST("/partners/:partner/staff/:staffID/edit", s.allow(access.EditStaff), s.editStaff)
	private.GET("/partners/:partner/staff/:staffID/leave", s.allow(access.EditStaff), s.staffLeft)
	private.POST("/partners/:partner/staff/:staffID/leave", s.allow(access.EditStaff), s.staffLeft)
	private.GET("/roster-template.csv", s.allow(access.EditStaff), s.rosterTemplate)
	private.GET(importUploadRoute, s.allow(access.EditStaff), s.importUpload)
	private.POST(importUploadRoute, s.allow(access.EditStaff), s.importUpload)
	private.GET("/partners/:partner/staff/imports/:importID", s.allow(access.EditStaff), s.importCheck)
	private.POST("/partners/:partner/staff/imports/:importID", s.allow(access.EditStaff), s.importCheck)
	private.GET("/training-completions-template.csv", s.allow(access.EditStaff), s.completionsTemplate)
	private.GET(completionsUploadRoute, s.allow(access.EditStaff), s.completionsUpload)
	private.POST(completionsUploadRoute, s.allow(access.EditStaff), s.completionsUpload)
	private.GET("/partners/:partner/training/imports/:importID", s.allow(access.EditStaff), s.completionsCheck)
	private.POST("/partners/:partner/training/imports/:importID", s.allow(access.EditStaff), s.completionsCheck)
	private.GET("/partners/new", s.allow(access.ManageContracts), s.newPartner)
	private.POST("/partners/new", s.allow(access.ManageContracts), s.newPartner)
	private.GET("/partners/:partner/edit", s.allow(access.ManageContracts), s.editPartner)
	private.POST("/partners/:partner/edit", s.allow(access.ManageContracts), s.editPartner)
	private.GET("/partners/:partner/contracts/new", s.allow(access.ManageContracts), s.newContract)
	private.POST("/partners/:partner/contracts/new", s.allow(access.ManageContracts), s.newContract)
	private.GET("/contracts/:contract", s.allow(access.ViewContracts), s.contractPage)
	private.GET("/contracts/:contract/edit", s.allow(access.ManageContracts), s.editContract)
	private.POST("/contracts/:contract/edit", s.allow(access.ManageContracts), s.editContract)
	private.GET("/contracts/:contract/status", s.allow(access.ManageContracts), s.contractStatus)
	private.POST("/contracts/:contract/status", s.allow(access.ManageContracts), s.contractStatus)
	private.GET("/contracts/:contract/requirements", s.allow(access.ManageContracts), s.contractRequirements)
	private.POST("/contracts/:contract/requirements", s.allow(access.ManageContracts), s.contractRequirements)
	private.GET("/partners/:partner/compliance", s.allow(access.ViewStaff), s.partnerCompliance)
	private.GET(trainingUploadRoute, s.allow(access.EditStaff), s.newTraining)
	private.POST(trainingUploadRoute, s.allow(access.EditStaff), s.newTraining)
	private.GET(vettingUploadRoute, s.allow(access.EditStaff), s.newVetting)
	private.POST(vettingUploadRoute, s.allow(access.EditStaff), s.newVetting)
	private.GET(ownTrainingUploadRoute, s.allow(access.RecordOwnTraining), s.newOwnTraining)
	private.POST(ownTrainingUploadRoute, s.allow(access.RecordOwnTraining), s.newOwnTraining)
	private.GET("/my-record/evidence/:file", s.allow(access.ViewOwnRecord), s.ownEvidenceDownload)
	private.GET("/partners/:partner/evidence/:file", s.allow(access.ViewEvidence), s.evidenceDownload)
	private.GET("/verification", s.allow(access.VerifyEvidence), s.verificationQueue)
	private.GET("/verification/:record", s.allow(access.VerifyEvidence), s.decideRecord)
	private.POST("/verification/:record", s.allow(access.VerifyEvidence), s.decideRecord)
	s.incidentJourneyRoutes(private)
	s.incidentReviewRoutes(private)
	s.concernRoutes(private)
	s.oversightRoutes(private)
	s.performanceRoutes(private)
	s.reportRoutes(private)
	private.GET("/escalations", s.allow(access.SignOffIncidents), s.escalationsList)
	private.POST("/escalations/:delivery/retry", s.allow(access.SignOffIncidents), s.escalationRetry)
	private.GET("/sessions", s.allow(access.ManageSessions), s.sessionsPage)
	private.POST("/sessions/:ref/end", s.allow(access.ManageSessions), s.endSession)
	private.GET("/audit", s.allow(access.ViewAudit), s.auditPage)
	private.GET("/audit.csv", s.allow(access.ViewAudit), s.auditCSV)

	r.NoRoute(s.loadSession, s.notFound)
	r.NoMethod(s.loadSession, s.methodNotAllowed)
	s.engine = r
	return nil
}

// importUploadRoute takes roster files, so its body limit is larger.
const importUploadRoute = "/partners/:partner/staff/import"

// everyRequest runs before every route: identification, headers, metrics, logs, limits.
func (s *Server) everyRequest() gin.HandlersChain {
	return gin.HandlersChain{requestID, s.recoverPanic, s.securityHeaders, s.metrics.observe, s.accessLog, s.capBody}
}

// pageChecks run for every page: who is signed in, and CSRF on anything that changes state.
func (s *Server) pageChecks() gin.HandlersChain { return gin.HandlersChain{s.loadSession, s.checkCSRF} }

// signedInChecks guard every page with personal data: a live session, no
// caching, and the caller as the policy sees them.
func (s *Server) signedInChecks() gin.HandlersChain {
	return gin.HandlersChain{s.requireSignIn, noStore, s.loadPrincipal}
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

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

func (s *Server) notFound(c *gin.Context) {
	if isAPI(c) {
		writeProblem(c, http.StatusNotFound, "")
		return
	}
	s.renderError(c, http.StatusNotFound)
}

func (s *Server) methodNotAllowed(c *gin.Context) {
	if isAPI(c) {
		writeProblem(c, http.StatusMethodNotAllowed, "")
		return
	}
	s.renderError(c, http.StatusMethodNotAllowed)
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
