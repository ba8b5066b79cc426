package server_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// upload posts a multipart form with one file to path, without following the redirect.
func (u contractUser) upload(path string, fields map[string]string, fileField, fileName string, file []byte) (int, string, string) {
	u.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", u.csrf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != nil {
		part, _ := w.CreateFormFile(fileField, fileName)
		_, _ = part.Write(file)
	}
	_ = w.Close()
	resp, err := u.c.Post(u.base+path, w.FormDataContentType(), &body)
	if err != nil {
		u.t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode, portaltest.ReadAll(u.t, resp), resp.Header.Get("Location")
}

func certificatePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := range 40 {
		img.Set(x, 10, color.Black)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func northgateMember(t *testing.T, p *portaltest.Portal, email string) string {
	t.Helper()
	var m struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := p.App.Store.DB.Collection("staff_northgate").FindOne(context.Background(), bson.D{{Key: "email", Value: email}}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.ID.Hex()
}

// A staff member records a course with a certificate; the manager rejects
// it, the partner sees why; a corrected record is verified and counts.
func TestRecordVerifyAndSeeTheOutcome(t *testing.T) {
	p := portaltest.Start(t)
	member := signInAs(t, p, "staff@northgate.example")
	course := map[string]string{"module": "face_behind_the_case", "completed-day": "2", "completed-month": "11",
		"completed-year": "2026", "provider": "Department e-learning"}

	status, body, _ := member.upload("/my-record/training/new", course, "certificate", "certificate.pdf", []byte("MZ\x90\x00 not a certificate"))
	if status != http.StatusBadRequest || !strings.Contains(body, "There is a problem") || !strings.Contains(body, "PDF, PNG or JPEG") {
		t.Fatalf("a renamed executable: %d, want 400 naming the allowed types\n%s", status, body)
	}
	if n, _ := p.App.Store.DB.Collection("evidence.files").CountDocuments(context.Background(), bson.D{}); n != 0 {
		t.Errorf("a refused upload left %d files behind", n)
	}

	status, _, location := member.upload("/my-record/training/new", course, "certificate", "certificate.png", certificatePNG(t))
	if status != http.StatusSeeOther || location != "/my-record?saved=training" {
		t.Fatalf("recording the course: %d to %q", status, location)
	}
	_, page := member.get("/my-record")
	if !strings.Contains(page, "Awaiting verification") || !strings.Contains(page, "certificate.png") {
		t.Error("the member's record does not show the course waiting for verification")
	}

	manager := signInAs(t, p, "manager@department.example")
	_, queue := manager.get("/verification")
	id := regexpFind(t, queue, `href="/verification/([0-9a-f]{24})"`)
	_, decide := manager.get("/verification/" + id)
	file := regexpFind(t, decide, `href="/partners/northgate/evidence/([0-9a-f]{24})"`)
	resp, data := get(t, manager.c, p.URL+"/partners/northgate/evidence/"+file)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(data, "\x89PNG") {
		t.Errorf("evidence download: %d %v", resp.StatusCode, resp.Header)
	}
	if _, ok := auditEvent(t, p, "evidence.download", "evidence/"+file); !ok {
		t.Error("the download is not in the audit trail")
	}
	other := signInAs(t, p, "officer@brightwell.example")
	if status, _ := other.get("/partners/northgate/evidence/" + file); status != http.StatusNotFound {
		t.Errorf("another partner's officer downloads the certificate: %d", status)
	}
	if status, _ := other.get("/partners/brightwell/evidence/" + file); status != http.StatusNotFound {
		t.Errorf("another partner's officer reaches it under their own partner: %d", status)
	}

	manager.refused("/verification/"+id, map[string][]string{"decision": {"rejected"}}, "Enter why the evidence is rejected")
	status, _, location = manager.post("/verification/"+id, map[string][]string{"decision": {"rejected"}, "reason": {"The certificate is for another course"}})
	if status != http.StatusSeeOther || location != "/verification?decided=rejected" {
		t.Fatalf("rejecting: %d to %q", status, location)
	}
	_, page = member.get("/my-record")
	if !strings.Contains(page, "The certificate is for another course") || !strings.Contains(page, "Rejected") {
		t.Error("the member does not see the rejection and its reason")
	}

	if status, _, _ := member.upload("/my-record/training/new", course, "certificate", "face-behind-the-case.png", certificatePNG(t)); status != http.StatusSeeOther {
		t.Fatalf("recording the course again: %d", status)
	}
	_, queue = manager.get("/verification")
	id = regexpFind(t, queue, `href="/verification/([0-9a-f]{24})"`)
	if status, _, _ := manager.post("/verification/"+id, map[string][]string{"decision": {"verified"}}); status != http.StatusSeeOther {
		t.Fatalf("verifying: %d", status)
	}
	officer := signInAs(t, p, "officer@northgate.example")
	_, record := officer.get("/partners/northgate/staff/" + northgateMember(t, p, "staff@northgate.example"))
	if !strings.Contains(record, "Verified") || !strings.Contains(record, "Completed 2 November 2026") {
		t.Errorf("the officer does not see the verified course on the staff record")
	}
	_, compliance := officer.get("/partners/northgate/compliance")
	if !strings.Contains(compliance, "Face Behind the Case") || !strings.Contains(compliance, "1 of ") {
		t.Errorf("the compliance page does not count the verified course:\n%s", compliance)
	}
}

func regexpFind(t *testing.T, page, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s on the page", pattern)
	}
	return m[1]
}
