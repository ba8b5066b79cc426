// Package requirements holds what partner staff must have to work on the
// department's contracts: for each staff category, the mandatory training
// modules and how often they must be refreshed, and the vetting required.
//
// The catalogue (categories, modules, vetting types and the default set) ships
// as config/requirements.yaml, the file operators read and copy; Load reads an
// operator's copy. The binary embeds a byte-identical copy (default.yaml in
// this package, kept identical by a test, because go:embed cannot reach
// outside the package directory) so Default works with no config/ present.
//
// Each contract carries its own Set, starting as a copy of the default and
// tailored by its contract managers. A Set names modules and vetting types by
// ID only; names and default periods come from the Catalogue, so renaming a
// module never rewrites stored contracts. This package does no I/O beyond
// reading the file it is given.
package requirements

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/department/safeguarding-portal/internal/strictyaml"
)

// MaxMonths bounds every refresh and re-check period. The longest real period
// is national security vetting's 10-year review; anything longer is a typo.
const MaxMonths = 120

// Module is a mandated training module.
type Module struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// RefreshMonths is how long a completion counts by default; 0 means it
	// never expires. A contract's Set may override it.
	RefreshMonths int `yaml:"refresh_months"`
}

// VettingType is a kind of vetting record: a DBS level, a national security
// vetting level, or the right to work check.
type VettingType struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// RecheckMonths is the policy period after issue at which the check must
	// be repeated; 0 means no routine re-check (BPSS, right to work).
	RecheckMonths int `yaml:"recheck_months"`
}

// Category is a staff category; every staff member is in exactly one.
type Category struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

// Rule is what one staff category must have.
type Rule struct {
	Category string `yaml:"category" bson:"category"`
	// Training holds the IDs of the modules the category must complete.
	Training []string `yaml:"training" bson:"training"`
	// Vetting: each inner list is one requirement satisfied by ANY of its
	// vetting type IDs, so "enhanced DBS with the children's barred list"
	// accepts a check against both lists too.
	Vetting [][]string `yaml:"vetting" bson:"vetting"`
}

// Set is a contract's requirement set: one Rule per category, plus
// per-module refresh overrides.
type Set struct {
	Rules []Rule `yaml:"rules" bson:"rules"`
	// RefreshMonths maps a module ID to months, overriding the catalogue
	// default for this contract. Absent means the catalogue's period applies.
	RefreshMonths map[string]int `yaml:"refresh_months" bson:"refresh_months"`
}

// Catalogue is everything a requirement set may refer to, and the set new
// contracts start from.
type Catalogue struct {
	Categories []Category    `yaml:"categories"`
	Modules    []Module      `yaml:"modules"`
	Vetting    []VettingType `yaml:"vetting"`
	Default    Set           `yaml:"default"`
}

// defaultYAML is the embedded copy of config/requirements.yaml.
//
//go:embed default.yaml
var defaultYAML []byte

// defaultCatalogue parses the embedded file once; Default hands out copies.
var defaultCatalogue = sync.OnceValues(func() (*Catalogue, error) { return Parse(defaultYAML) })

// Default returns the catalogue built into the binary: the same as
// config/requirements.yaml. Each call returns a fresh copy, so a caller that
// tailors its Default set cannot change anyone else's. It panics if the
// embedded file is invalid, which the package's tests rule out.
func Default() *Catalogue {
	c, err := defaultCatalogue()
	if err != nil {
		panic(fmt.Sprintf("embedded default requirements: %v", err))
	}
	return c.clone()
}

// Load reads and validates a requirements file such as config/requirements.yaml.
func Load(path string) (*Catalogue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read requirements file: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("requirements file %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a requirements file's contents strictly (an unknown key is an
// error, so a misspelt "refresh_month" cannot silently fall back to a default)
// and validates the catalogue and its default set.
func Parse(data []byte) (*Catalogue, error) {
	var c Catalogue
	if err := strictyaml.Decode(data, "requirements", &c); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("invalid requirements catalogue: %w", err)
	}
	if errs := c.Validate(c.Default); len(errs) > 0 {
		return nil, fmt.Errorf("invalid default requirement set: %w", joinFieldErrors(errs))
	}
	return &c, nil
}

// idPattern keeps IDs safe to use in form field names, URLs and Mongo keys.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// check validates the catalogue itself: IDs well formed and unique across all
// three lists (a form field or history line must never be ambiguous about
// what an ID names), names present, periods in range.
func (c *Catalogue) check() error {
	var errs []error
	seen := map[string]string{}
	id := func(kind, id, name string) {
		switch {
		case !idPattern.MatchString(id):
			errs = append(errs, fmt.Errorf("%s ID %q must be lower-case letters, digits and underscores, starting with a letter", kind, id))
		case seen[id] != "":
			errs = append(errs, fmt.Errorf("%s ID %q is already used by a %s", kind, id, seen[id]))
		default:
			seen[id] = kind
		}
		if strings.TrimSpace(name) == "" {
			errs = append(errs, fmt.Errorf("%s %q has no name", kind, id))
		}
	}
	period := func(kind, id, field string, months int) {
		if months < 0 || months > MaxMonths {
			errs = append(errs, fmt.Errorf("%s %q: %s must be between 0 and %d", kind, id, field, MaxMonths))
		}
	}
	if len(c.Categories) == 0 {
		errs = append(errs, errors.New("no categories"))
	}
	if len(c.Modules) == 0 {
		errs = append(errs, errors.New("no modules"))
	}
	if len(c.Vetting) == 0 {
		errs = append(errs, errors.New("no vetting types"))
	}
	for _, cat := range c.Categories {
		id("category", cat.ID, cat.Name)
	}
	for _, m := range c.Modules {
		id("module", m.ID, m.Name)
		period("module", m.ID, "refresh_months", m.RefreshMonths)
	}
	for _, v := range c.Vetting {
		id("vetting type", v.ID, v.Name)
		period("vetting type", v.ID, "recheck_months", v.RecheckMonths)
	}
	return errors.Join(errs...)
}

// Module looks up a training module by ID.
func (c *Catalogue) Module(id string) (Module, bool) {
	i := slices.IndexFunc(c.Modules, func(m Module) bool { return m.ID == id })
	if i < 0 {
		return Module{}, false
	}
	return c.Modules[i], true
}

// VettingType looks up a vetting type by ID.
func (c *Catalogue) VettingType(id string) (VettingType, bool) {
	i := slices.IndexFunc(c.Vetting, func(v VettingType) bool { return v.ID == id })
	if i < 0 {
		return VettingType{}, false
	}
	return c.Vetting[i], true
}

// CategoryName is the category's name as people read it, or the ID itself if
// the catalogue no longer has it, so an old record still shows something.
func (c *Catalogue) CategoryName(id string) string {
	for _, cat := range c.Categories {
		if cat.ID == id {
			return cat.Name
		}
	}
	return id
}

// moduleName is the module's name, or its ID if the catalogue lacks it.
func (c *Catalogue) moduleName(id string) string {
	if m, ok := c.Module(id); ok {
		return m.Name
	}
	return id
}

// vettingName is the vetting type's name, or its ID if the catalogue lacks it.
func (c *Catalogue) vettingName(id string) string {
	if v, ok := c.VettingType(id); ok {
		return v.Name
	}
	return id
}

// Rule returns the set's rule for a staff category.
func (s Set) Rule(category string) (Rule, bool) {
	i := slices.IndexFunc(s.Rules, func(r Rule) bool { return r.Category == category })
	if i < 0 {
		return Rule{}, false
	}
	return s.Rules[i], true
}

// Refresh is the refresh period in months for a module under this set: the
// contract's override if it has one, otherwise the catalogue's default.
// 0 means completions never expire; an unknown module (which Validate
// refuses) also gives 0. An override of 0 or less, which Validate also
// refuses, is ignored rather than read as "never expires".
func (s Set) Refresh(c *Catalogue, moduleID string) int {
	if n := s.RefreshMonths[moduleID]; n > 0 {
		return n
	}
	if m, ok := c.Module(moduleID); ok {
		return m.RefreshMonths
	}
	return 0
}

// Clone returns a deep copy, so a contract can start from the default set
// and be tailored without changing the default.
func (s Set) Clone() Set {
	out := Set{RefreshMonths: maps.Clone(s.RefreshMonths)}
	if s.Rules != nil {
		out.Rules = make([]Rule, len(s.Rules))
	}
	for i, r := range s.Rules {
		out.Rules[i] = Rule{Category: r.Category, Training: slices.Clone(r.Training)}
		if r.Vetting != nil {
			out.Rules[i].Vetting = make([][]string, len(r.Vetting))
			for j, g := range r.Vetting {
				out.Rules[i].Vetting[j] = slices.Clone(g)
			}
		}
	}
	return out
}

// Clone returns a copy that can be changed without changing c.
func (c *Catalogue) Clone() *Catalogue { return c.clone() }

func (c *Catalogue) clone() *Catalogue {
	return &Catalogue{
		Categories: slices.Clone(c.Categories),
		Modules:    slices.Clone(c.Modules),
		Vetting:    slices.Clone(c.Vetting),
		Default:    c.Default.Clone(),
	}
}
