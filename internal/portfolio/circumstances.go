package portfolio

import (
	"context"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
)

// Sources are the stores a contract's rating reads besides its monthly
// figures. The dashboard and the governance reports both rate through them,
// so a report rates a contract exactly as the dashboard does on that day.
type Sources struct {
	Oversight   *oversight.Store
	Concerns    *concern.Store
	Performance *performance.Store
}

// Circumstances are what the contracts within reach are rated on besides
// their monthly figures: open and overdue actions, latest inspections, open
// escalations and this month's performance points.
type Circumstances struct {
	Actions     map[string]oversight.ActionCount
	Inspections map[string]*oversight.Inspection
	// Open is empty unless escalations were asked for: partners do not see
	// them, so their ratings leave them out.
	Open   concern.OpenCounts
	Scores map[string]performance.Score
	Today  time.Time
}

// Circumstances reads the circumstances of the contracts within reach at
// now, in four small reads; escalations only if asked for.
func (src Sources) Circumstances(ctx context.Context, scope access.Scope, now time.Time, escalations bool) (Circumstances, error) {
	cs := Circumstances{Actions: map[string]oversight.ActionCount{}, Inspections: map[string]*oversight.Inspection{}, Today: calendar.Today(now)}
	counts, err := src.Oversight.CountOpenAndOverdue(ctx, scope, now)
	if err != nil {
		return Circumstances{}, err
	}
	for _, a := range counts {
		cs.Actions[a.ContractID] = a
	}
	latest, err := src.Oversight.LatestCompleted(ctx, scope)
	if err != nil {
		return Circumstances{}, err
	}
	for i := range latest {
		cs.Inspections[latest[i].ContractID] = &latest[i]
	}
	if escalations {
		if cs.Open, err = src.Concerns.OpenByContract(ctx, scope); err != nil {
			return Circumstances{}, err
		}
	}
	if cs.Scores, err = src.Performance.Scores(ctx, scope, now); err != nil {
		return Circumstances{}, err
	}
	return cs, nil
}

// Escalations counts the escalations open about the contract or its whole
// partner.
func (cs Circumstances) Escalations(ct partner.Contract) int {
	return cs.Open.Contracts[ct.ID].Escalations + cs.Open.PartnerWide[ct.PartnerID]
}

// Facts are the contract's facts to rate, given its figures this month and last.
func (cs Circumstances) Facts(ct partner.Contract, this, last *Month) Facts {
	score := cs.Scores[ct.ID]
	return Facts{Contract: ct, This: this, Last: last, Actions: cs.Actions[ct.ID], Inspection: cs.Inspections[ct.ID], Today: cs.Today,
		Escalations: cs.Escalations(ct), SuspensionRecommended: cs.Open.Contracts[ct.ID].SuspensionRecommended,
		Points: score.Points, Threshold: score.Threshold}
}
