package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/apiauth"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/gin-gonic/gin"
)

// problem is an RFC 9457 problem details document.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

var problemTitles = map[int]string{
	http.StatusBadRequest:            "The request is not valid",
	http.StatusUnauthorized:          "Authentication is required",
	http.StatusForbidden:             "Not allowed",
	http.StatusNotFound:              "Not found",
	http.StatusMethodNotAllowed:      "Method not allowed",
	http.StatusRequestEntityTooLarge: "Request body too large",
	http.StatusTooManyRequests:       "Too many requests",
	http.StatusInternalServerError:   "Internal error",
	http.StatusServiceUnavailable:    "Service unavailable",
}

// writeProblem answers an API call with problem+json and stops the chain.
func writeProblem(c *gin.Context, status int, detail string) {
	title, ok := problemTitles[status]
	if !ok {
		title = http.StatusText(status)
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, problem{
		Type:      "about:blank",
		Title:     title,
		Status:    status,
		Detail:    detail,
		Instance:  c.Request.URL.Path,
		RequestID: c.GetString(ctxRequestID),
	})
}

// apiAuth admits partner systems with a valid bearer token, mapped to exactly
// one partner, and bounds each client's call rate.
func (s *Server) apiAuth(c *gin.Context) {
	caller, err := s.apiVerifier.Verify(c.Request.Context(), c.GetHeader("Authorization"))
	if err != nil {
		var aerr *apiauth.Error
		if !errors.As(err, &aerr) {
			s.log.Error("verify API token", "err", err, "request_id", c.GetString(ctxRequestID))
			writeProblem(c, http.StatusServiceUnavailable, "Token verification is unavailable; try again shortly.")
			return
		}
		c.Header("WWW-Authenticate", aerr.WWWAuthenticate())
		writeProblem(c, aerr.Status, aerr.Description)
		return
	}
	if ok, retry := s.apiLimit.Allow(caller.Issuer + " " + caller.ClientID); !ok {
		c.Header("Retry-After", strconv.Itoa(int(retry.Seconds())))
		writeProblem(c, http.StatusTooManyRequests, "This client has made too many calls; retry after the time given.")
		return
	}
	c.Set(ctxPrincipal, access.ClientPrincipal(caller.ClientID, caller.Issuer, caller.Partner, caller.Scopes))
	c.Next()
}

// apiAllow refuses calls whose token lacks the scope the action needs.
func (s *Server) apiAllow(action access.Action, scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).May(action) {
			c.Header("WWW-Authenticate", `Bearer realm="portal", error="insufficient_scope", scope="`+scope+`"`)
			writeProblem(c, http.StatusForbidden, "The access token does not carry the scope "+scope+".")
			return
		}
		c.Next()
	}
}

type apiContract struct {
	Reference   string `json:"reference"`
	Title       string `json:"title"`
	ServiceLine string `json:"service_line"`
	Status      string `json:"status"`
	StartDate   string `json:"start_date"`
	EndDate     string `json:"end_date"`
}

// apiContracts lists the calling partner's contracts, whose references its
// incident notifications must quote.
func (s *Server) apiContracts(c *gin.Context) {
	contracts, err := s.partners.Contracts(c.Request.Context(), principal(c).Scope)
	if err != nil {
		s.log.Error("list contracts for API", "err", err, "request_id", c.GetString(ctxRequestID))
		writeProblem(c, http.StatusServiceUnavailable, "")
		return
	}
	out := make([]apiContract, 0, len(contracts))
	for _, ct := range contracts {
		out = append(out, toAPIContract(ct))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"contracts": out})
}

func toAPIContract(ct partner.Contract) apiContract {
	return apiContract{
		Reference: ct.ID, Title: ct.Title, ServiceLine: ct.ServiceLine, Status: ct.Status,
		StartDate: ct.StartDate.Format("2006-01-02"), EndDate: ct.EndDate.Format("2006-01-02"),
	}
}
