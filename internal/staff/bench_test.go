package staff_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
)

// newRoster fills a roster of size people; other is a second store on the
// same database, standing for another replica.
func newRoster(b *testing.B, size int) (s, other *staff.Store, scope access.Scope) {
	b.Helper()
	ctx := context.Background()
	db := storetest.Database(b)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	s = staff.NewStore(db, trail)
	if err := s.EnsureIndexes(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	scope = access.PartnerScope("bench")
	members := make([]staff.Member, size)
	for i := range members {
		members[i] = staff.Member{PartnerID: "bench", StaffNumber: fmt.Sprintf("B-%06d", i), Name: fmt.Sprintf("Person %d", i),
			RoleTitle: "Support worker", Category: staff.Categories[i%3], Sites: []string{fmt.Sprintf("Site %d", i%7)},
			StartDate: time.Date(2024, 1, 1+i%28, 0, 0, 0, 0, time.UTC), Active: i%10 != 0}
	}
	if err := s.InsertMany(ctx, scope, "bench", members); err != nil {
		b.Fatal(err)
	}
	return s, staff.NewStore(db, trail), scope
}

// BenchmarkRosterList is one page of the roster list at two roster sizes:
// "cold" is the first list a process shows after the roster changed
// elsewhere (it reads the whole roster); the others are the lists that
// follow, unfiltered, deep, searched and filtered. Run with
// go test -run '^$' -bench RosterList -benchtime 10x ./internal/staff/
func BenchmarkRosterList(b *testing.B) {
	for _, size := range []int{5_000, 50_000} {
		s, other, scope := newRoster(b, size)
		b.Run(fmt.Sprintf("%d/cold", size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				// A write from another replica leaves this one's copy stale.
				if err := other.InsertMany(context.Background(), scope, "bench", []staff.Member{{PartnerID: "bench",
					StaffNumber: fmt.Sprintf("C-%d", time.Now().UnixNano()), Name: "Cold Start", Category: staff.NotCustomerFacing, Active: true}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := s.List(context.Background(), scope, "bench", staff.Query{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, c := range []struct {
			name string
			q    staff.Query
		}{
			{"first-page", staff.Query{}},
			{"middle-page", staff.Query{Page: size / 100}},
			{"search", staff.Query{Search: "Person 4321"}},
			{"site", staff.Query{Site: "Site 3", Category: staff.RegulatedChildren}},
		} {
			b.Run(fmt.Sprintf("%d/%s", size, c.name), func(b *testing.B) {
				if _, err := s.List(context.Background(), scope, "bench", c.q); err != nil { // warm, as after any earlier list
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := s.List(context.Background(), scope, "bench", c.q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkImport10000 checks and applies a 10,000-row file into an empty
// roster, then re-imports it unchanged. Run with
// go test -run '^$' -bench Import10000 -benchtime 3x ./internal/staff/
func BenchmarkImport10000(b *testing.B) {
	var file strings.Builder
	file.WriteString("staff_number,name,role_title,category,sites,start_date\r\n")
	for i := range 10_000 {
		fmt.Fprintf(&file, "IMP-%05d,Person %d,Support worker,customer_facing_adults,Leeds;Hull,2024-02-%02d\r\n", i, i, 1+i%28)
	}
	raw := []byte(file.String())
	parsed, err := rostercsv.Parse(strings.NewReader(file.String()), rostercsv.Options{})
	if err != nil || len(parsed.Rows) != 10_000 {
		b.Fatalf("parse: %v, %d rows", err, len(parsed.Rows))
	}
	event := audit.Event{Actor: audit.Actor{Kind: "person", Subject: "bench"}, Action: "staff.update", Outcome: audit.Success}
	run := func(b *testing.B, s *staff.Store, scope access.Scope) {
		ctx := context.Background()
		im, err := s.CheckImport(ctx, scope, "bench", "bench.csv", "bench", raw, parsed)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.StartImport(ctx, scope, im, false); err != nil {
			b.Fatal(err)
		}
		if err := s.ApplyImport(ctx, scope, im, event); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s, _, scope := newRoster(b, 0)
			b.StartTimer()
			run(b, s, scope)
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		s, _, scope := newRoster(b, 0)
		run(b, s, scope)
		for b.Loop() {
			run(b, s, scope)
		}
	})
}
