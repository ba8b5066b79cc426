package oversight_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

var (
	manager = oversight.Actor{Kind: "person", ID: "m", Name: "Mo Manager"}
	officer = oversight.Actor{Kind: "person", ID: "o", Name: "Sam Officer"}
	event   = audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "m"}, ClientIP: "192.0.2.1", RequestID: "req-1"}

	everyone   = access.Everything()
	northOnly  = access.PartnerScope("northgate")
	brightOnly = access.PartnerScope("brightwell")
	ng1Manager = access.ContractsScope(map[string]string{"NG-1": "northgate"})
	ng2Manager = access.ContractsScope(map[string]string{"NG-2": "northgate"})

	// startOfTests is 10:00 in London on 1 June 2026 (BST).
	startOfTests = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
)

// outOfReach are scopes that must not reach northgate's NG-1, and why.
var outOfReach = map[string]access.Scope{
	"another partner":                       brightOnly,
	"a manager of another of its contracts": ng2Manager,
	"a manager of another partner's":        access.ContractsScope(map[string]string{"BW-1": "brightwell"}),
	"a scope that mistakes the partner":     access.ContractsScope(map[string]string{"NG-1": "brightwell"}),
	"nobody":                                {},
}

type fixture struct {
	s     *oversight.Store
	db    *mongo.Database
	trail *audit.Trail
}

// newFixture is a store on a fresh database holding two partners:
// northgate with contracts NG-1 and NG-2, brightwell with BW-1.
func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	contracts := partner.NewStore(db)
	if err := contracts.Insert(ctx,
		[]partner.Partner{{ID: "northgate", Name: "Northgate Services"}, {ID: "brightwell", Name: "Brightwell Care"}},
		[]partner.Contract{
			{ID: "NG-1", PartnerID: "northgate", Title: "Accommodation North", ServiceLine: partner.AsylumAccommodation, Status: partner.Active},
			{ID: "NG-2", PartnerID: "northgate", Title: "Interviews North", ServiceLine: partner.AsylumInterviews, Status: partner.Active},
			{ID: "BW-1", PartnerID: "brightwell", Title: "Screening", ServiceLine: partner.Screening, Status: partner.Active},
		}); err != nil {
		t.Fatal(err)
	}
	s := oversight.NewStore(db, trail, contracts)
	s.Now = func() time.Time { return startOfTests }
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	return fixture{s: s, db: db, trail: trail}
}

func (f fixture) plan(t *testing.T, contractID string, on time.Time) oversight.Inspection {
	t.Helper()
	in, err := f.s.Plan(context.Background(), everyone, oversight.NewInspection{ContractID: contractID, Site: "Hotel Meridian, Leeds",
		PlannedFor: on, Announced: true, Focus: "Night-time safeguarding checks"}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func (f fixture) complete(t *testing.T, in oversight.Inspection, on time.Time, rating string) oversight.Inspection {
	t.Helper()
	done, err := f.s.Complete(context.Background(), everyone, in.ID.Hex(), in.Version,
		oversight.Completion{CompletedOn: on, Findings: "Fire doors propped open.", Rating: rating}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func (f fixture) raise(t *testing.T, contractID string, due time.Time) oversight.Action {
	t.Helper()
	a, err := f.s.Raise(context.Background(), everyone, oversight.NewAction{ContractID: contractID,
		Source: oversight.Source{Kind: oversight.FromIncident, ID: "SI-2026-7KQ4MZP"}, Title: "Refresh section 55 training",
		Detail: "Every night manager completes section 55 training.", Priority: oversight.High, DueOn: due}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f fixture) respond(t *testing.T, a oversight.Action) oversight.Action {
	t.Helper()
	got, err := f.s.Respond(context.Background(), access.PartnerScope(a.PartnerID), a.ID.Hex(), a.Version,
		oversight.Response{Text: "All night managers have completed it.", Evidence: []oversight.EvidenceRef{ref("certificates.pdf")}}, officer, event)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func ref(name string) oversight.EvidenceRef {
	return oversight.EvidenceRef{File: bson.NewObjectID(), Name: name, SHA256: strings.Repeat("ab", 32), Size: 2048}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// events returns the trail's events about a resource, oldest first.
func (f fixture) events(t *testing.T, resource string) []audit.Event {
	t.Helper()
	got, _, err := f.trail.Search(context.Background(), audit.Query{Resource: resource, Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	return got
}

func actions(events []audit.Event) string {
	var names []string
	for _, e := range events {
		names = append(names, e.Action)
	}
	return strings.Join(names, " ")
}

// eventCount is the length of the whole trail.
func (f fixture) eventCount(t *testing.T) int64 {
	t.Helper()
	n, err := f.db.Collection("audit_events").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// verify checks the whole trail chains and holds none of the text people
// wrote: only who did what to which record.
func (f fixture) verify(t *testing.T, freeText ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.trail.Verify(ctx); err != nil {
		t.Fatalf("the trail does not verify: %v", err)
	}
	cur, err := f.db.Collection("audit_events").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var all []bson.Raw
	if err := cur.All(ctx, &all); err != nil {
		t.Fatal(err)
	}
	for _, raw := range all {
		for _, text := range freeText {
			if strings.Contains(raw.String(), text) {
				t.Errorf("the trail holds %q: %s", text, raw)
			}
		}
	}
}

func wantInvalid(t *testing.T, err error, message string) {
	t.Helper()
	var inv *oversight.ErrInvalid
	if !errors.As(err, &inv) || inv.Message != message {
		t.Errorf("error %v, want ErrInvalid %q", err, message)
	}
}

// A second start finds the indexes made by the first, which the embedded
// store once failed as a batch; each index the hot reads need is there.
func TestEnsureIndexesAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.plan(t, "NG-1", date(2026, 6, 10))
	f.raise(t, "NG-1", date(2026, 6, 30))
	if err := f.s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for coll, want := range map[string][]string{
		"inspections": {"partner_planned", "contract_planned", "status_contract_completed"},
		"actions":     {"partner_due", "contract_due", "status_contract_due", "source"},
	} {
		specs, err := f.db.Collection(coll).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, s := range specs {
			names[s.Name] = true
		}
		for _, name := range want {
			if !names[name] {
				t.Errorf("%s has no index %s", coll, name)
			}
		}
	}
}

// Nothing of northgate's NG-1 can be read, listed, counted or changed from
// outside its reach, whatever ID is tried, and a refused change leaves the
// records and the trail as they were.
func TestEveryOperationStaysWithinScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	done := f.complete(t, f.plan(t, "NG-1", date(2026, 5, 20)), date(2026, 5, 20), oversight.Good)
	planned := f.plan(t, "NG-1", date(2026, 6, 20))
	open := f.raise(t, "NG-1", date(2026, 6, 30))
	responded := f.respond(t, f.raise(t, "NG-1", date(2026, 6, 30)))
	theirs := f.raise(t, "BW-1", date(2026, 6, 30))

	before := f.eventCount(t)
	snapshot := func() string {
		var b strings.Builder
		for _, id := range []string{done.ID.Hex(), planned.ID.Hex()} {
			in, err := f.s.GetInspection(ctx, everyone, id)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s v%d %s %q\n", in.Status, in.Version, in.UpdatedAt, in.Findings)
		}
		for _, id := range []string{open.ID.Hex(), responded.ID.Hex()} {
			a, err := f.s.GetAction(ctx, everyone, id)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s v%d %s %d entries\n", a.Status, a.Version, a.UpdatedAt, len(a.Entries))
		}
		return b.String()
	}
	was := snapshot()
	_, inspectionsBefore, _ := f.s.ListInspections(ctx, everyone, oversight.InspectionFilter{}, 1, 100)
	_, actionsBefore, _ := f.s.ListActions(ctx, everyone, oversight.ActionFilter{}, 1, 100)

	for name, scope := range outOfReach {
		notFound := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, oversight.ErrNotFound) {
				t.Errorf("%s: %s: %v, want ErrNotFound", name, op, err)
			}
		}
		_, err := f.s.Plan(ctx, scope, oversight.NewInspection{ContractID: "NG-1", Site: "Leeds", PlannedFor: date(2026, 7, 1)}, manager, event)
		notFound("Plan", err)
		_, err = f.s.Complete(ctx, scope, planned.ID.Hex(), planned.Version, oversight.Completion{CompletedOn: date(2026, 6, 1), Findings: "Fine", Rating: oversight.Good}, manager, event)
		notFound("Complete", err)
		_, err = f.s.GetInspection(ctx, scope, done.ID.Hex())
		notFound("GetInspection", err)
		_, err = f.s.Raise(ctx, scope, oversight.NewAction{ContractID: "NG-1", Source: oversight.Source{Kind: oversight.FromReview, ID: "R-1"},
			Title: "T", Detail: "D", Priority: oversight.Low, DueOn: date(2026, 7, 1)}, manager, event)
		notFound("Raise", err)
		_, err = f.s.Respond(ctx, scope, open.ID.Hex(), open.Version, oversight.Response{Text: "Done"}, officer, event)
		notFound("Respond", err)
		_, err = f.s.Return(ctx, scope, responded.ID.Hex(), responded.Version, "Not enough", manager, event)
		notFound("Return", err)
		_, err = f.s.Accept(ctx, scope, responded.ID.Hex(), responded.Version, "", manager, event)
		notFound("Accept", err)
		_, err = f.s.GetAction(ctx, scope, open.ID.Hex())
		notFound("GetAction", err)

		for _, filter := range []oversight.InspectionFilter{{}, {PartnerID: "northgate"}, {ContractID: "NG-1"}} {
			list, total, err := f.s.ListInspections(ctx, scope, filter, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range list {
				if in.ContractID == "NG-1" {
					t.Errorf("%s: ListInspections(%+v) lists NG-1's", name, filter)
				}
			}
			if filter != (oversight.InspectionFilter{}) && total != 0 {
				t.Errorf("%s: ListInspections(%+v) counts %d", name, filter, total)
			}
		}
		for _, filter := range []oversight.ActionFilter{{}, {PartnerID: "northgate"}, {ContractID: "NG-1"}, {OverdueAsOf: date(2027, 1, 1)}} {
			list, _, err := f.s.ListActions(ctx, scope, filter, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range list {
				if a.ContractID == "NG-1" {
					t.Errorf("%s: ListActions(%+v) lists NG-1's", name, filter)
				}
			}
		}
		latest, err := f.s.LatestCompleted(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range latest {
			if in.ContractID == "NG-1" {
				t.Errorf("%s: LatestCompleted includes NG-1", name)
			}
		}
		counts, err := f.s.CountOpenAndOverdue(ctx, scope, date(2027, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			if c.ContractID == "NG-1" {
				t.Errorf("%s: CountOpenAndOverdue counts NG-1", name)
			}
		}
	}

	// Guessed IDs, and another partner's, reach nothing even with a scope
	// that reaches the partner.
	for _, id := range []string{"", "nonsense", "000000000000000000000000", bson.NewObjectID().Hex(), theirs.ID.Hex(), done.ID.Hex()} {
		if _, err := f.s.GetAction(ctx, northOnly, id); !errors.Is(err, oversight.ErrNotFound) {
			t.Errorf("GetAction(%q): %v", id, err)
		}
		if _, err := f.s.Respond(ctx, northOnly, id, 1, oversight.Response{Text: "Done"}, officer, event); !errors.Is(err, oversight.ErrNotFound) {
			t.Errorf("Respond(%q): %v", id, err)
		}
		if _, err := f.s.Accept(ctx, ng1Manager, id, 2, "", manager, event); !errors.Is(err, oversight.ErrNotFound) {
			t.Errorf("Accept(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", "nonsense", "000000000000000000000000", bson.NewObjectID().Hex(), open.ID.Hex()} {
		if _, err := f.s.GetInspection(ctx, everyone, id); !errors.Is(err, oversight.ErrNotFound) {
			t.Errorf("GetInspection(%q): %v", id, err)
		}
		if _, err := f.s.Complete(ctx, everyone, id, 1, oversight.Completion{CompletedOn: date(2026, 6, 1), Findings: "Fine", Rating: oversight.Good}, manager, event); !errors.Is(err, oversight.ErrNotFound) {
			t.Errorf("Complete(%q): %v", id, err)
		}
	}
	if _, err := f.s.Plan(ctx, everyone, oversight.NewInspection{ContractID: "XX-9", Site: "Leeds", PlannedFor: date(2026, 7, 1)}, manager, event); !errors.Is(err, oversight.ErrNotFound) {
		t.Errorf("planning for a contract that does not exist: %v", err)
	}

	if now := snapshot(); now != was {
		t.Errorf("refused changes changed records:\n%s\nwas\n%s", now, was)
	}
	if n := f.eventCount(t); n != before {
		t.Errorf("refused changes recorded %d audit events", n-before)
	}
	if _, n, _ := f.s.ListInspections(ctx, everyone, oversight.InspectionFilter{}, 1, 100); n != inspectionsBefore {
		t.Errorf("%d inspections, was %d", n, inspectionsBefore)
	}
	if _, n, _ := f.s.ListActions(ctx, everyone, oversight.ActionFilter{}, 1, 100); n != actionsBefore {
		t.Errorf("%d actions, was %d", n, actionsBefore)
	}

	// And those who may reach NG-1 do.
	for name, scope := range map[string]access.Scope{"the partner": northOnly, "its manager": ng1Manager, "the department": everyone} {
		if _, err := f.s.GetAction(ctx, scope, open.ID.Hex()); err != nil {
			t.Errorf("%s: GetAction: %v", name, err)
		}
		if _, err := f.s.GetInspection(ctx, scope, done.ID.Hex()); err != nil {
			t.Errorf("%s: GetInspection: %v", name, err)
		}
	}
}

// A change names who made it: the chronology and the record need someone.
func TestChangesNeedSomeone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.raise(t, "NG-1", date(2026, 6, 30))
	_, err := f.s.Respond(ctx, northOnly, a.ID.Hex(), a.Version, oversight.Response{Text: "Done"}, oversight.Actor{}, event)
	var inv *oversight.ErrInvalid
	if err == nil || errors.As(err, &inv) {
		t.Errorf("a response from nobody: %v, want a programming error", err)
	}
	if _, err := f.s.Plan(ctx, everyone, oversight.NewInspection{ContractID: "NG-1", Site: "Leeds", PlannedFor: date(2026, 7, 1)}, oversight.Actor{Kind: "person", ID: "m"}, event); err == nil {
		t.Error("planned by someone without a name")
	}
}
