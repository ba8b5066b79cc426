package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The demo's contracts: the manager's own, and one managed by someone else.
const (
	ownContract   = "CS-ACC-2025-014" // Northgate's, managed by manager@department.example
	otherContract = "CS-INT-2025-031" // Brightwell's, managed by someone else
)

// contractUser is a signed-in person with the token their forms carry.
type contractUser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func signInAs(t *testing.T, p *portaltest.Portal, username string) contractUser {
	t.Helper()
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, p.URL, username)
	return contractUser{t: t, base: p.URL, c: c, csrf: portaltest.CSRFToken(t, body)}
}

// get fetches path without following redirects.
func (u contractUser) get(path string) (int, string) {
	u.t.Helper()
	resp, body := get(u.t, u.c, u.base+path)
	return resp.StatusCode, body
}

// post submits form (with the CSRF token) to path without following the
// redirect, and returns the status, the body and where it redirects.
func (u contractUser) post(path string, form url.Values) (int, string, string) {
	u.t.Helper()
	f := url.Values{"csrf_token": {u.csrf}}
	for k, v := range form {
		f[k] = v
	}
	resp, err := u.c.PostForm(u.base+path, f)
	if err != nil {
		u.t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode, portaltest.ReadAll(u.t, resp), resp.Header.Get("Location")
}

// save posts form and expects the redirect to a page with the success
// banner; it returns that page.
func (u contractUser) save(path string, form url.Values, wantLocation string) string {
	u.t.Helper()
	status, body, location := u.post(path, form)
	if status != http.StatusSeeOther || location != wantLocation {
		u.t.Fatalf("POST %s: got %d to %q, want 303 to %q\n%s", path, status, location, wantLocation, body)
	}
	status, page := u.get(location)
	if status != http.StatusOK {
		u.t.Fatalf("GET %s after saving: %d", location, status)
	}
	return page
}

// refused posts form and expects the form back with 400 and message.
func (u contractUser) refused(path string, form url.Values, message string) {
	u.t.Helper()
	status, body, _ := u.post(path, form)
	if status != http.StatusBadRequest {
		u.t.Errorf("POST %s: got %d, want 400", path, status)
		return
	}
	if !strings.Contains(body, "There is a problem") || !strings.Contains(body, html.EscapeString(message)) {
		u.t.Errorf("POST %s: error %q not shown", path, message)
	}
}

var (
	inputTag  = regexp.MustCompile(`<input\b[^>]*>`)
	textareas = regexp.MustCompile(`(?s)<textarea\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</textarea>`)
	attr      = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// formValues is what a browser would submit from page's form untouched:
// text, hidden and checked inputs, and textareas.
func formValues(page string) url.Values {
	out := url.Values{}
	for _, tag := range inputTag.FindAllString(page, -1) {
		a := map[string]string{}
		for _, m := range attr.FindAllStringSubmatch(tag, -1) {
			a[m[1]] = html.UnescapeString(m[2])
		}
		if a["name"] == "" || a["name"] == "csrf_token" {
			continue
		}
		if (a["type"] == "checkbox" || a["type"] == "radio") && !regexp.MustCompile(`\schecked\b`).MatchString(tag) {
			continue
		}
		out.Add(a["name"], a["value"])
	}
	for _, m := range textareas.FindAllStringSubmatch(page, -1) {
		out.Set(m[1], html.UnescapeString(m[2]))
	}
	return out
}

// auditEvent finds the newest event with action on resource.
func auditEvent(t *testing.T, p *portaltest.Portal, action, resource string) (audit.Event, bool) {
	t.Helper()
	// Some events are appended just after the change they record (an
	// incident's, see audit.Trail.InsertSettlingLater): wait for those.
	if err := p.App.Trail.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cur, err := p.App.Store.DB.Collection("audit_events").Find(context.Background(),
		bson.D{{Key: "action", Value: action}, {Key: "resource", Value: resource}})
	if err != nil {
		t.Fatal(err)
	}
	var es []audit.Event
	if err := cur.All(context.Background(), &es); err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return audit.Event{}, false
	}
	newest := es[0]
	for _, e := range es {
		if e.Seq > newest.Seq {
			newest = e
		}
	}
	return newest, true
}

func newContractForm(ref string) url.Values {
	return url.Values{
		"reference": {ref}, "title": {"Screening, South West"}, "service_line": {"screening"},
		"start_date-day": {"1"}, "start_date-month": {"5"}, "start_date-year": {"2026"},
		"end_date-day": {"30"}, "end_date-month": {"4"}, "end_date-year": {"2029"},
		"managers": {""},
	}
}

func TestManagerAddsAPartnerAndItsFirstContract(t *testing.T) {
	p := portaltest.Start(t)
	m := signInAs(t, p, "manager@department.example")

	status, page := m.get("/partners/new")
	if status != http.StatusOK || !strings.Contains(page, "Add a partner") {
		t.Fatalf("add partner form: %d", status)
	}
	partnerForm := url.Values{"id": {"eastfield"}, "name": {"Eastfield Support Ltd"}, "companies_house_number": {"sc 123456"},
		"contact-1-name": {"Ada Moss"}, "contact-1-role": {"Compliance officer"}, "contact-1-email": {"ada@eastfield.example"}}
	bad := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range partnerForm {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	m.refused("/partners/new", bad("id", "northgate"), "A partner with identifier northgate already exists")
	m.refused("/partners/new", bad("id", "new"), "Partner identifier cannot be new")
	m.refused("/partners/new", bad("id", "East Field"), "Partner identifier must be up to 40 lower-case letters")
	m.refused("/partners/new", bad("companies_house_number", "1234"), "Companies House number must be 8 digits")
	m.refused("/partners/new", bad("contact-1-email", "not an email"), "Enter an email address in the correct format")
	m.refused("/partners/new", bad("contact-1-name", ""), "Enter the name of contact 1")

	page = m.save("/partners/new", partnerForm, "/partners/eastfield/contracts/new?partner_added=1")
	if !strings.Contains(page, "Eastfield Support Ltd has been added") || !strings.Contains(page, "Add a contract") {
		t.Errorf("after adding the partner, no banner and contract form:\n%s", page)
	}
	if e, ok := auditEvent(t, p, "partner.create", "partner/eastfield"); !ok || e.PartnerID != "eastfield" || e.Actor.Subject != "dev-manager@department.example" {
		t.Errorf("partner.create audit event: %+v, %v", e, ok)
	}

	// Contract validation.
	form := newContractForm("CS-SCR-2026-001")
	withField := func(k, v string) url.Values {
		f := newContractForm("CS-SCR-2026-001")
		f.Set(k, v)
		return f
	}
	m.refused("/partners/eastfield/contracts/new", withField("reference", "ACC-2025-14"), "Contract reference must be in the format CS-ABC-2025-014")
	m.refused("/partners/eastfield/contracts/new", withField("end_date-year", "2025"), "The end date must be after the start date")
	m.refused("/partners/eastfield/contracts/new", withField("start_date-month", "13"), "The start date must be a real date")
	m.refused("/partners/eastfield/contracts/new", withField("service_line", ""), "Select the service line")
	m.refused("/partners/eastfield/contracts/new", withField("reference", otherContract), "A contract with reference "+otherContract+" already exists")

	form.Set("reference", "cs-scr-2026-001") // typed in lower case: references are upper case
	page = m.save("/partners/eastfield/contracts/new", form, "/contracts/CS-SCR-2026-001?saved=1")
	for _, want := range []string{"The contract has been saved", "CS-SCR-2026-001", "Screening, South West", "Eastfield Support Ltd",
		"1 May 2026", "30 April 2029", "dev-manager@department.example", "Active", "Contract added to the portal", "default requirements"} {
		if !strings.Contains(page, html.EscapeString(want)) {
			t.Errorf("new contract's page lacks %q", want)
		}
	}
	if e, ok := auditEvent(t, p, "contract.create", "contract/CS-SCR-2026-001"); !ok || e.PartnerID != "eastfield" {
		t.Errorf("contract.create audit event: %+v, %v", e, ok)
	}

	// The manager now manages it: it is on their list, and the partner is in reach.
	if _, home := m.get("/contracts"); !strings.Contains(home, "CS-SCR-2026-001") {
		t.Error("the new contract is not on the manager's list")
	}
	status, page = m.get("/partners/eastfield")
	if status != http.StatusOK {
		t.Errorf("partner page after the first contract: %d", status)
	}
	for _, want := range []string{`href="/contracts/CS-SCR-2026-001"`, `href="/partners/eastfield/edit"`, `href="/partners/eastfield/contracts/new"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the manager's partner page lacks the link %s", want)
		}
	}
	if _, home := m.get("/contracts"); !strings.Contains(home, `href="/partners/new"`) {
		t.Error("the manager's home has no link to add a partner")
	}
	edit := formValues(func() string { _, p := m.get("/partners/eastfield/edit"); return p }())
	edit.Set("name", "Eastfield Support Services Ltd")
	page = m.save("/partners/eastfield/edit", edit, "/partners/eastfield?saved=1")
	if !strings.Contains(page, "Eastfield Support Services Ltd") || !strings.Contains(page, "details have been saved") {
		t.Error("the partner's new name, or the saved banner, is not shown")
	}
	if _, ok := auditEvent(t, p, "partner.update", "partner/eastfield"); !ok {
		t.Error("no partner.update audit event")
	}

	// A safeguarding lead sees it too; a partner officer of another partner does not.
	lead := signInAs(t, p, "lead@department.example")
	if status, _ := lead.get("/contracts/CS-SCR-2026-001"); status != http.StatusOK {
		t.Errorf("lead views the new contract: %d", status)
	}
	officer := signInAs(t, p, "officer@northgate.example")
	if status, _ := officer.get("/contracts/CS-SCR-2026-001"); status != http.StatusNotFound {
		t.Errorf("another partner's officer views the new contract: %d", status)
	}
	// Officers read their own partner's page, without the manager's links.
	_, page = officer.get("/partners/northgate")
	if !strings.Contains(page, `href="/contracts/`+ownContract+`"`) || strings.Contains(page, "/edit") || strings.Contains(page, "Add a contract") {
		t.Error("an officer's partner page should link their contract and offer no changes")
	}
}

func TestStatusChangeIsExplainedToThePartner(t *testing.T) {
	p := portaltest.Start(t)
	m := signInAs(t, p, "manager@department.example")
	path := "/contracts/" + ownContract + "/status"

	status, page := m.get(path)
	if status != http.StatusOK {
		t.Fatalf("status form: %d", status)
	}
	form := formValues(page)
	if form.Get("version") == "" {
		t.Fatal("the status form carries no version")
	}
	form.Set("status", "suspended")
	form.Set("reason", "")
	m.refused(path, form, "Enter the reason for the change")
	form.Set("status", "active")
	form.Set("reason", "Still active")
	m.refused(path, form, "The contract is already active: select a different status")
	form.Set("status", "suspended")
	form.Set("reason", strings.Repeat("x", 2001))
	m.refused(path, form, "Reason must be 2,000 characters or fewer")
	form.Del("status")
	m.refused(path, form, "Select the contract’s new status")

	reason := "Three staff at Wakefield Dispersal were working without enhanced DBS checks.\nSuspended until checks are evidenced."
	form.Set("status", "suspended")
	form.Set("reason", reason)
	page = m.save(path, form, "/contracts/"+ownContract+"?saved=1")
	if !strings.Contains(page, "Suspended") || !strings.Contains(page, "Suspended until checks are evidenced.") || !strings.Contains(page, "Maya Collins") {
		t.Errorf("the contract page does not show the new status, reason and who set it")
	}

	// The form, sent again as it was, is refused: it was based on the old version.
	status, _, _ = m.post(path, url.Values{"version": {form.Get("version")}, "status": {"under_review"}, "reason": {"Stale"}})
	if status != http.StatusConflict {
		t.Errorf("status change from a stale form: got %d, want 409", status)
	}

	// The partner sees the status and why, read-only.
	officer := signInAs(t, p, "officer@northgate.example")
	status, page = officer.get("/contracts/" + ownContract)
	if status != http.StatusOK {
		t.Fatalf("officer views their contract: %d", status)
	}
	if !strings.Contains(page, "Suspended") || !strings.Contains(page, "Three staff at Wakefield Dispersal were working without enhanced DBS checks.") {
		t.Error("the partner's officer does not see the reason for the suspension")
	}
	// Their home page says so above everything else, with the reason; the
	// department's dashboard rates the contract red for it.
	_, home := officer.get("/organisation")
	if !strings.Contains(home, `id="suspended-`+ownContract+`"`) || !strings.Contains(home, "Suspended until checks are evidenced.") {
		t.Error("the partner's home page does not show the suspension and its reason")
	}
	_, dashboard := m.get("/contracts")
	row := dashboard[strings.Index(dashboard, `data-contract="`+ownContract+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `data-rag="red"`) || !strings.Contains(row, "The contract is suspended.") {
		t.Errorf("the dashboard does not rate the suspended contract red with the reason:\n%s", row)
	}
	history := page[strings.Index(page, `id="status-history"`):]
	if !strings.Contains(history, "Suspended until checks are evidenced.") || !strings.Contains(history, "Active") {
		t.Error("the status history does not show the suspension and the status before it")
	}
	if strings.Contains(page, "/status\"") || strings.Contains(page, "Change the status") || strings.Contains(page, "dev-manager@department.example") {
		t.Error("the partner's officer is offered changes or shown the managers' identifiers")
	}

	e, ok := auditEvent(t, p, "contract.status", "contract/"+ownContract)
	if !ok || e.PartnerID != "northgate" || e.Actor.Subject != "dev-manager@department.example" || e.Outcome != audit.Success {
		t.Fatalf("contract.status audit event: %+v, %v", e, ok)
	}
	if e.Detail != "active to suspended" || strings.Contains(e.Detail, "Wakefield") {
		t.Errorf("audit detail %q: want the transition only, never the reason", e.Detail)
	}
}

func TestManagerChangesDetailsAndTailorsRequirements(t *testing.T) {
	p := portaltest.Start(t)
	m := signInAs(t, p, "manager@department.example")

	// Details.
	editPath := "/contracts/" + ownContract + "/edit"
	status, page := m.get(editPath)
	if status != http.StatusOK {
		t.Fatalf("edit form: %d", status)
	}
	form := formValues(page)
	m.refused(editPath, form, "You have not changed anything")
	withField := func(k, v string) url.Values {
		f := formValues(page)
		f.Set(k, v)
		return f
	}
	m.refused(editPath, withField("end_date-year", "2024"), "The end date must be after the start date")
	m.refused(editPath, withField("title", ""), "Enter the contract title")
	m.refused(editPath, withField("managers", "dev-someone-else@department.example"), "You cannot remove yourself as a contract manager")
	m.refused(editPath, withField("managers", "two words"), "Enter one contract manager on each line")
	if status, _, _ := m.post(editPath, url.Values{"title": {"No version"}}); status != http.StatusBadRequest {
		t.Errorf("edit without the form's version: got %d, want 400", status)
	}
	form.Set("title", "Asylum accommodation, North East, Yorkshire and the Humber")
	form.Set("managers", form.Get("managers")+"\ndev-deputy@department.example")
	page = m.save(editPath, form, "/contracts/"+ownContract+"?saved=1")
	if !strings.Contains(page, "Asylum accommodation, North East, Yorkshire and the Humber") || !strings.Contains(page, "dev-deputy@department.example") {
		t.Error("the contract page does not show the new title and manager")
	}
	if _, ok := auditEvent(t, p, "contract.update", "contract/"+ownContract); !ok {
		t.Error("no contract.update audit event")
	}

	// Requirements.
	reqPath := "/contracts/" + ownContract + "/requirements"
	status, page = m.get(reqPath)
	if status != http.StatusOK {
		t.Fatalf("requirements form: %d", status)
	}
	form = formValues(page)
	if len(form["training-not_customer_facing"]) != 3 || len(form["vetting-regulated_activity_children"]) != 3 {
		t.Fatalf("the form does not start from the default set: %v", form)
	}
	m.refused(reqPath, form, "You have not changed anything")
	bad := formValues(page)
	bad.Set("refresh-face_behind_the_case", "six")
	m.refused(reqPath, bad, "Refresh period for Face Behind the Case must be a whole number of months")
	bad.Set("refresh-face_behind_the_case", "500")
	m.refused(reqPath, bad, "Refresh period for Face Behind the Case must be between 1 and 120 months")
	bad = formValues(page)
	bad.Add("training-not_customer_facing", "basket_weaving")
	m.refused(reqPath, bad, "Select training modules from the list")
	bad = formValues(page)
	bad.Add("vetting-not_customer_facing", "made_up")
	m.refused(reqPath, bad, "Select vetting requirements from the list")

	// Back-office staff on this contract read customers' accounts: they need the
	// traumatic narratives module; Face Behind the Case is refreshed every 6 months.
	form.Add("training-not_customer_facing", "traumatic_narratives")
	form.Set("refresh-face_behind_the_case", "6")
	page = m.save(reqPath, form, "/contracts/"+ownContract+"?saved=1")
	history := page[strings.Index(page, `id="requirement-history"`):]
	for _, want := range []string{
		"Not customer-facing: added Psychological factors arising from exposure to traumatic narratives",
		"Face Behind the Case: refresh changed from 12 to 6 months",
		"Maya Collins",
	} {
		if !strings.Contains(history, html.EscapeString(want)) {
			t.Errorf("requirement history lacks %q", want)
		}
	}
	if !strings.Contains(page, "Tailored for this contract") || !strings.Contains(page, "Every 6 months (set for this contract)") {
		t.Error("the contract page does not show the tailored set")
	}
	if e, ok := auditEvent(t, p, "contract.requirements", "contract/"+ownContract); !ok || e.PartnerID != "northgate" {
		t.Errorf("contract.requirements audit event: %+v, %v", e, ok)
	}

	// The form now starts from the tailored set; saving it unchanged is refused.
	_, page = m.get(reqPath)
	form = formValues(page)
	if form.Get("refresh-face_behind_the_case") != "6" || len(form["training-not_customer_facing"]) != 4 {
		t.Errorf("the form does not show the tailored set: %v", form)
	}
	m.refused(reqPath, form, "You have not changed anything")
}

func TestContractPagesStayWithinReach(t *testing.T) {
	p := portaltest.Start(t)
	m := signInAs(t, p, "manager@department.example")
	officer := signInAs(t, p, "officer@northgate.example")
	auditor := signInAs(t, p, "auditor@department.example")
	lead := signInAs(t, p, "lead@department.example")

	statusForm := url.Values{"version": {"0"}, "status": {"suspended"}, "reason": {"Taking over"}}
	managePages := []string{"/edit", "/status", "/requirements"}

	// Another manager's contract does not exist for this one, whatever the method.
	for _, page := range append([]string{""}, managePages...) {
		if status, _ := m.get("/contracts/" + otherContract + page); status != http.StatusNotFound {
			t.Errorf("manager GET %s%s: got %d, want 404", otherContract, page, status)
		}
	}
	for _, page := range managePages {
		if status, _, _ := m.post("/contracts/"+otherContract+page, statusForm); status != http.StatusNotFound {
			t.Errorf("manager POST %s%s: got %d, want 404", otherContract, page, status)
		}
	}
	for _, path := range []string{"/partners/brightwell/edit", "/partners/brightwell/contracts/new"} {
		if status, _ := m.get(path); status != http.StatusNotFound {
			t.Errorf("manager GET %s: got %d, want 404", path, status)
		}
		if status, _, _ := m.post(path, newContractForm("CS-INT-2026-001")); status != http.StatusNotFound {
			t.Errorf("manager POST %s: got %d, want 404", path, status)
		}
	}
	// Nor does a contract at the same partner assigned to someone else.
	sibling := newContractForm("CS-ACC-2025-099")
	sibling.Set("managers", "dev-other-manager@department.example")
	lead.save("/partners/northgate/contracts/new", sibling, "/contracts/CS-ACC-2025-099?saved=1")
	if status, _ := m.get("/contracts/CS-ACC-2025-099"); status != http.StatusNotFound {
		t.Errorf("manager views a contract at their partner assigned to someone else: got %d, want 404", status)
	}
	if status, _, _ := m.post("/contracts/CS-ACC-2025-099/status", statusForm); status != http.StatusNotFound {
		t.Errorf("manager suspends a contract at their partner assigned to someone else: got %d, want 404", status)
	}
	if status, _ := officer.get("/contracts/CS-ACC-2025-099"); status != http.StatusOK {
		t.Errorf("officer views their partner's second contract: got %d, want 200", status)
	}

	var stored struct {
		Status string `bson:"status"`
	}
	if err := p.App.Store.DB.Collection("contracts").FindOne(context.Background(), bson.D{{Key: "_id", Value: otherContract}}).Decode(&stored); err != nil || stored.Status != "active" {
		t.Errorf("the other manager's contract changed: %q, %v", stored.Status, err)
	}
	if e, ok := auditEvent(t, p, "contracts.manage", "contract/"+otherContract); !ok || e.Outcome != audit.Denied {
		t.Errorf("the refused attempt is not on record: %+v, %v", e, ok)
	}

	// Partner officers read their own contracts and manage nothing.
	if status, _ := officer.get("/contracts/" + ownContract); status != http.StatusOK {
		t.Errorf("officer views own contract: %d", status)
	}
	if status, _ := officer.get("/contracts/" + otherContract); status != http.StatusNotFound {
		t.Errorf("officer views another partner's contract: got %d, want 404", status)
	}
	for _, page := range managePages {
		if status, _ := officer.get("/contracts/" + ownContract + page); status != http.StatusForbidden {
			t.Errorf("officer GET %s: got %d, want 403", page, status)
		}
		if status, _, _ := officer.post("/contracts/"+ownContract+page, statusForm); status != http.StatusForbidden {
			t.Errorf("officer POST %s: got %d, want 403", page, status)
		}
	}
	for _, path := range []string{"/partners/new", "/partners/northgate/edit", "/partners/northgate/contracts/new"} {
		if status, _ := officer.get(path); status != http.StatusForbidden {
			t.Errorf("officer GET %s: got %d, want 403", path, status)
		}
	}

	// Auditors read everything and change nothing; leads manage every contract.
	if status, page := auditor.get("/contracts/" + otherContract); status != http.StatusOK || strings.Contains(page, "Change the status") {
		t.Errorf("auditor views a contract: %d", status)
	}
	if status, _ := auditor.get("/contracts/" + otherContract + "/status"); status != http.StatusForbidden {
		t.Errorf("auditor opens the status form: got %d, want 403", status)
	}
	for _, page := range append([]string{""}, managePages...) {
		if status, _ := lead.get("/contracts/" + otherContract + page); status != http.StatusOK {
			t.Errorf("lead GET %s%s: got %d, want 200", otherContract, page, status)
		}
	}
	if status, _ := m.get("/contracts/CS-XXX-0000-000"); status != http.StatusNotFound {
		t.Errorf("unknown contract: got %d, want 404", status)
	}
}

// TestBrowserManagerSuspendsAContract drives Chromium through the contract
// pages, forms and their errors, checking each with axe-core.
func TestBrowserManagerSuspendsAContract(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	browserSignIn(b, p.URL, "manager@department.example", "/contracts")

	b.Do("open the contract", chromedp.Navigate(p.URL+"/contracts/"+ownContract), chromedp.WaitVisible(chromedp.ID("contract-status")))
	b.CheckAccessibility()
	b.Do("open the status form", chromedp.Click(chromedp.CSS(`a[href$="/status"]`)),
		portaltest.WaitForPath("/contracts/"+ownContract+"/status"), chromedp.WaitVisible(chromedp.ID("reason")))
	b.CheckAccessibility()
	b.Do("send it empty", chromedp.Click(chromedp.CSS("form button.govuk-button:not(#sign-out)")), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Select the contract’s new status") || !strings.Contains(got, "Enter the reason for the change") {
		t.Errorf("error summary %q", got)
	}
	b.CheckAccessibility()
	b.Do("suspend it",
		chromedp.Click(chromedp.CSS(`input[name="status"][value="suspended"]`)),
		chromedp.SendKeys(chromedp.ID("reason"), "Staff working without enhanced DBS checks."),
		chromedp.Click(chromedp.CSS("form button.govuk-button:not(#sign-out)")),
		portaltest.WaitForPath("/contracts/"+ownContract), chromedp.WaitVisible(chromedp.ID("status-reason")))
	if got := b.Text("#status-reason"); got != "Staff working without enhanced DBS checks." {
		t.Errorf("status reason %q", got)
	}
	b.CheckAccessibility()

	for _, path := range []string{"/contracts/" + ownContract + "/requirements", "/contracts/" + ownContract + "/edit", "/partners/new", "/partners/northgate/contracts/new"} {
		b.Do("open "+path, chromedp.Navigate(p.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		b.CheckAccessibility()
		b.Do("send "+path+" with mistakes",
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("main input[type=text], main input[type=email], main textarea").forEach(e => e.value = "")`),
			chromedp.Click(chromedp.CSS("main form button.govuk-button")), chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
		b.CheckAccessibility()
	}
}
