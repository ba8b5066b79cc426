package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/oauth2"
)

// ProviderConfig is one OpenID Provider the portal trusts to sign people in.
type ProviderConfig struct {
	// ID names the provider in URLs and in sessions.
	ID           string
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
	// PrivateKey, when set instead of ClientSecret, authenticates the portal at
	// the token endpoint with a signed JWT (private_key_jwt, RFC 7523).
	PrivateKey   crypto.Signer
	PrivateKeyID string
	Scopes       []string
	RolesClaim   string
	OrgClaim     string
	// RoleMap and OrgMap translate claim values; when set, unlisted values grant nothing.
	RoleMap map[string]string
	OrgMap  map[string]string
	// FixedOrg makes everyone this provider signs in belong to one organisation:
	// a partner's own provider cannot vouch for anyone else's people.
	FixedOrg    string
	RedirectURL string
}

// Login runs the authorization code flow with PKCE against one provider.
// Discovery is lazy: a provider that is down at start-up (or, in development,
// served by this very process) must not stop the portal starting.
type Login struct {
	cfg      ProviderConfig
	attempts *mongo.Collection

	mu         sync.Mutex
	provider   *oidc.Provider
	endSession string
}

// Providers are the identity providers people may choose between.
type Providers struct {
	list     []*Login
	attempts *mongo.Collection
}

// NewProviders prepares sign-in through each of cfgs, in the order given.
func NewProviders(db *mongo.Database, cfgs []ProviderConfig) (*Providers, error) {
	ps := &Providers{attempts: db.Collection("login_attempts")}
	for _, c := range cfgs {
		if c.ID == "" {
			return nil, errors.New("identity provider without an ID")
		}
		if _, dup := ps.Get(c.ID); dup {
			return nil, fmt.Errorf("identity provider %q configured twice", c.ID)
		}
		switch c.PrivateKey.(type) {
		case nil, *rsa.PrivateKey, *ecdsa.PrivateKey:
		default:
			return nil, fmt.Errorf("identity provider %q: private key must be RSA or ECDSA, not %T", c.ID, c.PrivateKey)
		}
		if c.PrivateKey != nil && c.ClientSecret != "" {
			return nil, fmt.Errorf("identity provider %q: give a client secret or a private key, not both", c.ID)
		}
		ps.list = append(ps.list, &Login{cfg: c, attempts: ps.attempts})
	}
	if len(ps.list) == 0 {
		return nil, errors.New("no identity provider configured")
	}
	return ps, nil
}

// List is the providers in their configured order.
func (ps *Providers) List() []*Login { return ps.list }

// Get is the provider with id.
func (ps *Providers) Get(id string) (*Login, bool) {
	for _, l := range ps.list {
		if l.cfg.ID == id {
			return l, true
		}
	}
	return nil, false
}

// Complete finishes whichever provider's login the attempt cookie names.
func (ps *Providers) Complete(ctx context.Context, sessions *Sessions, attemptToken string, query url.Values) (Identity, string, error) {
	if attemptToken == "" {
		return Identity{}, "", fmt.Errorf("%w: no attempt cookie", ErrLoginFailed)
	}
	var a loginAttempt
	err := ps.attempts.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: sessions.hash(attemptToken)}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Identity{}, "", fmt.Errorf("%w: unknown or used attempt", ErrLoginFailed)
	}
	if err != nil {
		return Identity{}, "", fmt.Errorf("load login attempt: %w", err)
	}
	l, ok := ps.Get(a.Provider)
	if !ok {
		return Identity{}, "", fmt.Errorf("%w: attempt names an unconfigured provider", ErrLoginFailed)
	}
	return l.complete(ctx, a, query)
}

// ID names the provider in URLs.
func (l *Login) ID() string { return l.cfg.ID }

// Name is the provider as people read it on the chooser.
func (l *Login) Name() string { return l.cfg.Name }

// ErrLoginFailed covers every way a login callback can be wrong; the reason is
// for the log, never for the person, who just starts again.
var ErrLoginFailed = errors.New("login failed")

// NoAccessError means the provider vouched for the person but gave them no role
// or organisation the portal recognises.
type NoAccessError struct {
	Subject, Issuer string
	Rejected        []string
}

func (e *NoAccessError) Error() string {
	return "no recognised role or organisation: " + strings.Join(e.Rejected, ", ")
}

// Issuer is the provider's issuer URL.
func (l *Login) Issuer() string { return l.cfg.Issuer }

func (l *Login) discover(ctx context.Context) (*oidc.Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.provider != nil {
		return l.provider, nil
	}
	p, err := oidc.NewProvider(ctx, l.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", l.cfg.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&extra); err != nil {
		return nil, fmt.Errorf("read discovery document of %s: %w", l.cfg.Issuer, err)
	}
	l.provider, l.endSession = p, extra.EndSession
	return p, nil
}

func (l *Login) oauth2Config(p *oidc.Provider) *oauth2.Config {
	endpoint := p.Endpoint()
	if l.cfg.PrivateKey != nil {
		// The assertion travels in the form body; there is no secret for Basic auth.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     l.cfg.ClientID,
		ClientSecret: l.cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  l.cfg.RedirectURL,
		Scopes:       l.cfg.Scopes,
	}
}

type loginAttempt struct {
	ID        string    `bson:"_id"`
	Provider  string    `bson:"provider"`
	State     string    `bson:"state"`
	Nonce     string    `bson:"nonce"`
	Verifier  string    `bson:"verifier"`
	CreatedAt time.Time `bson:"created_at"`
}

// attemptLifetime bounds how long someone may take at the provider's login page.
const attemptLifetime = 15 * time.Minute

// Begin records a new attempt and returns the browser-bound attempt token (for
// a short-lived cookie) and the provider URL to send the browser to.
func (l *Login) Begin(ctx context.Context, sessions *Sessions) (attemptToken, redirect string, err error) {
	p, err := l.discover(ctx)
	if err != nil {
		return "", "", err
	}
	// Anyone can start a login and most abandoned ones are never completed:
	// without this the collection grows with every unauthenticated request.
	if _, err := l.attempts.DeleteMany(ctx, bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: time.Now().UTC().Add(-attemptLifetime)}}}}); err != nil {
		return "", "", fmt.Errorf("purge stale login attempts: %w", err)
	}
	attemptToken = NewToken()
	a := loginAttempt{
		ID:        sessions.hash(attemptToken),
		Provider:  l.cfg.ID,
		State:     NewToken(),
		Nonce:     NewToken(),
		Verifier:  oauth2.GenerateVerifier(),
		CreatedAt: time.Now().UTC(),
	}
	if _, err := l.attempts.InsertOne(ctx, a); err != nil {
		return "", "", fmt.Errorf("store login attempt: %w", err)
	}
	redirect = l.oauth2Config(p).AuthCodeURL(a.State, oidc.Nonce(a.Nonce), oauth2.S256ChallengeOption(a.Verifier))
	return attemptToken, redirect, nil
}

// complete checks the provider's answer against the attempt bound to this
// browser, exchanges the code and verifies the ID token. The attempt has been
// consumed whatever the outcome, so neither state nor code can be replayed.
func (l *Login) complete(ctx context.Context, a loginAttempt, query url.Values) (Identity, string, error) {
	if time.Since(a.CreatedAt) > attemptLifetime {
		return Identity{}, "", fmt.Errorf("%w: attempt expired", ErrLoginFailed)
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("state")), []byte(a.State)) != 1 {
		return Identity{}, "", fmt.Errorf("%w: state mismatch", ErrLoginFailed)
	}
	if e := query.Get("error"); e != "" {
		return Identity{}, "", fmt.Errorf("%w: provider answered %q", ErrLoginFailed, e)
	}
	code := query.Get("code")
	if code == "" {
		return Identity{}, "", fmt.Errorf("%w: no code", ErrLoginFailed)
	}
	p, err := l.discover(ctx)
	if err != nil {
		return Identity{}, "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(a.Verifier)}
	if l.cfg.PrivateKey != nil {
		assertion, err := l.clientAssertion(p.Endpoint().TokenURL)
		if err != nil {
			return Identity{}, "", err
		}
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", assertion))
	}
	tok, err := l.oauth2Config(p).Exchange(ctx, code, opts...)
	if err != nil {
		return Identity{}, "", fmt.Errorf("%w: exchange code: %v", ErrLoginFailed, err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok || rawID == "" {
		return Identity{}, "", fmt.Errorf("%w: no id_token in token response", ErrLoginFailed)
	}
	idToken, err := p.Verifier(&oidc.Config{ClientID: l.cfg.ClientID}).Verify(ctx, rawID)
	if err != nil {
		return Identity{}, "", fmt.Errorf("%w: verify id_token: %v", ErrLoginFailed, err)
	}
	// go-oidc does not insist on sub, but everything downstream (contract
	// managers' scope, the audit trail) keys on it.
	if idToken.Subject == "" {
		return Identity{}, "", fmt.Errorf("%w: id_token has no subject", ErrLoginFailed)
	}
	// go-oidc leaves the nonce to the caller; without this check a stolen ID token could be replayed.
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(a.Nonce)) != 1 {
		return Identity{}, "", fmt.Errorf("%w: nonce mismatch", ErrLoginFailed)
	}
	if len(idToken.Audience) > 1 {
		var azp struct {
			AZP string `json:"azp"`
		}
		if err := idToken.Claims(&azp); err != nil || azp.AZP != l.cfg.ClientID {
			return Identity{}, "", fmt.Errorf("%w: token issued to another party", ErrLoginFailed)
		}
	}
	id, err := l.identity(idToken)
	if err != nil {
		return Identity{}, "", err
	}
	return id, rawID, nil
}

func (l *Login) identity(tok *oidc.IDToken) (Identity, error) {
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: read claims: %v", ErrLoginFailed, err)
	}
	str := func(name string) string {
		s, _ := claims[name].(string)
		return s
	}
	var claimed []string
	switch v := claims[l.cfg.RolesClaim].(type) {
	case string:
		claimed = strings.Fields(v)
	case []any:
		for _, r := range v {
			if s, ok := r.(string); ok {
				claimed = append(claimed, s)
			}
		}
	}
	if len(l.cfg.RoleMap) > 0 {
		mapped := claimed[:0:0]
		for _, c := range claimed {
			if r, ok := l.cfg.RoleMap[c]; ok {
				mapped = append(mapped, r)
			}
		}
		claimed = mapped
	}
	org := str(l.cfg.OrgClaim)
	switch {
	case l.cfg.FixedOrg != "":
		org = l.cfg.FixedOrg
	case len(l.cfg.OrgMap) > 0:
		org = l.cfg.OrgMap[org]
	}
	roles, rejected := mapRoles(claimed, org)
	if len(roles) == 0 || org == "" {
		if org == "" {
			rejected = append(rejected, "missing organisation")
		}
		if len(claimed) == 0 {
			rejected = append(rejected, "no roles")
		}
		return Identity{Subject: tok.Subject, Issuer: tok.Issuer}, &NoAccessError{Subject: tok.Subject, Issuer: tok.Issuer, Rejected: rejected}
	}
	return Identity{
		Subject:  tok.Subject,
		Issuer:   tok.Issuer,
		Name:     str("name"),
		Email:    str("email"),
		Roles:    roles,
		Org:      org,
		Provider: l.cfg.ID,
	}, nil
}

// LogoutURL is where to send the browser so the provider ends its own session
// too; empty when the provider publishes no end-session endpoint.
func (l *Login) LogoutURL(ctx context.Context, idToken, postLogoutRedirect string) string {
	if _, err := l.discover(ctx); err != nil || l.endSession == "" {
		return ""
	}
	u, err := url.Parse(l.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", l.cfg.ClientID)
	q.Set("post_logout_redirect_uri", postLogoutRedirect)
	u.RawQuery = q.Encode()
	return u.String()
}
