// Package spreadsheet writes CSV exports that are safe to open in a
// spreadsheet: a cell that would run as a formula is written as text.
//
// Exports carry text that partners, customers' representatives and partner
// systems typed. Spreadsheets run a cell that starts with "=", "+", "-" or
// "@" (and some run one that starts with a tab or carriage return) as a
// formula, which can read other cells or call out to the network when a
// contract manager opens the file. A leading apostrophe makes such a cell
// text, and spreadsheets hide the apostrophe.
package spreadsheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Defuse returns s as a spreadsheet will show it as text, never run it.
func Defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Writer writes CSV rows with every cell defused.
type Writer struct {
	csv *csv.Writer
	row []string
}

// NewWriter writes CSV to w.
func NewWriter(w io.Writer) *Writer { return &Writer{csv: csv.NewWriter(w)} }

// Write writes one row.
func (w *Writer) Write(cells ...string) error {
	w.row = w.row[:0]
	for _, c := range cells {
		w.row = append(w.row, Defuse(c))
	}
	if err := w.csv.Write(w.row); err != nil {
		return fmt.Errorf("write CSV row: %w", err)
	}
	return nil
}

// Flush writes out anything buffered and reports any error from the rows.
func (w *Writer) Flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
