package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/records"
	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// verificationQueue lists the records waiting for the department to verify
// their evidence, oldest first, for the partners within the caller's reach.
func (s *Server) verificationQueue(c *gin.Context) {
	scope := principal(c).Scope
	waiting, total, err := s.records.Queue(c.Request.Context(), scope, 200)
	if err != nil {
		s.fail(c, "read verification queue", err)
		return
	}
	names, err := s.partners.Names(c.Request.Context())
	if err != nil {
		s.fail(c, "read partner names", err)
		return
	}
	s.render(c, http.StatusOK, "verification-queue", "Evidence to verify", struct {
		Waiting  []records.Waiting
		Total    int64
		Partners map[string]string
		Decided  string
	}{waiting, total, names, c.Query("decided")})
}

type decisionPage struct {
	Waiting  records.Waiting
	Partner  string
	Training *records.Training
	Vetting  *records.Vetting
	Decision string
	Reason   string
	Errors   []fieldError
}

// decideRecord shows one waiting record with its evidence and takes the
// manager's decision: verified, or rejected with a reason the partner sees.
func (s *Server) decideRecord(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	id, err := bson.ObjectIDFromHex(c.Param("record"))
	var w records.Waiting
	if err == nil {
		w, err = s.records.WaitingRecord(ctx, p.Scope, id)
	}
	if err != nil || !p.MayOn(access.VerifyEvidence, w.PartnerID) {
		if err != nil && !errors.Is(err, records.ErrNotFound) && !errors.Is(err, bson.ErrInvalidHex) {
			s.fail(c, "read waiting record", err)
			return
		}
		s.notReachable(c, access.VerifyEvidence, "record", c.Param("record"))
		return
	}
	book, err := s.records.Get(ctx, p.Scope, w.PartnerID, w.StaffID)
	if err != nil {
		s.fail(c, "read record book", err)
		return
	}
	page := decisionPage{Waiting: w, Partner: s.partnerName(c, p.Scope, w.PartnerID)}
	if t, ok := book.TrainingRecord(id); ok {
		page.Training = &t
	} else if v, ok := book.VettingRecord(id); ok {
		page.Vetting = &v
	} else {
		s.renderError(c, http.StatusNotFound)
		return
	}
	title := "Verify " + recordName(s.requirements, w.Kind, w.What)
	if c.Request.Method == http.MethodGet {
		if err := s.record(c, event(c, "staff.view", "staff/"+w.StaffID.Hex(), w.PartnerID, audit.Success)); err != nil {
			s.fail(c, "audit record view", err)
			return
		}
		s.render(c, http.StatusOK, "verification-decide", title, page)
		return
	}
	page.Decision = c.PostForm("decision")
	page.Reason = strings.TrimSpace(c.PostForm("reason"))
	switch page.Decision {
	case records.Verified:
	case records.Rejected:
		if page.Reason == "" {
			page.Errors = append(page.Errors, fieldError{"reason", "Enter why the evidence is rejected and what the partner should do"})
		} else if len([]rune(page.Reason)) > 1000 {
			page.Errors = append(page.Errors, fieldError{"reason", "The reason must be 1,000 characters or fewer"})
		} else if strings.IndexFunc(page.Reason, func(r rune) bool { return r != '\n' && r != '\r' && hiddenRune(r) }) >= 0 {
			page.Errors = append(page.Errors, fieldError{"reason", "The reason must not contain hidden formatting characters"})
		}
	default:
		page.Errors = append(page.Errors, fieldError{"decision", "Select whether the evidence is verified or rejected"})
	}
	if len(page.Errors) > 0 {
		s.render(c, http.StatusBadRequest, "verification-decide", "Error: "+title, page)
		return
	}
	d := records.Decision{Status: page.Decision, By: displayName(c), At: time.Now()}
	if d.Status == records.Rejected {
		d.Reason = page.Reason
	}
	err = s.stored(c, s.records.Decide(ctx, p.Scope, w.PartnerID, w.StaffID, id, d, event(c, "evidence."+d.Status, "", w.PartnerID, audit.Success)))
	switch {
	case errors.Is(err, records.ErrDecided):
		// Someone else decided first: their decision stands.
	case errors.Is(err, records.ErrNotFound):
		s.renderError(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, "record decision", err)
		return
	}
	if err := s.records.Dequeue(ctx, id); err != nil {
		s.log.Error("decided record left in the queue", "err", err, "request_id", c.GetString(ctxRequestID))
	}
	// Verified vetting evidence is kept only for the retention period after
	// the decision, as the DBS code of practice expects; the record and the
	// file's hash stay.
	if page.Vetting != nil && page.Vetting.Evidence != nil && d.Status == records.Verified {
		until := calendar.AddMonths(calendar.Today(d.At), s.cfg.Evidence.RetentionMonths)
		if err := s.evidence.StartRetention(ctx, w.PartnerID, page.Vetting.Evidence.Hex(), until); err != nil {
			s.log.Error("evidence retention not started", "err", err, "request_id", c.GetString(ctxRequestID))
		}
	}
	if err := s.upkeep.Reassess(ctx, w.PartnerID, w.StaffID); err != nil {
		s.log.Error("assessment not updated", "err", err, "request_id", c.GetString(ctxRequestID))
	}
	c.Redirect(http.StatusSeeOther, "/verification?decided="+url.QueryEscape(d.Status))
}

// evidenceDownload sends an evidence file to someone allowed to see it, as
// an attachment that never renders in the portal's origin. Every download
// is recorded.
func (s *Server) evidenceDownload(c *gin.Context) {
	p := principal(c)
	partnerID := c.Param("partner")
	if !p.MayOn(access.ViewEvidence, partnerID) {
		s.notReachable(c, access.ViewEvidence, "evidence", c.Param("file"))
		return
	}
	s.sendEvidence(c, partnerID, c.Param("file"))
}

// ownEvidenceDownload sends a staff member a file attached to their own records.
func (s *Server) ownEvidenceDownload(c *gin.Context) {
	target, ok := s.ownTarget(c)
	if !ok {
		return
	}
	book, err := s.records.Get(c.Request.Context(), access.PartnerScope(target.Partner.ID), target.Partner.ID, target.Member.ID)
	if err != nil {
		s.fail(c, "read own records", err)
		return
	}
	fileID := c.Param("file")
	for _, t := range book.Training {
		if t.Evidence != nil && t.Evidence.Hex() == fileID {
			s.sendEvidence(c, target.Partner.ID, fileID)
			return
		}
	}
	s.notReachable(c, access.ViewOwnRecord, "evidence", fileID)
}

func (s *Server) sendEvidence(c *gin.Context, partnerID, fileID string) {
	f, data, err := s.evidence.Open(c.Request.Context(), partnerID, fileID)
	switch {
	case errors.Is(err, evidence.ErrNotFound):
		s.notReachable(c, access.ViewEvidence, "evidence", fileID)
		return
	case errors.Is(err, evidence.ErrDeleted):
		s.renderError(c, http.StatusGone)
		return
	case err != nil:
		s.fail(c, "open evidence", err)
		return
	}
	if err := s.record(c, event(c, "evidence.download", "evidence/"+f.ID.Hex(), partnerID, audit.Success)); err != nil {
		s.fail(c, "audit evidence download", err)
		return
	}
	sendFile(c, f.Name, f.ContentType, data)
}

// sendFile sends a stored file (evidence, an archived report) to be saved,
// never shown: under its name, with its checked type only, and nothing in
// it able to run or be kept by a shared cache.
func sendFile(c *gin.Context, name, contentType string, data []byte) {
	c.Header("Content-Disposition", attachment(name))
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "sandbox; default-src 'none'")
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, contentType, data)
}

// attachment is a Content-Disposition that makes browsers save the file
// under its name (RFC 6266, with the RFC 8187 form for non-ASCII names).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}
