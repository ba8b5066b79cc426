package incident

import (
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/deadline"
)

// Clocks starts the notification clocks of a notice received at receivedAt
// under a contract of serviceLine: the department's own, at the critical or
// standard deadline, and each further regime its category starts. The
// department's clock stops at once, since receiving the notice is the
// notification; the others run until the partner records telling that body.
func (r *Rules) Clocks(cal *deadline.Calendar, n Notice, serviceLine string, receivedAt time.Time, by string) ([]Clock, bool, error) {
	cat, ok := r.Category(n.Category)
	if !ok {
		return nil, false, fmt.Errorf("start clocks: unknown category %q", n.Category)
	}
	// The store keeps times to the millisecond; so do the clocks, so that
	// lateness read back is exactly what was worked out.
	n.AwareAt = n.AwareAt.Truncate(time.Millisecond)
	receivedAt = receivedAt.Truncate(time.Millisecond)
	critical := cat.IsCritical(n.Customer.AgeGroup, n.Indicators)
	period := r.StandardDeadline
	if critical {
		period = r.CriticalDeadline
	}
	due, err := cal.Deadline(n.AwareAt, period.Rule())
	if err != nil {
		return nil, false, fmt.Errorf("department deadline: %w", err)
	}
	received := receivedAt.UTC()
	dept := Clock{Regime: "department", Name: "The department", Rule: period.Rule().String(), Deadline: due.UTC(),
		NotifiedAt: &received, By: by}
	if late, lateBy := deadline.Late(due, receivedAt); late {
		dept.LateBy = lateBy
	}
	clocks := []Clock{dept}
	for _, g := range cat.Regimes {
		if !g.applies(n.Customer.AgeGroup, serviceLine) {
			continue
		}
		due, err := cal.Deadline(n.AwareAt, g.Deadline.Rule())
		if err != nil {
			return nil, false, fmt.Errorf("%s deadline: %w", g.Name, err)
		}
		clocks = append(clocks, Clock{Regime: g.ID, Name: g.Name, Rule: g.Deadline.Rule().String(), Deadline: due.UTC()})
	}
	return clocks, critical, nil
}

// AcknowledgementDue is when the department must acknowledge an incident
// notified at notifiedAt.
func (r *Rules) AcknowledgementDue(cal *deadline.Calendar, critical bool, notifiedAt time.Time) (time.Time, error) {
	period := r.StandardAcknowledgement
	if critical {
		period = r.CriticalAcknowledgement
	}
	due, err := cal.Deadline(notifiedAt.Truncate(time.Millisecond), period.Rule())
	if err != nil {
		return time.Time{}, fmt.Errorf("acknowledgement deadline: %w", err)
	}
	return due.UTC(), nil
}

// FiveR is one of the five Rs of safeguarding and whether the incident
// record evidences it.
type FiveR struct {
	Name      string
	Evidenced bool
	Why       string
}

// FiveRs shows how the incident record evidences recognise, respond,
// report, record and refer.
func (in Incident) FiveRs() []FiveR {
	responded := in.ImmediateActions.EmergencyServices || in.ImmediateActions.FirstAid || in.ImmediateActions.SafetyPlan ||
		in.ImmediateActions.Other != ""
	dept := in.DepartmentClock()
	rs := []FiveR{
		{Name: "Recognise", Evidenced: len(in.Indicators) > 0,
			Why: pick(len(in.Indicators) > 0, "Vulnerability indicators were identified.", "No vulnerability indicators were identified.")},
		{Name: "Respond", Evidenced: responded,
			Why: pick(responded, "Immediate actions were taken.", "No immediate action is recorded.")},
		{Name: "Report", Evidenced: !dept.Late(),
			Why: pick(!dept.Late(), "The department was notified within "+dept.Rule+".",
				"The department was notified "+deadline.DescribeLateness(dept.LateBy)+".")},
		{Name: "Record", Evidenced: in.WhatHappened != "" && in.ReportedBy.Name != "",
			Why: "What happened and who reported it are recorded."},
		{Name: "Refer", Evidenced: len(in.Referrals) > 0,
			Why: pick(len(in.Referrals) > 0, "The customer was referred on.", "No referral was made: "+in.NoReferralReason)},
	}
	return rs
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
