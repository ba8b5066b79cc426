package deadline

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/department/safeguarding-portal/internal/strictyaml"
	"gopkg.in/yaml.v3"

	"github.com/department/safeguarding-portal/internal/calendar"
)

// Holiday is one bank holiday in England and Wales.
type Holiday struct {
	// Date is the calendar day, held as package calendar holds days.
	Date time.Time
	Name string
}

// Calendar knows which days are working days in England and Wales over the
// period its bank holiday list is complete for. It never changes once built,
// so one Calendar may serve every request at once.
type Calendar struct {
	from, to time.Time // the covered period, first and last day inclusive
	holidays []Holiday
	byDate   map[time.Time]string
}

// defaultYAML is the embedded copy of config/bank-holidays.yaml.
//
//go:embed bank-holidays.yaml
var defaultYAML []byte

var defaultCalendar = sync.OnceValues(func() (*Calendar, error) { return Parse(defaultYAML) })

// Default returns the calendar built into the binary: the same as
// config/bank-holidays.yaml. Calendars are immutable, so every caller shares
// one. It panics if the embedded file is invalid, which the package's tests
// rule out.
func Default() *Calendar {
	c, err := defaultCalendar()
	if err != nil {
		panic(fmt.Sprintf("embedded bank holidays: %v", err))
	}
	return c
}

// Load reads and validates a bank holidays file such as config/bank-holidays.yaml.
func Load(path string) (*Calendar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bank holidays file: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("bank holidays file %s: %w", path, err)
	}
	return c, nil
}

// file is the shape of a bank holidays file.
type file struct {
	Covers struct {
		From day `yaml:"from"`
		To   day `yaml:"to"`
	} `yaml:"covers"`
	Holidays []struct {
		Date day    `yaml:"date"`
		Name string `yaml:"name"`
	} `yaml:"holidays"`
}

// day is a date written 2026-12-25 in the file. It remembers its line so that
// an operator told "a Saturday" can find which entry is wrong.
type day struct {
	date time.Time
	line int
}

// UnmarshalYAML accepts only a bare date: YAML would also read
// "2026-12-25T09:00:00Z" as a timestamp, but a bank holiday is a whole day
// and a time of day in the file can only be a mistake.
func (d *day) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a date must be written like 2026-12-25", n.Line)
	}
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a date written like 2026-12-25", n.Line, n.Value)
	}
	*d = day{date: t, line: n.Line}
	return nil
}

func (d day) missing() bool { return d.date.IsZero() }

func (d day) String() string { return d.date.Format(time.DateOnly) }

// Parse reads a bank holidays file's contents strictly: an unknown key is an
// error, so a misspelt "holiday:" cannot leave the portal counting Christmas
// as a working day.
func Parse(data []byte) (*Calendar, error) {
	var f file
	if err := strictyaml.Decode(data, "bank holidays", &f); err != nil {
		return nil, err
	}
	c, err := build(f)
	if err != nil {
		return nil, fmt.Errorf("invalid bank holidays: %w", err)
	}
	return c, nil
}

// build checks the file and reports every problem at once, so an operator
// adding a year fixes it in one pass.
func build(f file) (*Calendar, error) {
	from, to := f.Covers.From, f.Covers.To
	switch {
	case from.missing() || to.missing():
		return nil, errors.New(`"covers" must give "from" and "to": the first and last day the list is complete for`)
	case to.date.Before(from.date):
		return nil, fmt.Errorf("line %d: covers.to %s is before covers.from %s", to.line, to, from)
	case len(f.Holidays) == 0:
		return nil, errors.New("no holidays listed: England and Wales has eight bank holidays a year")
	}
	c := &Calendar{
		from:     from.date,
		to:       to.date,
		holidays: make([]Holiday, 0, len(f.Holidays)),
		byDate:   make(map[time.Time]string, len(f.Holidays)),
	}
	var errs []error
	firstLine := map[time.Time]int{}
	var prev day
	for i, h := range f.Holidays {
		name := strings.TrimSpace(h.Name)
		if h.Date.missing() {
			errs = append(errs, fmt.Errorf("holiday %d (%q) has no date", i+1, name))
			continue
		}
		d, at := h.Date.date, h.Date.line
		if name == "" {
			errs = append(errs, fmt.Errorf("line %d: %s has no name", at, h.Date))
		}
		if d.Before(c.from) || d.After(c.to) {
			errs = append(errs, fmt.Errorf("line %d: %s is outside the covered period %s to %s", at, h.Date, from, to))
		}
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			errs = append(errs, fmt.Errorf("line %d: %s (%s) is a %s: weekends are never working days, so list the substitute weekday instead", at, h.Date, name, wd))
		}
		switch {
		case firstLine[d] != 0:
			errs = append(errs, fmt.Errorf("line %d: %s is listed twice (first at line %d)", at, h.Date, firstLine[d]))
			continue
		case !prev.missing() && d.Before(prev.date):
			errs = append(errs, fmt.Errorf("line %d: %s comes after %s: list the holidays in date order", at, h.Date, prev))
		}
		firstLine[d] = at
		prev = h.Date
		c.holidays = append(c.holidays, Holiday{Date: d, Name: name})
		c.byDate[d] = name
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Covers returns the first and last day (inclusive) the holiday list is
// complete for.
func (c *Calendar) Covers() (from, to time.Time) { return c.from, c.to }

// Holidays returns the bank holidays in date order. The slice is a copy.
func (c *Calendar) Holidays() []Holiday { return slices.Clone(c.holidays) }

// covered reports whether the list is complete for day d.
func (c *Calendar) covered(d time.Time) bool {
	return !c.from.IsZero() && !d.Before(c.from) && !d.After(c.to)
}

// WorkingDay reports whether d is a working day in England and Wales: Monday
// to Friday and not a bank holiday. d is a calendar day as package calendar
// holds them; for an instant, pass calendar.Today(t), since the London day
// can differ from the day in t's own zone.
//
// Outside the covered period the answer rests on the weekday alone, since no
// holidays are known there; Deadline refuses such days rather than rely on it.
func (c *Calendar) WorkingDay(d time.Time) bool {
	d = calendar.Day(d)
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if c == nil {
		return true
	}
	_, holiday := c.byDate[d]
	return !holiday
}
