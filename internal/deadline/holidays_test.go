package deadline_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/deadline"
)

// shippedPath is the file operators read and copy, relative to this package.
const shippedPath = "../../config/bank-holidays.yaml"

func TestShippedFileLoads(t *testing.T) {
	if _, err := deadline.Load(shippedPath); err != nil {
		t.Fatalf("Load(%s): %v", shippedPath, err)
	}
}

// The binary embeds its own copy; if the two drift, operators would read one
// list and the portal would count deadlines by another.
func TestEmbeddedCopyIsByteIdenticalToConfig(t *testing.T) {
	shipped, err := os.ReadFile(shippedPath)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := os.ReadFile("bank-holidays.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, embedded) {
		t.Fatal("internal/deadline/bank-holidays.yaml differs from config/bank-holidays.yaml: copy config/bank-holidays.yaml over it")
	}
}

func TestDefaultMatchesShippedFile(t *testing.T) {
	loaded, err := deadline.Load(shippedPath)
	if err != nil {
		t.Fatal(err)
	}
	d := deadline.Default()
	if !slices.EqualFunc(d.Holidays(), loaded.Holidays(), sameHoliday) {
		t.Error("Default() holidays differ from the shipped file")
	}
	df, dt := d.Covers()
	lf, lt := loaded.Covers()
	if !df.Equal(lf) || !dt.Equal(lt) {
		t.Errorf("Default() covers %s to %s, the shipped file %s to %s", df, dt, lf, lt)
	}
	if !df.Equal(calendar.Date(2018, 1, 1)) || !dt.Equal(calendar.Date(2028, 12, 31)) {
		t.Errorf("covers %s to %s, want 2018-01-01 to 2028-12-31", df, dt)
	}
}

func sameHoliday(a, b deadline.Holiday) bool { return a.Date.Equal(b.Date) && a.Name == b.Name }

func TestHolidaysIsACopy(t *testing.T) {
	h := deadline.Default().Holidays()
	h[0].Name = "changed"
	if deadline.Default().Holidays()[0].Name == "changed" {
		t.Error("changing Holidays() changed the calendar")
	}
}

// easter is Easter Sunday by the anonymous Gregorian algorithm (Meeus,
// Jones, Butcher), independent of the file.
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return calendar.Date(y, time.Month(month), day)
}

func TestEasterAlgorithm(t *testing.T) {
	// Known Easter Sundays, including the earliest and latest possible.
	for _, want := range []time.Time{
		calendar.Date(2008, 3, 23), calendar.Date(2011, 4, 24), calendar.Date(2019, 4, 21),
		calendar.Date(2024, 3, 31), calendar.Date(2038, 4, 25), calendar.Date(2285, 3, 22),
	} {
		if got := easter(want.Year()); !got.Equal(want) {
			t.Errorf("easter(%d) = %s, want %s", want.Year(), calendar.Format(got), calendar.Format(want))
		}
	}
}

func holidaysIn(c *deadline.Calendar, year int) []deadline.Holiday {
	var out []deadline.Holiday
	for _, h := range c.Holidays() {
		if h.Date.Year() == year {
			out = append(out, h)
		}
	}
	return out
}

func coveredYears(t *testing.T, c *deadline.Calendar) []int {
	t.Helper()
	from, to := c.Covers()
	if from.Month() != time.January || from.Day() != 1 || to.Month() != time.December || to.Day() != 31 {
		t.Fatalf("covers %s to %s: these checks expect whole years", from, to)
	}
	var years []int
	for y := from.Year(); y <= to.Year(); y++ {
		years = append(years, y)
	}
	return years
}

func TestGoodFridayAndEasterMondayMatchTheAlgorithm(t *testing.T) {
	c := deadline.Default()
	for _, y := range coveredYears(t, c) {
		sunday := easter(y)
		want := []deadline.Holiday{
			{Date: calendar.AddDays(sunday, -2), Name: "Good Friday"},
			{Date: calendar.AddDays(sunday, 1), Name: "Easter Monday"},
		}
		for _, w := range want {
			if !slices.ContainsFunc(holidaysIn(c, y), func(h deadline.Holiday) bool { return sameHoliday(h, w) }) {
				t.Errorf("%d: no %s on %s", y, w.Name, w.Date.Format(time.DateOnly))
			}
		}
		for _, h := range holidaysIn(c, y) {
			if (h.Name == "Good Friday" || h.Name == "Easter Monday") && !slices.ContainsFunc(want, func(w deadline.Holiday) bool { return sameHoliday(h, w) }) {
				t.Errorf("%d: %s on %s, but Easter Sunday is %s", y, h.Name, h.Date.Format(time.DateOnly), sunday.Format(time.DateOnly))
			}
		}
	}
}

// extras are the one-off bank holidays proclaimed in the covered years, on
// top of the eight every year has.
var extras = map[int][]string{
	2022: {"2022-06-03", "2022-09-19"}, // Platinum Jubilee; the Queen's state funeral
	2023: {"2023-05-08"},               // the King's coronation
}

func TestEveryYearHasEightRegularHolidaysPlusTheKnownExtrasOnWeekdays(t *testing.T) {
	c := deadline.Default()
	for _, y := range coveredYears(t, c) {
		hs := holidaysIn(c, y)
		if len(hs) != 8+len(extras[y]) {
			t.Errorf("%d has %d bank holidays, want 8 + %d", y, len(hs), len(extras[y]))
		}
		for _, e := range extras[y] {
			if !slices.ContainsFunc(hs, func(h deadline.Holiday) bool { return h.Date.Format(time.DateOnly) == e }) {
				t.Errorf("%d: one-off bank holiday %s missing", y, e)
			}
		}
		for _, h := range hs {
			if wd := h.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
				t.Errorf("%s (%s) is a %s", h.Date.Format(time.DateOnly), h.Name, wd)
			}
		}
	}
}

// standing works out a year's bank holidays from the Banking and Financial
// Dealings Act 1971 pattern and the usual substitute days, knowing nothing of
// one-off proclamations. It is a second derivation to check the file against.
func standing(y int) []deadline.Holiday {
	firstMonday := func(m time.Month) time.Time {
		d := calendar.Date(y, m, 1)
		return calendar.AddDays(d, (8-int(d.Weekday()))%7)
	}
	lastMonday := func(m time.Month) time.Time {
		d := calendar.AddDays(calendar.Date(y, m+1, 1), -1)
		return calendar.AddDays(d, -((int(d.Weekday()) + 6) % 7))
	}
	var hs []deadline.Holiday
	add := func(d time.Time, name string) { hs = append(hs, deadline.Holiday{Date: d, Name: name}) }

	newYear := calendar.Date(y, 1, 1)
	switch newYear.Weekday() {
	case time.Saturday:
		add(calendar.AddDays(newYear, 2), "New Year's Day (substitute day)")
	case time.Sunday:
		add(calendar.AddDays(newYear, 1), "New Year's Day (substitute day)")
	default:
		add(newYear, "New Year's Day")
	}
	add(calendar.AddDays(easter(y), -2), "Good Friday")
	add(calendar.AddDays(easter(y), 1), "Easter Monday")
	add(firstMonday(time.May), "Early May bank holiday")
	add(lastMonday(time.May), "Spring bank holiday")
	add(lastMonday(time.August), "Summer bank holiday")

	christmas := calendar.Date(y, 12, 25)
	switch christmas.Weekday() {
	case time.Friday: // Boxing Day on Saturday moves to Monday
		add(christmas, "Christmas Day")
		add(calendar.AddDays(christmas, 3), "Boxing Day (substitute day)")
	case time.Saturday:
		add(calendar.AddDays(christmas, 2), "Christmas Day (substitute day)")
		add(calendar.AddDays(christmas, 3), "Boxing Day (substitute day)")
	case time.Sunday: // Boxing Day keeps its Monday; Christmas takes Tuesday
		add(calendar.AddDays(christmas, 1), "Boxing Day")
		add(calendar.AddDays(christmas, 2), "Christmas Day (substitute day)")
	default:
		add(christmas, "Christmas Day")
		add(calendar.AddDays(christmas, 1), "Boxing Day")
	}
	return hs
}

func TestHolidaysFollowTheStandingPatternExceptWhereProclaimed(t *testing.T) {
	proclaimed := map[int]func([]deadline.Holiday) []deadline.Holiday{
		2020: func(hs []deadline.Holiday) []deadline.Holiday {
			return replace(hs, "Early May bank holiday", deadline.Holiday{Date: calendar.Date(2020, 5, 8), Name: "Early May bank holiday (VE Day)"})
		},
		2022: func(hs []deadline.Holiday) []deadline.Holiday {
			hs = replace(hs, "Spring bank holiday", deadline.Holiday{Date: calendar.Date(2022, 6, 2), Name: "Spring bank holiday"})
			return append(hs,
				deadline.Holiday{Date: calendar.Date(2022, 6, 3), Name: "Platinum Jubilee bank holiday"},
				deadline.Holiday{Date: calendar.Date(2022, 9, 19), Name: "Bank holiday for the State Funeral of Queen Elizabeth II"})
		},
		2023: func(hs []deadline.Holiday) []deadline.Holiday {
			return append(hs, deadline.Holiday{Date: calendar.Date(2023, 5, 8), Name: "Bank holiday for the coronation of King Charles III"})
		},
	}
	c := deadline.Default()
	for _, y := range coveredYears(t, c) {
		want := standing(y)
		if p := proclaimed[y]; p != nil {
			want = p(want)
		}
		slices.SortFunc(want, func(a, b deadline.Holiday) int { return a.Date.Compare(b.Date) })
		got := holidaysIn(c, y)
		if !slices.EqualFunc(got, want, sameHoliday) {
			t.Errorf("%d:\n got %s\nwant %s", y, show(got), show(want))
		}
	}
}

func replace(hs []deadline.Holiday, name string, with deadline.Holiday) []deadline.Holiday {
	for i := range hs {
		if hs[i].Name == name {
			hs[i] = with
		}
	}
	return hs
}

func show(hs []deadline.Holiday) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.Date.Format(time.DateOnly) + " " + h.Name + "; ")
	}
	return b.String()
}

func TestWorkingDay(t *testing.T) {
	c := deadline.Default()
	cases := []struct {
		day  time.Time
		want bool
	}{
		{calendar.Date(2026, 11, 20), true},  // Friday
		{calendar.Date(2026, 11, 21), false}, // Saturday
		{calendar.Date(2026, 11, 22), false}, // Sunday
		{calendar.Date(2026, 4, 3), false},   // Good Friday
		{calendar.Date(2026, 4, 6), false},   // Easter Monday
		{calendar.Date(2026, 4, 7), true},
		{calendar.Date(2026, 5, 4), false},  // early May bank holiday
		{calendar.Date(2026, 8, 31), false}, // summer bank holiday
		{calendar.Date(2026, 12, 24), true},
		{calendar.Date(2026, 12, 25), false}, // Christmas Day, a Friday
		{calendar.Date(2026, 12, 26), false}, // Boxing Day, a Saturday
		{calendar.Date(2026, 12, 28), false}, // its substitute Monday
		{calendar.Date(2026, 12, 29), true},
		{calendar.Date(2022, 5, 30), true}, // the spring bank holiday moved to 2 June
		{calendar.Date(2022, 6, 2), false},
		{calendar.Date(2022, 6, 3), false},
		{calendar.Date(2020, 5, 4), true}, // the early May bank holiday moved to 8 May
		{calendar.Date(2020, 5, 8), false},
		// A day given with a time or zone is the day it names in its own zone.
		{time.Date(2026, 12, 25, 23, 30, 0, 0, calendar.London), false},
		{time.Date(2026, 12, 29, 9, 0, 0, 0, time.FixedZone("EST", -5*3600)), true},
		// Outside the covered period only the weekday is known.
		{calendar.Date(2030, 1, 2), true},
		{calendar.Date(2030, 1, 5), false},
	}
	for _, tc := range cases {
		if got := c.WorkingDay(tc.day); got != tc.want {
			t.Errorf("WorkingDay(%s %s) = %v, want %v", tc.day.Weekday(), tc.day.Format(time.RFC3339), got, tc.want)
		}
	}
}

const minimal = `covers: {from: 2026-12-01, to: 2026-12-31}
holidays:
  - {date: 2026-12-25, name: Christmas Day}
  - {date: 2026-12-28, name: Boxing Day (substitute day)}
`

func TestParseMinimal(t *testing.T) {
	c, err := deadline.Parse([]byte(minimal))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Holidays()) != 2 || c.WorkingDay(calendar.Date(2026, 12, 25)) || !c.WorkingDay(calendar.Date(2026, 12, 24)) {
		t.Errorf("holidays = %v", c.Holidays())
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"empty", "", "empty"},
		{"only a comment", "# nothing\n", "empty"},
		{"unknown top-level key", minimal + "holiday: []\n", "field holiday not found"},
		{"unknown holiday key", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-25, name: Christmas Day, region: wales}\n", "field region not found"},
		{"unknown covers key", "covers: {from: 2026-12-01, until: 2026-12-31}\nholidays:\n  - {date: 2026-12-25, name: Christmas Day}\n", "field until not found"},
		{"duplicate key", "covers: {from: 2026-12-01, to: 2026-12-31}\n" + minimal, "already defined"},
		{"two documents", minimal + "---\n" + minimal, "one YAML document"},
		{"no covers", "holidays:\n  - {date: 2026-12-25, name: Christmas Day}\n", `"covers"`},
		{"covers without to", "covers: {from: 2026-12-01}\nholidays:\n  - {date: 2026-12-25, name: Christmas Day}\n", `"covers"`},
		{"covers backwards", "covers: {from: 2026-12-31, to: 2026-12-01}\nholidays:\n  - {date: 2026-12-25, name: Christmas Day}\n", "before covers.from"},
		{"no holidays", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays: []\n", "no holidays"},
		{"date with a time", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-25T09:00:00Z, name: Christmas Day}\n", "not a date"},
		{"date that does not exist", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-02-30, name: Nonsense}\n", "not a date"},
		{"British date order", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 25/12/2026, name: Christmas Day}\n", "not a date"},
		{"date as a list", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: [2026, 12, 25], name: Christmas Day}\n", "written like 2026-12-25"},
		{"no date", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {name: Christmas Day}\n", "has no date"},
		{"no name", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-25, name: \"  \"}\n", "has no name"},
		{"listed twice", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-25, name: Christmas Day}\n  - {date: 2026-12-25, name: Christmas Day}\n", "line 4: 2026-12-25 is listed twice (first at line 3)"},
		{"before covers", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-08-31, name: Summer bank holiday}\n", "outside the covered period"},
		{"after covers", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2027-01-01, name: New Year's Day}\n", "outside the covered period"},
		{"Saturday", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-26, name: Boxing Day}\n", "is a Saturday"},
		{"Sunday", "covers: {from: 2027-01-01, to: 2027-12-31}\nholidays:\n  - {date: 2027-12-26, name: Boxing Day}\n", "is a Sunday"},
		{"out of order", "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n  - {date: 2026-12-28, name: Boxing Day (substitute day)}\n  - {date: 2026-12-25, name: Christmas Day}\n", "date order"},
		{"not a mapping", "- 2026-12-25\n", "cannot unmarshal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := deadline.Parse([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			if c != nil {
				t.Error("a rejected file still gave a calendar")
			}
		})
	}
}

// Every problem is reported at once, so an operator fixes a year in one pass.
func TestParseReportsEveryProblem(t *testing.T) {
	data := "covers: {from: 2026-12-01, to: 2026-12-31}\nholidays:\n" +
		"  - {date: 2026-12-26, name: Boxing Day}\n" +
		"  - {date: 2027-01-01, name: New Year's Day}\n" +
		"  - {date: 2026-12-25, name: Christmas Day}\n"
	_, err := deadline.Parse([]byte(data))
	for _, want := range []string{"line 3: 2026-12-26 (Boxing Day) is a Saturday", "line 4: 2027-01-01 is outside", "line 5: 2026-12-25 comes after 2027-01-01"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := deadline.Load("no/such/bank-holidays.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want it to wrap fs.ErrNotExist", err)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := t.TempDir() + "/bank-holidays.yaml"
	if err := os.WriteFile(path, []byte("covers: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := deadline.Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want it to name %s", err, path)
	}
}
