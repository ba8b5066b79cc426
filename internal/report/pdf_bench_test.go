package report

import "testing"

// BenchmarkRenderContractPDF renders one contract with 12 requirements,
// 40 open actions, 20 inspections and a 12-month trend.
func BenchmarkRenderContractPDF(b *testing.B) {
	r := fixtureContractReport()
	if n := len(r.Contracts[0].Actions); n != 40 {
		b.Fatalf("fixture has %d actions", n)
	}
	benchmarkRender(b, r)
}

// BenchmarkRenderPortfolioPDF renders the portfolio: 60 contracts side by
// side.
func BenchmarkRenderPortfolioPDF(b *testing.B) {
	r := fixturePortfolioReport()
	if n := len(r.Contracts); n != 60 {
		b.Fatalf("fixture has %d contracts", n)
	}
	benchmarkRender(b, r)
}

func benchmarkRender(b *testing.B, r Report) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		pdf, err := RenderPDF(r)
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}
