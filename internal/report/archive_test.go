package report

import (
	"testing"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/auth"
)

func TestWhoMayReadAReport(t *testing.T) {
	person := func(role auth.Role, org string, scope access.Scope) access.Principal {
		return access.PersonPrincipal(auth.Identity{Subject: "s", Roles: []auth.Role{role}, Org: org}, scope)
	}
	lead := person(auth.SafeguardingLead, auth.DepartmentOrg, access.Everything())
	auditor := person(auth.Auditor, auth.DepartmentOrg, access.Everything())
	// The manager reaches one of northgate's two contracts.
	manager := person(auth.ContractManager, auth.DepartmentOrg, access.ContractsScope(map[string]string{"N-1": "northgate"}))
	officer := person(auth.PartnerComplianceOfficer, "northgate", access.PartnerScope("northgate"))
	otherOfficer := person(auth.PartnerComplianceOfficer, "brightwell", access.PartnerScope("brightwell"))
	staffMember := person(auth.PartnerStaff, "northgate", access.PartnerScope("northgate"))

	entry := func(kind Kind, edition Edition, partnerID string, contracts ...string) Entry {
		return Entry{Request: Request{Kind: kind, Edition: edition}, PartnerID: partnerID, ContractIDs: contracts}
	}
	contractForPartner := entry(ContractReport, PartnerEdition, "northgate", "N-1")
	contractForDepartment := entry(ContractReport, DepartmentEdition, "northgate", "N-1")
	wholePartner := entry(PartnerReport, PartnerEdition, "northgate", "N-1", "N-2")
	portfolioReport := entry(PortfolioReport, DepartmentEdition, "")
	for _, c := range []struct {
		who   string
		p     access.Principal
		e     Entry
		reads bool
	}{
		{"lead, portfolio", lead, portfolioReport, true},
		{"auditor, department edition", auditor, contractForDepartment, true},
		{"manager, their contract", manager, contractForDepartment, true},
		{"manager, partner with a contract not theirs", manager, wholePartner, false},
		{"manager, portfolio", manager, portfolioReport, false},
		{"officer, own partner edition", officer, contractForPartner, true},
		{"officer, own whole partner", officer, wholePartner, true},
		{"officer, own department edition", officer, contractForDepartment, false},
		{"officer, portfolio", officer, portfolioReport, false},
		{"other partner's officer", otherOfficer, contractForPartner, false},
		{"partner staff", staffMember, contractForPartner, false},
	} {
		if got := Visible(c.p, c.e); got != c.reads {
			t.Errorf("%s: Visible = %v, want %v", c.who, got, c.reads)
		}
	}
}
