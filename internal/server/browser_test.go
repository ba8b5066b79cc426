package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

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
		if err := p.App.Store.DB.Collection("staff").FindOne(ctx, bson.D{{Key: "partner_id", Value: partner}}).Decode(&m); err != nil {
			t.Fatal(err)
		}
		other[partner] = m.ID.Hex()
		other[partner+"-name"] = m.Name
	}

	browserSignIn(b, p.URL, "officer@northgate.example", "/organisation")
	b.Do("open own roster", chromedp.Click(chromedp.CSS(`main a[href="/partners/northgate"]`)),
		portaltest.WaitForPath("/partners/northgate"), chromedp.WaitVisible(chromedp.ID("roster")))
	b.CheckAccessibility()
	b.Do("open a colleague's record", chromedp.Navigate(p.URL+"/staff/"+other["northgate"]),
		chromedp.WaitVisible(chromedp.ID("staff-record")))
	if got := b.Text("h1"); got != other["northgate-name"] {
		t.Errorf("own staff record heading %q, want %q", got, other["northgate-name"])
	}
	b.CheckAccessibility()

	for _, path := range []string{"/partners/brightwell", "/staff/" + other["brightwell"]} {
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
