package report

import (
	"math"
	"strings"
)

// Tables are drawn row by row with every cell measured first, so that a row
// is never split across pages and the header repeats wherever the table
// continues.

const tablePadY = 1.4

// tableStyle is the type size of a table: wide tables take a smaller size
// and tighter cells so that sixty contracts still fit a line each.
type tableStyle struct {
	font, lineH, margin float64
}

var (
	normalTable = tableStyle{font: 8.5, lineH: 3.9, margin: 1.5}
	wideTable   = tableStyle{font: 7.8, lineH: 3.6, margin: 1.1}
)

// col is a table column: its heading, its width (relative: the widths are
// scaled to fill the page) and its alignment ("L" or "R"; numbers right).
type col struct {
	title string
	w     float64
	align string
	// nowrap columns (dates; right-aligned numbers always) are widened to
	// their longest text rather than wrapped.
	nowrap bool
}

// cell is a table cell; one with a rag draws the rating as a swatch and its
// word.
type cell struct {
	text string
	rag  string
	bold bool
}

// row is a table row; detail, when set, is written across the full width
// beneath it (an inspection's findings) and kept on the same page.
type row struct {
	cells       []cell
	detailLabel string
	detail      string
}

func left(title string, w float64) col    { return col{title: title, w: w, align: "L"} }
func right(title string, w float64) col   { return col{title: title, w: w, align: "R"} }
func dateCol(title string, w float64) col { return col{title: title, w: w, align: "L", nowrap: true} }

func txt(s string) cell  { return cell{text: s} }
func bold(s string) cell { return cell{text: s, bold: true} }
func numCell(n int) cell { return cell{text: FormatCount(n)} }
func ragCell(rag string) cell {
	return cell{text: RAGWord(rag), rag: rag}
}

type laidRow struct {
	lines   [][]string
	h       float64
	detail  []string
	detailH float64
}

const swatchW = 3.6

func (d *pdfDoc) layoutRow(cols []col, widths []float64, cells []cell, header bool) laidRow {
	lr := laidRow{lines: make([][]string, len(cols))}
	maxLines := 1
	for i := range cols {
		var c cell
		if i < len(cells) {
			c = cells[i]
		}
		d.font(header || c.bold, d.ts.font)
		w := widths[i]
		if c.rag != "" {
			w -= swatchW
		}
		lines := d.f.SplitText(c.text, w)
		if len(lines) == 0 {
			lines = []string{""}
		}
		lr.lines[i] = lines
		maxLines = max(maxLines, len(lines))
	}
	lr.h = float64(maxLines)*d.ts.lineH + 2*tablePadY
	return lr
}

func (d *pdfDoc) layoutDetail(r row, w float64) ([]string, float64) {
	if r.detail == "" {
		return nil, 0
	}
	d.font(false, d.ts.font)
	lines := d.f.SplitText(r.detail, w)
	return lines, float64(len(lines))*d.ts.lineH + tablePadY
}

// columnWidths lays out columns as a browser lays out an automatic table:
// every column gets at least its longest word (its longest text, for
// columns that do not wrap) so no word is broken across lines, and the
// rest of the page goes to the columns whose text would otherwise wrap, in
// proportion to how much more they want. Room to spare is shared by the
// columns' weights.
func (d *pdfDoc) columnWidths(cols []col, heads []cell, rows []row) []float64 {
	n := len(cols)
	margin := 2*d.f.GetCellMargin() + 0.2
	minW := make([]float64, n)
	maxW := make([]float64, n)
	measure := func(i int, c cell, header bool) {
		d.font(header || c.bold, d.ts.font)
		extra := margin
		if c.rag != "" {
			extra += swatchW
		}
		for _, line := range strings.Split(c.text, "\n") {
			full := d.f.GetStringWidth(line) + extra
			// Headings wrap before the figures under them do.
			if !header {
				maxW[i] = math.Max(maxW[i], full)
			}
			if !header && (cols[i].nowrap || cols[i].align == "R" || c.rag != "") {
				minW[i] = math.Max(minW[i], full)
				continue
			}
			for _, word := range strings.Fields(line) {
				minW[i] = math.Max(minW[i], d.f.GetStringWidth(word)+extra)
			}
			maxW[i] = math.Max(maxW[i], minW[i])
		}
	}
	for i := range cols {
		measure(i, heads[i], true)
		for _, r := range rows {
			if i < len(r.cells) {
				measure(i, r.cells[i], false)
			}
		}
	}
	var sumMin, sumMax, weight float64
	for i, c := range cols {
		sumMin += minW[i]
		sumMax += maxW[i]
		weight += c.w
	}
	widths := make([]float64, n)
	switch {
	case sumMin >= d.tw:
		// Too many columns to fit whole words: share by need.
		for i := range cols {
			widths[i] = minW[i] * d.tw / sumMin
		}
	case sumMax <= d.tw:
		for i, c := range cols {
			widths[i] = maxW[i] + (d.tw-sumMax)*c.w/weight
		}
	default:
		share := (d.tw - sumMin) / (sumMax - sumMin)
		for i := range cols {
			widths[i] = minW[i] + (maxW[i]-minW[i])*share
		}
	}
	return widths
}

// table draws rows under a caption (which may be empty). The caption is
// repeated, marked "continued", with the header on every page the table
// runs onto.
func (d *pdfDoc) table(caption string, cols []col, rows []row) {
	d.tableW(caption, contentW, cols, rows)
}

// tableW draws a table narrower than the page, for a short one that would
// otherwise leave its figures far from their labels.
func (d *pdfDoc) tableW(caption string, width float64, cols []col, rows []row) {
	f := d.f
	d.tw = width
	d.ts = normalTable
	if len(cols) >= 9 {
		d.ts = wideTable
	}
	f.SetCellMargin(d.ts.margin)
	defer f.SetCellMargin(normalTable.margin)
	heads := make([]cell, len(cols))
	for i, c := range cols {
		heads[i] = cell{text: c.title}
	}
	widths := d.columnWidths(cols, heads, rows)
	head := d.layoutRow(cols, widths, heads, true)
	const captionH = 6.0

	drawCaption := func(continued bool) {
		if caption == "" && !continued {
			return
		}
		text := caption
		if continued {
			if text == "" {
				text = d.sectionTitle
			}
			text += " (continued)"
			d.font(false, 9)
			d.textColour(colSecondary)
		} else {
			d.font(true, 10)
			d.textColour(colText)
		}
		f.SetX(marginL)
		f.CellFormat(contentW, captionH, d.fitText(text, contentW), "", 1, "L", false, 0, "")
	}
	drawHeader := func() {
		y := f.GetY()
		d.fillColour(colLight)
		f.Rect(marginL, y, d.tw, head.h, "F")
		d.drawRow(cols, widths, heads, head, y, true)
		d.drawColour(colSecondary)
		f.SetLineWidth(0.3)
		f.Line(marginL, y+head.h, marginL+d.tw, y+head.h)
		f.SetY(y + head.h)
	}

	laid := make([]laidRow, len(rows))
	for i, r := range rows {
		laid[i] = d.layoutRow(cols, widths, r.cells, false)
		laid[i].detail, laid[i].detailH = d.layoutDetail(r, d.tw-widths[0])
	}
	height := func(i int) float64 { return laid[i].h + laid[i].detailH }
	for i, r := range rows {
		lr := laid[i]
		need := height(i)
		// A table's last row does not go over a page on its own.
		if n := len(rows); n >= 4 && i == n-2 {
			need += height(n - 1)
		}
		if i == 0 {
			ch := 0.0
			if caption != "" {
				ch = captionH
			}
			d.ensure(ch + head.h + need)
			drawCaption(false)
			drawHeader()
		} else if f.GetY()+need > contentEnd {
			f.AddPage()
			drawCaption(true)
			drawHeader()
		}
		y := f.GetY()
		d.drawRow(cols, widths, r.cells, lr, y, false)
		y += lr.h
		if lr.detail != nil {
			// The label sits under the first column, the text across the rest.
			d.font(true, d.ts.font)
			d.textColour(colText)
			f.SetXY(marginL, y)
			f.CellFormat(widths[0], d.ts.lineH, r.detailLabel, "", 0, "L", false, 0, "")
			d.font(false, d.ts.font)
			for j, line := range lr.detail {
				f.SetXY(marginL+widths[0], y+float64(j)*d.ts.lineH)
				f.CellFormat(d.tw-widths[0], d.ts.lineH, line, "", 0, "L", false, 0, "")
			}
			y += lr.detailH
		}
		d.drawColour(colBorder)
		f.SetLineWidth(0.2)
		f.Line(marginL, y, marginL+d.tw, y)
		f.SetY(y)
	}
	f.SetY(f.GetY() + 3)
}

func (d *pdfDoc) drawRow(cols []col, widths []float64, cells []cell, lr laidRow, y float64, header bool) {
	f := d.f
	x := marginL
	for i := range cols {
		var c cell
		if i < len(cells) {
			c = cells[i]
		}
		d.font(header || c.bold, d.ts.font)
		d.textColour(colText)
		w := widths[i]
		tx := x
		if c.rag != "" {
			d.fillColour(ragColour(c.rag))
			f.Rect(x+f.GetCellMargin(), y+tablePadY+(d.ts.lineH-2.6)/2, 2.6, 2.6, "F")
			tx += swatchW
			w -= swatchW
		}
		align := cols[i].align
		if align == "" {
			align = "L"
		}
		for j, line := range lr.lines[i] {
			f.SetXY(tx, y+tablePadY+float64(j)*d.ts.lineH)
			f.CellFormat(w, d.ts.lineH, line, "", 0, align, false, 0, "")
		}
		x += widths[i]
	}
}
