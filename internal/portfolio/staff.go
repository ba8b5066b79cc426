// Package portfolio counts each contract's figures for the department's
// dashboard and keeps them, a document per contract and month, so that the
// dashboard reads a few small documents instead of every roster and record.
//
// Staff figures are counted from the assessments stored with each person
// (see records.Upkeep), which are the staff-level evaluation itself: the
// dashboard, the partner's compliance page and reports count them with the
// same StaffCounter, so their figures cannot disagree.
package portfolio

import (
	"strings"

	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
)

// RequirementFigure is where a contract's staff stand on one requirement.
type RequirementFigure struct {
	// Key is the module ID, or the vetting group's type IDs joined with "|".
	Key  string `bson:"key"`
	Kind string `bson:"kind"` // compliance.KindTraining or KindVetting
	// Applicable counts the staff the requirement applies to; Met those who
	// meet it, including those whose evidence is expiring soon (Expiring).
	Applicable int `bson:"applicable"`
	Met        int `bson:"met"`
	Expiring   int `bson:"expiring"`
	Expired    int `bson:"expired"`
	Missing    int `bson:"missing"`
	Awaiting   int `bson:"awaiting"`
}

// Percent is the share of those it applies to who meet it.
func (r RequirementFigure) Percent() float64 { return percent(r.Met, r.Applicable) }

// StaffFigures are a contract's staff compliance.
type StaffFigures struct {
	// Staff counts the active staff the contract's requirements are judged
	// for; Compliant those meeting every requirement.
	Staff     int `bson:"staff"`
	Compliant int `bson:"compliant"`
	// VettingGaps counts staff with a vetting requirement missing or past
	// its re-check date: people working without a check the department can
	// rely on. Checks awaiting verification are counted per requirement.
	VettingGaps int `bson:"vetting_gaps"`
	// Unassessed counts active staff with no assessment under the contract
	// yet; they are left out of Staff until assessed.
	Unassessed int `bson:"unassessed,omitempty"`
	// Requirements are the figures per requirement. Counted figures are
	// stored without them: the dashboard reads every contract's document on
	// each view, and the embedded store decodes whole documents to read them.
	Requirements []RequirementFigure `bson:"requirements,omitempty"`
}

// Percent is the share of staff meeting every requirement.
func (f StaffFigures) Percent() float64 { return percent(f.Compliant, f.Staff) }

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// StaffCounter counts one contract's staff figures from stored assessments,
// one person at a time, so a roster can be streamed through it.
type StaffCounter struct {
	contractID string
	set        requirements.Set
	figures    StaffFigures
	byKey      map[string]int // index into figures.Requirements
	vetting    map[string]bool
}

// NewStaffCounter counts for the contract with the given requirement set.
// Requirements are listed in the set's order: each category's training,
// then its vetting, without repeats.
func NewStaffCounter(contractID string, set requirements.Set) *StaffCounter {
	c := &StaffCounter{contractID: contractID, set: set, byKey: map[string]int{}, vetting: map[string]bool{}}
	add := func(key string, kind compliance.Kind) {
		if _, ok := c.byKey[key]; ok {
			return
		}
		c.byKey[key] = len(c.figures.Requirements)
		c.figures.Requirements = append(c.figures.Requirements, RequirementFigure{Key: key, Kind: string(kind)})
	}
	for _, rule := range set.Rules {
		for _, m := range rule.Training {
			add(m, compliance.KindTraining)
		}
		for _, g := range rule.Vetting {
			key := strings.Join(g, "|")
			add(key, compliance.KindVetting)
			c.vetting[key] = true
		}
	}
	return c
}

// Add counts one person, by their stored standing under the contract.
// Leavers (the standing does not apply) are not counted at all.
func (c *StaffCounter) Add(m staff.Member) {
	st, ok := m.StandingUnder(c.contractID)
	if !ok {
		if m.Active && m.Assessment == nil {
			c.figures.Unassessed++
		}
		return
	}
	if !st.Applies {
		return
	}
	c.figures.Staff++
	if st.Compliant {
		c.figures.Compliant++
	}
	rule, _ := c.set.Rule(m.Category)
	gaps := make(map[string]compliance.State, len(st.Gaps))
	for _, g := range st.Gaps {
		gaps[g.Key] = compliance.State(g.State)
	}
	vettingGap := false
	count := func(key string) {
		i := c.byKey[key]
		r := &c.figures.Requirements[i]
		r.Applicable++
		switch gaps[key] {
		case "":
			r.Met++
		case compliance.ExpiringSoon:
			r.Met++
			r.Expiring++
		case compliance.Expired:
			r.Expired++
			vettingGap = vettingGap || c.vetting[key]
		case compliance.AwaitingVerification:
			r.Awaiting++
		default:
			r.Missing++
			vettingGap = vettingGap || c.vetting[key]
		}
	}
	for _, m := range rule.Training {
		count(m)
	}
	for _, g := range rule.Vetting {
		count(strings.Join(g, "|"))
	}
	if vettingGap {
		c.figures.VettingGaps++
	}
}

// Figures are the counts so far. Requirements that apply to nobody are left
// out.
func (c *StaffCounter) Figures() StaffFigures {
	f := c.figures
	f.Requirements = make([]RequirementFigure, 0, len(c.figures.Requirements))
	for _, r := range c.figures.Requirements {
		if r.Applicable > 0 {
			f.Requirements = append(f.Requirements, r)
		}
	}
	return f
}
