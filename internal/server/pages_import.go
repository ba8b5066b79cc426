package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/importfile"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/rostercsv"
	"github.com/department/safeguarding-portal/internal/staff"
	"github.com/gin-gonic/gin"
)

// maxImportBytes is the largest roster file accepted: about 100,000 rows.
const maxImportBytes = 20 << 20

// readCSVUpload reads the CSV file uploaded in the "file" field, or says
// what the person must do about it.
func readCSVUpload(c *gin.Context) (raw []byte, fileName, problem string) {
	fh, err := c.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, "", "The file must be smaller than 20 MB"
	case err != nil:
		return nil, "", "Select a CSV file"
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", "The selected file could not be read. Try again"
	}
	defer f.Close()
	if raw, err = io.ReadAll(io.LimitReader(f, maxImportBytes+1)); err != nil {
		return nil, "", "The selected file could not be read. Try again"
	}
	return raw, fh.Filename, ""
}

type importUploadPage struct {
	Partner partner.Partner
	Errors  []fieldError
	Columns []string
}

// importUpload shows the upload form and checks an uploaded file: every row
// validated and compared with the roster, nothing applied yet.
func (s *Server) importUpload(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.EditStaff)
	if !ok {
		return
	}
	page := importUploadPage{Partner: org, Columns: rostercsv.Columns()}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "import-upload", "Import staff from a CSV file", page)
		return
	}
	refuse := func(msg string) {
		page.Errors = []fieldError{{"file", msg}}
		s.render(c, http.StatusBadRequest, "import-upload", "Error: Import staff from a CSV file", page)
	}
	raw, fileName, msg := readCSVUpload(c)
	if msg != "" {
		refuse(msg)
		return
	}
	parsed, err := rostercsv.Parse(bytes.NewReader(raw), rostercsv.Options{MaxBytes: maxImportBytes, Today: time.Now().In(calendar.London)})
	var fileErr *rostercsv.FileError
	if errors.As(err, &fileErr) {
		refuse(fileErr.Message)
		return
	}
	if err != nil {
		s.fail(c, "parse roster file", err)
		return
	}
	im, err := s.staff.CheckImport(c.Request.Context(), principal(c).Scope, org.ID, fileName, principal(c).Subject, raw, parsed)
	if err != nil {
		s.fail(c, "check roster import", err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/partners/%s/staff/imports/%s", org.ID, im.ID.Hex()))
}

type importPage struct {
	Partner partner.Partner
	Import  staff.Import
	Errors  []fieldError
	Stalled bool
	Percent int
}

// importCheck shows what an import will do, or is doing, or did.
func (s *Server) importCheck(c *gin.Context) {
	org, ok := s.reachablePartner(c, access.EditStaff)
	if !ok {
		return
	}
	im, err := s.staff.GetImport(c.Request.Context(), principal(c).Scope, org.ID, c.Param("importID"))
	if errors.Is(err, staff.ErrNotFound) {
		s.renderError(c, http.StatusNotFound)
		return
	}
	if err != nil {
		s.fail(c, "load import", err)
		return
	}
	page := importPage{Partner: org, Import: im, Stalled: im.Stalled(time.Now()), Percent: im.Percent()}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "import-check", "Check your import", page)
		return
	}
	onlyValid := c.PostForm("only_valid") == "yes"
	switch {
	case im.Valid == 0:
		page.Errors = []fieldError{{"file", "No row in the file can be imported. Fix the file and upload it again"}}
	case len(im.Errors) > 0 && !onlyValid:
		page.Errors = []fieldError{{"only_valid", "Select ‘import only the rows without problems’, or fix the file and upload it again"}}
	}
	if len(page.Errors) > 0 {
		s.render(c, http.StatusBadRequest, "import-check", "Error: Check your import", page)
		return
	}
	scope := principal(c).Scope
	if err := s.staff.StartImport(c.Request.Context(), scope, im, onlyValid); errors.Is(err, importfile.ErrNotReady) {
		c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
		return
	} else if err != nil {
		s.fail(c, "start import", err)
		return
	}
	// The whole import is on record before any of it is written.
	e := event(c, "staff.import", "import/"+im.ID.Hex(), org.ID, audit.Success)
	e.Detail = fmt.Sprintf("file sha256 %s: %d new, %d changed, %d unchanged, %d rows with problems left out", im.SHA256, im.New, im.Changed, im.Unchanged, im.Total-im.Valid)
	if err := s.record(c, e); err != nil {
		s.fail(c, "audit import", err)
		return
	}
	perPerson := event(c, "staff.update", "", org.ID, audit.Success)
	s.applyInBackground("roster", im.ID.Hex(), func(ctx context.Context) error {
		err := s.staff.ApplyImport(ctx, scope, im, perPerson)
		s.refreshPartner(org.ID)
		return err
	})
	c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
}

// applyInBackground applies a started import after the response, tracked
// so shutdown waits for it. Not the request's context: the import outlives
// the response, and a shutdown leaves it stalled, to be applied again.
func (s *Server) applyInBackground(kind, id string, apply func(context.Context) error) {
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(s.backgroundCtx, 30*time.Minute)
		defer cancel()
		if err := apply(ctx); err != nil {
			s.log.Error("apply "+kind+" import", "import", id, "err", err)
		}
	}()
}
