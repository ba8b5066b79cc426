package partner_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/partner"
)

// A contract's own performance terms are versioned and audited like every
// contract change, can go back to the defaults, and are refused out of reach.
func TestPerformanceTerms(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	for _, id := range []string{"northgate", "brightwell"} {
		if err := s.Create(ctx, partner.Partner{ID: id, Name: id, CompaniesHouseNumber: "12345678"}, ev("partner.create")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateContract(ctx, access.Everything(), contract("CS-ACC-2025-014", "northgate", "dev-manager"), ev("contract.create")); err != nil {
		t.Fatal(err)
	}
	mine := access.ContractsScope(map[string]string{"CS-ACC-2025-014": "northgate"})
	terms := partner.PerformanceTerms{LateNotification: 4, OverdueAction: 2, StaffNotCompliant: 1, FailedInspection: 10, GraceDays: 14, Threshold: 12}

	if err := s.SetPerformanceTerms(ctx, mine, "CS-ACC-2025-014", 0, nil, ev("contract.performance_terms")); !errors.Is(err, partner.ErrUnchanged) {
		t.Errorf("defaults to defaults: %v", err)
	}
	bad := terms
	bad.Threshold = -1
	if err := s.SetPerformanceTerms(ctx, mine, "CS-ACC-2025-014", 0, &bad, ev("contract.performance_terms")); err == nil {
		t.Error("stored a negative threshold")
	}
	if err := s.SetPerformanceTerms(ctx, access.PartnerScope("brightwell"), "CS-ACC-2025-014", 0, &terms, ev("contract.performance_terms")); !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("another partner's scope: %v", err)
	}
	if err := s.SetPerformanceTerms(ctx, mine, "CS-ACC-2025-014", 0, &terms, ev("contract.performance_terms")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPerformanceTerms(ctx, mine, "CS-ACC-2025-014", 0, &terms, ev("contract.performance_terms")); !errors.Is(err, partner.ErrConflict) {
		t.Errorf("from a stale version: %v", err)
	}
	if err := s.SetPerformanceTerms(ctx, mine, "CS-ACC-2025-014", 1, &terms, ev("contract.performance_terms")); !errors.Is(err, partner.ErrUnchanged) {
		t.Errorf("the same terms again: %v", err)
	}
	c, err := s.GetContract(ctx, mine, "CS-ACC-2025-014")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || c.Performance == nil || *c.Performance != terms {
		t.Fatalf("after setting terms: version %d, terms %+v", c.Version, c.Performance)
	}
	if err := s.SetPerformanceTerms(ctx, mine, "CS-ACC-2025-014", 1, nil, ev("contract.performance_terms")); err != nil {
		t.Fatal(err)
	}
	if c, err = s.GetContract(ctx, mine, "CS-ACC-2025-014"); err != nil || c.Performance != nil || c.Version != 2 {
		t.Fatalf("back to the defaults: %+v, %v", c.Performance, err)
	}
	var details []string
	for _, e := range events(t, db, "contract/CS-ACC-2025-014") {
		if e.Action == "contract.performance_terms" {
			details = append(details, e.Detail)
		}
	}
	want := []string{"late notification 4, overdue action 2, staff 1, failed inspection 10, grace 14 days, threshold 12", "default terms"}
	if !slices.Equal(details, want) {
		t.Errorf("audit details %q, want %q", details, want)
	}
}
