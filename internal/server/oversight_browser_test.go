package server_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/portaltest"
)

// TestBrowserInspectionToClosedAction walks an inspection and its action
// in a real browser, across both sides: the manager plans and records an
// inspection with findings, a rating and a photograph, and raises an action
// from it; Northgate's officer reads the findings and responds with a file;
// the manager returns the response with a reason; the officer responds
// again; the manager accepts it, and both sides see the action closed with
// its whole history. axe-core checks each kind of page.
func TestBrowserInspectionToClosedAction(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	dir := t.TempDir()
	photo, log := filepath.Join(dir, "fire-door.png"), filepath.Join(dir, "night-check-log.pdf")
	if err := os.WriteFile(photo, certificatePNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, plainPDF(), 0o600); err != nil {
		t.Fatal(err)
	}
	const findings = "Two night checks on vulnerable customers were missed on 3 June."
	submit := chromedp.CSS("main form button.govuk-button")
	banner := chromedp.CSS(".govuk-notification-banner--success")
	signOut := func() {
		b.Do("sign out", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))
	}

	// The manager plans the inspection, first sending the form empty.
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	b.Do("open the plan form", chromedp.Navigate(p.URL+"/inspections/new"), chromedp.WaitVisible(chromedp.ID("site")))
	b.Do("send it empty", chromedp.Click(submit), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Select the contract") || !strings.Contains(got, "Enter the site to be inspected") {
		t.Errorf("the plan form's error summary %q", got)
	}
	b.CheckAccessibility()
	today := londonDay(0)
	b.Do("plan it",
		chromedp.SetValue(chromedp.ID("contract"), ownContract),
		chromedp.SendKeys(chromedp.ID("site"), "Hull Family Unit"),
		chromedp.SendKeys(chromedp.ID("planned-day"), strconv.Itoa(today.Day())),
		chromedp.SendKeys(chromedp.ID("planned-month"), strconv.Itoa(int(today.Month()))),
		chromedp.SendKeys(chromedp.ID("planned-year"), strconv.Itoa(today.Year())),
		chromedp.Click(chromedp.CSS(`input[name="announced"][value="yes"]`)),
		chromedp.SendKeys(chromedp.ID("focus"), "Night-time welfare checks"),
		chromedp.Click(submit), chromedp.WaitVisible(banner))
	inspection := b.Path()
	if !strings.HasPrefix(inspection, "/inspections/") || !strings.Contains(b.Text("#inspection-status"), "Planned") {
		t.Fatalf("planning went to %s", inspection)
	}
	b.Do("open the record form", chromedp.Click(chromedp.ID("record-inspection")),
		portaltest.WaitForPath(inspection+"/complete"), chromedp.WaitVisible(chromedp.ID("findings")))
	b.CheckAccessibility()
	b.Do("record it", // the day it took place is filled in: the planned day, today
		chromedp.SendKeys(chromedp.ID("findings"), findings),
		chromedp.Click(chromedp.CSS(`input[name="rating"][value="requires_improvement"]`)),
		chromedp.SetUploadFiles(chromedp.ID("evidence"), []string{photo}),
		chromedp.Click(submit), portaltest.WaitForPath(inspection), chromedp.WaitVisible(banner))
	if got := b.Text("main"); !strings.Contains(got, findings) || !strings.Contains(got, "Requires improvement") || !strings.Contains(got, "fire-door.png") {
		t.Errorf("the recorded inspection reads %q", got)
	}
	b.CheckAccessibility()
	due := londonDay(14)
	b.Do("raise an action from it", chromedp.Click(chromedp.ID("raise-action")), chromedp.WaitVisible(chromedp.ID("title")),
		chromedp.SendKeys(chromedp.ID("title"), "Restart night-time welfare checks"),
		chromedp.SendKeys(chromedp.ID("detail"), "Restart the checks and send two weeks of logs."),
		chromedp.Click(chromedp.CSS(`input[name="priority"][value="high"]`)),
		chromedp.SendKeys(chromedp.ID("due-day"), strconv.Itoa(due.Day())),
		chromedp.SendKeys(chromedp.ID("due-month"), strconv.Itoa(int(due.Month()))),
		chromedp.SendKeys(chromedp.ID("due-year"), strconv.Itoa(due.Year())),
		chromedp.Click(submit), chromedp.WaitVisible(banner))
	action := b.Path()
	if !strings.HasPrefix(action, "/actions/") || !strings.Contains(b.Text("#action-status"), "Open") {
		t.Fatalf("raising went to %s", action)
	}
	b.CheckAccessibility()
	signOut()

	// Northgate's officer reads the findings and responds with a file.
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open their inspections", chromedp.Navigate(p.URL+"/inspections"), chromedp.WaitVisible(chromedp.ID("inspections")),
		chromedp.Click(chromedp.CSS(`#inspections a[href="`+inspection+`"]`)), portaltest.WaitForPath(inspection), chromedp.WaitVisible(chromedp.ID("findings")))
	if got := b.Text("#findings"); got != findings {
		t.Errorf("the officer reads the findings as %q", got)
	}
	b.Do("open their actions", chromedp.Navigate(p.URL+"/actions"), chromedp.WaitVisible(chromedp.ID("actions")))
	b.CheckAccessibility()
	respond := func(text string, files ...string) {
		t.Helper()
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(p.URL + action), chromedp.WaitVisible(chromedp.ID("response")),
			chromedp.SendKeys(chromedp.ID("response"), text)}
		if len(files) > 0 {
			steps = append(steps, chromedp.SetUploadFiles(chromedp.ID("evidence"), files))
		}
		b.Do("respond", append(steps, chromedp.Click(chromedp.CSS(`form[action="`+action+`/respond"] button`)), chromedp.WaitVisible(banner))...)
		if got := b.Text("#action-status"); !strings.Contains(got, "Responded") {
			t.Errorf("after responding the status reads %q", got)
		}
	}
	respond("Checks restarted on 5 June; logs attached.", log)
	b.CheckAccessibility()
	signOut()

	// The manager returns it; the officer responds again; the manager accepts.
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	b.Do("return the response", chromedp.Navigate(p.URL+action), chromedp.WaitVisible(chromedp.ID("reason")),
		chromedp.SendKeys(chromedp.ID("reason"), "The logs stop on 9 June: send the second week."),
		chromedp.Click(chromedp.ID("return")), chromedp.WaitVisible(banner))
	if got := b.Text("#action-status"); !strings.Contains(got, "Returned") {
		t.Errorf("after returning the status reads %q", got)
	}
	signOut()
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("read why", chromedp.Navigate(p.URL+action), chromedp.WaitVisible(chromedp.ID("returned-because")))
	if got := b.Text("#returned-because"); !strings.Contains(got, "The logs stop on 9 June") {
		t.Errorf("the officer is told the response was returned because %q", got)
	}
	respond("The second week's log is attached.", log)
	signOut()
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	b.Do("accept the response", chromedp.Navigate(p.URL+action), chromedp.WaitVisible(chromedp.ID("accept")),
		chromedp.Click(chromedp.ID("accept")), chromedp.WaitVisible(banner))
	for _, who := range []string{"manager", "officer"} {
		if who == "officer" {
			signOut()
			browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
			b.Do("open the action", chromedp.Navigate(p.URL+action), chromedp.WaitVisible(chromedp.ID("history")))
		}
		if got := b.Text("#action-status"); !strings.Contains(got, "Closed") {
			t.Errorf("the %s sees the action as %q", who, got)
		}
		history := b.Text("#history")
		for _, want := range []string{"Raised the action", "Checks restarted on 5 June", "Returned the response", "The logs stop on 9 June",
			"The second week's log", "Accepted the response and closed the action", "night-check-log.pdf"} {
			if !strings.Contains(history, want) {
				t.Errorf("the %s's history lacks %q:\n%s", who, want, history)
			}
		}
		if n := strings.Count(history, "night-check-log.pdf"); n != 2 {
			t.Errorf("the %s's history lists %d files, want 2", who, n)
		}
	}
	b.CheckAccessibility()
}
