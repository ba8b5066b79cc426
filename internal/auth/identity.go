// Package auth signs people in through OpenID Connect, keeps their sessions on
// the server, and says who they are and what organisation they act for.
package auth

import "slices"

// Role is what a person may do in the portal. Roles come from the identity
// provider's claims; a value the portal does not know grants nothing.
type Role string

// The portal's roles, as in the product brief.
const (
	PartnerStaff             Role = "partner_staff"
	PartnerComplianceOfficer Role = "partner_compliance_officer"
	ContractManager          Role = "contract_manager"
	SafeguardingLead         Role = "safeguarding_lead"
	Auditor                  Role = "auditor"
)

// DepartmentOrg is the organisation of the department's own people.
const DepartmentOrg = "department"

var roleNames = map[Role]string{
	PartnerStaff:             "Partner staff member",
	PartnerComplianceOfficer: "Partner compliance officer",
	ContractManager:          "Contract manager",
	SafeguardingLead:         "Safeguarding lead",
	Auditor:                  "Auditor",
}

// rolePriority orders roles by breadth of view, for choosing a person's landing page.
var rolePriority = []Role{SafeguardingLead, ContractManager, Auditor, PartnerComplianceOfficer, PartnerStaff}

// Name is the role as people read it.
func (r Role) Name() string { return roleNames[r] }

// IsDepartment reports whether the role belongs to department staff rather than a partner.
func (r Role) IsDepartment() bool {
	return r == ContractManager || r == SafeguardingLead || r == Auditor
}

// Identity is a signed-in person.
type Identity struct {
	Subject  string `bson:"subject"`
	Issuer   string `bson:"issuer"`
	Name     string `bson:"name"`
	Email    string `bson:"email"`
	Roles    []Role `bson:"roles"`
	Org      string `bson:"org"`
	Provider string `bson:"provider"`
}

// Has reports whether the person holds role.
func (id Identity) Has(role Role) bool { return slices.Contains(id.Roles, role) }

// PrimaryRole is the broadest role held; it decides the landing page.
func (id Identity) PrimaryRole() Role {
	for _, r := range rolePriority {
		if id.Has(r) {
			return r
		}
	}
	return ""
}

// RoleNames lists the held roles as people read them.
func (id Identity) RoleNames() []string {
	names := make([]string, 0, len(id.Roles))
	for _, r := range rolePriority {
		if id.Has(r) {
			names = append(names, r.Name())
		}
	}
	return names
}

// mapRoles keeps the recognised roles from a claim and reports any it did not recognise.
// Department roles require the department organisation and partner roles a partner
// organisation, so a misconfigured provider cannot make a partner's user a contract manager.
func mapRoles(claimed []string, org string) (roles []Role, rejected []string) {
	for _, c := range claimed {
		r := Role(c)
		if _, known := roleNames[r]; !known || r.IsDepartment() != (org == DepartmentOrg) {
			rejected = append(rejected, c)
			continue
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles, rejected
}
