package report_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
)

// BenchmarkReports generates governance reports as the worker does (figures
// gathered from the store, then the PDF rendered) on a portfolio of ten
// partners with 5,000 staff each (50,000 in all, about 450,000 records and
// 10,000 incidents): one contract's report, and the portfolio report that
// reads every roster. peak-MB is the most heap in use above where the
// report started, sampled every millisecond; it includes the embedded
// store's own allocations, which run in this process. PORTAL_TEST_MONGODB_URI
// runs it against another server (FerretDB on PostgreSQL, real MongoDB). Run with
// go test -run '^$' -bench Reports -benchtime 5x -benchmem -timeout 60m ./internal/report/
// (PORTAL_BENCH_STAFF=5000 for one tenth of the portfolio).
func BenchmarkReports(b *testing.B) {
	ctx := context.Background()
	size := seed.Size{Partners: 10, Staff: 50_000}
	if n, err := strconv.Atoi(os.Getenv("PORTAL_BENCH_STAFF")); err == nil {
		size.Staff = n
	}
	db := storetest.Database(b)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	if err := seed.Generate(ctx, db, trail, slog.New(slog.NewTextHandler(io.Discard, nil)), size); err != nil {
		b.Fatal(err)
	}
	contracts, err := partner.NewStore(db).Contracts(ctx, access.Everything())
	if err != nil {
		b.Fatal(err)
	}
	contract := contracts[0]
	roster := 0
	if err := staff.NewStore(db, trail).Each(ctx, access.Everything(), contract.PartnerID, func(staff.Member) error { roster++; return nil }); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d partners, %d staff in %v; %s's partner has %d staff", size.Partners, size.Staff, time.Since(started).Round(time.Second), contract.ID, roster)

	builder := report.NewBuilder(db, trail, nil, nil, nil)
	today := calendar.Today(time.Now())
	period, err := report.NewPeriod(calendar.AddMonths(today, -3), today)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		req  report.Request
	}{
		{"contract " + strconv.Itoa(roster) + " staff", report.Request{Kind: report.ContractReport, SubjectID: contract.ID, Period: period, Edition: report.DepartmentEdition}},
		{"portfolio " + strconv.Itoa(size.Staff) + " staff", report.Request{Kind: report.PortfolioReport, Period: period, Edition: report.DepartmentEdition}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var peak float64
			var size int
			for b.Loop() {
				stop := watchHeap()
				r, err := builder.Build(ctx, report.NewID(time.Now()), c.req, "Benchmark", nil)
				if err != nil {
					b.Fatal(err)
				}
				pdf, err := report.RenderPDF(r)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, stop())
				size = len(pdf)
			}
			b.ReportMetric(peak, "peak-MB")
			b.ReportMetric(float64(size)/1024, "PDF-KiB")
		})
	}
}

// watchHeap samples the heap in use until the returned func is called,
// which returns the most seen above the starting level, in MB.
func watchHeap() func() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var top atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base && m.HeapAlloc-base > top.Load() {
					top.Store(m.HeapAlloc - base)
				}
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(top.Load()) / (1 << 20)
	}
}
