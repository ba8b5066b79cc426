package devidp

import (
	"crypto/subtle"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	// PortalClientID identifies the portal's confidential web client.
	PortalClientID = "portal"
	// PortalClientSecret authenticates the portal with client_secret_basic or client_secret_post.
	PortalClientSecret = "portal-dev-secret"
	// RolesScope is the custom scope that adds "roles" (array of strings) and
	// "org" (string) to the ID token and the userinfo response.
	RolesScope = "portal"
)

const (
	scopeIncidentsWrite = "incidents:write"
	scopeIncidentsRead  = "incidents:read"

	idTokenLifetime     = time.Hour
	accessTokenLifetime = time.Hour
)

// client is both the portal's web client and the partners' machine clients;
// the fields left empty for one kind switch the other kind's flows off.
type client struct {
	id     string
	secret string

	// web client
	redirectURIs           []string
	postLogoutRedirectURIs []string
	loginURL               func(authRequestID string) string

	// machine clients
	org           string
	machineScopes []string
}

var _ op.Client = (*client)(nil)

func portalClient(cfg Config, loginURL func(string) string) *client {
	return &client{
		id:                     PortalClientID,
		secret:                 PortalClientSecret,
		redirectURIs:           slices.Clone(cfg.PortalRedirectURIs),
		postLogoutRedirectURIs: slices.Clone(cfg.PortalPostLogoutRedirectURIs),
		loginURL:               loginURL,
	}
}

// MachineClient is a partner system's client_credentials client. Org is the
// partner it acts for; the portal maps the client to that partner.
type MachineClient struct {
	ID, Secret, Org string
	Scopes          []string
}

var machineClients = []MachineClient{
	{ID: "northgate-system", Secret: "northgate-secret", Org: "northgate", Scopes: []string{scopeIncidentsWrite, scopeIncidentsRead}},
	{ID: "brightwell-system", Secret: "brightwell-secret", Org: "brightwell", Scopes: []string{scopeIncidentsWrite, scopeIncidentsRead}},
}

// MachineClients returns the partner systems' clients in a fixed order.
func MachineClients() []MachineClient {
	out := make([]MachineClient, len(machineClients))
	for i, mc := range machineClients {
		mc.Scopes = slices.Clone(mc.Scopes) // callers must not be able to change the provider's clients
		out[i] = mc
	}
	return out
}

func machineClient(mc MachineClient) *client {
	return &client{
		id:            mc.ID,
		secret:        mc.Secret,
		org:           mc.Org,
		machineScopes: slices.Clone(mc.Scopes),
	}
}

func (c *client) isMachine() bool { return c.org != "" }

func (c *client) secretMatches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) == 1
}

func (c *client) GetID() string                    { return c.id }
func (c *client) RedirectURIs() []string           { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.postLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}

// AuthMethod is basic, but the token endpoint also accepts client_secret_post
// because op.Config.AuthMethodPost is set.
func (c *client) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }

func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.isMachine() {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	if c.isMachine() {
		return []oidc.GrantType{oidc.GrantTypeClientCredentials}
	}
	return []oidc.GrantType{oidc.GrantTypeCode}
}

func (c *client) LoginURL(authRequestID string) string {
	if c.loginURL == nil {
		return ""
	}
	return c.loginURL(authRequestID)
}

// AccessTokenType: machine tokens are JWTs so the portal's API can verify them
// offline against the JWKS; the portal's user tokens stay opaque so they can
// never be mistaken for API credentials.
func (c *client) AccessTokenType() op.AccessTokenType {
	if c.isMachine() {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}

func (c *client) IDTokenLifetime() time.Duration { return idTokenLifetime }
func (c *client) DevMode() bool                  { return false }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed admits the custom scopes; without it the library silently
// drops them from the request.
func (c *client) IsScopeAllowed(scope string) bool {
	if c.isMachine() {
		return slices.Contains(c.machineScopes, scope)
	}
	return scope == RolesScope
}

// IDTokenUserinfoClaimsAssertion keeps name and email in the ID token even
// though an access token is issued too; the portal reads them from there.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
