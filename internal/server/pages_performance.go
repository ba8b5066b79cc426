package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/gin-gonic/gin"
)

// A contract's performance page is for everyone who sees the contract:
// its managers and the safeguarding leads, who may waive a failure and set
// the contract's terms, auditors, and the partner's own people, read-only,
// who see the failures held against them. A contract out of reach is not
// found, whatever the path names.
func (s *Server) performanceRoutes(private *gin.RouterGroup) {
	private.GET("/contracts/:contract/performance", s.allow(access.ViewContracts), s.performancePage)
	private.GET("/contracts/:contract/performance/terms", s.allow(access.ManageContracts), s.performanceTerms)
	private.POST("/contracts/:contract/performance/terms", s.allow(access.ManageContracts), s.performanceTerms)
	private.GET("/contracts/:contract/performance/failures/:failure/waive", s.allow(access.ManageContracts), s.waiveFailure)
	private.POST("/contracts/:contract/performance/failures/:failure/waive", s.allow(access.ManageContracts), s.waiveFailure)
}

// performanceLoop records the failures partners score, at start-up and
// then hourly. Detection records each failure once however often, and on
// however many replicas, it runs. Its first run may come before the first
// upkeep has assessed everyone; the people it could not judge yet are
// found an hour later, in the same month.
func (s *Server) performanceLoop() {
	defer s.background.Done()
	d := &performance.Detector{Failures: s.performance, Partners: s.partners, Incidents: s.incidents, Oversight: s.oversight, Staff: s.staff}
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		ctx := s.backgroundCtx
		if n, err := d.Detect(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("performance failures not all detected", "err", err, "recorded", n)
		} else if n > 0 {
			s.log.Info("performance failures recorded", "failures", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

const failuresPerPage = 50

type performancePage struct {
	Contract    partner.Contract
	PartnerName string
	MonthName   string
	QuarterName string
	Previous    string
	Next        string
	Score       performance.Score
	Quarter     performance.QuarterScore
	Terms       performance.Terms
	OwnTerms    bool
	Failures    []failureRow
	Total       int64
	Pagination  map[string]any
	CanManage   bool
	Saved       string
}

// failureRow is a failure as the page lists it: what it is, the record
// that shows it, and whether it counts.
type failureRow struct {
	performance.Failure
	IndicatorName string
	Href          string
	LinkText      string
	Facts         []string
	// Requirements are what a person does not meet, one line each.
	Requirements []string
	WaiveHref    string
}

// performanceMonth is the month the page shows: ?month=2026-03, or this
// month. A month that cannot be read, or has not begun, is refused.
func performanceMonth(c *gin.Context) (time.Time, bool) {
	this := performance.MonthOf(time.Now())
	v := c.Query("month")
	if v == "" {
		return this, true
	}
	m, err := time.Parse("2006-01", v)
	if err != nil || m.Year() < 2000 || m.After(this) {
		return time.Time{}, false
	}
	return m, true
}

func monthQuery(m time.Time) string { return m.Format("2006-01") }

func (s *Server) performancePage(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ViewContracts)
	if !ok {
		return
	}
	month, ok := performanceMonth(c)
	if !ok {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	pageNo, _ := strconv.Atoi(c.Query("page"))
	pageNo = max(pageNo, 1)
	quarters, err := s.performance.QuarterScores(ctx, p.Scope, month)
	if err != nil {
		s.fail(c, "performance scores", err)
		return
	}
	failures, total, err := s.performance.List(ctx, p.Scope, performance.Filter{ContractID: ct.ID, Month: month}, pageNo, failuresPerPage)
	if err != nil {
		s.fail(c, "list performance failures", err)
		return
	}
	// The failures name staff and what they lack: viewing them is on record.
	if err := s.record(c, event(c, "performance.view", "contract/"+ct.ID+"/performance", ct.PartnerID, audit.Success)); err != nil {
		s.fail(c, "audit performance view", err)
		return
	}
	page := performancePage{Contract: ct, PartnerName: s.partnerName(c, p.Scope, ct.PartnerID), MonthName: month.Format("January 2006"),
		Quarter: quarters[ct.ID], Terms: s.performance.TermsFor(ct), OwnTerms: ct.Performance != nil,
		Total: total, CanManage: canManage(p, ct), Saved: c.Query("saved")}
	// The month's score is one of its quarter's three.
	page.Score = performance.Score{ContractID: ct.ID, Month: month, Threshold: page.Terms.Threshold}
	for _, m := range page.Quarter.Months {
		if m.Month.Equal(month) {
			page.Score = m
		}
	}
	first := performance.QuarterOf(month)
	page.QuarterName = first.Format("January") + " to " + calendar.AddMonths(first, 2).Format("January 2006")
	base := "/contracts/" + ct.ID + "/performance"
	if prev := calendar.AddMonths(month, -1); prev.Year() >= 2000 {
		page.Previous = base + "?month=" + monthQuery(prev)
	}
	if next := calendar.AddMonths(month, 1); !next.After(performance.MonthOf(time.Now())) {
		page.Next = base + "?month=" + monthQuery(next)
	}
	for _, f := range failures {
		row := s.failureRow(f)
		if page.CanManage && !f.Waived {
			row.WaiveHref = base + "/failures/" + f.ID.Hex() + "/waive"
		}
		page.Failures = append(page.Failures, row)
	}
	pages := int((total + failuresPerPage - 1) / failuresPerPage)
	page.Pagination = pagination(base, url.Values{"month": {monthQuery(month)}}, pageNo, pages)
	s.render(c, http.StatusOK, "performance", "Performance: "+ct.ID, page)
}

// failureRow says what a failure is and links to the record that shows it.
func (s *Server) failureRow(f performance.Failure) failureRow {
	row := failureRow{Failure: f, IndicatorName: performance.IndicatorName(f.Indicator)}
	ev := f.Evidence
	switch f.Indicator {
	case performance.LateNotification:
		row.Href, row.LinkText = "/incidents/"+ev.IncidentID, "Incident "+ev.IncidentReference
		if ev.NotifiedAt != nil {
			row.Facts = append(row.Facts, "Notified "+ev.NotifiedAt.In(calendar.London).Format("2 January 2006, 15:04")+", "+deadline.DescribeLateness(ev.LateBy))
		}
	case performance.OverdueAction:
		row.Href, row.LinkText = "/actions/"+ev.ActionID, "Action: "+ev.ActionTitle
		if ev.DueOn != nil {
			row.Facts = append(row.Facts, "Due "+calendar.Format(*ev.DueOn)+", overdue in "+f.Month.Format("January 2006"))
		}
	case performance.FailedInspection:
		row.Href, row.LinkText = "/inspections/"+ev.InspectionID, "Inspection at "+ev.Site
		if ev.InspectedOn != nil {
			row.Facts = append(row.Facts, "Inspected "+calendar.Format(*ev.InspectedOn)+", rated "+oversight.RatingName(ev.Rating))
		}
	case performance.StaffNotCompliant:
		row.Href, row.LinkText = "/partners/"+f.PartnerID+"/staff/"+ev.StaffID, "Staff number "+ev.StaffNumber
		if ev.Since != nil {
			row.Facts = append(row.Facts, fmt.Sprintf("%s not met, the first since %s", plural(len(ev.Missing), "requirement", "requirements"), calendar.Format(*ev.Since)))
		}
		for _, m := range ev.Missing {
			state := "missing"
			if m.State == "expired" {
				state = "expired"
			}
			row.Requirements = append(row.Requirements, fmt.Sprintf("%s: %s since %s", s.requirementName(m.Key), state, calendar.Format(m.Since)))
		}
	}
	return row
}

// requirementName is a requirement key as people read it: a module's
// name, or a vetting group's checks, any one of which meets it.
func (s *Server) requirementName(key string) string {
	if m, ok := s.requirements.Module(key); ok {
		return m.Name
	}
	var names []string
	for _, id := range strings.Split(key, "|") {
		names = append(names, recordName(s.requirements, "vetting", id))
	}
	return strings.Join(names, " or ")
}

// The form's fields for the terms, in the order it asks for them, with
// what to say when one is left out or out of range.
var termsFields = []struct {
	id, label, hint, suffix, missing, invalid string
}{
	{"late_notification", "Late incident notification", "For each serious incident notified after its deadline.", "points",
		"Enter the points for a late incident notification", "Points for a late incident notification must be a whole number from 0 to 100"},
	{"overdue_action", "Overdue action", "For each action not closed by its due date, in each month it is overdue.", "points",
		"Enter the points for an overdue action", "Points for an overdue action must be a whole number from 0 to 100"},
	{"staff_not_compliant", "Staff without required training or vetting", "For each person, in each month they work without it past the grace period.", "points",
		"Enter the points for staff without required training or vetting", "Points for staff without required training or vetting must be a whole number from 0 to 100"},
	{"failed_inspection", "Failed inspection", "For each inspection rated inadequate.", "points",
		"Enter the points for a failed inspection", "Points for a failed inspection must be a whole number from 0 to 100"},
	{"grace_days", "Grace period for training and vetting", "How long a new starter, or someone whose training or vetting has lapsed, may work without it before it counts.", "days",
		"Enter the grace period in days", "Grace period must be a whole number of days from 0 to 365"},
	{"threshold", "Service credit threshold", "The most points a calendar month may score before service credits are due.", "points",
		"Enter the service credit threshold", "Service credit threshold must be a whole number from 0 to 10,000"},
}

// termsLimits are the most each field may be.
var termsLimits = map[string]int{
	"late_notification": partner.MaxPoints, "overdue_action": partner.MaxPoints, "staff_not_compliant": partner.MaxPoints,
	"failed_inspection": partner.MaxPoints, "grace_days": partner.MaxGraceDays, "threshold": partner.MaxThreshold,
}

type termsField struct {
	ID, Label, Hint, Suffix, Value string
}

type termsPage struct {
	Contract    partner.Contract
	PartnerName string
	Action      string
	Back        string
	Version     int64
	OwnTerms    bool
	Defaults    performance.Terms
	Fields      []termsField
	Errors      []fieldError
}

func termsValues(t performance.Terms) map[string]string {
	return map[string]string{
		"late_notification": strconv.Itoa(t.LateNotification), "overdue_action": strconv.Itoa(t.OverdueAction),
		"staff_not_compliant": strconv.Itoa(t.StaffNotCompliant), "failed_inspection": strconv.Itoa(t.FailedInspection),
		"grace_days": strconv.Itoa(t.GraceDays), "threshold": strconv.Itoa(t.Threshold),
	}
}

func termsForm(values map[string]string) []termsField {
	out := make([]termsField, 0, len(termsFields))
	for _, f := range termsFields {
		out = append(out, termsField{ID: f.id, Label: f.label, Hint: f.hint, Suffix: f.suffix, Value: values[f.id]})
	}
	return out
}

// readTerms reads the terms form: each figure a whole number in its range.
func readTerms(c *gin.Context) (performance.Terms, map[string]string, []fieldError) {
	values := map[string]string{}
	nums := map[string]int{}
	var errs []fieldError
	for _, f := range termsFields {
		v := strings.TrimSpace(c.PostForm(f.id))
		values[f.id] = v
		n, err := strconv.Atoi(v)
		switch {
		case v == "":
			errs = append(errs, fieldError{f.id, f.missing})
		case err != nil || n < 0 || n > termsLimits[f.id]:
			errs = append(errs, fieldError{f.id, f.invalid})
		}
		nums[f.id] = n
	}
	return performance.Terms{LateNotification: nums["late_notification"], OverdueAction: nums["overdue_action"],
		StaffNotCompliant: nums["staff_not_compliant"], FailedInspection: nums["failed_inspection"],
		GraceDays: nums["grace_days"], Threshold: nums["threshold"]}, values, errs
}

// thousands writes a whole number as GOV.UK does: "10,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// performanceTerms shows and handles the form that sets a contract's own
// performance terms, or returns it to the department's defaults.
func (s *Server) performanceTerms(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ManageContracts)
	if !ok {
		return
	}
	p := principal(c)
	page := termsPage{Contract: ct, PartnerName: s.partnerName(c, p.Scope, ct.PartnerID), Action: c.Request.URL.Path,
		Back: "/contracts/" + ct.ID + "/performance", Version: ct.Version, OwnTerms: ct.Performance != nil, Defaults: s.performance.Defaults()}
	const heading = "Set the contract’s performance terms"
	if c.Request.Method == http.MethodGet {
		page.Fields = termsForm(termsValues(s.performance.TermsFor(ct)))
		s.render(c, http.StatusOK, "performance-terms", heading, page)
		return
	}
	version, ok := formVersion(c)
	if !ok {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	page.Version = version
	var terms *performance.Terms
	values := termsValues(s.performance.TermsFor(ct))
	if c.PostForm("use") != "defaults" {
		t, v, errs := readTerms(c)
		terms, values, page.Errors = &t, v, errs
		// The defaults typed out again are no terms of the contract's own:
		// it goes on following the defaults.
		if len(errs) == 0 && ct.Performance == nil && t == s.performance.Defaults() && version == ct.Version {
			page.Errors = append(page.Errors, fieldError{termsFields[0].id, "You have not changed anything"})
		}
	}
	status := http.StatusBadRequest
	if len(page.Errors) == 0 {
		err := s.stored(c, s.partners.SetPerformanceTerms(c.Request.Context(), p.Scope, ct.ID, version, terms,
			event(c, "contract.performance_terms", "contract/"+ct.ID, ct.PartnerID, audit.Success)))
		switch {
		case errors.Is(err, partner.ErrUnchanged):
			page.Errors = append(page.Errors, fieldError{termsFields[0].id, "You have not changed anything"})
		case errors.Is(err, partner.ErrConflict):
			if ct, ok = s.reachableContract(c, access.ManageContracts); !ok {
				return
			}
			page.Contract, page.Version, page.OwnTerms, status = ct, ct.Version, ct.Performance != nil, http.StatusConflict
			values = termsValues(s.performance.TermsFor(ct))
			page.Errors = append(page.Errors, fieldError{termsFields[0].id, conflictError})
		case errors.Is(err, partner.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case err != nil:
			s.fail(c, "set performance terms", err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/contracts/"+ct.ID+"/performance?saved=terms")
			return
		}
	}
	page.Fields = termsForm(values)
	s.render(c, status, "performance-terms", "Error: "+heading, page)
}

type waivePage struct {
	Contract    partner.Contract
	PartnerName string
	Failure     failureRow
	Action      string
	Back        string
	Reason      string
	MaxReason   string
	Errors      []fieldError
}

// waiveFailure shows and handles the form on which a manager waives a
// failure, with the reason the partner will read beside it.
func (s *Server) waiveFailure(c *gin.Context) {
	ct, ok := s.reachableContract(c, access.ManageContracts)
	if !ok {
		return
	}
	p := principal(c)
	if !canManage(p, ct) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	ctx := c.Request.Context()
	f, err := s.performance.Get(ctx, p.Scope, c.Param("failure"))
	if errors.Is(err, performance.ErrNotFound) || (err == nil && f.ContractID != ct.ID) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(c, "read performance failure", err)
		return
	}
	back := "/contracts/" + ct.ID + "/performance?month=" + monthQuery(f.Month)
	page := waivePage{Contract: ct, PartnerName: s.partnerName(c, p.Scope, ct.PartnerID), Failure: s.failureRow(f),
		Action: c.Request.URL.Path, Back: back, MaxReason: thousands(performance.MaxReason)}
	const heading = "Waive a failure"
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "performance-waive", heading, page)
		return
	}
	version, verr := strconv.Atoi(c.PostForm("version"))
	if verr != nil || version < 1 {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	page.Reason = strings.TrimSpace(c.PostForm("reason"))
	_, err = s.performance.Waive(ctx, p.Scope, f.ID.Hex(), version, page.Reason, performance.Actor{ID: p.Subject, Name: displayName(c)},
		event(c, "", "", ct.PartnerID, audit.Success))
	var inv *performance.ErrInvalid
	status := http.StatusBadRequest
	switch {
	case errors.As(err, &inv):
		page.Errors = []fieldError{{"reason", inv.Message}}
	case errors.Is(err, performance.ErrConflict):
		if f, err = s.performance.Get(ctx, p.Scope, f.ID.Hex()); err != nil {
			s.fail(c, "read performance failure", err)
			return
		}
		page.Failure, status = s.failureRow(f), http.StatusConflict
		page.Errors = []fieldError{{"reason", "Someone else changed this failure while you were looking at it. Check it again, then try again"}}
	case errors.Is(err, performance.ErrNotFound):
		s.renderError(c, http.StatusNotFound)
		return
	case errors.Is(err, performance.ErrUncounted):
		s.log.Warn("failure waived; its score waits for the next detection run", "err", err, "request_id", c.GetString(ctxRequestID))
		c.Redirect(http.StatusSeeOther, back+"&saved=waived")
		return
	case s.stored(c, err) != nil:
		s.fail(c, "waive performance failure", err)
		return
	default:
		c.Redirect(http.StatusSeeOther, back+"&saved=waived")
		return
	}
	s.render(c, status, "performance-waive", "Error: "+heading, page)
}
