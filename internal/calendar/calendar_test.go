package calendar

import (
	"testing"
	"time"
)

func TestTodayIsTheLondonDay(t *testing.T) {
	cases := []struct {
		instant string
		want    time.Time
	}{
		{"2026-06-30T23:30:00Z", Date(2026, 7, 1)},   // BST: already 00:30 on 1 July
		{"2026-12-31T23:30:00Z", Date(2026, 12, 31)}, // GMT
		{"2026-03-29T00:59:00Z", Date(2026, 3, 29)},  // the hour before the clocks go forward
		{"2026-03-29T01:00:00Z", Date(2026, 3, 29)},  // 02:00 BST
		{"2026-10-24T23:00:00Z", Date(2026, 10, 25)}, // midnight BST on the day the clocks go back
		{"2026-10-25T23:30:00Z", Date(2026, 10, 25)}, // 23:30 GMT, the longest day's end
		{"2026-03-28T23:30:00+05:00", Date(2026, 3, 28)},
	}
	for _, c := range cases {
		at, err := time.Parse(time.RFC3339, c.instant)
		if err != nil {
			t.Fatal(err)
		}
		if got := Today(at); !got.Equal(c.want) {
			t.Errorf("Today(%s) = %s, want %s", c.instant, Format(got), Format(c.want))
		}
	}
}

func TestAddMonthsKeepsTheDayOrTakesTheMonthsEnd(t *testing.T) {
	cases := []struct {
		from   time.Time
		months int
		want   time.Time
	}{
		{Date(2024, 2, 29), 12, Date(2025, 2, 28)},
		{Date(2024, 2, 29), 48, Date(2028, 2, 29)},
		{Date(2025, 8, 31), 6, Date(2026, 2, 28)},
		{Date(2025, 1, 31), 1, Date(2025, 2, 28)},
		{Date(2023, 12, 15), 24, Date(2025, 12, 15)},
		{Date(2025, 11, 30), 3, Date(2026, 2, 28)},
		{Date(2025, 3, 31), -1, Date(2025, 2, 28)},
		{Date(2025, 5, 10), 0, Date(2025, 5, 10)},
	}
	for _, c := range cases {
		if got := AddMonths(c.from, c.months); !got.Equal(c.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", Format(c.from), c.months, Format(got), Format(c.want))
		}
	}
}

func TestDaysBetweenCountsCalendarDays(t *testing.T) {
	if n := DaysBetween(Date(2026, 3, 28), Date(2026, 3, 30)); n != 2 {
		t.Errorf("across the spring clock change: %d days, want 2", n)
	}
	if n := DaysBetween(Date(2024, 2, 28), Date(2024, 3, 1)); n != 2 {
		t.Errorf("across a leap day: %d, want 2", n)
	}
	if n := DaysBetween(Date(2026, 1, 10), Date(2026, 1, 1)); n != -9 {
		t.Errorf("backwards: %d, want -9", n)
	}
	if got := AddDays(Date(2026, 12, 31), 1); !got.Equal(Date(2027, 1, 1)) {
		t.Errorf("AddDays over a year end = %s", Format(got))
	}
}
