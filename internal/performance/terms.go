package performance

import (
	_ "embed"
	"errors"
	"fmt"
	"os"

	"github.com/department/safeguarding-portal/internal/partner"
	"github.com/department/safeguarding-portal/internal/strictyaml"
)

// Terms are a contract's performance terms (see partner.PerformanceTerms).
type Terms = partner.PerformanceTerms

//go:embed terms.yaml
var defaultYAML []byte

// DefaultTerms are the terms built into the binary: the same as
// config/performance.yaml.
func DefaultTerms() *Terms {
	t, err := ParseTerms(defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("embedded performance terms: %v", err))
	}
	return t
}

// LoadTerms reads and checks a performance terms file.
func LoadTerms(path string) (*Terms, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read performance terms: %w", err)
	}
	t, err := ParseTerms(data)
	if err != nil {
		return nil, fmt.Errorf("performance terms %s: %w", path, err)
	}
	return t, nil
}

// termsFile is the file's layout. Every figure must be written out: a
// figure left out would silently score nothing, and a threshold of 0
// would put every partner in line for service credits.
type termsFile struct {
	Points struct {
		LateNotification  *int `yaml:"late_notification"`
		OverdueAction     *int `yaml:"overdue_action"`
		StaffNotCompliant *int `yaml:"staff_not_compliant"`
		FailedInspection  *int `yaml:"failed_inspection"`
	} `yaml:"points"`
	GraceDays *int `yaml:"grace_days"`
	Threshold *int `yaml:"service_credit_threshold"`
}

// ParseTerms reads a performance terms file strictly: an unknown or
// missing key is an error, as the figures decide what partners owe.
func ParseTerms(data []byte) (*Terms, error) {
	var f termsFile
	if err := strictyaml.Decode(data, "performance terms", &f); err != nil {
		return nil, err
	}
	var missing []error
	get := func(key string, v *int) int {
		if v == nil {
			missing = append(missing, fmt.Errorf("%s is missing", key))
			return 0
		}
		return *v
	}
	t := Terms{
		LateNotification:  get("points.late_notification", f.Points.LateNotification),
		OverdueAction:     get("points.overdue_action", f.Points.OverdueAction),
		StaffNotCompliant: get("points.staff_not_compliant", f.Points.StaffNotCompliant),
		FailedInspection:  get("points.failed_inspection", f.Points.FailedInspection),
		GraceDays:         get("grace_days", f.GraceDays),
		Threshold:         get("service_credit_threshold", f.Threshold),
	}
	if err := errors.Join(missing...); err != nil {
		return nil, fmt.Errorf("invalid performance terms: %w", err)
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("invalid performance terms: %w", err)
	}
	return &t, nil
}

// PointsFor is what a failure against indicator scores under t.
func PointsFor(t Terms, indicator string) int {
	switch indicator {
	case LateNotification:
		return t.LateNotification
	case OverdueAction:
		return t.OverdueAction
	case StaffNotCompliant:
		return t.StaffNotCompliant
	case FailedInspection:
		return t.FailedInspection
	}
	return 0
}
