package access_test

import (
	"context"
	"testing"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func person(role auth.Role, org string, scope access.Scope) access.Principal {
	return access.PersonPrincipal(auth.Identity{Subject: "s", Roles: []auth.Role{role}, Org: org}, scope)
}

func TestPolicy(t *testing.T) {
	officer := person(auth.PartnerComplianceOfficer, "northgate", access.PartnerScope("northgate"))
	staff := person(auth.PartnerStaff, "northgate", access.PartnerScope("northgate"))
	manager := person(auth.ContractManager, auth.DepartmentOrg, access.ContractsScope(map[string]string{"C-1": "northgate"}))
	lead := person(auth.SafeguardingLead, auth.DepartmentOrg, access.Everything())
	auditor := person(auth.Auditor, auth.DepartmentOrg, access.Everything())
	reader := access.ClientPrincipal("northgate-system", "https://idp", "northgate", []string{"incidents:read"})
	writer := access.ClientPrincipal("northgate-system", "https://idp", "northgate", []string{"incidents:write"})
	nobody := access.Principal{}

	cases := []struct {
		name    string
		p       access.Principal
		action  access.Action
		partner string
		want    bool
	}{
		{"officer views own staff", officer, access.ViewStaff, "northgate", true},
		{"officer views other partner's staff", officer, access.ViewStaff, "brightwell", false},
		{"officer edits own staff", officer, access.EditStaff, "northgate", true},
		{"officer reads audit", officer, access.ViewAudit, "northgate", false},
		{"staff views own record", staff, access.ViewOwnRecord, "northgate", true},
		{"staff views roster", staff, access.ViewStaff, "northgate", false},
		{"manager views assigned partner", manager, access.ViewPartner, "northgate", true},
		{"manager views unassigned partner", manager, access.ViewPartner, "brightwell", false},
		{"manager edits staff", manager, access.EditStaff, "northgate", false},
		{"lead views any partner", lead, access.ViewStaff, "brightwell", true},
		{"lead manages sessions", lead, access.ManageSessions, "", false}, // no partner: MayOn needs one
		{"auditor reads audit", auditor, access.ViewAudit, "brightwell", true},
		{"auditor edits staff", auditor, access.EditStaff, "northgate", false},
		{"client with read scope views incidents", reader, access.ViewIncidents, "northgate", true},
		{"client with read scope creates incidents", reader, access.CreateIncident, "northgate", false},
		{"client with write scope creates incidents", writer, access.CreateIncident, "northgate", true},
		{"client reaches another partner", writer, access.CreateIncident, "brightwell", false},
		{"client views staff", reader, access.ViewStaff, "northgate", false},
		{"nobody", nobody, access.ViewPartner, "northgate", false},
	}
	for _, c := range cases {
		if got := c.p.MayOn(c.action, c.partner); got != c.want {
			t.Errorf("%s: MayOn = %v, want %v", c.name, got, c.want)
		}
	}
	if !lead.May(access.ManageSessions) || officer.May(access.ManageSessions) {
		t.Error("only leads manage sessions")
	}
}

func TestScopeIncludes(t *testing.T) {
	if (access.Scope{}).Includes("northgate") || access.PartnerScope("").Includes("") {
		t.Error("the zero scope reaches something")
	}
	if access.Everything().Includes("") {
		t.Error("an empty partner ID is never within reach")
	}
	m := access.ContractsScope(map[string]string{"C-1": "northgate", "C-2": "northgate"})
	if !m.IncludesContract("C-1", "northgate") || m.IncludesContract("C-3", "northgate") {
		t.Error("contract manager's scope is not limited to assigned contracts")
	}
	if w := access.PartnerScope("northgate").Within("brightwell"); w.Includes("brightwell") || w.Includes("northgate") {
		t.Error("narrowing to an unreachable partner reaches something")
	}
}

// TestFiltersOnTheRealStore runs each scope's filter against the store, so a
// filter the store reads differently from the code (an empty $in, say) is caught.
func TestFiltersOnTheRealStore(t *testing.T) {
	ctx := context.Background()
	coll := storetest.Database(t).Collection("things")
	docs := []any{
		bson.D{{Key: "_id", Value: "C-1"}, {Key: "partner_id", Value: "northgate"}},
		bson.D{{Key: "_id", Value: "C-2"}, {Key: "partner_id", Value: "northgate"}},
		bson.D{{Key: "_id", Value: "C-3"}, {Key: "partner_id", Value: "brightwell"}},
		bson.D{{Key: "_id", Value: "C-4"}, {Key: "partner_id", Value: "castle"}},
		bson.D{{Key: "_id", Value: "C-5"}}, // no partner at all
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	count := func(f bson.D) int64 {
		n, err := coll.CountDocuments(ctx, f)
		if err != nil {
			t.Fatalf("count %v: %v", f, err)
		}
		return n
	}
	cases := []struct {
		name string
		f    bson.D
		want int64
	}{
		{"nobody", access.Scope{}.Filter("partner_id"), 0},
		{"empty partner", access.PartnerScope("").Filter("partner_id"), 0},
		{"one partner", access.PartnerScope("northgate").Filter("partner_id"), 2},
		{"several partners", access.ContractsScope(map[string]string{"C-1": "northgate", "C-3": "brightwell"}).Filter("partner_id"), 3},
		{"everything", access.Everything().Filter("partner_id"), 5},
		{"one partner and a condition", access.PartnerScope("northgate").Filter("partner_id", bson.E{Key: "_id", Value: "C-3"}), 0},
		{"assigned contracts only", access.ContractsScope(map[string]string{"C-1": "northgate"}).ContractFilter(), 1},
		{"nobody's contracts", access.Scope{}.ContractFilter(), 0},
	}
	for _, c := range cases {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d documents, want %d (filter %v)", c.name, got, c.want, c.f)
		}
	}
}
