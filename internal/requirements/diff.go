package requirements

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Equal reports whether two sets require the same things. The order of rules,
// of modules within a rule, and of vetting requirements and their
// alternatives does not matter, because a form may submit them in a
// different order from the one stored. An override equal to the catalogue's
// default still differs from no override: the first stays put when the
// default changes, the second follows it.
func (s Set) Equal(o Set) bool {
	return slices.EqualFunc(s.normalised(), o.normalised(), func(a, b normalRule) bool {
		return a.category == b.category && slices.Equal(a.training, b.training) && slices.Equal(a.vetting, b.vetting)
	}) && maps.Equal(s.RefreshMonths, o.RefreshMonths)
}

type normalRule struct {
	category string
	training []string // sorted, no repeats
	vetting  []string // group keys, sorted, no repeats
}

func (s Set) normalised() []normalRule {
	out := make([]normalRule, len(s.Rules))
	for i, r := range s.Rules {
		t := slices.Clone(r.Training)
		slices.Sort(t)
		v := make([]string, len(r.Vetting))
		for j, g := range r.Vetting {
			v[j] = groupKey(g)
		}
		slices.Sort(v)
		out[i] = normalRule{category: r.Category, training: slices.Compact(t), vetting: slices.Compact(v)}
	}
	slices.SortStableFunc(out, func(a, b normalRule) int { return strings.Compare(a.category, b.category) })
	return out
}

// Diff describes how b differs from a as plain English lines for a
// contract's change history, e.g.
//
//	Regulated activity with children: added Modern slavery: the referral process
//	Not customer-facing: vetting changed from Basic DBS check to Enhanced DBS check
//	Face Behind the Case: refresh changed from 12 to 6 months
//
// Lines come per category in catalogue order (modules added, modules removed,
// then vetting), then refresh periods in module order, so the same change
// always reads the same. A category missing from one set is read as requiring
// nothing. Refresh lines compare the periods that apply, so an override equal
// to the default is reported as such rather than as a change of period.
// Equal sets give no lines.
func Diff(c *Catalogue, a, b Set) []string {
	var lines []string

	var categories []string
	for _, r := range slices.Concat(a.Rules, b.Rules) {
		if !slices.Contains(categories, r.Category) {
			categories = append(categories, r.Category)
		}
	}
	slices.SortFunc(categories, c.categoryOrder)
	for _, cat := range categories {
		ra, _ := a.Rule(cat)
		rb, _ := b.Rule(cat)
		name := c.CategoryName(cat)
		for _, id := range c.sortedModules(missingFrom(rb.Training, ra.Training)) {
			lines = append(lines, name+": added "+c.moduleName(id))
		}
		for _, id := range c.sortedModules(missingFrom(ra.Training, rb.Training)) {
			lines = append(lines, name+": removed "+c.moduleName(id))
		}
		lines = append(lines, c.vettingDiff(name, ra.Vetting, rb.Vetting)...)
	}

	modules := make([]string, 0, len(c.Modules))
	for _, m := range c.Modules {
		modules = append(modules, m.ID)
	}
	for id := range maps.Keys(a.RefreshMonths) {
		modules = append(modules, id)
	}
	for id := range maps.Keys(b.RefreshMonths) {
		modules = append(modules, id)
	}
	for _, id := range c.sortedModules(modules) {
		lines = append(lines, refreshDiff(c, id, a, b)...)
	}
	return lines
}

// missingFrom lists the IDs in have that are not in other, without repeats.
func missingFrom(have, other []string) []string {
	var out []string
	for _, id := range have {
		if !slices.Contains(other, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// sortedModules orders module IDs as the catalogue does, dropping repeats.
func (c *Catalogue) sortedModules(ids []string) []string {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, c.moduleOrder)
	return slices.Compact(ids)
}

// vettingDiff compares vetting requirements as sets of alternatives. A removed
// requirement that shares a vetting type with an added one is reported as one
// change ("enhanced DBS with the children's barred list" narrowed to "with
// both lists"), which is how a contract manager thinks of the edit.
func (c *Catalogue) vettingDiff(category string, a, b [][]string) []string {
	removed := groupsMissingFrom(a, b)
	added := groupsMissingFrom(b, a)
	var lines []string
	paired := make([]bool, len(added))
	for _, old := range removed {
		// The first added requirement, not already paired, that shares a
		// vetting type with the removed one.
		j := -1
		for k, g := range added {
			if !paired[k] && slices.ContainsFunc(g, func(id string) bool { return slices.Contains(old, id) }) {
				j = k
				break
			}
		}
		if j < 0 {
			lines = append(lines, category+": removed vetting: "+c.describeGroup(old))
			continue
		}
		paired[j] = true
		lines = append(lines, fmt.Sprintf("%s: vetting changed from %s to %s", category, c.describeGroup(old), c.describeGroup(added[j])))
	}
	for j, g := range added {
		if !paired[j] {
			lines = append(lines, category+": added vetting: "+c.describeGroup(g))
		}
	}
	return lines
}

// groupsMissingFrom lists the requirements in have that other lacks, in
// have's order, each once.
func groupsMissingFrom(have, other [][]string) [][]string {
	otherKeys := map[string]bool{}
	for _, g := range other {
		otherKeys[groupKey(g)] = true
	}
	var out [][]string
	for _, g := range have {
		k := groupKey(g)
		if !otherKeys[k] {
			otherKeys[k] = true
			out = append(out, g)
		}
	}
	return out
}

// describeGroup names a requirement's alternatives in catalogue order:
// "Enhanced DBS check with children's barred list or Enhanced DBS check with
// children's and adults' barred lists".
func (c *Catalogue) describeGroup(group []string) string {
	ids := slices.Clone(group)
	slices.SortFunc(ids, func(a, b string) int {
		return indexOrder(c.vettingIndex(a), c.vettingIndex(b), a, b)
	})
	ids = slices.Compact(ids)
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = c.vettingName(id)
	}
	return strings.Join(names, " or ")
}

func (c *Catalogue) vettingIndex(id string) int {
	return slices.IndexFunc(c.Vetting, func(v VettingType) bool { return v.ID == id })
}

func refreshDiff(c *Catalogue, id string, a, b Set) []string {
	name := c.moduleName(id)
	pa, pb := a.Refresh(c, id), b.Refresh(c, id)
	oa, ob := a.RefreshMonths[id] > 0, b.RefreshMonths[id] > 0
	switch {
	case pa != pb && oa && !ob:
		return []string{name + ": refresh changed " + fromTo(pa, pb) + ", the default"}
	case pa != pb:
		return []string{name + ": refresh changed " + fromTo(pa, pb)}
	case !oa && ob:
		return []string{name + ": refresh kept at " + period(pb) + " for this contract, no longer following the default"}
	case oa && !ob:
		return []string{name + ": refresh now follows the default of " + period(pb)}
	}
	return nil
}

// fromTo writes a change of period: "from 12 to 6 months" when both ends
// share the plural unit, otherwise each end in full ("from 1 month to 6
// months", "from no refresh to 12 months").
func fromTo(from, to int) string {
	if from > 1 && to > 1 {
		return fmt.Sprintf("from %d to %d months", from, to)
	}
	return "from " + period(from) + " to " + period(to)
}

// period writes a refresh period for people: "12 months", "1 month", or
// "no refresh" for a module that never expires.
func period(n int) string {
	switch {
	case n <= 0:
		return "no refresh"
	case n == 1:
		return "1 month"
	default:
		return fmt.Sprintf("%d months", n)
	}
}
