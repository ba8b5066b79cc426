// Package seed fills an empty store with the demo partners, contracts and staff
// that development and the tests sign in to. The data is deterministic: the same
// every run, so tests and screenshots can rely on it.
package seed

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// DemoStaffPerPartner is the roster size of each demo partner.
const DemoStaffPerPartner = 36

// ManagerSubject is the dev provider's subject for manager@department.example,
// assigned to Northgate's contract only, so the demo shows a contract manager's
// reach ending at their own contracts.
const ManagerSubject = "dev-manager@department.example"

// OtherManagerSubject manages Brightwell's contract; no demo user signs in as them.
const OtherManagerSubject = "dev-other-manager@department.example"

// Demo seeds the demo data unless partners already exist, so a restart never duplicates it.
func Demo(ctx context.Context, db *mongo.Database, log *slog.Logger) error {
	partners := partner.NewStore(db)
	n, err := partners.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	ps := []partner.Partner{
		{ID: "northgate", Name: "Northgate Services Ltd", CompaniesHouseNumber: "08123456",
			Contacts: []partner.Contact{{Name: "Olivia Hart", Role: "Compliance officer", Email: "officer@northgate.example"}}},
		{ID: "brightwell", Name: "Brightwell Care Ltd", CompaniesHouseNumber: "09876543",
			Contacts: []partner.Contact{{Name: "Ben Okafor", Role: "Compliance officer", Email: "officer@brightwell.example"}}},
	}
	cs := []partner.Contract{
		{ID: "CS-ACC-2025-014", PartnerID: "northgate", Title: "Asylum accommodation, North East and Yorkshire",
			ServiceLine: partner.AsylumAccommodation, StartDate: date(2025, 4, 1), EndDate: date(2030, 3, 31),
			Status: partner.Active, Managers: []string{ManagerSubject}},
		{ID: "CS-INT-2025-031", PartnerID: "brightwell", Title: "Asylum interviews, Midlands",
			ServiceLine: partner.AsylumInterviews, StartDate: date(2025, 9, 1), EndDate: date(2028, 8, 31),
			Status: partner.Active, Managers: []string{OtherManagerSubject}},
	}
	if err := partners.Insert(ctx, ps, cs); err != nil {
		return fmt.Errorf("seed partners: %w", err)
	}
	roster := staff.NewStore(db)
	sites := map[string][]string{
		"northgate":  {"Leeds Initial Accommodation", "Wakefield Dispersal", "Hull Family Unit"},
		"brightwell": {"Solihull Interview Centre", "Nottingham Interview Centre"},
	}
	for pi, p := range ps {
		members := make([]staff.Member, 0, DemoStaffPerPartner)
		for i := range DemoStaffPerPartner {
			m := demoMember(p.ID, pi, i, sites[p.ID])
			members = append(members, m)
		}
		if p.ID == "northgate" {
			// The dev provider's staff user sees their own record.
			members[0].Name, members[0].Email = "Sam Patel", "staff@northgate.example"
		}
		if err := roster.InsertMany(ctx, p.ID, members); err != nil {
			return fmt.Errorf("seed staff of %s: %w", p.ID, err)
		}
	}
	log.Info("seeded demo data", "partners", len(ps), "contracts", len(cs), "staff_per_partner", DemoStaffPerPartner)
	return nil
}

var (
	givenNames  = []string{"Aisha", "Ben", "Chloe", "Daniel", "Efua", "Farhan", "Grace", "Hamza", "Isla", "Jamal", "Katie", "Liam", "Mariam", "Noah", "Oksana", "Priya", "Qasim", "Rosie", "Samuel", "Tariq", "Uma", "Victor", "Wiktoria", "Yusuf", "Zara"}
	familyNames = []string{"Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Ghosh", "Hughes", "Iqbal", "Jones", "Khan", "Lewis", "Mensah", "Nowak", "O'Brien", "Patel", "Quinn", "Robinson", "Singh", "Taylor", "Usman", "Walker", "Young"}
	roleTitles  = map[string][]string{
		staff.CustomerFacingAdults: {"Housing officer", "Welfare officer", "Interpreter coordinator", "Reception officer"},
		staff.RegulatedChildren:    {"Family support worker", "Children's welfare officer"},
		staff.NotCustomerFacing:    {"Maintenance technician", "Finance assistant"},
	}
)

func demoMember(partnerID string, partnerIndex, i int, sites []string) staff.Member {
	category := staff.CustomerFacingAdults
	switch {
	case i%6 == 0:
		category = staff.RegulatedChildren
	case i%5 == 0:
		category = staff.NotCustomerFacing
	}
	titles := roleTitles[category]
	given := givenNames[(i*7+partnerIndex*3)%len(givenNames)]
	family := familyNames[(i*5+partnerIndex*11)%len(familyNames)]
	start := time.Date(2019+i%6, time.Month(1+i%12), 1+i%27, 0, 0, 0, 0, time.UTC)
	m := staff.Member{
		PartnerID:   partnerID,
		StaffNumber: fmt.Sprintf("%s-%05d", map[string]string{"northgate": "NG", "brightwell": "BW"}[partnerID], 1001+i),
		Name:        given + " " + family,
		RoleTitle:   titles[i%len(titles)],
		Category:    category,
		Sites:       []string{sites[i%len(sites)]},
		StartDate:   start,
		Active:      true,
	}
	if i%17 == 16 {
		left := time.Date(2026, time.Month(1+i%9), 15, 0, 0, 0, 0, time.UTC)
		m.LeavingDate, m.Active = &left, false
	}
	return m
}
