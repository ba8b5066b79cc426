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
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// journeyPages are the pages under a draft, each answering GET and POST.
var journeyPages = []string{"contract", "category", "when", "customer", "unaccompanied", "indicators", "what-happened",
	"actions", "referrals", "people", "check", "delete"}

// noSuchID is an ID no draft or incident has: those allowed the page get 404, never another's.
const noSuchID = "000000000000000000000000"

func init() {
	officers := func(status int) map[string]outcome {
		return map[string]outcome{"officer@northgate.example": same(status), "officer@brightwell.example": same(status)}
	}
	matrix["GET /incidents/new"] = row{probe: "/incidents/new", dflt: same(403), by: signedIn(officers(200))}
	// Starting a notification: a new draft and its first question.
	matrix["POST /incidents/new"] = row{probe: "/incidents/new", dflt: same(403), by: officers(303)}
	matrix["GET /incidents/drafts"] = row{probe: "/incidents/drafts", dflt: same(403), by: signedIn(officers(200))}
	matrix["GET /incidents/drafts/:draft"] = row{probe: "/incidents/drafts/" + noSuchID, dflt: same(403), by: signedIn(officers(404))}
	for _, page := range journeyPages {
		probe := "/incidents/drafts/" + noSuchID + "/" + page
		matrix["GET /incidents/drafts/:draft/"+page] = row{probe: probe, dflt: same(403), by: signedIn(officers(404))}
		matrix["POST /incidents/drafts/:draft/"+page] = row{probe: probe, dflt: same(403), by: officers(404)}
	}
	// Each partner's incident, notified by its system: not a confirmation
	// any officer sent, so not found even for the partner's own.
	matrix["GET /incidents/:id/confirmation"] = row{probe: "/incidents/:incident/confirmation", perTarget: true, dflt: same(403), by: signedIn(officers(404))}
}

// journey is an officer's draft notification, page by page.
type journey struct {
	contractUser
	draft string
}

var draftStart = regexp.MustCompile(`^/incidents/drafts/([0-9a-f]{24})/contract$`)

// startJourney starts a notification as u.
func startJourney(t *testing.T, u contractUser) journey {
	t.Helper()
	status, body, location := u.post("/incidents/new", nil)
	m := draftStart.FindStringSubmatch(location)
	if status != http.StatusSeeOther || m == nil {
		t.Fatalf("Start now: %d to %q\n%s", status, location, body)
	}
	return journey{u, m[1]}
}

func (j journey) path(page string) string { return "/incidents/drafts/" + j.draft + "/" + page }

// answer posts a page's answers and expects to be sent on to next.
func (j journey) answer(page string, form url.Values, next string) {
	j.t.Helper()
	status, body, location := j.post(j.path(page), form)
	if status != http.StatusSeeOther || location != next {
		j.t.Fatalf("answering %s: %d to %q, want 303 to %q\n%s", page, status, location, next, errorsOn(body))
	}
}

// refused posts a page's answers and expects the page back with each message.
func (j journey) refused(page string, form url.Values, messages ...string) string {
	j.t.Helper()
	status, body, _ := j.post(j.path(page), form)
	if status != http.StatusBadRequest || !strings.Contains(body, "There is a problem") {
		j.t.Fatalf("POST %s %v: %d, want 400 with an error summary", page, form, status)
	}
	for _, m := range messages {
		if !strings.Contains(body, html.EscapeString(m)) {
			j.t.Errorf("POST %s %v: error %q not shown; shown: %s", page, form, m, errorsOn(body))
		}
	}
	return body
}

var summaryItem = regexp.MustCompile(`(?s)<div class="govuk-error-summary__body">.*?</div>`)

// errorsOn is a page's error summary, for failure messages.
func errorsOn(page string) string {
	if m := summaryItem.FindString(page); m != "" {
		return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m, " ")), " ")
	}
	return "(no error summary)"
}

type step struct {
	page string
	form url.Values
}

// timeForm is the date and time inputs for t, as an officer in London types them.
func timeForm(form url.Values, name string, t time.Time) url.Values {
	t = t.In(londonTZ)
	form.Set(name+"-day", strconv.Itoa(t.Day()))
	form.Set(name+"-month", strconv.Itoa(int(t.Month())))
	form.Set(name+"-year", strconv.Itoa(t.Year()))
	form.Set(name+"-hour", strconv.Itoa(t.Hour()))
	form.Set(name+"-minute", fmt.Sprintf("%02d", t.Minute()))
	return form
}

var londonTZ, _ = time.LoadLocation("Europe/London")

const whatHappened = "HO-7654321 did not come back to the family unit after school.\nStaff searched the grounds and called the police at 16:10."

// missingChild is a whole notification of a missing unaccompanied child:
// critical, so it must reach the department within an hour.
func missingChild(occurred, aware time.Time) []step {
	return []step{
		{"contract", url.Values{"contract": {"CS-ACC-2025-014"}, "site": {"Hull Family Unit"}}},
		{"category", url.Values{"category": {"missing_customer"}}},
		{"when", timeForm(timeForm(url.Values{}, "occurred", occurred), "aware", aware)},
		{"customer", url.Values{"reference": {"HO-7654321"}, "age_group": {"child"}}},
		{"unaccompanied", url.Values{"unaccompanied": {"yes"}}},
		{"indicators", url.Values{"indicators": {"unaccompanied_minor", "missing_adult_child"}}},
		{"what-happened", url.Values{"what_happened": {strings.ReplaceAll(whatHappened, "\n", "\r\n")}}},
		{"actions", url.Values{"actions": {"emergency_services", "safety_plan"}, "other_actions": {"Told the school and the social worker"}}},
		{"referrals", url.Values{"referrals": {"police", "childrens_social_care"}, "reference-police": {"CAD-4411"},
			"reference-childrens_social_care": {""}, "reference-nrm": {"typed but not chosen"}}},
		{"people", url.Values{"staff_involved": {"Jo Bloggs, night support worker"}, "reporter_name": {"Olivia Hart"}, "reporter_role": {"Compliance officer"}}},
	}
}

// walk answers every step, each page sending the officer to the next, and
// the last to the page then.
func (j journey) walk(steps []step, then string) {
	j.t.Helper()
	for i, s := range steps {
		next := j.path(then)
		if i+1 < len(steps) {
			next = j.path(steps[i+1].page)
		}
		j.answer(s.page, s.form, next)
	}
}

var confirmationPath = regexp.MustCompile(`^/incidents/([0-9a-f]{24})/confirmation$`)

// send sends the draft and returns the incident's ID.
func (j journey) send() string {
	j.t.Helper()
	status, body, location := j.post(j.path("check"), nil)
	m := confirmationPath.FindStringSubmatch(location)
	if status != http.StatusSeeOther || m == nil {
		j.t.Fatalf("sending: %d to %q\n%s", status, location, errorsOn(body))
	}
	return m[1]
}

func storedIncident(t *testing.T, p *portaltest.Portal, id string) incident.Incident {
	t.Helper()
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		t.Fatal(err)
	}
	var in incident.Incident
	if err := p.App.Store.DB.Collection("incidents").FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&in); err != nil {
		t.Fatalf("find incident %s: %v", id, err)
	}
	return in
}

// notifiedHere selects the incidents a test notified, leaving out the
// demo's seeded ones, which are all at least two days old.
func notifiedHere() bson.D {
	return bson.D{{Key: "created_at", Value: bson.D{{Key: "$gt", Value: time.Now().Add(-24 * time.Hour)}}}}
}

func countDocuments(t *testing.T, p *portaltest.Portal, collection string, filter bson.D) int64 {
	t.Helper()
	n, err := p.App.Store.DB.Collection(collection).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIncidentJourneyNotifiesACriticalIncident walks every page with good
// answers, checks what is stored, and sends twice: one incident.
func TestIncidentJourneyNotifiesACriticalIncident(t *testing.T) {
	p := portaltest.Start(t)
	officer := signInAs(t, p, "officer@northgate.example")

	status, start := officer.get("/incidents/new")
	for _, want := range []string{"within 1 hour", "within 24 hours", "Missing customer, if the customer is a child",
		"Serious self-harm, if suicide and self-harm level 3 is indicated", "Information Commissioner", "Start now"} {
		if status != http.StatusOK || !strings.Contains(start, html.EscapeString(want)) {
			t.Errorf("start page (%d) lacks %q", status, want)
		}
	}
	j := startJourney(t, officer)
	status, page := j.get(j.path("contract"))
	if status != http.StatusOK || !strings.Contains(page, `value="CS-ACC-2025-014"`) || strings.Contains(page, "CS-INT-2025-031") {
		t.Fatalf("contract page (%d) should offer Northgate's contract and only it", status)
	}

	now := time.Now().Truncate(time.Minute)
	occurred, aware := now.Add(-3*time.Hour), now.Add(-30*time.Minute)
	steps := missingChild(occurred, aware)
	j.walk(steps[:9], "people")
	if _, people := j.get(j.path("people")); !strings.Contains(people, `value="Olivia Hart"`) {
		t.Error("the people page does not suggest the signed-in officer as the person reporting")
	}
	j.walk(steps[9:], "check")

	status, check := j.get(j.path("check"))
	if status != http.StatusOK {
		t.Fatalf("check answers: %d", status)
	}
	for _, want := range []string{"Asylum accommodation, North East and Yorkshire (CS-ACC-2025-014)", "Hull Family Unit", "Missing customer",
		"HO-7654321", "Child (under 18)", "Unaccompanied minor", "Missing adult or child", "did not come back to the family unit after school.<br>Staff searched",
		"Emergency services were called", "Told the school", "Police, reference CAD-4411", "Children&#39;s social care", "Jo Bloggs",
		"Olivia Hart, Compliance officer", "as this is a critical incident"} {
		if !strings.Contains(check, want) {
			t.Errorf("check answers lacks %q", want)
		}
	}
	if strings.Contains(check, "typed but not chosen") {
		t.Error("a reference for an agency not chosen was kept")
	}
	for _, page := range []string{"contract", "category", "when", "customer", "unaccompanied", "indicators", "what-happened", "actions", "referrals", "people"} {
		if !strings.Contains(check, `href="`+j.path(page)+`?return=check`) {
			t.Errorf("check answers has no Change link to %s", page)
		}
	}

	id := j.send()
	in := storedIncident(t, p, id)
	wantNotice := incident.Notice{ContractID: "CS-ACC-2025-014", Site: "Hull Family Unit", Category: "missing_customer",
		Customer:         incident.Customer{Reference: "HO-7654321", AgeGroup: incident.Child, UnaccompaniedChild: true},
		WhatHappened:     whatHappened,
		ImmediateActions: incident.ImmediateActions{EmergencyServices: true, SafetyPlan: true, Other: "Told the school and the social worker"},
		StaffInvolved:    "Jo Bloggs, night support worker", ReportedBy: incident.Reporter{Name: "Olivia Hart", Role: "Compliance officer"}}
	got := in.Notice
	if got.ContractID != wantNotice.ContractID || got.Site != wantNotice.Site || got.Category != wantNotice.Category ||
		got.Customer != wantNotice.Customer || got.WhatHappened != wantNotice.WhatHappened || got.ImmediateActions != wantNotice.ImmediateActions ||
		got.StaffInvolved != wantNotice.StaffInvolved || got.ReportedBy != wantNotice.ReportedBy || got.NoReferralReason != "" {
		t.Errorf("stored notice\n%+v\nwant\n%+v", got, wantNotice)
	}
	if !got.OccurredAt.Equal(occurred) || !got.AwareAt.Equal(aware) {
		t.Errorf("occurred %v and aware %v, want %v and %v", got.OccurredAt, got.AwareAt, occurred, aware)
	}
	if len(got.Indicators) != 2 || got.Indicators[0] != "missing_adult_child" || got.Indicators[1] != "unaccompanied_minor" {
		t.Errorf("indicators %v", got.Indicators)
	}
	if len(got.Referrals) != 2 || got.Referrals[0] != (incident.Referral{Agency: "police", Reference: "CAD-4411"}) ||
		got.Referrals[1] != (incident.Referral{Agency: "childrens_social_care"}) {
		t.Errorf("referrals %+v", got.Referrals)
	}
	wantBy := incident.Actor{Kind: "person", ID: "dev-officer@northgate.example", Name: "Olivia Hart", Side: "partner"}
	if in.Source != "web" || in.PartnerID != "northgate" || in.NotifiedBy != wantBy || !in.Critical || in.Status != incident.Notified ||
		!regexp.MustCompile(`^SI-20\d\d-[0-9A-Z]{7}$`).MatchString(in.Reference) {
		t.Errorf("stored incident: source %q, partner %q, by %+v, critical %v, status %q, reference %q", in.Source, in.PartnerID, in.NotifiedBy, in.Critical, in.Status, in.Reference)
	}
	dept := in.DepartmentClock()
	if dept.Rule != "1 hour" || !dept.Deadline.Equal(aware.Add(time.Hour)) || dept.NotifiedAt == nil || dept.Late() || len(in.Clocks) != 1 {
		t.Errorf("clocks %+v, want only the department's, 1 hour from awareness, met", in.Clocks)
	}
	if _, ok := auditEvent(t, p, "incident.create", "incident/"+id); !ok {
		t.Error("the notification is not in the audit trail")
	}

	status, confirmation := j.get("/incidents/" + id + "/confirmation")
	for _, want := range []string{"Incident notified", in.Reference, "You notified the department on time", "escalated to the department’s safeguarding leads",
		"No other body has to be told"} {
		if status != http.StatusOK || !strings.Contains(confirmation, html.EscapeString(want)) && !strings.Contains(confirmation, want) {
			t.Errorf("confirmation (%d) lacks %q", status, want)
		}
	}

	// The draft is gone; sending it again (a double click, the back button)
	// shows the same confirmation and notifies nothing more.
	if n := countDocuments(t, p, "incident_drafts", bson.D{{Key: "_id", Value: mustObjectID(t, j.draft)}}); n != 0 {
		t.Errorf("the draft is still stored after sending")
	}
	if again := j.send(); again != id {
		t.Errorf("sending again confirmed %s, want %s", again, id)
	}
	if status, _ := j.get(j.path("check")); status != http.StatusSeeOther {
		t.Errorf("the sent draft's check page: %d, want a redirect to its confirmation", status)
	}
	if n := countDocuments(t, p, "incidents", append(notifiedHere(), bson.E{Key: "source", Value: "web"})); n != 1 {
		t.Errorf("%d incidents stored, want 1", n)
	}
	// A draft holds no personal data worth logging, and none is logged.
	for _, secret := range []string{"HO-7654321", "family unit", "Jo Bloggs", "CAD-4411"} {
		if strings.Contains(p.Logs.String(), secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func mustObjectID(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestIncidentJourneyLateNotificationWithAnotherRegime notifies a data
// breach the day after becoming aware: late against the department's 24
// hours, and the ICO's 72 hours still to meet. It answers "none" where the
// journey allows it.
func TestIncidentJourneyLateNotificationWithAnotherRegime(t *testing.T) {
	p := portaltest.Start(t)
	j := startJourney(t, signInAs(t, p, "officer@northgate.example"))
	now := time.Now().Truncate(time.Minute)
	aware := now.Add(-30 * time.Hour)
	j.walk([]step{
		{"contract", url.Values{"contract": {"CS-ACC-2025-014"}, "site": {"Leeds Initial Accommodation"}}},
		{"category", url.Values{"category": {"data_breach"}}},
		{"when", timeForm(timeForm(url.Values{}, "occurred", aware.Add(-time.Hour)), "aware", aware)},
		{"customer", url.Values{"reference": {"HO/2026/991"}, "age_group": {"adult"}}},
		{"indicators", url.Values{"no_indicators": {"yes"}}},
		{"what-happened", url.Values{"what_happened": {"A letter about HO/2026/991 was sent to another resident."}}},
		{"actions", url.Values{"actions": {"none"}}},
		{"referrals", url.Values{"referrals": {"none"}, "no_referral_reason": {"No harm to the customer; the letter was recovered."}}},
		{"people", url.Values{"reporter_name": {"Olivia Hart"}}},
	}, "check")
	_, check := j.get(j.path("check"))
	for _, want := range []string{"None of these apply", "No immediate action was taken", "No referral made", "the letter was recovered",
		"None given", "The deadline to notify the department was"} {
		if !strings.Contains(check, want) {
			t.Errorf("check answers lacks %q", want)
		}
	}
	if strings.Contains(check, "Unaccompanied child") {
		t.Error("an adult's answers show the unaccompanied child question")
	}
	id := j.send()
	in := storedIncident(t, p, id)
	if in.Critical || len(in.Indicators) != 0 || len(in.Referrals) != 0 || in.NoReferralReason == "" || in.ImmediateActions != (incident.ImmediateActions{}) ||
		in.Customer.UnaccompaniedChild {
		t.Errorf("stored %+v", in.Notice)
	}
	dept := in.DepartmentClock()
	if dept.Rule != "24 hours" || !dept.Late() || dept.LateBy < 6*time.Hour-time.Minute || dept.LateBy > 6*time.Hour+5*time.Minute {
		t.Errorf("department clock %+v, want about 6 hours late", dept)
	}
	if len(in.Clocks) != 2 || in.Clocks[1].Regime != "ico" || !in.Clocks[1].Deadline.Equal(aware.Add(72*time.Hour)) || in.Clocks[1].NotifiedAt != nil {
		t.Errorf("clocks %+v, want the ICO's 72 hours running", in.Clocks)
	}
	_, confirmation := j.get("/incidents/" + id + "/confirmation")
	for _, want := range []string{"You notified the department 6 hours", "late", "Information Commissioner's Office by", "within 72 hours"} {
		if !strings.Contains(confirmation, html.EscapeString(want)) {
			t.Errorf("confirmation lacks %q", want)
		}
	}
	if strings.Contains(confirmation, "escalated") {
		t.Error("a standard incident is said to be escalated")
	}
}

// TestIncidentJourneyValidatesEveryPage sends each page wrong answers: the
// page comes back with a GOV.UK error summary linking to the field, and what
// was typed is kept.
func TestIncidentJourneyValidatesEveryPage(t *testing.T) {
	p := portaltest.Start(t)
	j := startJourney(t, signInAs(t, p, "officer@northgate.example"))
	future := time.Now().Add(48 * time.Hour)
	past := time.Now().Add(-2 * time.Hour)

	body := j.refused("contract", url.Values{}, "Select the contract the customer is served under", "Enter the site where it happened")
	if !strings.Contains(body, `href="#contract"`) || !strings.Contains(body, `href="#site"`) {
		t.Error("the contract page's error summary does not link to its fields")
	}
	// Another partner's contract, sent by a crafted form: refused, and not kept.
	j.refused("contract", url.Values{"contract": {"CS-INT-2025-031"}, "site": {"Hull Family Unit"}}, "Select one of your organisation's contracts")
	if _, page := j.get(j.path("contract")); strings.Contains(page, "CS-INT-2025-031") || !strings.Contains(page, `value="Hull Family Unit"`) {
		t.Error("after a foreign contract, the page should keep the site typed and not the contract")
	}
	var d incident.Draft
	if err := p.App.Store.DB.Collection("incident_drafts").FindOne(context.Background(), bson.D{{Key: "_id", Value: mustObjectID(t, j.draft)}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Notice.ContractID != "" || d.Notice.Site != "Hull Family Unit" {
		t.Errorf("draft keeps contract %q and site %q", d.Notice.ContractID, d.Notice.Site)
	}

	j.refused("category", url.Values{}, "Select the kind of incident")
	j.refused("category", url.Values{"category": {"alien_abduction"}}, "Select the kind of incident")

	j.refused("when", url.Values{}, "Enter when the incident happened", "Enter when your organisation became aware of the incident")
	bad := timeForm(timeForm(url.Values{}, "occurred", past), "aware", past)
	bad.Set("occurred-day", "31")
	bad.Set("occurred-month", "2")
	bad.Set("aware-minute", "")
	body = j.refused("when", bad, "When the incident happened must be a real date", "When your organisation became aware of the incident must include a time")
	if !strings.Contains(body, `href="#occurred-day"`) || !strings.Contains(body, `href="#aware-hour"`) {
		t.Error("the when page's error summary does not link to the inputs to fix")
	}
	if _, page := j.get(j.path("when")); !strings.Contains(page, `name="occurred-day" type="text" value="31"`) {
		t.Error("the date typed is not kept")
	}
	j.refused("when", timeForm(timeForm(url.Values{}, "occurred", future), "aware", future),
		"When the incident happened must be in the past", "When your organisation became aware must be in the past")
	j.refused("when", timeForm(timeForm(url.Values{}, "occurred", past), "aware", past.Add(-time.Hour)),
		"When your organisation became aware must be the same as or after when the incident happened")
	hour := timeForm(timeForm(url.Values{}, "occurred", past), "aware", past)
	hour.Set("occurred-hour", "25")
	j.refused("when", hour, "When the incident happened must be a real time")

	j.refused("customer", url.Values{"reference": {"Jane Smith"}},
		"The customer's department reference must be 3 to 30 letters, numbers, hyphens or slashes",
		"Select whether the customer is a child or an adult")

	j.answer("customer", url.Values{"reference": {"HO-1"}, "age_group": {"child"}}, j.path("unaccompanied"))
	j.refused("unaccompanied", url.Values{}, "Select yes if the customer is an unaccompanied child")

	// All 27 indicators are offered, each once, in groups.
	_, indicators := j.get(j.path("indicators"))
	if n := strings.Count(indicators, `name="indicators"`); n != len(incident.Indicators) {
		t.Errorf("the indicators page offers %d checkboxes, want %d", n, len(incident.Indicators))
	}
	for _, ind := range incident.Indicators {
		if strings.Count(indicators, `value="`+ind.ID+`"`) != 1 {
			t.Errorf("indicator %s is not offered exactly once", ind.ID)
		}
	}
	if n := strings.Count(indicators, `<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">`); n < 3 {
		t.Errorf("the indicators are in %d groups", n)
	}
	j.refused("indicators", url.Values{}, "Select the vulnerability indicators that apply, or select ‘None of these apply’")
	j.refused("indicators", url.Values{"indicators": {"mental_health"}, "no_indicators": {"yes"}},
		"Select the vulnerability indicators that apply, or ‘None of these apply’, not both")

	j.refused("what-happened", url.Values{"what_happened": {"  "}}, "Enter what happened")
	j.refused("what-happened", url.Values{"what_happened": {strings.Repeat("a", 10_001)}}, "What happened must be 10000 characters or fewer")
	j.refused("what-happened", url.Values{"what_happened": {"He said \u202ehello"}}, "What happened must not contain hidden or control characters")

	j.refused("actions", url.Values{}, "Select the immediate actions taken, or select ‘No immediate action was taken’")
	j.refused("actions", url.Values{"actions": {"first_aid"}, "other_actions": {strings.Repeat("b", 2001)}}, "Other immediate actions must be 2000 characters or fewer")
	j.refused("actions", url.Values{"actions": {"first_aid", "none"}}, "Select the immediate actions taken, or ‘No immediate action was taken’, not both")

	j.refused("referrals", url.Values{}, "Select the agencies the customer was referred to, or select ‘No referral made’")
	j.refused("referrals", url.Values{"referrals": {"none"}}, "Enter why no referral was made")
	body = j.refused("referrals", url.Values{"referrals": {"police", "prevent"}, "reference-police": {"CAD 1"}},
		"Police reference must be up to 100 letters, numbers or symbols, without spaces")
	if !strings.Contains(body, `href="#reference-police"`) || !strings.Contains(body, `value="CAD 1"`) {
		t.Error("the referral reference error does not link to its input, or the reference typed is lost")
	}
	j.refused("referrals", url.Values{"referrals": {"police", "none"}, "no_referral_reason": {"x"}},
		"Select the agencies the customer was referred to, or ‘No referral made’, not both")

	j.refused("people", url.Values{"reporter_name": {""}}, "Enter the name of the person reporting")
	j.refused("people", url.Values{"reporter_name": {"Olivia"}, "reporter_role": {strings.Repeat("r", 201)}},
		"The role of the person reporting must be 200 characters or fewer")
}

// TestIncidentCheckAnswersSendsTheOfficerToWhatToFix sends a draft with
// pages unanswered, and one whose contract ended: the check page lists each
// problem, linking to the page that fixes it and back.
func TestIncidentCheckAnswersSendsTheOfficerToWhatToFix(t *testing.T) {
	p := portaltest.Start(t)
	j := startJourney(t, signInAs(t, p, "officer@northgate.example"))
	now := time.Now().Truncate(time.Minute)
	steps := missingChild(now.Add(-2*time.Hour), now.Add(-time.Hour))
	j.walk(steps[:2], "when")

	status, body, _ := j.post(j.path("check"), nil)
	if status != http.StatusBadRequest {
		t.Fatalf("sending half a notification: %d", status)
	}
	for _, want := range []struct{ href, text string }{
		{j.path("when") + "?return=check#occurred-day", "Enter when the incident happened"},
		{j.path("customer") + "?return=check#reference", "Enter the customer's department reference"},
		{j.path("indicators") + "?return=check#indicators", "Select the vulnerability indicators that apply"},
		{j.path("people") + "?return=check#reporter_name", "Enter the name of the person reporting"},
	} {
		if !strings.Contains(body, `href="`+want.href+`">`+html.EscapeString(want.text)) {
			t.Errorf("the error summary lacks %q linking to %s", want.text, want.href)
		}
	}
	if strings.Contains(body, j.path("unaccompanied")) {
		t.Error("the unaccompanied child question is asked before the customer is known to be a child")
	}
	if n := countDocuments(t, p, "incidents", notifiedHere()); n != 0 {
		t.Errorf("%d incidents stored from a notification with problems", n)
	}

	// Fix from the check page: each answer comes back to it; a child's
	// age group asks the unaccompanied question on the way.
	j.walk(steps[2:], "check")
	j.answer("customer?return=check", url.Values{"reference": {"HO-7654321"}, "age_group": {"adult"}}, j.path("check"))
	if _, check := j.get(j.path("check")); strings.Contains(check, "Unaccompanied child") {
		t.Error("an adult still has an unaccompanied child answer")
	}
	status, _, location := j.post(j.path("customer")+"?return=check", url.Values{"reference": {"HO-7654321"}, "age_group": {"child"}})
	if status != http.StatusSeeOther || location != j.path("unaccompanied")+"?return=check" {
		t.Fatalf("changing to a child: %d to %q, want the unaccompanied question", status, location)
	}
	j.answer("unaccompanied?return=check", url.Values{"unaccompanied": {"no"}}, j.path("check"))
	j.answer("contract?return=check", url.Values{"contract": {"CS-ACC-2025-014"}, "site": {"Wakefield Dispersal"}}, j.path("check"))
	if _, check := j.get(j.path("check")); !strings.Contains(check, "Wakefield Dispersal") {
		t.Error("the changed site is not on the check page")
	}

	// The contract is terminated before the officer sends.
	if _, err := p.App.Store.DB.Collection("contracts").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "CS-ACC-2025-014"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "terminated"}}}}); err != nil {
		t.Fatal(err)
	}
	status, body, _ = j.post(j.path("check"), nil)
	if status != http.StatusBadRequest || !strings.Contains(body, `href="`+j.path("contract")+`?return=check#contract">`+html.EscapeString("Select one of your organisation's contracts")) {
		t.Errorf("sending under a terminated contract: %d\n%s", status, errorsOn(body))
	}
	if n := countDocuments(t, p, "incidents", notifiedHere()); n != 0 {
		t.Errorf("%d incidents stored under a terminated contract", n)
	}
	// Refused, the draft is kept, and can be sent once put right.
	if status, _ := j.get(j.path("check")); status != http.StatusOK {
		t.Errorf("the draft after a refused send: %d", status)
	}
}

// TestIncidentDraftSaveAndReturn saves part way, signs in again and carries on.
func TestIncidentDraftSaveAndReturn(t *testing.T) {
	p := portaltest.Start(t)
	j := startJourney(t, signInAs(t, p, "officer@northgate.example"))
	now := time.Now().Truncate(time.Minute)
	steps := missingChild(now.Add(-2*time.Hour), now.Add(-time.Hour))
	j.walk(steps[:2], "when")
	// "Save and come back later" keeps what was typed, even wrong, without complaint.
	half := url.Values{"action": {"save"}, "occurred-day": {"31"}, "occurred-month": {"2"}, "occurred-year": {"2026"}}
	status, _, location := j.post(j.path("when"), half)
	if status != http.StatusSeeOther || location != "/incidents/drafts?saved=1" {
		t.Fatalf("save and come back later: %d to %q", status, location)
	}
	status, saved := j.get(location)
	if status != http.StatusOK || !strings.Contains(saved, "Your answers have been saved") || !strings.Contains(saved, `href="/incidents/drafts/`+j.draft+`"`) ||
		!strings.Contains(saved, "Missing customer") || !strings.Contains(saved, "Hull Family Unit") {
		t.Errorf("the saved notifications page (%d) does not list the draft", status)
	}

	// Another day, another session.
	again := journey{signInAs(t, p, "officer@northgate.example"), j.draft}
	if _, start := again.get("/incidents/new"); !strings.Contains(start, "You have 1 saved notification not yet sent") {
		t.Error("the start page does not mention the saved notification")
	}
	resp, _ := get(t, again.c, p.URL+"/incidents/drafts/"+j.draft)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != again.path("when") {
		t.Fatalf("continuing: %d to %q, want the first question not answered", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, when := again.get(again.path("when")); !strings.Contains(when, `name="occurred-day" type="text" value="31"`) || strings.Contains(when, "There is a problem") {
		t.Error("the when page does not show what was saved, or shows errors before the officer continues")
	}
	again.walk(steps[2:], "check")
	if id := again.send(); id == "" {
		t.Fatal("no incident")
	}
	if _, list := again.get("/incidents/drafts"); !strings.Contains(list, "You have no saved notifications") {
		t.Error("the sent draft is still listed")
	}

	// A draft can be deleted, after a question.
	d := startJourney(t, again.contractUser)
	if status, page := d.get(d.path("delete")); status != http.StatusOK || !strings.Contains(page, "Are you sure you want to delete this draft?") {
		t.Errorf("delete page: %d", status)
	}
	if status, _, location := d.post(d.path("delete"), nil); status != http.StatusSeeOther || location != "/incidents/drafts?deleted=1" {
		t.Errorf("deleting: %d to %q", status, location)
	}
	if status, _ := d.get(d.path("contract")); status != http.StatusNotFound {
		t.Errorf("a deleted draft: %d, want 404", status)
	}
}

// colleague signs in as another compliance officer of Northgate: the demo
// has one, so a second session of it is given another person's subject.
func colleague(t *testing.T, p *portaltest.Portal) contractUser {
	t.Helper()
	u := signInAs(t, p, "officer@northgate.example")
	sessions := p.App.Store.DB.Collection("sessions")
	var s struct {
		ID string `bson:"_id"`
	}
	if err := sessions.FindOne(context.Background(), bson.D{{Key: "csrf_token", Value: u.csrf}}).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: s.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "identity.subject", Value: "dev-colleague@northgate.example"}, {Key: "identity.name", Value: "Colin League"},
		{Key: "identity.email", Value: "colleague@northgate.example"}}}}); err != nil {
		t.Fatal(err)
	}
	if status, page := u.get("/organisation"); status != http.StatusOK || !strings.Contains(page, "Colin League") {
		t.Fatalf("the colleague's session: %d", status)
	}
	return u
}

// TestIncidentDraftsAndConfirmationsAreTheirOfficersOnly: whatever IDs are
// guessed, another officer (of the partner or another) finds nothing.
func TestIncidentDraftsAndConfirmationsAreTheirOfficersOnly(t *testing.T) {
	p := portaltest.Start(t)
	owner := signInAs(t, p, "officer@northgate.example")
	now := time.Now().Truncate(time.Minute)
	sent := startJourney(t, owner)
	sent.walk(missingChild(now.Add(-2*time.Hour), now.Add(-time.Hour)), "check")
	incidentID := sent.send()
	open := startJourney(t, owner)
	open.answer("contract", url.Values{"contract": {"CS-ACC-2025-014"}, "site": {"Hull Family Unit"}}, open.path("category"))

	for name, other := range map[string]contractUser{
		"another partner's officer": signInAs(t, p, "officer@brightwell.example"),
		"a colleague":               colleague(t, p),
	} {
		t.Run(name, func(t *testing.T) {
			other.t = t
			for _, draft := range []journey{open, sent} {
				for _, page := range append([]string{""}, journeyPages...) {
					path := strings.TrimSuffix("/incidents/drafts/"+draft.draft+"/"+page, "/")
					if status, body := other.get(path); status != http.StatusNotFound || strings.Contains(body, "Hull Family Unit") {
						t.Errorf("GET %s: %d, want 404", path, status)
					}
					if page == "" {
						continue
					}
					if status, _, _ := other.post(path, url.Values{"contract": {"CS-ACC-2025-014"}, "site": {"Taken over"}, "category": {"death"}}); status != http.StatusNotFound {
						t.Errorf("POST %s: %d, want 404", path, status)
					}
				}
			}
			if status, body := other.get("/incidents/" + incidentID + "/confirmation"); status != http.StatusNotFound || strings.Contains(body, "SI-") {
				t.Errorf("another officer's confirmation: %d, want 404", status)
			}
			if _, list := other.get("/incidents/drafts"); strings.Contains(list, open.draft) {
				t.Error("another officer's draft is listed")
			}
		})
	}
	if _, page := open.get(open.path("contract")); strings.Contains(page, "Taken over") {
		t.Error("another officer changed the draft")
	}
	if e, ok := auditEvent(t, p, "incidents.create", "incident_draft/"+open.draft); !ok || e.Outcome != audit.Denied {
		t.Errorf("reaching for another's draft is not on record as denied: %+v", e)
	}
	// The department does not notify incidents.
	lead := signInAs(t, p, "lead@department.example")
	if status, _ := lead.get("/incidents/" + incidentID + "/confirmation"); status != http.StatusForbidden {
		t.Errorf("the lead opens the confirmation: %d, want 403", status)
	}
	// An incident the partner's system notified is no officer's confirmation.
	api := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write")}
	resp, body := api.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, map[string]any{"contract_id": "CS-ACC-2025-014"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("notify by API: %d %s", resp.StatusCode, body)
	}
	apiID := strings.TrimPrefix(resp.Header.Get("Location"), "/api/v1/incidents/")
	if status, _ := owner.get("/incidents/" + apiID + "/confirmation"); status != http.StatusNotFound {
		t.Errorf("an API incident's confirmation: %d, want 404", status)
	}
}

// TestIncidentSentTwiceAtOnceIsOneIncident: a double click sends the form
// twice at once; both get the one incident's confirmation.
func TestIncidentSentTwiceAtOnceIsOneIncident(t *testing.T) {
	p := portaltest.Start(t)
	j := startJourney(t, signInAs(t, p, "officer@northgate.example"))
	now := time.Now().Truncate(time.Minute)
	j.walk(missingChild(now.Add(-2*time.Hour), now.Add(-time.Hour)), "check")
	form := url.Values{"csrf_token": {j.csrf}}
	locations := make([]string, 4)
	var wg sync.WaitGroup
	for i := range locations {
		wg.Go(func() {
			resp, err := j.c.PostForm(p.URL+j.path("check"), form)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			locations[i] = resp.Header.Get("Location")
		})
	}
	wg.Wait()
	for _, l := range locations {
		if !confirmationPath.MatchString(l) || l != locations[0] {
			t.Errorf("sends went to %q, want one confirmation", locations)
			break
		}
	}
	if n := countDocuments(t, p, "incidents", notifiedHere()); n != 1 {
		t.Errorf("%d incidents stored, want 1", n)
	}
}
