package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/apiauth"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/config"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/store"
	"github.com/department/safeguarding-portal/internal/view"
	"github.com/department/safeguarding-portal/web"
	"github.com/gin-gonic/gin"
)

// newTestServer builds a server on the embedded store without the rest of the
// app, for tests of the server's own parts.
func newTestServer(b testing.TB, env map[string]string) *Server {
	ctx := context.Background()
	e, err := store.StartEmbedded(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Stop)
	st, err := store.Connect(ctx, e.URI(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close(ctx) })
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	assets, err := view.NewAssets(web.FS)
	if err != nil {
		b.Fatal(err)
	}
	providers, err := auth.NewProviders(st.DB, []auth.ProviderConfig{{ID: "dev", Issuer: "http://127.0.0.1:1/none", ClientID: "portal", ClientSecret: "x"}})
	if err != nil {
		b.Fatal(err)
	}
	verifier, err := apiauth.NewVerifier(nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	trail := audit.New(st.DB)
	if err := trail.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	s, err := New(Deps{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st, Providers: providers,
		APIVerifier: verifier, Trail: trail, Assets: assets, SessionKey: []byte("bench-key-0123456789abcdef012345")})
	if err != nil {
		b.Fatal(err)
	}
	if err := partner.NewStore(st.DB).Insert(ctx, []partner.Partner{{ID: "northgate", Name: "Northgate"}},
		[]partner.Contract{{ID: "C-1", PartnerID: "northgate", Managers: []string{"manager"}}}); err != nil {
		b.Fatal(err)
	}

	return s
}

// BenchmarkAccessLayer measures what the access layer adds to a request: the
// same handler bare, behind the portal's whole chain (request ID, headers,
// metrics, log, session lookup in the store, CSRF, principal and policy), and
// with the audit event a view of personal data records. Run with
// go test -run '^$' -bench AccessLayer ./internal/server/
func BenchmarkAccessLayer(b *testing.B) {
	ctx := context.Background()
	s := newTestServer(b, nil)
	ok := func(c *gin.Context) { c.String(http.StatusOK, "ok") }
	audited := func(c *gin.Context) {
		if err := s.record(c, event(c, "staff.view", "staff/bench", "northgate", audit.Success)); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		ok(c)
	}
	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	bare.GET("/x", ok)
	guarded := gin.New()
	guarded.Use(s.everyRequest()...)
	chain := append(append(s.pageChecks(), s.signedInChecks()...), s.allow(access.ViewStaff))
	guarded.GET("/x", append(chain, ok)...)
	guarded.GET("/audited", append(chain, audited)...)

	cookie := func(id auth.Identity) *http.Cookie {
		token, _, err := s.sessions.Create(ctx, id, "")
		if err != nil {
			b.Fatal(err)
		}
		return &http.Cookie{Name: s.sessionCookieName(), Value: token}
	}
	officer := cookie(auth.Identity{Subject: "officer", Roles: []auth.Role{auth.PartnerComplianceOfficer}, Org: "northgate"})
	manager := cookie(auth.Identity{Subject: "manager", Roles: []auth.Role{auth.ContractManager}, Org: auth.DepartmentOrg})

	run := func(b *testing.B, h http.Handler, path string, ck *http.Cookie) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if ck != nil {
			req.AddCookie(ck)
		}
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, bare, "/x", nil) })
	b.Run("guarded-officer", func(b *testing.B) { run(b, guarded, "/x", officer) })
	b.Run("guarded-manager", func(b *testing.B) { run(b, guarded, "/x", manager) })
	b.Run("guarded-officer-audited", func(b *testing.B) { run(b, guarded, "/audited", officer) })
}
