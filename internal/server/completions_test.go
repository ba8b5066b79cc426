package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/portaltest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// completionsOf returns the completions on a Northgate person's record, as
// "module date import-id-or-empty".
func completionsOf(t *testing.T, p *portaltest.Portal, staffNumber string) []string {
	t.Helper()
	ctx := context.Background()
	var m struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := p.App.Store.DB.Collection("staff_northgate").FindOne(ctx, bson.D{{Key: "staff_number", Value: staffNumber}}).Decode(&m); err != nil {
		t.Fatalf("find %s: %v", staffNumber, err)
	}
	var book struct {
		Training []struct {
			Module    string    `bson:"module"`
			Completed time.Time `bson:"completed"`
			ImportID  string    `bson:"import_id"`
		} `bson:"training"`
	}
	err := p.App.Store.DB.Collection("records_northgate").FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&book)
	if err != nil && !strings.Contains(err.Error(), "no documents") {
		t.Fatal(err)
	}
	var out []string
	for _, tr := range book.Training {
		out = append(out, tr.Module+" "+tr.Completed.Format(time.DateOnly)+" "+tr.ImportID)
	}
	return out
}

func countImported(list []string, module, date string) int {
	n := 0
	for _, c := range list {
		if strings.HasPrefix(c, module+" "+date+" ") && !strings.HasSuffix(c, " ") {
			n++
		}
	}
	return n
}

var importPath = regexp.MustCompile(`^/partners/northgate/training/imports/[0-9a-f]{24}$`)

// An officer imports a file of completions with some bad rows: every
// problem is listed against its row, only the good rows are added (each
// queued for verification and counted in the person's assessment), and
// importing the same file again adds nothing.
func TestCompletionsImport(t *testing.T) {
	p := portaltest.Start(t)
	officer := signInAs(t, p, "officer@northgate.example")
	file := "staff_number,module,completed_on,provider\r\n" +
		"NG-01002,face_behind_the_case,2026-11-21,Department e-learning\r\n" +
		"ng-01003,vulnerability  AWARENESS,21/11/2026,Home Office\r\n" +
		"NG-01002,vulnerability_awareness,2026-11-21,Home Office\r\n" +
		"NG-99999,vulnerability_awareness,2026-11-21,Home Office\r\n" +
		"BW-01002,vulnerability_awareness,2026-11-21,Home Office\r\n" +
		"NG-01004,Knitting,2026-11-21,Home Office\r\n" +
		"NG-01004,vulnerability_awareness,2099-01-01,Home Office\r\n"
	for _, who := range []string{"NG-01002", "NG-01003"} {
		if got := completionsOf(t, p, who); countImported(got, "vulnerability_awareness", "2026-11-21")+countImported(got, "face_behind_the_case", "2026-11-21") != 0 {
			t.Fatalf("%s already has the test's completions: %v", who, got)
		}
	}
	queued := func() int64 {
		n, err := p.App.Store.DB.Collection("verification_queue").CountDocuments(context.Background(), bson.D{{Key: "partner_id", Value: "northgate"}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	queuedBefore := queued()

	status, body, location := officer.upload("/partners/northgate/training/import", nil, "file", "completions.csv", []byte(file))
	if status != http.StatusSeeOther || !importPath.MatchString(location) {
		t.Fatalf("upload: %d %q\n%s", status, location, body)
	}
	_, check := officer.get(location)
	for _, want := range []string{
		"3 for 2 people", // to add
		"No one on the roster has staff number NG-99999",
		"No one on the roster has staff number BW-01002", // another partner's staff number is not this roster's
		"Course &#34;Knitting&#34; is not recognised",
		"Completed date must be today or in the past",
		"4 rows have problems",
	} {
		if !strings.Contains(check, want) {
			t.Errorf("check page lacks %q", want)
		}
	}
	if got := completionsOf(t, p, "NG-01002"); countImported(got, "vulnerability_awareness", "2026-11-21") != 0 {
		t.Fatal("checking a file changed a record")
	}

	// Rows with problems are only left out when the officer says so.
	officer.refused(location, url.Values{}, "Select ‘import only the rows without problems’")
	if status, _, _ := officer.post(location, url.Values{"only_valid": {"yes"}}); status != http.StatusSeeOther {
		t.Fatalf("confirm: %d", status)
	}
	waitForImport(t, officer.c, officer.base+location)
	_, done := officer.get(location)
	if !strings.Contains(done, "3 completions added") {
		t.Errorf("finished page does not say 3 completions were added")
	}
	importID := location[strings.LastIndex(location, "/")+1:]
	got := completionsOf(t, p, "NG-01002")
	if countImported(got, "vulnerability_awareness", "2026-11-21") != 1 || countImported(got, "face_behind_the_case", "2026-11-21") != 1 ||
		!strings.Contains(strings.Join(got, "\n"), importID) {
		t.Errorf("NG-01002's record after import: %v", got)
	}
	if got := completionsOf(t, p, "NG-01003"); countImported(got, "vulnerability_awareness", "2026-11-21") != 1 {
		t.Errorf("NG-01003's record after import: %v", got)
	}
	if got := completionsOf(t, p, "NG-01004"); countImported(got, "vulnerability_awareness", "2099-01-01") != 0 {
		t.Errorf("a row with a problem was imported: %v", got)
	}
	if n := queued(); n != queuedBefore+3 {
		t.Errorf("verification queue grew by %d, want 3", n-queuedBefore)
	}
	_, record := officer.get("/partners/northgate/staff/" + northgateMemberByNumber(t, p, "NG-01003"))
	if !strings.Contains(record, "Vulnerability awareness") || !strings.Contains(record, "waiting for the department to verify") {
		t.Errorf("NG-01003's record page does not show the imported course awaiting verification")
	}

	// The same file again adds nothing, and says so.
	status, _, again := officer.upload("/partners/northgate/training/import", nil, "file", "completions.csv", []byte(file))
	if status != http.StatusSeeOther {
		t.Fatalf("second upload: %d", status)
	}
	_, check = officer.get(again)
	if !strings.Contains(check, "nothing-to-add") || !strings.Contains(check, "Already recorded") {
		t.Errorf("second check page does not say everything is already recorded")
	}
	officer.refused(again, url.Values{"only_valid": {"yes"}}, "The file has no completions to add")

	// Another partner's officer cannot see this import, whatever the path.
	other := signInAs(t, p, "officer@brightwell.example")
	if status, _ := other.get("/partners/brightwell/training/imports/" + importID); status != http.StatusNotFound {
		t.Errorf("brightwell's officer reading northgate's import through their own partner: %d, want 404", status)
	}
	if status, _ := other.get(location); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Errorf("brightwell's officer reading northgate's import: %d", status)
	}
}

// A file of only bad or foreign rows is refused at the check, and a file
// that is not a completions file is refused before anything is kept.
func TestCompletionsImportRefusesFiles(t *testing.T) {
	p := portaltest.Start(t)
	officer := signInAs(t, p, "officer@northgate.example")
	before, err := p.App.Store.DB.Collection("completion_imports").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, message string }{
		{"roster file", "staff_number,name,email,role_title,category,sites,start_date,leaving_date\r\nNG-1,A,,B,not_customer_facing,,2024-01-01,\r\n",
			"The file is missing the columns module, completed_on and provider"},
		{"empty", "", "The file is empty"},
		{"workbook", "PK\x03\x04\x14\x00", "spreadsheet workbook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := officer.upload("/partners/northgate/training/import", nil, "file", "file.csv", []byte(tc.file))
			if status != http.StatusBadRequest || !strings.Contains(body, "There is a problem") || !strings.Contains(body, tc.message) {
				t.Errorf("%d, want 400 with %q", status, tc.message)
			}
		})
	}
	status, body, _ := officer.upload("/partners/northgate/training/import", nil, "file", "", nil)
	if status != http.StatusBadRequest || !strings.Contains(body, "Select a CSV file") {
		t.Errorf("no file: %d", status)
	}
	after, err := p.App.Store.DB.Collection("completion_imports").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("refused files left %d imports behind", after-before)
	}
}

func northgateMemberByNumber(t *testing.T, p *portaltest.Portal, staffNumber string) string {
	t.Helper()
	var m struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := p.App.Store.DB.Collection("staff_northgate").FindOne(context.Background(), bson.D{{Key: "staff_number", Value: staffNumber}}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.ID.Hex()
}
