package portaltest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is a fresh headless Chromium with its own profile, driven through
// the DevTools protocol.
type Browser struct {
	t   testing.TB
	ctx context.Context
	axe string
}

// NewBrowser starts Chromium for the test. In CI a missing Chromium or axe-core
// fails the test rather than skipping it.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	RequireTool(t, "chromium (apt-get install chromium)", err)
	axe, err := os.ReadFile(filepath.Join(ModuleRoot(t), "node_modules", "axe-core", "axe.min.js"))
	RequireTool(t, "axe-core (npm ci)", err)

	// Not t.TempDir(): long test names make Chromium's singleton socket path
	// exceed the 108-byte limit of a Unix socket address.
	profile, err := os.MkdirTemp("", "chromium-")
	if err != nil {
		t.Fatalf("browser profile directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Chromium leaves a profile directory in TMPDIR per run.
		chromedp.Env("TMPDIR="+profile),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	b := &Browser{t: t, ctx: ctx, axe: string(axe)}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// Do runs browser actions, failing the test on error.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Text is the visible text of the first element matching css.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// Path is the path of the current page.
func (b *Browser) Path() string {
	b.t.Helper()
	p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return p
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// CheckAccessibility runs axe-core on the current page and fails the test on
// any violation, naming the rule and the elements.
func (b *Browser) CheckAccessibility() {
	b.t.Helper()
	page := b.Path()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](b.axe+";true")); err != nil {
		b.t.Fatalf("inject axe-core on %s: %v", page, err)
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe-core on %s: %v", page, err)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		b.t.Fatalf("read axe-core result on %s: %v", page, err)
	}
	for _, v := range violations {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, fmt.Sprint(n.Target...))
		}
		b.t.Errorf("accessibility violation on %s: %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
	}
}

// WaitForPath waits until the browser has loaded path: after a click that
// navigates, the old page's elements are still there for a moment, and while
// the new page loads, evaluating anything can fail.
func WaitForPath(path string) chromedp.Action[chromedp.Void] {
	check := chromedp.Evaluate[bool](fmt.Sprintf("location.pathname === %q && document.readyState === 'complete'", path))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := check(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("wait for %s: still not there after 20s (last error: %v)", path, err)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// With returns the browser reporting to t, for use in subtests.
func (b *Browser) With(t testing.TB) *Browser {
	c := *b
	c.t = t
	return &c
}
