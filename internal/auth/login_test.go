package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/store/storetest"
)

const (
	clientID     = "portal"
	clientSecret = "portal-secret-for-tests"
	redirectURI  = "https://portal.example/auth/callback"
	subject      = "user-123"
	assertionJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// fakeOP is a hostile OpenID Provider. Its discovery, keys and token endpoint
// are strict, like a real provider's, but every ID token it hands out is
// whatever the test minted: the relying party's own checks are all that stands
// between that token and a session.
type fakeOP struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	// endSession, when set, is published as end_session_endpoint.
	endSession string
	// clientKey, when set, makes the token endpoint demand private_key_jwt
	// signed by it instead of the client secret.
	clientKey crypto.PublicKey
	// stripVerifier drops code_verifier on arrival, as a meddling proxy would.
	stripVerifier bool

	mu       sync.Mutex
	grants   map[string]grant
	requests []tokenRequest
	jtis     map[string]bool
}

// grant is an authorization code as the provider remembers it.
type grant struct {
	challenge string
	idToken   string
}

// tokenRequest is one call to the token endpoint as the provider saw it.
type tokenRequest struct {
	form    url.Values
	header  http.Header
	refusal string // empty when tokens were issued
	// assertion is the verified client assertion, for private_key_jwt clients.
	assertion *jwt.JSONWebToken
	claims    jwt.Claims
}

func newOP(t *testing.T, opts ...func(*fakeOP)) *fakeOP {
	t.Helper()
	o := &fakeOP{
		t:      t,
		key:    rsaKey(t),
		kid:    "op-key-1",
		grants: map[string]grant{},
		jtis:   map[string]bool{},
	}
	for _, opt := range opts {
		opt(o)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", o.discovery)
	mux.HandleFunc("GET /jwks", o.jwks)
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "tests read the authorize URL instead of following it", http.StatusNotImplemented)
	})
	mux.HandleFunc("POST /token", o.token)
	o.srv = httptest.NewServer(mux)
	t.Cleanup(o.srv.Close)
	return o
}

func (o *fakeOP) issuer() string   { return o.srv.URL }
func (o *fakeOP) tokenURL() string { return o.srv.URL + "/token" }

func (o *fakeOP) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                           o.issuer(),
		"authorization_endpoint":           o.srv.URL + "/authorize",
		"token_endpoint":                   o.tokenURL(),
		"jwks_uri":                         o.srv.URL + "/jwks",
		"response_types_supported":         []string{"code"},
		"subject_types_supported":          []string{"public"},
		"code_challenge_methods_supported": []string{"S256"},
		// Hostile metadata: invites the relying party to accept unsigned and
		// symmetric-key tokens, which it must ignore.
		"id_token_signing_alg_values_supported": []string{"none", "HS256", "RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
	}
	if o.endSession != "" {
		doc["end_session_endpoint"] = o.endSession
	}
	writeJSON(w, http.StatusOK, doc)
}

func (o *fakeOP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &o.key.PublicKey, KeyID: o.kid, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

func (o *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if o.stripVerifier {
		r.PostForm.Del("code_verifier")
	}
	req := tokenRequest{form: r.PostForm, header: r.Header.Clone()}
	refuse := func(status int, code, why string) {
		req.refusal = why
		o.record(req)
		writeJSON(w, status, map[string]string{"error": code, "error_description": why})
	}

	if why := o.authenticate(r, &req); why != "" {
		refuse(http.StatusUnauthorized, "invalid_client", why)
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		refuse(http.StatusBadRequest, "unsupported_grant_type", "grant_type "+r.PostForm.Get("grant_type"))
		return
	}
	code := r.PostForm.Get("code")
	o.mu.Lock()
	g, ok := o.grants[code]
	delete(o.grants, code) // codes are single use, whatever happens next
	o.mu.Unlock()
	if !ok {
		refuse(http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	}
	if r.PostForm.Get("redirect_uri") != redirectURI {
		refuse(http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
		return
	}
	verifier := r.PostForm.Get("code_verifier")
	if verifier == "" {
		refuse(http.StatusBadRequest, "invalid_grant", "no code_verifier")
		return
	}
	if s256(verifier) != g.challenge {
		refuse(http.StatusBadRequest, "invalid_grant", "code_verifier does not match code_challenge")
		return
	}
	o.record(req)
	resp := map[string]any{"access_token": "at-" + code, "token_type": "Bearer", "expires_in": 300}
	if g.idToken != "" {
		resp["id_token"] = g.idToken
	}
	writeJSON(w, http.StatusOK, resp)
}

// authenticate checks client authentication, returning why it failed.
func (o *fakeOP) authenticate(r *http.Request, req *tokenRequest) string {
	if o.clientKey == nil {
		id, secret, ok := r.BasicAuth()
		if ok {
			// RFC 6749 §2.3.1: Basic credentials are form-urlencoded first.
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		} else {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != clientID || secret != clientSecret {
			return "bad client credentials"
		}
		return ""
	}

	if r.Header.Get("Authorization") != "" || r.PostForm.Has("client_secret") {
		return "a shared secret was sent by a private_key_jwt client"
	}
	if got := r.PostForm.Get("client_assertion_type"); got != assertionJWT {
		return "client_assertion_type " + got
	}
	if id := r.PostForm.Get("client_id"); id != "" && id != clientID {
		return "client_id does not match the assertion"
	}
	tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"),
		[]jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return "unparseable client_assertion: " + err.Error()
	}
	var c jwt.Claims
	if err := tok.Claims(o.clientKey, &c); err != nil {
		return "client_assertion signature: " + err.Error()
	}
	now := time.Now()
	if err := c.ValidateWithLeeway(jwt.Expected{
		Issuer: clientID, Subject: clientID, AnyAudience: jwt.Audience{o.tokenURL()}, Time: now,
	}, 0); err != nil {
		return "client_assertion claims: " + err.Error()
	}
	if c.Expiry == nil || c.Expiry.Time().After(now.Add(5*time.Minute)) {
		return "client_assertion lives too long"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.ID == "" || o.jtis[c.ID] {
		return "client_assertion jti missing or replayed"
	}
	o.jtis[c.ID] = true
	req.assertion, req.claims = tok, c
	return ""
}

func (o *fakeOP) record(req tokenRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, req)
}

// seen is every token request so far.
func (o *fakeOP) seen() []tokenRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.requests)
}

// issued counts the token requests that were answered with tokens.
func (o *fakeOP) issued() int {
	n := 0
	for _, r := range o.seen() {
		if r.refusal == "" {
			n++
		}
	}
	return n
}

// grant registers an authorization code bound to challenge, as if the person
// had just signed in at the provider; the code will yield idToken.
func (o *fakeOP) grant(challenge, idToken string) string {
	code := "code-" + auth.NewToken()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.grants[code] = grant{challenge: challenge, idToken: idToken}
	return code
}

// claims is an ID token a department provider would honestly issue for nonce.
func (o *fakeOP) claims(nonce string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":   o.issuer(),
		"sub":   subject,
		"aud":   clientID,
		"iat":   now.Unix(),
		"exp":   now.Add(5 * time.Minute).Unix(),
		"nonce": nonce,
		"name":  "Sam Officer",
		"email": "sam@department.example",
		"roles": []string{"contract_manager", "auditor"},
		"org":   "department",
	}
}

func (o *fakeOP) sign(claims map[string]any) string {
	return signJWT(o.t, jose.RS256, o.key, o.kid, claims)
}

func signJWT(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshal claims: %v", err)
	}
	k := key
	if kid != "" {
		k = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return s
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	return k
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// rp is the portal's side: a store, sessions and the configured providers.
type rp struct {
	db       *mongo.Database
	sessions *auth.Sessions
	ps       *auth.Providers
}

func deptConfig(o *fakeOP) auth.ProviderConfig {
	return auth.ProviderConfig{
		ID:           "dept",
		Name:         "Department sign-in",
		Issuer:       o.issuer(),
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Scopes:       []string{"openid", "profile", "email"},
		RolesClaim:   "roles",
		OrgClaim:     "org",
		RedirectURL:  redirectURI,
	}
}

func newRP(t *testing.T, db *mongo.Database, cfgs ...auth.ProviderConfig) *rp {
	t.Helper()
	if db == nil {
		db = storetest.Database(t)
	}
	ps, err := auth.NewProviders(db, cfgs)
	if err != nil {
		t.Fatalf("NewProviders: %v", err)
	}
	return &rp{db: db, sessions: auth.NewSessions(db, []byte("test-key-0123456789abcdef0123456"), time.Hour, 8*time.Hour), ps: ps}
}

// attempt is a login begun by the portal, with what the browser would carry
// to the provider.
type attempt struct {
	token                   string // the attempt cookie
	authorize               *url.URL
	state, nonce, challenge string
}

func (r *rp) begin(t *testing.T, provider string) attempt {
	t.Helper()
	l, ok := r.ps.Get(provider)
	if !ok {
		t.Fatalf("no provider %q", provider)
	}
	token, redirect, err := l.Begin(t.Context(), r.sessions)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatalf("Begin returned an unparseable URL %q: %v", redirect, err)
	}
	q := u.Query()
	return attempt{token: token, authorize: u, state: q.Get("state"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
}

func (r *rp) complete(t *testing.T, token string, query url.Values) (auth.Identity, string, error) {
	t.Helper()
	return r.ps.Complete(t.Context(), r.sessions, token, query)
}

func callback(state, code string) url.Values {
	return url.Values{"state": {state}, "code": {code}}
}

// refused asserts a login failed as a protocol failure, handing back nothing usable.
func refused(t *testing.T, id auth.Identity, raw string, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrLoginFailed) {
		t.Fatalf("Complete = %+v, %v; want ErrLoginFailed", id, err)
	}
	if raw != "" || len(id.Roles) != 0 || id.Subject != "" {
		t.Errorf("refused login still returned identity %+v, id_token %q", id, raw)
	}
}

func TestHappyPath(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))

	a := r.begin(t, "dept")
	q := a.authorize.Query()
	if got := a.authorize.Scheme + "://" + a.authorize.Host + a.authorize.Path; got != o.srv.URL+"/authorize" {
		t.Errorf("browser sent to %s, want the discovered authorize endpoint", got)
	}
	for k, want := range map[string]string{
		"response_type": "code", "client_id": clientID, "redirect_uri": redirectURI, "code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	if !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	for name, v := range map[string]string{"state": a.state, "nonce": a.nonce, "code_challenge": a.challenge} {
		if len(v) < 43 {
			t.Errorf("%s %q is shorter than 256 bits of base64url", name, v)
		}
	}
	if a.state == a.nonce || a.token == a.state || a.token == a.nonce {
		t.Error("attempt token, state and nonce are not independent values")
	}
	// The attempt cookie is a credential for this login; the store must hold only its hash.
	raw, err := r.db.Collection("login_attempts").FindOne(t.Context(), bson.D{}).Raw()
	if err != nil {
		t.Fatalf("read stored attempt: %v", err)
	}
	if strings.Contains(raw.String(), a.token) {
		t.Errorf("stored attempt contains the attempt cookie token: %s", raw)
	}

	idToken := o.sign(o.claims(a.nonce))
	code := o.grant(a.challenge, idToken)
	id, rawID, err := r.complete(t, a.token, callback(a.state, code))
	if err != nil {
		t.Fatalf("Complete: %v (provider saw %+v)", err, o.seen())
	}
	want := auth.Identity{
		Subject: subject, Issuer: o.issuer(), Name: "Sam Officer", Email: "sam@department.example",
		Roles: []auth.Role{auth.ContractManager, auth.Auditor}, Org: auth.DepartmentOrg, Provider: "dept",
	}
	if id.Subject != want.Subject || id.Issuer != want.Issuer || id.Name != want.Name || id.Email != want.Email ||
		!slices.Equal(id.Roles, want.Roles) || id.Org != want.Org || id.Provider != want.Provider {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
	if rawID != idToken {
		t.Errorf("returned id_token is not the one the provider issued")
	}

	// The token endpoint only issued tokens because the verifier hashed to the
	// challenge in the authorize URL; check what it was sent, too.
	reqs := o.seen()
	last := reqs[len(reqs)-1]
	if last.refusal != "" || s256(last.form.Get("code_verifier")) != a.challenge {
		t.Errorf("token request %v (refusal %q) does not carry the verifier for challenge %s", last.form, last.refusal, a.challenge)
	}
	if last.form.Get("code") != code || last.form.Get("redirect_uri") != redirectURI {
		t.Errorf("token request %v: wrong code or redirect_uri", last.form)
	}
	if n, _ := r.db.Collection("login_attempts").CountDocuments(t.Context(), bson.D{}); n != 0 {
		t.Errorf("%d login attempts left after completion, want 0: the attempt must be consumed", n)
	}
}

func TestBeginIsFreshEveryTime(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))
	a, b := r.begin(t, "dept"), r.begin(t, "dept")
	if a.token == b.token || a.state == b.state || a.nonce == b.nonce || a.challenge == b.challenge {
		t.Errorf("two logins share an attempt token, state, nonce or PKCE challenge:\n%+v\n%+v", a, b)
	}
}

// TestForgedIDTokensAreRefused has the provider answer a well-formed code
// exchange with a bad ID token: every refusal here is the relying party's own.
func TestForgedIDTokensAreRefused(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))
	stranger := rsaKey(t)
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&o.key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}

	cases := []struct {
		name string
		mint func(nonce string) string
		ok   bool // a control case: the harness must not refuse everything
	}{
		{name: "untouched token (control)", ok: true, mint: func(n string) string {
			return o.sign(o.claims(n))
		}},
		{name: "payload changed after signing", mint: func(n string) string {
			c := o.claims(n)
			c["roles"], c["org"] = []string{"partner_staff"}, "acme"
			parts := strings.Split(o.sign(c), ".")
			c["roles"], c["org"] = []string{"safeguarding_lead"}, "department"
			return parts[0] + "." + b64(c) + "." + parts[2]
		}},
		{name: "subject changed after signing", mint: func(n string) string {
			parts := strings.Split(o.sign(o.claims(n)), ".")
			c := o.claims(n)
			c["sub"] = "someone-else"
			return parts[0] + "." + b64(c) + "." + parts[2]
		}},
		{name: "signature removed", mint: func(n string) string {
			parts := strings.Split(o.sign(o.claims(n)), ".")
			return parts[0] + "." + parts[1] + "."
		}},
		{name: "signed by a key not in the JWKS", mint: func(n string) string {
			return signJWT(t, jose.RS256, stranger, "stranger-key", o.claims(n))
		}},
		{name: "signed by a stranger's key under the provider's kid", mint: func(n string) string {
			return signJWT(t, jose.RS256, stranger, o.kid, o.claims(n))
		}},
		{name: "alg none", mint: func(n string) string {
			return b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(o.claims(n)) + "."
		}},
		{name: "HS256 keyed with the provider's public key", mint: func(n string) string {
			return signJWT(t, jose.HS256, pubPEM(), o.kid, o.claims(n))
		}},
		{name: "expired", mint: func(n string) string {
			c := o.claims(n)
			c["iat"], c["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Minute).Unix()
			return o.sign(c)
		}},
		{name: "no expiry", mint: func(n string) string {
			c := o.claims(n)
			delete(c, "exp")
			return o.sign(c)
		}},
		{name: "not valid for another hour", mint: func(n string) string {
			c := o.claims(n)
			c["nbf"], c["exp"] = time.Now().Add(time.Hour).Unix(), time.Now().Add(2*time.Hour).Unix()
			return o.sign(c)
		}},
		{name: "audience is another client", mint: func(n string) string {
			c := o.claims(n)
			c["aud"] = "another-client"
			return o.sign(c)
		}},
		{name: "no audience", mint: func(n string) string {
			c := o.claims(n)
			delete(c, "aud")
			return o.sign(c)
		}},
		{name: "several audiences, no azp", mint: func(n string) string {
			c := o.claims(n)
			c["aud"] = []string{clientID, "another-client"}
			return o.sign(c)
		}},
		{name: "several audiences, azp another client", mint: func(n string) string {
			c := o.claims(n)
			c["aud"], c["azp"] = []string{clientID, "another-client"}, "another-client"
			return o.sign(c)
		}},
		{name: "several audiences, azp this client (control)", ok: true, mint: func(n string) string {
			c := o.claims(n)
			c["aud"], c["azp"] = []string{"another-client", clientID}, clientID
			return o.sign(c)
		}},
		{name: "another issuer", mint: func(n string) string {
			c := o.claims(n)
			c["iss"] = "https://evil.example"
			return o.sign(c)
		}},
		{name: "issuer with a trailing slash", mint: func(n string) string {
			c := o.claims(n)
			c["iss"] = o.issuer() + "/"
			return o.sign(c)
		}},
		{name: "wrong nonce", mint: func(string) string {
			return o.sign(o.claims(auth.NewToken()))
		}},
		{name: "no nonce", mint: func(n string) string {
			c := o.claims(n)
			delete(c, "nonce")
			return o.sign(c)
		}},
		{name: "nonce with different case", mint: func(n string) string {
			return o.sign(o.claims(strings.ToUpper(n)))
		}},
		{name: "not a JWT", mint: func(string) string { return "not-a-jwt" }},
		{name: "no id_token in the token response", mint: func(string) string { return "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := r.begin(t, "dept")
			before := o.issued()
			id, raw, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, tc.mint(a.nonce))))
			if o.issued() != before+1 {
				t.Fatalf("the code exchange itself failed (%+v), so this case proves nothing", o.seen())
			}
			if tc.ok {
				if err != nil || id.Subject != subject {
					t.Fatalf("control case refused: %+v, %v", id, err)
				}
				return
			}
			refused(t, id, raw, err)
		})
	}
}

func TestIDTokenFromAnEarlierLoginIsRefused(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))

	first := r.begin(t, "dept")
	_, stolen, err := r.complete(t, first.token, callback(first.state, o.grant(first.challenge, o.sign(o.claims(first.nonce)))))
	if err != nil {
		t.Fatalf("first login: %v", err)
	}
	// A provider (or anyone who can inject into the token response) replays a
	// valid, unexpired ID token from someone's earlier login into a new one.
	second := r.begin(t, "dept")
	id, raw, err := r.complete(t, second.token, callback(second.state, o.grant(second.challenge, stolen)))
	refused(t, id, raw, err)
}

func TestStateMustMatchTheAttempt(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))

	t.Run("forged state, then the right one", func(t *testing.T) {
		a := r.begin(t, "dept")
		code := o.grant(a.challenge, o.sign(o.claims(a.nonce)))
		before := len(o.seen())

		id, raw, err := r.complete(t, a.token, callback(auth.NewToken(), code))
		refused(t, id, raw, err)
		// The forged callback consumed the attempt: whoever holds the genuine
		// state cannot try again with it.
		id, raw, err = r.complete(t, a.token, callback(a.state, code))
		refused(t, id, raw, err)
		if n := len(o.seen()) - before; n != 0 {
			t.Errorf("the code was sent to the token endpoint %d times despite the bad state", n)
		}
	})

	t.Run("state of another live attempt", func(t *testing.T) {
		// Login CSRF: an attacker's callback (their state, their code) lands in
		// the victim's browser, which carries the victim's attempt cookie.
		attacker, victim := r.begin(t, "dept"), r.begin(t, "dept")
		code := o.grant(attacker.challenge, o.sign(o.claims(attacker.nonce)))
		before := len(o.seen())
		id, raw, err := r.complete(t, victim.token, callback(attacker.state, code))
		refused(t, id, raw, err)
		if n := len(o.seen()) - before; n != 0 {
			t.Errorf("the attacker's code reached the token endpoint %d times", n)
		}
	})

	t.Run("no state", func(t *testing.T) {
		a := r.begin(t, "dept")
		code := o.grant(a.challenge, o.sign(o.claims(a.nonce)))
		id, raw, err := r.complete(t, a.token, url.Values{"code": {code}})
		refused(t, id, raw, err)
	})
}

func TestAttemptIsSingleUse(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))

	a := r.begin(t, "dept")
	query := callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce))))
	if _, _, err := r.complete(t, a.token, query); err != nil {
		t.Fatalf("first Complete: %v", err)
	}
	before := len(o.seen())
	id, raw, err := r.complete(t, a.token, query)
	refused(t, id, raw, err)
	if n := len(o.seen()) - before; n != 0 {
		t.Errorf("the replayed callback reached the token endpoint %d times", n)
	}

	// The same code under a fresh attempt is bound to the old PKCE challenge
	// (and already spent): the exchange must fail and so must the login.
	b := r.begin(t, "dept")
	id, raw, err = r.complete(t, b.token, callback(b.state, query.Get("code")))
	refused(t, id, raw, err)
}

func TestAttemptCookieIsRequired(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))
	a := r.begin(t, "dept")
	query := callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce))))

	for name, token := range map[string]string{"missing": "", "forged": auth.NewToken(), "the state as cookie": a.state} {
		t.Run(name, func(t *testing.T) {
			id, raw, err := r.complete(t, token, query)
			refused(t, id, raw, err)
		})
	}
	if n := len(o.seen()); n != 0 {
		t.Errorf("the token endpoint was called %d times without the attempt cookie", n)
	}
}

func TestProviderErrorIsRefused(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))

	a := r.begin(t, "dept")
	id, raw, err := r.complete(t, a.token, url.Values{"state": {a.state}, "error": {"access_denied"}})
	refused(t, id, raw, err)

	// An error alongside a code: the provider said no, so the code is not tried.
	b := r.begin(t, "dept")
	q := callback(b.state, o.grant(b.challenge, o.sign(o.claims(b.nonce))))
	q.Set("error", "access_denied")
	id, raw, err = r.complete(t, b.token, q)
	refused(t, id, raw, err)

	c := r.begin(t, "dept")
	id, raw, err = r.complete(t, c.token, url.Values{"state": {c.state}})
	refused(t, id, raw, err)

	if n := len(o.seen()); n != 0 {
		t.Errorf("the token endpoint was called %d times for callbacks without a usable code", n)
	}
}

func TestExpiredAttemptIsRefused(t *testing.T) {
	o := newOP(t)
	r := newRP(t, nil, deptConfig(o))
	ctx := t.Context()

	// Completion reads the attempt's creation time from the store, so backdating
	// the stored attempt is the same as the person taking that long.
	backdate := func(d time.Duration) {
		t.Helper()
		res, err := r.db.Collection("login_attempts").UpdateMany(ctx, bson.D{},
			bson.D{{Key: "$set", Value: bson.D{{Key: "created_at", Value: time.Now().UTC().Add(-d)}}}})
		if err != nil || res.ModifiedCount != 1 {
			t.Fatalf("backdate the attempt: %v, %+v", err, res)
		}
	}

	a := r.begin(t, "dept")
	backdate(16 * time.Minute)
	id, raw, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce)))))
	refused(t, id, raw, err)
	if n := len(o.seen()); n != 0 {
		t.Errorf("an expired attempt's code reached the token endpoint %d times", n)
	}

	// Control: a slow but timely login still works, so the refusal above was the age.
	b := r.begin(t, "dept")
	backdate(14 * time.Minute)
	if _, _, err := r.complete(t, b.token, callback(b.state, o.grant(b.challenge, o.sign(o.claims(b.nonce))))); err != nil {
		t.Errorf("a 14-minute-old attempt was refused: %v", err)
	}
}

func TestPKCE(t *testing.T) {
	t.Run("injected code bound to another challenge", func(t *testing.T) {
		o := newOP(t)
		r := newRP(t, nil, deptConfig(o))
		// The attacker starts their own login, gets a code for it, and plants
		// it in the victim's callback alongside the victim's own state.
		attacker, victim := r.begin(t, "dept"), r.begin(t, "dept")
		code := o.grant(attacker.challenge, o.sign(o.claims(victim.nonce)))
		id, raw, err := r.complete(t, victim.token, callback(victim.state, code))
		refused(t, id, raw, err)
		if got := o.seen(); len(got) == 0 || got[0].refusal != "code_verifier does not match code_challenge" {
			t.Errorf("token endpoint saw %+v; want a PKCE mismatch", got)
		}
	})

	t.Run("token endpoint rejects a missing verifier", func(t *testing.T) {
		o := newOP(t)
		a := newRP(t, nil, deptConfig(o)).begin(t, "dept")
		// Straight at the provider: proves the check the happy path relies on is real.
		resp, err := http.PostForm(o.tokenURL(), url.Values{
			"grant_type": {"authorization_code"}, "code": {o.grant(a.challenge, "x")}, "redirect_uri": {redirectURI},
			"client_id": {clientID}, "client_secret": {clientSecret},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != http.StatusBadRequest || body.Error != "invalid_grant" {
			t.Errorf("token endpoint without code_verifier answered %d %q, want 400 invalid_grant", resp.StatusCode, body.Error)
		}
	})

	t.Run("verifier lost in transit", func(t *testing.T) {
		o := newOP(t, func(o *fakeOP) { o.stripVerifier = true })
		r := newRP(t, nil, deptConfig(o))
		a := r.begin(t, "dept")
		id, raw, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce)))))
		refused(t, id, raw, err)
		if !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("error %q does not carry the provider's invalid_grant", err)
		}
	})
}

func TestClaimsMapping(t *testing.T) {
	o := newOP(t)
	db := storetest.Database(t)

	cases := []struct {
		name    string
		cfg     func(*auth.ProviderConfig)
		claims  map[string]any // merged over the honest claims; nil deletes
		roles   []auth.Role
		org     string
		refused []string // for NoAccessError: values Rejected must include
	}{
		{
			name:   "department roles, space-separated string",
			claims: map[string]any{"roles": "safeguarding_lead auditor", "org": "department"},
			roles:  []auth.Role{auth.SafeguardingLead, auth.Auditor}, org: "department",
		},
		{
			name:   "partner roles, duplicates and non-strings ignored",
			claims: map[string]any{"roles": []any{"partner_staff", 7, true, "partner_staff", "partner_compliance_officer"}, "org": "acme"},
			roles:  []auth.Role{auth.PartnerStaff, auth.PartnerComplianceOfficer}, org: "acme",
		},
		{
			name:   "unknown roles beside a known one grant nothing extra",
			claims: map[string]any{"roles": []string{"admin", "auditor", "root"}},
			roles:  []auth.Role{auth.Auditor}, org: "department",
		},
		{
			name:    "only unknown roles",
			claims:  map[string]any{"roles": []string{"admin", "Auditor", "superuser"}},
			refused: []string{"admin", "Auditor", "superuser"},
		},
		{
			name:    "department role for a partner organisation",
			claims:  map[string]any{"roles": []string{"contract_manager"}, "org": "acme"},
			refused: []string{"contract_manager"},
		},
		{
			name:    "partner role for the department",
			claims:  map[string]any{"roles": []string{"partner_staff"}, "org": "department"},
			refused: []string{"partner_staff"},
		},
		{
			name:    "no organisation",
			claims:  map[string]any{"roles": []string{"partner_staff"}, "org": nil},
			refused: []string{"missing organisation"},
		},
		{
			name:    "no roles claim",
			claims:  map[string]any{"roles": nil},
			refused: []string{"no roles"},
		},
		{
			name:    "roles claim of the wrong type",
			claims:  map[string]any{"roles": map[string]any{"contract_manager": true}},
			refused: []string{"no roles"},
		},
		{
			name:    "roles under a claim the provider is not configured to use",
			cfg:     func(c *auth.ProviderConfig) { c.RolesClaim = "groups" },
			refused: []string{"no roles"},
		},
		{
			name: "RoleMap translates",
			cfg: func(c *auth.ProviderConfig) {
				c.RoleMap = map[string]string{"CM": "contract_manager", "SL": "safeguarding_lead"}
			},
			claims: map[string]any{"roles": []string{"CM"}},
			roles:  []auth.Role{auth.ContractManager}, org: "department",
		},
		{
			name: "RoleMap: unmapped values grant nothing, even portal role names",
			cfg:  func(c *auth.ProviderConfig) { c.RoleMap = map[string]string{"CM": "contract_manager"} },
			// safeguarding_lead is a portal role, but this provider must say it through the map.
			claims: map[string]any{"roles": []string{"CM", "safeguarding_lead"}},
			roles:  []auth.Role{auth.ContractManager}, org: "department",
		},
		{
			name:    "RoleMap: nothing mapped",
			cfg:     func(c *auth.ProviderConfig) { c.RoleMap = map[string]string{"CM": "contract_manager"} },
			claims:  map[string]any{"roles": []string{"contract_manager", "auditor"}},
			refused: []string{"no roles"},
		},
		{
			name:    "RoleMap to a value the portal does not know",
			cfg:     func(c *auth.ProviderConfig) { c.RoleMap = map[string]string{"ADMIN": "administrator"} },
			claims:  map[string]any{"roles": []string{"ADMIN"}},
			refused: []string{"administrator"},
		},
		{
			name:   "OrgMap translates",
			cfg:    func(c *auth.ProviderConfig) { c.OrgMap = map[string]string{"ACME-LTD": "acme"} },
			claims: map[string]any{"roles": []string{"partner_staff"}, "org": "ACME-LTD"},
			roles:  []auth.Role{auth.PartnerStaff}, org: "acme",
		},
		{
			name:    "OrgMap: an unlisted organisation is no organisation, even the department",
			cfg:     func(c *auth.ProviderConfig) { c.OrgMap = map[string]string{"ACME-LTD": "acme"} },
			claims:  map[string]any{"roles": []string{"contract_manager"}, "org": "department"},
			refused: []string{"missing organisation"},
		},
		{
			name:   "FixedOrg overrides the claim",
			cfg:    func(c *auth.ProviderConfig) { c.FixedOrg = "acme" },
			claims: map[string]any{"roles": []string{"partner_compliance_officer"}, "org": "globex"},
			roles:  []auth.Role{auth.PartnerComplianceOfficer}, org: "acme",
		},
		{
			name:    "FixedOrg: a partner's user claiming to be a department contract manager",
			cfg:     func(c *auth.ProviderConfig) { c.FixedOrg = "acme" },
			claims:  map[string]any{"roles": []string{"contract_manager"}, "org": "department"},
			refused: []string{"contract_manager"},
		},
		{
			name: "FixedOrg wins over OrgMap",
			cfg: func(c *auth.ProviderConfig) {
				c.FixedOrg = "acme"
				c.OrgMap = map[string]string{"department": "department"}
			},
			claims:  map[string]any{"roles": []string{"safeguarding_lead"}, "org": "department"},
			refused: []string{"safeguarding_lead"},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := deptConfig(o)
			cfg.ID = "p" + string(rune('a'+i))
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			r := newRP(t, db, cfg)
			a := r.begin(t, cfg.ID)
			claims := o.claims(a.nonce)
			for k, v := range tc.claims {
				if v == nil {
					delete(claims, k)
				} else {
					claims[k] = v
				}
			}
			id, raw, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, o.sign(claims))))

			if tc.refused != nil {
				var noAccess *auth.NoAccessError
				if !errors.As(err, &noAccess) {
					t.Fatalf("Complete = %+v, %v; want *NoAccessError", id, err)
				}
				// The provider did vouch for someone: the refusal must say who, for
				// the audit trail, and must not read as a protocol failure.
				if errors.Is(err, auth.ErrLoginFailed) {
					t.Errorf("no-access refusal also reads as ErrLoginFailed: %v", err)
				}
				if noAccess.Subject != subject || noAccess.Issuer != o.issuer() {
					t.Errorf("NoAccessError names %q at %q, want %q at %q", noAccess.Subject, noAccess.Issuer, subject, o.issuer())
				}
				for _, want := range tc.refused {
					if !slices.Contains(noAccess.Rejected, want) {
						t.Errorf("Rejected = %q, want it to include %q", noAccess.Rejected, want)
					}
				}
				if len(id.Roles) != 0 || id.Org != "" || raw != "" {
					t.Errorf("refused login still returned roles %v, org %q, id_token %q", id.Roles, id.Org, raw)
				}
				return
			}
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if !slices.Equal(id.Roles, tc.roles) || id.Org != tc.org || id.Provider != cfg.ID {
				t.Errorf("identity roles %v org %q provider %q; want %v %q %q", id.Roles, id.Org, id.Provider, tc.roles, tc.org, cfg.ID)
			}
		})
	}
}

func TestCompleteUsesTheProviderTheAttemptNames(t *testing.T) {
	dept, partner := newOP(t), newOP(t)
	pcfg := deptConfig(partner)
	pcfg.ID, pcfg.FixedOrg = "acme", "acme"
	r := newRP(t, nil, deptConfig(dept), pcfg)

	a := r.begin(t, "acme")
	if !strings.HasPrefix(a.authorize.String(), partner.srv.URL+"/") {
		t.Fatalf("the acme login was sent to %s", a.authorize)
	}
	c := partner.claims(a.nonce)
	c["roles"] = []string{"partner_staff"}
	id, _, err := r.complete(t, a.token, callback(a.state, partner.grant(a.challenge, partner.sign(c))))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if id.Provider != "acme" || id.Org != "acme" || id.Issuer != partner.issuer() {
		t.Errorf("identity %+v: want provider and org acme, issuer %s", id, partner.issuer())
	}
	if n := len(dept.seen()); n != 0 {
		t.Errorf("the department provider's token endpoint was called %d times for a partner login", n)
	}

	// Mix-up: the partner's provider passes off a genuine department ID token
	// (department issuer and key, department roles) as its own answer.
	b := r.begin(t, "acme")
	forged := dept.sign(dept.claims(b.nonce))
	id, raw, err := r.complete(t, b.token, callback(b.state, partner.grant(b.challenge, forged)))
	refused(t, id, raw, err)
}

func TestPrivateKeyJWT(t *testing.T) {
	ecKey := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	cases := []struct {
		name string
		key  crypto.Signer
		alg  jose.SignatureAlgorithm
	}{
		{"RSA", rsaKey(t), jose.RS256},
		{"ECDSA P-256", ecKey(elliptic.P256()), jose.ES256},
		{"ECDSA P-384", ecKey(elliptic.P384()), jose.ES384},
		{"ECDSA P-521", ecKey(elliptic.P521()), jose.ES512},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOP(t, func(o *fakeOP) { o.clientKey = tc.key.Public() })
			cfg := deptConfig(o)
			cfg.ClientSecret, cfg.PrivateKey, cfg.PrivateKeyID = "", tc.key, "k1"
			r := newRP(t, nil, cfg)

			var jtis []string
			for range 2 {
				a := r.begin(t, "dept")
				start := time.Now()
				id, _, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce)))))
				if err != nil {
					t.Fatalf("Complete: %v (provider saw %+v)", err, o.seen())
				}
				if id.Subject != subject {
					t.Errorf("identity %+v", id)
				}
				reqs := o.seen()
				req := reqs[len(reqs)-1]
				if req.form.Get("client_assertion_type") != assertionJWT {
					t.Errorf("client_assertion_type = %q", req.form.Get("client_assertion_type"))
				}
				if req.form.Has("client_secret") || req.header.Get("Authorization") != "" {
					t.Errorf("a shared secret travelled alongside the assertion: form %v, Authorization %q", req.form, req.header.Get("Authorization"))
				}
				h := req.assertion.Headers[0]
				if h.Algorithm != string(tc.alg) || h.KeyID != "k1" {
					t.Errorf("assertion header alg %q kid %q, want %q k1", h.Algorithm, h.KeyID, tc.alg)
				}
				c := req.claims
				if c.Issuer != clientID || c.Subject != clientID || !slices.Equal([]string(c.Audience), []string{o.tokenURL()}) {
					t.Errorf("assertion iss %q sub %q aud %q; want iss = sub = %q, aud = [%s]", c.Issuer, c.Subject, c.Audience, clientID, o.tokenURL())
				}
				if exp := c.Expiry.Time(); !exp.After(start) || exp.After(start.Add(5*time.Minute)) {
					t.Errorf("assertion expires at %v: want within five minutes of %v", exp, start)
				}
				jtis = append(jtis, c.ID)
			}
			// One request per login, none of them offering a secret: a client that
			// first tried Basic auth and fell back would pass the checks above.
			reqs := o.seen()
			if len(reqs) != 2 {
				t.Errorf("%d token requests for 2 logins, want 2: %+v", len(reqs), reqs)
			}
			for _, req := range reqs {
				if req.refusal != "" || req.header.Get("Authorization") != "" || req.form.Has("client_secret") {
					t.Errorf("token request refused (%q) or carried a secret: Authorization %q, form %v",
						req.refusal, req.header.Get("Authorization"), req.form)
				}
			}
			if jtis[0] == "" || jtis[0] == jtis[1] {
				t.Errorf("assertion jti %q then %q: want fresh and non-empty each time", jtis[0], jtis[1])
			}
		})
	}

	t.Run("provider registered a different key", func(t *testing.T) {
		// Control for the cases above: the provider really does check the signature.
		o := newOP(t, func(o *fakeOP) { o.clientKey = ecKey(elliptic.P256()).Public() })
		cfg := deptConfig(o)
		cfg.ClientSecret, cfg.PrivateKey, cfg.PrivateKeyID = "", ecKey(elliptic.P256()), "k1"
		r := newRP(t, nil, cfg)
		a := r.begin(t, "dept")
		id, raw, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce)))))
		refused(t, id, raw, err)
		if got := o.seen(); len(got) == 0 || !strings.HasPrefix(got[0].refusal, "client_assertion signature") {
			t.Errorf("provider saw %+v; want a bad assertion signature", got)
		}
	})

	t.Run("unsupported key type", func(t *testing.T) {
		o := newOP(t, func(o *fakeOP) { o.clientKey = ecKey(elliptic.P256()).Public() })
		_, edKey, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cfg := deptConfig(o)
		cfg.ClientSecret, cfg.PrivateKey = "", edKey
		// Refused at start-up, so no one meets it at sign-in.
		if _, err := auth.NewProviders(storetest.Database(t), []auth.ProviderConfig{cfg}); err == nil {
			t.Fatal("NewProviders accepted an Ed25519 client key")
		}
	})
}

func TestLogoutURL(t *testing.T) {
	t.Run("provider publishes end_session_endpoint", func(t *testing.T) {
		o := newOP(t, func(o *fakeOP) { o.endSession = "https://idp.example/logout?tenant=t1" })
		r := newRP(t, nil, deptConfig(o))
		l, _ := r.ps.Get("dept")
		got := l.LogoutURL(t.Context(), "the.id.token", "https://portal.example/signed-out")
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "https" || u.Host != "idp.example" || u.Path != "/logout" {
			t.Fatalf("LogoutURL = %q (%v), want the end-session endpoint", got, err)
		}
		for k, want := range map[string]string{
			"id_token_hint": "the.id.token", "client_id": clientID,
			"post_logout_redirect_uri": "https://portal.example/signed-out", "tenant": "t1",
		} {
			if v := u.Query().Get(k); v != want {
				t.Errorf("LogoutURL %s = %q, want %q", k, v, want)
			}
		}
		if u := l.LogoutURL(t.Context(), "", "https://portal.example/signed-out"); strings.Contains(u, "id_token_hint") {
			t.Errorf("LogoutURL without an ID token = %q, want no id_token_hint", u)
		}
	})

	t.Run("no end_session_endpoint", func(t *testing.T) {
		o := newOP(t)
		r := newRP(t, nil, deptConfig(o))
		l, _ := r.ps.Get("dept")
		if got := l.LogoutURL(t.Context(), "the.id.token", "https://portal.example/signed-out"); got != "" {
			t.Errorf("LogoutURL = %q, want \"\"", got)
		}
	})

	t.Run("provider unreachable", func(t *testing.T) {
		o := newOP(t, func(o *fakeOP) { o.endSession = "https://idp.example/logout" })
		r := newRP(t, nil, deptConfig(o))
		o.srv.Close()
		l, _ := r.ps.Get("dept")
		if got := l.LogoutURL(t.Context(), "the.id.token", "https://portal.example/signed-out"); got != "" {
			t.Errorf("LogoutURL with the provider down = %q, want \"\"", got)
		}
	})
}

func TestWrongClientSecretIsRefused(t *testing.T) {
	o := newOP(t)
	cfg := deptConfig(o)
	cfg.ClientSecret = "not-the-registered-secret"
	r := newRP(t, nil, cfg)
	a := r.begin(t, "dept")
	id, raw, err := r.complete(t, a.token, callback(a.state, o.grant(a.challenge, o.sign(o.claims(a.nonce)))))
	refused(t, id, raw, err)
	if o.issued() != 0 {
		t.Errorf("the provider issued tokens to a client with the wrong secret")
	}
}

func TestNewProvidersRejectsBadConfiguration(t *testing.T) {
	db := storetest.Database(t)
	for name, cfgs := range map[string][]auth.ProviderConfig{
		"none":      nil,
		"no ID":     {{Issuer: "https://idp.example"}},
		"duplicate": {{ID: "dept", Issuer: "https://a.example"}, {ID: "dept", Issuer: "https://b.example"}},
	} {
		if _, err := auth.NewProviders(db, cfgs); err == nil {
			t.Errorf("NewProviders(%s) succeeded", name)
		}
	}
}
