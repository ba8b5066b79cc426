package performance_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/performance"
)

func TestEmbeddedTermsMatchConfig(t *testing.T) {
	want, err := os.ReadFile("../../config/performance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("terms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/performance/terms.yaml differs from config/performance.yaml: copy the config file over it")
	}
	want2 := performance.Terms{LateNotification: 3, OverdueAction: 2, StaffNotCompliant: 1, FailedInspection: 5, GraceDays: 28, Threshold: 10}
	if got := *performance.DefaultTerms(); got != want2 {
		t.Errorf("default terms %+v, want %+v", got, want2)
	}
}

func TestTermsFileRefusals(t *testing.T) {
	const points = "points: {late_notification: 3, overdue_action: 2, staff_not_compliant: 1, failed_inspection: 5}\n"
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"unknown key", points + "grace_days: 28\nservice_credit_threshold: 10\nthreshold: 4", "threshold"},
		{"misspelt points", "points: {late_notifications: 3}\ngrace_days: 28\nservice_credit_threshold: 10", "late_notifications"},
		{"missing threshold", points + "grace_days: 28", "service_credit_threshold is missing"},
		{"missing points", "points: {late_notification: 3}\ngrace_days: 28\nservice_credit_threshold: 10", "points.overdue_action is missing"},
		{"negative points", strings.Replace(points, "overdue_action: 2", "overdue_action: -2", 1) + "grace_days: 28\nservice_credit_threshold: 10", "overdue action points"},
		{"grace too long", points + "grace_days: 400\nservice_credit_threshold: 10", "grace days"},
		{"two documents", points + "grace_days: 28\nservice_credit_threshold: 10\n---\nx: 1", "one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := performance.ParseTerms([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := performance.ParseTerms([]byte(points + "grace_days: 0\nservice_credit_threshold: 0")); err != nil {
		t.Errorf("zero grace and threshold: %v", err)
	}
}
