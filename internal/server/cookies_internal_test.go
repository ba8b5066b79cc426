package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// Over https the session cookie takes the __Host- prefix and Secure, and
// every response carries HSTS; over plain http on localhost (development) neither.
func TestCookieFlagsFollowTheBaseURL(t *testing.T) {
	for _, c := range []struct {
		base       string
		name       string
		secure     bool
		production bool
	}{
		{"http://localhost:8080", "portal_session", false, false},
		{"https://portal.example", "__Host-portal_session", true, true},
	} {
		env := map[string]string{"PORTAL_BASE_URL": c.base}
		s := newTestServer(t, env)
		w := httptest.NewRecorder()
		ctx, _ := gin.CreateTestContext(w)
		ctx.Request = httptest.NewRequest(http.MethodGet, "/", nil)
		s.setCookie(ctx, s.sessionCookieName(), "token", 0)
		s.securityHeaders(ctx)
		set := w.Header().Get("Set-Cookie")
		if !strings.HasPrefix(set, c.name+"=token") || !strings.Contains(set, "HttpOnly") ||
			!strings.Contains(set, "SameSite=Lax") || !strings.Contains(set, "Path=/") ||
			strings.Contains(set, "Domain=") || strings.Contains(set, "Max-Age") || strings.Contains(set, "Expires") {
			t.Errorf("%s: Set-Cookie %q", c.base, set)
		}
		if got := strings.Contains(set, "; Secure"); got != c.secure {
			t.Errorf("%s: Secure = %v, want %v", c.base, got, c.secure)
		}
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != c.production {
			t.Errorf("%s: HSTS = %v, want %v", c.base, got, c.production)
		}
	}
}
