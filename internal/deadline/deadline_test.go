package deadline_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/department/safeguarding-portal/internal/calendar"
	"github.com/department/safeguarding-portal/internal/deadline"
)

// wall is how the tests state a London wall-clock reading, zone included, so
// each expected deadline says both what the clock shows and which offset.
const wall = "Mon 2 Jan 2006 15:04:05.999999999 MST"

func instant(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestRuleStringAndValidate(t *testing.T) {
	cases := []struct {
		rule    deadline.Rule
		str     string
		invalid string // part of Validate's error, or "" if valid
	}{
		{deadline.Rule{Hours: 1}, "1 hour", ""},
		{deadline.Rule{Hours: 24}, "24 hours", ""},
		{deadline.Rule{Hours: 72}, "72 hours", ""},
		{deadline.Rule{WorkingDays: 1}, "1 working day", ""},
		{deadline.Rule{WorkingDays: 5}, "5 working days", ""},
		{deadline.Rule{Hours: deadline.MaxHours}, "8760 hours", ""},
		{deadline.Rule{WorkingDays: deadline.MaxWorkingDays}, "250 working days", ""},
		{deadline.Rule{}, "(0 hours, 0 working days)", "give a number of hours or of working days"},
		{deadline.Rule{Hours: 1, WorkingDays: 5}, "(1 hours, 5 working days)", "not both"},
		{deadline.Rule{Hours: -1}, "(-1 hours, 0 working days)", "negative"},
		{deadline.Rule{WorkingDays: -5}, "(0 hours, -5 working days)", "negative"},
		{deadline.Rule{Hours: 24, WorkingDays: -1}, "(24 hours, -1 working days)", "negative"},
		{deadline.Rule{Hours: deadline.MaxHours + 1}, "8761 hours", "at most 8760 hours"},
		{deadline.Rule{Hours: math.MaxInt}, "9223372036854775807 hours", "at most 8760 hours"},
		{deadline.Rule{WorkingDays: deadline.MaxWorkingDays + 1}, "251 working days", "at most 250 working days"},
	}
	for _, tc := range cases {
		if got := tc.rule.String(); got != tc.str {
			t.Errorf("%+v.String() = %q, want %q", tc.rule, got, tc.str)
		}
		err := tc.rule.Validate()
		switch {
		case tc.invalid == "" && err != nil:
			t.Errorf("%+v.Validate() = %v, want nil", tc.rule, err)
		case tc.invalid != "" && (err == nil || !strings.Contains(err.Error(), tc.invalid)):
			t.Errorf("%+v.Validate() = %v, want it to mention %q", tc.rule, err, tc.invalid)
		}
	}
}

func TestHoursDeadlines(t *testing.T) {
	cases := []struct {
		name     string
		aware    string
		hours    int
		wantUTC  string
		wantWall string
	}{
		// The clocks go forward at 01:00 UTC on 29 March 2026: 01:00 GMT
		// becomes 02:00 BST. 60 real minutes after 00:30 GMT the wall clock
		// reads 02:30, since 01:30 never happens.
		{"1 hour across spring forward", "2026-03-29T00:30:00Z", 1, "2026-03-29T01:30:00Z", "Sun 29 Mar 2026 02:30:00 BST"},
		{"1 hour from midnight GMT on spring forward day", "2026-03-29T00:00:00Z", 1, "2026-03-29T01:00:00Z", "Sun 29 Mar 2026 02:00:00 BST"},
		{"1 hour ending just before the clocks go forward", "2026-03-28T23:59:59.999999999Z", 1, "2026-03-29T00:59:59.999999999Z", "Sun 29 Mar 2026 00:59:59.999999999 GMT"},
		{"24 hours across spring forward reads 13:00", "2026-03-28T12:00:00Z", 24, "2026-03-29T12:00:00Z", "Sun 29 Mar 2026 13:00:00 BST"},
		// The clocks go back at 01:00 UTC on 25 October 2026: 02:00 BST
		// becomes 01:00 GMT, so 01:00 to 02:00 happens twice. 60 real minutes
		// after the first 01:30 (BST) is the second 01:30 (GMT).
		{"1 hour across fall back", "2026-10-25T00:30:00Z", 1, "2026-10-25T01:30:00Z", "Sun 25 Oct 2026 01:30:00 GMT"},
		{"1 hour from 01:00 BST on fall back day", "2026-10-25T00:00:00Z", 1, "2026-10-25T01:00:00Z", "Sun 25 Oct 2026 01:00:00 GMT"},
		{"24 hours across fall back reads 11:00", "2026-10-24T11:00:00Z", 24, "2026-10-25T11:00:00Z", "Sun 25 Oct 2026 11:00:00 GMT"},
		// Hours ignore weekends and bank holidays.
		{"72 hours across a weekend", "2026-11-20T15:00:00Z", 72, "2026-11-23T15:00:00Z", "Mon 23 Nov 2026 15:00:00 GMT"},
		{"72 hours across the fall back weekend", "2026-10-23T16:00:00Z", 72, "2026-10-26T16:00:00Z", "Mon 26 Oct 2026 16:00:00 GMT"},
		{"72 hours across Christmas", "2026-12-24T10:00:00Z", 72, "2026-12-27T10:00:00Z", "Sun 27 Dec 2026 10:00:00 GMT"},
		{"24 hours over Good Friday", "2026-04-02T17:00:00+01:00", 24, "2026-04-03T16:00:00Z", "Fri 3 Apr 2026 17:00:00 BST"},
		// Midnight is nothing special to an hours rule.
		{"1 hour from one nanosecond before midnight", "2026-06-09T23:59:59.999999999+01:00", 1, "2026-06-09T23:59:59.999999999Z", "Wed 10 Jun 2026 00:59:59.999999999 BST"},
		{"1 hour from midnight", "2026-06-10T00:00:00+01:00", 1, "2026-06-10T00:00:00Z", "Wed 10 Jun 2026 01:00:00 BST"},
		{"1 hour from one nanosecond after midnight", "2026-06-10T00:00:00.000000001+01:00", 1, "2026-06-10T00:00:00.000000001Z", "Wed 10 Jun 2026 01:00:00.000000001 BST"},
		{"aware given in another zone", "2026-07-01T09:00:00-04:00", 1, "2026-07-01T14:00:00Z", "Wed 1 Jul 2026 15:00:00 BST"},
		// Hours need no bank holidays, so the calendar's period does not limit them.
		{"24 hours beyond the calendar", "2035-01-01T00:00:00Z", 24, "2035-01-02T00:00:00Z", "Tue 2 Jan 2035 00:00:00 GMT"},
	}
	c := deadline.Default()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aware := instant(t, tc.aware)
			got, err := c.Deadline(aware, deadline.Rule{Hours: tc.hours})
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			if !got.Equal(instant(t, tc.wantUTC)) || got.Format(wall) != tc.wantWall {
				t.Errorf("%s + %d hours = %s (%s), want %s (%s)", tc.aware, tc.hours,
					got.UTC().Format(time.RFC3339Nano), got.Format(wall), tc.wantUTC, tc.wantWall)
			}
			if d := got.Sub(aware); d != time.Duration(tc.hours)*time.Hour {
				t.Errorf("deadline is %s after awareness, want exactly %d hours", d, tc.hours)
			}
		})
	}
}

func TestWorkingDayDeadlines(t *testing.T) {
	cases := []struct {
		name     string
		aware    string
		days     int
		wantWall string // always a London midnight: the end of the previous day
		wantUTC  string
	}{
		// The brief's example: Friday afternoon, 5 working days, ends with Friday 27.
		{"Friday afternoon", "2026-11-20T15:00:00Z", 5, "Sat 28 Nov 2026 00:00:00 GMT", "2026-11-28T00:00:00Z"},
		{"Saturday", "2026-11-21T10:00:00Z", 5, "Sat 28 Nov 2026 00:00:00 GMT", "2026-11-28T00:00:00Z"},
		{"Sunday, last nanosecond", "2026-11-22T23:59:59.999999999Z", 5, "Sat 28 Nov 2026 00:00:00 GMT", "2026-11-28T00:00:00Z"},
		{"Sunday, last nanosecond, 1 day", "2026-11-22T23:59:59.999999999Z", 1, "Tue 24 Nov 2026 00:00:00 GMT", "2026-11-24T00:00:00Z"},
		// Monday is the day of awareness and never counts, even from its first instant.
		{"Monday at midnight", "2026-11-23T00:00:00Z", 5, "Tue 1 Dec 2026 00:00:00 GMT", "2026-12-01T00:00:00Z"},
		{"Monday one nanosecond after midnight", "2026-11-23T00:00:00.000000001Z", 5, "Tue 1 Dec 2026 00:00:00 GMT", "2026-12-01T00:00:00Z"},
		{"Monday at midnight, 1 day", "2026-11-23T00:00:00Z", 1, "Wed 25 Nov 2026 00:00:00 GMT", "2026-11-25T00:00:00Z"},
		{"Monday at 00:01, 1 day", "2026-11-23T00:01:00Z", 1, "Wed 25 Nov 2026 00:00:00 GMT", "2026-11-25T00:00:00Z"},
		{"a Friday from another zone is already Saturday in London", "2026-11-20T23:30:00-05:00", 5, "Sat 28 Nov 2026 00:00:00 GMT", "2026-11-28T00:00:00Z"},

		// In BST, London midnight is 23:00 UTC the day before: the London day decides.
		{"one nanosecond before London midnight", "2026-06-09T23:59:59.999999999+01:00", 1, "Thu 11 Jun 2026 00:00:00 BST", "2026-06-10T23:00:00Z"},
		{"London midnight", "2026-06-10T00:00:00+01:00", 1, "Fri 12 Jun 2026 00:00:00 BST", "2026-06-11T23:00:00Z"},
		{"one nanosecond after London midnight", "2026-06-10T00:00:00.000000001+01:00", 1, "Fri 12 Jun 2026 00:00:00 BST", "2026-06-11T23:00:00Z"},
		{"London midnight given in UTC", "2026-06-09T23:00:00Z", 1, "Fri 12 Jun 2026 00:00:00 BST", "2026-06-11T23:00:00Z"},
		{"just before London midnight given in UTC", "2026-06-09T22:59:59.999999999Z", 1, "Thu 11 Jun 2026 00:00:00 BST", "2026-06-10T23:00:00Z"},

		// Bank holiday Mondays.
		{"Friday before early May bank holiday", "2026-05-01T15:00:00+01:00", 1, "Wed 6 May 2026 00:00:00 BST", "2026-05-05T23:00:00Z"},
		{"on early May bank holiday", "2026-05-04T09:00:00+01:00", 1, "Wed 6 May 2026 00:00:00 BST", "2026-05-05T23:00:00Z"},
		{"Friday before early May bank holiday, 5 days", "2026-05-01T15:00:00+01:00", 5, "Tue 12 May 2026 00:00:00 BST", "2026-05-11T23:00:00Z"},
		{"Friday before spring bank holiday, 5 days", "2026-05-22T15:00:00+01:00", 5, "Tue 2 Jun 2026 00:00:00 BST", "2026-06-01T23:00:00Z"},
		{"Friday before summer bank holiday", "2026-08-28T16:00:00+01:00", 1, "Wed 2 Sep 2026 00:00:00 BST", "2026-09-01T23:00:00Z"},

		// Easter: Good Friday 3 April and Easter Monday 6 April 2026.
		{"Maundy Thursday", "2026-04-02T17:00:00+01:00", 1, "Wed 8 Apr 2026 00:00:00 BST", "2026-04-07T23:00:00Z"},
		{"Maundy Thursday, 5 days", "2026-04-02T17:00:00+01:00", 5, "Tue 14 Apr 2026 00:00:00 BST", "2026-04-13T23:00:00Z"},
		{"on Good Friday", "2026-04-03T09:00:00+01:00", 1, "Wed 8 Apr 2026 00:00:00 BST", "2026-04-07T23:00:00Z"},
		{"on Easter Monday", "2026-04-06T09:00:00+01:00", 1, "Wed 8 Apr 2026 00:00:00 BST", "2026-04-07T23:00:00Z"},

		// Christmas 2026: Friday 25, Boxing Day Saturday 26, substitute Monday 28.
		{"the day before Christmas Eve ends at Christmas", "2026-12-23T12:00:00Z", 1, "Fri 25 Dec 2026 00:00:00 GMT", "2026-12-25T00:00:00Z"},
		{"Christmas Eve", "2026-12-24T12:00:00Z", 1, "Wed 30 Dec 2026 00:00:00 GMT", "2026-12-30T00:00:00Z"},
		{"Christmas Eve, 5 days over New Year", "2026-12-24T12:00:00Z", 5, "Wed 6 Jan 2027 00:00:00 GMT", "2027-01-06T00:00:00Z"},
		{"on Christmas Day", "2026-12-25T10:00:00Z", 1, "Wed 30 Dec 2026 00:00:00 GMT", "2026-12-30T00:00:00Z"},
		{"on the substitute Boxing Day", "2026-12-28T10:00:00Z", 1, "Wed 30 Dec 2026 00:00:00 GMT", "2026-12-30T00:00:00Z"},
		// Christmas 2027 is a Saturday: both substitute days, 27 and 28 December.
		{"Christmas Eve 2027", "2027-12-24T12:00:00Z", 1, "Thu 30 Dec 2027 00:00:00 GMT", "2027-12-30T00:00:00Z"},
		// 2022: spring bank holiday moved to Thursday 2 June, Platinum Jubilee Friday 3 June.
		{"before the Platinum Jubilee", "2022-06-01T12:00:00+01:00", 1, "Tue 7 Jun 2022 00:00:00 BST", "2022-06-06T23:00:00Z"},
		{"the usual spring bank holiday was a working day in 2022", "2022-05-27T12:00:00+01:00", 1, "Tue 31 May 2022 00:00:00 BST", "2022-05-30T23:00:00Z"},

		// Clock change weekends: the deadline is still London midnight, in
		// whichever offset applies that night.
		{"spring forward Sunday", "2026-03-29T00:30:00Z", 1, "Tue 31 Mar 2026 00:00:00 BST", "2026-03-30T23:00:00Z"},
		{"Friday before spring forward", "2026-03-27T10:00:00Z", 1, "Tue 31 Mar 2026 00:00:00 BST", "2026-03-30T23:00:00Z"},
		{"Thursday before spring forward, 2 days", "2026-03-26T10:00:00Z", 2, "Tue 31 Mar 2026 00:00:00 BST", "2026-03-30T23:00:00Z"},
		{"fall back Sunday, first 01:30", "2026-10-25T00:30:00Z", 1, "Tue 27 Oct 2026 00:00:00 GMT", "2026-10-27T00:00:00Z"},
		{"fall back Sunday, second 01:30", "2026-10-25T01:30:00Z", 1, "Tue 27 Oct 2026 00:00:00 GMT", "2026-10-27T00:00:00Z"},
		{"Friday before fall back", "2026-10-23T17:00:00+01:00", 1, "Tue 27 Oct 2026 00:00:00 GMT", "2026-10-27T00:00:00Z"},
		{"Thursday before fall back ends at BST midnight", "2026-10-22T10:00:00+01:00", 1, "Sat 24 Oct 2026 00:00:00 BST", "2026-10-23T23:00:00Z"},

		// The ends of the covered period.
		{"the day before the calendar starts", "2017-12-31T12:00:00Z", 1, "Wed 3 Jan 2018 00:00:00 GMT", "2018-01-03T00:00:00Z"},
		{"the last deadline the calendar can give", "2028-12-28T10:00:00Z", 1, "Sat 30 Dec 2028 00:00:00 GMT", "2028-12-30T00:00:00Z"},
	}
	c := deadline.Default()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Deadline(instant(t, tc.aware), deadline.Rule{WorkingDays: tc.days})
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			if got.Format(wall) != tc.wantWall || !got.Equal(instant(t, tc.wantUTC)) {
				t.Errorf("%s + %d working days = %s (%s), want %s (%s)", tc.aware, tc.days,
					got.Format(wall), got.UTC().Format(time.RFC3339Nano), tc.wantWall, tc.wantUTC)
			}
		})
	}
}

func TestDeadlineRefusesDaysBeyondTheCalendar(t *testing.T) {
	cases := []struct {
		name  string
		aware string
		days  int
		needs string // the first day the calendar could not answer for
	}{
		{"aware on the last covered day", "2028-12-31T09:00:00Z", 1, "1 January 2029"},
		{"the next working day would be after the period", "2028-12-29T10:00:00Z", 1, "1 January 2029"},
		{"runs out over Christmas", "2028-12-22T10:00:00Z", 5, "1 January 2029"},
		{"aware long before the period", "2017-06-01T10:00:00+01:00", 1, "2 June 2017"},
		{"aware long after the period", "2040-01-01T10:00:00Z", 5, "2 January 2040"},
		{"a long rule late in the period", "2028-06-01T10:00:00+01:00", deadline.MaxWorkingDays, "1 January 2029"},
	}
	c := deadline.Default()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Deadline(instant(t, tc.aware), deadline.Rule{WorkingDays: tc.days})
			if !errors.Is(err, deadline.ErrBeyondCalendar) {
				t.Fatalf("Deadline = %s, %v; want ErrBeyondCalendar", got, err)
			}
			if !got.IsZero() {
				t.Errorf("a refused deadline still gave %s", got)
			}
			for _, want := range []string{tc.needs, "1 January 2018 to 31 December 2028"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to mention %q", err, want)
				}
			}
		})
	}
	// The longest rule still fits when started early enough.
	if _, err := c.Deadline(instant(t, "2026-01-01T10:00:00Z"), deadline.Rule{WorkingDays: deadline.MaxWorkingDays}); err != nil {
		t.Errorf("%d working days from 1 January 2026: %v", deadline.MaxWorkingDays, err)
	}
}

func TestDeadlineRefusesBadInput(t *testing.T) {
	c := deadline.Default()
	aware := instant(t, "2026-11-20T15:00:00Z")
	for _, r := range []deadline.Rule{{}, {Hours: 1, WorkingDays: 1}, {Hours: -1}, {WorkingDays: -1},
		{Hours: math.MaxInt}, {WorkingDays: math.MaxInt}, {Hours: math.MinInt}} {
		if got, err := c.Deadline(aware, r); err == nil || !got.IsZero() {
			t.Errorf("Deadline with rule %+v = %s, %v; want an error", r, got, err)
		}
	}
	for _, r := range []deadline.Rule{{Hours: 1}, {WorkingDays: 5}} {
		if _, err := c.Deadline(time.Time{}, r); err == nil || !strings.Contains(err.Error(), "not set") {
			t.Errorf("Deadline from a zero time with %s: %v, want an error", r, err)
		}
	}
	var none *deadline.Calendar
	if _, err := none.Deadline(aware, deadline.Rule{WorkingDays: 5}); err == nil {
		t.Error("a nil calendar counted working days")
	}
	if got, err := none.Deadline(aware, deadline.Rule{Hours: 1}); err != nil || !got.Equal(aware.Add(time.Hour)) {
		t.Errorf("an hours rule needs no calendar: %s, %v", got, err)
	}
	if _, err := new(deadline.Calendar).Deadline(aware, deadline.Rule{WorkingDays: 5}); !errors.Is(err, deadline.ErrBeyondCalendar) {
		t.Errorf("an empty calendar: %v, want ErrBeyondCalendar", err)
	}
}

func TestLate(t *testing.T) {
	due := instant(t, "2026-11-28T00:00:00Z")
	cases := []struct {
		name     string
		notified time.Time
		late     bool
		by       time.Duration
	}{
		{"exactly at the deadline", due, false, 0},
		{"one nanosecond after", due.Add(time.Nanosecond), true, time.Nanosecond},
		{"one nanosecond before", due.Add(-time.Nanosecond), false, 0},
		{"well before", due.Add(-72 * time.Hour), false, 0},
		{"the same instant in another zone", due.In(time.FixedZone("EST", -5*3600)), false, 0},
		{"2 days 4 hours after", due.Add(52 * time.Hour), true, 52 * time.Hour},
	}
	for _, tc := range cases {
		late, by := deadline.Late(due, tc.notified)
		if late != tc.late || by != tc.by {
			t.Errorf("%s: Late = %v, %s; want %v, %s", tc.name, late, by, tc.late, tc.by)
		}
	}
}

func TestDescribeLateness(t *testing.T) {
	cases := []struct {
		by   time.Duration
		want string
	}{
		{-time.Hour, "not late"},
		{0, "not late"},
		{time.Nanosecond, "under a minute late"},
		{time.Minute - time.Nanosecond, "under a minute late"},
		{time.Minute, "1 minute late"},
		{45 * time.Minute, "45 minutes late"},
		{time.Hour - time.Nanosecond, "59 minutes late"},
		{time.Hour, "1 hour late"},
		{time.Hour + time.Minute, "1 hour 1 minute late"},
		{2 * time.Hour, "2 hours late"},
		{3*time.Hour + 12*time.Minute, "3 hours 12 minutes late"},
		{3*time.Hour + 12*time.Minute + 59*time.Second, "3 hours 12 minutes late"},
		{24*time.Hour - time.Nanosecond, "23 hours 59 minutes late"},
		{24 * time.Hour, "1 day late"},
		{24*time.Hour + 59*time.Minute, "1 day late"},
		{25 * time.Hour, "1 day 1 hour late"},
		{52 * time.Hour, "2 days 4 hours late"},
		{52*time.Hour + 30*time.Minute, "2 days 4 hours late"},
		{400 * 24 * time.Hour, "400 days late"},
		{time.Duration(math.MaxInt64), "106751 days 23 hours late"},
	}
	for _, tc := range cases {
		if got := deadline.DescribeLateness(tc.by); got != tc.want {
			t.Errorf("DescribeLateness(%s) = %q, want %q", tc.by, got, tc.want)
		}
	}
}

// oracle answers the working-day questions independently of Calendar.WorkingDay.
type oracle struct {
	from, to time.Time
	holidays map[time.Time]bool
}

func newOracle(c *deadline.Calendar) oracle {
	o := oracle{holidays: map[time.Time]bool{}}
	o.from, o.to = c.Covers()
	for _, h := range c.Holidays() {
		o.holidays[h.Date] = true
	}
	return o
}

func (o oracle) working(d time.Time) bool {
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && !o.holidays[d]
}

// checkWorkingDays checks the deadline's defining properties rather than a
// worked answer: it is a London midnight after aware; the day it ends is a
// working day; exactly n-1 working days lie strictly between the day of
// awareness and that day; and it is refused only when the covered period
// really runs out first.
func checkWorkingDays(t *testing.T, c *deadline.Calendar, o oracle, aware time.Time, n int) {
	t.Helper()
	got, err := c.Deadline(aware, deadline.Rule{WorkingDays: n})
	awareDay := calendar.Today(aware)
	if err != nil {
		if !errors.Is(err, deadline.ErrBeyondCalendar) {
			t.Fatalf("aware %s, %d working days: %v", aware.Format(time.RFC3339Nano), n, err)
		}
		start := calendar.AddDays(awareDay, 1)
		if start.Before(o.from) {
			return
		}
		found := 0
		for d := start; !d.After(o.to); d = calendar.AddDays(d, 1) {
			if o.working(d) {
				found++
			}
		}
		if found >= n {
			t.Fatalf("aware %s, %d working days: refused, but the period holds %d", aware.Format(time.RFC3339Nano), n, found)
		}
		return
	}
	local := got.In(calendar.London)
	if h, m, s := local.Clock(); h != 0 || m != 0 || s != 0 || local.Nanosecond() != 0 {
		t.Fatalf("aware %s, %d working days: deadline %s is not a London midnight", aware.Format(time.RFC3339Nano), n, local.Format(wall))
	}
	if !got.After(aware) {
		t.Fatalf("aware %s, %d working days: deadline %s is not after awareness", aware.Format(time.RFC3339Nano), n, local.Format(wall))
	}
	last := calendar.AddDays(calendar.Today(got), -1)
	if !last.After(awareDay) || !o.working(last) || last.After(o.to) {
		t.Fatalf("aware %s, %d working days: the deadline ends %s %s, not a covered working day after %s",
			aware.Format(time.RFC3339Nano), n, last.Weekday(), calendar.Format(last), calendar.Format(awareDay))
	}
	between := 0
	for d := calendar.AddDays(awareDay, 1); d.Before(last); d = calendar.AddDays(d, 1) {
		if o.working(d) {
			between++
		}
	}
	if between != n-1 {
		t.Fatalf("aware %s, %d working days: %d working days lie between %s and the deadline's last day %s, want %d",
			aware.Format(time.RFC3339Nano), n, between, calendar.Format(awareDay), calendar.Format(last), n-1)
	}
}

// Every day the calendar covers (and the days either side), at the first and
// last instants of the London day and in between, for a range of rules.
func TestWorkingDayDeadlineProperties(t *testing.T) {
	c := deadline.Default()
	o := newOracle(c)
	rules := []int{1, 2, 3, 4, 5, 6, 7, 10, 15, 20, 60}
	if testing.Short() {
		rules = []int{1, 5}
	}
	for d := calendar.AddDays(o.from, -2); !d.After(calendar.AddDays(o.to, 2)); d = calendar.AddDays(d, 1) {
		midnight := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, calendar.London)
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, calendar.London)
		for _, aware := range []time.Time{midnight, midnight.Add(time.Nanosecond), midnight.Add(13 * time.Hour), next.Add(-time.Nanosecond)} {
			for _, n := range rules {
				checkWorkingDays(t, c, o, aware, n)
			}
		}
	}
}

func FuzzDeadline(f *testing.F) {
	c := deadline.Default()
	o := newOracle(c)
	// Aware anywhere from two days before the covered period to two after.
	start := time.Date(o.from.Year(), o.from.Month(), o.from.Day()-2, 0, 0, 0, 0, calendar.London)
	span := int64(time.Date(o.to.Year(), o.to.Month(), o.to.Day()+3, 0, 0, 0, 0, calendar.London).Sub(start))
	for _, seed := range []string{
		"2026-11-20T15:00:00Z", "2026-03-29T00:30:00Z", "2026-10-25T01:30:00Z", "2026-12-24T23:59:59.999999999Z",
		"2028-12-31T23:59:59.999999999Z", "2018-01-01T00:00:00Z", "2026-06-09T23:00:00Z",
	} {
		at, _ := time.Parse(time.RFC3339Nano, seed)
		for _, n := range []uint8{1, 5, 72} {
			f.Add(int64(at.Sub(start)), n, false)
			f.Add(int64(at.Sub(start)), n, true)
		}
	}
	f.Fuzz(func(t *testing.T, offset int64, n uint8, hours bool) {
		aware := start.Add(time.Duration((offset%span + span) % span))
		if hours {
			r := deadline.Rule{Hours: int(n%100) + 1}
			got, err := c.Deadline(aware, r)
			if err != nil {
				t.Fatalf("aware %s, %s: %v", aware.Format(time.RFC3339Nano), r, err)
			}
			if got.Sub(aware) != time.Duration(r.Hours)*time.Hour {
				t.Fatalf("aware %s, %s: deadline %s is %s later", aware.Format(time.RFC3339Nano), r, got.Format(wall), got.Sub(aware))
			}
			return
		}
		checkWorkingDays(t, c, o, aware, int(n%30)+1)
	})
}
