package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/portaltest"
)

var concernPath = regexp.MustCompile(`^/concerns/([0-9a-f]{24})\?raised=1$`)

// raiseConcern sends the form at path and returns the new concern's page address.
func raiseConcern(t *testing.T, u contractUser, path, reason string) string {
	t.Helper()
	status, body, location := u.post(path, url.Values{"reason": {reason}})
	m := concernPath.FindStringSubmatch(location)
	if status != http.StatusSeeOther || m == nil {
		t.Fatalf("POST %s: %d to %q\n%s", path, status, location, body)
	}
	return "/concerns/" + m[1]
}

// decisionForm is the decision form on a concern's page as a lead would send it.
func decisionForm(t *testing.T, u contractUser, concern, outcome, reason string) url.Values {
	t.Helper()
	status, page := u.get(concern)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d", concern, status)
	}
	f := formValues(page)
	if f.Get("version") == "" {
		t.Fatalf("%s offers no decision form", concern)
	}
	f.Set("outcome", outcome)
	f.Set("reason", reason)
	return f
}

// resourceOf is the audit trail's name for the concern at path.
func resourceOf(path string) string { return "concern/" + strings.TrimPrefix(path, "/concerns/") }

// from is page from marker on, or "" (and an error) when it has none.
func from(t *testing.T, page, marker string) string {
	t.Helper()
	i := strings.Index(page, marker)
	if i < 0 {
		t.Errorf("the page has no %s", marker)
		return ""
	}
	return page[i:]
}

func contains(t *testing.T, what, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, html.EscapeString(w)) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func lacks(t *testing.T, what, page string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(page, html.EscapeString(w)) {
			t.Errorf("%s shows %q", what, w)
		}
	}
}

// Escalations and suspension over HTTP, on one portal: the forms' errors,
// who reaches what (a partner's people nothing, a manager only their own
// contract's, only leads decide), the leads' decisions, and a suspension
// shown on both sides, with the partner still able to notify incidents.
func TestConcernsOverHTTP(t *testing.T) {
	p := portaltest.Start(t)
	manager := signInAs(t, p, "manager@department.example")
	lead := signInAs(t, p, "lead@department.example")
	northOfficer := signInAs(t, p, "officer@northgate.example")
	brightOfficer := signInAs(t, p, "officer@brightwell.example")
	const (
		escalateOwn     = "/concerns/new?contract=" + ownContract + "&kind=escalation"
		recommendOwn    = "/concerns/new?contract=" + ownContract + "&kind=suspension_recommendation"
		escalateReason  = "Night staff at Wakefield Dispersal turned away a customer who asked for help."
		recommendReason = "Three months of unvetted night staff; the improvement plan has failed."
		suspendReason   = "Suspended: staff without enhanced checks are still working nights.\nSuspended until every check is evidenced."
	)
	var escalation, recommendation, theirs string

	t.Run("forms refuse what is wrong", func(t *testing.T) {
		for path, heading := range map[string]string{escalateOwn: "Escalate to safeguarding leads", recommendOwn: "Recommend suspending the contract",
			"/concerns/new?partner=northgate": "Escalate to safeguarding leads"} {
			status, page := manager.get(path)
			if status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, status)
			}
			contains(t, path, page, heading, "The partner does not see what you write here.")
		}
		manager.refused(escalateOwn, url.Values{"reason": {"  "}}, "Enter the reason for escalating")
		manager.refused(recommendOwn, url.Values{"reason": {""}}, "Enter the reason for recommending suspension")
		manager.refused(escalateOwn, url.Values{"reason": {strings.Repeat("x", 2001)}}, "The reason for escalating must be 2,000 characters or fewer")
		manager.refused(escalateOwn, url.Values{"reason": {"Hidden \u202e text"}}, "The reason for escalating must not contain hidden or control characters")
		for _, path := range []string{"/concerns/new", "/concerns/new?contract=" + ownContract + "&kind=complaint",
			"/concerns/new?partner=northgate&kind=suspension_recommendation", "/concerns/new?contract=CS-XXX-2025-999"} {
			if status, _ := manager.get(path); status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, status)
			}
		}
		if status, _ := lead.get("/concerns"); status != http.StatusOK {
			t.Errorf("the queue before anything is raised: %d", status)
		}
	})

	t.Run("a manager escalates and recommends suspension", func(t *testing.T) {
		escalation = raiseConcern(t, manager, escalateOwn, escalateReason)
		_, page := manager.get(escalation + "?raised=1")
		contains(t, "the new escalation's page", page, "Sent to the safeguarding leads.", "Escalation about "+ownContract, escalateReason,
			"Maya Collins", "The safeguarding leads have not decided yet.")
		lacks(t, "the manager's view of the escalation", page, "Record the decision")
		recommendation = raiseConcern(t, manager, recommendOwn, recommendReason)
		manager.refused(recommendOwn, url.Values{"reason": {"Again"}}, "A recommendation to suspend this contract is already waiting for the leads’ decision")

		_, page = manager.get("/contracts/" + ownContract)
		contains(t, "the manager's contract page", page, "Escalations to safeguarding leads", "Recommendation to suspend", "Escalation")
		if e, ok := auditEvent(t, p, "concern.raise", resourceOf(escalation)); !ok || e.PartnerID != "northgate" ||
			e.Actor.Subject != "dev-manager@department.example" || e.Detail != "escalation about the contract" {
			t.Errorf("concern.raise audit event %+v, %v", e, ok)
		}
		// A lead raises one about Brightwell's contract, out of the manager's reach.
		theirs = raiseConcern(t, lead, "/concerns/new?contract="+otherContract+"&kind=escalation", "Interview rooms left unlocked.")
	})

	t.Run("each reaches only what they may", func(t *testing.T) {
		// Partners' people reach no page of escalations, theirs or not.
		officers := map[string]contractUser{"northgate's officer": northOfficer, "brightwell's officer": brightOfficer}
		for _, path := range []string{escalation, recommendation, theirs, "/concerns", escalateOwn, "/concerns/new?partner=brightwell"} {
			for name, u := range officers {
				if status, _ := u.get(path); status != http.StatusForbidden {
					t.Errorf("%s GET %s: %d, want 403", name, path, status)
				}
			}
		}
		for _, path := range []string{escalateOwn, "/concerns/new?partner=northgate", escalation + "/decision", theirs + "/decision"} {
			for name, u := range officers {
				if status, _, _ := u.post(path, url.Values{"version": {"1"}, "outcome": {"no_further_action"}, "reason": {"R"}}); status != http.StatusForbidden {
					t.Errorf("%s POST %s: %d, want 403", name, path, status)
				}
			}
		}
		// The manager reaches nothing of Brightwell's.
		for _, path := range []string{theirs, "/concerns/new?contract=" + otherContract + "&kind=escalation",
			"/concerns/new?contract=" + otherContract + "&kind=suspension_recommendation", "/concerns/new?partner=brightwell"} {
			if status, _ := manager.get(path); status != http.StatusNotFound {
				t.Errorf("manager GET %s: %d, want 404", path, status)
			}
		}
		if status, _, _ := manager.post("/concerns/new?contract="+otherContract+"&kind=escalation", url.Values{"reason": {"R"}}); status != http.StatusNotFound {
			t.Errorf("manager raises about another's contract: %d, want 404", status)
		}
		if e, ok := auditEvent(t, p, "concerns.view", resourceOf(theirs)); !ok || e.Outcome != audit.Denied {
			t.Errorf("the manager's reach for another's concern is not on record: %+v, %v", e, ok)
		}
		_, queue := manager.get("/concerns")
		contains(t, "the manager's queue", queue, "Escalation about "+ownContract, "Recommendation to suspend about "+ownContract)
		lacks(t, "the manager's queue", queue, otherContract, "Brightwell")
		_, queue = lead.get("/concerns?status=open")
		contains(t, "the lead's queue", queue, "Escalation about "+ownContract, "Recommendation to suspend about "+ownContract, "Escalation about "+otherContract)
		// The auditor reads every escalation, and neither raises nor decides one.
		auditor := signInAs(t, p, "auditor@department.example")
		_, queue = auditor.get("/concerns")
		contains(t, "the auditor's queue", queue, "Escalation about "+ownContract, "Recommendation to suspend about "+ownContract, "Escalation about "+otherContract)
		status, page := auditor.get(recommendation)
		if status != http.StatusOK {
			t.Errorf("the auditor reading a recommendation: %d", status)
		}
		contains(t, "the auditor's view of a recommendation", page, recommendReason)
		lacks(t, "the auditor's view of a recommendation", page, "Record the decision", "/concerns/new")
		if status, _ := auditor.get(escalateOwn); status != http.StatusForbidden {
			t.Errorf("the auditor opening the form to escalate: %d, want 403", status)
		}
		if status, _, _ := auditor.post(escalation+"/decision", url.Values{"version": {"1"}, "outcome": {"no_further_action"}, "reason": {"R"}}); status != http.StatusForbidden {
			t.Errorf("the auditor deciding: %d, want 403", status)
		}
		// Only leads decide, whatever the manager reaches.
		for _, path := range []string{escalation, theirs} {
			if status, _, _ := manager.post(path+"/decision", url.Values{"version": {"1"}, "outcome": {"no_further_action"}, "reason": {"R"}}); status != http.StatusForbidden {
				t.Errorf("manager decides %s: %d, want 403", path, status)
			}
		}
		// Partners' people see no trace of escalations on their contract's pages.
		_, page = northOfficer.get("/contracts/" + ownContract)
		lacks(t, "the officer's contract page", page, "Escalations to safeguarding leads", escalateReason, recommendReason, "/concerns")
		_, page = northOfficer.get("/partners/northgate")
		lacks(t, "the officer's partner page", page, "Escalat", "/concerns")
	})

	t.Run("leads decide", func(t *testing.T) {
		f := decisionForm(t, lead, escalation, "", "Fine")
		f.Del("outcome")
		lead.refused(escalation+"/decision", f, "Select a decision")
		lead.refused(escalation+"/decision", decisionForm(t, lead, escalation, "no_further_action", " "), "Enter the reason for the decision")
		lead.refused(escalation+"/decision", decisionForm(t, lead, escalation, "suspend_contract", "Suspend"), "Select a decision")
		if status, _, _ := lead.post(escalation+"/decision", url.Values{"outcome": {"no_further_action"}, "reason": {"R"}}); status != http.StatusBadRequest {
			t.Errorf("a decision without the form's version: %d, want 400", status)
		}
		referred := decisionForm(t, lead, escalation, "referred_to_sro", "The SRO must see this first.")
		status, _, location := lead.post(escalation+"/decision", referred)
		if status != http.StatusSeeOther || location != escalation+"?decided=1" {
			t.Fatalf("referral: %d to %q", status, location)
		}
		// The same form sent again is the same decision; another on that version is refused.
		if status, _, _ := lead.post(escalation+"/decision", referred); status != http.StatusSeeOther {
			t.Errorf("the same decision sent again: %d, want 303", status)
		}
		stale := url.Values{"version": referred["version"], "outcome": {"no_further_action"}, "reason": {"Nothing to do"}}
		status, body, _ := lead.post(escalation+"/decision", stale)
		if status != http.StatusConflict || !strings.Contains(body, "Someone else recorded a decision") {
			t.Errorf("a decision on a stale version: %d", status)
		}
		status, page := lead.get(escalation + "?decided=1")
		contains(t, "the referred escalation", page, "Your decision has been recorded.", "Referred to the senior responsible owner",
			"The SRO must see this first.", "Leah Brooks", "Record the decision")
		final := decisionForm(t, lead, escalation, "actions_required", "Raise an action on night checks.")
		if status, _, _ := lead.post(escalation+"/decision", final); status != http.StatusSeeOther {
			t.Fatalf("final decision: %d", status)
		}
		_, page = manager.get(escalation)
		contains(t, "the manager's view of the decided escalation", page, "Decided", "Actions required from the partner",
			"Raise an action on night checks.", "Referred to the senior responsible owner")
		lacks(t, "the decided escalation", page, "Record the decision")
		if e, ok := auditEvent(t, p, "concern.decide", resourceOf(escalation)); !ok || e.Detail != "actions_required" ||
			strings.Contains(e.Detail, "night") || e.Actor.Subject != "dev-lead@department.example" {
			t.Errorf("concern.decide audit event %+v, %v", e, ok)
		}
	})

	t.Run("a decision to suspend is shown on both sides", func(t *testing.T) {
		form := decisionForm(t, lead, recommendation, "suspend_contract", suspendReason)
		status, body, location := lead.post(recommendation+"/decision", form)
		if status != http.StatusSeeOther {
			t.Fatalf("suspend: %d\n%s", status, body)
		}
		_, page := lead.get(location)
		contains(t, "the decided recommendation", page, "The contract is suspended.", "Suspend the contract", "the contract was suspended")

		for name, u := range map[string]contractUser{"manager": manager, "lead": lead, "northgate's officer": northOfficer} {
			status, page := u.get("/contracts/" + ownContract)
			if status != http.StatusOK {
				t.Fatalf("%s views the contract: %d", name, status)
			}
			contains(t, name+"'s contract banner", from(t, page, `id="contract-status-banner"`), "This contract is suspended", "Suspended: staff without enhanced checks are still working nights.",
				"Suspended by Leah Brooks", "must still be notified")
			contains(t, name+"'s contract status history", from(t, page, `id="status-history"`), "Suspended until every check is evidenced.")
		}
		_, page = manager.get("/contracts/" + ownContract)
		lacks(t, "the suspended contract's page", page, "Recommend suspension")
		_, page = northOfficer.get("/partners/northgate")
		contains(t, "the officer's partner page", page, "Contract "+ownContract+" is suspended", "Suspended until every check is evidenced.")
		_, page = northOfficer.get("/partners/northgate/compliance")
		contains(t, "the officer's compliance page", from(t, page, `id="status-`+ownContract+`"`), "Suspended")

		// Brightwell's officer sees none of it.
		if status, page := brightOfficer.get("/contracts/" + ownContract); status != http.StatusNotFound || strings.Contains(page, "working nights") {
			t.Errorf("brightwell's officer views northgate's suspended contract: %d", status)
		}
		_, page = brightOfficer.get("/partners/brightwell")
		lacks(t, "brightwell's partner page", page, "suspended", "working nights")

		// The partner must still notify incidents under the suspended contract:
		// the journey offers it and says so, and the API takes a notice.
		j := startJourney(t, northOfficer)
		_, page = northOfficer.get(j.path("contract"))
		contains(t, "the journey's contract question", page, "Suspended: serious incidents under it must still be notified")
		if !strings.Contains(page, `value="`+ownContract+`"`) {
			t.Error("the journey does not offer the suspended contract")
		}
		api := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")}
		if resp, body := api.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, nil)); resp.StatusCode != http.StatusCreated {
			t.Errorf("notifying under the suspended contract: %d %s", resp.StatusCode, body)
		}

		e, ok := auditEvent(t, p, "contract.status", "contract/"+ownContract)
		if !ok || e.Detail != "active to suspended" || e.Actor.Subject != "dev-lead@department.example" || strings.Contains(e.Detail, "nights") {
			t.Errorf("contract.status audit event %+v, %v", e, ok)
		}
	})
}
