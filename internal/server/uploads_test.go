package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/department/safeguarding-portal/internal/evidence"
	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Refusals the uploader reads, spelled out so a change to one is a decision.
const (
	refuseKind     = "The selected file must be a PDF, PNG or JPEG"
	refuseEmpty    = "The selected file is empty"
	refuseTooBig   = "The selected file must be smaller than 2 MB"
	refuseJS       = "The selected file contains active content (JavaScript) and cannot be accepted. Save it as a plain PDF or take a photo of the certificate"
	refuseWebPage  = "The selected file contains hidden content (a web page) and cannot be accepted. Save it again as a PDF, PNG or JPEG"
	refuseArchive  = "The selected file contains hidden content (a compressed folder) and cannot be accepted. Save it again as a PDF, PNG or JPEG"
	refuseDamaged  = "The selected file is not a complete PDF. It may be damaged or only partly downloaded. Save it again as a PDF and upload the new copy"
	refuseSlash    = "The file name must not contain /, \\ or :. Rename the file and upload it again"
	refuseControl  = "The file name must not contain line breaks, tabs or other hidden control characters. Rename the file and upload it again"
	refuseHidden   = "The file name contains hidden right-to-left or formatting characters. Rename the file by typing the name again"
	refuseDotFirst = "The file name must not start with a full stop. Rename the file and upload it again"
)

// How a hostile upload reaches the portal.
const (
	sentByBrowser     = iota // a well-formed form, the file name as a browser (and Go) writes it
	sentWithParam            // a well-formed form whose file part carries the Content-Disposition parameter given
	sentCutShort             // the form cut off in the middle of the file; Content-Length says so
	sentShortOfLength        // the form cut off in the middle of the file; Content-Length promises the rest
	sentRaw                  // the whole form, written to the connection by hand as sentShortOfLength is
)

// evidenceLimitMB is the evidence size limit the test portal is configured
// with: smaller than the 10 MB default so the oversize rows stay quick, and
// not the default so the setting is shown to reach every check.
const evidenceLimitMB = 2

// hostileUpload is one upload and what the portal must make of it.
type hostileUpload struct {
	name     string
	fileName string // the name chosen on the uploader's computer
	param    string // sentWithParam: the file part's filename parameter, as written on the wire
	file     []byte
	sent     int
	// refusal is the message shown against the file field; empty means the
	// upload is accepted.
	refusal string
	// storedName is the display name an accepted upload is kept under.
	storedName string
	// unreadable: the request is not a whole form, so the portal cannot
	// read any answer from it. It must be refused with 400 (never a 5xx
	// or a dropped connection) and leave nothing behind.
	unreadable bool
	// tooLarge: the request is past the body cap; the answer is a 413 page
	// stating the limit.
	tooLarge bool
}

// uploadRoute is one form that takes evidence, and who fills it in.
type uploadRoute struct {
	name      string
	user      contractUser
	path      string
	fields    map[string]string
	fileField string
	list      string   // the record book list a saved form adds to
	saved     string   // where a saved form goes
	kept      []string // what the re-rendered form must still show
}

// uploadTrace counts everything an upload can leave behind.
type uploadTrace struct {
	evidenceFiles, gridFiles, gridChunks, queued int64
	training, vetting                            int
}

// TestHostileUploads sends hostile evidence files through each form that takes
// evidence and checks every one is refused with a GOV.UK error that says what
// to do, the answers typed are kept, and nothing is stored: no file content, no
// file record, no training or vetting record, nothing queued for verification.
func TestHostileUploads(t *testing.T) {
	p := portaltest.StartWith(t, portaltest.Options{Env: map[string]string{"PORTAL_EVIDENCE_MAX_MB": fmt.Sprint(evidenceLimitMB)}})
	staffHex := northgateMember(t, p, "staff@northgate.example")
	staffID, err := bson.ObjectIDFromHex(staffHex)
	if err != nil {
		t.Fatal(err)
	}
	member := signInAs(t, p, "staff@northgate.example")
	officer := signInAs(t, p, "officer@northgate.example")
	record := "/partners/northgate/staff/" + staffHex
	routes := []uploadRoute{
		{
			name: "own training", user: member, path: "/my-record/training/new", fileField: "certificate", list: "training",
			fields: map[string]string{"module": "face_behind_the_case", "completed-day": "2", "completed-month": "11",
				"completed-year": "2025", "provider": "Department e-learning"},
			saved: "/my-record?saved=training",
			kept:  []string{`value="Department e-learning"`, `value="face_behind_the_case" checked`, `value="2025"`},
		},
		{
			name: "officer training", user: officer, path: record + "/training/new", fileField: "certificate", list: "training",
			fields: map[string]string{"module": "face_behind_the_case", "completed-day": "14", "completed-month": "3",
				"completed-year": "2024", "provider": "Northgate Academy"},
			saved: record + "?saved=training",
			kept:  []string{`value="Northgate Academy"`, `value="face_behind_the_case" checked`, `value="2024"`},
		},
		{
			name: "officer vetting", user: officer, path: record + "/vetting/new", fileField: "evidence", list: "vetting",
			fields: map[string]string{"type": "dbs_enhanced", "reference": "001234567890", "issued-day": "3", "issued-month": "4",
				"issued-year": "2025", "update_service": "no", "outcome": "clear"},
			saved: record + "?saved=vetting",
			kept:  []string{`value="001234567890"`, `value="dbs_enhanced" checked`, `value="clear" checked`, `value="2025"`},
		},
	}

	png := certificatePNG(t)
	pdf := plainPDF()
	limit := int64(evidenceLimitMB) << 20
	cases := []hostileUpload{
		// Controls: the forms take a good file, so a refusal below is the file's doing.
		{name: "control: PNG certificate", fileName: "certificate.png", file: png, storedName: "certificate.png"},
		{name: "control: PDF certificate", fileName: "certificate.pdf", file: pdf, storedName: "certificate.pdf"},
		// The raw connection carries the session and the form: the cut-off
		// requests below are refused for being cut off, not for a lost cookie.
		{name: "control: PNG written by hand", fileName: "certificate.png", file: png, sent: sentRaw, storedName: "certificate.png"},

		// Not a PDF, PNG or JPEG, whatever the name says.
		{name: "Windows program named .pdf", fileName: "certificate.pdf", file: append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 256)...), refusal: refuseKind},
		{name: "HTML with script named .png", fileName: "certificate.png", file: []byte("<!DOCTYPE html><html><body><script>fetch('/sessions')</script></body></html>"), refusal: refuseKind},
		{name: "SVG with script named .png", fileName: "certificate.png", file: []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>`), refusal: refuseKind},

		// PDFs that run something when opened.
		{name: "PDF with JavaScript on opening", fileName: "certificate.pdf", file: pdfWith("<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", "<< /S /JavaScript /JS (app.alert(1)) >>"), refusal: refuseJS},
		{name: "PDF with JavaScript in the names tree", fileName: "certificate.pdf", file: pdfWith("<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 6 0 R >> >>", "<< /Names [(a) 7 0 R] >>", "<< /S /JavaScript /JS (app.launchURL('https://evil.example')) >>"), refusal: refuseJS},

		// Polyglots: one file that is also another.
		{name: "PDF that is also a ZIP", fileName: "certificate.pdf", file: append(bytes.Clone(pdf), zipOf(t, "evil.jar", "class payload")...), refusal: refuseArchive},
		{name: "PDF that is also a web page", fileName: "certificate.pdf", file: pdfWith(pdfCatalogObject, "<< /Note (<script>alert(document.cookie)</script>) >>"), refusal: refuseWebPage},
		{name: "web page with a PDF inside", fileName: "certificate.pdf", file: append([]byte("<html><!--"), pdf...), refusal: refuseDamaged},
		{name: "PNG that is also a web page", fileName: "certificate.png", file: append(bytes.Clone(png), "<html><script>alert(1)</script>"...), refusal: refuseWebPage},

		// Size.
		{name: "one byte over the limit", fileName: "certificate.pdf", file: padded(pdf, limit+1), refusal: refuseTooBig},
		// The body cap (limit + 64 KB of form) cuts the request off before
		// the form can be read, so no answer survives: a page says how large
		// a file may be.
		{name: "well over the limit", fileName: "certificate.pdf", file: padded(pdf, limit+256<<10), tooLarge: true},
		{name: "empty file", fileName: "certificate.pdf", file: []byte{}, refusal: refuseEmpty},

		// Requests that stop part way through the file.
		{name: "form cut off mid-file", fileName: "certificate.png", file: png, sent: sentCutShort, unreadable: true},
		{name: "Content-Length longer than the body", fileName: "certificate.png", file: png, sent: sentShortOfLength, unreadable: true},

		// Names. Go's form reader (RFC 7578 section 4.2) keeps only the last
		// element of a path with forward slashes, so the name cannot carry
		// one; backslashes and drive letters reach the portal and are refused.
		{name: "path traversal with slashes", fileName: "../../etc/passwd.png", file: png, storedName: "passwd.png"},
		{name: "path traversal with slashes, RFC 2231", param: `filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.png`, sent: sentWithParam, file: png, storedName: "passwd.png"},
		{name: "path traversal with backslashes", fileName: `..\..\Windows\win.ini.png`, file: png, refusal: refuseSlash},
		{name: "drive letter", fileName: `C:certificate.png`, file: png, refusal: refuseSlash},
		{name: "only dots", param: `filename*=UTF-8''..`, sent: sentWithParam, file: png, refusal: refuseDotFirst},
		{name: "right-to-left override", fileName: "cert\u202egnp.exe", file: png, refusal: refuseHidden},
		{name: "tab", fileName: "cert\tificate.png", file: png, refusal: refuseControl},
		{name: "NUL, RFC 2231", param: `filename*=UTF-8''a%00b.png`, sent: sentWithParam, file: png, refusal: refuseControl},
		{name: "CR LF, RFC 2231", param: `filename*=UTF-8''a%0D%0Ab.png`, sent: sentWithParam, file: png, refusal: refuseControl},
		// A browser (and Go's writer) sends a line break in a name as %0D%0A,
		// which is a name like any other once it arrives.
		{name: "CR LF as a browser sends it", fileName: "a\r\nb.png", file: png, storedName: "a%0D%0Ab.png"},
		// A raw NUL makes the part's header unreadable, and with it the form.
		{name: "raw NUL in the header", param: "filename=\"a\x00b.png\"", sent: sentWithParam, file: png, unreadable: true},
	}

	// Nothing else writes while the rows run, so each row starts from where
	// the one before ended.
	last := traceUploads(t, p, staffID)
	for _, r := range routes {
		for _, tc := range cases {
			t.Run(r.name+"/"+tc.name, func(t *testing.T) {
				r := r
				r.user.t = t // the forms' helpers report to this subtest
				before := last
				status, page, location, sendErr := sendHostile(t, r, tc)
				after := traceUploads(t, p, staffID)
				last = after
				if sendErr != nil {
					t.Errorf("the portal dropped the request instead of answering: %v", sendErr)
				}
				if status >= 500 {
					t.Errorf("answered %d: a hostile upload is the uploader's problem, not the service's\n%s", status, page)
				}
				if tc.refusal == "" && !tc.unreadable && !tc.tooLarge {
					checkKept(t, p, r, tc, staffID, before, after, status, location, page)
					return
				}
				if after != before {
					t.Errorf("a refused upload left something behind:\nbefore %+v\nafter  %+v", before, after)
				}
				if tc.tooLarge {
					want := fmt.Sprintf("The selected file must be smaller than %d MB", limit>>20)
					if status != http.StatusRequestEntityTooLarge || !strings.Contains(page, want) || !strings.Contains(page, "govuk-") {
						t.Errorf("answered %d, want 413 saying %q\n%s", status, want, page)
					}
					return
				}
				if tc.unreadable {
					if status != http.StatusBadRequest || !strings.Contains(page, "govuk-") {
						t.Errorf("answered %d, want a 400 GOV.UK page\n%s", status, page)
					}
					return
				}
				checkRefused(t, r, tc, status, page)
			})
		}
	}
}

// checkRefused: the form comes back with 400, the error summary links the
// message to the file field, and everything typed is still there.
func checkRefused(t *testing.T, r uploadRoute, tc hostileUpload, status int, page string) {
	t.Helper()
	if status != http.StatusBadRequest {
		t.Fatalf("answered %d, want 400 with %q\n%s", status, tc.refusal, page)
	}
	if !strings.Contains(page, "There is a problem") || !strings.Contains(page, "govuk-error-summary") {
		t.Errorf("no GOV.UK error summary\n%s", page)
	}
	if !strings.Contains(page, `<title>Error: `) {
		t.Error("the page title does not start with \"Error: \"")
	}
	msg := html.EscapeString(tc.refusal)
	if !strings.Contains(page, `href="#`+r.fileField+`">`+msg+`</a>`) {
		t.Errorf("the summary does not link %q to #%s\n%s", tc.refusal, r.fileField, page)
	}
	if strings.Count(page, msg) < 2 {
		t.Errorf("%q is not shown at the field as well as in the summary", tc.refusal)
	}
	if !strings.Contains(page, fmt.Sprintf("smaller than %d MB", evidenceLimitMB)) {
		t.Errorf("the form does not give the configured size limit")
	}
	if strings.Contains(page, "Select the file again") {
		t.Error("asked to select the file again, as if another answer were wrong")
	}
	for _, want := range r.kept {
		if !strings.Contains(page, want) {
			t.Errorf("the answer %s was not kept", want)
		}
	}
}

// checkKept: an accepted upload is saved once, under a name with no path
// and no control characters, and queued for verification.
func checkKept(t *testing.T, p *portaltest.Portal, r uploadRoute, tc hostileUpload, staffID bson.ObjectID, before, after uploadTrace, status int, location, page string) {
	t.Helper()
	if status != http.StatusSeeOther || location != r.saved {
		t.Fatalf("answered %d to %q, want 303 to %q\n%s", status, location, r.saved, page)
	}
	want := before
	want.evidenceFiles++
	want.gridFiles++
	want.queued++
	want.gridChunks = after.gridChunks
	if r.list == "training" {
		want.training++
	} else {
		want.vetting++
	}
	if after != want || after.gridChunks <= before.gridChunks {
		t.Errorf("an accepted upload stored\nbefore %+v\nafter  %+v\nwant one file, its chunks, one %s record and one queue entry", before, after, r.list)
	}
	ctx := context.Background()
	var book struct {
		Training []evidenceRef `bson:"training"`
		Vetting  []evidenceRef `bson:"vetting"`
	}
	if err := p.App.Store.DB.Collection("records_northgate").FindOne(ctx, bson.D{{Key: "_id", Value: staffID}}).Decode(&book); err != nil {
		t.Fatal(err)
	}
	list := book.Training
	if r.list == "vetting" {
		list = book.Vetting
	}
	if len(list) == 0 || list[len(list)-1].Evidence == nil {
		t.Fatalf("the new %s record has no evidence", r.list)
	}
	newest := list[len(list)-1]
	var file struct {
		Name        string `bson:"name"`
		ContentType string `bson:"content_type"`
	}
	if err := p.App.Store.DB.Collection("evidence_files").FindOne(ctx, bson.D{{Key: "_id", Value: *newest.Evidence}}).Decode(&file); err != nil {
		t.Fatalf("the record's evidence file: %v", err)
	}
	if file.Name != tc.storedName || newest.EvidenceName != tc.storedName {
		t.Errorf("stored as %q (record says %q), want %q", file.Name, newest.EvidenceName, tc.storedName)
	}
	if strings.ContainsAny(file.Name, `/\:`) || strings.IndexFunc(file.Name, unicode.IsControl) >= 0 {
		t.Errorf("stored name %q carries a path or a control character", file.Name)
	}
	if file.ContentType != evidence.PNG && file.ContentType != evidence.PDF {
		t.Errorf("stored as %q", file.ContentType)
	}
}

type evidenceRef struct {
	Evidence     *bson.ObjectID `bson:"evidence"`
	EvidenceName string         `bson:"evidence_name"`
}

func traceUploads(t *testing.T, p *portaltest.Portal, staffID bson.ObjectID) uploadTrace {
	t.Helper()
	ctx := context.Background()
	db := p.App.Store.DB
	count := func(name string) int64 {
		n, err := db.Collection(name).CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		return n
	}
	tr := uploadTrace{
		evidenceFiles: count("evidence_files"),
		gridFiles:     count("evidence.files"),
		gridChunks:    count("evidence.chunks"),
		queued:        count("verification_queue"),
	}
	var book struct {
		Training []bson.Raw `bson:"training"`
		Vetting  []bson.Raw `bson:"vetting"`
	}
	err := db.Collection("records_northgate").FindOne(ctx, bson.D{{Key: "_id", Value: staffID}}).Decode(&book)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("record book: %v", err)
	}
	tr.training, tr.vetting = len(book.Training), len(book.Vetting)
	return tr
}

// sendHostile posts tc to r's form and returns the answer, or the error if
// the portal gave none.
func sendHostile(t *testing.T, r uploadRoute, tc hostileUpload) (status int, page, location string, err error) {
	t.Helper()
	u := r.user
	if tc.sent == sentByBrowser && int64(len(tc.file)) <= int64(evidenceLimitMB)<<20+1 {
		status, page, location = u.upload(r.path, r.fields, r.fileField, tc.fileName, tc.file)
		return status, page, location, nil
	}
	body, contentType := hostileForm(u.csrf, r.fields, r.fileField, tc)
	switch tc.sent {
	case sentCutShort:
		body = body[:bytes.Index(body, tc.file)+len(tc.file)/2]
	case sentShortOfLength:
		full := len(body)
		body = body[:bytes.Index(body, tc.file)+len(tc.file)/2]
		return rawPost(t, u, r.path, contentType, body, full)
	case sentRaw:
		return rawPost(t, u, r.path, contentType, body, len(body))
	}
	resp, err := u.c.Post(u.base+r.path, contentType, bytes.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	return resp.StatusCode, portaltest.ReadAll(t, resp), resp.Header.Get("Location"), nil
}

// hostileForm is the multipart form a browser would send, except that the
// file part's Content-Disposition is written by hand for sentWithParam.
func hostileForm(csrf string, fields map[string]string, fileField string, tc hostileUpload) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("csrf_token", csrf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	var part interface{ Write([]byte) (int, error) }
	if tc.sent == sentWithParam {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+fileField+`"; `+tc.param)
		h.Set("Content-Type", "application/octet-stream")
		part, _ = w.CreatePart(h)
	} else {
		part, _ = w.CreateFormFile(fileField, tc.fileName)
	}
	_, _ = part.Write(tc.file)
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// rawPost sends a request whose Content-Length promises length bytes. When
// body is shorter it then stops sending (closes its side of the connection),
// as a browser does when the connection drops mid-upload; the portal can still
// answer on the other side. A whole body is sent without closing: Go's server
// takes a closed side for a client gone and cancels the request.
func rawPost(t *testing.T, u contractUser, path, contentType string, body []byte, length int) (int, string, string, error) {
	t.Helper()
	base, err := url.Parse(u.base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", base.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var cookies []string
	for _, c := range u.c.Jar.Cookies(base) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		path, base.Host, strings.Join(cookies, "; "), contentType, length)
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		return 0, "", "", err
	}
	if len(body) < length {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			return 0, "", "", err
		}
	}
	req, _ := http.NewRequest(http.MethodPost, u.base+path, nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0, "", "", err
	}
	return resp.StatusCode, portaltest.ReadAll(t, resp), resp.Header.Get("Location"), nil
}

// Small but real PDFs, made in code so each hostile one says how it was made
// (after internal/evidence's test builders).

const (
	pdfCatalogObject = "<< /Type /Catalog /Pages 2 0 R >>"
	pdfPagesObject   = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
	pdfPageObject    = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
	pdfFontObject    = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	pdfPageText      = "BT /F1 14 Tf 20 100 Td (Face Behind the Case: completed) Tj ET"
)

// pdfOf writes a PDF whose object n+1 is objects[n], with a correct
// cross-reference table and object 1 as the catalog.
func pdfOf(objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// pdfWith is a one-page certificate with catalog as object 1 and more
// objects numbered from 6.
func pdfWith(catalog string, more ...string) []byte {
	contents := fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(pdfPageText), pdfPageText)
	return pdfOf(append([]string{catalog, pdfPagesObject, pdfPageObject, contents, pdfFontObject}, more...)...)
}

func plainPDF() []byte { return pdfWith(pdfCatalogObject) }

// padded is data followed by zeros up to size bytes: only the size matters.
func padded(data []byte, size int64) []byte {
	out := make([]byte, size)
	copy(out, data)
	return out
}

func zipOf(t *testing.T, name, content string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte(content))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
