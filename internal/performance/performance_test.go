package performance_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

var (
	everyone   = access.Everything()
	ng1Manager = access.ContractsScope(map[string]string{"NG-1": "northgate"})
	manager    = oversight.Actor{Kind: "person", ID: "m", Name: "Mo Manager"}
	officer    = oversight.Actor{Kind: "person", ID: "o", Name: "Sam Officer"}
	byPerson   = audit.Event{Actor: audit.Actor{Kind: audit.KindPerson, Subject: "m"}, ClientIP: "192.0.2.1", RequestID: "req-1"}

	// midJune is 10:00 in London on 15 June 2026 (BST).
	midJune = time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)
)

// outOfReach are scopes that must not reach northgate's NG-1.
var outOfReach = map[string]access.Scope{
	"another partner":                       access.PartnerScope("brightwell"),
	"a manager of another of its contracts": access.ContractsScope(map[string]string{"NG-2": "northgate"}),
	"a scope that mistakes the partner":     access.ContractsScope(map[string]string{"NG-1": "brightwell"}),
	"nobody":                                {},
}

type fixture struct {
	db        *mongo.Database
	trail     *audit.Trail
	partners  *partner.Store
	incidents *incident.Store
	oversight *oversight.Store
	staff     *staff.Store
	upkeep    *records.Upkeep
	failures  *performance.Store
	detector  *performance.Detector
	// clock is what the oversight store and upkeep take as now.
	clock *time.Time
}

// newFixture is the stores on a fresh database holding northgate, with
// contracts NG-1 (its own terms: 7 points a late notification, 90 days'
// grace) and NG-2 (the defaults), and brightwell with BW-1 (the defaults).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	partners := partner.NewStore(db).WithTrail(trail)
	ng1Terms := *performance.DefaultTerms()
	ng1Terms.LateNotification, ng1Terms.GraceDays = 7, 90
	if err := partners.Insert(ctx,
		[]partner.Partner{{ID: "northgate", Name: "Northgate Services"}, {ID: "brightwell", Name: "Brightwell Care"}},
		[]partner.Contract{
			{ID: "NG-1", PartnerID: "northgate", Title: "Accommodation North", ServiceLine: partner.AsylumAccommodation, Status: partner.Active,
				StartDate: calendar.Date(2025, 4, 1), Performance: &ng1Terms},
			{ID: "NG-2", PartnerID: "northgate", Title: "Interviews North", ServiceLine: partner.AsylumInterviews, Status: partner.Active,
				StartDate: calendar.Date(2025, 9, 1)},
			{ID: "BW-1", PartnerID: "brightwell", Title: "Screening", ServiceLine: partner.Screening, Status: partner.Active,
				StartDate: calendar.Date(2025, 4, 1)},
		}); err != nil {
		t.Fatal(err)
	}
	clock := midJune
	now := func() time.Time { return clock }
	roster := staff.NewStore(db, trail)
	books := records.NewStore(db, trail)
	for _, p := range []string{"northgate", "brightwell"} {
		if err := roster.EnsureIndexes(ctx, p); err != nil {
			t.Fatal(err)
		}
		books.Register(p)
	}
	f := &fixture{db: db, trail: trail, partners: partners, clock: &clock,
		incidents: incident.NewStore(db, trail), oversight: oversight.NewStore(db, trail, partners), staff: roster,
		upkeep:   &records.Upkeep{Records: books, Staff: roster, Partners: partners, Catalogue: requirements.Default(), Now: now},
		failures: performance.NewStore(db, trail, partners, nil)}
	f.oversight.Now = now
	f.failures.Now = now
	if err := f.incidents.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.oversight.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.failures.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	f.detector = &performance.Detector{Failures: f.failures, Partners: partners, Incidents: f.incidents, Oversight: f.oversight, Staff: roster}
	return f
}

// notify stores an incident the partner became aware of at aware and
// notified at notified, with its clocks started as the portal starts them:
// a physical assault, due within 24 hours.
func (f *fixture) notify(t *testing.T, partnerID, contractID string, aware, notified time.Time) incident.Incident {
	t.Helper()
	n := incident.Notice{ContractID: contractID, Site: "Leeds", Category: "physical_assault", OccurredAt: aware, AwareAt: aware,
		Customer: incident.Customer{Reference: "HO-1234567", AgeGroup: incident.Adult}, WhatHappened: "Two residents fought.",
		ReportedBy: incident.Reporter{Name: "Duty manager", Role: "Site manager"}, NoReferralReason: "Declined."}
	clocks, critical, err := incident.DefaultRules().Clocks(deadline.Default(), n, partner.AsylumAccommodation, notified, "Case system")
	if err != nil {
		t.Fatal(err)
	}
	in := incident.Incident{PartnerID: partnerID, Notice: n, Critical: critical, Source: "api", NotifiedAt: notified, Clocks: clocks,
		NotifiedBy: incident.Actor{Kind: "system", ID: "client-" + partnerID, Name: "Case system", Side: "partner"}}
	e := audit.Event{Actor: audit.Actor{Kind: audit.KindClient, Subject: "client-" + partnerID}, Action: "incident.create", Outcome: audit.Success}
	if err := f.incidents.Create(context.Background(), access.PartnerScope(partnerID), &in, e, nil); err != nil {
		t.Fatal(err)
	}
	return in
}

// at sets the clock and returns it.
func (f *fixture) at(t time.Time) time.Time { *f.clock = t; return t }

func (f *fixture) detect(t *testing.T, now time.Time) int {
	t.Helper()
	f.at(now)
	n, err := f.detector.Detect(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// all lists every failure recorded, latest first.
func (f *fixture) all(t *testing.T, filter performance.Filter) []performance.Failure {
	t.Helper()
	got, total, err := f.failures.List(context.Background(), everyone, filter, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if int(total) != len(got) {
		t.Fatalf("listed %d of %d", len(got), total)
	}
	return got
}

func byIndicator(fs []performance.Failure, indicator string) []performance.Failure {
	var out []performance.Failure
	for _, f := range fs {
		if f.Indicator == indicator {
			out = append(out, f)
		}
	}
	return out
}

func (f *fixture) raise(t *testing.T, contractID string, due time.Time) oversight.Action {
	t.Helper()
	a, err := f.oversight.Raise(context.Background(), everyone, oversight.NewAction{ContractID: contractID,
		Source: oversight.Source{Kind: oversight.FromReview, ID: "CMM-2026-01"}, Title: "Refresh section 55 training",
		Detail: "Every night manager completes section 55 training.", Priority: oversight.High, DueOn: due}, manager, byPerson)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) close(t *testing.T, a oversight.Action) {
	t.Helper()
	ctx := context.Background()
	a, err := f.oversight.Respond(ctx, access.PartnerScope(a.PartnerID), a.ID.Hex(), a.Version, oversight.Response{Text: "Done."}, officer, byPerson)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.oversight.Accept(ctx, everyone, a.ID.Hex(), a.Version, "", manager, byPerson); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) inspect(t *testing.T, contractID string, on time.Time, rating string) oversight.Inspection {
	t.Helper()
	ctx := context.Background()
	in, err := f.oversight.Plan(ctx, everyone, oversight.NewInspection{ContractID: contractID, Site: "Hotel Meridian, Leeds", PlannedFor: on, Announced: true}, manager, byPerson)
	if err != nil {
		t.Fatal(err)
	}
	if rating == "" {
		return in
	}
	in, err = f.oversight.Complete(ctx, everyone, in.ID.Hex(), in.Version, oversight.Completion{CompletedOn: on, Findings: "Fire doors propped open.", Rating: rating}, manager, byPerson)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// hire puts people on a partner's roster and assesses everyone there.
func (f *fixture) hire(t *testing.T, partnerID string, members ...staff.Member) []staff.Member {
	t.Helper()
	ctx := context.Background()
	for i := range members {
		members[i].ID = bson.NewObjectID()
		members[i].PartnerID = partnerID
		members[i].Name = "Person " + members[i].StaffNumber
		members[i].RoleTitle = "Housing officer"
		members[i].Sites = []string{"Leeds"}
		if members[i].Category == "" {
			members[i].Category = staff.CustomerFacingAdults
		}
	}
	if err := f.staff.InsertMany(ctx, access.PartnerScope(partnerID), partnerID, members); err != nil {
		t.Fatal(err)
	}
	if _, err := f.upkeep.ReassessPartner(ctx, partnerID, true); err != nil {
		t.Fatal(err)
	}
	return members
}

func date(y int, m time.Month, d int) time.Time { return calendar.Date(y, m, d) }

func TestLateNotifications(t *testing.T) {
	f := newFixture(t)
	late := f.notify(t, "northgate", "NG-1", time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 6, 2, 14, 0, 0, 0, time.UTC))
	f.notify(t, "northgate", "NG-1", time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC), time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC))
	lateNG2 := f.notify(t, "northgate", "NG-2", time.Date(2026, 5, 10, 8, 0, 0, 0, time.UTC), time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC))
	// Late, but before the year detection looks back over.
	f.notify(t, "northgate", "NG-1", time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC), time.Date(2025, 5, 3, 8, 0, 0, 0, time.UTC))

	if n := f.detect(t, midJune); n != 2 {
		t.Fatalf("recorded %d failures, want the 2 late notifications of the last year", n)
	}
	got := f.all(t, performance.Filter{})
	if len(got) != 2 {
		t.Fatalf("%d failures stored", len(got))
	}
	june, may := got[0], got[1]
	if june.Indicator != performance.LateNotification || june.ContractID != "NG-1" || june.PartnerID != "northgate" ||
		!june.Month.Equal(date(2026, 6, 1)) || !june.OccurredOn.Equal(date(2026, 6, 2)) || june.Points != 7 || june.Version != 1 || june.Waived {
		t.Errorf("NG-1's late notification: %+v", june)
	}
	if ev := june.Evidence; ev.IncidentID != late.ID.Hex() || ev.IncidentReference != late.Reference || ev.LateBy != 6*time.Hour ||
		ev.NotifiedAt == nil || !ev.NotifiedAt.Equal(late.NotifiedAt) {
		t.Errorf("evidence: %+v", ev)
	}
	// NG-2 has the default terms: 3 points.
	if may.ContractID != "NG-2" || may.Evidence.IncidentID != lateNG2.ID.Hex() || !may.Month.Equal(date(2026, 5, 1)) || may.Points != 3 ||
		may.Evidence.LateBy != 2*time.Hour {
		t.Errorf("NG-2's late notification: %+v", may)
	}
	// The detector's recording is on the trail, without the evidence.
	f.flush(t)
	events := f.events(t, "performance_failure/"+june.ID.Hex())
	if len(events) != 1 || events[0].Action != "performance.record" || events[0].Actor.Kind != audit.KindSystem ||
		events[0].PartnerID != "northgate" || events[0].Detail != "late_notification, 7 points, 2026-06" {
		t.Errorf("audit events: %+v", events)
	}
	f.verify(t, late.Reference)
}

// A month is a London calendar month: an incident notified at 23:30 UTC
// on 31 March 2026 reached the department at 00:30 on 1 April (BST), one
// at 23:30 UTC on 31 January at 23:30 on 31 January (GMT).
func TestMonthsAreLondonMonths(t *testing.T) {
	f := newFixture(t)
	april := f.notify(t, "northgate", "NG-2", time.Date(2026, 3, 30, 20, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC))
	january := f.notify(t, "northgate", "NG-2", time.Date(2026, 1, 30, 20, 0, 0, 0, time.UTC), time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC))
	f.detect(t, midJune)
	for _, fl := range f.all(t, performance.Filter{}) {
		want := map[string]time.Time{april.ID.Hex(): date(2026, 4, 1), january.ID.Hex(): date(2026, 1, 31)}[fl.Evidence.IncidentID]
		if !fl.OccurredOn.Equal(want) || !fl.Month.Equal(date(want.Year(), want.Month(), 1)) {
			t.Errorf("incident notified %v: occurred on %v in month %v, want %v", fl.Evidence.NotifiedAt, fl.OccurredOn, fl.Month, want)
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		month        time.Time
		want         int
		quarterWants int
	}{
		{date(2026, 3, 1), 0, 1}, {date(2026, 4, 1), 1, 1}, {date(2026, 1, 31), 1, 1}, {date(2026, 2, 1), 0, 1},
	} {
		scores, err := f.failures.Scores(ctx, everyone, tc.month)
		if err != nil {
			t.Fatal(err)
		}
		if got := scores["NG-2"]; got.Failures != tc.want || got.Points != 3*tc.want {
			t.Errorf("NG-2 in %s: %+v, want %d failures", tc.month.Format("January 2006"), got, tc.want)
		}
		quarters, err := f.failures.QuarterScores(ctx, everyone, tc.month)
		if err != nil {
			t.Fatal(err)
		}
		if q := quarters["NG-2"]; q.Failures != tc.quarterWants || len(q.Months) != 3 {
			t.Errorf("NG-2's quarter holding %s: %+v", tc.month.Format("January 2006"), q)
		}
	}

	// An action due on 31 March is overdue from 1 April in London, which
	// starts at 23:00 UTC on 31 March.
	f.at(date(2026, 3, 1).Add(9 * time.Hour))
	a := f.raise(t, "NG-1", date(2026, 3, 31))
	if n := f.detect(t, time.Date(2026, 3, 31, 22, 59, 0, 0, time.UTC)); n != 0 {
		t.Errorf("recorded %d failures at 23:59 on its due day in London", n)
	}
	if n := f.detect(t, time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)); n != 1 {
		t.Fatalf("recorded %d failures at midnight in London, want the overdue action", n)
	}
	got := byIndicator(f.all(t, performance.Filter{ContractID: "NG-1"}), performance.OverdueAction)
	if len(got) != 1 || !got[0].Month.Equal(date(2026, 4, 1)) || !got[0].OccurredOn.Equal(date(2026, 4, 1)) || got[0].Evidence.ActionID != a.ID.Hex() {
		t.Errorf("overdue action: %+v", got)
	}
}

func TestMonthAndQuarterOf(t *testing.T) {
	for _, tc := range []struct {
		at             time.Time
		month, quarter time.Time
	}{
		{time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), date(2026, 7, 1), date(2026, 7, 1)},
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), date(2026, 12, 1), date(2026, 10, 1)},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), date(2026, 3, 1), date(2026, 1, 1)},
		{time.Date(2026, 5, 31, 22, 59, 0, 0, time.UTC), date(2026, 5, 1), date(2026, 4, 1)},
	} {
		if m := performance.MonthOf(tc.at); !m.Equal(tc.month) {
			t.Errorf("MonthOf(%v) = %v, want %v", tc.at, m, tc.month)
		}
		if q := performance.QuarterOf(tc.month); !q.Equal(tc.quarter) {
			t.Errorf("QuarterOf(%v) = %v, want %v", tc.month, q, tc.quarter)
		}
	}
}

// An overdue action scores once in each month it is overdue in; closing it
// stops it scoring, and keeps what it scored.
func TestOverdueActions(t *testing.T) {
	f := newFixture(t)
	f.at(date(2026, 1, 5).Add(9 * time.Hour))
	long := f.raise(t, "NG-1", date(2026, 2, 10))
	closedLate := f.raise(t, "NG-1", date(2026, 3, 1))
	f.raise(t, "NG-2", date(2026, 12, 31)) // never overdue here
	closedInTime := f.raise(t, "BW-1", date(2026, 3, 1))
	f.at(date(2026, 2, 20).Add(9 * time.Hour))
	f.close(t, closedInTime)

	if n := f.detect(t, date(2026, 3, 10).Add(9*time.Hour)); n != 3 {
		t.Fatalf("10 March: recorded %d, want February and March for one action and March for the other", n)
	}
	f.at(date(2026, 3, 20).Add(9 * time.Hour))
	f.close(t, closedLate)
	if n := f.detect(t, date(2026, 4, 5).Add(9*time.Hour)); n != 1 {
		t.Fatalf("5 April: recorded %d, want April for the action still open", n)
	}
	if n := f.detect(t, midJune); n != 2 {
		t.Fatalf("15 June: recorded %d, want May and June", n)
	}
	f.at(date(2026, 6, 16).Add(9 * time.Hour))
	f.close(t, long)
	if n := f.detect(t, date(2026, 7, 2).Add(9*time.Hour)); n != 0 {
		t.Fatalf("after closing: recorded %d", n)
	}
	got := f.all(t, performance.Filter{})
	var months []string
	for _, fl := range got {
		if fl.Indicator != performance.OverdueAction || fl.Points != 2 || fl.ContractID != "NG-1" || fl.Evidence.DueOn == nil {
			t.Errorf("failure %+v", fl)
			continue
		}
		months = append(months, fl.Month.Format("2006-01")+" "+fl.OccurredOn.Format("02")+" "+map[string]string{
			long.ID.Hex(): "long", closedLate.ID.Hex(): "closed late"}[fl.Evidence.ActionID])
	}
	slices.Sort(months)
	want := []string{"2026-02 11 long", "2026-03 01 long", "2026-03 02 closed late", "2026-04 01 long", "2026-05 01 long", "2026-06 01 long"}
	if !slices.Equal(months, want) {
		t.Errorf("overdue months %q, want %q", months, want)
	}
}

func TestFailedInspections(t *testing.T) {
	f := newFixture(t)
	failed := f.inspect(t, "NG-2", date(2026, 6, 2), oversight.Inadequate)
	f.inspect(t, "NG-2", date(2026, 6, 3), oversight.RequiresImprovement)
	f.inspect(t, "BW-1", date(2026, 6, 20), "") // planned only
	if n := f.detect(t, midJune); n != 1 {
		t.Fatalf("recorded %d, want the inadequate inspection", n)
	}
	got := f.all(t, performance.Filter{})
	if len(got) != 1 {
		t.Fatalf("%d failures", len(got))
	}
	fl := got[0]
	if fl.Indicator != performance.FailedInspection || fl.ContractID != "NG-2" || fl.Points != 5 || !fl.OccurredOn.Equal(date(2026, 6, 2)) ||
		fl.Evidence.InspectionID != failed.ID.Hex() || fl.Evidence.Rating != oversight.Inadequate || fl.Evidence.Site != "Hotel Meridian, Leeds" ||
		fl.Evidence.InspectedOn == nil || !fl.Evidence.InspectedOn.Equal(date(2026, 6, 2)) {
		t.Errorf("failed inspection: %+v", fl)
	}
}

// Someone working without required training or vetting scores once per
// contract per month, once past the contract's grace period; leavers never.
func TestStaffWithoutRequirements(t *testing.T) {
	f := newFixture(t)
	ps := f.hire(t, "northgate",
		staff.Member{StaffNumber: "NEW", StartDate: date(2026, 6, 5), Active: true},    // 10 days: within any grace
		staff.Member{StaffNumber: "SPRING", StartDate: date(2026, 4, 1), Active: true}, // 75 days: past NG-2's 28, not NG-1's 90
		staff.Member{StaffNumber: "LEFT", StartDate: date(2020, 1, 1), Active: false, LeavingDate: ptr(date(2026, 5, 1))},
		staff.Member{StaffNumber: "LEAVING", StartDate: date(2020, 1, 1), Active: true, LeavingDate: ptr(date(2026, 7, 1))},
		staff.Member{StaffNumber: "NONE", Category: "-", StartDate: date(2020, 1, 1), Active: true}, // no category: nothing required
	)
	bw := f.hire(t, "brightwell", staff.Member{StaffNumber: "BW", StartDate: date(2024, 1, 1), Active: true})
	// Put on the roster after the last assessment: nothing is known of them yet.
	if err := f.staff.InsertMany(context.Background(), access.PartnerScope("northgate"), "northgate",
		[]staff.Member{{PartnerID: "northgate", StaffNumber: "UNASSESSED", Name: "U", RoleTitle: "R", Category: staff.CustomerFacingAdults,
			StartDate: date(2020, 1, 1), Active: true}}); err != nil {
		t.Fatal(err)
	}

	if n := f.detect(t, midJune); n != 4 {
		t.Fatalf("recorded %d, want SPRING under NG-2, LEAVING under NG-1 and NG-2, BW under BW-1", n)
	}
	var who []string
	for _, fl := range f.all(t, performance.Filter{}) {
		who = append(who, fl.Evidence.StaffNumber+" "+fl.ContractID)
		if fl.Indicator != performance.StaffNotCompliant || !fl.Month.Equal(date(2026, 6, 1)) || fl.Points != 1 || len(fl.Evidence.Missing) != 12 {
			t.Errorf("failure %+v", fl)
		}
	}
	slices.Sort(who)
	if want := []string{"BW BW-1", "LEAVING NG-1", "LEAVING NG-2", "SPRING NG-2"}; !slices.Equal(who, want) {
		t.Errorf("failures for %q, want %q", who, want)
	}
	spring := f.all(t, performance.Filter{ContractID: "NG-2", Month: date(2026, 6, 1)})
	for _, fl := range spring {
		if fl.Evidence.StaffNumber != "SPRING" {
			continue
		}
		ev := fl.Evidence
		if ev.StaffID != ps[1].ID.Hex() || ev.Since == nil || !ev.Since.Equal(date(2026, 4, 1)) || !fl.OccurredOn.Equal(date(2026, 6, 1)) {
			t.Errorf("SPRING's evidence: %+v, occurred %v", ev, fl.OccurredOn)
		}
		if m := ev.Missing[0]; m.State != "missing" || !m.Since.Equal(date(2026, 4, 1)) || m.Key == "" {
			t.Errorf("SPRING's first missing requirement: %+v", m)
		}
	}
	// LEAVING started before NG-2 did: the days run from the contract's start.
	for _, fl := range f.all(t, performance.Filter{ContractID: "NG-2"}) {
		if fl.Evidence.StaffNumber == "LEAVING" && !fl.Evidence.Since.Equal(date(2025, 9, 1)) {
			t.Errorf("LEAVING under NG-2 since %v, want the contract's start", fl.Evidence.Since)
		}
	}
	if got := f.all(t, performance.Filter{ContractID: "BW-1"}); len(got) != 1 || got[0].Evidence.StaffID != bw[0].ID.Hex() || got[0].PartnerID != "brightwell" {
		t.Errorf("brightwell's failures: %+v", got)
	}

	// Again the same month: nothing new. Next month, once assessed again:
	// LEAVING has left; NEW is past NG-2's grace (5 June + 28 days), SPRING
	// past NG-1's (1 April + 90 days); UNASSESSED has been assessed.
	if n := f.detect(t, midJune.Add(time.Hour)); n != 0 {
		t.Errorf("a second run recorded %d", n)
	}
	july := f.at(time.Date(2026, 7, 6, 9, 0, 0, 0, time.UTC))
	if _, err := f.upkeep.ReassessPartner(context.Background(), "northgate", true); err != nil {
		t.Fatal(err)
	}
	if n := f.detect(t, july); n != 6 {
		t.Errorf("in July recorded %d, want 6", n)
	}
	who = nil
	for _, fl := range f.all(t, performance.Filter{Month: date(2026, 7, 1)}) {
		who = append(who, fl.Evidence.StaffNumber+" "+fl.ContractID)
	}
	slices.Sort(who)
	if want := []string{"BW BW-1", "NEW NG-2", "SPRING NG-1", "SPRING NG-2", "UNASSESSED NG-1", "UNASSESSED NG-2"}; !slices.Equal(who, want) {
		t.Errorf("July's failures for %q, want %q", who, want)
	}
}

func ptr[T any](v T) *T { return &v }

// Detection run again, or on several replicas at once, records each
// failure once, with one audit event.
func TestDetectionIsIdempotent(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.notify(t, "northgate", "NG-2", time.Date(2026, 6, 1, 8, i, 0, 0, time.UTC), time.Date(2026, 6, 2, 14, 0, 0, 0, time.UTC))
	}
	f.at(date(2026, 5, 1).Add(9 * time.Hour))
	f.raise(t, "NG-1", date(2026, 5, 10))
	f.at(midJune)
	f.inspect(t, "BW-1", date(2026, 5, 20), oversight.Inadequate)
	f.hire(t, "brightwell", staff.Member{StaffNumber: "BW-1", StartDate: date(2024, 1, 1), Active: true},
		staff.Member{StaffNumber: "BW-2", StartDate: date(2024, 1, 1), Active: true})
	const want = 5 + 2 + 1 + 2 // incidents, action in May and June, inspection, people

	// Replicas: stores of their own (their own locks and trail) over one database.
	var wg sync.WaitGroup
	added := make([]int, 4)
	trails := make([]*audit.Trail, len(added))
	for i := range added {
		trails[i] = audit.New(f.db)
		replica := *f.detector
		replica.Failures = performance.NewStore(f.db, trails[i], f.partners, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := replica.Detect(context.Background(), midJune)
			if err != nil {
				t.Error(err)
			}
			added[i] = n
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range added {
		total += n
	}
	if total != want {
		t.Errorf("replicas recorded %v, %d in all; want %d", added, total, want)
	}
	if got := f.all(t, performance.Filter{}); len(got) != want {
		t.Errorf("%d failures stored, want %d", len(got), want)
	}
	if n := f.detect(t, midJune); n != 0 {
		t.Errorf("running again recorded %d", n)
	}
	ctx := context.Background()
	for _, tr := range trails {
		if err := tr.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.flush(t)
	n, err := f.db.Collection("audit_events").CountDocuments(ctx, bson.D{{Key: "action", Value: "performance.record"}})
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%d performance.record events, want %d", n, want)
	}
	f.verify(t)
}

func (f *fixture) flush(t *testing.T) {
	t.Helper()
	if err := f.trail.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// events returns the trail's events about a resource, oldest first.
func (f *fixture) events(t *testing.T, resource string) []audit.Event {
	t.Helper()
	got, _, err := f.trail.Search(context.Background(), audit.Query{Resource: resource, Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(got)
	return got
}

// verify checks the whole trail chains and holds none of freeText.
func (f *fixture) verify(t *testing.T, freeText ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.trail.Verify(ctx); err != nil {
		t.Fatalf("the trail does not verify: %v", err)
	}
	cur, err := f.db.Collection("audit_events").Find(ctx, bson.D{{Key: "action", Value: bson.D{{Key: "$regex", Value: "^performance"}}}})
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

func TestWaive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 2 {
		f.notify(t, "northgate", "NG-1", time.Date(2026, 6, 1, 8, i, 0, 0, time.UTC), time.Date(2026, 6, 2, 14, 0, 0, 0, time.UTC))
	}
	f.detect(t, midJune)
	fs := f.all(t, performance.Filter{ContractID: "NG-1"})
	fl := fs[0]
	id := fl.ID.Hex()
	const reason = "The partner's system was down; Ms Jones telephoned the incident through in time."

	for name, scope := range outOfReach {
		if _, err := f.failures.Waive(ctx, scope, id, 1, reason, performance.Actor{ID: "m", Name: "Mo"}, byPerson); !errors.Is(err, performance.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
		if _, err := f.failures.Get(ctx, scope, id); !errors.Is(err, performance.ErrNotFound) {
			t.Errorf("%s reads it: %v", name, err)
		}
	}
	for _, bad := range []string{"nonsense", "", "000000000000000000000000"} {
		if _, err := f.failures.Waive(ctx, everyone, bad, 1, reason, performance.Actor{ID: "m", Name: "Mo"}, byPerson); !errors.Is(err, performance.ErrNotFound) {
			t.Errorf("waive %q: %v", bad, err)
		}
	}
	for reason, want := range map[string]string{
		"  ":                      "Enter the reason for waiving the failure",
		strings.Repeat("x", 2001): "The reason must be 2000 characters or fewer",
		"fine\u202e":              "The reason must not contain hidden or control characters",
	} {
		var inv *performance.ErrInvalid
		if _, err := f.failures.Waive(ctx, ng1Manager, id, 1, reason, performance.Actor{ID: "m", Name: "Mo"}, byPerson); !errors.As(err, &inv) || inv.Message != want {
			t.Errorf("reason %.10q: %v, want %q", reason, err, want)
		}
	}
	if _, err := f.failures.Waive(ctx, ng1Manager, id, 2, reason, performance.Actor{ID: "m", Name: "Mo"}, byPerson); !errors.Is(err, performance.ErrConflict) {
		t.Errorf("from a version never seen: %v", err)
	}

	before, err := f.failures.Scores(ctx, ng1Manager, date(2026, 6, 1))
	if err != nil {
		t.Fatal(err)
	}
	if s := before["NG-1"]; s.Points != 14 || s.Failures != 2 || s.Waived != 0 || s.Threshold != 10 || !s.ServiceCredit {
		t.Errorf("before the waiver: %+v", s)
	}
	// Two managers at once: one waiver.
	var wg sync.WaitGroup
	var won, lost int
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.failures.Waive(ctx, ng1Manager, id, 1, reason, performance.Actor{ID: "m", Name: "Mo Manager"}, byPerson)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, performance.ErrConflict):
				lost++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 3 {
		t.Errorf("%d waivers won, %d lost; want 1 and 3", won, lost)
	}
	got, err := f.failures.Get(ctx, ng1Manager, id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Waived || got.Waiver == nil || got.Waiver.Reason != reason || got.Waiver.By.Name != "Mo Manager" || got.Version != 2 || got.Waiver.At.IsZero() {
		t.Errorf("waived failure: %+v %+v", got, got.Waiver)
	}
	after, err := f.failures.Scores(ctx, ng1Manager, date(2026, 6, 1))
	if err != nil {
		t.Fatal(err)
	}
	if s := after["NG-1"]; s.Points != 7 || s.Failures != 1 || s.Waived != 1 || s.ServiceCredit {
		t.Errorf("after the waiver: %+v", s)
	}
	// Still listed, marked waived; detection leaves it as it is.
	if f.detect(t, midJune.Add(time.Hour)) != 0 || len(f.all(t, performance.Filter{ContractID: "NG-1"})) != 2 {
		t.Error("detection after the waiver changed the failures")
	}
	if got, _ := f.failures.Get(ctx, everyone, id); !got.Waived {
		t.Error("detection undid the waiver")
	}
	f.flush(t)
	events := f.events(t, "performance_failure/"+id)
	// The detector's event may reach the trail after the waiver's.
	slices.SortFunc(events, func(a, b audit.Event) int { return strings.Compare(a.Action, b.Action) })
	if len(events) != 2 || events[0].Action != "performance.record" || events[1].Action != "performance.waive" || events[1].Actor.Subject != "m" ||
		events[1].PartnerID != "northgate" || events[1].Detail != "late_notification, 7 points, 2026-06" {
		t.Errorf("audit events: %+v", events)
	}
	f.verify(t, "Ms Jones", "telephoned")
}

func TestScoresAndLists(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 4 {
		f.notify(t, "northgate", "NG-2", time.Date(2026, 6, 1, 8, i, 0, 0, time.UTC), time.Date(2026, 6, 2, 14, i, 0, 0, time.UTC))
	}
	f.notify(t, "northgate", "NG-2", time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 5, 2, 14, 0, 0, 0, time.UTC))
	f.notify(t, "brightwell", "BW-1", time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 6, 2, 14, 0, 0, 0, time.UTC))
	f.detect(t, midJune)

	june := date(2026, 6, 1)
	scores, err := f.failures.Scores(ctx, everyone, june)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]performance.Score{
		"NG-1": {ContractID: "NG-1", PartnerID: "northgate", Month: june, Threshold: 10},
		"NG-2": {ContractID: "NG-2", PartnerID: "northgate", Month: june, Points: 12, Failures: 4, Threshold: 10, ServiceCredit: true},
		"BW-1": {ContractID: "BW-1", PartnerID: "brightwell", Month: june, Points: 3, Failures: 1, Threshold: 10},
	}
	if len(scores) != len(want) {
		t.Errorf("scores for %d contracts, want %d", len(scores), len(want))
	}
	for id, w := range want {
		if got := scores[id]; got != w {
			t.Errorf("%s: %+v, want %+v", id, got, w)
		}
	}
	// Any day of the month names the month.
	if s, _ := f.failures.Scores(ctx, everyone, date(2026, 6, 30)); s["NG-2"].Points != 12 {
		t.Errorf("scores asked by the month's last day: %+v", s["NG-2"])
	}
	quarters, err := f.failures.QuarterScores(ctx, everyone, june)
	if err != nil {
		t.Fatal(err)
	}
	if q := quarters["NG-2"]; q.Points != 15 || q.Failures != 5 || q.OverThreshold != 1 || len(q.Months) != 3 ||
		!q.Months[0].Month.Equal(date(2026, 4, 1)) || q.Months[1].Points != 3 || q.Months[2].Points != 12 {
		t.Errorf("NG-2's quarter: %+v", q)
	}
	for name, tc := range map[string]struct {
		scope access.Scope
		want  []string
	}{
		"NG-1's manager": {ng1Manager, []string{"NG-1"}},
		"northgate":      {access.PartnerScope("northgate"), []string{"NG-1", "NG-2"}},
		"brightwell":     {access.PartnerScope("brightwell"), []string{"BW-1"}},
		"nobody":         {access.Scope{}, nil},
	} {
		s, err := f.failures.Scores(ctx, tc.scope, june)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for id := range s {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s scores %v, want %v", name, ids, tc.want)
		}
		l, _, err := f.failures.List(ctx, tc.scope, performance.Filter{}, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range l {
			if !slices.Contains(tc.want, fl.ContractID) {
				t.Errorf("%s lists a failure of %s", name, fl.ContractID)
			}
		}
	}
	// A contract's own threshold decides its service credit.
	ct, err := f.partners.GetContract(ctx, everyone, "NG-2")
	if err != nil {
		t.Fatal(err)
	}
	terms := *performance.DefaultTerms()
	terms.Threshold = 12
	if err := f.partners.SetPerformanceTerms(ctx, everyone, "NG-2", ct.Version, &terms, audit.Event{Actor: byPerson.Actor, Action: "contract.performance_terms", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.failures.Scores(ctx, everyone, june); s["NG-2"].Threshold != 12 || s["NG-2"].ServiceCredit {
		t.Errorf("12 points against a threshold of 12: %+v", s["NG-2"])
	}

	// Pages of a month's list, never repeating or skipping one.
	seen := map[string]bool{}
	for page, size := range []int{3, 1, 0} {
		l, total, err := f.failures.List(ctx, everyone, performance.Filter{ContractID: "NG-2", Month: june}, page+1, 3)
		if err != nil || total != 4 || len(l) != size {
			t.Fatalf("page %d: %d of %d, %v", page+1, len(l), total, err)
		}
		for _, fl := range l {
			if !fl.Month.Equal(june) {
				t.Errorf("June's list holds a failure of %v", fl.Month)
			}
			seen[fl.ID.Hex()] = true
		}
	}
	if len(seen) != 4 {
		t.Errorf("pages listed %d different failures, want 4", len(seen))
	}
}

// A second start finds the indexes the first made.
func TestEnsureIndexesAgain(t *testing.T) {
	f := newFixture(t)
	if err := f.failures.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The stored scores are worked out again by every detection run: one left
// wrong (a run stopped between recording failures and counting them) is
// made good by the next.
func TestScoresAreMadeGoodByTheNextRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 2 {
		f.notify(t, "northgate", "NG-2", time.Date(2026, 6, 1, 8, i, 0, 0, time.UTC), time.Date(2026, 6, 2, 14, 0, 0, 0, time.UTC))
	}
	f.detect(t, midJune)
	scores := f.db.Collection("performance_scores")
	if _, err := scores.UpdateOne(ctx, bson.D{{Key: "_id", Value: "NG-2 2026-06"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "points", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := scores.DeleteOne(ctx, bson.D{{Key: "_id", Value: "NG-2 2026-06"}}); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.failures.Scores(ctx, everyone, midJune); s["NG-2"].Points != 0 {
		t.Fatalf("with the score gone: %+v", s["NG-2"])
	}
	if n := f.detect(t, midJune.Add(time.Hour)); n != 0 {
		t.Errorf("recorded %d", n)
	}
	if s, _ := f.failures.Scores(ctx, everyone, midJune); s["NG-2"].Points != 6 || s["NG-2"].Failures != 2 {
		t.Errorf("after the next run: %+v", s["NG-2"])
	}
}
