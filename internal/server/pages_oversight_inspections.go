package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/gin-gonic/gin"
)

// inspectionView is an inspection as pages show it.
type inspectionView struct {
	oversight.Inspection
	PartnerName string
}

func (v inspectionView) StatusName() string {
	if v.Status == oversight.Completed {
		return "Completed"
	}
	return "Planned"
}

func (v inspectionView) StatusClass() string {
	if v.Status == oversight.Completed {
		return "govuk-tag--green"
	}
	return "govuk-tag--blue"
}

func (v inspectionView) RatingName() string { return oversight.RatingName(v.Rating) }

func (v inspectionView) RatingClass() string { return ratingClasses[v.Rating] }

// Notice says whether the partner was told of the inspection beforehand.
func (v inspectionView) Notice() string {
	if v.Announced {
		return "Announced"
	}
	return "Unannounced"
}

var ratingClasses = map[string]string{
	oversight.Outstanding:         "govuk-tag--green",
	oversight.Good:                "govuk-tag--turquoise",
	oversight.RequiresImprovement: "govuk-tag--orange",
	oversight.Inadequate:          "govuk-tag--red",
}

// inspectionDay is the day an inspection took place, or is planned for.
func inspectionDay(in oversight.Inspection) time.Time {
	if in.CompletedOn != nil {
		return *in.CompletedOn
	}
	return in.PlannedFor
}

const inspectionsPerPage = 25

type inspectionListPage struct {
	Inspections []inspectionView
	Total       int64
	Department  bool
	CanPlan     bool
	Contracts   []any
	Statuses    []any
	Pagination  map[string]any
}

// contractOptions are govukSelect's items for a filter by the contracts
// within reach; a selected contract out of reach filters nothing.
func contractOptions(contracts []partner.Contract, selected *string) []any {
	items := []any{map[string]any{"value": "", "text": "Any contract"}}
	found := false
	for _, ct := range contracts {
		found = found || ct.ID == *selected
		items = append(items, map[string]any{"value": ct.ID, "text": ct.ID + ": " + ct.Title, "selected": ct.ID == *selected})
	}
	if !found {
		*selected = ""
	}
	return items
}

// inspectionList lists the inspections within reach, latest first: a
// partner's own (without the unannounced ones still to come), a manager's
// contracts', every one for leads and auditors.
func (s *Server) inspectionList(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	contracts, err := s.partners.Contracts(ctx, p.Scope)
	if err != nil {
		s.fail(c, "list contracts", err)
		return
	}
	f := oversight.InspectionFilter{ContractID: c.Query("contract"), Status: c.Query("status"), PartnerView: partnerSide(c)}
	data := inspectionListPage{Department: !partnerSide(c), CanPlan: p.May(access.ManageOversight), Contracts: contractOptions(contracts, &f.ContractID)}
	if f.Status != oversight.Planned && f.Status != oversight.Completed {
		f.Status = ""
	}
	data.Statuses = []any{
		map[string]any{"value": "", "text": "Any status"},
		map[string]any{"value": oversight.Planned, "text": "Planned", "selected": f.Status == oversight.Planned},
		map[string]any{"value": oversight.Completed, "text": "Completed", "selected": f.Status == oversight.Completed},
	}
	page := listPage(c)
	list, total, err := s.oversight.ListInspections(ctx, p.Scope, f, page, inspectionsPerPage)
	if err != nil {
		s.fail(c, "list inspections", err)
		return
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	data.Total = total
	for _, in := range list {
		data.Inspections = append(data.Inspections, inspectionView{Inspection: in, PartnerName: names[in.PartnerID]})
	}
	pages := int((total + inspectionsPerPage - 1) / inspectionsPerPage)
	data.Pagination = pagination("/inspections", c.Request.URL.Query(), page, pages)
	s.render(c, http.StatusOK, "inspections", "Inspections", data)
}

// reachableInspection is the :id of the path if the caller can see it.
func (s *Server) reachableInspection(c *gin.Context) (oversight.Inspection, bool) {
	id := c.Param("id")
	in, err := s.oversight.GetInspection(c.Request.Context(), principal(c).Scope, id)
	switch {
	case errors.Is(err, oversight.ErrNotFound) || (err == nil && partnerSide(c) && in.HiddenFromPartner()):
		s.notReachable(c, access.ViewContracts, "inspection", id)
		return oversight.Inspection{}, false
	case err != nil:
		s.fail(c, "read inspection", err)
		return oversight.Inspection{}, false
	}
	return in, true
}

type inspectionPage struct {
	Inspection  inspectionView
	Actions     []actionView
	Saved       string
	CanComplete bool
	CanRaise    bool
}

// inspectionPage shows one inspection: what was planned and, once
// recorded, what it found, its rating, its evidence and the actions raised
// from it.
func (s *Server) inspectionPage(c *gin.Context) {
	in, ok := s.reachableInspection(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	// Findings may describe customers and staff: the view is on record first.
	if err := s.record(c, event(c, "inspection.view", "inspection/"+in.ID.Hex(), in.PartnerID, audit.Success)); err != nil {
		s.fail(c, "audit inspection view", err)
		return
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	manage := !partnerSide(c) && p.MayOn(access.ManageOversight, in.PartnerID)
	data := inspectionPage{Inspection: inspectionView{Inspection: in, PartnerName: names[in.PartnerID]}, Saved: c.Query("saved"),
		CanComplete: manage && in.Status == oversight.Planned, CanRaise: manage && in.Status == oversight.Completed}
	if in.Status == oversight.Completed {
		raised, _, err := s.oversight.ListActions(ctx, p.Scope, oversight.ActionFilter{Source: oversight.Source{Kind: oversight.FromInspection, ID: in.ID.Hex()}}, 1, 100)
		if err != nil {
			s.fail(c, "list actions from inspection", err)
			return
		}
		now := time.Now()
		for _, a := range raised {
			data.Actions = append(data.Actions, actionView{Action: a, Now: now})
		}
	}
	s.render(c, http.StatusOK, "inspection", "Inspection of "+in.Site, data)
}

// inspectionEvidence sends a file an inspection's findings rest on to
// anyone who can see the inspection.
func (s *Server) inspectionEvidence(c *gin.Context) {
	if in, ok := s.reachableInspection(c); ok {
		s.sendOversightEvidence(c, in.PartnerID, in.Evidence, "inspection")
	}
}

type inspectionPlanForm struct {
	Contract, Site, Announced, Focus string
	Planned                          dateField
}

type inspectionPlanPage struct {
	Form      inspectionPlanForm
	Contracts []any
	Errors    []fieldError
}

// manageableContracts are the contracts within reach the caller may hold
// to account.
func (s *Server) manageableContracts(c *gin.Context) ([]partner.Contract, error) {
	p := principal(c)
	all, err := s.partners.Contracts(c.Request.Context(), p.Scope)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(ct partner.Contract) bool { return !p.MayOn(access.ManageOversight, ct.PartnerID) }), nil
}

// contractChoices are govukSelect's items for choosing one of contracts.
func contractChoices(contracts []partner.Contract, selected string) []any {
	items := []any{map[string]any{"value": "", "text": "Select a contract"}}
	for _, ct := range contracts {
		items = append(items, map[string]any{"value": ct.ID, "text": ct.ID + ": " + ct.Title, "selected": ct.ID == selected})
	}
	return items
}

// inspectionPlan plans an inspection of a contract the caller manages.
func (s *Server) inspectionPlan(c *gin.Context) {
	contracts, err := s.manageableContracts(c)
	if err != nil {
		s.fail(c, "list contracts", err)
		return
	}
	const heading = "Plan an inspection"
	page := inspectionPlanPage{Form: inspectionPlanForm{Contract: c.Query("contract")}}
	if c.Request.Method == http.MethodGet {
		page.Contracts = contractChoices(contracts, page.Form.Contract)
		s.render(c, http.StatusOK, "inspection-plan", heading, page)
		return
	}
	f := inspectionPlanForm{Contract: c.PostForm("contract"), Site: trimmed(c, "site"), Announced: c.PostForm("announced"),
		Focus: strings.TrimSpace(c.PostForm("focus")), Planned: readDate(c, "planned")}
	page.Form, page.Contracts = f, contractChoices(contracts, f.Contract)
	if !slices.ContainsFunc(contracts, func(ct partner.Contract) bool { return ct.ID == f.Contract }) {
		page.Errors = append(page.Errors, fieldError{"contract", "Select the contract"})
	}
	page.Errors = append(page.Errors, textError("site", "the site to be inspected", "The site", f.Site, true)...)
	planned, msg := f.Planned.parse("the date of the inspection")
	if msg != "" {
		page.Errors = append(page.Errors, fieldError{"planned", msg})
	}
	if f.Announced != "yes" && f.Announced != "no" {
		page.Errors = append(page.Errors, fieldError{"announced", "Select whether the partner is told of the inspection beforehand"})
	}
	if len(page.Errors) == 0 {
		in, err := s.oversight.Plan(c.Request.Context(), principal(c).Scope, oversight.NewInspection{ContractID: f.Contract, Site: f.Site,
			PlannedFor: planned, Announced: f.Announced == "yes", Focus: f.Focus}, oversightActor(c), event(c, "", "", "", audit.Success))
		var inv *oversight.ErrInvalid
		switch {
		case errors.As(err, &inv):
			page.Errors = append(page.Errors, fieldError{planErrorField(inv.Message), inv.Message})
		case errors.Is(err, oversight.ErrNotFound):
			page.Errors = append(page.Errors, fieldError{"contract", "Select the contract"})
		case s.stored(c, err) != nil:
			s.fail(c, "plan inspection", err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/inspections/"+in.ID.Hex()+"?saved=planned")
			return
		}
	}
	s.render(c, http.StatusBadRequest, "inspection-plan", "Error: "+heading, page)
}

// planErrorField is the field a refusal from the store is about.
func planErrorField(msg string) string {
	switch {
	case strings.Contains(msg, "contract"):
		return "contract"
	case strings.Contains(msg, "site"):
		return "site"
	case strings.Contains(msg, "date"):
		return "planned"
	}
	return "focus"
}

type inspectionCompleteForm struct {
	Findings, Rating string
	CompletedOn      dateField
}

type inspectionCompletePage struct {
	Inspection inspectionView
	Form       inspectionCompleteForm
	Ratings    []any
	Errors     []fieldError
	Version    int
	MaxMB      int64
	MaxFiles   int
}

func ratingRadios(selected string) []any {
	items := make([]any, 0, len(oversight.Ratings))
	for _, r := range oversight.Ratings {
		items = append(items, map[string]any{"value": r, "text": oversight.RatingName(r), "checked": r == selected})
	}
	return items
}

// inspectionComplete records what a planned inspection found: the day it
// took place, the findings, the rating and the evidence seen.
func (s *Server) inspectionComplete(c *gin.Context) {
	in, ok := s.reachableInspection(c)
	if !ok {
		return
	}
	if partnerSide(c) || !principal(c).MayOn(access.ManageOversight, in.PartnerID) {
		s.notReachable(c, access.ManageOversight, "inspection", in.ID.Hex())
		return
	}
	if in.Status != oversight.Planned {
		c.Redirect(http.StatusSeeOther, "/inspections/"+in.ID.Hex())
		return
	}
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	const heading = "Record the inspection"
	page := inspectionCompletePage{Inspection: inspectionView{Inspection: in, PartnerName: names[in.PartnerID]}, Version: in.Version,
		MaxMB: s.evidenceMaxBytes() >> 20, MaxFiles: maxUploadFiles, Ratings: ratingRadios("")}
	if c.Request.Method == http.MethodGet {
		if !in.PlannedFor.After(calendar.Today(time.Now())) {
			page.Form.CompletedOn = dateFieldOf(&in.PlannedFor)
		}
		s.render(c, http.StatusOK, "inspection-complete", heading, page)
		return
	}
	f := inspectionCompleteForm{Findings: c.PostForm("findings"), Rating: c.PostForm("rating"), CompletedOn: readDate(c, "completed")}
	page.Form, page.Ratings = f, ratingRadios(f.Rating)
	version, vok := oversightVersion(c)
	if !vok {
		page.Errors = append(page.Errors, fieldError{"findings", "Reload this page, check the inspection, then try again"})
	}
	on, msg := f.CompletedOn.parse("the date the inspection took place")
	if msg != "" {
		page.Errors = append(page.Errors, fieldError{"completed", msg})
	}
	if strings.TrimSpace(f.Findings) == "" {
		page.Errors = append(page.Errors, fieldError{"findings", "Enter the findings"})
	}
	if !slices.Contains(oversight.Ratings, f.Rating) {
		page.Errors = append(page.Errors, fieldError{"rating", "Select a rating"})
	}
	files, fileErr := s.readEvidenceFiles(c, "evidence", len(page.Errors) > 0)
	if fileErr != nil {
		page.Errors = append(page.Errors, *fileErr)
	}
	status := http.StatusBadRequest
	if len(page.Errors) == 0 {
		// Once files are kept, the steps run to the end even if the browser goes away.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 30*time.Second)
		defer cancel()
		err := s.withEvidenceFiles(ctx, c, in.PartnerID, files, func(refs []oversight.EvidenceRef) error {
			_, err := s.oversight.Complete(ctx, principal(c).Scope, in.ID.Hex(), version,
				oversight.Completion{CompletedOn: on, Findings: f.Findings, Rating: f.Rating, Evidence: refs}, oversightActor(c), event(c, "", "", in.PartnerID, audit.Success))
			return err
		})
		var inv *oversight.ErrInvalid
		switch {
		case errors.As(err, &inv):
			page.Errors = append(page.Errors, fieldError{completeErrorField(inv.Message), inv.Message})
			if len(files) > 0 && completeErrorField(inv.Message) != "evidence" {
				page.Errors = append(page.Errors, fieldError{"evidence", "Select the files again: files are not kept while other answers need correcting"})
			}
		case errors.Is(err, oversight.ErrConflict):
			status = http.StatusConflict
			page.Errors = append(page.Errors, fieldError{"findings", "Someone else recorded this inspection while you were working on it. Open the inspection to read what they recorded"})
		case errors.Is(err, oversight.ErrNotFound):
			s.renderError(c, http.StatusNotFound)
			return
		case s.stored(c, err) != nil:
			s.fail(c, "record inspection", err)
			return
		default:
			c.Redirect(http.StatusSeeOther, "/inspections/"+in.ID.Hex()+"?saved=completed")
			return
		}
	}
	s.render(c, status, "inspection-complete", "Error: "+heading, page)
}

// completeErrorField is the field a refusal from the store is about.
func completeErrorField(msg string) string {
	switch {
	case strings.Contains(msg, "date"):
		return "completed"
	case strings.Contains(msg, "findings"):
		return "findings"
	case strings.Contains(msg, "rating"):
		return "rating"
	}
	return "evidence"
}
