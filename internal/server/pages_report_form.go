package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/report"
	"github.com/gin-gonic/gin"
)

// reportForm is the request form as typed, kept as text so a mistake is
// shown back as entered.
type reportForm struct {
	Kind, Contract, Partner string
	// Period is "month", "quarter" or "custom".
	Period, Quarter     string
	MonthNum, MonthYear string
	From, To            dateField
	Edition             string
}

func readReportForm(c *gin.Context) reportForm {
	return reportForm{Kind: c.PostForm("kind"), Contract: c.PostForm("contract"), Partner: c.PostForm("partner"),
		Period: c.PostForm("period"), Quarter: trimmed(c, "quarter"),
		MonthNum: trimmed(c, "month-month"), MonthYear: trimmed(c, "month-year"),
		From: readDate(c, "from"), To: readDate(c, "to"), Edition: c.PostForm("edition")}
}

// reportChoices are what the caller may report on.
type reportChoices struct {
	Contracts []partner.Contract
	Partners  []partner.Partner
	Portfolio bool
	// Department is whether the caller chooses the edition; a partner's
	// people only ever get the partner's.
	Department bool
}

// reportChoicesFor lists the contracts and partners within the caller's
// reach. A partner is offered only if every one of its live contracts is
// within reach: a partner's report covers them all, and the archive shows
// a report only to those who reach everything in it.
func (s *Server) reportChoicesFor(c *gin.Context) (reportChoices, error) {
	ctx, p := c.Request.Context(), principal(c)
	ch := reportChoices{Portfolio: p.Scope.All() && p.May(access.ViewPortfolio), Department: !partnerSide(c)}
	var err error
	if ch.Contracts, err = s.partners.Contracts(ctx, p.Scope); err != nil {
		return reportChoices{}, fmt.Errorf("list contracts: %w", err)
	}
	partners, err := s.partners.List(ctx, p.Scope)
	if err != nil {
		return reportChoices{}, fmt.Errorf("list partners: %w", err)
	}
	// Read to decide, never shown: every live contract, to find partners
	// with one out of the caller's reach.
	var outOfReach []string
	if !p.Scope.All() {
		all, err := s.partners.Contracts(ctx, access.Everything())
		if err != nil {
			return reportChoices{}, fmt.Errorf("list contracts: %w", err)
		}
		for _, ct := range all {
			if ct.Status != partner.Terminated && !p.Scope.IncludesContract(ct.ID, ct.PartnerID) {
				outOfReach = append(outOfReach, ct.PartnerID)
			}
		}
	}
	for _, org := range partners {
		if !slices.Contains(outOfReach, org.ID) {
			ch.Partners = append(ch.Partners, org)
		}
	}
	return ch, nil
}

type reportFormPage struct {
	Form        reportForm
	Errors      []fieldError
	Choices     reportChoices
	Kinds       []reportKindItem
	Contracts   []any
	Partners    []any
	Quarters    []any
	MonthInput  map[string]any
	ContractErr any
	PartnerErr  any
}

// reportKindItem is one answer to what a report is about.
type reportKindItem struct {
	ID, Value, Text string
	Checked         bool
}

// reportForm asks for a governance report and queues it.
func (s *Server) reportForm(c *gin.Context) {
	ctx := c.Request.Context()
	choices, err := s.reportChoicesFor(c)
	if err != nil {
		s.fail(c, "list what may be reported on", err)
		return
	}
	const heading = "Generate a governance report"
	now := time.Now()
	if c.Request.Method == http.MethodGet {
		f := reportForm{Contract: c.Query("contract"), Partner: c.Query("partner")}
		switch {
		case f.Contract != "":
			f.Kind = string(report.ContractReport)
		case f.Partner != "":
			f.Kind = string(report.PartnerReport)
		}
		s.render(c, http.StatusOK, "report-new", heading, newReportFormPage(f, nil, choices, now))
		return
	}
	f := readReportForm(c)
	req, errs := f.request(choices, calendar.Today(now))
	if len(errs) == 0 {
		p := principal(c)
		e, err := s.reports.Queue(ctx, req, report.Requester{Subject: p.Subject, Name: displayName(c), Org: p.Org}, now)
		switch {
		case errors.Is(err, report.ErrNoSubject):
			// Gone since the form was shown.
			errs = append(errs, subjectError(req.Kind))
		case err != nil:
			s.fail(c, "queue report", err)
			return
		default:
			if err := s.record(c, event(c, "report.request", "report/"+e.ID, e.PartnerID, audit.Success)); err != nil {
				s.fail(c, "audit report request", err)
				return
			}
			c.Redirect(http.StatusSeeOther, "/reports/"+e.ID)
			return
		}
	}
	s.render(c, http.StatusBadRequest, "report-new", "Error: "+heading, newReportFormPage(f, errs, choices, now))
}

func newReportFormPage(f reportForm, errs []fieldError, ch reportChoices, now time.Time) reportFormPage {
	page := reportFormPage{Form: f, Errors: errs, Choices: ch, Contracts: contractChoices(ch.Contracts, f.Contract),
		Quarters: quarterChoices(calendar.Today(now), f.Quarter), MonthInput: monthInput(f, errs),
		ContractErr: fieldErrorMessage(errs, "contract"), PartnerErr: fieldErrorMessage(errs, "partner")}
	for _, k := range []struct {
		kind  report.Kind
		text  string
		offer bool
	}{
		{report.ContractReport, "A contract", len(ch.Contracts) > 0},
		{report.PartnerReport, "A partner, with all its contracts", len(ch.Partners) > 0},
		{report.PortfolioReport, "The portfolio: every partner's contracts side by side", ch.Portfolio},
	} {
		if !k.offer {
			continue
		}
		// The first choice carries the question's ID, which the error summary links to.
		id := "kind"
		if len(page.Kinds) > 0 {
			id = "kind-" + string(k.kind)
		}
		page.Kinds = append(page.Kinds, reportKindItem{ID: id, Value: string(k.kind), Text: k.text, Checked: f.Kind == string(k.kind)})
	}
	page.Partners = []any{map[string]any{"value": "", "text": "Select a partner"}}
	for _, org := range ch.Partners {
		page.Partners = append(page.Partners, map[string]any{"value": org.ID, "text": org.Name, "selected": org.ID == f.Partner})
	}
	return page
}

// quarterChoices are govukSelect's items for the quarters a report may
// cover: this one and the eleven before it, newest first, and the one
// chosen if it is older.
func quarterChoices(today time.Time, selected string) []any {
	items := []any{map[string]any{"value": "", "text": "Select a quarter"}}
	found := false
	start := calendar.Date(today.Year(), time.Month((int(today.Month())-1)/3*3+1), 1)
	for i := range 12 {
		from := calendar.AddMonths(start, -3*i)
		name := fmt.Sprintf("%d-Q%d", from.Year(), (int(from.Month())-1)/3+1)
		p, err := report.ParsePeriod(name)
		if err != nil {
			continue
		}
		found = found || name == selected
		items = append(items, map[string]any{"value": name, "text": p.Label(), "selected": name == selected})
	}
	if p, err := report.ParsePeriod(selected); !found && err == nil && p.Name == selected {
		items = append(items, map[string]any{"value": selected, "text": p.Label(), "selected": true})
	}
	return items
}

// monthInput is govukDateInput's params for a month and year.
func monthInput(f reportForm, errs []fieldError) map[string]any {
	msg := fieldErrorMessage(errs, "month")
	errClass := ""
	if msg != nil {
		errClass = " govuk-input--error"
	}
	p := map[string]any{
		"id":         "month",
		"namePrefix": "month",
		"fieldset":   map[string]any{"legend": map[string]any{"text": "Month and year", "classes": "govuk-fieldset__legend--s"}},
		"hint":       map[string]any{"text": "For example, 11 2026"},
		"items": []any{
			map[string]any{"name": "month", "label": "Month", "value": f.MonthNum, "classes": "govuk-input--width-2" + errClass},
			map[string]any{"name": "year", "label": "Year", "value": f.MonthYear, "classes": "govuk-input--width-4" + errClass},
		},
	}
	if msg != nil {
		p["errorMessage"] = msg
	}
	return p
}

func subjectError(kind report.Kind) fieldError {
	if kind == report.PartnerReport {
		return fieldError{"partner", "Select the partner the report is about"}
	}
	return fieldError{"contract", "Select the contract the report is about"}
}

// request reads the form as a report request, or says what is wrong with
// it. A contract or partner out of reach reads as not chosen, the same as
// one that does not exist.
func (f reportForm) request(ch reportChoices, today time.Time) (report.Request, []fieldError) {
	var req report.Request
	var errs []fieldError
	switch report.Kind(f.Kind) {
	case report.ContractReport:
		req.Kind, req.SubjectID = report.ContractReport, f.Contract
		if !slices.ContainsFunc(ch.Contracts, func(ct partner.Contract) bool { return ct.ID == f.Contract }) {
			errs = append(errs, subjectError(req.Kind))
		}
	case report.PartnerReport:
		req.Kind, req.SubjectID = report.PartnerReport, f.Partner
		if !slices.ContainsFunc(ch.Partners, func(p partner.Partner) bool { return p.ID == f.Partner }) {
			errs = append(errs, subjectError(req.Kind))
		}
	case report.PortfolioReport:
		req.Kind = report.PortfolioReport
		if !ch.Portfolio {
			errs = append(errs, fieldError{"kind", "Select what the report is about"})
		}
	default:
		errs = append(errs, fieldError{"kind", "Select what the report is about"})
	}

	period, perr := f.period(today)
	if perr != nil {
		errs = append(errs, *perr)
	}
	req.Period = period

	switch {
	case !ch.Department:
		req.Edition = report.PartnerEdition
	case req.Kind == report.PortfolioReport:
		// It covers every partner: there is no partner to share it with.
		req.Edition = report.DepartmentEdition
	case f.Edition == string(report.DepartmentEdition) || f.Edition == string(report.PartnerEdition):
		req.Edition = report.Edition(f.Edition)
	default:
		errs = append(errs, fieldError{"edition", "Select who the report is for"})
	}
	return req, errs
}

// period reads the period chosen; it must have begun by today.
func (f reportForm) period(today time.Time) (report.Period, *fieldError) {
	switch f.Period {
	case "month":
		if f.MonthNum == "" && f.MonthYear == "" {
			return report.Period{}, &fieldError{"month", "Enter the month and year the report covers"}
		}
		m, e1 := strconv.Atoi(f.MonthNum)
		y, e2 := strconv.Atoi(f.MonthYear)
		if e1 != nil || e2 != nil || m < 1 || m > 12 || y < 2000 || y > 2100 {
			return report.Period{}, &fieldError{"month", "The month must be a real month and year, for example 11 2026"}
		}
		p, err := report.ParsePeriod(fmt.Sprintf("%04d-%02d", y, m))
		if err != nil {
			return report.Period{}, &fieldError{"month", "The month must be a real month and year, for example 11 2026"}
		}
		if p.From.After(today) {
			return report.Period{}, &fieldError{"month", "The month must be this month or earlier"}
		}
		return p, nil
	case "quarter":
		p, err := report.ParsePeriod(f.Quarter)
		if f.Quarter == "" || err != nil || p.Name != f.Quarter || p.From.After(today) {
			return report.Period{}, &fieldError{"quarter", "Select the quarter the report covers"}
		}
		return p, nil
	case "custom":
		from, msg := f.From.parse("the first day the report covers")
		if msg != "" {
			return report.Period{}, &fieldError{"from", msg}
		}
		to, msg := f.To.parse("the last day the report covers")
		if msg != "" {
			return report.Period{}, &fieldError{"to", msg}
		}
		if from.Year() < 2000 {
			return report.Period{}, &fieldError{"from", "The first day must be in 2000 or later"}
		}
		if from.After(today) {
			return report.Period{}, &fieldError{"from", "The first day must be today or earlier"}
		}
		if to.Before(from) {
			return report.Period{}, &fieldError{"to", "The last day must be the same as or after the first day"}
		}
		p, err := report.NewPeriod(from, to)
		if err != nil {
			return report.Period{}, &fieldError{"to", "A report can cover at most 2 years"}
		}
		return p, nil
	}
	return report.Period{}, &fieldError{"period", "Select the period the report covers"}
}
