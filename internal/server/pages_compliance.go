package server

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/compliance"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// RAG thresholds from the brief: green at 95% of staff compliant, amber at 85%.
const (
	greenFrom = 95.0
	amberFrom = 85.0
)

type requirementFigure struct {
	Key, Name       string
	Applicable, Met int
	Missing         int
	Expired         int
	Awaiting        int
	Expiring        int
	Percent         float64
}

type contractFigures struct {
	Contract     partner.Contract
	Staff        int
	Compliant    int
	Percent      float64
	RAG          string
	Reason       string
	Requirements []requirementFigure
}

type personLine struct {
	Member staff.Member
	Due    time.Time
	Note   string
}

type compliancePage struct {
	Partner   partner.Partner
	Contracts []contractFigures
	Expiring  [3][]personLine // within 30, 60 and 90 days
	Attention []personLine    // rejected or missing evidence
	Today     time.Time
	CanEdit   bool
}

// partnerCompliance shows an organisation's compliance: overall and per
// requirement for each contract, with the RAG and why, who is expiring
// soon, and whose evidence is missing or rejected. It reads the stored
// assessments; only those a day or a change has made stale are redone.
func (s *Server) partnerCompliance(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.ViewStaff)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := s.upkeep.ReassessPartner(ctx, org.ID, false); err != nil {
		s.fail(c, "bring assessments up to date", err)
		return
	}
	scope := principal(c).Scope
	members, err := s.staff.Members(ctx, scope, org.ID)
	if err != nil {
		s.fail(c, "read roster", err)
		return
	}
	contracts, err := s.partners.Contracts(ctx, scope.Within(org.ID))
	if err != nil {
		s.fail(c, "read contracts", err)
		return
	}
	if err := s.record(c, event(c, "compliance.view", "partner/"+org.ID+"/compliance", org.ID, audit.Success)); err != nil {
		s.fail(c, "audit compliance view", err)
		return
	}
	today := calendar.Today(time.Now())
	page := compliancePage{Partner: org, Today: today, CanEdit: principal(c).MayOn(access.EditStaff, org.ID)}
	for _, ct := range contracts {
		if ct.Status == partner.Terminated {
			continue
		}
		page.Contracts = append(page.Contracts, s.figures(ct, members))
	}
	for _, m := range members {
		if m.Assessment == nil || !m.ActiveOn(time.Now()) {
			continue
		}
		if m.Assessment.Rejected > 0 || m.Assessment.NoEvidence > 0 {
			page.Attention = append(page.Attention, personLine{Member: m, Note: evidenceNote(m.Assessment)})
		}
		var due *time.Time
		for _, st := range m.Assessment.Contracts {
			if st.NextDue != nil && (due == nil || st.NextDue.Before(*due)) {
				due = st.NextDue
			}
		}
		if due == nil {
			continue
		}
		// Buckets of 30 days: within 30, 31 to 60, 61 to 90.
		if d := calendar.DaysBetween(today, *due); d >= 0 && d <= 90 {
			bucket := max(0, (d-1)/30)
			page.Expiring[bucket] = append(page.Expiring[bucket], personLine{Member: m, Due: *due})
		}
	}
	for i := range page.Expiring {
		slices.SortFunc(page.Expiring[i], func(a, b personLine) int { return a.Due.Compare(b.Due) })
	}
	s.render(c, http.StatusOK, "compliance", org.Name+": compliance", page)
}

func evidenceNote(a *staff.Assessment) string {
	var parts []string
	if a.Rejected > 0 {
		parts = append(parts, plural(a.Rejected, "rejected record", "rejected records"))
	}
	if a.NoEvidence > 0 {
		parts = append(parts, plural(a.NoEvidence, "record without evidence", "records without evidence"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// figures counts one contract's compliance from the stored assessments.
func (s *Server) figures(ct partner.Contract, members []staff.Member) contractFigures {
	set := s.requirements.Default
	if ct.Requirements != nil {
		set = *ct.Requirements
	}
	f := contractFigures{Contract: ct}
	byKey := map[string]*requirementFigure{}
	var order []string
	figure := func(key, name string) *requirementFigure {
		if r, ok := byKey[key]; ok {
			return r
		}
		byKey[key] = &requirementFigure{Key: key, Name: name}
		order = append(order, key)
		return byKey[key]
	}
	for _, rule := range set.Rules {
		for _, m := range rule.Training {
			figure(m, recordName(s.requirements, "training", m))
		}
		for _, g := range rule.Vetting {
			names := make([]string, len(g))
			for i, id := range g {
				names[i] = recordName(s.requirements, "vetting", id)
			}
			figure(strings.Join(g, "|"), strings.Join(names, " or "))
		}
	}
	for _, m := range members {
		st, ok := m.StandingUnder(ct.ID)
		if !ok || !st.Applies {
			continue
		}
		f.Staff++
		if st.Compliant {
			f.Compliant++
		}
		rule, _ := set.Rule(m.Category)
		gaps := map[string]string{}
		for _, g := range st.Gaps {
			gaps[g.Key] = g.State
		}
		keys := slices.Clone(rule.Training)
		for _, g := range rule.Vetting {
			keys = append(keys, strings.Join(g, "|"))
		}
		for _, k := range keys {
			r := figure(k, k)
			r.Applicable++
			switch compliance.State(gaps[k]) {
			case "":
				r.Met++
			case compliance.ExpiringSoon:
				r.Met++
				r.Expiring++
			case compliance.Expired:
				r.Expired++
			case compliance.AwaitingVerification:
				r.Awaiting++
			default:
				r.Missing++
			}
		}
	}
	for _, k := range order {
		r := byKey[k]
		if r.Applicable == 0 {
			continue
		}
		r.Percent = 100 * float64(r.Met) / float64(r.Applicable)
		f.Requirements = append(f.Requirements, *r)
	}
	if f.Staff > 0 {
		f.Percent = 100 * float64(f.Compliant) / float64(f.Staff)
	}
	f.RAG, f.Reason = rag(f)
	return f
}

// rag rates a contract's staff compliance and says why, naming the
// requirement that holds it back most.
func rag(f contractFigures) (string, string) {
	if f.Staff == 0 {
		return "grey", "No active staff are on the roster for this contract."
	}
	rating := "red"
	switch {
	case f.Percent >= greenFrom:
		rating = "green"
	case f.Percent >= amberFrom:
		rating = "amber"
	}
	reason := fmt.Sprintf("%d of %d active staff (%.1f%%) meet every requirement; green needs %.0f%%, amber %.0f%%.",
		f.Compliant, f.Staff, f.Percent, greenFrom, amberFrom)
	if len(f.Requirements) == 0 {
		return rating, reason
	}
	worst := slices.MinFunc(f.Requirements, func(a, b requirementFigure) int {
		return cmp.Or(cmp.Compare(a.Percent, b.Percent), strings.Compare(a.Name, b.Name))
	})
	if worst.Met < worst.Applicable {
		reason += fmt.Sprintf(" Most often not met: %s (%d of %d staff).", worst.Name, worst.Applicable-worst.Met, worst.Applicable)
	}
	return rating, reason
}

// personRecords is what a person's record page shows of their compliance
// and records, evaluated in full so each requirement can say why.
type personRecords struct {
	Assessed []records.Assessed
	Book     records.Book
}

func (s *Server) loadPersonRecords(c *gin.Context, m staff.Member) (personRecords, bool) {
	assessed, book, err := s.upkeep.ForPerson(c.Request.Context(), access.PartnerScope(m.PartnerID), m)
	if err != nil {
		s.fail(c, "evaluate staff member", err)
		return personRecords{}, false
	}
	return personRecords{Assessed: assessed, Book: book}, true
}
