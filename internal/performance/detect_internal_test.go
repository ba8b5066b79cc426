package performance

import (
	"slices"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/staff"
)

// When each unmet requirement started to count against the partner.
func TestNotMetSince(t *testing.T) {
	d := calendar.Date
	due := func(y int, m time.Month, day int) *time.Time { v := d(y, m, day); return &v }
	contract := partner.Contract{StartDate: d(2025, 4, 1)}
	tailored := partner.Contract{StartDate: d(2025, 4, 1), RequirementHistory: []partner.RequirementChange{
		{At: time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)},
		{At: time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC)}, // still 28 February in London (GMT)
	}}
	veteran := staff.Member{StartDate: d(2020, 1, 6)}
	starter := staff.Member{StartDate: d(2026, 5, 11)}
	gaps := []staff.Gap{
		{Key: "face_behind_the_case", State: "expired", Due: due(2026, 3, 20)},
		{Key: "section_55_children", State: "missing"},
		{Key: "suicide_self_harm", State: "awaiting_verification", Due: due(2027, 1, 1)},
		{Key: "equality", State: "expiring", Due: due(2026, 7, 1)},
		{Key: "dbs_enhanced", State: "expired", Due: due(2019, 1, 1)}, // lapsed before they started
	}
	for _, tc := range []struct {
		name    string
		m       staff.Member
		c       partner.Contract
		gaps    []staff.Gap
		since   time.Time
		missing []string
	}{
		{"a veteran: missing since the contract started", veteran, contract, gaps, d(2025, 4, 1),
			[]string{"face_behind_the_case expired 2026-03-20", "section_55_children missing 2025-04-01", "dbs_enhanced expired 2025-04-01"}},
		{"a new starter: from their start, even for what lapsed before", starter, contract, gaps, d(2026, 5, 11),
			[]string{"face_behind_the_case expired 2026-05-11", "section_55_children missing 2026-05-11", "dbs_enhanced expired 2026-05-11"}},
		{"after the requirements changed: from the change", veteran, tailored, gaps, d(2026, 2, 28),
			[]string{"face_behind_the_case expired 2026-03-20", "section_55_children missing 2026-02-28", "dbs_enhanced expired 2026-02-28"}},
		{"only awaiting verification or expiring: nothing", veteran, contract, gaps[2:4], time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			since, missing := notMetSince(tc.m, tc.c, staff.Standing{Gaps: tc.gaps})
			var got []string
			for _, m := range missing {
				got = append(got, m.Key+" "+m.State+" "+m.Since.Format(time.DateOnly))
			}
			if !since.Equal(tc.since) || !slices.Equal(got, tc.missing) {
				t.Errorf("since %v, missing %q; want %v, %q", since, got, tc.since, tc.missing)
			}
		})
	}
}
