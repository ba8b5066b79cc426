package rostercsv_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/rostercsv"
)

const header = "staff_number,name,email,role_title,category,sites,start_date,leaving_date"

// today is fixed so date rules do not drift: a year from it is 2027-03-05.
var today = time.Date(2026, 3, 5, 15, 30, 0, 0, time.UTC)

func opts() rostercsv.Options { return rostercsv.Options{Today: today} }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// base is a valid row, by column.
func base() map[string]string {
	return map[string]string{
		"staff_number": "AB123",
		"name":         "Alex Example",
		"email":        "alex@example.com",
		"role_title":   "Interview officer",
		"category":     "customer_facing_adults",
		"sites":        "Lunar House; Croydon",
		"start_date":   "2024-04-01",
		"leaving_date": "",
	}
}

// record encodes values as one CSV record (no line ending), quoting as a
// spreadsheet would.
func record(vals ...string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.Write(vals); err != nil {
		panic(err)
	}
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// row is base with some columns replaced, as a CSV record.
func row(set map[string]string) string {
	v := base()
	for k, s := range set {
		v[k] = s
	}
	cols := rostercsv.Columns()
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = v[c]
	}
	return record(vals...)
}

func file(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

func mustParse(t *testing.T, s string) *rostercsv.Result {
	t.Helper()
	res, err := rostercsv.Parse(strings.NewReader(s), opts())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func fileError(t *testing.T, s string, o rostercsv.Options) *rostercsv.FileError {
	t.Helper()
	res, err := rostercsv.Parse(strings.NewReader(s), o)
	var fe *rostercsv.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("Parse: got %+v, %v; want a *FileError", res, err)
	}
	if res != nil {
		t.Errorf("Parse returned a result with a FileError: %+v", res)
	}
	return fe
}

func TestGoodFiles(t *testing.T) {
	rows := []string{
		header,
		row(nil),
		row(map[string]string{"staff_number": "cd-9/1_x", "name": "Zoë Ñúñez-O'Brien", "email": "",
			"role_title": "Support worker, nights", "category": "Regulated activity with children",
			"sites": "", "start_date": "15/09/2023", "leaving_date": "2025-03-31"}),
		row(map[string]string{"staff_number": "EF7", "email": " Sam.Sample@Example.COM ",
			"category": "NOT CUSTOMER-FACING", "sites": " a ;; b ; ", "start_date": "1/4/2024"}),
	}
	want := []rostercsv.Row{
		{Line: 2, StaffNumber: "AB123", Name: "Alex Example", Email: "alex@example.com", RoleTitle: "Interview officer",
			Category: "customer_facing_adults", Sites: []string{"Lunar House", "Croydon"}, StartDate: date(2024, 4, 1)},
		{Line: 3, StaffNumber: "cd-9/1_x", Name: "Zoë Ñúñez-O'Brien", Email: "", RoleTitle: "Support worker, nights",
			Category: "regulated_activity_children", Sites: []string{}, StartDate: date(2023, 9, 15),
			LeavingDate: ptr(date(2025, 3, 31))},
		{Line: 4, StaffNumber: "EF7", Name: "Alex Example", Email: "sam.sample@example.com", RoleTitle: "Interview officer",
			Category: "not_customer_facing", Sites: []string{"a", "b"}, StartDate: date(2024, 4, 1)},
	}
	crlf := strings.Join(rows, "\r\n") + "\r\n"
	lf := strings.Join(rows, "\n")
	for name, s := range map[string]string{
		"CRLF":               crlf,
		"BOM and CRLF":       "\ufeff" + crlf,
		"LF, no final break": lf,
		"BOM and LF":         "\ufeff" + lf + "\n",
		"headings shuffled, spaced and capitalised": strings.Join([]string{
			" Leaving_Date ,START_DATE,sites,Category,role_title,EMAIL,Name,staff_number",
			record("", "2024-04-01", "Lunar House; Croydon", "customer_facing_adults", "Interview officer",
				"alex@example.com", "Alex Example", "AB123"),
		}, "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			res := mustParse(t, s)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %+v", res.Errors)
			}
			w := want
			if strings.HasPrefix(name, "headings") {
				w = want[:1]
			}
			if !reflect.DeepEqual(res.Rows, w) {
				t.Errorf("rows:\n got %+v\nwant %+v", res.Rows, w)
			}
			if res.Total != len(w) {
				t.Errorf("Total = %d, want %d", res.Total, len(w))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRules changes one value of a valid row and checks the one problem it
// causes, or the value it parses to.
func TestRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	sites := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = "Site " + strconv.Itoa(i)
		}
		return strings.Join(s, ";")
	}
	tests := []struct {
		name    string
		set     map[string]string
		col     string // column of the one expected problem; "" means the row is valid
		msg     string // part of the expected message
		checkOK func(t *testing.T, r rostercsv.Row)
	}{
		// staff_number
		{name: "staff number trimmed", set: map[string]string{"staff_number": "  AB/12_3-x  "},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.StaffNumber, "AB/12_3-x") }},
		{name: "staff number 32 chars", set: map[string]string{"staff_number": long(32)}},
		{name: "staff number missing", set: map[string]string{"staff_number": " "}, col: "staff_number", msg: "Enter a staff number"},
		{name: "staff number 33 chars", set: map[string]string{"staff_number": long(33)}, col: "staff_number", msg: "32 characters or fewer"},
		{name: "staff number space", set: map[string]string{"staff_number": "AB 12"}, col: "staff_number", msg: "must only include letters A to Z"},
		{name: "staff number hash", set: map[string]string{"staff_number": "AB#12"}, col: "staff_number", msg: "must only include"},
		{name: "staff number accented", set: map[string]string{"staff_number": "ÉB12"}, col: "staff_number", msg: "must only include"},
		{name: "staff number leading hyphen", set: map[string]string{"staff_number": "-A1"}, col: "staff_number", msg: "must start with a letter or number"},
		{name: "staff number 1001 chars", set: map[string]string{"staff_number": long(1001)}, col: "staff_number", msg: "32 characters or fewer"},

		// name
		{name: "name unicode", set: map[string]string{"name": "  Siobhán Ní Bhriain  "},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Name, "Siobhán Ní Bhriain") }},
		{name: "name with comma and quotes", set: map[string]string{"name": `Smith, "Jo"`},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Name, `Smith, "Jo"`) }},
		{name: "name 200 chars", set: map[string]string{"name": strings.Repeat("é", 200)}},
		{name: "name missing", set: map[string]string{"name": ""}, col: "name", msg: "Enter a name"},
		{name: "name 201 chars", set: map[string]string{"name": strings.Repeat("é", 201)}, col: "name", msg: "Name must be 200 characters or fewer"},
		{name: "name over field cap", set: map[string]string{"name": long(5000)}, col: "name", msg: "Name must be 200 characters or fewer"},
		{name: "name =", set: map[string]string{"name": "=HYPERLINK(\"http://evil.example\")"}, col: "name", msg: "must not start with =, +, -, @"},
		{name: "name +", set: map[string]string{"name": "+44 20 7946 0000"}, col: "name", msg: "must not start with =, +, -, @"},
		{name: "name -", set: map[string]string{"name": "-2+3"}, col: "name", msg: "must not start with =, +, -, @"},
		{name: "name @", set: map[string]string{"name": "@SUM(A1)"}, col: "name", msg: "must not start with =, +, -, @"},
		{name: "name = after spaces", set: map[string]string{"name": "  =1+1"}, col: "name", msg: "must not start with =, +, -, @"},
		{name: "name leading tab", set: map[string]string{"name": "\t=1+1"}, col: "name", msg: "control characters"},
		{name: "name leading CR", set: map[string]string{"name": "\r=1+1"}, col: "name", msg: "control characters"},
		{name: "name tab inside", set: map[string]string{"name": "Alex\tExample"}, col: "name", msg: "Name must not contain line breaks, tabs or other hidden control characters"},
		{name: "name line break", set: map[string]string{"name": "Alex\nExample"}, col: "name", msg: "line breaks"},
		{name: "name NUL", set: map[string]string{"name": "Alex\x00Example"}, col: "name", msg: "control characters"},
		{name: "name C1 control", set: map[string]string{"name": "Alex\u0085Example"}, col: "name", msg: "control characters"},
		{name: "name line separator", set: map[string]string{"name": "Alex\u2028Example"}, col: "name", msg: "control characters"},
		{name: "name RLO", set: map[string]string{"name": "Alex \u202eelpmaxE"}, col: "name", msg: "Name contains hidden right-to-left or formatting characters"},
		{name: "name RLI", set: map[string]string{"name": "Alex\u2067x\u2069"}, col: "name", msg: "hidden right-to-left"},
		{name: "name LRM", set: map[string]string{"name": "Alex\u200e"}, col: "name", msg: "hidden right-to-left"},
		{name: "name ALM", set: map[string]string{"name": "Alex\u061c"}, col: "name", msg: "hidden right-to-left"},
		{name: "name zero width space", set: map[string]string{"name": "Al\u200bex"}, col: "name", msg: "hidden right-to-left or formatting"},
		{name: "name Windows-1252", set: map[string]string{"name": "Zo\xeb"}, col: "name", msg: "Name contains characters that could not be read"},

		// email
		{name: "email absent", set: map[string]string{"email": ""},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Email, "") }},
		{name: "email lower-cased", set: map[string]string{"email": "Alex.Example+roster@Example.CO.UK"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Email, "alex.example+roster@example.co.uk") }},
		{name: "email no at", set: map[string]string{"email": "alex.example.com"}, col: "email", msg: "correct format, like name@example.com"},
		{name: "email display name", set: map[string]string{"email": "Alex <alex@example.com>"}, col: "email", msg: "correct format"},
		{name: "email comment", set: map[string]string{"email": "alex@example.com (Alex)"}, col: "email", msg: "correct format"},
		{name: "email two addresses", set: map[string]string{"email": "a@example.com; b@example.com"}, col: "email", msg: "correct format"},
		{name: "email no dot", set: map[string]string{"email": "alex@localhost"}, col: "email", msg: "correct format"},
		{name: "email IP literal", set: map[string]string{"email": "alex@[192.0.2.1]"}, col: "email", msg: "correct format"},
		{name: "email formula", set: map[string]string{"email": "=1+1@example.com"}, col: "email", msg: "must not start with =, +, -, @"},
		{name: "email too long", set: map[string]string{"email": long(250) + "@example.com"}, col: "email", msg: "254 characters or fewer"},

		// role_title
		{name: "role missing", set: map[string]string{"role_title": ""}, col: "role_title", msg: "Enter a role title"},
		{name: "role 201", set: map[string]string{"role_title": long(201)}, col: "role_title", msg: "Role title must be 200 characters or fewer"},
		{name: "role formula", set: map[string]string{"role_title": "@cmd"}, col: "role_title", msg: "Role title must not start with =, +, -, @"},
		{name: "role RLO", set: map[string]string{"role_title": "\u202eofficer"}, col: "role_title", msg: "hidden right-to-left"},

		// category
		{name: "category children code", set: map[string]string{"category": "regulated_activity_children"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Category, "regulated_activity_children") }},
		{name: "category not facing code", set: map[string]string{"category": "not_customer_facing"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Category, "not_customer_facing") }},
		{name: "category code upper case", set: map[string]string{"category": "CUSTOMER_FACING_ADULTS"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Category, "customer_facing_adults") }},
		{name: "category readable adults", set: map[string]string{"category": "customer-facing with adults"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Category, "customer_facing_adults") }},
		{name: "category readable children", set: map[string]string{"category": " Regulated Activity With Children "},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Category, "regulated_activity_children") }},
		{name: "category readable not facing", set: map[string]string{"category": "Not customer facing"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, r.Category, "not_customer_facing") }},
		{name: "category missing", set: map[string]string{"category": ""}, col: "category", msg: "Enter a category"},
		{name: "category unknown", set: map[string]string{"category": "adults"}, col: "category",
			msg: `Category must be customer_facing_adults, regulated_activity_children or not_customer_facing (or "Customer-facing with adults"`},

		// sites
		{name: "sites absent", set: map[string]string{"sites": ""},
			checkOK: func(t *testing.T, r rostercsv.Row) {
				if r.Sites == nil || len(r.Sites) != 0 {
					t.Errorf("Sites = %#v, want empty and not nil", r.Sites)
				}
			}},
		{name: "sites trimmed, empties dropped", set: map[string]string{"sites": " ; Lunar House ;;Croydon ; "},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqs(t, r.Sites, []string{"Lunar House", "Croydon"}) }},
		{name: "sites 50", set: map[string]string{"sites": sites(50)},
			checkOK: func(t *testing.T, r rostercsv.Row) { eq(t, len(r.Sites), 50) }},
		{name: "sites 51", set: map[string]string{"sites": sites(51)}, col: "sites", msg: "Sites can list up to 50 sites. This row lists 51"},
		{name: "site 200 chars", set: map[string]string{"sites": "a;" + long(200)}},
		{name: "site 201 chars", set: map[string]string{"sites": "a;" + long(201)}, col: "sites", msg: "Each site must be 200 characters or fewer"},
		{name: "sites over 1,000 chars", set: map[string]string{"sites": strings.Repeat(long(99)+";", 11)}, col: "sites", msg: "Sites must be 1,000 characters or fewer in total"},
		{name: "site formula first", set: map[string]string{"sites": "=cmd|' /C calc'!A0"}, col: "sites", msg: "Each site must not start with =, +, -, @"},
		{name: "site formula later", set: map[string]string{"sites": "Croydon; -1+1"}, col: "sites", msg: "must not start with =, +, -, @"},
		{name: "sites tab", set: map[string]string{"sites": "a\tb"}, col: "sites", msg: "control characters"},

		// start_date
		{name: "start ISO", set: map[string]string{"start_date": " 2024-02-29 "},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqt(t, r.StartDate, date(2024, 2, 29)) }},
		{name: "start UK", set: map[string]string{"start_date": "04/01/2025"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqt(t, r.StartDate, date(2025, 1, 4)) }},
		{name: "start UK short", set: map[string]string{"start_date": "4/1/2025"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqt(t, r.StartDate, date(2025, 1, 4)) }},
		{name: "start a year ahead", set: map[string]string{"start_date": "2027-03-05"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqt(t, r.StartDate, date(2027, 3, 5)) }},
		{name: "start missing", set: map[string]string{"start_date": ""}, col: "start_date", msg: "Enter a start date"},
		{name: "start over a year ahead", set: map[string]string{"start_date": "06/03/2027"}, col: "start_date",
			msg: "Start date must be no more than a year from today (2027-03-05 or earlier)"},
		{name: "start 30 February", set: map[string]string{"start_date": "2024-02-30"}, col: "start_date", msg: "Start date must be a real date, like 2025-04-01"},
		{name: "start 29/02 not leap", set: map[string]string{"start_date": "29/02/2023"}, col: "start_date", msg: "must be a real date"},
		{name: "start month 13", set: map[string]string{"start_date": "2024-13-01"}, col: "start_date", msg: "must be a real date"},
		{name: "start day 0", set: map[string]string{"start_date": "0/1/2024"}, col: "start_date", msg: "must be a real date"},
		{name: "start slashes ISO order", set: map[string]string{"start_date": "2024/04/01"}, col: "start_date", msg: "format YYYY-MM-DD or DD/MM/YYYY"},
		{name: "start dashes UK order", set: map[string]string{"start_date": "01-04-2024"}, col: "start_date", msg: "format YYYY-MM-DD or DD/MM/YYYY"},
		{name: "start two-digit year", set: map[string]string{"start_date": "01/04/24"}, col: "start_date", msg: "format"},
		{name: "start single digits ISO", set: map[string]string{"start_date": "2024-4-1"}, col: "start_date", msg: "format"},
		{name: "start with time", set: map[string]string{"start_date": "2024-04-01T09:00"}, col: "start_date", msg: "format"},
		{name: "start words", set: map[string]string{"start_date": "1 April 2024"}, col: "start_date", msg: "format"},
		{name: "start year 0225", set: map[string]string{"start_date": "0225-04-01"}, col: "start_date", msg: "Start date must be in 1900 or later"},
		{name: "start formula", set: map[string]string{"start_date": "=TODAY()"}, col: "start_date", msg: "format"},
		{name: "start RLO", set: map[string]string{"start_date": "\u202e2024-04-01"}, col: "start_date", msg: "Start date contains hidden right-to-left"},

		// leaving_date
		{name: "leaving same day", set: map[string]string{"leaving_date": "01/04/2024"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqt(t, *r.LeavingDate, date(2024, 4, 1)) }},
		{name: "leaving far ahead", set: map[string]string{"leaving_date": "2030-01-31"},
			checkOK: func(t *testing.T, r rostercsv.Row) { eqt(t, *r.LeavingDate, date(2030, 1, 31)) }},
		{name: "leaving blank", set: map[string]string{"leaving_date": "  "},
			checkOK: func(t *testing.T, r rostercsv.Row) {
				if r.LeavingDate != nil {
					t.Errorf("LeavingDate = %v, want nil", r.LeavingDate)
				}
			}},
		{name: "leaving before start", set: map[string]string{"leaving_date": "2024-03-31"}, col: "leaving_date",
			msg: "Leaving date must be the same as or after the start date"},
		{name: "leaving not real", set: map[string]string{"leaving_date": "31/04/2025"}, col: "leaving_date", msg: "Leaving date must be a real date"},
		{name: "leaving format", set: map[string]string{"leaving_date": "soon"}, col: "leaving_date", msg: "Leaving date must be a date in the format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustParse(t, file(header, row(tc.set)))
			if res.Total != 1 {
				t.Errorf("Total = %d, want 1", res.Total)
			}
			if tc.col == "" && tc.msg == "" {
				if len(res.Errors) > 0 || len(res.Rows) != 1 {
					t.Fatalf("want one valid row; got rows %+v, errors %+v", res.Rows, res.Errors)
				}
				if tc.checkOK != nil {
					tc.checkOK(t, res.Rows[0])
				}
				return
			}
			if len(res.Rows) != 0 || len(res.Errors) != 1 {
				t.Fatalf("want one error; got rows %+v, errors %+v", res.Rows, res.Errors)
			}
			e := res.Errors[0]
			if e.Line != 2 || e.Column != tc.col || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error = %+v; want line 2, column %q, message containing %q", e, tc.col, tc.msg)
			}
		})
	}
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func eqs(t *testing.T, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func eqt(t *testing.T, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("got %v, want %v (UTC midnight)", got, want)
	}
}

func TestSeveralProblemsInOneRow(t *testing.T) {
	res := mustParse(t, file(header,
		row(map[string]string{"name": "", "category": "x", "start_date": "2024-02-30", "staff_number": "A B"}),
		row(map[string]string{"staff_number": "OK1"}),
	))
	var got []string
	for _, e := range res.Errors {
		if e.Line != 2 || e.StaffNumber != "A B" {
			t.Errorf("error %+v: want line 2, staff number %q", e, "A B")
		}
		got = append(got, e.Column)
	}
	// In the file's column order, so they read left to right like the file.
	eqs(t, got, []string{"staff_number", "name", "category", "start_date"})
	if len(res.Rows) != 1 || res.Rows[0].Line != 3 || res.Total != 2 {
		t.Errorf("rows %+v, total %d; want the row on line 3 of 2", res.Rows, res.Total)
	}
}

func TestDuplicateStaffNumbers(t *testing.T) {
	res := mustParse(t, file(header,
		row(map[string]string{"staff_number": "AB123"}),
		row(map[string]string{"staff_number": "XY9"}),
		row(map[string]string{"staff_number": "ab123"}),
		row(map[string]string{"staff_number": " AB123 ", "start_date": "bad"}),
		row(map[string]string{"staff_number": "XY9"}),
	))
	want := []rostercsv.RowError{
		{Line: 4, StaffNumber: "ab123", Column: "staff_number", Message: "Staff number ab123 is also used on line 2. Each person must have their own staff number"},
		{Line: 5, StaffNumber: "AB123", Column: "staff_number", Message: "Staff number AB123 is also used on line 2. Each person must have their own staff number"},
		{Line: 5, StaffNumber: "AB123", Column: "start_date", Message: "Start date must be a date in the format YYYY-MM-DD or DD/MM/YYYY, like 2025-04-01"},
		{Line: 6, StaffNumber: "XY9", Column: "staff_number", Message: "Staff number XY9 is also used on line 3. Each person must have their own staff number"},
	}
	if !reflect.DeepEqual(res.Errors, want) {
		t.Errorf("errors:\n got %+v\nwant %+v", res.Errors, want)
	}
	if len(res.Rows) != 2 || res.Rows[0].Line != 2 || res.Rows[1].Line != 3 {
		t.Errorf("rows = %+v; want the first AB123 and XY9 only", res.Rows)
	}
}

func TestFileErrors(t *testing.T) {
	tiny := opts()
	tiny.MaxBytes = 200
	few := opts()
	few.MaxRows = 3
	good := row(nil)
	rows := func(n int) []string {
		out := []string{header}
		for i := range n {
			out = append(out, row(map[string]string{"staff_number": "S" + strconv.Itoa(i)}))
		}
		return out
	}
	tests := []struct {
		name string
		in   string
		opts rostercsv.Options
		want []string // parts of the message
	}{
		{"empty", "", opts(), []string{"The file is empty"}},
		{"only a byte order mark", "\ufeff", opts(), []string{"The file is empty"}},
		{"only line breaks", "\r\n\n\r\n", opts(), []string{"The file is empty"}},
		{"header only", header + "\r\n", opts(), []string{"The file has no staff rows"}},
		{"header only with BOM, no line break", "\ufeff" + header, opts(), []string{"The file has no staff rows"}},
		{"header and blank rows", file(header, ",,,,,,,", "", " , ,,,,,,"), opts(), []string{"The file has no staff rows"}},
		{"semicolons", file(strings.ReplaceAll(header, ",", ";"), strings.ReplaceAll(good, ",", ";")), opts(),
			[]string{"The file must be comma-separated", "semicolons"}},
		{"tabs", file(strings.ReplaceAll(header, ",", "\t"), strings.ReplaceAll(good, ",", "\t")), opts(),
			[]string{"The file must be comma-separated", "tabs"}},
		{"missing columns", file("staff_number,name,category", "A1,Alex,not_customer_facing"), opts(),
			[]string{"The file is missing the columns role_title and start_date."}},
		{"missing one column", file(strings.Replace(header, "name,", "", 1), good), opts(),
			[]string{"The file is missing the column name."}},
		{"unknown column", file(header+",notes", good+",x"), opts(),
			[]string{`The file has a column that is not recognised: "notes".`, "The column headings must be staff_number, name,"}},
		{"typo with suggestion", file(strings.Replace(header, "staff_number", "Staff Number", 1), good), opts(),
			[]string{"The file is missing the column staff_number.", `"Staff Number" (did you mean staff_number?)`}},
		{"several unknown", file(strings.Replace(header, "start_date", " Start-Date ", 1)+",notes", good+","), opts(),
			[]string{"The file is missing the column start_date.",
				`columns that are not recognised: "Start-Date" (did you mean start_date?), "notes".`}},
		{"no suggestion of a column already there", file(header+",Start Date", good+","), opts(),
			[]string{`The file has a column that is not recognised: "Start Date".`}},
		{"status column from an export", file(header+",status", good+",active"), opts(),
			[]string{`"status" (this column is only in exported files: delete it)`}},
		{"stray semicolon in one heading", file(strings.Replace(header, "sites", "sites;", 1), good), opts(),
			[]string{`The file has a column that is not recognised: "sites;".`}},
		{"many unknown headings", file(header+strings.Repeat(",x", 12), good+strings.Repeat(",", 12)), opts(),
			[]string{`"x", "x", and 2 more.`}},
		{"duplicate heading", file(header+",Name", good+",x"), opts(), []string{"The column name appears more than once."}},
		{"blank heading", file(header+",", good+","), opts(), []string{"Column I has no heading."}},
		{"no heading row", file(row(map[string]string{"sites": ""}), good), opts(), []string{"The first line of the file must be the column headings."}},
		{"heading with hidden character", file(strings.Replace(header, "name", "na\u202eme", 1), good), opts(),
			[]string{"The column headings on the first line could not be read"}},
		{"heading with bad quote", file(`staff"number`+header[12:], good), opts(),
			[]string{"The column headings on the first line could not be read"}},
		{"UTF-16 with BOM", "\xff\xfes\x00t\x00", opts(), []string{"Unicode text (UTF-16)"}},
		{"UTF-16 without BOM", utf16ish(file(header, good)), opts(), []string{"could not be read", "CSV UTF-8"}},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", opts(), []string{"spreadsheet workbook, not a CSV file"}},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", opts(), []string{"spreadsheet workbook"}},
		{"NUL-filled binary", strings.Repeat("\x00", 100), opts(), []string{"could not be read"}},
		{"too big", file(header, good, good), tiny, []string{"The file must be smaller than 200 bytes"}},
		{"too big by default", "", opts(), nil}, // replaced below
		{"too many rows", file(rows(4)...), few, []string{"The file has more than 3 staff rows. A roster file can have at most 3"}},
		{"heading line too long", header + strings.Repeat("x", 100_000) + "\r\n" + good, opts(),
			[]string{"The first line of the file is too long"}},
		{"heading quote never closed", "\"" + header + "\r\n" + good, opts(),
			[]string{"The column headings on the first line could not be read"}},
	}
	for _, tc := range tests {
		if tc.name == "too big by default" {
			// One byte over 20 MB. Blank lines are not rows, so this is
			// not stopped by the row limit first.
			in := file(header, good)
			tc.in = in + strings.Repeat("\n", rostercsv.DefaultMaxBytes+1-len(in))
			tc.want = []string{"The file must be smaller than 20 MB"}
		}
		t.Run(tc.name, func(t *testing.T) {
			fe := fileError(t, tc.in, tc.opts)
			for _, w := range tc.want {
				if !strings.Contains(fe.Message, w) {
					t.Errorf("message %q\ndoes not contain %q", fe.Message, w)
				}
			}
		})
	}
}

// utf16ish is what a UTF-16LE file looks like without its byte order mark.
func utf16ish(s string) string {
	var b strings.Builder
	for i := range len(s) {
		b.WriteByte(s[i])
		b.WriteByte(0)
	}
	return b.String()
}

func TestLimitsAreInclusive(t *testing.T) {
	in := file(header, row(map[string]string{"staff_number": "A1"}), row(map[string]string{"staff_number": "A2"}))
	o := opts()
	o.MaxBytes = int64(len(in))
	o.MaxRows = 2
	res, err := rostercsv.Parse(strings.NewReader(in), o)
	if err != nil || len(res.Rows) != 2 {
		t.Fatalf("a file exactly at both limits: %+v, %v", res, err)
	}
}

func TestHostileRows(t *testing.T) {
	good := func(sn string) string { return row(map[string]string{"staff_number": sn}) }
	tests := []struct {
		name   string
		in     string
		total  int
		rows   []int // lines of the valid rows
		errors []rostercsv.RowError
	}{
		{
			name:  "too few values",
			in:    file(header, "A1,Alex,,Officer,not_customer_facing", good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1",
				Message: "This row has 5 values but there are 8 column headings. Check for missing or extra commas. A value that contains a comma must be in double quotes (\")"}},
		},
		{
			name:  "too many values (unquoted comma)",
			in:    file(header, good("A1")+",extra", good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1",
				Message: "This row has 9 values but there are 8 column headings. Check for missing or extra commas. A value that contains a comma must be in double quotes (\")"}},
		},
		{
			name:  "bare quote",
			in:    file(header, `A1,Alex "Al" Example,,Officer,not_customer_facing,,2024-04-01,`, good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1",
				Message: "This row could not be read because a quote mark (\") is in the wrong place. Remove the quote mark, or save the file again from your spreadsheet program"}},
		},
		{
			name:  "text after a closing quote",
			in:    file(header, `A1,"Alex" Example,,Officer,not_customer_facing,,2024-04-01,`, good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1",
				Message: "This row could not be read because a quote mark (\") is in the wrong place. Remove the quote mark, or save the file again from your spreadsheet program"}},
		},
		{
			name: "quote never closed",
			in:   file(header, good("A1"), `A2,"Alex,,Officer,not_customer_facing,,2024-04-01,`, good("A3"), good("A4")),
			// csv reads the rest of the file as one value, so A3 and A4 are not read.
			total: 2, rows: []int{2},
			errors: []rostercsv.RowError{{Line: 3, StaffNumber: "A2",
				Message: "This row has a quote mark (\") that is never closed, so lines 3 to 5 could not be read. Remove the quote mark or add the missing one"}},
		},
		{
			name:  "row longer than 10,000 characters",
			in:    file(header, "A1"+strings.Repeat(","+strings.Repeat("x", 999), 11), good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1",
				Message: "This row is longer than 10,000 characters. Check it for a missing closing quote mark (\")"}},
		},
		{
			name: "value with line breaks keeps later line numbers right",
			in:   file(header, row(map[string]string{"staff_number": "A1", "name": "Alex\r\nExample\r\n"}), good("A2")),
			// The first record spans lines 2 to 4.
			total: 2, rows: []int{5},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1", Column: "name",
				Message: "Name must not contain line breaks, tabs or other hidden control characters"}},
		},
		{
			name:  "NUL bytes",
			in:    file(header, good("A1\x00"), good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "A1", Column: "staff_number",
				Message: "Staff number must not contain line breaks, tabs or other hidden control characters"}},
		},
		{
			name:  "invalid UTF-8 (a Windows-1252 export)",
			in:    file(header, row(map[string]string{"staff_number": "A1", "name": "Zo\xeb Smith", "role_title": "Caf\xe9 lead"}), good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{
				{Line: 2, StaffNumber: "A1", Column: "name", Message: `Name contains characters that could not be read. Save the file as "CSV UTF-8 (Comma delimited)" and try again`},
				{Line: 2, StaffNumber: "A1", Column: "role_title", Message: `Role title contains characters that could not be read. Save the file as "CSV UTF-8 (Comma delimited)" and try again`},
			},
		},
		{
			name:  "hidden characters in the staff number are not shown back",
			in:    file(header, good("AB\u202e321"), good("A2")),
			total: 2, rows: []int{3},
			errors: []rostercsv.RowError{{Line: 2, StaffNumber: "AB321", Column: "staff_number",
				Message: "Staff number contains hidden right-to-left or formatting characters. Type it again rather than copying and pasting it"}},
		},
		{
			name:  "blank rows are skipped",
			in:    file(header, ",,,,,,,", good("A1"), "", " , , ,,,,,", good("A2")),
			total: 2, rows: []int{3, 6},
		},
		{
			name:  "Excel's trailing blank row with fewer commas",
			in:    file(header, good("A1"), ",,"),
			total: 1, rows: []int{2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustParse(t, tc.in)
			var lines []int
			for _, r := range res.Rows {
				lines = append(lines, r.Line)
			}
			if !reflect.DeepEqual(lines, tc.rows) {
				t.Errorf("valid rows on lines %v, want %v", lines, tc.rows)
			}
			if !reflect.DeepEqual(res.Errors, tc.errors) {
				t.Errorf("errors:\n got %+v\nwant %+v", res.Errors, tc.errors)
			}
			if res.Total != tc.total {
				t.Errorf("Total = %d, want %d", res.Total, tc.total)
			}
		})
	}
}

// TestTenMegabyteLine checks one enormous line costs neither the rows after
// it nor memory in proportion to its size.
func TestTenMegabyteLine(t *testing.T) {
	huge := strings.Repeat("x", 10<<20)
	for name, line := range map[string]string{
		"unquoted":         "A1,Alex," + huge + ",Officer,not_customer_facing,,2024-04-01,",
		"quoted":           `A1,"` + huge + `",,Officer,not_customer_facing,,2024-04-01,`,
		"quoted, newlines": `A1,"` + strings.Repeat(strings.Repeat("x", 99)+"\n", 100_000) + `",,Officer,not_customer_facing,,2024-04-01,`,
		"no line breaks":   "A1," + huge,
	} {
		t.Run(name, func(t *testing.T) {
			in := []byte(file(header, line, row(map[string]string{"staff_number": "A2"})))
			lines := bytes.Count([]byte(line), []byte("\n"))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, err := rostercsv.Parse(bytes.NewReader(in), opts())
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
				t.Errorf("Parse allocated %d bytes for a %d-byte file; want under 2 MB", alloc, len(in))
			}
			want := []rostercsv.RowError{{Line: 2, StaffNumber: "A1",
				Message: "This row is longer than 10,000 characters. Check it for a missing closing quote mark (\")"}}
			if !reflect.DeepEqual(res.Errors, want) {
				t.Errorf("errors = %+v, want %+v", res.Errors, want)
			}
			if len(res.Rows) != 1 || res.Rows[0].StaffNumber != "A2" || res.Rows[0].Line != 3+lines || res.Total != 2 {
				t.Errorf("rows = %+v, total %d; want A2 on line %d of 2", res.Rows, res.Total, 3+lines)
			}
		})
	}
}

func TestTenMegabytesInAnUnclosedQuote(t *testing.T) {
	in := file(header, row(map[string]string{"staff_number": "A1"}),
		`A2,"Alex`+strings.Repeat(",x", 5<<20), row(map[string]string{"staff_number": "A3"}))
	res := mustParse(t, in)
	want := []rostercsv.RowError{{Line: 3, StaffNumber: "A2",
		Message: "This row has a quote mark (\") that is never closed, so lines 3 to 4 could not be read. Remove the quote mark or add the missing one"}}
	if !reflect.DeepEqual(res.Errors, want) || len(res.Rows) != 1 {
		t.Errorf("rows %+v, errors %+v; want one row and %+v", res.Rows, res.Errors, want)
	}
}

// endless never ends, like a stalled or malicious upload.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "a,"[i%2]
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadsAtMostMaxBytesPlusOne(t *testing.T) {
	src := &endless{}
	o := opts()
	o.MaxBytes = 1 << 20
	_, err := rostercsv.Parse(io.MultiReader(strings.NewReader(header+"\n"), src), o)
	var fe *rostercsv.FileError
	if !errors.As(err, &fe) || fe.Message != "The file must be smaller than 1 MB" {
		t.Fatalf("err = %v; want the size FileError", err)
	}
	if read := src.n + int64(len(header)+1); read > o.MaxBytes+1 {
		t.Errorf("read %d bytes; want at most %d", read, o.MaxBytes+1)
	}
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

func TestReadFailureIsNotAFileError(t *testing.T) {
	boom := errors.New("connection reset")
	for name, r := range map[string]io.Reader{
		"at once":   failing{boom},
		"mid-file":  io.MultiReader(strings.NewReader(file(header, row(nil))), failing{boom}),
		"mid-quote": io.MultiReader(strings.NewReader(header+"\nA1,\"Al"), failing{boom}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := rostercsv.Parse(r, opts())
			var fe *rostercsv.FileError
			if !errors.Is(err, boom) || errors.As(err, &fe) {
				t.Errorf("err = %v; want it to wrap %v and not be a FileError", err, boom)
			}
		})
	}
}

func TestTodayDefaultsToNow(t *testing.T) {
	soon := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	late := time.Now().AddDate(1, 0, 2).Format(time.DateOnly)
	res, err := rostercsv.Parse(strings.NewReader(file(header,
		row(map[string]string{"staff_number": "A1", "start_date": soon}),
		row(map[string]string{"staff_number": "A2", "start_date": late}))), rostercsv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || len(res.Errors) != 1 || res.Errors[0].Column != "start_date" {
		t.Errorf("rows %+v, errors %+v; want %s accepted and %s refused", res.Rows, res.Errors, soon, late)
	}
}

func TestTemplate(t *testing.T) {
	tmpl := rostercsv.Template()
	if bytes.HasPrefix(tmpl, []byte("\ufeff")) {
		t.Error("template starts with a byte order mark")
	}
	if n, crlf := bytes.Count(tmpl, []byte("\n")), bytes.Count(tmpl, []byte("\r\n")); n != 3 || crlf != 3 {
		t.Errorf("template has %d line breaks, %d of them CRLF; want 3 CRLF", n, crlf)
	}
	if first, _, _ := strings.Cut(string(tmpl), "\r\n"); first != strings.Join(rostercsv.Columns(), ",") {
		t.Errorf("template header = %q", first)
	}
	res, err := rostercsv.Parse(bytes.NewReader(tmpl), rostercsv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || len(res.Errors) != 0 || res.Total != 2 {
		t.Errorf("template parses to rows %+v, errors %+v", res.Rows, res.Errors)
	}
}

func TestColumns(t *testing.T) {
	want := []string{"staff_number", "name", "email", "role_title", "category", "sites", "start_date", "leaving_date"}
	got := rostercsv.Columns()
	eqs(t, got, want)
	got[0] = "changed"
	eqs(t, rostercsv.Columns(), want)
}

// TestFixtures runs the files under testdata, which stand in for real HR
// exports.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file       string
		rows       int
		errs       int
		fileErrMsg string
	}{
		{file: "excel-bom-crlf.csv", rows: 3},
		{file: "hr-export-lf.csv", rows: 3},
		{file: "semicolon.csv", fileErrMsg: "The file must be comma-separated"},
		{file: "missing-columns.csv", fileErrMsg: "The file is missing the columns role_title, category and start_date."},
		{file: "windows-1252.csv", rows: 1, errs: 1},
		{file: "formulas.csv", rows: 1, errs: 4},
		{file: "duplicates.csv", rows: 2, errs: 2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := rostercsv.Parse(bytes.NewReader(b), opts())
			if tc.fileErrMsg != "" {
				var fe *rostercsv.FileError
				if !errors.As(err, &fe) || !strings.Contains(fe.Message, tc.fileErrMsg) {
					t.Fatalf("err = %v; want a FileError containing %q", err, tc.fileErrMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != tc.rows || len(res.Errors) != tc.errs {
				t.Errorf("%d rows, %d errors (%+v); want %d and %d", len(res.Rows), len(res.Errors), res.Errors, tc.rows, tc.errs)
			}
		})
	}
}
