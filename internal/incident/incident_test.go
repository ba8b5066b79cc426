package incident_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
)

var london, _ = time.LoadLocation("Europe/London")

func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, london)
}

func TestEmbeddedRulesMatchConfig(t *testing.T) {
	want, err := os.ReadFile("../../config/incidents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("incidents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/incident/incidents.yaml differs from config/incidents.yaml: copy the config file over it")
	}
	r := incident.DefaultRules()
	if len(r.Categories) != 13 {
		t.Errorf("%d categories, want the brief's 13", len(r.Categories))
	}
	if len(incident.Indicators) != 27 {
		t.Errorf("%d vulnerability indicators, want the strategy's 27", len(incident.Indicators))
	}
}

func TestRulesFileRefusals(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"unknown key", "standard_deadline: {hours: 24}\ncritical_deadline: {hours: 1}\ncategories: [{id: a, name: A, critcal: true}]", "critcal"},
		{"both units", "standard_deadline: {hours: 24, working_days: 1}\ncritical_deadline: {hours: 1}\ncategories: [{id: a, name: A}]", "standard_deadline"},
		{"no deadline", "critical_deadline: {hours: 1}\ncategories: [{id: a, name: A}]", "standard_deadline"},
		{"unknown indicator", "standard_deadline: {hours: 24}\ncritical_deadline: {hours: 1}\ncategories: [{id: a, name: A, critical_indicators: [sad]}]", `unknown indicator "sad"`},
		{"unknown service line", "standard_deadline: {hours: 24}\ncritical_deadline: {hours: 1}\ncategories: [{id: a, name: A, regimes: [{id: r, name: R, deadline: {hours: 2}, when: {service_lines: [spa]}}]}]", `unknown service line "spa"`},
		{"duplicate category", "standard_deadline: {hours: 24}\ncritical_deadline: {hours: 1}\ncategories: [{id: a, name: A}, {id: a, name: B}]", "appears twice"},
		{"two documents", "standard_deadline: {hours: 24}\ncritical_deadline: {hours: 1}\ncategories: [{id: a, name: A}]\n---\nx: 1", "one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := incident.ParseRules([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func validNotice() incident.Notice {
	return incident.Notice{
		ContractID: "NG-AA-001", Site: "Northgate House", Category: "physical_assault",
		OccurredAt: at(2026, 11, 20, 14, 0), AwareAt: at(2026, 11, 20, 15, 0),
		Customer:         incident.Customer{Reference: "HO-1234567", AgeGroup: incident.Adult},
		Indicators:       []string{"victim_of_assault", "mental_health"},
		WhatHappened:     "A customer was assaulted by another resident in the dining room.",
		ImmediateActions: incident.ImmediateActions{EmergencyServices: true, FirstAid: true},
		Referrals:        []incident.Referral{{Agency: "police", Reference: "CAD-2211"}},
		ReportedBy:       incident.Reporter{Name: "Sam Officer", Role: "Duty manager"},
	}
}

func TestNoticeCheck(t *testing.T) {
	rules := incident.DefaultRules()
	now := at(2026, 11, 21, 9, 0)
	if errs := validNotice().Check(rules, true, now); len(errs) != 0 {
		t.Fatalf("a valid notice: %+v", errs)
	}
	for _, tc := range []struct {
		name       string
		change     func(*incident.Notice)
		contractOK bool
		pointer    string
		detail     string
	}{
		{"another partner's contract", func(n *incident.Notice) {}, false, "/contract_id", "one of your organisation's contracts"},
		{"no contract", func(n *incident.Notice) { n.ContractID = "" }, true, "/contract_id", "Select the contract"},
		{"no site", func(n *incident.Notice) { n.Site = "  " }, true, "/site", "Enter the site"},
		{"unknown category", func(n *incident.Notice) { n.Category = "burglary" }, true, "/category", "Select the kind of incident"},
		{"occurred in the future", func(n *incident.Notice) { n.OccurredAt = now.Add(time.Hour) }, true, "/occurred_at", "must be in the past"},
		{"aware in the future", func(n *incident.Notice) { n.AwareAt = now.Add(6 * time.Minute) }, true, "/aware_at", "must be in the past"},
		{"a partner clock a little fast is fine", func(n *incident.Notice) { n.AwareAt = now.Add(4 * time.Minute); n.OccurredAt = now }, true, "", ""},
		{"aware before it happened", func(n *incident.Notice) { n.AwareAt = n.OccurredAt.Add(-time.Second) }, true, "/aware_at", "same as or after when the incident happened"},
		{"no occurred time", func(n *incident.Notice) { n.OccurredAt = time.Time{} }, true, "/occurred_at", "Enter when the incident happened"},
		{"long ago", func(n *incident.Notice) { n.OccurredAt = now.AddDate(-6, 0, 0) }, true, "/occurred_at", "within the last 5 years"},
		{"no customer reference", func(n *incident.Notice) { n.Customer.Reference = "" }, true, "/customer/reference", "Enter the customer's department reference"},
		{"a name for a reference", func(n *incident.Notice) { n.Customer.Reference = "Jane Smith" }, true, "/customer/reference", "3 to 30 letters"},
		{"no age group", func(n *incident.Notice) { n.Customer.AgeGroup = "" }, true, "/customer/age_group", "child or an adult"},
		{"unaccompanied adult", func(n *incident.Notice) { n.Customer.UnaccompaniedChild = true }, true, "/customer/unaccompanied_child", "Only a child"},
		{"unknown indicator", func(n *incident.Notice) { n.Indicators = []string{"mental_health", "sadness"} }, true, "/indicators/1", "from the list"},
		{"indicator twice", func(n *incident.Notice) { n.Indicators = []string{"mental_health", "mental_health"} }, true, "/indicators/1", "once"},
		{"nothing happened", func(n *incident.Notice) { n.WhatHappened = "" }, true, "/what_happened", "Enter what happened"},
		{"hidden text", func(n *incident.Notice) { n.WhatHappened = "fine\u202e" }, true, "/what_happened", "hidden or control"},
		{"too long", func(n *incident.Notice) { n.WhatHappened = strings.Repeat("a", 10_001) }, true, "/what_happened", "10000 characters or fewer"},
		{"unknown agency", func(n *incident.Notice) { n.Referrals = []incident.Referral{{Agency: "mi5"}} }, true, "/referrals/0/agency", "Select the agency"},
		{"agency twice", func(n *incident.Notice) {
			n.Referrals = []incident.Referral{{Agency: "police"}, {Agency: "police"}}
		}, true, "/referrals/1/agency", "once"},
		{"no referral and no reason", func(n *incident.Notice) { n.Referrals = nil }, true, "/no_referral_reason", "Enter why no referral"},
		{"a referral and a reason", func(n *incident.Notice) { n.NoReferralReason = "none needed" }, true, "/no_referral_reason", "Leave the reason"},
		{"no reporter", func(n *incident.Notice) { n.ReportedBy.Name = "" }, true, "/reported_by/name", "Enter the name"},
		{"external reference with spaces", func(n *incident.Notice) { n.ExternalReference = "a b" }, true, "/external_reference", "without spaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := validNotice()
			tc.change(&n)
			errs := n.Check(rules, tc.contractOK, now)
			if tc.pointer == "" {
				if len(errs) != 0 {
					t.Fatalf("errors %+v, want none", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Pointer != tc.pointer || !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("errors %+v, want one at %s containing %q", errs, tc.pointer, tc.detail)
			}
		})
	}
}

func TestClocks(t *testing.T) {
	rules := incident.DefaultRules()
	cal := deadline.Default()
	aware := at(2026, 11, 20, 15, 0) // a Friday
	for _, tc := range []struct {
		name        string
		change      func(*incident.Notice)
		serviceLine string
		received    time.Time
		critical    bool
		want        map[string]time.Time // regime → deadline
		lateBy      time.Duration
	}{
		{"standard, on time", func(n *incident.Notice) {}, "asylum_accommodation", aware.Add(23 * time.Hour), false,
			map[string]time.Time{"department": aware.Add(24 * time.Hour)}, 0},
		{"standard, exactly at the deadline", func(n *incident.Notice) {}, "asylum_accommodation", aware.Add(24 * time.Hour), false,
			map[string]time.Time{"department": aware.Add(24 * time.Hour)}, 0},
		{"standard, 90 minutes late", func(n *incident.Notice) {}, "asylum_accommodation", aware.Add(25*time.Hour + 30*time.Minute), false,
			map[string]time.Time{"department": aware.Add(24 * time.Hour)}, 90 * time.Minute},
		{"critical category", func(n *incident.Notice) { n.Category = "sexual_assault" }, "asylum_interviews", aware.Add(2 * time.Hour), true,
			map[string]time.Time{"department": aware.Add(time.Hour)}, time.Hour},
		{"missing adult is not critical", func(n *incident.Notice) { n.Category = "missing_customer" }, "asylum_accommodation", aware, false,
			map[string]time.Time{"department": aware.Add(24 * time.Hour)}, 0},
		{"missing child is critical", func(n *incident.Notice) {
			n.Category, n.Customer.AgeGroup = "missing_customer", incident.Child
		}, "asylum_accommodation", aware, true, map[string]time.Time{"department": aware.Add(time.Hour)}, 0},
		{"self-harm at level 3 is critical", func(n *incident.Notice) {
			n.Category, n.Indicators = "self_harm", []string{"suicide_self_harm_level_3"}
		}, "screening", aware, true, map[string]time.Time{"department": aware.Add(time.Hour)}, 0},
		{"self-harm at level 2 is not", func(n *incident.Notice) {
			n.Category, n.Indicators = "self_harm", []string{"suicide_self_harm_level_2"}
		}, "screening", aware, false, map[string]time.Time{"department": aware.Add(24 * time.Hour)}, 0},
		{"data breach starts the ICO's 72 hours", func(n *incident.Notice) { n.Category = "data_breach" }, "visa_application_centre", aware, false,
			map[string]time.Time{"department": aware.Add(24 * time.Hour), "ico": aware.Add(72 * time.Hour)}, 0},
		{"a child's death in accommodation starts the review panel's 5 working days", func(n *incident.Notice) {
			n.Category, n.Customer.AgeGroup = "death", incident.Child
		}, "asylum_accommodation", aware, true,
			map[string]time.Time{"department": aware.Add(time.Hour), "child_safeguarding_review_panel": at(2026, 11, 28, 0, 0)}, 0},
		{"an adult's death does not", func(n *incident.Notice) { n.Category = "death" }, "asylum_accommodation", aware, true,
			map[string]time.Time{"department": aware.Add(time.Hour)}, 0},
		{"nor a child's death at an interview", func(n *incident.Notice) {
			n.Category, n.Customer.AgeGroup = "death", incident.Child
		}, "asylum_interviews", aware, true, map[string]time.Time{"department": aware.Add(time.Hour)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := validNotice()
			n.AwareAt = aware
			tc.change(&n)
			clocks, critical, err := rules.Clocks(cal, n, tc.serviceLine, tc.received, "Sam Officer")
			if err != nil {
				t.Fatal(err)
			}
			if critical != tc.critical {
				t.Errorf("critical = %v, want %v", critical, tc.critical)
			}
			if len(clocks) != len(tc.want) {
				t.Fatalf("clocks %+v, want %v", clocks, tc.want)
			}
			for _, c := range clocks {
				if !c.Deadline.Equal(tc.want[c.Regime]) {
					t.Errorf("%s deadline %v, want %v", c.Regime, c.Deadline.In(london), tc.want[c.Regime])
				}
				if c.Regime == "department" {
					if c.NotifiedAt == nil || !c.NotifiedAt.Equal(tc.received) || c.LateBy != tc.lateBy {
						t.Errorf("department clock %+v, want notified at %v, late by %v", c, tc.received, tc.lateBy)
					}
				} else if c.NotifiedAt != nil {
					t.Errorf("%s clock stopped before anyone told it", c.Regime)
				}
			}
		})
	}
}

// The department acknowledges within an hour for a critical incident and
// by the end of the next working day for others, skipping weekends and
// bank holidays.
func TestAcknowledgementDue(t *testing.T) {
	rules := incident.DefaultRules()
	cal := deadline.Default()
	london, _ := time.LoadLocation("Europe/London")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, london)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		notified string
		critical bool
		want     string
	}{
		{"2026-11-20 16:00", true, "2026-11-20 17:00"},  // a Friday: an hour is an hour
		{"2026-11-20 16:00", false, "2026-11-24 00:00"}, // the end of Monday
		{"2026-12-24 10:00", false, "2026-12-30 00:00"}, // the end of Tuesday: Christmas, a weekend and the Boxing Day substitute skipped
	} {
		got, err := rules.AcknowledgementDue(cal, tc.critical, at(tc.notified))
		if err != nil {
			t.Fatal(err)
		}
		if want := at(tc.want); !got.Equal(want) {
			t.Errorf("notified %s (critical %v): acknowledge by %s, want %s", tc.notified, tc.critical, got.In(london).Format("2006-01-02 15:04:05"), tc.want)
		}
	}
}
