package apiauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/department/safeguarding-portal/internal/apiauth"
)

const testAudience = "https://portal.example/api"

// testKey is a signing key of a fake issuer or an attacker.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any
	pub  any
}

func newRSAKey(t testing.TB) *testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: rand.Text(), alg: jose.RS256, priv: k, pub: &k.PublicKey}
}

func newECKey(t testing.TB) *testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: rand.Text(), alg: jose.ES256, priv: k, pub: &k.PublicKey}
}

func (k *testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign makes a compact JWS; opts may set header fields (nil: typ at+jwt).
func (k *testKey) sign(t testing.TB, claims map[string]any, opts *jose.SignerOptions) string {
	t.Helper()
	if opts == nil {
		opts = (&jose.SignerOptions{}).WithType("at+jwt")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// fakeIssuer serves OpenID Provider metadata and a JWKS that tests can swap.
type fakeIssuer struct {
	srv *httptest.Server
	url string

	mu              sync.Mutex
	keys            []jose.JSONWebKey
	discoveryStatus int    // 0 for 200
	metadataIssuer  string // "" for the real one

	discoveryHits, jwksHits atomic.Int32
}

func newFakeIssuer(t testing.TB, keys ...*testKey) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		f.discoveryHits.Add(1)
		f.mu.Lock()
		status, issuer := f.discoveryStatus, f.metadataIssuer
		f.mu.Unlock()
		if status != 0 {
			http.Error(w, "unavailable", status)
			return
		}
		if issuer == "" {
			issuer = f.url
		}
		writeJSON(w, map[string]any{"issuer": issuer, "jwks_uri": f.url + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		f.jwksHits.Add(1)
		f.mu.Lock()
		set := jose.JSONWebKeySet{Keys: slices.Clone(f.keys)}
		f.mu.Unlock()
		writeJSON(w, set)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.url = f.srv.URL
	f.publish(keys...)
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeIssuer) publish(keys ...*testKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = f.keys[:0]
	for _, k := range keys {
		f.keys = append(f.keys, k.jwk())
	}
}

func (f *fakeIssuer) setDiscovery(status int, metadataIssuer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.discoveryStatus, f.metadataIssuer = status, metadataIssuer
}

// claims are those of a good access token for clientID.
func (f *fakeIssuer) claims(clientID string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":       f.url,
		"sub":       clientID,
		"aud":       []string{testAudience},
		"client_id": clientID,
		"scope":     "incidents:write incidents:read",
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(5 * time.Minute).Unix(),
		"jti":       rand.Text(),
	}
}

// allowOnly is an HTTP client that refuses, and fails the test for, any
// request to a host other than those given: keys must come from the
// configured issuers only, never from URLs inside tokens.
func allowOnly(t testing.TB, servers ...*fakeIssuer) *http.Client {
	var hosts []string
	for _, s := range servers {
		hosts = append(hosts, s.srv.Listener.Addr().String())
	}
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if !slices.Contains(hosts, r.URL.Host) {
			t.Errorf("request to unexpected host: %s", r.URL)
			return nil, errors.New("host not allowed in this test")
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// testClock runs at wall-clock pace and can be moved forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func newVerifier(t testing.TB, issuers []apiauth.Issuer, clients []apiauth.Client, hc *http.Client) *apiauth.Verifier {
	t.Helper()
	v, err := apiauth.NewVerifier(issuers, clients, hc)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// wantRefusal checks that err is an *apiauth.Error with the status and code
// given, and that nothing of the token leaks into what the client is told.
func wantRefusal(t *testing.T, err error, status int, code, token string) *apiauth.Error {
	t.Helper()
	var e *apiauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *apiauth.Error", err)
	}
	t.Log(err) // with -v, shows which check refused it
	if e.Status != status || e.Code != code {
		t.Errorf("refusal = %d %q (%s), want %d %q", e.Status, e.Code, e.Description, status, code)
	}
	if e.Description == "" {
		t.Error("refusal has no description")
	}
	challenge := e.WWWAuthenticate()
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 8 && (strings.Contains(e.Description, seg) || strings.Contains(challenge, seg)) {
			t.Errorf("refusal echoes the token: %q / %q", e.Description, challenge)
		}
	}
	return e
}

func TestRefusals(t *testing.T) {
	keyA, keyB, attacker := newRSAKey(t), newECKey(t), newRSAKey(t)
	a, b := newFakeIssuer(t, keyA), newFakeIssuer(t, keyB)
	// Serves the attacker's key at the jku a forged token names; it must
	// never be asked.
	evil := newFakeIssuer(t, attacker)

	v := newVerifier(t,
		[]apiauth.Issuer{{Issuer: a.url, Audience: testAudience}, {Issuer: b.url, Audience: testAudience}},
		[]apiauth.Client{
			{Issuer: a.url, ClientID: "northgate-system", Partner: "northgate"},
			{Issuer: b.url, ClientID: "brightwell-system", Partner: "brightwell"},
		},
		allowOnly(t, a, b))

	good := func(mutate func(map[string]any)) string {
		c := a.claims("northgate-system")
		if mutate != nil {
			mutate(c)
		}
		return keyA.sign(t, c, nil)
	}
	const (
		s400, s401 = http.StatusBadRequest, http.StatusUnauthorized
		badReq     = apiauth.CodeInvalidRequest
		badTok     = apiauth.CodeInvalidToken
	)
	ago, ahead := func(d time.Duration) int64 { return time.Now().Add(-d).Unix() }, func(d time.Duration) int64 { return time.Now().Add(d).Unix() }

	tests := []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"no header", "", s401, ""},
		{"basic scheme", "Basic bm9ydGhnYXRlOnNlY3JldA==", s401, ""},
		{"scheme only", "Bearer", s400, badReq},
		{"empty token", "Bearer ", s400, badReq},
		{"two tokens", "Bearer " + good(nil) + " " + good(nil), s400, badReq},
		{"illegal characters", "Bearer abc!def", s400, badReq},
		{"too long", "Bearer " + strings.Repeat("a", apiauth.MaxTokenBytes+1), s401, badTok},
		{"not a JWT", "Bearer abcdef", s401, badTok},
		{"JWE-shaped", "Bearer a.b.c.d.e", s401, badTok},
		{"garbage segments", "Bearer a.b.c", s401, badTok},
		{"expired", "Bearer " + good(func(c map[string]any) {
			c["exp"], c["iat"], c["nbf"] = ago(time.Second), ago(time.Hour), ago(time.Hour)
		}), s401, badTok},
		{"no exp", "Bearer " + good(func(c map[string]any) { delete(c, "exp") }), s401, badTok},
		{"nbf ahead beyond skew", "Bearer " + good(func(c map[string]any) { c["nbf"] = ahead(2 * time.Minute) }), s401, badTok},
		{"iat ahead beyond skew", "Bearer " + good(func(c map[string]any) { c["iat"] = ahead(2 * time.Minute) }), s401, badTok},
		{"wrong audience", "Bearer " + good(func(c map[string]any) { c["aud"] = []string{"https://other.example/api"} }), s401, badTok},
		{"wrong audience as string", "Bearer " + good(func(c map[string]any) { c["aud"] = "https://other.example/api" }), s401, badTok},
		{"no audience", "Bearer " + good(func(c map[string]any) { delete(c, "aud") }), s401, badTok},
		{"unknown issuer", "Bearer " + good(func(c map[string]any) { c["iss"] = "https://idp.evil.example" }), s401, badTok},
		{"issuer with trailing slash", "Bearer " + good(func(c map[string]any) { c["iss"] = a.url + "/" }), s401, badTok},
		{"signed by another key", "Bearer " + attacker.sign(t, a.claims("northgate-system"), nil), s401, badTok},
		{"signed by the other issuer's key", "Bearer " + keyB.sign(t, a.claims("northgate-system"), nil), s401, badTok},
		{"tampered payload", "Bearer " + tamper(t, good(func(c map[string]any) { c["scope"] = "incidents:read" }), "scope", "incidents:write incidents:read"), s401, badTok},
		{"alg none", "Bearer " + unsigned(t, a.claims("northgate-system")), s401, badTok},
		{"HS256 keyed with the public key", "Bearer " + hmacWithPublicKey(t, keyA, a.claims("northgate-system")), s401, badTok},
		{"jku to attacker keys", "Bearer " + attacker.sign(t, a.claims("northgate-system"),
			(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("jku", evil.url+"/jwks")), s401, badTok},
		{"embedded attacker jwk", "Bearer " + attacker.sign(t, a.claims("northgate-system"),
			&jose.SignerOptions{EmbedJWK: true, ExtraHeaders: map[jose.HeaderKey]any{"typ": "at+jwt"}}), s401, badTok},
		{"missing client_id", "Bearer " + good(func(c map[string]any) { delete(c, "client_id") }), s401, badTok},
		{"unknown client", "Bearer " + good(func(c map[string]any) { c["client_id"] = "stranger-system" }), s401, badTok},
		{"client of another issuer", "Bearer " + keyB.sign(t, b.claims("northgate-system"), nil), s401, badTok},
		{"ID token shaped", "Bearer " + keyA.sign(t, idTokenClaims(a.claims("northgate-system")), (&jose.SignerOptions{}).WithType("JWT")), s401, badTok},
		{"nonce on an otherwise good token", "Bearer " + good(func(c map[string]any) { c["nonce"] = "n-0S6_WzA2Mj" }), s401, badTok},
		{"logout token typ", "Bearer " + keyA.sign(t, a.claims("northgate-system"), (&jose.SignerOptions{}).WithType("logout+jwt")), s401, badTok},
		{"ID token typ", "Bearer " + keyA.sign(t, a.claims("northgate-system"), (&jose.SignerOptions{}).WithType("id_token+jwt")), s401, badTok},
		{"scope of wrong type", "Bearer " + good(func(c map[string]any) { c["scope"] = 42 }), s401, badTok},
		{"client_id of wrong type", "Bearer " + good(func(c map[string]any) { c["client_id"] = []string{"northgate-system"} }), s401, badTok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller, err := v.Verify(t.Context(), tt.header)
			if err == nil {
				t.Fatalf("accepted: %+v", caller)
			}
			_, token, _ := strings.Cut(tt.header, " ")
			e := wantRefusal(t, err, tt.status, tt.code, token)
			if tt.code == "" && e.WWWAuthenticate() != `Bearer realm="portal"` {
				t.Errorf("challenge = %q, want only the realm", e.WWWAuthenticate())
			}
		})
	}
	if n := evil.jwksHits.Load() + evil.discoveryHits.Load(); n != 0 {
		t.Errorf("attacker's server got %d requests", n)
	}
}

// idTokenClaims turns access token claims into those of an ID token
// audienced to the API: a nonce and azp instead of client_id.
func idTokenClaims(c map[string]any) map[string]any {
	c["azp"] = c["client_id"]
	delete(c, "client_id")
	delete(c, "scope")
	c["nonce"] = "n-0S6_WzA2Mj"
	c["auth_time"] = c["iat"]
	return c
}

// tamper replaces a claim in a signed token's payload, keeping the signature.
func tamper(t *testing.T, raw, claim string, value any) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	c[claim] = value
	parts[1] = b64JSON(t, c)
	return strings.Join(parts, ".")
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// unsigned builds an alg "none" token by hand; go-jose will not make one.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	return b64JSON(t, map[string]string{"alg": "none", "typ": "at+jwt"}) + "." + b64JSON(t, claims) + "."
}

// hmacWithPublicKey is the algorithm-confusion attack: a verifier that lets
// the token choose HS256 would use the published RSA key as the secret.
func hmacWithPublicKey(t *testing.T, k *testKey, claims map[string]any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := &testKey{kid: k.kid, alg: jose.HS256, priv: secret}
	return hs.sign(t, claims, nil)
}

func TestAccepts(t *testing.T) {
	key := newECKey(t)
	f := newFakeIssuer(t, key)
	v := newVerifier(t,
		[]apiauth.Issuer{{Issuer: f.url, Audience: testAudience}},
		[]apiauth.Client{
			{Issuer: f.url, ClientID: "northgate-system", Partner: "northgate"},
			{Issuer: f.url, ClientID: "brightwell-system", Partner: "brightwell"},
		},
		allowOnly(t, f))

	tests := []struct {
		name       string
		scheme     string
		mutate     func(map[string]any)
		opts       *jose.SignerOptions
		wantClient string
		wantScopes []string
	}{
		{name: "at+jwt", wantScopes: []string{"incidents:write", "incidents:read"}},
		{name: "typ JWT", opts: (&jose.SignerOptions{}).WithType("JWT")},
		{name: "typ application/at+jwt", opts: (&jose.SignerOptions{}).WithType("application/at+jwt")},
		{name: "no typ", opts: &jose.SignerOptions{}},
		{name: "lower-case scheme", scheme: "bearer "},
		{name: "extra spaces after scheme", scheme: "Bearer   "},
		{name: "scope as array", mutate: func(c map[string]any) { c["scope"] = []string{"incidents:read"} }, wantScopes: []string{"incidents:read"}},
		{name: "no scope", mutate: func(c map[string]any) { delete(c, "scope") }, wantScopes: []string{}},
		{name: "azp when no client_id", mutate: func(c map[string]any) {
			delete(c, "client_id")
			c["azp"] = "brightwell-system"
		}, wantClient: "brightwell-system"},
		{name: "client_id wins over azp", mutate: func(c map[string]any) { c["azp"] = "brightwell-system" }},
		{name: "several audiences", mutate: func(c map[string]any) { c["aud"] = []string{"https://other.example/api", testAudience} }},
		{name: "audience as string", mutate: func(c map[string]any) { c["aud"] = testAudience }},
		{name: "nbf and iat slightly ahead", mutate: func(c map[string]any) {
			c["nbf"], c["iat"] = time.Now().Add(30*time.Second).Unix(), time.Now().Add(30*time.Second).Unix()
		}},
		{name: "no nbf or iat", mutate: func(c map[string]any) { delete(c, "nbf"); delete(c, "iat") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.claims("northgate-system")
			if tt.mutate != nil {
				tt.mutate(c)
			}
			scheme := cmpOr(tt.scheme, "Bearer ")
			caller, err := v.Verify(t.Context(), scheme+key.sign(t, c, tt.opts))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			wantClient := cmpOr(tt.wantClient, "northgate-system")
			wantPartner := strings.TrimSuffix(wantClient, "-system")
			if caller.ClientID != wantClient || caller.Partner != wantPartner || caller.Issuer != f.url {
				t.Errorf("caller = %+v, want client %s of partner %s", caller, wantClient, wantPartner)
			}
			if caller.TokenID != c["jti"] {
				t.Errorf("TokenID = %q, want %q", caller.TokenID, c["jti"])
			}
			if want := time.Unix(c["exp"].(int64), 0); !caller.Expiry.Equal(want) {
				t.Errorf("Expiry = %v, want %v", caller.Expiry, want)
			}
			if tt.wantScopes != nil && !slices.Equal(caller.Scopes, tt.wantScopes) {
				t.Errorf("Scopes = %q, want %q", caller.Scopes, tt.wantScopes)
			}
		})
	}
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func TestKeyRotation(t *testing.T) {
	old, next := newRSAKey(t), newRSAKey(t)
	f := newFakeIssuer(t, old)
	clock := new(testClock)
	v := newVerifier(t, []apiauth.Issuer{{Issuer: f.url, Audience: testAudience}},
		[]apiauth.Client{{Issuer: f.url, ClientID: "northgate-system", Partner: "northgate"}}, allowOnly(t, f))
	v.SetClock(clock.Now)
	ctx := t.Context()
	verify := func(k *testKey) error {
		_, err := v.Verify(ctx, "Bearer "+k.sign(t, f.claims("northgate-system"), nil))
		return err
	}

	if err := verify(old); err != nil {
		t.Fatalf("token signed with the published key: %v", err)
	}
	if got := f.jwksHits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", got)
	}

	// A kid the issuer does not publish: the keys are fetched again and the
	// token still refused.
	clock.Advance(apiauth.JWKSMinRefresh)
	if !eventually(func() bool {
		wantRefusal(t, verify(next), http.StatusUnauthorized, apiauth.CodeInvalidToken, "")
		return f.jwksHits.Load() == 2
	}) {
		t.Errorf("JWKS fetched %d times, want 2 (refetch on unknown kid)", f.jwksHits.Load())
	}

	// The issuer rotates: the new key verifies after a refetch, the retired
	// one no longer does.
	f.publish(next)
	clock.Advance(apiauth.JWKSMinRefresh)
	if !eventually(func() bool { return verify(next) == nil }) {
		t.Fatalf("token signed with the rotated-in key: %v", verify(next))
	}
	if got := f.jwksHits.Load(); got != 3 {
		t.Errorf("JWKS fetched %d times, want 3", got)
	}
	// RemoteKeySet replaces its cache just after waking the fetch's waiters.
	var err error
	eventually(func() bool { err = verify(old); return err != nil })
	wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, "")
}

// Forged tokens with made-up key IDs must not turn into one JWKS fetch each.
func TestJWKSFetchesAreThrottled(t *testing.T) {
	key := newECKey(t)
	f := newFakeIssuer(t, key)
	clock := new(testClock)
	v := newVerifier(t, []apiauth.Issuer{{Issuer: f.url, Audience: testAudience}},
		[]apiauth.Client{{Issuer: f.url, ClientID: "northgate-system", Partner: "northgate"}}, allowOnly(t, f))
	v.SetClock(clock.Now)
	ctx := t.Context()
	good := "Bearer " + key.sign(t, f.claims("northgate-system"), nil)
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}

	forger := newECKey(t)
	for range 20 {
		forger.kid = rand.Text()
		_, err := v.Verify(ctx, "Bearer "+forger.sign(t, f.claims("northgate-system"), nil))
		wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, "")
	}
	if got := f.jwksHits.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
	// Cached keys keep working meanwhile.
	if _, err := v.Verify(ctx, good); err != nil {
		t.Errorf("good token while fetches are throttled: %v", err)
	}

	clock.Advance(apiauth.JWKSMinRefresh)
	if !eventually(func() bool {
		_, err := v.Verify(ctx, "Bearer "+forger.sign(t, f.claims("northgate-system"), nil))
		wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, "")
		return f.jwksHits.Load() == 2
	}) {
		t.Errorf("JWKS fetched %d times, want 2 once the interval passed", f.jwksHits.Load())
	}
}

// eventually retries cond for a while. RemoteKeySet hands the result of a
// fetch that has just finished to callers arriving right after it, so a
// step expecting a fresh fetch may need a second request to trigger one.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func TestDiscoveryIsLazyAndRetried(t *testing.T) {
	key := newECKey(t)
	f := newFakeIssuer(t, key)
	f.setDiscovery(http.StatusServiceUnavailable, "")
	clock := new(testClock)
	v := newVerifier(t, []apiauth.Issuer{{Issuer: f.url, Audience: testAudience}},
		[]apiauth.Client{{Issuer: f.url, ClientID: "northgate-system", Partner: "northgate"}}, allowOnly(t, f))
	v.SetClock(clock.Now)
	if got := f.discoveryHits.Load(); got != 0 {
		t.Fatalf("NewVerifier fetched metadata %d times, want 0", got)
	}
	ctx := t.Context()
	token := "Bearer " + key.sign(t, f.claims("northgate-system"), nil)

	_, err := v.Verify(ctx, token)
	var refusal *apiauth.Error
	if err == nil || errors.As(err, &refusal) {
		t.Fatalf("issuer down: error = %v, want one that is not a refusal", err)
	}
	if strings.Contains(err.Error(), strings.TrimPrefix(token, "Bearer ")) {
		t.Error("error contains the token")
	}
	if _, err := v.Verify(ctx, token); err == nil {
		t.Fatal("verified while the issuer is down")
	}
	if got := f.discoveryHits.Load(); got != 1 {
		t.Errorf("metadata fetched %d times, want 1 (retry waits %v)", got, apiauth.DiscoveryRetryAfter)
	}

	// Metadata naming another issuer is not trusted.
	clock.Advance(apiauth.DiscoveryRetryAfter)
	f.setDiscovery(0, "https://idp.evil.example")
	if _, err := v.Verify(ctx, token); err == nil {
		t.Fatal("verified with metadata naming another issuer")
	}

	clock.Advance(apiauth.DiscoveryRetryAfter)
	f.setDiscovery(0, "")
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatalf("issuer back: %v", err)
	}
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	if got := f.discoveryHits.Load(); got != 3 {
		t.Errorf("metadata fetched %d times, want 3 (cached once it succeeded)", got)
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	key := newECKey(t)
	f := newFakeIssuer(t, key)
	v := newVerifier(t, []apiauth.Issuer{{Issuer: f.url, Audience: testAudience}},
		[]apiauth.Client{{Issuer: f.url, ClientID: "northgate-system", Partner: "northgate"}}, allowOnly(t, f))
	token := "Bearer " + key.sign(t, f.claims("northgate-system"), nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), token); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
	if d, j := f.discoveryHits.Load(), f.jwksHits.Load(); d != 1 || j != 1 {
		t.Errorf("fetched metadata %d and keys %d times, want once each", d, j)
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	const iss = "https://idp.example"
	good := []apiauth.Issuer{{Issuer: iss, Audience: testAudience}}
	client := apiauth.Client{Issuer: iss, ClientID: "northgate-system", Partner: "northgate"}
	for name, tt := range map[string]struct {
		issuers []apiauth.Issuer
		clients []apiauth.Client
	}{
		"issuer without audience":  {[]apiauth.Issuer{{Issuer: iss}}, nil},
		"audience without issuer":  {[]apiauth.Issuer{{Audience: testAudience}}, nil},
		"relative issuer":          {[]apiauth.Issuer{{Issuer: "/idp", Audience: testAudience}}, nil},
		"non-http issuer":          {[]apiauth.Issuer{{Issuer: "ftp://idp.example", Audience: testAudience}}, nil},
		"duplicate issuer":         {append(good, good...), nil},
		"duplicate client":         {good, []apiauth.Client{client, {Issuer: iss, ClientID: "northgate-system", Partner: "brightwell"}}},
		"client of unknown issuer": {good, []apiauth.Client{{Issuer: "https://other.example", ClientID: "x", Partner: "northgate"}}},
		"client without partner":   {good, []apiauth.Client{{Issuer: iss, ClientID: "x"}}},
		"client without ID":        {good, []apiauth.Client{{Issuer: iss, Partner: "northgate"}}},
	} {
		if _, err := apiauth.NewVerifier(tt.issuers, tt.clients, nil); err == nil {
			t.Errorf("%s: NewVerifier succeeded, want an error", name)
		}
	}
	// The same client ID at two issuers is two different clients.
	other := apiauth.Issuer{Issuer: "https://other.example", Audience: testAudience}
	twin := client
	twin.Issuer, twin.Partner = other.Issuer, "brightwell"
	if _, err := apiauth.NewVerifier(append(good, other), []apiauth.Client{client, twin}, nil); err != nil {
		t.Errorf("same client ID at two issuers: %v", err)
	}
}

func TestChallenges(t *testing.T) {
	v := newVerifier(t, nil, nil, nil)
	_, err := v.Verify(t.Context(), "")
	e := wantRefusal(t, err, http.StatusUnauthorized, "", "")
	if got := e.WWWAuthenticate(); got != `Bearer realm="portal"` {
		t.Errorf("no credentials: %q", got)
	}

	_, err = v.Verify(t.Context(), "Bearer a.b")
	e = wantRefusal(t, err, http.StatusUnauthorized, apiauth.CodeInvalidToken, "")
	if got, want := e.WWWAuthenticate(), `Bearer realm="portal", error="invalid_token", error_description="`+e.Description+`"`; got != want {
		t.Errorf("invalid token: %q, want %q", got, want)
	}

	err = apiauth.RequireScope(apiauth.Caller{Scopes: []string{"incidents:write"}}, "incidents:read")
	e = wantRefusal(t, err, http.StatusForbidden, apiauth.CodeInsufficientScope, "")
	if e.Scope != "incidents:read" {
		t.Errorf("Scope = %q", e.Scope)
	}
	if got, want := e.WWWAuthenticate(), `Bearer realm="portal", error="insufficient_scope", error_description="`+e.Description+`", scope="incidents:read"`; got != want {
		t.Errorf("insufficient scope: %q, want %q", got, want)
	}
	if err := apiauth.RequireScope(apiauth.Caller{Scopes: []string{"incidents:write"}}, "incidents:write"); err != nil {
		t.Errorf("RequireScope with the scope granted: %v", err)
	}

	// Nothing can break out of the quoted strings.
	e = &apiauth.Error{Status: 401, Code: "invalid_token", Description: "a \"quoted\"\\ \r\nvalue\x7f", Scope: `x" y`}
	if got, want := e.WWWAuthenticate(), `Bearer realm="portal", error="invalid_token", error_description="a quoted value", scope="x y"`; got != want {
		t.Errorf("escaping: %q, want %q", got, want)
	}
}

// BenchmarkVerify measures a verification with the issuer's keys cached.
func BenchmarkVerify(b *testing.B) {
	for _, bb := range []struct {
		name string
		key  *testKey
	}{{"RS256", newRSAKey(b)}, {"ES256", newECKey(b)}} {
		b.Run(bb.name, func(b *testing.B) {
			f := newFakeIssuer(b, bb.key)
			v := newVerifier(b, []apiauth.Issuer{{Issuer: f.url, Audience: testAudience}},
				[]apiauth.Client{{Issuer: f.url, ClientID: "northgate-system", Partner: "northgate"}}, nil)
			header := "Bearer " + bb.key.sign(b, f.claims("northgate-system"), nil)
			ctx := context.Background()
			if _, err := v.Verify(ctx, header); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, header); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
