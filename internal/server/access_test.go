package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/department/safeguarding-portal/internal/devidp"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// apiGet calls the API with a bearer token.
func apiGet(t *testing.T, u, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, portaltest.ReadAll(t, resp)
}

func TestAPIClientsSeeOnlyTheirOwnPartner(t *testing.T) {
	p := portaltest.Start(t)
	for client, want := range map[string]struct{ own, other string }{
		"northgate-system":  {"CS-ACC-2025-014", "CS-INT-2025-031"},
		"brightwell-system": {"CS-INT-2025-031", "CS-ACC-2025-014"},
	} {
		token := portaltest.APIToken(t, p.URL, client, strings.TrimSuffix(client, "-system")+"-secret", "incidents:read")
		resp, body := apiGet(t, p.URL+"/api/v1/contracts", token)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want.own) || strings.Contains(body, want.other) {
			t.Errorf("%s: %d %s", client, resp.StatusCode, body)
		}
	}
}

func TestAPIRefusesTokensWithoutTheScope(t *testing.T) {
	p := portaltest.Start(t)
	token := portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write")
	resp, body := apiGet(t, p.URL+"/api/v1/contracts", token)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("token without incidents:read: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	var prob map[string]any
	if err := json.Unmarshal([]byte(body), &prob); err != nil || prob["status"] != float64(403) || prob["title"] == "" {
		t.Errorf("not a problem document: %s", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	for name, header := range map[string]string{
		"no token":     "",
		"not a JWT":    "Bearer not-a-token",
		"wrong scheme": "Basic " + token,
		"alg none":     "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
	} {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/api/v1/contracts", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		portaltest.ReadAll(t, resp)
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: challenge %q, type %q", name, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"))
		}
	}
	// An unknown API path is a problem document too, never an HTML page.
	resp, _ = apiGet(t, p.URL+"/api/v1/no-such-thing", token)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown API path: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestSessionFixationIsDefeated(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	base, _ := url.Parse(p.URL)
	// An attacker plants a session cookie of their choosing before the victim signs in.
	c.Jar.SetCookies(base, []*http.Cookie{{Name: "portal_session", Value: "planted-by-attacker", Path: "/"}})
	portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == "portal_session" && ck.Value == "planted-by-attacker" {
			t.Fatal("the planted session identifier survived sign-in")
		}
	}
	attacker := portaltest.Client(t)
	attacker.Jar.SetCookies(base, []*http.Cookie{{Name: "portal_session", Value: "planted-by-attacker", Path: "/"}})
	if resp, _ := get(t, attacker, p.URL+"/organisation"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("planted identifier opens the victim's pages: %d", resp.StatusCode)
	}

	// Signing in again rotates the identifier: the first session's cookie dies.
	var first string
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == "portal_session" {
			first = ck.Value
		}
	}
	portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	old := portaltest.Client(t)
	old.Jar.SetCookies(base, []*http.Cookie{{Name: "portal_session", Value: first, Path: "/"}})
	if resp, _ := get(t, old, p.URL+"/organisation"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("identifier from before the second sign-in still works: %d", resp.StatusCode)
	}
}

func TestReusedAuthorizationCodeIsRefused(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	// Walk the flow by hand to catch the callback URL with its code.
	resp, body, at := portaltest.Follow(t, c, http.MethodGet, p.URL+"/sign-in", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	form := url.Values{"authRequestID": {authRequestIDIn(t, body)}, "username": {"lead@department.example"}, "password": {"password"}}
	var callback string
	for u, method := at.String(), http.MethodPost; ; method, form = http.MethodGet, nil {
		req, _ := http.NewRequest(method, u, strings.NewReader(form.Encode()))
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		portaltest.ReadAll(t, r)
		next, _ := req.URL.Parse(r.Header.Get("Location"))
		if next.Path == "/auth/callback" {
			callback = next.String()
			break
		}
		if r.StatusCode < 300 || r.StatusCode >= 400 {
			t.Fatalf("flow stopped at %s with %d", u, r.StatusCode)
		}
		u = next.String()
	}
	if resp, _ := get(t, c, callback); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use of the code: %d", resp.StatusCode)
	}
	// The same code again, even inside a fresh attempt from the same browser, is refused.
	get(t, c, p.URL+"/sign-in")
	if resp, _ := get(t, c, callback); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d, want 400", resp.StatusCode)
	}
}

func authRequestIDIn(t *testing.T, page string) string {
	t.Helper()
	const marker = `name="authRequestID" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("no authRequestID on the login page")
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestSeveralProvidersAndAPartnersOwnProvider(t *testing.T) {
	// A second provider, standing for Brightwell's own: whatever its users claim,
	// they belong to Brightwell.
	var handler atomic.Value
	idpServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	defer idpServer.Close()
	issuer := idpServer.URL + "/brightwell-idp"
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{
		"PORTAL_OIDC_ID":            "brightwell",
		"PORTAL_OIDC_NAME":          "Brightwell Care staff account",
		"PORTAL_OIDC_ISSUER":        issuer,
		"PORTAL_OIDC_CLIENT_ID":     devidp.PortalClientID,
		"PORTAL_OIDC_CLIENT_SECRET": devidp.PortalClientSecret,
		"PORTAL_OIDC_FIXED_ORG":     "brightwell",
		"PORTAL_OIDC_SCOPES":        "openid profile email " + devidp.RolesScope,
	}})
	idp, err := devidp.New(devidp.Config{Issuer: issuer, PortalRedirectURIs: []string{p.URL + "/auth/callback"},
		PortalPostLogoutRedirectURIs: []string{p.URL + "/signed-out"}})
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(http.Handler(idp))

	c := portaltest.Client(t)
	resp, body := get(t, c, p.URL+"/sign-in")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/sign-in/brightwell"`) || !strings.Contains(body, `href="/sign-in/dev"`) {
		t.Fatalf("no chooser with both providers: %d", resp.StatusCode)
	}
	// Brightwell's provider vouches for one of its officers...
	body, at := portaltest.SignInThrough(t, c, p.URL+"/sign-in/brightwell", "officer@brightwell.example")
	if at.Path != "/organisation" || !strings.Contains(body, "Brightwell Care Ltd") {
		t.Errorf("Brightwell officer landed on %s", at.Path)
	}
	// ...and a Northgate user signing in there is a Brightwell user, not Northgate's.
	body, _ = portaltest.SignInThrough(t, portaltest.Client(t), p.URL+"/sign-in/brightwell", "officer@northgate.example")
	if strings.Contains(body, "Northgate Services Ltd") || !strings.Contains(body, "Brightwell Care Ltd") {
		t.Error("a partner's own provider vouched for another partner's organisation")
	}
	// It cannot make anyone a department user.
	resp, body, _ = portaltest.SignInAttempt(t, portaltest.Client(t), p.URL+"/sign-in/brightwell", "lead@department.example")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "You do not have access to this service") {
		t.Errorf("department role through a partner's provider: %d", resp.StatusCode)
	}
	var denied struct {
		Outcome string `bson:"outcome"`
	}
	if err := p.App.Store.DB.Collection("audit_events").FindOne(context.Background(),
		bson.D{{Key: "action", Value: "sign_in"}, {Key: "outcome", Value: "denied"}}).Decode(&denied); err != nil {
		t.Errorf("refused sign-in not in the audit trail: %v", err)
	}
}

func TestRateLimitsAnswer429WithRetryAfter(t *testing.T) {
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{
		"PORTAL_SIGN_IN_PER_MINUTE": "3",
		"PORTAL_API_PER_MINUTE":     "2",
	}})
	c := portaltest.Client(t)
	var resp *http.Response
	for range 4 {
		resp, _ = get(t, c, p.URL+"/sign-in")
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("fourth sign-in in a minute: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// X-Forwarded-For is not believed (no trusted proxies), so it cannot buy a fresh allowance.
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/sign-in", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	portaltest.ReadAll(t, r)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For escaped the limit: %d", r.StatusCode)
	}

	token := portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:read")
	for range 2 {
		if resp, body := apiGet(t, p.URL+"/api/v1/contracts", token); resp.StatusCode != http.StatusOK {
			t.Fatalf("API call within the limit: %d %s", resp.StatusCode, body)
		}
	}
	resp, body := apiGet(t, p.URL+"/api/v1/contracts", token)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"status":429`) {
		t.Errorf("third API call in a minute: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another client has its own allowance.
	other := portaltest.APIToken(t, p.URL, "brightwell-system", "brightwell-secret", "incidents:read")
	if resp, _ := apiGet(t, p.URL+"/api/v1/contracts", other); resp.StatusCode != http.StatusOK {
		t.Errorf("another client was limited too: %d", resp.StatusCode)
	}
}

func TestOversizedBodiesAreRefusedNotCrashed(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, p.URL, "lead@department.example")
	form := url.Values{"csrf_token": {portaltest.CSRFToken(t, body)}, "padding": {strings.Repeat("x", 2<<20)}}
	resp, err := c.PostForm(p.URL+"/sign-out", form)
	if err != nil {
		t.Fatal(err)
	}
	portaltest.ReadAll(t, resp)
	if resp.StatusCode >= 500 || resp.StatusCode < 400 {
		t.Errorf("2 MiB form: %d, want a 4xx refusal", resp.StatusCode)
	}
}

func TestViewsOfPersonalDataAreAudited(t *testing.T) {
	p := portaltest.Start(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, partner := range []string{"northgate", "brightwell"} {
		var m struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := p.App.Store.DB.Collection("staff_"+partner).FindOne(ctx, bson.D{}).Decode(&m); err != nil {
			t.Fatal(err)
		}
		ids[partner] = m.ID.Hex()
	}
	c := portaltest.Client(t)
	portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	if resp, _ := get(t, c, p.URL+"/partners/northgate/staff/"+ids["northgate"]); resp.StatusCode != http.StatusOK {
		t.Fatalf("own staff record: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, p.URL+"/partners/brightwell/staff/"+ids["brightwell"]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("other partner's staff record: %d", resp.StatusCode)
	}
	// A guessed ID that is not even text is still just not found, and on record.
	if resp, _ := get(t, c, p.URL+"/partners/%ff%fe/staff"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("partner ID of invalid UTF-8: %d, want 404", resp.StatusCode)
	}
	for _, want := range []struct{ action, resource, partner, outcome string }{
		{"staff.view", "staff/" + ids["northgate"], "northgate", "success"},
		{"staff.view", "partner/brightwell", "", "denied"},
	} {
		var e struct {
			Actor struct {
				Kind, Subject, Org string
				Roles              []string
			} `bson:"actor"`
			PartnerID string `bson:"partner_id"`
			Outcome   string `bson:"outcome"`
			ClientIP  string `bson:"client_ip"`
			RequestID string `bson:"request_id"`
		}
		err := p.App.Store.DB.Collection("audit_events").FindOne(ctx, bson.D{{Key: "action", Value: want.action}, {Key: "resource", Value: want.resource}}).Decode(&e)
		if err != nil {
			t.Errorf("no audit event for viewing %s: %v", want.resource, err)
			continue
		}
		if e.Actor.Subject != "dev-officer@northgate.example" || e.Actor.Org != "northgate" || e.Actor.Kind != "person" ||
			len(e.Actor.Roles) != 1 || e.PartnerID != want.partner || e.Outcome != want.outcome || e.ClientIP != "127.0.0.1" || e.RequestID == "" {
			t.Errorf("audit event for %s: %+v", want.resource, e)
		}
	}
	if n, err := p.App.Trail.Verify(ctx); err != nil || n == 0 {
		t.Errorf("trail after the views: %d events, %v", n, err)
	}
}

func TestCrossSitePostIsRefusedEvenWithTheToken(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, p.URL, "lead@department.example")
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/sign-out",
		strings.NewReader(url.Values{"csrf_token": {portaltest.CSRFToken(t, body)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://attacker.example")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := portaltest.ReadAll(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "govuk-heading-l") {
		t.Errorf("cross-site POST: %d, want the GOV.UK 403 page", resp.StatusCode)
	}
	if resp, _ := get(t, c, p.URL+"/portfolio"); resp.StatusCode != http.StatusOK {
		t.Errorf("the cross-site POST ended the session: %d", resp.StatusCode)
	}
}
