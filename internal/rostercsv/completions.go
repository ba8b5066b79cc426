package rostercsv

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// Completion is one valid row of a training completions file: a course a
// person on the roster completed, as a training provider's system exports it.
type Completion struct {
	Line        int
	StaffNumber string
	Module      string    // the module's code, e.g. "face_behind_the_case"
	Completed   time.Time // UTC midnight
	Provider    string
}

// Key identifies a completion: the same person, course and day is the same
// completion, however often a file lists it.
func (c Completion) Key() string {
	return strings.ToUpper(c.StaffNumber) + "\x00" + c.Module + "\x00" + c.Completed.Format(time.DateOnly)
}

// Completions is the outcome of parsing a whole completions file.
type Completions struct {
	Rows   []Completion
	Errors []RowError
	Total  int
	Today  time.Time
}

// earliestCompletion is the first date a completion can have: older
// certificates have long expired, and a date before it is a typing mistake.
var earliestCompletion = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseCompletions reads a training completions CSV file and checks every
// row, with the same guards and limits as Parse. modules maps a course's
// code or name, lower-cased, to its code. Whether each staff number is on
// the roster is for the caller to check.
func ParseCompletions(r io.Reader, opts Options, modules map[string]string) (*Completions, error) {
	p := newParser(opts.withDefaults(), &completionsLayout)
	y, m, d := p.opts.Today.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	p.row = func(rec []string, line int) { p.completionRow(rec, line, modules, today) }
	if err := p.read(r); err != nil {
		return nil, err
	}
	return &Completions{Rows: p.done, Errors: p.res.Errors, Total: p.res.Total, Today: p.opts.Today}, nil
}

func (p *parser) completionRow(rec []string, line int, modules map[string]string, today time.Time) {
	msgs := &p.msgs
	*msgs = [numColumns]string{}
	row := Completion{Line: line}
	for i, raw := range rec {
		c := p.order[i]
		if m := cellProblem(c, raw); m != "" {
			msgs[c] = m
			continue
		}
		v := strings.TrimSpace(raw)
		switch c {
		case colStaffNumber:
			row.StaffNumber, msgs[c] = v, checkStaffNumber(v)
		case colModule:
			row.Module, msgs[c] = checkModule(v, modules)
		case colCompleted:
			row.Completed, msgs[c] = checkCompleted(v, today)
		case colProvider:
			row.Provider, msgs[c] = v, checkText(c, v)
		}
	}
	if msgs[colStaffNumber] == "" && msgs[colModule] == "" && msgs[colCompleted] == "" {
		key := row.Key()
		if first, seen := p.first[key]; seen {
			msgs[colStaffNumber] = "This completion is also on line " + strconv.Itoa(first) +
				": the same staff number, course and date. Delete one of them"
		} else {
			p.first[key] = line
		}
	}
	if !p.reportRow(rec, line) {
		p.done = append(p.done, row)
	}
}

func checkModule(v string, modules map[string]string) (string, string) {
	if v == "" {
		return "", "Enter the course: its code or its name, as listed on the upload page"
	}
	if code, ok := modules[strings.ToLower(strings.Join(strings.Fields(v), " "))]; ok {
		return code, ""
	}
	return "", "Course " + strconv.Quote(shown(v)) + " is not recognised. Use a course code or name as listed on the upload page"
}

func checkCompleted(v string, today time.Time) (time.Time, string) {
	if v == "" {
		return time.Time{}, "Enter the date the course was completed"
	}
	d, prob := parseDate(v)
	switch {
	case prob != dateOK:
		return time.Time{}, dateMessage(colCompleted, prob)
	case d.After(today):
		return time.Time{}, "Completed date must be today or in the past"
	case d.Before(earliestCompletion):
		return time.Time{}, "Completed date must be 1 January 2000 or later"
	}
	return d, ""
}

// CompletionsTemplate returns a completions CSV template: the header plus
// two fictional rows, one naming the course by code and one by name.
func CompletionsTemplate(exampleCode, exampleName string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	// Writes to a bytes.Buffer cannot fail.
	_ = w.Write(CompletionColumns())
	_ = w.Write([]string{"EX0001", exampleCode, "2025-04-01", "Department e-learning"})
	_ = w.Write([]string{"EX0002", exampleName, "15/09/2025", "Example Training Ltd"})
	w.Flush()
	return b.Bytes()
}
