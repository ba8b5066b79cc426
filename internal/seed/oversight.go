package seed

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var seedFindings = map[string]string{
	oversight.Outstanding:         "Staff knew every customer's needs and the safeguarding lead on site reviews every concern the same day.",
	oversight.Good:                "Welfare checks were on time and recorded. Two staff could not say who the site's safeguarding lead was.",
	oversight.RequiresImprovement: "Three night staff had not completed Safeguarding Adults Level 2, and the welfare check log had gaps of up to six hours.",
	oversight.Inadequate:          "Unvetted agency staff were working alone with customers, and two customers' welfare concerns had not been passed on.",
}

var seedActionTitles = []string{
	"Complete Safeguarding Adults Level 2 for night staff",
	"Close the gaps in the welfare check log",
	"Name the site safeguarding lead on every shift rota",
	"Evidence enhanced DBS checks for agency staff",
	"Review how welfare concerns are passed to the safeguarding lead",
}

// oversightFor builds a contract's inspections over the last year and the
// actions raised from them, deterministically: some open, some overdue,
// some answered and closed, so dashboards and lists have something to show.
func oversightFor(ct partner.Contract, sites []string, rng *rand.Rand, now time.Time) ([]oversight.Inspection, []oversight.Action) {
	today := calendar.Today(now)
	manager := oversight.Actor{Kind: "person", ID: ManagerSubject, Name: "Contract manager"}
	officer := oversight.Actor{Kind: "person", ID: "seed-officer-" + ct.PartnerID, Name: "Compliance officer"}
	rating := oversight.Ratings[rng.IntN(len(oversight.Ratings))]
	done := calendar.AddDays(today, -(20 + rng.IntN(150)))
	at := func(d time.Time) time.Time { return d.Add(10 * time.Hour).UTC() }
	in := oversight.Inspection{
		ID: bson.NewObjectIDFromTimestamp(at(done)), PartnerID: ct.PartnerID, ContractID: ct.ID, Site: sites[rng.IntN(len(sites))],
		Status: oversight.Completed, PlannedFor: done, CompletedOn: &done, Announced: rng.IntN(2) == 0,
		Focus: "Welfare checks, staff training and how concerns reach the safeguarding lead", Findings: seedFindings[rating], Rating: rating,
		Evidence: []oversight.EvidenceRef{}, PlannedBy: manager, RecordedBy: &manager, Version: 2, CreatedAt: at(done), UpdatedAt: at(done),
	}
	planned := calendar.AddDays(today, 14+rng.IntN(60))
	next := oversight.Inspection{
		ID: bson.NewObjectIDFromTimestamp(at(today).Add(-time.Hour)), PartnerID: ct.PartnerID, ContractID: ct.ID, Site: sites[rng.IntN(len(sites))],
		Status: oversight.Planned, PlannedFor: planned, Announced: true, Focus: "Follow-up of the last inspection's actions",
		Evidence: []oversight.EvidenceRef{}, PlannedBy: manager, Version: 1, CreatedAt: at(today).Add(-time.Hour), UpdatedAt: at(today).Add(-time.Hour),
	}
	var actions []oversight.Action
	n := 0
	switch rating {
	case oversight.RequiresImprovement:
		n = 2
	case oversight.Inadequate:
		n = 4
	case oversight.Good:
		n = 1
	}
	for i := range n {
		raised := at(done)
		due := calendar.AddDays(done, 14+rng.IntN(60))
		a := oversight.Action{
			ID: bson.NewObjectIDFromTimestamp(raised.Add(time.Duration(i) * time.Minute)), PartnerID: ct.PartnerID, ContractID: ct.ID,
			Source: oversight.Source{Kind: oversight.FromInspection, ID: in.ID.Hex()}, Title: seedActionTitles[(i+rng.IntN(2))%len(seedActionTitles)],
			Detail:   fmt.Sprintf("Found at the inspection of %s on %s.", in.Site, calendar.Format(done)),
			Priority: oversight.Priorities[rng.IntN(len(oversight.Priorities))], DueOn: due, Status: oversight.Open,
			Entries: []oversight.Entry{{ID: bson.NewObjectIDFromTimestamp(raised), At: raised, By: manager, Side: oversight.SideDepartment, Kind: oversight.EntryRaised, Text: "Raised from the inspection."}},
			Version: 1, CreatedAt: raised, UpdatedAt: raised,
		}
		// Every other one has been answered; of those, the ones past their
		// due day were accepted and closed.
		if i%2 == 1 {
			answered := raised.Add(time.Duration(5+rng.IntN(10)) * 24 * time.Hour)
			a.Entries = append(a.Entries, oversight.Entry{ID: bson.NewObjectIDFromTimestamp(answered), At: answered, By: officer, Side: oversight.SidePartner, Kind: oversight.EntryResponse, Text: "Done: the training records and rotas are attached to the staff records."})
			a.Status, a.Version, a.UpdatedAt = oversight.Responded, 2, answered
			if due.Before(today) {
				closed := answered.Add(48 * time.Hour)
				a.Entries = append(a.Entries, oversight.Entry{ID: bson.NewObjectIDFromTimestamp(closed), At: closed, By: manager, Side: oversight.SideDepartment, Kind: oversight.EntryAccepted, Text: "Checked and accepted."})
				a.Status, a.Version, a.UpdatedAt, a.ClosedAt = oversight.Closed, 3, closed, &closed
			}
		}
		actions = append(actions, a)
	}
	return []oversight.Inspection{in, next}, actions
}
