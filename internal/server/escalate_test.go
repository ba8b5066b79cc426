package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/escalation/escalationtest"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const webhookSecret = "a-webhook-secret-of-at-least-32-characters"

func escalationEnv(smtpAddr, hookURL string) map[string]string {
	return map[string]string{
		"PORTAL_SMTP_ADDR": smtpAddr, "PORTAL_SMTP_FROM": "Safeguarding Portal <portal@department.example>", "PORTAL_SMTP_STARTTLS": "none",
		"PORTAL_ESCALATION_EMAILS":      "safeguarding-leads@department.example",
		"PORTAL_ESCALATION_WEBHOOK_URL": hookURL, "PORTAL_ESCALATION_WEBHOOK_SECRET": webhookSecret,
	}
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A critical incident reaches the leads' mailbox, every safeguarding lead and
// the contract's manager the portal knows, and the department's webhook,
// signed; a non-critical one is not escalated.
func TestCriticalIncidentIsEscalated(t *testing.T) {
	mail := escalationtest.StartSMTP(t, "")
	hook := escalationtest.StartReceiver(t, webhookSecret)
	p := portaltest.StartWith(t, portaltest.Options{Env: escalationEnv(mail.Addr, hook.URL)})
	// The portal learns the department's people as they sign in.
	signInAs(t, p, "lead@department.example")
	signInAs(t, p, "manager@department.example")

	notifyByAPI(t, p, "northgate", nil) // not critical
	id := notifyByAPI(t, p, "northgate", map[string]any{"category": "missing_customer",
		"customer": map[string]any{"reference": "HO-2222222", "age_group": "child", "unaccompanied_child": true}})

	want := []string{"safeguarding-leads@department.example", "lead@department.example", "manager@department.example"}
	waitFor(t, "three e-mails and a webhook", func() bool {
		bodies, _, _ := hook.Deliveries()
		return len(departmentMail(mail)) >= len(want) && len(bodies) >= 1
	})
	time.Sleep(500 * time.Millisecond) // anything more would arrive now
	got := map[string]string{}
	for _, m := range departmentMail(mail) {
		for _, to := range m.To {
			got[to] = m.Data
		}
	}
	if n := len(departmentMail(mail)); n != len(want) {
		t.Errorf("%d e-mails, want %d", n, len(want))
	}
	for _, to := range want {
		msg, ok := got[to]
		if !ok {
			t.Errorf("no e-mail to %s", to)
			continue
		}
		if !strings.Contains(msg, "Critical serious incident SI-") || !strings.Contains(msg, "/incidents/"+id) {
			t.Errorf("e-mail to %s does not name the incident and link to it:\n%s", to, msg)
		}
		if strings.Contains(msg, "HO-2222222") || strings.Contains(msg, "corridor") {
			t.Errorf("e-mail to %s carries the customer's details", to)
		}
	}
	bodies, requests, bad := hook.Deliveries()
	if len(bodies) != 1 || bad != 0 {
		t.Fatalf("webhook: %d deliveries, %d bad signatures", len(bodies), bad)
	}
	for deliveryID, body := range bodies {
		var ev map[string]any
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["event"] != "incident.critical" || ev["incident_id"] != id || ev["delivery_id"] != deliveryID || requests[deliveryID] != 1 {
			t.Errorf("webhook event %v (requests %d)", ev, requests[deliveryID])
		}
		if strings.Contains(body, "HO-2222222") {
			t.Error("the webhook carries the customer's reference")
		}
	}

	lead := signInAs(t, p, "lead@department.example")
	_, page := lead.get("/escalations")
	if strings.Count(page, "Delivered") < 4 {
		t.Errorf("the lead's escalations page does not show 4 deliveries delivered")
	}
	officer := signInAs(t, p, "officer@northgate.example")
	if status, _ := officer.get("/escalations"); status != http.StatusForbidden {
		t.Errorf("an officer reading escalations: %d", status)
	}
}

// Escalations stored before a stop are delivered after a restart, each
// exactly once from the receivers' point of view.
func TestEscalationSurvivesARestart(t *testing.T) {
	// The relay is down and the webhook refuses while the first portal runs.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay := l.Addr().String()
	l.Close()
	hook := escalationtest.StartReceiver(t, webhookSecret)
	hook.SetFailing(true)
	dir := t.TempDir()
	env := escalationEnv(relay, hook.URL)
	first := portaltest.StartWith(t, portaltest.Options{DataDir: dir, Env: env})
	id := notifyByAPI(t, first, "northgate", map[string]any{"category": "sexual_assault"})
	deliveries := first.App.Store.DB.Collection("escalation_deliveries")
	waitFor(t, "both deliveries to be tried and to fail", func() bool {
		n, err := deliveries.CountDocuments(context.Background(), bson.D{{Key: "incident_id", Value: id}, {Key: "attempts", Value: bson.D{{Key: "$gte", Value: 1}}}})
		return err == nil && n == 2
	})
	first.Stop(t)

	mail := escalationtest.StartSMTP(t, relay)
	hook.SetFailing(false)
	second := portaltest.StartWith(t, portaltest.Options{DataDir: dir, Env: env})
	waitFor(t, "the e-mail and the webhook after the restart", func() bool {
		bodies, _, _ := hook.Deliveries()
		return len(departmentMail(mail)) == 1 && len(bodies) == 1
	})
	time.Sleep(time.Second)
	for deliveryID, n := range mail.DeliveryIDs() {
		if n != 1 {
			t.Errorf("e-mail delivery %s arrived %d times", deliveryID, n)
		}
	}
	_, requests, _ := hook.Deliveries()
	for deliveryID, n := range requests {
		if n != 1 {
			t.Errorf("webhook delivery %s accepted %d times", deliveryID, n)
		}
	}
	n, err := second.App.Store.DB.Collection("escalation_deliveries").CountDocuments(context.Background(),
		bson.D{{Key: "incident_id", Value: id}, {Key: "state", Value: "delivered"}})
	if err != nil || n != 2 {
		t.Errorf("%d deliveries marked delivered (%v), want 2", n, err)
	}
}

// departmentMail is the mail sent to the department's people: escalations.
// The demo's overdue actions also have reminders e-mailed to partners.
func departmentMail(relay *escalationtest.SMTP) []escalationtest.Mail {
	var out []escalationtest.Mail
	for _, m := range relay.Mail() {
		if !slices.ContainsFunc(m.To, func(to string) bool { return !strings.HasSuffix(to, "@department.example") }) {
			out = append(out, m)
		}
	}
	return out
}
