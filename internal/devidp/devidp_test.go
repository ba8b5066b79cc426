package devidp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// testIdP is a provider served the way the portal serves it: under /dev-idp
// on a server that also hosts the relying party's callback.
type testIdP struct {
	server        *httptest.Server
	issuer        string
	redirectURI   string
	postLogoutURI string
	provider      *oidc.Provider
}

// startIdP serves a provider; opts adjust its configuration.
func startIdP(t *testing.T, opts ...func(*Config)) *testIdP {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	idp := &testIdP{
		server:        srv,
		issuer:        srv.URL + "/dev-idp",
		redirectURI:   srv.URL + "/auth/callback",
		postLogoutURI: srv.URL + "/signed-out",
	}
	cfg := Config{
		Issuer:                       idp.issuer,
		PortalRedirectURIs:           []string{idp.redirectURI},
		PortalPostLogoutRedirectURIs: []string{idp.postLogoutURI},
		StylesheetURL:                "/static/govuk.css",
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux.Handle("/dev-idp/", p)

	idp.provider, err = oidc.NewProvider(t.Context(), idp.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return idp
}

func (idp *testIdP) oauth2Config(style oauth2.AuthStyle) *oauth2.Config {
	endpoint := idp.provider.Endpoint()
	endpoint.AuthStyle = style
	return &oauth2.Config{
		ClientID:     PortalClientID,
		ClientSecret: PortalClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  idp.redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email", RolesScope},
	}
}

// browser returns a client that records redirects instead of following them,
// so each step of the flow can be checked.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type response struct {
	status   int
	location string
	body     string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	return response{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}
}

func get(t *testing.T, c *http.Client, rawURL string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

func postForm(t *testing.T, c *http.Client, rawURL string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

var authRequestIDField = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// openLogin follows the authorization request to the login page and returns
// the auth request ID from its hidden field.
func (idp *testIdP) openLogin(t *testing.T, c *http.Client, authURL string) (authRequestID string, page response) {
	t.Helper()
	resp := get(t, c, authURL)
	if resp.status != http.StatusFound || !strings.HasPrefix(resp.location, idp.issuer+"/login?") {
		t.Fatalf("authorize: got %d to %q, want 302 to the login page", resp.status, resp.location)
	}
	page = get(t, c, resp.location)
	if page.status != http.StatusOK {
		t.Fatalf("login page: status %d", page.status)
	}
	m := authRequestIDField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("login page has no authRequestID field:\n%s", page.body)
	}
	return m[1], page
}

func (idp *testIdP) submitLogin(t *testing.T, c *http.Client, authRequestID, username, password string) response {
	t.Helper()
	return postForm(t, c, idp.issuer+"/login", url.Values{
		"authRequestID": {authRequestID},
		"username":      {username},
		"password":      {password},
	})
}

// logIn runs the browser part of the code flow and returns the query the
// relying party's redirect_uri receives.
func (idp *testIdP) logIn(t *testing.T, c *http.Client, authURL, username string) url.Values {
	t.Helper()
	id, _ := idp.openLogin(t, c, authURL)
	resp := idp.submitLogin(t, c, id, username, "password")
	if resp.status != http.StatusSeeOther || !strings.HasPrefix(resp.location, idp.issuer+"/authorize/callback?") {
		t.Fatalf("login: got %d to %q, want 303 to the callback", resp.status, resp.location)
	}
	resp = get(t, c, resp.location)
	if resp.status != http.StatusFound || !strings.HasPrefix(resp.location, idp.redirectURI+"?") {
		t.Fatalf("callback: got %d to %q, want 302 to the redirect URI", resp.status, resp.location)
	}
	u, err := url.Parse(resp.location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

type flow struct {
	config   *oauth2.Config
	state    string
	nonce    string
	verifier string
	authURL  string
}

func (idp *testIdP) newFlow(style oauth2.AuthStyle) flow {
	f := flow{
		config:   idp.oauth2Config(style),
		state:    oauth2.GenerateVerifier(),
		nonce:    oauth2.GenerateVerifier(),
		verifier: oauth2.GenerateVerifier(),
	}
	f.authURL = f.config.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
	return f
}

// code logs in and returns the authorization code, checking the state.
func (idp *testIdP) code(t *testing.T, f flow, username string) string {
	t.Helper()
	q := idp.logIn(t, browser(t), f.authURL, username)
	if got := q.Get("state"); got != f.state {
		t.Fatalf("state = %q, want %q", got, f.state)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code in redirect: %v", q)
	}
	return code
}

type idTokenClaims struct {
	Subject string   `json:"sub"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Roles   []string `json:"roles"`
	Org     string   `json:"org"`
}

func TestDiscoveryAndKeys(t *testing.T) {
	idp := startIdP(t)

	var meta struct {
		Issuer                string   `json:"issuer"`
		JWKSURI               string   `json:"jwks_uri"`
		EndSessionEndpoint    string   `json:"end_session_endpoint"`
		UserinfoEndpoint      string   `json:"userinfo_endpoint"`
		CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
		TokenEndpointAuth     []string `json:"token_endpoint_auth_methods_supported"`
		GrantTypes            []string `json:"grant_types_supported"`
		ScopesSupported       []string `json:"scopes_supported"`
		ClaimsSupported       []string `json:"claims_supported"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
	}
	if err := idp.provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != idp.issuer {
		t.Errorf("issuer = %q, want %q", meta.Issuer, idp.issuer)
	}
	for name, endpoint := range map[string]string{
		"authorization_endpoint": meta.AuthorizationEndpoint,
		"end_session_endpoint":   meta.EndSessionEndpoint,
		"userinfo_endpoint":      meta.UserinfoEndpoint,
		"jwks_uri":               meta.JWKSURI,
	} {
		if !strings.HasPrefix(endpoint, idp.issuer+"/") {
			t.Errorf("%s = %q, want it under the issuer", name, endpoint)
		}
	}
	wantIn := func(field string, got []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s = %v, missing %q", field, got, w)
			}
		}
	}
	wantIn("code_challenge_methods_supported", meta.CodeChallengeMethods, "S256")
	wantIn("token_endpoint_auth_methods_supported", meta.TokenEndpointAuth, "client_secret_basic", "client_secret_post")
	wantIn("grant_types_supported", meta.GrantTypes, "authorization_code", "client_credentials")
	wantIn("scopes_supported", meta.ScopesSupported, "openid", RolesScope, "incidents:write", "incidents:read")
	wantIn("claims_supported", meta.ClaimsSupported, "roles", "org")

	resp := get(t, http.DefaultClient, meta.JWKSURI)
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(resp.body), &jwks); err != nil {
		t.Fatalf("decode JWKS: %v\n%s", err, resp.body)
	}
	if len(jwks.Keys) == 0 {
		t.Fatal("JWKS has no keys")
	}
	for _, k := range jwks.Keys {
		if k.Kid == "" || k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
			t.Errorf("unexpected key %+v", k)
		}
		if k.D != "" {
			t.Error("JWKS publishes a private key")
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"trailing slash":   {Issuer: "http://localhost:8080/dev-idp/", PortalRedirectURIs: []string{"http://localhost:8080/cb"}},
		"relative issuer":  {Issuer: "/dev-idp", PortalRedirectURIs: []string{"http://localhost:8080/cb"}},
		"no redirect URIs": {Issuer: "http://localhost:8080/dev-idp"},
		"API audience is the portal's client ID": {
			Issuer: "http://localhost:8080/dev-idp", PortalRedirectURIs: []string{"http://localhost:8080/cb"}, APIAudience: PortalClientID,
		},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

func TestCodeFlowForEveryUser(t *testing.T) {
	idp := startIdP(t)
	verifier := idp.provider.Verifier(&oidc.Config{ClientID: PortalClientID})

	for i, user := range Users() {
		// Alternate client authentication so both accepted methods are covered.
		style := oauth2.AuthStyleInHeader
		if i%2 == 1 {
			style = oauth2.AuthStyleInParams
		}
		t.Run(user.Username, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			f := idp.newFlow(style)
			code := idp.code(t, f, user.Username)

			tok, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			rawIDToken, ok := tok.Extra("id_token").(string)
			if !ok {
				t.Fatal("token response has no id_token")
			}
			idToken, err := verifier.Verify(ctx, rawIDToken)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idToken.Nonce != f.nonce {
				t.Errorf("nonce = %q, want %q", idToken.Nonce, f.nonce)
			}
			var claims idTokenClaims
			if err := idToken.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			want := idTokenClaims{
				Subject: "dev-" + user.Username,
				Name:    user.Name,
				Email:   user.Username,
				Roles:   user.Roles,
				Org:     user.Org,
			}
			if !equalClaims(claims, want) {
				t.Errorf("ID token claims = %+v, want %+v", claims, want)
			}

			info, err := idp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var infoClaims idTokenClaims
			if err := info.Claims(&infoClaims); err != nil {
				t.Fatal(err)
			}
			if !equalClaims(infoClaims, want) {
				t.Errorf("userinfo claims = %+v, want %+v", infoClaims, want)
			}
		})
	}
}

func equalClaims(a, b idTokenClaims) bool {
	return a.Subject == b.Subject && a.Name == b.Name && a.Email == b.Email &&
		a.Org == b.Org && slices.Equal(a.Roles, b.Roles)
}

func TestLoginPage(t *testing.T) {
	idp := startIdP(t)
	c := browser(t)
	_, page := idp.openLogin(t, c, idp.newFlow(oauth2.AuthStyleInHeader).authURL)

	for _, want := range []string{
		`<html lang="en"`,
		`<link rel="stylesheet" href="/static/govuk.css">`,
		`<header class="govuk-template__header">`,
		`<div class="govuk-width-container">`,
		`<main class="govuk-main-wrapper" id="main-content">`,
		`<h1 class="govuk-heading-l">Sign in to the development identity provider</h1>`,
		`class="govuk-warning-text"`,
		`<label class="govuk-label" for="username">Email address</label>`,
		`<input class="govuk-input" id="username" name="username" type="email" autocomplete="username" spellcheck="false">`,
		`<label class="govuk-label" for="password">Password</label>`,
		`type="password" autocomplete="current-password"`,
		`<button type="submit" class="govuk-button" data-module="govuk-button">Sign in</button>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	checkNoInlineCode(t, page.body)
	if n := strings.Count(page.body, "<h1"); n != 1 {
		t.Errorf("login page has %d h1 elements, want 1", n)
	}
	if strings.Contains(page.body, "govuk-error-summary") {
		t.Error("fresh login page shows an error summary")
	}
}

// checkNoInlineCode guards the portal's strict CSP.
func checkNoInlineCode(t *testing.T, body string) {
	t.Helper()
	for _, banned := range []string{"<script", "<style", "style=", "onclick=", "onload=", "javascript:"} {
		if strings.Contains(strings.ToLower(body), banned) {
			t.Errorf("page contains %q", banned)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	idp := startIdP(t)
	c := browser(t)
	f := idp.newFlow(oauth2.AuthStyleInHeader)
	id, _ := idp.openLogin(t, c, f.authURL)

	for _, creds := range [][2]string{
		{"staff@northgate.example", "wrong"},
		{"nobody@northgate.example", "password"},
		{"", ""},
	} {
		resp := idp.submitLogin(t, c, id, creds[0], creds[1])
		if resp.status != http.StatusOK || resp.location != "" {
			t.Fatalf("%v: got %d to %q, want the login page again", creds, resp.status, resp.location)
		}
		for _, want := range []string{
			`<div class="govuk-error-summary" data-module="govuk-error-summary"><div role="alert"><h2 class="govuk-error-summary__title">There is a problem</h2>`,
			`<li><a href="#username">Enter a correct email address and password</a></li>`,
			`<p id="username-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> Enter a correct email address and password</p>`,
			`aria-describedby="username-error"`,
			`<title>Error: `,
		} {
			if !strings.Contains(resp.body, want) {
				t.Errorf("%v: error page lacks %s", creds, want)
			}
		}
		if creds[0] != "" && !strings.Contains(resp.body, `value="`+creds[0]+`"`) {
			t.Errorf("%v: typed username not kept", creds)
		}
		if strings.Contains(resp.body, `value="`+creds[1]+`"`) && creds[1] != "" {
			t.Errorf("%v: password echoed back", creds)
		}
		checkNoInlineCode(t, resp.body)
	}

	// The same request can still be completed with the right password.
	resp := idp.submitLogin(t, c, id, "STAFF@northgate.example", "password")
	if resp.status != http.StatusSeeOther {
		t.Fatalf("login after a failed attempt: status %d", resp.status)
	}
}

func TestInvalidAuthRequestID(t *testing.T) {
	idp := startIdP(t)
	c := browser(t)
	for name, resp := range map[string]response{
		"GET unknown": get(t, c, idp.issuer+"/login?authRequestID=nope"),
		"GET missing": get(t, c, idp.issuer+"/login"),
		"POST unknown": postForm(t, c, idp.issuer+"/login", url.Values{
			"authRequestID": {"nope"}, "username": {"staff@northgate.example"}, "password": {"password"},
		}),
	} {
		if resp.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, resp.status)
		}
		if !strings.Contains(resp.body, `<h1 class="govuk-heading-l">This sign-in request is not valid</h1>`) {
			t.Errorf("%s: no explanation page:\n%s", name, resp.body)
		}
		checkNoInlineCode(t, resp.body)
	}
}

func TestAuthRequestIsSingleUse(t *testing.T) {
	idp := startIdP(t)
	c := browser(t)
	f := idp.newFlow(oauth2.AuthStyleInHeader)
	id, _ := idp.openLogin(t, c, f.authURL)
	resp := idp.submitLogin(t, c, id, "staff@northgate.example", "password")
	callback := resp.location
	if first := get(t, c, callback); first.status != http.StatusFound || !strings.Contains(first.location, "code=") {
		t.Fatalf("callback: got %d to %q", first.status, first.location)
	}
	if again := get(t, c, callback); strings.Contains(again.location, "code=") {
		t.Errorf("replayed callback issued another code: %q", again.location)
	}
	if page := get(t, c, idp.issuer+"/login?authRequestID="+url.QueryEscape(id)); page.status != http.StatusBadRequest {
		t.Errorf("login page for a used request: status %d, want 400", page.status)
	}
}

func TestAuthorizeRequirements(t *testing.T) {
	idp := startIdP(t)
	c := browser(t)
	cfg := idp.oauth2Config(oauth2.AuthStyleInHeader)
	for name, authURL := range map[string]string{
		"no challenge":     cfg.AuthCodeURL("st"),
		"plain challenge":  cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")),
		"unknown method":   cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "S512")),
		"form_post":        cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("response_mode", "form_post")),
		"missing redirect": strings.Replace(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "redirect_uri=", "x=", 1),
	} {
		resp := get(t, c, authURL)
		if strings.HasPrefix(resp.location, idp.issuer+"/login") || strings.Contains(resp.location, "code=") {
			t.Errorf("%s: authorization went ahead: %d to %q", name, resp.status, resp.location)
		}
		if strings.HasPrefix(resp.location, idp.redirectURI) && !strings.Contains(resp.location, "error=invalid_request") {
			t.Errorf("%s: redirected without invalid_request: %q", name, resp.location)
		}
	}
}

func TestCodeExchangeFailures(t *testing.T) {
	idp := startIdP(t)
	ctx := t.Context()
	const user = "officer@northgate.example"

	t.Run("reuse", func(t *testing.T) {
		f := idp.newFlow(oauth2.AuthStyleInHeader)
		code := idp.code(t, f, user)
		tok, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
		if err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		if _, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(f.verifier)); err == nil {
			t.Fatal("second exchange of the same code succeeded")
		}
		// RFC 6749 section 4.1.2: replaying a code revokes what it issued.
		if _, err := idp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("access token still valid after the code was replayed")
		}
	})

	t.Run("no verifier", func(t *testing.T) {
		f := idp.newFlow(oauth2.AuthStyleInHeader)
		code := idp.code(t, f, user)
		if _, err := f.config.Exchange(ctx, code); err == nil {
			t.Fatal("exchange without code_verifier succeeded")
		}
	})

	t.Run("wrong verifier", func(t *testing.T) {
		f := idp.newFlow(oauth2.AuthStyleInHeader)
		code := idp.code(t, f, user)
		if _, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("exchange with the wrong code_verifier succeeded")
		}
		// This provider consumes a code on first presentation.
		if _, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(f.verifier)); err == nil {
			t.Error("code still usable after a failed exchange")
		}
	})

	t.Run("wrong client secret", func(t *testing.T) {
		f := idp.newFlow(oauth2.AuthStyleInHeader)
		code := idp.code(t, f, user)
		f.config.ClientSecret = "wrong"
		if _, err := f.config.Exchange(ctx, code, oauth2.VerifierOption(f.verifier)); err == nil {
			t.Fatal("exchange with the wrong client secret succeeded")
		}
	})
}

func TestClientCredentials(t *testing.T) {
	idp := startIdP(t)
	ctx := t.Context()
	// Without Config.APIAudience, machine tokens are audienced to the machine
	// client itself; TestClientCredentialsAPIAudience covers the API audience.
	verifier := idp.provider.Verifier(&oidc.Config{SkipClientIDCheck: true})

	type accessClaims struct {
		Issuer   string   `json:"iss"`
		Subject  string   `json:"sub"`
		ClientID string   `json:"client_id"`
		Org      string   `json:"org"`
		Scope    string   `json:"scope"`
		Audience []string `json:"aud"`
	}
	token := func(t *testing.T, id, secret string, scopes ...string) (accessClaims, error) {
		t.Helper()
		cfg := clientcredentials.Config{
			ClientID:     id,
			ClientSecret: secret,
			TokenURL:     idp.provider.Endpoint().TokenURL,
			Scopes:       scopes,
		}
		tok, err := cfg.Token(ctx)
		if err != nil {
			return accessClaims{}, err
		}
		jwt, err := verifier.Verify(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("verify access token against JWKS: %v", err)
		}
		var c accessClaims
		if err := jwt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c, nil
	}
	scopeSet := func(s string) []string {
		f := strings.Fields(s)
		slices.Sort(f)
		return f
	}

	c, err := token(t, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")
	if err != nil {
		t.Fatalf("northgate token: %v", err)
	}
	if c.Org != "northgate" || c.ClientID != "northgate-system" || c.Subject != "northgate-system" || c.Issuer != idp.issuer {
		t.Errorf("northgate claims = %+v", c)
	}
	if got := scopeSet(c.Scope); !slices.Equal(got, []string{"incidents:read", "incidents:write"}) {
		t.Errorf("scope = %q, want both incidents scopes", c.Scope)
	}

	c, err = token(t, "brightwell-system", "brightwell-secret", "incidents:read", "openid", "admin")
	if err != nil {
		t.Fatalf("brightwell token: %v", err)
	}
	if c.Org != "brightwell" || c.Scope != "incidents:read" {
		t.Errorf("brightwell claims = %+v, want org brightwell and only incidents:read", c)
	}

	if _, err := token(t, "northgate-system", "brightwell-secret"); err == nil {
		t.Error("wrong secret got a token")
	}
	if _, err := token(t, "northgate-system", "northgate-secret", "admin"); err == nil {
		t.Error("only disallowed scopes got a token")
	}
	if _, err := token(t, PortalClientID, PortalClientSecret); err == nil {
		t.Error("the web client got a client_credentials token")
	}
}

func TestClientCredentialsAPIAudience(t *testing.T) {
	const apiAudience = "https://portal.example/api"
	idp := startIdP(t, func(c *Config) { c.APIAudience = apiAudience })
	ctx := t.Context()

	cfg := clientcredentials.Config{
		ClientID:     "northgate-system",
		ClientSecret: "northgate-secret",
		TokenURL:     idp.provider.Endpoint().TokenURL,
		Scopes:       []string{"incidents:write"},
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if got, _ := tok.Extra("scope").(string); got != "incidents:write" {
		t.Errorf("token response scope = %q, want only incidents:write", got)
	}

	// Audienced to the API, the token no longer passes a check for the
	// client's own ID.
	if _, err := idp.provider.Verifier(&oidc.Config{ClientID: "northgate-system"}).Verify(ctx, tok.AccessToken); err == nil {
		t.Error("token verified with the client ID as audience")
	}
	jwt, err := idp.provider.Verifier(&oidc.Config{ClientID: apiAudience}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify with the API audience: %v", err)
	}
	var claims map[string]any
	if err := jwt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if aud, ok := claims["aud"].([]any); !ok || len(aud) != 1 || aud[0] != apiAudience {
		t.Errorf("aud = %v, want exactly [%q]", claims["aud"], apiAudience)
	}
	for name, want := range map[string]any{
		"client_id": "northgate-system",
		"sub":       "northgate-system",
		"org":       "northgate",
		"scope":     "incidents:write",
		"iss":       idp.issuer,
	} {
		if claims[name] != want {
			t.Errorf("%s = %v, want %v", name, claims[name], want)
		}
	}
	// The API tells access tokens from ID tokens by these.
	for _, name := range []string{"nonce", "azp"} {
		if _, ok := claims[name]; ok {
			t.Errorf("access token has %s: %v", name, claims[name])
		}
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		t.Error("access token has no jti")
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != accessTokenLifetime.Seconds() {
		t.Errorf("lifetime = %vs, want %v", exp-iat, accessTokenLifetime)
	}

	// Without a requested scope the client gets all it may have.
	cfg.Scopes = nil
	tok, err = cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token without scope: %v", err)
	}
	if got, _ := tok.Extra("scope").(string); !slices.Equal(slices.Sorted(slices.Values(strings.Fields(got))), []string{"incidents:read", "incidents:write"}) {
		t.Errorf("token response scope = %q, want both incidents scopes", got)
	}
}

func TestEndSession(t *testing.T) {
	idp := startIdP(t)
	ctx := t.Context()
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := idp.provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}

	f := idp.newFlow(oauth2.AuthStyleInHeader)
	tok, err := f.config.Exchange(ctx, idp.code(t, f, "lead@department.example"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	c := browser(t)
	logout := func(postLogout string) response {
		q := url.Values{"id_token_hint": {idToken}, "state": {"after-logout"}}
		if postLogout != "" {
			q.Set("post_logout_redirect_uri", postLogout)
		}
		return get(t, c, meta.EndSession+"?"+q.Encode())
	}

	resp := logout("https://evil.example/phish")
	if resp.status >= 300 && resp.status < 400 {
		t.Errorf("unregistered post_logout_redirect_uri: redirected to %q", resp.location)
	}

	resp = logout(idp.postLogoutURI)
	if resp.status != http.StatusFound || resp.location != idp.postLogoutURI+"?state=after-logout" {
		t.Errorf("registered post_logout_redirect_uri: got %d to %q", resp.status, resp.location)
	}
	if _, err := idp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still valid after logout")
	}

	resp = get(t, c, meta.EndSession)
	if resp.status != http.StatusFound || resp.location != idp.issuer+"/logged-out" {
		t.Errorf("logout without redirect: got %d to %q", resp.status, resp.location)
	}
	if page := get(t, c, resp.location); page.status != http.StatusOK || !strings.Contains(page.body, "You have signed out") {
		t.Errorf("signed-out page: status %d", page.status)
	}

	// No IdP session survives: signing in again asks for the password.
	idp.openLogin(t, c, idp.newFlow(oauth2.AuthStyleInHeader).authURL)
	if cookies := c.Jar.Cookies(mustParse(t, idp.issuer)); len(cookies) > 0 {
		t.Errorf("provider set cookies: %v", cookies)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPromptNoneNeedsLogin(t *testing.T) {
	idp := startIdP(t)
	f := idp.newFlow(oauth2.AuthStyleInHeader)
	resp := get(t, browser(t), f.authURL+"&prompt=none")
	if !strings.HasPrefix(resp.location, idp.redirectURI+"?") || !strings.Contains(resp.location, "error=login_required") {
		t.Errorf("prompt=none: got %d to %q, want login_required at the redirect URI", resp.status, resp.location)
	}
}

func TestOutsideIssuerPath(t *testing.T) {
	p, err := New(Config{Issuer: "http://localhost:8080/dev-idp", PortalRedirectURIs: []string{"http://localhost:8080/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/login", "/dev-idpx/login", "/.well-known/openid-configuration"} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/dev-idp/.well-known/openid-configuration", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("discovery through ServeHTTP: status %d", rec.Code)
	}
}

func TestMachineClientsIsACopy(t *testing.T) {
	clients := MachineClients()
	if len(clients) != 2 || clients[0].ID != "northgate-system" || clients[0].Org != "northgate" ||
		clients[1].ID != "brightwell-system" || clients[1].Org != "brightwell" {
		t.Fatalf("MachineClients() = %+v", clients)
	}
	clients[0].Scopes[0] = "admin"
	if MachineClients()[0].Scopes[0] != "incidents:write" {
		t.Error("changing MachineClients() changed the provider's clients")
	}
}

func TestUsersIsACopy(t *testing.T) {
	users := Users()
	if len(users) != 6 || users[0].Username != "staff@northgate.example" || users[5].Username != "auditor@department.example" {
		t.Fatalf("Users() = %+v", users)
	}
	users[0].Roles[0] = "auditor"
	if Users()[0].Roles[0] != "partner_staff" {
		t.Error("changing Users() changed the provider's users")
	}
}
