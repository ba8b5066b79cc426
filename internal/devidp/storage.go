package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequestLifetime bounds both the login step and the authorization code.
const authRequestLifetime = 10 * time.Minute

var (
	errAuthRequestNotFound = errors.New("auth request not found or expired")
	errBadCredentials      = errors.New("wrong username or password")
)

// authRequest is the stored state of one /authorize call. The storage hands
// the library copies only, so the login handler can update the stored one
// under the lock while the library reads its copy without one.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge

	subject    string
	authTime   time.Time
	done       bool
	codeIssued bool
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	if a.challenge != nil {
		ch := *a.challenge
		c.challenge = &ch
	}
	return &c
}

func (a *authRequest) expired(now time.Time) bool {
	return now.After(a.created.Add(authRequestLifetime))
}

func (a *authRequest) GetID() string  { return a.id }
func (a *authRequest) GetACR() string { return "" }
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// clientCredentialsRequest is the token request of a machine client.
type clientCredentialsRequest struct {
	clientID string
	audience string // the API's audience, or empty for the client's own ID
	scopes   []string
}

func (c *clientCredentialsRequest) GetSubject() string { return c.clientID }

// GetAudience becomes the access token's aud claim.
func (c *clientCredentialsRequest) GetAudience() []string {
	if c.audience != "" {
		return []string{c.audience}
	}
	return []string{c.clientID}
}

func (c *clientCredentialsRequest) GetScopes() []string { return c.scopes }

// accessToken is kept for userinfo, introspection and revocation, which is
// also what lets end_session and code replay invalidate opaque tokens.
type accessToken struct {
	id            string
	clientID      string
	subject       string
	authRequestID string // empty for machine tokens
	scopes        []string
	expires       time.Time
}

type spentCode struct {
	authRequestID string
	expires       time.Time
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// storage is the in-memory op.Storage. Clients and users never change after
// newStorage, so only the maps below need the mutex.
type storage struct {
	clients     map[string]*client
	key         *signingKey
	apiAudience string

	mu           sync.Mutex
	authRequests map[string]*authRequest
	codes        map[string]string // code -> auth request ID
	spentCodes   map[string]spentCode
	tokens       map[string]*accessToken
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.ClientCredentialsStorage  = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(apiAudience string, clients ...*client) (*storage, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	s := &storage{
		clients:      make(map[string]*client, len(clients)),
		key:          &signingKey{id: rand.Text(), key: key},
		apiAudience:  apiAudience,
		authRequests: make(map[string]*authRequest),
		codes:        make(map[string]string),
		spentCodes:   make(map[string]spentCode),
		tokens:       make(map[string]*accessToken),
	}
	for _, c := range clients {
		s.clients[c.id] = c
	}
	return s, nil
}

// sweep drops expired state so a long-running dev server does not grow
// without bound. Callers hold s.mu.
func (s *storage) sweep(now time.Time) {
	for id, ar := range s.authRequests {
		if ar.expired(now) {
			delete(s.authRequests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.authRequests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for code, sc := range s.spentCodes {
		if now.After(sc.expires) {
			delete(s.spentCodes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// pendingAuthRequest returns the stored request while the user may still log
// in or be sent back with a code. Callers hold s.mu.
func (s *storage) pendingAuthRequest(id string) (*authRequest, bool) {
	ar, ok := s.authRequests[id]
	if !ok || ar.codeIssued || ar.expired(time.Now()) {
		return nil, false
	}
	return ar, true
}

// CreateAuthRequest refuses requests without S256 PKCE: the library itself
// only enforces PKCE for public clients.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// There is no IdP session to reuse, so the user always has to log in.
		return nil, oidc.ErrLoginRequired()
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	// form_post answers with the library's auto-submitting page, whose inline
	// script the portal's CSP blocks.
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	now := time.Now()
	ar := &authRequest{
		id:           rand.Text(),
		created:      now,
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone([]string(req.Scopes)),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		challenge: &oidc.CodeChallenge{
			Challenge: req.CodeChallenge,
			Method:    req.CodeChallengeMethod,
		},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.authRequests[ar.id] = ar
	return ar.clone(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.pendingAuthRequest(id)
	if !ok {
		return nil, errAuthRequestNotFound
	}
	return ar.clone(), nil
}

// checkLogin tells the login page whether it may still be shown for id.
func (s *storage) checkLogin(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ar, ok := s.pendingAuthRequest(id); !ok || ar.done {
		return errAuthRequestNotFound
	}
	return nil
}

// completeLogin marks the auth request as authenticated. A repeated submission
// by the same user (a double click) succeeds again so the browser still ends
// up at the callback.
func (s *storage) completeLogin(id, username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.pendingAuthRequest(id)
	if !ok {
		return errAuthRequestNotFound
	}
	user, ok := authenticateUser(username, password)
	if !ok {
		return errBadCredentials
	}
	if ar.done {
		if ar.subject != user.subject() {
			return errAuthRequestNotFound
		}
		return nil
	}
	ar.subject = user.subject()
	ar.authTime = time.Now()
	ar.done = true
	return nil
}

// SaveAuthCode allows one code per auth request, so replaying the callback
// URL cannot mint a second code.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.pendingAuthRequest(id)
	if !ok || !ar.done {
		return errAuthRequestNotFound
	}
	ar.codeIssued = true
	s.codes[code] = id
	return nil
}

// AuthRequestByCode consumes the code on first presentation, whatever the
// outcome of the exchange, so a failed PKCE or client check burns it too. A
// replayed code revokes the tokens issued for it (RFC 6749, section 4.1.2).
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		if spent, ok := s.spentCodes[code]; ok {
			s.revokeTokensFor(spent.authRequestID)
			return nil, errors.New("authorization code already used")
		}
		return nil, errors.New("authorization code unknown or expired")
	}
	delete(s.codes, code)
	ar, ok := s.authRequests[id]
	delete(s.authRequests, id)
	if !ok || ar.expired(time.Now()) {
		return nil, errors.New("authorization code expired")
	}
	s.spentCodes[code] = spentCode{authRequestID: id, expires: ar.created.Add(authRequestLifetime)}
	return ar.clone(), nil
}

// revokeTokensFor is called with s.mu held.
func (s *storage) revokeTokensFor(authRequestID string) {
	for id, t := range s.tokens {
		if t.authRequestID == authRequestID {
			delete(s.tokens, id)
		}
	}
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, reqID := range s.codes {
		if reqID == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	now := time.Now()
	t := &accessToken{
		id:      rand.Text(),
		subject: req.GetSubject(),
		scopes:  slices.Clone(req.GetScopes()),
		expires: now.Add(accessTokenLifetime),
	}
	switch r := req.(type) {
	case *authRequest:
		t.clientID = r.clientID
		t.authRequestID = r.id
	case *clientCredentialsRequest:
		t.clientID = r.clientID
	default:
		return "", time.Time{}, fmt.Errorf("unsupported token request %T", req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens is unreachable: no client has the refresh_token grant.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not supported")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, oidc.ErrInvalidGrant().WithDescription("refresh tokens are not supported")
}

// TerminateSession revokes the user's tokens for the client. There is no
// IdP-side login session to end: every authorization shows the login page.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenIDOrToken, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenIDOrToken]
	if !ok {
		return nil // unknown tokens are already as revoked as they can be
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	delete(s.tokens, tokenIDOrToken)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("unknown client %q", clientID)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	c, ok := s.clients[clientID]
	if !ok || !c.secretMatches(clientSecret) {
		return errors.New("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	user, ok := userBySubject(req.GetSubject())
	if !ok {
		return fmt.Errorf("unknown subject %q", req.GetSubject())
	}
	setUserinfo(info, user, scopes)
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.liveToken(tokenID)
	if err != nil {
		return err
	}
	user, ok := userBySubject(t.subject)
	if !ok || t.subject != subject {
		return errors.New("token does not belong to a user")
	}
	setUserinfo(info, user, t.scopes)
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.liveToken(tokenID)
	if err != nil {
		return err
	}
	// The portal may introspect any token as the resource server; other
	// clients only their own.
	if t.subject != subject || (t.clientID != clientID && clientID != PortalClientID) {
		return errors.New("token was not issued to this client")
	}
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Subject = t.subject
	resp.Expiration = oidc.FromTime(t.expires)
	if user, ok := userBySubject(t.subject); ok {
		info := new(oidc.UserInfo)
		setUserinfo(info, user, t.scopes)
		resp.SetUserInfo(info)
	}
	return nil
}

func (s *storage) liveToken(tokenID string) (accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || time.Now().After(t.expires) {
		return accessToken{}, errors.New("token invalid or expired")
	}
	return *t, nil
}

// GetPrivateClaimsFromScopes adds the claims of JWT access tokens, which
// only machine clients get: the portal's API authorises on org and scope.
// The library sets client_id itself but never fills its own scope field, so
// scope has to come from here; scopes are those granted by
// ClientCredentialsTokenRequest, so a client asking for fewer gets fewer.
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, _, clientID string, scopes []string) (map[string]any, error) {
	c, ok := s.clients[clientID]
	if !ok || !c.isMachine() {
		return nil, nil
	}
	return map[string]any{
		"org":   c.org,
		"scope": strings.Join(scopes, " "),
	}, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }

func (s *storage) ClientCredentials(_ context.Context, clientID, clientSecret string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok || !c.isMachine() || !c.secretMatches(clientSecret) {
		return nil, errors.New("invalid client credentials")
	}
	return c, nil
}

// ClientCredentialsTokenRequest grants the requested scopes the client may
// have, all of them when none are requested, and refuses a request that asks
// only for scopes it may not have.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, ok := s.clients[clientID]
	if !ok || !c.isMachine() {
		return nil, oidc.ErrUnauthorizedClient()
	}
	granted := slices.Clone(c.machineScopes)
	if len(scopes) > 0 {
		granted = slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !c.IsScopeAllowed(sc) })
		slices.Sort(granted)
		granted = slices.Compact(granted)
		if len(granted) == 0 {
			return nil, oidc.ErrInvalidScope().WithDescription("none of the requested scopes is allowed for this client")
		}
	}
	return &clientCredentialsRequest{clientID: clientID, audience: s.apiAudience, scopes: granted}, nil
}

func setUserinfo(info *oidc.UserInfo, user User, scopes []string) {
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeOpenID:
			info.Subject = user.subject()
		case oidc.ScopeProfile:
			info.Name = user.Name
			info.PreferredUsername = user.Username
		case oidc.ScopeEmail:
			info.Email = user.Username
			info.EmailVerified = oidc.Bool(true)
		case RolesScope:
			info.AppendClaims("roles", slices.Clone(user.Roles))
			info.AppendClaims("org", user.Org)
		}
	}
}
