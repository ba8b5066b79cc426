// Package rostercsv reads, checks and writes the CSV files that partner
// compliance officers export from their HR and training systems and upload
// to the portal: rosters, and training completions of people on them. It
// only parses and validates (no store, no HTTP), so every rule and every
// hostile file can be tested without a database or a server.
//
// Uploaded files are untrusted: they may be huge, binary, saved in the wrong
// encoding or crafted to run formulas when someone later opens an export in a
// spreadsheet. Parse therefore bounds what it reads and holds, and reports
// every problem in words a compliance officer can act on.
package rostercsv

import (
	"bytes"
	"encoding/csv"
	"math"
	"time"
)

// Defaults for Options, exported so the upload page can state the limits.
const (
	DefaultMaxBytes = 20 << 20
	DefaultMaxRows  = 100_000
)

// Row is one valid staff row.
type Row struct {
	Line        int // 1-based line number of the record in the file (header is line 1)
	StaffNumber string
	Name        string
	Email       string // lower-cased; "" when not given
	RoleTitle   string
	Category    string     // the code, e.g. "customer_facing_adults"
	Sites       []string   // never nil, so stores write an empty list rather than null
	StartDate   time.Time  // UTC midnight
	LeavingDate *time.Time // UTC midnight or nil
}

// RowError is one problem with one row, as a person fixing the file needs it.
type RowError struct {
	Line        int    // 1-based file line (record start)
	StaffNumber string // as given (trimmed, and shortened and cleaned of hidden characters so it is safe to show)
	Column      string // e.g. "start_date"; "" for whole-row problems
	Message     string // plain English, GOV.UK style
}

// Result of parsing a whole file.
type Result struct {
	Rows   []Row      // valid rows, in file order
	Errors []RowError // row problems, in file order (a row can have several)
	Total  int        // data rows read; completely blank rows (such as ",,,," left by spreadsheets) are skipped and not counted
	Today  time.Time  // the day dates were checked against, to check the same file again alike
}

// FileError is a problem with the file as a whole: nothing in it can be
// imported. Its Message is written for the person who uploaded the file.
type FileError struct{ Message string }

func (e *FileError) Error() string { return e.Message }

// Options bound what Parse accepts. Zero values mean the defaults.
type Options struct {
	MaxBytes int64     // default DefaultMaxBytes
	MaxRows  int       // default DefaultMaxRows
	Today    time.Time // for "not more than a year in the future", taken as a date in its own location; zero = time.Now()
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	o.MaxBytes = min(o.MaxBytes, math.MaxInt64-1) // Parse reads MaxBytes+1

	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.Today.IsZero() {
		o.Today = time.Now()
	}
	return o
}

// Category codes. They mirror the constants in package staff; they are
// repeated rather than imported so this package stays free of the store.
const (
	categoryAdults      = "customer_facing_adults"
	categoryChildren    = "regulated_activity_children"
	categoryNotFacing   = "not_customer_facing"
	categoryAdultsName  = "Customer-facing with adults"
	categoryChildName   = "Regulated activity with children"
	categoryNotFaceName = "Not customer-facing"
)

type column int

const (
	colStaffNumber column = iota
	colName
	colEmail
	colRoleTitle
	colCategory
	colSites
	colStartDate
	colLeavingDate
	// Training completions files.
	colModule
	colCompleted
	colProvider
	numColumns

	// Roster columns come first, so an export row is indexed by column.
	numRosterColumns = colLeavingDate + 1
)

var columnNames = [numColumns]string{
	"staff_number", "name", "email", "role_title", "category", "sites", "start_date", "leaving_date",
	"module", "completed_on", "provider",
}

// columnLabels name columns in messages the way a person would say them.
var columnLabels = [numColumns]string{
	"Staff number", "Name", "Email address", "Role title", "Category", "Sites", "Start date", "Leaving date",
	"Course", "Completed date", "Provider",
}

var columnRequired = [numColumns]bool{
	colStaffNumber: true, colName: true, colRoleTitle: true, colCategory: true, colStartDate: true,
	colModule: true, colCompleted: true, colProvider: true,
}

// layout is one kind of file: its columns and how messages speak of it.
type layout struct {
	columns  []column
	rows     string // what a data row holds, e.g. "staff rows"
	kind     string // e.g. "a roster file"
	optional string // which columns may be left out, as a sentence ending, or ""
}

var (
	rosterLayout = layout{
		columns: []column{colStaffNumber, colName, colEmail, colRoleTitle, colCategory, colSites, colStartDate, colLeavingDate},
		rows:    "staff rows", kind: "a roster file", optional: " (email, sites and leaving_date can be left out)",
	}
	completionsLayout = layout{
		columns: []column{colStaffNumber, colModule, colCompleted, colProvider},
		rows:    "completion rows", kind: "a training completions file",
	}
)

func (l *layout) names() []string {
	names := make([]string, len(l.columns))
	for i, c := range l.columns {
		names[i] = columnNames[c]
	}
	return names
}

func (l *layout) columnByName(name string) (column, bool) {
	for _, c := range l.columns {
		if columnNames[c] == name {
			return c, true
		}
	}
	return numColumns, false
}

// Columns returns the documented roster columns in template order.
func Columns() []string { return rosterLayout.names() }

// CompletionColumns returns the documented completions columns in template order.
func CompletionColumns() []string { return completionsLayout.names() }

// Template returns a CSV template: the header plus two fictional example
// rows, with CRLF line endings, UTF-8 without a byte order mark. The second
// row uses a readable category name to show that both forms are accepted.
func Template() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	// Writes to a bytes.Buffer cannot fail.
	_ = w.Write(Columns())
	_ = w.Write([]string{"EX0001", "Alex Example", "alex.example@example.com", "Interview officer",
		categoryAdults, "Example House; Sample Centre", "2024-04-01", ""})
	_ = w.Write([]string{"EX0002", "Sam Sample", "", "Youth support worker",
		categoryChildName, "Sample Centre", "2023-09-15", "2025-03-31"})
	w.Flush()
	return b.Bytes()
}
