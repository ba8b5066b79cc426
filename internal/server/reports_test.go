package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/escalation/escalationtest"
	"github.com/department/safeguarding-portal/internal/pdftest"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/report"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// thisQuarter and thisMonth name the current London quarter and month as
// the report form takes them.
func thisQuarter() string {
	today := calendar.Today(time.Now())
	return fmt.Sprintf("%d-Q%d", today.Year(), (int(today.Month())-1)/3+1)
}

func thisMonth() (month, year string) {
	today := calendar.Today(time.Now())
	return fmt.Sprint(int(today.Month())), fmt.Sprint(today.Year())
}

// reportForm is a complete request for a report on a contract over this quarter.
func contractReportForm(contractID, edition string) url.Values {
	return url.Values{"kind": {"contract"}, "contract": {contractID}, "period": {"quarter"}, "quarter": {thisQuarter()}, "edition": {edition}}
}

// requestReport posts form and returns the queued report's reference.
func requestReport(u contractUser, form url.Values) string {
	u.t.Helper()
	status, body, location := u.post("/reports", form)
	if status != http.StatusSeeOther || !strings.HasPrefix(location, "/reports/RPT-") {
		u.t.Fatalf("POST /reports: got %d to %q, want 303 to a report\n%s", status, location, body)
	}
	return strings.TrimPrefix(location, "/reports/")
}

// readyReport polls a report's page until it is ready, and returns the page.
func readyReport(u contractUser, id string) string {
	u.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		status, page := u.get("/reports/" + id)
		switch {
		case status != http.StatusOK:
			u.t.Fatalf("GET /reports/%s: %d", id, status)
		case strings.Contains(page, `id="report-failure"`):
			u.t.Fatalf("report %s failed:\n%s", id, page)
		case strings.Contains(page, `id="report-download"`):
			return page
		case time.Now().After(deadline):
			u.t.Fatalf("report %s not ready after 3 minutes", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// download fetches a report's PDF and checks how it is sent.
func download(u contractUser, id string) []byte {
	u.t.Helper()
	resp, err := u.c.Get(u.base + "/reports/" + id + "/pdf")
	if err != nil {
		u.t.Fatal(err)
	}
	body := []byte(portaltest.ReadAll(u.t, resp))
	if resp.StatusCode != http.StatusOK {
		u.t.Fatalf("GET /reports/%s/pdf: %d", id, resp.StatusCode)
	}
	for header, want := range map[string]string{"Content-Type": "application/pdf", "Cache-Control": "private, no-store",
		"X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(header); got != want {
			u.t.Errorf("GET /reports/%s/pdf: %s %q, want %q", id, header, got, want)
		}
	}
	if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, `attachment; filename="`+id+`.pdf"`) {
		u.t.Errorf("GET /reports/%s/pdf: Content-Disposition %q", id, got)
	}
	if !bytes.HasPrefix(body, []byte("%PDF-")) {
		u.t.Errorf("GET /reports/%s/pdf: not a PDF: %q", id, body[:min(len(body), 20)])
	}
	return body
}

func countReports(t *testing.T, p *portaltest.Portal) int64 {
	t.Helper()
	n, err := p.App.Store.DB.Collection("reports").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func auditCount(t *testing.T, p *portaltest.Portal, action, resource string) int64 {
	t.Helper()
	n, err := p.App.Store.DB.Collection("audit_events").CountDocuments(context.Background(),
		bson.D{{Key: "action", Value: action}, {Key: "resource", Value: resource}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	reportSHA   = regexp.MustCompile(`id="report-sha256">([0-9a-f]{64})<`)
	viewStaff   = regexp.MustCompile(`data-figure="staff">([0-9,]+)<`)
	reportIDRef = regexp.MustCompile(`RPT-\d{8}-[0-9A-Z]{6}`)
)

// TestReportRequestValidateGenerateAndDownload: a contract manager's form
// refuses what is incomplete, wrong or out of reach, queuing nothing; a
// report being generated shows its progress and reloads itself; a report on
// the manager's contract is generated, and its PDF is downloaded exactly as
// archived, with the hash its page shows, the contract, the protective
// marking and the contract's staff as the dashboard counts them.
func TestReportRequestValidateGenerateAndDownload(t *testing.T) {
	p := portaltest.Start(t)
	dashboard := dashboardCSV(t, settledDashboard(t, p.URL, "manager@department.example", "/contracts"), p.URL+"/dashboard.csv")
	if len(dashboard) != 1 || dashboard[0]["contract_id"] != ownContract || dashboard[0]["staff"] == "" {
		t.Fatalf("the manager's dashboard export: %v", dashboard)
	}
	staffOnDashboard := dashboard[0]["staff"]
	manager := signInAs(t, p, "manager@department.example")

	_, list := manager.get("/reports")
	if !strings.Contains(list, `href="/reports/new"`) || !strings.Contains(list, `href="/reports"`) {
		t.Error("the reports page should offer to generate one, and the navigation should lead to it")
	}
	_, form := manager.get("/reports/new")
	for _, want := range []string{`value="` + ownContract + `"`, `value="northgate"`, `value="` + thisQuarter() + `"`, `name="edition"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	for _, never := range []string{otherContract, `value="brightwell"`, `value="portfolio"`} {
		if strings.Contains(form, never) {
			t.Errorf("the manager's form offers %s", never)
		}
	}

	month, year := thisMonth()
	for _, tc := range []struct {
		name  string
		form  url.Values
		wants []string
		typed string // a value typed that must be shown back
	}{
		{"empty", url.Values{}, []string{"Select what the report is about", "Select the period the report covers", "Select who the report is for"}, ""},
		{"bad month", url.Values{"kind": {"contract"}, "contract": {ownContract}, "period": {"month"}, "month-month": {"13"}, "month-year": {"2026"}, "edition": {"department"}},
			[]string{"The month must be a real month and year"}, `value="13"`},
		{"future month", url.Values{"kind": {"contract"}, "contract": {ownContract}, "period": {"month"}, "month-month": {month}, "month-year": {fmt.Sprint(time.Now().Year() + 1)}, "edition": {"department"}},
			[]string{"The month must be this month or earlier"}, ""},
		{"custom dates the wrong way round", url.Values{"kind": {"contract"}, "contract": {ownContract}, "period": {"custom"},
			"from-day": {"10"}, "from-month": {"3"}, "from-year": {"2026"}, "to-day": {"9"}, "to-month": {"3"}, "to-year": {"2026"}, "edition": {"partner"}},
			[]string{"The last day must be the same as or after the first day"}, `value="10"`},
		{"custom dates not real", url.Values{"kind": {"contract"}, "contract": {ownContract}, "period": {"custom"},
			"from-day": {"31"}, "from-month": {"2"}, "from-year": {"2026"}, "edition": {"partner"}},
			[]string{"The first day the report covers must be a real date"}, ""},
		{"unknown contract", contractReportForm("CS-NONE-2025-999", "department"), []string{"Select the contract the report is about"}, ""},
		{"contract out of reach", contractReportForm(otherContract, "department"), []string{"Select the contract the report is about"}, ""},
		{"partner out of reach", url.Values{"kind": {"partner"}, "partner": {"brightwell"}, "period": {"month"}, "month-month": {month}, "month-year": {year}, "edition": {"department"}},
			[]string{"Select the partner the report is about"}, ""},
		{"portfolio", url.Values{"kind": {"portfolio"}, "period": {"quarter"}, "quarter": {thisQuarter()}}, []string{"Select what the report is about"}, ""},
		{"no edition", url.Values{"kind": {"contract"}, "contract": {ownContract}, "period": {"quarter"}, "quarter": {thisQuarter()}}, []string{"Select who the report is for"}, ""},
	} {
		status, body, _ := manager.post("/reports", tc.form)
		if status != http.StatusBadRequest || !strings.Contains(body, "There is a problem") {
			t.Errorf("%s: got %d, want 400 with the error summary", tc.name, status)
			continue
		}
		for _, want := range tc.wants {
			if !strings.Contains(body, html.EscapeString(want)) {
				t.Errorf("%s: error %q not shown", tc.name, want)
			}
		}
		if tc.typed != "" && !strings.Contains(body, tc.typed) {
			t.Errorf("%s: what was typed (%s) is not shown back", tc.name, tc.typed)
		}
		if strings.Contains(body, "Brightwell") {
			t.Errorf("%s: the form names another partner", tc.name)
		}
	}
	if n := countReports(t, p); n != 0 {
		t.Fatalf("refused requests queued %d reports", n)
	}

	// A report another replica is generating: its page shows how far it
	// has gone, and reloads itself unless asked not to.
	lease := time.Now().Add(time.Hour)
	quarter, err := report.ParsePeriod(thisQuarter())
	if err != nil {
		t.Fatal(err)
	}
	running := report.Entry{ID: "RPT-20260101-RUNNNG", Request: report.Request{Kind: report.ContractReport, SubjectID: ownContract,
		Period: quarter, Edition: report.DepartmentEdition}, PartnerID: northgate, ContractIDs: []string{ownContract},
		Subject: ownContract + " Asylum accommodation", RequestedBy: report.Requester{Subject: "someone", Name: "Someone Else", Org: "department"},
		RequestedAt: time.Now().UTC().Truncate(time.Millisecond), Status: report.Running, Done: 1, Total: 3, Worker: "elsewhere", LeaseUntil: &lease, Attempts: 1}
	if _, err := p.App.Store.DB.Collection("reports").InsertOne(context.Background(), running); err != nil {
		t.Fatal(err)
	}
	_, page := manager.get("/reports/" + running.ID)
	for _, want := range []string{`<progress id="report-progress" max="100" value="33">33%</progress>`, "Step 1 of 3", "Generating",
		`<meta http-equiv="refresh" content="2">`, `href="/reports/` + running.ID + `?refresh=off"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of a report being generated lacks %s", want)
		}
	}
	if strings.Contains(page, "report-download") {
		t.Error("a report being generated offers a download")
	}
	if _, page := manager.get("/reports/" + running.ID + "?refresh=off"); strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, "report-progress") {
		t.Error("asked not to, the page still reloads itself (or lost its progress)")
	}
	for _, path := range []string{"/pdf", "/view"} {
		resp, err := manager.c.Get(p.URL + "/reports/" + running.ID + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/reports/"+running.ID {
			t.Errorf("GET %s of a report not ready: %d to %q, want 303 to its page", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// A report that failed says why, and reloads no more.
	failed := running
	failed.ID, failed.Status, failed.Failure, failed.LeaseUntil = "RPT-20260101-FA1LED", report.Failed, "The contract or partner the report is about no longer exists.", nil
	if _, err := p.App.Store.DB.Collection("reports").InsertOne(context.Background(), failed); err != nil {
		t.Fatal(err)
	}
	if _, page := manager.get("/reports/" + failed.ID); !strings.Contains(page, `id="report-failure"`) || !strings.Contains(page, html.EscapeString(failed.Failure)) ||
		strings.Contains(page, `http-equiv="refresh"`) || strings.Contains(page, "report-progress") {
		t.Error("a failed report's page should give the reason, without progress or reloading")
	}

	// The manager's own contract, for the department.
	id := requestReport(manager, contractReportForm(ownContract, "department"))
	if n := auditCount(t, p, "report.request", "report/"+id); n != 1 {
		t.Errorf("the request is on record %d times, want once", n)
	}
	page = readyReport(manager, id)
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("a ready report's page still reloads itself")
	}
	m := reportSHA.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the report's page shows no SHA-256:\n%s", page)
	}
	pdf := download(manager, id)
	if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != m[1] {
		t.Errorf("the PDF's SHA-256 is %x, its page says %s", sum, m[1])
	}
	if again := download(manager, id); !bytes.Equal(again, pdf) {
		t.Error("a second download differs from the first")
	}
	if n := auditCount(t, p, "report.download", "report/"+id); n != 2 {
		t.Errorf("%d downloads on record, want 2", n)
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{ownContract, report.Marking} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	// The headline reads "N of STAFF (P%) staff meet every requirement".
	if !regexp.MustCompile(`\bof ` + regexp.QuoteMeta(staffOnDashboard) + ` \(`).MatchString(text) {
		t.Errorf("the PDF's text lacks the contract's %s staff, as the dashboard counts them:\n%s", staffOnDashboard, text)
	}

	// The accessible page says what the PDF says, marked as the PDF is.
	status, view := manager.get("/reports/" + id + "/view")
	if status != http.StatusOK {
		t.Fatalf("GET /reports/%s/view: %d", id, status)
	}
	if n := strings.Count(view, report.Marking); n < 2 {
		t.Errorf("the accessible page carries the marking %d times, want top and bottom", n)
	}
	if m := viewStaff.FindStringSubmatch(view); m == nil || m[1] != staffOnDashboard {
		t.Errorf("the accessible page shows the contract's staff as %v, the dashboard %s", m, staffOnDashboard)
	}
	for _, want := range []string{ownContract, "Contracts at a glance", "Staff compliance by requirement", "Serious incidents", "Escalations and suspensions", quarter.Label()} {
		if !strings.Contains(view, html.EscapeString(want)) {
			t.Errorf("the accessible page lacks %q", want)
		}
	}
	if n := auditCount(t, p, "report.view", "report/"+id); n != 1 {
		t.Errorf("the accessible page's reading is on record %d times, want once", n)
	}
	_, list = manager.get("/reports")
	if !strings.Contains(list, `data-report="`+id+`"`) || !strings.Contains(list, "Ready") || !strings.Contains(list, "Maya Collins") {
		t.Error("the archive does not list the report as ready, requested by the manager")
	}
}

// TestReportIsolation: a partner's compliance officer reads and asks for
// only their own organisation's partner editions; everything else is not
// found, exactly as a reference that does not exist; partner staff are
// refused outright.
func TestReportIsolation(t *testing.T) {
	p := portaltest.Start(t)
	lead := signInAs(t, p, "lead@department.example")
	officer := signInAs(t, p, "officer@northgate.example")
	month, year := thisMonth()
	partnerForm := func(partnerID, edition string) url.Values {
		return url.Values{"kind": {"partner"}, "partner": {partnerID}, "period": {"month"}, "month-month": {month}, "month-year": {year}, "edition": {edition}}
	}

	// The officer asks for their own organisation's report, asking (in vain) for the department's edition.
	own := requestReport(officer, partnerForm(northgate, "department"))
	theirs := requestReport(lead, partnerForm(brightwell, "partner"))
	departments := requestReport(lead, partnerForm(northgate, "department"))
	readyReport(officer, own)
	readyReport(lead, theirs)
	readyReport(lead, departments)

	_, page := officer.get("/reports/" + own)
	if !strings.Contains(page, "For the partner") || !strings.Contains(page, "Olivia Hart") {
		t.Error("the officer's report should be the partner's edition, requested by them")
	}
	_, list := officer.get("/reports")
	if !strings.Contains(list, own) || strings.Contains(list, theirs) || strings.Contains(list, departments) {
		t.Errorf("the officer's archive lists %v, want only %s", reportIDRef.FindAllString(list, -1), own)
	}
	if pdf := download(officer, own); len(pdf) == 0 {
		t.Error("the officer's download is empty")
	}
	if status, _ := officer.get("/reports/" + own + "/view"); status != http.StatusOK {
		t.Errorf("the officer's accessible page: %d", status)
	}

	_, unknown := officer.get("/reports/RPT-20260101-ZZZZZZ")
	for _, id := range []string{theirs, departments, "RPT-20260101-ZZZZZZ"} {
		for _, path := range []string{"", "/pdf", "/view"} {
			status, body := officer.get("/reports/" + id + path)
			if status != http.StatusNotFound || !strings.Contains(body, "Page not found") {
				t.Errorf("the officer's GET /reports/%s%s: %d, want the 404 page", id, path, status)
			}
			if strings.Contains(body, id) || strings.Contains(body, "Brightwell") || strings.Contains(body, "%PDF") {
				t.Errorf("the officer's GET /reports/%s%s gives something away", id, path)
			}
		}
	}
	if !strings.Contains(unknown, "Page not found") {
		t.Error("an unknown reference should be the 404 page")
	}

	before := countReports(t, p)
	_, form := officer.get("/reports/new")
	for _, never := range []string{"Brightwell", otherContract, `value="portfolio"`, `name="edition"`} {
		if strings.Contains(form, never) {
			t.Errorf("the officer's form offers %s", never)
		}
	}
	for _, f := range []url.Values{partnerForm(brightwell, "partner"), contractReportForm(otherContract, "partner"),
		{"kind": {"portfolio"}, "period": {"quarter"}, "quarter": {thisQuarter()}}} {
		status, body, _ := officer.post("/reports", f)
		if status != http.StatusBadRequest || !strings.Contains(body, "There is a problem") || strings.Contains(body, "Brightwell") {
			t.Errorf("the officer's request %v: %d, want 400 naming no other partner", f, status)
		}
	}
	if after := countReports(t, p); after != before {
		t.Errorf("the officer's refused requests queued %d reports", after-before)
	}

	// Brightwell's officer sees Brightwell's report and not Northgate's; the
	// manager of Northgate's only contract sees both of Northgate's.
	other := signInAs(t, p, "officer@brightwell.example")
	if _, list := other.get("/reports"); !strings.Contains(list, theirs) || strings.Contains(list, own) || strings.Contains(list, departments) {
		t.Errorf("Brightwell's archive lists %v, want only %s", reportIDRef.FindAllString(list, -1), theirs)
	}
	manager := signInAs(t, p, "manager@department.example")
	if _, list := manager.get("/reports"); !strings.Contains(list, own) || !strings.Contains(list, departments) || strings.Contains(list, theirs) {
		t.Errorf("the manager's archive lists %v, want %s and %s", reportIDRef.FindAllString(list, -1), own, departments)
	}

	staffMember := signInAs(t, p, "staff@northgate.example")
	for _, path := range []string{"/reports", "/reports/new", "/reports/" + own, "/reports/" + own + "/pdf"} {
		if status, _ := staffMember.get(path); status != http.StatusForbidden {
			t.Errorf("a staff member's GET %s: %d, want 403", path, status)
		}
	}
	if status, _, _ := staffMember.post("/reports", partnerForm(northgate, "partner")); status != http.StatusForbidden {
		t.Errorf("a staff member's POST /reports: %d, want 403", status)
	}
}

// When a manager's partner edition about Northgate is ready, Northgate's
// compliance contact is e-mailed a link to it, which their officer can
// follow; the department's edition is not sent to anyone.
func TestPartnerIsEmailedALinkToItsReport(t *testing.T) {
	relay := escalationtest.StartSMTP(t, "")
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{"PORTAL_SMTP_ADDR": relay.Addr,
		"PORTAL_SMTP_FROM": "Safeguarding Portal <portal@department.example>", "PORTAL_SMTP_STARTTLS": "none"}})
	manager := signInAs(t, p, "manager@department.example")
	month, year := thisMonth()
	form := func(edition string) url.Values {
		return url.Values{"kind": {"partner"}, "partner": {northgate}, "period": {"month"}, "month-month": {month}, "month-year": {year}, "edition": {edition}}
	}
	departments := requestReport(manager, form("department"))
	partners := requestReport(manager, form("partner"))
	readyReport(manager, departments)
	readyReport(manager, partners)

	var link string
	waitFor(t, "the e-mail about the partner's report", func() bool {
		for _, m := range relay.Mail() {
			msg, err := netmail.ReadMessage(strings.NewReader(m.Data))
			if err != nil || !slices.Contains(m.To, "officer@northgate.example") {
				continue
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if strings.HasPrefix(subject, "Safeguarding report ready: ") && strings.Contains(string(body), partners) {
				link = regexp.MustCompile(`http://\S+/reports/` + partners).FindString(string(body))
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(link, p.URL+"/reports/") {
		t.Fatalf("the e-mail links to %q, want the report on %s", link, p.URL)
	}
	officer := signInAs(t, p, "officer@northgate.example")
	if status, page := officer.get(strings.TrimPrefix(link, p.URL)); status != http.StatusOK || !strings.Contains(page, `id="report-download"`) ||
		strings.Contains(page, `id="report-notices"`) {
		t.Errorf("the officer following the link: %d, or shown the e-mails", status)
	}
	// The manager sees the e-mail delivered on the report's page.
	waitFor(t, "the e-mail shown as delivered", func() bool {
		_, page := manager.get("/reports/" + partners)
		return regexp.MustCompile(`(?s)id="report-notices".*officer@northgate\.example</td>\s*<td class="govuk-table__cell">Delivered`).MatchString(page)
	})
	if _, page := manager.get("/reports/" + departments); strings.Contains(page, `id="report-notices"`) {
		t.Error("the department's edition lists e-mails to the partner")
	}
	// One worker made both, the department's first: its announcement is done.
	if n := countDocuments(t, p, report.NoticesCollection, bson.D{{Key: "incident_id", Value: report.About(departments)}}); n != 0 {
		t.Errorf("the department's edition was announced to %d addresses", n)
	}
}
