package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// callers are everyone the matrix tries every route as.
var callers = []string{"anonymous", "staff@northgate.example", "officer@northgate.example", "officer@brightwell.example",
	"manager@department.example", "lead@department.example", "auditor@department.example", "northgate-system", "brightwell-system"}

// The two partners whose resources each route is tried against.
const (
	northgate  = "northgate"
	brightwell = "brightwell"
)

// demoContracts is each partner's demo contract, for :contract.
var demoContracts = map[string]string{northgate: "CS-ACC-2025-014", brightwell: "CS-INT-2025-031"}

// outcome is the status a caller gets for a northgate resource and a brightwell one.
type outcome [2]int

func same(status int) outcome { return outcome{status, status} }

// row is one route's expectations. Callers not listed get dflt.
type row struct {
	probe     string // the path to request, with :partner, :staffID, :ref or :version filled in
	dflt      outcome
	by        map[string]outcome
	fresh     bool // the call changes the caller's own session: use a new sign-in for it
	perTarget bool // the path names a partner's resource; try both partners
}

// matrix has a row for every route the router registers; the test fails for a route without one.
var matrix = map[string]row{
	"GET /healthz":               {probe: "/healthz", dflt: same(200)},
	"GET /readyz":                {probe: "/readyz", dflt: same(200)},
	"GET /metrics":               {probe: "/metrics", dflt: same(200)},
	"GET /assets/:version/*file": {probe: "/assets/:version/portal.css", dflt: same(200)},
	"ANY /dev-idp/*path":         {probe: "/dev-idp/.well-known/openid-configuration", dflt: same(200)},

	"GET /api/v1/contracts": {probe: "/api/v1/contracts", dflt: same(401), by: map[string]outcome{
		"northgate-system": same(200), "brightwell-system": same(200)}},
	"GET /api/v1/openapi.json": {probe: "/api/v1/openapi.json", dflt: same(200)},
	// The probe sends a form without an Idempotency-Key: refused before anything else is read.
	"POST /api/v1/incidents": {probe: "/api/v1/incidents", dflt: same(401), by: map[string]outcome{
		"northgate-system": same(400), "brightwell-system": same(400)}},
	"GET /api/v1/incidents": {probe: "/api/v1/incidents", dflt: same(401), by: map[string]outcome{
		"northgate-system": same(200), "brightwell-system": same(200)}},
	"POST /api/v1/incidents/:id/updates": {probe: "/api/v1/incidents/:incident/updates", perTarget: true, dflt: same(401), by: map[string]outcome{
		"northgate-system": same(400), "brightwell-system": same(400)}},
	"POST /api/v1/incidents/:id/responses": {probe: "/api/v1/incidents/:incident/responses", perTarget: true, dflt: same(401), by: map[string]outcome{
		"northgate-system": same(400), "brightwell-system": same(400)}},
	"GET /incidents":              {probe: "/incidents", dflt: same(403), by: signedIn(map[string]outcome{"officer@northgate.example": same(200), "officer@brightwell.example": same(200), "manager@department.example": same(200), "lead@department.example": same(200), "auditor@department.example": same(200)})},
	"GET /incidents/:id":          {probe: "/incidents/:incident", perTarget: true, dflt: same(403), by: signedIn(contractReach)},
	"POST /incidents/:id/updates": {probe: "/incidents/:incident/updates", perTarget: true, dflt: same(403), by: incidentWriters(400, 403)},
	"GET /incidents/:id/attachments/:file": {probe: "/incidents/:incident/attachments/000000000000000000000000", perTarget: true, dflt: same(403), by: signedIn(map[string]outcome{
		"officer@northgate.example": same(404), "officer@brightwell.example": same(404), "manager@department.example": same(404),
		"lead@department.example": same(404), "auditor@department.example": same(404)})},
	"POST /incidents/:id/respond":       {probe: "/incidents/:incident/respond", perTarget: true, dflt: same(403), by: editReach(400)},
	"POST /incidents/:id/other-bodies":  {probe: "/incidents/:incident/other-bodies", perTarget: true, dflt: same(403), by: editReach(400)},
	"POST /incidents/:id/acknowledge":   {probe: "/incidents/:incident/acknowledge", perTarget: true, dflt: same(403), by: manageReach(400)},
	"POST /incidents/:id/request":       {probe: "/incidents/:incident/request", perTarget: true, dflt: same(403), by: manageReach(400)},
	"POST /incidents/:id/outcome":       {probe: "/incidents/:incident/outcome", perTarget: true, dflt: same(403), by: manageReach(400)},
	"POST /incidents/:id/close":         {probe: "/incidents/:incident/close", perTarget: true, dflt: same(403), by: manageReach(400)},
	"POST /incidents/:id/sign-off":      {probe: "/incidents/:incident/sign-off", perTarget: true, dflt: same(403), by: map[string]outcome{"lead@department.example": same(400)}},
	"GET /dashboard.csv":                {probe: "/dashboard.csv", dflt: same(403), by: signedIn(map[string]outcome{"manager@department.example": same(200), "lead@department.example": same(200), "auditor@department.example": same(200)})},
	"GET /escalations":                  {probe: "/escalations", dflt: same(403), by: signedIn(map[string]outcome{"lead@department.example": same(200)})},
	"POST /escalations/:delivery/retry": {probe: "/escalations/nonexistent/retry", dflt: same(403), by: map[string]outcome{"lead@department.example": same(404)}},
	// Escalations to safeguarding leads: managers and leads only, a manager
	// only about their own contract; only leads decide.
	"GET /concerns":                    {probe: "/concerns", dflt: same(403), by: signedIn(withAuditor(manageAll(200), 200))},
	"GET /concerns/new":                {probe: "/concerns/new?contract=:contract&kind=escalation", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	"POST /concerns/new":               {probe: "/concerns/new?contract=:contract&kind=escalation", perTarget: true, dflt: same(403), by: manageReach(400)},
	"GET /concerns/:concern":           {probe: "/concerns/000000000000000000000000", dflt: same(403), by: signedIn(withAuditor(manageAll(404), 404))},
	"POST /concerns/:concern/decision": {probe: "/concerns/000000000000000000000000/decision", dflt: same(403), by: map[string]outcome{"lead@department.example": same(404)}},
	"GET /api/v1/incidents/:id": {probe: "/api/v1/incidents/:incident", perTarget: true, dflt: same(401), by: map[string]outcome{
		"northgate-system": {200, 404}, "brightwell-system": {404, 200}}},

	"GET /": {probe: "/", dflt: same(303), by: map[string]outcome{ // signed-in people go to their home page
		"anonymous": same(200), "northgate-system": same(200), "brightwell-system": same(200)}},
	"GET /cookies":           {probe: "/cookies", dflt: same(200)},
	"GET /accessibility":     {probe: "/accessibility", dflt: same(200)},
	"GET /sign-in":           {probe: "/sign-in", dflt: same(303)},
	"GET /sign-in/:provider": {probe: "/sign-in/dev", dflt: same(303)},
	"GET /auth/callback":     {probe: "/auth/callback?state=x&code=y", dflt: same(400)},
	"GET /signed-out":        {probe: "/signed-out", dflt: same(200)},
	"POST /sign-out": {probe: "/sign-out", fresh: true, dflt: same(303), by: map[string]outcome{
		"anonymous": same(403), "northgate-system": same(403), "brightwell-system": same(403)}},

	"GET /my-record":    {probe: "/my-record", dflt: same(403), by: signedIn(map[string]outcome{"staff@northgate.example": same(200)})},
	"GET /organisation": {probe: "/organisation", dflt: same(403), by: signedIn(map[string]outcome{"officer@northgate.example": same(200), "officer@brightwell.example": same(200)})},
	"GET /contracts":    {probe: "/contracts", dflt: same(403), by: signedIn(map[string]outcome{"manager@department.example": same(200)})},
	"GET /portfolio":    {probe: "/portfolio", dflt: same(403), by: signedIn(map[string]outcome{"lead@department.example": same(200)})},
	"GET /oversight":    {probe: "/oversight", dflt: same(403), by: signedIn(map[string]outcome{"auditor@department.example": same(200)})},

	"GET /partners/:partner":                {probe: "/partners/:partner", perTarget: true, dflt: same(403), by: signedIn(partnerReach)},
	"GET /partners/:partner/staff":          {probe: "/partners/:partner/staff", perTarget: true, dflt: same(403), by: signedIn(partnerReach)},
	"GET /partners/:partner/staff.csv":      {probe: "/partners/:partner/staff.csv", perTarget: true, dflt: same(403), by: signedIn(partnerReach)},
	"GET /partners/:partner/staff/:staffID": {probe: "/partners/:partner/staff/:staffID", perTarget: true, dflt: same(403), by: signedIn(partnerReach)},
	"GET /partners/:partner/staff/new":      {probe: "/partners/:partner/staff/new", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	// An empty form: the officer's own partner answers with the form's errors.
	"POST /partners/:partner/staff/new":            {probe: "/partners/:partner/staff/new", perTarget: true, dflt: same(403), by: editReach(400)},
	"GET /partners/:partner/staff/:staffID/edit":   {probe: "/partners/:partner/staff/:staffID/edit", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	"POST /partners/:partner/staff/:staffID/edit":  {probe: "/partners/:partner/staff/:staffID/edit", perTarget: true, dflt: same(403), by: editReach(400)},
	"GET /partners/:partner/staff/:staffID/leave":  {probe: "/partners/:partner/staff/:staffID/leave", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	"POST /partners/:partner/staff/:staffID/leave": {probe: "/partners/:partner/staff/:staffID/leave", perTarget: true, dflt: same(403), by: editReach(400)},
	"GET /partners/:partner/staff/import":          {probe: "/partners/:partner/staff/import", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	"POST /partners/:partner/staff/import":         {probe: "/partners/:partner/staff/import", perTarget: true, dflt: same(403), by: editReach(400)},
	// An import ID that does not exist: a 404 for the owner too, never another partner's import.
	"GET /partners/:partner/staff/imports/:importID":     {probe: "/partners/:partner/staff/imports/000000000000000000000000", perTarget: true, dflt: same(403), by: signedIn(editReach(404))},
	"POST /partners/:partner/staff/imports/:importID":    {probe: "/partners/:partner/staff/imports/000000000000000000000000", perTarget: true, dflt: same(403), by: editReach(404)},
	"GET /training-completions-template.csv":             {probe: "/training-completions-template.csv", dflt: same(403), by: signedIn(map[string]outcome{"officer@northgate.example": same(200), "officer@brightwell.example": same(200)})},
	"GET /partners/:partner/training/import":             {probe: "/partners/:partner/training/import", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	"POST /partners/:partner/training/import":            {probe: "/partners/:partner/training/import", perTarget: true, dflt: same(403), by: editReach(400)},
	"GET /partners/:partner/training/imports/:importID":  {probe: "/partners/:partner/training/imports/000000000000000000000000", perTarget: true, dflt: same(403), by: signedIn(editReach(404))},
	"POST /partners/:partner/training/imports/:importID": {probe: "/partners/:partner/training/imports/000000000000000000000000", perTarget: true, dflt: same(403), by: editReach(404)},
	"GET /roster-template.csv":                           {probe: "/roster-template.csv", dflt: same(403), by: signedIn(map[string]outcome{"officer@northgate.example": same(200), "officer@brightwell.example": same(200)})},

	"GET /partners/:partner/compliance": {probe: "/partners/:partner/compliance", perTarget: true, dflt: same(403), by: signedIn(partnerReach)},
	// Empty forms: the officer's own partner answers with the form's errors.
	"GET /partners/:partner/staff/:staffID/training/new":  {probe: "/partners/:partner/staff/:staffID/training/new", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	"POST /partners/:partner/staff/:staffID/training/new": {probe: "/partners/:partner/staff/:staffID/training/new", perTarget: true, dflt: same(403), by: editReach(400)},
	"GET /partners/:partner/staff/:staffID/vetting/new":   {probe: "/partners/:partner/staff/:staffID/vetting/new", perTarget: true, dflt: same(403), by: signedIn(editReach(200))},
	"POST /partners/:partner/staff/:staffID/vetting/new":  {probe: "/partners/:partner/staff/:staffID/vetting/new", perTarget: true, dflt: same(403), by: editReach(400)},
	"GET /my-record/training/new":                         {probe: "/my-record/training/new", dflt: same(403), by: signedIn(map[string]outcome{"staff@northgate.example": same(200)})},
	"POST /my-record/training/new":                        {probe: "/my-record/training/new", dflt: same(403), by: map[string]outcome{"staff@northgate.example": same(400)}},
	// Files that do not exist: a 404 for those allowed, never another partner's file.
	"GET /my-record/evidence/:file": {probe: "/my-record/evidence/000000000000000000000000", dflt: same(403), by: signedIn(map[string]outcome{"staff@northgate.example": same(404)})},
	"GET /partners/:partner/evidence/:file": {probe: "/partners/:partner/evidence/000000000000000000000000", perTarget: true, dflt: same(403), by: signedIn(map[string]outcome{
		"officer@northgate.example": same(404), "officer@brightwell.example": same(404), "manager@department.example": same(404), "lead@department.example": same(404)})},
	"GET /verification":          {probe: "/verification", dflt: same(403), by: signedIn(manageAll(200))},
	"GET /verification/:record":  {probe: "/verification/000000000000000000000000", dflt: same(403), by: signedIn(manageAll(404))},
	"POST /verification/:record": {probe: "/verification/000000000000000000000000", dflt: same(403), by: manageAll(404)},

	"GET /partners/new":                      {probe: "/partners/new", dflt: same(403), by: signedIn(manageAll(200))},
	"POST /partners/new":                     {probe: "/partners/new", dflt: same(403), by: manageAll(400)},
	"GET /partners/:partner/edit":            {probe: "/partners/:partner/edit", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	"POST /partners/:partner/edit":           {probe: "/partners/:partner/edit", perTarget: true, dflt: same(403), by: manageReach(400)},
	"GET /partners/:partner/contracts/new":   {probe: "/partners/:partner/contracts/new", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	"POST /partners/:partner/contracts/new":  {probe: "/partners/:partner/contracts/new", perTarget: true, dflt: same(403), by: manageReach(400)},
	"GET /contracts/:contract":               {probe: "/contracts/:contract", perTarget: true, dflt: same(403), by: signedIn(contractReach)},
	"GET /contracts/:contract/edit":          {probe: "/contracts/:contract/edit", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	"POST /contracts/:contract/edit":         {probe: "/contracts/:contract/edit", perTarget: true, dflt: same(403), by: manageReach(400)},
	"GET /contracts/:contract/status":        {probe: "/contracts/:contract/status", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	"POST /contracts/:contract/status":       {probe: "/contracts/:contract/status", perTarget: true, dflt: same(403), by: manageReach(400)},
	"GET /contracts/:contract/requirements":  {probe: "/contracts/:contract/requirements", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	"POST /contracts/:contract/requirements": {probe: "/contracts/:contract/requirements", perTarget: true, dflt: same(403), by: manageReach(400)},

	"GET /contracts/:contract/performance":       {probe: "/contracts/:contract/performance", perTarget: true, dflt: same(403), by: signedIn(contractReach)},
	"GET /contracts/:contract/performance/terms": {probe: "/contracts/:contract/performance/terms", perTarget: true, dflt: same(403), by: signedIn(manageReach(200))},
	// An empty form: no version, so refused before anything is read.
	"POST /contracts/:contract/performance/terms": {probe: "/contracts/:contract/performance/terms", perTarget: true, dflt: same(403), by: manageReach(400)},
	// A failure that does not exist: a 404 for those allowed, never another contract's failure.
	"GET /contracts/:contract/performance/failures/:failure/waive": {probe: "/contracts/:contract/performance/failures/000000000000000000000000/waive",
		perTarget: true, dflt: same(403), by: signedIn(manageReach(404))},
	"POST /contracts/:contract/performance/failures/:failure/waive": {probe: "/contracts/:contract/performance/failures/000000000000000000000000/waive",
		perTarget: true, dflt: same(403), by: manageReach(404)},

	"GET /sessions": {probe: "/sessions", dflt: same(403), by: signedIn(map[string]outcome{"lead@department.example": same(200)})},
	"POST /sessions/:ref/end": {probe: "/sessions/:ref/end", perTarget: true, dflt: same(403), by: map[string]outcome{
		"lead@department.example": same(303)}},

	"GET /audit":     {probe: "/audit", dflt: same(403), by: signedIn(map[string]outcome{"auditor@department.example": same(200)})},
	"GET /audit.csv": {probe: "/audit.csv", dflt: same(403), by: signedIn(map[string]outcome{"auditor@department.example": same(200)})},

	// Governance reports, each named by a reference that does not exist: a
	// 404 for everyone who may read reports (reports_test.go tries real ones
	// across partners). An empty request is the form's errors.
	"GET /reports":          {probe: "/reports", dflt: same(403), by: signedIn(reportReaders(200))},
	"GET /reports/new":      {probe: "/reports/new", dflt: same(403), by: signedIn(reportWriters(200))},
	"POST /reports":         {probe: "/reports", dflt: same(403), by: reportWriters(400)},
	"GET /reports/:id":      {probe: "/reports/RPT-20260101-ZZZZZZ", dflt: same(403), by: signedIn(reportReaders(404))},
	"GET /reports/:id/pdf":  {probe: "/reports/RPT-20260101-ZZZZZZ/pdf", dflt: same(403), by: signedIn(reportReaders(404))},
	"GET /reports/:id/view": {probe: "/reports/RPT-20260101-ZZZZZZ/view", dflt: same(403), by: signedIn(reportReaders(404))},

	// Inspections and actions, each named by an ID that does not exist: a 404
	// for everyone allowed (oversight_test.go tries real ones across partners).
	"GET /inspections":                    {probe: "/inspections", dflt: same(403), by: signedIn(oversightReaders(200))},
	"GET /inspections/new":                {probe: "/inspections/new", dflt: same(403), by: signedIn(manageAll(200))},
	"POST /inspections/new":               {probe: "/inspections/new", dflt: same(403), by: manageAll(400)},
	"GET /inspections/:id":                {probe: "/inspections/000000000000000000000000", dflt: same(403), by: signedIn(oversightReaders(404))},
	"GET /inspections/:id/complete":       {probe: "/inspections/000000000000000000000000/complete", dflt: same(403), by: signedIn(manageAll(404))},
	"POST /inspections/:id/complete":      {probe: "/inspections/000000000000000000000000/complete", dflt: same(403), by: manageAll(404)},
	"GET /inspections/:id/evidence/:file": {probe: "/inspections/000000000000000000000000/evidence/000000000000000000000000", dflt: same(403), by: signedIn(oversightReaders(404))},
	"GET /actions":                        {probe: "/actions", dflt: same(403), by: signedIn(oversightReaders(200))},
	"GET /actions.csv":                    {probe: "/actions.csv", dflt: same(403), by: signedIn(oversightReaders(200))},
	"GET /actions/new":                    {probe: "/actions/new", dflt: same(403), by: signedIn(manageAll(200))},
	"POST /actions/new":                   {probe: "/actions/new", dflt: same(403), by: manageAll(400)},
	"GET /actions/:id":                    {probe: "/actions/000000000000000000000000", dflt: same(403), by: signedIn(oversightReaders(404))},
	"POST /actions/:id/respond":           {probe: "/actions/000000000000000000000000/respond", dflt: same(403), by: editReach(404)},
	"POST /actions/:id/return":            {probe: "/actions/000000000000000000000000/return", dflt: same(403), by: manageAll(404)},
	"POST /actions/:id/accept":            {probe: "/actions/000000000000000000000000/accept", dflt: same(403), by: manageAll(404)},
	"GET /actions/:id/evidence/:file":     {probe: "/actions/000000000000000000000000/evidence/000000000000000000000000", dflt: same(403), by: signedIn(oversightReaders(404))},
}

// partnerReach is who reaches each partner's pages: a partner's own people
// only their own partner (the other answers 404, as if it did not exist), the
// contract manager only the partner whose contract they manage, leads and
// auditors every partner.
var partnerReach = map[string]outcome{
	"officer@northgate.example":  {200, 404},
	"officer@brightwell.example": {404, 200},
	"manager@department.example": {200, 404},
	"lead@department.example":    same(200),
	"auditor@department.example": same(200),
}

// contractReach is who sees each partner's contract page (CS-ACC-2025-014 is
// Northgate's, managed by the demo manager; CS-INT-2025-031 Brightwell's).
var contractReach = map[string]outcome{
	"officer@northgate.example":  {200, 404},
	"officer@brightwell.example": {404, 200},
	"manager@department.example": {200, 404},
	"lead@department.example":    same(200),
	"auditor@department.example": same(200),
}

// manageAll is who may add partners; ok is what they get.
func manageAll(ok int) map[string]outcome {
	return map[string]outcome{"manager@department.example": same(ok), "lead@department.example": same(ok)}
}

// withAuditor adds the auditor, who reads what the department reads, to m.
func withAuditor(m map[string]outcome, status int) map[string]outcome {
	m["auditor@department.example"] = same(status)
	return m
}

// manageReach is who may manage each partner's contracts: the manager only
// their own contract's partner, leads every partner.
func manageReach(ok int) map[string]outcome {
	return map[string]outcome{"manager@department.example": {ok, 404}, "lead@department.example": same(ok)}
}

// editReach is who may change each partner's roster: only its own compliance
// officers; ok is what their own partner answers.
func editReach(ok int) map[string]outcome {
	return map[string]outcome{
		"officer@northgate.example":  {ok, 404},
		"officer@brightwell.example": {404, ok},
	}
}

// incidentWriters is who may add an update to each partner's incident: its
// own officers and the department's reviewers (ok); the auditor reaches it
// but may not write (auditor).
func incidentWriters(ok, auditor int) map[string]outcome {
	m := editReach(ok)
	for k, v := range manageReach(ok) {
		m[k] = v
	}
	m["auditor@department.example"] = same(auditor)
	return m
}

// reportReaders is who may read governance reports: partners' compliance
// officers (their own partner's editions) and the department's people.
func reportReaders(ok int) map[string]outcome {
	m := reportWriters(ok)
	m["auditor@department.example"] = same(ok)
	return m
}

// reportWriters is who may ask for governance reports.
func reportWriters(ok int) map[string]outcome {
	return map[string]outcome{"officer@northgate.example": same(ok), "officer@brightwell.example": same(ok),
		"manager@department.example": same(ok), "lead@department.example": same(ok)}
}

// signedIn adds what pages answer people who are not signed in: a redirect to
// the start page (API clients' tokens are no cookie).
func signedIn(m map[string]outcome) map[string]outcome {
	out := map[string]outcome{"anonymous": same(303), "northgate-system": same(303), "brightwell-system": same(303)}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestAuthorizationMatrix(t *testing.T) {
	p := portaltest.Start(t)
	ctx := context.Background()

	// Every registered route must have a row.
	for _, r := range p.App.Server.Routes() {
		if _, ok := matrix[r.Method+" "+r.Path]; ok {
			continue
		}
		if strings.HasPrefix(r.Path, "/dev-idp/") {
			if _, ok := matrix["ANY "+r.Path]; ok {
				continue
			}
		}
		t.Errorf("route %s %s has no row in the authorization matrix", r.Method, r.Path)
	}

	staffIDs := map[string]string{}
	for _, partner := range []string{northgate, brightwell} {
		var m struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := p.App.Store.DB.Collection("staff_"+partner).FindOne(ctx, bson.D{}).Decode(&m); err != nil {
			t.Fatalf("find a %s staff member: %v", partner, err)
		}
		staffIDs[partner] = m.ID.Hex()
	}
	partnerNames := map[string]string{northgate: "Northgate Services Ltd", brightwell: "Brightwell Care Ltd"}
	ownOrg := map[string]string{"staff@northgate.example": northgate, "officer@northgate.example": northgate,
		"officer@brightwell.example": brightwell, "northgate-system": northgate, "brightwell-system": brightwell}

	type signedInCaller struct {
		client *http.Client
		csrf   string
		bearer string
	}
	signIn := func(caller string) signedInCaller {
		c := portaltest.Client(t)
		switch {
		case caller == "anonymous":
			return signedInCaller{client: c}
		case strings.HasSuffix(caller, "-system"):
			return signedInCaller{client: c, bearer: portaltest.APIToken(t, p.URL, caller, strings.TrimSuffix(caller, "-system")+"-secret", "incidents:read", "incidents:write")}
		}
		body, _ := portaltest.SignIn(t, c, p.URL, caller)
		return signedInCaller{client: c, csrf: portaltest.CSRFToken(t, body)}
	}
	sessions := map[string]signedInCaller{}
	for _, caller := range callers {
		sessions[caller] = signIn(caller)
	}
	// An incident of each partner, notified by its own system.
	incidentIDs := map[string]string{}
	for _, partner := range []string{northgate, brightwell} {
		api := apiClient{t, p.URL, sessions[partner+"-system"].bearer}
		resp, body := api.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, map[string]any{"contract_id": demoContracts[partner]}))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("notify a %s incident: %d %s", partner, resp.StatusCode, body)
		}
		incidentIDs[partner] = strings.TrimPrefix(resp.Header.Get("Location"), "/api/v1/incidents/")
	}
	// A session of someone at each partner, for the lead to end.
	sessionRef := func(partner string) string {
		user := map[string]string{northgate: "staff@northgate.example", brightwell: "officer@brightwell.example"}[partner]
		signIn(user)
		var s struct {
			Ref string `bson:"ref"`
		}
		// The newest session is the one just made, not the caller's own kept in sessions.
		newest := options.FindOne().SetSort(bson.D{{Key: "created_at", Value: -1}})
		if err := p.App.Store.DB.Collection("sessions").FindOne(ctx, bson.D{{Key: "identity.email", Value: user}}, newest).Decode(&s); err != nil {
			t.Fatalf("find a session of %s: %v", user, err)
		}
		return s.Ref
	}

	for key, r := range matrix {
		method := strings.Fields(key)[0]
		if method == "ANY" {
			method = http.MethodGet
		}
		targets := []string{northgate}
		if r.perTarget {
			targets = []string{northgate, brightwell}
		}
		for _, caller := range callers {
			want, ok := r.by[caller]
			if !ok {
				want = r.dflt
			}
			for ti, target := range targets {
				path := strings.NewReplacer(":partner", target, ":staffID", staffIDs[target], ":contract", demoContracts[target],
					":incident", incidentIDs[target], ":version", p.App.Server.AssetVersion()).Replace(r.probe)
				if strings.Contains(path, ":ref") {
					path = strings.Replace(path, ":ref", sessionRef(target), 1)
				}
				who := sessions[caller]
				if r.fresh && caller != "anonymous" {
					who = signIn(caller)
				}
				var form url.Values
				if method == http.MethodPost {
					form = url.Values{"csrf_token": {who.csrf}}
				}
				req, err := http.NewRequest(method, p.URL+path, strings.NewReader(form.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				if form != nil {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if who.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+who.bearer)
				}
				resp, err := who.client.Do(req)
				if err != nil {
					t.Fatalf("%s %s as %s: %v", method, path, caller, err)
				}
				body := portaltest.ReadAll(t, resp)
				if resp.StatusCode != want[ti] {
					t.Errorf("%s %s as %s (%s's): got %d, want %d", method, r.probe, caller, target, resp.StatusCode, want[ti])
					continue
				}
				// Whatever the status, another partner's data never appears.
				for partner, name := range partnerNames {
					if own, isPartner := ownOrg[caller]; isPartner && own != partner && strings.Contains(body, name) {
						t.Errorf("%s %s as %s shows %s", method, path, caller, name)
					}
				}
				if strings.HasPrefix(path, "/api/") {
					if ct := resp.Header.Get("Content-Type"); resp.StatusCode >= 400 && !strings.HasPrefix(ct, "application/problem+json") {
						t.Errorf("%s %s as %s: error with Content-Type %q, want problem+json", method, path, caller, ct)
					}
					if resp.StatusCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s %s as %s: 401 without a Bearer challenge", method, path, caller)
					}
				}
			}
		}
	}
}
