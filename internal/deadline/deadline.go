// Package deadline works out when a partner's notification of a serious
// incident falls due, and how late one was.
//
// The clock starts when the partner became aware of the incident. A Rule
// runs either in clock hours (1 hour for the most urgent categories, 24 hours
// otherwise, the ICO's 72 hours for a personal data breach) or in working
// days (the Child Safeguarding Practice Review Panel's 5 working days).
// Working days are those of England and Wales: Monday to Friday, less the
// bank holidays in config/bank-holidays.yaml.
//
// The bank holiday list ships as config/bank-holidays.yaml, the file
// operators read and copy; Load reads an operator's copy. The binary embeds a
// byte-identical copy (bank-holidays.yaml in this package, kept identical by
// a test, because go:embed cannot reach outside the package directory) so
// Default works with no config/ present.
package deadline

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
)

// MaxHours and MaxWorkingDays bound a Rule. No notification duty runs for a
// year; a rule that does is a typo, and an hours count much larger would
// overflow time.Duration.
const (
	MaxHours       = 365 * 24
	MaxWorkingDays = 250
)

// ErrBeyondCalendar is returned when a working-day deadline needs a day the
// bank holiday list is not known complete for. Guessing could make the portal
// call a partner late who was not, so the list must be extended instead.
var ErrBeyondCalendar = errors.New("the deadline needs a day beyond the bank holiday calendar")

// Rule is how long a partner has to notify: exactly one of Hours and
// WorkingDays is positive.
type Rule struct {
	Hours       int `yaml:"hours,omitempty" bson:"hours,omitempty" json:"hours,omitempty"`
	WorkingDays int `yaml:"working_days,omitempty" bson:"working_days,omitempty" json:"working_days,omitempty"`
}

// Validate reports why a rule cannot set a deadline, if it cannot.
func (r Rule) Validate() error {
	switch {
	case r.Hours < 0 || r.WorkingDays < 0:
		return fmt.Errorf("notification rule %s: hours and working days cannot be negative", r)
	case r.Hours > 0 && r.WorkingDays > 0:
		return fmt.Errorf("notification rule %s: give hours or working days, not both", r)
	case r.Hours == 0 && r.WorkingDays == 0:
		return errors.New("notification rule: give a number of hours or of working days")
	case r.Hours > MaxHours:
		return fmt.Errorf("notification rule %s: at most %d hours", r, MaxHours)
	case r.WorkingDays > MaxWorkingDays:
		return fmt.Errorf("notification rule %s: at most %d working days", r, MaxWorkingDays)
	}
	return nil
}

// String says the rule as people read it: "1 hour", "5 working days".
func (r Rule) String() string {
	switch {
	case r.Hours > 0 && r.WorkingDays == 0:
		return plural(r.Hours, "hour")
	case r.WorkingDays > 0 && r.Hours == 0:
		return plural(r.WorkingDays, "working day")
	}
	return fmt.Sprintf("(%d hours, %d working days)", r.Hours, r.WorkingDays)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Deadline is the instant by which a partner who became aware of an incident
// at aware must have notified under rule r. It is given in London time.
//
// An hours rule ends exactly that many real hours after aware. On the nights
// the clocks change, the London wall clock then reads an hour more or less
// than the rule: a 1-hour duty from 00:30 on 29 March 2026 ends at 02:30 BST,
// 60 minutes later. That is right, because the duty is to act within an
// elapsed time, and the clock change gives no one an extra hour or takes one
// away.
//
// A working-days rule ends at the end of the Nth working day after the London
// day of awareness: midnight London at the start of the following day. The
// day of awareness never counts, however early in it the partner became
// aware, as a deadline "within N days of" an event conventionally excludes
// the event's day. It fails with ErrBeyondCalendar if any day it must look at
// lies outside the period the bank holiday list covers.
func (c *Calendar) Deadline(aware time.Time, r Rule) (time.Time, error) {
	if err := r.Validate(); err != nil {
		return time.Time{}, fmt.Errorf("deadline: %w", err)
	}
	if aware.IsZero() {
		// A missing awareness time would otherwise set a deadline in year 1
		// and report every notification as centuries late.
		return time.Time{}, errors.New("deadline: the time the partner became aware is not set")
	}
	if r.Hours > 0 {
		return aware.Add(time.Duration(r.Hours) * time.Hour).In(calendar.London), nil
	}
	if c == nil {
		return time.Time{}, errors.New("deadline: no bank holiday calendar")
	}
	first := calendar.Today(aware)
	day := first
	for counted := 0; counted < r.WorkingDays; {
		day = calendar.AddDays(day, 1)
		if !c.covered(day) {
			return time.Time{}, fmt.Errorf("%w: %s from %s needs %s, but the bank holidays listed cover %s to %s",
				ErrBeyondCalendar, r, calendar.Format(first), calendar.Format(day),
				calendar.Format(c.from), calendar.Format(c.to))
		}
		if c.WorkingDay(day) {
			counted++
		}
	}
	end := calendar.AddDays(day, 1)
	// Midnight always exists in London: the clocks change at 01:00 GMT.
	return time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, calendar.London), nil
}

// Late reports whether a notification made at notified missed the deadline,
// and by how much. Notifying at the deadline instant itself is in time.
func Late(deadline, notified time.Time) (late bool, by time.Duration) {
	if !notified.After(deadline) {
		return false, 0
	}
	return true, notified.Sub(deadline)
}

// DescribeLateness says how late a notification was in plain English, to the
// minute below an hour and otherwise in the two largest units: "45 minutes
// late", "3 hours 12 minutes late", "2 days 4 hours late". It rounds down, so
// it never overstates lateness. A day is 24 hours, as lateness is elapsed
// time.
func DescribeLateness(by time.Duration) string {
	if by <= 0 {
		return "not late"
	}
	if by < time.Minute {
		return "under a minute late"
	}
	days := int64(by / (24 * time.Hour))
	hours := int64(by % (24 * time.Hour) / time.Hour)
	minutes := int64(by % time.Hour / time.Minute)
	var parts []string
	unit := func(n int64, name string) {
		if n == 1 {
			parts = append(parts, "1 "+name)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %ss", n, name))
		}
	}
	switch {
	case days > 0:
		unit(days, "day")
		unit(hours, "hour")
	case hours > 0:
		unit(hours, "hour")
		unit(minutes, "minute")
	default:
		unit(minutes, "minute")
	}
	return strings.Join(parts, " ") + " late"
}
