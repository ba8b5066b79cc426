package server

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/idempotency"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// OpenAPI is the partner API's contract, served at /api/v1/openapi.json.
// Requests are checked against its schemas, so the document cannot drift
// from what the API accepts.
//
//go:embed openapi.json
var OpenAPI []byte

// apiSchemas are the request schemas compiled from the OpenAPI document.
type apiSchemas struct {
	notice, update, response *jsonschema.Schema
}

func compileAPISchemas() (*apiSchemas, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(OpenAPI))
	if err != nil {
		return nil, fmt.Errorf("read OpenAPI document: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("openapi.json", doc); err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	var out apiSchemas
	for name, dst := range map[string]**jsonschema.Schema{"Notice": &out.notice, "UpdateRequest": &out.update, "ResponseRequest": &out.response} {
		if *dst, err = c.Compile("openapi.json#/components/schemas/" + name); err != nil {
			return nil, fmt.Errorf("compile %s schema: %w", name, err)
		}
	}
	return &out, nil
}

// apiFieldProblem is a problem document listing field errors.
type apiFieldProblem struct {
	problem
	Errors []incident.FieldError `json:"errors,omitempty"`
}

func writeFieldProblem(c *gin.Context, errs []incident.FieldError) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, apiFieldProblem{
		problem: problem{Type: "about:blank", Title: "The request has invalid fields", Status: http.StatusUnprocessableEntity,
			Detail: "Correct the fields listed in errors and send the request again.", Instance: c.Request.URL.Path, RequestID: c.GetString(ctxRequestID)},
		Errors: errs,
	})
}

var schemaPrinter = message.NewPrinter(language.English)

// schemaErrors turns a schema validation failure into field errors, one per
// failing value, located by JSON pointer into the request body.
func schemaErrors(err error) []incident.FieldError {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []incident.FieldError{{Pointer: "", Detail: "The body does not match the API's schema"}}
	}
	var out []incident.FieldError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, cause := range e.Causes {
				walk(cause)
			}
			return
		}
		pointer := pointerOf(e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				out = append(out, incident.FieldError{Pointer: pointer + "/" + escapePointer(p), Detail: "This field is not part of the API"})
			}
			return
		case *kind.Required:
			for _, p := range k.Missing {
				out = append(out, incident.FieldError{Pointer: pointer + "/" + escapePointer(p), Detail: "This field is required"})
			}
			return
		}
		out = append(out, incident.FieldError{Pointer: pointer, Detail: e.ErrorKind.LocalizedString(schemaPrinter)})
	}
	walk(ve)
	slices.SortStableFunc(out, func(a, b incident.FieldError) int { return strings.Compare(a.Pointer, b.Pointer) })
	return slices.CompactFunc(out, func(a, b incident.FieldError) bool { return a == b })
}

func pointerOf(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + escapePointer(t))
	}
	return b.String()
}

func escapePointer(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

var idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7e]{8,255}$`)

// apiNotify notifies the department of a serious incident from a partner's
// system. See openapi.json for the contract.
// apiNotify stores a notice in a single write: the incident carries its
// Idempotency-Key, the request's fingerprint and the first response, and a
// unique index on the key makes a retry find it rather than notify twice.
func (s *Server) apiNotify(c *gin.Context) {
	key, body, ok := readIdempotentPost(c)
	if !ok {
		return
	}
	p := principal(c)
	// Concurrent retries on this replica are told to wait; on different
	// replicas the unique index decides, and the loser replays the winner.
	done, busy := s.notifying.claim(p.Org + "\x00" + key)
	if busy {
		c.Header("Retry-After", "1")
		writeProblem(c, http.StatusConflict, "The first request with this Idempotency-Key is still being processed. Retry shortly.")
		return
	}
	defer done()
	hash := idempotency.Hash(c.Request.Method, c.Request.URL.Path, body)
	status, location, out, err := s.notify(c, key, hash, body)
	switch {
	case errors.Is(err, incident.ErrKeyTaken):
		s.replayNotice(c, key, hash)
	case err != nil:
		s.apiFail(c, "notify incident", err)
	default:
		writeStored(c, status, location, out)
	}
}

// replayNotice answers a request whose Idempotency-Key notified an
// incident: with the first response if it is the same request.
func (s *Server) replayNotice(c *gin.Context, key, hash string) {
	p := principal(c)
	in, err := s.incidents.ByKey(c.Request.Context(), p.Scope, p.Org, key)
	switch {
	case err != nil:
		s.apiFail(c, "read incident by idempotency key", err)
	case in.RequestHash != hash:
		writeProblem(c, http.StatusUnprocessableEntity, "This Idempotency-Key was used with a different request. Use a new key for a new request.")
	default:
		c.Header("Idempotent-Replayed", "true")
		writeStored(c, http.StatusCreated, "/api/v1/incidents/"+in.ID.Hex(), in.FirstResponse)
	}
}

// inFlight is the set of idempotency keys whose request this replica is
// carrying out.
type inFlight struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

// claim marks key in flight, or reports it busy; done unmarks it.
func (f *inFlight) claim(key string) (done func(), busy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[key]; ok {
		return nil, true
	}
	if f.keys == nil {
		f.keys = map[string]struct{}{}
	}
	f.keys[key] = struct{}{}
	return func() {
		f.mu.Lock()
		delete(f.keys, key)
		f.mu.Unlock()
	}, false
}

// readIdempotentPost checks a POST's Idempotency-Key and content type and
// reads its body, answering the caller itself if any is wrong.
func readIdempotentPost(c *gin.Context) (key string, body []byte, ok bool) {
	key = c.GetHeader("Idempotency-Key")
	if !idempotencyKeyPattern.MatchString(key) {
		writeProblem(c, http.StatusBadRequest, "Send an Idempotency-Key header: 8 to 255 visible ASCII characters, unique to this request, such as a UUID.")
		return "", nil, false
	}
	if mt := c.ContentType(); mt != "application/json" {
		writeProblem(c, http.StatusUnsupportedMediaType, "Send the request body as application/json.")
		return "", nil, false
	}
	body, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeProblem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("The body must be at most %d bytes.", tooBig.Limit))
		return "", nil, false
	}
	if err != nil {
		writeProblem(c, http.StatusBadRequest, "The body could not be read.")
		return "", nil, false
	}
	return key, body, true
}

// apiIdempotent runs a POST whose Idempotency-Key makes retries safe: handle
// runs once per key and body; a retry gets its response again. handle
// returns the response to send and keep, or an error if nothing was changed.
func (s *Server) apiIdempotent(c *gin.Context, handle func(claim *idempotency.Claim, body []byte) (int, string, []byte, error)) {
	key, body, ok := readIdempotentPost(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	claim, replay, err := s.idempotency.Begin(ctx, principal(c).Org, key, idempotency.Hash(c.Request.Method, c.Request.URL.Path, body))
	switch {
	case errors.Is(err, idempotency.ErrMismatch):
		writeProblem(c, http.StatusUnprocessableEntity, "This Idempotency-Key was used with a different request. Use a new key for a new request.")
		return
	case errors.Is(err, idempotency.ErrInProgress):
		c.Header("Retry-After", "1")
		writeProblem(c, http.StatusConflict, "The first request with this Idempotency-Key is still being processed. Retry shortly.")
		return
	case err != nil:
		s.apiFail(c, "claim idempotency key", err)
		return
	case replay != nil:
		c.Header("Idempotent-Replayed", "true")
		writeStored(c, replay.Status, replay.Location, replay.Body)
		return
	}
	status, location, out, err := handle(claim, body)
	if err != nil {
		// Nothing was changed: let a retry start afresh.
		if rerr := s.idempotency.Release(ctx, claim); rerr != nil {
			s.log.Error("release idempotency key", "err", rerr, "request_id", c.GetString(ctxRequestID))
		}
		s.apiFail(c, "handle "+c.FullPath(), err)
		return
	}
	if err := s.idempotency.Finish(ctx, claim, idempotency.Response{Status: status, Location: location, Body: out}); err != nil {
		// The change is stored; a retry after the lease finds it by the claimed ID.
		s.log.Error("store idempotent response", "err", err, "request_id", c.GetString(ctxRequestID))
	}
	writeStored(c, status, location, out)
}

// writeStored sends a response an idempotent handler made.
func writeStored(c *gin.Context, status int, location string, body []byte) {
	if location != "" {
		c.Header("Location", location)
	}
	c.Header("Cache-Control", "no-store")
	ct := "application/json"
	if status >= 400 {
		ct = "application/problem+json"
	}
	c.Data(status, ct, body)
}

// notify checks and stores a notice, returning the response to send. An
// error means nothing was stored; ErrKeyTaken that the key notified an
// incident before. A notice refused now is refused without being kept: a
// retry is checked again, unless the key did notify one.
func (s *Server) notify(c *gin.Context, key, hash string, body []byte) (int, string, []byte, error) {
	ctx := c.Request.Context()
	p := principal(c)
	refuse := func(status int, out []byte) (int, string, []byte, error) {
		// The first request may have been valid when it was sent.
		if _, err := s.incidents.ByKey(ctx, p.Scope, p.Org, key); err == nil {
			return 0, "", nil, incident.ErrKeyTaken
		}
		return status, "", out, nil
	}
	refuseFields := func(errs []incident.FieldError) (int, string, []byte, error) {
		status, _, out, err := problemResponse(c, http.StatusUnprocessableEntity, "Correct the fields listed in errors and send the request again.", errs)
		if err != nil {
			return 0, "", nil, err
		}
		return refuse(status, out)
	}
	if status, out, ok := validateBody(c, s.apiSchemas.notice, body); !ok {
		return refuse(status, out)
	}
	var n incident.Notice
	if err := json.Unmarshal(body, &n); err != nil {
		return refuseFields([]incident.FieldError{{Pointer: "", Detail: "The body could not be read as an incident: " + err.Error()}})
	}
	ct, contractOK, err := s.notifiableContract(c, n.ContractID)
	if err != nil {
		return 0, "", nil, err
	}
	now := time.Now()
	if errs := n.Check(s.incidentRules, contractOK, now); len(errs) > 0 {
		return refuseFields(errs)
	}
	by := incident.Actor{Kind: "system", ID: p.Subject, Name: "System " + p.Subject, Side: "partner"}
	clocks, critical, err := s.incidentRules.Clocks(s.bankHolidays, n, ct.ServiceLine, now, by.Name)
	if errors.Is(err, deadline.ErrBeyondCalendar) {
		return refuseFields([]incident.FieldError{{Pointer: "/aware_at", Detail: "The deadline for this date cannot be worked out: the bank holiday calendar does not cover it"}})
	}
	if err != nil {
		return 0, "", nil, err
	}
	ackBy, err := s.incidentRules.AcknowledgementDue(s.bankHolidays, critical, now)
	if err != nil {
		return 0, "", nil, err
	}
	in := incident.Incident{PartnerID: p.Org, Notice: n, Critical: critical, Source: "api", NotifiedBy: by, Clocks: clocks,
		NotifiedAt: now, AcknowledgeBy: ackBy, IdempotencyKey: key, RequestHash: hash}
	e := event(c, "incident.create", "", p.Org, audit.Success)
	if err := s.incidents.Create(ctx, p.Scope, &in, e, func(in incident.Incident) ([]byte, error) {
		return json.Marshal(toAPIIncident(in))
	}); err != nil {
		return 0, "", nil, err
	}
	if err := s.notified(ctx, in); err != nil {
		// The incident is stored and answered; the escalation sweep stores its deliveries.
		s.log.Error("escalate incident", "err", err, "incident", in.ID.Hex(), "request_id", c.GetString(ctxRequestID))
	}
	return http.StatusCreated, "/api/v1/incidents/" + in.ID.Hex(), in.FirstResponse, nil
}

// problemResponse is a problem document as an idempotent handler returns it.
func problemResponse(c *gin.Context, status int, detail string, errs []incident.FieldError) (int, string, []byte, error) {
	title := problemTitles[status]
	if status == http.StatusUnprocessableEntity {
		title = "The request has invalid fields"
	}
	out, err := json.Marshal(apiFieldProblem{problem: problem{Type: "about:blank", Title: title, Status: status, Detail: detail,
		Instance: c.Request.URL.Path, RequestID: c.GetString(ctxRequestID)}, Errors: errs})
	return status, "", out, err
}

// validateBody checks a request body against its schema in the OpenAPI
// document; if it fails, it returns the problem response to send.
func validateBody(c *gin.Context, schema *jsonschema.Schema, body []byte) (int, []byte, bool) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		status, _, out, _ := problemResponse(c, http.StatusBadRequest, "The body is not valid JSON.", nil)
		return status, out, false
	}
	if err := schema.Validate(doc); err != nil {
		status, _, out, _ := problemResponse(c, http.StatusUnprocessableEntity, "Correct the fields listed in errors and send the request again.", schemaErrors(err))
		return status, out, false
	}
	return 0, nil, true
}

// notifiableContract is the caller's contract with id, if it is one
// incidents can be notified under (any but a terminated one).
//
// A contract that is missing, out of reach, another organisation's or
// terminated is not notifiable (false, nil). A failure to read it is an
// error: answered as a wrong contract, a partner system would be told not
// to retry a notice the law requires, when retrying is what would work.
func (s *Server) notifiableContract(c *gin.Context, id string) (partner.Contract, bool, error) {
	if id == "" {
		return partner.Contract{}, false, nil
	}
	ct, err := s.partners.GetContract(c.Request.Context(), principal(c).Scope, id)
	if errors.Is(err, partner.ErrNotFound) {
		return partner.Contract{}, false, nil
	}
	if err != nil {
		return partner.Contract{}, false, fmt.Errorf("check contract: %w", err)
	}
	if ct.PartnerID != principal(c).Org || ct.Status == partner.Terminated {
		return partner.Contract{}, false, nil
	}
	return ct, true, nil
}

// apiFail answers a failure of the service itself, logged without the
// request's contents.
func (s *Server) apiFail(c *gin.Context, what string, err error) {
	s.log.Error(what, "err", err, "request_id", c.GetString(ctxRequestID))
	writeProblem(c, http.StatusServiceUnavailable, "The incident could not be processed. Retry with the same Idempotency-Key.")
}

// apiIncident is an incident as the API shows it.
type apiIncident struct {
	ID                string                    `json:"id"`
	Reference         string                    `json:"reference"`
	Status            string                    `json:"status"`
	Critical          bool                      `json:"critical"`
	ContractID        string                    `json:"contract_id"`
	Site              string                    `json:"site"`
	Category          string                    `json:"category"`
	OccurredAt        time.Time                 `json:"occurred_at"`
	AwareAt           time.Time                 `json:"aware_at"`
	NotifiedAt        time.Time                 `json:"notified_at"`
	Customer          incident.Customer         `json:"customer"`
	Indicators        []string                  `json:"indicators"`
	WhatHappened      string                    `json:"what_happened"`
	ImmediateActions  incident.ImmediateActions `json:"immediate_actions"`
	Referrals         []incident.Referral       `json:"referrals"`
	NoReferralReason  string                    `json:"no_referral_reason,omitempty"`
	StaffInvolved     string                    `json:"staff_involved,omitempty"`
	ReportedBy        incident.Reporter         `json:"reported_by"`
	ExternalReference string                    `json:"external_reference,omitempty"`
	Deadlines         []apiDeadline             `json:"deadlines"`
	FiveRs            []apiFiveR                `json:"five_rs"`
	Updates           []apiUpdate               `json:"updates"`
	OpenRequest       string                    `json:"open_request,omitempty"`
	UpdatedAt         time.Time                 `json:"updated_at"`
}

type apiDeadline struct {
	Regime        string     `json:"regime"`
	Name          string     `json:"name"`
	Rule          string     `json:"rule"`
	Deadline      time.Time  `json:"deadline"`
	NotifiedAt    *time.Time `json:"notified_at,omitempty"`
	Reference     string     `json:"reference,omitempty"`
	Late          bool       `json:"late"`
	LateBySeconds int64      `json:"late_by_seconds,omitempty"`
}

type apiFiveR struct {
	Name      string `json:"name"`
	Evidenced bool   `json:"evidenced"`
	Why       string `json:"why"`
}

type apiUpdate struct {
	ID   string    `json:"id"`
	At   time.Time `json:"at"`
	Side string    `json:"side"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
	By   string    `json:"by,omitempty"`
}

func toAPIIncident(in incident.Incident) apiIncident {
	out := apiIncident{
		ID: in.ID.Hex(), Reference: in.Reference, Status: in.Status, Critical: in.Critical, ContractID: in.ContractID,
		Site: in.Site, Category: in.Category, OccurredAt: in.OccurredAt.UTC(), AwareAt: in.AwareAt.UTC(), NotifiedAt: in.NotifiedAt.UTC(),
		Customer: in.Customer, Indicators: in.Indicators, WhatHappened: in.WhatHappened, ImmediateActions: in.ImmediateActions,
		Referrals: in.Referrals, NoReferralReason: in.NoReferralReason, StaffInvolved: in.StaffInvolved, ReportedBy: in.ReportedBy,
		ExternalReference: in.ExternalReference, UpdatedAt: in.UpdatedAt.UTC(),
		Deadlines: []apiDeadline{}, FiveRs: []apiFiveR{}, Updates: []apiUpdate{},
	}
	if out.Indicators == nil {
		out.Indicators = []string{}
	}
	if out.Referrals == nil {
		out.Referrals = []incident.Referral{}
	}
	for _, k := range in.Clocks {
		out.Deadlines = append(out.Deadlines, apiDeadline{Regime: k.Regime, Name: k.Name, Rule: k.Rule, Deadline: k.Deadline.UTC(),
			NotifiedAt: k.NotifiedAt, Reference: k.Reference, Late: k.Late(), LateBySeconds: int64(k.LateBy / time.Second)})
	}
	for _, r := range in.FiveRs() {
		out.FiveRs = append(out.FiveRs, apiFiveR(r))
	}
	for _, u := range in.Updates {
		out.Updates = append(out.Updates, apiUpdate{ID: u.ID.Hex(), At: u.At.UTC(), Side: u.By.Side, Kind: u.Kind, Text: u.Text, By: u.By.Name})
	}
	if in.OpenRequest != nil {
		out.OpenRequest = in.OpenRequest.Hex()
	}
	return out
}

// apiAddUpdate adds a partner system's update to one of its incidents.
func (s *Server) apiAddUpdate(c *gin.Context) {
	s.apiIdempotent(c, func(claim *idempotency.Claim, body []byte) (int, string, []byte, error) {
		if status, out, ok := validateBody(c, s.apiSchemas.update, body); !ok {
			return status, "", out, nil
		}
		var req struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return problemResponse(c, http.StatusBadRequest, "The body could not be read.", nil)
		}
		return s.apiChange(c, claim, func(*incident.ErrInvalid) string { return "/text" }, func(ctx context.Context, by incident.Actor, e audit.Event) (incident.Incident, error) {
			return s.incidents.AddUpdate(ctx, principal(c).Scope, c.Param("id"), incident.Update{ID: claim.ResourceID, By: by, Text: req.Text}, e)
		})
	})
}

// apiRespond answers the department's open request for information.
func (s *Server) apiRespond(c *gin.Context) {
	s.apiIdempotent(c, func(claim *idempotency.Claim, body []byte) (int, string, []byte, error) {
		if status, out, ok := validateBody(c, s.apiSchemas.response, body); !ok {
			return status, "", out, nil
		}
		var req struct {
			RequestID string `json:"request_id"`
			Text      string `json:"text"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return problemResponse(c, http.StatusBadRequest, "The body could not be read.", nil)
		}
		pointer := func(inv *incident.ErrInvalid) string {
			if strings.Contains(inv.Message, "request for information") {
				return "/request_id"
			}
			return "/text"
		}
		return s.apiChange(c, claim, pointer, func(ctx context.Context, by incident.Actor, e audit.Event) (incident.Incident, error) {
			return s.incidents.Respond(ctx, principal(c).Scope, c.Param("id"), req.RequestID, incident.Update{ID: claim.ResourceID, By: by, Text: req.Text}, e)
		})
	})
}

// apiChange makes one change to an incident for a partner system and
// answers with the incident as it now is. A retry of a change whose first
// attempt was made (its process stopped before answering) is answered
// without making it again.
func (s *Server) apiChange(c *gin.Context, claim *idempotency.Claim, pointer func(*incident.ErrInvalid) string, change func(context.Context, incident.Actor, audit.Event) (incident.Incident, error)) (int, string, []byte, error) {
	ctx := c.Request.Context()
	p := principal(c)
	if claim.TakenOver {
		if in, err := s.incidents.Get(ctx, p.Scope, c.Param("id")); err == nil && in.HasUpdate(claim.ResourceID) {
			return s.changed(in)
		}
	}
	by := incident.Actor{Kind: "system", ID: p.Subject, Name: "System " + p.Subject, Side: "partner"}
	in, err := change(ctx, by, event(c, "", "", p.Org, audit.Success))
	var inv *incident.ErrInvalid
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return problemResponse(c, http.StatusNotFound, "There is no incident of your organisation with this ID.", nil)
	case errors.Is(err, incident.ErrConflict):
		return problemResponse(c, http.StatusConflict, "The incident is closed, or not waiting for this: read it again to see its status.", nil)
	case errors.As(err, &inv):
		return problemResponse(c, http.StatusUnprocessableEntity, "Correct the fields listed in errors and send the request again.",
			[]incident.FieldError{{Pointer: pointer(inv), Detail: inv.Message}})
	}
	if err = s.stored(c, err); err != nil {
		return 0, "", nil, err
	}
	return s.changed(in)
}

func (s *Server) changed(in incident.Incident) (int, string, []byte, error) {
	out, err := json.Marshal(toAPIIncident(in))
	return http.StatusCreated, "/api/v1/incidents/" + in.ID.Hex(), out, err
}

// apiIncident returns one of the caller's incidents; another partner's is
// answered exactly as one that does not exist.
func (s *Server) apiGetIncident(c *gin.Context) {
	in, err := s.incidents.Get(c.Request.Context(), principal(c).Scope, c.Param("id"))
	if errors.Is(err, incident.ErrNotFound) {
		writeProblem(c, http.StatusNotFound, "There is no incident of your organisation with this ID.")
		return
	}
	if err != nil {
		s.apiFail(c, "read incident", err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toAPIIncident(in))
}

// apiListIncidents lists the caller's incidents, oldest change first.
func (s *Server) apiListIncidents(c *gin.Context) {
	q := incident.Query{Status: c.Query("status"), Limit: 50}
	if q.Status != "" && !slices.Contains([]string{incident.Notified, incident.UnderReview, incident.InformationRequested, incident.Closed}, q.Status) {
		writeProblem(c, http.StatusBadRequest, "status must be notified, under_review, information_requested or closed.")
		return
	}
	if v := c.Query("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeProblem(c, http.StatusBadRequest, "updated_since must be an RFC 3339 date and time, such as 2026-11-20T15:00:00Z.")
			return
		}
		q.UpdatedSince = t
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeProblem(c, http.StatusBadRequest, "limit must be a whole number from 1 to 100.")
			return
		}
		q.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, ok := decodeCursor(v)
		if !ok {
			writeProblem(c, http.StatusBadRequest, "cursor must be the value from a previous page's next address.")
			return
		}
		q.After = &cur
	}
	list, more, err := s.incidents.List(c.Request.Context(), principal(c).Scope, q)
	if err != nil {
		s.apiFail(c, "list incidents", err)
		return
	}
	out := struct {
		Incidents []apiIncident `json:"incidents"`
		Next      string        `json:"next,omitempty"`
	}{Incidents: make([]apiIncident, 0, len(list))}
	for _, in := range list {
		out.Incidents = append(out.Incidents, toAPIIncident(in))
	}
	if more {
		last := list[len(list)-1]
		next := c.Request.URL.Query()
		next.Set("cursor", encodeCursor(incident.Cursor{UpdatedAt: last.UpdatedAt, ID: last.ID}))
		out.Next = "/api/v1/incidents?" + next.Encode()
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func encodeCursor(cur incident.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cur.UpdatedAt.UTC().Format(time.RFC3339Nano) + " " + cur.ID.Hex()))
}

func decodeCursor(v string) (incident.Cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return incident.Cursor{}, false
	}
	at, id, ok := strings.Cut(string(raw), " ")
	if !ok {
		return incident.Cursor{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return incident.Cursor{}, false
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return incident.Cursor{}, false
	}
	return incident.Cursor{UpdatedAt: t, ID: oid}, true
}

// apiOpenAPI serves the API's contract.
func apiOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", OpenAPI)
}
