package requirements_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/requirements"
)

func TestEqual(t *testing.T) {
	c := requirements.Default()
	a := c.Default
	cases := []struct {
		name string
		edit func(t *testing.T, s *requirements.Set)
		want bool
	}{
		{"unchanged copy", func(t *testing.T, s *requirements.Set) {}, true},
		{"nil and empty overrides", func(t *testing.T, s *requirements.Set) { s.RefreshMonths = nil }, true},
		{"rules reordered", func(t *testing.T, s *requirements.Set) { slices.Reverse(s.Rules) }, true},
		{"modules reordered", func(t *testing.T, s *requirements.Set) { slices.Reverse(s.Rules[0].Training) }, true},
		{"vetting and alternatives reordered", func(t *testing.T, s *requirements.Set) {
			slices.Reverse(s.Rules[1].Vetting)
			for _, g := range s.Rules[1].Vetting {
				slices.Reverse(g)
			}
		}, true},
		{"module removed", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, "customer_facing_adults")
			r.Training = r.Training[1:]
		}, false},
		{"module moved to another category", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, "not_customer_facing")
			r.Training = append(r.Training, "traumatic_narratives")
		}, false},
		{"vetting alternative removed", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, "regulated_activity_children")
			r.Vetting[0] = []string{"dbs_enhanced_both_barred"}
		}, false},
		{"vetting requirement split", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, "regulated_activity_children")
			r.Vetting[0] = []string{"dbs_enhanced_children_barred"}
			r.Vetting = append(r.Vetting, []string{"dbs_enhanced_both_barred"})
		}, false},
		{"refresh overridden", func(t *testing.T, s *requirements.Set) {
			s.RefreshMonths = map[string]int{"face_behind_the_case": 6}
		}, false},
		// Pinning the default value is still a change: it no longer follows the catalogue.
		{"refresh pinned at the default", func(t *testing.T, s *requirements.Set) {
			s.RefreshMonths = map[string]int{"face_behind_the_case": 12}
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tailored(c, func(s *requirements.Set) { tc.edit(t, s) })
			if got := a.Equal(b); got != tc.want {
				t.Errorf("a.Equal(b) = %v, want %v", got, tc.want)
			}
			if got := b.Equal(a); got != tc.want {
				t.Errorf("b.Equal(a) = %v, want %v", got, tc.want)
			}
			if lines := requirements.Diff(c, a, b); tc.want && len(lines) > 0 {
				t.Errorf("equal sets have a diff: %q", lines)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	c := requirements.Default()
	cases := []struct {
		name string
		a    func(t *testing.T, s *requirements.Set)
		b    func(t *testing.T, s *requirements.Set)
		want []string
	}{
		{"no change", nil, nil, nil},
		{"module added",
			func(t *testing.T, s *requirements.Set) {
				r := rule(t, s, "regulated_activity_children")
				r.Training = slices.DeleteFunc(r.Training, func(id string) bool { return id == "modern_slavery_referral" })
			}, nil,
			[]string{"Regulated activity with children: added Modern slavery: the referral process"}},
		{"modules added and removed, in catalogue order",
			nil,
			func(t *testing.T, s *requirements.Set) {
				r := rule(t, s, "not_customer_facing")
				r.Training = []string{"traumatic_narratives", "face_behind_the_case", "vulnerability_awareness"}
			},
			[]string{
				"Not customer-facing: added Vulnerability awareness",
				"Not customer-facing: added Psychological factors arising from exposure to traumatic narratives",
				"Not customer-facing: removed Safeguarding children: the section 55 duty",
				"Not customer-facing: removed Modern slavery: the referral process",
			}},
		{"vetting narrowed",
			nil,
			func(t *testing.T, s *requirements.Set) {
				rule(t, s, "regulated_activity_children").Vetting[0] = []string{"dbs_enhanced_both_barred"}
			},
			[]string{"Regulated activity with children: vetting changed from Enhanced DBS check with children's barred list or Enhanced DBS check with children's and adults' barred lists to Enhanced DBS check with children's and adults' barred lists"}},
		{"vetting added and removed",
			nil,
			func(t *testing.T, s *requirements.Set) {
				r := rule(t, s, "customer_facing_adults")
				r.Vetting = slices.DeleteFunc(r.Vetting, func(g []string) bool { return slices.Equal(g, []string{"right_to_work"}) })
				r.Vetting = append(r.Vetting, []string{"nsv_sc", "nsv_ctc"})
			},
			[]string{
				"Customer-facing with adults: removed vetting: Right to work check",
				"Customer-facing with adults: added vetting: Counter-Terrorist Check (CTC) or Security Check (SC)",
			}},
		{"category rule missing on one side",
			func(t *testing.T, s *requirements.Set) {
				s.Rules = slices.DeleteFunc(s.Rules, func(r requirements.Rule) bool { return r.Category == "not_customer_facing" })
			}, nil,
			[]string{
				"Not customer-facing: added Safeguarding children: the section 55 duty",
				"Not customer-facing: added Modern slavery: the referral process",
				"Not customer-facing: added Face Behind the Case",
				"Not customer-facing: added vetting: Basic DBS check or Standard DBS check or Enhanced DBS check or Enhanced DBS check with children's barred list or Enhanced DBS check with adults' barred list or Enhanced DBS check with children's and adults' barred lists",
				"Not customer-facing: added vetting: Baseline Personnel Security Standard (BPSS) or Counter-Terrorist Check (CTC) or Security Check (SC) or Developed Vetting (DV)",
				"Not customer-facing: added vetting: Right to work check",
			}},
		{"refresh changed",
			nil,
			func(t *testing.T, s *requirements.Set) {
				s.RefreshMonths = map[string]int{"face_behind_the_case": 6, "vulnerability_awareness": 1}
			},
			[]string{
				"Vulnerability awareness: refresh changed from 24 months to 1 month",
				"Face Behind the Case: refresh changed from 12 to 6 months",
			}},
		{"refresh back to the default",
			func(t *testing.T, s *requirements.Set) { s.RefreshMonths = map[string]int{"face_behind_the_case": 6} },
			nil,
			[]string{"Face Behind the Case: refresh changed from 6 to 12 months, the default"}},
		{"refresh pinned at the default",
			nil,
			func(t *testing.T, s *requirements.Set) { s.RefreshMonths = map[string]int{"face_behind_the_case": 12} },
			[]string{"Face Behind the Case: refresh kept at 12 months for this contract, no longer following the default"}},
		{"refresh unpinned",
			func(t *testing.T, s *requirements.Set) { s.RefreshMonths = map[string]int{"face_behind_the_case": 12} },
			nil,
			[]string{"Face Behind the Case: refresh now follows the default of 12 months"}},
		{"several categories in catalogue order, then refresh",
			func(t *testing.T, s *requirements.Set) { slices.Reverse(s.Rules) },
			func(t *testing.T, s *requirements.Set) {
				for _, cat := range []string{"not_customer_facing", "customer_facing_adults"} {
					r := rule(t, s, cat)
					r.Training = slices.DeleteFunc(r.Training, func(id string) bool { return id == "face_behind_the_case" })
				}
				s.RefreshMonths = map[string]int{"section_55_children": 12}
			},
			[]string{
				"Customer-facing with adults: removed Face Behind the Case",
				"Not customer-facing: removed Face Behind the Case",
				"Safeguarding children: the section 55 duty: refresh changed from 24 to 12 months",
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			noop := func(*testing.T, *requirements.Set) {}
			if tc.a == nil {
				tc.a = noop
			}
			if tc.b == nil {
				tc.b = noop
			}
			a := tailored(c, func(s *requirements.Set) { tc.a(t, s) })
			b := tailored(c, func(s *requirements.Set) { tc.b(t, s) })
			got := requirements.Diff(c, a, b)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Diff =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// A module or vetting type the catalogue no longer has still shows, by ID,
// so history written against an older catalogue reads sensibly.
func TestDiffNamesUnknownIDs(t *testing.T) {
	c := requirements.Default()
	a := c.Default.Clone()
	b := c.Default.Clone()
	b.Rules[0].Training = append(b.Rules[0].Training, "retired_module")
	b.Rules[0].Vetting = append(b.Rules[0].Vetting, []string{"retired_check"})
	got := requirements.Diff(c, a, b)
	want := []string{
		"Customer-facing with adults: added retired_module",
		"Customer-facing with adults: added vetting: retired_check",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := requirements.Default()
	a := c.Default
	a.RefreshMonths = map[string]int{"face_behind_the_case": 6}
	b := a.Clone()
	b.Rules[0].Training[0] = "x"
	b.Rules[0].Vetting[0][0] = "x"
	b.RefreshMonths["face_behind_the_case"] = 3
	if a.Rules[0].Training[0] == "x" || a.Rules[0].Vetting[0][0] == "x" || a.RefreshMonths["face_behind_the_case"] != 6 {
		t.Error("Clone shares memory with the original")
	}
}
