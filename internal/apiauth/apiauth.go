// Package apiauth authenticates partner systems calling the portal's JSON
// API. They present OAuth 2.0 access tokens (JWTs, RFC 9068 style) obtained
// with the client credentials grant from a trusted authorization server; the
// token's client decides the partner, and its scopes what it may do. Nothing
// in the request body or query ever does.
package apiauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

const (
	// maxTokenBytes bounds the work an unauthenticated request can cause
	// before its signature is checked; real access tokens are a few KB.
	maxTokenBytes = 16 << 10
	// clockSkew tolerates the issuer's clock running a little ahead of ours
	// for nbf and iat. Expiry gets no such tolerance: honouring exp early
	// only shortens a token's life, honouring it late extends a credential.
	clockSkew = time.Minute
)

// Issuer is an authorization server whose access tokens the API accepts, and
// the audience the API requires in them. Tokens minted for another resource
// by the same server are refused.
type Issuer struct {
	Issuer   string
	Audience string
}

// Client is a machine client of an issuer. Each maps to exactly one partner,
// which is where the API takes the caller's tenant from.
type Client struct {
	Issuer, ClientID, Partner string
}

// Caller is the authenticated partner system behind a request.
type Caller struct {
	Issuer, ClientID, Partner string
	TokenID                   string // jti, for audit records; may be empty
	Scopes                    []string
	Expiry                    time.Time
}

// HasScope reports whether the caller's token grants scope.
func (c Caller) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

type clientKey struct{ issuer, clientID string }

// Verifier checks bearer access tokens. It is safe for concurrent use and
// meant to live as long as the process, since it caches each issuer's keys.
type Verifier struct {
	issuers  map[string]*trustedIssuer
	partners map[clientKey]string
	now      func() time.Time
}

// NewVerifier makes no network calls: each issuer's metadata and keys are
// fetched when its first token arrives. httpClient (nil for a default with a
// timeout) is used for those fetches.
func NewVerifier(issuers []Issuer, clients []Client, httpClient *http.Client) (*Verifier, error) {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: discoveryTimeout}
	}
	v := &Verifier{
		issuers:  make(map[string]*trustedIssuer, len(issuers)),
		partners: make(map[clientKey]string, len(clients)),
		now:      time.Now,
	}
	for i, is := range issuers {
		if is.Issuer == "" || is.Audience == "" {
			return nil, fmt.Errorf("apiauth: issuer %d: issuer and audience are required", i)
		}
		if u, err := url.Parse(is.Issuer); err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
			return nil, fmt.Errorf("apiauth: issuer %q: must be an absolute http(s) URL", is.Issuer)
		}
		if _, dup := v.issuers[is.Issuer]; dup {
			return nil, fmt.Errorf("apiauth: issuer %q is listed twice", is.Issuer)
		}
		v.issuers[is.Issuer] = &trustedIssuer{
			issuer:     is.Issuer,
			audience:   is.Audience,
			httpClient: httpClient,
			now:        func() time.Time { return v.now() },
		}
	}
	for _, c := range clients {
		if c.Issuer == "" || c.ClientID == "" || c.Partner == "" {
			return nil, fmt.Errorf("apiauth: client %q of issuer %q: issuer, client ID and partner are required", c.ClientID, c.Issuer)
		}
		if _, ok := v.issuers[c.Issuer]; !ok {
			return nil, fmt.Errorf("apiauth: client %q: issuer %q is not a trusted issuer", c.ClientID, c.Issuer)
		}
		k := clientKey{c.Issuer, c.ClientID}
		if _, dup := v.partners[k]; dup {
			return nil, fmt.Errorf("apiauth: client %q of issuer %q is listed twice", c.ClientID, c.Issuer)
		}
		v.partners[k] = c.Partner
	}
	return v, nil
}

// Verify authenticates the request whose Authorization header value is
// authorizationHeader. A refusal is an *Error. Any other error means the token
// could not be checked at all (the issuer's metadata is unreachable): the
// caller is not at fault, so answer 503 rather than 401.
func (v *Verifier) Verify(ctx context.Context, authorizationHeader string) (Caller, error) {
	raw, e := bearerToken(authorizationHeader)
	if e != nil {
		return Caller{}, e
	}
	header, unverified, e := peek(raw)
	if e != nil {
		return Caller{}, e
	}
	if !slices.Contains(signingAlgs, header.Alg) {
		return Caller{}, invalidToken("the access token is not signed with an accepted algorithm", nil)
	}
	// RFC 9068 access tokens say at+jwt; many servers (including the
	// development provider) still write plain JWT. Anything else is some
	// other kind of token, such as a logout token.
	if header.Typ != "" && !strings.EqualFold(header.Typ, "at+jwt") &&
		!strings.EqualFold(header.Typ, "application/at+jwt") && !strings.EqualFold(header.Typ, "JWT") {
		return Caller{}, invalidToken("the token is not an access token", nil)
	}
	// The unverified issuer only picks whose keys to check the signature
	// with; the library then requires iss to match that issuer exactly.
	ti, ok := v.issuers[unverified.Issuer]
	if !ok {
		return Caller{}, invalidToken("the access token was not issued by a trusted authorization server", nil)
	}
	if !slices.Contains(unverified.Audience, ti.audience) {
		return Caller{}, invalidToken("the access token was not issued for this API", nil)
	}
	// The library would call this expired, which would mislead whoever
	// debugs the partner's integration.
	if unverified.Expiry == nil {
		return Caller{}, invalidToken("the access token has no expiry time", nil)
	}

	tv, err := ti.tokenVerifier(ctx)
	if err != nil {
		return Caller{}, fmt.Errorf("apiauth: %w", err)
	}
	tok, err := tv.Verify(ctx, raw)
	if err != nil {
		if _, expired := errors.AsType[*oidc.TokenExpiredError](err); expired {
			return Caller{}, invalidToken("the access token has expired", err)
		}
		return Caller{}, invalidToken("the access token is not valid", err)
	}

	var claims struct {
		ClientID  string          `json:"client_id"`
		AZP       string          `json:"azp"`
		Nonce     json.RawMessage `json:"nonce"`
		Scope     scopeClaim      `json:"scope"`
		JTI       string          `json:"jti"`
		NotBefore *float64        `json:"nbf"`
		IssuedAt  *float64        `json:"iat"`
	}
	if err := tok.Claims(&claims); err != nil {
		return Caller{}, invalidToken("the access token's claims are malformed", err)
	}
	// The library allows five minutes for nbf and does not look at iat.
	latest := float64(v.now().Add(clockSkew).UnixNano()) / 1e9
	if claims.NotBefore != nil && *claims.NotBefore > latest {
		return Caller{}, invalidToken("the access token is not valid yet", nil)
	}
	if claims.IssuedAt != nil && *claims.IssuedAt > latest {
		return Caller{}, invalidToken("the access token was issued in the future", nil)
	}
	// An ID token audienced to the API would pass every check above; a nonce
	// or the lack of a client are what give it away (RFC 9068, section 2.2).
	if claims.Nonce != nil {
		return Caller{}, invalidToken("an ID token is not an access token", nil)
	}
	clientID := claims.ClientID
	if clientID == "" {
		clientID = claims.AZP
	}
	if clientID == "" {
		return Caller{}, invalidToken("the access token does not name its client", nil)
	}
	partner, ok := v.partners[clientKey{ti.issuer, clientID}]
	if !ok {
		return Caller{}, invalidToken("the access token's client is not registered with this API", nil)
	}
	return Caller{
		Issuer:   ti.issuer,
		ClientID: clientID,
		Partner:  partner,
		TokenID:  claims.JTI,
		Scopes:   claims.Scope,
		Expiry:   tok.Expiry,
	}, nil
}

// bearerToken extracts the token of an RFC 6750 Authorization header.
func bearerToken(header string) (string, *Error) {
	if header == "" {
		return "", noCredentials("the request has no access token")
	}
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", noCredentials("the request does not use the Bearer authentication scheme")
	}
	token = strings.TrimLeft(token, " ")
	if !isB64Token(token) {
		return "", invalidRequest("the Authorization header is not of the form: Bearer <access token>")
	}
	if len(token) > maxTokenBytes {
		return "", invalidToken("the access token is too long", nil)
	}
	return token, nil
}

// isB64Token matches RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, r := range body {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune("-._~+/", r):
		default:
			return false
		}
	}
	return true
}

type joseHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
}

type unverifiedClaims struct {
	Issuer   string          `json:"iss"`
	Audience audience        `json:"aud"`
	Expiry   json.RawMessage `json:"exp"`
}

// peek decodes a compact JWS's header and payload without checking the
// signature, to choose the issuer and refuse the obviously wrong cheaply.
// Nothing it returns is trusted beyond that.
func peek(raw string) (joseHeader, unverifiedClaims, *Error) {
	var (
		h joseHeader
		c unverifiedClaims
	)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, c, invalidToken("the access token is not a signed JWT", nil)
	}
	if err := decodeSegment(parts[0], &h); err != nil {
		return h, c, invalidToken("the access token's header is malformed", err)
	}
	if err := decodeSegment(parts[1], &c); err != nil {
		return h, c, invalidToken("the access token's claims are malformed", err)
	}
	return h, c, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("decode base64url: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode JSON: %w", err)
	}
	return nil
}

// audience is the aud claim, a string or an array of strings (RFC 7519).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: %w", err)
	}
	*a = many
	return nil
}

// scopeClaim is scope as RFC 9068 writes it, space-delimited, or as an array
// of strings as some servers do.
type scopeClaim []string

func (s *scopeClaim) UnmarshalJSON(b []byte) error {
	var delimited string
	if err := json.Unmarshal(b, &delimited); err == nil {
		*s = strings.Fields(delimited)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("scope: %w", err)
	}
	*s = many
	return nil
}
