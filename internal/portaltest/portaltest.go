// Package portaltest starts a whole portal for tests: the store (embedded
// FerretDB in a temporary directory, or the server PORTAL_TEST_MONGODB_URI names),
// the development identity provider and the web server on a random port.
package portaltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/app"
	"github.com/department/safeguarding-portal/internal/config"
)

// Portal is a running portal under test.
type Portal struct {
	URL     string
	App     *app.App
	DataDir string
	Logs    *Logs

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// Logs keeps everything the portal logged, so tests can check what it never logs.
type Logs struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Options adjust a test portal.
type Options struct {
	// DataDir reuses a data directory, e.g. to test a restart. Empty means a new temporary one.
	DataDir string
	// Env adds or overrides environment settings.
	Env map[string]string
}

// Start runs a portal until the test ends.
func Start(t testing.TB) *Portal { return StartWith(t, Options{}) }

// StartWith runs a portal with opts until the test ends.
func StartWith(t testing.TB, opts Options) *Portal {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	base := "http://" + ln.Addr().String()
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	env := map[string]string{
		"PORTAL_ENV":       "development",
		"PORTAL_ADDR":      ln.Addr().String(),
		"PORTAL_BASE_URL":  base,
		"PORTAL_DATA_DIR":  dataDir,
		"PORTAL_LOG_LEVEL": "info",
		// Tests sign in far faster than people; the limits have their own test.
		"PORTAL_SIGN_IN_PER_MINUTE": "100000",
		"PORTAL_API_PER_MINUTE":     "100000",
	}
	if uri := os.Getenv("PORTAL_TEST_MONGODB_URI"); uri != "" {
		env["MONGODB_URI"] = uri
		env["MONGODB_DATABASE"] = databaseFor(dataDir)
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		ln.Close()
		t.Fatalf("test configuration: %v", err)
	}
	logs := &Logs{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, log, ln)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("start portal: %v", err)
	}
	p := &Portal{URL: base, App: a, DataDir: dataDir, Logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("portal logs:\n%s", logs.String())
		}
	})
	return p
}

// databaseFor gives each test portal on a shared external server its own
// database, stable across a restart on the same data directory.
func databaseFor(dataDir string) string {
	path := filepath.Join(dataDir, "test-database-name")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b))
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "portal_test_" + hex.EncodeToString(b)
	_ = os.WriteFile(path, []byte(name), 0o600)
	return name
}

// Client is an HTTP client with its own cookie jar that does not follow
// redirects, so tests see every hop of a login.
func Client(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// ModuleRoot finds the repository root, where node_modules lives.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// RequireTool skips the test when a tool is missing on a developer's machine,
// and fails it in CI, where a missing tool means a broken install step.
func RequireTool(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s not available: %v", what, err)
}

// ReadAll reads and closes a response body.
func ReadAll(t testing.TB, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}
