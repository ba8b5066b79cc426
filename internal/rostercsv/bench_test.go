package rostercsv_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/department/safeguarding-portal/internal/rostercsv"
)

// roster10000 is a realistic file: every row valid, all optional columns used.
func roster10000() []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff" + header + "\r\n")
	cats := []string{"customer_facing_adults", "regulated_activity_children", "Not customer-facing"}
	for i := range 10_000 {
		leaving := ""
		if i%10 == 0 {
			leaving = "31/03/2025"
		}
		fmt.Fprintf(&b, "NG-%06d,\"Surname%d, Forename\",person%d@northgate.example,Interview officer,%s,Lunar House; Croydon Hub,%02d/%02d/2023,%s\r\n",
			i, i, i, cats[i%3], i%28+1, i%12+1, leaving)
	}
	return b.Bytes()
}

func BenchmarkParse10000(b *testing.B) {
	in := roster10000()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := rostercsv.Parse(bytes.NewReader(in), opts())
		if err != nil || len(res.Rows) != 10_000 {
			b.Fatalf("Parse: %d rows, %v", len(res.Rows), err)
		}
	}
}

func BenchmarkExport10000(b *testing.B) {
	res, err := rostercsv.Parse(bytes.NewReader(roster10000()), opts())
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]rostercsv.ExportRow, len(res.Rows))
	for i, r := range res.Rows {
		rows[i] = rostercsv.ExportRow{StaffNumber: r.StaffNumber, Name: r.Name, Email: r.Email, RoleTitle: r.RoleTitle,
			Category: r.Category, Sites: r.Sites, StartDate: r.StartDate, LeavingDate: r.LeavingDate, Active: true}
	}
	b.ReportAllocs()
	for b.Loop() {
		var out bytes.Buffer
		e := rostercsv.NewExporter(&out)
		for _, r := range rows {
			if err := e.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
