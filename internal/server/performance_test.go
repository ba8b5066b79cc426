package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/performance"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The performance page, its waiver form and its terms form, for each
// caller, on one portal: failures detected from late notifications made
// through the API and from the demo's staff, who have no records.
func TestPerformancePages(t *testing.T) {
	p := portaltest.Start(t)
	ctx := context.Background()
	late := map[string]any{"aware_at": time.Now().Add(-30 * time.Hour).UTC().Format(time.RFC3339),
		"occurred_at": time.Now().Add(-31 * time.Hour).UTC().Format(time.RFC3339)}
	ngIncident := notifyByAPI(t, p, "northgate", late)
	late["contract_id"] = otherContract
	bwIncident := notifyByAPI(t, p, "brightwell", late)
	if _, err := p.App.Server.DetectPerformance(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	failureOf := func(incidentID string) performance.Failure {
		t.Helper()
		var f performance.Failure
		if err := p.App.Store.DB.Collection("performance_failures").FindOne(ctx, bson.D{{Key: "evidence.incident_id", Value: incidentID}}).Decode(&f); err != nil {
			t.Fatalf("the late notification %s was not recorded: %v", incidentID, err)
		}
		return f
	}
	ngFailure, bwFailure := failureOf(ngIncident), failureOf(bwIncident)
	own := "/contracts/" + ownContract + "/performance"
	other := "/contracts/" + otherContract + "/performance"
	ngWaive := own + "/failures/" + ngFailure.ID.Hex() + "/waive"
	bwWaive := other + "/failures/" + bwFailure.ID.Hex() + "/waive"

	manager := signInAs(t, p, "manager@department.example")
	officer := signInAs(t, p, "officer@northgate.example")
	rival := signInAs(t, p, "officer@brightwell.example")
	lead := signInAs(t, p, "lead@department.example")
	auditor := signInAs(t, p, "auditor@department.example")

	t.Run("the contract's manager sees the score and the evidence", func(t *testing.T) {
		status, page := manager.get(own)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", own, status)
		}
		for _, want := range []string{"Performance in " + time.Now().In(londonTZ).Format("January 2006"), `href="/incidents/` + ngIncident + `"`,
			"Late incident notification", "6 hours", "Staff without required training or vetting", `href="/partners/northgate/staff/`,
			"Service credits due", ngWaive, "/contracts/" + ownContract + "/performance/terms", "The department’s default terms"} {
			if !strings.Contains(page, html.EscapeString(want)) && !strings.Contains(page, want) {
				t.Errorf("the page does not show %q", want)
			}
		}
		if strings.Contains(page, bwIncident) || strings.Contains(page, "Brightwell") {
			t.Error("the page shows brightwell's failure")
		}
		if _, ok := auditEvent(t, p, "performance.view", "contract/"+ownContract+"/performance"); !ok {
			t.Error("viewing the failures is not on record")
		}
		status, contract := manager.get("/contracts/" + ownContract)
		if status != http.StatusOK || !strings.Contains(contract, `href="`+own+`"`) {
			t.Errorf("the contract page does not link to its performance (%d)", status)
		}
	})

	t.Run("the partner and the auditor read it; neither may change it", func(t *testing.T) {
		for name, u := range map[string]contractUser{"officer": officer, "auditor": auditor} {
			status, page := u.get(own)
			if status != http.StatusOK || !strings.Contains(page, ngIncident) {
				t.Errorf("%s: %d", name, status)
			}
			if strings.Contains(page, "/waive") || strings.Contains(page, "/performance/terms") {
				t.Errorf("%s is offered a change", name)
			}
			for _, path := range []string{ngWaive, own + "/terms"} {
				if status, _ := u.get(path); status != http.StatusForbidden {
					t.Errorf("%s GET %s: %d, want 403", name, path, status)
				}
				if status, _, _ := u.post(path, url.Values{"version": {"1"}, "reason": {"Because"}}); status != http.StatusForbidden {
					t.Errorf("%s POST %s: %d, want 403", name, path, status)
				}
			}
		}
	})

	t.Run("out of reach is not found", func(t *testing.T) {
		for _, tc := range []struct {
			who  contractUser
			name string
			path string
		}{
			{rival, "brightwell's officer", own},
			{officer, "northgate's officer", other},
			{manager, "a manager outside the contract", other},
			{manager, "a manager outside the contract", bwWaive},
			{manager, "a manager outside the contract", other + "/terms"},
			// Another contract's failure under the manager's own contract.
			{manager, "a manager naming another contract's failure", own + "/failures/" + bwFailure.ID.Hex() + "/waive"},
			{manager, "a manager naming no failure", own + "/failures/nonsense/waive"},
		} {
			if status, body := tc.who.get(tc.path); status != http.StatusNotFound || strings.Contains(body, bwIncident) && tc.who != rival {
				t.Errorf("%s GET %s: %d, want 404", tc.name, tc.path, status)
			}
		}
		if status, _, _ := manager.post(bwWaive, url.Values{"version": {"1"}, "reason": {"Not mine to waive"}}); status != http.StatusNotFound {
			t.Errorf("manager waives brightwell's failure: %d, want 404", status)
		}
		if status, _, _ := manager.post(other+"/terms", url.Values{"version": {"0"}, "use": {"defaults"}}); status != http.StatusNotFound {
			t.Errorf("manager sets brightwell's terms: %d, want 404", status)
		}
		if got := failureOf(bwIncident); got.Waived {
			t.Error("brightwell's failure was waived from outside its contract")
		}
		if status, page := lead.get(other); status != http.StatusOK || !strings.Contains(page, bwIncident) {
			t.Errorf("the lead reads brightwell's: %d", status)
		}
		for _, month := range []string{"2099-01", "January", "1999-12", "2026-13"} {
			if status, _ := manager.get(own + "?month=" + url.QueryEscape(month)); status != http.StatusBadRequest {
				t.Errorf("month %q: %d, want 400", month, status)
			}
		}
		last := time.Now().In(londonTZ).AddDate(0, 0, -time.Now().In(londonTZ).Day()).Format("2006-01")
		if status, page := manager.get(own + "?month=" + last); status != http.StatusOK || strings.Contains(page, ngIncident) {
			t.Errorf("last month's page: %d", status)
		}
	})

	t.Run("waiving a failure", func(t *testing.T) {
		if status, page := manager.get(ngWaive); status != http.StatusOK || !strings.Contains(page, "Why should this failure not count?") {
			t.Fatalf("GET the waiver form: %d", status)
		}
		version := manager.version(ngWaive)
		manager.refused(ngWaive, url.Values{"version": {version}, "reason": {"  "}}, "Enter the reason for waiving the failure")
		manager.refused(ngWaive, url.Values{"version": {version}, "reason": {strings.Repeat("x", 2001)}}, "The reason must be 2000 characters or fewer")
		manager.refused(ngWaive, url.Values{"version": {version}, "reason": {"ok\u202e"}}, "The reason must not contain hidden or control characters")
		if status, _, _ := manager.post(ngWaive, url.Values{"reason": {"No version"}}); status != http.StatusBadRequest {
			t.Errorf("without a version: %d, want 400", status)
		}
		if failureOf(ngIncident).Waived {
			t.Fatal("a refused waiver was stored")
		}
		const reason = "The partner telephoned the incident through on time; Mr Patel's system was down."
		page := manager.save(ngWaive, url.Values{"version": {version}, "reason": {reason}},
			own+"?month="+ngFailure.Month.Format("2006-01")+"&saved=waived")
		if !strings.Contains(page, "The failure has been waived") || !strings.Contains(page, html.EscapeString(reason)) || strings.Contains(page, ngWaive) {
			t.Error("the page does not show the failure waived, with its reason")
		}
		got := failureOf(ngIncident)
		if !got.Waived || got.Waiver == nil || got.Waiver.Reason != reason || got.Waiver.By.ID == "" {
			t.Errorf("stored: %+v", got.Waiver)
		}
		e, ok := auditEvent(t, p, "performance.waive", "performance_failure/"+got.ID.Hex())
		if !ok || e.PartnerID != "northgate" || strings.Contains(e.Detail, "Patel") || e.Actor.Subject == "" {
			t.Errorf("audit event %+v", e)
		}
		// The partner sees it waived, with the reason.
		if _, page := officer.get(own); !strings.Contains(page, html.EscapeString(reason)) {
			t.Error("the partner does not see the waiver's reason")
		}
		// Waiving it again, from the form as it was: refused, nothing changes.
		status, body, _ := manager.post(ngWaive, url.Values{"version": {version}, "reason": {"Again"}})
		if status != http.StatusConflict || !strings.Contains(body, "Someone else changed this failure") {
			t.Errorf("waiving twice: %d", status)
		}
		if failureOf(ngIncident).Waiver.Reason != reason {
			t.Error("a second waiver replaced the first")
		}
	})

	t.Run("setting the contract's terms", func(t *testing.T) {
		terms := own + "/terms"
		status, page := manager.get(terms)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", terms, status)
		}
		form := formValues(page)
		if form.Get("threshold") != "10" || form.Get("grace_days") != "28" {
			t.Errorf("the form starts from %v, want the defaults", form)
		}
		for field, tc := range map[string]struct{ value, message string }{
			"late_notification": {"", "Enter the points for a late incident notification"},
			"overdue_action":    {"two", "Points for an overdue action must be a whole number from 0 to 100"},
			"failed_inspection": {"101", "Points for a failed inspection must be a whole number from 0 to 100"},
			"grace_days":        {"-1", "Grace period must be a whole number of days from 0 to 365"},
			"threshold":         {"10001", "Service credit threshold must be a whole number from 0 to 10,000"},
		} {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set(field, tc.value)
			manager.refused(terms, bad, tc.message)
		}
		manager.refused(terms, form, "You have not changed anything")
		changed := url.Values{}
		for k, v := range form {
			changed[k] = v
		}
		changed.Set("threshold", "500")
		changed.Set("late_notification", "9")
		page = manager.save(terms, changed, own+"?saved=terms")
		if !strings.Contains(page, "Set for this contract.") || !strings.Contains(page, "More than 500 points in a month") || strings.Contains(page, "Service credits due") {
			t.Error("the page does not show the contract's own terms")
		}
		// Failures keep the points they scored.
		if got := failureOf(ngIncident); got.Points != 3 {
			t.Errorf("the recorded failure now scores %d", got.Points)
		}
		if status, _, _ := manager.post(terms, changed); status != http.StatusConflict {
			t.Errorf("saving from the stale form: %d, want 409", status)
		}
		e, ok := auditEvent(t, p, "contract.performance_terms", "contract/"+ownContract)
		if !ok || !strings.Contains(e.Detail, "late notification 9") || !strings.Contains(e.Detail, "threshold 500") {
			t.Errorf("audit event %+v", e)
		}
		page = manager.save(terms, url.Values{"version": {manager.version(terms)}, "use": {"defaults"}}, own+"?saved=terms")
		if !strings.Contains(page, "The department’s default terms") {
			t.Error("the contract did not go back to the default terms")
		}
	})
}
