package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/importfile"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/department/safeguarding-portal/internal/requirements"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"github.com/gin-gonic/gin"
)

// completionsUploadRoute takes completions files, so its body limit is larger.
const completionsUploadRoute = "/partners/:partner/training/import"

type completionsUploadPage struct {
	Partner partner.Partner
	Errors  []fieldError
	Columns []string
	Modules []requirements.Module
}

// completionsUpload shows the upload form for training completions and
// checks an uploaded file: every row validated against the roster and the
// people's records, nothing applied yet.
func (s *Server) completionsUpload(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.EditStaff)
	if !ok {
		return
	}
	const title = "Import training completions from a CSV file"
	page := completionsUploadPage{Partner: org, Columns: rostercsv.CompletionColumns(), Modules: s.requirements.Modules}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "completions-upload", title, page)
		return
	}
	raw, fileName, msg := readCSVUpload(c)
	var parsed *rostercsv.Completions
	if msg == "" {
		var err error
		parsed, err = rostercsv.ParseCompletions(bytes.NewReader(raw),
			rostercsv.Options{MaxBytes: maxImportBytes, Today: time.Now().In(calendar.London)}, records.ModuleNames(s.requirements))
		var fileErr *rostercsv.FileError
		switch {
		case errors.As(err, &fileErr):
			msg = fileErr.Message
		case err != nil:
			s.fail(c, "parse completions file", err)
			return
		}
	}
	if msg != "" {
		page.Errors = []fieldError{{"file", msg}}
		s.render(c, http.StatusBadRequest, "completions-upload", "Error: "+title, page)
		return
	}
	im, err := s.upkeep.CheckCompletions(c.Request.Context(), principal(c).Scope, org.ID, fileName, principal(c).Subject, raw, parsed)
	if err != nil {
		s.fail(c, "check completions import", err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/partners/%s/training/imports/%s", org.ID, im.ID.Hex()))
}

type completionsPage struct {
	Partner partner.Partner
	Import  records.CompletionsImport
	Errors  []fieldError
	Stalled bool
}

// completionsCheck shows what a completions import will do, or is doing, or did.
func (s *Server) completionsCheck(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.EditStaff)
	if !ok {
		return
	}
	scope := principal(c).Scope
	im, err := s.upkeep.GetCompletions(c.Request.Context(), scope, org.ID, c.Param("importID"))
	if errors.Is(err, records.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(c, "load completions import", err)
		return
	}
	page := completionsPage{Partner: org, Import: im, Stalled: im.Stalled(time.Now())}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "completions-check", "Check your training completions", page)
		return
	}
	onlyValid := c.PostForm("only_valid") == "yes"
	switch {
	case im.New == 0:
		page.Errors = []fieldError{{"file", "The file has no completions to add. Fix the file and upload it again"}}
	case len(im.Errors) > 0 && !onlyValid:
		page.Errors = []fieldError{{"only_valid", "Select ‘import only the rows without problems’, or fix the file and upload it again"}}
	}
	if len(page.Errors) > 0 {
		s.render(c, http.StatusBadRequest, "completions-check", "Error: Check your training completions", page)
		return
	}
	if err := s.upkeep.StartCompletions(c.Request.Context(), scope, im, onlyValid); errors.Is(err, importfile.ErrNotReady) {
		c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
		return
	} else if err != nil {
		s.fail(c, "start completions import", err)
		return
	}
	// The whole import is on record before any of it is written.
	e := event(c, "training.import", "training-import/"+im.ID.Hex(), org.ID, audit.Success)
	e.Detail = fmt.Sprintf("file sha256 %s: %d new completions for %d people, %d already recorded, %d rows with problems left out",
		im.SHA256, im.New, im.People, im.Recorded, im.Total-im.Valid)
	if err := s.record(c, e); err != nil {
		s.fail(c, "audit completions import", err)
		return
	}
	perRecord := event(c, "training.create", "", org.ID, audit.Success)
	recordedBy := displayName(c)
	s.applyInBackground("completions", im.ID.Hex(), func(ctx context.Context) error {
		return s.upkeep.ApplyCompletions(ctx, scope, im, recordedBy, perRecord)
	})
	c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
}

// completionsTemplate is the CSV template for training completions.
func (s *Server) completionsTemplate(c *gin.Context) {
	example := s.requirements.Modules[0]
	c.Header("Content-Disposition", `attachment; filename="training-completions-template.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", rostercsv.CompletionsTemplate(example.ID, example.Name))
}
