package server_test

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/escalation"
	"github.com/department/safeguarding-portal/internal/escalation/escalationtest"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestBrowserIncidentJourney notifies a missing unaccompanied child as
// Northgate's compliance officer in a real browser, page by page to the
// confirmation: one error summary, a save and return, and a change made from
// the check answers page, with axe-core on every kind of page. The incident
// is critical, so the leads' mailbox, the lead, the contract's manager and the
// department's webhook receive it, signed and without the customer's details;
// then the manager acknowledges it from the list of incidents, and the lead
// sees every delivery delivered.
func TestBrowserIncidentJourney(t *testing.T) {
	mail := escalationtest.StartSMTP(t, "")
	hook := escalationtest.StartReceiver(t, webhookSecret)
	p := portaltest.StartWith(t, portaltest.Options{Env: escalationEnv(mail.Addr, hook.URL)})
	// The portal learns the department's people, and so their addresses, as
	// they sign in.
	signInAs(t, p, "manager@department.example")
	signInAs(t, p, "lead@department.example")
	b := portaltest.NewBrowser(t)
	continueButton := chromedp.CSS(`main button[name="action"][value="continue"]`)
	now := time.Now().In(londonTZ)
	occurred, aware := now.Add(-2*time.Hour), now.Add(-30*time.Minute)
	typeTime := func(name string, at time.Time) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.ID(name+"-day"), strconv.Itoa(at.Day())),
			chromedp.SendKeys(chromedp.ID(name+"-month"), strconv.Itoa(int(at.Month()))),
			chromedp.SendKeys(chromedp.ID(name+"-year"), strconv.Itoa(at.Year())),
			chromedp.SendKeys(chromedp.ID(name+"-hour"), strconv.Itoa(at.Hour())),
			chromedp.SendKeys(chromedp.ID(name+"-minute"), strconv.Itoa(at.Minute())),
		}
	}

	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open the start page", chromedp.Navigate(p.URL+"/incidents/new"), chromedp.WaitVisible(chromedp.CSS("main button.govuk-button--start")))
	if got := b.Text("#deadlines"); !strings.Contains(got, "within 1 hour") || !strings.Contains(got, "within 24 hours") {
		t.Errorf("start page deadlines %q", got)
	}
	b.CheckAccessibility()
	b.Do("start now", chromedp.Click(chromedp.CSS("main button.govuk-button--start")), chromedp.WaitVisible(chromedp.ID("site")))
	draft := strings.TrimSuffix(b.Path(), "/contract")
	if !strings.HasPrefix(draft, "/incidents/drafts/") {
		t.Fatalf("start now went to %s", b.Path())
	}
	page := func(slug string) string { return draft + "/" + slug }
	b.CheckAccessibility()

	b.Do("continue without answering", chromedp.Click(continueButton), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Select the contract the customer is served under") || !strings.Contains(got, "Enter the site where it happened") {
		t.Errorf("error summary %q", got)
	}
	b.CheckAccessibility()
	b.Do("follow the error summary's link", chromedp.Click(chromedp.CSS(`.govuk-error-summary a[href="#site"]`)))
	if focused := evaluate[string](b, `document.activeElement.id`); focused != "site" {
		t.Errorf("the error summary link focuses %q, want the site input", focused)
	}
	b.Do("say where",
		chromedp.Click(chromedp.CSS(`input[name="contract"][value="CS-ACC-2025-014"]`)),
		chromedp.SendKeys(chromedp.ID("site"), "Hull Family Unit"),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("category")), chromedp.WaitVisible(chromedp.ID("category")))
	b.CheckAccessibility()
	b.Do("choose the kind and save to come back later",
		chromedp.Click(chromedp.CSS(`input[name="category"][value="missing_customer"]`)),
		chromedp.Click(chromedp.CSS(`main button[name="action"][value="save"]`)),
		portaltest.WaitForPath("/incidents/drafts"), chromedp.WaitVisible(chromedp.ID("drafts")))
	if got := b.Text("#drafts"); !strings.Contains(got, "Missing customer") || !strings.Contains(got, "Hull Family Unit") {
		t.Errorf("saved notifications %q", got)
	}
	b.CheckAccessibility()
	b.Do("come back to it", chromedp.Click(chromedp.CSS(`#drafts a[href="`+draft+`"]`)),
		portaltest.WaitForPath(page("when")), chromedp.WaitVisible(chromedp.ID("occurred-day")))
	b.CheckAccessibility()
	b.Do("say when", append(append(typeTime("occurred", occurred), typeTime("aware", aware)...),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("customer")), chromedp.WaitVisible(chromedp.ID("reference")))...)
	b.CheckAccessibility()
	b.Do("describe the customer",
		chromedp.SendKeys(chromedp.ID("reference"), "HO-7654321"),
		chromedp.Click(chromedp.CSS(`input[name="age_group"][value="child"]`)),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("unaccompanied")), chromedp.WaitVisible(chromedp.ID("unaccompanied")))
	b.CheckAccessibility()
	b.Do("an unaccompanied child", chromedp.Click(chromedp.CSS(`input[name="unaccompanied"][value="yes"]`)),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("indicators")), chromedp.WaitVisible(chromedp.ID("indicators")))
	b.CheckAccessibility()
	b.Do("choose indicators",
		chromedp.Click(chromedp.CSS(`input[name="indicators"][value="missing_adult_child"]`)),
		chromedp.Click(chromedp.CSS(`input[name="indicators"][value="unaccompanied_minor"]`)),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("what-happened")), chromedp.WaitVisible(chromedp.ID("what_happened")))
	b.Do("say what happened", chromedp.SendKeys(chromedp.ID("what_happened"), "HO-7654321 did not come back to the family unit after school."),
		chromedp.WaitVisible(chromedp.CSS(".govuk-character-count__status")))
	if got := b.Text(".govuk-character-count__status"); !strings.Contains(got, "characters remaining") {
		t.Errorf("character count %q", got)
	}
	b.CheckAccessibility()
	b.Do("what happened next", chromedp.Click(continueButton), portaltest.WaitForPath(page("actions")), chromedp.WaitVisible(chromedp.ID("actions")))
	b.CheckAccessibility()
	b.Do("say what was done",
		chromedp.Click(chromedp.CSS(`input[name="actions"][value="emergency_services"]`)),
		chromedp.Click(chromedp.CSS(`input[name="actions"][value="safety_plan"]`)),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("referrals")), chromedp.WaitVisible(chromedp.ID("referrals")))
	b.Do("refer to the police, with their reference",
		chromedp.Click(chromedp.CSS(`input[name="referrals"][value="police"]`)),
		chromedp.WaitVisible(chromedp.ID("reference-police")),
		chromedp.SendKeys(chromedp.ID("reference-police"), "CAD-4411"))
	b.CheckAccessibility()
	b.Do("on to the people", chromedp.Click(continueButton), portaltest.WaitForPath(page("people")), chromedp.WaitVisible(chromedp.ID("reporter_name")))
	if got := evaluate[string](b, `document.getElementById("reporter_name").value`); got != "Olivia Hart" {
		t.Errorf("the person reporting is suggested as %q", got)
	}
	b.CheckAccessibility()
	b.Do("say who is reporting", chromedp.SendKeys(chromedp.ID("reporter_role"), "Compliance officer"),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("check")), chromedp.WaitVisible(chromedp.ID("send")))
	for _, want := range []string{"Hull Family Unit", "Missing customer", "HO-7654321", "Unaccompanied minor", "Police, reference CAD-4411", "critical incident"} {
		if !strings.Contains(b.Text("main"), want) {
			t.Errorf("check answers lacks %q", want)
		}
	}
	b.CheckAccessibility()

	b.Do("change the site", chromedp.Click(chromedp.CSS(`main a[href="`+page("contract")+`?return=check#site"]`)),
		portaltest.WaitForPath(page("contract")), chromedp.WaitVisible(chromedp.ID("site")),
		chromedp.SetValue(chromedp.ID("site"), "Wakefield Dispersal"),
		chromedp.Click(continueButton), portaltest.WaitForPath(page("check")), chromedp.WaitVisible(chromedp.ID("send")))
	if got := b.Text("main"); !strings.Contains(got, "Wakefield Dispersal") || strings.Contains(got, "Hull Family Unit") {
		t.Errorf("after the change, check answers reads %q", got)
	}
	b.Do("send", chromedp.Click(chromedp.ID("send")), chromedp.WaitVisible(chromedp.ID("confirmation")))
	if got := b.Text("h1"); got != "Incident notified" {
		t.Errorf("confirmation heading %q", got)
	}
	reference := b.Text("#reference")
	if !strings.HasPrefix(reference, "SI-") || !strings.Contains(b.Text("#escalated"), "safeguarding leads") ||
		!strings.Contains(b.Text("#timeliness"), "on time") {
		t.Errorf("confirmation reads %q", b.Text("main"))
	}
	b.CheckAccessibility()

	var in incident.Incident
	if err := p.App.Store.DB.Collection("incidents").FindOne(context.Background(), bson.D{{Key: "reference", Value: reference}}).Decode(&in); err != nil {
		t.Fatalf("the incident %s: %v", reference, err)
	}
	if in.Site != "Wakefield Dispersal" || in.Source != "web" || !in.Critical || !in.Customer.UnaccompaniedChild ||
		!strings.HasSuffix(b.Path(), "/incidents/"+in.ID.Hex()+"/confirmation") {
		t.Errorf("stored %+v", in)
	}
	incidentPath := evaluate[string](b, `[...document.querySelectorAll("main a")].find(a => a.textContent.trim() === "View the incident").getAttribute("href")`)
	id := strings.TrimPrefix(incidentPath, "/incidents/")
	if id != in.ID.Hex() {
		t.Fatalf("the confirmation links to %q, want the incident /incidents/%s", incidentPath, in.ID.Hex())
	}

	recipients := []string{"safeguarding-leads@department.example", "lead@department.example", "manager@department.example"}
	checkEscalated(t, p, mail, hook, id, reference, recipients, "HO-7654321")

	b.Do("sign out as the officer", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	b.Do("open the serious incidents", chromedp.Click(chromedp.CSS(`main a[href="/incidents"]`)),
		portaltest.WaitForPath("/incidents"), chromedp.WaitVisible(chromedp.ID("incidents")))
	row := evaluate[string](b, `(document.querySelector('#incidents a[href="`+incidentPath+`"]')?.closest("tr")?.innerText ?? "").replace(/\s+/g, " ")`)
	for _, want := range []string{reference, "Critical", "Missing customer", "Northgate Services Ltd", "On time", "Awaiting acknowledgement"} {
		if !strings.Contains(row, want) {
			t.Errorf("the manager's list shows the incident as %q, without %q", row, want)
		}
	}
	b.CheckAccessibility()
	b.Do("open the incident", chromedp.Click(chromedp.CSS(`#incidents a[href="`+incidentPath+`"]`)),
		portaltest.WaitForPath(incidentPath), chromedp.WaitVisible(chromedp.ID("incident-status")))
	if got := b.Text("#incident-status"); !strings.Contains(got, "Awaiting acknowledgement") || !strings.Contains(got, "Critical") {
		t.Errorf("the incident's status reads %q", got)
	}
	if got := b.Text("#incident-summary"); !strings.Contains(got, "Wakefield Dispersal") || !strings.Contains(got, "HO-7654321") {
		t.Errorf("the manager's view of the incident %q", got)
	}
	b.CheckAccessibility()
	b.Do("acknowledge it", chromedp.Click(chromedp.CSS(`form[action="`+incidentPath+`/acknowledge"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner--success")))
	if got := b.Text(".govuk-notification-banner--success"); !strings.Contains(got, "The incident has been updated") {
		t.Errorf("success banner %q", got)
	}
	if got := b.Text("#incident-status"); !strings.Contains(got, "Under review") {
		t.Errorf("after acknowledging, the status reads %q", got)
	}
	if b.Path() != incidentPath {
		t.Errorf("acknowledging went to %s", b.Path())
	}

	b.Do("sign out as the manager", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))
	browserSignIn(b, p.URL, "lead@department.example", "/portfolio")
	b.Do("open the escalations", chromedp.Navigate(p.URL+"/escalations"), chromedp.WaitVisible(chromedp.ID("deliveries")))
	deliveries := evaluate[[]string](b, `[...document.querySelectorAll("#deliveries tbody tr")]
		.filter(r => r.querySelector('a[href="`+incidentPath+`"]'))
		.map(r => [...r.cells].slice(1, 4).map(c => c.innerText.trim()).join(" | "))`)
	want := map[string]bool{"Webhook | " + hook.URL: true}
	for _, to := range recipients {
		want["E-mail | "+to] = true
	}
	for _, d := range deliveries {
		by, _, delivered := strings.Cut(d, " | Delivered")
		if !want[by] || !delivered {
			t.Errorf("unexpected delivery on the escalations page: %q", d)
		}
		delete(want, by)
	}
	for missing := range want {
		t.Errorf("the escalations page lacks a delivered %s", missing)
	}
	b.CheckAccessibility()

	// By now anything sent twice would have arrived.
	if n := len(departmentMail(mail)); n != len(recipients) {
		t.Errorf("%d e-mails, want %d", n, len(recipients))
	}
	for deliveryID, n := range mail.DeliveryIDs() {
		if n != 1 {
			t.Errorf("e-mail delivery %s arrived %d times", deliveryID, n)
		}
	}
	bodies, requests, bad := hook.Deliveries()
	if len(bodies) != 1 || bad != 0 {
		t.Errorf("webhook: %d deliveries, %d with a bad signature", len(bodies), bad)
	}
	for deliveryID, n := range requests {
		if n != 1 {
			t.Errorf("webhook delivery %s accepted %d times", deliveryID, n)
		}
	}
}

// checkEscalated waits for the incident's e-mails and webhook call to reach
// the receivers, and for the portal to record each as delivered, and checks
// what they say: the incident, a link to it, and nothing of the customer.
func checkEscalated(t *testing.T, p *portaltest.Portal, smtp *escalationtest.SMTP, hook *escalationtest.Receiver,
	id, reference string, recipients []string, customerRef string) {
	t.Helper()
	deliveries := p.App.Store.DB.Collection("escalation_deliveries")
	waitFor(t, "the e-mails and the webhook to be delivered", func() bool {
		bodies, _, _ := hook.Deliveries()
		n, err := deliveries.CountDocuments(context.Background(),
			bson.D{{Key: "incident_id", Value: id}, {Key: "state", Value: escalation.StateDelivered}})
		return len(smtp.Mail()) >= len(recipients) && len(bodies) >= 1 && err == nil && n == int64(len(recipients)+1)
	})

	got := map[string]escalationtest.Mail{}
	for _, m := range smtp.Mail() {
		for _, to := range m.To {
			got[to] = m
		}
	}
	for _, to := range recipients {
		m, ok := got[to]
		if !ok {
			t.Errorf("no e-mail to %s", to)
			continue
		}
		msg, err := netmail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Errorf("e-mail to %s: %v", to, err)
			continue
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Errorf("e-mail to %s: subject: %v", to, err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Errorf("e-mail to %s: body: %v", to, err)
		}
		if !strings.HasPrefix(subject, "Critical serious incident "+reference) ||
			!strings.Contains(string(body), "/incidents/"+id) || !strings.Contains(string(body), reference) {
			t.Errorf("e-mail to %s does not name the incident and link to it:\n%s\n\n%s", to, subject, body)
		}
		for _, secret := range []string{customerRef, "after school", "CAD-4411"} {
			if strings.Contains(m.Data, secret) || strings.Contains(subject, secret) || strings.Contains(string(body), secret) {
				t.Errorf("e-mail to %s carries %q", to, secret)
			}
		}
	}

	bodies, requests, bad := hook.Deliveries()
	if len(bodies) != 1 || bad != 0 {
		t.Fatalf("webhook: %d deliveries, %d with a bad signature", len(bodies), bad)
	}
	for deliveryID, body := range bodies {
		var ev escalation.WebhookEvent
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("webhook body %s: %v", body, err)
		}
		if ev.Event != "incident.critical" || ev.IncidentID != id || ev.Reference != reference ||
			ev.DeliveryID != deliveryID || !strings.HasSuffix(ev.Link, "/incidents/"+id) || requests[deliveryID] != 1 {
			t.Errorf("webhook event %+v (requests %d)", ev, requests[deliveryID])
		}
		for _, secret := range []string{customerRef, "after school", "CAD-4411"} {
			if strings.Contains(body, secret) {
				t.Errorf("the webhook carries %q: %s", secret, body)
			}
		}
	}
}

// evaluate runs a JavaScript expression in the page.
func evaluate[T any](b *portaltest.Browser, expr string) T {
	var out T
	b.Do("evaluate "+expr, func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		var err error
		out, err = chromedp.Evaluate[T](expr)(ctx, target)
		return chromedp.Void{}, err
	})
	return out
}
