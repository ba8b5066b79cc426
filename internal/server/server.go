// Package server wires the portal's HTTP surface: the Gin engine, its
// middleware, the route table, and the page handlers that are not yet part of
// a capability package.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/idempotency"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/people"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/reminders"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/department/safeguarding-portal/internal/requirements"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/department/safeguarding-portal/internal/apiauth"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/config"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/ratelimit"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store"
	"github.com/department/safeguarding-portal/internal/view"
	"github.com/department/safeguarding-portal/web"
	"github.com/gin-gonic/gin"
)

// Server is the portal's web application.
type Server struct {
	cfg          config.Config
	log          *slog.Logger
	store        *store.Store
	views        *view.Renderer
	sessions     *auth.Sessions
	providers    *auth.Providers
	devIdP       http.Handler
	partners     *partner.Store
	staff        *staff.Store
	trail        *audit.Trail
	requirements *requirements.Catalogue
	records      *records.Store
	evidence     *evidence.Store
	upkeep       *records.Upkeep
	incidents    *incident.Store
	drafts       *incident.DraftStore
	// oversight holds inspections and the actions raised against partners.
	oversight *oversight.Store
	// counter keeps each contract's dashboard figures counted.
	counter *portfolio.Counter
	// rating reads what contracts are rated on besides their figures.
	rating portfolio.Sources
	// refreshing holds the partners whose assessments are being brought up
	// to date in the background, each with whether to go again when done;
	// upkeepRunning is set while every partner's are.
	refreshMu     sync.Mutex
	refreshing    map[string]*bool
	upkeepRunning atomic.Bool
	people        *people.Directory
	outbox        *escalation.Outbox
	// concerns holds escalations to the safeguarding leads and their decisions.
	concerns *concern.Store
	// reminders e-mail partners about the actions waiting for them.
	reminders *reminders.Reminders
	// escalationWorker sends this replica's share of escalations.
	escalationWorker *escalation.Worker
	idempotency      *idempotency.Keys
	// notifying holds the Idempotency-Keys of notices this replica is storing.
	notifying inFlight
	// incidentRules and bankHolidays set notification deadlines.
	incidentRules *incident.Rules
	bankHolidays  *deadline.Calendar
	apiSchemas    *apiSchemas
	apiVerifier   *apiauth.Verifier
	signInLimit   *ratelimit.Limiter
	apiLimit      *ratelimit.Limiter
	metrics       *metrics
	engine        *gin.Engine
	// formAction is the CSP form-action source list, fixed at start.
	formAction string
	// background tracks work that outlives its request, such as applying an
	// import; backgroundCtx ends it at shutdown.
	background     sync.WaitGroup
	backgroundCtx  context.Context
	stopBackground context.CancelFunc

	// performance holds the failures partners score against their contracts.
	performance *performance.Store
	// reports generates governance reports and keeps them unchanged;
	// reportNotices e-mails partners that a report about them is ready.
	reports       *report.Archive
	notices       *report.Notices
	reportNotices *escalation.Worker
}

// Close stops background work (an interrupted import is left stalled, to be
// applied again) and waits for it to return.
func (s *Server) Close() {
	s.stopBackground()
	s.background.Wait()
}

// Deps are what the server needs from main.
type Deps struct {
	Config config.Config
	Log    *slog.Logger
	Store  *store.Store
	// Providers are the identity providers people sign in through.
	Providers *auth.Providers
	// APIVerifier checks partner systems' bearer tokens.
	APIVerifier *apiauth.Verifier
	// Trail is the audit trail.
	Trail *audit.Trail
	// DevIdP, when set, is mounted at /dev-idp (development only).
	DevIdP http.Handler
	// Assets are the fingerprinted static files.
	Assets *view.Assets
	// SessionKey keys the hashes of session and login tokens.
	SessionKey []byte
	// Requirements are the staff categories, training and vetting contracts
	// start with; nil means the built-in default.
	Requirements *requirements.Catalogue
	// IncidentRules and BankHolidays set incident notification deadlines;
	// nil means the built-in defaults.
	IncidentRules *incident.Rules
	BankHolidays  *deadline.Calendar
	// PerformanceTerms score contracts without terms of their own; nil
	// means the built-in defaults.
	PerformanceTerms *performance.Terms
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	funcs := maps.Clone(pageFuncs)
	maps.Copy(funcs, catalogueFuncs(cmp.Or(d.Requirements, requirements.Default())))
	views, err := view.New(web.FS, d.Assets, web.Funcs(), funcs)
	if err != nil {
		return nil, err
	}
	if d.DevIdP != nil && d.Config.Env != config.Development {
		return nil, errors.New("the development identity provider never runs outside development")
	}
	s := &Server{
		cfg:          d.Config,
		log:          d.Log,
		store:        d.Store,
		views:        views,
		sessions:     auth.NewSessions(d.Store.DB, d.SessionKey, d.Config.SessionIdleTimeout, d.Config.SessionAbsoluteTimeout),
		providers:    d.Providers,
		devIdP:       d.DevIdP,
		partners:     partner.NewStore(d.Store.DB).WithTrail(d.Trail),
		staff:        staff.NewStore(d.Store.DB, d.Trail),
		trail:        d.Trail,
		requirements: cmp.Or(d.Requirements, requirements.Default()),
		apiVerifier:  d.APIVerifier,
		signInLimit:  ratelimit.New(d.Config.RateLimits.SignInPerMinute, time.Minute, d.Config.RateLimits.SignInPerMinute),
		apiLimit:     ratelimit.New(d.Config.RateLimits.APIPerMinute, time.Minute, d.Config.RateLimits.APIPerMinute),
		metrics:      newMetrics(),
	}
	if s.providers == nil || s.trail == nil || s.apiVerifier == nil {
		return nil, errors.New("server needs identity providers, an API token verifier and the audit trail")
	}
	s.cfg.Evidence.MaxMB = cmp.Or(s.cfg.Evidence.MaxMB, 10)
	s.cfg.Evidence.RetentionMonths = cmp.Or(s.cfg.Evidence.RetentionMonths, 6)
	s.records = records.NewStore(d.Store.DB, d.Trail)
	s.evidence = evidence.NewStore(d.Store.DB)
	s.upkeep = &records.Upkeep{Records: s.records, Staff: s.staff, Partners: s.partners, Catalogue: s.requirements}
	s.incidents = incident.NewStore(d.Store.DB, d.Trail)
	s.drafts = incident.NewDraftStore(d.Store.DB)
	s.oversight = oversight.NewStore(d.Store.DB, d.Trail, s.partners)
	s.counter = &portfolio.Counter{DB: d.Store.DB, Staff: s.staff, Partners: s.partners, Incidents: s.incidents, Catalogue: s.requirements, Log: s.log}
	s.upkeep.Changed = s.counter.Mark
	s.refreshing = map[string]*bool{}
	s.concerns = concern.NewStore(d.Store.DB, d.Trail, s.partners)
	s.performance = performance.NewStore(d.Store.DB, d.Trail, s.partners, d.PerformanceTerms)
	s.rating = portfolio.Sources{Oversight: s.oversight, Concerns: s.concerns, Performance: s.performance}
	s.people = people.New(d.Store.DB)
	s.outbox = escalation.NewOutbox(d.Store.DB)
	s.escalationWorker = s.newEscalationWorker()
	s.reminders = s.newActionReminders()
	s.idempotency = idempotency.New(d.Store.DB)
	s.incidentRules = cmp.Or(d.IncidentRules, incident.DefaultRules())
	s.bankHolidays = cmp.Or(d.BankHolidays, deadline.Default())
	if s.apiSchemas, err = compileAPISchemas(); err != nil {
		return nil, err
	}
	// The builder reads through the server's own stores, not copies of
	// them: they hold in-process state a report must share, such as the
	// roster copies and the incident tallies still owed.
	s.reports = report.NewArchive(d.Store.DB, &report.Builder{Partners: s.partners, Counter: s.counter, Rating: s.rating, Incidents: s.incidents,
		Catalogue: s.requirements, Rules: s.incidentRules, Upkeep: s.upkeep}, s.log)
	notices := report.NewNotices(d.Store.DB, s.partners, s.cfg.BaseURL)
	s.notices = notices
	s.reportNotices = escalation.NewWorker(notices.Outbox, s.escalationWorker.Email, nil)
	s.reportNotices.Log = s.log.With("outbox", "report notices")
	s.reports.Announce = func(ctx context.Context, e report.Entry) (int, error) {
		n, err := notices.Ready(ctx, e)
		if n > 0 {
			s.reportNotices.Wake()
		}
		return n, err
	}
	s.formAction = formAction(s.cfg.BaseURL, s.providers)
	s.backgroundCtx, s.stopBackground = context.WithCancel(context.Background())
	if err := s.routes(); err != nil {
		return nil, err
	}
	s.background.Add(6)
	go s.reportLoop()
	go s.upkeepLoop()
	go s.escalationLoop()
	go s.countLoop()
	go s.actionRemindersLoop()
	go s.performanceLoop()
	return s, nil
}

// Handler is the portal's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.engine }

// AssetVersion is the fingerprint in every asset URL.
func (s *Server) AssetVersion() string { return s.views.Assets.Version }

// Routes lists every registered method and path, for tests that must cover them all.
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

// Serve answers on srv until ctx ends, then stops taking connections and
// drains in-flight requests for up to drain.
func Serve(ctx context.Context, srv *http.Server, serve func() error, drain time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests", "timeout", drain.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("drain http: %w", err)
	}
	return nil
}

// NewHTTPServer applies timeouts so slow or stalled clients cannot hold connections open.
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// upkeepLoop keeps stored assessments current as days pass and deletes
// verified vetting evidence past its retention, at start-up and then hourly.
// Both are idempotent, so several replicas running them at once is safe.
func (s *Server) upkeepLoop() {
	defer s.background.Done()
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		ctx := s.backgroundCtx
		s.upkeepRunning.Store(true)
		n, err := s.upkeep.ReassessAll(ctx, false)
		s.upkeepRunning.Store(false)
		if err != nil && ctx.Err() == nil {
			s.log.Error("assessments not brought up to date", "err", err)
		} else if n > 0 {
			s.log.Info("assessments brought up to date", "people", n)
		}
		if n, err := s.evidence.DeleteExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("expired evidence not deleted", "err", err)
		} else if n > 0 {
			s.log.Info("expired evidence deleted", "files", n)
		}
		if _, err := s.idempotency.Expire(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("expired idempotency keys not deleted", "err", err)
		}
		if _, err := s.drafts.Expire(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("expired incident drafts not deleted", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
