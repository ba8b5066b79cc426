package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/portaltest"
)

// TestBrowserRecordsRecordImportVerifyAndSeeTheOutcome follows training
// evidence from the partner to the department and back, as people click
// through the pages in a real browser, with axe-core on each kind of page:
//  1. a member of partner staff records a course with a certificate;
//  2. their compliance officer imports a completions file with a bad row,
//     importing only the good rows;
//  3. the contract manager rejects an imported completion (first without a
//     reason, which is refused) and verifies the staff member's certificate;
//  4. the officer sees the rejection to put right, and the staff member sees
//     the verified course met and the rejected one with its reason.
//
// The dates are ones no seeded record should have, and nothing depends on how
// many records the seed gives anyone.
func TestBrowserRecordsRecordImportVerifyAndSeeTheOutcome(t *testing.T) {
	const (
		contract  = "CS-ACC-2025-014" // Northgate's contract
		staffName = "Sam Patel"       // staff@northgate.example, NG-01001
		ownCourse = "Suicide and self-harm awareness"
		imported  = "Vulnerability awareness"
		completed = "20 November 2026"
		reason    = "The provider has no record of this completion"
	)
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	dir := t.TempDir()
	certificate := filepath.Join(dir, "certificate.png")
	if err := os.WriteFile(certificate, certificatePNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "completions.csv")
	if err := os.WriteFile(csv, []byte("staff_number,module,completed_on,provider\r\n"+
		"NG-01001,vulnerability_awareness,2026-11-20,Home Office\r\n"+
		"NG-01002,Suicide and self-harm awareness,20/11/2026,Department e-learning\r\n"+
		"NG-99999,vulnerability_awareness,2026-11-20,Home Office\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	signOut := func() {
		b.Do("sign out", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))
	}

	// 1. The staff member records a course they completed, with its certificate.
	browserSignIn(b, p.URL, "staff@northgate.example", "/my-record")
	b.Do("open the training form", chromedp.Click(rbLink("Record a course you completed")),
		portaltest.WaitForPath("/my-record/training/new"), chromedp.WaitVisible(chromedp.ID("provider")))
	if got := b.Text("h1"); got != "Record a course completed" {
		t.Errorf("training form heading %q", got)
	}
	b.CheckAccessibility()
	b.Do("save an empty form", chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Select the course completed") {
		t.Errorf("training form error summary %q", got)
	}
	b.CheckAccessibility()
	b.Do("fill in the training form",
		chromedp.Click(chromedp.CSS(`input[name="module"][value="suicide_self_harm"]`)),
		chromedp.SendKeys(chromedp.ID("completed-day"), "20"),
		chromedp.SendKeys(chromedp.ID("completed-month"), "11"),
		chromedp.SendKeys(chromedp.ID("completed-year"), "2026"),
		chromedp.SendKeys(chromedp.ID("provider"), "Department e-learning"),
		chromedp.SetUploadFiles(chromedp.ID("certificate"), []string{certificate}),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		portaltest.WaitForPath("/my-record"),
		chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner--success")))
	if got := b.Text(".govuk-notification-banner--success"); !strings.Contains(got, "The course has been recorded") {
		t.Errorf("success banner %q", got)
	}
	if row := rbRow(b, "#training-records", ownCourse, completed); !strings.Contains(row, "certificate.png") ||
		!strings.Contains(row, "Department e-learning") || !strings.Contains(row, "Waiting for the department") {
		t.Errorf("the recorded course on the staff member's record: %q", row)
	}
	if row := rbRow(b, "#requirements-"+contract, ownCourse); !strings.Contains(row, "Awaiting verification") {
		t.Errorf("the requirement after recording the course: %q", row)
	}
	signOut()

	// 2. The officer imports a file of completions with one bad row.
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open staff compliance", chromedp.Click(chromedp.CSS(`main a[href="/partners/northgate/compliance"]`)),
		portaltest.WaitForPath("/partners/northgate/compliance"), chromedp.WaitVisible(chromedp.ID("attention")))
	b.CheckAccessibility()
	b.Do("open the completions import", chromedp.Click(rbLink("Import training completions from a CSV file")),
		portaltest.WaitForPath("/partners/northgate/training/import"), chromedp.WaitVisible(chromedp.ID("file")))
	if got := b.Text("#columns"); !strings.Contains(got, "staff_number") || !strings.Contains(got, "completed_on") {
		t.Errorf("columns listed on the upload page: %q", got)
	}
	b.CheckAccessibility()
	b.Do("upload the file", chromedp.SetUploadFiles(chromedp.ID("file"), []string{csv}),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.ID("import-summary")))
	if got := b.Text("#import-summary"); !strings.Contains(got, "completions.csv") || !strings.Contains(got, "2 for 2 people") {
		t.Errorf("import summary %q", got)
	}
	if got := b.Text("#row-problems"); !strings.Contains(got, "1 row has a problem") ||
		!strings.Contains(got, "No one on the roster has staff number NG-99999") || strings.Contains(got, "NG-01001") || strings.Contains(got, "NG-01002") {
		t.Errorf("row problems %q", got)
	}
	b.CheckAccessibility()
	checkPage := p.URL + b.Path()
	b.Do("import only the good rows", chromedp.Click(chromedp.ID("only_valid")),
		chromedp.Click(chromedp.Search(`//main//form//button[normalize-space()="Add 2 completions"]`)),
		chromedp.WaitNotPresent(chromedp.ID("only_valid")))
	// The page does not refresh itself: reload, as the officer would.
	for deadline := time.Now().Add(15 * time.Second); ; {
		b.Do("refresh the import", chromedp.Navigate(checkPage), chromedp.WaitVisible(chromedp.CSS("main")))
		if strings.Contains(b.Text("main"), "Import complete") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := b.Text("main"); !strings.Contains(got, "Import complete") || !strings.Contains(got, "2 completions added") {
		t.Fatalf("after the import: %q", got)
	}
	b.CheckAccessibility()
	signOut()

	// 3. The contract manager rejects the imported completion and verifies the certificate.
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	b.Do("open the verification queue", chromedp.Click(rbLink("Evidence to verify")),
		portaltest.WaitForPath("/verification"), chromedp.WaitVisible(chromedp.ID("queue")))
	b.CheckAccessibility()
	if row := rbRow(b, "#queue", staffName+": "+imported); !strings.Contains(row, "NG-01001") || !strings.Contains(row, "Northgate Services Ltd") ||
		!strings.Contains(row, "None attached") {
		t.Errorf("the imported completion in the queue: %q", row)
	}
	if row := rbRow(b, "#queue", staffName+": "+ownCourse); !strings.Contains(row, "Attached") {
		t.Errorf("the certificate in the queue: %q", row)
	}
	b.Do("open the imported completion", chromedp.Click(rbQueueLink(staffName, imported)), chromedp.WaitVisible(chromedp.ID("record")))
	if got := b.Text("h1"); got != "Verify "+imported {
		t.Errorf("decision page heading %q", got)
	}
	if got := b.Text("#record"); !strings.Contains(got, completed) || !strings.Contains(got, "Home Office") {
		t.Errorf("the imported completion: %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "No certificate was attached") {
		t.Errorf("the imported completion's page says nothing of the missing certificate: %q", got)
	}
	b.CheckAccessibility()
	decidePage := b.Path()
	b.Do("reject without a reason", chromedp.Click(chromedp.CSS(`input[name="decision"][value="rejected"]`)),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.CSS(`.govuk-error-summary a[href="#reason"]`)))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter why the evidence is rejected and what the partner should do") {
		t.Errorf("error summary %q", got)
	}
	if got := b.Path(); got != decidePage {
		t.Errorf("a refused decision left the page for %s", got)
	}
	b.CheckAccessibility()
	b.Do("reject with a reason",
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		portaltest.WaitForPath("/verification"),
		chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner--success")))
	if got := b.Text(".govuk-notification-banner--success"); !strings.Contains(got, "The evidence has been rejected.") {
		t.Errorf("banner after rejecting %q", got)
	}
	b.Do("open the certificate", chromedp.Click(rbQueueLink(staffName, ownCourse)), chromedp.WaitVisible(chromedp.ID("record")))
	if got := b.Text("#record"); !strings.Contains(got, completed) || !strings.Contains(got, "Department e-learning") {
		t.Errorf("the recorded course: %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "Download the certificate (certificate.png)") {
		t.Errorf("the decision page does not offer the certificate: %q", got)
	}
	b.Do("verify it", chromedp.Click(chromedp.CSS(`input[name="decision"][value="verified"]`)),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		portaltest.WaitForPath("/verification"),
		chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner--success")))
	if got := b.Text(".govuk-notification-banner--success"); !strings.Contains(got, "The evidence has been verified.") {
		t.Errorf("banner after verifying %q", got)
	}
	for _, what := range []string{imported, ownCourse} {
		if row := rbRow(b, "#queue", staffName+": "+what); row != "" {
			t.Errorf("decided %s still in the queue: %q", what, row)
		}
	}
	signOut()

	// 4. The partner sees the outcome: the officer what to put right...
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open staff compliance", chromedp.Click(chromedp.CSS(`main a[href="/partners/northgate/compliance"]`)),
		portaltest.WaitForPath("/partners/northgate/compliance"), chromedp.WaitVisible(chromedp.ID("attention")))
	if row := rbRow(b, "#attention", staffName); !regexp.MustCompile(`\b\d+ rejected records?\b`).MatchString(row) {
		t.Errorf("the rejected evidence is not among what to put right: %q", row)
	}
	b.Do("open the staff member's record", chromedp.Click(chromedp.Search(`//table[@id="attention"]//a[normalize-space()="`+staffName+`"]`)),
		chromedp.WaitVisible(chromedp.ID("staff-record")))
	if got := b.Text("h1"); got != staffName {
		t.Errorf("staff record heading %q", got)
	}
	if row := rbRow(b, "#training-records", imported, completed); !strings.Contains(row, "Rejected") || !strings.Contains(row, reason) {
		t.Errorf("the officer does not see the rejection and its reason: %q", row)
	}
	if row := rbRow(b, "#requirements-"+contract, imported); !strings.Contains(row, "Rejected: "+reason+".") {
		t.Errorf("the requirement does not say why it is not met: %q", row)
	}
	signOut()

	// ...and the staff member their verified course and the rejected one.
	browserSignIn(b, p.URL, "staff@northgate.example", "/my-record")
	b.Do("wait for the record", chromedp.WaitVisible(chromedp.ID("training-records")))
	if row := rbRow(b, "#requirements-"+contract, ownCourse); !strings.Contains(row, "Met") || !strings.Contains(row, "Completed "+completed) {
		t.Errorf("the verified course does not meet the requirement: %q", row)
	}
	if row := rbRow(b, "#training-records", ownCourse, completed); !strings.Contains(row, "Verified") {
		t.Errorf("the verified course on the staff member's record: %q", row)
	}
	if row := rbRow(b, "#requirements-"+contract, imported); !strings.Contains(row, "Missing") ||
		!strings.Contains(row, "Rejected: "+reason+".") || !strings.Contains(row, "Record the course again") {
		t.Errorf("the staff member is not told why the course was rejected and what to do: %q", row)
	}
	if row := rbRow(b, "#training-records", imported, completed); !strings.Contains(row, "Rejected") || !strings.Contains(row, reason) {
		t.Errorf("the rejected course on the staff member's record: %q", row)
	}
	b.CheckAccessibility()
}

// rbLink is the link (or button-styled link) in the page's main content with exactly this text.
func rbLink(text string) chromedp.Search {
	return chromedp.Search(`//main//a[normalize-space()="` + text + `"]`)
}

// rbQueueLink is the verification queue's link to one person's record of what.
func rbQueueLink(name, what string) chromedp.Search {
	return chromedp.Search(`//table[@id="queue"]//a[normalize-space()="` + name + `: ` + what + `"]`)
}

// rbRow is the visible text of the first row of the table matched by table
// whose header cell (or the link in it) reads header and whose text contains
// every one of also, or "" when there is none.
func rbRow(b *portaltest.Browser, table, header string, also ...string) string {
	if also == nil {
		also = []string{}
	}
	args, err := json.Marshal([]any{table, header, also})
	if err != nil {
		panic(err)
	}
	var row string
	b.Do("read a row of "+table, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var err error
		row, err = chromedp.Evaluate[string](`(([table, header, also]) => {
			const norm = s => s.replace(/\s+/g, " ").trim();
			for (const tr of document.querySelectorAll(table + " tbody tr")) {
				const th = tr.querySelector("th");
				const name = th && (th.querySelector("a") || th);
				const text = norm(tr.innerText);
				if (name && norm(name.textContent) === header && also.every(s => text.includes(s))) {
					return text;
				}
			}
			return "";
		})(`+string(args)+`)`)(ctx, t)
		return chromedp.Void{}, err
	})
	return row
}
