package report

import (
	"math"
	"strings"
)

// Charts are drawn with fpdf's own lines, rectangles and text: vector
// output costs nothing to render, prints sharply, and keeps every label as
// text a reader (or pdftotext) can pick out.

// hbar is one bar of a horizontal bar chart.
type hbar struct {
	label string
	value float64
	text  string // printed after the bar
	// suppressed bars are drawn hatched from zero to the suppression
	// limit, which is all the reader may know about them.
	suppressed bool
}

type hbarChart struct {
	caption string
	bars    []hbar
	max     float64 // the axis' end
	step    float64 // between ticks
	tick    func(float64) string
	// marker, when above zero, is drawn as a dashed line labelled
	// markerText (the green threshold).
	marker     float64
	markerText string
	colour     rgb
	note       string // under the chart
}

const (
	chartFont     = 7.5
	hbarLabelW    = 58.0
	hbarValueW    = 20.0
	hbarRowH      = 7.0
	hbarBarH      = 4.2
	hbarTopPad    = 7.0 // room for the marker's label
	hbarAxisH     = 9.0
	chartCaptionH = 7.0
)

func (d *pdfDoc) drawHBarChart(c hbarChart) {
	if len(c.bars) == 0 {
		return
	}
	// Measure each label (up to two lines) to size the rows.
	d.font(false, chartFont)
	labels := make([][]string, len(c.bars))
	rowH := hbarRowH
	for i, b := range c.bars {
		labels[i] = d.wrapLines(b.label, hbarLabelW-2, 2)
		rowH = math.Max(rowH, float64(len(labels[i]))*3.3+2)
	}
	topPad := 2.0
	if c.marker > 0 {
		topPad = hbarTopPad
	}
	chrome := chartCaptionH + topPad + hbarAxisH
	if c.note != "" {
		chrome += 6
	}
	for start := 0; start < len(c.bars); {
		avail := contentEnd - d.f.GetY() - chrome
		if avail < 3*rowH || (start == 0 && avail < float64(len(c.bars))*rowH && float64(len(c.bars))*rowH < contentEnd-marginTop-chrome) {
			// Start on a fresh page when the chart would otherwise be
			// split though it fits on one.
			d.f.AddPage()
			avail = contentEnd - d.f.GetY() - chrome
		}
		n := min(len(c.bars)-start, int(avail/rowH))
		caption := c.caption
		if start > 0 {
			caption += " (continued)"
		}
		d.drawHBarChunk(c, caption, labels[start:start+n], c.bars[start:start+n], rowH, topPad)
		start += n
	}
}

// chartCaption writes a chart's caption above it, cut to one line.
func (d *pdfDoc) chartCaption(caption string) {
	d.font(true, 10)
	d.textColour(colText)
	d.f.SetX(marginL)
	d.f.CellFormat(contentW, chartCaptionH, d.fitText(caption, contentW), "", 1, "L", false, 0, "")
}

func (d *pdfDoc) drawHBarChunk(c hbarChart, caption string, labels [][]string, bars []hbar, rowH, topPad float64) {
	f := d.f
	d.chartCaption(caption)

	top := f.GetY() + topPad
	plotX := marginL + hbarLabelW
	plotW := contentW - hbarLabelW - hbarValueW
	plotH := float64(len(bars)) * rowH
	bottom := top + plotH
	xAt := func(v float64) float64 { return plotX + plotW*math.Min(v, c.max)/c.max }

	// Grid and axis.
	f.SetLineWidth(0.15)
	d.drawColour(colGrid)
	d.font(false, chartFont)
	d.textColour(colSecondary)
	for v := 0.0; v <= c.max+1e-9; v += c.step {
		x := xAt(v)
		if v > 0 {
			f.Line(x, top, x, bottom)
		}
		label := c.tick(v)
		w := f.GetStringWidth(label)
		f.Text(x-w/2, bottom+4.2, label)
	}
	d.drawColour(colSecondary)
	f.SetLineWidth(0.3)
	f.Line(plotX, top-1, plotX, bottom)
	f.Line(plotX, bottom, plotX+plotW, bottom)
	f.SetLineWidth(0.15)
	for v := 0.0; v <= c.max+1e-9; v += c.step {
		f.Line(xAt(v), bottom, xAt(v), bottom+1.2)
	}

	// Bars.
	for i, b := range bars {
		y := top + float64(i)*rowH
		// Label, right-aligned against the axis and centred on the bar.
		d.font(false, chartFont)
		d.textColour(colText)
		lines := labels[i]
		lh := 3.3
		ly := y + (rowH-float64(len(lines))*lh)/2
		for j, line := range lines {
			f.SetXY(marginL, ly+float64(j)*lh)
			f.CellFormat(hbarLabelW-1, lh, line, "", 0, "R", false, 0, "")
		}
		by := y + (rowH-hbarBarH)/2
		end := xAt(b.value)
		if b.suppressed {
			end = xAt(SuppressBelow)
			d.hatch(plotX, by, end-plotX, hbarBarH, c.colour)
		} else if end > plotX {
			d.fillColour(c.colour)
			f.Rect(plotX, by, end-plotX, hbarBarH, "F")
		}
		// Values follow their bars, or with a marker stand in a column of
		// their own so the marker never strikes through them.
		d.font(false, chartFont)
		d.textColour(colText)
		vx := end + 0.8
		if c.marker > 0 {
			vx = plotX + plotW + 1
		}
		f.SetXY(vx, y+(rowH-lh)/2)
		f.CellFormat(hbarValueW-1, lh, b.text, "", 0, "L", false, 0, "")
	}

	// The marker, drawn over the bars so it is seen where they cross it.
	if c.marker > 0 {
		x := xAt(c.marker)
		d.drawColour(colGreen)
		f.SetLineWidth(0.4)
		f.SetDashPattern([]float64{1.2, 0.9}, 0)
		f.Line(x, top-2, x, bottom)
		f.SetDashPattern(nil, 0)
		d.font(true, chartFont)
		d.textColour(colGreen)
		w := f.GetStringWidth(c.markerText)
		f.Text(x-w-1, top-2.8, c.markerText)
	}
	f.SetY(bottom + hbarAxisH)
	if c.note != "" {
		d.paraAt(marginL, contentW, c.note, 8, false, colSecondary)
	}
	f.SetY(f.GetY() + 2)
}

// hatch draws an outlined box with diagonal lines: a bar whose length is
// not known, only bounded.
func (d *pdfDoc) hatch(x, y, w, h float64, c rgb) {
	f := d.f
	d.drawColour(c)
	f.SetLineWidth(0.25)
	f.ClipRect(x, y, w, h, false)
	for lx := x - h; lx < x+w; lx += 1.2 {
		f.Line(lx, y+h, lx+h, y)
	}
	f.ClipEnd()
	f.SetDashPattern([]float64{0.8, 0.6}, 0)
	f.Rect(x, y, w, h, "D")
	f.SetDashPattern(nil, 0)
}

// monthAxis draws month labels under a plot of n evenly spaced months,
// on two lines ("Jun" over "2026") when one would crowd its neighbours.
func (d *pdfDoc) monthAxis(months []string, xAt func(int) float64, y float64) float64 {
	f := d.f
	d.font(false, chartFont)
	d.textColour(colSecondary)
	spacing := 1e9
	if len(months) > 1 {
		spacing = xAt(1) - xAt(0)
	}
	twoLines := false
	for _, m := range months {
		if f.GetStringWidth(monthLabel(m))+1.5 > spacing {
			twoLines = true
		}
	}
	for i, m := range months {
		label := monthLabel(m)
		if !twoLines {
			f.Text(xAt(i)-f.GetStringWidth(label)/2, y+3.5, label)
			continue
		}
		parts := strings.SplitN(label, " ", 2)
		for j, p := range parts {
			f.Text(xAt(i)-f.GetStringWidth(p)/2, y+3.5+float64(j)*3.2, p)
		}
	}
	if twoLines {
		return 8
	}
	return 5
}

const (
	trendYLabelW = 13.0
	trendPlotH   = 48.0
)

// drawLineChart plots a percentage by month: points joined where
// consecutive months both have a figure, gaps where a month has none.
func (d *pdfDoc) drawLineChart(caption string, months []string, values []*float64) {
	f := d.f
	lo := 100.0
	seen := false
	for _, v := range values {
		if v != nil {
			lo = math.Min(lo, *v)
			seen = true
		}
	}
	if !seen {
		return
	}
	// Start the axis below the lowest figure so changes can be seen; the
	// axis is labelled, and a line chart (unlike a bar) reads true from a
	// non-zero base.
	lo = math.Max(0, math.Min(80, math.Floor(lo/10)*10-10))
	step := 10.0
	if 100-lo > 50 {
		step = 20
	}
	lo = 100 - math.Ceil((100-lo)/step)*step

	height := chartCaptionH + 6 + trendPlotH + 14
	d.ensure(height)
	d.chartCaption(caption)
	top := f.GetY() + 6
	plotX := marginL + trendYLabelW
	plotW := contentW - trendYLabelW - 2
	bottom := top + trendPlotH
	n := len(months)
	xAt := func(i int) float64 { return plotX + (float64(i)+0.5)*plotW/float64(n) }
	yAt := func(v float64) float64 { return bottom - trendPlotH*(v-lo)/(100-lo) }

	d.font(false, chartFont)
	for v := lo; v <= 100+1e-9; v += step {
		y := yAt(v)
		d.drawColour(colGrid)
		f.SetLineWidth(0.15)
		if v > lo {
			f.Line(plotX, y, plotX+plotW, y)
		}
		d.textColour(colSecondary)
		label := pct0(v)
		f.Text(plotX-1.5-f.GetStringWidth(label), y+1.1, label)
	}
	d.drawColour(colSecondary)
	f.SetLineWidth(0.3)
	f.Line(plotX, top, plotX, bottom)
	f.Line(plotX, bottom, plotX+plotW, bottom)

	// The green threshold.
	if greenThreshold > lo {
		y := yAt(greenThreshold)
		d.drawColour(colGreen)
		f.SetLineWidth(0.4)
		f.SetDashPattern([]float64{1.2, 0.9}, 0)
		f.Line(plotX, y, plotX+plotW, y)
		f.SetDashPattern(nil, 0)
		d.font(true, chartFont)
		d.textColour(colGreen)
		label := "95% green threshold"
		f.Text(plotX+plotW-f.GetStringWidth(label), top-2.2, label)
	}

	d.drawColour(colBlue)
	f.SetLineWidth(0.6)
	for i := 1; i < n; i++ {
		if values[i-1] != nil && values[i] != nil {
			f.Line(xAt(i-1), yAt(*values[i-1]), xAt(i), yAt(*values[i]))
		}
	}
	d.fillColour(colBlue)
	d.font(false, chartFont)
	d.textColour(colText)
	for i, v := range values {
		if v == nil {
			continue
		}
		x, y := xAt(i), yAt(*v)
		f.Circle(x, y, 1.0, "F")
		label := FormatPercent(*v)
		// Above a peak, below a trough, so the line leaves the label
		// clear; and away from the threshold line.
		above, below := y-2.2, y+4.4
		base := above
		if neighbours := neighbourMean(values, i); neighbours != nil && *v < *neighbours {
			base = below
		}
		if greenThreshold > lo {
			ty := yAt(greenThreshold)
			crosses := func(b float64) bool { return ty > b-2.6 && ty < b+0.9 }
			if crosses(base) {
				if base == above {
					base = below
				} else {
					base = above
				}
			}
		}
		f.Text(x-f.GetStringWidth(label)/2, base, label)
	}
	h := d.monthAxis(months, xAt, bottom)
	f.SetY(bottom + h + 2)
}

// neighbourMean is the mean of the figures either side of month i, nil
// with neither.
func neighbourMean(values []*float64, i int) *float64 {
	var sum float64
	n := 0
	for _, j := range []int{i - 1, i + 1} {
		if j >= 0 && j < len(values) && values[j] != nil {
			sum += *values[j]
			n++
		}
	}
	if n == 0 {
		return nil
	}
	m := sum / float64(n)
	return &m
}

// drawMonthBars plots two counts a month side by side, with a legend that
// names each series.
func (d *pdfDoc) drawMonthBars(caption string, months []string, a, b []int, aName, bName string) {
	f := d.f
	maxV := 0
	for i := range months {
		maxV = max(maxV, a[i], b[i])
	}
	top, step := niceMax(float64(maxV))

	height := chartCaptionH + 8 + trendPlotH + 14
	d.ensure(height)
	d.chartCaption(caption)

	// Legend.
	ly := f.GetY() + 1
	x := marginL + trendYLabelW
	d.font(false, chartFont)
	for _, s := range []struct {
		name string
		c    rgb
	}{{aName, colLightBlue}, {bName, colDarkBlue}} {
		d.fillColour(s.c)
		f.Rect(x, ly, 3, 3, "F")
		d.textColour(colText)
		f.Text(x+4, ly+2.6, s.name)
		x += 4 + f.GetStringWidth(s.name) + 6
	}

	plotTop := ly + 8
	plotX := marginL + trendYLabelW
	plotW := contentW - trendYLabelW - 2
	bottom := plotTop + trendPlotH
	n := len(months)
	slot := plotW / float64(n)
	xAt := func(i int) float64 { return plotX + (float64(i)+0.5)*slot }
	yAt := func(v float64) float64 { return bottom - trendPlotH*v/top }

	d.font(false, chartFont)
	for v := 0.0; v <= top+1e-9; v += step {
		y := yAt(v)
		if v > 0 {
			d.drawColour(colGrid)
			f.SetLineWidth(0.15)
			f.Line(plotX, y, plotX+plotW, y)
		}
		d.textColour(colSecondary)
		label := FormatCount(int(v))
		f.Text(plotX-1.5-f.GetStringWidth(label), y+1.1, label)
	}

	barW := math.Min(8, slot*0.36)
	for i := range months {
		for k, v := range []int{a[i], b[i]} {
			c := colLightBlue
			if k == 1 {
				c = colDarkBlue
			}
			bx := xAt(i) - barW + float64(k)*barW
			y := yAt(float64(v))
			if v > 0 {
				d.fillColour(c)
				f.Rect(bx, y, barW, bottom-y, "F")
			}
			label := FormatCount(v)
			d.textColour(colText)
			if w := f.GetStringWidth(label); w <= barW+1.5 {
				f.Text(bx+(barW-w)/2, y-1, label)
			}
		}
	}
	d.drawColour(colSecondary)
	f.SetLineWidth(0.3)
	f.Line(plotX, plotTop, plotX, bottom)
	f.Line(plotX, bottom, plotX+plotW, bottom)
	h := d.monthAxis(months, xAt, bottom)
	f.SetY(bottom + h + 2)
}

// pct0 prints a whole percentage, for axis ticks: "90%".
func pct0(v float64) string { return FormatCount(int(math.Round(v))) + "%" }
