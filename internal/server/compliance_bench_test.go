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

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/staff"
)

// BenchmarkCompliancePage is the partner compliance page (figures per
// contract and requirement, who is expiring within 90 days, whose evidence
// needs attention) through the whole portal, for Northgate with 2,500 staff
// (one of 20 partners sharing 50,000 staff and about 450,000 records) and
// with 5,000 staff (one of 2). The portal starts empty and is seeded with
// seed.Generate, then a compliance officer and the contract manager sign in
// through the development provider. "warm" views find this process's roster
// copy current, as views following any other do; "cold" views follow a
// change to the roster made elsewhere (another replica, or a copy past its
// ten minutes), so they read the whole roster again. Seeding is outside the
// timer. Run with
// go test -run '^$' -bench CompliancePage -benchtime 20x -benchmem -timeout 60m ./internal/server/
func BenchmarkCompliancePage(b *testing.B) {
	ctx := context.Background()
	for _, size := range []seed.Size{{Partners: 20, Staff: 50_000}, {Partners: 2, Staff: 10_000}} {
		b.Run(fmt.Sprintf("%d-staff", size.Staff/size.Partners), func(b *testing.B) {
			start := time.Now()
			p := portaltest.StartWith(b, portaltest.Options{Env: map[string]string{"PORTAL_SEED_DEMO_DATA": "false", "PORTAL_LOG_LEVEL": "warn"}})
			if err := seed.Generate(ctx, p.App.Store.DB, p.App.Trail, slog.New(slog.NewTextHandler(io.Discard, nil)), size); err != nil {
				b.Fatal(err)
			}
			b.Logf("setup: portal started and seeded with %d partners, %d staff in %v", size.Partners, size.Staff, time.Since(start).Round(time.Millisecond))
			page := p.URL + "/partners/northgate/compliance"
			view := func(b *testing.B, c *http.Client) int {
				resp, err := c.Get(page)
				if err != nil {
					b.Fatal(err)
				}
				body := portaltest.ReadAll(b, resp)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "meet every requirement") {
					b.Fatalf("GET %s: %d\n%s", page, resp.StatusCode, body)
				}
				return len(body)
			}
			run := func(b *testing.B, c *http.Client, before func()) {
				var size int
				for b.Loop() {
					if before != nil {
						b.StopTimer()
						before()
						b.StartTimer()
					}
					size = view(b, c)
				}
				b.ReportMetric(float64(size)/1024, "KiB/page")
			}
			users := map[string]*http.Client{}
			for _, user := range []string{"officer@northgate.example", "manager@department.example"} {
				users[user] = portaltest.Client(b)
				portaltest.SignIn(b, users[user], p.URL, user)
				view(b, users[user])
			}
			b.Run("officer/warm", func(b *testing.B) { run(b, users["officer@northgate.example"], nil) })
			b.Run("manager/warm", func(b *testing.B) { run(b, users["manager@department.example"], nil) })
			// Another store stands for another replica: its write leaves this
			// process's copy of the roster stale.
			other := staff.NewStore(p.App.Store.DB, p.App.Trail)
			scope := access.PartnerScope("northgate")
			members, err := other.Members(ctx, scope, "northgate")
			if err != nil {
				b.Fatal(err)
			}
			event := audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "bench"}, Action: "staff.update", Outcome: audit.Success}
			b.Run("officer/cold", func(b *testing.B) {
				run(b, users["officer@northgate.example"], func() {
					if err := other.Update(ctx, scope, members[0], event); err != nil {
						b.Fatal(err)
					}
				})
			})
		})
	}
}
