package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/department/safeguarding-portal/internal/calendar"
)

// The fonts are embedded so that a report renders the same on every machine
// and never depends on what a server image happens to have installed.
var (
	//go:embed fonts/LiberationSans-Regular.ttf
	fontRegular []byte
	//go:embed fonts/LiberationSans-Bold.ttf
	fontBold []byte
)

const (
	fontFamily = "LiberationSans"
	authorName = "Partner Safeguarding Compliance Portal"

	// A4 portrait, in millimetres.
	pageW        = 210.0
	pageH        = 297.0
	marginL      = 18.0
	marginR      = 18.0
	marginTop    = 24.0
	marginBottom = 24.0 // content stops here; the footer lives below
	contentW     = pageW - marginL - marginR
	contentEnd   = pageH - marginBottom

	// greenThreshold is the share of staff meeting a requirement from which
	// the dashboard rates it green; the charts mark it.
	greenThreshold = 95.0
)

type rgb struct{ r, g, b int }

// GOV.UK Frontend's palette, so the PDF reads like the portal.
var (
	colText      = rgb{0x0b, 0x0c, 0x0c}
	colSecondary = rgb{0x50, 0x5a, 0x5f}
	colBorder    = rgb{0xb1, 0xb4, 0xb6}
	colLight     = rgb{0xf3, 0xf2, 0xf1}
	colGrid      = rgb{0xdd, 0xdf, 0xe1}
	colWhite     = rgb{0xff, 0xff, 0xff}
	colBlue      = rgb{0x1d, 0x70, 0xb8}
	colDarkBlue  = rgb{0x00, 0x30, 0x78}
	colLightBlue = rgb{0x56, 0x94, 0xca}
	colRed       = rgb{0xd4, 0x35, 0x1c}
	colAmber     = rgb{0xf4, 0x77, 0x38}
	colGreen     = rgb{0x00, 0x70, 0x3c}
	colGrey      = colSecondary // GOV.UK's grey tag is its secondary text colour
)

// RenderPDF renders a report's figures as the PDF a board reads: A4, every
// page marked, the same bytes for the same Report so that an archived
// report's SHA-256 can be checked by rendering it again.
func RenderPDF(r Report) ([]byte, error) {
	if r.GeneratedAt.IsZero() {
		return nil, errors.New("render report PDF: the report has no generation time")
	}
	d := newPDFDoc(r)
	d.cover()
	d.contractsSection()
	d.ratingsSection()
	d.requirementsSection()
	d.expiriesSection()
	d.vettingSection()
	d.incidentsSection()
	d.trendSection()
	d.inspectionsSection()
	d.actionsSection()
	d.escalationsSection()
	if err := d.f.Error(); err != nil {
		return nil, fmt.Errorf("render report %s PDF: %w", r.ID, err)
	}
	var buf bytes.Buffer
	if err := d.f.Output(&buf); err != nil {
		return nil, fmt.Errorf("render report %s PDF: %w", r.ID, err)
	}
	return buf.Bytes(), nil
}

// pdfDoc is one report being rendered.
type pdfDoc struct {
	f         *fpdf.Fpdf
	r         Report
	generated string // "7 December 2026 at 16:05"
	section   int
	// sectionTitle names a table continued onto another page.
	sectionTitle string
	ts           tableStyle // of the table being drawn
	tw           float64    // its width
}

func newPDFDoc(r Report) *pdfDoc {
	// Read in London whatever zone the value arrived in (a report read back
	// from the archive may carry UTC), so re-rendering gives the same bytes.
	at := r.GeneratedAt.In(calendar.London)
	d := &pdfDoc{r: r, generated: calendar.Format(at) + " at " + at.Format("15:04")}
	f := fpdf.New("P", "mm", "A4", "")
	d.f = f
	f.SetCatalogSort(true)
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetTitle(r.Title, true)
	f.SetAuthor(authorName, true)
	f.SetCreator(authorName, true)
	f.SetSubject(d.subjectLine(), true)
	f.SetLang("en-GB")
	// Before the fonts are added: fpdf sizes each font's subset by it.
	f.AliasNbPages("{nb}")
	f.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	f.AddUTF8FontFromBytes(fontFamily, "B", fontBold)
	f.SetMargins(marginL, marginTop, marginR)
	// Every block measures itself and breaks the page where it must, so that
	// no table row or chart is split by fpdf halfway through drawing it.
	f.SetAutoPageBreak(false, marginBottom)
	f.SetCellMargin(normalTable.margin)
	f.SetHeaderFuncMode(d.header, true)
	f.SetFooterFuncLpi(d.footer)
	d.font(false, 10)
	return d
}

func (d *pdfDoc) subjectLine() string {
	ed := "partner edition"
	if d.r.Edition == DepartmentEdition {
		ed = "department edition"
	}
	return "Governance report for " + d.r.Period.Label() + ", " + ed
}

func (d *pdfDoc) header() {
	f := d.f
	// A page may break in the middle of a table drawn with tighter cells.
	defer f.SetCellMargin(f.GetCellMargin())
	f.SetCellMargin(normalTable.margin)
	d.font(true, 9)
	d.textColour(colText)
	f.SetXY(marginL, 8)
	f.CellFormat(contentW, 5, Marking, "", 0, "C", false, 0, "")
	if f.PageNo() == 1 {
		return
	}
	d.font(false, 8)
	d.textColour(colSecondary)
	label := d.r.Period.Label()
	titleW := contentW - d.f.GetStringWidth(label) - 8
	f.SetXY(marginL, 14)
	f.CellFormat(titleW, 4, d.fitText(d.r.Title, titleW), "", 0, "L", false, 0, "")
	f.SetXY(marginL, 14)
	f.CellFormat(contentW, 4, label, "", 0, "R", false, 0, "")
	d.drawColour(colBorder)
	f.SetLineWidth(0.2)
	f.Line(marginL, 18.5, pageW-marginR, 18.5)
}

// footer writes the page count as fpdf's alias, except on the last page,
// which writes the number itself: fpdf subsets the font by the characters
// drawn, and the alias alone would not put the count's digits in it.
func (d *pdfDoc) footer(lastPage bool) {
	f := d.f
	defer f.SetCellMargin(f.GetCellMargin())
	f.SetCellMargin(normalTable.margin)
	y := pageH - 17
	d.drawColour(colBorder)
	f.SetLineWidth(0.2)
	f.Line(marginL, y-1.5, pageW-marginR, y-1.5)
	d.font(false, 8)
	d.textColour(colSecondary)
	total := "{nb}"
	if lastPage {
		total = strconv.Itoa(f.PageNo())
	}
	f.SetXY(marginL, y)
	f.CellFormat(contentW/3, 4, "Page "+strconv.Itoa(f.PageNo())+" of "+total, "", 0, "L", false, 0, "")
	f.SetXY(marginL, y)
	f.CellFormat(contentW, 4, "Report "+d.r.ID+"    Generated "+d.generated, "", 0, "R", false, 0, "")
	d.font(true, 9)
	d.textColour(colText)
	f.SetXY(marginL, y+5)
	f.CellFormat(contentW, 5, Marking, "", 0, "C", false, 0, "")
}

// Drawing state.

func (d *pdfDoc) font(bold bool, size float64) {
	style := ""
	if bold {
		style = "B"
	}
	d.f.SetFont(fontFamily, style, size)
}

func (d *pdfDoc) textColour(c rgb) { d.f.SetTextColor(c.r, c.g, c.b) }
func (d *pdfDoc) fillColour(c rgb) { d.f.SetFillColor(c.r, c.g, c.b) }
func (d *pdfDoc) drawColour(c rgb) { d.f.SetDrawColor(c.r, c.g, c.b) }

// lineHeight is the leading for text of size pt, in millimetres.
func lineHeight(size float64) float64 { return size * 0.3528 * 1.38 }

// Flow.

// ensure starts a new page unless h millimetres remain on this one; it
// reports whether it did.
func (d *pdfDoc) ensure(h float64) bool {
	if d.f.GetY()+h <= contentEnd {
		return false
	}
	d.f.AddPage()
	return true
}

func (d *pdfDoc) atTop() bool { return d.f.GetY() <= marginTop+0.1 }

func (d *pdfDoc) gap(h float64) {
	if d.atTop() {
		return
	}
	d.f.SetY(d.f.GetY() + h)
}

// sectionHeading starts a numbered section, keeping keep millimetres of what
// follows on the same page as the heading.
func (d *pdfDoc) sectionHeading(title string, keep float64) {
	d.section++
	d.sectionTitle = title
	text := strconv.Itoa(d.section) + ". " + title
	d.gap(7)
	d.ensure(11 + keep)
	d.font(true, 16)
	d.textColour(colText)
	d.f.Bookmark(text, 0, -1)
	for _, line := range d.f.SplitText(text, contentW) {
		d.f.SetX(marginL)
		d.f.CellFormat(contentW, 7.5, line, "", 1, "L", false, 0, "")
	}
	d.f.SetY(d.f.GetY() + 2.5)
}

// subHeading heads a part of a section, such as one contract's figures.
func (d *pdfDoc) subHeading(text string, keep float64, bookmark bool) {
	d.gap(4)
	d.font(true, 12)
	lines := d.f.SplitText(text, contentW)
	d.ensure(float64(len(lines))*5.6 + 1.5 + keep)
	d.textColour(colText)
	if bookmark {
		d.f.Bookmark(text, 1, -1)
	}
	for _, line := range lines {
		d.f.SetX(marginL)
		d.f.CellFormat(contentW, 5.6, line, "", 1, "L", false, 0, "")
	}
	d.f.SetY(d.f.GetY() + 1.5)
}

// para writes wrapped text, breaking the page between lines where needed.
func (d *pdfDoc) para(text string, size float64, bold bool, c rgb) {
	d.paraAt(marginL, contentW, text, size, bold, c)
}

func (d *pdfDoc) paraAt(x, w float64, text string, size float64, bold bool, c rgb) {
	d.font(bold, size)
	d.textColour(c)
	lh := lineHeight(size)
	for _, line := range d.f.SplitText(text, w) {
		d.ensure(lh)
		d.f.SetX(x)
		d.f.CellFormat(w, lh, line, "", 1, "L", false, 0, "")
	}
	d.f.SetY(d.f.GetY() + 1.2)
}

// bullets writes a list, each item wrapped under its own text.
func (d *pdfDoc) bullets(items []string, size float64) {
	d.font(false, size)
	d.textColour(colText)
	lh := lineHeight(size)
	indent := 5.0
	for _, item := range items {
		lines := d.f.SplitText(item, contentW-indent)
		for i, line := range lines {
			// Keep an item's first two lines together.
			need := lh
			if i == 0 && len(lines) > 1 {
				need = 2 * lh
			}
			d.ensure(need)
			y := d.f.GetY()
			if i == 0 {
				d.fillColour(colText)
				d.f.Circle(marginL+2, y+lh/2, 0.55, "F")
			}
			d.f.SetXY(marginL+indent, y)
			d.f.CellFormat(contentW-indent, lh, line, "", 1, "L", false, 0, "")
		}
	}
	d.f.SetY(d.f.GetY() + 1.2)
}

// ragTag draws a rating as GOV.UK draws a tag: the word on its colour,
// never the colour alone. It returns the tag's width.
func (d *pdfDoc) ragTag(x, y float64, rag string, size float64) float64 {
	d.font(true, size)
	word := RAGWord(rag)
	w := d.f.GetStringWidth(word) + 4
	h := lineHeight(size) + 0.8
	d.fillColour(ragColour(rag))
	d.f.Rect(x, y, w, h, "F")
	d.textColour(ragTextColour(rag))
	d.f.SetXY(x, y)
	d.f.CellFormat(w, h, word, "", 0, "C", false, 0, "")
	d.textColour(colText)
	return w
}

// fitText shortens text with an ellipsis to fit w in the current font.
func (d *pdfDoc) fitText(text string, w float64) string {
	w -= 2 * d.f.GetCellMargin()
	if d.f.GetStringWidth(text) <= w {
		return text
	}
	runes := []rune(text)
	for len(runes) > 0 && d.f.GetStringWidth(string(runes)+"…") > w {
		runes = runes[:len(runes)-1]
	}
	return strings.TrimRight(string(runes), " ,;:") + "…"
}

// wrapLines splits text to w, keeping at most max lines (the last
// shortened with an ellipsis when text is cut).
func (d *pdfDoc) wrapLines(text string, w float64, maxLines int) []string {
	lines := d.f.SplitText(text, w)
	if len(lines) == 0 {
		return []string{""}
	}
	if maxLines > 0 && len(lines) > maxLines {
		rest := strings.Join(lines[maxLines-1:], " ")
		lines = append(lines[:maxLines-1], d.fitText(rest, w))
	}
	return lines
}

// Words and numbers as printed.

// RAGWord is a rating as the report names it: never colour alone.
func RAGWord(rag string) string {
	switch strings.ToLower(rag) {
	case "red":
		return "Red"
	case "amber":
		return "Amber"
	case "green":
		return "Green"
	}
	return "Not rated"
}

func ragColour(rag string) rgb {
	switch strings.ToLower(rag) {
	case "red":
		return colRed
	case "amber":
		return colAmber
	case "green":
		return colGreen
	}
	return colGrey
}

// ragTextColour is the text colour readable on a rating's colour: white
// text on the orange fails contrast, so amber takes black.
func ragTextColour(rag string) rgb {
	if strings.ToLower(rag) == "amber" {
		return colText
	}
	return colWhite
}

// ragKeys are the ratings in the order a reader expects them.
var ragKeys = []string{"red", "amber", "green", "grey"}

// FormatCount writes a count with thousands separators, "1,234", as the
// PDF and the accessible page both print it.
func FormatCount(n int) string {
	if n < 0 {
		return "-" + FormatCount(-n)
	}
	s := strconv.Itoa(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// FormatPercent writes a share to one decimal place, never rounding a shortfall up to
// 100% or a few down to none.
func FormatPercent(p float64) string {
	s := strconv.FormatFloat(p, 'f', 1, 64)
	switch {
	case p < 100 && s == "100.0":
		s = "99.9"
	case p > 0 && s == "0.0":
		s = "0.1"
	}
	return s + "%"
}

// ofText is "1,234 of 1,300 (94.9%)".
func ofText(n, of int) string {
	return FormatCount(n) + " of " + FormatCount(of) + " (" + FormatPercent(percent(n, of)) + ")"
}

// countText prints a breakdown's count; a suppressed one only as its Text,
// so the number behind it is never drawn.
func countText(c Count) string {
	if c.Suppressed {
		return c.Text()
	}
	return FormatCount(c.N)
}

// minutesText is a lateness as people read it: "2 h 15 min", "1 day 3 h".
func minutesText(m int) string {
	if m <= 0 {
		return "0 min"
	}
	days, hours, mins := m/1440, m%1440/60, m%60
	var parts []string
	if days == 1 {
		parts = append(parts, "1 day")
	} else if days > 1 {
		parts = append(parts, strconv.Itoa(days)+" days")
	}
	if hours > 0 {
		parts = append(parts, strconv.Itoa(hours)+" h")
	}
	if mins > 0 && days == 0 {
		parts = append(parts, strconv.Itoa(mins)+" min")
	}
	return strings.Join(parts, " ")
}

// monthLabel is "Jun 2026" for "2026-06".
func monthLabel(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.Format("Jan 2006")
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return calendar.Format(calendar.Day(t))
}

// niceStep is a round step (1, 2 or 5 times a power of ten) giving at most
// about five intervals up to top.
func niceStep(top float64) float64 {
	if top <= 0 {
		return 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step := m * mag; step >= raw {
			return math.Max(1, step)
		}
	}
	return math.Max(1, 10*mag)
}

// niceMax rounds highest up to a whole number of steps.
func niceMax(highest float64) (top, step float64) {
	step = niceStep(highest)
	top = math.Ceil(highest/step) * step
	if top < step {
		top = step
	}
	return top, step
}

func plural(n int, one, many string) string {
	if n == 1 {
		return FormatCount(n) + " " + one
	}
	return FormatCount(n) + " " + many
}
