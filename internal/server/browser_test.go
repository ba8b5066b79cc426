package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/devidp"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestBrowserSignInAsEveryUser drives real Chromium through the whole journey
// for each demo user, checking every page it reaches with axe-core.
func TestBrowserSignInAsEveryUser(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)

	for _, page := range []string{"/cookies", "/accessibility", "/no-such-page"} {
		b.Do("open "+page, chromedp.Navigate(p.URL+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		b.CheckAccessibility()
	}

	for _, u := range devidp.Users() {
		t.Run(u.Username, func(t *testing.T) {
			want := landings[u.Username]
			b := b.With(t)
			b.Do("open the start page", chromedp.Navigate(p.URL+"/"), chromedp.WaitVisible(chromedp.CSS("a.govuk-button--start")))
			b.CheckAccessibility()
			b.Do("start sign-in", chromedp.Click(chromedp.CSS("a.govuk-button--start")),
				portaltest.WaitForPath("/dev-idp/login"), chromedp.WaitVisible(chromedp.ID("username")))
			b.CheckAccessibility()
			b.Do("sign in",
				chromedp.SendKeys(chromedp.ID("username"), u.Username),
				chromedp.SendKeys(chromedp.ID("password"), "password"),
				chromedp.Click(chromedp.CSS("form button.govuk-button")),
				portaltest.WaitForPath(want.path),
				chromedp.WaitVisible(chromedp.ID("who-you-are")),
			)
			if got := b.Text("h1"); got != want.heading {
				t.Errorf("heading %q, want %q", got, want.heading)
			}
			who := b.Text("#who-you-are")
			for _, s := range []string{u.Name, u.Username, want.role, want.org} {
				if !strings.Contains(who, s) {
					t.Errorf("who-you-are %q lacks %q", who, s)
				}
			}
			b.CheckAccessibility()
			b.Do("sign out", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))
			if got := b.Text("h1"); got != "You have signed out" {
				t.Errorf("after sign-out the heading is %q", got)
			}
			b.CheckAccessibility()
			// The session is over: the home page sends the browser back to the start.
			b.Do("revisit home", chromedp.Navigate(p.URL+want.path), portaltest.WaitForPath("/"),
				chromedp.WaitVisible(chromedp.CSS("a.govuk-button--start")))
		})
	}
}

// browserSignIn signs the browser in as username through the dev provider.
func browserSignIn(b *portaltest.Browser, base, username, landing string) {
	b.Do("sign in as "+username,
		chromedp.Navigate(base+"/sign-in"), portaltest.WaitForPath("/dev-idp/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), "password"),
		chromedp.Click(chromedp.CSS("form button.govuk-button")),
		portaltest.WaitForPath(landing))
}

// TestBrowserOfficerCannotReachAnotherPartnerByEditingURLs: the address bar is
// the first thing a curious or malicious user edits.
func TestBrowserOfficerCannotReachAnotherPartnerByEditingURLs(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	ctx := context.Background()
	other := map[string]string{}
	for _, partner := range []string{"northgate", "brightwell"} {
		var m struct {
			ID   bson.ObjectID `bson:"_id"`
			Name string        `bson:"name"`
		}
		if err := p.App.Store.DB.Collection("staff_"+partner).FindOne(ctx, bson.D{}).Decode(&m); err != nil {
			t.Fatal(err)
		}
		other[partner] = m.ID.Hex()
		other[partner+"-name"] = m.Name
	}

	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open own roster", chromedp.Click(chromedp.CSS(`main a[href="/partners/northgate/staff"]`)),
		portaltest.WaitForPath("/partners/northgate/staff"), chromedp.WaitVisible(chromedp.ID("roster")))
	b.CheckAccessibility()
	b.Do("open a colleague's record", chromedp.Navigate(p.URL+"/partners/northgate/staff/"+other["northgate"]),
		chromedp.WaitVisible(chromedp.ID("staff-record")))
	if got := b.Text("h1"); got != other["northgate-name"] {
		t.Errorf("own staff record heading %q, want %q", got, other["northgate-name"])
	}
	b.CheckAccessibility()

	for _, path := range []string{"/partners/brightwell", "/partners/brightwell/staff", "/partners/brightwell/staff/" + other["brightwell"],
		"/partners/northgate/staff/" + other["brightwell"], "/partners/brightwell/staff/new"} {
		b.Do("edit the address to "+path, chromedp.Navigate(p.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := b.Text("h1"); got != "Page not found" {
			t.Errorf("%s shows %q, want Page not found", path, got)
		}
		if page := b.Text("main"); strings.Contains(page, "Brightwell") || strings.Contains(page, other["brightwell-name"]) {
			t.Errorf("%s leaks the other partner's data: %q", path, page)
		}
	}
}

// TestBrowserLeadEndsASessionAndAuditorSearches covers the access pages in a
// real browser, with axe-core on each.
func TestBrowserLeadEndsASessionAndAuditorSearches(t *testing.T) {
	p := portaltest.Start(t)
	victim := portaltest.Client(t)
	portaltest.SignIn(t, victim, p.URL, "officer@brightwell.example")

	b := portaltest.NewBrowser(t)
	browserSignIn(b, p.URL, "lead@department.example", "/portfolio")
	b.Do("open sessions", chromedp.Click(chromedp.CSS(`a[href="/sessions"]`)), portaltest.WaitForPath("/sessions"),
		chromedp.WaitVisible(chromedp.ID("sessions")))
	b.CheckAccessibility()
	b.Do("end the officer's session",
		chromedp.Click(chromedp.CSS(`button[data-session-of="officer@brightwell.example"]`)),
		chromedp.WaitVisible(chromedp.CSS(".govuk-notification-banner--success")))
	if resp, _ := get(t, victim, p.URL+"/organisation"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("ended session still opens pages: %d", resp.StatusCode)
	}
	b.CheckAccessibility()
	b.Do("sign out", chromedp.Click(chromedp.ID("sign-out")), portaltest.WaitForPath("/signed-out"))

	browserSignIn(b, p.URL, "auditor@department.example", "/oversight")
	b.Do("open the audit trail", chromedp.Click(chromedp.CSS(`a[href="/audit"]`)), portaltest.WaitForPath("/audit"),
		chromedp.WaitVisible(chromedp.ID("events")))
	if got := b.Text("#events"); !strings.Contains(got, "session.end") || !strings.Contains(got, "dev-lead@department.example") {
		t.Errorf("audit trail lacks the lead's session end: %q", got)
	}
	b.CheckAccessibility()
	b.Do("search with a bad date",
		chromedp.SendKeys(chromedp.ID("from"), "last tuesday"),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter the ‘from’ date") {
		t.Errorf("error summary %q", got)
	}
	b.CheckAccessibility()
}

// TestBrowserOfficerKeepsTheRoster adds, changes and records a leaver through
// the GOV.UK forms, errors first, in a real browser with axe-core on each page.
func TestBrowserOfficerKeepsTheRoster(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open the roster", chromedp.Navigate(p.URL+"/partners/northgate/staff"), chromedp.WaitVisible(chromedp.ID("roster")))
	b.CheckAccessibility()
	b.Do("open the add form", chromedp.Click(chromedp.CSS(`a[href="/partners/northgate/staff/new"]`)),
		portaltest.WaitForPath("/partners/northgate/staff/new"), chromedp.WaitVisible(chromedp.ID("staff_number")))
	b.CheckAccessibility()
	b.Do("save an empty form", chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	if got := b.Text(".govuk-error-summary"); !strings.Contains(got, "Enter the staff number") || !strings.Contains(got, "Select the staff category") {
		t.Errorf("error summary %q", got)
	}
	b.CheckAccessibility()
	b.Do("fill in the form",
		chromedp.SendKeys(chromedp.ID("staff_number"), "NG-77001"),
		chromedp.SendKeys(chromedp.ID("name"), "Nadia Rahman"),
		chromedp.SendKeys(chromedp.ID("role_title"), "Welfare officer"),
		chromedp.Click(chromedp.CSS(`input[name="category"][value="regulated_activity_children"]`)),
		chromedp.SendKeys(chromedp.ID("sites"), "Hull Family Unit"),
		chromedp.SendKeys(chromedp.ID("start_date-day"), "3"),
		chromedp.SendKeys(chromedp.ID("start_date-month"), "3"),
		chromedp.SendKeys(chromedp.ID("start_date-year"), "2025"),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.ID("staff-record")))
	if got := b.Text("#staff-record"); !strings.Contains(got, "NG-77001") || !strings.Contains(got, "Regulated activity with children") {
		t.Errorf("saved record %q", got)
	}
	b.CheckAccessibility()
	b.Do("change the role", chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)), chromedp.WaitVisible(chromedp.ID("role_title")),
		chromedp.SetValue(chromedp.ID("role_title"), "Senior welfare officer"),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.ID("staff-record")))
	if got := b.Text("#staff-record"); !strings.Contains(got, "Senior welfare officer") {
		t.Errorf("changed record %q", got)
	}
	b.Do("record that they left", chromedp.Click(chromedp.CSS(`a[href$="/leave"]`)), chromedp.WaitVisible(chromedp.ID("leaving_date-day")))
	b.CheckAccessibility()
	b.Do("leave before starting",
		chromedp.SendKeys(chromedp.ID("leaving_date-day"), "1"),
		chromedp.SendKeys(chromedp.ID("leaving_date-month"), "1"),
		chromedp.SendKeys(chromedp.ID("leaving_date-year"), "2020"),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary")))
	b.CheckAccessibility()
	b.Do("leave properly",
		chromedp.SetValue(chromedp.ID("leaving_date-year"), "2026"),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.ID("staff-record")))
	if got := b.Text("#staff-record"); !strings.Contains(got, "1 January 2026") || !strings.Contains(got, "Left") {
		t.Errorf("leaver's record %q", got)
	}
	// Leavers stay on the record: listed under "Left", never deleted.
	b.Do("list leavers", chromedp.Navigate(p.URL+"/partners/northgate/staff?status=left&q=NG-77001"), chromedp.WaitVisible(chromedp.ID("roster")))
	if got := b.Text("#roster"); !strings.Contains(got, "Nadia Rahman") {
		t.Errorf("leaver missing from the Left list: %q", got)
	}
}

// TestBrowserImportWithGoodAndBadRows uploads a mixed file through the form,
// reads the problems, imports only the good rows and sees them on the roster.
func TestBrowserImportWithGoodAndBadRows(t *testing.T) {
	p := portaltest.Start(t)
	b := portaltest.NewBrowser(t)
	file := filepath.Join(t.TempDir(), "hr-export.csv")
	content := "staff_number,name,role_title,category,sites,start_date\r\n" +
		"BR-1,Ada Lovelace,Support worker,customer_facing_adults,Leeds,2025-01-06\r\n" +
		"BR-2,Grace Hopper,Support worker,Not customer-facing,,06/01/2025\r\n" +
		"BR-3,Bad Category,Support worker,astronaut,,2025-01-06\r\n" +
		"BR-4,=cmd|' /C calc'!A0,Support worker,customer_facing_adults,,2025-01-06\r\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open the import form", chromedp.Navigate(p.URL+"/partners/northgate/staff/import"), chromedp.WaitVisible(chromedp.ID("file")))
	b.CheckAccessibility()
	b.Do("upload the file", chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.ID("import-summary")))
	if got := b.Text("#row-errors"); !strings.Contains(got, "BR-3") || !strings.Contains(got, "BR-4") || strings.Contains(got, "BR-1") {
		t.Errorf("row problems %q", got)
	}
	b.CheckAccessibility()
	b.Do("import without choosing", chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitVisible(chromedp.CSS(".govuk-error-summary a[href='#only_valid']")))
	importPage := p.URL + b.Path()
	b.Do("import only the good rows", chromedp.Click(chromedp.ID("only_valid")),
		chromedp.Click(chromedp.CSS("main form button.govuk-button")),
		chromedp.WaitNotPresent(chromedp.ID("only_valid")))
	for range 100 {
		b.Do("refresh", chromedp.Navigate(importPage), chromedp.WaitVisible(chromedp.CSS("h1")))
		if strings.Contains(b.Text("main"), "Import complete") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := b.Text("main"); !strings.Contains(got, "2 added") {
		t.Fatalf("after import: %q", got)
	}
	b.CheckAccessibility()
	b.Do("find them on the roster", chromedp.Navigate(p.URL+"/partners/northgate/staff?q=BR-"), chromedp.WaitVisible(chromedp.ID("roster")))
	if got := b.Text("#roster"); !strings.Contains(got, "Ada Lovelace") || !strings.Contains(got, "Grace Hopper") || strings.Contains(got, "Bad Category") {
		t.Errorf("roster after import %q", got)
	}
}
