// Package report builds the department's governance reports: one contract,
// one partner's contracts, or the whole portfolio over a period. A report is
// first gathered as figures (Report), which are rendered to PDF for boards
// and to an HTML page for those who need an accessible copy, and archived
// with the PDF so both say the same thing for as long as the report is kept.
package report

import (
	"time"
)

// Kind is what a report is about.
type Kind string

const (
	ContractReport  Kind = "contract"
	PartnerReport   Kind = "partner"
	PortfolioReport Kind = "portfolio"
)

// Edition is who a report is written for. The department's edition includes
// escalations to the safeguarding leads and recommendations to suspend,
// which are the department's own business; the partner's edition leaves
// them out, and is the only one a partner may read.
type Edition string

const (
	DepartmentEdition Edition = "department"
	PartnerEdition    Edition = "partner"
)

// Marking is the protective marking printed on every page.
const Marking = "OFFICIAL-SENSITIVE"

// SuppressBelow is the smallest incident count a portfolio breakdown shows:
// counts from 1 to SuppressBelow-1 read "fewer than 5", so that no customer
// can be picked out of a published report.
const SuppressBelow = 5

// Report is a governance report's figures, as gathered when it was
// generated. It is archived beside the PDF made from it.
type Report struct {
	ID      string  `json:"id"` // "RPT-20261207-7Q4M2K"
	Kind    Kind    `json:"kind"`
	Edition Edition `json:"edition"`
	// SubjectID is the contract or partner reported on; empty for the portfolio.
	SubjectID string `json:"subject_id,omitempty"`
	// Title names the report: "Governance report: Acme Asylum Services".
	Title  string `json:"title"`
	Period Period `json:"period"`
	// GeneratedAt is when the figures were gathered; GeneratedBy who asked
	// for them (a person's name, or "Scheduled report" from the command).
	GeneratedAt time.Time `json:"generated_at"`
	GeneratedBy string    `json:"generated_by"`
	// AsOf is the London day the position figures (staff compliance,
	// expiries, vetting, open actions, ratings) are judged on: the day the
	// report was generated, matching the dashboard on that day. Incidents,
	// inspections and escalations are counted over the period.
	AsOf time.Time `json:"as_of"`

	// Summary adds up the contracts reported on.
	Summary Summary `json:"summary"`
	// Contracts are the contracts reported on, worst rated first. The
	// portfolio report shows them side by side without each one's detail.
	Contracts []Contract `json:"contracts"`
	// Incidents are the incidents notified in the period across the
	// contracts; in the portfolio report every breakdown is suppressed.
	Incidents Incidents `json:"incidents"`
	// Requirements are staff compliance by requirement across the
	// contracts reported on (for a single contract, its own).
	Requirements []Requirement `json:"requirements"`
	// Trend is the contracts' monthly figures, oldest first, up to twelve
	// months ending with the period's last month.
	Trend []TrendPoint `json:"trend"`
}

// Summary is a report's headline figures.
type Summary struct {
	// Ratings counts contracts by RAG ("red", "amber", "green", "grey").
	Ratings map[string]int `json:"ratings"`
	// RAG is the worst rating of the contracts reported on.
	RAG         string `json:"rag"`
	Staff       int    `json:"staff"`
	Compliant   int    `json:"compliant"`
	VettingGaps int    `json:"vetting_gaps"`
	Unassessed  int    `json:"unassessed"`
	// ExpiringIn90Days counts staff with evidence falling due in the next
	// 90 days.
	ExpiringIn90Days int `json:"expiring_in_90_days"`
	Notified         int `json:"notified"`
	Late             int `json:"late"`
	OpenActions      int `json:"open_actions"`
	OverdueActions   int `json:"overdue_actions"`
	// Inspections counts those completed in the period.
	Inspections int `json:"inspections"`
	// Escalations counts those raised in the period or still open
	// (department edition only); Suspended the contracts suspended.
	Escalations int `json:"escalations"`
	Suspended   int `json:"suspended"`
}

// CompliantPercent is the share of staff meeting every requirement.
func (s Summary) CompliantPercent() float64 { return percent(s.Compliant, s.Staff) }

// OnTimePercent is the share of the period's notifications made on time;
// 100 with none made.
func (s Summary) OnTimePercent() float64 { return onTime(s.Notified, s.Late) }

// Contract is one contract's part of a report.
type Contract struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	PartnerID   string `json:"partner_id"`
	PartnerName string `json:"partner_name"`
	ServiceLine string `json:"service_line"` // as people read it
	Status      string `json:"status"`       // as people read it: "Active", "Suspended"
	// StatusReason, StatusChangedOn: why and when the status last changed,
	// for suspensions and reviews.
	StatusReason    string     `json:"status_reason,omitempty"`
	StatusChangedOn *time.Time `json:"status_changed_on,omitempty"`

	// RAG and Measures are the contract's rating on AsOf, as the dashboard
	// rates it; Reasons what makes it so.
	RAG      string    `json:"rag"`
	Measures []Measure `json:"measures"`
	Reasons  []string  `json:"reasons"`

	Staff       int `json:"staff"`
	Compliant   int `json:"compliant"`
	VettingGaps int `json:"vetting_gaps"`
	Unassessed  int `json:"unassessed"`
	// Requirements are the contract's staff compliance by requirement.
	Requirements []Requirement `json:"requirements"`
	Expiries     Expiries      `json:"expiries"`

	// Notified and Late count the incidents notified in the period, and
	// those that reached the department after their deadline.
	Notified int `json:"notified"`
	Late     int `json:"late"`
	// Points and Threshold are this month's performance points and the most
	// allowed before service credits are due.
	Points    int `json:"points"`
	Threshold int `json:"threshold"`

	OpenActions    int      `json:"open_actions"`
	OverdueActions int      `json:"overdue_actions"`
	Actions        []Action `json:"actions"` // open on AsOf, overdue first
	// Inspections are those completed or planned (announced) in the period;
	// LastInspected the latest completed inspection on or before AsOf.
	Inspections   []Inspection `json:"inspections"`
	LastInspected *time.Time   `json:"last_inspected,omitempty"`
	// Escalations raised in the period or still open; department edition only.
	Escalations []Escalation `json:"escalations,omitempty"`
}

// CompliantPercent is the share of the contract's staff meeting every requirement.
func (c Contract) CompliantPercent() float64 { return percent(c.Compliant, c.Staff) }

// OnTimePercent is the share of the period's notifications made on time; 100 with none.
func (c Contract) OnTimePercent() float64 { return onTime(c.Notified, c.Late) }

// Measure is one thing a contract is rated on.
type Measure struct {
	Name   string `json:"name"`
	RAG    string `json:"rag"`
	Reason string `json:"reason"`
}

// Requirement is where staff stand on one training module or vetting check.
type Requirement struct {
	Name string `json:"name"` // as people read it: "Vulnerability awareness", "Enhanced DBS with barred lists"
	Kind string `json:"kind"` // "training" or "vetting"
	// Applicable counts the staff it applies to; Met those meeting it,
	// including those whose evidence expires soon (Expiring).
	Applicable int `json:"applicable"`
	Met        int `json:"met"`
	Expiring   int `json:"expiring"`
	Expired    int `json:"expired"`
	Missing    int `json:"missing"`
	Awaiting   int `json:"awaiting"`
}

// Percent is the share of those it applies to who meet it.
func (r Requirement) Percent() float64 { return percent(r.Met, r.Applicable) }

// Expiries counts staff with evidence falling due soon after AsOf: by how
// soon the first of their requirements falls due.
type Expiries struct {
	Within30 int `json:"within_30"`
	Within60 int `json:"within_60"` // 31 to 60 days
	Within90 int `json:"within_90"` // 61 to 90 days
}

// Total is everyone with something falling due within 90 days.
func (e Expiries) Total() int { return e.Within30 + e.Within60 + e.Within90 }

// Incidents are the serious incidents notified in the period.
type Incidents struct {
	Notified int `json:"notified"`
	Late     int `json:"late"`
	Critical int `json:"critical"`
	// AverageLateMinutes is how late the late ones were, on average.
	AverageLateMinutes int `json:"average_late_minutes"`
	// ByCategory and ByIndicator are the counts by category and by
	// vulnerability indicator (an incident may have several), largest first.
	ByCategory  []Count `json:"by_category"`
	ByIndicator []Count `json:"by_indicator"`
}

// OnTimePercent is the share notified on time; 100 with none.
func (i Incidents) OnTimePercent() float64 { return onTime(i.Notified, i.Late) }

// Count is one row of a breakdown. Suppressed counts are shown as "fewer
// than 5" (N is then zero and must not be printed).
type Count struct {
	Label      string `json:"label"`
	N          int    `json:"n"`
	Suppressed bool   `json:"suppressed,omitempty"`
}

// Text is the count as printed.
func (c Count) Text() string {
	if c.Suppressed {
		return "fewer than 5"
	}
	return itoa(c.N)
}

// TrendPoint is one month's figures across the contracts reported on, as
// the dashboard counted them in that month; nil percentages where the
// month was not counted.
type TrendPoint struct {
	Month         string   `json:"month"` // "2026-11"
	StaffPercent  *float64 `json:"staff_percent,omitempty"`
	Notified      int      `json:"notified"`
	Late          int      `json:"late"`
	OnTimePercent *float64 `json:"on_time_percent,omitempty"`
}

// Action is an action open against a contract.
type Action struct {
	Title    string    `json:"title"`
	Priority string    `json:"priority"`
	Status   string    `json:"status"` // as people read it
	DueOn    time.Time `json:"due_on"`
	Overdue  bool      `json:"overdue"`
}

// Inspection is an inspection in the period.
type Inspection struct {
	Date     time.Time `json:"date"` // completed on, or planned for
	Site     string    `json:"site"`
	Status   string    `json:"status"`           // as people read it
	Rating   string    `json:"rating,omitempty"` // as people read it
	Focus    string    `json:"focus,omitempty"`
	Findings string    `json:"findings,omitempty"` // first paragraph, at most 400 characters
}

// Escalation is an escalation to the safeguarding leads.
type Escalation struct {
	RaisedOn time.Time  `json:"raised_on"`
	Kind     string     `json:"kind"`   // as people read it
	Status   string     `json:"status"` // as people read it
	Outcome  string     `json:"outcome,omitempty"`
	Decided  *time.Time `json:"decided,omitempty"`
}

// onTime is the share of notifications made on time; 100 with none made.
func onTime(notified, late int) float64 {
	if notified == 0 {
		return 100
	}
	return percent(notified-late, notified)
}

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}
