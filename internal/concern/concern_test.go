package concern_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

var (
	manager = concern.Actor{Kind: "person", ID: "m", Name: "Mo Manager"}
	lead    = concern.Actor{Kind: "person", ID: "l", Name: "Lee Lead"}
	event   = audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "m"}, ClientIP: "192.0.2.1", RequestID: "req-1"}
	// statusEvent is a contract status change made on the contract's page.
	statusEvent = audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "m"}, Action: "contract.status", Outcome: audit.Success}

	everyone   = access.Everything()
	northOnly  = access.PartnerScope("northgate")
	brightOnly = access.PartnerScope("brightwell")
	ng1Manager = access.ContractsScope(map[string]string{"NG-1": "northgate"})
	ng2Manager = access.ContractsScope(map[string]string{"NG-2": "northgate"})
	bw1Manager = access.ContractsScope(map[string]string{"BW-1": "brightwell"})

	startOfTests = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
)

// outOfReach are scopes that must not reach northgate's NG-1, and why.
var outOfReach = map[string]access.Scope{
	"another partner":                       brightOnly,
	"a manager of another of its contracts": ng2Manager,
	"a manager of another partner's":        bw1Manager,
	"a scope that mistakes the partner":     access.ContractsScope(map[string]string{"NG-1": "brightwell"}),
	"nobody":                                {},
}

type fixture struct {
	s         *concern.Store
	db        *mongo.Database
	trail     *audit.Trail
	contracts *partner.Store
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
	contracts := partner.NewStore(db).WithTrail(trail)
	if err := contracts.Insert(ctx,
		[]partner.Partner{{ID: "northgate", Name: "Northgate Services"}, {ID: "brightwell", Name: "Brightwell Care"}},
		[]partner.Contract{
			{ID: "NG-1", PartnerID: "northgate", Title: "Accommodation North", ServiceLine: partner.AsylumAccommodation, Status: partner.Active},
			{ID: "NG-2", PartnerID: "northgate", Title: "Interviews North", ServiceLine: partner.AsylumInterviews, Status: partner.Active},
			{ID: "BW-1", PartnerID: "brightwell", Title: "Screening", ServiceLine: partner.Screening, Status: partner.Active},
		}); err != nil {
		t.Fatal(err)
	}
	s := concern.NewStore(db, trail, contracts)
	s.Now = func() time.Time { return startOfTests }
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	return fixture{s: s, db: db, trail: trail, contracts: contracts}
}

func (f fixture) raise(t *testing.T, kind, contractID string) concern.Concern {
	t.Helper()
	c, err := f.s.Raise(context.Background(), everyone, concern.NewConcern{ContractID: contractID, Kind: kind,
		Reason: "Night staff at Wakefield Dispersal were working without enhanced checks."}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f fixture) raisePartnerWide(t *testing.T, partnerID string) concern.Concern {
	t.Helper()
	c, err := f.s.Raise(context.Background(), everyone, concern.NewConcern{PartnerID: partnerID, Kind: concern.Escalation,
		Reason: "Three late critical notifications across the partner's contracts."}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f fixture) contract(t *testing.T, id string) partner.Contract {
	t.Helper()
	ct, err := f.contracts.GetContract(context.Background(), everyone, id)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func (f fixture) get(t *testing.T, c concern.Concern) concern.Concern {
	t.Helper()
	got, err := f.s.Get(context.Background(), everyone, c.ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// events returns the trail's event actions about a resource, oldest first.
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
	var inv *concern.ErrInvalid
	if !errors.As(err, &inv) || inv.Message != message {
		t.Errorf("error %v, want ErrInvalid %q", err, message)
	}
}

// A second start finds the indexes made by the first, and each index the
// hot reads need is there.
func TestEnsureIndexesAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.raise(t, concern.Escalation, "NG-1")
	if err := f.s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	specs, err := f.db.Collection("concerns").Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range specs {
		names[s.Name] = true
	}
	for _, name := range []string{"queue", "partner_contract_queue", "status_partner_contract_kind"} {
		if !names[name] {
			t.Errorf("concerns has no index %s", name)
		}
	}
}

// An escalation's life: raised by the contract's manager, referred to the
// senior responsible owner (it stays open), then decided. Each decision
// is kept with who, when and why, and the trail keeps each step without
// anything anyone wrote.
func TestEscalationLife(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.s.Raise(ctx, ng1Manager, concern.NewConcern{ContractID: "NG-1", PartnerID: "brightwell", Kind: concern.Escalation,
		Reason: "  A customer's room was entered at night without knocking.\nThe manager has not answered.  "}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if c.PartnerID != "northgate" || c.ContractID != "NG-1" || c.Status != concern.Open || c.Version != 1 || c.AboutPartner() ||
		c.Reason != "A customer's room was entered at night without knocking.\nThe manager has not answered." ||
		c.RaisedBy != manager || !c.RaisedAt.Equal(startOfTests) || len(c.Decisions) != 0 || c.Pending != nil {
		t.Fatalf("raised %+v", c)
	}
	if got := f.get(t, c); got.Reason != c.Reason || got.Version != 1 || got.Decisions == nil {
		t.Errorf("read back %+v", got)
	}

	clock := startOfTests
	f.s.Now = func() time.Time { clock = clock.Add(time.Hour); return clock }
	id := c.ID.Hex()
	c, err = f.s.Decide(ctx, everyone, id, 1, concern.NewDecision{Outcome: concern.ReferredToSRO, Reason: "The SRO must see this before we decide."}, lead, event)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != concern.Open || c.Outcome != concern.ReferredToSRO || c.Version != 2 || c.DecidedAt != nil || len(c.Decisions) != 1 {
		t.Fatalf("referred %+v", c)
	}
	c, err = f.s.Decide(ctx, everyone, id, 2, concern.NewDecision{Outcome: concern.ActionsRequired, Reason: "Raise an action on night checks."}, lead, event)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != concern.Decided || c.Outcome != concern.ActionsRequired || c.Version != 3 || c.DecidedAt == nil || len(c.Decisions) != 2 {
		t.Fatalf("decided %+v", c)
	}
	for i, want := range []struct{ outcome, reason string }{
		{concern.ReferredToSRO, "The SRO must see this before we decide."},
		{concern.ActionsRequired, "Raise an action on night checks."},
	} {
		d := c.Decisions[i]
		if d.Outcome != want.outcome || d.Reason != want.reason || d.By != lead || d.ID.IsZero() || d.BasedOn != i+1 ||
			!d.At.Equal(startOfTests.Add(time.Duration(i+1)*time.Hour)) || d.SuspendedContract {
			t.Errorf("decision %d: %+v", i, d)
		}
	}
	if _, err := f.s.Decide(ctx, everyone, id, 3, concern.NewDecision{Outcome: concern.NoFurtherAction, Reason: "Changed my mind"}, lead, event); !errors.Is(err, concern.ErrConflict) {
		t.Errorf("a decision on a decided concern: %v, want ErrConflict", err)
	}
	if f.contract(t, "NG-1").Status != partner.Active {
		t.Error("an escalation changed the contract's status")
	}

	evs := f.events(t, "concern/"+id)
	if got := actions(evs); got != "concern.raise concern.decide concern.decide" {
		t.Fatalf("audit actions %q", got)
	}
	for i, want := range []string{"escalation about the contract", "referred_to_sro", "actions_required"} {
		if e := evs[i]; e.Detail != want || e.PartnerID != "northgate" || e.Outcome != audit.Success || e.ClientIP != "192.0.2.1" {
			t.Errorf("audit event %d: %+v, want detail %q", i, e, want)
		}
	}
	f.verify(t, "without knocking", "SRO must see", "night checks", "Mo Manager", "Lee Lead")
}

// An escalation about a whole partner: its contract managers (of any of
// its contracts) and the leads see it; nobody else does.
func TestEscalationAboutAPartner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.s.Raise(ctx, ng2Manager, concern.NewConcern{PartnerID: "northgate", Kind: concern.Escalation, Reason: "Late notifications everywhere."}, manager, event)
	if err != nil {
		t.Fatal(err)
	}
	if !c.AboutPartner() || c.PartnerID != "northgate" {
		t.Fatalf("raised %+v", c)
	}
	for name, scope := range map[string]access.Scope{"NG-1's manager": ng1Manager, "NG-2's manager": ng2Manager, "the leads": everyone} {
		if _, err := f.s.Get(ctx, scope, c.ID.Hex()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if list, total, err := f.s.List(ctx, scope, concern.Filter{PartnerID: "northgate"}, 1, 10); err != nil || total != 1 || len(list) != 1 {
			t.Errorf("%s lists %d of %d (%v)", name, len(list), total, err)
		}
	}
	for name, scope := range map[string]access.Scope{"brightwell": brightOnly, "BW-1's manager": bw1Manager, "nobody": {}} {
		if _, err := f.s.Get(ctx, scope, c.ID.Hex()); !errors.Is(err, concern.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
		if _, err := f.s.Raise(ctx, scope, concern.NewConcern{PartnerID: "northgate", Kind: concern.Escalation, Reason: "R"}, manager, event); !errors.Is(err, concern.ErrNotFound) {
			t.Errorf("%s raises about northgate: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := f.s.Raise(ctx, everyone, concern.NewConcern{PartnerID: "nowhere", Kind: concern.Escalation, Reason: "R"}, manager, event); !errors.Is(err, concern.ErrNotFound) {
		t.Errorf("about a partner that does not exist: %v", err)
	}
	if _, err := f.s.Decide(ctx, everyone, c.ID.Hex(), 1, concern.NewDecision{Outcome: concern.SuspendContract, Reason: "Suspend"}, lead, event); err == nil {
		t.Error("an escalation about a partner was decided with a suspension")
	}
}

func TestRaiseValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := f.eventCount(t)
	raise := func(n concern.NewConcern) error {
		_, err := f.s.Raise(ctx, everyone, n, manager, event)
		return err
	}
	esc := func(reason string) concern.NewConcern {
		return concern.NewConcern{ContractID: "NG-1", Kind: concern.Escalation, Reason: reason}
	}
	wantInvalid(t, raise(esc("  \n ")), "Enter the reason for escalating")
	wantInvalid(t, raise(esc(strings.Repeat("é", 2001))), "The reason for escalating must be 2,000 characters or fewer")
	wantInvalid(t, raise(esc("Fine\u202eexe.pdf")), "The reason for escalating must not contain hidden or control characters")
	wantInvalid(t, raise(concern.NewConcern{PartnerID: "northgate", Kind: concern.SuspensionRecommendation, Reason: "R"}), "Select the contract to suspend")
	wantInvalid(t, raise(concern.NewConcern{ContractID: "NG-1", Kind: concern.SuspensionRecommendation, Reason: ""}), "Enter the reason for recommending suspension")
	if err := raise(concern.NewConcern{ContractID: "NG-1", Kind: "complaint", Reason: "R"}); err == nil {
		t.Error("an unknown kind was raised")
	}
	if _, err := f.s.Raise(ctx, everyone, esc("R"), concern.Actor{Kind: "person", ID: "m"}, event); err == nil {
		t.Error("raised by someone without a name")
	}
	if err := raise(esc(strings.Repeat("é", 2000))); err != nil {
		t.Errorf("a reason of 2,000 characters: %v", err)
	}

	// One recommendation to suspend a contract waits at a time, and none
	// for a contract already suspended or terminated.
	f.raise(t, concern.SuspensionRecommendation, "NG-1")
	wantInvalid(t, raise(concern.NewConcern{ContractID: "NG-1", Kind: concern.SuspensionRecommendation, Reason: "Again"}),
		"A recommendation to suspend this contract is already waiting for the leads’ decision")
	for status, message := range map[string]string{
		partner.Suspended:  "The contract is already suspended",
		partner.Terminated: "The contract has been terminated, so it cannot be suspended",
	} {
		ct := f.contract(t, "NG-2")
		if err := f.contracts.SetStatus(ctx, everyone, "NG-2", ct.Version, status, "Set for the test", "Tess Test", statusEvent); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, raise(concern.NewConcern{ContractID: "NG-2", Kind: concern.SuspensionRecommendation, Reason: "R"}), message)
	}
	// Two were stored (one escalation, one recommendation); refusals left nothing.
	if n := f.eventCount(t); n != before+2+2 { // and the two status changes
		t.Errorf("%d events after the refusals, want %d", n, before+4)
	}
	if _, total, _ := f.s.List(ctx, everyone, concern.Filter{}, 1, 10); total != 2 {
		t.Errorf("%d concerns stored, want 2", total)
	}
}

func TestDecideValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	esc := f.raise(t, concern.Escalation, "NG-1")
	rec := f.raise(t, concern.SuspensionRecommendation, "NG-2")
	before := f.eventCount(t)
	decide := func(c concern.Concern, version int, outcome, reason string) error {
		_, err := f.s.Decide(ctx, everyone, c.ID.Hex(), version, concern.NewDecision{Outcome: outcome, Reason: reason}, lead, event)
		return err
	}
	wantInvalid(t, decide(esc, 1, "", "Fine"), "Select a decision")
	wantInvalid(t, decide(esc, 1, "maybe", "Fine"), "Select a decision")
	wantInvalid(t, decide(esc, 1, concern.SuspendContract, "Suspend it"), "Select a decision")
	wantInvalid(t, decide(rec, 1, concern.NoFurtherAction, "Nothing"), "Select a decision")
	wantInvalid(t, decide(esc, 1, concern.NoFurtherAction, " "), "Enter the reason for the decision")
	wantInvalid(t, decide(esc, 1, concern.NoFurtherAction, strings.Repeat("x", 2001)), "The reason for the decision must be 2,000 characters or fewer")
	if err := decide(esc, 2, concern.NoFurtherAction, "Fine"); !errors.Is(err, concern.ErrConflict) {
		t.Errorf("a decision on a version not yet made: %v", err)
	}
	if err := decide(esc, 0, concern.NoFurtherAction, "Fine"); !errors.Is(err, concern.ErrConflict) {
		t.Errorf("a decision on an old version: %v", err)
	}
	if _, err := f.s.Decide(ctx, everyone, esc.ID.Hex(), 1, concern.NewDecision{Outcome: concern.NoFurtherAction, Reason: "Fine"}, concern.Actor{}, event); err == nil {
		t.Error("decided by nobody")
	}
	// A contract terminated meanwhile is not suspended.
	ct := f.contract(t, "NG-2")
	if err := f.contracts.SetStatus(ctx, everyone, "NG-2", ct.Version, partner.Terminated, "Ended", "Tess Test", statusEvent); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, decide(rec, 1, concern.SuspendContract, "Suspend it"), "The contract has been terminated, so it cannot be suspended")
	if n := f.eventCount(t); n != before+1 {
		t.Errorf("refused decisions recorded %d events", n-before-1)
	}
	for _, c := range []concern.Concern{esc, rec} {
		if got := f.get(t, c); got.Version != 1 || got.Status != concern.Open || len(got.Decisions) != 0 || got.Pending != nil {
			t.Errorf("after refusals %+v", got)
		}
	}
	if f.contract(t, "NG-2").Status != partner.Terminated {
		t.Error("the terminated contract's status changed")
	}
}

// Nothing of northgate's NG-1 can be read, listed, counted or changed from
// outside its reach, whatever ID is tried, and a refused change leaves the
// concerns and the trail as they were.
func TestEveryOperationStaysWithinScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	esc := f.raise(t, concern.Escalation, "NG-1")
	rec := f.raise(t, concern.SuspensionRecommendation, "NG-1")
	theirs := f.raise(t, concern.Escalation, "BW-1")
	before := f.eventCount(t)
	snapshot := func() string {
		var b strings.Builder
		for _, c := range []concern.Concern{esc, rec} {
			got := f.get(t, c)
			fmt.Fprintf(&b, "%s v%d %s %d decisions\n", got.Status, got.Version, got.UpdatedAt, len(got.Decisions))
		}
		ct := f.contract(t, "NG-1")
		fmt.Fprintf(&b, "NG-1 %s v%d\n", ct.Status, ct.Version)
		return b.String()
	}
	was := snapshot()

	for name, scope := range outOfReach {
		notFound := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, concern.ErrNotFound) {
				t.Errorf("%s: %s: %v, want ErrNotFound", name, op, err)
			}
		}
		for _, kind := range []string{concern.Escalation, concern.SuspensionRecommendation} {
			_, err := f.s.Raise(ctx, scope, concern.NewConcern{ContractID: "NG-1", Kind: kind, Reason: "R"}, manager, event)
			notFound("Raise "+kind, err)
		}
		for _, c := range []concern.Concern{esc, rec} {
			_, err := f.s.Get(ctx, scope, c.ID.Hex())
			notFound("Get", err)
		}
		_, err := f.s.Decide(ctx, scope, esc.ID.Hex(), 1, concern.NewDecision{Outcome: concern.NoFurtherAction, Reason: "R"}, lead, event)
		notFound("Decide", err)
		_, err = f.s.Decide(ctx, scope, rec.ID.Hex(), 1, concern.NewDecision{Outcome: concern.SuspendContract, Reason: "R"}, lead, event)
		notFound("Decide to suspend", err)
		for _, filter := range []concern.Filter{{}, {PartnerID: "northgate"}, {ContractID: "NG-1"}, {Status: concern.Open}} {
			list, total, err := f.s.List(ctx, scope, filter, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				if c.ContractID == "NG-1" {
					t.Errorf("%s: List(%+v) lists NG-1's", name, filter)
				}
			}
			if filter.ContractID != "" && total != 0 {
				t.Errorf("%s: List(%+v) counts %d", name, filter, total)
			}
		}
		counts, err := f.s.OpenByContract(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := counts.Contracts["NG-1"]; ok {
			t.Errorf("%s: OpenByContract counts NG-1", name)
		}
	}
	// Guessed IDs, and another partner's, reach nothing with a scope that
	// reaches northgate.
	for _, id := range []string{"", "nonsense", "000000000000000000000000", bson.NewObjectID().Hex(), theirs.ID.Hex()} {
		if _, err := f.s.Get(ctx, ng1Manager, id); !errors.Is(err, concern.ErrNotFound) {
			t.Errorf("Get(%q): %v", id, err)
		}
		if _, err := f.s.Decide(ctx, northOnly, id, 1, concern.NewDecision{Outcome: concern.NoFurtherAction, Reason: "R"}, lead, event); !errors.Is(err, concern.ErrNotFound) {
			t.Errorf("Decide(%q): %v", id, err)
		}
	}
	if _, err := f.s.Raise(ctx, everyone, concern.NewConcern{ContractID: "XX-9", Kind: concern.Escalation, Reason: "R"}, manager, event); !errors.Is(err, concern.ErrNotFound) {
		t.Errorf("raising about a contract that does not exist: %v", err)
	}
	if now := snapshot(); now != was {
		t.Errorf("refused changes changed records:\n%s\nwas\n%s", now, was)
	}
	if n := f.eventCount(t); n != before {
		t.Errorf("refused changes recorded %d audit events", n-before)
	}

	// And those who may reach NG-1 do.
	for name, scope := range map[string]access.Scope{"its manager": ng1Manager, "the leads": everyone} {
		if _, err := f.s.Get(ctx, scope, esc.ID.Hex()); err != nil {
			t.Errorf("%s: Get: %v", name, err)
		}
		if _, total, err := f.s.List(ctx, scope, concern.Filter{ContractID: "NG-1"}, 1, 10); err != nil || total != 2 {
			t.Errorf("%s: List counts %d (%v)", name, total, err)
		}
	}
}

// The queue lists open concerns first, the oldest first, then decided
// ones; it filters by status, partner, contract and kind, a page at a time.
func TestListOrderAndFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clock := startOfTests
	f.s.Now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	a := f.raise(t, concern.Escalation, "NG-1")
	b := f.raise(t, concern.Escalation, "BW-1")
	c := f.raisePartnerWide(t, "northgate")
	d := f.raise(t, concern.SuspensionRecommendation, "NG-2")
	if _, err := f.s.Decide(ctx, everyone, a.ID.Hex(), 1, concern.NewDecision{Outcome: concern.NoFurtherAction, Reason: "Fine"}, lead, event); err != nil {
		t.Fatal(err)
	}
	ids := func(list []concern.Concern) string {
		names := map[bson.ObjectID]string{a.ID: "a", b.ID: "b", c.ID: "c", d.ID: "d"}
		var out []string
		for _, x := range list {
			out = append(out, names[x.ID])
			if x.Reason != "" || x.Decisions != nil {
				t.Errorf("the list holds the reason or the decisions of %s", names[x.ID])
			}
		}
		return strings.Join(out, "")
	}
	for _, tc := range []struct {
		scope  access.Scope
		filter concern.Filter
		want   string
	}{
		{everyone, concern.Filter{}, "bcda"},
		{everyone, concern.Filter{Status: concern.Open}, "bcd"},
		{everyone, concern.Filter{Status: concern.Decided}, "a"},
		{everyone, concern.Filter{PartnerID: "northgate"}, "cda"},
		{everyone, concern.Filter{ContractID: "NG-1"}, "a"},
		{everyone, concern.Filter{Kind: concern.SuspensionRecommendation}, "d"},
		{ng1Manager, concern.Filter{}, "ca"},
		{northOnly, concern.Filter{Status: concern.Open}, "cd"},
	} {
		list, total, err := f.s.List(ctx, tc.scope, tc.filter, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(list); got != tc.want || total != int64(len(tc.want)) {
			t.Errorf("List(%+v) = %s (%d), want %s", tc.filter, got, total, tc.want)
		}
	}
	page2, total, err := f.s.List(ctx, everyone, concern.Filter{}, 2, 3)
	if err != nil || total != 4 || ids(page2) != "a" {
		t.Errorf("second page of 3: %s of %d (%v)", ids(page2), total, err)
	}
}

// The dashboard's counts: open escalations per contract, a waiting
// recommendation to suspend, escalations about a whole partner, within reach.
func TestOpenByContract(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.raise(t, concern.Escalation, "NG-1")
	f.raise(t, concern.Escalation, "NG-1")
	decided := f.raise(t, concern.Escalation, "NG-1")
	f.raise(t, concern.SuspensionRecommendation, "NG-1")
	f.raise(t, concern.SuspensionRecommendation, "NG-2")
	f.raise(t, concern.Escalation, "BW-1")
	f.raisePartnerWide(t, "northgate")
	if _, err := f.s.Decide(ctx, everyone, decided.ID.Hex(), 1, concern.NewDecision{Outcome: concern.NoFurtherAction, Reason: "Fine"}, lead, event); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.OpenByContract(ctx, everyone)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]concern.OpenConcerns{
		"NG-1": {PartnerID: "northgate", Escalations: 2, SuspensionRecommended: true},
		"NG-2": {PartnerID: "northgate", SuspensionRecommended: true},
		"BW-1": {PartnerID: "brightwell", Escalations: 1},
	}
	if fmt.Sprint(got.Contracts) != fmt.Sprint(want) || got.PartnerWide["northgate"] != 1 || len(got.PartnerWide) != 1 || got.Total != 6 {
		t.Errorf("open counts %+v, want %+v, 1 about northgate, 6 in all", got, want)
	}
	mine, err := f.s.OpenByContract(ctx, ng1Manager)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Contracts) != 1 || mine.Contracts["NG-1"] != want["NG-1"] || mine.PartnerWide["northgate"] != 1 || mine.Total != 4 {
		t.Errorf("NG-1's manager's counts %+v", mine)
	}
}
