package rostercsv_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone must load on any machine, so the test cannot skip

	"github.com/department/safeguarding-portal/internal/rostercsv"
)

func export(t *testing.T, rows ...rostercsv.ExportRow) string {
	t.Helper()
	var b bytes.Buffer
	e := rostercsv.NewExporter(&b)
	for _, r := range rows {
		if err := e.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func readAll(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestExportEmptyRosterHasHeader(t *testing.T) {
	got := export(t)
	want := strings.Join(rostercsv.Columns(), ",") + ",status\r\n"
	if got != want {
		t.Errorf("export = %q, want %q", got, want)
	}
}

func TestExportNeutralisesFormulas(t *testing.T) {
	start := date(2024, 4, 1)
	got := readAll(t, export(t, rostercsv.ExportRow{
		StaffNumber: "-1", Name: "=HYPERLINK(\"http://evil.example\")", Email: "@x", RoleTitle: "+44 20",
		Category: "\tcat", Sites: []string{"\rsite", "=second"}, StartDate: start, Active: true,
	}, rostercsv.ExportRow{
		StaffNumber: "A1", Name: "Pat O'Neil - lead", Email: "pat@example.com", RoleTitle: "Officer, days",
		Category: "not_customer_facing", StartDate: start, LeavingDate: ptr(date(2025, 1, 31)),
	}))
	want := [][]string{
		append(rostercsv.Columns(), "status"),
		// csv.Writer drops a lone CR when writing CRLF; the apostrophe stays first.
		{"'-1", "'=HYPERLINK(\"http://evil.example\")", "'@x", "'+44 20", "'\tcat", "'site; =second", "2024-04-01", "", "active"},
		{"A1", "Pat O'Neil - lead", "pat@example.com", "Officer, days", "not_customer_facing", "", "2024-04-01", "2025-01-31", "left"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("export:\n got %q\nwant %q", got, want)
	}
}

func TestExportDatesAreUTCCalendarDates(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal("no time zone data:", err)
	}
	// UTC midnight seen from London in summer is 01:00 the same day.
	got := readAll(t, export(t, rostercsv.ExportRow{StaffNumber: "A1", StartDate: date(2024, 7, 1).In(london)}))
	if got[1][6] != "2024-07-01" {
		t.Errorf("start_date = %q, want 2024-07-01", got[1][6])
	}
}

// TestExportRoundTrip checks that an export, less its status column, imports
// as the same roster.
func TestExportRoundTrip(t *testing.T) {
	tmpl, err := rostercsv.Parse(bytes.NewReader(rostercsv.Template()), opts())
	if err != nil {
		t.Fatal(err)
	}
	in := append(tmpl.Rows, rostercsv.Row{
		StaffNumber: "XY/9", Name: `Smith, "Jo" – Zoë`, Email: "", RoleTitle: "Lead\u00a0officer",
		Category: "not_customer_facing", Sites: []string{"A, B", "C"}, StartDate: date(2020, 2, 29),
		LeavingDate: ptr(date(2020, 2, 29)),
	})
	var rows []rostercsv.ExportRow
	for _, r := range in {
		rows = append(rows, rostercsv.ExportRow{StaffNumber: r.StaffNumber, Name: r.Name, Email: r.Email,
			RoleTitle: r.RoleTitle, Category: r.Category, Sites: r.Sites, StartDate: r.StartDate,
			LeavingDate: r.LeavingDate, Active: r.LeavingDate == nil})
	}
	out := export(t, rows...)

	var stripped bytes.Buffer
	w := csv.NewWriter(&stripped)
	for _, rec := range readAll(t, out) {
		if err := w.Write(rec[:len(rec)-1]); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	back, err := rostercsv.Parse(&stripped, opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Errors) > 0 {
		t.Fatalf("re-import errors: %+v", back.Errors)
	}
	for i := range back.Rows {
		back.Rows[i].Line = in[i].Line
	}
	if !reflect.DeepEqual(back.Rows, in) {
		t.Errorf("re-import:\n got %+v\nwant %+v", back.Rows, in)
	}
}

type brokenWriter struct{}

var errDiskFull = errors.New("disk full")

func (brokenWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestExportWriteFailure(t *testing.T) {
	e := rostercsv.NewExporter(brokenWriter{})
	// csv.Writer buffers, so the failure may show at Write or at Flush.
	err := e.Write(rostercsv.ExportRow{StaffNumber: "A1", Name: strings.Repeat("x", 10_000)})
	if err == nil {
		err = e.Flush()
	}
	if !errors.Is(err, errDiskFull) {
		t.Errorf("err = %v, want it to wrap %v", err, errDiskFull)
	}
}
