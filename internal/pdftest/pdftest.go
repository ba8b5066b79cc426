// Package pdftest reads generated PDFs back as a reader's software does,
// with poppler's pdftotext, so tests check what a PDF says rather than how
// it was drawn.
package pdftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Pages is the text of each page of pdf, laid out as on the page.
func Pages(t testing.TB, pdf []byte) []string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is needed to read the PDF back (Debian: apt-get install poppler-utils)")
	}
	in := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(string(out), "\f")
	if n := len(pages); n > 0 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1]
	}
	if len(pages) == 0 {
		t.Fatal("pdftotext found no pages")
	}
	return pages
}

// Text is the text of the whole of pdf, its pages separated by form feeds.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	return strings.Join(Pages(t, pdf), "\f")
}
