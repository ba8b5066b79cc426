package server_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// upload posts a roster file to the import form and returns the page it ends on.
func upload(t *testing.T, c *http.Client, base, partner, csrf, name string, content []byte) (*http.Response, string, *url.URL) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", csrf)
	f, _ := w.CreateFormFile("file", name)
	_, _ = f.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/partners/"+partner+"/staff/import", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := portaltest.ReadAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		return resp, page, req.URL
	}
	return portaltest.Follow(t, c, http.MethodGet, base+resp.Header.Get("Location"), nil)
}

func rosterCount(t *testing.T, p *portaltest.Portal, partner string) int64 {
	t.Helper()
	n, err := p.App.Store.DB.Collection("staff_"+partner).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitForImport polls the import page until it says the import is complete.
func waitForImport(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	for range 200 {
		_, page, _ := portaltest.Follow(t, c, http.MethodGet, u, nil)
		if strings.Contains(page, "Import complete") {
			return page
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("import at %s did not complete", u)
	return ""
}

func TestHostileRosterFilesChangeNothing(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	csrf := portaltest.CSRFToken(t, body)
	header := "staff_number,name,email,role_title,category,sites,start_date,leaving_date\r\n"
	before := rosterCount(t, p, "northgate")
	cases := map[string]struct {
		file string
		want string
	}{
		"empty file":         {"", "empty"},
		"wrong delimiter":    {strings.ReplaceAll(header, ",", ";") + "X1;Ann;;Cook;customer_facing_adults;;2025-01-01;\r\n", "comma"},
		"missing columns":    {"staff_number,name\r\nX1,Ann\r\n", "role_title"},
		"10 MB of one line":  {header + strings.Repeat("A", 10<<20), "row"},
		"invalid UTF-8":      {header + "X1,Ann \xff\xfe,,Cook,customer_facing_adults,,2025-01-01,\r\n", "UTF-8"},
		"duplicate numbers":  {header + "X1,Ann,,Cook,customer_facing_adults,,2025-01-01,\r\nx1,Bob,,Cook,customer_facing_adults,,2025-01-01,\r\n", "also used"},
		"formula cell":       {header + "X1,=1+2,,Cook,customer_facing_adults,,2025-01-01,\r\n", "must not start with"},
		"right-to-left text": {header + "X1,Ann\u202eevil,,Cook,customer_facing_adults,,2025-01-01,\r\n", "right-to-left"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp, page, _ := upload(t, c, p.URL, "northgate", csrf, "roster.csv", []byte(tc.file))
			if resp.StatusCode >= 500 {
				t.Fatalf("%d", resp.StatusCode)
			}
			if !strings.Contains(page, "govuk-error-summary") || !strings.Contains(page, tc.want) {
				t.Errorf("%d: no error summary mentioning %q", resp.StatusCode, tc.want)
			}
			// Nothing is applied until the officer confirms, and a file with
			// problems cannot be confirmed without choosing to skip them.
			if !strings.Contains(page, "Check your import") {
				return
			}
			form := url.Values{"csrf_token": {csrf}}
			resp, page, _ = portaltest.Follow(t, c, http.MethodPost, resp.Request.URL.String(), form)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "govuk-error-summary") {
				t.Errorf("confirming a file with problems: %d", resp.StatusCode)
			}
		})
	}
	if after := rosterCount(t, p, "northgate"); after != before {
		t.Errorf("roster changed from %d to %d", before, after)
	}
}

func TestImportIsIdempotentAndCanSkipBadRows(t *testing.T) {
	p := portaltest.Start(t)
	c := portaltest.Client(t)
	body, _ := portaltest.SignIn(t, c, p.URL, "officer@northgate.example")
	csrf := portaltest.CSRFToken(t, body)
	var file strings.Builder
	file.WriteString("\ufeffstaff_number,name,role_title,category,sites,start_date\r\n")
	for i := range 120 {
		fmt.Fprintf(&file, "IMP-%04d,Person %d,Support worker,customer_facing_adults,Leeds;Hull,2024-02-%02d\r\n", i, i, 1+i%28)
	}
	file.WriteString("IMP-BAD,Bad Date,Support worker,customer_facing_adults,,2024-02-31\r\n")
	before := rosterCount(t, p, "northgate")

	resp, page, at := upload(t, c, p.URL, "northgate", csrf, "hr-export.csv", []byte(file.String()))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Check your import") {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	if !regexp.MustCompile(`New staff\s*</dt>\s*<dd class="govuk-summary-list__value">\s*120`).MatchString(page) {
		t.Errorf("summary does not count 120 new staff")
	}
	if !strings.Contains(page, "IMP-BAD") {
		t.Errorf("bad row not listed")
	}
	if rosterCount(t, p, "northgate") != before {
		t.Fatal("the roster changed before the officer confirmed")
	}
	resp, _, _ = portaltest.Follow(t, c, http.MethodPost, at.String(), url.Values{"csrf_token": {csrf}, "only_valid": {"yes"}})
	page = waitForImport(t, c, at.String())
	if !strings.Contains(page, "120 added, 0 updated, 0 unchanged") {
		t.Errorf("completion: %s", regexp.MustCompile(`<h1[^>]*>.*`).FindString(page))
	}
	if got := rosterCount(t, p, "northgate"); got != before+120 {
		t.Errorf("roster has %d, want %d", got, before+120)
	}

	// The same file again changes nothing.
	_, page, at = upload(t, c, p.URL, "northgate", csrf, "hr-export.csv", []byte(file.String()))
	if !regexp.MustCompile(`Staff already up to date\s*</dt>\s*<dd class="govuk-summary-list__value">\s*120`).MatchString(page) {
		t.Errorf("re-import does not see 120 unchanged")
	}
	portaltest.Follow(t, c, http.MethodPost, at.String(), url.Values{"csrf_token": {csrf}, "only_valid": {"yes"}})
	waitForImport(t, c, at.String())
	if got := rosterCount(t, p, "northgate"); got != before+120 {
		t.Errorf("re-import changed the roster size to %d", got)
	}
	// One import event per applied import, and the trail still verifies.
	n, err := p.App.Store.DB.Collection("audit_events").CountDocuments(context.Background(), bson.D{{Key: "action", Value: "staff.import"}})
	if err != nil || n != 2 {
		t.Errorf("%d staff.import events (%v), want 2", n, err)
	}
	if _, err := p.App.Trail.Verify(context.Background()); err != nil {
		t.Error(err)
	}
}
