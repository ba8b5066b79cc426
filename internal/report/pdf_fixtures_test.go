package report

import (
	"fmt"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
)

// Synthetic reports shaped like the ones the portal gathers, shared by the
// PDF tests and benchmarks.

var (
	fixtureGeneratedAt = time.Date(2026, 12, 7, 16, 5, 0, 0, time.UTC) // 16:05 in London (GMT)
	fixtureAsOf        = calendar.Date(2026, 12, 7)
)

var fixtureRequirements = []struct{ name, kind string }{
	{"Safeguarding adults level 2", "training"},
	{"Vulnerability awareness", "training"},
	{"Trauma-informed practice", "training"},
	{"Suicide and self-harm prevention", "training"},
	{"Modern slavery and trafficking indicators", "training"},
	{"Domestic abuse awareness", "training"},
	{"Data protection and information sharing", "training"},
	{"Safer recruitment for managers", "training"},
	{"Enhanced DBS with barred lists", "vetting"},
	{"Right to work check", "vetting"},
	{"Two references verified", "vetting"},
	{"Counter-terrorism check (CTC)", "vetting"},
}

func fptr(v float64) *float64     { return &v }
func tptr(t time.Time) *time.Time { return &t }

func fixtureRAG(i int) string {
	switch {
	case i%11 == 0:
		return "red"
	case i%4 == 1:
		return "amber"
	case i%17 == 5:
		return "grey"
	}
	return "green"
}

func fixtureContract(i, actions, inspections int, department bool) Contract {
	staff := 80 + (i*37)%400
	rag := fixtureRAG(i)
	c := Contract{
		ID:          fmt.Sprintf("CON-%04d", 1000+i),
		Title:       []string{"Initial accommodation", "Dispersed accommodation", "Advice, issue reporting and eligibility", "Transport and escorting"}[i%4] + fmt.Sprintf(" lot %d", 1+i%9),
		PartnerID:   fmt.Sprintf("P-%02d", i%12),
		PartnerName: []string{"Acme Asylum Services", "Northgate Housing Partnership", "Riverside Support Ltd", "Calder Care Group"}[i%4],
		ServiceLine: []string{"Accommodation", "Accommodation", "Advice and support", "Transport"}[i%4],
		Status:      "Active",
		RAG:         rag,
		Staff:       staff,
		Compliant:   staff - (i*7)%25,
		VettingGaps: (i * 3) % 7,
		Unassessed:  i % 3,
		Expiries:    Expiries{Within30: (i * 5) % 9, Within60: (i * 3) % 11, Within90: (i * 7) % 13},
		Notified:    (i * 5) % 14,
		Points:      (i * 3) % 30,
		Threshold:   25,
	}
	c.Late = c.Notified / 4
	switch i % 13 {
	case 3:
		c.Status = "Suspended"
		c.StatusReason = "Repeated failure to notify serious incidents within 24 hours; suspension recommended by the safeguarding lead."
		c.StatusChangedOn = tptr(calendar.Date(2026, 10, 14))
	case 8:
		c.Status = "Under review"
		c.StatusReason = "Inspection found staff working without an enhanced DBS check."
		c.StatusChangedOn = tptr(calendar.Date(2026, 11, 2))
	}
	c.Measures = []Measure{
		{Name: "Staff compliance", RAG: rag, Reason: fmt.Sprintf("%.1f%% of staff meet every requirement (green from 95%%).", c.CompliantPercent())},
		{Name: "Vetting", RAG: map[bool]string{true: "red", false: "green"}[c.VettingGaps > 0], Reason: fmt.Sprintf("%d staff have a vetting gap.", c.VettingGaps)},
		{Name: "Incident notification", RAG: "amber", Reason: fmt.Sprintf("%d of %d incidents notified late this month.", c.Late, c.Notified)},
		{Name: "Actions", RAG: "green", Reason: "No actions more than 14 days overdue."},
	}
	if rag == "red" || rag == "amber" {
		c.Reasons = []string{
			fmt.Sprintf("%d staff have a vetting gap, including missing enhanced DBS checks with barred lists for staff working directly with customers.", c.VettingGaps),
			"Incident notifications were late in two of the last three months.",
		}
	}
	c.Requirements = fixtureRequirementsFor(i, staff)
	for a := range actions {
		due := calendar.AddDays(fixtureAsOf, a*3-40)
		c.Actions = append(c.Actions, Action{
			Title:    []string{"Complete enhanced DBS checks for night staff at Hillside House", "Refresh safeguarding training for new starters", "Review incident notification rota so that out-of-hours incidents are notified within 24 hours", "Fit window restrictors in rooms on upper floors"}[a%4],
			Priority: []string{"High", "Medium", "Low"}[a%3],
			Status:   []string{"Open", "In progress", "Awaiting evidence"}[a%3],
			DueOn:    due,
			Overdue:  due.Before(fixtureAsOf),
		})
		c.OpenActions++
		if due.Before(fixtureAsOf) {
			c.OverdueActions++
		}
	}
	for n := range inspections {
		in := Inspection{
			Date:   calendar.AddDays(calendar.Date(2026, 11, 1), n),
			Site:   []string{"Hillside House, Leeds", "Canal Street hostel, Manchester", "Dispersed properties, Bradford", "Office and helpline, Sheffield"}[n%4],
			Status: "Completed",
			Rating: []string{"Good", "Requires improvement", "Good", "Inadequate"}[n%4],
			Focus:  []string{"Fire safety and room checks", "Safeguarding referrals and record keeping", "Staff vetting files"}[n%3],
			Findings: "Staff knew how to recognise and report safeguarding concerns, but two of the six files sampled had no record of an enhanced DBS check. " +
				"Fire doors on the second floor were wedged open. The manager agreed to remedy both within 14 days and to send evidence to the contract manager.",
		}
		if n%5 == 4 {
			in.Status, in.Rating, in.Findings = "Planned", "", ""
		}
		c.Inspections = append(c.Inspections, in)
	}
	if inspections > 0 {
		c.LastInspected = tptr(calendar.Date(2026, 11, 30))
	}
	if department && i%5 == 0 {
		c.Escalations = fixtureEscalations()
	}
	return c
}

func fixtureEscalations() []Escalation {
	return []Escalation{
		{RaisedOn: calendar.Date(2026, 11, 12), Kind: "Suspension recommended", Status: "Decided", Outcome: "Suspension approved", Decided: tptr(calendar.Date(2026, 11, 20))},
		{RaisedOn: calendar.Date(2026, 11, 28), Kind: "Critical incident", Status: "Open"},
	}
}

func fixtureRequirementsFor(i, staff int) []Requirement {
	var reqs []Requirement
	for k, q := range fixtureRequirements {
		applicable := staff
		if k == 7 {
			applicable = staff / 10
		}
		met := applicable - (i+k*3)%(applicable/8+1)
		reqs = append(reqs, Requirement{
			Name: q.name, Kind: q.kind, Applicable: applicable, Met: met,
			Expiring: (i + k) % 6, Expired: (applicable - met) / 3, Missing: (applicable - met) / 2,
			Awaiting: (applicable - met) - (applicable-met)/3 - (applicable-met)/2,
		})
	}
	return reqs
}

func fixtureTrend(months int) []TrendPoint {
	var tr []TrendPoint
	start := calendar.AddMonths(calendar.Date(2026, 11, 1), -(months - 1))
	for m := range months {
		month := calendar.AddMonths(start, m)
		p := TrendPoint{Month: month.Format("2006-01"), Notified: 8 + (m*7)%13, Late: (m * 3) % 4}
		if m != 2 { // one month was not counted
			p.StaffPercent = fptr(88 + float64((m*37)%90)/10)
			p.OnTimePercent = fptr(percent(p.Notified-p.Late, p.Notified))
		}
		tr = append(tr, p)
	}
	return tr
}

// fixtureReport adds up contracts into a report, as the gatherer does.
func fixtureReport(kind Kind, edition Edition, contracts []Contract) Report {
	period, err := ParsePeriod("2026-11")
	if err != nil {
		panic(err)
	}
	r := Report{
		ID: "RPT-20261207-7Q4M2K", Kind: kind, Edition: edition, Period: period,
		GeneratedAt: fixtureGeneratedAt, GeneratedBy: "Priya Shah", AsOf: fixtureAsOf,
		Contracts: contracts, Trend: fixtureTrend(12),
		Summary: Summary{Ratings: map[string]int{}},
	}
	worst := map[string]int{"red": 3, "amber": 2, "green": 1, "grey": 0}
	r.Summary.RAG = "grey"
	byName := map[string]int{}
	for _, c := range contracts {
		s := &r.Summary
		s.Ratings[c.RAG]++
		if worst[c.RAG] > worst[s.RAG] {
			s.RAG = c.RAG
		}
		s.Staff += c.Staff
		s.Compliant += c.Compliant
		s.VettingGaps += c.VettingGaps
		s.Unassessed += c.Unassessed
		s.ExpiringIn90Days += c.Expiries.Total()
		s.Notified += c.Notified
		s.Late += c.Late
		s.OpenActions += c.OpenActions
		s.OverdueActions += c.OverdueActions
		for _, in := range c.Inspections {
			if in.Status == "Completed" {
				s.Inspections++
			}
		}
		s.Escalations += len(c.Escalations)
		if c.Status == "Suspended" {
			s.Suspended++
		}
		for _, q := range c.Requirements {
			k, ok := byName[q.Name]
			if !ok {
				k = len(r.Requirements)
				byName[q.Name] = k
				r.Requirements = append(r.Requirements, Requirement{Name: q.Name, Kind: q.Kind})
			}
			t := &r.Requirements[k]
			t.Applicable += q.Applicable
			t.Met += q.Met
			t.Expiring += q.Expiring
			t.Expired += q.Expired
			t.Missing += q.Missing
			t.Awaiting += q.Awaiting
		}
	}
	r.Incidents = Incidents{
		Notified: r.Summary.Notified, Late: r.Summary.Late, Critical: r.Summary.Notified / 6, AverageLateMinutes: 135,
		ByCategory: []Count{
			{Label: "Self-harm or attempted suicide", N: r.Summary.Notified / 3},
			{Label: "Safeguarding concern (adult)", N: r.Summary.Notified / 4},
			{Label: "Physical assault", N: r.Summary.Notified / 6},
			{Label: "Missing person", N: 6},
		},
		ByIndicator: []Count{
			{Label: "Mental health condition", N: r.Summary.Notified / 2},
			{Label: "Pregnancy", N: 7},
			{Label: "Disability", N: 5},
		},
	}
	return r
}

// fixtureContractReport is one large contract: 1,234 of its 1,300 staff
// compliant, 12 requirements, 40 open actions, 20 inspections.
func fixtureContractReport() Report {
	c := fixtureContract(11, 40, 20, true)
	c.Staff, c.Compliant = 1300, 1234
	c.Requirements = fixtureRequirementsFor(11, c.Staff)
	c.Escalations = fixtureEscalations()
	r := fixtureReport(ContractReport, DepartmentEdition, []Contract{c})
	r.SubjectID = c.ID
	r.Title = "Governance report: " + c.ID + " " + c.Title
	return r
}

func fixturePartnerReport() Report {
	var cs []Contract
	for _, i := range []int{4, 8, 12} {
		cs = append(cs, fixtureContract(i, 6, 3, false))
	}
	r := fixtureReport(PartnerReport, PartnerEdition, cs)
	r.SubjectID = cs[0].PartnerID
	r.Title = "Governance report: " + cs[0].PartnerName
	return r
}

// fixturePortfolioReport has 60 contracts and, as the portfolio always
// does, suppressed small counts in its breakdowns.
func fixturePortfolioReport() Report {
	var cs []Contract
	for i := range 60 {
		cs = append(cs, fixtureContract(i, 3, 2, true))
	}
	// Worst rated first, as the gatherer orders them.
	order := map[string]int{"red": 0, "amber": 1, "grey": 2, "green": 3}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && order[cs[j].RAG] < order[cs[j-1].RAG]; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	r := fixtureReport(PortfolioReport, DepartmentEdition, cs)
	r.Title = "Governance report: all partners"
	r.Incidents.ByCategory = append(r.Incidents.ByCategory, Count{Label: "Death of a customer", Suppressed: true})
	r.Incidents.ByIndicator = append(r.Incidents.ByIndicator, Count{Label: "Child in household", Suppressed: true})
	return r
}
