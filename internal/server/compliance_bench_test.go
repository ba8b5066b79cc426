package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/seed"
)

// BenchmarkCompliancePage is the partner compliance page (figures per
// contract and requirement, who is expiring within 90 days, whose evidence
// needs attention) through the whole portal, for Northgate with 2,500 staff
// (one of 20 partners sharing 50,000 staff and about 450,000 records) and
// with 5,000 staff (one of 2). The portal starts empty and is seeded with
// seed.Generate, then a compliance officer and the contract manager sign in
// through the development provider. Each view after the first finds the
// roster copy warm, as views following any other do; the first, which reads
// the whole roster, is logged. Seeding is outside the timer. Run with
// go test -run '^$' -bench CompliancePage -benchtime 20x -benchmem -timeout 60m ./internal/server/
func BenchmarkCompliancePage(b *testing.B) {
	for _, size := range []seed.Size{{Partners: 20, Staff: 50_000}, {Partners: 2, Staff: 10_000}} {
		b.Run(fmt.Sprintf("%d-staff", size.Staff/size.Partners), func(b *testing.B) {
			start := time.Now()
			p := portaltest.StartWith(b, portaltest.Options{Env: map[string]string{"PORTAL_SEED_DEMO_DATA": "false", "PORTAL_LOG_LEVEL": "warn"}})
			if err := seed.Generate(context.Background(), p.App.Store.DB, p.App.Trail, slog.New(slog.NewTextHandler(io.Discard, nil)), size); err != nil {
				b.Fatal(err)
			}
			b.Logf("setup: portal started and seeded with %d partners, %d staff in %v", size.Partners, size.Staff, time.Since(start).Round(time.Millisecond))
			for _, user := range []string{"officer@northgate.example", "manager@department.example"} {
				c := portaltest.Client(b)
				portaltest.SignIn(b, c, p.URL, user)
				page := p.URL + "/partners/northgate/compliance"
				view := func() string {
					resp, err := c.Get(page)
					if err != nil {
						b.Fatal(err)
					}
					body := portaltest.ReadAll(b, resp)
					if resp.StatusCode != http.StatusOK || !strings.Contains(body, "meet every requirement") {
						b.Fatalf("GET %s as %s: %d\n%s", page, user, resp.StatusCode, body)
					}
					return body
				}
				first := time.Now()
				body := view()
				b.Logf("%s: first view %v, %d KiB", user, time.Since(first).Round(time.Millisecond), len(body)/1024)
				b.Run(strings.SplitN(user, "@", 2)[0], func(b *testing.B) {
					var size int
					for b.Loop() {
						size = len(view())
					}
					b.ReportMetric(float64(size)/1024, "KiB/page")
				})
			}
		})
	}
}
