package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/access"
	"github.com/department/safeguarding-portal/internal/audit"
	"github.com/department/safeguarding-portal/internal/incident"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"github.com/department/safeguarding-portal/internal/server"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// contract validates responses against the OpenAPI document the portal
// serves, so a test fails the moment the API and its contract disagree.
type contract struct {
	schemas map[string]*jsonschema.Schema
}

func openAPIContract(t *testing.T) *contract {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(server.OpenAPI))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	k := &contract{schemas: map[string]*jsonschema.Schema{}}
	for _, name := range []string{"Notice", "Incident", "IncidentList", "Problem", "ContractList"} {
		if k.schemas[name], err = c.Compile("openapi.json#/components/schemas/" + name); err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
	}
	return k
}

// check validates body against the named schema.
func (k *contract) check(t *testing.T, name, body string) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", name, err, body)
	}
	if err := k.schemas[name].Validate(v); err != nil {
		t.Errorf("response does not match %s in openapi.json: %v\n%s", name, err, body)
	}
}

type apiClient struct {
	t     testing.TB
	base  string
	token string
}

func (a apiClient) do(method, path, key string, body []byte) (*http.Response, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func newKey() string { return bson.NewObjectID().Hex() + "-key" }

// notice is a valid notification for Northgate's contract, as a partner
// system would send it, with changes applied on top.
func notice(t testing.TB, changes map[string]any) []byte {
	t.Helper()
	aware := time.Now().Add(-30 * time.Minute).UTC()
	n := map[string]any{
		"contract_id": "CS-ACC-2025-014", "site": "Harbour House", "category": "physical_assault",
		"occurred_at": aware.Add(-time.Hour).Format(time.RFC3339), "aware_at": aware.Format(time.RFC3339),
		"customer":          map[string]any{"reference": "HO-7654321", "age_group": "adult"},
		"indicators":        []string{"victim_of_assault"},
		"what_happened":     "A resident was assaulted in a corridor by another resident.",
		"immediate_actions": map[string]any{"emergency_services": true, "first_aid": true},
		"referrals":         []map[string]any{{"agency": "police", "reference": "CAD-1234"}},
		"reported_by":       map[string]any{"name": "Jo Duty", "role": "Site manager"},
	}
	for k, v := range changes {
		if v == nil {
			delete(n, k)
			continue
		}
		n[k] = v
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type problemDoc struct {
	Status int `json:"status"`
	Errors []struct {
		Pointer string `json:"pointer"`
		Detail  string `json:"detail"`
	} `json:"errors"`
}

func TestAPINotifyAndReadBack(t *testing.T) {
	p := portaltest.Start(t)
	k := openAPIContract(t)
	north := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")}
	bright := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "brightwell-system", "brightwell-secret", "incidents:write", "incidents:read")}

	resp, doc := north.do(http.MethodGet, "/api/v1/openapi.json", "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal([]byte(doc), server.OpenAPI) {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}

	resp, body := north.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, nil))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("notify: %d %s", resp.StatusCode, body)
	}
	k.check(t, "Incident", body)
	var in struct {
		ID, Reference, Status string
		Critical              bool
		Deadlines             []struct {
			Regime string
			Late   bool
		}
		FiveRs []struct {
			Name      string
			Evidenced bool
		} `json:"five_rs"`
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Location") != "/api/v1/incidents/"+in.ID || in.Status != "notified" || in.Critical ||
		len(in.Deadlines) != 1 || in.Deadlines[0].Late || len(in.FiveRs) != 5 {
		t.Errorf("created incident: Location %q, %+v", resp.Header.Get("Location"), in)
	}

	resp, got := north.do(http.MethodGet, "/api/v1/incidents/"+in.ID, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(got, in.Reference) {
		t.Fatalf("read back: %d %s", resp.StatusCode, got)
	}
	k.check(t, "Incident", got)

	// Another partner's system: the incident does not exist for it, and its
	// list never shows it.
	resp, body = bright.do(http.MethodGet, "/api/v1/incidents/"+in.ID, "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("another partner reading the incident: %d %s", resp.StatusCode, body)
	}
	k.check(t, "Problem", body)
	for _, id := range []string{"000000000000000000000000", "nonsense"} {
		if resp, _ := north.do(http.MethodGet, "/api/v1/incidents/"+id, "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", id, resp.StatusCode)
		}
	}
	resp, body = bright.do(http.MethodGet, "/api/v1/incidents", "", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, in.ID) {
		t.Errorf("another partner's list: %d %s", resp.StatusCode, body)
	}
	k.check(t, "IncidentList", body)
	// Nor can it notify under the first partner's contract.
	resp, body = bright.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, nil))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"/contract_id"`) {
		t.Errorf("notifying under another partner's contract: %d %s", resp.StatusCode, body)
	}

	// A critical incident starts the 1-hour clock; a data breach also the ICO's.
	resp, body = north.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, map[string]any{
		"category": "missing_customer", "customer": map[string]any{"reference": "HO-1111111", "age_group": "child", "unaccompanied_child": true}}))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"critical":true`) || !strings.Contains(body, `"rule":"1 hour"`) {
		t.Errorf("missing child: %d %s", resp.StatusCode, body)
	}
	resp, body = north.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, map[string]any{"category": "data_breach"}))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"regime":"ico"`) || !strings.Contains(body, `"rule":"72 hours"`) {
		t.Errorf("data breach: %d %s", resp.StatusCode, body)
	}
	// Late: aware 30 hours ago under a 24-hour rule.
	resp, body = north.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, map[string]any{
		"aware_at": time.Now().Add(-30 * time.Hour).UTC().Format(time.RFC3339), "occurred_at": time.Now().Add(-31 * time.Hour).UTC().Format(time.RFC3339)}))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"late":true`) || !regexp.MustCompile(`"late_by_seconds":2[01]\d{3}`).MatchString(body) {
		t.Errorf("late notification: %d %s", resp.StatusCode, body)
	}

	// The list pages with a cursor, oldest change first, and follows updated_since.
	seen := map[string]bool{}
	next := "/api/v1/incidents?limit=2"
	for pages := 0; next != ""; pages++ {
		resp, body = north.do(http.MethodGet, next, "", nil)
		if resp.StatusCode != http.StatusOK || pages > 5 {
			t.Fatalf("list %s: %d %s", next, resp.StatusCode, body)
		}
		k.check(t, "IncidentList", body)
		var page struct {
			Incidents []struct{ ID string }
			Next      string
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		for _, i := range page.Incidents {
			if seen[i.ID] {
				t.Errorf("incident %s listed twice", i.ID)
			}
			seen[i.ID] = true
		}
		next = page.Next
	}
	// Northgate's four, and the demo's seeded ones.
	if want := countDocuments(t, p, "incidents", bson.D{{Key: "partner_id", Value: "northgate"}}); int64(len(seen)) != want || want < 4 {
		t.Errorf("listed %d incidents, want %d", len(seen), want)
	}
	for _, bad := range []string{"?limit=0", "?limit=101", "?status=open", "?updated_since=yesterday", "?cursor=bm9wZQ"} {
		resp, body := north.do(http.MethodGet, "/api/v1/incidents"+bad, "", nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("list %s: %d", bad, resp.StatusCode)
		}
		k.check(t, "Problem", body)
	}
}

func TestAPINotifyRefusesInvalidNotices(t *testing.T) {
	p := portaltest.Start(t)
	k := openAPIContract(t)
	north := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")}
	future := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name     string
		changes  map[string]any
		raw      string
		status   int
		pointers []string
	}{
		{"unknown field", map[string]any{"customer_name": "Jane Smith"}, "", 422, []string{"/customer_name"}},
		{"unknown nested field", map[string]any{"customer": map[string]any{"reference": "HO-1", "age_group": "adult", "name": "Jane"}}, "", 422, []string{"/customer/name"}},
		{"wrong type", map[string]any{"site": 42}, "", 422, []string{"/site"}},
		{"not a date", map[string]any{"occurred_at": "last Tuesday"}, "", 422, []string{"/occurred_at"}},
		{"unknown category", map[string]any{"category": "burglary"}, "", 422, []string{"/category"}},
		{"unknown indicator", map[string]any{"indicators": []string{"sadness"}}, "", 422, []string{"/indicators/0"}},
		{"missing fields", map[string]any{"site": nil, "reported_by": nil}, "", 422, []string{"/reported_by", "/site"}},
		{"future occurrence", map[string]any{"occurred_at": future, "aware_at": future}, "", 422, []string{"/aware_at", "/occurred_at"}},
		{"aware before it happened", map[string]any{"aware_at": time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)}, "", 422, []string{"/aware_at"}},
		{"no referral and no reason", map[string]any{"referrals": []any{}}, "", 422, []string{"/no_referral_reason"}},
		{"unknown contract", map[string]any{"contract_id": "CS-XXX-0000-000"}, "", 422, []string{"/contract_id"}},
		{"another partner's contract", map[string]any{"contract_id": "CS-INT-2025-031"}, "", 422, []string{"/contract_id"}},
		{"a name as the reference", map[string]any{"customer": map[string]any{"reference": "Jane Smith", "age_group": "adult"}}, "", 422, []string{"/customer/reference"}},
		{"not JSON", nil, `{"site": `, 400, nil},
		{"an array", nil, `[]`, 422, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.raw)
			if tc.raw == "" {
				body = notice(t, tc.changes)
			}
			resp, out := north.do(http.MethodPost, "/api/v1/incidents", newKey(), body)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %q, want %d problem+json\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, out)
			}
			k.check(t, "Problem", out)
			var prob problemDoc
			if err := json.Unmarshal([]byte(out), &prob); err != nil {
				t.Fatal(err)
			}
			var pointers []string
			for _, e := range prob.Errors {
				pointers = append(pointers, e.Pointer)
				if e.Detail == "" {
					t.Errorf("error at %q has no detail", e.Pointer)
				}
			}
			slices.Sort(pointers)
			if fmt.Sprint(pointers) != fmt.Sprint(tc.pointers) && !(len(tc.pointers) == 0 && len(pointers) == 0) {
				t.Errorf("pointers %v, want %v\n%s", pointers, tc.pointers, out)
			}
		})
	}
	for _, tc := range []struct {
		name, contentType, key string
		body                   []byte
		status                 int
	}{
		{"no idempotency key", "application/json", "", notice(t, nil), 400},
		{"short idempotency key", "application/json", "abc", notice(t, nil), 400},
		{"form body", "application/x-www-form-urlencoded", newKey(), []byte("site=x"), 415},
		{"oversize body", "application/json", newKey(), notice(t, map[string]any{"what_happened": strings.Repeat("a", 2<<20)}), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/v1/incidents", bytes.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+north.token)
			req.Header.Set("Content-Type", tc.contentType)
			if tc.key != "" {
				req.Header.Set("Idempotency-Key", tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%d, want %d\n%s", resp.StatusCode, tc.status, b)
			}
			k.check(t, "Problem", string(b))
		})
	}

	// A contract the store cannot read is the service's failure, not a
	// wrong contract: the system is told to retry, and the retry works.
	contracts := p.App.Store.DB.Collection("contracts")
	unreadable := bson.D{{Key: "_id", Value: "CS-ACC-2025-099"}, {Key: "partner_id", Value: "northgate"}, {Key: "title", Value: 42},
		{Key: "service_line", Value: "accommodation"}, {Key: "status", Value: "active"}}
	if _, err := contracts.InsertOne(context.Background(), unreadable); err != nil {
		t.Fatal(err)
	}
	key := newKey()
	resp, out := north.do(http.MethodPost, "/api/v1/incidents", key, notice(t, map[string]any{"contract_id": "CS-ACC-2025-099"}))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(out, "Retry") {
		t.Errorf("a contract the store cannot read: %d %q, want 503 problem+json\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	k.check(t, "Problem", out)
	if n := countDocuments(t, p, "incidents", notifiedHere()); n != 0 {
		t.Errorf("refused notices stored %d incidents", n)
	}
	if _, err := contracts.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "CS-ACC-2025-099"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "Overflow accommodation"}}}}); err != nil {
		t.Fatal(err)
	}
	if resp, out := north.do(http.MethodPost, "/api/v1/incidents", key, notice(t, map[string]any{"contract_id": "CS-ACC-2025-099"})); resp.StatusCode != http.StatusCreated {
		t.Errorf("the retry once the contract reads: %d %s", resp.StatusCode, out)
	}
}

func TestAPIIdempotency(t *testing.T) {
	p := portaltest.Start(t)
	north := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")}
	bright := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "brightwell-system", "brightwell-secret", "incidents:write", "incidents:read")}
	count := func() int64 {
		return countDocuments(t, p, "incidents", notifiedHere())
	}
	key := newKey()
	body := notice(t, nil)
	first, firstBody := north.do(http.MethodPost, "/api/v1/incidents", key, body)
	again, againBody := north.do(http.MethodPost, "/api/v1/incidents", key, body)
	if first.StatusCode != 201 || again.StatusCode != 201 || againBody != firstBody ||
		again.Header.Get("Location") != first.Header.Get("Location") || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a retry: %d %q, want the first response again", again.StatusCode, again.Header.Get("Location"))
	}
	other, otherBody := north.do(http.MethodPost, "/api/v1/incidents", key, notice(t, map[string]any{"site": "Another House"}))
	if other.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("same key, another body: %d %s", other.StatusCode, otherBody)
	}
	// Keys belong to the partner: another partner's system using the same key is a new request.
	if resp, b := bright.do(http.MethodPost, "/api/v1/incidents", key, notice(t, map[string]any{"contract_id": "CS-INT-2025-031"})); resp.StatusCode != 201 {
		t.Errorf("another partner's same key: %d %s", resp.StatusCode, b)
	}
	// A refused notice is answered the same way again.
	badKey := newKey()
	bad := notice(t, map[string]any{"category": "burglary"})
	r1, b1 := north.do(http.MethodPost, "/api/v1/incidents", badKey, bad)
	r2, b2 := north.do(http.MethodPost, "/api/v1/incidents", badKey, bad)
	if r1.StatusCode != 422 || r2.StatusCode != 422 || !strings.Contains(b2, "/category") || len(b1) == 0 {
		t.Errorf("a refused notice retried: %d then %d", r1.StatusCode, r2.StatusCode)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d incidents, want 2", n)
	}

	// 32 concurrent requests with one key create exactly one incident; the
	// rest are told it is in progress or given the first response.
	key = newKey()
	body = notice(t, map[string]any{"site": "Concurrent House"})
	var wg sync.WaitGroup
	statuses := make([]int, 32)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := north.do(http.MethodPost, "/api/v1/incidents", key, body)
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("concurrent request answered %d", s)
		}
	}
	if created == 0 {
		t.Error("no concurrent request got the created incident")
	}
	if n := count(); n != 3 {
		t.Errorf("%d incidents after 32 concurrent requests with one key, want 3", n)
	}
}

func TestAPIUpdatesAndResponses(t *testing.T) {
	p := portaltest.Start(t)
	k := openAPIContract(t)
	north := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "northgate-system", "northgate-secret", "incidents:write", "incidents:read")}
	bright := apiClient{t, p.URL, portaltest.APIToken(t, p.URL, "brightwell-system", "brightwell-secret", "incidents:write", "incidents:read")}
	department := incident.NewStore(p.App.Store.DB, p.App.Trail)
	manager := incident.Actor{Kind: "person", ID: "m", Name: "Mo Manager", Side: "department"}
	ev := audit.Event{Actor: audit.Actor{Kind: "person", Subject: "m"}, Action: "incident.review", Outcome: audit.Success}

	resp, body := north.do(http.MethodPost, "/api/v1/incidents", newKey(), notice(t, nil))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("notify: %d %s", resp.StatusCode, body)
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/api/v1/incidents/")
	post := func(a apiClient, path, key string, v any) (*http.Response, string) {
		b, _ := json.Marshal(v)
		return a.do(http.MethodPost, path, key, b)
	}

	key := newKey()
	resp, body = post(north, "/api/v1/incidents/"+id+"/updates", key, map[string]string{"text": "The customer has moved to another room."})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "moved to another room") {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	k.check(t, "Incident", body)
	if resp, again := post(north, "/api/v1/incidents/"+id+"/updates", key, map[string]string{"text": "The customer has moved to another room."}); resp.StatusCode != 201 || again != body {
		t.Errorf("a retried update: %d, want the first response", resp.StatusCode)
	}
	for name, tc := range map[string]struct {
		client apiClient
		path   string
		body   any
		status int
		ptr    string
	}{
		"another partner's incident": {bright, "/api/v1/incidents/" + id + "/updates", map[string]string{"text": "x"}, 404, ""},
		"no such incident":           {north, "/api/v1/incidents/000000000000000000000000/updates", map[string]string{"text": "x"}, 404, ""},
		"empty text":                 {north, "/api/v1/incidents/" + id + "/updates", map[string]string{"text": ""}, 422, "/text"},
		"blank text":                 {north, "/api/v1/incidents/" + id + "/updates", map[string]string{"text": "   "}, 422, "/text"},
		"unknown field":              {north, "/api/v1/incidents/" + id + "/updates", map[string]string{"text": "x", "name": "Jane"}, 422, "/name"},
		"nothing requested":          {north, "/api/v1/incidents/" + id + "/responses", map[string]string{"request_id": "000000000000000000000000", "text": "x"}, 409, ""},
	} {
		resp, body := post(tc.client, tc.path, newKey(), tc.body)
		if resp.StatusCode != tc.status || (tc.ptr != "" && !strings.Contains(body, `"pointer":"`+tc.ptr+`"`)) {
			t.Errorf("%s: %d %s, want %d at %q", name, resp.StatusCode, body, tc.status, tc.ptr)
		}
		k.check(t, "Problem", body)
	}

	in, err := department.Get(context.Background(), access.Everything(), id)
	if err != nil || len(in.Updates) != 2 {
		t.Fatalf("chronology after one update and its retry: %d entries, %v", len(in.Updates), err)
	}
	in, err = department.Acknowledge(context.Background(), access.Everything(), id, in.Version, manager, "", ev)
	if err != nil {
		t.Fatal(err)
	}
	in, err = department.RequestInformation(context.Background(), access.Everything(), id, in.Version, manager, "Which police station?", ev)
	if err != nil {
		t.Fatal(err)
	}
	_, body = north.do(http.MethodGet, "/api/v1/incidents/"+id, "", nil)
	if !strings.Contains(body, `"status":"information_requested"`) || !strings.Contains(body, `"open_request":"`+in.OpenRequest.Hex()+`"`) {
		t.Errorf("the partner system does not see the request: %s", body)
	}
	resp, body = post(north, "/api/v1/incidents/"+id+"/responses", newKey(), map[string]string{"request_id": "000000000000000000000000", "text": "Croydon"})
	if resp.StatusCode != 422 || !strings.Contains(body, `"pointer":"/request_id"`) {
		t.Errorf("answering another request: %d %s", resp.StatusCode, body)
	}
	resp, body = post(north, "/api/v1/incidents/"+id+"/responses", newKey(), map[string]string{"request_id": in.OpenRequest.Hex(), "text": "Croydon police station."})
	if resp.StatusCode != 201 || !strings.Contains(body, `"status":"under_review"`) || strings.Contains(body, "open_request") {
		t.Errorf("answer: %d %s", resp.StatusCode, body)
	}
	k.check(t, "Incident", body)
}
