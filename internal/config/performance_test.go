package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPerformanceTermsFile(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"terms.yaml": "points: {late_notification: 4, overdue_action: 2, staff_not_compliant: 1, failed_inspection: 8}\ngrace_days: 14\nservice_credit_threshold: 20\n",
		"bad.yaml":   "points: {late_notification: 4}\ngrace_days: 14\nservice_credit_threshold: 20\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load("", env(map[string]string{"PORTAL_PERFORMANCE_TERMS_FILE": filepath.Join(dir, "terms.yaml")}))
	if err != nil {
		t.Fatalf("Load with a valid terms file: %v", err)
	}
	terms, err := c.PerformanceTerms()
	if err != nil || terms.FailedInspection != 8 || terms.GraceDays != 14 || terms.Threshold != 20 {
		t.Errorf("the configured terms were not used: %+v %v", terms, err)
	}
	for _, name := range []string{"bad.yaml", "missing.yaml"} {
		_, err := Load("", env(map[string]string{"PORTAL_PERFORMANCE_TERMS_FILE": filepath.Join(dir, name)}))
		if err == nil || !strings.Contains(err.Error(), "PORTAL_PERFORMANCE_TERMS_FILE") {
			t.Errorf("%s: err = %v, want one naming PORTAL_PERFORMANCE_TERMS_FILE", name, err)
		}
	}
}
