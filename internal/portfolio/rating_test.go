package portfolio_test

import (
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/portfolio"
)

func month(staff, compliant, gaps, notified, late int) *portfolio.Month {
	return &portfolio.Month{Staff: portfolio.StaffFigures{Staff: staff, Compliant: compliant, VettingGaps: gaps}, Notified: notified, Late: late}
}

func inspected(rating string, on time.Time) *oversight.Inspection {
	return &oversight.Inspection{Rating: rating, Site: "Leeds", CompletedOn: &on, Status: oversight.Completed}
}

func TestRateIsTheWorstMeasureWithItsReasons(t *testing.T) {
	today := calendar.Date(2026, 11, 23)
	active := partner.Contract{ID: "CS-ACC-2025-014", Status: partner.Active}
	recent := inspected(oversight.Good, calendar.Date(2026, 6, 1))
	cases := []struct {
		name    string
		facts   portfolio.Facts
		rag     string
		reasons []string // each must start one reason, in order
	}{
		{"all green", portfolio.Facts{Contract: active, This: month(100, 96, 0, 4, 0), Inspection: recent, Actions: oversight.ActionCount{Open: 1}}, portfolio.Green,
			[]string{"96 of 100 active staff (96.0%)", "Every active member", "All 4 serious incidents", "1 action open, none overdue", "Rated Good"}},
		{"95% exactly is green", portfolio.Facts{Contract: active, This: month(100, 95, 0, 0, 0)}, portfolio.Green, []string{"95 of 100"}},
		{"just under 95% is amber", portfolio.Facts{Contract: active, This: month(1000, 949, 0, 0, 0)}, portfolio.Amber, []string{"949 of 1000 active staff (94.9%)"}},
		{"85% is amber, under is red", portfolio.Facts{Contract: active, This: month(100, 84, 0, 0, 0)}, portfolio.Red, []string{"84 of 100"}},
		{"one vetting gap is amber", portfolio.Facts{Contract: active, This: month(100, 99, 1, 0, 0)}, portfolio.Amber, []string{"1 member of staff is working without"}},
		{"5% vetting gaps is red", portfolio.Facts{Contract: active, This: month(100, 99, 5, 0, 0)}, portfolio.Red, []string{"5 staff are working without"}},
		{"a late notification is amber", portfolio.Facts{Contract: active, This: month(10, 10, 0, 10, 1)}, portfolio.Amber, []string{"1 of 10 serious incidents notified this month reached the department late (90% on time)."}},
		{"under 80% on time is red", portfolio.Facts{Contract: active, This: month(10, 10, 0, 10, 3)}, portfolio.Red, []string{"3 of 10 serious incidents"}},
		{"overdue actions", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Actions: oversight.ActionCount{Open: 4, Overdue: 3}}, portfolio.Red, []string{"3 of 4 actions open are overdue."}},
		{"one overdue action", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Actions: oversight.ActionCount{Open: 2, Overdue: 1}}, portfolio.Amber, []string{"1 of 2 actions open is overdue."}},
		{"inadequate inspection", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Inspection: inspected(oversight.Inadequate, calendar.Date(2026, 10, 2))}, portfolio.Red, []string{"Rated Inadequate at Leeds on 2 October 2026."}},
		{"requires improvement", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Inspection: inspected(oversight.RequiresImprovement, calendar.Date(2026, 10, 2))}, portfolio.Amber, []string{"Rated Requires improvement"}},
		{"inspected 12 months ago to the day is stale", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Inspection: inspected(oversight.Outstanding, calendar.Date(2025, 11, 23))}, portfolio.Amber, []string{"Last inspected on 23 November 2025"}},
		{"suspended is red whatever else", portfolio.Facts{Contract: partner.Contract{Status: partner.Suspended}, This: month(10, 10, 0, 0, 0)}, portfolio.Red, []string{"The contract is suspended."}},
		{"red reasons before amber ones", portfolio.Facts{Contract: active, This: month(100, 90, 0, 10, 5)}, portfolio.Red, []string{"5 of 10 serious", "90 of 100"}},
		{"a pending recommendation to suspend is red", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), SuspensionRecommended: true, Escalations: 1}, portfolio.Red, []string{"A recommendation to suspend the contract is with the safeguarding leads."}},
		{"open escalations are amber", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Escalations: 2}, portfolio.Amber, []string{"2 escalations to the safeguarding leads are open."}},
		{"points over the threshold are amber", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Points: 11, Threshold: 10}, portfolio.Amber, []string{"11 performance points this month, over the threshold of 10: service credits are due."}},
		{"points at the threshold are not", portfolio.Facts{Contract: active, This: month(10, 10, 0, 0, 0), Points: 10, Threshold: 10}, portfolio.Green, []string{"10 of 10"}},
		{"nothing counted yet", portfolio.Facts{Contract: active}, portfolio.Grey, []string{"Staff figures have not been counted yet."}},
		{"no staff", portfolio.Facts{Contract: active, This: month(0, 0, 0, 0, 0)}, portfolio.Grey, []string{"No active staff"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.facts.Today = today
			r := portfolio.Rate(tc.facts)
			if r.RAG != tc.rag {
				t.Errorf("rated %s, want %s: %v", r.RAG, tc.rag, r.Measures)
			}
			got := r.Reasons()
			if len(got) < len(tc.reasons) {
				t.Fatalf("reasons %q, want at least %d", got, len(tc.reasons))
			}
			for i, want := range tc.reasons {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("reason %d = %q, want it to start %q", i, got[i], want)
				}
			}
		})
	}
}

func TestMonthsAreLondonMonths(t *testing.T) {
	cases := []struct {
		at         time.Time
		this, last string
	}{
		// 30 June 23:30 UTC is 1 July 00:30 in London summer time.
		{time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), "2026-07", "2026-06"},
		// 31 October 23:30 UTC is still October in London winter time.
		{time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC), "2026-10", "2026-09"},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "2027-01", "2026-12"},
		{time.Date(2026, 3, 1, 0, 0, 0, 0, calendar.London), "2026-03", "2026-02"},
	}
	for _, tc := range cases {
		if got := portfolio.MonthKey(tc.at); got != tc.this {
			t.Errorf("MonthKey(%v) = %s, want %s", tc.at, got, tc.this)
		}
		if got := portfolio.PreviousMonth(tc.at); got != tc.last {
			t.Errorf("PreviousMonth(%v) = %s, want %s", tc.at, got, tc.last)
		}
	}
}
