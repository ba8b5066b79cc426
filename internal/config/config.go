// Package config reads the portal's settings from an optional YAML file and the
// environment (environment wins), and refuses unsafe or malformed combinations
// before anything starts.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/department/safeguarding-portal/internal/deadline"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/requirements"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Environment names.
const (
	Development = "development"
	Production  = "production"
)

// Config is every setting the portal reads. config/portal.example.yaml documents each one.
type Config struct {
	Env           string `yaml:"env"`
	Addr          string `yaml:"addr"`
	BaseURL       string `yaml:"base_url"`
	DataDir       string `yaml:"data_dir"`
	MongoURI      string `yaml:"mongodb_uri"`
	MongoDatabase string `yaml:"mongodb_database"`
	SessionSecret string `yaml:"session_secret"`
	LogLevel      string `yaml:"log_level"`
	// SeedDemoData fills an empty store with demo partners, contracts and staff.
	// Development only; production refuses it.
	SeedDemoData *bool `yaml:"seed_demo_data"`

	SessionIdleTimeout     time.Duration `yaml:"session_idle_timeout"`
	SessionAbsoluteTimeout time.Duration `yaml:"session_absolute_timeout"`

	// TrustedProxies lists the proxies whose X-Forwarded-For is believed. Empty trusts none.
	TrustedProxies []string `yaml:"trusted_proxies"`

	// IdentityProviders are the external OpenID Providers people sign in with.
	// Development always adds the built-in development provider.
	IdentityProviders []IdentityProvider `yaml:"identity_providers"`

	// API says which bearer tokens partner systems may call the API with.
	API API `yaml:"api"`

	// RateLimits bound sign-in attempts per client IP and API calls per client.
	RateLimits RateLimits `yaml:"rate_limits"`

	// RequirementsFile is the staff categories, training and vetting every
	// contract starts with (see config/requirements.yaml). Empty uses the copy
	// built into the binary, identical to config/requirements.yaml.
	RequirementsFile string `yaml:"requirements_file"`

	// IncidentRulesFile is the serious incident categories and their
	// notification deadlines (see config/incidents.yaml); BankHolidaysFile
	// the England and Wales bank holidays that working-day deadlines skip
	// (see config/bank-holidays.yaml). Empty uses the built-in copies.
	IncidentRulesFile string `yaml:"incident_rules_file"`
	BankHolidaysFile  string `yaml:"bank_holidays_file"`

	// PerformanceTermsFile is the points partners' failures score, the
	// grace period for untrained or unvetted staff and the service-credit
	// threshold, for contracts without terms of their own (see
	// config/performance.yaml). Empty uses the built-in copy.
	PerformanceTermsFile string `yaml:"performance_terms_file"`

	// Evidence bounds uploaded evidence files and how long verified vetting
	// evidence is kept.
	Evidence Evidence `yaml:"evidence"`

	// Escalation is how critical incidents reach safeguarding leads and
	// contract managers at once: e-mail and signed webhooks.
	Escalation Escalation `yaml:"escalation"`

	// Reminders say when partners are e-mailed about actions waiting for
	// them, through the escalation relay.
	Reminders Reminders `yaml:"reminders"`
}

// Reminders settings.
type Reminders struct {
	// DaysBefore is how many days before an action's due date its partner
	// is reminded (default 7).
	DaysBefore int `yaml:"days_before"`
	// OverdueEveryDays is how often an overdue action is reminded of again,
	// after the reminder on its first day overdue (default 7).
	OverdueEveryDays int `yaml:"overdue_every_days"`
}

// Escalation settings.
type Escalation struct {
	// SMTP is the mail relay; an empty Addr sends no e-mail (the deliveries
	// wait, shown to leads as not sent, until a relay is configured).
	SMTP SMTP `yaml:"smtp"`
	// Emails always receive escalations, whoever has signed in: a shared
	// safeguarding leads' mailbox, say. Leads and the contract's managers
	// known to the portal are added to them.
	Emails []string `yaml:"emails"`
	// Webhooks receive each escalation as signed JSON.
	Webhooks []Webhook `yaml:"webhooks"`
}

// SMTP is a mail relay.
type SMTP struct {
	Addr     string `yaml:"addr"` // host:port
	From     string `yaml:"from"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// StartTLS is "require" (the default), "opportunistic" or "none" (a
	// relay on the same host only).
	StartTLS string `yaml:"starttls"`
}

// Webhook is an endpoint that receives escalations, and the secret their
// HMAC-SHA256 signatures are made with.
type Webhook struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
}

// Evidence settings.
type Evidence struct {
	// MaxMB is the largest evidence file accepted, in megabytes (default 10).
	MaxMB int `yaml:"max_mb"`
	// RetentionMonths is how long verified vetting evidence is kept after
	// the decision before the file is deleted (default 6, as the DBS code of
	// practice expects); the record and the file's hash are kept.
	RetentionMonths int `yaml:"retention_months"`
}

// IdentityProvider is one external OpenID Provider and how its claims map onto portal roles.
type IdentityProvider struct {
	// ID names the provider in URLs (/sign-in/<id>); letters, digits and hyphens.
	ID           string `yaml:"id"`
	Name         string `yaml:"name"`
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// PrivateKeyFile, instead of a secret, authenticates the portal with a signed
	// JWT (private_key_jwt): a PEM RSA or EC private key registered with the provider.
	PrivateKeyFile string   `yaml:"private_key_file"`
	PrivateKeyID   string   `yaml:"private_key_id"`
	Scopes         []string `yaml:"scopes"`
	RolesClaim     string   `yaml:"roles_claim"`
	OrgClaim       string   `yaml:"org_claim"`
	// RoleMap translates the provider's role values into portal roles; when set,
	// values it does not list grant nothing.
	RoleMap map[string]string `yaml:"role_map"`
	// OrgMap translates the provider's organisation values into partner IDs or "department".
	OrgMap map[string]string `yaml:"org_map"`
	// FixedOrg is for a partner's own provider: everyone it signs in belongs to
	// this partner, whatever its claims say.
	FixedOrg string `yaml:"fixed_org"`
}

// API configures bearer-token authentication for partner systems.
type API struct {
	Issuers []APIIssuer `yaml:"issuers"`
	Clients []APIClient `yaml:"clients"`
}

// APIIssuer is an authorization server whose access tokens the API accepts.
type APIIssuer struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
}

// APIClient maps one machine client to exactly one partner.
type APIClient struct {
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	Partner  string `yaml:"partner"`
}

// RateLimits are per minute, with a burst of the same size.
type RateLimits struct {
	SignInPerMinute int `yaml:"sign_in_per_minute"`
	APIPerMinute    int `yaml:"api_per_minute"`
}

// Error names the setting that is wrong, so start-up fails with a message an operator can act on.
type Error struct {
	Setting string
	Problem string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Problem }

// Load reads the file at path (if path is not empty) and then the environment.
func Load(path string, getenv func(string) string) (Config, error) {
	var c Config
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return Config{}, &Error{"--config", fmt.Sprintf("cannot read %s: %v", path, err)}
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		// An empty file is an empty configuration, not an error.
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, &Error{"--config", fmt.Sprintf("%s is not valid: %v", path, err)}
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	set := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set("PORTAL_ENV", &c.Env)
	set("PORTAL_ADDR", &c.Addr)
	set("PORTAL_BASE_URL", &c.BaseURL)
	set("PORTAL_DATA_DIR", &c.DataDir)
	set("MONGODB_URI", &c.MongoURI)
	set("MONGODB_DATABASE", &c.MongoDatabase)
	set("PORTAL_SESSION_SECRET", &c.SessionSecret)
	set("PORTAL_LOG_LEVEL", &c.LogLevel)
	set("PORTAL_REQUIREMENTS_FILE", &c.RequirementsFile)
	set("PORTAL_INCIDENT_RULES_FILE", &c.IncidentRulesFile)
	set("PORTAL_BANK_HOLIDAYS_FILE", &c.BankHolidaysFile)
	set("PORTAL_PERFORMANCE_TERMS_FILE", &c.PerformanceTermsFile)
	set("PORTAL_SMTP_ADDR", &c.Escalation.SMTP.Addr)
	set("PORTAL_SMTP_FROM", &c.Escalation.SMTP.From)
	set("PORTAL_SMTP_USERNAME", &c.Escalation.SMTP.Username)
	set("PORTAL_SMTP_PASSWORD", &c.Escalation.SMTP.Password)
	set("PORTAL_SMTP_STARTTLS", &c.Escalation.SMTP.StartTLS)
	if v := getenv("PORTAL_ESCALATION_EMAILS"); v != "" {
		c.Escalation.Emails = strings.Split(v, ",")
	}
	// One webhook by environment, for simple deployments; more in the file.
	if v := getenv("PORTAL_ESCALATION_WEBHOOK_URL"); v != "" {
		c.Escalation.Webhooks = []Webhook{{URL: v, Secret: getenv("PORTAL_ESCALATION_WEBHOOK_SECRET")}}
	}
	if v := getenv("PORTAL_SEED_DEMO_DATA"); v != "" {
		b, ok := parseBool(v)
		if !ok {
			return &Error{"PORTAL_SEED_DEMO_DATA", fmt.Sprintf("must be true or false (got %q)", v)}
		}
		c.SeedDemoData = &b
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"PORTAL_SESSION_IDLE_TIMEOUT", &c.SessionIdleTimeout},
		{"PORTAL_SESSION_ABSOLUTE_TIMEOUT", &c.SessionAbsoluteTimeout},
	} {
		if v := getenv(d.name); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil {
				return &Error{d.name, fmt.Sprintf("must be a duration such as 30m or 12h (got %q)", v)}
			}
			*d.dst = parsed
		}
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{
		{"PORTAL_SIGN_IN_PER_MINUTE", &c.RateLimits.SignInPerMinute},
		{"PORTAL_API_PER_MINUTE", &c.RateLimits.APIPerMinute},
		{"PORTAL_EVIDENCE_MAX_MB", &c.Evidence.MaxMB},
		{"PORTAL_EVIDENCE_RETENTION_MONTHS", &c.Evidence.RetentionMonths},
		{"PORTAL_REMINDER_DAYS_BEFORE", &c.Reminders.DaysBefore},
		{"PORTAL_REMINDER_OVERDUE_EVERY_DAYS", &c.Reminders.OverdueEveryDays},
	} {
		if v := getenv(n.name); v != "" {
			parsed, err := strconv.Atoi(v)
			if err != nil || parsed < 1 {
				return &Error{n.name, fmt.Sprintf("must be a positive whole number (got %q)", v)}
			}
			*n.dst = parsed
		}
	}
	if v := getenv("PORTAL_TRUSTED_PROXIES"); v != "" {
		c.TrustedProxies = strings.Split(v, ",")
	}
	if issuer := getenv("PORTAL_OIDC_ISSUER"); issuer != "" {
		c.IdentityProviders = []IdentityProvider{{
			ID:             getenv("PORTAL_OIDC_ID"),
			PrivateKeyFile: getenv("PORTAL_OIDC_PRIVATE_KEY_FILE"),
			FixedOrg:       getenv("PORTAL_OIDC_FIXED_ORG"),
			Scopes:         strings.Fields(getenv("PORTAL_OIDC_SCOPES")),
			Name:           getenv("PORTAL_OIDC_NAME"),
			Issuer:         issuer,
			ClientID:       getenv("PORTAL_OIDC_CLIENT_ID"),
			ClientSecret:   getenv("PORTAL_OIDC_CLIENT_SECRET"),
			RolesClaim:     getenv("PORTAL_OIDC_ROLES_CLAIM"),
			OrgClaim:       getenv("PORTAL_OIDC_ORG_CLAIM"),
		}}
	}
	return nil
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no":
		return false, true
	}
	return false, false
}

func (c *Config) applyDefaults() {
	if c.Env == "" {
		c.Env = Development
	}
	if c.Addr == "" {
		if c.Env == Development {
			// The development provider has well-known passwords: keep it off the network.
			c.Addr = "localhost:8080"
		} else {
			c.Addr = ":8080"
		}
	}
	if c.BaseURL == "" && c.Env == Development {
		c.BaseURL = "http://localhost:8080"
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.MongoDatabase == "" {
		c.MongoDatabase = "portal"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.SeedDemoData == nil {
		seed := c.Env == Development
		c.SeedDemoData = &seed
	}
	if c.SessionIdleTimeout == 0 {
		c.SessionIdleTimeout = 30 * time.Minute
	}
	if c.SessionAbsoluteTimeout == 0 {
		c.SessionAbsoluteTimeout = 12 * time.Hour
	}
	for i := range c.IdentityProviders {
		p := &c.IdentityProviders[i]
		p.Issuer = strings.TrimSuffix(p.Issuer, "/")
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "profile", "email"}
		}
		if p.RolesClaim == "" {
			p.RolesClaim = "roles"
		}
		if p.OrgClaim == "" {
			p.OrgClaim = "org"
		}
		if p.ID == "" {
			p.ID = fmt.Sprintf("provider-%d", i+1)
		}
		if p.Name == "" {
			p.Name = p.ID
		}
	}
	for i := range c.API.Issuers {
		c.API.Issuers[i].Issuer = strings.TrimSuffix(c.API.Issuers[i].Issuer, "/")
	}
	for i := range c.API.Clients {
		c.API.Clients[i].Issuer = strings.TrimSuffix(c.API.Clients[i].Issuer, "/")
	}
	if c.RateLimits.SignInPerMinute == 0 {
		c.RateLimits.SignInPerMinute = 30
	}
	if c.RateLimits.APIPerMinute == 0 {
		c.RateLimits.APIPerMinute = 600
	}
	if c.Evidence.MaxMB == 0 {
		c.Evidence.MaxMB = 10
	}
	if c.Evidence.RetentionMonths == 0 {
		c.Evidence.RetentionMonths = 6
	}
	if c.Reminders.DaysBefore == 0 {
		c.Reminders.DaysBefore = 7
	}
	if c.Reminders.OverdueEveryDays == 0 {
		c.Reminders.OverdueEveryDays = 7
	}
}

// Validate refuses malformed settings in any mode, and unsafe ones in production.
func (c *Config) Validate() error {
	switch c.Env {
	case Development, Production:
	default:
		return &Error{"PORTAL_ENV", fmt.Sprintf("must be %q or %q (got %q)", Development, Production, c.Env)}
	}
	if _, err := c.Requirements(); err != nil {
		return err
	}
	if _, err := c.IncidentRules(); err != nil {
		return err
	}
	if _, err := c.BankHolidays(); err != nil {
		return err
	}
	if _, err := c.PerformanceTerms(); err != nil {
		return err
	}
	switch c.Escalation.SMTP.StartTLS {
	case "", "require", "opportunistic", "none":
	default:
		return &Error{"PORTAL_SMTP_STARTTLS", fmt.Sprintf("must be require, opportunistic or none (got %q)", c.Escalation.SMTP.StartTLS)}
	}
	if c.Escalation.SMTP.Addr != "" && c.Escalation.SMTP.From == "" {
		return &Error{"PORTAL_SMTP_FROM", "is required when PORTAL_SMTP_ADDR is set"}
	}
	for _, w := range c.Escalation.Webhooks {
		u, err := url.Parse(w.URL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return &Error{"PORTAL_ESCALATION_WEBHOOK_URL", "must be an http or https address"}
		case c.Env == Production && u.Scheme != "https":
			return &Error{"PORTAL_ESCALATION_WEBHOOK_URL", "must use https in production"}
		case len(w.Secret) < 32:
			return &Error{"PORTAL_ESCALATION_WEBHOOK_SECRET", "must be at least 32 characters, so signatures cannot be guessed"}
		}
	}
	if c.Evidence.MaxMB < 1 || c.Evidence.MaxMB > 50 {
		return &Error{"PORTAL_EVIDENCE_MAX_MB", fmt.Sprintf("must be between 1 and 50 (got %d)", c.Evidence.MaxMB)}
	}
	if c.Evidence.RetentionMonths < 1 || c.Evidence.RetentionMonths > 120 {
		return &Error{"PORTAL_EVIDENCE_RETENTION_MONTHS", fmt.Sprintf("must be between 1 and 120 (got %d)", c.Evidence.RetentionMonths)}
	}
	if c.Reminders.DaysBefore < 1 || c.Reminders.DaysBefore > 60 {
		return &Error{"PORTAL_REMINDER_DAYS_BEFORE", fmt.Sprintf("must be between 1 and 60 (got %d)", c.Reminders.DaysBefore)}
	}
	if c.Reminders.OverdueEveryDays < 1 || c.Reminders.OverdueEveryDays > 60 {
		return &Error{"PORTAL_REMINDER_OVERDUE_EVERY_DAYS", fmt.Sprintf("must be between 1 and 60 (got %d)", c.Reminders.OverdueEveryDays)}
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return &Error{"PORTAL_ADDR", fmt.Sprintf("must be host:port or :port (got %q)", c.Addr)}
	}
	if c.BaseURL == "" {
		return &Error{"PORTAL_BASE_URL", "is required in production (the public https address of the portal)"}
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.Path != "" || base.RawQuery != "" {
		return &Error{"PORTAL_BASE_URL", fmt.Sprintf("must be an absolute http(s) URL with no path (got %q)", c.BaseURL)}
	}
	if base.Scheme == "http" && !loopback(base.Hostname()) {
		// Session cookies cross the network in the clear over plain http.
		return &Error{"PORTAL_BASE_URL", fmt.Sprintf("plain http is allowed only for localhost (got %q)", c.BaseURL)}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return &Error{"PORTAL_LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error (got %q)", c.LogLevel)}
	}
	if c.SessionIdleTimeout < time.Minute {
		return &Error{"PORTAL_SESSION_IDLE_TIMEOUT", "must be at least 1m"}
	}
	if c.SessionAbsoluteTimeout < c.SessionIdleTimeout {
		return &Error{"PORTAL_SESSION_ABSOLUTE_TIMEOUT", "must not be shorter than the idle timeout"}
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return &Error{"MONGODB_URI", "must start with mongodb:// or mongodb+srv://"}
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		return &Error{"PORTAL_SESSION_SECRET", "must be at least 32 characters"}
	}
	for i, p := range c.IdentityProviders {
		setting := fmt.Sprintf("identity_providers[%d]", i)
		u, err := url.Parse(p.Issuer)
		if p.Issuer == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return &Error{setting + ".issuer (PORTAL_OIDC_ISSUER)", fmt.Sprintf("must be the provider's issuer URL (got %q)", p.Issuer)}
		}
		if c.Env == Production && u.Scheme != "https" {
			return &Error{setting + ".issuer (PORTAL_OIDC_ISSUER)", "must use https in production"}
		}
		if p.ClientID == "" {
			return &Error{setting + ".client_id (PORTAL_OIDC_CLIENT_ID)", "is required"}
		}
		if (p.ClientSecret == "") == (p.PrivateKeyFile == "") {
			return &Error{setting + ".client_secret (PORTAL_OIDC_CLIENT_SECRET)", "give exactly one of client_secret and private_key_file"}
		}
		if !validID(p.ID) {
			return &Error{setting + ".id", fmt.Sprintf("must be letters, digits and hyphens (got %q)", p.ID)}
		}
		for _, q := range c.IdentityProviders[:i] {
			if q.ID == p.ID {
				return &Error{setting + ".id", fmt.Sprintf("%q is used by another provider", p.ID)}
			}
		}
		if p.ID == DevelopmentProviderID {
			return &Error{setting + ".id", fmt.Sprintf("%q is reserved for the development provider", p.ID)}
		}
		for from, to := range p.RoleMap {
			if !knownRole(to) {
				return &Error{setting + ".role_map", fmt.Sprintf("%q maps to unknown role %q", from, to)}
			}
		}
	}
	for i, is := range c.API.Issuers {
		setting := fmt.Sprintf("api.issuers[%d]", i)
		if u, err := url.Parse(is.Issuer); err != nil || u.Host == "" || (c.Env == Production && u.Scheme != "https") {
			return &Error{setting + ".issuer", fmt.Sprintf("must be the authorization server's issuer URL, https in production (got %q)", is.Issuer)}
		}
		if is.Audience == "" {
			return &Error{setting + ".audience", "is required: the audience the API demands in access tokens"}
		}
	}
	for i, cl := range c.API.Clients {
		setting := fmt.Sprintf("api.clients[%d]", i)
		if cl.ClientID == "" || cl.Partner == "" {
			return &Error{setting, "needs client_id and partner"}
		}
		if !slices.ContainsFunc(c.API.Issuers, func(is APIIssuer) bool { return is.Issuer == cl.Issuer }) {
			return &Error{setting + ".issuer", fmt.Sprintf("%q is not listed in api.issuers", cl.Issuer)}
		}
	}
	if c.RateLimits.SignInPerMinute < 1 || c.RateLimits.APIPerMinute < 1 {
		return &Error{"rate_limits", "limits must be positive"}
	}

	if c.Env != Production {
		return nil
	}
	if c.MongoURI == "" {
		return &Error{"MONGODB_URI", "is required in production (the embedded store is for development only)"}
	}
	if len(c.IdentityProviders) == 0 {
		return &Error{"PORTAL_OIDC_ISSUER", "an external identity provider is required in production (the development provider never runs there)"}
	}
	if base.Scheme != "https" {
		return &Error{"PORTAL_BASE_URL", fmt.Sprintf("must be an https URL in production (got %q)", c.BaseURL)}
	}
	if c.SessionSecret == "" {
		return &Error{"PORTAL_SESSION_SECRET", "is required in production (at least 32 random characters)"}
	}
	if *c.SeedDemoData {
		return &Error{"PORTAL_SEED_DEMO_DATA", "demo data is never seeded in production"}
	}
	return nil
}

// DevelopmentProviderID names the built-in development provider in URLs.
const DevelopmentProviderID = "dev"

// DevelopmentIdP reports whether the built-in development OpenID Provider runs:
// always in development, never in production.
func (c *Config) DevelopmentIdP() bool { return c.Env == Development }

// Roles the portal knows; configuration may only map claims onto these.
var roles = []string{"partner_staff", "partner_compliance_officer", "contract_manager", "safeguarding_lead", "auditor"}

func knownRole(r string) bool { return slices.Contains(roles, r) }

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// EmbeddedStore reports whether the portal starts its own in-process FerretDB.
func (c *Config) EmbeddedStore() bool { return c.MongoURI == "" }

// EmbeddedStoreDir is where the embedded store keeps its SQLite files.
func (c *Config) EmbeddedStoreDir() string { return filepath.Join(c.DataDir, "store") }

// SecureCookies reports whether cookies are marked Secure and take the __Host- prefix.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Requirements is the catalogue of staff categories, training and vetting
// that contracts start with: RequirementsFile if set, or the built-in copy.
func (c *Config) Requirements() (*requirements.Catalogue, error) {
	if c.RequirementsFile == "" {
		return requirements.Default(), nil
	}
	cat, err := requirements.Load(c.RequirementsFile)
	if err != nil {
		return nil, &Error{"PORTAL_REQUIREMENTS_FILE", err.Error()}
	}
	return cat, nil
}

// IncidentRules are the incident categories and deadlines: IncidentRulesFile
// if set, or the built-in copy.
func (c *Config) IncidentRules() (*incident.Rules, error) {
	if c.IncidentRulesFile == "" {
		return incident.DefaultRules(), nil
	}
	r, err := incident.LoadRules(c.IncidentRulesFile)
	if err != nil {
		return nil, &Error{"PORTAL_INCIDENT_RULES_FILE", err.Error()}
	}
	return r, nil
}

// BankHolidays is the calendar working-day deadlines count on:
// BankHolidaysFile if set, or the built-in copy.
func (c *Config) BankHolidays() (*deadline.Calendar, error) {
	if c.BankHolidaysFile == "" {
		return deadline.Default(), nil
	}
	cal, err := deadline.Load(c.BankHolidaysFile)
	if err != nil {
		return nil, &Error{"PORTAL_BANK_HOLIDAYS_FILE", err.Error()}
	}
	return cal, nil
}

// PerformanceTerms are the department's default performance terms:
// PerformanceTermsFile if set, or the built-in copy.
func (c *Config) PerformanceTerms() (*performance.Terms, error) {
	if c.PerformanceTermsFile == "" {
		return performance.DefaultTerms(), nil
	}
	t, err := performance.LoadTerms(c.PerformanceTermsFile)
	if err != nil {
		return nil, &Error{"PORTAL_PERFORMANCE_TERMS_FILE", err.Error()}
	}
	return t, nil
}
