package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/gin-gonic/gin"
)

// auditForm is the search form as typed, kept so the page can show it back.
type auditForm struct {
	Actor, Partner, Resource, Action, From, To string
}

type fieldError struct {
	Field, Message string
}

// auditQuery reads the search form; dates are calendar days in London, the
// "to" day included.
func auditQuery(c *gin.Context) (auditForm, audit.Query, []fieldError) {
	f := auditForm{
		Actor:    strings.TrimSpace(c.Query("actor")),
		Partner:  strings.TrimSpace(c.Query("partner")),
		Resource: strings.TrimSpace(c.Query("resource")),
		Action:   strings.TrimSpace(c.Query("action")),
		From:     strings.TrimSpace(c.Query("from")),
		To:       strings.TrimSpace(c.Query("to")),
	}
	q := audit.Query{Actor: f.Actor, PartnerID: f.Partner, Resource: f.Resource, Action: f.Action}
	var errs []fieldError
	if f.From != "" {
		d, err := time.ParseInLocation("2006-01-02", f.From, london)
		if err != nil {
			errs = append(errs, fieldError{"from", "Enter the ‘from’ date as year-month-day, for example 2026-11-01"})
		}
		q.From = d
	}
	if f.To != "" {
		d, err := time.ParseInLocation("2006-01-02", f.To, london)
		if err != nil {
			errs = append(errs, fieldError{"to", "Enter the ‘to’ date as year-month-day, for example 2026-11-30"})
		}
		q.To = d.AddDate(0, 0, 1)
	}
	if len(errs) == 0 && !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		errs = append(errs, fieldError{"to", "The ‘to’ date must be the same as or after the ‘from’ date"})
	}
	if before, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && before > 0 {
		q.BeforeSeq = before
	}
	return f, q, errs
}

// auditPage lets auditors search the trail.
func (s *Server) auditPage(c *gin.Context) {
	form, q, errs := auditQuery(c)
	data := struct {
		Form   auditForm
		Errors []fieldError
		Events []audit.Event
		More   string
		Export string
	}{Form: form, Errors: errs}
	if len(errs) > 0 {
		s.render(c, http.StatusBadRequest, "audit", "Audit trail", data)
		return
	}
	events, more, err := s.trail.Search(c.Request.Context(), q)
	if err != nil {
		s.fail(c, "search audit trail", err)
		return
	}
	e := event(c, "audit.search", "audit", form.Partner, audit.Success)
	if err := s.record(c, e); err != nil {
		s.fail(c, "audit audit search", err)
		return
	}
	data.Events = events
	params := url.Values{}
	for k, v := range map[string]string{"actor": form.Actor, "partner": form.Partner, "resource": form.Resource, "action": form.Action, "from": form.From, "to": form.To} {
		if v != "" {
			params.Set(k, v)
		}
	}
	data.Export = "/audit.csv?" + params.Encode()
	if more && len(events) > 0 {
		params.Set("before", strconv.FormatInt(events[len(events)-1].Seq, 10))
		data.More = "/audit?" + params.Encode()
	}
	s.render(c, http.StatusOK, "audit", "Audit trail", data)
}

// auditCSV exports every event matching the search.
func (s *Server) auditCSV(c *gin.Context) {
	form, q, errs := auditQuery(c)
	if len(errs) > 0 {
		s.renderError(c, http.StatusBadRequest)
		return
	}
	if err := s.record(c, event(c, "audit.export", "audit", form.Partner, audit.Success)); err != nil {
		s.fail(c, "audit audit export", err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="audit-trail.csv"`)
	c.Status(http.StatusOK)
	if err := s.trail.WriteCSV(c.Request.Context(), c.Writer, q); err != nil {
		// Headers are gone; the truncated file is the best signal left, and the log says why.
		s.log.Error("write audit CSV", "err", err, "request_id", c.GetString(ctxRequestID))
	}
}
