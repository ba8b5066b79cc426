package report

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
)

// Period is the London days a report covers, From to To inclusive.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Name is the month ("2026-11") or quarter ("2026-Q3") asked for;
	// empty for custom dates.
	Name string `json:"name,omitempty"`
}

// MaxPeriodDays bounds custom periods: a report covers at most two years.
const MaxPeriodDays = 2 * 366

// ParsePeriod reads a month ("2026-11") or a quarter ("2026-Q3").
func ParsePeriod(name string) (Period, error) {
	if len(name) == 7 && name[4] == '-' && (name[5] == 'Q' || name[5] == 'q') {
		year, err := strconv.Atoi(name[:4])
		q := int(name[6] - '0')
		if err != nil || year < 2000 || year > 2100 || q < 1 || q > 4 {
			return Period{}, fmt.Errorf("period %q: want a month like 2026-11 or a quarter like 2026-Q3", name)
		}
		from := calendar.Date(year, time.Month(3*q-2), 1)
		return Period{From: from, To: calendar.AddDays(calendar.AddMonths(from, 3), -1), Name: fmt.Sprintf("%d-Q%d", year, q)}, nil
	}
	t, err := time.Parse("2006-01", name)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return Period{}, fmt.Errorf("period %q: want a month like 2026-11 or a quarter like 2026-Q3", name)
	}
	from := calendar.Date(t.Year(), t.Month(), 1)
	return Period{From: from, To: calendar.AddDays(calendar.AddMonths(from, 1), -1), Name: from.Format("2006-01")}, nil
}

// CustomPeriod reads two dates ("2026-01-15") as a period, both days included.
func CustomPeriod(from, to string) (Period, error) {
	f, err := parseDay(from)
	if err != nil {
		return Period{}, fmt.Errorf("from date: %w", err)
	}
	t, err := parseDay(to)
	if err != nil {
		return Period{}, fmt.Errorf("to date: %w", err)
	}
	return NewPeriod(f, t)
}

// NewPeriod is the London days from and to, both included.
func NewPeriod(from, to time.Time) (Period, error) {
	from, to = calendar.Day(from), calendar.Day(to)
	if to.Before(from) {
		return Period{}, errors.New("the period must end on or after the day it starts")
	}
	if calendar.DaysBetween(from, to) >= MaxPeriodDays {
		return Period{}, fmt.Errorf("a report covers at most %d days", MaxPeriodDays)
	}
	return Period{From: from, To: to}, nil
}

func parseDay(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return time.Time{}, fmt.Errorf("%q is not a date like 2026-01-15", s)
	}
	return t, nil
}

// Start is the instant the period begins, London midnight on its first
// day; End the instant after it ends.
func (p Period) Start() time.Time { return londonMidnight(p.From) }
func (p Period) End() time.Time   { return londonMidnight(calendar.AddDays(p.To, 1)) }

func londonMidnight(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, calendar.London)
}

// Label is the period as people read it: "November 2026", "July to
// September 2026 (2026-Q3)", "15 January 2026 to 3 March 2026".
func (p Period) Label() string {
	from, to := calendar.Day(p.From), calendar.Day(p.To)
	switch {
	case len(p.Name) == 7 && p.Name[5] == 'Q':
		return fmt.Sprintf("%s to %s (%s)", from.Format("January"), to.Format("January 2006"), p.Name)
	case p.Name != "":
		return from.Format("January 2006")
	case from.Equal(to):
		return calendar.Format(from)
	}
	return calendar.Format(from) + " to " + calendar.Format(to)
}

func itoa(n int) string { return strconv.Itoa(n) }
