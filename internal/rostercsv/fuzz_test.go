package rostercsv_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/department/safeguarding-portal/internal/rostercsv"
)

// FuzzParse checks that no input panics and that results stay coherent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(rostercsv.Template())
	f.Add([]byte(header + "\n\"A1\",\"x\"\"y\",,\"r\r\n\"\n,,\n\"unclosed"))
	f.Fuzz(func(t *testing.T, in []byte) {
		o := opts()
		o.MaxRows = 50
		res, err := rostercsv.Parse(bytes.NewReader(in), o)
		if err != nil {
			var fe *rostercsv.FileError
			if !errors.As(err, &fe) || fe.Message == "" {
				t.Fatalf("err = %v; want a FileError with a message", err)
			}
			return
		}
		if res.Total < 1 || len(res.Rows) > res.Total {
			t.Fatalf("Total %d with %d rows", res.Total, len(res.Rows))
		}
		last := 0
		for _, r := range res.Rows {
			if r.Line <= last || r.StaffNumber == "" || r.Name == "" || r.Category == "" || r.StartDate.IsZero() || r.Sites == nil {
				t.Fatalf("bad row %+v after line %d", r, last)
			}
			last = r.Line
		}
		for _, e := range res.Errors {
			if e.Line < 1 || e.Message == "" || !utf8.ValidString(e.StaffNumber) || utf8.RuneCountInString(e.StaffNumber) > 41 {
				t.Fatalf("bad error %+v", e)
			}
		}
	})
}
