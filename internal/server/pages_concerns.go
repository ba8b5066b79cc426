package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/concern"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/gin-gonic/gin"
)

// Escalations to the safeguarding leads ("concerns" in the code, apart
// from the e-mails and webhooks about critical incidents, which the code
// calls escalations). A contract manager escalates a contract they manage,
// or a partner whose contract they manage, or recommends that a contract
// be suspended; the safeguarding leads decide, and a decision to suspend
// suspends the contract. Managers see their own contracts' concerns, read
// only; leads see them all.
//
// Partners never see concerns: they are the department's internal
// discussion, and a partner told of an escalation before the leads have
// weighed it would be told of something that may come to nothing. What a
// partner needs to know reaches them through the contract's status and
// its reason (under review, suspended), which the contract page, the
// partner page and the incident notification journey show, and which is
// where a decision to suspend puts its reason.

// concernRoutes registers the queue, raising a concern, a concern's page
// and the leads' decision.
func (s *Server) concernRoutes(private *gin.RouterGroup) {
	private.GET("/concerns", s.allow(access.ViewConcerns), s.concernQueue)
	private.GET("/concerns/new", s.allow(access.EscalateConcerns), s.newConcern)
	private.POST("/concerns/new", s.allow(access.EscalateConcerns), s.newConcern)
	private.GET("/concerns/:concern", s.allow(access.ViewConcerns), s.concernPage)
	private.POST("/concerns/:concern/decision", s.allow(access.DecideConcerns), s.decideConcern)
}

const concernsPerPage = 25

// concernActor is the signed-in person as a concern records them.
func concernActor(c *gin.Context) concern.Actor {
	return concern.Actor{Kind: "person", ID: principal(c).Subject, Name: displayName(c)}
}

var concernStatusNames = map[string]string{concern.Open: "Open", concern.Decided: "Decided"}

// concernRow is a concern as lists show it.
type concernRow struct {
	concern.Concern
	// About is the contract's reference, or the partner's name for a
	// concern about the whole partner.
	About       string
	PartnerName string
	KindName    string
	StatusName  string
	StatusClass string
	OutcomeName string
}

func (s *Server) concernRow(cn concern.Concern, names map[string]string) concernRow {
	r := concernRow{Concern: cn, About: cn.ContractID, PartnerName: names[cn.PartnerID], KindName: concern.KindName(cn.Kind),
		StatusName: concernStatusNames[cn.Status], StatusClass: "govuk-tag--blue", OutcomeName: concern.OutcomeName(cn.Outcome)}
	if r.PartnerName == "" {
		r.PartnerName = cn.PartnerID
	}
	if cn.AboutPartner() {
		r.About = r.PartnerName
	}
	switch {
	case cn.Pending != nil:
		r.StatusName, r.StatusClass = "Decision being recorded", "govuk-tag--yellow"
	case cn.Status == concern.Decided:
		r.StatusClass = "govuk-tag--grey"
	}
	return r
}

// contractConcerns is the block a contract's page shows those who may
// escalate it: what has been raised about it, and the links to raise more.
type contractConcerns struct {
	Rows  []concernRow
	Total int64
	// CanRecommend is whether a recommendation to suspend may be raised:
	// the contract is neither suspended nor terminated.
	CanRecommend bool
}

// contractConcernsBlock is nil for those who may not escalate ct.
func (s *Server) contractConcernsBlock(c *gin.Context, ct partner.Contract) (*contractConcerns, error) {
	p := principal(c)
	if !canEscalate(p, ct) {
		return nil, nil
	}
	list, total, err := s.concerns.List(c.Request.Context(), p.Scope, concern.Filter{ContractID: ct.ID}, 1, 5)
	if err != nil {
		return nil, err
	}
	out := &contractConcerns{Total: total, CanRecommend: ct.Status != partner.Suspended && ct.Status != partner.Terminated}
	for _, cn := range list {
		out.Rows = append(out.Rows, s.concernRow(cn, nil))
	}
	return out, nil
}

// canEscalate reports whether the caller may raise ct with the leads.
func canEscalate(p access.Principal, ct partner.Contract) bool {
	return p.MayOn(access.EscalateConcerns, ct.PartnerID) && p.Scope.IncludesContract(ct.ID, ct.PartnerID)
}

// ----- The queue -----

type concernQueuePage struct {
	Rows       []concernRow
	Total      int64
	CanDecide  bool
	Statuses   []any
	Kinds      []any
	Contract   string
	Partner    string
	Pagination map[string]any
}

// concernQueue lists the concerns within the caller's reach, open ones
// first and the oldest first: the leads' queue, and a manager's view of
// what they and others raised about their contracts.
func (s *Server) concernQueue(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	f := concern.Filter{Status: c.Query("status"), Kind: c.Query("kind"), ContractID: strings.TrimSpace(c.Query("contract")),
		PartnerID: strings.TrimSpace(c.Query("partner"))}
	if _, ok := concernStatusNames[f.Status]; !ok {
		f.Status = ""
	}
	if concern.KindName(f.Kind) == "" {
		f.Kind = ""
	}
	page, _ := strconv.Atoi(c.Query("page"))
	page = max(page, 1)
	list, total, err := s.concerns.List(ctx, p.Scope, f, page, concernsPerPage)
	if err != nil {
		s.fail(c, "list concerns", err)
		return
	}
	names, err := s.partners.Names(ctx)
	if err != nil {
		s.fail(c, "name partners", err)
		return
	}
	data := concernQueuePage{Total: total, CanDecide: p.May(access.DecideConcerns), Contract: f.ContractID, Partner: f.PartnerID}
	for _, cn := range list {
		data.Rows = append(data.Rows, s.concernRow(cn, names))
	}
	data.Statuses = []any{map[string]any{"value": "", "text": "Any"}}
	for _, st := range []string{concern.Open, concern.Decided} {
		data.Statuses = append(data.Statuses, map[string]any{"value": st, "text": concernStatusNames[st], "selected": st == f.Status})
	}
	data.Kinds = []any{map[string]any{"value": "", "text": "Any"}}
	for _, k := range []string{concern.Escalation, concern.SuspensionRecommendation} {
		data.Kinds = append(data.Kinds, map[string]any{"value": k, "text": concern.KindName(k), "selected": k == f.Kind})
	}
	pages := int((total + concernsPerPage - 1) / concernsPerPage)
	data.Pagination = pagination("/concerns", c.Request.URL.Query(), page, pages)
	s.render(c, http.StatusOK, "concerns", "Escalations to safeguarding leads", data)
}

// ----- Raising a concern -----

type newConcernPage struct {
	Kind        string
	Heading     string
	PartnerName string
	Contract    *partner.Contract
	Reason      string
	Errors      []fieldError
	Action      string
	Back        string
	MaxReason   string
}

// newConcern shows and handles the form to escalate a contract or a
// partner to the leads, or to recommend suspending a contract. What it is
// about comes from the address (?contract= or ?partner=, and ?kind=), and
// must be within the caller's reach.
func (s *Server) newConcern(c *gin.Context) {
	ctx := c.Request.Context()
	p := principal(c)
	n := concern.NewConcern{Kind: c.DefaultQuery("kind", concern.Escalation), ContractID: c.Query("contract")}
	page := newConcernPage{Kind: n.Kind, Action: c.Request.URL.RequestURI(), MaxReason: reasonLimit}
	switch {
	case n.ContractID != "":
		ct, err := s.partners.GetContract(ctx, p.Scope, n.ContractID)
		switch {
		case err != nil && !errors.Is(err, partner.ErrNotFound):
			s.fail(c, "load contract", err)
			return
		case err != nil || !canEscalate(p, ct):
			s.notReachable(c, access.EscalateConcerns, "contract", n.ContractID)
			return
		}
		page.Contract, page.PartnerName, page.Back = &ct, s.partnerName(c, p.Scope, ct.PartnerID), "/contracts/"+ct.ID
	case c.Query("partner") != "":
		n.PartnerID = c.Query("partner")
		org, err := s.partners.Get(ctx, p.Scope, n.PartnerID)
		switch {
		case err != nil && !errors.Is(err, partner.ErrNotFound):
			s.fail(c, "load partner", err)
			return
		case err != nil || !p.MayOn(access.EscalateConcerns, org.ID):
			s.notReachable(c, access.EscalateConcerns, "partner", n.PartnerID)
			return
		}
		page.PartnerName, page.Back = org.Name, "/partners/"+org.ID
	default:
		s.renderError(c, http.StatusNotFound)
		return
	}
	switch {
	case n.Kind == concern.Escalation:
		page.Heading = "Escalate to safeguarding leads"
	case n.Kind == concern.SuspensionRecommendation && page.Contract != nil:
		page.Heading = "Recommend suspending the contract"
	default:
		// Only the contract and partner pages link here, with a kind that fits.
		s.renderError(c, http.StatusNotFound)
		return
	}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, "concern-new", page.Heading, page)
		return
	}
	page.Reason = strings.TrimSpace(c.PostForm("reason"))
	n.Reason = page.Reason
	cn, err := s.concerns.Raise(ctx, p.Scope, n, concernActor(c), event(c, "concern.raise", "", "", audit.Success))
	var invalid *concern.ErrInvalid
	switch err = s.stored(c, err); {
	case errors.As(err, &invalid):
		page.Errors = []fieldError{{"reason", invalid.Message}}
		s.render(c, http.StatusBadRequest, "concern-new", "Error: "+page.Heading, page)
	case errors.Is(err, concern.ErrNotFound):
		s.renderError(c, http.StatusNotFound)
	case err != nil:
		s.fail(c, "raise concern", err)
	default:
		c.Redirect(http.StatusSeeOther, "/concerns/"+cn.ID.Hex()+"?raised=1")
	}
}

// ----- A concern and the leads' decision -----

type concernViewPage struct {
	Row      concernRow
	Concern  concern.Concern
	Contract *partner.Contract
	// Decisions are the leads' decisions, most recent first.
	Decisions []decisionView
	Pending   *decisionView
	CanDecide bool
	// CanRecommend offers to recommend suspension after the leads
	// recommended it on an escalation about a contract.
	CanRecommend bool
	Items        []any
	Outcome      string
	Reason       string
	Errors       []fieldError
	Raised       bool
	Decided      bool
	MaxReason    string
}

type decisionView struct {
	concern.Decision
	OutcomeName string
}

// reachableConcern is the :concern of the path if it is within reach.
func (s *Server) reachableConcern(c *gin.Context) (concern.Concern, bool) {
	id := c.Param("concern")
	cn, err := s.concerns.Get(c.Request.Context(), principal(c).Scope, id)
	switch {
	case err == nil:
		return cn, true
	case !errors.Is(err, concern.ErrNotFound):
		s.fail(c, "load concern", err)
		return concern.Concern{}, false
	}
	s.notReachable(c, access.ViewConcerns, "concern", id)
	return concern.Concern{}, false
}

// concernPage shows a concern: what it is about and why, the leads'
// decisions, and for a lead while it is open the form to decide.
func (s *Server) concernPage(c *gin.Context) {
	cn, ok := s.reachableConcern(c)
	if !ok {
		return
	}
	page := concernViewPage{Raised: c.Query("raised") == "1", Decided: c.Query("decided") == "1"}
	s.showConcern(c, http.StatusOK, cn, page)
}

func (s *Server) showConcern(c *gin.Context, status int, cn concern.Concern, page concernViewPage) {
	p := principal(c)
	names := map[string]string{cn.PartnerID: s.partnerName(c, p.Scope, cn.PartnerID)}
	page.Concern, page.Row, page.MaxReason = cn, s.concernRow(cn, names), reasonLimit
	if !cn.AboutPartner() {
		ct, err := s.partners.GetContract(c.Request.Context(), p.Scope, cn.ContractID)
		switch {
		case err == nil:
			page.Contract = &ct
		case !errors.Is(err, partner.ErrNotFound):
			s.fail(c, "load contract", err)
			return
		}
	}
	for i := len(cn.Decisions) - 1; i >= 0; i-- {
		page.Decisions = append(page.Decisions, decisionView{Decision: cn.Decisions[i], OutcomeName: concern.OutcomeName(cn.Decisions[i].Outcome)})
	}
	if cn.Pending != nil {
		page.Pending = &decisionView{Decision: *cn.Pending, OutcomeName: concern.OutcomeName(cn.Pending.Outcome)}
	}
	page.CanDecide = p.May(access.DecideConcerns) && cn.Status == concern.Open
	page.CanRecommend = cn.Outcome == concern.RecommendSuspension && page.Contract != nil && canEscalate(p, *page.Contract) &&
		page.Contract.Status != partner.Suspended && page.Contract.Status != partner.Terminated
	for _, o := range concern.Outcomes(cn.Kind) {
		item := map[string]any{"value": o, "text": concern.OutcomeName(o)}
		switch o {
		case concern.SuspendContract:
			item["hint"] = map[string]any{"text": "The contract’s status becomes suspended. The partner sees the reason you give, with your name and the date."}
		case concern.ReferredToSRO:
			item["hint"] = map[string]any{"text": "The escalation stays open for a further decision."}
		case concern.RecommendSuspension:
			if page.Contract != nil && page.Contract.Status != partner.Suspended && page.Contract.Status != partner.Terminated {
				item["hint"] = map[string]any{"text": "You can then recommend suspending the contract from this page."}
			}
		}
		page.Items = append(page.Items, item)
	}
	title := page.Row.KindName + " about " + page.Row.About
	if len(page.Errors) > 0 {
		title = "Error: " + title
	}
	s.render(c, status, "concern", title, page)
}

// concernConflict is shown when someone else decided first; the page then
// shows the concern as it now is.
const concernConflict = "Someone else recorded a decision on this while you were working on it, or the contract changed. Check the decisions and the contract’s status, which are now shown, before you decide again."

// decideConcern records a lead's decision.
func (s *Server) decideConcern(c *gin.Context) {
	cn, ok := s.reachableConcern(c)
	if !ok {
		return
	}
	version, err := strconv.Atoi(c.PostForm("version"))
	if err != nil || version < 1 {
		// Every decision form carries the version it was made on.
		s.renderError(c, http.StatusBadRequest)
		return
	}
	page := concernViewPage{Outcome: c.PostForm("outcome"), Reason: strings.TrimSpace(c.PostForm("reason"))}
	p := principal(c)
	after, err := s.concerns.Decide(c.Request.Context(), p.Scope, cn.ID.Hex(), version,
		concern.NewDecision{Outcome: page.Outcome, Reason: page.Reason}, concernActor(c), event(c, "concern.decide", "", "", audit.Success))
	var invalid *concern.ErrInvalid
	switch err = s.stored(c, err); {
	case errors.As(err, &invalid):
		field := "reason"
		if strings.HasPrefix(invalid.Message, "Select") || strings.HasPrefix(invalid.Message, "The contract") {
			field = "outcome"
		}
		page.Errors = []fieldError{{field, invalid.Message}}
		s.showConcern(c, http.StatusBadRequest, cn, page)
	case errors.Is(err, concern.ErrConflict):
		if cn, ok = s.reachableConcern(c); !ok {
			return
		}
		page.Errors = []fieldError{{"outcome", concernConflict}}
		s.showConcern(c, http.StatusConflict, cn, page)
	case errors.Is(err, concern.ErrNotFound):
		s.renderError(c, http.StatusNotFound)
	case err != nil:
		s.fail(c, "decide concern", err)
	default:
		c.Redirect(http.StatusSeeOther, "/concerns/"+after.ID.Hex()+"?decided=1")
	}
}
