package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/devidp"
	"github.com/department/safeguarding-portal/internal/portaltest"
)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, portaltest.ReadAll(t, resp)
}

// landings are where each demo user arrives and what identifies them there.
var landings = map[string]struct{ path, heading, role, org string }{
	"staff@northgate.example":    {"/my-record", "Your record", "Partner staff member", "Northgate Services Ltd"},
	"officer@northgate.example":  {"/organisation", "Your organisation", "Partner compliance officer", "Northgate Services Ltd"},
	"officer@brightwell.example": {"/organisation", "Your organisation", "Partner compliance officer", "Brightwell Care Ltd"},
	"manager@department.example": {"/contracts", "Your contracts", "Contract manager", "Department for Customer Services"},
	"lead@department.example":    {"/portfolio", "Portfolio", "Safeguarding lead", "Department for Customer Services"},
	"auditor@department.example": {"/oversight", "Oversight", "Auditor", "Department for Customer Services"},
}

func TestEveryDemoUserSignsInAndOut(t *testing.T) {
	p := portaltest.Start(t)
	users := devidp.Users()
	if len(users) != len(landings) {
		t.Fatalf("dev provider has %d users, test expects %d", len(users), len(landings))
	}
	for _, u := range users {
		t.Run(u.Username, func(t *testing.T) {
			want, ok := landings[u.Username]
			if !ok {
				t.Fatalf("no expected landing for %s", u.Username)
			}
			c := portaltest.Client(t)
			body, at := portaltest.SignIn(t, c, p.URL, u.Username)
			if at.Path != want.path {
				t.Errorf("landed on %s, want %s", at.Path, want.path)
			}
			for _, s := range []string{"<h1 class=\"govuk-heading-l\">" + want.heading + "</h1>", u.Name, want.role, want.org} {
				if !strings.Contains(body, s) {
					t.Errorf("landing page lacks %q", s)
				}
			}
			// Sign out ends the session here and at the provider.
			token := portaltest.CSRFToken(t, body)
			resp, out, at := portaltest.Follow(t, c, http.MethodPost, p.URL+"/sign-out", url.Values{"csrf_token": {token}})
			if resp.StatusCode != http.StatusOK || at.Path != "/signed-out" || !strings.Contains(out, "You have signed out") {
				t.Fatalf("sign out ended at %d %s", resp.StatusCode, at)
			}
			resp, _ = get(t, c, p.URL+want.path)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Errorf("after sign-out %s answered %d → %q, want a redirect to the start page", want.path, resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func TestSessionCookieAndServerSideEnd(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	base, _ := url.Parse(p.URL)
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == "portal_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no portal_session cookie after sign-in")
	}
	// A copy of the cookie kept from before sign-out must be worthless afterwards.
	stolen := portaltest.Client(t)
	stolen.Jar.SetCookies(base, []*http.Cookie{{Name: "portal_session", Value: session.Value}})
	if resp, _ := get(t, stolen, p.URL+"/organisation"); resp.StatusCode != http.StatusOK {
		t.Fatalf("copied cookie before sign-out: %d, want 200", resp.StatusCode)
	}
	portaltest.Follow(t, c, http.MethodPost, p.URL+"/sign-out", url.Values{"csrf_token": {portaltest.CSRFToken(t, body)}})
	if resp, _ := get(t, stolen, p.URL+"/organisation"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("copied cookie after sign-out: %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestSignOutRefusedWithoutCSRFToken(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	portaltest.SignIn(t, c, p.URL, "manager@department.example")
	for name, form := range map[string]url.Values{"no token": {}, "wrong token": {"csrf_token": {"forged"}}} {
		resp, err := c.PostForm(p.URL+"/sign-out", form)
		if err != nil {
			t.Fatal(err)
		}
		body := portaltest.ReadAll(t, resp)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "govuk-heading-l") {
			t.Errorf("%s: sign-out answered %d, want the 403 page", name, resp.StatusCode)
		}
	}
	if resp, _ := get(t, c, p.URL+"/contracts"); resp.StatusCode != http.StatusOK {
		t.Errorf("session ended by a forged sign-out: %d", resp.StatusCode)
	}
}

func TestRolesOnlyReachTheirOwnPages(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	for _, path := range []string{"/my-record", "/contracts", "/portfolio", "/oversight"} {
		resp, body := get(t, c, p.URL+path)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "You do not have access to this page") {
			t.Errorf("officer GET %s: %d, want the 403 page", path, resp.StatusCode)
		}
	}
	anon := portaltest.Client(t)
	for _, path := range []string{"/my-record", "/organisation", "/contracts", "/portfolio", "/oversight"} {
		resp, _ := get(t, anon, p.URL+path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("anonymous GET %s: %d → %q, want a redirect to the start page", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestCallbackRefusesForgedOrReplayedState(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	// A callback with no login attempt behind it.
	resp, body := get(t, c, p.URL+"/auth/callback?code=abc&state=forged")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Sign in did not work") {
		t.Errorf("forged callback: %d", resp.StatusCode)
	}
	// Start a real attempt, then answer it with the wrong state.
	resp, _ = get(t, c, p.URL+"/sign-in")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	resp, _ = get(t, c, p.URL+"/auth/callback?code=abc&state=wrong")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong state: %d", resp.StatusCode)
	}
	if strings.Contains(p.Logs.String(), "code=abc") || strings.Contains(p.Logs.String(), "state=") {
		t.Errorf("query strings of the callback reached the logs")
	}
}

func TestOperationsEndpoints(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, _ := get(t, c, p.URL+path); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	get(t, c, p.URL+"/cookies")
	resp, metrics := get(t, c, p.URL+"/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`portal_http_requests_total{method="GET",route="/cookies",status="200"} 1`,
		`portal_http_request_duration_seconds_bucket{method="GET",route="/cookies"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func TestSecurityHeadersAndAssets(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	resp, body := get(t, c, p.URL+"/")
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("Permissions-Policy") == "" {
		t.Errorf("security headers missing: %v", h)
	}
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain http in development")
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]+</script>|style="`).MatchString(body) {
		t.Error("page has inline script or style")
	}
	css := regexp.MustCompile(`href="(/assets/[0-9a-f]+/portal\.css)"`).FindStringSubmatch(body)
	if css == nil {
		t.Fatalf("no fingerprinted stylesheet link in the page")
	}
	resp, _ = get(t, c, p.URL+css[1])
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if resp, _ := get(t, c, p.URL+"/assets/000000000000/portal.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("stale asset version answered %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, c, p.URL+strings.Replace(css[1], "portal.css", "../../templates/layouts/base.tmpl", 1)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("path traversal in assets answered %d", resp.StatusCode)
	}
}

func TestErrorPages(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	resp, body := get(t, c, p.URL+"/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") || !strings.Contains(body, "govuk-template__body") {
		t.Errorf("404 page: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodDelete, p.URL+"/cookies", nil)
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	portaltest.ReadAll(t, r)
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /cookies: %d, want 405", r.StatusCode)
	}
}

func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	first := portaltest.StartWith(t, portaltest.Options{DataDir: dir})
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, first.URL, "officer@northgate.example")
	staffCount := regexp.MustCompile(`Active staff on the roster\s*</dt>\s*<dd class="govuk-summary-list__value">\s*(\d+)`).FindStringSubmatch(body)
	if staffCount == nil {
		t.Fatalf("no staff count on the officer's page")
	}
	first.Stop(t)

	second := portaltest.StartWith(t, portaltest.Options{DataDir: dir})
	body, _ = portaltest.SignIn(t, portaltest.Client(t), second.URL, "officer@northgate.example")
	again := regexp.MustCompile(`Active staff on the roster\s*</dt>\s*<dd class="govuk-summary-list__value">\s*(\d+)`).FindStringSubmatch(body)
	if again == nil || again[1] != staffCount[1] {
		t.Errorf("after restart the roster shows %v active staff, before %s (seed must not run twice or lose data)", again, staffCount[1])
	}
}
