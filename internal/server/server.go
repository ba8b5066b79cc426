// Package server wires the portal's HTTP surface: the Gin engine, its
// middleware, the route table, and the page handlers that are not yet part of
// a capability package.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/config"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store"
	"github.com/department/safeguarding-portal/internal/view"
	"github.com/department/safeguarding-portal/web"
	"github.com/gin-gonic/gin"
)

// Server is the portal's web application.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	views    *view.Renderer
	sessions *auth.Sessions
	login    *auth.Login
	devIdP   http.Handler
	partners *partner.Store
	staff    *staff.Store
	metrics  *metrics
	engine   *gin.Engine
}

// Deps are what the server needs from main.
type Deps struct {
	Config config.Config
	Log    *slog.Logger
	Store  *store.Store
	// Login is the identity provider people sign in through.
	Login *auth.Login
	// DevIdP, when set, is mounted at /dev-idp (development only).
	DevIdP http.Handler
	// Assets are the fingerprinted static files.
	Assets *view.Assets
	// SessionKey keys the hashes of session and login tokens.
	SessionKey []byte
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	views, err := view.New(web.FS, d.Assets, web.Funcs(), pageFuncs)
	if err != nil {
		return nil, err
	}
	if d.DevIdP != nil && d.Config.Env != config.Development {
		return nil, errors.New("the development identity provider never runs outside development")
	}
	s := &Server{
		cfg:      d.Config,
		log:      d.Log,
		store:    d.Store,
		views:    views,
		sessions: auth.NewSessions(d.Store.DB, d.SessionKey, d.Config.SessionIdleTimeout, d.Config.SessionAbsoluteTimeout),
		login:    d.Login,
		devIdP:   d.DevIdP,
		partners: partner.NewStore(d.Store.DB),
		staff:    staff.NewStore(d.Store.DB),
		metrics:  newMetrics(),
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler is the portal's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.engine }

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
