package rostercsv_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/department/safeguarding-portal/internal/rostercsv"
)

var modules = map[string]string{
	"face_behind_the_case": "face_behind_the_case", "the face behind the case": "face_behind_the_case",
	"prevent": "prevent", "prevent duty awareness": "prevent",
}

func parseCompletions(t *testing.T, file string) *rostercsv.Completions {
	t.Helper()
	res, err := rostercsv.ParseCompletions(strings.NewReader(file), opts(), modules)
	if err != nil {
		t.Fatalf("ParseCompletions: %v", err)
	}
	return res
}

func TestCompletionsValidRows(t *testing.T) {
	file := "\xef\xbb\xbfStaff_Number, module ,completed_on,provider\r\n" +
		"AB123,face_behind_the_case,2026-03-05,Department e-learning\r\n" +
		"ab124,The  Face Behind the CASE,01/02/2026,\"Example Training, Ltd\"\r\n" +
		",,,\r\n" +
		"AB123,Prevent duty awareness,2000-01-01,Home Office\r\n"
	res := parseCompletions(t, file)
	want := []rostercsv.Completion{
		{Line: 2, StaffNumber: "AB123", Module: "face_behind_the_case", Completed: date(2026, 3, 5), Provider: "Department e-learning"},
		{Line: 3, StaffNumber: "ab124", Module: "face_behind_the_case", Completed: date(2026, 2, 1), Provider: "Example Training, Ltd"},
		{Line: 5, StaffNumber: "AB123", Module: "prevent", Completed: date(2000, 1, 1), Provider: "Home Office"},
	}
	if !reflect.DeepEqual(res.Rows, want) || len(res.Errors) != 0 || res.Total != 3 {
		t.Fatalf("rows %+v\nerrors %+v total %d", res.Rows, res.Errors, res.Total)
	}
	if !res.Today.Equal(today) {
		t.Errorf("Today = %v, want the day the file was checked against", res.Today)
	}
}

func TestCompletionsRowProblems(t *testing.T) {
	const head = "staff_number,module,completed_on,provider\n"
	for _, tc := range []struct {
		name, row, column, message string
	}{
		{"unknown course", "AB1,First aid,2026-01-01,X", "module", `Course "First aid" is not recognised`},
		{"no course", "AB1,,2026-01-01,X", "module", "Enter the course"},
		{"tomorrow", "AB1,prevent,2026-03-06,X", "completed_on", "Completed date must be today or in the past"},
		{"today is fine but 1999 is not", "AB1,prevent,1999-12-31,X", "completed_on", "1 January 2000 or later"},
		{"not a date", "AB1,prevent,March 2026,X", "completed_on", "Completed date must be a date in the format YYYY-MM-DD"},
		{"not a real date", "AB1,prevent,2026-02-30,X", "completed_on", "Completed date must be a real date"},
		{"no date", "AB1,prevent,,X", "completed_on", "Enter the date the course was completed"},
		{"no provider", "AB1,prevent,2026-01-01,", "provider", "Enter who provided the course"},
		{"formula provider", "AB1,prevent,2026-01-01,=1+1", "provider", "must not start with ="},
		{"hidden characters", "AB1,prev\u202eent,2026-01-01,X", "module", "hidden right-to-left"},
		{"no staff number", ",prevent,2026-01-01,X", "staff_number", "Enter a staff number"},
		{"too few values", "AB1,prevent,2026-01-01", "", "This row has 3 values but there are 4 column headings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parseCompletions(t, head+tc.row+"\n")
			if len(res.Rows) != 0 || len(res.Errors) != 1 {
				t.Fatalf("rows %+v errors %+v, want one error", res.Rows, res.Errors)
			}
			e := res.Errors[0]
			if e.Line != 2 || e.Column != tc.column || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error %+v, want line 2, column %q, message containing %q", e, tc.column, tc.message)
			}
		})
	}
}

func TestCompletionsSameCompletionTwice(t *testing.T) {
	res := parseCompletions(t, "staff_number,module,completed_on,provider\n"+
		"AB1,prevent,2026-01-01,X\n"+
		"ab1,Prevent duty awareness,01/01/2026,Y\n"+
		"AB1,prevent,2026-01-02,X\n")
	if len(res.Rows) != 2 || len(res.Errors) != 1 {
		t.Fatalf("rows %+v errors %+v", res.Rows, res.Errors)
	}
	if e := res.Errors[0]; e.Line != 3 || !strings.Contains(e.Message, "also on line 2") {
		t.Errorf("error %+v, want line 3 naming line 2", e)
	}
}

func TestCompletionsFileProblems(t *testing.T) {
	for _, tc := range []struct{ name, file, message string }{
		{"empty", "", "The file is empty"},
		{"only headings", "staff_number,module,completed_on,provider\n", "The file has no completion rows"},
		{"a roster file", header + "\nAB1,Alex,,Officer,customer_facing_adults,,2024-01-01,\n",
			"The file is missing the columns module, completed_on and provider"},
		{"misspelt heading", "staff number,module,completed_on,provider\nAB1,prevent,2026-01-01,X\n", "did you mean staff_number?"},
		{"semicolons", "staff_number;module;completed_on;provider\n", "semicolons"},
		{"workbook", "PK\x03\x04rest", "spreadsheet workbook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rostercsv.ParseCompletions(strings.NewReader(tc.file), opts(), modules)
			var fe *rostercsv.FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, tc.message) {
				t.Fatalf("error %v, want a file error containing %q", err, tc.message)
			}
			if strings.Contains(fe.Message, "roster") {
				t.Errorf("a completions file is not a roster file: %q", fe.Message)
			}
		})
	}
}

func TestCompletionsTemplateParses(t *testing.T) {
	res := parseCompletions(t, string(rostercsv.CompletionsTemplate("prevent", "The Face Behind the Case")))
	if len(res.Rows) != 2 || len(res.Errors) != 0 {
		t.Fatalf("template: rows %+v errors %+v", res.Rows, res.Errors)
	}
}
