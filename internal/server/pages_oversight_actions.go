package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/spreadsheet"
	"github.com/gin-gonic/gin"
)

// actionView is an action as pages show it, as things stand at Now.
type actionView struct {
	oversight.Action
	PartnerName string
	Now         time.Time
}

var actionStatusNames = map[string]string{
	oversight.Open:      "Open",
	oversight.Responded: "Responded",
	oversight.Returned:  "Returned",
	oversight.Closed:    "Closed",
}

var actionStatusClasses = map[string]string{
	oversight.Open:      "govuk-tag--blue",
	oversight.Responded: "govuk-tag--yellow",
	oversight.Returned:  "govuk-tag--orange",
	oversight.Closed:    "govuk-tag--grey",
}

var actionSourceNames = map[string]string{
	oversight.FromInspection: "Inspection",
	oversight.FromIncident:   "Serious incident",
	oversight.FromReview:     "Contract review",
}

func (v actionView) StatusName() string   { return actionStatusNames[v.Status] }
func (v actionView) StatusClass() string  { return actionStatusClasses[v.Status] }
func (v actionView) PriorityName() string { return oversight.PriorityName(v.Priority) }
func (v actionView) SourceName() string   { return actionSourceNames[v.Source.Kind] }

// IsOverdue says the action is still not closed after its due day.
func (v actionView) IsOverdue() bool { return v.Overdue(v.Now) }

// OverdueBy is how long past its due day the action is.
func (v actionView) OverdueBy() string {
	return dayCount(calendar.DaysBetween(v.DueOn, calendar.Today(v.Now)))
}

// entryView is one step of an action's chronology.
type entryView struct{ oversight.Entry }

func (e entryView) KindName() string {
	switch e.Kind {
	case oversight.EntryRaised:
		return "Raised the action"
	case oversight.EntryResponse:
		return "Responded"
	case oversight.EntryReturned:
		return "Returned the response"
	case oversight.EntryAccepted:
		return "Accepted the response and closed the action"
	}
	return e.Kind
}

// SideName is which side of the action the person is on.
func (e entryView) SideName() string {
	if e.Side == oversight.SidePartner {
		return "the partner"
	}
	return "the department"
}

const actionsPerPage = 25

// actionFilter reads the list's filters; the contract only if within
// contracts, so a filter names nothing out of reach.
func actionFilter(c *gin.Context, contracts []partner.Contract, now time.Time) (oversight.ActionFilter, []any, []any) {
	f := oversight.ActionFilter{ContractID: c.Query("contract"), Status: c.Query("status")}
	if _, ok := actionStatusNames[f.Status]; !ok {
		f.Status = ""
	}
	if c.Query("overdue") == "yes" {
		f.OverdueAsOf = now
	}
	contractItems := contractOptions(contracts, &f.ContractID)
	statusItems := []any{map[string]any{"value": "", "text": "Any status"}}
	for _, st := range []string{oversight.Open, oversight.Responded, oversight.Returned, oversight.Closed} {
		statusItems = append(statusItems, map[string]any{"value": st, "text": actionStatusNames[st], "selected": st == f.Status})
	}
	return f, contractItems, statusItems
}

type actionListPage struct {
	Actions    []actionView
	Total      int64
	Department bool
	CanRaise   bool
	Overdue    bool
	Contracts  []any
	Statuses   []any
	Pagination map[string]any
	Export     string
}

// actionList lists the actions within reach, soonest due first, overdue
// ones tagged.
func (s *Server) actionList(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	contracts, err := s.partners.Contracts(ctx, p.Scope)
	if err != nil {
		s.fail(c, "list contracts", err)
		return
	}
	now := time.Now()
	f, contractItems, statusItems := actionFilter(c, contracts, now)
	page := listPage(c)
	list, total, err := s.oversight.ListActions(ctx, p.Scope, f, page, actionsPerPage)
	if err != nil {
		s.fail(c, "list actions", err)
		return
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	data := actionListPage{Total: total, Department: !partnerSide(c), CanRaise: p.May(access.ManageOversight), Overdue: !f.OverdueAsOf.IsZero(),
		Contracts: contractItems, Statuses: statusItems}
	for _, a := range list {
		data.Actions = append(data.Actions, actionView{Action: a, PartnerName: names[a.PartnerID], Now: now})
	}
	q := c.Request.URL.Query()
	q.Del("page")
	data.Export = "/actions.csv"
	if len(q) > 0 {
		data.Export += "?" + q.Encode()
	}
	pages := int((total + actionsPerPage - 1) / actionsPerPage)
	data.Pagination = pagination("/actions", c.Request.URL.Query(), page, pages)
	s.render(c, http.StatusOK, "actions", "Actions", data)
}

// actionsCSV exports the actions the list shows, every page of them.
func (s *Server) actionsCSV(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	contracts, err := s.partners.Contracts(ctx, p.Scope)
	if err != nil {
		s.fail(c, "list contracts", err)
		return
	}
	now := time.Now()
	f, _, _ := actionFilter(c, contracts, now)
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	org := ""
	if partnerSide(c) {
		org = p.Org
	}
	if err := s.record(c, event(c, "action.export", "actions", org, audit.Success)); err != nil {
		s.fail(c, "audit actions export", err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="actions.csv"`)
	c.Status(http.StatusOK)
	out := spreadsheet.NewWriter(c.Writer)
	err = out.Write("Action", "Contract", "Partner", "Title", "Raised from", "Source reference", "Priority", "Status", "Due", "Overdue", "Raised on", "Closed on", "Link")
	if err == nil {
		err = s.oversight.EachAction(ctx, p.Scope, f, func(a oversight.Action) error {
			v := actionView{Action: a, Now: now}
			overdue, closed := "No", ""
			if v.IsOverdue() {
				overdue = "Yes"
			}
			if a.ClosedAt != nil {
				closed = calendar.Today(*a.ClosedAt).Format(time.DateOnly)
			}
			return out.Write(a.ID.Hex(), a.ContractID, names[a.PartnerID], a.Title, v.SourceName(), a.Source.ID, v.PriorityName(),
				v.StatusName(), a.DueOn.Format(time.DateOnly), overdue, calendar.Today(a.CreatedAt).Format(time.DateOnly), closed,
				s.cfg.BaseURL+"/actions/"+a.ID.Hex())
		})
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		// Headers are gone; a truncated file and the log are all that is left.
		s.log.Error("write actions CSV", "err", err, "request_id", c.GetString(ctxRequestID))
	}
}

// reachableAction is the :id of the path if the caller can see it.
func (s *Server) reachableAction(c *gin.Context) (oversight.Action, bool) {
	id := c.Param("id")
	a, err := s.oversight.GetAction(c.Request.Context(), principal(c).Scope, id)
	switch {
	case errors.Is(err, oversight.ErrNotFound):
		s.notReachable(c, access.ViewContracts, "action", id)
		return oversight.Action{}, false
	case err != nil:
		s.fail(c, "read action", err)
		return oversight.Action{}, false
	}
	return a, true
}

// actionSaved is the banner after each change, by the name the redirect gives it.
var actionSaved = map[string]string{
	"raised":    "The action has been raised.",
	"responded": "Your response has been sent to the department.",
	"returned":  "The response has been returned to the partner.",
	"accepted":  "The response has been accepted and the action closed.",
}

type actionViewPage struct {
	Action     actionView
	Entries    []entryView
	SourceText string
	SourceHref string
	// ReturnedBecause is why the department returned the last response,
	// while the action waits for the partner again.
	ReturnedBecause string
	Saved           string
	Errors          []fieldError
	Form            map[string]string
	// What the caller may do here and now.
	CanRespond, CanDecide bool
	// Reminders are the e-mails sent to the partner about it, for the department.
	Reminders []escalation.Delivery
	MaxMB     int64
	MaxFiles  int
}

// actionPage shows one action: what the partner must do, by when, where
// it came from, everything said since, and what the caller can do next.
func (s *Server) actionPage(c *gin.Context) {
	if a, ok := s.reachableAction(c); ok {
		s.showAction(c, a, http.StatusOK, nil, nil)
	}
}

func (s *Server) showAction(c *gin.Context, a oversight.Action, status int, errs []fieldError, form map[string]string) {
	ctx := c.Request.Context()
	p := principal(c)
	// What was asked and answered may describe customers and staff.
	if err := s.record(c, event(c, "action.view", "action/"+a.ID.Hex(), a.PartnerID, audit.Success)); err != nil {
		s.fail(c, "audit action view", err)
		return
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	department := !partnerSide(c)
	page := actionViewPage{Action: actionView{Action: a, PartnerName: names[a.PartnerID], Now: time.Now()}, Saved: actionSaved[c.Query("saved")],
		Errors: errs, Form: form, MaxMB: s.evidenceMaxBytes() >> 20, MaxFiles: maxUploadFiles,
		CanRespond: !department && p.MayOn(access.RespondToActions, a.PartnerID) && (a.Status == oversight.Open || a.Status == oversight.Returned),
		CanDecide:  department && p.MayOn(access.ManageOversight, a.PartnerID) && a.Status == oversight.Responded,
	}
	for _, e := range a.Entries {
		page.Entries = append(page.Entries, entryView{e})
		if e.Kind == oversight.EntryReturned && a.Status == oversight.Returned {
			page.ReturnedBecause = e.Text
		}
	}
	page.SourceText, page.SourceHref = s.actionSource(ctx, p.Scope, a.Source)
	if department {
		if page.Reminders, err = s.reminders.ForAction(ctx, a.ID.Hex()); err != nil {
			s.fail(c, "read action reminders", err)
			return
		}
	}
	title := a.Title
	if len(errs) > 0 {
		title = "Error: " + title
	}
	s.render(c, status, "action", title, page)
}

// actionSource says what an action was raised from, with a link to it if
// the caller can see it.
func (s *Server) actionSource(ctx context.Context, scope access.Scope, src oversight.Source) (string, string) {
	switch src.Kind {
	case oversight.FromInspection:
		if in, err := s.oversight.GetInspection(ctx, scope, src.ID); err == nil {
			return "The inspection of " + in.Site + " on " + calendar.Format(inspectionDay(in)), "/inspections/" + in.ID.Hex()
		}
		return "An inspection", ""
	case oversight.FromIncident:
		if in, err := s.incidents.Get(ctx, scope, src.ID); err == nil {
			return "Serious incident " + in.Reference, "/incidents/" + in.ID.Hex()
		}
		return "A serious incident", ""
	}
	return "Contract review " + src.ID, ""
}

// actionChanged handles what a change to an action returned: back to the
// page with a banner, or the page again with what to fix.
func (s *Server) actionChanged(c *gin.Context, a oversight.Action, field string, err error, saved string, hadFiles bool) {
	var inv *oversight.ErrInvalid
	switch {
	case errors.Is(err, oversight.ErrNotFound):
		s.renderError(c, http.StatusNotFound)
	case errors.Is(err, oversight.ErrConflict):
		fresh, gerr := s.oversight.GetAction(c.Request.Context(), principal(c).Scope, a.ID.Hex())
		if gerr != nil {
			s.oversightFailed(c, "read action", gerr)
			return
		}
		s.showAction(c, fresh, http.StatusConflict, []fieldError{{field,
			"Someone else changed this action while you were looking at it. Check it again below, then try again"}}, postedAnswers(c))
	case errors.As(err, &inv):
		errs := []fieldError{{field, inv.Message}}
		if hadFiles && !strings.Contains(inv.Message, "file") {
			errs = append(errs, fieldError{"evidence", "Select the files again: files are not kept while other answers need correcting"})
		}
		s.showAction(c, a, http.StatusBadRequest, errs, postedAnswers(c))
	case s.stored(c, err) != nil:
		s.fail(c, "change action", err)
	default:
		c.Redirect(http.StatusSeeOther, "/actions/"+a.ID.Hex()+"?saved="+url.QueryEscape(saved))
	}
}

// actionRespond records the partner's response, with any evidence files.
func (s *Server) actionRespond(c *gin.Context) {
	a, ok := s.reachableAction(c)
	if !ok {
		return
	}
	if !partnerSide(c) || !principal(c).MayOn(access.RespondToActions, a.PartnerID) {
		s.notReachable(c, access.RespondToActions, "action", a.ID.Hex())
		return
	}
	text := c.PostForm("response")
	var errs []fieldError
	version, vok := oversightVersion(c)
	if !vok {
		errs = append(errs, fieldError{"response", "Reload this page, check the action, then try again"})
	}
	if strings.TrimSpace(text) == "" {
		errs = append(errs, fieldError{"response", "Enter your response"})
	}
	files, fileErr := s.readEvidenceFiles(c, "evidence", len(errs) > 0)
	if fileErr != nil {
		errs = append(errs, *fileErr)
	}
	if len(errs) > 0 {
		s.showAction(c, a, http.StatusBadRequest, errs, postedAnswers(c))
		return
	}
	// Once files are kept, the steps run to the end even if the browser goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 30*time.Second)
	defer cancel()
	err := s.withEvidenceFiles(ctx, c, a.PartnerID, files, func(refs []oversight.EvidenceRef) error {
		_, err := s.oversight.Respond(ctx, principal(c).Scope, a.ID.Hex(), version, oversight.Response{Text: text, Evidence: refs},
			oversightActor(c), event(c, "", "", a.PartnerID, audit.Success))
		return err
	})
	s.actionChanged(c, a, "response", err, "responded", len(files) > 0)
}

// actionDecide accepts the partner's response, closing the action, or
// returns it with a reason: the last part of the path says which.
func (s *Server) actionDecide(c *gin.Context) {
	a, ok := s.reachableAction(c)
	if !ok {
		return
	}
	if partnerSide(c) || !principal(c).MayOn(access.ManageOversight, a.PartnerID) {
		s.notReachable(c, access.ManageOversight, "action", a.ID.Hex())
		return
	}
	accept := strings.HasSuffix(c.FullPath(), "/accept")
	field := map[bool]string{true: "note", false: "reason"}[accept]
	version, vok := oversightVersion(c)
	if !vok {
		s.showAction(c, a, http.StatusBadRequest, []fieldError{{field, "Reload this page, check the action, then try again"}}, postedAnswers(c))
		return
	}
	ctx := c.Request.Context()
	e := event(c, "", "", a.PartnerID, audit.Success)
	var err error
	saved := "accepted"
	if accept {
		_, err = s.oversight.Accept(ctx, principal(c).Scope, a.ID.Hex(), version, strings.TrimSpace(c.PostForm("note")), oversightActor(c), e)
	} else {
		saved = "returned"
		_, err = s.oversight.Return(ctx, principal(c).Scope, a.ID.Hex(), version, strings.TrimSpace(c.PostForm("reason")), oversightActor(c), e)
	}
	s.actionChanged(c, a, field, err, saved, false)
}

// actionEvidence sends a file attached to an action's chronology to anyone
// who can see the action.
func (s *Server) actionEvidence(c *gin.Context) {
	a, ok := s.reachableAction(c)
	if !ok {
		return
	}
	var refs []oversight.EvidenceRef
	for _, e := range a.Entries {
		refs = append(refs, e.Attachments...)
	}
	s.sendOversightEvidence(c, a.PartnerID, refs, "action")
}

// actionOrigin is what a new action is raised from, as the page's address
// says: an inspection, an incident, or (naming neither) a contract review.
type actionOrigin struct {
	Kind string
	// ID is the inspection's or incident's; a review's is typed on the form.
	ID string
	// Contract is the inspection's or incident's; a review's is chosen.
	Contract  string
	PartnerID string
	Caption   string
	Back      string
	// Query keeps the origin in the form's address.
	Query string
}

// actionOriginOf reads where a new action comes from, if the caller may
// raise one from it.
func (s *Server) actionOriginOf(c *gin.Context) (actionOrigin, bool) {
	ctx := c.Request.Context()
	p := principal(c)
	switch {
	case c.Query("inspection") != "":
		id := c.Query("inspection")
		in, err := s.oversight.GetInspection(ctx, p.Scope, id)
		switch {
		case errors.Is(err, oversight.ErrNotFound) || (err == nil && (in.Status != oversight.Completed || !p.MayOn(access.ManageOversight, in.PartnerID))):
			s.notReachable(c, access.ManageOversight, "inspection", id)
			return actionOrigin{}, false
		case err != nil:
			s.fail(c, "read inspection", err)
			return actionOrigin{}, false
		}
		return actionOrigin{Kind: oversight.FromInspection, ID: in.ID.Hex(), Contract: in.ContractID, PartnerID: in.PartnerID,
			Caption: "From the inspection of " + in.Site + " on " + calendar.Format(inspectionDay(in)),
			Back:    "/inspections/" + in.ID.Hex(), Query: "?inspection=" + url.QueryEscape(in.ID.Hex())}, true
	case c.Query("incident") != "":
		id := c.Query("incident")
		in, err := s.incidents.Get(ctx, p.Scope, id)
		switch {
		case errors.Is(err, incident.ErrNotFound) || (err == nil && !p.MayOn(access.ManageOversight, in.PartnerID)):
			s.notReachable(c, access.ManageOversight, "incident", id)
			return actionOrigin{}, false
		case err != nil:
			s.fail(c, "read incident", err)
			return actionOrigin{}, false
		}
		return actionOrigin{Kind: oversight.FromIncident, ID: in.ID.Hex(), Contract: in.ContractID, PartnerID: in.PartnerID,
			Caption: "From serious incident " + in.Reference, Back: "/incidents/" + in.ID.Hex(), Query: "?incident=" + url.QueryEscape(in.ID.Hex())}, true
	}
	return actionOrigin{Kind: oversight.FromReview, Caption: "From a contract review", Back: "/actions"}, true
}

type actionRaiseForm struct {
	Contract, Review, Title, Detail, Priority string
	Due                                       dateField
}

type actionRaisePage struct {
	Origin     actionOrigin
	Form       actionRaiseForm
	Contracts  []any
	Priorities []any
	Errors     []fieldError
}

func priorityRadios(selected string) []any {
	items := make([]any, 0, len(oversight.Priorities))
	for _, pr := range oversight.Priorities {
		items = append(items, map[string]any{"value": pr, "text": oversight.PriorityName(pr), "checked": pr == selected})
	}
	return items
}

// actionRaise raises an action against the partner holding a contract,
// from an inspection, an incident or a contract review. The partner is
// always the contract's.
func (s *Server) actionRaise(c *gin.Context) {
	origin, ok := s.actionOriginOf(c)
	if !ok {
		return
	}
	var contracts []partner.Contract
	if origin.Kind == oversight.FromReview {
		var err error
		if contracts, err = s.manageableContracts(c); err != nil {
			s.fail(c, "list contracts", err)
			return
		}
	}
	const heading = "Raise an action"
	page := actionRaisePage{Origin: origin, Form: actionRaiseForm{Contract: c.Query("contract")}, Priorities: priorityRadios("")}
	if c.Request.Method == http.MethodGet {
		page.Contracts = contractChoices(contracts, page.Form.Contract)
		s.render(c, http.StatusOK, "action-raise", heading, page)
		return
	}
	f := actionRaiseForm{Contract: origin.Contract, Review: trimmed(c, "review"), Title: trimmed(c, "title"), Detail: c.PostForm("detail"),
		Priority: c.PostForm("priority"), Due: readDate(c, "due")}
	source := oversight.Source{Kind: origin.Kind, ID: origin.ID}
	if origin.Kind == oversight.FromReview {
		f.Contract, source.ID = c.PostForm("contract"), f.Review
		if !slices.ContainsFunc(contracts, func(ct partner.Contract) bool { return ct.ID == f.Contract }) {
			page.Errors = append(page.Errors, fieldError{"contract", "Select the contract"})
		}
		if f.Review == "" {
			page.Errors = append(page.Errors, fieldError{"review", "Enter the reference of the review"})
		}
	}
	page.Form, page.Contracts, page.Priorities = f, contractChoices(contracts, f.Contract), priorityRadios(f.Priority)
	page.Errors = append(page.Errors, textError("title", "the title of the action", "The title", f.Title, true)...)
	if strings.TrimSpace(f.Detail) == "" {
		page.Errors = append(page.Errors, fieldError{"detail", "Enter what the partner must do"})
	}
	if !slices.Contains(oversight.Priorities, f.Priority) {
		page.Errors = append(page.Errors, fieldError{"priority", "Select a priority"})
	}
	due, msg := f.Due.parse("the due date")
	if msg != "" {
		page.Errors = append(page.Errors, fieldError{"due", msg})
	}
	if len(page.Errors) == 0 {
		a, err := s.oversight.Raise(c.Request.Context(), principal(c).Scope, oversight.NewAction{ContractID: f.Contract, Source: source,
			Title: f.Title, Detail: f.Detail, Priority: f.Priority, DueOn: due}, oversightActor(c), event(c, "", "", "", audit.Success))
		var inv *oversight.ErrInvalid
		switch {
		case errors.As(err, &inv):
			page.Errors = append(page.Errors, fieldError{raiseErrorField(origin, inv.Message), inv.Message})
		case errors.Is(err, oversight.ErrNotFound):
			page.Errors = append(page.Errors, fieldError{raiseErrorField(origin, "contract"), "Select the contract"})
		case s.stored(c, err) != nil:
			s.fail(c, "raise action", err)
			return
		default:
			// It may be due within the days before a reminder goes.
			s.reminders.Wake()
			c.Redirect(http.StatusSeeOther, "/actions/"+a.ID.Hex()+"?saved=raised")
			return
		}
	}
	s.render(c, http.StatusBadRequest, "action-raise", "Error: "+heading, page)
}

// raiseErrorField is the field a refusal from the store is about; the
// contract and the review's reference are on the form only for a review.
func raiseErrorField(origin actionOrigin, msg string) string {
	review := origin.Kind == oversight.FromReview
	switch {
	case review && strings.Contains(msg, "reference of the"):
		return "review"
	case review && strings.Contains(msg, "contract"):
		return "contract"
	case strings.Contains(msg, "partner must do"):
		return "detail"
	case strings.Contains(msg, "priority"):
		return "priority"
	case strings.Contains(msg, "due date"):
		return "due"
	}
	return "title"
}
