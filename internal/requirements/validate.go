package requirements

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem with a requirement set, addressed to the form
// field that caused it so the page can show it beside the field and in the
// error summary.
type FieldError struct {
	// Field names the form field: "rules.<category>" for a category's rule as
	// a whole, "rules.<category>.training", "rules.<category>.vetting", or
	// "refresh_months.<module>".
	Field string
	// Message says what is wrong and how to fix it, in GOV.UK style.
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

func joinFieldErrors(fe []FieldError) error {
	errs := make([]error, len(fe))
	for i, e := range fe {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Validate checks a requirement set, typically one a contract manager has
// tailored in a form, against the catalogue. It returns nothing for a valid
// set. A field gets at most one error, its first, as the GOV.UK error message
// pattern shows one message per field; the order is stable (rules in the
// order given, then missing categories, then refresh periods in catalogue
// order) so the error summary reads the same on every submission.
func (c *Catalogue) Validate(s Set) []FieldError {
	v := validation{}

	seenCategory := map[string]bool{}
	for _, r := range s.Rules {
		field := "rules." + r.Category
		if r.Category == "" {
			v.add("rules", "Select a staff category for each set of requirements")
			continue
		}
		if !slices.ContainsFunc(c.Categories, func(cat Category) bool { return cat.ID == r.Category }) {
			v.add(field, "Select a staff category from the list")
			continue
		}
		if seenCategory[r.Category] {
			v.add(field, c.CategoryName(r.Category)+" can only have one set of requirements")
			continue
		}
		seenCategory[r.Category] = true
		c.validateTraining(&v, field+".training", r.Training)
		c.validateVetting(&v, field+".vetting", r.Vetting)
	}

	// Every category needs a rule: a staff member in a category with no rule
	// would otherwise count as compliant by default.
	for _, cat := range c.Categories {
		if !seenCategory[cat.ID] {
			v.add("rules."+cat.ID, "Enter the training and vetting required for "+cat.Name)
		}
	}

	// Overrides in catalogue order, then unknown ones sorted, so the error
	// order does not depend on map iteration.
	ids := make([]string, 0, len(s.RefreshMonths))
	for id := range s.RefreshMonths {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return c.moduleOrder(a, b) })
	for _, id := range ids {
		field := "refresh_months." + id
		m, ok := c.Module(id)
		if !ok {
			v.add(field, "Select a training module from the list")
			continue
		}
		if n := s.RefreshMonths[id]; n < 1 || n > MaxMonths {
			v.add(field, fmt.Sprintf("Refresh period for %s must be between 1 and %d months", m.Name, MaxMonths))
		}
	}
	return v.errs
}

func (c *Catalogue) validateTraining(v *validation, field string, training []string) {
	seen := map[string]bool{}
	for _, id := range training {
		m, ok := c.Module(id)
		if !ok {
			v.add(field, "Select training modules from the list")
			return
		}
		if seen[id] {
			v.add(field, "Select "+m.Name+" only once")
			return
		}
		seen[id] = true
	}
}

func (c *Catalogue) validateVetting(v *validation, field string, vetting [][]string) {
	seen := map[string]bool{}
	for _, group := range vetting {
		if len(group) == 0 {
			v.add(field, "Select at least one vetting type for each vetting requirement")
			return
		}
		inGroup := map[string]bool{}
		for _, id := range group {
			vt, ok := c.VettingType(id)
			if !ok {
				v.add(field, "Select vetting types from the list")
				return
			}
			if inGroup[id] {
				v.add(field, "Select "+vt.Name+" only once in each vetting requirement")
				return
			}
			inGroup[id] = true
		}
		key := groupKey(group)
		if seen[key] {
			v.add(field, "Enter each vetting requirement only once")
			return
		}
		seen[key] = true
	}
}

// validation collects at most one error per field.
type validation struct{ errs []FieldError }

func (v *validation) add(field, message string) {
	if slices.ContainsFunc(v.errs, func(e FieldError) bool { return e.Field == field }) {
		return
	}
	v.errs = append(v.errs, FieldError{Field: field, Message: message})
}

// groupKey identifies a vetting requirement regardless of the order its
// alternatives are listed in.
func groupKey(group []string) string {
	g := slices.Clone(group)
	slices.Sort(g)
	g = slices.Compact(g)
	return strings.Join(g, "|")
}

// moduleOrder sorts module IDs in catalogue order, unknown IDs last by ID.
func (c *Catalogue) moduleOrder(a, b string) int {
	return indexOrder(c.moduleIndex(a), c.moduleIndex(b), a, b)
}

// categoryOrder sorts category IDs in catalogue order, unknown IDs last by ID.
func (c *Catalogue) categoryOrder(a, b string) int {
	return indexOrder(c.categoryIndex(a), c.categoryIndex(b), a, b)
}

func (c *Catalogue) moduleIndex(id string) int {
	return slices.IndexFunc(c.Modules, func(m Module) bool { return m.ID == id })
}

func (c *Catalogue) categoryIndex(id string) int {
	return slices.IndexFunc(c.Categories, func(cat Category) bool { return cat.ID == id })
}

func indexOrder(ia, ib int, a, b string) int {
	switch {
	case ia >= 0 && ib >= 0:
		return ia - ib
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	default:
		return strings.Compare(a, b)
	}
}
