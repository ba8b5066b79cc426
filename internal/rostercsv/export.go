package rostercsv

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// ExportRow is one roster entry to export.
type ExportRow struct {
	StaffNumber, Name, Email, RoleTitle, Category string
	Sites                                         []string
	StartDate                                     time.Time
	LeavingDate                                   *time.Time
	Active                                        bool
}

// Exporter writes a roster as CSV: the documented columns plus "status"
// ("active" or "left"), header first, CRLF line endings, UTF-8 without a
// byte order mark (like Template).
//
// Exports are opened in spreadsheets, and roster values may have come from
// anywhere (the web form, the API, older imports), so every cell that a
// spreadsheet would run as a formula gets a leading apostrophe.
type Exporter struct {
	w      *csv.Writer
	header bool
	rec    [numRosterColumns + 1]string
}

// NewExporter writes to w. Call Flush when done.
func NewExporter(w io.Writer) *Exporter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Exporter{w: cw}
}

func (e *Exporter) writeHeader() error {
	if e.header {
		return nil
	}
	e.header = true
	copy(e.rec[:], columnNames[:numRosterColumns])
	e.rec[numRosterColumns] = "status"
	if err := e.w.Write(e.rec[:]); err != nil {
		return fmt.Errorf("write roster CSV header: %w", err)
	}
	return nil
}

// Write writes one row, after the header if this is the first.
func (e *Exporter) Write(r ExportRow) error {
	if err := e.writeHeader(); err != nil {
		return err
	}
	rec := &e.rec
	rec[colStaffNumber] = safeCell(r.StaffNumber)
	rec[colName] = safeCell(r.Name)
	rec[colEmail] = safeCell(r.Email)
	rec[colRoleTitle] = safeCell(r.RoleTitle)
	rec[colCategory] = safeCell(r.Category)
	rec[colSites] = safeCell(strings.Join(r.Sites, "; "))
	rec[colStartDate] = exportDate(r.StartDate)
	rec[colLeavingDate] = ""
	if r.LeavingDate != nil {
		rec[colLeavingDate] = exportDate(*r.LeavingDate)
	}
	rec[numRosterColumns] = "left"
	if r.Active {
		rec[numRosterColumns] = "active"
	}
	if err := e.w.Write(rec[:]); err != nil {
		return fmt.Errorf("write roster CSV row: %w", err)
	}
	return nil
}

// Flush writes the header if no row was written (an empty roster still
// exports as a usable template) and flushes buffered output.
func (e *Exporter) Flush() error {
	if err := e.writeHeader(); err != nil {
		return err
	}
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return fmt.Errorf("flush roster CSV: %w", err)
	}
	return nil
}

// safeCell stops a spreadsheet running a value as a formula. The apostrophe
// is the spreadsheet convention for "this is text" and is not shown.
func safeCell(s string) string {
	if startsFormula(s) {
		return "'" + s
	}
	return s
}

// exportDate writes dates as Parse reads them. Dates are stored as UTC
// midnight, so the UTC calendar date is the one that was entered.
func exportDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}
