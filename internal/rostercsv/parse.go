package rostercsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// File-level messages.
const (
	msgEmpty       = "The file is empty"
	msgSaveAsCSV   = "Save it as \"CSV UTF-8 (Comma delimited)\" and try again"
	msgWorkbook    = "The file is a spreadsheet workbook, not a CSV file. " + msgSaveAsCSV
	msgUTF16       = "The file is saved as Unicode text (UTF-16), not UTF-8. " + msgSaveAsCSV
	msgHeadingRead = "The column headings on the first line could not be read. " + msgSaveAsCSV
)

// Parse reads a roster CSV file and checks every row. It returns a
// *FileError when nothing in the file can be imported, and another error
// (wrapped) only when reading r itself fails. It reads at most
// opts.MaxBytes+1 bytes from r and holds at most one record of about 64 KB
// beyond what it returns.
func Parse(r io.Reader, opts Options) (*Result, error) {
	p := newParser(opts.withDefaults(), &rosterLayout)
	p.row = p.rosterRow
	if err := p.read(r); err != nil {
		return nil, err
	}
	p.res.Today = p.opts.Today
	return p.res, nil
}

// read checks the file's form and headings, then hands every data record to p.row.
func (p *parser) read(r io.Reader) error {
	opts := p.opts
	src := &capReader{r: io.LimitReader(r, opts.MaxBytes+1), max: opts.MaxBytes}
	br := bufio.NewReader(src)
	if err := sniff(br, src, opts); err != nil {
		return err
	}
	g := newGuard(br, maxRecordBytes)
	cr := csv.NewReader(g)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, to give a clear message and go on

	headingLong := &FileError{Message: "The first line of the file is too long to be column headings. " +
		"Check that this is " + p.lay.kind + " and that the first line is the column headings"}
	header, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return &FileError{Message: msgEmpty}
		case errors.As(err, &pe) && g.cut[pe.StartLine]:
			return headingLong
		case errors.As(err, &pe):
			return &FileError{Message: msgHeadingRead}
		}
		return readFailure(err, src, opts)
	}
	if line, _ := cr.FieldPos(0); g.cut[line] {
		return headingLong
	}
	if fe := p.readHeader(header); fe != nil {
		return fe
	}

	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var line int
		if err != nil {
			var ok bool
			if line, ok = parseErrorLine(err); !ok {
				return readFailure(err, src, opts)
			}
		} else {
			line, _ = cr.FieldPos(0)
			if blank(rec) && !g.cut[line] {
				continue
			}
		}
		p.res.Total++
		if p.res.Total > opts.MaxRows {
			return &FileError{Message: fmt.Sprintf("The file has more than %s %s. %s can have at most %[1]s",
				thousands(opts.MaxRows), p.lay.rows, capitalised(p.lay.kind))}
		}
		if p.readable(rec, line, err != nil, g.cut[line]) {
			p.row(rec, line)
		}
	}
	if src.over { // csv may have hidden the error behind a parse error
		return readFailure(errTooBig, src, opts)
	}
	if g.unclosedFrom > 0 {
		p.explainUnclosed(g.unclosedFrom, g.unclosedTo)
	}
	if p.res.Total == 0 {
		return &FileError{Message: "The file has no " + p.lay.rows}
	}
	return nil
}

func capitalised(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// parseErrorLine reports where a record csv could not read starts. It is
// apart from Parse's loop because errors.As makes its target escape, and
// most records have no error.
func parseErrorLine(err error) (int, bool) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.StartLine, true
	}
	return 0, false
}

// sniff refuses files that are plainly not UTF-8 CSV before reading on, and
// skips a UTF-8 byte order mark, which Excel writes.
func sniff(br *bufio.Reader, src *capReader, opts Options) error {
	b, err := br.Peek(4)
	if err != nil && err != io.EOF {
		// Peek clears the error it reports, so deal with it now.
		return readFailure(err, src, opts)
	}
	switch {
	case len(b) == 0:
		return &FileError{Message: msgEmpty}
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		if _, err := br.Discard(3); err != nil {
			return readFailure(err, src, opts)
		}
	case bytes.HasPrefix(b, []byte("\xff\xfe")), bytes.HasPrefix(b, []byte("\xfe\xff")):
		return &FileError{Message: msgUTF16}
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0")):
		// .xlsx and .ods are zip files; .xls is an OLE compound file.
		return &FileError{Message: msgWorkbook}
	}
	return nil
}

func readFailure(err error, src *capReader, opts Options) error {
	if src.over || errors.Is(err, errTooBig) {
		return &FileError{Message: "The file must be smaller than " + size(opts.MaxBytes)}
	}
	return fmt.Errorf("read roster file: %w", err)
}

// blank reports a record with nothing in it, such as the ",,,,,,," rows a
// spreadsheet writes for cells that were once formatted.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

type parser struct {
	opts     Options
	lay      *layout
	row      func(rec []string, line int) // checks one readable record of this kind of file
	res      *Result
	done     []Completion       // valid rows of a completions file
	order    []column           // the column in each position of the file
	pos      [numColumns]int    // the position of each column, or -1
	first    map[string]int     // upper-cased staff number → line it first appeared on
	maxStart time.Time          // latest acceptable start date
	msgLate  string             // message for a start date after maxStart
	msgs     [numColumns]string // scratch: this row's problem in each column
}

func newParser(opts Options, lay *layout) *parser {
	y, m, d := opts.Today.Date()
	maxStart := time.Date(y+1, m, d, 0, 0, 0, 0, time.UTC)
	p := &parser{
		opts:     opts,
		lay:      lay,
		res:      &Result{},
		first:    make(map[string]int),
		maxStart: maxStart,
		msgLate: "Start date must be no more than a year from today (" +
			maxStart.Format(time.DateOnly) + " or earlier)",
	}
	for c := range p.pos {
		p.pos[c] = -1
	}
	return p
}

// readHeader maps the file's columns to ours, or says everything wrong with
// the headings at once so the file need only be fixed once.
func (p *parser) readHeader(h []string) *FileError {
	for _, name := range h {
		if sep := otherSeparator(name); sep != "" {
			return &FileError{Message: "The file must be comma-separated. This file seems to use " + sep +
				" to separate values. Save it as \"CSV UTF-8 (Comma delimited)\" and try again"}
		}
	}
	for _, name := range h {
		if scanText(name) != textOK {
			return &FileError{Message: msgHeadingRead}
		}
	}

	var problems, unknown []string
	var unknownAt []int
	known := 0
	for i, raw := range h {
		name := strings.ToLower(strings.TrimSpace(raw))
		c, ok := p.lay.columnByName(name)
		switch {
		case name == "":
			problems = append(problems, "Column "+columnLetter(i)+" has no heading. Give it one of the headings below, or delete the column.")
		case !ok:
			unknownAt = append(unknownAt, i)
		case p.pos[c] >= 0:
			problems = append(problems, "The column "+columnNames[c]+" appears more than once.")
		default:
			p.pos[c] = i
			known++
		}
		p.order = append(p.order, c)
	}
	// A data row mistaken for headings could list thousands.
	const listed = 10
	for _, i := range unknownAt[:min(len(unknownAt), listed)] {
		unknown = append(unknown, p.describeUnknown(h[i]))
	}
	if len(unknownAt) > listed {
		unknown = append(unknown, "and "+strconv.Itoa(len(unknownAt)-listed)+" more")
	}
	var missing []string
	for _, c := range p.lay.columns {
		if columnRequired[c] && p.pos[c] < 0 {
			missing = append(missing, columnNames[c])
		}
	}

	var msg []string
	if len(missing) == 1 {
		msg = append(msg, "The file is missing the column "+missing[0]+".")
	} else if len(missing) > 1 {
		msg = append(msg, "The file is missing the columns "+list(missing)+".")
	}
	if len(unknown) == 1 {
		msg = append(msg, "The file has a column that is not recognised: "+unknown[0]+".")
	} else if len(unknown) > 1 {
		msg = append(msg, "The file has columns that are not recognised: "+strings.Join(unknown, ", ")+".")
	}
	msg = append(msg, problems...)
	if len(msg) == 0 {
		return nil
	}
	if known == 0 {
		msg = append(msg, "The first line of the file must be the column headings.")
	}
	msg = append(msg, "The column headings must be "+list(p.lay.names())+p.lay.optional+".")
	return &FileError{Message: strings.Join(msg, " ")}
}

// otherSeparator names the separator a heading cell seems to use instead of
// commas: the whole heading line of a semicolon- or tab-separated file
// arrives as one cell. A stray semicolon in one heading is left to the
// unknown-column message.
func otherSeparator(cell string) string {
	for _, sep := range []struct{ char, name string }{{"\t", "tabs"}, {";", "semicolons (;)"}} {
		parts := 0
		for part := range strings.SplitSeq(cell, sep.char) {
			if strings.TrimSpace(part) != "" {
				parts++
			}
		}
		if parts > 1 {
			return sep.name
		}
	}
	return ""
}

// describeUnknown names an unrecognised heading, suggesting the column it
// was probably meant to be, since "Staff Number" for staff_number is the
// commonest mistake. A column the file already has is not suggested.
func (p *parser) describeUnknown(raw string) string {
	name := strings.ToLower(strings.TrimSpace(raw))
	d := strconv.Quote(shown(strings.TrimSpace(raw)))
	if name == "status" && p.lay == &rosterLayout {
		return d + " (this column is only in exported files: delete it)"
	}
	guess := strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "_")
	if c, ok := p.lay.columnByName(guess); ok && p.pos[c] < 0 {
		return d + " (did you mean " + columnNames[c] + "?)"
	}
	return d
}

// columnLetter names a column the way a spreadsheet does: A, B, …, Z, AA.
func columnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}

func list(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// readable reports whether a data record can be checked value by value, or
// records why not: every kind of file shares these problems.
func (p *parser) readable(rec []string, line int, unreadable, cut bool) bool {
	staff := ""
	if i := p.pos[colStaffNumber]; i < len(rec) {
		staff = strings.TrimSpace(rec[i])
	}
	switch {
	case cut:
		p.rowError(line, staff, "", msgRecord)
	case unreadable:
		p.rowError(line, staff, "", msgQuote)
	case recordChars(rec) > maxRecordChars:
		p.rowError(line, staff, "", msgRecord)
	case len(rec) != len(p.order):
		p.rowError(line, staff, "", fmt.Sprintf("This row has %d values but there are %d column headings. "+
			"Check for missing or extra commas. A value that contains a comma must be in double quotes (\")",
			len(rec), len(p.order)))
	default:
		return true
	}
	return false
}

// rosterRow checks one roster record and adds either a Row or its problems.
func (p *parser) rosterRow(rec []string, line int) {
	msgs := &p.msgs
	*msgs = [numColumns]string{}
	row := Row{Line: line, Sites: []string{}}
	var leaving time.Time
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
		case colName:
			row.Name, msgs[c] = v, checkText(c, v)
		case colEmail:
			row.Email, msgs[c] = parseEmail(v)
		case colRoleTitle:
			row.RoleTitle, msgs[c] = v, checkText(c, v)
		case colCategory:
			row.Category, msgs[c] = parseCategory(v)
		case colSites:
			row.Sites, msgs[c] = parseSites(v)
		case colStartDate:
			msgs[c] = p.parseStart(v, &row.StartDate)
		case colLeavingDate:
			if v != "" {
				var prob dateProblem
				leaving, prob = parseDate(v)
				msgs[c] = dateMessage(c, prob)
			}
		}
	}
	if !leaving.IsZero() && msgs[colLeavingDate] == "" {
		if msgs[colStartDate] == "" && leaving.Before(row.StartDate) {
			msgs[colLeavingDate] = "Leaving date must be the same as or after the start date"
		} else {
			lv := leaving // a copy, so rows without a leaving date allocate nothing
			row.LeavingDate = &lv
		}
	}
	if msgs[colStaffNumber] == "" {
		key := strings.ToUpper(row.StaffNumber)
		if first, seen := p.first[key]; seen {
			msgs[colStaffNumber] = "Staff number " + row.StaffNumber + " is also used on line " + strconv.Itoa(first) +
				". Each person must have their own staff number"
		} else {
			p.first[key] = line
		}
	}

	if !p.reportRow(rec, line) {
		p.res.Rows = append(p.res.Rows, row)
	}
}

// reportRow records the row's problems found in p.msgs, in column order,
// and reports whether there were any.
func (p *parser) reportRow(rec []string, line int) bool {
	staff := strings.TrimSpace(rec[p.pos[colStaffNumber]])
	bad := false
	for _, c := range p.order {
		if p.msgs[c] != "" {
			p.rowError(line, staff, columnNames[c], p.msgs[c])
			bad = true
		}
	}
	return bad
}

func (p *parser) parseStart(v string, t *time.Time) string {
	if v == "" {
		return msgMissing[colStartDate]
	}
	d, prob := parseDate(v)
	if prob != dateOK {
		return dateMessage(colStartDate, prob)
	}
	if d.After(p.maxStart) {
		return p.msgLate
	}
	*t = d
	return ""
}

func (p *parser) rowError(line int, staff, col, msg string) {
	p.res.Errors = append(p.res.Errors, RowError{Line: line, StaffNumber: shown(staff), Column: col, Message: msg})
}

// recordChars counts a record's characters, commas included, without
// decoding when the byte count already settles it.
func recordChars(rec []string) int {
	n := len(rec) - 1
	for _, f := range rec {
		n += len(f)
	}
	if n <= maxRecordChars {
		return n
	}
	n = len(rec) - 1
	for _, f := range rec {
		n += utf8.RuneCountInString(f)
	}
	return n
}

// explainUnclosed replaces the message for the last record when the file
// ended inside quotes: the real problem is one stray quote mark, and the
// person needs to know that the rows after it were never read.
func (p *parser) explainUnclosed(from, to int) {
	errs := p.res.Errors
	for i := len(errs) - 1; i >= 0 && errs[i].Line >= from; i-- {
		if errs[i].Line == from && errs[i].Column == "" {
			errs[i].Message = fmt.Sprintf("This row has a quote mark (\") that is never closed, so lines %d to %d "+
				"could not be read. Remove the quote mark or add the missing one", from, to)
		}
	}
}

// size writes a byte count the way the upload page would state it.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return thousands64(n) + " bytes"
}

func thousands(n int) string { return thousands64(int64(n)) }

func thousands64(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
