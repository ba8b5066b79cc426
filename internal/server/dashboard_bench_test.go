package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/seed"
)

// BenchmarkDashboard is the safeguarding lead's portfolio dashboard (every
// contract rated, with why and the trend) and its CSV export through the
// whole portal, at portfolio scale: 20 partners, 50,000 staff with about
// 450,000 records, 10,000 incidents. Figures are counted once in the
// background after seeding (outside the timer); each view then reads the
// contracts, the month's counted figures, open actions and latest
// inspections, and never a roster or a record book. Run with
// go test -run '^$' -bench Dashboard -benchtime 50x -benchmem -timeout 60m ./internal/server/
// (PORTAL_BENCH_STAFF=2000 for the same portfolio with fewer staff).
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	size := seed.Size{Partners: 20, Staff: 50_000}
	// A smaller roster shows whether a view's cost grows with the staff.
	if n, err := strconv.Atoi(os.Getenv("PORTAL_BENCH_STAFF")); err == nil {
		size.Staff = n
	}
	start := time.Now()
	p := portaltest.StartWith(b, portaltest.Options{Env: map[string]string{"PORTAL_SEED_DEMO_DATA": "false", "PORTAL_LOG_LEVEL": "warn"}})
	if err := seed.Generate(ctx, p.App.Store.DB, p.App.Trail, slog.New(slog.NewTextHandler(io.Discard, nil)), size); err != nil {
		b.Fatal(err)
	}
	if err := p.App.Server.RecountFigures(ctx); err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(start)
	c := portaltest.Client(b)
	portaltest.SignIn(b, c, p.URL, "lead@department.example")
	get := func(b *testing.B, path, want string) int {
		resp, err := c.Get(p.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		body := portaltest.ReadAll(b, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			b.Fatalf("GET %s: %d\n%.2000s", path, resp.StatusCode, body)
		}
		return len(body)
	}
	settle := time.Now()
	for strings.Contains(func() string {
		resp, err := c.Get(p.URL + "/portfolio")
		if err != nil {
			b.Fatal(err)
		}
		return portaltest.ReadAll(b, resp)
	}(), `id="settling"`) {
		time.Sleep(500 * time.Millisecond)
	}
	b.Logf("setup: seeded %d partners, %d staff in %v; figures counted in %v", size.Partners, size.Staff,
		seeded.Round(time.Millisecond), time.Since(settle).Round(time.Millisecond))
	for _, path := range []string{"/portfolio", "/portfolio?sort=compliance&order=desc&rag=red", "/dashboard.csv"} {
		want := `data-contract="CS-ACC-2025-014"`
		if strings.HasSuffix(path, ".csv") {
			want = "CS-ACC-2025-014"
		}
		if strings.Contains(path, "rag=red") {
			want = "<h1 class=\"govuk-heading-l\">Portfolio</h1>"
		}
		b.Run(fmt.Sprintf("GET %s", path), func(b *testing.B) {
			var n int
			for b.Loop() {
				n = get(b, path, want)
			}
			b.ReportMetric(float64(n)/1024, "KiB/page")
		})
	}
}
