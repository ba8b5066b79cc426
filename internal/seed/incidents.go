package seed

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// incidentsPerStaff sets the scale seed's incidents: 10,000 a year for a
// portfolio of 50,000 staff, as the department sees.
const incidentsPerStaff = 0.2

var seedWhatHappened = map[string]string{
	"death":                  "A resident was found unresponsive in their room during the morning welfare check. Emergency services attended.",
	"suicide_attempt":        "A resident attempted to take their own life and was found by a member of staff, who gave first aid.",
	"self_harm":              "A resident self-harmed in the bathroom and was treated by paramedics on site.",
	"sexual_assault":         "A resident reported being sexually assaulted by another resident in a shared kitchen.",
	"physical_assault":       "Two residents fought in the dining room; one was injured.",
	"abuse_allegation_staff": "A customer alleged that a member of staff shouted at and pushed them.",
	"missing_customer":       "A customer did not return to the accommodation by the agreed time and could not be contacted.",
	"child_protection":       "Staff noticed bruising on a child and the child disclosed being hit at home.",
	"hospitalisation":        "A resident was admitted to hospital with a serious chest infection.",
	"modern_slavery":         "A customer said their travel was paid by a man who now demands they work to repay it.",
	"radicalisation":         "Staff heard a resident repeatedly sharing extremist material with younger residents.",
	"data_breach":            "A list of residents' names and room numbers was e-mailed to the wrong address.",
	"other":                  "A fire alarm evacuation left residents outside for two hours in the cold.",
}

// incidentMaker builds one partner's seeded incidents, deterministically.
type incidentMaker struct {
	rules    *incident.Rules
	cal      *deadline.Calendar
	contract partner.Contract
	sites    []string
	rng      *rand.Rand
	now      time.Time
	seq      *int
}

// make builds the partner's n incidents over the last year: every category,
// critical and not, on time and late, in every state of review.
func (m incidentMaker) make(n int) ([]incident.Incident, error) {
	out := make([]incident.Incident, 0, n)
	officer := incident.Actor{Kind: "person", ID: "seed-officer-" + m.contract.PartnerID, Name: "Compliance officer", Side: "partner"}
	manager := incident.Actor{Kind: "person", ID: ManagerSubject, Name: "Contract manager", Side: "department"}
	for i := range n {
		*m.seq++
		cat := m.rules.Categories[m.rng.IntN(len(m.rules.Categories))]
		// Spread over the last year, but never in the last two days, so a
		// fresh portal's escalation sweep finds no seeded critical incident to send.
		aware := m.now.Add(-48*time.Hour - time.Duration(m.rng.Int64N(int64(363*24*time.Hour))))
		n := incident.Notice{
			ContractID: m.contract.ID, Site: m.sites[i%len(m.sites)], Category: cat.ID,
			OccurredAt: aware.Add(-time.Duration(m.rng.IntN(180)) * time.Minute), AwareAt: aware,
			Customer:     incident.Customer{Reference: fmt.Sprintf("HO-%07d", 1_000_000+*m.seq), AgeGroup: incident.Adult},
			WhatHappened: seedWhatHappened[cat.ID],
			ReportedBy:   incident.Reporter{Name: "Duty manager", Role: "Site manager"},
		}
		if m.rng.IntN(5) == 0 {
			n.Customer.AgeGroup = incident.Child
			n.Customer.UnaccompaniedChild = m.rng.IntN(2) == 0
		}
		for range 1 + m.rng.IntN(3) {
			ind := incident.Indicators[m.rng.IntN(len(incident.Indicators))].ID
			if !contains(n.Indicators, ind) {
				n.Indicators = append(n.Indicators, ind)
			}
		}
		n.ImmediateActions = incident.ImmediateActions{EmergencyServices: m.rng.IntN(2) == 0, FirstAid: m.rng.IntN(3) == 0, SafetyPlan: m.rng.IntN(2) == 0}
		if m.rng.IntN(4) == 0 {
			n.NoReferralReason = "The customer declined a referral and has support from their GP."
		} else {
			n.Referrals = []incident.Referral{{Agency: incident.Agencies[m.rng.IntN(len(incident.Agencies))].ID}}
		}
		// Most are notified within the hour; about one in eight late.
		delay := time.Duration(m.rng.IntN(50)) * time.Minute
		if m.rng.IntN(8) == 0 {
			delay = time.Duration(2+m.rng.IntN(60)) * time.Hour
		}
		received := aware.Add(delay)
		clocks, critical, err := m.rules.Clocks(m.cal, n, m.contract.ServiceLine, received, officer.Name)
		if err != nil {
			return nil, fmt.Errorf("seed incident clocks: %w", err)
		}
		in := incident.Incident{
			ID: bson.NewObjectID(), Reference: fmt.Sprintf("SI-%d-S%06d", received.Year(), *m.seq), PartnerID: m.contract.PartnerID,
			Notice: n, Critical: critical, Status: incident.Notified, Source: []string{"web", "api"}[m.rng.IntN(2)],
			NotifiedAt: received.UTC(), NotifiedBy: officer, Clocks: clocks, Version: 1, CreatedAt: received.UTC(),
		}
		if in.AcknowledgeBy, err = m.rules.AcknowledgementDue(m.cal, critical, received); err != nil {
			return nil, fmt.Errorf("seed incident clocks: %w", err)
		}
		in.LateBy = in.DepartmentClock().LateBy
		in.Updates = []incident.Update{{ID: bson.NewObjectID(), At: received.UTC(), By: officer, Kind: incident.KindNotified, Text: "Notified the department."}}
		// Older incidents have moved further through review.
		age := m.now.Sub(received)
		step := func(after time.Duration, by incident.Actor, kind, text string) time.Time {
			at := received.Add(after).UTC()
			in.Updates = append(in.Updates, incident.Update{ID: bson.NewObjectID(), At: at, By: by, Kind: kind, Text: text})
			in.Version++
			return at
		}
		// One in twenty is still waiting for the department: overdue
		// acknowledgements for the lists to find.
		if m.rng.IntN(20) > 0 && (age > 7*24*time.Hour || m.rng.IntN(2) == 0) {
			at := step(time.Duration(1+m.rng.IntN(20))*time.Hour, manager, incident.KindAcknowledged, "The department acknowledged the incident.")
			in.Status, in.AcknowledgedAt, in.AcknowledgedBy = incident.UnderReview, &at, manager.Name
		}
		switch {
		case in.Status == incident.UnderReview && age > 30*24*time.Hour && m.rng.IntN(5) > 0:
			in.Outcome, in.Lessons = "The partner responded appropriately and the customer is safe.", "Check welfare more often at night."
			step(10*24*time.Hour, manager, incident.KindOutcome, "Outcome: "+in.Outcome+"\nLessons learned: "+in.Lessons)
			if in.Critical {
				in.SignedOffBy = "Safeguarding lead"
				step(11*24*time.Hour, manager, incident.KindLeadSignOff, "A safeguarding lead signed off the review.")
			}
			at := step(12*24*time.Hour, manager, incident.KindClosed, "The department closed the incident.")
			in.Status, in.ClosedAt = incident.Closed, &at
		case in.Status == incident.UnderReview && m.rng.IntN(6) == 0:
			id := bson.NewObjectID()
			at := received.Add(30 * time.Hour).UTC()
			in.Updates = append(in.Updates, incident.Update{ID: id, At: at, By: manager, Kind: incident.KindRequest, Text: "Please tell us which agencies are now involved."})
			in.Version++
			in.Status, in.OpenRequest = incident.InformationRequested, &id
		}
		for i := range in.Clocks[1:] {
			k := &in.Clocks[i+1]
			if m.rng.IntN(4) > 0 {
				at := received.Add(time.Duration(m.rng.IntN(96)) * time.Hour).UTC()
				k.NotifiedAt, k.By, k.Reference = &at, officer.Name, fmt.Sprintf("REF-%06d", *m.seq)
				if late := at.Sub(k.Deadline); late > 0 {
					k.LateBy = late
				}
			}
		}
		in.UpdatedAt = in.Updates[len(in.Updates)-1].At
		out = append(out, in)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
