package records_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/seed"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// portfolio is a store seeded by seed.Generate: partners, their staff, about
// nine training and vetting records each, and stored assessments.
type portfolio struct {
	db      *mongo.Database
	trail   *audit.Trail
	records *records.Store
	staff   *staff.Store
	upkeep  *records.Upkeep
	size    seed.Size
	changes int // requirement changes made so far
}

// seedPortfolio seeds a fresh store, once per benchmark, outside the timer,
// and logs how long that took.
func seedPortfolio(b *testing.B, size seed.Size) *portfolio {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	db := storetest.Database(b)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	if err := seed.Generate(ctx, db, trail, slog.New(slog.NewTextHandler(io.Discard, nil)), size); err != nil {
		b.Fatal(err)
	}
	rs, roster := records.NewStore(db, trail), staff.NewStore(db, trail)
	p := &portfolio{db: db, trail: trail, records: rs, staff: roster, size: size, upkeep: &records.Upkeep{
		Records: rs, Staff: roster, Partners: partner.NewStore(db), Catalogue: requirements.Default(),
	}}
	b.Logf("setup: seeded %d partners, %d staff with records and assessments in %v", size.Partners, size.Staff, time.Since(start).Round(time.Millisecond))
	return p
}

// people returns the first n people on a partner's roster.
func (p *portfolio) people(b *testing.B, partnerID string, n int) []staff.Member {
	b.Helper()
	members, err := p.staff.Members(context.Background(), access.PartnerScope(partnerID), partnerID)
	if err != nil || len(members) < n {
		b.Fatalf("roster of %s: %d people, %v", partnerID, len(members), err)
	}
	return members[:n]
}

// requirementsChange returns the catalogue to evaluate with next, switching
// between the built-in one and one whose default set renews suicide and
// self-harm awareness after 13 months rather than 12: a change to the
// requirements file that touches everyone's basis, so every assessment is
// stored again, as after any real change.
func (p *portfolio) requirementsChange() *requirements.Catalogue {
	p.changes++
	c := requirements.Default()
	if p.changes%2 == 1 {
		c.Default.RefreshMonths = map[string]int{"suicide_self_harm": 13}
	}
	return c
}

// BenchmarkReassessAll evaluates everyone from scratch, as portal rebuild
// does: 50,000 staff with about 450,000 records across 20 partners
// (ReassessAll), and one partner of 5,000 on its own (ReassessPartner).
// "unchanged" is a rebuild that finds nothing to change; "changed" follows a
// change to the requirements that changes everyone's assessment, so all are
// stored again; "due" is the hourly upkeep's pass when nothing has fallen
// due, mostly reading the rosters. Seeding takes a couple of minutes per portfolio, outside the timer.
// On the embedded store "changed" takes most of an hour for the 20 partners
// (each assessment stored costs a scan of the partner's roster); pick
// sub-benchmarks with -bench, e.g. 'ReassessAll/1x5000'. Run with
// go test -run '^$' -bench ReassessAll -benchtime 1x -benchmem -timeout 120m ./internal/records/
func BenchmarkReassessAll(b *testing.B) {
	ctx := context.Background()
	everyone := func(b *testing.B, p *portfolio, reassess func() (int, error), want int) {
		b.Helper()
		run := func(b *testing.B, change bool) {
			for b.Loop() {
				if change {
					p.upkeep.Catalogue = p.requirementsChange()
				}
				if n, err := reassess(); err != nil || n != want {
					b.Fatalf("evaluated %d people again (%v), want %d", n, err, want)
				}
			}
		}
		b.Run("everyone/unchanged", func(b *testing.B) { run(b, false) })
		b.Run("everyone/changed", func(b *testing.B) { run(b, true) })
	}
	b.Run("20x2500", func(b *testing.B) {
		p := seedPortfolio(b, seed.Size{Partners: 20, Staff: 50_000})
		everyone(b, p, func() (int, error) { return p.upkeep.ReassessAll(ctx, true) }, p.size.Staff)
		// The hourly pass finds every roster copy expired (they last ten
		// minutes), so it reads all 50,000 people again: "cold". "warm" is
		// the same pass with the copies current.
		b.Run("due/cold", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				u := *p.upkeep
				u.Staff = staff.NewStore(p.db, p.trail)
				b.StartTimer()
				if _, err := u.ReassessAll(ctx, false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("due/warm", func(b *testing.B) {
			if _, err := p.upkeep.ReassessAll(ctx, false); err != nil { // reads the rosters
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := p.upkeep.ReassessAll(ctx, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("1x5000", func(b *testing.B) {
		p := seedPortfolio(b, seed.Size{Partners: 2, Staff: 10_000})
		everyone(b, p, func() (int, error) { return p.upkeep.ReassessPartner(ctx, "northgate", true) }, 5_000)
	})
}

// BenchmarkReassessOne is one write's re-evaluation: Reassess of one person
// (read their roster entry and record book, evaluate, store the assessment
// if it changed). "unchanged" finds nothing new; "after-write" follows a
// course recorded for them (recorded outside the timer), which changes their
// assessment; "add-training+reassess" times both, as the record form does.
// The 20x2500 portfolio is 50,000 staff and about 450,000 records; the
// 2x5000 one has partners of 5,000: the embedded store scans a partner's
// whole collection for every write by _id, so one write's cost follows the
// size of the person's partner. Run with
// go test -run '^$' -bench ReassessOne -benchtime 50x -benchmem -timeout 60m ./internal/records/
func BenchmarkReassessOne(b *testing.B) {
	for _, size := range []seed.Size{{Partners: 20, Staff: 50_000}, {Partners: 2, Staff: 10_000}} {
		b.Run(fmt.Sprintf("%dx%d", size.Partners, size.Staff/size.Partners), func(b *testing.B) {
			ctx := context.Background()
			p := seedPortfolio(b, size)
			people := p.people(b, "northgate", 100)
			scope := access.PartnerScope("northgate")
			event := audit.Event{Actor: audit.Actor{Kind: "person", Subject: "bench"}, Action: "training.create", Outcome: audit.Success}
			i := 0
			write := func(b *testing.B) bson.ObjectID {
				id := people[i%len(people)].ID
				i++
				if _, err := p.records.AddTraining(ctx, scope, "northgate", id, records.Training{Module: "face_behind_the_case",
					Completed: time.Now().UTC().Truncate(24 * time.Hour), Provider: "Department e-learning", RecordedBy: "bench"}, event); err != nil {
					b.Fatal(err)
				}
				return id
			}
			reassess := func(b *testing.B, id bson.ObjectID) {
				if err := p.upkeep.Reassess(ctx, "northgate", id); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("reassess/unchanged", func(b *testing.B) {
				j := 0
				for b.Loop() {
					reassess(b, people[j%len(people)].ID)
					j++
				}
			})
			b.Run("reassess/after-write", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					id := write(b)
					b.StartTimer()
					reassess(b, id)
				}
			})
			b.Run("add-training+reassess", func(b *testing.B) {
				for b.Loop() {
					reassess(b, write(b))
				}
			})
		})
	}
}
