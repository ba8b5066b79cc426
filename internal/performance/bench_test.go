package performance_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkDetect measures detection over a seeded portfolio of 20
// partners and 50,000 staff with records, assessments and a year of
// incidents: the first run, which records the month's failures, and then
// the hourly run that finds nothing new (each iteration), plus a month's
// scores for every contract.
//
// go test -run '^$' -bench Detect -benchtime 1x -timeout 60m ./internal/performance/
func BenchmarkDetect(b *testing.B) {
	ctx := context.Background()
	start := time.Now()
	db := storetest.Database(b)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	if err := seed.Generate(ctx, db, trail, slog.New(slog.NewTextHandler(io.Discard, nil)), seed.Size{Partners: 20, Staff: 50_000}); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: seeded in %v", time.Since(start).Round(time.Second))
	partners := partner.NewStore(db).WithTrail(trail)
	failures := performance.NewStore(db, trail, partners, nil)
	if err := failures.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	d := &performance.Detector{Failures: failures, Partners: partners, Incidents: incident.NewStore(db, trail),
		Oversight: oversight.NewStore(db, trail, partners), Staff: staff.NewStore(db, trail)}
	now := time.Now()
	start = time.Now()
	n, err := d.Detect(ctx, now)
	if err != nil {
		b.Fatal(err)
	}
	if err := trail.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("first run: recorded %d failures in %v", n, time.Since(start).Round(time.Millisecond))
	var byIndicator []bson.M
	cur, err := db.Collection("performance_failures").Aggregate(ctx, bson.A{bson.D{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: "$indicator"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}})
	if err == nil && cur.All(ctx, &byIndicator) == nil {
		b.Logf("failures by indicator: %v", byIndicator)
	}
	b.ResetTimer()
	for range b.N {
		if n, err := d.Detect(ctx, now); err != nil || n != 0 {
			b.Fatalf("an hourly run recorded %d: %v", n, err)
		}
	}
	b.StopTimer()
	start = time.Now()
	scores, err := failures.Scores(ctx, access.Everything(), now)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("a month's scores for %d contracts in %v", len(scores), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if _, err := failures.QuarterScores(ctx, access.Everything(), now); err != nil {
		b.Fatal(err)
	}
	b.Logf("a quarter's scores in %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	list, total, err := failures.List(ctx, access.Everything(), performance.Filter{ContractID: "CS-ACC-2025-014", Month: performance.MonthOf(now)}, 1, 50)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("the first %d of a contract's %d failures this month in %v", len(list), total, time.Since(start).Round(time.Millisecond))
}
