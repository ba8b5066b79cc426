package requirements_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/requirements"
)

// shippedPath is the file operators read and copy, relative to this package.
const shippedPath = "../../config/requirements.yaml"

func TestShippedFileLoads(t *testing.T) {
	c, err := requirements.Load(shippedPath)
	if err != nil {
		t.Fatalf("Load(%s): %v", shippedPath, err)
	}
	if errs := c.Validate(c.Default); len(errs) > 0 {
		t.Errorf("default set is invalid: %v", errs)
	}
}

// The binary embeds its own copy; if the two drift, operators would read one
// policy and the portal would enforce another.
func TestEmbeddedCopyIsByteIdenticalToConfig(t *testing.T) {
	shipped, err := os.ReadFile(shippedPath)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := os.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, embedded) {
		t.Fatal("internal/requirements/default.yaml differs from config/requirements.yaml: copy config/requirements.yaml over it")
	}
}

func TestDefaultMatchesShippedFile(t *testing.T) {
	loaded, err := requirements.Load(shippedPath)
	if err != nil {
		t.Fatal(err)
	}
	d := requirements.Default()
	if !d.Default.Equal(loaded.Default) || !slices.Equal(d.Modules, loaded.Modules) ||
		!slices.Equal(d.Vetting, loaded.Vetting) || !slices.Equal(d.Categories, loaded.Categories) {
		t.Error("Default() differs from the shipped file")
	}
}

// A contract tailoring its copy of the default must not change the next one's.
func TestDefaultReturnsIndependentCopies(t *testing.T) {
	a := requirements.Default()
	a.Default.Rules[0].Training[0] = "changed"
	a.Default.Rules[0].Vetting[0][0] = "changed"
	a.Modules[0].RefreshMonths = 99
	b := requirements.Default()
	if b.Default.Rules[0].Training[0] == "changed" || b.Default.Rules[0].Vetting[0][0] == "changed" || b.Modules[0].RefreshMonths == 99 {
		t.Error("changing one Default() changed another")
	}
}

func TestEveryMandatedModuleAppearsExactlyOnce(t *testing.T) {
	mandated := []requirements.Module{
		{ID: "vulnerability_awareness", Name: "Vulnerability awareness"},
		{ID: "diversity_inclusion", Name: "Diversity and inclusion"},
		{ID: "discrimination_awareness", Name: "Discrimination awareness"},
		{ID: "suicide_self_harm", Name: "Suicide and self-harm awareness"},
		{ID: "customer_health_safety", Name: "Health and safety of customers"},
		{ID: "traumatic_narratives", Name: "Psychological factors arising from exposure to traumatic narratives"},
		{ID: "section_55_children", Name: "Safeguarding children: the section 55 duty"},
		{ID: "modern_slavery_referral", Name: "Modern slavery: the referral process"},
		{ID: "face_behind_the_case", Name: "Face Behind the Case"},
	}
	c := requirements.Default()
	if len(c.Modules) != len(mandated) {
		t.Errorf("%d modules, want the %d mandated", len(c.Modules), len(mandated))
	}
	for _, want := range mandated {
		n := 0
		for _, m := range c.Modules {
			if m.ID == want.ID {
				n++
				if m.Name != want.Name {
					t.Errorf("module %s is named %q, want %q", m.ID, m.Name, want.Name)
				}
				if m.RefreshMonths < 1 || m.RefreshMonths > requirements.MaxMonths {
					t.Errorf("module %s refreshes every %d months", m.ID, m.RefreshMonths)
				}
			}
		}
		if n != 1 {
			t.Errorf("module %s appears %d times", want.ID, n)
		}
	}
	// The inspection response makes Face Behind the Case an annual requirement.
	if m, _ := c.Module("face_behind_the_case"); m.RefreshMonths != 12 {
		t.Errorf("Face Behind the Case refreshes every %d months, want 12", m.RefreshMonths)
	}
}

func TestEveryCategoryHasExactlyOneRule(t *testing.T) {
	c := requirements.Default()
	want := []requirements.Category{
		{ID: "customer_facing_adults", Name: "Customer-facing with adults"},
		{ID: "regulated_activity_children", Name: "Regulated activity with children"},
		{ID: "not_customer_facing", Name: "Not customer-facing"},
	}
	if !slices.Equal(c.Categories, want) {
		t.Errorf("categories = %v, want %v", c.Categories, want)
	}
	for _, cat := range c.Categories {
		n := 0
		for _, r := range c.Default.Rules {
			if r.Category == cat.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d rules", cat.ID, n)
		}
	}
}

// satisfiedOnlyBy reports whether the rule has a vetting requirement that
// nothing outside allowed can meet.
func satisfiedOnlyBy(r requirements.Rule, allowed ...string) bool {
	return slices.ContainsFunc(r.Vetting, func(g []string) bool {
		return len(g) > 0 && !slices.ContainsFunc(g, func(id string) bool { return !slices.Contains(allowed, id) })
	})
}

func hasGroup(r requirements.Rule, want ...string) bool {
	return slices.ContainsFunc(r.Vetting, func(g []string) bool {
		g = slices.Clone(g)
		w := slices.Clone(want)
		slices.Sort(g)
		slices.Sort(w)
		return slices.Equal(g, w)
	})
}

func TestDefaultVetting(t *testing.T) {
	s := requirements.Default().Default
	children, _ := s.Rule("regulated_activity_children")
	adults, _ := s.Rule("customer_facing_adults")
	back, _ := s.Rule("not_customer_facing")

	// Action plan item 7: regulated activity with children needs a DBS check
	// that includes the children's barred list, and only such a check will do.
	if !satisfiedOnlyBy(children, "dbs_enhanced_children_barred", "dbs_enhanced_both_barred") ||
		!hasGroup(children, "dbs_enhanced_children_barred", "dbs_enhanced_both_barred") {
		t.Errorf("regulated activity with children vetting = %v", children.Vetting)
	}
	if !hasGroup(adults, "dbs_enhanced", "dbs_enhanced_children_barred", "dbs_enhanced_adults_barred", "dbs_enhanced_both_barred") {
		t.Errorf("customer-facing with adults should accept any enhanced DBS: %v", adults.Vetting)
	}
	if !hasGroup(back, "dbs_basic", "dbs_standard", "dbs_enhanced", "dbs_enhanced_children_barred", "dbs_enhanced_adults_barred", "dbs_enhanced_both_barred") {
		t.Errorf("not customer-facing should accept any DBS level: %v", back.Vetting)
	}
	for _, r := range s.Rules {
		if !hasGroup(r, "right_to_work") {
			t.Errorf("%s does not require right to work", r.Category)
		}
		if !hasGroup(r, "nsv_bpss", "nsv_ctc", "nsv_sc", "nsv_dv") {
			t.Errorf("%s does not require BPSS or a higher clearance", r.Category)
		}
	}
	// Action plan item 6 names all staff for section 55 and modern slavery.
	for _, r := range s.Rules {
		for _, m := range []string{"section_55_children", "modern_slavery_referral", "face_behind_the_case"} {
			if !slices.Contains(r.Training, m) {
				t.Errorf("%s does not require %s", r.Category, m)
			}
		}
	}
	if len(children.Training) != 9 || len(adults.Training) != 9 {
		t.Errorf("customer-facing categories should need all 9 modules: children %v, adults %v", children.Training, adults.Training)
	}
}

func TestVettingRecheckPeriods(t *testing.T) {
	want := map[string]int{
		"dbs_basic": 36, "dbs_standard": 36, "dbs_enhanced": 36,
		"dbs_enhanced_children_barred": 36, "dbs_enhanced_adults_barred": 36, "dbs_enhanced_both_barred": 36,
		"nsv_bpss": 0, "nsv_ctc": 120, "nsv_sc": 120, "nsv_dv": 84, "right_to_work": 0,
	}
	c := requirements.Default()
	if len(c.Vetting) != len(want) {
		t.Errorf("%d vetting types, want %d", len(c.Vetting), len(want))
	}
	for id, months := range want {
		v, ok := c.VettingType(id)
		if !ok {
			t.Errorf("no vetting type %s", id)
			continue
		}
		if v.RecheckMonths != months || v.Name == "" {
			t.Errorf("%s = %+v, want re-check every %d months", id, v, months)
		}
	}
}

func TestLookups(t *testing.T) {
	c := requirements.Default()
	if m, ok := c.Module("modern_slavery_referral"); !ok || m.Name != "Modern slavery: the referral process" {
		t.Errorf("Module = %+v, %v", m, ok)
	}
	if _, ok := c.Module("nope"); ok {
		t.Error("Module found an unknown ID")
	}
	if v, ok := c.VettingType("nsv_dv"); !ok || v.RecheckMonths != 84 {
		t.Errorf("VettingType = %+v, %v", v, ok)
	}
	if _, ok := c.VettingType("nope"); ok {
		t.Error("VettingType found an unknown ID")
	}
	if got := c.CategoryName("not_customer_facing"); got != "Not customer-facing" {
		t.Errorf("CategoryName = %q", got)
	}
	if got := c.CategoryName("retired_category"); got != "retired_category" {
		t.Errorf("CategoryName of an unknown ID = %q, want the ID", got)
	}
	if _, ok := c.Default.Rule("nope"); ok {
		t.Error("Rule found an unknown category")
	}
}

func TestRefresh(t *testing.T) {
	c := requirements.Default()
	s := c.Default.Clone()
	if got := s.Refresh(c, "face_behind_the_case"); got != 12 {
		t.Errorf("default refresh = %d, want 12", got)
	}
	s.RefreshMonths = map[string]int{"face_behind_the_case": 6, "suicide_self_harm": 0}
	if got := s.Refresh(c, "face_behind_the_case"); got != 6 {
		t.Errorf("overridden refresh = %d, want 6", got)
	}
	// An invalid zero override must not turn into "never expires".
	if got := s.Refresh(c, "suicide_self_harm"); got != 12 {
		t.Errorf("zero override gave %d, want the default 12", got)
	}
	if got := s.Refresh(c, "nope"); got != 0 {
		t.Errorf("unknown module refresh = %d", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := requirements.Load("no/such/requirements.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want it to wrap fs.ErrNotExist", err)
	}
}

// minimal is a small valid file that the parse tests break one piece at a time.
const minimal = `
categories:
  - id: staff
    name: Staff
modules:
  - id: induction
    name: Induction
    refresh_months: 12
vetting:
  - id: check
    name: Check
    recheck_months: 0
default:
  rules:
    - category: staff
      training: [induction]
      vetting:
        - [check]
  refresh_months: {}
`

func TestParseMinimal(t *testing.T) {
	c, err := requirements.Parse([]byte(minimal))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if r, ok := c.Default.Rule("staff"); !ok || !slices.Equal(r.Training, []string{"induction"}) {
		t.Errorf("rule = %+v, %v", r, ok)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown top-level key", "categories:", "extra: 1\ncategories:", "field extra not found"},
		{"unknown module key", "    refresh_months: 12", "    refresh_month: 12", "field refresh_month not found"},
		{"unknown rule key", "      training: [induction]", "      trainings: [induction]", "field trainings not found"},
		{"unknown set key", "  refresh_months: {}", "  refresh: {}", "field refresh not found"},
		{"second document", "  refresh_months: {}", "  refresh_months: {}\n---\nother: 1", "one YAML document"},
		{"wrong type", "refresh_months: 12", "refresh_months: yearly", "cannot unmarshal"},
		{"bad ID", "id: induction", "id: Induction-1", "lower-case"},
		{"duplicate ID across lists", "id: check", "id: induction", `"induction" is already used by a module`},
		{"missing name", "name: Check", "name: \"\"", "has no name"},
		{"refresh too long", "refresh_months: 12", "refresh_months: 121", "between 0 and 120"},
		{"negative re-check", "recheck_months: 0", "recheck_months: -1", "between 0 and 120"},
		{"default names unknown module", "training: [induction]", "training: [inductoin]", "Select training modules from the list"},
		{"default misses a category", "    - category: staff", "    - category: other", "Select a staff category from the list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := strings.Replace(minimal, tc.old, tc.new, 1)
			if data == minimal {
				t.Fatalf("case does not change the file: %q", tc.old)
			}
			_, err := requirements.Parse([]byte(data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	for _, empty := range []string{"", "# only a comment\n"} {
		if _, err := requirements.Parse([]byte(empty)); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Parse(%q) err = %v", empty, err)
		}
	}
	if _, err := requirements.Parse([]byte("categories: []\nmodules: []\nvetting: []\ndefault: {rules: []}\n")); err == nil {
		t.Error("an empty catalogue was accepted")
	}
}
