package auth

import (
	"context"
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
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	RolesClaim   string
	OrgClaim     string
	RedirectURL  string
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

// ErrLoginFailed covers every way a login callback can be wrong; the reason is
// for the log, never for the person, who just starts again.
var ErrLoginFailed = errors.New("login failed")

// NoAccessError means the provider vouched for the person but gave them no role
// or organisation the portal recognises.
type NoAccessError struct{ Rejected []string }

func (e *NoAccessError) Error() string {
	return "no recognised role or organisation: " + strings.Join(e.Rejected, ", ")
}

// NewLogin prepares logins through cfg, keeping in-flight attempts in db.
func NewLogin(db *mongo.Database, cfg ProviderConfig) *Login {
	return &Login{cfg: cfg, attempts: db.Collection("login_attempts")}
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
	return &oauth2.Config{
		ClientID:     l.cfg.ClientID,
		ClientSecret: l.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  l.cfg.RedirectURL,
		Scopes:       l.cfg.Scopes,
	}
}

type loginAttempt struct {
	ID        string    `bson:"_id"`
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
	attemptToken = NewToken()
	a := loginAttempt{
		ID:        sessions.hash(attemptToken),
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

// Complete checks the provider's answer against the attempt bound to this
// browser, exchanges the code and verifies the ID token. The attempt is
// consumed whatever the outcome, so neither state nor code can be replayed.
func (l *Login) Complete(ctx context.Context, sessions *Sessions, attemptToken string, query url.Values) (Identity, string, error) {
	if attemptToken == "" {
		return Identity{}, "", fmt.Errorf("%w: no attempt cookie", ErrLoginFailed)
	}
	var a loginAttempt
	err := l.attempts.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: sessions.hash(attemptToken)}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Identity{}, "", fmt.Errorf("%w: unknown or used attempt", ErrLoginFailed)
	}
	if err != nil {
		return Identity{}, "", fmt.Errorf("load login attempt: %w", err)
	}
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
	tok, err := l.oauth2Config(p).Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
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
	org := str(l.cfg.OrgClaim)
	roles, rejected := mapRoles(claimed, org)
	if len(roles) == 0 || org == "" {
		if org == "" {
			rejected = append(rejected, "missing organisation")
		}
		if len(claimed) == 0 {
			rejected = append(rejected, "no roles")
		}
		return Identity{}, &NoAccessError{Rejected: rejected}
	}
	return Identity{
		Subject:  tok.Subject,
		Issuer:   tok.Issuer,
		Name:     str("name"),
		Email:    str("email"),
		Roles:    roles,
		Org:      org,
		Provider: l.cfg.Name,
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
