package partner_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func newStore(t *testing.T) (*partner.Store, *mongo.Database) {
	t.Helper()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := partner.NewStore(db).WithTrail(trail)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

func ev(action string) audit.Event {
	return audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "dev-manager@department.example"}, Action: action, Outcome: audit.Success}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func contract(id, partnerID string, managers ...string) partner.Contract {
	return partner.Contract{ID: id, PartnerID: partnerID, Title: "Asylum accommodation, North", ServiceLine: partner.AsylumAccommodation,
		StartDate: day(2025, 4, 1), EndDate: day(2030, 3, 31), Managers: managers, StatusChangedBy: "Mina Patel"}
}

// events lists the audit trail's events for resource, oldest first.
func events(t *testing.T, db *mongo.Database, resource string) []audit.Event {
	t.Helper()
	cur, err := db.Collection("audit_events").Find(context.Background(), bson.D{{Key: "resource", Value: resource}})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Event
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b audit.Event) int { return int(a.Seq - b.Seq) })
	return out
}

func TestPartnerCreateAndUpdate(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	p := partner.Partner{ID: "eastfield", Name: "Eastfield Ltd", CompaniesHouseNumber: "SC123456", CreatedBy: "dev-manager@department.example",
		Contacts: []partner.Contact{{Name: "Ada Moss", Role: "Compliance officer", Email: "ada@eastfield.example"}}}
	if err := s.Create(ctx, p, ev("partner.create")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, p, ev("partner.create")); !errors.Is(err, partner.ErrDuplicate) {
		t.Errorf("second create: got %v, want ErrDuplicate", err)
	}
	for _, bad := range []partner.Partner{
		{ID: "Eastfield", Name: "X", CompaniesHouseNumber: "12345678"},
		{ID: "new", Name: "X", CompaniesHouseNumber: "12345678"},
		{ID: "department", Name: "X", CompaniesHouseNumber: "12345678"},
		{ID: "ok", Name: "X", CompaniesHouseNumber: "1234567"},
		{ID: "ok", Name: " ", CompaniesHouseNumber: "12345678"},
	} {
		if err := s.Create(ctx, bad, ev("partner.create")); err == nil {
			t.Errorf("created invalid partner %+v", bad)
		}
	}

	p.Name = "Eastfield Services Ltd"
	if err := s.Update(ctx, access.PartnerScope("northgate"), p, ev("partner.update")); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("update out of scope: got %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx, access.PartnerScope("eastfield"), p, ev("partner.update")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, access.Everything(), "eastfield")
	if err != nil || got.Name != "Eastfield Services Ltd" || got.CreatedBy != p.CreatedBy || len(got.Contacts) != 1 {
		t.Errorf("after update: %+v, %v", got, err)
	}
	es := events(t, db, "partner/eastfield")
	if len(es) != 2 || es[0].Action != "partner.create" || es[1].Action != "partner.update" || es[1].PartnerID != "eastfield" {
		t.Errorf("audit events: %+v", es)
	}
}

func TestClaimable(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	me := "dev-manager@department.example"
	if err := s.Create(ctx, partner.Partner{ID: "eastfield", Name: "Eastfield", CompaniesHouseNumber: "12345678", CreatedBy: me}, ev("partner.create")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claimable(ctx, "eastfield", "dev-someone-else"); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("someone else claims: %v", err)
	}
	if _, err := s.Claimable(ctx, "eastfield", me); err != nil {
		t.Errorf("creator claims: %v", err)
	}
	if err := s.CreateContract(ctx, access.PartnerScope("eastfield"), contract("CS-ACC-2025-100", "eastfield", me), ev("contract.create")); err != nil {
		t.Fatal(err)
	}
	// Once a contract exists, reach comes from contracts only.
	if _, err := s.Claimable(ctx, "eastfield", me); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("claim after first contract: %v", err)
	}
}

func TestContractLifecycle(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	for _, id := range []string{"northgate", "brightwell"} {
		if err := s.Create(ctx, partner.Partner{ID: id, Name: id, CompaniesHouseNumber: "12345678"}, ev("partner.create")); err != nil {
			t.Fatal(err)
		}
	}
	mine := access.ContractsScope(map[string]string{"CS-ACC-2025-014": "northgate"})
	if err := s.CreateContract(ctx, access.PartnerScope("northgate"), contract("CS-INT-2025-031", "brightwell", "x"), ev("contract.create")); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("create for a partner out of scope: %v", err)
	}
	if err := s.CreateContract(ctx, access.Everything(), contract("CS-ACC-2025-014", "northgate", "dev-manager"), ev("contract.create")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContract(ctx, access.Everything(), contract("CS-INT-2025-031", "brightwell", "dev-other"), ev("contract.create")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContract(ctx, access.Everything(), contract("CS-ACC-2025-014", "northgate", "dev-manager"), ev("contract.create")); !errors.Is(err, partner.ErrDuplicate) {
		t.Errorf("duplicate reference: %v", err)
	}
	bad := contract("CS-ACC-2025-015", "northgate", "dev-manager")
	bad.EndDate = bad.StartDate
	if err := s.CreateContract(ctx, access.Everything(), bad, ev("contract.create")); err == nil {
		t.Error("created a contract that ends when it starts")
	}

	// A contract manager reaches their own contract only, even at the same partner.
	if _, err := s.GetContract(ctx, mine, "CS-INT-2025-031"); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("manager reads another's contract: %v", err)
	}
	if _, err := s.GetContract(ctx, access.PartnerScope("northgate"), "CS-INT-2025-031"); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("partner reads another partner's contract: %v", err)
	}
	c, err := s.GetContract(ctx, mine, "CS-ACC-2025-014")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != partner.Active || len(c.StatusHistory) != 1 || c.StatusHistory[0].Reason != partner.AddedReason || c.Version != 0 {
		t.Errorf("new contract: %+v", c)
	}

	// Details.
	c.Title = "Asylum accommodation, North East"
	c.Managers = append(c.Managers, "dev-second")
	if err := s.UpdateContract(ctx, mine, c, ev("contract.update")); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateContract(ctx, mine, c, ev("contract.update")); !errors.Is(err, partner.ErrConflict) {
		t.Errorf("update from a stale version: %v", err)
	}
	c.Version = 1
	if err := s.UpdateContract(ctx, mine, c, ev("contract.update")); !errors.Is(err, partner.ErrUnchanged) {
		t.Errorf("update that changes nothing: %v", err)
	}
	other, _ := s.GetContract(ctx, access.Everything(), "CS-INT-2025-031")
	other.Title = "Taken over"
	if err := s.UpdateContract(ctx, mine, other, ev("contract.update")); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("manager updates another's contract: %v", err)
	}

	// Status.
	if err := s.SetStatus(ctx, mine, "CS-ACC-2025-014", 1, partner.Active, "Still fine", "Mina Patel", ev("contract.status")); !errors.Is(err, partner.ErrUnchanged) {
		t.Errorf("same status: %v", err)
	}
	if err := s.SetStatus(ctx, mine, "CS-ACC-2025-014", 1, partner.Suspended, " ", "Mina Patel", ev("contract.status")); err == nil {
		t.Error("status change without a reason")
	}
	if err := s.SetStatus(ctx, mine, "CS-ACC-2025-014", 1, partner.Suspended, "Unvetted staff at Leeds", "Mina Patel", ev("contract.status")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, mine, "CS-ACC-2025-014", 1, partner.UnderReview, "Stale", "Mina Patel", ev("contract.status")); !errors.Is(err, partner.ErrConflict) {
		t.Errorf("status from a stale version: %v", err)
	}
	if err := s.SetStatus(ctx, mine, "CS-INT-2025-031", 0, partner.Suspended, "Not mine", "Mina Patel", ev("contract.status")); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("manager suspends another's contract: %v", err)
	}

	// Requirements.
	cat := requirements.Default()
	set := cat.Default.Clone()
	set.RefreshMonths = map[string]int{"face_behind_the_case": 6}
	summary := requirements.Diff(cat, cat.Default, set)
	if err := s.SetRequirements(ctx, mine, "CS-ACC-2025-014", 2, set, "Mina Patel", nil, ev("contract.requirements")); !errors.Is(err, partner.ErrUnchanged) {
		t.Errorf("requirements without changes: %v", err)
	}
	if err := s.SetRequirements(ctx, mine, "CS-ACC-2025-014", 2, set, "Mina Patel", summary, ev("contract.requirements")); err != nil {
		t.Fatal(err)
	}

	c, err = s.GetContract(ctx, mine, "CS-ACC-2025-014")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 3 || c.Title != "Asylum accommodation, North East" || !slices.Equal(c.Managers, []string{"dev-manager", "dev-second"}) {
		t.Errorf("details after changes: %+v", c)
	}
	if c.Status != partner.Suspended || c.StatusReason != "Unvetted staff at Leeds" || c.StatusChangedBy != "Mina Patel" || c.StatusChangedAt.IsZero() {
		t.Errorf("status after change: %+v", c)
	}
	if len(c.StatusHistory) != 2 || c.StatusHistory[1].Status != partner.Suspended || c.StatusHistory[1].Reason != "Unvetted staff at Leeds" {
		t.Errorf("status history: %+v", c.StatusHistory)
	}
	if c.Requirements == nil || !c.Requirements.Equal(set) || len(c.RequirementHistory) != 1 || !slices.Equal(c.RequirementHistory[0].Changes, summary) {
		t.Errorf("requirements: %+v %+v", c.Requirements, c.RequirementHistory)
	}
	var actions []string
	for _, e := range events(t, db, "contract/CS-ACC-2025-014") {
		if e.PartnerID != "northgate" {
			t.Errorf("event %s has partner %q", e.Action, e.PartnerID)
		}
		actions = append(actions, e.Action+":"+e.Detail)
	}
	want := []string{"contract.create:", "contract.update:", "contract.status:active to suspended", "contract.requirements:1 changes"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit events %q, want %q", actions, want)
	}
	// Every change's event was appended, none left pending in the document.
	var raw bson.M
	if err := db.Collection("contracts").FindOne(ctx, bson.D{{Key: "_id", Value: "CS-ACC-2025-014"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if p, ok := raw[audit.PendingField].(bson.M); ok && len(p) > 0 {
		t.Errorf("pending audit events left: %v", p)
	}
}

// Contracts stored before these fields existed still read, and change.
func TestLegacyContract(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if err := s.Insert(ctx, []partner.Partner{{ID: "northgate", Name: "Northgate", CompaniesHouseNumber: "08123456"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := partner.ContractsCollection(s).InsertOne(ctx, bson.D{
		{Key: "_id", Value: "CS-ACC-2025-014"}, {Key: "partner_id", Value: "northgate"}, {Key: "title", Value: "Old"},
		{Key: "service_line", Value: partner.AsylumAccommodation}, {Key: "start_date", Value: day(2025, 4, 1)},
		{Key: "end_date", Value: day(2030, 3, 31)}, {Key: "status", Value: partner.Active}, {Key: "managers", Value: bson.A{"m"}},
	}); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetContract(ctx, access.Everything(), "CS-ACC-2025-014")
	if err != nil || c.Version != 0 || c.Requirements != nil || c.StatusHistory != nil {
		t.Fatalf("legacy contract: %+v, %v", c, err)
	}
	if err := s.SetStatus(ctx, access.Everything(), c.ID, 0, partner.UnderReview, "Inspection due", "Lead", ev("contract.status")); err != nil {
		t.Fatal(err)
	}
	c, _ = s.GetContract(ctx, access.Everything(), c.ID)
	if len(c.StatusHistory) != 2 || c.StatusHistory[0].Status != partner.Active || c.StatusHistory[1].Status != partner.UnderReview || c.Version != 1 {
		t.Errorf("legacy history: %+v", c)
	}
}

func TestStoreWithoutTrailRefusesChanges(t *testing.T) {
	s := partner.NewStore(storetest.Database(t))
	err := s.Create(context.Background(), partner.Partner{ID: "x", Name: "X", CompaniesHouseNumber: "12345678"}, ev("partner.create"))
	if err == nil {
		t.Error("a store without an audit trail made a change")
	}
}

// The contacts whose role names compliance, or every contact if none does.
func TestComplianceAddresses(t *testing.T) {
	p := partner.Partner{Contacts: []partner.Contact{
		{Name: "Olivia Hart", Role: "Compliance officer", Email: "Officer@Northgate.example"},
		{Name: "Raj Shah", Role: "Finance director", Email: "finance@northgate.example"},
		{Name: "Olivia Hart", Role: "Head of compliance", Email: "officer@northgate.example"},
	}}
	if got := strings.Join(p.ComplianceAddresses(), " "); got != "officer@northgate.example" {
		t.Errorf("recipients %q, want the compliance officer once", got)
	}
	p.Contacts = p.Contacts[1:2]
	if got := strings.Join(p.ComplianceAddresses(), " "); got != "finance@northgate.example" {
		t.Errorf("recipients without a compliance contact %q, want every contact", got)
	}
}
