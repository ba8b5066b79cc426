package people_test

import (
	"context"
	"slices"
	"testing"

	"github.com/department/safeguarding-portal/internal/auth"
	"github.com/department/safeguarding-portal/internal/people"
	"github.com/department/safeguarding-portal/internal/store/storetest"
)

func TestRecipientsAreLeadsAndTheContractsManagers(t *testing.T) {
	ctx := context.Background()
	d := people.New(storetest.Database(t))
	for _, id := range []auth.Identity{
		{Subject: "lead-1", Name: "Lee", Email: "lee@department.example", Roles: []auth.Role{auth.SafeguardingLead}, Org: auth.DepartmentOrg},
		{Subject: "mgr-1", Name: "Mo", Email: "mo@department.example", Roles: []auth.Role{auth.ContractManager}, Org: auth.DepartmentOrg},
		{Subject: "mgr-2", Name: "Max", Email: "max@department.example", Roles: []auth.Role{auth.ContractManager}, Org: auth.DepartmentOrg},
		{Subject: "aud-1", Name: "Ava", Email: "ava@department.example", Roles: []auth.Role{auth.Auditor}, Org: auth.DepartmentOrg},
		{Subject: "off-1", Name: "Sam", Email: "sam@northgate.example", Roles: []auth.Role{auth.PartnerComplianceOfficer}, Org: "northgate"},
	} {
		if err := d.Seen(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// A lead whose address changed is reached at the new one.
	if err := d.Seen(ctx, auth.Identity{Subject: "lead-1", Name: "Lee", Email: "lee.new@department.example", Roles: []auth.Role{auth.SafeguardingLead}, Org: auth.DepartmentOrg}); err != nil {
		t.Fatal(err)
	}
	everyone, err := d.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(everyone) != 4 {
		t.Errorf("%d people kept, want the department's 4 (never a partner's)", len(everyone))
	}
	got := people.Recipients(everyone, []string{"mgr-1"})
	want := []string{"lee.new@department.example", "mo@department.example"}
	if !slices.Equal(got, want) {
		t.Errorf("recipients %v, want %v", got, want)
	}
}
