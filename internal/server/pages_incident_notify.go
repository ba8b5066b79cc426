package server

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/web"
	"github.com/gin-gonic/gin"
)

// The partner compliance officer's journey to notify the department of a
// serious incident: a start page, a question page for each topic, a page to
// check the answers, and a confirmation with the incident's reference.
//
// Every answer is saved to a draft (incident.Draft) as the officer moves on,
// so they can stop ("Save and come back later") and carry on in another
// session; only they reach it, and a draft of anyone else is not found.
// Sending builds the same Notice the API takes, checked by the same rules,
// and stores the same Incident, audited by the incident store. Drafts are not
// audited or logged: their only personal data is the customer's reference.

// incidentJourneyRoutes registers the partner officer's journey for
// notifying a serious incident.
func (s *Server) incidentJourneyRoutes(private *gin.RouterGroup) {
	create := s.allow(access.CreateIncident)
	private.GET("/incidents/new", create, s.notifyStart)
	private.POST("/incidents/new", create, s.startDraft)
	private.GET("/incidents/drafts", create, s.draftList)
	private.GET("/incidents/drafts/:draft", create, s.continueDraft)
	private.GET("/incidents/drafts/:draft/contract", create, s.question(askContract))
	private.POST("/incidents/drafts/:draft/contract", create, s.question(askContract))
	private.GET("/incidents/drafts/:draft/category", create, s.question(askCategory))
	private.POST("/incidents/drafts/:draft/category", create, s.question(askCategory))
	private.GET("/incidents/drafts/:draft/when", create, s.question(askWhen))
	private.POST("/incidents/drafts/:draft/when", create, s.question(askWhen))
	private.GET("/incidents/drafts/:draft/customer", create, s.question(askCustomer))
	private.POST("/incidents/drafts/:draft/customer", create, s.question(askCustomer))
	private.GET("/incidents/drafts/:draft/unaccompanied", create, s.question(askUnaccompanied))
	private.POST("/incidents/drafts/:draft/unaccompanied", create, s.question(askUnaccompanied))
	private.GET("/incidents/drafts/:draft/indicators", create, s.question(askIndicators))
	private.POST("/incidents/drafts/:draft/indicators", create, s.question(askIndicators))
	private.GET("/incidents/drafts/:draft/what-happened", create, s.question(askWhatHappened))
	private.POST("/incidents/drafts/:draft/what-happened", create, s.question(askWhatHappened))
	private.GET("/incidents/drafts/:draft/actions", create, s.question(askActions))
	private.POST("/incidents/drafts/:draft/actions", create, s.question(askActions))
	private.GET("/incidents/drafts/:draft/referrals", create, s.question(askReferrals))
	private.POST("/incidents/drafts/:draft/referrals", create, s.question(askReferrals))
	private.GET("/incidents/drafts/:draft/people", create, s.question(askPeople))
	private.POST("/incidents/drafts/:draft/people", create, s.question(askPeople))
	private.GET("/incidents/drafts/:draft/check", create, s.checkDraft)
	private.POST("/incidents/drafts/:draft/check", create, s.sendDraft)
	private.GET("/incidents/drafts/:draft/delete", create, s.deleteDraft)
	private.POST("/incidents/drafts/:draft/delete", create, s.deleteDraft)
	private.GET("/incidents/:id/confirmation", create, s.notifyConfirmation)
}

// drafts is the store of notifications in progress.

// question is one page of the journey.
type question struct {
	slug  string // its path under the draft, and its name in Draft.Answered
	title string // its heading and page title
	// applies says whether the draft asks it; nil for always.
	applies func(incident.Draft) bool
	// read takes the page's answers from the form into the draft, as typed,
	// and says what is wrong with them.
	read func(*Server, *gin.Context, *question, *incident.Draft) []fieldError
	// view adds what the page's template needs beyond the draft.
	view func(*Server, *gin.Context, *question, *questionPage) error
	// pointers are the Notice fields (JSON pointer prefixes) the page answers.
	pointers []string
	// anchor is the page's first field; unanswered is the error, and missing
	// the check answers link, while the page has not been answered.
	anchor, unanswered, missing string
}

func (q *question) asks(d incident.Draft) bool { return q.applies == nil || q.applies(d) }

// owns reports whether pointer is a field the page answers.
func (q *question) owns(pointer string) bool {
	for _, p := range q.pointers {
		if pointer == p || strings.HasPrefix(pointer, p+"/") {
			return true
		}
	}
	return false
}

var (
	askContract = &question{slug: "contract", title: "Where did the incident happen?",
		read: (*Server).readContract, view: (*Server).viewContract, pointers: []string{"/contract_id", "/site"},
		anchor: "contract", unanswered: "Select the contract the customer is served under", missing: "Enter where it happened"}
	askCategory = &question{slug: "category", title: "What kind of incident is it?",
		read: (*Server).readCategory, view: (*Server).viewCategory, pointers: []string{"/category"},
		anchor: "category", unanswered: "Select the kind of incident", missing: "Select the kind of incident"}
	askWhen = &question{slug: "when", title: "When did it happen?",
		read: (*Server).readWhen, pointers: []string{"/occurred_at", "/aware_at"},
		anchor: "occurred-day", unanswered: "Enter when the incident happened", missing: "Enter when it happened"}
	askCustomer = &question{slug: "customer", title: "About the customer",
		read: (*Server).readCustomer, pointers: []string{"/customer/reference", "/customer/age_group"},
		anchor: "reference", unanswered: "Enter the customer's department reference", missing: "Enter the customer's details"}
	askUnaccompanied = &question{slug: slugUnaccompanied, title: "Is the customer an unaccompanied child?",
		applies: func(d incident.Draft) bool { return d.Notice.Customer.AgeGroup == incident.Child },
		read:    (*Server).readUnaccompanied, pointers: []string{"/customer/unaccompanied_child"},
		anchor: "unaccompanied", unanswered: "Select yes if the customer is an unaccompanied child", missing: "Answer whether the customer is an unaccompanied child"}
	askIndicators = &question{slug: "indicators", title: "Which vulnerability indicators apply to the customer?",
		read: (*Server).readIndicators, view: (*Server).viewIndicators, pointers: []string{"/indicators"},
		anchor: "indicators", unanswered: "Select the vulnerability indicators that apply, or select ‘None of these apply’", missing: "Select the vulnerability indicators"}
	askWhatHappened = &question{slug: "what-happened", title: "What happened?",
		read: (*Server).readWhatHappened, pointers: []string{"/what_happened"},
		anchor: "what_happened", unanswered: "Enter what happened", missing: "Enter what happened"}
	askActions = &question{slug: "actions", title: "What did your organisation do straight away?",
		read: (*Server).readActions, view: (*Server).viewActions, pointers: []string{"/immediate_actions"},
		anchor: "actions", unanswered: "Select the immediate actions taken, or select ‘No immediate action was taken’", missing: "Select the immediate actions taken"}
	askReferrals = &question{slug: "referrals", title: "Who was the customer referred to?",
		read: (*Server).readReferrals, view: (*Server).viewReferrals, pointers: []string{"/referrals", "/no_referral_reason"},
		anchor: "referrals", unanswered: "Select the agencies the customer was referred to, or select ‘No referral made’", missing: "Select the referrals made"}
	askPeople = &question{slug: "people", title: "Who was involved and who is reporting?",
		read: (*Server).readPeople, view: (*Server).viewPeople, pointers: []string{"/staff_involved", "/reported_by"},
		anchor: "reporter_name", unanswered: "Enter the name of the person reporting", missing: "Enter who is reporting"}
)

// slugUnaccompanied is the question only children are asked, which the age
// group's answer resets.
const slugUnaccompanied = "unaccompanied"

// questions are the journey's pages in the order it asks them.
var questions = []*question{askContract, askCategory, askWhen, askCustomer, askUnaccompanied, askIndicators,
	askWhatHappened, askActions, askReferrals, askPeople}

// draftURL is the address of a page of the draft; back to the check answers
// page after it, for a change made from there.
func draftURL(d incident.Draft, slug string, toCheck bool) string {
	u := "/incidents/drafts/" + d.ID.Hex() + "/" + slug
	if toCheck {
		u += "?return=check"
	}
	return u
}

// nextPage is where the journey goes after the question at index i: the
// next question it asks or, when changing an answer from the check page,
// the next one still unanswered (a child's unaccompanied question after the
// age group changed) or else the check page.
func nextPage(d incident.Draft, i int, toCheck bool) string {
	for _, q := range questions[i+1:] {
		if q.asks(d) && (!toCheck || !d.IsAnswered(q.slug)) {
			return draftURL(d, q.slug, toCheck)
		}
	}
	return draftURL(d, "check", false)
}

// questionPage is what a question's template gets.
type questionPage struct {
	Draft     incident.Draft
	Title     string
	Action    string
	Back      string
	Errors    []fieldError
	ErrorList []any
	// Set by the question's view.
	Items      []any
	Groups     []indicatorGroup
	None       []any
	Contracts  int
	Categories []any
}

// errorSummary lists errors for govukErrorSummary, each linking to its field.
func errorSummary(errs []fieldError) []any {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = map[string]any{"text": e.Message, "href": "#" + e.Field}
	}
	return out
}

// question shows and handles one question page. Every answer sent is saved
// as typed, valid or not, so nothing typed is lost; the page counts as
// answered only while its answers are valid, and an answer with problems
// shows them rather than moving on, unless the officer is saving to come back.
func (s *Server) question(q *question) gin.HandlerFunc {
	index := slices.Index(questions, q)
	return func(c *gin.Context) {
		d, ok := s.ownDraft(c)
		if !ok {
			return
		}
		toCheck := c.Query("return") == "check"
		if !q.asks(d) {
			c.Redirect(http.StatusSeeOther, nextPage(d, index, toCheck))
			return
		}
		status := http.StatusOK
		var errs []fieldError
		if c.Request.Method == http.MethodPost {
			errs = q.read(s, c, q, &d)
			d.MarkAnswered(q.slug, len(errs) == 0)
			p := principal(c)
			if err := s.drafts.Save(c.Request.Context(), p.Scope, &d); err != nil {
				if errors.Is(err, incident.ErrNotFound) {
					s.draftGone(c)
					return
				}
				s.fail(c, "save incident draft", err)
				return
			}
			switch {
			case c.PostForm("action") == "save":
				c.Redirect(http.StatusSeeOther, "/incidents/drafts?saved=1")
				return
			case len(errs) == 0:
				c.Redirect(http.StatusSeeOther, nextPage(d, index, toCheck))
				return
			}
			status = http.StatusBadRequest
		}
		page := &questionPage{Draft: d, Title: q.title, Action: draftURL(d, q.slug, toCheck), Errors: errs, ErrorList: errorSummary(errs)}
		switch {
		case toCheck:
			page.Back = draftURL(d, "check", false)
		case index == 0:
			page.Back = "/incidents/new"
		default:
			for i := index - 1; i >= 0; i-- {
				if questions[i].asks(d) {
					page.Back = draftURL(d, questions[i].slug, false)
					break
				}
			}
		}
		if q.view != nil {
			if err := q.view(s, c, q, page); err != nil {
				s.fail(c, "show incident question", err)
				return
			}
		}
		title := q.title
		if len(errs) > 0 {
			title = "Error: " + title
		}
		s.render(c, status, "incident-notify-"+q.slug, title, page)
	}
}

// ownDraft is the caller's draft named in the path, or it answers for one
// that is not theirs, or no longer a draft.
func (s *Server) ownDraft(c *gin.Context) (incident.Draft, bool) {
	p := principal(c)
	d, err := s.drafts.Get(c.Request.Context(), p.Scope, p.Subject, c.Param("draft"))
	switch {
	case errors.Is(err, incident.ErrNotFound):
		s.draftGone(c)
		return incident.Draft{}, false
	case err != nil:
		s.fail(c, "load incident draft", err)
		return incident.Draft{}, false
	}
	return d, true
}

// draftGone answers for a draft the caller cannot reach: the confirmation
// of the incident it became if it was theirs and was sent (a form sent
// again, a page revisited), otherwise not found, on record as an attempt.
func (s *Server) draftGone(c *gin.Context) {
	p := principal(c)
	if id, err := s.drafts.Receipt(c.Request.Context(), p.Scope, p.Subject, c.Param("draft")); err == nil {
		c.Redirect(http.StatusSeeOther, "/incidents/"+id+"/confirmation")
		return
	}
	s.notReachable(c, access.CreateIncident, "incident_draft", c.Param("draft"))
}

// formText is a free-text answer as typed, with the browser's line endings
// made plain newlines so its length is counted as people see it.
func formText(c *gin.Context, name string) string {
	return strings.TrimSpace(strings.ReplaceAll(c.PostForm(name), "\r\n", "\n"))
}

// checkQuestion checks the answers on q's page (in n, the draft's notice
// with the page's answers) by the rules the whole notice must meet, so a page
// shows exactly the errors sending would.
func (s *Server) checkQuestion(q *question, n incident.Notice, contractOK bool) []fieldError {
	var errs []fieldError
	for _, e := range n.Check(s.incidentRules, contractOK, time.Now()) {
		if q.owns(e.Pointer) {
			errs = append(errs, placeError(q, n, e))
		}
	}
	return errs
}

// fieldAnchors are the inputs that answer a notice's fields, by pointer; a
// field not listed is answered by the first input of its page.
var fieldAnchors = map[string]string{
	"/contract_id": "contract", "/site": "site", "/category": "category",
	"/occurred_at": "occurred-day", "/aware_at": "aware-day",
	"/customer/reference": "reference", "/customer/age_group": "age_group", "/customer/unaccompanied_child": "unaccompanied",
	"/what_happened": "what_happened", "/immediate_actions/other": "other_actions", "/no_referral_reason": "no_referral_reason",
	"/staff_involved": "staff_involved", "/reported_by/name": "reporter_name", "/reported_by/role": "reporter_role",
}

// placeError puts a rule's error on the input of q's page that answers the
// field. A referral's reference is named by its agency, as several inputs
// share the rule's message.
func placeError(q *question, n incident.Notice, e incident.FieldError) fieldError {
	field, ok := fieldAnchors[e.Pointer]
	if !ok {
		field = q.anchor
	}
	if rest, ok := strings.CutPrefix(e.Pointer, "/referrals/"); ok {
		if index, attr, _ := strings.Cut(rest, "/"); attr == "reference" {
			if i, err := strconv.Atoi(index); err == nil && i >= 0 && i < len(n.Referrals) {
				agency := n.Referrals[i].Agency
				return fieldError{"reference-" + agency, incident.AgencyName(agency) + " reference must be up to 100 letters, numbers or symbols, without spaces"}
			}
		}
	}
	return fieldError{field, e.Detail}
}

// ----- Where: contract and site.

// notifiableContracts are the caller's organisation's contracts that incidents
// can be notified under: every one not terminated.
func (s *Server) notifiableContracts(c *gin.Context) ([]partner.Contract, error) {
	p := principal(c)
	all, err := s.partners.Contracts(c.Request.Context(), p.Scope)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(ct partner.Contract) bool { return ct.PartnerID != p.Org || ct.Status == partner.Terminated }), nil
}

func (s *Server) readContract(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	id := strings.TrimSpace(c.PostForm("contract"))
	_, ok, err := s.notifiableContract(c, id)
	if err != nil {
		// The answer is not kept, so the page asks for it again rather than
		// storing a contract it could not check.
		s.log.Error("check incident contract", "err", err, "request_id", c.GetString(ctxRequestID))
		return []fieldError{{"contract", "The contract could not be checked just now. Try again"}}
	}
	if ok || id == "" {
		// Only a contract the page offered is kept: another organisation's,
		// sent by a crafted form, is refused and never stored.
		d.Notice.ContractID = id
	}
	d.Notice.Site = strings.TrimSpace(c.PostForm("site"))
	n := d.Notice
	n.ContractID = id
	return s.checkQuestion(q, n, ok)
}

func (s *Server) viewContract(c *gin.Context, q *question, page *questionPage) error {
	contracts, err := s.notifiableContracts(c)
	if err != nil {
		return err
	}
	page.Contracts = len(contracts)
	for _, ct := range contracts {
		hint := "Contract " + ct.ID + ", " + ct.ServiceLineName()
		if ct.Status == partner.Suspended {
			// A suspended contract still serves customers: the duty to notify goes on.
			hint += ". Suspended: serious incidents under it must still be notified"
		}
		page.Items = append(page.Items, map[string]any{"value": ct.ID, "text": ct.Title,
			"hint": map[string]any{"text": hint}, "checked": ct.ID == page.Draft.Notice.ContractID})
	}
	return nil
}

// ----- What kind of incident.

func (s *Server) readCategory(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	id := c.PostForm("category")
	if _, ok := s.incidentRules.Category(id); ok || id == "" {
		d.Notice.Category = id
	}
	n := d.Notice
	n.Category = id
	return s.checkQuestion(q, n, true)
}

func (s *Server) viewCategory(c *gin.Context, q *question, page *questionPage) error {
	for _, cat := range s.incidentRules.Categories {
		item := map[string]any{"value": cat.ID, "text": cat.Name, "checked": cat.ID == page.Draft.Notice.Category}
		if hint := s.categoryHint(cat); hint != "" {
			item["hint"] = map[string]any{"text": hint}
		}
		page.Categories = append(page.Categories, item)
	}
	return nil
}

// categoryHint says what a category's notification duties are, from the rules.
func (s *Server) categoryHint(cat incident.Category) string {
	var parts []string
	critical := "Critical: notify the department within " + s.incidentRules.CriticalDeadline.Rule().String()
	switch {
	case cat.Critical:
		parts = append(parts, critical)
	case cat.CriticalForChildren:
		parts = append(parts, critical+" if the customer is a child")
	case len(cat.CriticalIndicators) > 0:
		parts = append(parts, critical+" if "+indicatorList(cat.CriticalIndicators)+" is indicated")
	}
	for _, g := range cat.Regimes {
		parts = append(parts, "Also notify the "+g.Name+" within "+g.Deadline.Rule().String()+regimeCondition(g))
	}
	return strings.Join(parts, ". ")
}

// indicatorList names indicators in running text: "suicide and self-harm level 3".
func indicatorList(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = lowerFirst(incident.IndicatorName(id))
	}
	return strings.Join(names, " or ")
}

// regimeCondition is when a regime applies, in running text.
func regimeCondition(g incident.Regime) string {
	var out string
	if g.When.AgeGroup == incident.Child {
		out += " if the customer is a child"
	}
	if len(g.When.ServiceLines) > 0 {
		names := make([]string, len(g.When.ServiceLines))
		for i, line := range g.When.ServiceLines {
			names[i] = lowerFirst(partner.ServiceLineName(line))
		}
		out += " served under " + strings.Join(names, " or ") + " contracts"
	}
	return out
}

func lowerFirst(s string) string {
	if s == "" || (len(s) > 1 && strings.ToUpper(s[1:2]) == s[1:2] && s[1:2] != " ") {
		return s // an abbreviation such as "LGBTI" or "FGM" keeps its capitals
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ----- When it happened and when the organisation became aware.

func readTypedTime(c *gin.Context, name string) incident.TypedTime {
	v := func(part string) string { return strings.TrimSpace(c.PostForm(name + "-" + part)) }
	return incident.TypedTime{Day: v("day"), Month: v("month"), Year: v("year"), Hour: v("hour"), Minute: v("minute")}
}

// parseTypedTime reads a London date and time as typed, or says what is
// wrong in GOV.UK words, naming the input to fix ("day" or "hour").
func parseTypedTime(t incident.TypedTime, what string) (time.Time, string, string) {
	if t == (incident.TypedTime{}) {
		return time.Time{}, "day", "Enter " + what
	}
	date := dateField{Day: t.Day, Month: t.Month, Year: t.Year}
	if date.empty() {
		return time.Time{}, "day", upperFirst(what) + " must include a date"
	}
	day, msg := date.parse(what)
	if msg != "" {
		return time.Time{}, "day", msg
	}
	if t.Hour == "" || t.Minute == "" {
		return time.Time{}, "hour", upperFirst(what) + " must include a time"
	}
	h, err1 := strconv.Atoi(t.Hour)
	m, err2 := strconv.Atoi(t.Minute)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return time.Time{}, "hour", upperFirst(what) + " must be a real time"
	}
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, london), "", ""
}

const (
	occurredWhat = "when the incident happened"
	awareWhat    = "when your organisation became aware of the incident"
)

func (s *Server) readWhen(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	d.Occurred, d.Aware = readTypedTime(c, "occurred"), readTypedTime(c, "aware")
	occurred, occurredPart, occurredMsg := parseTypedTime(d.Occurred, occurredWhat)
	aware, awarePart, awareMsg := parseTypedTime(d.Aware, awareWhat)
	d.Notice.OccurredAt, d.Notice.AwareAt = occurred.UTC(), aware.UTC()
	checked := s.checkQuestion(q, d.Notice, true)
	var errs []fieldError
	for _, f := range []struct{ id, part, msg string }{{"occurred", occurredPart, occurredMsg}, {"aware", awarePart, awareMsg}} {
		if f.msg != "" {
			// As typed, it is no date: the rules' "Enter ..." would say so again.
			errs = append(errs, fieldError{f.id + "-" + f.part, f.msg})
			continue
		}
		for _, e := range checked {
			if e.Field == f.id+"-day" {
				errs = append(errs, e)
			}
		}
	}
	return errs
}

// DateTimeInput is govukDateInput's params for a date and time as typed,
// with its error.
func (p *questionPage) DateTimeInput(id, legend, hint string) map[string]any {
	t := p.Draft.Occurred
	if id == "aware" {
		t = p.Draft.Aware
	}
	var msg any
	for _, e := range p.Errors {
		if strings.HasPrefix(e.Field, id+"-") {
			msg = map[string]any{"text": e.Message}
			break
		}
	}
	item := func(name, label, value, width string) map[string]any {
		it := map[string]any{"name": name, "label": label, "value": value, "classes": width}
		if msg != nil {
			it["classes"] = width + " govuk-input--error"
		}
		return it
	}
	params := map[string]any{
		"id":         id,
		"namePrefix": id,
		"fieldset":   map[string]any{"legend": map[string]any{"text": legend, "classes": "govuk-fieldset__legend--m"}},
		"hint":       map[string]any{"text": hint},
		"items": []any{
			item("day", "Day", t.Day, "govuk-input--width-2"),
			item("month", "Month", t.Month, "govuk-input--width-2"),
			item("year", "Year", t.Year, "govuk-input--width-4"),
			item("hour", "Hour", t.Hour, "govuk-input--width-2"),
			item("minute", "Minute", t.Minute, "govuk-input--width-2"),
		},
	}
	if msg != nil {
		params["errorMessage"] = msg
	}
	return params
}

// ----- The customer.

func (s *Server) readCustomer(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	d.Notice.Customer.Reference = strings.TrimSpace(c.PostForm("reference"))
	age := c.PostForm("age_group")
	if age == incident.Child || age == incident.Adult || age == "" {
		d.Notice.Customer.AgeGroup = age
	}
	if d.Notice.Customer.AgeGroup != incident.Child {
		// Only a child can be unaccompanied: an adult's answer is no answer.
		d.Notice.Customer.UnaccompaniedChild = false
		d.MarkAnswered(slugUnaccompanied, false)
	}
	n := d.Notice
	n.Customer.AgeGroup = age
	return s.checkQuestion(q, n, true)
}

func (s *Server) readUnaccompanied(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	switch c.PostForm("unaccompanied") {
	case "yes":
		d.Notice.Customer.UnaccompaniedChild = true
	case "no":
		d.Notice.Customer.UnaccompaniedChild = false
	default:
		return []fieldError{{"unaccompanied", q.unanswered}}
	}
	return s.checkQuestion(q, d.Notice, true)
}

// UnaccompaniedAnswer is the answer as the radios show it: "" until given.
func (p *questionPage) UnaccompaniedAnswer() string {
	switch {
	case !p.Draft.IsAnswered(askUnaccompanied.slug):
		return ""
	case p.Draft.Notice.Customer.UnaccompaniedChild:
		return "yes"
	}
	return "no"
}

// ----- Vulnerability indicators.

// indicatorGroups arrange the strategy's 27 indicators for reading; each
// keeps the strategy's order and every indicator is in exactly one group.
var indicatorGroups = []struct {
	legend string
	ids    []string
}{
	{"Harm, abuse and exploitation", []string{"historical_child_abuse", "child_protection", "domestic_abuse", "fgm", "forced_marriage",
		"honour_based_abuse", "modern_slavery_victim", "victim_of_assault", "victim_of_hate_crime", "victim_of_torture"}},
	{"Health, suicide and self-harm", []string{"disability", "food_fluid_refusal", "mental_health", "physical_health", "pregnancy",
		"suicide_self_harm_level_1", "suicide_self_harm_level_2", "suicide_self_harm_level_3"}},
	{"Identity, family and circumstances", []string{"age_identity_dispute", "lgbti_under_18", "missing_adult_child", "homelessness",
		"proof_of_kinship", "unaccompanied_minor"}},
	{"Security and behaviour", []string{"national_security_threat", "violent_disruptive_behaviour", "vulnerable_to_radicalisation"}},
}

type indicatorGroup struct {
	IDPrefix, Legend string
	Items            []any
}

func (s *Server) readIndicators(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	chosen := c.PostFormArray("indicators")
	d.Notice.Indicators = nil
	for _, ind := range incident.Indicators {
		if slices.Contains(chosen, ind.ID) {
			d.Notice.Indicators = append(d.Notice.Indicators, ind.ID)
		}
	}
	d.NoIndicators = c.PostForm("no_indicators") == "yes"
	switch {
	case d.NoIndicators && len(d.Notice.Indicators) > 0:
		return []fieldError{{"no_indicators", "Select the vulnerability indicators that apply, or ‘None of these apply’, not both"}}
	case !d.NoIndicators && len(d.Notice.Indicators) == 0:
		return []fieldError{{"indicators", q.unanswered}}
	}
	return s.checkQuestion(q, d.Notice, true)
}

func (s *Server) viewIndicators(c *gin.Context, q *question, page *questionPage) error {
	chosen := page.Draft.Notice.Indicators
	for i, g := range indicatorGroups {
		group := indicatorGroup{IDPrefix: "indicator-group-" + strconv.Itoa(i+1), Legend: g.legend}
		for j, id := range g.ids {
			item := map[string]any{"id": "indicator-" + id, "value": id, "text": incident.IndicatorName(id), "checked": slices.Contains(chosen, id)}
			if i == 0 && j == 0 {
				item["id"] = q.anchor // where errors about the whole list link to
			}
			group.Items = append(group.Items, item)
		}
		page.Groups = append(page.Groups, group)
	}
	page.None = []any{map[string]any{"divider": "or"},
		map[string]any{"id": "no_indicators", "value": "yes", "text": "None of these apply", "checked": page.Draft.NoIndicators}}
	return nil
}

// ----- What happened.

// maxWhatHappened is the longest account of what happened the rules take.
const maxWhatHappened = 10_000

func (s *Server) readWhatHappened(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	d.Notice.WhatHappened = formText(c, "what_happened")
	return s.checkQuestion(q, d.Notice, true)
}

// MaxWhatHappened is the character count's limit.
func (p *questionPage) MaxWhatHappened() int { return maxWhatHappened }

// ----- Immediate actions.

var immediateActions = []struct{ id, name string }{
	{"emergency_services", "Emergency services were called"},
	{"first_aid", "First aid was given"},
	{"safety_plan", "A safety plan was put in place"},
}

func (s *Server) readActions(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	chosen := c.PostFormArray("actions")
	a := &d.Notice.ImmediateActions
	a.EmergencyServices = slices.Contains(chosen, "emergency_services")
	a.FirstAid = slices.Contains(chosen, "first_aid")
	a.SafetyPlan = slices.Contains(chosen, "safety_plan")
	a.Other = formText(c, "other_actions")
	d.NoActions = slices.Contains(chosen, "none")
	taken := a.EmergencyServices || a.FirstAid || a.SafetyPlan || a.Other != ""
	var errs []fieldError
	switch {
	case d.NoActions && taken:
		errs = append(errs, fieldError{"actions", "Select the immediate actions taken, or ‘No immediate action was taken’, not both"})
	case !d.NoActions && !taken:
		errs = append(errs, fieldError{"actions", q.unanswered})
	}
	return append(errs, s.checkQuestion(q, d.Notice, true)...)
}

func (s *Server) viewActions(c *gin.Context, q *question, page *questionPage) error {
	a := page.Draft.Notice.ImmediateActions
	checked := map[string]bool{"emergency_services": a.EmergencyServices, "first_aid": a.FirstAid, "safety_plan": a.SafetyPlan}
	for _, act := range immediateActions {
		page.Items = append(page.Items, map[string]any{"value": act.id, "text": act.name, "checked": checked[act.id]})
	}
	page.Items = append(page.Items, map[string]any{"divider": "or"},
		map[string]any{"value": "none", "text": "No immediate action was taken", "behaviour": "exclusive", "checked": page.Draft.NoActions})
	return nil
}

// ----- Referrals.

func (s *Server) readReferrals(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	chosen := c.PostFormArray("referrals")
	d.Notice.Referrals = nil
	for _, a := range incident.Agencies {
		if slices.Contains(chosen, a.ID) {
			d.Notice.Referrals = append(d.Notice.Referrals, incident.Referral{Agency: a.ID, Reference: strings.TrimSpace(c.PostForm("reference-" + a.ID))})
		}
	}
	d.NoReferral = slices.Contains(chosen, "none")
	d.Notice.NoReferralReason = formText(c, "no_referral_reason")
	switch {
	case d.NoReferral && len(d.Notice.Referrals) > 0:
		return []fieldError{{"referrals", "Select the agencies the customer was referred to, or ‘No referral made’, not both"}}
	case !d.NoReferral && len(d.Notice.Referrals) == 0:
		return []fieldError{{"referrals", q.unanswered}}
	}
	return s.checkQuestion(q, noticeOf(*d), true)
}

func (s *Server) viewReferrals(c *gin.Context, q *question, page *questionPage) error {
	refs := map[string]string{}
	for _, r := range page.Draft.Notice.Referrals {
		refs[r.Agency] = r.Reference
	}
	for _, a := range incident.Agencies {
		ref, checked := refs[a.ID]
		conditional, err := componentHTML("govukInput", map[string]any{
			"id": "reference-" + a.ID, "name": "reference-" + a.ID, "value": ref, "classes": "govuk-input--width-20", "spellcheck": false,
			"label": map[string]any{"text": a.Name + " reference (optional)"}, "errorMessage": fieldErrorMessage(page.Errors, "reference-"+a.ID),
		})
		if err != nil {
			return err
		}
		page.Items = append(page.Items, map[string]any{"value": a.ID, "text": a.Name, "checked": checked,
			"conditional": map[string]any{"html": conditional}})
	}
	reason, err := componentHTML("govukTextarea", map[string]any{
		"id": "no_referral_reason", "name": "no_referral_reason", "value": page.Draft.Notice.NoReferralReason, "rows": 3,
		"label": map[string]any{"text": "Why was no referral made?"}, "errorMessage": fieldErrorMessage(page.Errors, "no_referral_reason"),
	})
	if err != nil {
		return err
	}
	page.Items = append(page.Items, map[string]any{"divider": "or"},
		map[string]any{"value": "none", "text": "No referral made", "behaviour": "exclusive", "checked": page.Draft.NoReferral,
			"conditional": map[string]any{"html": reason}})
	return nil
}

// componentTemplates are the GOV.UK components on their own, to render the
// markup a component nests inside another (a conditionally revealed input).
var componentTemplates = sync.OnceValues(func() (*template.Template, error) {
	return template.New("").Funcs(web.Funcs()).ParseFS(web.FS, "templates/components/*.tmpl")
})

// componentHTML renders a GOV.UK component with params.
func componentHTML(name string, params map[string]any) (template.HTML, error) {
	t, err := componentTemplates()
	if err != nil {
		return "", fmt.Errorf("parse components: %w", err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, params); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return template.HTML(b.String()), nil //nolint:gosec // the component escapes every value it is given
}

// ----- Staff involved and who is reporting.

func (s *Server) readPeople(c *gin.Context, q *question, d *incident.Draft) []fieldError {
	d.Notice.StaffInvolved = formText(c, "staff_involved")
	d.Notice.ReportedBy = incident.Reporter{Name: strings.TrimSpace(c.PostForm("reporter_name")), Role: strings.TrimSpace(c.PostForm("reporter_role"))}
	return s.checkQuestion(q, d.Notice, true)
}

// viewPeople suggests the signed-in officer as the person reporting.
func (s *Server) viewPeople(c *gin.Context, q *question, page *questionPage) error {
	if !page.Draft.IsAnswered(q.slug) && page.Errors == nil && page.Draft.Notice.ReportedBy.Name == "" {
		page.Draft.Notice.ReportedBy.Name = displayName(c)
	}
	return nil
}

// ----- Start, drafts, delete.

// notifyStart explains the duty to notify and its deadlines, from the rules.
func (s *Server) notifyStart(c *gin.Context) {
	p := principal(c)
	drafts, err := s.drafts.ListByOwner(c.Request.Context(), p.Scope, p.Subject)
	if err != nil {
		s.fail(c, "list incident drafts", err)
		return
	}
	data := struct {
		CriticalDeadline, StandardDeadline string
		Critical, Others                   []string
		Drafts                             int
		Expiry                             int
	}{
		CriticalDeadline: s.incidentRules.CriticalDeadline.Rule().String(),
		StandardDeadline: s.incidentRules.StandardDeadline.Rule().String(),
		Drafts:           len(drafts),
		Expiry:           int(incident.DraftExpiry / (24 * time.Hour)),
	}
	for _, cat := range s.incidentRules.Categories {
		switch {
		case cat.Critical:
			data.Critical = append(data.Critical, cat.Name)
		case cat.CriticalForChildren:
			data.Critical = append(data.Critical, cat.Name+", if the customer is a child")
		case len(cat.CriticalIndicators) > 0:
			data.Critical = append(data.Critical, cat.Name+", if "+indicatorList(cat.CriticalIndicators)+" is indicated")
		}
		for _, g := range cat.Regimes {
			data.Others = append(data.Others, fmt.Sprintf("%s: the %s within %s%s", cat.Name, g.Name, g.Deadline.Rule(), regimeCondition(g)))
		}
	}
	s.render(c, http.StatusOK, "incident-notify-start", "Notify a serious incident", data)
}

// startDraft starts a notification and asks its first question.
func (s *Server) startDraft(c *gin.Context) {
	p := principal(c)
	d, err := s.drafts.Create(c.Request.Context(), p.Scope, p.Org, p.Subject)
	if err != nil {
		s.fail(c, "start incident draft", err)
		return
	}
	c.Redirect(http.StatusSeeOther, draftURL(d, questions[0].slug, false))
}

type draftRow struct {
	ID, Kind, Site, Started, Saved, Expires string
}

func (s *Server) draftRowOf(d incident.Draft) draftRow {
	row := draftRow{ID: d.ID.Hex(), Kind: "Not given yet", Site: d.Notice.Site, Started: londonTime(d.CreatedAt),
		Saved: londonTime(d.UpdatedAt), Expires: d.ExpiresAt().In(london).Format("2 January 2006")}
	if cat, ok := s.incidentRules.Category(d.Notice.Category); ok {
		row.Kind = cat.Name
	}
	if row.Site == "" {
		row.Site = "Not given yet"
	}
	return row
}

// draftList lists the caller's saved drafts to carry on with.
func (s *Server) draftList(c *gin.Context) {
	p := principal(c)
	drafts, err := s.drafts.ListByOwner(c.Request.Context(), p.Scope, p.Subject)
	if err != nil {
		s.fail(c, "list incident drafts", err)
		return
	}
	data := struct {
		Drafts         []draftRow
		Saved, Deleted bool
		Expiry         int
	}{Saved: c.Query("saved") == "1", Deleted: c.Query("deleted") == "1", Expiry: int(incident.DraftExpiry / (24 * time.Hour))}
	for _, d := range drafts {
		data.Drafts = append(data.Drafts, s.draftRowOf(d))
	}
	s.render(c, http.StatusOK, "incident-notify-drafts", "Your saved notifications", data)
}

// continueDraft carries on with a draft where it was left: its first
// question not yet answered, or the check page.
func (s *Server) continueDraft(c *gin.Context) {
	d, ok := s.ownDraft(c)
	if !ok {
		return
	}
	for _, q := range questions {
		if q.asks(d) && !d.IsAnswered(q.slug) {
			c.Redirect(http.StatusSeeOther, draftURL(d, q.slug, false))
			return
		}
	}
	c.Redirect(http.StatusSeeOther, draftURL(d, "check", false))
}

// deleteDraft asks, then deletes a draft its owner no longer needs.
func (s *Server) deleteDraft(c *gin.Context) {
	d, ok := s.ownDraft(c)
	if !ok {
		return
	}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "incident-notify-delete", "Are you sure you want to delete this draft?", s.draftRowOf(d))
		return
	}
	p := principal(c)
	err := s.drafts.Delete(c.Request.Context(), p.Scope, p.Subject, d.ID.Hex())
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		s.fail(c, "delete incident draft", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/incidents/drafts?deleted=1")
}

// ----- Check your answers, and sending.

// noticeOf is the notice the draft's answers make: an answer of "none"
// leaves out what was typed beside the list it empties.
func noticeOf(d incident.Draft) incident.Notice {
	n := d.Notice
	if d.NoReferral {
		n.Referrals = nil
	} else {
		n.NoReferralReason = ""
	}
	if d.NoIndicators {
		n.Indicators = nil
	}
	if n.Customer.AgeGroup != incident.Child {
		n.Customer.UnaccompaniedChild = false
	}
	return n
}

// placed is an error on the check page, linking to the page and field to fix.
type placed struct{ text, href string }

// draftProblems lists what stops the draft being sent, in the journey's
// order: each page not answered, then what the rules find on the pages that
// were, each linking to the field to fix and back to the check page.
func (s *Server) draftProblems(d incident.Draft, n incident.Notice, contractOK bool, now time.Time) []placed {
	var out []placed
	unanswered := map[*question]bool{}
	for _, q := range questions {
		if q.asks(d) && !d.IsAnswered(q.slug) {
			unanswered[q] = true
		}
	}
	checked := n.Check(s.incidentRules, contractOK, now)
	for _, q := range questions {
		if !q.asks(d) {
			continue
		}
		if unanswered[q] {
			out = append(out, placed{q.unanswered, draftURL(d, q.slug, true) + "#" + q.anchor})
			continue
		}
		for _, e := range checked {
			if q.owns(e.Pointer) {
				f := placeError(q, n, e)
				out = append(out, placed{f.Message, draftURL(d, q.slug, true) + "#" + f.Field})
			}
		}
	}
	return out
}

// checkSection is a heading and its answers on the check page.
type checkSection struct {
	Title string
	Rows  []any
}

type checkAnswersPage struct {
	Draft    incident.Draft
	Sections []checkSection
	Errors   []any
	// Deadline is when the department must be told, once it can be worked out.
	Deadline      string
	DeadlineRule  string
	Critical      bool
	PastDeadline  bool
	Action, Back  string
	DeleteAddress string
}

// text is a summary list value for free text, its lines kept.
func textValue(s string) template.HTML {
	return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(s), "\n", "<br>")) //nolint:gosec // escaped
}

// linesValue is a summary list value of one item a line.
func linesValue(lines []string) template.HTML {
	escaped := make([]string, len(lines))
	for i, l := range lines {
		escaped[i] = template.HTMLEscapeString(l)
	}
	return template.HTML(strings.Join(escaped, "<br>")) //nolint:gosec // escaped
}

// checkRows builds the check page's summary lists from the draft.
func (s *Server) checkRows(c *gin.Context, d incident.Draft, n incident.Notice, ct partner.Contract) []checkSection {
	row := func(q *question, key, anchor string, value any) any {
		if !d.IsAnswered(q.slug) {
			link := fmt.Sprintf(`<a class="govuk-link" href="%s">%s</a>`, template.HTMLEscapeString(draftURL(d, q.slug, true)+"#"+anchor), template.HTMLEscapeString(q.missing))
			return map[string]any{"key": map[string]any{"text": key}, "value": map[string]any{"html": template.HTML(link)}} //nolint:gosec // escaped
		}
		v := map[string]any{"text": value}
		if h, ok := value.(template.HTML); ok {
			v = map[string]any{"html": h}
		}
		return map[string]any{"key": map[string]any{"text": key}, "value": v,
			"actions": map[string]any{"items": []any{map[string]any{"href": draftURL(d, q.slug, true) + "#" + anchor, "text": "Change", "visuallyHiddenText": strings.ToLower(key)}}}}
	}
	contract := n.ContractID
	if ct.ID != "" {
		contract = ct.Title + " (" + ct.ID + ")"
	}
	category := n.Category
	if cat, ok := s.incidentRules.Category(n.Category); ok {
		category = cat.Name
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return londonTime(t)
	}
	age := map[string]string{incident.Child: "Child (under 18)", incident.Adult: "Adult (18 or over)"}[n.Customer.AgeGroup]

	where := checkSection{Title: "Where and when", Rows: []any{
		row(askContract, "Contract", "contract", contract),
		row(askContract, "Site", "site", n.Site),
		row(askCategory, "Kind of incident", "category", category),
		row(askWhen, "When it happened", "occurred-day", when(n.OccurredAt)),
		row(askWhen, "When your organisation became aware", "aware-day", when(n.AwareAt)),
	}}
	customer := checkSection{Title: "The customer", Rows: []any{
		row(askCustomer, "Department reference", "reference", n.Customer.Reference),
		row(askCustomer, "Age group", "age_group", age),
	}}
	if askUnaccompanied.asks(d) {
		customer.Rows = append(customer.Rows, row(askUnaccompanied, "Unaccompanied child", "unaccompanied", map[bool]string{true: "Yes", false: "No"}[n.Customer.UnaccompaniedChild]))
	}
	indicators := []string{"None of these apply"}
	if len(n.Indicators) > 0 {
		indicators = nil
		for _, id := range n.Indicators {
			indicators = append(indicators, incident.IndicatorName(id))
		}
	}
	customer.Rows = append(customer.Rows, row(askIndicators, "Vulnerability indicators", "indicators", linesValue(indicators)))

	var actions []string
	for _, act := range immediateActions {
		if map[string]bool{"emergency_services": n.ImmediateActions.EmergencyServices, "first_aid": n.ImmediateActions.FirstAid, "safety_plan": n.ImmediateActions.SafetyPlan}[act.id] {
			actions = append(actions, act.name)
		}
	}
	if d.NoActions {
		actions = []string{"No immediate action was taken"}
	}
	what := checkSection{Title: "What happened", Rows: []any{
		row(askWhatHappened, "What happened", "what_happened", textValue(n.WhatHappened)),
		row(askActions, "Immediate actions", "actions", linesValue(actions)),
	}}
	if n.ImmediateActions.Other != "" && !d.NoActions {
		what.Rows = append(what.Rows, row(askActions, "Other actions", "other_actions", textValue(n.ImmediateActions.Other)))
	}
	if d.NoReferral {
		what.Rows = append(what.Rows, row(askReferrals, "Referrals", "referrals", "No referral made"),
			row(askReferrals, "Why no referral was made", "no_referral_reason", textValue(n.NoReferralReason)))
	} else {
		var refs []string
		for _, r := range n.Referrals {
			line := incident.AgencyName(r.Agency)
			if r.Reference != "" {
				line += ", reference " + r.Reference
			}
			refs = append(refs, line)
		}
		what.Rows = append(what.Rows, row(askReferrals, "Referrals", "referrals", linesValue(refs)))
	}
	staff := n.StaffInvolved
	if staff == "" {
		staff = "None given"
	}
	reporter := n.ReportedBy.Name
	if n.ReportedBy.Role != "" {
		reporter += ", " + n.ReportedBy.Role
	}
	people := checkSection{Title: "People", Rows: []any{
		row(askPeople, "Staff involved", "staff_involved", textValue(staff)),
		row(askPeople, "Reported by", "reporter_name", reporter),
	}}
	return []checkSection{where, customer, what, people}
}

// showCheck renders the check page with problems, if any.
func (s *Server) showCheck(c *gin.Context, status int, d incident.Draft, problems []placed) {
	n := noticeOf(d)
	// Only for the contract's title: if it cannot be read, the page shows
	// the reference alone, and sending checks the contract again.
	ct, _, _ := s.notifiableContract(c, n.ContractID)
	page := checkAnswersPage{Draft: d, Sections: s.checkRows(c, d, n, ct), Action: draftURL(d, "check", false),
		Back: draftURL(d, questions[len(questions)-1].slug, false), DeleteAddress: draftURL(d, "delete", false)}
	for _, p := range problems {
		page.Errors = append(page.Errors, map[string]any{"text": p.text, "href": p.href})
	}
	if cat, ok := s.incidentRules.Category(n.Category); ok && !n.AwareAt.IsZero() && d.IsAnswered(askWhen.slug) {
		page.Critical = cat.IsCritical(n.Customer.AgeGroup, n.Indicators)
		period := s.incidentRules.StandardDeadline
		if page.Critical {
			period = s.incidentRules.CriticalDeadline
		}
		if due, err := s.bankHolidays.Deadline(n.AwareAt, period.Rule()); err == nil {
			page.Deadline, page.DeadlineRule, page.PastDeadline = londonTime(due), period.Rule().String(), time.Now().After(due)
		}
	}
	title := "Check your answers before sending your notification"
	if len(problems) > 0 {
		title = "Error: " + title
	}
	s.render(c, status, "incident-notify-check", title, page)
}

// checkDraft shows every answer with a link to change it.
func (s *Server) checkDraft(c *gin.Context) {
	if d, ok := s.ownDraft(c); ok {
		s.showCheck(c, http.StatusOK, d, nil)
	}
}

// sendDraft notifies the department: the draft's notice is checked as the
// API checks one and stored as an incident, and the draft is deleted. A
// submission repeated, or made twice at once, stores one incident and shows
// its confirmation.
func (s *Server) sendDraft(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	drafts := s.drafts
	d, err := drafts.Claim(ctx, p.Scope, p.Subject, c.Param("draft"))
	switch {
	case errors.Is(err, incident.ErrSent), errors.Is(err, incident.ErrSending):
		s.awaitSent(c)
		return
	case errors.Is(err, incident.ErrNotFound):
		s.draftGone(c)
		return
	case err != nil:
		s.fail(c, "claim incident draft", err)
		return
	}
	release := func() {
		if err := drafts.Release(ctx, p.Scope, p.Subject, d.ID.Hex()); err != nil {
			s.log.Error("release incident draft", "err", err, "request_id", c.GetString(ctxRequestID))
		}
	}
	n := noticeOf(d)
	ct, contractOK, err := s.notifiableContract(c, n.ContractID)
	if err != nil {
		release()
		s.fail(c, "send incident draft", err)
		return
	}
	now := time.Now()
	problems := s.draftProblems(d, n, contractOK, now)
	by := incident.Actor{Kind: "person", ID: p.Subject, Name: displayName(c), Side: "partner"}
	var clocks []incident.Clock
	var critical bool
	if len(problems) == 0 {
		clocks, critical, err = s.incidentRules.Clocks(s.bankHolidays, n, ct.ServiceLine, now, by.Name)
		switch {
		case errors.Is(err, deadline.ErrBeyondCalendar):
			problems = append(problems, placed{"The deadline for this date cannot be worked out: the bank holiday calendar does not cover it",
				draftURL(d, askWhen.slug, true) + "#aware-day"})
		case err != nil:
			release()
			s.fail(c, "start incident clocks", err)
			return
		}
	}
	if len(problems) > 0 {
		release()
		s.showCheck(c, http.StatusBadRequest, d, problems)
		return
	}
	// The draft's key makes sure a draft becomes one incident, even if this
	// submission's claim on it lapses and another one sends it again.
	ackBy, err := s.incidentRules.AcknowledgementDue(s.bankHolidays, critical, now)
	if err != nil {
		release()
		s.fail(c, "start incident clocks", err)
		return
	}
	in := incident.Incident{PartnerID: p.Org, Notice: n, Critical: critical, Source: "web", NotifiedBy: by, Clocks: clocks,
		NotifiedAt: now, AcknowledgeBy: ackBy, IdempotencyKey: "draft:" + d.ID.Hex()}
	err = s.incidents.Create(ctx, p.Scope, &in, event(c, "incident.create", "", p.Org, audit.Success), nil)
	if errors.Is(err, incident.ErrKeyTaken) {
		in, err = s.incidents.ByKey(ctx, p.Scope, p.Org, in.IdempotencyKey)
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/incidents/"+in.ID.Hex()+"/confirmation")
			return
		}
	}
	if err != nil {
		release()
		s.fail(c, "notify incident", err)
		return
	}
	if err := drafts.Sent(ctx, p.Scope, d, in.ID.Hex()); err != nil {
		// The incident is stored; the draft stays claimed until its lease ends.
		s.log.Error("record incident draft sent", "err", err, "incident", in.ID.Hex(), "request_id", c.GetString(ctxRequestID))
	}
	if err := s.notified(ctx, in); err != nil {
		// The incident is stored and confirmed; escalation is retried by the worker.
		s.log.Error("escalate incident", "err", err, "incident", in.ID.Hex(), "request_id", c.GetString(ctxRequestID))
	}
	c.Redirect(http.StatusSeeOther, "/incidents/"+in.ID.Hex()+"/confirmation")
}

// awaitSent answers a submission of a draft another submission is sending
// or has sent: with that incident's confirmation, once it is stored.
func (s *Server) awaitSent(c *gin.Context) {
	p := principal(c)
	for wait := time.Duration(0); wait < 10*time.Second; wait += 100 * time.Millisecond {
		id, err := s.drafts.Receipt(c.Request.Context(), p.Scope, p.Subject, c.Param("draft"))
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/incidents/"+id+"/confirmation")
			return
		}
		if !errors.Is(err, incident.ErrNotFound) {
			s.fail(c, "read incident draft receipt", err)
			return
		}
		select {
		case <-c.Request.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	// The other submission failed, or is stuck: the draft is still there to send.
	c.Redirect(http.StatusSeeOther, "/incidents/drafts/"+c.Param("draft")+"/check")
}

// ----- Confirmation.

// notifyConfirmation confirms a notification to the officer who sent it
// through the portal: its reference, whether it was on time, the deadlines
// that now run, and what the department does next. For anyone else, it is
// not found.
func (s *Server) notifyConfirmation(c *gin.Context) {
	p := principal(c)
	in, err := s.incidents.Get(c.Request.Context(), p.Scope, c.Param("id"))
	switch {
	case errors.Is(err, incident.ErrNotFound):
		s.notReachable(c, access.CreateIncident, "incident", c.Param("id"))
		return
	case err != nil:
		s.fail(c, "load incident", err)
		return
	}
	if in.Source != "web" || in.NotifiedBy.Kind != "person" || in.NotifiedBy.ID != p.Subject || in.PartnerID != p.Org {
		s.notReachable(c, access.CreateIncident, "incident", c.Param("id"))
		return
	}
	type next struct{ Name, Deadline, Rule string }
	dept := in.DepartmentClock()
	data := struct {
		ID                  string
		Panel               template.HTML
		Category            string
		Critical, Late      bool
		LateBy, Deadline    string
		Rule                string
		Next                []next
		NotifiedAt, AwareAt string
	}{Panel: template.HTML("Your reference<br><strong id=\"reference\">" + template.HTMLEscapeString(in.Reference) + "</strong>"), //nolint:gosec // escaped
		ID: in.ID.Hex(), Category: in.Category, Critical: in.Critical, Late: dept.Late(), LateBy: deadline.DescribeLateness(dept.LateBy),
		Deadline: londonTime(dept.Deadline), Rule: dept.Rule, NotifiedAt: londonTime(in.NotifiedAt), AwareAt: londonTime(in.AwareAt)}
	if cat, ok := s.incidentRules.Category(in.Category); ok {
		data.Category = cat.Name
	}
	for _, k := range in.Clocks {
		if k.Regime != "department" && k.NotifiedAt == nil {
			data.Next = append(data.Next, next{k.Name, londonTime(k.Deadline), k.Rule})
		}
	}
	s.render(c, http.StatusOK, "incident-notify-confirmation", "Incident notified", data)
}

// londonTime is an instant as the journey shows it, in London: "2:30pm on 3
// December 2026", "midday", "midnight".
func londonTime(t time.Time) string {
	t = t.In(london)
	var clock string
	switch {
	case t.Hour() == 0 && t.Minute() == 0:
		clock = "midnight"
	case t.Hour() == 12 && t.Minute() == 0:
		clock = "midday"
	case t.Minute() == 0:
		clock = t.Format("3pm")
	default:
		clock = t.Format("3:04pm")
	}
	return clock + " on " + t.Format("2 January 2006")
}
