package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

func (u contractUser) version(path string) string {
	u.t.Helper()
	_, page := u.get(path)
	m := versionField.FindStringSubmatch(page)
	if m == nil {
		u.t.Fatalf("%s has no version field", path)
	}
	return m[1]
}

func notifyByAPI(t *testing.T, p *portaltest.Portal, partner string, changes map[string]any) string {
	t.Helper()
	api := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, partner+"-system", partner+"-secret", "incidents:write", "incidents:read")}
	resp, body := api.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, changes))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("notify: %d %s", resp.StatusCode, body)
	}
	return strings.TrimPrefix(resp.Header.Get("Location"), "/api/v1/incidents/")
}

// The department reviews an incident a partner's system notified, asks for
// information, the partner's officer answers on the page, and the manager
// records the outcome and closes it; a lead signs off a critical one.
func TestIncidentReviewOnTheWeb(t *testing.T) {
	p := portaltest.Start(t)
	id := notifyByAPI(t, p, "northgate", nil)
	path := "/incidents/" + id
	manager := signInAs(t, p, "manager@department.example")
	officer := signInAs(t, p, "officer@northgate.example")

	// A page number past any list answers as the last empty page, not a 500.
	if status, _ := manager.get("/incidents?page=400000000000000000"); status != http.StatusOK {
		t.Errorf("a huge page number: %d, want 200", status)
	}
	_, list := manager.get("/incidents?awaiting=yes")
	if !strings.Contains(list, path) || !strings.Contains(list, "Awaiting acknowledgement") {
		t.Fatalf("the manager's list of incidents awaiting acknowledgement lacks the incident")
	}
	// The demo's seeded incidents from the last year, and this one on time.
	year := bson.D{{Key: "contract_id", Value: "CS-ACC-2025-014"}, {Key: "notified_at", Value: bson.D{{Key: "$gte", Value: time.Now().AddDate(-1, 0, 0)}}}}
	notified := countDocuments(t, p, "incidents", year)
	late := countDocuments(t, p, "incidents", append(year, bson.E{Key: "late_by", Value: bson.D{{Key: "$gt", Value: 0}}}))
	onTime := strconv.FormatFloat(100*float64(notified-late)/float64(notified), 'f', 1, 64) + "%"
	if !regexp.MustCompile(fmt.Sprintf(`(?s)id="timeliness".*CS-ACC-2025-014.*>%d</td>.*>%d</td>.*>%s</td>`, notified, late, regexp.QuoteMeta(onTime))).MatchString(list) {
		t.Errorf("the timeliness table does not show Northgate's %d incidents, %d late (%s on time)", notified, late, onTime)
	}
	_, page := officer.get(path)
	if !strings.Contains(page, "Harbour House") || !strings.Contains(page, "Recognise") || strings.Contains(page, "Acknowledge the incident") {
		t.Errorf("the officer's view of the incident")
	}

	v := manager.version(path)
	manager.save(path+"/acknowledge", url.Values{"version": {v}}, path+"?saved=acknowledged")
	// A second acknowledgement from a page opened before the first is a conflict, not a 500.
	if status, body, _ := manager.post(path+"/acknowledge", url.Values{"version": {v}}); status != http.StatusConflict || !strings.Contains(body, "Someone else changed this incident") {
		t.Errorf("a stale acknowledgement: %d", status)
	}
	v = manager.version(path)
	manager.refused(path+"/request", url.Values{"version": {v}, "question": {"  "}}, "Enter what the partner needs to tell you")
	manager.save(path+"/request", url.Values{"version": {v}, "question": {"Which police station took the report?"}}, path+"?saved=requested")

	_, page = officer.get(path)
	if !strings.Contains(page, "The department has asked for information") || !strings.Contains(page, "Which police station") {
		t.Fatalf("the officer does not see the request")
	}
	request := regexp.MustCompile(`name="request" value="([0-9a-f]{24})"`).FindStringSubmatch(page)
	if request == nil {
		t.Fatal("no request ID on the answer form")
	}
	officer.refused(path+"/respond", url.Values{"request": {request[1]}, "answer": {""}}, "Enter your answer")
	officer.save(path+"/respond", url.Values{"request": {request[1]}, "answer": {"Croydon police station, reference 42/1234."}}, path+"?saved=answer")
	officer.save(path+"/updates", url.Values{"update": {"The customer has been moved to a ground-floor room."}}, path+"?saved=update")

	// Others cannot act on it.
	other := signInAs(t, p, "officer@brightwell.example")
	if status, _ := other.get(path); status != http.StatusNotFound {
		t.Errorf("another partner's officer viewing the incident: %d", status)
	}
	if status, _, _ := other.post(path+"/updates", url.Values{"update": {"x"}}); status != http.StatusNotFound {
		t.Errorf("another partner's officer adding an update: %d", status)
	}
	auditor := signInAs(t, p, "auditor@department.example")
	if status, _ := auditor.get(path); status != http.StatusOK {
		t.Errorf("the auditor reading the incident: %d", status)
	}
	if status, _, _ := auditor.post(path+"/close", url.Values{"version": {"1"}}); status != http.StatusForbidden {
		t.Errorf("the auditor closing the incident: %d", status)
	}
	if status, _, _ := officer.post(path+"/acknowledge", url.Values{"version": {"1"}}); status != http.StatusForbidden {
		t.Errorf("the officer acknowledging their own incident: %d", status)
	}

	v = manager.version(path)
	manager.refused(path+"/close", url.Values{"version": {v}}, "Record the outcome and lessons learned before closing the incident")
	manager.refused(path+"/outcome", url.Values{"version": {v}, "outcome": {"Handled well."}, "lessons": {""}}, "Enter the lessons learned")
	manager.save(path+"/outcome", url.Values{"version": {v}, "outcome": {"Handled well."}, "lessons": {"Night checks of corridors."}}, path+"?saved=outcome")
	v = manager.version(path)
	page = manager.save(path+"/close", url.Values{"version": {v}}, path+"?saved=closed")
	for _, want := range []string{"Closed", "Handled well.", "Night checks of corridors.", "Croydon police station", "ground-floor room", "Which police station"} {
		if !strings.Contains(page, html.EscapeString(want)) {
			t.Errorf("the closed incident's page lacks %q", want)
		}
	}
	if strings.Contains(page, "Add the update") {
		t.Error("a closed incident still offers to add an update")
	}

	// A critical incident needs a lead's sign-off; the manager cannot give it.
	critical := notifyByAPI(t, p, "northgate", map[string]any{"category": "sexual_assault"})
	cpath := "/incidents/" + critical
	manager.save(cpath+"/acknowledge", url.Values{"version": {manager.version(cpath)}}, cpath+"?saved=acknowledged")
	manager.save(cpath+"/outcome", url.Values{"version": {manager.version(cpath)}, "outcome": {"Police investigating."}, "lessons": {"Staffing at night."}}, cpath+"?saved=outcome")
	manager.refused(cpath+"/close", url.Values{"version": {manager.version(cpath)}}, "needs a safeguarding lead's sign-off")
	if status, _, _ := manager.post(cpath+"/sign-off", url.Values{"version": {manager.version(cpath)}}); status != http.StatusForbidden {
		t.Errorf("a manager signing off: %d", status)
	}
	lead := signInAs(t, p, "lead@department.example")
	lead.save(cpath+"/sign-off", url.Values{"version": {lead.version(cpath)}}, cpath+"?saved=signed-off")
	page = manager.save(cpath+"/close", url.Values{"version": {manager.version(cpath)}}, cpath+"?saved=closed")
	if !strings.Contains(page, "Signed off by") {
		t.Error("the closed critical incident does not show its sign-off")
	}
}

// Both sides attach files to the chronology under the evidence rules: each
// is downloadable by everyone who can see the incident and by no one else,
// and a refused file leaves nothing behind.
func TestIncidentAttachments(t *testing.T) {
	p := portaltest.Start(t)
	id := notifyByAPI(t, p, "northgate", nil)
	path := "/incidents/" + id
	officer := signInAs(t, p, "officer@northgate.example")
	manager := signInAs(t, p, "manager@department.example")
	files := func() int64 {
		n, err := p.App.Store.DB.Collection("evidence_files").CountDocuments(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A file that is not what it says, and a file with no update, are refused on the page.
	status, body, _ := officer.upload(path+"/updates", map[string]string{"update": "Body map attached."}, "attachment", "body-map.pdf", []byte("MZ\x90\x00 not a PDF"))
	if status != http.StatusBadRequest || !strings.Contains(body, "govuk-error-summary") || !strings.Contains(body, "Body map attached.") {
		t.Errorf("a renamed executable: %d, want the page again with an error summary and the update kept", status)
	}
	status, body, _ = officer.upload(path+"/updates", map[string]string{"update": " "}, "attachment", "body-map.png", certificatePNG(t))
	if status != http.StatusBadRequest || !strings.Contains(body, "Enter the update") || !strings.Contains(body, "Select the file again") {
		t.Errorf("a file without an update: %d", status)
	}
	if n := files(); n != 0 {
		t.Fatalf("%d evidence files kept after refusals", n)
	}

	png := certificatePNG(t)
	status, _, loc := officer.upload(path+"/updates", map[string]string{"update": "Body map attached."}, "attachment", "body-map.png", png)
	if status != http.StatusSeeOther || loc != path+"?saved=update" {
		t.Fatalf("an update with a file: %d %q", status, loc)
	}
	// Files up to the evidence limit are taken, not only what fits the
	// 1 MB every other form is held to.
	status, body, loc = officer.upload(path+"/updates", map[string]string{"update": "Night check log attached."}, "attachment", "night-checks.pdf", largePDF(3<<20))
	if status != http.StatusSeeOther || loc != path+"?saved=update" {
		t.Fatalf("an update with a 3 MB file: %d %q\n%.500s", status, loc, body)
	}
	_, page := manager.get(path)
	link := regexp.MustCompile(`href="(/incidents/` + id + `/attachments/[0-9a-f]{24})"[^>]*>body-map\.png</a> \(\d+ bytes\)`).FindStringSubmatch(page)
	if link == nil {
		t.Fatal("the chronology does not link the attachment with its size")
	}
	for who, u := range map[string]contractUser{"officer": officer, "manager": manager, "lead": signInAs(t, p, "lead@department.example")} {
		resp, err := u.c.Get(p.URL + link[1])
		if err != nil {
			t.Fatal(err)
		}
		got := portaltest.ReadAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("X-Content-Type-Options") != "nosniff" || len(got) == 0 {
			t.Errorf("the %s downloading the attachment: %d %q", who, resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
	}
	other := signInAs(t, p, "officer@brightwell.example")
	if status, _ := other.get(link[1]); status != http.StatusNotFound {
		t.Errorf("another partner's officer downloading the attachment: %d", status)
	}
	// The file is reachable only through an incident it is attached to.
	elsewhere := notifyByAPI(t, p, "northgate", nil)
	if status, _ := officer.get(strings.Replace(link[1], id, elsewhere, 1)); status != http.StatusNotFound {
		t.Errorf("the attachment through another incident: %d", status)
	}
	if _, ok := auditEvent(t, p, "evidence.download", "evidence/"+link[1][len(link[1])-24:]); !ok {
		t.Error("downloads are not audited")
	}

	// The department attaches to its request; the partner attaches to its answer.
	v := manager.version(path)
	manager.save(path+"/acknowledge", url.Values{"version": {v}}, path+"?saved=acknowledged")
	manager.save(path+"/request", url.Values{"version": {manager.version(path)}, "question": {"Send the referral form."}}, path+"?saved=requested")
	_, page = officer.get(path)
	request := regexp.MustCompile(`name="request" value="([0-9a-f]{24})"`).FindStringSubmatch(page)
	if request == nil {
		t.Fatal("no request ID on the answer form")
	}
	status, _, loc = officer.upload(path+"/respond", map[string]string{"request": request[1], "answer": "Referral form attached."}, "attachment", "referral.png", png)
	if status != http.StatusSeeOther || loc != path+"?saved=answer" {
		t.Fatalf("an answer with a file: %d %q", status, loc)
	}
	_, page = manager.get(path)
	if !strings.Contains(page, ">referral.png</a>") {
		t.Error("the answer's attachment is not in the chronology")
	}
	if n := files(); n != 3 {
		t.Errorf("%d evidence files, want the 3 attached", n)
	}
}

// The department has its own deadline to acknowledge: an hour for a
// critical incident, a working day for others. Incidents past it are listed
// as overdue and say so on their page.
func TestOverdueAcknowledgement(t *testing.T) {
	p := portaltest.Start(t)
	critical := notifyByAPI(t, p, "northgate", map[string]any{"category": "sexual_assault"})
	standard := notifyByAPI(t, p, "northgate", nil)
	manager := signInAs(t, p, "manager@department.example")
	_, list := manager.get("/incidents?awaiting=overdue")
	if strings.Contains(list, critical) || strings.Contains(list, standard) {
		t.Fatal("incidents notified just now are listed as overdue for acknowledgement")
	}
	_, page := manager.get("/incidents/" + critical)
	if !regexp.MustCompile(`id="acknowledge-by">Acknowledge it by \d`).MatchString(page) {
		t.Error("the critical incident's page does not say when to acknowledge it by")
	}
	// Two hours pass for the critical incident.
	var stored struct {
		AcknowledgeBy time.Time `bson:"acknowledge_by"`
		NotifiedAt    time.Time `bson:"notified_at"`
	}
	oid, _ := bson.ObjectIDFromHex(critical)
	incidents := p.App.Store.DB.Collection("incidents")
	if err := incidents.FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if got := stored.AcknowledgeBy.Sub(stored.NotifiedAt); got != time.Hour {
		t.Errorf("a critical incident is to be acknowledged %v after notification, want 1h", got)
	}
	// The audit trail clears the incident's pending marker in a write of its
	// own, which on the embedded store rewrites the whole document: moving
	// the deadline before that write could be lost to it.
	waitFor(t, "the incident's audit marker cleared", func() bool {
		var doc bson.M
		if err := incidents.FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		switch pending := doc[audit.PendingField].(type) {
		case nil:
			return true
		case bson.D:
			return len(pending) == 0
		case bson.M:
			return len(pending) == 0
		default:
			t.Fatalf("audit marker of type %T", pending)
			return false
		}
	})
	if _, err := incidents.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: oid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "acknowledge_by", Value: time.Now().Add(-time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	_, list = manager.get("/incidents?awaiting=overdue")
	if !regexp.MustCompile(`(?s)/incidents/`+critical+`".*?Overdue</strong>`).MatchString(list) || strings.Contains(list, standard) {
		t.Error("the overdue list does not show just the critical incident, tagged overdue")
	}
	_, page = manager.get("/incidents/" + critical)
	if !strings.Contains(page, "The department should have acknowledged it by") {
		t.Error("the overdue incident's page does not say so")
	}
	manager.save("/incidents/"+critical+"/acknowledge", url.Values{"version": {manager.version("/incidents/" + critical)}}, "/incidents/"+critical+"?saved=acknowledged")
	if _, list = manager.get("/incidents?awaiting=overdue"); strings.Contains(list, critical) {
		t.Error("an acknowledged incident is still overdue for acknowledgement")
	}
}
