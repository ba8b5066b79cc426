package apiauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

const (
	discoveryTimeout = 10 * time.Second
	// discoveryRetryAfter spaces out attempts while an issuer is unreachable,
	// so an outage does not turn every API request into a call to it.
	discoveryRetryAfter = time.Second
	// maxDiscoveryBytes bounds what a misbehaving issuer can make us read.
	maxDiscoveryBytes = 1 << 20
	// jwksMinRefresh spaces out JWKS fetches. RemoteKeySet refetches for
	// every token whose kid it does not know or whose signature fails, so
	// without this anyone could make each API request a call to the issuer.
	// A rotated-in key is picked up by the first token using it after the
	// interval; the issuer should publish keys before signing with them.
	jwksMinRefresh = 10 * time.Second
)

// signingAlgs are the asymmetric algorithms accepted. Symmetric ones (HS*)
// would let anyone holding the published key, or a shared secret, mint
// tokens; "none" would need no key at all.
var signingAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.EdDSA,
}

var errJWKSThrottled = errors.New("JWKS fetched too recently")

// trustedIssuer discovers its keys on first use rather than at start-up: the
// development issuer is served by the portal itself, which is not listening
// yet when the verifier is built.
type trustedIssuer struct {
	issuer     string
	audience   string
	httpClient *http.Client
	now        func() time.Time

	verifier atomic.Pointer[oidc.IDTokenVerifier]

	mu        sync.Mutex // serialises discovery
	lastErr   error
	retryFrom time.Time
}

// tokenVerifier returns the issuer's verifier, discovering its JWKS URL first
// if no earlier attempt succeeded.
func (ti *trustedIssuer) tokenVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	if v := ti.verifier.Load(); v != nil {
		return v, nil
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if v := ti.verifier.Load(); v != nil {
		return v, nil
	}
	if ti.lastErr != nil && ti.now().Before(ti.retryFrom) {
		return nil, ti.lastErr
	}

	jwksURL, err := ti.discover(ctx)
	if err != nil {
		err = fmt.Errorf("discover keys of issuer %s: %w", ti.issuer, err)
		// A caller that gave up says nothing about the issuer.
		if ctx.Err() == nil {
			ti.lastErr, ti.retryFrom = err, ti.now().Add(discoveryRetryAfter)
		}
		return nil, err
	}
	jwksClient := &http.Client{
		Transport:     &jwksThrottle{next: transport(ti.httpClient), now: ti.now},
		CheckRedirect: ti.httpClient.CheckRedirect,
		Timeout:       ti.httpClient.Timeout,
	}
	// The key set keeps this context for its fetches and ignores its
	// cancellation, so it must not be the request's.
	keySet := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), jwksClient), jwksURL)
	v := oidc.NewVerifier(ti.issuer, keySet, &oidc.Config{
		ClientID:             ti.audience,
		SupportedSigningAlgs: signingAlgs,
		Now:                  ti.now,
	})
	ti.verifier.Store(v)
	ti.lastErr = nil
	return v, nil
}

// discover reads jwks_uri from the issuer's OpenID Provider metadata.
func (ti *trustedIssuer) discover(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	wellKnown := strings.TrimSuffix(ti.issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ti.httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch metadata: status %s", resp.Status)
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDiscoveryBytes)).Decode(&meta); err != nil {
		return "", fmt.Errorf("decode metadata: %w", err)
	}
	// Metadata claiming another issuer would have us trust that issuer's
	// keys for this one (OpenID Connect Discovery, section 4.3).
	if meta.Issuer != ti.issuer {
		return "", fmt.Errorf("metadata names issuer %q", meta.Issuer)
	}
	u, err := url.Parse(meta.JWKSURI)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && strings.HasPrefix(ti.issuer, "http://")) {
		return "", fmt.Errorf("metadata has jwks_uri %q; want an absolute URL, https unless the issuer is http", meta.JWKSURI)
	}
	return meta.JWKSURI, nil
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// jwksThrottle lets through at most one JWKS request per jwksMinRefresh and
// answers the others with the last good response, as if the keys had not
// changed. Failing them instead would refuse good tokens too: RemoteKeySet
// hands a just-finished fetch's result to callers that arrive after it, and a
// request that missed the cache while the first fetch was under way starts
// another.
type jwksThrottle struct {
	next http.RoundTripper
	now  func() time.Time

	mu       sync.Mutex
	last     time.Time
	lastGood []byte // body of the last 200 response
}

func (t *jwksThrottle) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close() // a GET has none; a RoundTripper must close it anyway
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if !t.last.IsZero() && now.Sub(t.last) < jwksMinRefresh {
		if t.lastGood == nil {
			return nil, errJWKSThrottled
		}
		return jwksResponse(req, t.lastGood), nil
	}
	t.last = now

	// Holding the lock while fetching is fine: RemoteKeySet never runs two
	// fetches at once, and anything else would be refused anyway.
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	t.lastGood = body
	return jwksResponse(req, body), nil
}

func jwksResponse(req *http.Request, body []byte) *http.Response {
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
