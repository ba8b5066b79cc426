package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Routes that take evidence files, so their body limit is larger.
const (
	trainingUploadRoute    = "/partners/:partner/staff/:staffID/training/new"
	vettingUploadRoute     = "/partners/:partner/staff/:staffID/vetting/new"
	ownTrainingUploadRoute = "/my-record/training/new"
)

// recordTarget is whose records a form adds to, and where to go back to.
type recordTarget struct {
	Partner partner.Partner
	Member  staff.Member
	Back    string
	Own     bool // the signed-in person's own record
}

// memberTarget is the roster member named in the path, for officers.
func (s *Server) memberTarget(c *gin.Context) (recordTarget, bool) {
	org, m, ok := s.reachableMember(c, access.EditStaff)
	if !ok {
		return recordTarget{}, false
	}
	return recordTarget{Partner: org, Member: m, Back: fmt.Sprintf("/partners/%s/staff/%s", org.ID, m.ID.Hex())}, true
}

// ownTarget is the signed-in staff member's own roster entry, found by the
// email address their identity provider vouches for.
func (s *Server) ownTarget(c *gin.Context) (recordTarget, bool) {
	p := principal(c)
	ctx := c.Request.Context()
	m, err := s.staff.ByEmail(ctx, p.Scope, p.Org, session(c).Identity.Email)
	if err != nil {
		s.fail(c, "load own staff record", err)
		return recordTarget{}, false
	}
	if m == nil || !m.ActiveOn(time.Now()) {
		s.renderError(c, http.StatusNotFound)
		return recordTarget{}, false
	}
	org, err := s.partners.Get(ctx, p.Scope, p.Org)
	if err != nil {
		s.fail(c, "load own partner", err)
		return recordTarget{}, false
	}
	return recordTarget{Partner: org, Member: *m, Back: "/my-record", Own: true}, true
}

type trainingForm struct {
	Module, Provider string
	Completed        dateField
}

type trainingFormPage struct {
	Target  recordTarget
	Form    trainingForm
	Modules []any
	Errors  []fieldError
	Action  string
	MaxMB   int64
}

// checkTraining reads a completion as typed, or says what to fix.
func (s *Server) checkTraining(f trainingForm, today time.Time) (records.Training, []fieldError) {
	var errs []fieldError
	t := records.Training{Module: f.Module, Provider: f.Provider}
	if _, ok := s.requirements.Module(f.Module); !ok {
		errs = append(errs, fieldError{"module", "Select the course completed"})
	}
	completed, msg := f.Completed.parse("the date it was completed")
	switch {
	case msg != "":
		errs = append(errs, fieldError{"completed", msg})
	case completed.After(today):
		errs = append(errs, fieldError{"completed", "The date it was completed must be today or in the past"})
	case completed.Before(calendar.Date(2000, 1, 1)):
		errs = append(errs, fieldError{"completed", "The date it was completed must be after 1 January 2000"})
	}
	t.Completed = completed
	errs = append(errs, textError("provider", "who provided the course", "Course provider", f.Provider, true)...)
	return t, errs
}

func (s *Server) moduleRadios(selected string) []any {
	items := make([]any, 0, len(s.requirements.Modules))
	for _, m := range s.requirements.Modules {
		items = append(items, map[string]any{"value": m.ID, "text": m.Name, "checked": m.ID == selected})
	}
	return items
}

// newTraining records a course completion for a member of staff (officers).
func (s *Server) newTraining(c *gin.Context) {
	if target, ok := s.memberTarget(c); ok {
		s.trainingForm(c, target)
	}
}

// newOwnTraining records a course completion on the signed-in person's own record.
func (s *Server) newOwnTraining(c *gin.Context) {
	if target, ok := s.ownTarget(c); ok {
		s.trainingForm(c, target)
	}
}

func (s *Server) trainingForm(c *gin.Context, target recordTarget) {
	page := trainingFormPage{Target: target, Action: c.Request.URL.Path, Modules: s.moduleRadios(""), MaxMB: s.evidenceMaxBytes() >> 20}
	heading := "Record a course completed"
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "training-form", heading, page)
		return
	}
	page.Form = trainingForm{Module: c.PostForm("module"), Provider: strings.TrimSpace(c.PostForm("provider")), Completed: readDate(c, "completed")}
	page.Modules = s.moduleRadios(page.Form.Module)
	t, errs := s.checkTraining(page.Form, calendar.Today(time.Now()))
	file, fileErr := s.readEvidence(c, "certificate", len(errs) > 0)
	if fileErr != nil {
		errs = append(errs, *fileErr)
	}
	if len(errs) > 0 {
		page.Errors = errs
		s.render(c, http.StatusBadRequest, "training-form", "Error: "+heading, page)
		return
	}
	t.RecordedBy = displayName(c)
	ok := s.addRecord(c, target, file, func(ctx context.Context, ev *evidence.File) (bson.ObjectID, string, error) {
		if ev != nil {
			t.Evidence, t.EvidenceName = &ev.ID, ev.Name
		}
		added, err := s.records.AddTraining(ctx, access.PartnerScope(target.Partner.ID), target.Partner.ID, target.Member.ID, t,
			event(c, "training.create", "", target.Partner.ID, audit.Success))
		return added.ID, t.Module, err
	}, "training")
	if ok {
		c.Redirect(http.StatusSeeOther, target.Back+"?saved=training")
	}
}

// readEvidence reads an optional file field. A file is not kept while other
// answers need correcting (browsers cannot send it back), so the person is
// asked to select it again.
func (s *Server) readEvidence(c *gin.Context, field string, othersWrong bool) (*evidence.Checked, *fieldError) {
	fh, err := c.FormFile(field)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &fieldError{field, fmt.Sprintf("The selected file must be smaller than %d MB", s.evidenceMaxBytes()>>20)}
		}
		return nil, nil // no file chosen: evidence is optional
	}
	checked, ferr := s.acceptUpload(field, fh)
	if ferr != nil {
		return nil, ferr
	}
	if othersWrong {
		return nil, &fieldError{field, "Select the file again: files are not kept while other answers need correcting"}
	}
	return checked, nil
}

// acceptUpload checks one uploaded file by the evidence rules, or says
// what is wrong with it as an error on field.
func (s *Server) acceptUpload(field string, fh *multipart.FileHeader) (*evidence.Checked, *fieldError) {
	if fh.Size > s.evidenceMaxBytes() {
		return nil, &fieldError{field, fmt.Sprintf("The selected file must be smaller than %d MB", s.evidenceMaxBytes()>>20)}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, &fieldError{field, "The selected file could not be read. Try again"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.evidenceMaxBytes()+1))
	if err != nil {
		return nil, &fieldError{field, "The selected file could not be read. Try again"}
	}
	checked, err := evidence.Accept(fh.Filename, data, s.evidenceMaxBytes())
	if err != nil {
		var refusal *evidence.Refusal
		if errors.As(err, &refusal) {
			return nil, &fieldError{field, refusal.Message}
		}
		return nil, &fieldError{field, "The selected file could not be checked. Try again"}
	}
	return &checked, nil
}

// withEvidence keeps file, if any, in the partner's evidence and makes
// change with it. If the change fails the file goes again, so that no file is
// left without what it was for; a change stored with its audit event
// pending did not fail.
func (s *Server) withEvidence(ctx context.Context, c *gin.Context, partnerID string, file *evidence.Checked, change func(*evidence.File) error) error {
	if file == nil {
		return change(nil)
	}
	stored, err := s.evidence.Keep(ctx, partnerID, principal(c).Subject, *file)
	if err != nil {
		return fmt.Errorf("keep evidence: %w", err)
	}
	err = change(&stored)
	if err != nil && !errors.Is(err, audit.ErrPending) {
		if derr := s.evidence.Remove(ctx, partnerID, stored.ID.Hex()); derr != nil {
			s.log.Error("evidence left without what it was for", "err", derr, "request_id", c.GetString(ctxRequestID))
		}
	}
	return err
}

// addRecord stores the evidence file (if any), then the record through add,
// then queues it for verification and brings the person's assessment up to
// date. A record that fails takes its file with it: nothing is left half-made.
func (s *Server) addRecord(c *gin.Context, target recordTarget, file *evidence.Checked, add func(context.Context, *evidence.File) (bson.ObjectID, string, error), kind string) bool {
	// Once started, the steps run to the end even if the person's browser
	// goes away: stopping between them would leave a file without its
	// record, or a record no verifier is ever shown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 30*time.Second)
	defer cancel()
	partnerID := target.Partner.ID
	var recordID bson.ObjectID
	var what string
	err := s.withEvidence(ctx, c, partnerID, file, func(stored *evidence.File) error {
		var err error
		recordID, what, err = add(ctx, stored)
		return err
	})
	if err = s.stored(c, err); err != nil {
		s.fail(c, "add "+kind+" record", err)
		return false
	}
	w := records.Waiting{RecordID: recordID, PartnerID: partnerID, StaffID: target.Member.ID, StaffName: target.Member.Name,
		StaffNumber: target.Member.StaffNumber, Kind: kind, What: what, HasEvidence: file != nil, Submitted: time.Now().UTC()}
	if err := s.records.Enqueue(ctx, w); err != nil {
		s.log.Error("record not queued for verification", "err", err, "request_id", c.GetString(ctxRequestID))
	}
	if err := s.upkeep.Reassess(ctx, partnerID, target.Member.ID); err != nil {
		// The record is kept; the next refresh evaluates the person again.
		s.log.Error("assessment not updated", "err", err, "request_id", c.GetString(ctxRequestID))
	}
	return true
}

type vettingForm struct {
	Type, Reference, UpdateService, Outcome, RiskApprovedBy string
	Issued, StatusChecked, RecheckBy                        dateField
}

type vettingFormPage struct {
	Target recordTarget
	Form   vettingForm
	Types  []any
	Errors []fieldError
	Action string
	MaxMB  int64
}

var (
	dbsNumberPattern = regexp.MustCompile(`^[0-9]{12}$`)
	referencePattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,30}$`)
)

// checkVetting reads a vetting check as typed, or says what to fix. It asks
// only for the outcome: details of convictions are never recorded here.
func (s *Server) checkVetting(f vettingForm, today time.Time) (records.Vetting, []fieldError) {
	var errs []fieldError
	v := records.Vetting{Type: f.Type, Outcome: f.Outcome, RiskApprovedBy: f.RiskApprovedBy}
	vt, known := s.requirements.VettingType(f.Type)
	dbs := known && strings.HasPrefix(vt.ID, "dbs_")
	if !known {
		errs = append(errs, fieldError{"type", "Select the type of check"})
	}
	ref := strings.ReplaceAll(f.Reference, " ", "")
	switch {
	case dbs && ref == "":
		errs = append(errs, fieldError{"reference", "Enter the DBS certificate number"})
	case dbs && !dbsNumberPattern.MatchString(ref):
		errs = append(errs, fieldError{"reference", "DBS certificate number must be 12 digits, like 001234567890"})
	case !dbs && ref != "" && !referencePattern.MatchString(ref):
		errs = append(errs, fieldError{"reference", "Reference must be up to 30 letters, numbers or hyphens"})
	}
	v.Reference = ref
	issued, msg := f.Issued.parse("the date of issue")
	switch {
	case msg != "":
		errs = append(errs, fieldError{"issued", msg})
	case issued.After(today):
		errs = append(errs, fieldError{"issued", "The date of issue must be today or in the past"})
	case issued.Before(calendar.Date(1990, 1, 1)):
		errs = append(errs, fieldError{"issued", "The date of issue must be after 1 January 1990"})
	}
	v.Issued = issued
	switch f.UpdateService {
	case "yes":
		if !dbs || vt.ID == "dbs_basic" {
			errs = append(errs, fieldError{"update_service", "Only standard and enhanced DBS checks can be on the Update Service"})
		}
		v.UpdateService = true
	case "no", "":
	default:
		errs = append(errs, fieldError{"update_service", "Select yes if they subscribe to the DBS Update Service"})
	}
	if !f.StatusChecked.empty() {
		checked, msg := f.StatusChecked.parse("the date of the last status check")
		switch {
		case msg != "":
			errs = append(errs, fieldError{"status_checked", msg})
		case !v.UpdateService:
			errs = append(errs, fieldError{"status_checked", "Leave the status check date blank unless they subscribe to the Update Service"})
		case checked.After(today) || (!issued.IsZero() && checked.Before(issued)):
			errs = append(errs, fieldError{"status_checked", "The last status check must be between the date of issue and today"})
		default:
			v.StatusChecked = &checked
		}
	}
	switch f.Outcome {
	case records.OutcomeClear:
		v.RiskApprovedBy = ""
	case records.OutcomeRiskAssessed:
		errs = append(errs, textError("risk_approved_by", "who approved them to work after the risk assessment", "Who approved them", f.RiskApprovedBy, true)...)
	default:
		errs = append(errs, fieldError{"outcome", "Select the outcome of the check"})
	}
	if !f.RecheckBy.empty() {
		by, msg := f.RecheckBy.parse("the re-check date")
		switch {
		case msg != "":
			errs = append(errs, fieldError{"recheck_by", msg})
		case !issued.IsZero() && !by.After(issued):
			errs = append(errs, fieldError{"recheck_by", "The re-check date must be after the date of issue"})
		default:
			v.RecheckBy = &by
		}
	}
	return v, errs
}

func (s *Server) vettingRadios(selected string) []any {
	items := make([]any, 0, len(s.requirements.Vetting))
	for _, v := range s.requirements.Vetting {
		items = append(items, map[string]any{"value": v.ID, "text": v.Name, "checked": v.ID == selected})
	}
	return items
}

// newVetting records a vetting check for a member of staff (officers only:
// vetting is the employer's to record).
func (s *Server) newVetting(c *gin.Context) {
	target, ok := s.memberTarget(c)
	if !ok {
		return
	}
	page := vettingFormPage{Target: target, Action: c.Request.URL.Path, Types: s.vettingRadios(""), MaxMB: s.evidenceMaxBytes() >> 20}
	heading := "Record a vetting check"
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "vetting-form", heading, page)
		return
	}
	page.Form = vettingForm{
		Type: c.PostForm("type"), Reference: strings.TrimSpace(c.PostForm("reference")), UpdateService: c.PostForm("update_service"),
		Outcome: c.PostForm("outcome"), RiskApprovedBy: strings.TrimSpace(c.PostForm("risk_approved_by")),
		Issued: readDate(c, "issued"), StatusChecked: readDate(c, "status_checked"), RecheckBy: readDate(c, "recheck_by"),
	}
	page.Types = s.vettingRadios(page.Form.Type)
	v, errs := s.checkVetting(page.Form, calendar.Today(time.Now()))
	file, fileErr := s.readEvidence(c, "evidence", len(errs) > 0)
	if fileErr != nil {
		errs = append(errs, *fileErr)
	}
	if len(errs) > 0 {
		page.Errors = errs
		s.render(c, http.StatusBadRequest, "vetting-form", "Error: "+heading, page)
		return
	}
	v.RecordedBy = displayName(c)
	ok = s.addRecord(c, target, file, func(ctx context.Context, ev *evidence.File) (bson.ObjectID, string, error) {
		if ev != nil {
			v.Evidence, v.EvidenceName = &ev.ID, ev.Name
		}
		added, err := s.records.AddVetting(ctx, access.PartnerScope(target.Partner.ID), target.Partner.ID, target.Member.ID, v,
			event(c, "vetting.create", "", target.Partner.ID, audit.Success))
		return added.ID, v.Type, err
	}, "vetting")
	if ok {
		c.Redirect(http.StatusSeeOther, target.Back+"?saved=vetting")
	}
}
