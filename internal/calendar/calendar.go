// Package calendar holds the department's calendar. Dates are calendar days
// in Europe/London, whatever the server's time zone, and are held as
// time.Time values at midnight UTC naming that day, so that they compare,
// sort and store (as BSON dates) without any zone arithmetic.
package calendar

import (
	"time"
	_ "time/tzdata" // the production image carries no zoneinfo
)

// London is the time zone every date in the portal is a day of.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("calendar: " + err.Error())
	}
	return loc
}

// Date is the calendar day y-m-d, as midnight UTC.
func Date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Today is the London calendar day at instant t: 23:30 UTC on 30 June is
// already 1 July in London (BST).
func Today(t time.Time) time.Time {
	y, m, d := t.In(London).Date()
	return Date(y, m, d)
}

// Day normalises a date that may carry a time or zone to its calendar day,
// read in its own location: a date picked on a form stays that date.
func Day(t time.Time) time.Time {
	y, m, d := t.Date()
	return Date(y, m, d)
}

// AddMonths adds n calendar months to a date, keeping the day of the month
// where it exists and otherwise taking the month's last day: 29 February
// 2024 plus 12 months is 28 February 2025, and 31 August plus 6 months is
// the end of February, never a day in March.
func AddMonths(d time.Time, n int) time.Time {
	y, m, day := d.Date()
	first := Date(y, m+time.Month(n), 1)
	last := first.AddDate(0, 1, -1).Day()
	return Date(first.Year(), first.Month(), min(day, last))
}

// AddDays adds n calendar days to a date.
func AddDays(d time.Time, n int) time.Time {
	y, m, day := d.Date()
	return Date(y, m, day+n)
}

// DaysBetween is the number of calendar days from a to b (negative if b is earlier).
func DaysBetween(a, b time.Time) int {
	return int(Day(b).Sub(Day(a)).Hours() / 24)
}

// Format writes a date as GOV.UK style asks: "3 March 2026".
func Format(d time.Time) string { return d.Format("2 January 2006") }
