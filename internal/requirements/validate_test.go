package requirements_test

import (
	"slices"
	"testing"

	"github.com/department/safeguarding-portal/internal/requirements"
)

// tailored returns a copy of the default set changed by edit, as a contract
// manager's form would submit it.
func tailored(c *requirements.Catalogue, edit func(s *requirements.Set)) requirements.Set {
	s := c.Default.Clone()
	edit(&s)
	return s
}

// rule returns a pointer to the set's rule for category, for editing.
func rule(t testing.TB, s *requirements.Set, category string) *requirements.Rule {
	t.Helper()
	i := slices.IndexFunc(s.Rules, func(r requirements.Rule) bool { return r.Category == category })
	if i < 0 {
		t.Fatalf("no rule for %s", category)
	}
	return &s.Rules[i]
}

func TestValidateAcceptsDefaultAndTailoredSets(t *testing.T) {
	c := requirements.Default()
	if errs := c.Validate(c.Default); errs != nil {
		t.Errorf("default: %v", errs)
	}
	ok := tailored(c, func(s *requirements.Set) {
		r := rule(t, s, "not_customer_facing")
		r.Training = append(r.Training, "traumatic_narratives")
		r.Vetting = append(r.Vetting, []string{"nsv_sc"})
		s.Rules[0], s.Rules[2] = s.Rules[2], s.Rules[0] // order of rules does not matter
		s.RefreshMonths = map[string]int{"face_behind_the_case": 1, "diversity_inclusion": 120}
	})
	if errs := c.Validate(ok); errs != nil {
		t.Errorf("tailored: %v", errs)
	}
	// A category may need no training at all if a contract decides so.
	none := tailored(c, func(s *requirements.Set) { rule(t, s, "not_customer_facing").Training = nil })
	if errs := c.Validate(none); errs != nil {
		t.Errorf("no training: %v", errs)
	}
}

func TestValidateCatchesEachKindOfError(t *testing.T) {
	const children = "regulated_activity_children"
	cases := []struct {
		name string
		edit func(t *testing.T, s *requirements.Set)
		want requirements.FieldError
	}{
		{"unknown category", func(t *testing.T, s *requirements.Set) {
			s.Rules = append(s.Rules, requirements.Rule{Category: "volunteers"})
		}, requirements.FieldError{Field: "rules.volunteers", Message: "Select a staff category from the list"}},
		{"empty category", func(t *testing.T, s *requirements.Set) {
			s.Rules = append(s.Rules, requirements.Rule{})
		}, requirements.FieldError{Field: "rules", Message: "Select a staff category for each set of requirements"}},
		{"category missing", func(t *testing.T, s *requirements.Set) {
			s.Rules = slices.DeleteFunc(s.Rules, func(r requirements.Rule) bool { return r.Category == children })
		}, requirements.FieldError{Field: "rules." + children, Message: "Enter the training and vetting required for Regulated activity with children"}},
		{"duplicate rule", func(t *testing.T, s *requirements.Set) {
			s.Rules = append(s.Rules, requirements.Rule{Category: children})
		}, requirements.FieldError{Field: "rules." + children, Message: "Regulated activity with children can only have one set of requirements"}},
		{"unknown module", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, children)
			r.Training = append(r.Training, "first_aid")
		}, requirements.FieldError{Field: "rules." + children + ".training", Message: "Select training modules from the list"}},
		{"duplicate module", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, children)
			r.Training = append(r.Training, "face_behind_the_case")
		}, requirements.FieldError{Field: "rules." + children + ".training", Message: "Select Face Behind the Case only once"}},
		{"unknown vetting type", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, children)
			r.Vetting[0] = append(r.Vetting[0], "dbs_premium")
		}, requirements.FieldError{Field: "rules." + children + ".vetting", Message: "Select vetting types from the list"}},
		{"empty vetting requirement", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, children)
			r.Vetting = append(r.Vetting, []string{})
		}, requirements.FieldError{Field: "rules." + children + ".vetting", Message: "Select at least one vetting type for each vetting requirement"}},
		{"vetting type twice in a requirement", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, children)
			r.Vetting = append(r.Vetting, []string{"nsv_sc", "nsv_sc"})
		}, requirements.FieldError{Field: "rules." + children + ".vetting", Message: "Select Security Check (SC) only once in each vetting requirement"}},
		{"duplicate vetting requirement", func(t *testing.T, s *requirements.Set) {
			r := rule(t, s, children)
			r.Vetting = append(r.Vetting, []string{"dbs_enhanced_both_barred", "dbs_enhanced_children_barred"})
		}, requirements.FieldError{Field: "rules." + children + ".vetting", Message: "Enter each vetting requirement only once"}},
		{"refresh for unknown module", func(t *testing.T, s *requirements.Set) {
			s.RefreshMonths = map[string]int{"first_aid": 12}
		}, requirements.FieldError{Field: "refresh_months.first_aid", Message: "Select a training module from the list"}},
		{"refresh zero", func(t *testing.T, s *requirements.Set) {
			s.RefreshMonths = map[string]int{"face_behind_the_case": 0}
		}, requirements.FieldError{Field: "refresh_months.face_behind_the_case", Message: "Refresh period for Face Behind the Case must be between 1 and 120 months"}},
		{"refresh negative", func(t *testing.T, s *requirements.Set) {
			s.RefreshMonths = map[string]int{"face_behind_the_case": -6}
		}, requirements.FieldError{Field: "refresh_months.face_behind_the_case", Message: "Refresh period for Face Behind the Case must be between 1 and 120 months"}},
		{"refresh too long", func(t *testing.T, s *requirements.Set) {
			s.RefreshMonths = map[string]int{"suicide_self_harm": 121}
		}, requirements.FieldError{Field: "refresh_months.suicide_self_harm", Message: "Refresh period for Suicide and self-harm awareness must be between 1 and 120 months"}},
	}
	c := requirements.Default()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tailored(c, func(s *requirements.Set) { tc.edit(t, s) })
			errs := c.Validate(s)
			if len(errs) != 1 || errs[0] != tc.want {
				t.Errorf("Validate = %v, want exactly %v", errs, tc.want)
			}
		})
	}
}

// One message per field, as GOV.UK shows them, in a stable order.
func TestValidateOrderAndOneErrorPerField(t *testing.T) {
	c := requirements.Default()
	s := tailored(c, func(s *requirements.Set) {
		r := rule(t, s, "customer_facing_adults")
		r.Training = append(r.Training, "first_aid", "another_unknown", "face_behind_the_case")
		s.Rules = slices.DeleteFunc(s.Rules, func(r requirements.Rule) bool { return r.Category == "not_customer_facing" })
		s.RefreshMonths = map[string]int{"zzz": 1, "face_behind_the_case": 0, "vulnerability_awareness": 200, "aaa": 1}
	})
	var fields []string
	for range 5 { // map iteration must not change the order
		errs := c.Validate(s)
		got := make([]string, len(errs))
		for i, e := range errs {
			got[i] = e.Field
		}
		if fields == nil {
			fields = got
		} else if !slices.Equal(got, fields) {
			t.Fatalf("order changed: %v then %v", fields, got)
		}
	}
	want := []string{
		"rules.customer_facing_adults.training",
		"rules.not_customer_facing",
		"refresh_months.vulnerability_awareness",
		"refresh_months.face_behind_the_case",
		"refresh_months.aaa",
		"refresh_months.zzz",
	}
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v\nwant     %v", fields, want)
	}
}

func TestFieldErrorIsAnError(t *testing.T) {
	var err error = requirements.FieldError{Field: "rules.x", Message: "Select a staff category from the list"}
	if err.Error() != "rules.x: Select a staff category from the list" {
		t.Errorf("Error() = %q", err.Error())
	}
}
