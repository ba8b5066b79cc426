package spreadsheet_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/department/safeguarding-portal/internal/spreadsheet"
)

func TestCellsThatWouldRunAsFormulasAreWrittenAsText(t *testing.T) {
	var buf bytes.Buffer
	w := spreadsheet.NewWriter(&buf)
	in := []string{"=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rReturn", "plain", "", "a=b", "line\nbreak"}
	if err := w.Write(in...); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rReturn", "plain", "", "a=b", "line\nbreak"}
	if len(rows) != 1 || len(rows[0]) != len(want) {
		t.Fatalf("rows = %q", rows)
	}
	for i, got := range rows[0] {
		// encoding/csv reads a lone \r inside a quoted field as \n.
		if i == 5 {
			if got != "'\nReturn" && got != want[i] {
				t.Errorf("cell %d = %q, want %q", i, got, want[i])
			}
			continue
		}
		if got != want[i] {
			t.Errorf("cell %d = %q, want %q", i, got, want[i])
		}
	}
}
