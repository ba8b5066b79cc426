package incident

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/strictyaml"
)

// Period is a deadline as the rules file writes it: exactly one of hours or
// working days.
type Period struct {
	Hours       int `yaml:"hours"`
	WorkingDays int `yaml:"working_days"`
}

// Rule is the period as the deadline engine counts it.
func (p Period) Rule() deadline.Rule {
	return deadline.Rule{Hours: p.Hours, WorkingDays: p.WorkingDays}
}

// Condition narrows a regime to some incidents; empty fields match all.
type Condition struct {
	AgeGroup     string   `yaml:"age_group"`
	ServiceLines []string `yaml:"service_lines"`
}

// Regime is a notification duty beyond the department's own, such as the
// Information Commissioner's 72 hours for a personal data breach.
type Regime struct {
	ID       string    `yaml:"id"`
	Name     string    `yaml:"name"`
	Deadline Period    `yaml:"deadline"`
	When     Condition `yaml:"when"`
}

// Category is a kind of serious incident.
type Category struct {
	ID                  string   `yaml:"id"`
	Name                string   `yaml:"name"`
	Critical            bool     `yaml:"critical"`
	CriticalForChildren bool     `yaml:"critical_for_children"`
	CriticalIndicators  []string `yaml:"critical_indicators"`
	Regimes             []Regime `yaml:"regimes"`
}

// Rules are the incident categories and their deadlines, from
// config/incidents.yaml.
type Rules struct {
	StandardDeadline Period `yaml:"standard_deadline"`
	CriticalDeadline Period `yaml:"critical_deadline"`
	// The department's own deadlines to acknowledge a notified incident,
	// counted from when it was notified.
	StandardAcknowledgement Period     `yaml:"standard_acknowledgement"`
	CriticalAcknowledgement Period     `yaml:"critical_acknowledgement"`
	Categories              []Category `yaml:"categories"`
}

//go:embed incidents.yaml
var defaultYAML []byte

// DefaultRules are the rules built into the binary: the same as config/incidents.yaml.
func DefaultRules() *Rules {
	r, err := ParseRules(defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("embedded incident rules: %v", err))
	}
	return r
}

// LoadRules reads and validates an incident rules file.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read incident rules: %w", err)
	}
	r, err := ParseRules(data)
	if err != nil {
		return nil, fmt.Errorf("incident rules %s: %w", path, err)
	}
	return r, nil
}

// ParseRules reads an incident rules file strictly: a misspelt key is an
// error, never a silent default, since a wrong deadline misreports a legal duty.
func ParseRules(data []byte) (*Rules, error) {
	var r Rules
	if err := strictyaml.Decode(data, "incident rules", &r); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("invalid incident rules: %w", err)
	}
	return &r, nil
}

var ruleID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

func checkPeriod(where string, p Period) error {
	if err := p.Rule().Validate(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

func (r *Rules) check() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(checkPeriod("standard_deadline", r.StandardDeadline))
	add(checkPeriod("critical_deadline", r.CriticalDeadline))
	add(checkPeriod("standard_acknowledgement", r.StandardAcknowledgement))
	add(checkPeriod("critical_acknowledgement", r.CriticalAcknowledgement))
	if len(r.Categories) == 0 {
		add(errors.New("categories: at least one is needed"))
	}
	seen := map[string]bool{}
	for i, c := range r.Categories {
		where := fmt.Sprintf("categories[%d]", i)
		switch {
		case !ruleID.MatchString(c.ID):
			add(fmt.Errorf("%s: id %q must be lower case letters, digits and underscores", where, c.ID))
		case seen[c.ID]:
			add(fmt.Errorf("%s: id %q appears twice", where, c.ID))
		}
		seen[c.ID] = true
		if c.Name == "" {
			add(fmt.Errorf("%s: name is missing", where))
		}
		for _, ind := range c.CriticalIndicators {
			if IndicatorName(ind) == "" {
				add(fmt.Errorf("%s: critical_indicators: unknown indicator %q", where, ind))
			}
		}
		regimes := map[string]bool{}
		for j, g := range c.Regimes {
			gw := fmt.Sprintf("%s.regimes[%d]", where, j)
			switch {
			case !ruleID.MatchString(g.ID) || g.ID == "department":
				add(fmt.Errorf("%s: id %q must be lower case letters, digits and underscores, and not \"department\"", gw, g.ID))
			case regimes[g.ID]:
				add(fmt.Errorf("%s: id %q appears twice", gw, g.ID))
			}
			regimes[g.ID] = true
			if g.Name == "" {
				add(fmt.Errorf("%s: name is missing", gw))
			}
			add(checkPeriod(gw+".deadline", g.Deadline))
			if g.When.AgeGroup != "" && g.When.AgeGroup != Child && g.When.AgeGroup != Adult {
				add(fmt.Errorf("%s.when: age_group must be child or adult", gw))
			}
			for _, line := range g.When.ServiceLines {
				if partner.ServiceLineName(line) == "" {
					add(fmt.Errorf("%s.when: unknown service line %q", gw, line))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Category returns the category with id.
func (r *Rules) Category(id string) (Category, bool) {
	i := slices.IndexFunc(r.Categories, func(c Category) bool { return c.ID == id })
	if i < 0 {
		return Category{}, false
	}
	return r.Categories[i], true
}

// IsCritical reports whether an incident of this category, about a customer
// of this age group with these indicators, is critical.
func (c Category) IsCritical(ageGroup string, indicators []string) bool {
	if c.Critical || (c.CriticalForChildren && ageGroup == Child) {
		return true
	}
	for _, ind := range c.CriticalIndicators {
		if slices.Contains(indicators, ind) {
			return true
		}
	}
	return false
}

// applies reports whether a regime covers an incident.
func (g Regime) applies(ageGroup, serviceLine string) bool {
	if g.When.AgeGroup != "" && g.When.AgeGroup != ageGroup {
		return false
	}
	return len(g.When.ServiceLines) == 0 || slices.Contains(g.When.ServiceLines, serviceLine)
}
