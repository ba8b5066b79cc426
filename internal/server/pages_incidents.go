package server

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The incident routes that take a file with the text, so their body limit
// is the evidence limit.
const (
	incidentUpdateRoute  = "/incidents/:id/updates"
	incidentRespondRoute = "/incidents/:id/respond"
)

// incidentReviewRoutes registers the incident lists, the incident page and
// the changes both sides make from it.
func (s *Server) incidentReviewRoutes(private *gin.RouterGroup) {
	private.GET("/incidents", s.allow(access.ViewIncidents), s.incidentList)
	private.GET("/incidents/:id", s.allow(access.ViewIncidents), s.incidentPage)
	private.POST(incidentUpdateRoute, s.allow(access.ViewIncidents), s.incidentAddUpdate)
	private.GET("/incidents/:id/attachments/:file", s.allow(access.ViewIncidents), s.incidentAttachment)
	private.POST(incidentRespondRoute, s.allow(access.CreateIncident), s.incidentRespond)
	private.POST("/incidents/:id/other-bodies", s.allow(access.CreateIncident), s.incidentRegimeNotified)
	private.POST("/incidents/:id/acknowledge", s.allow(access.ReviewIncidents), s.incidentReview)
	private.POST("/incidents/:id/request", s.allow(access.ReviewIncidents), s.incidentReview)
	private.POST("/incidents/:id/outcome", s.allow(access.ReviewIncidents), s.incidentReview)
	private.POST("/incidents/:id/close", s.allow(access.ReviewIncidents), s.incidentReview)
	private.POST("/incidents/:id/sign-off", s.allow(access.SignOffIncidents), s.incidentReview)
}

var incidentStatusNames = map[string]string{
	incident.Notified:             "Awaiting acknowledgement",
	incident.UnderReview:          "Under review",
	incident.InformationRequested: "Information requested",
	incident.Closed:               "Closed",
}

var incidentStatusClasses = map[string]string{
	incident.Notified:             "govuk-tag--red",
	incident.UnderReview:          "govuk-tag--blue",
	incident.InformationRequested: "govuk-tag--yellow",
	incident.Closed:               "govuk-tag--grey",
}

type incidentListPage struct {
	Incidents       []incidentRow
	Total           int64
	Filter          incident.Filter
	Partners        map[string]string
	Department      bool
	CanNotify       bool
	Statuses        []any
	Acknowledgement []any
	Categories      []any
	Indicators      []any
	PartnerOpt      []any
	Pagination      map[string]any
	Timeliness      []timelinessRow
}

type timelinessRow struct {
	incident.Timeliness
	PartnerName string
}

type incidentRow struct {
	incident.Incident
	PartnerName  string
	CategoryName string
	Late         bool
	LateBy       string
	// AcknowledgementOverdue says the department is past its deadline to
	// acknowledge it.
	AcknowledgementOverdue bool
}

const incidentsPerPage = 25

// incidentList lists the incidents within the caller's reach: a partner's
// own, a manager's contracts', everything for leads and auditors.
func (s *Server) incidentList(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	f := incident.Filter{Status: c.Query("status"), Category: c.Query("category"), Indicator: c.Query("indicator"),
		PartnerID: c.Query("partner"), AwaitingAcknowledgement: c.Query("awaiting") == "yes",
		OverdueAcknowledgement: c.Query("awaiting") == "overdue", Now: time.Now()}
	if _, ok := incidentStatusNames[f.Status]; !ok {
		f.Status = ""
	}
	if _, ok := s.incidentRules.Category(f.Category); !ok {
		f.Category = ""
	}
	if incident.IndicatorName(f.Indicator) == "" {
		f.Indicator = ""
	}
	page := listPage(c)
	list, total, err := s.incidents.Search(ctx, p.Scope, f, page, incidentsPerPage)
	if err != nil {
		s.fail(c, "list incidents", err)
		return
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	data := incidentListPage{Total: total, Filter: f, Partners: names, Department: p.Org == auth.DepartmentOrg,
		CanNotify: p.May(access.CreateIncident)}
	for _, in := range list {
		row := incidentRow{Incident: in, PartnerName: names[in.PartnerID], CategoryName: s.categoryName(in.Category),
			AcknowledgementOverdue: in.AcknowledgementOverdue(f.Now)}
		if k := in.DepartmentClock(); k.Late() {
			row.Late, row.LateBy = true, deadline.DescribeLateness(k.LateBy)
		}
		data.Incidents = append(data.Incidents, row)
	}
	data.Acknowledgement = []any{
		map[string]any{"value": "", "text": "Any"},
		map[string]any{"value": "yes", "text": "Awaiting acknowledgement", "selected": f.AwaitingAcknowledgement},
		map[string]any{"value": "overdue", "text": "Overdue for acknowledgement", "selected": f.OverdueAcknowledgement},
	}
	data.Statuses = []any{map[string]any{"value": "", "text": "Any status"}}
	for _, st := range []string{incident.Notified, incident.UnderReview, incident.InformationRequested, incident.Closed} {
		data.Statuses = append(data.Statuses, map[string]any{"value": st, "text": incidentStatusNames[st], "selected": st == f.Status})
	}
	data.Categories = []any{map[string]any{"value": "", "text": "Any kind"}}
	for _, cat := range s.incidentRules.Categories {
		data.Categories = append(data.Categories, map[string]any{"value": cat.ID, "text": cat.Name, "selected": cat.ID == f.Category})
	}
	data.Indicators = []any{map[string]any{"value": "", "text": "Any indicator"}}
	for _, ind := range incident.Indicators {
		data.Indicators = append(data.Indicators, map[string]any{"value": ind.ID, "text": ind.Name, "selected": ind.ID == f.Indicator})
	}
	if data.Department {
		ids := p.Scope.Partners()
		if p.Scope.All() {
			ids = slices.Sorted(maps.Keys(names))
		}
		data.PartnerOpt = []any{map[string]any{"value": "", "text": "Any partner"}}
		for _, id := range ids {
			data.PartnerOpt = append(data.PartnerOpt, map[string]any{"value": id, "text": names[id], "selected": id == f.PartnerID})
		}
	}
	timely, err := s.incidents.TimelinessSince(ctx, p.Scope, time.Now().AddDate(-1, 0, 0))
	if err != nil {
		s.fail(c, "incident timeliness", err)
		return
	}
	for _, t := range timely {
		data.Timeliness = append(data.Timeliness, timelinessRow{Timeliness: t, PartnerName: names[t.PartnerID]})
	}
	pages := int((total + incidentsPerPage - 1) / incidentsPerPage)
	data.Pagination = pagination("/incidents", c.Request.URL.Query(), page, pages)
	s.render(c, http.StatusOK, "incidents", "Serious incidents", data)
}

func (s *Server) categoryName(id string) string {
	if cat, ok := s.incidentRules.Category(id); ok {
		return cat.Name
	}
	return id
}

type incidentViewPage struct {
	MaxMB        int64
	Incident     incident.Incident
	PartnerName  string
	CategoryName string
	FiveRs       []incident.FiveR
	Errors       []fieldError
	Form         map[string]string
	Saved        string
	// What the caller may do here and now.
	CanReview, CanSignOff, CanUpdate, CanRespond bool
	CanRaiseAction                               bool
	OpenRegimes                                  []incident.Clock
	RegimeItems                                  []any
	NotifiedDate                                 dateField
	Now                                          time.Time
}

// incidentPage shows one incident: what happened, the deadlines and how
// they were met, the five Rs, the chronology, and what the caller can do next.
func (s *Server) incidentPage(c *gin.Context) {
	in, ok := s.reachableIncident(c)
	if !ok {
		return
	}
	s.showIncident(c, in, http.StatusOK, nil, nil)
}

func (s *Server) reachableIncident(c *gin.Context) (incident.Incident, bool) {
	in, err := s.incidents.Get(c.Request.Context(), principal(c).Scope, c.Param("id"))
	if errors.Is(err, incident.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return incident.Incident{}, false
	}
	if err != nil {
		s.fail(c, "read incident", err)
		return incident.Incident{}, false
	}
	return in, true
}

func (s *Server) showIncident(c *gin.Context, in incident.Incident, status int, errs []fieldError, form map[string]string) {
	p := principal(c)
	// Viewing a customer's incident is viewing personal data: on record first.
	if err := s.record(c, event(c, "incident.view", "incident/"+in.ID.Hex(), in.PartnerID, audit.Success)); err != nil {
		s.fail(c, "audit incident view", err)
		return
	}
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	open := in.Status != incident.Closed
	page := incidentViewPage{Incident: in, PartnerName: names[in.PartnerID], CategoryName: s.categoryName(in.Category),
		FiveRs: in.FiveRs(), Errors: errs, Form: form, Saved: c.Query("saved"), Now: time.Now(), MaxMB: s.evidenceMaxBytes() >> 20,
		CanReview:      open && p.May(access.ReviewIncidents),
		CanSignOff:     open && in.Critical && p.May(access.SignOffIncidents) && in.SignedOffBy == "",
		CanUpdate:      open && (p.May(access.ReviewIncidents) || p.MayOn(access.CreateIncident, in.PartnerID)),
		CanRespond:     in.Status == incident.InformationRequested && p.MayOn(access.CreateIncident, in.PartnerID),
		CanRaiseAction: p.Org == auth.DepartmentOrg && p.MayOn(access.ManageOversight, in.PartnerID),
	}
	if p.MayOn(access.CreateIncident, in.PartnerID) {
		for _, k := range in.Clocks {
			if k.Regime != "department" && k.NotifiedAt == nil {
				page.OpenRegimes = append(page.OpenRegimes, k)
				page.RegimeItems = append(page.RegimeItems, map[string]any{"value": k.Regime,
					"text": k.Name + ", by " + k.Deadline.In(calendar.London).Format("2 January 2006, 15:04"), "checked": form["regime"] == k.Regime})
			}
		}
		page.NotifiedDate = readDate(c, "notified")
	}
	title := "Incident " + in.Reference
	if len(errs) > 0 {
		title = "Error: " + title
	}
	s.render(c, status, "incident", title, page)
}

// incidentChanged handles what a change to an incident returned: back to
// the page with a banner, or the page again with what to fix.
func (s *Server) incidentChanged(c *gin.Context, in incident.Incident, field string, err error, saved string) {
	var inv *incident.ErrInvalid
	switch {
	case errors.Is(err, incident.ErrNotFound):
		s.renderError(c, http.StatusNotFound)
	case errors.Is(err, incident.ErrConflict):
		fresh, gerr := s.incidents.Get(c.Request.Context(), principal(c).Scope, in.ID.Hex())
		if gerr != nil {
			s.fail(c, "read incident", gerr)
			return
		}
		s.showIncident(c, fresh, http.StatusConflict, []fieldError{{field,
			"Someone else changed this incident while you were looking at it. Check it again below, then try again"}}, postedAnswers(c))
	case errors.As(err, &inv):
		s.showIncident(c, in, http.StatusBadRequest, []fieldError{{field, inv.Message}}, postedAnswers(c))
	case s.stored(c, err) != nil:
		s.fail(c, "change incident", err)
	default:
		c.Redirect(http.StatusSeeOther, "/incidents/"+in.ID.Hex()+"?saved="+url.QueryEscape(saved))
	}
}

func postedAnswers(c *gin.Context) map[string]string {
	out := map[string]string{}
	for k, v := range c.Request.PostForm {
		if k != "csrf_token" && len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

func (s *Server) actor(c *gin.Context) incident.Actor {
	p := principal(c)
	side := "partner"
	if p.Org == auth.DepartmentOrg {
		side = "department"
	}
	return incident.Actor{Kind: "person", ID: p.Subject, Name: displayName(c), Side: side}
}

func (s *Server) incidentAddUpdate(c *gin.Context) {
	in, ok := s.reachableIncident(c)
	if !ok {
		return
	}
	if !principal(c).May(access.ReviewIncidents) && !principal(c).MayOn(access.CreateIncident, in.PartnerID) {
		s.renderError(c, http.StatusForbidden)
		return
	}
	s.addIncidentEntry(c, in, "update", func(ctx context.Context, u incident.Update) error {
		_, err := s.incidents.AddUpdate(ctx, principal(c).Scope, in.ID.Hex(), u, event(c, "", "", in.PartnerID, audit.Success))
		return err
	})
}

func (s *Server) incidentRespond(c *gin.Context) {
	in, ok := s.reachableIncident(c)
	if !ok {
		return
	}
	if !principal(c).MayOn(access.CreateIncident, in.PartnerID) {
		s.renderError(c, http.StatusForbidden)
		return
	}
	s.addIncidentEntry(c, in, "answer", func(ctx context.Context, u incident.Update) error {
		_, err := s.incidents.Respond(ctx, principal(c).Scope, in.ID.Hex(), c.PostForm("request"), u, event(c, "", "", in.PartnerID, audit.Success))
		return err
	})
}

// addIncidentEntry adds to the chronology the text in field with the
// optional file in "attachment", checked by the same rules as all
// evidence and kept in the partner's evidence. If the entry is refused its
// file goes too: nothing is left half-made.
func (s *Server) addIncidentEntry(c *gin.Context, in incident.Incident, field string, add func(context.Context, incident.Update) error) {
	text := c.PostForm(field)
	file, fileErr := s.readEvidence(c, "attachment", strings.TrimSpace(text) == "")
	if fileErr != nil {
		errs := []fieldError{*fileErr}
		if strings.TrimSpace(text) == "" {
			errs = append([]fieldError{{field, map[string]string{"update": "Enter the update", "answer": "Enter your answer"}[field]}}, errs...)
		}
		s.showIncident(c, in, http.StatusBadRequest, errs, postedAnswers(c))
		return
	}
	// As with records: once a file is kept, the steps run to the end.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 30*time.Second)
	defer cancel()
	u := incident.Update{ID: bson.NewObjectID(), By: s.actor(c), Text: text}
	err := s.withEvidence(ctx, c, in.PartnerID, file, func(f *evidence.File) error {
		if f != nil {
			u.Attachments = []incident.Attachment{{File: f.ID, Name: f.Name, SHA256: f.SHA256, Size: f.Size}}
		}
		return add(ctx, u)
	})
	s.incidentChanged(c, in, field, err, field)
}

// incidentAttachment sends a file attached to the incident's chronology to
// anyone who can see the incident.
func (s *Server) incidentAttachment(c *gin.Context) {
	in, ok := s.reachableIncident(c)
	if !ok {
		return
	}
	fileID := c.Param("file")
	for _, u := range in.Updates {
		for _, a := range u.Attachments {
			if a.File.Hex() == fileID {
				s.sendEvidence(c, in.PartnerID, fileID)
				return
			}
		}
	}
	s.notReachable(c, access.ViewIncidents, "incident attachment", fileID)
}

func (s *Server) incidentRegimeNotified(c *gin.Context) {
	in, ok := s.reachableIncident(c)
	if !ok {
		return
	}
	if !principal(c).MayOn(access.CreateIncident, in.PartnerID) {
		s.renderError(c, http.StatusForbidden)
		return
	}
	d := readDate(c, "notified")
	at, msg := d.parse("the date you notified them")
	if msg != "" {
		s.showIncident(c, in, http.StatusBadRequest, []fieldError{{"notified", msg}}, postedAnswers(c))
		return
	}
	hour, herr := strconv.Atoi(strings.TrimSpace(c.PostForm("notified-hour")))
	minute, merr := strconv.Atoi(strings.TrimSpace(c.PostForm("notified-minute")))
	if herr != nil || merr != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		s.showIncident(c, in, http.StatusBadRequest, []fieldError{{"notified", "Enter the time you notified them, like 14:30"}}, postedAnswers(c))
		return
	}
	y, mo, dd := at.Date()
	when := time.Date(y, mo, dd, hour, minute, 0, 0, calendar.London)
	_, err := s.incidents.RecordRegimeNotified(c.Request.Context(), principal(c).Scope, in.ID.Hex(), c.PostForm("regime"), when,
		strings.TrimSpace(c.PostForm("reference")), s.actor(c), event(c, "", "", in.PartnerID, audit.Success))
	s.incidentChanged(c, in, "notified", err, "other-body")
}

// incidentReview makes one of the department's decisions, named by the
// last part of the path.
func (s *Server) incidentReview(c *gin.Context) {
	in, ok := s.reachableIncident(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	scope := principal(c).Scope
	// Every decision names the version the person saw, so one made on a
	// page someone else has since changed is refused, not applied blind.
	version, verr := strconv.Atoi(c.PostForm("version"))
	if verr != nil || version < 1 {
		s.showIncident(c, in, http.StatusBadRequest, []fieldError{{"version", "Reload this page, check the incident, then try again"}}, postedAnswers(c))
		return
	}
	by := s.actor(c)
	e := event(c, "", "", in.PartnerID, audit.Success)
	id := in.ID.Hex()
	var err error
	var field, saved string
	switch step := c.FullPath()[strings.LastIndex(c.FullPath(), "/")+1:]; step {
	case "acknowledge":
		field, saved = "note", "acknowledged"
		_, err = s.incidents.Acknowledge(ctx, scope, id, version, by, strings.TrimSpace(c.PostForm("note")), e)
	case "request":
		field, saved = "question", "requested"
		_, err = s.incidents.RequestInformation(ctx, scope, id, version, by, c.PostForm("question"), e)
	case "outcome":
		field, saved = "outcome", "outcome"
		_, err = s.incidents.RecordOutcome(ctx, scope, id, version, by, c.PostForm("outcome"), c.PostForm("lessons"), e)
		var inv *incident.ErrInvalid
		if errors.As(err, &inv) && strings.Contains(inv.Message, "lessons") {
			field = "lessons"
		}
	case "sign-off":
		field, saved = "sign-off", "signed-off"
		_, err = s.incidents.SignOff(ctx, scope, id, version, by, strings.TrimSpace(c.PostForm("sign-off")), e)
	case "close":
		field, saved = "close", "closed"
		_, err = s.incidents.Close(ctx, scope, id, version, by, e)
	}
	s.incidentChanged(c, in, field, err, saved)
}
