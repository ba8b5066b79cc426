// Package access is the portal's one authorization policy. Pages and the API
// both ask it whether a caller may take an action on a partner's resource, and
// every store read or write of partner data takes the caller's Scope, so a
// query without a tenant filter cannot be written.
package access

import (
	"slices"

	"github.com/department/safeguarding-portal/internal/auth"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Action is something a caller does to a kind of resource.
type Action string

// The actions the policy knows. An action no role lists is refused to everyone.
const (
	ViewOwnRecord   Action = "own_record.view"
	ViewPartner     Action = "partner.view"
	ViewContracts   Action = "contracts.view"
	ViewStaff       Action = "staff.view"
	EditStaff       Action = "staff.edit"
	ViewIncidents   Action = "incidents.view"
	CreateIncident  Action = "incidents.create"
	ManageSessions  Action = "sessions.manage"
	ViewAudit       Action = "audit.view"
	ManageContracts Action = "contracts.manage"
	// RecordOwnTraining is a staff member recording their own course completions.
	RecordOwnTraining Action = "own_training.create"
	// ViewEvidence is opening evidence files: those who check them, not everyone who sees the roster.
	ViewEvidence Action = "evidence.view"
	// VerifyEvidence is the department's verdict on a record's evidence.
	VerifyEvidence Action = "evidence.verify"
	// ReviewIncidents is the department's side of an incident: acknowledge,
	// request information, record the outcome, close.
	ReviewIncidents Action = "incidents.review"
	// SignOffIncidents is a safeguarding lead's sign-off of a critical incident.
	SignOffIncidents Action = "incidents.sign_off"
	// ManageOversight is the department's inspections and actions: plan and
	// record inspections, raise actions, accept or return a partner's response.
	ManageOversight Action = "oversight.manage"
	// RespondToActions is a partner answering an action raised against it.
	RespondToActions Action = "actions.respond"
	// EscalateConcerns is a contract manager raising a partner or contract with
	// the safeguarding leads, including a recommendation to suspend.
	EscalateConcerns Action = "concerns.escalate"
	// DecideConcerns is a safeguarding lead's decision on an escalation.
	DecideConcerns Action = "concerns.decide"
	// ViewConcerns is reading escalations to the leads and their decisions:
	// those who raise and decide them, and auditors, who see everything
	// the department does.
	ViewConcerns Action = "concerns.view"
	// ViewPortfolio is the department's dashboard of contracts rated side by side.
	ViewPortfolio Action = "portfolio.view"
	// ViewReports is reading the archived governance reports within reach:
	// partners only their own organisation's partner editions.
	ViewReports Action = "reports.view"
	// GenerateReports is asking for a governance report; partners only for
	// their own organisation, and only the partner edition.
	GenerateReports Action = "reports.generate"
)

// grants is the policy: which role may take which action, within its scope.
var grants = map[auth.Role][]Action{
	auth.PartnerStaff:             {ViewOwnRecord, RecordOwnTraining},
	auth.PartnerComplianceOfficer: {ViewPartner, ViewContracts, ViewStaff, EditStaff, ViewIncidents, CreateIncident, ViewEvidence, RespondToActions, ViewReports, GenerateReports},
	auth.ContractManager:          {ViewPartner, ViewContracts, ViewStaff, ViewIncidents, ManageContracts, ViewEvidence, VerifyEvidence, ReviewIncidents, ManageOversight, EscalateConcerns, ViewConcerns, ViewPortfolio, ViewReports, GenerateReports},
	auth.SafeguardingLead:         {ViewPartner, ViewContracts, ViewStaff, ViewIncidents, ManageSessions, ManageContracts, ViewEvidence, VerifyEvidence, ReviewIncidents, SignOffIncidents, ManageOversight, EscalateConcerns, DecideConcerns, ViewConcerns, ViewPortfolio, ViewReports, GenerateReports},
	auth.Auditor:                  {ViewPartner, ViewContracts, ViewStaff, ViewIncidents, ViewAudit, ViewConcerns, ViewPortfolio, ViewReports},
}

// scopeGrants is the policy for partner systems: OAuth scopes, not roles.
var scopeGrants = map[string][]Action{
	"incidents:read":  {ViewIncidents, ViewContracts},
	"incidents:write": {CreateIncident},
}

// Kinds of caller.
const (
	Person = "person"
	Client = "client"
)

// Principal is whoever is asking: a signed-in person or a partner's system.
type Principal struct {
	Kind    string
	Subject string
	Issuer  string
	Roles   []auth.Role
	// Org is the partner ID, or auth.DepartmentOrg for department staff.
	Org string
	// Scopes are an API client's OAuth scopes.
	Scopes []string
	// Scope is the data within reach; see ScopeFor.
	Scope Scope
}

// PersonPrincipal is a signed-in person, reaching scope.
func PersonPrincipal(id auth.Identity, scope Scope) Principal {
	return Principal{Kind: Person, Subject: id.Subject, Issuer: id.Issuer, Roles: id.Roles, Org: id.Org, Scope: scope}
}

// ClientPrincipal is a partner's system, which reaches only its own partner.
func ClientPrincipal(clientID, issuer, partnerID string, scopes []string) Principal {
	return Principal{Kind: Client, Subject: clientID, Issuer: issuer, Org: partnerID, Scopes: scopes, Scope: PartnerScope(partnerID)}
}

// May reports whether p may take action at all, before any resource is known:
// it decides whether a page or endpoint is open to the caller.
func (p Principal) May(action Action) bool {
	if p.Kind == Client {
		for _, s := range p.Scopes {
			if slices.Contains(scopeGrants[s], action) {
				return true
			}
		}
		return false
	}
	for _, r := range p.Roles {
		if slices.Contains(grants[r], action) {
			return true
		}
	}
	return false
}

// MayOn reports whether p may take action on a resource belonging to partnerID.
func (p Principal) MayOn(action Action, partnerID string) bool {
	return p.May(action) && p.Scope.Includes(partnerID)
}

// Scope is the set of partners (and contracts) whose data a caller can reach.
// Its zero value reaches nothing, so a forgotten scope fails closed.
type Scope struct {
	all       bool
	partners  []string
	contracts []string
}

// Everything reaches every partner: safeguarding leads and auditors.
func Everything() Scope { return Scope{all: true} }

// PartnerScope reaches one partner: its people and systems.
func PartnerScope(partnerID string) Scope {
	if partnerID == "" {
		return Scope{}
	}
	return Scope{partners: []string{partnerID}}
}

// ContractsScope reaches the given contracts and their partners: contract
// managers, limited to the contracts assigned to them.
func ContractsScope(contracts map[string]string) Scope {
	s := Scope{}
	for contractID, partnerID := range contracts {
		s.contracts = append(s.contracts, contractID)
		if !slices.Contains(s.partners, partnerID) {
			s.partners = append(s.partners, partnerID)
		}
	}
	slices.Sort(s.contracts)
	slices.Sort(s.partners)
	return s
}

// Includes reports whether partnerID is within reach.
func (s Scope) Includes(partnerID string) bool {
	return partnerID != "" && (s.all || slices.Contains(s.partners, partnerID))
}

// IncludesContract reports whether contractID of partnerID is within reach.
func (s Scope) IncludesContract(contractID, partnerID string) bool {
	if s.all {
		return true
	}
	if s.contracts != nil {
		return slices.Contains(s.contracts, contractID)
	}
	return s.Includes(partnerID)
}

// All reports whether the scope is unlimited.
func (s Scope) All() bool { return s.all }

// Partners lists the partners within reach; nil when the scope is unlimited.
func (s Scope) Partners() []string { return slices.Clone(s.partners) }

// matchNothing is a filter no document satisfies: the scope of nobody.
var matchNothing = bson.E{Key: "partner_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}

// Filter is a store filter on field partnerField limited to the scope, followed by conds.
// Every read and write of partner data builds its filter here.
func (s Scope) Filter(partnerField string, conds ...bson.E) bson.D {
	f := make(bson.D, 0, len(conds)+1)
	switch {
	case s.all:
	case len(s.partners) == 1:
		f = append(f, bson.E{Key: partnerField, Value: s.partners[0]})
	case len(s.partners) > 1:
		in := make(bson.A, len(s.partners))
		for i, p := range s.partners {
			in[i] = p
		}
		f = append(f, bson.E{Key: partnerField, Value: bson.D{{Key: "$in", Value: in}}})
	default:
		f = append(f, bson.E{Key: partnerField, Value: matchNothing.Value})
	}
	return append(f, conds...)
}

// ContractFilter limits a contracts query to the scope: to its partners and,
// for contract managers, to their assigned contracts.
func (s Scope) ContractFilter(conds ...bson.E) bson.D { return s.ContractFieldFilter("_id", conds...) }

// ContractFieldFilter limits a query on records that belong to a contract,
// named in contractField, to the scope: to its partners and, for contract
// managers, to their assigned contracts.
func (s Scope) ContractFieldFilter(contractField string, conds ...bson.E) bson.D {
	f := s.Filter("partner_id")
	if !s.all && s.contracts != nil {
		in := make(bson.A, len(s.contracts))
		for i, c := range s.contracts {
			in[i] = c
		}
		f = append(f, bson.E{Key: contractField, Value: bson.D{{Key: "$in", Value: in}}})
	}
	return append(f, conds...)
}

// Within narrows the scope to one partner, for pages about that partner; the
// result reaches nothing if the partner was out of reach.
func (s Scope) Within(partnerID string) Scope {
	if !s.Includes(partnerID) {
		return Scope{}
	}
	n := Scope{partners: []string{partnerID}}
	for _, c := range s.contracts {
		n.contracts = append(n.contracts, c)
	}
	return n
}
