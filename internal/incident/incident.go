// Package incident holds serious incident notifications: what partners must
// tell the department about harm to customers in their care, the deadlines
// the law and contracts set for telling it, and the department's review.
//
// One record serves both ways in: a partner compliance officer's web journey
// and a partner system's API call build the same Notice, checked by the same
// rules, stored as the same Incident.
package incident

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/invisible"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Statuses of an incident, in the order the department works through them.
const (
	Notified             = "notified"              // the department has not acknowledged it yet
	UnderReview          = "under_review"          // acknowledged; the department is reviewing
	InformationRequested = "information_requested" // waiting for the partner to answer
	Closed               = "closed"
)

// Customer is who the incident happened to: their department reference,
// never their name, and only what decides who must be told and how fast.
type Customer struct {
	Reference          string `bson:"reference" json:"reference"`
	AgeGroup           string `bson:"age_group" json:"age_group"`
	UnaccompaniedChild bool   `bson:"unaccompanied_child" json:"unaccompanied_child"`
}

// ImmediateActions are what the partner did at once.
type ImmediateActions struct {
	EmergencyServices bool   `bson:"emergency_services" json:"emergency_services"`
	FirstAid          bool   `bson:"first_aid" json:"first_aid"`
	SafetyPlan        bool   `bson:"safety_plan" json:"safety_plan"`
	Other             string `bson:"other,omitempty" json:"other,omitempty"`
}

// Referral is a referral of the customer to another agency.
type Referral struct {
	Agency    string `bson:"agency" json:"agency"`
	Reference string `bson:"reference,omitempty" json:"reference,omitempty"`
}

// Reporter is who in the partner's organisation reported the incident.
type Reporter struct {
	Name string `bson:"name" json:"name"`
	Role string `bson:"role,omitempty" json:"role,omitempty"`
}

// Notice is what a partner tells the department: the fields of a new
// incident, from the web journey or the API.
type Notice struct {
	ContractID        string           `bson:"contract_id" json:"contract_id"`
	Site              string           `bson:"site" json:"site"`
	Category          string           `bson:"category" json:"category"`
	OccurredAt        time.Time        `bson:"occurred_at" json:"occurred_at"`
	AwareAt           time.Time        `bson:"aware_at" json:"aware_at"`
	Customer          Customer         `bson:"customer" json:"customer"`
	Indicators        []string         `bson:"indicators" json:"indicators"`
	WhatHappened      string           `bson:"what_happened" json:"what_happened"`
	ImmediateActions  ImmediateActions `bson:"immediate_actions" json:"immediate_actions"`
	Referrals         []Referral       `bson:"referrals" json:"referrals"`
	NoReferralReason  string           `bson:"no_referral_reason,omitempty" json:"no_referral_reason,omitempty"`
	StaffInvolved     string           `bson:"staff_involved,omitempty" json:"staff_involved,omitempty"`
	ReportedBy        Reporter         `bson:"reported_by" json:"reported_by"`
	ExternalReference string           `bson:"external_reference,omitempty" json:"external_reference,omitempty"`
}

// Clock is one notification duty's deadline and how it was met.
type Clock struct {
	Regime   string    `bson:"regime"` // "department" or a regime ID from the rules
	Name     string    `bson:"name"`
	Rule     string    `bson:"rule"` // as people read it: "1 hour", "5 working days"
	Deadline time.Time `bson:"deadline"`
	// NotifiedAt, By and Reference record when, by whom and under what
	// reference the body was told; nil while it has not been.
	NotifiedAt *time.Time `bson:"notified_at,omitempty"`
	By         string     `bson:"by,omitempty"`
	Reference  string     `bson:"reference,omitempty"`
	// LateBy is how late the notification was; zero when on time or not yet made.
	LateBy time.Duration `bson:"late_by,omitempty"`
}

// Late reports whether the clock's deadline was missed.
func (c Clock) Late() bool { return c.LateBy > 0 }

// Overdue reports whether the body has still not been told by now, after the deadline.
func (c Clock) Overdue(now time.Time) bool { return c.NotifiedAt == nil && now.After(c.Deadline) }

// Actor is who did something: a person (by subject and name) or a partner system.
type Actor struct {
	Kind string `bson:"kind"` // "person" or "system"
	ID   string `bson:"id"`
	Name string `bson:"name"`
	Side string `bson:"side"` // "partner" or "department"
}

// Update is one entry in an incident's chronology.
type Update struct {
	ID          bson.ObjectID  `bson:"id"`
	At          time.Time      `bson:"at"`
	By          Actor          `bson:"by"`
	Kind        string         `bson:"kind"` // see the Update kinds
	Text        string         `bson:"text"`
	Attachments []Attachment   `bson:"attachments,omitempty"`
	Answers     *bson.ObjectID `bson:"answers,omitempty"` // the information request a response answers
	Regime      string         `bson:"regime,omitempty"`  // for a notification to another body
}

// Attachment is an evidence file attached to an update.
type Attachment struct {
	File   bson.ObjectID `bson:"file"`
	Name   string        `bson:"name"`
	SHA256 string        `bson:"sha256"`
	Size   int64         `bson:"size"`
}

// Update kinds.
const (
	KindNotified       = "notified"
	KindUpdate         = "update"
	KindAcknowledged   = "acknowledged"
	KindRequest        = "information_request"
	KindResponse       = "response"
	KindRegimeNotified = "regime_notified"
	KindOutcome        = "outcome"
	KindLeadSignOff    = "lead_sign_off"
	KindClosed         = "closed"
	KindEscalationSent = "escalation"
)

// Incident is a serious incident as stored.
type Incident struct {
	ID         bson.ObjectID `bson:"_id"`
	Reference  string        `bson:"reference"`
	PartnerID  string        `bson:"partner_id"`
	Notice     `bson:",inline"`
	Critical   bool      `bson:"critical"`
	Status     string    `bson:"status"`
	Source     string    `bson:"source"` // "web" or "api"
	NotifiedAt time.Time `bson:"notified_at"`
	NotifiedBy Actor     `bson:"notified_by"`
	Clocks     []Clock   `bson:"clocks"`
	// LateBy repeats the department clock's lateness at the top level, where
	// the embedded store can sum it (it cannot reach into unwound arrays).
	LateBy  time.Duration `bson:"late_by,omitempty"`
	Updates []Update      `bson:"updates"`
	// OpenRequest is the information request waiting for the partner's answer.
	OpenRequest *bson.ObjectID `bson:"open_request,omitempty"`
	// AcknowledgeBy is the department's deadline to acknowledge it.
	AcknowledgeBy  time.Time  `bson:"acknowledge_by"`
	AcknowledgedAt *time.Time `bson:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `bson:"acknowledged_by,omitempty"`
	ClosedAt       *time.Time `bson:"closed_at,omitempty"`
	Outcome        string     `bson:"outcome,omitempty"`
	Lessons        string     `bson:"lessons,omitempty"`
	SignedOffBy    string     `bson:"signed_off_by,omitempty"`
	Version        int        `bson:"version"`
	CreatedAt      time.Time  `bson:"created_at"`
	UpdatedAt      time.Time  `bson:"updated_at"`
	// The request that notified it, so that a retry finds it: the partner's
	// Idempotency-Key (or the web draft's), the request's fingerprint and
	// the first response, replayed as it was.
	IdempotencyKey string `bson:"idempotency_key,omitempty"`
	RequestHash    string `bson:"request_hash,omitempty"`
	FirstResponse  []byte `bson:"first_response,omitempty"`
}

// AcknowledgementOverdue reports whether the department has let the
// deadline to acknowledge it pass.
func (in Incident) AcknowledgementOverdue(now time.Time) bool {
	return in.Status == Notified && !in.AcknowledgeBy.IsZero() && now.After(in.AcknowledgeBy)
}

// DepartmentClock is the clock of the duty to notify the department.
func (in Incident) DepartmentClock() Clock {
	for _, c := range in.Clocks {
		if c.Regime == "department" {
			return c
		}
	}
	return Clock{}
}

// FieldError is one problem with one field of a notice, located by its JSON
// pointer (RFC 6901) so API clients and web forms can both place it.
type FieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// Limits on free text, generous for an account of what happened but bounded.
const (
	maxShortText = 200
	maxLongText  = 10_000
	maxActions   = 2_000
)

var (
	customerReference = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9/-]{2,29}$`)
	partnerReference  = regexp.MustCompile(`^[\x21-\x7e]{1,100}$`)
)

// clockSkew allows for a partner system's clock running a little ahead.
const clockSkew = 5 * time.Minute

// Check validates a notice against the rules, as at now. contractOK says
// whether the partner holds the contract; it is the caller's to work out.
// Every problem is returned, in field order.
func (n Notice) Check(rules *Rules, contractOK bool, now time.Time) []FieldError {
	var errs []FieldError
	add := func(pointer, detail string) { errs = append(errs, FieldError{pointer, detail}) }
	text := func(pointer, label, v string, required bool, most int) {
		switch {
		case strings.TrimSpace(v) == "" && required:
			add(pointer, "Enter "+label)
		case utf8.RuneCountInString(v) > most:
			add(pointer, fmt.Sprintf("%s must be %d characters or fewer", capital(label), most))
		case invisible.Hides(v):
			add(pointer, capital(label)+" must not contain hidden or control characters")
		}
	}

	switch {
	case n.ContractID == "":
		add("/contract_id", "Select the contract the customer is served under")
	case !contractOK:
		add("/contract_id", "Select one of your organisation's contracts")
	}
	text("/site", "the site where it happened", n.Site, true, maxShortText)
	if _, ok := rules.Category(n.Category); !ok {
		add("/category", "Select the kind of incident")
	}
	occurredOK := false
	switch {
	case n.OccurredAt.IsZero():
		add("/occurred_at", "Enter when the incident happened")
	case n.OccurredAt.After(now.Add(clockSkew)):
		add("/occurred_at", "When the incident happened must be in the past")
	case n.OccurredAt.Before(now.AddDate(-5, 0, 0)):
		add("/occurred_at", "When the incident happened must be within the last 5 years")
	default:
		occurredOK = true
	}
	switch {
	case n.AwareAt.IsZero():
		add("/aware_at", "Enter when your organisation became aware of the incident")
	case n.AwareAt.After(now.Add(clockSkew)):
		add("/aware_at", "When your organisation became aware must be in the past")
	case occurredOK && n.AwareAt.Before(n.OccurredAt):
		add("/aware_at", "When your organisation became aware must be the same as or after when the incident happened")
	}
	switch {
	case n.Customer.Reference == "":
		add("/customer/reference", "Enter the customer's department reference")
	case !customerReference.MatchString(n.Customer.Reference):
		add("/customer/reference", "The customer's department reference must be 3 to 30 letters, numbers, hyphens or slashes")
	}
	switch n.Customer.AgeGroup {
	case Child, Adult:
	default:
		add("/customer/age_group", "Select whether the customer is a child or an adult")
	}
	if n.Customer.UnaccompaniedChild && n.Customer.AgeGroup == Adult {
		add("/customer/unaccompanied_child", "Only a child can be an unaccompanied child")
	}
	seen := map[string]bool{}
	for i, ind := range n.Indicators {
		p := fmt.Sprintf("/indicators/%d", i)
		switch {
		case IndicatorName(ind) == "":
			add(p, "Select vulnerability indicators from the list")
		case seen[ind]:
			add(p, "Each vulnerability indicator can be given once")
		}
		seen[ind] = true
	}
	text("/what_happened", "what happened", n.WhatHappened, true, maxLongText)
	text("/immediate_actions/other", "other immediate actions", n.ImmediateActions.Other, false, maxActions)
	agencies := map[string]bool{}
	for i, r := range n.Referrals {
		p := fmt.Sprintf("/referrals/%d", i)
		switch {
		case AgencyName(r.Agency) == "":
			add(p+"/agency", "Select the agency the customer was referred to")
		case agencies[r.Agency]:
			add(p+"/agency", "Each agency can be given once")
		}
		agencies[r.Agency] = true
		if r.Reference != "" && !partnerReference.MatchString(r.Reference) {
			add(p+"/reference", "A referral reference must be up to 100 letters, numbers or symbols, without spaces")
		}
	}
	switch {
	case len(n.Referrals) == 0 && strings.TrimSpace(n.NoReferralReason) == "":
		add("/no_referral_reason", "Enter why no referral was made")
	case len(n.Referrals) > 0 && n.NoReferralReason != "":
		add("/no_referral_reason", "Leave the reason for no referral empty when a referral was made")
	default:
		text("/no_referral_reason", "why no referral was made", n.NoReferralReason, false, maxActions)
	}
	text("/staff_involved", "the staff involved", n.StaffInvolved, false, maxActions)
	text("/reported_by/name", "the name of the person reporting", n.ReportedBy.Name, true, maxShortText)
	text("/reported_by/role", "the role of the person reporting", n.ReportedBy.Role, false, maxShortText)
	if n.ExternalReference != "" && !partnerReference.MatchString(n.ExternalReference) {
		add("/external_reference", "Your reference must be up to 100 letters, numbers or symbols, without spaces")
	}
	return errs
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sortedIndicators keeps stored indicators in the strategy's order, so the
// same notice always stores the same document.
func sortedIndicators(ids []string) []string {
	out := slices.Clone(ids)
	order := make(map[string]int, len(Indicators))
	for i, ind := range Indicators {
		order[ind.ID] = i
	}
	slices.SortFunc(out, func(a, b string) int { return order[a] - order[b] })
	if out == nil {
		out = []string{}
	}
	return out
}
