// Package seed fills an empty store with the demo partners, contracts and staff
// that development and the tests sign in to. The data is deterministic: the same
// every run, so tests and screenshots can rely on it.
package seed

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"go.mongodb.org/mongo-driver/v2/bson"
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

// Size is how big a dataset to generate. The demo partners always come first;
// beyond two partners the rest are generated, and Staff is spread evenly.
type Size struct {
	Partners int
	Staff    int
}

// DemoSize is the default: the two demo partners with a few dozen staff each.
var DemoSize = Size{Partners: 2, Staff: 2 * DemoStaffPerPartner}

// Demo seeds the demo data unless partners already exist, so a restart never
// duplicates it. The demo's people have no records yet: the tests and
// walkthroughs that sign in to it record their own, and are assessed by the
// portal's upkeep when it starts. Each partner has a few incidents from the
// past year, none in the last two days, a completed inspection with the
// actions raised from it, and a planned one.
func Demo(ctx context.Context, db *mongo.Database, trail *audit.Trail, log *slog.Logger) error {
	return GenerateWith(ctx, db, trail, log, DemoSize, Options{NoRecords: true})
}

// Generate seeds a deterministic dataset of the given size into an empty
// store: the same size always gives the same partners, contracts and people,
// so measurements at portfolio scale can be repeated. Everyone gets a record
// book (about nine training and vetting records each, see books.go) and a
// stored assessment, evaluated against the built-in requirements, so pages
// show figures at once (a portal configured with another requirements file
// needs a portal rebuild after seeding, as after any change to that file).
func Generate(ctx context.Context, db *mongo.Database, trail *audit.Trail, log *slog.Logger, size Size) error {
	return GenerateWith(ctx, db, trail, log, size, Options{})
}

// Options adjust what GenerateWith seeds besides partners, contracts and people.
type Options struct {
	// NoRecords leaves everyone without records (and unassessed) and the
	// partners without incidents, as Demo does.
	NoRecords bool
	// NoAssessments seeds the records but leaves every assessment to be made
	// later, by portal rebuild, the hourly upkeep or a page that needs it.
	NoAssessments bool
}

// GenerateWith is Generate with options.
func GenerateWith(ctx context.Context, db *mongo.Database, trail *audit.Trail, log *slog.Logger, size Size, opts Options) error {
	if size.Partners < 2 || size.Staff < size.Partners {
		return fmt.Errorf("seed size: need at least 2 partners and a member of staff each (got %d partners, %d staff)", size.Partners, size.Staff)
	}
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
	sites := map[string][]string{
		"northgate":  {"Leeds Initial Accommodation", "Wakefield Dispersal", "Hull Family Unit"},
		"brightwell": {"Solihull Interview Centre", "Nottingham Interview Centre"},
	}
	prefixes := map[string]string{"northgate": "NG", "brightwell": "BW"}
	for i := 3; i <= size.Partners; i++ {
		p, c, partnerSites := generatedPartner(i, date)
		ps, cs = append(ps, p), append(cs, c)
		sites[p.ID], prefixes[p.ID] = partnerSites, fmt.Sprintf("P%02d", i)
	}
	if err := partners.Insert(ctx, ps, cs); err != nil {
		return fmt.Errorf("seed partners: %w", err)
	}
	roster := staff.NewStore(db, trail)
	started := time.Now()
	books := records.NewStore(db, trail)
	catalogue := requirements.Default()
	upkeep := &records.Upkeep{Records: books, Staff: roster, Partners: partners, Catalogue: catalogue}
	var recordCount, waitingCount, incidentSeq int
	incidents := incident.NewStore(db, trail)
	rules, cal := incident.DefaultRules(), deadline.Default()
	inspectionsAndActions := oversight.NewStore(db, trail, partners)
	for pi, p := range ps {
		if err := roster.EnsureIndexes(ctx, p.ID); err != nil {
			return err
		}
		n := size.Staff / size.Partners
		if pi < size.Staff%size.Partners {
			n++
		}
		members := make([]staff.Member, 0, n)
		for i := range n {
			members = append(members, demoMember(p.ID, prefixes[p.ID], pi, i, sites[p.ID]))
		}
		if p.ID == "northgate" {
			// The dev provider's staff user sees their own record.
			members[0].Name, members[0].Email = "Sam Patel", "staff@northgate.example"
		}
		var bs []records.Book
		var waiting []records.Waiting
		if !opts.NoRecords {
			for i := range members {
				members[i].ID = bson.NewObjectID() // the books name them
			}
			officer := "Compliance officer"
			if len(p.Contacts) > 0 {
				officer = p.Contacts[0].Name
			}
			bs, waiting = newBookMaker(catalogue, p.ID, pi, officer, started).books(members)
			if !opts.NoAssessments {
				if err := upkeep.SeedAssessments(ctx, p.ID, members, bs); err != nil {
					return err
				}
			}
		}
		if err := roster.InsertMany(ctx, access.PartnerScope(p.ID), p.ID, members); err != nil {
			return fmt.Errorf("seed staff of %s: %w", p.ID, err)
		}
		// Even the small demo has incidents, so the lists, timeliness and
		// review pages have something to show.
		ins, err := incidentMaker{rules: rules, cal: cal, contract: cs[pi], sites: sites[p.ID],
			rng: rand.New(rand.NewPCG(uint64(pi), 2026)), now: started, seq: &incidentSeq}.make(int(float64(n) * incidentsPerStaff))
		if err != nil {
			return err
		}
		if err := incidents.Seed(ctx, ins); err != nil {
			return err
		}
		inspections, actions := oversightFor(cs[pi], sites[p.ID], rand.New(rand.NewPCG(uint64(pi), 2027)), started)
		if err := inspectionsAndActions.Seed(ctx, inspections, actions); err != nil {
			return err
		}
		if opts.NoRecords {
			continue
		}
		if err := books.SeedBooks(ctx, p.ID, bs, waiting); err != nil {
			return err
		}
		books.Register(p.ID)
		for _, b := range bs {
			recordCount += len(b.Training) + len(b.Vetting)
		}
		waitingCount += len(waiting)
	}
	log.Info("seeded demo data", "partners", len(ps), "contracts", len(cs), "staff", size.Staff,
		"records", recordCount, "awaiting_verification", waitingCount, "incidents", incidentSeq,
		"took", time.Since(started).Round(time.Millisecond))
	return nil
}

var (
	companyWords = []string{"Arden", "Beacon", "Castle", "Dales", "Eden", "Fenland", "Granite", "Harbour", "Ivel", "Juniper", "Kestrel", "Lakeside", "Meridian", "Northfield", "Oakridge", "Pennine", "Quayside", "Riverside", "Severn", "Thames"}
	companyKinds = []string{"Support Services Ltd", "Care Group Ltd", "Facilities plc", "Community Services Ltd"}
	towns        = []string{"Bristol", "Cardiff", "Glasgow", "Liverpool", "Manchester", "Newcastle", "Norwich", "Plymouth", "Sheffield", "Southampton", "Stoke", "Swansea"}
	serviceLines = []string{partner.AsylumAccommodation, partner.AsylumInterviews, partner.VisaApplicationCentre, partner.Screening}
)

// generatedPartner is the i-th partner of a scale dataset (i from 3), with one contract.
func generatedPartner(i int, date func(int, time.Month, int) time.Time) (partner.Partner, partner.Contract, []string) {
	word := companyWords[(i-3)%len(companyWords)]
	id := fmt.Sprintf("%s-%02d", strings.ToLower(word), i)
	name := fmt.Sprintf("%s %s", word, companyKinds[i%len(companyKinds)])
	line := serviceLines[i%len(serviceLines)]
	var partnerSites []string
	for k := range 2 + i%3 {
		partnerSites = append(partnerSites, fmt.Sprintf("%s site %d", towns[(i+k)%len(towns)], k+1))
	}
	p := partner.Partner{ID: id, Name: name, CompaniesHouseNumber: fmt.Sprintf("%08d", 10000000+i*7919)}
	c := partner.Contract{
		ID: fmt.Sprintf("CS-%s-2025-%03d", strings.ToUpper(line[:3]), 100+i), PartnerID: id,
		Title:       fmt.Sprintf("%s, %s", serviceLineTitles[line], towns[i%len(towns)]),
		ServiceLine: line, StartDate: date(2025, time.Month(1+i%12), 1), EndDate: date(2029, time.Month(1+i%12), 1),
		Status: partner.Active, Managers: []string{OtherManagerSubject},
	}
	return p, c, partnerSites
}

var serviceLineTitles = map[string]string{
	partner.AsylumAccommodation:   "Asylum accommodation",
	partner.AsylumInterviews:      "Asylum interviews",
	partner.VisaApplicationCentre: "Visa application centre",
	partner.Screening:             "Screening",
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

func demoMember(partnerID, prefix string, partnerIndex, i int, sites []string) staff.Member {
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
		StaffNumber: fmt.Sprintf("%s-%05d", prefix, 1001+i),
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
