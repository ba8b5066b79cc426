package staff_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
)

var editor = audit.Event{Actor: audit.Actor{Kind: "person", Subject: "officer"}, Action: "staff.update", Outcome: audit.Success}

func staffNumbers(p staff.Page) []string {
	var out []string
	for _, m := range p.Members {
		out = append(out, m.StaffNumber)
	}
	return out
}

// Two stores on one database stand for two portal replicas: each must see
// the other's writes on its next read, and its own at once.
func TestListsFollowWritesFromEveryReplica(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	first, second := staff.NewStore(db, trail), staff.NewStore(db, trail)
	if err := first.EnsureIndexes(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	scope := access.PartnerScope("north")
	start := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	var batch []staff.Member
	for i := range 5 {
		batch = append(batch, staff.Member{PartnerID: "north", StaffNumber: fmt.Sprintf("N-%d", 5-i), Name: fmt.Sprintf("Worker %d", i),
			RoleTitle: "Support worker", Category: staff.CustomerFacingAdults, Sites: []string{"Leeds"}, StartDate: start, Active: true})
	}
	if err := first.InsertMany(ctx, scope, "north", batch); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*staff.Store{first, second} {
		page, err := s.List(ctx, scope, "north", staff.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(staffNumbers(page)); got != "[N-1 N-2 N-3 N-4 N-5]" || page.Total != 5 {
			t.Fatalf("list = %s (total %d), want five by staff number", got, page.Total)
		}
	}

	added, err := second.Add(ctx, scope, staff.Member{PartnerID: "north", StaffNumber: "N-0", Name: "Zara Quinn",
		RoleTitle: "Interpreter", Category: staff.RegulatedChildren, Sites: []string{"Hull"}, StartDate: start}, editor)
	if err != nil {
		t.Fatal(err)
	}
	left := start.AddDate(1, 0, 0)
	changed := batch[4]
	changed.LeavingDate = &left
	if err := first.Update(ctx, scope, changed, editor); err != nil {
		t.Fatal(err)
	}

	for i, s := range []*staff.Store{first, second} {
		active, err := s.List(ctx, scope, "north", staff.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(staffNumbers(active)); got != "[N-0 N-2 N-3 N-4 N-5]" {
			t.Errorf("replica %d: active = %s, want N-0 added and N-1 gone", i, got)
		}
		leavers, err := s.List(ctx, scope, "north", staff.Query{Status: staff.StatusLeft})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(staffNumbers(leavers)); got != "[N-1]" {
			t.Errorf("replica %d: leavers = %s, want [N-1]", i, got)
		}
		found, err := s.List(ctx, scope, "north", staff.Query{Search: "zara", Site: "Hull", Category: staff.RegulatedChildren})
		if err != nil {
			t.Fatal(err)
		}
		if len(found.Members) != 1 || found.Members[0].ID != added.ID {
			t.Errorf("replica %d: search = %v, want the new interpreter", i, staffNumbers(found))
		}
		sites, err := s.Sites(ctx, scope, "north")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sites) != "[Hull Leeds]" {
			t.Errorf("replica %d: sites = %v", i, sites)
		}
		if n, err := s.CountActive(ctx, scope, "north"); err != nil || n != 5 {
			t.Errorf("replica %d: active count = %d, %v; want 5", i, n, err)
		}
	}
}

// A leaving date in the future keeps someone on the active list until it comes.
func TestLeaversDropOutOnTheirLeavingDate(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	s := staff.NewStore(db, trail)
	scope := access.PartnerScope("south")
	soon := time.Now().Add(time.Hour)
	m, err := s.Add(ctx, scope, staff.Member{PartnerID: "south", StaffNumber: "S-1", Name: "Leaving Soon", RoleTitle: "Cook",
		Category: staff.NotCustomerFacing, StartDate: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), LeavingDate: &soon}, editor)
	if err != nil {
		t.Fatal(err)
	}
	if !m.ActiveOn(time.Now()) || m.ActiveOn(soon) || m.ActiveOn(soon.Add(time.Minute)) {
		t.Error("ActiveOn should hold until the leaving date and not from it")
	}
	page, err := s.List(ctx, scope, "south", staff.Query{})
	if err != nil || page.Total != 1 {
		t.Fatalf("active list = %v, %v; want the member until they leave", staffNumbers(page), err)
	}
}

// Another partner's roster is out of reach whatever the caller asks for.
func TestListsStayWithinScope(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t)
	s := staff.NewStore(db, audit.New(db))
	if err := s.InsertMany(ctx, access.PartnerScope("east"), "east", []staff.Member{{PartnerID: "east", StaffNumber: "E-1", Name: "East One",
		RoleTitle: "Guard", Category: staff.CustomerFacingAdults, StartDate: time.Now(), Active: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, access.PartnerScope("west"), "east", staff.Query{}); err != staff.ErrNotFound {
		t.Errorf("west listing east: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ByStaffNumber(ctx, access.PartnerScope("west"), "east"); err != staff.ErrNotFound {
		t.Errorf("west reading east for an import: err = %v, want ErrNotFound", err)
	}
	if n, _ := s.CountActive(ctx, access.PartnerScope("west"), "east"); n != 0 {
		t.Errorf("west counting east: %d", n)
	}
}
