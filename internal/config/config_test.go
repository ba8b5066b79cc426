package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/requirements"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// safeProduction is a production configuration that passes; each case below breaks one thing.
func safeProduction() map[string]string {
	return map[string]string{
		"PORTAL_ENV":                "production",
		"PORTAL_BASE_URL":           "https://safeguarding.example.gov.uk",
		"MONGODB_URI":               "mongodb://db.internal:27017/?replicaSet=rs0",
		"PORTAL_SESSION_SECRET":     strings.Repeat("s", 40),
		"PORTAL_OIDC_ISSUER":        "https://login.example.gov.uk",
		"PORTAL_OIDC_CLIENT_ID":     "portal",
		"PORTAL_OIDC_CLIENT_SECRET": "secret",
	}
}

func TestDevelopmentDefaults(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Env != Development || c.Addr != "localhost:8080" || c.BaseURL != "http://localhost:8080" || c.DataDir != "data" {
		t.Errorf("defaults = %+v", c)
	}
	if !c.DevelopmentIdP() || !c.EmbeddedStore() || !*c.SeedDemoData || c.SecureCookies() {
		t.Errorf("development should use the dev provider, the embedded store and demo data over plain http: %+v", c)
	}
}

func TestProductionAcceptsSafeSettings(t *testing.T) {
	c, err := Load("", env(safeProduction()))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.DevelopmentIdP() || c.EmbeddedStore() || *c.SeedDemoData || !c.SecureCookies() || c.Addr != ":8080" {
		t.Errorf("production config = %+v", c)
	}
}

func TestProductionRefusesUnsafeSettings(t *testing.T) {
	cases := []struct {
		name    string
		change  map[string]string
		setting string
	}{
		{"no store", map[string]string{"MONGODB_URI": ""}, "MONGODB_URI"},
		{"no identity provider", map[string]string{"PORTAL_OIDC_ISSUER": ""}, "PORTAL_OIDC_ISSUER"},
		{"plain http base URL", map[string]string{"PORTAL_BASE_URL": "http://safeguarding.example.gov.uk"}, "PORTAL_BASE_URL"},
		{"no base URL", map[string]string{"PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL"},
		{"no session secret", map[string]string{"PORTAL_SESSION_SECRET": ""}, "PORTAL_SESSION_SECRET"},
		{"short session secret", map[string]string{"PORTAL_SESSION_SECRET": "short"}, "PORTAL_SESSION_SECRET"},
		{"demo data", map[string]string{"PORTAL_SEED_DEMO_DATA": "true"}, "PORTAL_SEED_DEMO_DATA"},
		{"plain http issuer", map[string]string{"PORTAL_OIDC_ISSUER": "http://login.example.gov.uk"}, "PORTAL_OIDC_ISSUER"},
		{"no client secret", map[string]string{"PORTAL_OIDC_CLIENT_SECRET": ""}, "PORTAL_OIDC_CLIENT_SECRET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := safeProduction()
			for k, v := range tc.change {
				e[k] = v
			}
			_, err := Load("", env(e))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load accepted it (err = %v)", err)
			}
			if !strings.Contains(cerr.Setting, tc.setting) {
				t.Errorf("error names %q, want %q: %v", cerr.Setting, tc.setting, err)
			}
		})
	}
}

func TestInvalidSettingsAreNamed(t *testing.T) {
	cases := map[string]map[string]string{
		"PORTAL_ENV":                  {"PORTAL_ENV": "staging"},
		"PORTAL_ADDR":                 {"PORTAL_ADDR": "8080"},
		"PORTAL_BASE_URL":             {"PORTAL_BASE_URL": "localhost:8080/portal"},
		"plain http is allowed only":  {"PORTAL_BASE_URL": "http://portal.example"},
		"MONGODB_URI":                 {"MONGODB_URI": "postgres://x"},
		"PORTAL_LOG_LEVEL":            {"PORTAL_LOG_LEVEL": "loud"},
		"PORTAL_SESSION_IDLE_TIMEOUT": {"PORTAL_SESSION_IDLE_TIMEOUT": "half an hour"},
		"PORTAL_SEED_DEMO_DATA":       {"PORTAL_SEED_DEMO_DATA": "maybe"},
		"PORTAL_OIDC_CLIENT_ID":       {"PORTAL_OIDC_ISSUER": "https://login.example", "PORTAL_OIDC_CLIENT_SECRET": "x"},
	}
	for setting, e := range cases {
		t.Run(setting, func(t *testing.T) {
			_, err := Load("", env(e))
			if err == nil || !strings.Contains(err.Error(), setting) {
				t.Errorf("Load(%v) = %v, want an error naming %s", e, err, setting)
			}
		})
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.yaml")
	if err := os.WriteFile(path, []byte("addr: 127.0.0.1:9000\ndata_dir: /var/lib/portal\nsession_idle_timeout: 20m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, env(map[string]string{"PORTAL_DATA_DIR": "/srv/portal"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DataDir != "/srv/portal" || c.SessionIdleTimeout.Minutes() != 20 {
		t.Errorf("file and environment not combined: %+v", c)
	}
	if err := os.WriteFile(path, []byte("adr: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("unknown key accepted: %v", err)
	}
}

// The example configuration must stay loadable, so it cannot drift from the code.
func TestExampleConfigLoads(t *testing.T) {
	if _, err := Load("../../config/portal.example.yaml", env(nil)); err != nil {
		t.Fatalf("config/portal.example.yaml: %v", err)
	}
}

func TestIdentityAndAPISettingsAreChecked(t *testing.T) {
	cases := map[string]string{
		"client_secret":                `identity_providers: [{id: a, issuer: "https://a.example", client_id: x}]`,
		"exactly one of client_secret": `identity_providers: [{id: a, issuer: "https://a.example", client_id: x, client_secret: s, private_key_file: k.pem}]`,
		".id":                          `identity_providers: [{id: "a b", issuer: "https://a.example", client_id: x, client_secret: s}]`,
		"used by another provider": `identity_providers: [{id: a, issuer: "https://a.example", client_id: x, client_secret: s},
  {id: a, issuer: "https://b.example", client_id: x, client_secret: s}]`,
		"reserved":                `identity_providers: [{id: dev, issuer: "https://a.example", client_id: x, client_secret: s}]`,
		"unknown role":            `identity_providers: [{id: a, issuer: "https://a.example", client_id: x, client_secret: s, role_map: {Admin: superuser}}]`,
		"api.issuers[0].audience": `api: {issuers: [{issuer: "https://a.example"}]}`,
		"not listed in api.issuers": `api: {issuers: [{issuer: "https://a.example", audience: portal}],
  clients: [{issuer: "https://b.example", client_id: c, partner: northgate}]}`,
		"needs client_id and partner": `api: {issuers: [{issuer: "https://a.example", audience: portal}],
  clients: [{issuer: "https://a.example", client_id: c}]}`,
		"rate_limits": `rate_limits: {sign_in_per_minute: -1}`,
	}
	for want, yaml := range cases {
		t.Run(want, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portal.yaml")
			if err := os.WriteFile(path, []byte(yaml+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, env(nil))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want an error mentioning %q", err, want)
			}
		})
	}
}

// The operator's requirements file is read at start-up: a missing or invalid
// one stops the portal, naming the setting, rather than falling back.
func TestRequirementsFileIsLoadedOrRefused(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../config/requirements.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tailored := strings.Replace(string(good), "refresh_months: 36", "refresh_months: 24", 1)
	if tailored == string(good) {
		t.Fatal("config/requirements.yaml has no 36-month refresh to tailor")
	}
	files := map[string]string{"good.yaml": tailored, "bad.yaml": "categories: [", "unknown.yaml": "refresh_month: 12\n"}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load("", env(map[string]string{"PORTAL_REQUIREMENTS_FILE": filepath.Join(dir, "good.yaml")}))
	if err != nil {
		t.Fatalf("Load with a valid requirements file: %v", err)
	}
	cat, err := c.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(cat, requirements.Default()) {
		t.Error("the tailored file was not the catalogue used")
	}
	for _, name := range []string{"bad.yaml", "unknown.yaml", "missing.yaml"} {
		_, err := Load("", env(map[string]string{"PORTAL_REQUIREMENTS_FILE": filepath.Join(dir, name)}))
		if err == nil || !strings.Contains(err.Error(), "PORTAL_REQUIREMENTS_FILE") {
			t.Errorf("%s: err = %v, want one naming PORTAL_REQUIREMENTS_FILE", name, err)
		}
	}
}

func TestIncidentRulesAndBankHolidaysFiles(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"rules.yaml":    "standard_deadline: {hours: 48}\ncritical_deadline: {hours: 2}\nstandard_acknowledgement: {hours: 24}\ncritical_acknowledgement: {hours: 1}\ncategories: [{id: other, name: Other}]\n",
		"badrules.yaml": "standard_deadline: {hours: 48, working_days: 2}\n",
		"holidays.yaml": "covers: {from: 2026-01-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-25, name: Christmas Day}\n",
		"badhols.yaml":  "covers: {from: 2026-01-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-26, name: Saturday}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load("", env(map[string]string{
		"PORTAL_INCIDENT_RULES_FILE": filepath.Join(dir, "rules.yaml"),
		"PORTAL_BANK_HOLIDAYS_FILE":  filepath.Join(dir, "holidays.yaml"),
	}))
	if err != nil {
		t.Fatalf("Load with valid files: %v", err)
	}
	rules, err := c.IncidentRules()
	if err != nil || rules.StandardDeadline.Hours != 48 {
		t.Errorf("the configured rules were not used: %+v %v", rules, err)
	}
	cal, err := c.BankHolidays()
	if err != nil || len(cal.Holidays()) != 1 {
		t.Errorf("the configured calendar was not used: %v", err)
	}
	for setting, file := range map[string]string{
		"PORTAL_INCIDENT_RULES_FILE": "badrules.yaml",
		"PORTAL_BANK_HOLIDAYS_FILE":  "badhols.yaml",
	} {
		_, err := Load("", env(map[string]string{setting: filepath.Join(dir, file)}))
		if err == nil || !strings.Contains(err.Error(), setting) {
			t.Errorf("%s: err = %v, want one naming %s", file, err, setting)
		}
	}
}

func TestEscalationSettings(t *testing.T) {
	secret := strings.Repeat("s", 32)
	c, err := Load("", env(map[string]string{
		"PORTAL_SMTP_ADDR": "relay.example:587", "PORTAL_SMTP_FROM": "portal@department.example", "PORTAL_SMTP_STARTTLS": "require",
		"PORTAL_ESCALATION_EMAILS":      "leads@department.example,duty@department.example",
		"PORTAL_ESCALATION_WEBHOOK_URL": "http://oncall.example/hook", "PORTAL_ESCALATION_WEBHOOK_SECRET": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Escalation.Emails) != 2 || c.Escalation.Webhooks[0].Secret != secret || c.Escalation.SMTP.Addr != "relay.example:587" {
		t.Errorf("escalation settings not read: %+v", c.Escalation)
	}
	for setting, bad := range map[string]map[string]string{
		"PORTAL_SMTP_STARTTLS":             {"PORTAL_SMTP_STARTTLS": "sometimes"},
		"PORTAL_SMTP_FROM":                 {"PORTAL_SMTP_ADDR": "relay.example:25"},
		"PORTAL_ESCALATION_WEBHOOK_SECRET": {"PORTAL_ESCALATION_WEBHOOK_URL": "https://oncall.example/hook", "PORTAL_ESCALATION_WEBHOOK_SECRET": "short"},
		"PORTAL_ESCALATION_WEBHOOK_URL":    {"PORTAL_ESCALATION_WEBHOOK_URL": "ftp://oncall.example", "PORTAL_ESCALATION_WEBHOOK_SECRET": secret},
	} {
		if _, err := Load("", env(bad)); err == nil || !strings.Contains(err.Error(), setting) {
			t.Errorf("%v: err = %v, want one naming %s", bad, err, setting)
		}
	}
}

func TestReminderSettings(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Reminders.DaysBefore != 7 || c.Reminders.OverdueEveryDays != 7 {
		t.Errorf("reminder defaults %+v, want 7 and 7", c.Reminders)
	}
	c, err = Load("", env(map[string]string{"PORTAL_REMINDER_DAYS_BEFORE": "14", "PORTAL_REMINDER_OVERDUE_EVERY_DAYS": "3"}))
	if err != nil || c.Reminders.DaysBefore != 14 || c.Reminders.OverdueEveryDays != 3 {
		t.Errorf("reminder settings from the environment: %+v (%v)", c.Reminders, err)
	}
	for setting, bad := range map[string]map[string]string{
		"PORTAL_REMINDER_DAYS_BEFORE":        {"PORTAL_REMINDER_DAYS_BEFORE": "61"},
		"PORTAL_REMINDER_OVERDUE_EVERY_DAYS": {"PORTAL_REMINDER_OVERDUE_EVERY_DAYS": "a week"},
	} {
		if _, err := Load("", env(bad)); err == nil || !strings.Contains(err.Error(), setting) {
			t.Errorf("%v: err = %v, want one naming %s", bad, err, setting)
		}
	}
}
