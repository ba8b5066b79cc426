package apiauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/department/safeguarding-portal/internal/apiauth"
	"github.com/department/safeguarding-portal/internal/devidp"
)

// devIdP is the development provider served as the portal serves it, with
// machine tokens audienced to the API.
type devIdP struct {
	issuer      string
	redirectURI string
	endpoint    oauth2.Endpoint
}

func startDevIdP(t *testing.T) *devIdP {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := &devIdP{issuer: srv.URL + "/dev-idp", redirectURI: srv.URL + "/auth/callback"}
	p, err := devidp.New(devidp.Config{
		Issuer:             d.issuer,
		PortalRedirectURIs: []string{d.redirectURI},
		APIAudience:        testAudience,
	})
	if err != nil {
		t.Fatalf("devidp.New: %v", err)
	}
	mux.Handle("/dev-idp/", p)
	provider, err := oidc.NewProvider(t.Context(), d.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	d.endpoint = provider.Endpoint()
	return d
}

func (d *devIdP) machineToken(t *testing.T, clientID, secret string, scopes ...string) string {
	t.Helper()
	cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: d.endpoint.TokenURL, Scopes: scopes}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatalf("client credentials for %s: %v", clientID, err)
	}
	return tok.AccessToken
}

func TestDevelopmentProviderTokens(t *testing.T) {
	d := startDevIdP(t)
	v := newVerifier(t,
		[]apiauth.Issuer{{Issuer: d.issuer, Audience: testAudience}},
		[]apiauth.Client{
			{Issuer: d.issuer, ClientID: "northgate-system", Partner: "northgate"},
			{Issuer: d.issuer, ClientID: "brightwell-system", Partner: "brightwell"},
		}, nil)
	ctx := t.Context()

	for _, c := range []struct{ id, secret, partner string }{
		{"northgate-system", "northgate-secret", "northgate"},
		{"brightwell-system", "brightwell-secret", "brightwell"},
	} {
		t.Run(c.id, func(t *testing.T) {
			caller, err := v.Verify(ctx, "Bearer "+d.machineToken(t, c.id, c.secret, "incidents:write", "incidents:read"))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if caller.Partner != c.partner || caller.ClientID != c.id || caller.Issuer != d.issuer {
				t.Errorf("caller = %+v, want client %s of partner %s", caller, c.id, c.partner)
			}
			if got := slices.Sorted(slices.Values(caller.Scopes)); !slices.Equal(got, []string{"incidents:read", "incidents:write"}) {
				t.Errorf("Scopes = %q, want both incidents scopes", caller.Scopes)
			}
			if caller.TokenID == "" {
				t.Error("no token ID")
			}
			if left := time.Until(caller.Expiry); left < 59*time.Minute || left > time.Hour {
				t.Errorf("Expiry in %v, want about an hour", left)
			}
			for _, scope := range []string{"incidents:write", "incidents:read"} {
				if err := apiauth.RequireScope(caller, scope); err != nil {
					t.Errorf("RequireScope(%s): %v", scope, err)
				}
			}
		})
	}

	t.Run("write-only token", func(t *testing.T) {
		caller, err := v.Verify(ctx, "Bearer "+d.machineToken(t, "northgate-system", "northgate-secret", "incidents:write"))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !slices.Equal(caller.Scopes, []string{"incidents:write"}) {
			t.Errorf("Scopes = %q, want only incidents:write", caller.Scopes)
		}
		if err := apiauth.RequireScope(caller, "incidents:write"); err != nil {
			t.Errorf("RequireScope(incidents:write): %v", err)
		}
		e := wantRefusal(t, apiauth.RequireScope(caller, "incidents:read"), http.StatusForbidden, apiauth.CodeInsufficientScope, "")
		if !strings.Contains(e.WWWAuthenticate(), `scope="incidents:read"`) {
			t.Errorf("challenge %q does not name the scope", e.WWWAuthenticate())
		}
	})

	t.Run("client not registered with the API", func(t *testing.T) {
		only := newVerifier(t, []apiauth.Issuer{{Issuer: d.issuer, Audience: testAudience}},
			[]apiauth.Client{{Issuer: d.issuer, ClientID: "northgate-system", Partner: "northgate"}}, nil)
		token := d.machineToken(t, "brightwell-system", "brightwell-secret")
		_, err := only.Verify(ctx, "Bearer "+token)
		wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, token)
	})

	t.Run("API expecting another audience", func(t *testing.T) {
		other := newVerifier(t, []apiauth.Issuer{{Issuer: d.issuer, Audience: "https://other.example/api"}},
			[]apiauth.Client{{Issuer: d.issuer, ClientID: "northgate-system", Partner: "northgate"}}, nil)
		token := d.machineToken(t, "northgate-system", "northgate-secret")
		_, err := other.Verify(ctx, "Bearer "+token)
		wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, token)
	})
}

// A real ID token is refused even by a verifier that expects the portal's
// client ID as audience and lists the portal as a client, so only its being
// an ID token is left to give it away.
func TestDevelopmentProviderIDTokenRefused(t *testing.T) {
	d := startDevIdP(t)
	idToken := d.logIn(t, "officer@northgate.example")
	v := newVerifier(t,
		[]apiauth.Issuer{{Issuer: d.issuer, Audience: devidp.PortalClientID}},
		[]apiauth.Client{{Issuer: d.issuer, ClientID: devidp.PortalClientID, Partner: "northgate"}}, nil)
	_, err := v.Verify(t.Context(), "Bearer "+idToken)
	e := wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, idToken)
	if !strings.Contains(e.Description, "ID token") {
		t.Errorf("refused for %q, want for being an ID token", e.Description)
	}
}

// logIn runs the code flow as the portal would and returns the ID token.
func (d *devIdP) logIn(t *testing.T, username string) string {
	t.Helper()
	ctx := t.Context()
	cfg := oauth2.Config{
		ClientID:     devidp.PortalClientID,
		ClientSecret: devidp.PortalClientSecret,
		Endpoint:     d.endpoint,
		RedirectURL:  d.redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, devidp.RolesScope},
	}
	verifier := oauth2.GenerateVerifier()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	step := func(resp *http.Response, err error) *url.URL {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s: status %d without a redirect", resp.Request.URL.Path, resp.StatusCode)
		}
		return loc
	}
	login := step(browser.Get(cfg.AuthCodeURL("state", oidc.Nonce("nonce"), oauth2.S256ChallengeOption(verifier))))
	callback := step(browser.PostForm(d.issuer+"/login", url.Values{
		"authRequestID": {login.Query().Get("authRequestID")},
		"username":      {username},
		"password":      {"password"},
	}))
	back := step(browser.Get(callback.String()))
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("no ID token")
	}
	return idToken
}
