package portaltest

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	formAction    = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	authRequestID = regexp.MustCompile(`name="authRequestID" value="([^"]*)"`)
	csrfToken     = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
)

// Follow fetches u and follows redirects by hand, so every hop goes through the
// client's jar exactly as a browser's would. It returns the final response,
// its body, and the URL it came from.
func Follow(t testing.TB, c *http.Client, method, u string, form url.Values) (*http.Response, string, *url.URL) {
	t.Helper()
	for hop := 0; hop < 15; hop++ {
		var body *strings.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequestWithContext(context.Background(), method, u, body)
		if err != nil {
			t.Fatalf("request %s %s: %v", method, u, err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		text := ReadAll(t, resp)
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			return resp, text, req.URL
		}
		next, err := req.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatalf("bad Location %q: %v", resp.Header.Get("Location"), err)
		}
		u, method, form = next.String(), http.MethodGet, nil
	}
	t.Fatalf("more than 15 redirects from %s", u)
	return nil, "", nil
}

// SignIn logs in through the real authorization code flow against the
// development provider, the way a browser would, and returns the page the
// portal lands the person on.
func SignIn(t testing.TB, c *http.Client, baseURL, username string) (string, *url.URL) {
	t.Helper()
	return SignInThrough(t, c, baseURL+"/sign-in", username)
}

// SignInThrough logs in starting from start (/sign-in, or /sign-in/<provider>
// when the portal offers a choice) at any provider built on the development one.
func SignInThrough(t testing.TB, c *http.Client, start, username string) (string, *url.URL) {
	t.Helper()
	resp, body, at := SignInAttempt(t, c, start, username)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after login: %d at %s:\n%s", resp.StatusCode, at, body)
	}
	return body, at
}

// SignInAttempt logs in at the provider and returns whatever the portal answers.
func SignInAttempt(t testing.TB, c *http.Client, start, username string) (*http.Response, string, *url.URL) {
	t.Helper()
	resp, body, at := Follow(t, c, http.MethodGet, start, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(at.Path, "/login") {
		t.Fatalf("sign-in did not reach the provider's login page: %d at %s", resp.StatusCode, at)
	}
	action, id := formAction.FindStringSubmatch(body), authRequestID.FindStringSubmatch(body)
	if action == nil || id == nil {
		t.Fatalf("login page has no form:\n%s", body)
	}
	target, err := at.Parse(html.UnescapeString(action[1]))
	if err != nil {
		t.Fatalf("form action: %v", err)
	}
	form := url.Values{"authRequestID": {html.UnescapeString(id[1])}, "username": {username}, "password": {"password"}}
	return Follow(t, c, http.MethodPost, target.String(), form)
}

// CSRFToken is the token in a page's forms.
func CSRFToken(t testing.TB, page string) string {
	t.Helper()
	m := csrfToken.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no CSRF token")
	}
	return html.UnescapeString(m[1])
}

// Stop ends the portal now rather than at the end of the test; safe to call twice.
func (p *Portal) Stop(t testing.TB) {
	t.Helper()
	p.stopOnce.Do(func() {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("portal stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("portal did not stop within 30s")
		}
	})
}
