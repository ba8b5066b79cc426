package incident_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
)

var (
	manager   = incident.Actor{Kind: "person", ID: "m", Name: "Mo Manager", Side: "department"}
	lead      = incident.Actor{Kind: "person", ID: "l", Name: "Lee Lead", Side: "department"}
	officer   = incident.Actor{Kind: "person", ID: "o", Name: "Sam Officer", Side: "partner"}
	anyEvent  = audit.Event{Actor: audit.Actor{Kind: "person", Subject: "x"}, Action: "incident.create", Outcome: audit.Success}
	northOnly = access.PartnerScope("northgate")
	everyone  = access.Everything()
)

func wantInvalid(t *testing.T, err error, message string) {
	t.Helper()
	var inv *incident.ErrInvalid
	if !errors.As(err, &inv) || !strings.Contains(inv.Message, message) {
		t.Errorf("error %v, want ErrInvalid containing %q", err, message)
	}
}

// The department's review of an incident, from acknowledgement to closure,
// with the partner answering a request for information.
func TestReviewWithARequestForInformation(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	in := create(t, s, "northgate", "NG-1")
	id := in.ID.Hex()
	if _, err := s.Close(ctx, everyone, id, in.Version, manager, anyEvent); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("closing a notified incident: %v, want ErrConflict", err)
	}
	got, err := s.Acknowledge(ctx, everyone, id, 1, manager, "", anyEvent)
	if err != nil || got.Status != incident.UnderReview || got.AcknowledgedAt == nil || got.Version != 2 {
		t.Fatalf("acknowledge: %+v %v", got, err)
	}
	if _, err := s.Acknowledge(ctx, everyone, id, 1, manager, "", anyEvent); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("acknowledging twice: %v", err)
	}
	if _, err := s.RequestInformation(ctx, everyone, id, 1, manager, "Which police station?", anyEvent); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("a request on a version the manager did not see: %v", err)
	}
	_, err = s.RequestInformation(ctx, everyone, id, 2, manager, " ", anyEvent)
	wantInvalid(t, err, "Enter what the partner needs")
	got, err = s.RequestInformation(ctx, everyone, id, 2, manager, "Which police station took the report?", anyEvent)
	if err != nil || got.Status != incident.InformationRequested || got.OpenRequest == nil {
		t.Fatalf("request information: %+v %v", got, err)
	}
	request := got.OpenRequest.Hex()
	if got.Updates[len(got.Updates)-1].ID.Hex() != request {
		t.Errorf("the open request is not the chronology's latest entry")
	}
	_, err = s.Respond(ctx, northOnly, id, "000000000000000000000000", incident.Update{By: officer, Text: "Croydon"}, anyEvent)
	wantInvalid(t, err, "already been answered or was replaced")
	if _, err := s.Respond(ctx, access.PartnerScope("brightwell"), id, request, incident.Update{By: officer, Text: "Croydon"}, anyEvent); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("another partner answering: %v", err)
	}
	got, err = s.Respond(ctx, northOnly, id, request, incident.Update{By: officer, Text: "Croydon police station, crime reference 42/1234."}, anyEvent)
	if err != nil || got.Status != incident.UnderReview || got.OpenRequest != nil {
		t.Fatalf("respond: %+v %v", got, err)
	}
	if last := got.Updates[len(got.Updates)-1]; last.Kind != incident.KindResponse || last.Answers == nil || last.Answers.Hex() != request {
		t.Errorf("the response does not name the request it answers: %+v", last)
	}
	if _, err := s.Close(ctx, everyone, id, got.Version, manager, anyEvent); err == nil {
		t.Error("closed without an outcome")
	}
	_, err = s.Close(ctx, everyone, id, got.Version, manager, anyEvent)
	wantInvalid(t, err, "Record the outcome and lessons learned")
	got, err = s.RecordOutcome(ctx, everyone, id, got.Version, manager, "The partner responded well.", "Check corridors at night.", anyEvent)
	if err != nil || got.Outcome == "" {
		t.Fatalf("outcome: %v", err)
	}
	_, err = s.SignOff(ctx, everyone, id, got.Version, lead, "", anyEvent)
	wantInvalid(t, err, "Only critical incidents")
	if _, err := s.Close(ctx, northOnly, id, got.Version, officer, anyEvent); err != nil {
		// The store leaves who may close to the caller; the scope still reaches it.
		t.Fatalf("close within scope: %v", err)
	}
	got, err = s.Get(ctx, everyone, id)
	if err != nil || got.Status != incident.Closed {
		t.Errorf("after close: %s %v", got.Status, err)
	}
}

func TestCriticalIncidentNeedsLeadSignOffToClose(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rules := incident.DefaultRules()
	n := validNotice()
	n.ContractID = "NG-1"
	n.Category, n.Customer.AgeGroup = "missing_customer", incident.Child
	n.AwareAt = time.Now().Add(-10 * time.Minute)
	n.OccurredAt = n.AwareAt.Add(-time.Hour)
	clocks, critical, err := rules.Clocks(deadline.Default(), n, "asylum_accommodation", time.Now(), "Case system")
	if err != nil || !critical {
		t.Fatalf("clocks: critical=%v %v", critical, err)
	}
	in := incident.Incident{PartnerID: "northgate", Notice: n, Critical: true, Clocks: clocks, Source: "web", NotifiedBy: officer}
	if err := s.Create(ctx, northOnly, &in, anyEvent, nil); err != nil {
		t.Fatal(err)
	}
	id := in.ID.Hex()
	got, err := s.Acknowledge(ctx, everyone, id, 1, manager, "Escalated to the local authority.", anyEvent)
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.RecordOutcome(ctx, everyone, id, got.Version, manager, "Found safe within 3 hours.", "Sign-out book at night.", anyEvent)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Close(ctx, everyone, id, got.Version, manager, anyEvent)
	wantInvalid(t, err, "needs a safeguarding lead's sign-off")
	got, err = s.SignOff(ctx, everyone, id, got.Version, lead, "", anyEvent)
	if err != nil || got.SignedOffBy != "Lee Lead" {
		t.Fatalf("sign off: %+v %v", got, err)
	}
	_, err = s.SignOff(ctx, everyone, id, got.Version, lead, "", anyEvent)
	wantInvalid(t, err, "already been signed off")
	got, err = s.Close(ctx, everyone, id, got.Version, manager, anyEvent)
	if err != nil || got.Status != incident.Closed || got.ClosedAt == nil {
		t.Fatalf("close: %+v %v", got, err)
	}
	if _, err := s.AddUpdate(ctx, northOnly, id, incident.Update{By: officer, Text: "More news"}, anyEvent); !errors.Is(err, incident.ErrConflict) {
		t.Errorf("an update to a closed incident: %v", err)
	}
	kinds := []string{}
	for _, u := range got.Updates {
		kinds = append(kinds, u.Kind)
	}
	want := "notified acknowledged outcome lead_sign_off closed"
	if strings.Join(kinds, " ") != want {
		t.Errorf("chronology %v, want %s", kinds, want)
	}
}

func TestRegimeNotifiedAndUpdates(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rules := incident.DefaultRules()
	n := validNotice()
	n.ContractID = "NG-1"
	n.Category = "data_breach"
	n.AwareAt = time.Now().Add(-80 * time.Hour)
	n.OccurredAt = n.AwareAt.Add(-time.Hour)
	clocks, _, err := rules.Clocks(deadline.Default(), n, "asylum_accommodation", time.Now(), "Case system")
	if err != nil {
		t.Fatal(err)
	}
	in := incident.Incident{PartnerID: "northgate", Notice: n, Clocks: clocks, Source: "api", NotifiedBy: officer}
	if err := s.Create(ctx, northOnly, &in, anyEvent, nil); err != nil {
		t.Fatal(err)
	}
	id := in.ID.Hex()
	_, err = s.RecordRegimeNotified(ctx, northOnly, id, "department", time.Now(), "", officer, anyEvent)
	wantInvalid(t, err, "Select a body")
	_, err = s.RecordRegimeNotified(ctx, northOnly, id, "ico", n.AwareAt.Add(-time.Minute), "", officer, anyEvent)
	wantInvalid(t, err, "after your organisation became aware")
	got, err := s.RecordRegimeNotified(ctx, northOnly, id, "ico", n.AwareAt.Add(74*time.Hour), "ICO-123", officer, anyEvent)
	if err != nil {
		t.Fatal(err)
	}
	ico := got.Clocks[1]
	if ico.Regime != "ico" || ico.NotifiedAt == nil || ico.Reference != "ICO-123" || ico.LateBy != 2*time.Hour {
		t.Errorf("ICO clock %+v, want notified 2 hours late with its reference", ico)
	}
	_, err = s.RecordRegimeNotified(ctx, northOnly, id, "ico", time.Now(), "", officer, anyEvent)
	wantInvalid(t, err, "already been recorded")

	// Updates from both sides at once are all kept.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := officer
			if i%2 == 0 {
				by = manager
			}
			for {
				_, err := s.AddUpdate(ctx, everyone, id, incident.Update{By: by, Text: "Update"}, anyEvent)
				if !errors.Is(err, incident.ErrConflict) {
					if err != nil {
						t.Error(err)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err = s.Get(ctx, everyone, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Updates); n != 1+1+8 {
		t.Errorf("%d chronology entries, want 10 (notified, ICO, 8 updates)", n)
	}
}
