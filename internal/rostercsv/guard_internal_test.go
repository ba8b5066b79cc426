package rostercsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

type csvRecord struct {
	line   int
	fields []string
	err    error
}

// readRecords reads r as Parse's csv.Reader would.
func readRecords(t *testing.T, r io.Reader) []csvRecord {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []csvRecord
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			out = append(out, csvRecord{line: pe.StartLine, fields: rec, err: pe.Err})
		case err != nil:
			t.Fatalf("read: %v", err)
		default:
			line, _ := cr.FieldPos(0)
			out = append(out, csvRecord{line: line, fields: rec})
		}
	}
}

// checkGuard compares csv reading through a guard of the given limit with
// csv reading the raw input: every record the guard did not cut must come
// out identical and on the same line, and the cut ones must start where csv
// would have started them.
func checkGuard(t *testing.T, in []byte, limit int) *guard {
	t.Helper()
	raw := readRecords(t, bytes.NewReader(in))
	g := newGuard(bytes.NewReader(in), limit)
	guarded := readRecords(t, g)
	if len(raw) != len(guarded) {
		t.Fatalf("limit %d: %d records through the guard, %d without\n guarded %+v\n     raw %+v", limit, len(guarded), len(raw), guarded, raw)
	}
	for i, gr := range guarded {
		if gr.line != raw[i].line {
			t.Fatalf("limit %d: record %d starts on line %d through the guard, %d without", limit, i, gr.line, raw[i].line)
		}
		if g.cut[gr.line] {
			for _, f := range gr.fields {
				if len(f) > limit {
					t.Fatalf("limit %d: cut record still has a %d-byte field", limit, len(f))
				}
			}
			continue
		}
		if !reflect.DeepEqual(gr, raw[i]) {
			t.Fatalf("limit %d: record %d differs\n guarded %+v\n     raw %+v", limit, i, gr, raw[i])
		}
	}
	return g
}

func TestGuard(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name string
		in   string
		cut  []int
	}{
		{"nothing to cut", "a,b\r\n\"c\r\nd\",e\n\n\"f\"\"g\",h", nil},
		{"unquoted", "a,b\n" + long + "\nc,d\n", []int{2}},
		{"unquoted CRLF", "a,b\r\n" + long + "\r\nc,d\r\n", []int{2}},
		{"quoted", "a,b\n\"" + long + "\",z\nc,d\n", []int{2}},
		{"quoted over lines", "a\n\"" + strings.Repeat("x\n", 30) + "\",z\nc,d\n", []int{2}},
		{"cut at a doubled quote", "a\n\"" + strings.Repeat(`""`, 30) + "\"\nc\n", []int{2}},
		{"cut after closing quote and CR", "a\n\"" + strings.Repeat("x", 18) + "\"\r" + long + "\nc\n", []int{2}},
		{"bare quote then long", "a\nb\"" + long + "\nc\n", []int{2}},
		{"never closed", "a\n\"b\nc\nd" + long + "\n", []int{2}},
		{"long line with no end", "a\n" + long, []int{2}},
		{"two long", long + "\n" + long + "\nok\n", []int{1, 2}},
		{"exactly the limit", strings.Repeat("x", 20) + "\nok\n", nil},
		{"limit plus newline", strings.Repeat("x", 20) + "\r\nok\n", []int{1}},
		{"blank lines kept for numbering", "\n\n" + long + "\n\n\nok\n", []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := checkGuard(t, []byte(tc.in), 20)
			var cut []int
			for line := 1; line <= g.line; line++ {
				if g.cut[line] {
					cut = append(cut, line)
				}
			}
			if !reflect.DeepEqual(cut, tc.cut) {
				t.Errorf("cut lines %v, want %v", cut, tc.cut)
			}
		})
	}
}

func TestGuardUnclosed(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from, to int
	}{
		{"a\n\"b\nc\n", 2, 3},
		{"a\n\"b\nc", 2, 3},
		{"a\n\"b\"\"\n", 2, 2},
		{"a\n\"b\"\n", 0, 0},
		{"\"a\",b\"\n", 0, 0}, // a bad quote, but closed
	} {
		g := newGuard(strings.NewReader(tc.in), maxRecordBytes)
		if _, err := io.Copy(io.Discard, g); err != nil {
			t.Fatal(err)
		}
		if g.unclosedFrom != tc.from || g.unclosedTo != tc.to {
			t.Errorf("%q: unclosed lines %d to %d, want %d to %d", tc.in, g.unclosedFrom, g.unclosedTo, tc.from, tc.to)
		}
	}
}

// FuzzGuard checks the guard's copy of csv's quoting rules against csv.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"a,b\r\n\"c\r\nd\",e\n\n\"f\"\"g\",h",
		"a\n\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\r\nc\n",
		"a\"b\nc\r\r\n\"d\"\re\n\"",
		"\"\"\"\n\r\n\r,\",\"\n",
	} {
		f.Add([]byte(s), uint8(4))
	}
	f.Fuzz(func(t *testing.T, in []byte, limit uint8) {
		// A limit of 1 could cut a record after a lone CR, which csv would
		// then read as a blank line; the real limit is 64 KB.
		checkGuard(t, in, int(limit%32)+2)
	})
}
