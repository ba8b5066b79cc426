package server

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/paged"
	"github.com/department/safeguarding-portal/internal/reminders"
	"github.com/gin-gonic/gin"
)

// Inspections and actions are how the department holds partners to
// account (see internal/oversight). Contract managers (on their contracts)
// and safeguarding leads (on all) plan and record inspections, raise
// actions and accept or return the partner's responses: ManageOversight.
// A partner's compliance officers read their own organisation's
// inspections and actions and respond to the actions: RespondToActions.
// Everyone who may view contracts reads those within reach. Anything out of
// reach is not found, whatever ID is guessed, and so is an unannounced
// inspection the partner is not to know of yet.

// Routes that take several evidence files, so their body limit is larger.
const (
	inspectionCompleteRoute = "/inspections/:id/complete"
	actionRespondRoute      = "/actions/:id/respond"
)

// maxUploadFiles is how many files one form takes at once.
const maxUploadFiles = 5

// oversightUploadBytes is the body limit of the routes that take several
// evidence files: the files and the multipart framing around them.
func (s *Server) oversightUploadBytes() int64 {
	return maxUploadFiles*s.evidenceMaxBytes() + 64<<10
}

// oversightRoutes registers the inspection and action pages.
func (s *Server) oversightRoutes(private *gin.RouterGroup) {
	private.GET("/inspections", s.allow(access.ViewContracts), s.inspectionList)
	private.GET("/inspections/new", s.allow(access.ManageOversight), s.inspectionPlan)
	private.POST("/inspections/new", s.allow(access.ManageOversight), s.inspectionPlan)
	private.GET("/inspections/:id", s.allow(access.ViewContracts), s.inspectionPage)
	private.GET(inspectionCompleteRoute, s.allow(access.ManageOversight), s.inspectionComplete)
	private.POST(inspectionCompleteRoute, s.allow(access.ManageOversight), s.inspectionComplete)
	private.GET("/inspections/:id/evidence/:file", s.allow(access.ViewContracts), s.inspectionEvidence)
	private.GET("/actions", s.allow(access.ViewContracts), s.actionList)
	private.GET("/actions.csv", s.allow(access.ViewContracts), s.actionsCSV)
	private.GET("/actions/new", s.allow(access.ManageOversight), s.actionRaise)
	private.POST("/actions/new", s.allow(access.ManageOversight), s.actionRaise)
	private.GET("/actions/:id", s.allow(access.ViewContracts), s.actionPage)
	private.POST(actionRespondRoute, s.allow(access.RespondToActions), s.actionRespond)
	private.POST("/actions/:id/return", s.allow(access.ManageOversight), s.actionDecide)
	private.POST("/actions/:id/accept", s.allow(access.ManageOversight), s.actionDecide)
	private.GET("/actions/:id/evidence/:file", s.allow(access.ViewContracts), s.actionEvidence)
}

// partnerSide reports whether the caller is one of a partner's people,
// who see their own organisation's side of oversight.
func partnerSide(c *gin.Context) bool { return principal(c).Org != auth.DepartmentOrg }

// oversightActor is the signed-in person as an inspection or action records them.
func oversightActor(c *gin.Context) oversight.Actor {
	return oversight.Actor{Kind: "person", ID: principal(c).Subject, Name: displayName(c)}
}

// oversightVersion is the version of the record the person saw, from the form.
func oversightVersion(c *gin.Context) (int, bool) {
	v, ok := formVersion(c)
	return int(v), ok && v >= 1 && v < 1<<31
}

// readEvidenceFiles reads the files chosen in field (none is fine), each
// checked by the evidence rules. Files are not kept while other answers
// need correcting, as browsers cannot send them back.
func (s *Server) readEvidenceFiles(c *gin.Context, field string, othersWrong bool) ([]*evidence.Checked, *fieldError) {
	var headers []*multipart.FileHeader
	if form := c.Request.MultipartForm; form != nil {
		for _, fh := range form.File[field] {
			// A form sent without choosing a file carries one empty part.
			if fh.Filename == "" && fh.Size == 0 {
				continue
			}
			headers = append(headers, fh)
		}
	}
	if len(headers) > maxUploadFiles {
		return nil, &fieldError{field, fmt.Sprintf("Select %d files or fewer", maxUploadFiles)}
	}
	var out []*evidence.Checked
	for _, fh := range headers {
		checked, ferr := s.acceptUpload(field, fh)
		if ferr != nil {
			if len(headers) > 1 {
				ferr.Message = fh.Filename + ": " + ferr.Message
			}
			return nil, ferr
		}
		out = append(out, checked)
	}
	if othersWrong && len(out) > 0 {
		return nil, &fieldError{field, "Select the files again: files are not kept while other answers need correcting"}
	}
	return out, nil
}

// withEvidenceFiles keeps files in the partner's evidence and makes change
// with them; if anything fails, every file kept goes again (see
// withEvidence, which each file passes through in turn).
func (s *Server) withEvidenceFiles(ctx context.Context, c *gin.Context, partnerID string, files []*evidence.Checked, change func([]oversight.EvidenceRef) error) error {
	refs := []oversight.EvidenceRef{}
	var keep func(i int) error
	keep = func(i int) error {
		if i == len(files) {
			return change(refs)
		}
		return s.withEvidence(ctx, c, partnerID, files[i], func(f *evidence.File) error {
			refs = append(refs, oversight.EvidenceRef{File: f.ID, Name: f.Name, SHA256: f.SHA256, Size: f.Size})
			return keep(i + 1)
		})
	}
	return keep(0)
}

// sendOversightEvidence sends a file attached to an inspection or action
// the caller can see, if refs names it.
func (s *Server) sendOversightEvidence(c *gin.Context, partnerID string, refs []oversight.EvidenceRef, kind string) {
	fileID := c.Param("file")
	for _, r := range refs {
		if r.File.Hex() == fileID {
			s.sendEvidence(c, partnerID, fileID)
			return
		}
	}
	s.notReachable(c, access.ViewContracts, kind+" evidence", fileID)
}

// oversightFailed answers a store error that is not the person's to fix:
// not found, or unexpected.
func (s *Server) oversightFailed(c *gin.Context, what string, err error) {
	if errors.Is(err, oversight.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	s.fail(c, what, err)
}

// newActionReminders sends partners their reminders through the
// escalations' e-mail sender, from an outbox of their own.
func (s *Server) newActionReminders() *reminders.Reminders {
	schedule := reminders.Schedule{DaysBefore: s.cfg.Reminders.DaysBefore, OverdueEvery: s.cfg.Reminders.OverdueEveryDays}
	// The configuration's defaults apply when the server is built without Load.
	if schedule.DaysBefore < 1 {
		schedule.DaysBefore = 7
	}
	if schedule.OverdueEvery < 1 {
		schedule.OverdueEvery = 7
	}
	return reminders.New(s.store.DB, s.oversight, s.partners, s.escalationWorker.Email, schedule, s.cfg.BaseURL, s.log)
}

// actionRemindersLoop checks hourly, and whenever an action is raised,
// which reminders are due, and sends them. Every replica runs it: each
// reminder is stored and sent once however many check.
func (s *Server) actionRemindersLoop() {
	defer s.background.Done()
	s.reminders.Run(s.backgroundCtx)
}

// listPage is the page of a list the address asks for, from 1, and never
// so far that counting to it overflows.
func listPage(c *gin.Context) int {
	page, _ := strconv.Atoi(c.Query("page"))
	return min(max(page, 1), paged.MaxPage)
}

// dayCount is a number of days as people read it.
func dayCount(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// trimmed is a form field without surrounding space.
func trimmed(c *gin.Context, field string) string { return strings.TrimSpace(c.PostForm(field)) }
