package incident_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func newStore(t *testing.T) *incident.Store {
	t.Helper()
	db := storetest.Database(t)
	trail := audit.New(db)
	if err := trail.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := incident.NewStore(db, trail)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func create(t *testing.T, s *incident.Store, partnerID, contractID string) incident.Incident {
	t.Helper()
	in := incident.Incident{PartnerID: partnerID, Notice: validNotice(), Source: "api",
		NotifiedBy: incident.Actor{Kind: "system", ID: "client-" + partnerID, Name: "Case system", Side: "partner"}}
	in.ContractID = contractID
	if err := s.Create(context.Background(), access.PartnerScope(partnerID), &in, audit.Event{Actor: audit.Actor{Kind: "client", Subject: "client-" + partnerID}, Action: "incident.create", Outcome: audit.Success}, nil); err != nil {
		t.Fatal(err)
	}
	return in
}

var referencePattern = regexp.MustCompile(`^SI-20\d\d-[0-9A-HJKMNP-TV-Z]{7}$`)

func TestCreateAndReachOnlyWithinScope(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	in := create(t, s, "northgate", "NG-1")
	if !referencePattern.MatchString(in.Reference) || in.Status != incident.Notified || in.Version != 1 || len(in.Updates) != 1 {
		t.Fatalf("created %+v", in)
	}
	got, err := s.Get(ctx, access.PartnerScope("northgate"), in.ID.Hex())
	if err != nil || got.Reference != in.Reference || got.WhatHappened != in.WhatHappened {
		t.Fatalf("Get own: %+v %v", got, err)
	}
	if got.Indicators[0] != "mental_health" || got.Indicators[1] != "victim_of_assault" {
		t.Errorf("indicators %v, want the strategy's order", got.Indicators)
	}
	for name, scope := range map[string]access.Scope{
		"another partner":              access.PartnerScope("brightwell"),
		"a manager of other contracts": access.ContractsScope(map[string]string{"NG-2": "northgate"}),
		"nobody":                       {},
	} {
		if _, err := s.Get(ctx, scope, in.ID.Hex()); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	for _, id := range []string{"", "nonsense", "000000000000000000000000"} {
		if _, err := s.Get(ctx, access.Everything(), id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Get(%q): %v", id, err)
		}
	}
	if _, err := s.Get(ctx, access.ContractsScope(map[string]string{"NG-1": "northgate"}), in.ID.Hex()); err != nil {
		t.Errorf("the contract's manager: %v", err)
	}
	other := incident.Incident{PartnerID: "northgate", Notice: validNotice()}
	other.ContractID = "BW-1"
	if err := s.Create(ctx, access.ContractsScope(map[string]string{"NG-1": "northgate"}), &other, audit.Event{Actor: audit.Actor{Kind: "person", Subject: "x"}, Action: "incident.create", Outcome: audit.Success}, nil); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("creating under a contract out of reach: %v", err)
	}
}

func TestListInUpdateOrderWithCursor(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	var ids []string
	for range 7 {
		ids = append(ids, create(t, s, "northgate", "NG-1").ID.Hex())
	}
	create(t, s, "brightwell", "BW-1")
	scope := access.PartnerScope("northgate")
	var seen []string
	q := incident.Query{Limit: 3}
	for page := 0; ; page++ {
		got, more, err := s.List(ctx, scope, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range got {
			if in.PartnerID != "northgate" {
				t.Fatalf("listed another partner's incident")
			}
			seen = append(seen, in.ID.Hex())
		}
		if !more {
			break
		}
		last := got[len(got)-1]
		q.After = &incident.Cursor{UpdatedAt: last.UpdatedAt, ID: last.ID}
		if page > 5 {
			t.Fatal("the cursor does not advance")
		}
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %d, want %d", len(seen), len(ids))
	}
	for i := range ids {
		if seen[i] != ids[i] {
			t.Fatalf("order %v, want %v", seen, ids)
		}
	}
	since, _, err := s.List(ctx, scope, incident.Query{UpdatedSince: time.Date(2026, 11, 23, 9, 0, 5, 0, time.UTC), Limit: 100})
	if err != nil || len(since) != 3 {
		t.Errorf("updated since the 5th: %d incidents, %v; want 3", len(since), err)
	}
	none, _, err := s.List(ctx, scope, incident.Query{Status: incident.Closed, Limit: 10})
	if err != nil || len(none) != 0 {
		t.Errorf("closed: %d, %v", len(none), err)
	}
}

// A caller that chose the ID (the API, so a retry can find what its first
// attempt made) keeps it, and the same ID cannot be stored twice.
func TestCreateKeepsAChosenID(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	chosen := bson.NewObjectID()
	in := incident.Incident{ID: chosen, PartnerID: "northgate", Notice: validNotice(), Source: "api"}
	in.ContractID = "NG-1"
	ev := audit.Event{Actor: audit.Actor{Kind: "client", Subject: "c"}, Action: "incident.create", Outcome: audit.Success}
	if err := s.Create(ctx, access.PartnerScope("northgate"), &in, ev, nil); err != nil || in.ID != chosen {
		t.Fatalf("created %v (%v), want the chosen ID %v", in.ID, err, chosen)
	}
	again := incident.Incident{ID: chosen, PartnerID: "northgate", Notice: validNotice(), Source: "api"}
	again.ContractID = "NG-1"
	if err := s.Create(ctx, access.PartnerScope("northgate"), &again, ev, nil); err == nil {
		t.Error("the same ID was stored twice")
	}
}

// A partner's idempotency key notifies one incident: using it again stores
// nothing and ByKey finds the first, with the response kept for retries.
// Another partner may use the same key, and cannot find the first's.
func TestCreateWithAnIdempotencyKeyStoresOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ev := audit.Event{Actor: audit.Actor{Kind: "client", Subject: "c"}, Action: "incident.create", Outcome: audit.Success}
	notify := func(partnerID, contractID string) (incident.Incident, error) {
		in := incident.Incident{PartnerID: partnerID, Notice: validNotice(), Source: "api", IdempotencyKey: "key-0001", RequestHash: "h1"}
		in.ContractID = contractID
		err := s.Create(ctx, access.PartnerScope(partnerID), &in, ev, func(in incident.Incident) ([]byte, error) {
			return []byte(`{"reference":"` + in.Reference + `"}`), nil
		})
		return in, err
	}
	first, err := notify("northgate", "NG-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify("northgate", "NG-1"); !errors.Is(err, incident.ErrKeyTaken) {
		t.Fatalf("the key used again: %v, want ErrKeyTaken", err)
	}
	found, err := s.ByKey(ctx, access.PartnerScope("northgate"), "northgate", "key-0001")
	if err != nil || found.ID != first.ID || string(found.FirstResponse) != `{"reference":"`+first.Reference+`"}` || found.RequestHash != "h1" {
		t.Fatalf("ByKey: %v %s (%v), want the first incident and its response", found.ID, found.FirstResponse, err)
	}
	if _, err := s.ByKey(ctx, access.PartnerScope("brightwell"), "northgate", "key-0001"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("another partner found northgate's incident by its key: %v", err)
	}
	if _, err := notify("brightwell", "BW-1"); err != nil {
		t.Errorf("another partner's same key: %v", err)
	}
	if all, _, err := s.List(ctx, access.Everything(), incident.Query{Limit: 10}); err != nil || len(all) != 2 {
		t.Errorf("%d incidents (%v), want 2", len(all), err)
	}
}

// Timeliness counts each contract's incidents and the late ones by the
// department's clock only, within the caller's reach.
func TestTimeliness(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ev := audit.Event{Actor: audit.Actor{Kind: "client", Subject: "c"}, Action: "incident.create", Outcome: audit.Success}
	add := func(partnerID, contractID string, clocks ...incident.Clock) {
		in := incident.Incident{PartnerID: partnerID, Notice: validNotice(), Source: "api", Clocks: clocks}
		in.ContractID = contractID
		if err := s.Create(ctx, access.PartnerScope(partnerID), &in, ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	onTime := incident.Clock{Regime: "department"}
	late := func(d time.Duration) incident.Clock { return incident.Clock{Regime: "department", LateBy: d} }
	icoLate := incident.Clock{Regime: "ico", LateBy: 5 * time.Hour}
	add("northgate", "NG-1", onTime)
	add("northgate", "NG-1", late(2*time.Hour))
	add("northgate", "NG-1", late(4*time.Hour), icoLate)
	add("northgate", "NG-1", onTime, icoLate) // late to the ICO, on time to the department
	add("northgate", "NG-2", onTime)
	add("brightwell", "BW-1", late(time.Hour))

	got, err := s.TimelinessSince(ctx, access.Everything(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []incident.Timeliness{
		{ContractID: "BW-1", PartnerID: "brightwell", Notified: 1, Late: 1, LateBy: time.Hour},
		{ContractID: "NG-1", PartnerID: "northgate", Notified: 4, Late: 2, LateBy: 6 * time.Hour},
		{ContractID: "NG-2", PartnerID: "northgate", Notified: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if p := got[1].OnTimePercent(); p != 50 || got[1].AverageLateness() != 3*time.Hour {
		t.Errorf("NG-1: %.0f%% on time, %v late on average", p, got[1].AverageLateness())
	}
	mine, err := s.TimelinessSince(ctx, access.PartnerScope("brightwell"), time.Now().Add(-time.Hour))
	if err != nil || len(mine) != 1 || mine[0].ContractID != "BW-1" {
		t.Errorf("brightwell's own: %+v %v", mine, err)
	}
	later, err := s.TimelinessSince(ctx, access.Everything(), time.Now().Add(time.Hour))
	if err != nil || len(later) != 0 {
		t.Errorf("since a later time: %+v %v", later, err)
	}
}
