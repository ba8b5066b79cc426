package report

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/pdftest"
)

// renderPages renders r and reads it back with pdftotext -layout, one
// string a page.
func renderPages(t *testing.T, r Report) ([]byte, []string) {
	t.Helper()
	pdf, err := RenderPDF(r)
	if err != nil {
		t.Fatalf("RenderPDF: %v", err)
	}
	return pdf, pdftest.Pages(t, pdf)
}

// squash collapses runs of spaces, which -layout uses to place columns.
var spaces = regexp.MustCompile(`[ \t]+`)

func squash(s string) string { return spaces.ReplaceAllString(s, " ") }

func wantText(t *testing.T, text string, wants ...string) {
	t.Helper()
	flat := squash(text)
	for _, w := range wants {
		if !strings.Contains(flat, w) {
			t.Errorf("the PDF does not say %q", w)
		}
	}
}

// checkEveryPage checks what every page must carry: the marking at the
// top and bottom, the page count, the report ID and when it was generated.
func checkEveryPage(t *testing.T, r Report, pages []string) {
	t.Helper()
	total := strconv.Itoa(len(pages))
	for i, p := range pages {
		n := i + 1
		lines := nonEmptyLines(p)
		if len(lines) < 3 {
			t.Errorf("page %d is nearly empty: %q", n, p)
			continue
		}
		if strings.TrimSpace(lines[0]) != Marking {
			t.Errorf("page %d starts %q, want the marking %q", n, lines[0], Marking)
		}
		if strings.TrimSpace(lines[len(lines)-1]) != Marking {
			t.Errorf("page %d ends %q, want the marking %q", n, lines[len(lines)-1], Marking)
		}
		flat := squash(p)
		for _, w := range []string{
			"Page " + strconv.Itoa(n) + " of " + total,
			"Report " + r.ID,
			"Generated 7 December 2026 at 16:05",
		} {
			if !strings.Contains(flat, w) {
				t.Errorf("page %d does not say %q", n, w)
			}
		}
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestContractReportPDF(t *testing.T) {
	r := fixtureContractReport()
	pdf, pages := renderPages(t, r)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 16)])
	}
	if len(pages) < 4 {
		t.Fatalf("%d pages; a contract with 40 actions and 20 inspections needs more", len(pages))
	}
	checkEveryPage(t, r, pages)
	all := strings.Join(pages, "\n")

	cover := squash(pages[0])
	for _, w := range []string{
		"November 2026",
		"Position as at 7 December 2026",
		"Priya Shah",
		"Department edition: includes escalations to safeguarding leads",
		"Overall rating: Red",
		"1,234 of 1,300 (94.9%)", // staff compliant, with thousands separators
		"Contracts by rating",
	} {
		if !strings.Contains(cover, w) {
			t.Errorf("the cover does not say %q", w)
		}
	}
	// Headline figures: incidents notified / late / on time, actions.
	s := r.Summary
	wantText(t, pages[0],
		FormatCount(s.Notified), FormatPercent(s.OnTimePercent()), "open actions", "actions overdue",
		"escalations to safeguarding leads", "contracts suspended", "inspections completed in the period")

	wantText(t, all,
		"1. Contracts at a glance", "2. Ratings and reasons", "3. Staff compliance by requirement",
		"4. Expiries in the next 90 days", "5. Vetting gaps", "6. Serious incidents", "7. Trend",
		"8. Inspections", "9. Actions", "10. Escalations and suspensions",
		"Escalations to safeguarding leads", "Suspension approved",
		"2 h 15 min",           // average lateness
		"95% green threshold",  // the chart's marker
		"Jun 2026", "Nov 2026", // trend months
		"No figure for Feb 2026", // the month not counted is a gap, not a zero
		"Findings:", "Overdue", "Last inspected on 30 November 2026",
	)
	for _, q := range r.Requirements {
		wantText(t, all, q.Name, FormatPercent(q.Percent()))
	}
	for _, w := range []string{"Red", "Amber", "Green"} {
		wantText(t, all, w)
	}
	// A table that runs onto another page says so, under its heading.
	wantText(t, all, "Actions (continued)")
	// Every overdue action is marked so in words, after its due date.
	overdue := regexp.MustCompile(`(?m)20\d\d\s+Overdue\s*$`).FindAllString(all, -1)
	if want := r.Contracts[0].OverdueActions; len(overdue) != want || want == 0 {
		t.Errorf("%d actions read Overdue, want %d", len(overdue), want)
	}
}

func TestPartnerEditionLeavesOutEscalations(t *testing.T) {
	r := fixturePartnerReport()
	// Even if the figures carried escalations, a partner must not read them.
	r.Contracts[0].Escalations = fixtureEscalations()
	r.Summary.Escalations = 2
	_, pages := renderPages(t, r)
	checkEveryPage(t, r, pages)
	all := squash(strings.Join(pages, "\n"))
	wantText(t, all, "Partner edition", "10. Suspensions and reviews", "3 contracts held by Acme Asylum Services",
		"Under review", "Inspection found staff")
	for _, w := range []string{"scalation", "Suspension approved", "safeguarding leads"} {
		if strings.Contains(all, w) {
			t.Errorf("the partner edition says %q", w)
		}
	}
	// Each contract has its own detail.
	for _, c := range r.Contracts {
		wantText(t, all, contractName(c))
	}
}

func TestPortfolioReportPDF(t *testing.T) {
	r := fixturePortfolioReport()
	// A suppressed count whose number was (wrongly) left in: it must still
	// not be printed.
	r.Incidents.ByCategory[len(r.Incidents.ByCategory)-1].N = 3
	_, pages := renderPages(t, r)
	checkEveryPage(t, r, pages)
	all := strings.Join(pages, "\n")
	flat := squash(all)

	s := r.Summary
	wantText(t, pages[0], ofText(s.Compliant, s.Staff), "60 contracts across 12 partners")
	if !strings.Contains(ofText(s.Compliant, s.Staff), ",") {
		t.Fatalf("fixture: %d staff should need a thousands separator", s.Staff)
	}
	for _, c := range r.Contracts {
		if !strings.Contains(flat, c.ID) {
			t.Errorf("contract %s is missing", c.ID)
		}
	}
	// The side-by-side table runs over pages and repeats its header.
	if !strings.Contains(flat, "Contracts at a glance (continued)") {
		t.Error("the contracts table does not say it continues")
	}
	// Reasons only for contracts rated red or amber.
	for _, c := range r.Contracts {
		if c.RAG == "green" && strings.Contains(flat, contractName(c)+" (") {
			t.Errorf("green contract %s has its reasons listed", c.ID)
		}
	}

	for _, label := range []string{"Death of a customer", "Child in household"} {
		found := 0
		for _, line := range strings.Split(all, "\n") {
			if !strings.Contains(line, label) {
				continue
			}
			found++
			if !strings.Contains(line, "fewer than 5") {
				t.Errorf("suppressed %q reads %q", label, squash(line))
			}
			if rest := strings.ReplaceAll(line, "fewer than 5", ""); regexp.MustCompile(`[0-9]`).MatchString(rest) {
				t.Errorf("suppressed %q prints a number: %q", label, squash(line))
			}
		}
		if found == 0 {
			t.Errorf("%q is missing", label)
		}
	}
	wantText(t, all, "Counts from 1 to 4 are shown as “fewer than 5”")
	// Unsuppressed counts print as numbers.
	wantText(t, all, "Missing person 6")
}

func TestEmptyReportSaysSo(t *testing.T) {
	r := fixtureReport(PartnerReport, PartnerEdition, nil)
	r.Title = "Governance report: New Partner Ltd"
	r.Trend = nil
	r.Incidents = Incidents{}
	_, pages := renderPages(t, r)
	checkEveryPage(t, r, pages)
	wantText(t, strings.Join(pages, "\n"),
		"Overall rating: Not rated",
		"No contracts are covered by this report.",
		"No serious incidents were notified in the period.",
		"No monthly figures were recorded for the period.",
		"No contract is suspended or under review.",
	)
}

func TestPDFOpensAsAnImage(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Fatal("pdftoppm is needed to render the PDF (Debian: poppler-utils)")
	}
	pdf, err := RenderPDF(fixtureContractReport())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pngs) != 1 {
		t.Fatalf("pdftoppm wrote %v", pngs)
	}
	img, err := os.ReadFile(pngs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(img, []byte("\x89PNG")) || len(img) < 8000 {
		t.Errorf("page 1 rendered to %d bytes; a blank A4 page at 50 dpi is smaller than a cover", len(img))
	}
}

func TestPDFIsTheSameForTheSameReport(t *testing.T) {
	for _, r := range []Report{fixtureContractReport(), fixturePortfolioReport()} {
		a, err := RenderPDF(r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := RenderPDF(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ", r.Kind)
		}
		// As read back from the archive, where times come back in UTC.
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		back.GeneratedAt = back.GeneratedAt.UTC()
		c, err := RenderPDF(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, c) {
			t.Errorf("%s: the report read back from JSON renders differently", r.Kind)
		}
		// And a different report does differ.
		r.ID = "RPT-20261207-OTHER1"
		d, err := RenderPDF(r)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, d) {
			t.Errorf("%s: a different report ID renders the same bytes", r.Kind)
		}
	}
}

func TestPDFMetadata(t *testing.T) {
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Fatal("pdfinfo is needed (Debian: poppler-utils)")
	}
	r := fixtureContractReport()
	pdf, err := RenderPDF(r)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfinfo", in).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	info := squash(string(out))
	for _, w := range []string{
		"Title: " + r.Title,
		"Author: Partner Safeguarding Compliance Portal",
		"Subject: Governance report for November 2026, department edition",
		"Page size: 595.28 x 841.89 pts (A4)",
	} {
		if !strings.Contains(info, w) {
			t.Errorf("pdfinfo does not say %q:\n%s", w, out)
		}
	}
}

func TestRenderPDFNeedsAGenerationTime(t *testing.T) {
	r := fixtureContractReport()
	r.GeneratedAt = time.Time{}
	if _, err := RenderPDF(r); err == nil {
		t.Error("a report with no generation time rendered")
	}
}

func TestPDFFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatCount(0), "0"},
		{FormatCount(999), "999"},
		{FormatCount(1234), "1,234"},
		{FormatCount(1234567), "1,234,567"},
		{FormatCount(-1500), "-1,500"},
		{FormatPercent(94.92), "94.9%"},
		{FormatPercent(99.97), "99.9%"}, // a shortfall never reads as 100%
		{FormatPercent(100), "100.0%"},
		{FormatPercent(0.01), "0.1%"},
		{FormatPercent(0), "0.0%"},
		{ofText(1234, 1300), "1,234 of 1,300 (94.9%)"},
		{minutesText(135), "2 h 15 min"},
		{minutesText(45), "45 min"},
		{minutesText(120), "2 h"},
		{minutesText(1440 + 190), "1 day 3 h"},
		{minutesText(0), "0 min"},
		{monthLabel("2026-06"), "Jun 2026"},
		{countText(Count{Label: "x", N: 3, Suppressed: true}), "fewer than 5"},
		{countText(Count{Label: "x", N: 1500}), "1,500"},
		{RAGWord("amber"), "Amber"},
		{RAGWord(""), "Not rated"},
		{RAGWord("grey"), "Not rated"},
		{dateText(calendar.Date(2026, 3, 3)), "3 March 2026"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
