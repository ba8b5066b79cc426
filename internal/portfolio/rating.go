package portfolio

import (
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
)

// RAG ratings, worst first after grey (nothing to rate).
const (
	Red   = "red"
	Amber = "amber"
	Green = "green"
	Grey  = "grey"
)

// severity orders ratings for the worst-of rule and for sorting.
var severity = map[string]int{Red: 3, Amber: 2, Green: 1, Grey: 0}

// Severity is how bad a rating is: red 3, amber 2, green 1, grey 0.
func Severity(rag string) int { return severity[rag] }

// Thresholds from the product brief, and the department's lines for the
// other measures a contract is rated on.
const (
	// StaffGreenFrom and StaffAmberFrom are shares of active staff compliant.
	StaffGreenFrom = 95.0
	StaffAmberFrom = 85.0
	// VettingRedFrom is the share of staff with a vetting gap at which the
	// contract is red: any gap at all is amber.
	VettingRedFrom = 5.0
	// OnTimeAmberFrom is the share of the month's notifications on time
	// below which the contract is red; any late one is amber.
	OnTimeAmberFrom = 80.0
	// OverdueRedFrom is how many overdue actions make the contract red; any
	// is amber.
	OverdueRedFrom = 3
	// InspectionStaleAfter is how long after its last inspection a
	// contract is amber for want of a recent one.
	InspectionStaleAfter = 12 // months
)

// Measure is one thing a contract is rated on, its rating and why.
type Measure struct {
	Name   string
	RAG    string
	Reason string
}

// Facts are what a contract's rating is worked out from.
type Facts struct {
	Contract partner.Contract
	// This and Last are the contract's figures this month and last; nil
	// when not counted.
	This, Last *Month
	Actions    oversight.ActionCount
	// Inspection is the latest completed inspection; nil if none.
	Inspection *oversight.Inspection
	// Escalations counts the escalations to the safeguarding leads open
	// about the contract or its whole partner; SuspensionRecommended says
	// a recommendation to suspend the contract waits for a decision. Only
	// the department's ratings know them: partners do not see escalations.
	Escalations           int
	SuspensionRecommended bool
	// Points are the performance points the contract scores this month,
	// and Threshold the most it may score before service credits are due.
	Points, Threshold int
	// Today is the London day rated on.
	Today time.Time
}

// Rating is a contract's overall RAG, worst of its measures, with each
// measure's rating and reason.
type Rating struct {
	RAG      string
	Measures []Measure
}

// Reasons are what make the rating what it is: the reasons of the measures
// rated as badly as the whole, then the others not green.
func (r Rating) Reasons() []string {
	var worst, other []string
	for _, m := range r.Measures {
		switch {
		case m.RAG == r.RAG && m.RAG != Green && m.RAG != Grey:
			worst = append(worst, m.Reason)
		case m.RAG == Amber:
			other = append(other, m.Reason)
		}
	}
	if len(worst)+len(other) == 0 {
		for _, m := range r.Measures {
			if m.RAG == r.RAG {
				worst = append(worst, m.Reason)
			}
		}
	}
	return append(worst, other...)
}

// Rate rates a contract on its status, staff compliance, vetting gaps,
// notification timeliness this month, overdue actions and latest
// inspection. A measure with nothing to rate is grey and does not count.
func Rate(f Facts) Rating {
	var ms []Measure
	switch f.Contract.Status {
	case partner.Suspended:
		ms = append(ms, Measure{"Contract status", Red, "The contract is suspended."})
	case partner.UnderReview:
		ms = append(ms, Measure{"Contract status", Amber, "The contract is under review."})
	}
	switch {
	case f.SuspensionRecommended:
		ms = append(ms, Measure{"Escalations", Red, "A recommendation to suspend the contract is with the safeguarding leads."})
	case f.Escalations == 1:
		ms = append(ms, Measure{"Escalations", Amber, "An escalation to the safeguarding leads is open."})
	case f.Escalations > 1:
		ms = append(ms, Measure{"Escalations", Amber, fmt.Sprintf("%d escalations to the safeguarding leads are open.", f.Escalations)})
	}
	if f.Points > f.Threshold {
		ms = append(ms, Measure{"Performance points", Amber, fmt.Sprintf("%d performance points this month, over the threshold of %d: service credits are due.", f.Points, f.Threshold)})
	}
	ms = append(ms, staffMeasure(f.This), vettingMeasure(f.This), timelinessMeasure(f.This),
		actionsMeasure(f.Actions), inspectionMeasure(f.Inspection, f.Today))
	r := Rating{RAG: Grey, Measures: ms}
	for _, m := range ms {
		if severity[m.RAG] > severity[r.RAG] {
			r.RAG = m.RAG
		}
	}
	return r
}

func staffMeasure(m *Month) Measure {
	const name = "Staff compliance"
	switch {
	case m == nil:
		return Measure{name, Grey, "Staff figures have not been counted yet."}
	case m.Staff.Staff == 0:
		return Measure{name, Grey, "No active staff are on the roster for this contract."}
	}
	p := m.Staff.Percent()
	rag := Red
	switch {
	case p >= StaffGreenFrom:
		rag = Green
	case p >= StaffAmberFrom:
		rag = Amber
	}
	return Measure{name, rag, fmt.Sprintf("%d of %d active staff (%.1f%%) meet every requirement; green needs %.0f%%, amber %.0f%%.",
		m.Staff.Compliant, m.Staff.Staff, p, StaffGreenFrom, StaffAmberFrom)}
}

func vettingMeasure(m *Month) Measure {
	const name = "Vetting"
	if m == nil || m.Staff.Staff == 0 {
		return Measure{name, Grey, "No active staff to vet."}
	}
	gaps := m.Staff.VettingGaps
	switch share := percent(gaps, m.Staff.Staff); {
	case gaps == 0:
		return Measure{name, Green, "Every active member of staff has the vetting checks they need."}
	case share >= VettingRedFrom:
		return Measure{name, Red, fmt.Sprintf("%s working without a vetting check they need, missing or past its re-check date (%.1f%% of active staff).", staffCount(gaps), share)}
	default:
		return Measure{name, Amber, fmt.Sprintf("%s working without a vetting check they need, missing or past its re-check date.", staffCount(gaps))}
	}
}

func staffCount(n int) string {
	if n == 1 {
		return "1 member of staff is"
	}
	return fmt.Sprintf("%d staff are", n)
}

func timelinessMeasure(m *Month) Measure {
	const name = "Notification timeliness"
	switch {
	case m == nil:
		return Measure{name, Grey, "Notifications have not been counted yet."}
	case m.Notified == 0:
		return Measure{name, Grey, "No serious incidents notified this month."}
	case m.Late == 0:
		return Measure{name, Green, fmt.Sprintf("All %d serious incidents notified this month were on time.", m.Notified)}
	}
	rag := Amber
	if m.OnTimePercent() < OnTimeAmberFrom {
		rag = Red
	}
	return Measure{name, rag, fmt.Sprintf("%d of %d serious incidents notified this month reached the department late (%.0f%% on time).",
		m.Late, m.Notified, m.OnTimePercent())}
}

func actionsMeasure(a oversight.ActionCount) Measure {
	const name = "Actions"
	switch {
	case a.Open == 0:
		return Measure{name, Grey, "No open actions."}
	case a.Overdue == 0:
		return Measure{name, Green, fmt.Sprintf("%s open, none overdue.", actions(a.Open))}
	case a.Overdue >= OverdueRedFrom:
		return Measure{name, Red, fmt.Sprintf("%d of %s open are overdue.", a.Overdue, actions(a.Open))}
	}
	return Measure{name, Amber, fmt.Sprintf("%d of %s open %s overdue.", a.Overdue, actions(a.Open), isAre(a.Overdue))}
}

func actions(n int) string {
	if n == 1 {
		return "1 action"
	}
	return fmt.Sprintf("%d actions", n)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func inspectionMeasure(in *oversight.Inspection, today time.Time) Measure {
	const name = "Latest inspection"
	if in == nil || in.CompletedOn == nil {
		return Measure{name, Grey, "No inspection recorded yet."}
	}
	on := calendar.Format(*in.CompletedOn)
	rating := oversight.RatingName(in.Rating)
	switch in.Rating {
	case oversight.Inadequate:
		return Measure{name, Red, fmt.Sprintf("Rated %s at %s on %s.", rating, in.Site, on)}
	case oversight.RequiresImprovement:
		return Measure{name, Amber, fmt.Sprintf("Rated %s at %s on %s.", rating, in.Site, on)}
	}
	if !calendar.AddMonths(*in.CompletedOn, InspectionStaleAfter).After(today) {
		return Measure{name, Amber, fmt.Sprintf("Last inspected on %s (rated %s), more than %d months ago.", on, rating, InspectionStaleAfter)}
	}
	return Measure{name, Green, fmt.Sprintf("Rated %s at %s on %s.", rating, in.Site, on)}
}
