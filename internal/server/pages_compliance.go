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
	"github.com/department/safeguarding-portal/internal/portfolio"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
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
	// Settling is true while assessments are being brought up to date.
	Settling bool
}

// staleInline is how many stale assessments a page brings up to date
// before it answers: a few people's records changed or came up for renewal.
// More, and the page answers at once and they are redone in the background.
const staleInline = 50

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
	scope := principal(c).Scope
	members, err := s.staff.Members(ctx, scope, org.ID)
	if err != nil {
		s.fail(c, "read roster", err)
		return
	}
	stale, err := s.upkeep.Stale(ctx, org.ID, members)
	if err != nil {
		s.fail(c, "check assessments", err)
		return
	}
	settling := false
	switch {
	case stale > staleInline || (stale > 0 && s.refreshingPartner(org.ID)):
		// A day's renewals or a requirement change across a large roster:
		// the page shows the figures as they stand and says they are moving.
		s.refreshPartner(org.ID)
		settling = true
	case stale > 0:
		if _, err := s.upkeep.ReassessPartner(ctx, org.ID, false); err != nil {
			s.fail(c, "bring assessments up to date", err)
			return
		}
		if members, err = s.staff.Members(ctx, scope, org.ID); err != nil {
			s.fail(c, "read roster", err)
			return
		}
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
	page := compliancePage{Partner: org, Today: today, CanEdit: principal(c).MayOn(access.EditStaff, org.ID), Settling: settling || s.refreshingPartner(org.ID)}
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

// figures counts one contract's compliance from the stored assessments,
// as the dashboard counts it.
func (s *Server) figures(ct partner.Contract, members []staff.Member) contractFigures {
	set := s.requirements.Default
	if ct.Requirements != nil {
		set = *ct.Requirements
	}
	counter := portfolio.NewStaffCounter(ct.ID, set)
	for _, m := range members {
		counter.Add(m)
	}
	counted := counter.Figures()
	f := contractFigures{Contract: ct, Staff: counted.Staff, Compliant: counted.Compliant, Percent: counted.Percent()}
	for _, r := range counted.Requirements {
		f.Requirements = append(f.Requirements, requirementFigure{Key: r.Key, Name: requirementName(s.requirements, r),
			Applicable: r.Applicable, Met: r.Met, Missing: r.Missing, Expired: r.Expired, Awaiting: r.Awaiting, Expiring: r.Expiring, Percent: r.Percent()})
	}
	f.RAG, f.Reason = rag(f)
	return f
}

// requirementName is a module's name, or a vetting group's type names as
// alternatives: "Enhanced DBS check or Enhanced DBS check with children's barred list".
func requirementName(cat *requirements.Catalogue, r portfolio.RequirementFigure) string {
	if r.Kind != string(compliance.KindVetting) {
		return recordName(cat, "training", r.Key)
	}
	ids := strings.Split(r.Key, "|")
	for i, id := range ids {
		ids[i] = recordName(cat, "vetting", id)
	}
	return strings.Join(ids, " or ")
}

// rag rates a contract's staff compliance and says why, naming the
// requirement that holds it back most.
func rag(f contractFigures) (string, string) {
	if f.Staff == 0 {
		return "grey", "No active staff are on the roster for this contract."
	}
	rating := "red"
	switch {
	case f.Percent >= portfolio.StaffGreenFrom:
		rating = "green"
	case f.Percent >= portfolio.StaffAmberFrom:
		rating = "amber"
	}
	reason := fmt.Sprintf("%d of %d active staff (%.1f%%) meet every requirement; green needs %.0f%%, amber %.0f%%.",
		f.Compliant, f.Staff, f.Percent, portfolio.StaffGreenFrom, portfolio.StaffAmberFrom)
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
