package records_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var officer = audit.Event{Actor: audit.Actor{Kind: "person", Subject: "officer"}, Action: "training.create", Outcome: audit.Success}

type fixture struct {
	records *records.Store
	staff   *staff.Store
	upkeep  *records.Upkeep
	member  staff.Member
	scope   access.Scope
	today   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	partners := partner.NewStore(db).WithTrail(trail)
	if err := partners.Insert(ctx, []partner.Partner{{ID: "north", Name: "North Ltd"}, {ID: "south", Name: "South Ltd"}}, []partner.Contract{
		{ID: "CS-ACC-2025-001", PartnerID: "north", Title: "Accommodation", ServiceLine: partner.AsylumAccommodation, Status: partner.Active},
		{ID: "CS-ACC-2025-002", PartnerID: "south", Title: "Accommodation", ServiceLine: partner.AsylumAccommodation, Status: partner.Active},
	}); err != nil {
		t.Fatal(err)
	}
	roster := staff.NewStore(db, trail)
	scope := access.PartnerScope("north")
	m, err := roster.Add(ctx, scope, staff.Member{PartnerID: "north", StaffNumber: "N-1", Name: "Ada Stone", RoleTitle: "Housing officer",
		Category: staff.CustomerFacingAdults, StartDate: calendar.Date(2024, 1, 8)}, officer)
	if err != nil {
		t.Fatal(err)
	}
	rs := records.NewStore(db, trail)
	today := calendar.Date(2026, 6, 1)
	return &fixture{records: rs, staff: roster, member: m, scope: scope, today: today, upkeep: &records.Upkeep{
		Records: rs, Staff: roster, Partners: partners, Catalogue: requirements.Default(),
		Now: func() time.Time { return today.Add(12 * time.Hour) },
	}}
}

func (f *fixture) assessment(t *testing.T) staff.Assessment {
	t.Helper()
	m, err := f.staff.Get(context.Background(), f.scope, "north", f.member.ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if m.Assessment == nil {
		t.Fatal("no assessment stored")
	}
	return *m.Assessment
}

func gap(a staff.Assessment, key string) (staff.Gap, bool) {
	for _, g := range a.Contracts[0].Gaps {
		if g.Key == key {
			return g, true
		}
	}
	return staff.Gap{}, false
}

func TestRecordsDecisionsAndAssessmentsFollowEachOther(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.upkeep.Reassess(ctx, "north", f.member.ID); err != nil {
		t.Fatal(err)
	}
	a := f.assessment(t)
	if a.Contracts[0].Compliant || len(a.Contracts[0].Gaps) != 12 {
		t.Fatalf("with no records: %+v, want 12 gaps (9 modules, 3 vetting)", a.Contracts[0])
	}

	tr, err := f.records.AddTraining(ctx, f.scope, "north", f.member.ID, records.Training{Module: "face_behind_the_case",
		Completed: calendar.Date(2025, 6, 20), Provider: "Department e-learning", RecordedBy: "Olivia Hart"}, officer)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.records.Enqueue(ctx, records.Waiting{RecordID: tr.ID, PartnerID: "north", StaffID: f.member.ID, Kind: "training", What: tr.Module, Submitted: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := f.upkeep.Reassess(ctx, "north", f.member.ID); err != nil {
		t.Fatal(err)
	}
	if g, _ := gap(f.assessment(t), "face_behind_the_case"); g.State != string(compliance.AwaitingVerification) {
		t.Errorf("unverified completion: %+v, want awaiting verification", g)
	}

	// Managers see it in their queue; the other partner's scope does not.
	if q, n, err := f.records.Queue(ctx, access.Everything(), 10); err != nil || n != 1 || q[0].RecordID != tr.ID {
		t.Errorf("department queue = %v, %d, %v", q, n, err)
	}
	if _, n, _ := f.records.Queue(ctx, access.PartnerScope("south"), 10); n != 0 {
		t.Errorf("another partner sees %d queued records", n)
	}

	decision := records.Decision{Status: records.Verified, By: "Mina Patel", At: time.Now()}
	if err := f.records.Decide(ctx, access.PartnerScope("south"), "north", f.member.ID, tr.ID, decision, officer); err != records.ErrNotFound {
		t.Errorf("deciding from another partner's scope: %v, want ErrNotFound", err)
	}
	if err := f.records.Decide(ctx, f.scope, "north", f.member.ID, tr.ID, decision, officer); err != nil {
		t.Fatal(err)
	}
	if err := f.records.Decide(ctx, f.scope, "north", f.member.ID, tr.ID, decision, officer); err != records.ErrDecided {
		t.Errorf("deciding twice: %v, want ErrDecided", err)
	}
	if err := f.upkeep.Reassess(ctx, "north", f.member.ID); err != nil {
		t.Fatal(err)
	}
	a = f.assessment(t)
	// Completed 20 June 2025, renewed every 12 months: expiring soon on 1 June 2026.
	if g, _ := gap(a, "face_behind_the_case"); g.State != string(compliance.ExpiringSoon) || !g.Due.Equal(calendar.Date(2026, 6, 20)) {
		t.Errorf("verified completion: %+v, want expiring on 20 June 2026", g)
	}
	if a.StaleFrom == nil || !a.StaleFrom.Equal(calendar.Date(2026, 6, 20)) {
		t.Errorf("stale from %v, want the expiry day", a.StaleFrom)
	}

	// The day it expires, a refresh picks the person up without any write.
	f.upkeep.Now = func() time.Time { return calendar.Date(2026, 6, 20).Add(time.Hour) }
	if n, err := f.upkeep.ReassessPartner(ctx, "north", false); err != nil || n != 1 {
		t.Fatalf("refresh on the expiry day: %d, %v; want 1 person", n, err)
	}
	if g, _ := gap(f.assessment(t), "face_behind_the_case"); g.State != string(compliance.Expired) {
		t.Errorf("on the expiry day: %+v, want expired", g)
	}
	if n, _ := f.upkeep.ReassessPartner(ctx, "north", false); n != 0 {
		t.Errorf("a second refresh the same day evaluated %d people again", n)
	}
}

func TestConcurrentRecordsAreAllKept(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.records.AddTraining(ctx, f.scope, "north", f.member.ID, records.Training{Module: "vulnerability_awareness",
				Completed: calendar.Date(2025, 1, 1+i), Provider: fmt.Sprint("Provider ", i)}, officer)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, err := f.records.Get(ctx, f.scope, "north", f.member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Training) != 12 {
		t.Errorf("kept %d of 12 records added at once", len(b.Training))
	}
}

func TestRecordBooksStayWithTheirPartner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.records.AddTraining(ctx, f.scope, "north", f.member.ID, records.Training{Module: "suicide_self_harm",
		Completed: calendar.Date(2026, 1, 5), Provider: "Samaritans"}, officer); err != nil {
		t.Fatal(err)
	}
	south := access.PartnerScope("south")
	if _, err := f.records.Get(ctx, south, "north", f.member.ID); err != records.ErrNotFound {
		t.Errorf("south reads north's book: %v", err)
	}
	if _, err := f.records.AddTraining(ctx, south, "north", f.member.ID, records.Training{Module: "suicide_self_harm"}, officer); err != records.ErrNotFound {
		t.Errorf("south adds to north's book: %v", err)
	}
	// South naming the same person under its own partner ID reaches an empty book of its own, not north's records.
	b, err := f.records.Get(ctx, south, "south", f.member.ID)
	if err != nil || len(b.Training) != 0 {
		t.Errorf("south's own collection holds %d of north's records (%v)", len(b.Training), err)
	}
	if err := f.records.Decide(ctx, f.scope, "north", f.member.ID, bson.NewObjectID(), records.Decision{Status: records.Verified}, officer); err != records.ErrNotFound {
		t.Errorf("deciding an unknown record: %v", err)
	}
}

// A record whose queue entry was lost is put back, once; decided records
// and entries already queued are left alone.
func TestRequeuePutsBackLostEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []bson.ObjectID
	for _, module := range []string{"vulnerability_awareness", "diversity_inclusion", "face_behind_the_case"} {
		tr, err := f.records.AddTraining(ctx, f.scope, "north", f.member.ID, records.Training{Module: module, Completed: f.today, Provider: "P"}, officer)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tr.ID)
	}
	// The first was queued and is still waiting; the second was queued and
	// decided; the third's entry was lost.
	for _, id := range ids[:2] {
		if err := f.records.Enqueue(ctx, records.Waiting{RecordID: id, PartnerID: "north", StaffID: f.member.ID, Kind: "training", Submitted: f.today}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.records.Decide(ctx, f.scope, "north", f.member.ID, ids[1], records.Decision{Status: records.Verified, By: "M"}, officer); err != nil {
		t.Fatal(err)
	}
	if err := f.records.Dequeue(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	n, err := f.upkeep.Requeue(ctx, "north")
	if err != nil || n != 1 {
		t.Fatalf("Requeue put back %d (%v), want 1", n, err)
	}
	w, err := f.records.WaitingRecord(ctx, f.scope, ids[2])
	if err != nil || w.StaffName != "Ada Stone" || w.What != "face_behind_the_case" {
		t.Errorf("requeued entry %+v, %v", w, err)
	}
	if _, err := f.records.WaitingRecord(ctx, f.scope, ids[1]); err == nil {
		t.Error("a verified record was queued again")
	}
	if n, err := f.upkeep.Requeue(ctx, "north"); err != nil || n != 0 {
		t.Errorf("a second Requeue put back %d (%v), want 0", n, err)
	}
}

// A completion imported from a training provider has no certificate by
// design and asks nothing of the partner; one typed in without its
// certificate does.
func TestImportedCompletionsAreNotMissingEvidence(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.records.AddTraining(ctx, f.scope, "north", f.member.ID,
		records.Training{Module: "vulnerability_awareness", Completed: f.today, Provider: "P", ImportID: "import-1"}, officer); err != nil {
		t.Fatal(err)
	}
	if err := f.upkeep.Reassess(ctx, "north", f.member.ID); err != nil {
		t.Fatal(err)
	}
	if a := f.assessment(t); a.NoEvidence != 0 {
		t.Errorf("an imported completion counted as %d without evidence", a.NoEvidence)
	}
	if _, err := f.records.AddTraining(ctx, f.scope, "north", f.member.ID,
		records.Training{Module: "diversity_inclusion", Completed: f.today, Provider: "P"}, officer); err != nil {
		t.Fatal(err)
	}
	if err := f.upkeep.Reassess(ctx, "north", f.member.ID); err != nil {
		t.Fatal(err)
	}
	if a := f.assessment(t); a.NoEvidence != 1 {
		t.Errorf("a typed completion without its certificate: %d without evidence, want 1", a.NoEvidence)
	}
}
