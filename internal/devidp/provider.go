// Package devidp is a development OpenID Provider built on zitadel/oidc's op
// package. The portal mounts it in-process under /dev-idp so developers and
// tests can sign in as demo users without a real identity provider. It keeps
// everything in memory and must never be enabled in production.
package devidp

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Config configures the provider.
type Config struct {
	Issuer                       string // full issuer URL, e.g. "http://localhost:8080/dev-idp" (no trailing slash)
	PortalRedirectURIs           []string
	PortalPostLogoutRedirectURIs []string
	StylesheetURL                string // URL of the portal's compiled GOV.UK CSS, linked from the login page (may be empty)
	// APIAudience, when set, is the only audience of the machine clients'
	// access tokens, so the portal's API can demand tokens minted for it
	// rather than accept any token this provider signs. When empty the
	// audience is the machine client's own ID.
	APIAudience string
}

// Provider is an http.Handler serving the OpenID Provider and its login page.
type Provider struct {
	prefix        string // the issuer's path, e.g. "/dev-idp"
	mux           *http.ServeMux
	storage       *storage
	stylesheetURL string
	callbackURL   func(context.Context, string) string
}

//go:embed pages.html
var pagesHTML string

var pages = template.Must(template.New("pages").Parse(pagesHTML))

// New builds the provider with a freshly generated signing key, so tokens do
// not survive a restart.
func New(cfg Config) (*Provider, error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("devidp: parse issuer: %w", err)
	}
	if issuer.Scheme != "http" && issuer.Scheme != "https" || issuer.Host == "" {
		return nil, fmt.Errorf("devidp: issuer %q must be an absolute http(s) URL", cfg.Issuer)
	}
	// go-oidc compares issuers byte for byte, so a trailing slash here would
	// break relying parties configured without one.
	if strings.HasSuffix(cfg.Issuer, "/") {
		return nil, fmt.Errorf("devidp: issuer %q must not end with a slash", cfg.Issuer)
	}
	if len(cfg.PortalRedirectURIs) == 0 {
		return nil, errors.New("devidp: at least one portal redirect URI is required")
	}
	// The portal's ID tokens carry its client ID as audience; sharing it
	// would let an access token pass an audience check meant for ID tokens.
	if cfg.APIAudience == PortalClientID {
		return nil, fmt.Errorf("devidp: API audience %q must differ from the portal's client ID", cfg.APIAudience)
	}

	loginURL := func(authRequestID string) string {
		return cfg.Issuer + "/login?authRequestID=" + url.QueryEscape(authRequestID)
	}
	clients := []*client{portalClient(cfg, loginURL)}
	for _, mc := range machineClients {
		clients = append(clients, machineClient(mc))
	}
	st, err := newStorage(cfg.APIAudience, clients...)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}

	// The crypto key encrypts opaque access tokens and authorization codes.
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: generate token encryption key: %w", err)
	}
	var opts []op.Option
	if issuer.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		CryptoKeyId:              "devidp",
		DefaultLogoutRedirectURI: cfg.Issuer + "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedScopes: []string{
			oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, RolesScope,
			scopeIncidentsWrite, scopeIncidentsRead,
		},
		SupportedClaims: append(slices.Clone(op.DefaultSupportedClaims), "roles", "org", "scope"),
	}, st, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("devidp: create OpenID provider: %w", err)
	}

	p := &Provider{
		prefix:        issuer.Path,
		mux:           http.NewServeMux(),
		storage:       st,
		stylesheetURL: cfg.StylesheetURL,
		callbackURL:   op.AuthCallbackURL(provider),
	}
	// AuthCallbackURL reads the issuer from the request context, which only
	// the provider's own routes set up.
	issuerCtx := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	p.mux.HandleFunc("GET /login", p.showLogin)
	p.mux.Handle("POST /login", issuerCtx.HandlerFunc(p.submitLogin))
	p.mux.HandleFunc("GET /logged-out", p.showSignedOut)
	p.mux.Handle("/", provider)
	return p, nil
}

// ServeHTTP serves requests whose path still starts with the issuer's path.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, p.prefix)
	if !ok || rest != "" && rest[0] != '/' {
		http.NotFound(w, r)
		return
	}
	if rest == "" {
		rest = "/"
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = rest, ""
	r2.URL = &u
	p.mux.ServeHTTP(w, r2)
}

type pageData struct {
	Title         string
	StylesheetURL string
	Failed        bool

	FormAction    string
	AuthRequestID string
	Username      string
	Users         []User
	DemoPassword  string
}

func (p *Provider) loginPage(authRequestID, username string, failed bool) pageData {
	return pageData{
		Title:         "Sign in",
		StylesheetURL: p.stylesheetURL,
		Failed:        failed,
		FormAction:    p.prefix + "/login",
		AuthRequestID: authRequestID,
		Username:      username,
		Users:         Users(),
		DemoPassword:  demoPassword,
	}
}

func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if err := p.storage.checkLogin(id); err != nil {
		p.showInvalidRequest(w)
		return
	}
	p.render(w, http.StatusOK, "login", p.loginPage(id, "", false))
}

func (p *Provider) submitLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.showInvalidRequest(w)
		return
	}
	id := r.PostForm.Get("authRequestID")
	username := r.PostForm.Get("username")
	err := p.storage.completeLogin(id, username, r.PostForm.Get("password"))
	switch {
	case errors.Is(err, errBadCredentials):
		p.render(w, http.StatusOK, "login", p.loginPage(id, username, true))
	case err != nil:
		p.showInvalidRequest(w)
	default:
		// The library's callback turns the completed request into a code
		// and redirects to the client's redirect_uri.
		http.Redirect(w, r, p.callbackURL(r.Context(), id), http.StatusSeeOther)
	}
}

func (p *Provider) showInvalidRequest(w http.ResponseWriter) {
	p.render(w, http.StatusBadRequest, "problem", pageData{
		Title:         "This sign-in request is not valid",
		StylesheetURL: p.stylesheetURL,
	})
}

func (p *Provider) showSignedOut(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, "signed-out", pageData{
		Title:         "You have signed out",
		StylesheetURL: p.stylesheetURL,
	})
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, data pageData) {
	// Render to a buffer so a template error cannot leave half a page behind.
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		slog.Error("devidp: render page", "page", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
