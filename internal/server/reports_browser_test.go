package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/portaltest"
)

// reportPageState is what a report's page shows at a moment.
type reportPageState struct {
	Path     string `json:"path"`
	Status   string `json:"status"`
	Progress bool   `json:"progress"`
	Download string `json:"download"`
}

const readReportPage = `JSON.stringify({
	path: location.pathname,
	status: (document.getElementById("report-status") || {}).textContent || "",
	progress: !!document.querySelector("progress#report-progress"),
	download: (document.getElementById("report-download") || {getAttribute: () => ""}).getAttribute("href") || ""
})`

// awaitReportPage waits until a report's page has loaded (it may be
// reloading itself) and until done says it shows what is wanted; it
// returns what it shows then.
func awaitReportPage(b *portaltest.Browser, done func(reportPageState) bool) reportPageState {
	var st reportPageState
	b.Do("wait for the report's page", func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			// Mid-reload, evaluating fails or finds half a page: look again.
			raw, err := chromedp.Evaluate[string](`document.readyState === "complete" ? `+readReportPage+` : ""`)(ctx, target)
			if err == nil && raw != "" && json.Unmarshal([]byte(raw), &st) == nil && strings.HasPrefix(st.Path, "/reports/RPT-") && done(st) {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("the report's page never showed what was wanted; last %+v (%v)", st, err)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	return st
}

// fetchPDF downloads href with the browser's own session and returns the
// status, the content type, the length and the first bytes.
func fetchPDF(b *portaltest.Browser, href string) (status int, contentType string, length int, head string) {
	var out struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Length int    `json:"length"`
		Head   string `json:"head"`
	}
	b.Do("fetch "+href, func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		raw, err := chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q, {credentials: "same-origin"}).then(r => r.arrayBuffer().then(buf => JSON.stringify({
			status: r.status, type: r.headers.get("content-type"), length: buf.byteLength,
			head: String.fromCharCode(...new Uint8Array(buf.slice(0, 5)))})))`, href), chromedp.EvalAwaitPromise)(ctx, target)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, json.Unmarshal([]byte(raw), &out)
	})
	return out.Status, out.Type, out.Length, out.Head
}

// TestBrowserReportGeneratedDownloadedAndKeptToItsPartner: a contract
// manager asks for a report on their contract over this quarter, to share
// with the partner, watches it being generated (or finds it already done)
// and downloads the PDF; Northgate's compliance officer finds it in their
// archive, downloads it and reads the accessible page, and finds another
// partner's report not there at all. axe-core checks the form, the report's
// page and the accessible page.
func TestBrowserReportGeneratedDownloadedAndKeptToItsPartner(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	submit := chromedp.CSS("main form button.govuk-button")

	// Brightwell's report, asked for by a lead: the officer must never reach it.
	lead := signInAs(t, p, "lead@department.example")
	month, year := thisMonth()
	theirs := requestReport(lead, map[string][]string{"kind": {"partner"}, "partner": {brightwell}, "period": {"month"},
		"month-month": {month}, "month-year": {year}, "edition": {"partner"}})

	browserSignIn(b, p.URL, "manager@department.example", "/contracts")
	b.Do("open the reports from the navigation", chromedp.Click(chromedp.CSS(`.govuk-service-navigation a[href="/reports"]`)),
		portaltest.WaitForPath("/reports"), chromedp.WaitVisible(chromedp.ID("generate-report")))
	b.Do("open the form", chromedp.Click(chromedp.ID("generate-report")), portaltest.WaitForPath("/reports/new"),
		chromedp.WaitVisible(chromedp.ID("kind")))
	b.CheckAccessibility()
	b.Do("send it empty", chromedp.Click(submit), portaltest.WaitForPath("/reports"), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Select what the report is about") || !strings.Contains(got, "Select the period the report covers") {
		t.Errorf("the form's error summary reads %q", got)
	}
	b.CheckAccessibility()
	b.Do("ask for a report on the contract over this quarter, to share with the partner",
		chromedp.Click(chromedp.CSS(`input[name="kind"][value="contract"]`)),
		chromedp.WaitVisible(chromedp.ID("contract")),
		chromedp.SetValue(chromedp.ID("contract"), ownContract),
		chromedp.Click(chromedp.CSS(`input[name="period"][value="quarter"]`)),
		chromedp.WaitVisible(chromedp.ID("quarter")),
		chromedp.SetValue(chromedp.ID("quarter"), thisQuarter()),
		chromedp.Click(chromedp.CSS(`input[name="edition"][value="partner"]`)),
		chromedp.Click(submit))
	first := awaitReportPage(b, func(reportPageState) bool { return true })
	if !first.Progress && first.Download == "" {
		t.Errorf("the report's first page shows neither its progress nor its download: %+v", first)
	}
	if first.Progress && !strings.Contains(first.Status, "Queued") && !strings.Contains(first.Status, "Generating") {
		t.Errorf("a report in progress is tagged %q", first.Status)
	}
	t.Logf("first seen: %+v", first)
	// Without JavaScript doing anything, the page reloads itself until the report is ready.
	ready := awaitReportPage(b, func(st reportPageState) bool { return st.Download != "" })
	id := strings.TrimPrefix(ready.Path, "/reports/")
	if ready.Download != "/reports/"+id+"/pdf" || !strings.Contains(ready.Status, "Ready") || ready.Progress {
		t.Errorf("the ready report's page: %+v", ready)
	}
	if got := b.Text("#report-download"); !strings.HasPrefix(got, "Download PDF (") || !strings.Contains(got, "pages, ") || !strings.HasSuffix(got, "KB)") {
		t.Errorf("the download link reads %q", got)
	}
	b.CheckAccessibility()
	if status, ct, n, head := fetchPDF(b, ready.Download); status != 200 || ct != "application/pdf" || n < 1000 || head != "%PDF-" {
		t.Errorf("the manager's download: %d %s, %d bytes starting %q", status, ct, n, head)
	}
	b.Do("sign out", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))

	// Northgate's officer finds the report in their archive.
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open the reports", chromedp.Click(chromedp.CSS(`.govuk-service-navigation a[href="/reports"]`)),
		portaltest.WaitForPath("/reports"), chromedp.WaitVisible(chromedp.ID("reports")))
	if list := b.Text("#reports"); !strings.Contains(list, id) || strings.Contains(list, theirs) || strings.Contains(list, "Brightwell") {
		t.Errorf("the officer's archive reads %q", list)
	}
	b.Do("open the report", chromedp.Click(chromedp.CSS(`#reports a[href="/reports/`+id+`"]`)), portaltest.WaitForPath("/reports/"+id),
		chromedp.WaitVisible(chromedp.ID("report-download")))
	if status, ct, n, head := fetchPDF(b, "/reports/"+id+"/pdf"); status != 200 || ct != "application/pdf" || n < 1000 || head != "%PDF-" {
		t.Errorf("the officer's download: %d %s, %d bytes starting %q", status, ct, n, head)
	}
	b.Do("read it as a web page", chromedp.Click(chromedp.ID("report-view")), portaltest.WaitForPath("/reports/"+id+"/view"),
		chromedp.WaitVisible(chromedp.ID("marking-bottom")))
	if got := b.Text("#marking-top"); got != "OFFICIAL-SENSITIVE" {
		t.Errorf("the accessible page is marked %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, ownContract) || strings.Contains(got, "Escalations to safeguarding leads") {
		t.Errorf("the partner's accessible page should cover %s without the department's escalations", ownContract)
	}
	b.CheckAccessibility()
	for _, path := range []string{"/reports/" + theirs, "/reports/" + theirs + "/view"} {
		b.Do("try "+path, chromedp.Navigate(p.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := b.Text("h1"); got != "Page not found" {
			t.Errorf("the officer's %s shows %q, want the 404 page", path, got)
		}
	}
	if status, _, _, head := fetchPDF(b, "/reports/"+theirs+"/pdf"); status != 404 || head == "%PDF-" {
		t.Errorf("the officer's download of another partner's report: %d starting %q", status, head)
	}
}
