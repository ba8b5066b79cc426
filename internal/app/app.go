// Package app assembles the portal from its configuration: the store (embedded
// or external), the identity provider, the web server. cmd/portal and the test
// harness both start the portal through it, so tests run what production runs.
package app

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/apiauth"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/config"
	"github.com/department/safeguarding-portal/internal/devidp"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/idempotency"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/reminders"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/server"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store"
	"github.com/department/safeguarding-portal/internal/view"
	"github.com/department/safeguarding-portal/web"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// NewLogger logs text for people in development and JSON for machines in production.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Env == config.Production {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// App is a running portal.
type App struct {
	Config   config.Config
	Store    *store.Store
	Server   *server.Server
	Trail    *audit.Trail
	log      *slog.Logger
	embedded *store.Embedded
	http     *http.Server
	listener net.Listener
}

// Serve runs the portal on cfg.Addr until ctx ends.
func Serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (PORTAL_ADDR): %w", cfg.Addr, err)
	}
	a, err := Start(ctx, cfg, log, ln)
	if err != nil {
		ln.Close()
		return err
	}
	return a.Run(ctx)
}

// Start opens the store, seeds demo data when configured and builds the server
// that will answer on ln. Nothing is served until Run.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger, ln net.Listener) (a *App, err error) {
	started := time.Now()
	if cfg.Env == config.Development {
		log.Warn("DEVELOPMENT MODE: demo identity provider with published passwords and demo data; never use for real data",
			"base_url", cfg.BaseURL, "embedded_store", cfg.EmbeddedStore(), "dev_identity_provider", cfg.DevelopmentIdP())
	}
	a = &App{Config: cfg, log: log, listener: ln}
	// A failed start returns a nil App: close what this one opened.
	opened := a
	defer func() {
		if err != nil {
			opened.close()
		}
	}()
	uri := cfg.MongoURI
	if cfg.EmbeddedStore() {
		if a.embedded, err = store.StartEmbedded(cfg.EmbeddedStoreDir()); err != nil {
			return nil, err
		}
		uri = a.embedded.URI()
		log.Info("embedded store started", "dir", cfg.EmbeddedStoreDir())
	}
	if a.Store, err = store.Connect(ctx, uri, cfg.MongoDatabase); err != nil {
		return nil, err
	}
	trail := audit.New(a.Store.DB)
	a.Trail = trail
	if err := trail.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	if *cfg.SeedDemoData {
		if err := seed.Demo(ctx, a.Store.DB, trail, log); err != nil {
			return nil, err
		}
	}
	if err := ensureRosterIndexes(ctx, a.Store.DB, trail); err != nil {
		return nil, err
	}
	key, err := sessionKey(cfg)
	if err != nil {
		return nil, err
	}
	assets, err := view.NewAssets(web.FS)
	if err != nil {
		return nil, err
	}
	if err := partner.NewStore(a.Store.DB).WithTrail(trail).EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	if n, err := trail.Recover(ctx); err != nil {
		return nil, fmt.Errorf("recover pending audit events: %w", err)
	} else if n > 0 {
		log.Warn("recovered audit events left pending by an interrupted change", "events", n)
	}
	catalogue, err := cfg.Requirements()
	if err != nil {
		return nil, err
	}
	deps := server.Deps{Config: cfg, Log: log, Store: a.Store, SessionKey: key, Assets: assets, Trail: trail, Requirements: catalogue}
	if deps.IncidentRules, err = cfg.IncidentRules(); err != nil {
		return nil, err
	}
	if deps.BankHolidays, err = cfg.BankHolidays(); err != nil {
		return nil, err
	}
	if deps.PerformanceTerms, err = cfg.PerformanceTerms(); err != nil {
		return nil, err
	}
	if err := auth.NewSessions(a.Store.DB, key, cfg.SessionIdleTimeout, cfg.SessionAbsoluteTimeout).EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	redirectURL := cfg.BaseURL + "/auth/callback"
	var providers []auth.ProviderConfig
	apiIssuers, apiClients := apiConfig(cfg)
	if cfg.DevelopmentIdP() {
		issuer := cfg.BaseURL + "/dev-idp"
		apiAudience := cfg.BaseURL + "/api"
		idp, err := devidp.New(devidp.Config{
			Issuer:                       issuer,
			PortalRedirectURIs:           []string{redirectURL},
			PortalPostLogoutRedirectURIs: []string{cfg.BaseURL + "/signed-out"},
			StylesheetURL:                assets.URL("portal.css"),
			APIAudience:                  apiAudience,
		})
		if err != nil {
			return nil, fmt.Errorf("start development identity provider: %w", err)
		}
		deps.DevIdP = idp
		providers = append(providers, auth.ProviderConfig{
			ID: config.DevelopmentProviderID, Name: "Development identity provider", Issuer: issuer,
			ClientID: devidp.PortalClientID, ClientSecret: devidp.PortalClientSecret,
			Scopes:     []string{"openid", "profile", "email", devidp.RolesScope},
			RolesClaim: "roles", OrgClaim: "org", RedirectURL: redirectURL,
		})
		apiIssuers = append(apiIssuers, apiauth.Issuer{Issuer: issuer, Audience: apiAudience})
		for _, mc := range devidp.MachineClients() {
			apiClients = append(apiClients, apiauth.Client{Issuer: issuer, ClientID: mc.ID, Partner: mc.Org})
		}
	}
	for _, p := range cfg.IdentityProviders {
		pc := auth.ProviderConfig{
			ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			PrivateKeyID: p.PrivateKeyID, Scopes: p.Scopes, RolesClaim: p.RolesClaim, OrgClaim: p.OrgClaim,
			RoleMap: p.RoleMap, OrgMap: p.OrgMap, FixedOrg: p.FixedOrg, RedirectURL: redirectURL,
		}
		if p.PrivateKeyFile != "" {
			if pc.PrivateKey, err = readPrivateKey(p.PrivateKeyFile); err != nil {
				return nil, fmt.Errorf("identity provider %s: private_key_file: %w", p.ID, err)
			}
		}
		providers = append(providers, pc)
	}
	if deps.Providers, err = auth.NewProviders(a.Store.DB, providers); err != nil {
		return nil, err
	}
	if deps.APIVerifier, err = apiauth.NewVerifier(apiIssuers, apiClients, nil); err != nil {
		return nil, fmt.Errorf("API token verifier: %w", err)
	}
	if a.Server, err = server.New(deps); err != nil {
		return nil, err
	}
	a.http = server.NewHTTPServer(cfg.Addr, a.Server.Handler(), log)
	log.Info("portal ready", "url", cfg.BaseURL, "listen", ln.Addr().String(), "env", cfg.Env, "startup", time.Since(started).Round(time.Millisecond).String())
	return a, nil
}

// Run serves until ctx ends, drains in-flight requests, then closes the store
// (and stops the embedded one cleanly, so its data survives a restart).
func (a *App) Run(ctx context.Context) error {
	defer a.close()
	err := server.Serve(ctx, a.http, func() error { return a.http.Serve(a.listener) }, 20*time.Second, a.log)
	a.Server.Close()
	a.log.Info("portal stopped")
	return err
}

func (a *App) close() {
	if a.Trail != nil {
		// Events of changes already answered; Recover would append them after
		// a restart, but the trail should not lag behind a clean stop.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.Trail.Flush(ctx); err != nil {
			a.log.Warn("flush audit events", "err", err)
		}
		cancel()
	}
	if a.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.Store.Close(ctx); err != nil {
			a.log.Warn("close store", "err", err)
		}
		cancel()
	}
	if a.embedded != nil {
		a.embedded.Stop()
	}
}

func apiConfig(cfg config.Config) ([]apiauth.Issuer, []apiauth.Client) {
	var issuers []apiauth.Issuer
	for _, is := range cfg.API.Issuers {
		issuers = append(issuers, apiauth.Issuer{Issuer: is.Issuer, Audience: is.Audience})
	}
	var clients []apiauth.Client
	for _, cl := range cfg.API.Clients {
		clients = append(clients, apiauth.Client{Issuer: cl.Issuer, ClientID: cl.ClientID, Partner: cl.Partner})
	}
	return issuers, clients
}

// readPrivateKey loads a PEM private key (PKCS#8, PKCS#1 RSA or SEC 1 EC) for private_key_jwt.
func readPrivateKey(path string) (crypto.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if signer, ok := k.(crypto.Signer); ok {
			return signer, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS#8, PKCS#1 or EC private key")
}

// sessionKey keys the session hashes. Production reads it from configuration;
// development keeps a random one in the data directory so restarts keep sessions.
func sessionKey(cfg config.Config) ([]byte, error) {
	if cfg.SessionSecret != "" {
		sum := sha256.Sum256([]byte(cfg.SessionSecret))
		return sum[:], nil
	}
	if cfg.Env == config.Production {
		return nil, errors.New("PORTAL_SESSION_SECRET: is required in production")
	}
	path := filepath.Join(cfg.DataDir, "session.key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		sum := sha256.Sum256([]byte(strings.TrimSpace(string(b))))
		return sum[:], nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory (PORTAL_DATA_DIR): %w", err)
	}
	secret := auth.NewToken()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write development session key: %w", err)
	}
	sum := sha256.Sum256([]byte(secret))
	return sum[:], nil
}

// SeedDemo adds a generated dataset of the given size to the configured store if it has none.
func SeedDemo(ctx context.Context, cfg config.Config, log *slog.Logger, size seed.Size) error {
	if cfg.Env == config.Production {
		return errors.New("demo data is never seeded in production")
	}
	st, closeStore, err := store.Open(ctx, cfg.MongoURI, cfg.EmbeddedStoreDir(), cfg.MongoDatabase)
	if err != nil {
		return err
	}
	defer closeStore()
	trail := audit.New(st.DB)
	if err := trail.EnsureIndexes(ctx); err != nil {
		return err
	}
	return seed.Generate(ctx, st.DB, trail, log, size)
}

// Rebuild evaluates every person's compliance again from their records, for
// after a change to the requirements file. Pages otherwise only re-evaluate
// the people a change touches.
func Rebuild(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	st, closeStore, err := store.Open(ctx, cfg.MongoURI, cfg.EmbeddedStoreDir(), cfg.MongoDatabase)
	if err != nil {
		return err
	}
	defer closeStore()
	catalogue, err := cfg.Requirements()
	if err != nil {
		return err
	}
	trail := audit.New(st.DB)
	roster := staff.NewStore(st.DB, trail)
	upkeep := &records.Upkeep{Records: records.NewStore(st.DB, trail), Staff: roster, Partners: partner.NewStore(st.DB).WithTrail(trail), Catalogue: catalogue}
	start := time.Now()
	n, err := upkeep.ReassessAll(ctx, true)
	if err != nil {
		return fmt.Errorf("rebuild assessments: %w", err)
	}
	log.Info("assessments rebuilt", "people", n, "took", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "evaluated %d people again\n", n)
	ps, err := upkeep.Partners.List(ctx, access.Everything())
	if err != nil {
		return err
	}
	requeued := 0
	for _, p := range ps {
		k, err := upkeep.Requeue(ctx, p.ID)
		requeued += k
		if err != nil {
			return fmt.Errorf("requeue %s: %w", p.ID, err)
		}
	}
	fmt.Fprintf(stdout, "put %d unverified records back in the verification queue\n", requeued)
	return nil
}

// ensureRosterIndexes prepares every partner's roster collection; it also
// registers them with the audit trail, so Recover finds pending events there.
func ensureRosterIndexes(ctx context.Context, db *mongo.Database, trail *audit.Trail) error {
	ps, err := partner.NewStore(db).List(ctx, access.Everything())
	if err != nil {
		return err
	}
	roster := staff.NewStore(db, trail)
	books := records.NewStore(db, trail)
	for _, p := range ps {
		if err := roster.EnsureIndexes(ctx, p.ID); err != nil {
			return err
		}
		books.Register(p.ID)
	}
	if err := books.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := roster.EnsureImportIndexes(ctx); err != nil {
		return err
	}
	incidents := incident.NewStore(db, trail)
	if err := incidents.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := incidents.EnsureTallies(ctx); err != nil {
		return err
	}
	if err := incident.NewDraftStore(db).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := idempotency.New(db).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := escalation.NewOutbox(db).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := oversight.NewStore(db, trail, partner.NewStore(db)).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := (&portfolio.Counter{DB: db}).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := concern.NewStore(db, trail, partner.NewStore(db)).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := reminders.EnsureIndexes(ctx, db); err != nil {
		return err
	}
	if err := escalation.NewOutboxIn(db, report.NoticesCollection).EnsureIndexes(ctx); err != nil {
		return fmt.Errorf("report notice outbox: %w", err)
	}
	if err := performance.NewStore(db, trail, partner.NewStore(db), nil).EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := books.EnsureImportIndexes(ctx); err != nil {
		return err
	}
	return evidence.NewStore(db).EnsureIndexes(ctx)
}

// Report generates a governance report for a schedule and writes its PDF to
// out. Replicas running the same schedule on the same day make it once: the
// first archives it and the rest write the archived bytes (see
// report.Archive.Scheduled).
func Report(ctx context.Context, cfg config.Config, log *slog.Logger, req report.Request, out string, stdout io.Writer) error {
	r, err := openReporting(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer r.close()
	return r.write(ctx, req, out, stdout)
}

// ReportEachPartner makes req (a partner report without its partner) for
// every partner with a contract not terminated, writing each PDF to
// dir/<partner ID>.pdf: the monthly reports the department shares with its
// partners, whose compliance contacts are e-mailed a link to their
// partner edition. A report that fails does not stop the others; the
// error names each that failed. Run again the same day, it makes only
// those that failed.
func ReportEachPartner(ctx context.Context, cfg config.Config, log *slog.Logger, req report.Request, dir string, stdout io.Writer) error {
	// A schedule's first run finds no folder on a new volume.
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("--out %s: with --each-partner, give a folder: %w", dir, err)
	}
	r, err := openReporting(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer r.close()
	contracts, err := r.partners.Contracts(ctx, access.Everything())
	if err != nil {
		return err
	}
	var ids []string
	for _, ct := range contracts {
		if ct.Status != partner.Terminated {
			ids = append(ids, ct.PartnerID)
		}
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range slices.Compact(ids) {
		if err := ctx.Err(); err != nil {
			return err
		}
		req.SubjectID = id
		if err := r.write(ctx, req, filepath.Join(dir, id+".pdf"), stdout); err != nil {
			r.log.Error("partner report not made", "partner", id, "err", err)
			errs = append(errs, fmt.Errorf("partner %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// reporting is what the report commands make reports with: the archive as
// the portal's replicas keep it, and the audit trail.
type reporting struct {
	archive  *report.Archive
	trail    *audit.Trail
	partners *partner.Store
	log      *slog.Logger
	close    func()
}

func openReporting(ctx context.Context, cfg config.Config, log *slog.Logger) (*reporting, error) {
	st, closeStore, err := store.Open(ctx, cfg.MongoURI, cfg.EmbeddedStoreDir(), cfg.MongoDatabase)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*reporting, error) {
		closeStore()
		return nil, err
	}
	catalogue, err := cfg.Requirements()
	if err != nil {
		return fail(err)
	}
	rules, err := cfg.IncidentRules()
	if err != nil {
		return fail(err)
	}
	terms, err := cfg.PerformanceTerms()
	if err != nil {
		return fail(err)
	}
	trail := audit.New(st.DB)
	if err := trail.EnsureIndexes(ctx); err != nil {
		return fail(err)
	}
	if err := incident.NewStore(st.DB, trail).EnsureTallies(ctx); err != nil {
		return fail(err)
	}
	partners := partner.NewStore(st.DB)
	archive := report.NewArchive(st.DB, report.NewBuilder(st.DB, trail, catalogue, rules, terms), log)
	// Stored here, sent by the portal's replicas.
	archive.Announce = report.NewNotices(st.DB, partners, cfg.BaseURL).Ready
	if err := archive.EnsureIndexes(ctx); err != nil {
		return fail(err)
	}
	return &reporting{archive: archive, trail: trail, partners: partners, log: log, close: closeStore}, nil
}

// write makes the report req asks for, or finds it made today, and writes
// its PDF to out.
func (r *reporting) write(ctx context.Context, req report.Request, out string, stdout io.Writer) error {
	started := time.Now()
	e, pdf, err := r.archive.Scheduled(ctx, req, started, 10*time.Minute)
	if errors.Is(err, report.ErrNoSubject) {
		return fmt.Errorf("no %s %q in the store", req.Kind, req.SubjectID)
	}
	if err != nil {
		return err
	}
	if _, err := r.trail.Record(ctx, audit.Event{Actor: audit.Actor{Kind: audit.KindSystem, Subject: "portal report"}, Action: "report.generate",
		Resource: "report/" + e.ID, PartnerID: e.PartnerID, Outcome: audit.Success, Detail: string(req.Kind) + " " + string(req.Edition)}); err != nil {
		return fmt.Errorf("audit report: %w", err)
	}
	// Written beside the target and renamed, so a reader never sees half a file.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".report-*.pdf")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pdf); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	r.log.Info("report written", "report_id", e.ID, "took", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "%s: %s, %s, %d pages, %d bytes, sha256 %s\n", out, e.ID, e.Subject, e.Pages, e.Size, e.SHA256)
	return nil
}
