package report

import (
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
)

func TestPeriods(t *testing.T) {
	for _, c := range []struct {
		name, from, to, label string
	}{
		{"2026-11", "2026-11-01", "2026-11-30", "November 2026"},
		{"2024-02", "2024-02-01", "2024-02-29", "February 2024"},
		{"2026-Q3", "2026-07-01", "2026-09-30", "July to September 2026 (2026-Q3)"},
		{"2026-q4", "2026-10-01", "2026-12-31", "October to December 2026 (2026-Q4)"},
	} {
		p, err := ParsePeriod(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.From.Format(time.DateOnly) != c.from || p.To.Format(time.DateOnly) != c.to || p.Label() != c.label {
			t.Errorf("%s = %s to %s %q", c.name, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), p.Label())
		}
	}
	for _, bad := range []string{"", "2026-13", "2026-Q5", "2026-Q0", "26-11", "2026-11-01", "1999-01", "Q3-2026"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
	p, err := CustomPeriod("2026-03-29", "2026-04-02")
	if err != nil || p.Label() != "29 March 2026 to 2 April 2026" {
		t.Fatalf("custom = %q, %v", p.Label(), err)
	}
	// The period runs from London midnight, an hour before UTC's in summer.
	if got := p.End().UTC().Format(time.RFC3339); got != "2026-04-02T23:00:00Z" {
		t.Errorf("end = %s, want London midnight after 2 April", got)
	}
	if got := p.Start().UTC().Format(time.RFC3339); got != "2026-03-29T00:00:00Z" {
		t.Errorf("start = %s, want London midnight on 29 March (GMT)", got)
	}
	for _, c := range [][2]string{{"2026-04-02", "2026-03-29"}, {"2026-02-30", "2026-03-01"}, {"2020-01-01", "2026-01-01"}, {"yesterday", "2026-01-01"}} {
		if _, err := CustomPeriod(c[0], c[1]); err == nil {
			t.Errorf("CustomPeriod(%s, %s) accepted", c[0], c[1])
		}
	}
	if d := calendar.Date(2026, 1, 1); !(Period{From: d, To: d}).Start().Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, calendar.London)) {
		t.Error("start of a winter day is not London midnight")
	}
}

func TestSuppressionHidesSmallCountsAndWhatWouldRevealThem(t *testing.T) {
	rows := []Count{{"Death", 12, false}, {"Assault", 7, false}, {"Missing child", 3, false}, {"Data breach", 0, false}}
	got := suppress(rows, true)
	want := []Count{{"Death", 12, false}, {"Assault", 0, true}, {"Missing child", 0, true}, {"Data breach", 0, false}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v (with the total published, 3 would be 22 less the rest)", i, got[i], want[i])
		}
	}
	if rows[2].N != 3 {
		t.Error("suppress changed its input")
	}
	// Indicators overlap (an incident may have several), so the rest
	// reveal nothing and only small counts are hidden.
	got = suppress([]Count{{"Child", 9, false}, {"Trafficking", 1, false}, {"Pregnancy", 4, false}, {"Disability", 5, false}}, false)
	if got[0].Suppressed || !got[1].Suppressed || !got[2].Suppressed || got[3].Suppressed || got[3].N != 5 {
		t.Errorf("indicators = %+v", got)
	}
	if got[1].Text() != "fewer than 5" || got[1].N != 0 || got[3].Text() != "5" {
		t.Errorf("texts = %q, %q", got[1].Text(), got[3].Text())
	}
}
