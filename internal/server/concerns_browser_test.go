package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/portaltest"
)

// TestBrowserEscalationAndSuspensionOnBothSides follows a contract from the
// manager's escalation to its suspension, as people click through the pages
// in a real browser, with axe-core on each kind of page:
//  1. the contract manager escalates Northgate's contract to the leads (an
//     empty reason first, which is refused) and recommends suspending it;
//  2. the safeguarding lead finds both in the queue and decides to suspend
//     the contract, with a reason;
//  3. the contract shows as suspended, with the lead's reason, on the
//     manager's, the lead's and Northgate's officer's pages.
func TestBrowserEscalationAndSuspensionOnBothSides(t *testing.T) {
	const (
		contract        = "CS-ACC-2025-014" // Northgate's, managed by manager@department.example
		escalateReason  = "A customer at Wakefield Dispersal was refused help at night, twice this month."
		recommendReason = "Unvetted night staff for three months; the improvement plan has failed."
		suspendReason   = "Staff without enhanced checks are still working nights at Wakefield Dispersal."
	)
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	signOut := func() {
		b.Do("sign out", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))
	}
	contractPage := "/contracts/" + contract
	openContract := func() {
		b.Do("open the contract", chromedp.Navigate(p.URL+contractPage), portaltest.WaitForPath(contractPage),
			chromedp.WaitVisible(chromedp.ID("contract")))
	}
	submit := chromedp.Click(chromedp.CSS("main form button.govuk-button"))

	// 1. The manager escalates the contract, then recommends suspending it.
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	openContract()
	b.Do("open the escalation form", chromedp.Click(rbLink("Escalate to safeguarding leads about "+contract)),
		portaltest.WaitForPath("/concerns/new"), chromedp.WaitVisible(chromedp.ID("reason")))
	b.Do("send it without a reason", submit, chromedp.WaitVisible(chromedp.CSS(`.govuk-error-summary a[href="#reason"]`)))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter the reason for escalating") {
		t.Errorf("escalation form error summary %q", got)
	}
	b.CheckAccessibility()
	b.Do("escalate", chromedp.SendKeys(chromedp.ID("reason"), escalateReason), submit, chromedp.WaitVisible(chromedp.ID("concern-summary")))
	if got := b.Text("h1"); got != "Escalation about "+contract {
		t.Errorf("escalation page heading %q", got)
	}
	b.CheckAccessibility()
	openContract()
	b.Do("recommend suspension", chromedp.Click(rbLink("Recommend suspension of "+contract)),
		portaltest.WaitForPath("/concerns/new"), chromedp.WaitVisible(chromedp.ID("reason")),
		chromedp.SendKeys(chromedp.ID("reason"), recommendReason), submit, chromedp.WaitVisible(chromedp.ID("concern-summary")))
	if got := b.Text("#concern-reason"); got != recommendReason {
		t.Errorf("the recommendation's reason reads %q", got)
	}
	signOut()

	// 2. The lead finds both in the queue and suspends the contract.
	browserSignIn(b, p.URL, "lead@department.example", "/portfolio")
	b.Do("open the queue", chromedp.Navigate(p.URL+"/concerns"), portaltest.WaitForPath("/concerns"), chromedp.WaitVisible(chromedp.ID("concerns")))
	b.CheckAccessibility()
	for _, what := range []string{"Escalation about " + contract, "Recommendation to suspend about " + contract} {
		if row := rbRow(b, "#concerns", what, "Open", "Maya Collins"); row == "" {
			t.Errorf("the queue has no open row %q", what)
		}
	}
	b.Do("open the recommendation", chromedp.Click(rbLink("Recommendation to suspend about "+contract)),
		chromedp.WaitVisible(chromedp.ID("no-decisions")))
	b.CheckAccessibility()
	b.Do("decide to suspend", chromedp.Click(chromedp.CSS(`input[name="outcome"][value="suspend_contract"]`)),
		chromedp.SendKeys(chromedp.ID("reason"), suspendReason), submit, chromedp.WaitVisible(chromedp.ID("decisions")))
	if got := b.Text(".govuk-notification-banner--success"); !strings.Contains(got, "The contract is suspended.") {
		t.Errorf("after deciding, the banner reads %q", got)
	}
	b.CheckAccessibility()

	// 3. The contract is suspended, with the lead's reason, for everyone who sees it.
	seeSuspended := func(who string) {
		t.Helper()
		openContract()
		banner := b.Text("#contract-status-banner")
		for _, want := range []string{"This contract is suspended", suspendReason, "Suspended by Leah Brooks", "must still be notified"} {
			if !strings.Contains(banner, want) {
				t.Errorf("%s's contract page banner lacks %q: %q", who, want, banner)
			}
		}
		if got := b.Text("#contract-status .govuk-tag"); got != "Suspended" {
			t.Errorf("%s's contract page shows the status %q", who, got)
		}
	}
	seeSuspended("the lead")
	signOut()
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	seeSuspended("the manager")
	signOut()
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	seeSuspended("Northgate's officer")
	b.CheckAccessibility()
	if strings.Contains(b.Text("main"), escalateReason) || strings.Contains(b.Text("main"), recommendReason) {
		t.Error("Northgate's officer sees the department's escalations")
	}
}
