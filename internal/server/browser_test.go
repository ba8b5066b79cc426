package server_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/department/safeguarding-portal/internal/devidp"
	"github.com/department/safeguarding-portal/internal/portaltest"
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
