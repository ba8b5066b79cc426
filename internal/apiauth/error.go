package apiauth

import (
	"net/http"
	"strings"
)

// realm names the protection space in WWW-Authenticate challenges.
const realm = "portal"

// Error codes from RFC 6750, section 3.1.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is a refusal the HTTP layer answers with Status, a WWW-Authenticate
// header (RFC 6750) and a problem details body (RFC 9457) built from Code and
// Description. Description is written for the partner's developers and
// never repeats any part of the token; the underlying cause, if any, is kept
// for the portal's own logs through Unwrap.
type Error struct {
	Status      int
	Code        string // empty when the request carried no bearer token at all
	Description string
	Scope       string // the scope that was missing, for insufficient_scope
	cause       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("apiauth: ")
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(": ")
	}
	b.WriteString(e.Description)
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.cause }

// WWWAuthenticate is the challenge for the response. A request without
// credentials gets no error code (RFC 6750, section 3.1), so clients that
// simply did not know authentication was needed are not told about errors.
func (e *Error) WWWAuthenticate() string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + realm + `"`)
	if e.Code == "" {
		return b.String()
	}
	b.WriteString(`, error="` + quotable(e.Code) + `"`)
	if e.Description != "" {
		b.WriteString(`, error_description="` + quotable(e.Description) + `"`)
	}
	if e.Scope != "" {
		b.WriteString(`, scope="` + quotable(e.Scope) + `"`)
	}
	return b.String()
}

// quotable keeps only the characters RFC 6750 allows inside these quoted
// strings (printable ASCII without '"' and '\'), so no value can break out of
// the header's syntax.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

func noCredentials(description string) *Error {
	return &Error{Status: http.StatusUnauthorized, Description: description}
}

func invalidRequest(description string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: description}
}

func invalidToken(description string, cause error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: description, cause: cause}
}

// RequireScope refuses a caller whose token does not grant scope.
func RequireScope(c Caller, scope string) error {
	if c.HasScope(scope) {
		return nil
	}
	return &Error{
		Status:      http.StatusForbidden,
		Code:        CodeInsufficientScope,
		Description: "the access token does not grant the scope this request needs",
		Scope:       scope,
	}
}
